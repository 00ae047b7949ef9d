// The one schema of the AccessRequest custom resource. The CRD YAML (crds/) and the TypeScript types are both
// derived from it; `crds/crd.test.ts` fails when the committed YAML drifts from what this file generates.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { DNS1035_LABEL_PATTERN, DNS1123_LABEL_PATTERN } from './names.ts';

export const GROUP = 'netwatch.vtk.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'AccessRequest';
export const PLURAL = 'accessrequests';
export const SINGULAR = 'accessrequest';
export const SHORT_NAMES = ['ar'];

export const REASON_MAX_LENGTH = 512;
export const CIDRS_MAX = 32;
export const PORTS_MAX = 64;
/** Duration literal accepted when an administrator allows requests that never expire. */
export const UNLIMITED_DURATION = 'unlimited';

// Kubernetes structural schemas know `enum` but not `const`, so string unions are written as enums (and Ajv then
// answers a wrong value with the allowed ones, where a union of literals would report every branch).
export function StringEnum<T extends string[]>(values: [...T], description?: string) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: values, ...(description === undefined ? {} : { description }) });
}

function withCel(schema: TSchema, rules: { rule: string; message: string }[]): TSchema {
  return { ...schema, 'x-kubernetes-validations': rules };
}


const Namespace = Type.String({
  minLength: 1,
  maxLength: 63,
  pattern: DNS1123_LABEL_PATTERN,
  description: 'Namespace name (RFC 1123 label).',
});
const ServiceName = Type.String({
  minLength: 1,
  maxLength: 63,
  pattern: DNS1035_LABEL_PATTERN,
  description: 'Service name (RFC 1035 label).',
});

export const ServiceRefSchema = Type.Object(
  { namespace: Namespace, service: ServiceName },
  { description: 'A Service, by namespace and name.' },
);

export const ExternalServiceRefSchema = Type.Object(
  { namespace: Namespace, name: ServiceName },
  { description: 'The in-cluster Service the external CIDRs reach or are reached from.' },
);

export const ProtocolSchema = StringEnum(['TCP', 'UDP', 'SCTP'], 'IP protocol.');

export const PortSchema = Type.Object({
  port: Type.Integer({ minimum: 1, maximum: 65535, description: 'Service port number, 1-65535.' }),
  protocol: { ...ProtocolSchema, default: 'TCP' },
});

// An IPv4 or IPv6 network with an explicit prefix length. maxtac accepts a bare IP but the NetworkPolicy it
// then generates is rejected by the API server, so the prefix is mandatory here.
const CIDR_PATTERN =
  '^((([0-9]{1,3}\\.){3}[0-9]{1,3})/(3[0-2]|[12]?[0-9])|([0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)/(12[0-8]|1[01][0-9]|[1-9]?[0-9]))$';

export const CidrSchema = withCel(
  Type.String({
    minLength: 4, // "::/0"; the shortest IPv4 form, "0.0.0.0/0", is longer
    maxLength: 43,
    pattern: CIDR_PATTERN,
    description: 'An IPv4 or IPv6 CIDR with an explicit prefix, e.g. 203.0.113.7/32 or 2001:db8::/64.',
  }),
  [
    { rule: 'isCIDR(self)', message: 'must be a valid CIDR such as 203.0.113.7/32' },
    {
      rule: 'isCIDR(self) && cidr(self) == cidr(self).masked()',
      message: 'must have no host bits set after the prefix (e.g. 10.1.0.0/16, not 10.1.2.3/16)',
    },
  ],
) as ReturnType<typeof Type.String>;

export const DirectionSchema = StringEnum(
  ['ingress', 'egress', 'both'],
  'External traffic direction relative to the Service: ingress (CIDRs reach the Service), egress (the Service reaches the CIDRs) or both.',
);

export const RequestTypeSchema = StringEnum(['Service', 'External'], 'Service-to-service or external CIDR access.');

/** A finite duration: hours, minutes and seconds, each optional, in that order (`2h`, `1h30m`, `90s`). */
export const FINITE_DURATION_PATTERN = '([0-9]+h)?([0-9]+m)?([0-9]+s)?';
export const DURATION_PATTERN = `^(${UNLIMITED_DURATION}|${FINITE_DURATION_PATTERN})$`;

export const RequesterSchema = Type.Object(
  {
    username: Type.String({ maxLength: 512 }),
    uid: Type.Optional(Type.String({ maxLength: 512 })),
    groups: Type.Optional(Type.Array(Type.String({ maxLength: 512 }), { maxItems: 256 })),
    approvedParts: Type.Optional(
      Type.Array(StringEnum(['source', 'target'], 'A part approved at creation.'), { maxItems: 2 }),
    ),
  },
  {
    description:
      'Who created the request, stamped by the admission webhook from the API server identity; approvedParts are the parts the requester was allowed to approve at creation. Any client-sent value is overwritten.',
  },
);

