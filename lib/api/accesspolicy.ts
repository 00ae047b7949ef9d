// The one schema of the AccessPolicy custom resource: the rules the owners of a namespace set for the parts of
// AccessRequests that need their consent. The CRD YAML (crds/) and the TypeScript types derive from it;
// `crds/crd.test.ts` fails when the committed YAML drifts. What the rules mean is lib/domain/access-policy.ts.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { DNS1035_LABEL_PATTERN, DNS1123_LABEL_PATTERN } from './names.ts';
import { CidrSchema, FINITE_DURATION_PATTERN, GROUP, ProtocolSchema, StringEnum, VERSION, type ObjectMeta } from './accessrequest.ts';

export const POLICY_KIND = 'AccessPolicy';
export const POLICY_PLURAL = 'accesspolicies';
export const POLICY_SINGULAR = 'accesspolicy';
export const POLICY_SHORT_NAMES = ['apol'];
export const POLICY_API_VERSION = `${GROUP}/${VERSION}`;

export const RULES_MAX = 64;
export const APPROVALS_MAX = 10;
export const REASON_PATTERN_MAX_LENGTH = 256;
/** Route items one `notify.approvers` may name. */
export const NOTIFY_ROUTE_MAX = 16;
/**
 * A route item as the notifier's configuration and the Namespace annotation `netwatch.vtk.io/notify-approvers` write
 * it: a sink name (RFC 1123 label), or an email sink and a plain address (`mail:dbas@example.com`). The notifier
 * checks the item again against the sinks it has (notifier/routes.ts); the schema refuses what could never be one.
 */
export const ROUTE_ITEM_PATTERN =
  "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(:[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9]([-A-Za-z0-9.]{0,251}[A-Za-z0-9])?)?$";

function withCel(schema: TSchema, rules: { rule: string; message: string }[]): TSchema {
  return { ...schema, 'x-kubernetes-validations': rules };
}

const Name = (description: string, pattern = DNS1123_LABEL_PATTERN) => Type.String({ minLength: 1, maxLength: 63, pattern, description });
const Names = (description: string, pattern?: string) =>
  Type.Array(Name(description, pattern), { minItems: 1, maxItems: 64, 'x-kubernetes-list-type': 'set' });

// matchLabels only: a selector every reader understands at a glance, and all the matching the rules need. Written
// as additionalProperties: structural schemas (CRDs) do not allow the patternProperties TypeBox's Record makes.
const LabelsSchema = Type.Unsafe<Record<string, string>>({
  type: 'object',
  additionalProperties: { type: 'string', maxLength: 63 },
  maxProperties: 16,
  description: 'Labels that must all be present with these values (matchLabels).',
});

const FiniteDuration = (description: string) =>
  Type.String({ minLength: 2, maxLength: 32, pattern: `^${FINITE_DURATION_PATTERN}$`, description });

export const PolicyServicesSchema = Type.Object(
  {
    names: Type.Optional(Names('Service name.', DNS1035_LABEL_PATTERN)),
    labels: Type.Optional(LabelsSchema),
  },
  { description: 'Services by name or by labels (both given: both must hold).' },
);

export const PolicyPeersSchema = withCel(
  Type.Object(
    {
      namespaces: Type.Optional(Names('Namespace of the peer Service.')),
      services: Type.Optional(PolicyServicesSchema),
      cidrs: Type.Optional(Type.Array(CidrSchema, { minItems: 1, maxItems: 64, 'x-kubernetes-list-type': 'set' })),
      exceptCidrs: Type.Optional(Type.Array(CidrSchema, { minItems: 1, maxItems: 64, 'x-kubernetes-list-type': 'set' })),
    },
    {
      description:
        'The other end of the flow. A peer Service matches namespaces and services (each when given). External CIDRs match cidrs when every requested CIDR lies inside their union, and exceptCidrs unless every requested CIDR lies inside theirs ("anything but these ranges").',
    },
  ),
  [
    {
      rule: '!((has(self.cidrs) || has(self.exceptCidrs)) && (has(self.namespaces) || has(self.services)))',
      message: 'a peer is either in-cluster (namespaces, services) or external (cidrs), not both: write two rules',
    },
  ],
) as ReturnType<typeof Type.Object>;

