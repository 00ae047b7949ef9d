// The one set of test builders: valid specs of each type and AccessRequests around them, any field overridden.
// Unit tests anywhere in the tree and the end-to-end suites use these; the product never imports this folder
// (scripts/imports.test.ts checks that).
import { API_VERSION, KIND, type AccessRequest, type AccessRequestSpec, type AccessRequestStatus, type Approval, type Condition, type Decision, type ObjectMeta, type PartName, type PartPolicyStamp, type Phase, type Requester } from '../../lib/api/accessrequest.ts';
import type { Service } from '../../lib/kube/types.ts';
import { POLICY_API_VERSION, POLICY_KIND, type AccessPolicy, type PolicyRule } from '../../lib/api/accesspolicy.ts';

/** A Service → Service request monitoring/prometheus → default/database on 5432/TCP for 2h. */
export function serviceSpec(overrides: Partial<AccessRequestSpec> = {}): AccessRequestSpec {
  return {
    type: 'Service',
    source: { namespace: 'monitoring', service: 'prometheus' },
    target: { namespace: 'default', service: 'database' },
    ports: [{ port: 5432, protocol: 'TCP' }],
    duration: '2h',
    reason: 'scrape metrics',
    ...overrides,
  };
}

/** An External ingress request 203.0.113.7/32 → shop/frontend on 443/TCP for 30m. */
export function externalSpec(overrides: Partial<AccessRequestSpec> = {}): AccessRequestSpec {
  return {
    type: 'External',
    service: { namespace: 'shop', name: 'frontend' },
    cidrs: ['203.0.113.7/32'],
    direction: 'ingress',
    ports: [{ port: 443, protocol: 'TCP' }],
    duration: '30m',
    reason: 'partner integration test',
    ...overrides,
  };
}

export const CREATED = '2026-01-01T00:00:00Z';

export interface RequestShape {
  name?: string;
  /** Merged over the name and the creation time; `uid`, `finalizers`, `deletionTimestamp`… */
  metadata?: Partial<ObjectMeta>;
  /** The whole spec (default serviceSpec()); its requester is replaced by `requester` when both are given. */
  spec?: AccessRequestSpec;
  /** Stamped by the webhook in a stored request; default alice, who could approve nothing at creation. */
  requester?: Requester | null;
  status?: AccessRequestStatus;
}

/** A stored AccessRequest: `ar-1` by alice, created at CREATED, with the given spec and status (none by default). */
export function accessRequest(shape: RequestShape = {}): AccessRequest {
  const spec = shape.spec ?? serviceSpec();
  const requester = shape.requester === null ? undefined : (shape.requester ?? spec.requester ?? { username: 'alice', approvedParts: [] });
  const withRequester: AccessRequestSpec = { ...spec };
  if (requester) withRequester.requester = requester;
  else delete withRequester.requester;
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name: shape.name ?? 'ar-1', creationTimestamp: CREATED, ...shape.metadata },
    spec: withRequester,
    ...(shape.status ? { status: shape.status } : {}),
  };
}

/** What a client sends to create a request: the spec as given (the webhook stamps the requester) and only these metadata. */
export function requestBody(spec: AccessRequestSpec, metadata: Partial<ObjectMeta> = {}): AccessRequest {
  return { apiVersion: API_VERSION, kind: KIND, metadata: { ...metadata }, spec };
}

/** One approval in status, as the controller mirrors it. */
export function approval(part: PartName, namespace: string, by?: string, at?: string): Approval {
  return { part, namespace, ...(by !== undefined ? { by } : {}), ...(at !== undefined ? { at } : {}) };
}

/** A Service `name` in `namespace` selecting `app: name`, on these TCP ports. */
export function svc(namespace: string, name: string, ports: number[] = [80]): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace, name }, spec: { selector: { app: name }, ports: ports.map((port) => ({ port, protocol: 'TCP' })) } };
}