/**
 * What the AccessPolicies of a part's namespace said when the request was created, stamped by the admission webhook
 * (any client-sent value is overwritten): the matching rules, how the part is approved, and the limits.
 */
export const PartPolicyStampSchema = Type.Object({
  part: StringEnum(['source', 'target'], 'The part this applies to.'),
  namespace: Namespace,
  rules: Type.Array(Type.String({ maxLength: 200 }), { maxItems: 64, description: 'Every matching rule, as namespace/policy/rule.' }),
  approval: StringEnum(['Default', 'Auto', 'Approvers'], 'Default: one approver, as without policies; Auto: approved at creation; Approvers: `approvals` distinct approvers.'),
  approvals: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })),
  approverGroups: Type.Optional(Type.Array(Type.String({ maxLength: 512 }), { maxItems: 32 })),
  approvalRule: Type.Optional(Type.String({ maxLength: 200, description: 'The rule that set the approval, as namespace/policy/rule.' })),
  maxDuration: Type.Optional(Type.String({ maxLength: 32 })),
  maxTotalDuration: Type.Optional(Type.String({ maxLength: 32 })),
});

const specRules = [
  { rule: 'self == oldSelf', message: 'spec is immutable; create a new AccessRequest instead' },
  {
    rule: "self.type != 'Service' || (has(self.source) && has(self.target))",
    message: 'type Service requires spec.source and spec.target',
  },
  {
    rule: "self.type != 'Service' || (!has(self.service) && !has(self.cidrs) && !has(self.direction))",
    message: 'type Service does not allow spec.service, spec.cidrs or spec.direction',
  },
  {
    rule: "self.type != 'External' || (has(self.service) && has(self.cidrs) && has(self.direction))",
    message: 'type External requires spec.service, spec.cidrs and spec.direction',
  },
  {
    rule: "self.type != 'External' || (!has(self.source) && !has(self.target))",
    message: 'type External does not allow spec.source or spec.target',
  },
];

export const AccessRequestSpecSchema = withCel(
  Type.Object({
    type: RequestTypeSchema,
    source: Type.Optional(ServiceRefSchema),
    target: Type.Optional(ServiceRefSchema),
    service: Type.Optional(ExternalServiceRefSchema),
    cidrs: Type.Optional(Type.Array(CidrSchema, { minItems: 1, maxItems: CIDRS_MAX, 'x-kubernetes-list-type': 'set' })),
    direction: Type.Optional(DirectionSchema),
    ports: Type.Optional(
      Type.Array(PortSchema, {
        maxItems: PORTS_MAX,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['port', 'protocol'],
        description: "Ports to open; empty means every port of the target Service.",
      }),
    ),
    duration: Type.String({
      minLength: 2,
      maxLength: 32,
      pattern: DURATION_PATTERN,
      description: `How long access stays open after full approval, e.g. 30m, 2h, 1h30m (or "${UNLIMITED_DURATION}" where allowed).`,
    }),
    reason: Type.String({ minLength: 1, maxLength: REASON_MAX_LENGTH, description: 'Why access is needed.' }),
    requester: Type.Optional(RequesterSchema),
    policy: Type.Optional(
      Type.Array(PartPolicyStampSchema, {
        maxItems: 2,
        description: 'The AccessPolicy rules that applied to each part at creation, stamped by the admission webhook. Any client-sent value is overwritten.',
      }),
    ),
  }),
  specRules,
) as ReturnType<typeof Type.Object>;

export const PartNameSchema = StringEnum(['source', 'target'], 'A part of the request: one per consenting namespace.');

export const ApprovalSchema = Type.Object({
  part: PartNameSchema,
  namespace: Namespace,
  by: Type.Optional(Type.String({ maxLength: 512 })),
  at: Type.Optional(Type.String({ format: 'date-time' })),
});

/**
 * One approver's approval of a part that needs several (an AccessPolicy's `approvals`): appended by the admission
 * webhook when a user approves, never changed or removed. The part's entry in `approvals` is added by the write that
 * brings its distinct approvers to `required`.
 */
export const ReviewSchema = Type.Object({
  part: PartNameSchema,
  namespace: Namespace,
  by: Type.Optional(Type.String({ maxLength: 512 })),
  at: Type.Optional(Type.String({ format: 'date-time' })),
  rule: Type.Optional(Type.String({ maxLength: 200, description: 'The rule in force at this decision, as namespace/policy/rule.' })),
  required: Type.Optional(Type.Integer({ minimum: 1, maximum: 10, description: 'Distinct approvers that rule needed.' })),
});

