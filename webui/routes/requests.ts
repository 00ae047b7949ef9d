// One request: its detail page (parts, objects, maxtac's policies for it) and the actions on it. Approving and
// deciding are status writes as the user, guarded by the resourceVersion read just before; the webhook stamps who
// did it and decides whether they may.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { StringEnum, type AccessRequest, type PartName } from '../../lib/api/accessrequest.ts';
import { partsOf } from '../../lib/domain/parts.ts';
import { KubeError } from '../kube.ts';
import { requestViews } from '../listing.ts';
import type { RequestView } from '../model.ts';
import { viewerOf } from '../plugins/auth.ts';
import { apiRefusal, pageContext, sendHtml } from '../respond.ts';
import { ApproveBody, ConfirmQuery, DecisionBody, ExtendBody, RequestNameParams } from '../schemas.ts';
import { mayExtend, pendingExtension } from '../../lib/domain/actions.ts';
import { parseDuration } from '../../lib/domain/duration.ts';
import { gatherPreviewFacts, previewOf, type RequestPreview } from '../../lib/domain/preview.ts';
import type { UserKube } from '../kube.ts';
import * as views from '../views.ts';

const NOTICES = {
  created: 'Request submitted.',
  approved: 'Approval recorded.',
  decided: 'Decision recorded.',
  extended: 'Extension requested.',
  extensionApproved: 'Approval of the extension recorded.',
} as const;
type Notice = keyof typeof NOTICES;
const DetailQuery = Type.Object({ notice: Type.Optional(StringEnum(Object.keys(NOTICES) as Notice[])) });

/** Builds a status patch from the request as read, or says why the action does not apply to it. */
type StatusChange = (r: AccessRequest) => Record<string, unknown> | string;

/**
 * What is wrong with extending `r` by `duration`, naming the field, from the rule book with the viewer's permissions
 * (only to explain early: the webhook decides); undefined when nothing is.
 */
function extendError(r: AccessRequest, view: RequestView, identity: { username: string; groups: readonly string[] }, duration: string | undefined): string | undefined {
  const value = (duration ?? '').trim();
  if (value === '') return 'Duration: type how much longer, e.g. 30m, 1h or 1h30m';
  const mayApprove = Object.fromEntries(view.parts.map((p) => [p.part, p.viewerMayApprove]));
  const verdict = mayExtend(r, { username: identity.username, groups: identity.groups, mayApprove }, value);
  if (verdict.allowed) return undefined;
  return verdict.field.endsWith('.duration') ? `Duration: ${verdict.message}` : verdict.message;
}

/** One approval of `part` of the waiting extension, or why there is none to give. */
function approveExtension(part: PartName): StatusChange {
  return (r) => {
    const pending = pendingExtension(r);
    if (!pending) return 'No extension of this request waits for approval.';
    const p = pending.parts.find((x) => x.part === part);
    if (!p) return `This request has no ${part} part.`;
    if (p.missing === 0) return `The ${part} part needs no more approval of extension ${pending.index + 1}.`;
    return { extensionApprovals: [...(r.status?.extensionApprovals ?? []), { extension: pending.index, part, namespace: p.namespace }] };
  };
}

export interface RequestRoutesOptions {
  /** The cluster's own ranges (--cluster-cidr), for the preview's `cluster` risk class. */
  clusterCidrs: readonly string[];
}

/** The request's preview as the user reads it; null when the API server gave no answer (the page still shows). */
async function previewFor(req: FastifyRequest, kube: UserKube, r: AccessRequest, clusterCidrs: readonly string[]): Promise<RequestPreview | null> {
  try {
    return previewOf(await gatherPreviewFacts(kube.previewReader(), r, { clusterCidrs }));
  } catch (err) {
    req.log.warn({ err }, 'the preview of a request could not be read');
    return null;
  }
}