/** monitoring/prometheus → shop/database by `by` (alice), Pending unless `phase` says otherwise; past Active every part is approved. */
export function serviceRequest(name: string, over: { by?: string; reason?: string; phase?: Phase; expiresAt?: string; approvedParts?: PartName[] } = {}): AccessRequest {
  const approved = over.phase !== undefined && !['Pending', 'PartiallyApproved', 'Denied', 'Aborted'].includes(over.phase);
  return accessRequest({
    name,
    metadata: { uid: `uid-${name}` },
    spec: serviceSpec({ target: { namespace: 'shop', service: 'database' }, reason: over.reason ?? 'debug replication lag' }),
    requester: { username: over.by ?? 'alice', groups: ['developers'], approvedParts: over.approvedParts ?? [] },
    status: {
      phase: over.phase ?? 'Pending',
      // An Active (or expired, revoked) request had every part approved: the controller mirrors them into status.
      ...(approved ? { approvals: [approval('source', 'monitoring', 'carol'), approval('target', 'shop', 'bob')] } : {}),
      ...(over.expiresAt ? { expiresAt: over.expiresAt } : {}),
    },
  });
}

/**
 * serviceRequest(name) whose target part (shop) falls under the AccessPolicy rule shop/database/two: `count`
 * distinct approvers (from `groups`, when given), reviewed so far by `reviewers`, as the webhook stamps and records it.
 */
export function policedRequest(name: string, over: { count?: number; groups?: string[]; reviewers?: string[] } = {}): AccessRequest {
  const r = serviceRequest(name);
  const rule = 'shop/database/two';
  const count = over.count ?? 2;
  r.spec.policy = [{ part: 'target', namespace: 'shop', rules: [rule], approval: 'Approvers', approvals: count, ...(over.groups ? { approverGroups: over.groups } : {}), approvalRule: rule }];
  const reviews = (over.reviewers ?? []).map((by, i) => ({ part: 'target' as const, namespace: 'shop', by, at: new Date(Date.parse(CREATED) + (i + 1) * 60_000).toISOString(), rule, required: count }));
  const done = reviews.length >= count;
  r.status = {
    ...r.status,
    ...(reviews.length > 0 ? { reviews } : {}),
    ...(done ? { phase: 'PartiallyApproved', approvals: [approval('target', 'shop', reviews[count - 1]?.by, reviews[count - 1]?.at)] } : {}),
  };
  return r;
}

// ----- AccessRequests as the controller leaves them in each phase (the notifier's tests)

export const T0 = Date.parse('2030-01-01T10:00:00Z');

export interface RequestFixture {
  name?: string;
  phase?: AccessRequestStatus['phase'];
  /** Parts the requester could approve at creation. */
  approvedAtCreation?: Approval['part'][];
  /** Approvals given later: part and ms after T0. */
  approvals?: { part: Approval['part']; by: string; atMs: number }[];
  decision?: Decision;
  ready?: boolean;
  approvedAtMs?: number;
  expiresAtMs?: number;
  endedAtMs?: number;
  endedReason?: string;
  endedMessage?: string;
  reason?: string;
  username?: string;
  annotations?: Record<string, string>;
  /** The rules the webhook stamped as matching each part (`spec.policy[].rules`), as namespace/policy/rule. */
  policyRules?: Partial<Record<PartName, string[]>>;
  /** More of each part's stamp (`spec.policy[]`), e.g. maxTotalDuration or an Approvers rule. */
  policyStamps?: Partial<Record<PartName, Partial<PartPolicyStamp>>>;
  /** status.extensions: asked for `atMs` after T0. */
  extensions?: { duration: string; by: string; atMs: number; reason?: string }[];
  /** status.extensionApprovals (namespace from the part). */
  extensionApprovals?: { extension: number; part: PartName; by: string; atMs: number }[];
}