export const PolicyPortSchema = Type.Object({
  port: Type.Integer({ minimum: 1, maximum: 65535 }),
  protocol: Type.Optional(ProtocolSchema),
});

export const PolicyMatchSchema = Type.Object(
  {
    services: Type.Optional(PolicyServicesSchema),
    peers: Type.Optional(PolicyPeersSchema),
    ports: Type.Optional(
      Type.Array(PolicyPortSchema, {
        minItems: 1,
        maxItems: 64,
        description: 'Every requested port must be one of these (a protocol left out matches any). A request for all ports of a Service never matches a rule with ports.',
      }),
    ),
    directions: Type.Optional(
      Type.Array(StringEnum(['ingress', 'egress'], 'Traffic direction seen from this namespace\'s Service.'), {
        minItems: 1,
        maxItems: 2,
        'x-kubernetes-list-type': 'set',
        description: 'ingress: the peer reaches this namespace\'s Service; egress: it reaches the peer. A request for both directions needs both listed.',
      }),
    ),
    requesters: Type.Optional(
      Type.Object(
        {
          users: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 512 }), { minItems: 1, maxItems: 64, 'x-kubernetes-list-type': 'set' })),
          groups: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 512 }), { minItems: 1, maxItems: 64, 'x-kubernetes-list-type': 'set' })),
        },
        { description: 'The requester is one of users, or a member of one of groups.' },
      ),
    ),
  },
  { description: 'What the rule applies to; every condition given must hold. Empty: every part in this namespace.' },
);

export const PolicyApprovalsSchema = Type.Object(
  {
    count: Type.Integer({ minimum: 1, maximum: APPROVALS_MAX, description: 'Distinct approvers needed; the requester never counts.' }),
    groups: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 512 }), {
        minItems: 1,
        maxItems: 32,
        'x-kubernetes-list-type': 'set',
        description: 'Only members of one of these groups may approve (they still need approve rights in the namespace).',
      }),
    ),
  },
  { description: 'N distinct approvers, optionally from named groups.' },
);

export const PolicyNotifySchema = Type.Object(
  {
    approvers: Type.Array(
      Type.String({
        minLength: 1,
        maxLength: 320,
        pattern: ROUTE_ITEM_PATTERN,
        description: 'A sink of the notifier\'s configuration (team-chat), or an email sink and an address (mail:dbas@example.com).',
      }),
      {
        minItems: 1,
        maxItems: NOTIFY_ROUTE_MAX,
        'x-kubernetes-list-type': 'set',
        description: 'Where approval notices go, instead of the Namespace annotation netwatch.vtk.io/notify-approvers.',
      },
    ),
  },
  { description: 'Where the notifier sends approval notices about the parts this governs (docs/notifications.md).' },
);