export const DecisionSchema = Type.Object({
  type: StringEnum(['Denied', 'Aborted', 'Revoked'], 'The decision that ended the request.'),
  by: Type.Optional(Type.String({ maxLength: 512 })),
  at: Type.Optional(Type.String({ format: 'date-time' })),
  reason: Type.Optional(Type.String({ maxLength: REASON_MAX_LENGTH })),
});

/** At most this many extensions per request (each one also makes a new generation of clones and maxtac objects). */
export const EXTENSIONS_MAX = 16;

/**
 * One extension of an Active grant (`kubectl netwatch extend NAME --by 1h`): appended by a user's status write, never
 * changed or removed. requestedBy and at are stamped by the admission webhook from the API server's identity. It is
 * granted once every part approved it (status.extensionApprovals, or automatically within the part's
 * maxTotalDuration); the controller then moves status.expiresAt by `duration`.
 */
export const ExtensionSchema = Type.Object({
  duration: Type.String({
    minLength: 2,
    maxLength: 32,
    pattern: `^${FINITE_DURATION_PATTERN}$`,
    description: 'How much longer the access stays open, e.g. 30m, 1h, 1h30m; positive and finite.',
  }),
  requestedBy: Type.Optional(Type.String({ maxLength: 512, description: 'Who extended, stamped by the admission webhook.' })),
  at: Type.Optional(Type.String({ format: 'date-time' })),
  reason: Type.Optional(Type.String({ maxLength: REASON_MAX_LENGTH, description: 'Why more time is needed.' })),
});

/**
 * One approver's approval of one part of one extension (`extension` is its index in status.extensions): appended by
 * the admission webhook's checks, never changed or removed. A part that needs several approvers gets one entry each.
 */
export const ExtensionApprovalSchema = Type.Object({
  extension: Type.Integer({ minimum: 0, maximum: EXTENSIONS_MAX - 1, description: 'Index of the extension in status.extensions.' }),
  part: PartNameSchema,
  namespace: Namespace,
  by: Type.Optional(Type.String({ maxLength: 512 })),
  at: Type.Optional(Type.String({ format: 'date-time' })),
});

export const PhaseSchema = StringEnum(
  ['Pending', 'PartiallyApproved', 'Active', 'Denied', 'Aborted', 'Revoked', 'Expired', 'Failed'],
  'Lifecycle phase.',
);

export const ConditionSchema = Type.Object({
  type: Type.String({ maxLength: 316 }),
  status: StringEnum(['True', 'False', 'Unknown'], 'Condition status.'),
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
  lastTransitionTime: Type.String({ format: 'date-time' }),
  reason: Type.String({ minLength: 1, maxLength: 1024 }),
  message: Type.String({ maxLength: 32768 }),
});

export const ObjectRefSchema = Type.Object({
  apiVersion: Type.String(),
  kind: Type.String(),
  namespace: Type.String(),
  name: Type.String(),
  uid: Type.Optional(Type.String()),
  part: Type.Optional(PartNameSchema),
});

/** At most this many approvers (and cluster admins) are recorded per part; the rest are counted. */
export const APPROVERS_MAX = 32;

const SubjectFields = {
  kind: StringEnum(['User', 'Group', 'ServiceAccount'], 'The RBAC subject kind.'),
  name: Type.String({ minLength: 1, maxLength: 512 }),
  namespace: Type.Optional(Namespace),
};

export const PartApproversSchema = Type.Object(
  {
    approvers: Type.Array(
      Type.Object({ ...SubjectFields, via: StringEnum(['approve', 'create'], 'approve on accessrequests, or create on services and the maxtac kind.') }),
      { maxItems: APPROVERS_MAX },
    ),
    more: Type.Optional(Type.Integer({ minimum: 0, description: 'Approvers not listed.' })),
    clusterAdmins: Type.Array(Type.Object(SubjectFields), { maxItems: APPROVERS_MAX }),
    moreClusterAdmins: Type.Optional(Type.Integer({ minimum: 0, description: 'Cluster admins not listed.' })),
  },
  {
    description:
      "Who may approve this pending part, read by the controller from RBAC in the part's namespace; cluster admins (system:masters, cluster-wide wildcards or creators) are listed apart and do not count as approvers.",
  },
);

export const PartStatusSchema = Type.Object({
  part: PartNameSchema,
  namespace: Namespace,
  state: StringEnum(['Pending', 'Approved', 'Active', 'Skipped', 'Failed'], 'Materialization state of the part.'),
  message: Type.Optional(Type.String({ maxLength: 4096 })),
  approvers: Type.Optional(PartApproversSchema),
});