/** Times are ms after `t0`, the request's creation. A Service request monitoring/prometheus → default/database (two parts: source in monitoring, target in default). */
/** An Active 2h grant (approved at T0, expiring at T0+2h) that alice extends by 1h after 30 minutes. */
export function extendedFixture(f: RequestFixture = {}): RequestFixture {
  return {
    phase: 'Active',
    approvedAtCreation: ['source', 'target'],
    approvedAtMs: 0,
    expiresAtMs: 2 * 3_600_000,
    ready: true,
    extensions: [{ duration: '1h', by: 'alice@example.com', atMs: 30 * 60_000, reason: 'migration runs late' }],
    ...f,
  };
}

export function requestFixture(f: RequestFixture = {}, t0 = T0): AccessRequest {
  const at = (ms: number): string => new Date(t0 + ms).toISOString();
  const requester = f.username ?? 'alice@example.com';
  const approvals: Approval[] = [
    ...(f.approvedAtCreation ?? []).map((part) => ({ part, namespace: part === 'source' ? 'monitoring' : 'default', by: requester, at: at(0) })),
    ...(f.approvals ?? []).map((a) => ({ part: a.part, namespace: a.part === 'source' ? 'monitoring' : 'default', by: a.by, at: at(a.atMs) })),
  ];
  const conditions: Condition[] = [];
  if (f.ready !== undefined) conditions.push({ type: 'Ready', status: f.ready ? 'True' : 'False', reason: f.ready ? 'InForce' : 'Materializing', message: f.ready ? 'maxtac wrote the NetworkPolicy of every part.' : 'waiting for maxtac', lastTransitionTime: at(0) });
  if (f.endedAtMs !== undefined) conditions.push({ type: 'Ended', status: 'True', reason: f.endedReason ?? f.phase ?? 'Ended', message: f.endedMessage ?? '', lastTransitionTime: at(f.endedAtMs) });
  const status: AccessRequestStatus | undefined = f.phase
    ? {
        phase: f.phase,
        approvals,
        conditions,
        from: 'monitoring/prometheus',
        to: 'default/database',
        portsSummary: '5432/TCP',
        ...(f.decision ? { decision: f.decision } : {}),
        ...(f.approvedAtMs !== undefined ? { approvedAt: at(f.approvedAtMs) } : {}),
        ...(f.expiresAtMs !== undefined ? { expiresAt: at(f.expiresAtMs) } : {}),
        ...(f.extensions ? { extensions: f.extensions.map((e) => ({ duration: e.duration, requestedBy: e.by, at: at(e.atMs), ...(e.reason ? { reason: e.reason } : {}) })) } : {}),
        ...(f.extensionApprovals
          ? { extensionApprovals: f.extensionApprovals.map((a) => ({ extension: a.extension, part: a.part, namespace: a.part === 'source' ? 'monitoring' : 'default', by: a.by, at: at(a.atMs) })) }
          : {}),
      }
    : undefined;
  return accessRequest({
    name: f.name ?? 'ar-1',
    metadata: { uid: 'uid-1', resourceVersion: '1', creationTimestamp: at(0), ...(f.annotations ? { annotations: f.annotations } : {}) },
    spec: serviceSpec({
      reason: f.reason ?? 'scrape metrics',
      ...(f.policyRules || f.policyStamps
        ? {
            policy: (['source', 'target'] as const).map((part) => ({
              part,
              namespace: part === 'source' ? 'monitoring' : 'default',
              rules: f.policyRules?.[part] ?? [],
              approval: 'Default' as const,
              ...f.policyStamps?.[part],
            })),
          }
        : {}),
    }),
    requester: { username: requester, groups: ['developers'], approvedParts: f.approvedAtCreation ?? [] },
    ...(status ? { status } : {}),
  });
}

// ----- AccessPolicies

/** An AccessPolicy `namespace/name` with these rules; `spec` adds policy-level fields (e.g. notify). */
export function accessPolicy(namespace: string, name: string, rules: PolicyRule[], spec: Omit<AccessPolicy['spec'], 'rules'> = {}): AccessPolicy {
  return { apiVersion: POLICY_API_VERSION, kind: POLICY_KIND, metadata: { namespace, name }, spec: { rules, ...spec } };
}