export const requestRoutes: FastifyPluginAsyncTypebox<RequestRoutesOptions> = async (app, { clusterCidrs }) => {
  const csrf = app.csrfProtection.bind(app);
  /** The request as the viewer may read it; undefined when it is missing or refused to them (the same to them). */
  async function readRequest(kube: ReturnType<FastifyRequest['userKube']>, name: string): Promise<AccessRequest | undefined> {
    try {
      return await kube.getRequest(name);
    } catch (err) {
      if (!apiRefusal(err)) throw err;
      return undefined;
    }
  }
  // Not found and forbidden look the same: a user learns nothing about requests they may not read.
  const notFound = (req: FastifyRequest, reply: FastifyReply) => sendHtml(reply, views.errorPage(404, 'No such request, or you may not see it.', pageContext(req, reply)), 404);

  async function renderDetail(req: FastifyRequest, reply: FastifyReply, name: string, extra: { error?: string; notice?: string; status?: number; extend?: { duration?: string | undefined; error?: string } } = {}) {
    const viewer = viewerOf(req);
    const kube = req.userKube();
    const r = await readRequest(kube, name);
    if (!r) return notFound(req, reply);
    const [view] = await requestViews(kube, viewer.identity, [r]);
    const preview = await previewFor(req, kube, r, clusterCidrs);
    const body = views.detailPage(pageContext(req, reply), { req: r, view: view as RequestView, preview, error: extra.error, notice: extra.notice, extend: extra.extend });
    return sendHtml(reply, body, extra.status ?? 200);
  }

  /** The confirmation of an action: the preview's summary and the POST that does it. */
  app.get('/requests/:name/confirm', { schema: { params: RequestNameParams, querystring: ConfirmQuery } }, async (req, reply) => {
    const { action, part, duration } = req.query;
    const name = req.params.name;
    const kube = req.userKube();
    const r = await readRequest(kube, name);
    if (!r) return notFound(req, reply);
    const identity = viewerOf(req).identity;
    const [view] = (await requestViews(kube, identity, [r])) as [RequestView];
    const allowed =
      action === 'approve'
        ? part !== undefined && view.actions.approve.includes(part)
        : action === 'approve-extension'
          ? part !== undefined && view.actions.approveExtension.includes(part)
          : action === 'extend'
            ? view.actions.extend
            : view.actions[action];
    if (!allowed) {
      const what =
        action === 'approve' ? `approve the ${part ?? '(no part named)'} part of` : action === 'approve-extension' ? `approve the extension for the ${part ?? '(no part named)'} part of` : action;
      return renderDetail(req, reply, name, { error: `You may not ${what} this request now.`, status: 409 });
    }
    if (action === 'extend') {
      const error = extendError(r, view, identity, duration);
      if (error) return renderDetail(req, reply, name, { error, status: 400, extend: { duration, error } });
    }
    const preview = await previewFor(req, kube, r, clusterCidrs);
    return sendHtml(reply, views.confirmPage(pageContext(req, reply), { req: r, view, action, part, duration: duration?.trim(), preview }));
  });

  /** Reads the request, lets `change` build a status patch, writes it; retries once on a conflicting write. */
  async function writeStatus(req: FastifyRequest, name: string, change: StatusChange): Promise<string | null> {
    const kube = req.userKube();
    for (let attempt = 0; ; attempt++) {
      const r = await kube.getRequest(name);
      const patch = change(r);
      if (typeof patch === 'string') return patch;
      try {
        await kube.patchStatus(name, r.metadata.resourceVersion ?? '', patch);
        return null;
      } catch (err) {
        if (err instanceof KubeError && err.status === 409 && attempt === 0) continue;
        throw err;
      }
    }
  }

  /** One status write, then `after` (more writes) once it succeeded; a refusal is shown on the request page. */
  async function act(req: FastifyRequest, reply: FastifyReply, name: string, notice: Notice, change: StatusChange, after?: () => Promise<void>) {
    try {
      const refused = await writeStatus(req, name, change);
      if (refused) return renderDetail(req, reply, name, { error: refused, status: 409 });
      await after?.();
      return reply.redirect(`/requests/${encodeURIComponent(name)}?notice=${notice}`, 303);
    } catch (err) {
      const m = apiRefusal(err);
      if (!m) throw err;
      return renderDetail(req, reply, name, { error: `Refused: ${m.message}`, status: m.status });
    }
  }

  app.get('/requests/:name', { schema: { params: RequestNameParams, querystring: DetailQuery } }, async (req, reply) => {
    const { notice } = req.query;
    return renderDetail(req, reply, req.params.name, notice ? { notice: NOTICES[notice] } : {});
  });

  app.post('/requests/:name/approve', { preHandler: csrf, schema: { params: RequestNameParams, body: ApproveBody } }, async (req, reply) => {
    const { part } = req.body;
    return act(req, reply, req.params.name, 'approved', (r) => {
      const p = partsOf(r.spec).find((x) => x.name === part);
      if (!p) return `This request has no ${part} part.`;
      const approvals = r.status?.approvals ?? [];
      if (approvals.some((a) => a.part === part)) return `The ${part} part is already approved.`;
      return { approvals: [...approvals, { part, namespace: p.namespace }] };
    });
  });

  app.post('/requests/:name/extend', { preHandler: csrf, schema: { params: RequestNameParams, body: ExtendBody } }, async (req, reply) => {
    const duration = req.body.duration.trim();
    const reason = req.body.reason?.trim();
    // The value's syntax is checked here to name the field; whether this user may extend by it, the webhook decides.
    const ms = parseDuration(duration);
    if (typeof ms !== 'number' || ms <= 0) {
      const error = `Duration: must be a positive duration such as 30m, 1h or 1h30m (got ${JSON.stringify(duration)})`;
      return renderDetail(req, reply, req.params.name, { error, status: 400, extend: { duration, error } });
    }
    const name = req.params.name;
    const extension = { duration, ...(reason ? { reason } : {}) };
    return act(req, reply, name, 'extended', (r) => ({ extensions: [...(r.status?.extensions ?? []), extension] }), async () => {
      // As `kubectl netwatch extend` does: the parts of it this user may approve are approved with it, one write
      // each (the webhook judges each one; under an Approvers rule the requester never counts).
      const kube = req.userKube();
      const [view] = (await requestViews(kube, viewerOf(req).identity, [await kube.getRequest(name)])) as [RequestView];
      for (const part of view.actions.approveExtension) await writeStatus(req, name, approveExtension(part));
    });
  });

  app.post('/requests/:name/approve-extension', { preHandler: csrf, schema: { params: RequestNameParams, body: ApproveBody } }, async (req, reply) => {
    return act(req, reply, req.params.name, 'extensionApproved', approveExtension(req.body.part));
  });

  app.post('/requests/:name/decision', { preHandler: csrf, schema: { params: RequestNameParams, body: DecisionBody } }, async (req, reply) => {
    const { type, reason } = req.body;
    return act(req, reply, req.params.name, 'decided', (r) => {
      if (r.status?.decision) return `This request was already ${r.status.decision.type.toLowerCase()}.`;
      const decision: Record<string, string> = { type };
      if (reason?.trim()) decision['reason'] = reason.trim();
      return { decision };
    });
  });
};