export const AccessRequestStatusSchema = Type.Object({
  phase: Type.Optional(PhaseSchema),
  approvals: Type.Optional(
    Type.Array(ApprovalSchema, {
      maxItems: 2,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['part'],
    }),
  ),
  reviews: Type.Optional(Type.Array(ReviewSchema, { maxItems: 64, 'x-kubernetes-list-type': 'atomic' })),
  decision: Type.Optional(DecisionSchema),
  extensions: Type.Optional(Type.Array(ExtensionSchema, { maxItems: EXTENSIONS_MAX, 'x-kubernetes-list-type': 'atomic' })),
  extensionApprovals: Type.Optional(Type.Array(ExtensionApprovalSchema, { maxItems: EXTENSIONS_MAX * 8, 'x-kubernetes-list-type': 'atomic' })),
  approvedAt: Type.Optional(Type.String({ format: 'date-time' })),
  expiresAt: Type.Optional(Type.String({ format: 'date-time' })),
  from: Type.Optional(Type.String({ description: 'Display form of the source.' })),
  to: Type.Optional(Type.String({ description: 'Display form of the target.' })),
  portsSummary: Type.Optional(Type.String({ description: 'Display form of the ports.' })),
  parts: Type.Optional(Type.Array(PartStatusSchema, { maxItems: 2 })),
  objects: Type.Optional(Type.Array(ObjectRefSchema, { maxItems: 16 })),
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
  conditions: Type.Optional(
    Type.Array(ConditionSchema, { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] }),
  ),
});

export type RequestType = Static<typeof RequestTypeSchema>;
export type ServiceRef = Static<typeof ServiceRefSchema>;
export type ExternalServiceRef = Static<typeof ExternalServiceRefSchema>;
export type Protocol = Static<typeof ProtocolSchema>;
export type Port = Static<typeof PortSchema>;
export type Direction = Static<typeof DirectionSchema>;
export type Requester = Static<typeof RequesterSchema>;
export type PartName = Static<typeof PartNameSchema>;
export type Approval = Static<typeof ApprovalSchema>;
export type Review = Static<typeof ReviewSchema>;
export type Extension = Static<typeof ExtensionSchema>;
export type ExtensionApproval = Static<typeof ExtensionApprovalSchema>;
export type PartPolicyStamp = Static<typeof PartPolicyStampSchema>;
export type Decision = Static<typeof DecisionSchema>;
export type DecisionType = Decision['type'];
export type Phase = Static<typeof PhaseSchema>;
export type Condition = Static<typeof ConditionSchema>;
export type ObjectRef = Static<typeof ObjectRefSchema>;
export type PartStatus = Static<typeof PartStatusSchema>;
export type PartApproversStatus = Static<typeof PartApproversSchema>;

export interface AccessRequestSpec {
  type: RequestType;
  source?: ServiceRef;
  target?: ServiceRef;
  service?: ExternalServiceRef;
  cidrs?: string[];
  direction?: Direction;
  ports?: Port[];
  duration: string;
  reason: string;
  requester?: Requester;
  policy?: PartPolicyStamp[];
}
export type AccessRequestStatus = Static<typeof AccessRequestStatusSchema>;

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }[];
}

export interface AccessRequest {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: ObjectMeta;
  spec: AccessRequestSpec;
  status?: AccessRequestStatus;
}

export const TERMINAL_PHASES: readonly Phase[] = ['Denied', 'Aborted', 'Revoked', 'Expired', 'Failed'];

const printerColumns = [
  { name: 'Type', type: 'string', jsonPath: '.spec.type' },
  { name: 'From', type: 'string', jsonPath: '.status.from' },
  { name: 'To', type: 'string', jsonPath: '.status.to' },
  { name: 'Ports', type: 'string', jsonPath: '.status.portsSummary' },
  { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
  { name: 'Requester', type: 'string', jsonPath: '.spec.requester.username' },
  // A string, not a date: kubectl renders dates as an age and prints <invalid> for a time in the future.
  { name: 'Expires', type: 'string', jsonPath: '.status.expiresAt' },
  { name: 'Reason', type: 'string', jsonPath: '.spec.reason', priority: 1 },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

/** Drops TypeBox's symbol keys and undefined values: what is left is plain OpenAPI v3 for the CRD. */
function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** The CustomResourceDefinition object, as applied to a cluster and written to crds/. */
export function accessRequestCrd(): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${PLURAL}.${GROUP}` },
    spec: {
      group: GROUP,
      scope: 'Cluster',
      names: { kind: KIND, listKind: `${KIND}List`, plural: PLURAL, singular: SINGULAR, shortNames: SHORT_NAMES, categories: ['netwatch'] },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: printerColumns,
          schema: {
            openAPIV3Schema: plain({
              type: 'object',
              description: 'A time-bound, approval-gated request for network access between Services, or between CIDRs and a Service.',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: AccessRequestSpecSchema,
                status: AccessRequestStatusSchema,
              },
            }),
          },
        },
      ],
    },
  };
}
