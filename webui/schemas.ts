// The web UI's request schemas, in TypeBox: Fastify validates with them and the type provider gives each handler
// the matching types, so no handler casts what it reads.
import { Type, type Static } from '@sinclair/typebox';
import { REASON_MAX_LENGTH, StringEnum } from '../lib/api/accessrequest.ts';
import { DNS1123_SUBDOMAIN_PATTERN, MAX_SUBDOMAIN_LENGTH } from '../lib/api/names.ts';

const text = (maxLength: number) => Type.String({ maxLength });

/** A route that reads no query parameter (unknown ones are dropped, as the route never looks at them). */
export const NoQuery = Type.Object({}, { additionalProperties: false });

/** `:name` of an AccessRequest (cluster-scoped: a DNS subdomain). */
export const RequestNameParams = Type.Object({
  name: Type.String({ maxLength: MAX_SUBDOMAIN_LENGTH, pattern: DNS1123_SUBDOMAIN_PATTERN }),
});

/** The CSRF token every form posts (checked by @fastify/csrf-protection, not by the schema). */
const csrf = { _csrf: Type.Optional(text(200)) };

export const CsrfOnlyBody = Type.Object(csrf);

/** The new-request form, both kinds: which fields matter depends on `type` (webui/forms.ts parses them). */
export const RequestFormBody = Type.Object(
  {
    ...csrf,
    type: StringEnum(['Service', 'External']),
    sourceNamespace: Type.Optional(text(253)),
    sourceService: Type.Optional(text(253)),
    targetNamespace: Type.Optional(text(253)),
    targetService: Type.Optional(text(253)),
    namespace: Type.Optional(text(253)),
    service: Type.Optional(text(253)),
    cidrs: Type.Optional(text(4096)),
    direction: Type.Optional(text(16)),
    ports: Type.Optional(text(1024)),
    duration: Type.Optional(text(32)),
    reason: Type.Optional(text(2048)),
  },
  { additionalProperties: false },
);
export type RequestForm = Static<typeof RequestFormBody>;

export const ApproveBody = Type.Object({ ...csrf, part: StringEnum(['source', 'target']) }, { additionalProperties: false });

export const ConfirmQuery = Type.Object(
  {
    action: StringEnum(['approve', 'deny', 'abort', 'revoke', 'extend', 'approve-extension']),
    part: Type.Optional(StringEnum(['source', 'target'])),
    /** extend: how much longer (its value is checked by the route, which names the field). */
    duration: Type.Optional(text(32)),
  },
  { additionalProperties: false },
);

/** More time for an Active grant: one entry appended to status.extensions (the webhook stamps who and when). */
export const ExtendBody = Type.Object({ ...csrf, duration: text(32), reason: Type.Optional(text(REASON_MAX_LENGTH)) }, { additionalProperties: false });

export const DecisionBody = Type.Object(
  { ...csrf, type: StringEnum(['Denied', 'Aborted', 'Revoked']), reason: Type.Optional(text(REASON_MAX_LENGTH)) },
  { additionalProperties: false },
);

/** What the identity provider may put on the redirect back to /auth/callback. */
export const CallbackQuery = Type.Object({
  code: Type.Optional(text(4096)),
  state: Type.Optional(text(1024)),
  iss: Type.Optional(text(2048)),
  error: Type.Optional(text(256)),
  error_description: Type.Optional(text(1024)),
  session_state: Type.Optional(text(1024)),
});

/** A plain-text or HTML body (documentation of the route; Fastify sends strings and Buffers as they are). */
export const TextResponse = Type.String();