export const PolicyRuleSchema = withCel(
  Type.Object({
    name: Name('Rule name, shown wherever the rule is applied (RFC 1123 label).'),
    match: Type.Optional(PolicyMatchSchema),
    refuse: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'Refuse matching requests, with this message.' })),
    autoApprove: Type.Optional(Type.Boolean({ description: 'Approve the part at creation, with no human.' })),
    approvals: Type.Optional(PolicyApprovalsSchema),
    maxDuration: Type.Optional(FiniteDuration('Longest duration a request may ask for (e.g. 8h).')),
    maxTotalDuration: Type.Optional(FiniteDuration('Longest total time including extensions (e.g. 24h).')),
    reasonPattern: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: REASON_PATTERN_MAX_LENGTH,
        description: 'A regular expression the reason must match (JavaScript syntax without Unicode mode, run in linear time: no back-references or lookahead), e.g. ^(INC|CHG)-[0-9]+',
      }),
    ),
    notify: Type.Optional(PolicyNotifySchema),
  }),
  [
    { rule: '!(has(self.autoApprove) && self.autoApprove && has(self.approvals))', message: 'autoApprove and approvals exclude each other' },
    {
      rule: '!has(self.refuse) || !(has(self.autoApprove) || has(self.approvals) || has(self.maxDuration) || has(self.maxTotalDuration) || has(self.reasonPattern) || has(self.notify))',
      message: 'a rule that refuses sets nothing else',
    },
    {
      rule: 'has(self.refuse) || has(self.autoApprove) || has(self.approvals) || has(self.maxDuration) || has(self.maxTotalDuration) || has(self.reasonPattern) || has(self.notify)',
      message: 'a rule must set at least one of refuse, autoApprove, approvals, maxDuration, maxTotalDuration, reasonPattern, notify',
    },
    {
      rule: '!has(self.maxDuration) || !has(self.maxTotalDuration) || duration(self.maxTotalDuration) >= duration(self.maxDuration)',
      message: 'maxTotalDuration must be at least maxDuration',
    },
  ],
) as ReturnType<typeof Type.Object>;

export const AccessPolicySpecSchema = Type.Object({
  rules: Type.Array(PolicyRuleSchema, {
    minItems: 1,
    maxItems: RULES_MAX,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['name'],
    description: 'The rules; where several match a part, the strictest setting of each kind wins (docs/access-policies.md).',
  }),
  notify: Type.Optional(PolicyNotifySchema),
});

export type PolicyServices = Static<typeof PolicyServicesSchema>;
export type PolicyPort = Static<typeof PolicyPortSchema>;
export type PolicyApprovals = Static<typeof PolicyApprovalsSchema>;
export type PolicyNotify = Static<typeof PolicyNotifySchema>;
// Written out: the CEL-annotated schemas are typed loosely.
export interface PolicyPeers {
  namespaces?: string[];
  services?: PolicyServices;
  cidrs?: string[];
  exceptCidrs?: string[];
}
export interface PolicyMatch {
  services?: PolicyServices;
  peers?: PolicyPeers;
  ports?: PolicyPort[];
  directions?: ('ingress' | 'egress')[];
  requesters?: { users?: string[]; groups?: string[] };
}

export interface PolicyRule {
  name: string;
  match?: PolicyMatch;
  refuse?: string;
  autoApprove?: boolean;
  approvals?: PolicyApprovals;
  maxDuration?: string;
  maxTotalDuration?: string;
  reasonPattern?: string;
  /** Overrides the policy's `notify` for the parts this rule matches. */
  notify?: PolicyNotify;
}

export interface AccessPolicy {
  apiVersion: typeof POLICY_API_VERSION;
  kind: typeof POLICY_KIND;
  metadata: ObjectMeta & { namespace?: string };
  spec: {
    rules: PolicyRule[];
    /** Where approval notices about the parts the rules match go (a rule's own `notify` overrides it). */
    notify?: PolicyNotify;
  };
}

const printerColumns = [
  { name: 'Rules', type: 'string', jsonPath: '.spec.rules[*].name' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** The CustomResourceDefinition object, as applied to a cluster and written to crds/. */
export function accessPolicyCrd(): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${POLICY_PLURAL}.${GROUP}` },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: {
        kind: POLICY_KIND,
        listKind: `${POLICY_KIND}List`,
        plural: POLICY_PLURAL,
        singular: POLICY_SINGULAR,
        shortNames: POLICY_SHORT_NAMES,
        categories: ['netwatch'],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          additionalPrinterColumns: printerColumns,
          schema: {
            openAPIV3Schema: plain({
              type: 'object',
              description:
                'Rules the owners of this namespace set for the parts of AccessRequests that need its consent: auto-approve, N approvers, maximum durations, a reason pattern, or refuse.',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: AccessPolicySpecSchema,
              },
            }),
          },
        },
      ],
    },
  };
}
