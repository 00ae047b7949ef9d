// The pure heart of the controller: from one AccessRequest and what was observed about it, the exact objects that
// must exist, those that must go, the status to record and the Events to emit. No client, no clock: `now` and
// the observation are arguments, so every rule here is a table test.
import type {
  AccessRequest,
  AccessRequestStatus,
  Approval,
  ObjectRef,
  PartName,
  PartStatus,
  Phase,
  Port,
} from '../api/accessrequest.ts';
import { partsOf } from './parts.ts';
import { objectName } from './names.ts';
import { durationSeconds as secondsOfDuration } from './duration.ts';
import { ConditionType, Reason, derivePhase, findCondition, isTerminal, setCondition } from './phase.ts';
import type {
  LabelSelector,
  MaxtacDirection,
  MaxtacKind,
  MaxtacObject,
  NetworkPolicy,
  Service,
  ServicePort,
} from '../kube/types.ts';
import { MAXTAC_API_VERSION } from '../kube/types.ts';
import {
  ANNOTATION_ORIGIN,
  ANNOTATION_REQUEST_NAME,
  LABEL_MANAGED_BY,
  LABEL_REQUEST_ID,
  LABEL_ROLE,
  LEGACY_FINALIZERS,
  MANAGED_BY,
  MAXTAC_FINALIZER,
  MAXTAC_OWNER_LABELS,
  REQUEST_FINALIZER,
} from '../api/markers.ts';

export type IsolationPolicy = 'skip' | 'refuse' | 'allow';

export interface PlanConfig {
  /** What to do with a part whose policy would newly isolate pods in its direction. */
  isolation: IsolationPolicy;
  /** A request not fully approved within this many seconds expires (null: never). */
  pendingTtlSeconds: number | null;
  /** Terminal requests are deleted this many seconds after they ended (null: kept). */
  retentionSeconds: number | null;
  /**
   * A materialized maxtac object that disappears this close to expiresAt was deleted by maxtac's own expiry
   * (counted from its creationTimestamp on the API server's clock), not by a person.
   */
  expiryToleranceSeconds: number;
}

export const DEFAULT_PLAN_CONFIG: PlanConfig = {
  isolation: 'skip',
  pendingTtlSeconds: 7 * 24 * 3600,
  retentionSeconds: 30 * 24 * 3600,
  expiryToleranceSeconds: 30,
};

export type HalfRole = 'source' | 'target';

/** One end of the traffic that gets its own clone and maxtac object. A part has one or two halves. */
export interface Half {
  role: HalfRole;
  part: PartName;
  namespace: string;
  kind: MaxtacKind;
  maxtacName: string;
  cloneName: string;
  /** The user's Service this half clones. */
  original: { namespace: string; name: string };
  /** Direction as requested, in maxtac's words. */
  direction: MaxtacDirection;
  targets?: { serviceName: string; namespace: string }[];
  targetCIDRs?: string[];
}

/** The halves of a request: Service type has a source half (egress) and a target half (ingress); External has one. */
export function halvesOf(request: AccessRequest): Half[] {
  const uid = request.metadata.uid ?? '';
  const spec = request.spec;
  const parts = partsOf(spec);
  if (spec.type === 'Service' && spec.source && spec.target) {
    const sourcePart = parts.find((p) => p.namespace === spec.source?.namespace)?.name ?? 'source';
    return [
      {
        role: 'source',
        part: sourcePart,
        namespace: spec.source.namespace,
        kind: 'Access',
        maxtacName: objectName(uid, 'sourceMaxtac'),
        cloneName: objectName(uid, 'sourceClone'),
        original: { namespace: spec.source.namespace, name: spec.source.service },
        direction: 'egress',
        targets: [{ serviceName: objectName(uid, 'targetClone'), namespace: spec.target.namespace }],
      },
      {
        role: 'target',
        part: 'target',
        namespace: spec.target.namespace,
        kind: 'Access',
        maxtacName: objectName(uid, 'targetMaxtac'),
        cloneName: objectName(uid, 'targetClone'),
        original: { namespace: spec.target.namespace, name: spec.target.service },
        direction: 'ingress',
        targets: [{ serviceName: objectName(uid, 'sourceClone'), namespace: spec.source.namespace }],
      },
    ];
  }
  if (spec.type === 'External' && spec.service && spec.cidrs && spec.direction) {
    return [
      {
        role: 'target',
        part: 'target',
        namespace: spec.service.namespace,
        kind: 'ExternalAccess',
        maxtacName: objectName(uid, 'targetMaxtac'),
        cloneName: objectName(uid, 'targetClone'),
        original: { namespace: spec.service.namespace, name: spec.service.name },
        direction: spec.direction === 'both' ? 'all' : spec.direction,
        targetCIDRs: [...spec.cidrs],
      },
    ];
  }
  return [];
}

/** What the controller saw of one request, from its caches (and a live GET where the cache cannot be trusted). */
export interface Observed {
  request: AccessRequest;
  /** The user's Services named by the spec, keyed `namespace/name`; absent key or null = does not exist. */
  originals: Map<string, Service | null>;
  /** Every Service in the namespaces of the halves that has a deterministic name of this request or its label. */
  services: Service[];
  /** Every maxtac object with a deterministic name of this request or its label. */
  maxtac: MaxtacObject[];
  /** NetworkPolicies in the namespaces of the halves. */
  networkPolicies: NetworkPolicy[];
}

/** A create; a clone's ownerReference names its same-namespace maxtac object, whose uid apply fills in. */
export interface CreateAction {
  object: Service | MaxtacObject;
  ownerMaxtac?: { kind: MaxtacKind; name: string; namespace: string };
}

/**
 * A plan's creates grouped into chains that may run at the same time: a clone follows the maxtac object it is
 * owned by when that object is created by the same plan (its ownerReference needs the new uid); every other
 * create starts a chain of its own. Within a chain the plan's order is kept.
 */
export function createChains(creates: readonly CreateAction[]): CreateAction[][] {
  const chains: CreateAction[][] = [];
  const chainOfMaxtac = new Map<string, CreateAction[]>();
  for (const c of creates) {
    const o = c.ownerMaxtac;
    const owner = o ? chainOfMaxtac.get(`${o.kind}/${o.namespace}/${o.name}`) : undefined;
    if (owner) {
      owner.push(c);
      continue;
    }
    const chain = [c];
    chains.push(chain);
    const m = c.object.metadata;
    if (c.object.kind !== 'Service') chainOfMaxtac.set(`${c.object.kind}/${m.namespace ?? ''}/${m.name ?? ''}`, chain);
  }
  return chains;
}

export interface DeleteAction {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  /** Precondition: only this incarnation is deleted. */
  uid?: string;
}

export interface PlannedEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface Plan {
  addFinalizer: boolean;
  creates: CreateAction[];
  deletes: DeleteAction[];
  /** The whole status to write, or undefined when nothing changed. */
  status: AccessRequestStatus | undefined;
  events: PlannedEvent[];
  removeFinalizers: string[];
  deleteRequest: boolean;
  /** When to look again (expiry, pending TTL, retention), in ms from now. */
  requeueAfterMs?: number;
  /** Set when the phase became Active in this plan: for the approval→active latency metric. */
  becameActive: boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers

export function key(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

function isOurs(obj: { metadata: { labels?: Record<string, string> } }, uid: string): boolean {
  return obj.metadata.labels?.[LABEL_REQUEST_ID] === uid && obj.metadata.labels[LABEL_MANAGED_BY] === MANAGED_BY;
}

/** The approvals that count: one per part of the request, including the requester's own parts at creation. */
export function effectiveApprovals(request: AccessRequest): Approval[] {
  const parts = partsOf(request.spec);
  const out: Approval[] = [...(request.status?.approvals ?? [])];
  const requester = request.spec.requester;
  for (const partName of requester?.approvedParts ?? []) {
    const part = parts.find((p) => p.name === partName);
    if (!part || out.some((a) => a.part === partName)) continue;
    const approval: Approval = { part: partName, namespace: part.namespace };
    if (requester?.username) approval.by = requester.username;
    if (request.metadata.creationTimestamp) approval.at = request.metadata.creationTimestamp;
    out.push(approval);
  }
  return out;
}

function approvedPartNames(request: AccessRequest, approvals: Approval[]): Set<PartName> {
  const parts = partsOf(request.spec);
  const approved = new Set<PartName>();
  for (const a of approvals) {
    if (parts.some((p) => p.name === a.part && p.namespace === a.namespace)) approved.add(a.part);
  }
  return approved;
}

function portsSummary(ports: Port[] | undefined): string {
  if (!ports || ports.length === 0) return 'all';
  return ports.map((p) => `${p.port}/${p.protocol ?? 'TCP'}`).join(',');
}

function displayEnds(request: AccessRequest): { from: string; to: string } {
  const s = request.spec;
  if (s.type === 'Service') {
    return { from: s.source ? key(s.source.namespace, s.source.service) : '', to: s.target ? key(s.target.namespace, s.target.service) : '' };
  }
  const svc = s.service ? key(s.service.namespace, s.service.name) : '';
  const cidrs = (s.cidrs ?? []).join(',');
  return s.direction === 'egress' ? { from: svc, to: cidrs } : { from: cidrs, to: svc };
}

/** Resolves the requested ports against the target Service: each keeps that Service's name and targetPort. */
export function resolvePorts(target: Service, requested: Port[] | undefined): { ports: ServicePort[] } | { error: string } {
  const available = target.spec?.ports ?? [];
  const where = key(target.metadata.namespace ?? '', target.metadata.name ?? '');
  if (available.length === 0) return { error: `Service ${where} has no ports` };
  const copy = (p: ServicePort): ServicePort => {
    const out: ServicePort = { port: p.port, protocol: p.protocol ?? 'TCP', targetPort: p.targetPort ?? p.port };
    if (p.name) out.name = p.name;
    if (p.appProtocol) out.appProtocol = p.appProtocol;
    return out;
  };
  if (!requested || requested.length === 0) return { ports: available.map(copy) };
  const out: ServicePort[] = [];
  const missing: string[] = [];
  for (const r of requested) {
    const protocol = r.protocol ?? 'TCP';
    const found = available.find((p) => p.port === r.port && (p.protocol ?? 'TCP') === protocol);
    if (found) out.push(copy(found));
    else missing.push(`${r.port}/${protocol}`);
  }
  if (missing.length > 0) {
    const has = available.map((p) => `${p.port}/${p.protocol ?? 'TCP'}`).join(', ');
    return { error: `port ${missing.join(', ')} is not a port of Service ${where} (it has ${has})` };
  }
  // Several ports need distinct names on a Service; a single one may be unnamed.
  if (out.length > 1) out.forEach((p, i) => (p.name ??= `p${i}-${p.port}-${(p.protocol ?? 'TCP').toLowerCase()}`));
  return { ports: out };
}

/**
 * Whether a label selector provably selects every pod that carries `podLabels` (a Service selector: the pods
 * may carry more labels, which we cannot see). Anything undecidable counts as "not proven".
 */
export function selectorCovers(selector: LabelSelector | undefined, podLabels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (podLabels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const value = podLabels[e.key];
    switch (e.operator) {
      case 'In':
        if (value === undefined || !(e.values ?? []).includes(value)) return false;
        break;
      case 'NotIn':
        if (value === undefined || (e.values ?? []).includes(value)) return false;
        break;
      case 'Exists':
        if (value === undefined) return false;
        break;
      default:
        // DoesNotExist (pods may carry the key) and unknown operators cannot be proven from a Service selector.
        return false;
    }
  }
  return true;
}

export function policyTypesOf(np: NetworkPolicy): ('Ingress' | 'Egress')[] {
  if (np.spec?.policyTypes && np.spec.policyTypes.length > 0) return np.spec.policyTypes;
  // The API server's defaulting: Ingress always, Egress when egress rules exist.
  return (np.spec?.egress?.length ?? 0) > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
}

/** True when some NetworkPolicy other than `ignoreOwners`' already isolates those pods in that direction. */
export function alreadyIsolated(
  policies: NetworkPolicy[],
  namespace: string,
  podLabels: Record<string, string>,
  direction: 'Ingress' | 'Egress',
  ignore: (np: NetworkPolicy) => boolean,
): boolean {
  return policies.some(
    (np) =>
      np.metadata.namespace === namespace &&
      !np.metadata.deletionTimestamp &&
      !ignore(np) &&
      policyTypesOf(np).includes(direction) &&
      selectorCovers(np.spec?.podSelector, podLabels),
  );
}

function directionsOf(d: MaxtacDirection): ('Ingress' | 'Egress')[] {
  return d === 'all' ? ['Ingress', 'Egress'] : d === 'ingress' ? ['Ingress'] : ['Egress'];
}

function maxtacDirectionOf(dirs: ('Ingress' | 'Egress')[]): MaxtacDirection | undefined {
  const i = dirs.includes('Ingress');
  const e = dirs.includes('Egress');
  return i && e ? 'all' : i ? 'ingress' : e ? 'egress' : undefined;
}

function labelsFor(uid: string, role: HalfRole): Record<string, string> {
  return { [LABEL_REQUEST_ID]: uid, [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_ROLE]: role };
}

function selectorFor(uid: string, role: HalfRole): LabelSelector {
  return { matchLabels: { [LABEL_REQUEST_ID]: uid, [LABEL_ROLE]: role } };
}

export function desiredMaxtac(request: AccessRequest, half: Half, direction: MaxtacDirection, durationSeconds: number | null): MaxtacObject {
  const uid = request.metadata.uid ?? '';
  const spec: MaxtacObject['spec'] = { serviceSelector: selectorFor(uid, half.role), direction };
  if (half.targets) spec.targets = half.targets.map((t) => ({ ...t }));
  if (half.targetCIDRs) spec.targetCIDRs = [...half.targetCIDRs];
  if (durationSeconds !== null) spec.duration = `${durationSeconds}s`;
  return {
    apiVersion: MAXTAC_API_VERSION,
    kind: half.kind,
    metadata: {
      name: half.maxtacName,
      namespace: half.namespace,
      labels: labelsFor(uid, half.role),
      annotations: { [ANNOTATION_REQUEST_NAME]: request.metadata.name ?? '' },
      finalizers: [MAXTAC_FINALIZER],
    },
    spec,
  };
}

export function desiredClone(request: AccessRequest, half: Half, original: Service, ports: ServicePort[]): Service {
  const uid = request.metadata.uid ?? '';
  const headless = original.spec?.clusterIP === 'None';
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: half.cloneName,
      namespace: half.namespace,
      labels: labelsFor(uid, half.role),
      // Only our annotations: maxtac reads targets/direction from Service annotations before the Access spec,
      // so copying the original's annotations could redirect the grant.
      annotations: {
        [ANNOTATION_REQUEST_NAME]: request.metadata.name ?? '',
        [ANNOTATION_ORIGIN]: key(half.original.namespace, half.original.name),
      },
    },
    spec: {
      type: 'ClusterIP',
      ...(headless ? { clusterIP: 'None' } : {}),
      selector: { ...(original.spec?.selector ?? {}) },
      ports: ports.map((p) => ({ ...p })),
    },
  };
}

/** Whether an existing maxtac object still grants what this half asks (direction may be the narrowed one). */
function maxtacMatches(existing: MaxtacObject, wanted: MaxtacObject, requested: MaxtacDirection): boolean {
  // The API server returns custom resources with sorted keys: compare structurally, not textually.
  const same = (a: unknown, b: unknown) => JSON.stringify(normalize(a ?? null)) === JSON.stringify(normalize(b ?? null));
  if (existing.kind !== wanted.kind) return false;
  if (!same(existing.spec?.serviceSelector, wanted.spec.serviceSelector)) return false;
  if (!same(existing.spec?.targets, wanted.spec.targets)) return false;
  if (!same([...(existing.spec?.targetCIDRs ?? [])].sort(), [...(wanted.spec.targetCIDRs ?? [])].sort())) return false;
  const allowed = directionsOf(requested);
  const got = existing.spec?.direction;
  return got === 'ingress' || got === 'egress' || got === 'all' ? directionsOf(got).every((d) => allowed.includes(d)) : false;
}

function refOf(obj: Service | MaxtacObject, part: PartName): ObjectRef {
  const ref: ObjectRef = {
    apiVersion: obj.apiVersion ?? 'v1',
    kind: obj.kind ?? 'Service',
    namespace: obj.metadata.namespace ?? '',
    name: obj.metadata.name ?? '',
    part,
  };
  if (obj.metadata.uid) ref.uid = obj.metadata.uid;
  return ref;
}

/** The NetworkPolicy maxtac wrote for a maxtac object: same namespace, ownerReference to that uid. */
export function inForce(policies: NetworkPolicy[], obj: MaxtacObject): boolean {
  const uid = obj.metadata.uid;
  return (
    uid !== undefined &&
    policies.some((np) => np.metadata.namespace === obj.metadata.namespace && (np.metadata.ownerReferences ?? []).some((o) => o.uid === uid))
  );
}

function statusEqual(a: AccessRequestStatus | undefined, b: AccessRequestStatus): boolean {
  return JSON.stringify(normalize(a ?? {})) === JSON.stringify(normalize(b));
}

function normalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalize);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, normalize(v)]),
    );
  }
  return value;
}

// ---------------------------------------------------------------------------------------------------------------
// The plan

interface HalfDecision {
  half: Half;
  /** The observed maxtac object of this half, if any (ours). */
  existing?: MaxtacObject;
  /** Direction to create with; undefined = skipped. */
  direction?: MaxtacDirection;
  skippedDirections: ('Ingress' | 'Egress')[];
}

export function plan(observed: Observed, now: Date, config: PlanConfig = DEFAULT_PLAN_CONFIG): Plan {
  return planWith(observed, now, config, undefined);
}

function planWith(observed: Observed, now: Date, config: PlanConfig, forced: { reason: string; message: string } | undefined): Plan {
  const request = observed.request;
  const uid = request.metadata.uid ?? '';
  const status = request.status ?? {};
  const generation = request.metadata.generation;
  const nowMs = now.getTime();
  const deleting = Boolean(request.metadata.deletionTimestamp);
  const parts = partsOf(request.spec);
  const halves = halvesOf(request);

  const approvals = effectiveApprovals(request);
  const approved = approvedPartNames(request, approvals);
  const fullyApproved = parts.length > 0 && parts.every((p) => approved.has(p.name));

  const ownServices = observed.services.filter((s) => isOurs(s, uid));
  const ownMaxtac = observed.maxtac.filter((m) => isOurs(m, uid));
  const ownNames = new Set(halves.map((h) => h.maxtacName));
  const isOwnPolicy = (np: NetworkPolicy) =>
    Object.values(MAXTAC_OWNER_LABELS).some((label) => ownNames.has(np.metadata.labels?.[label] ?? ''));

  // --- durations and times
  let durationSeconds: number | null = null;
  let durationError: string | undefined;
  try {
    durationSeconds = secondsOfDuration(request.spec.duration);
  } catch (e) {
    durationError = (e as Error).message;
  }
  let approvedAt = status.approvedAt;
  if (fullyApproved && !approvedAt) {
    // Full approval happened when the last part was approved (not at submission, not when we noticed), but
    // never in the future of our clock.
    const times = approvals.filter((a) => parts.some((p) => p.name === a.part)).map((a) => (a.at ? Date.parse(a.at) : NaN));
    const last = times.every((t) => Number.isFinite(t)) && times.length > 0 ? Math.max(...times) : nowMs;
    approvedAt = new Date(Math.min(last, nowMs)).toISOString();
  }
  let expiresAt = status.expiresAt;
  if (approvedAt && !expiresAt && durationSeconds !== null) {
    expiresAt = new Date(Date.parse(approvedAt) + durationSeconds * 1000).toISOString();
  }
  const expiresMs = expiresAt ? Date.parse(expiresAt) : undefined;
  const expired = expiresMs !== undefined && nowMs >= expiresMs;
  const createdMs = request.metadata.creationTimestamp ? Date.parse(request.metadata.creationTimestamp) : nowMs;
  const pendingTimedOut = config.pendingTtlSeconds !== null && nowMs >= createdMs + config.pendingTtlSeconds * 1000;

  // --- what is materialized, what is missing, what conflicts
  let failure: { reason: string; message: string } | undefined = forced;
  if (durationError) failure = { reason: Reason.InvalidSpec, message: durationError };
  if (fullyApproved && halves.length === 0) failure = { reason: Reason.InvalidSpec, message: 'the spec names no Service to grant' };

  const decisions: HalfDecision[] = [];
  const creates: CreateAction[] = [];
  const deletes: DeleteAction[] = [];
  const recordedRefs = status.objects ?? [];
  const live = !isTerminal(status.phase) && !deleting && !status.decision;

  if (live && fullyApproved && !expired && !failure) {
    // Objects recorded as created and now gone were deleted by someone else (or by maxtac's own expiry).
    const gone: string[] = [];
    for (const ref of recordedRefs) {
      const found =
        ref.kind === 'Service'
          ? ownServices.find((s) => s.metadata.namespace === ref.namespace && s.metadata.name === ref.name)
          : ownMaxtac.find((m) => m.kind === ref.kind && m.metadata.namespace === ref.namespace && m.metadata.name === ref.name);
      if (!found || (ref.uid && found.metadata.uid !== ref.uid) || found.metadata.deletionTimestamp) gone.push(`${ref.kind} ${key(ref.namespace, ref.name)}`);
    }
    if (gone.length > 0) {
      const nearExpiry = expiresMs !== undefined && nowMs >= expiresMs - config.expiryToleranceSeconds * 1000;
      if (!nearExpiry) {
        failure = { reason: Reason.ObjectDeleted, message: `${gone.join(', ')} was deleted outside netwatch; the access is no longer in force` };
      }
    }
  }
  const expiredByMaxtac =
    live && fullyApproved && !failure && !expired && expiresMs !== undefined && nowMs >= expiresMs - config.expiryToleranceSeconds * 1000 &&
    recordedRefs.some((ref) => ref.kind !== 'Service' && !ownMaxtac.some((m) => m.metadata.name === ref.name && !m.metadata.deletionTimestamp));

  if (live && fullyApproved && !expired && !expiredByMaxtac && !failure) {
    // Name conflicts: a deterministic name taken by an object that is not this request's.
    for (const h of halves) {
      const m = observed.maxtac.find((o) => o.kind === h.kind && o.metadata.namespace === h.namespace && o.metadata.name === h.maxtacName);
      const c = observed.services.find((o) => o.metadata.namespace === h.namespace && o.metadata.name === h.cloneName);
      for (const [obj, what] of [[m, h.kind], [c, 'Service']] as const) {
        if (obj && !isOurs(obj, uid)) {
          failure = { reason: Reason.NameConflict, message: `${what} ${key(h.namespace, obj.metadata.name ?? '')} exists and is not labelled as this request's (${LABEL_REQUEST_ID}=${uid}); refusing to adopt it` };
        }
      }
    }
  }

  if (live && fullyApproved && !expired && !expiredByMaxtac && !failure) {
    const wouldIsolate: string[] = [];
    for (const h of halves) {
      const existing = ownMaxtac.find((o) => o.kind === h.kind && o.metadata.namespace === h.namespace && o.metadata.name === h.maxtacName);
      if (existing) {
        decisions.push({ half: h, existing, direction: existing.spec?.direction, skippedDirections: directionsOf(h.direction).filter((d) => !directionsOf(existing.spec?.direction ?? h.direction).includes(d)) });
        continue;
      }
      // Isolation is decided once, before creation: afterwards our own policy would count.
      const original = observed.originals.get(key(h.original.namespace, h.original.name)) ?? undefined;
      const podLabels = original?.spec?.selector ?? {};
      const wanted = directionsOf(h.direction);
      const isolated = wanted.filter((d) => alreadyIsolated(observed.networkPolicies, h.namespace, podLabels, d, isOwnPolicy));
      const newly = wanted.filter((d) => !isolated.includes(d));
      if (newly.length > 0) {
        wouldIsolate.push(`${h.role === 'source' ? 'egress of' : 'pods of'} ${key(h.original.namespace, h.original.name)} (${newly.join(', ').toLowerCase()})`);
      }
      if (config.isolation === 'allow' || newly.length === 0) decisions.push({ half: h, direction: h.direction, skippedDirections: [] });
      else decisions.push({ half: h, direction: maxtacDirectionOf(isolated), skippedDirections: newly });
    }
    if (config.isolation === 'refuse' && wouldIsolate.length > 0) {
      failure = {
        reason: Reason.WouldIsolate,
        message: `no NetworkPolicy isolates ${wouldIsolate.join('; ')} yet: a grant would cut their other traffic in that direction, and the isolation policy is refuse`,
      };
      decisions.length = 0;
    }
  }

  // --- phase
  const phaseResult = derivePhase(
    {
      ...(status.phase ? { current: status.phase } : {}),
      ...(status.decision?.type ? { decision: status.decision.type } : {}),
      approvedParts: parts.filter((p) => approved.has(p.name)).length,
      totalParts: parts.length,
      expired: expired || expiredByMaxtac,
      pendingTimedOut,
      ...(failure ? { failure } : {}),
    },
    findCondition(status.conditions, ConditionType.Ended),
  );
  const phase: Phase = phaseResult.phase;
  const terminal = isTerminal(phase);

  // --- creates (only while Active)
  const createdNow = new Set<string>();
  /** maxtac objects on their way out to be recreated: neither they nor their clones are recorded or re-owned. */
  const replacing = new Set<string>();
  if (phase === 'Active' && !deleting) {
    const remaining = expiresMs === undefined ? null : Math.max(1, Math.ceil((expiresMs - nowMs) / 1000));
    const materialized = decisions.filter((d) => d.direction !== undefined);
    const neededClones = new Set<HalfRole>();
    for (const d of materialized) {
      neededClones.add(d.half.role);
      if (request.spec.type === 'Service') neededClones.add(d.half.role === 'source' ? 'target' : 'source');
    }
    for (const d of materialized) {
      const wanted = desiredMaxtac(request, d.half, d.direction ?? d.half.direction, remaining);
      if (d.existing) {
        if (!d.existing.metadata.deletionTimestamp && !maxtacMatches(d.existing, wanted, d.half.direction)) {
          // Never edit a materialized maxtac object (maxtac leaves the old policies behind): delete it and its
          // clone, forget their refs, and recreate both once they are gone.
          const clone = ownServices.find((o) => o.metadata.namespace === d.half.namespace && o.metadata.name === d.half.cloneName);
          if (clone) deletes.push(deleteOf(clone));
          deletes.push(deleteOf(d.existing));
          replacing.add(d.half.maxtacName);
        }
        if (d.existing.metadata.deletionTimestamp) replacing.add(d.half.maxtacName);
        continue;
      }
      creates.push({ object: wanted });
      createdNow.add(d.half.maxtacName);
    }
    const targetHalf = halves.find((h) => h.role === 'target');
    const clonesToCreate = halves.filter(
      (h) => neededClones.has(h.role) && !replacing.has(h.maxtacName) && !ownServices.some((s) => s.metadata.namespace === h.namespace && s.metadata.name === h.cloneName),
    );
    if (clonesToCreate.length > 0 && targetHalf) {
      const problems: { reason: string; message: string }[] = [];
      const targetOriginal = observed.originals.get(key(targetHalf.original.namespace, targetHalf.original.name)) ?? null;
      let ports: ServicePort[] = [];
      if (!targetOriginal) problems.push({ reason: Reason.ServiceNotFound, message: `Service ${key(targetHalf.original.namespace, targetHalf.original.name)} does not exist` });
      else {
        const resolved = resolvePorts(targetOriginal, request.spec.ports);
        if ('error' in resolved) problems.push({ reason: Reason.PortNotFound, message: resolved.error });
        else ports = resolved.ports;
      }
      for (const h of clonesToCreate) {
        const original = observed.originals.get(key(h.original.namespace, h.original.name)) ?? null;
        if (!original) {
          if (h !== targetHalf) problems.push({ reason: Reason.ServiceNotFound, message: `Service ${key(h.original.namespace, h.original.name)} does not exist` });
          continue;
        }
        if (!original.spec?.selector || Object.keys(original.spec.selector).length === 0) {
          problems.push({ reason: Reason.ServiceWithoutSelector, message: `Service ${key(h.original.namespace, h.original.name)} has no selector, so it selects no pods to grant` });
          continue;
        }
        if (problems.length > 0) continue;
        const mine = decisions.find((d) => d.half.role === h.role && d.direction !== undefined);
        const action: CreateAction = { object: desiredClone(request, h, original, ports) };
        if (mine) action.ownerMaxtac = { kind: h.kind, name: h.maxtacName, namespace: h.namespace };
        creates.push(action);
      }
      if (problems.length > 0) {
        // Nothing is created when the request cannot be materialized in full; the request fails instead.
        return planWith(observed, now, config, problems[0]);
      }
    }
  }

  // --- teardown (terminal, or deleting)
  if (terminal || deleting) {
    // Clones first: the clones finalizer of each maxtac object then finds nothing left to do.
    for (const s of ownServices) if (!s.metadata.deletionTimestamp) deletes.push(deleteOf(s));
    for (const m of ownMaxtac) if (!m.metadata.deletionTimestamp) deletes.push(deleteOf(m));
  }
  const nothingLeft = ownMaxtac.length === 0 && ownServices.length === 0;

  // --- status
  const next: AccessRequestStatus = { ...status };
  next.phase = phase;
  const mirrored = approvals.filter((a) => !(status.approvals ?? []).some((b) => b.part === a.part));
  if (mirrored.length > 0) next.approvals = [...(status.approvals ?? []), ...mirrored];
  if (approvedAt) next.approvedAt = approvedAt;
  if (expiresAt) next.expiresAt = expiresAt;
  else delete next.expiresAt;
  const ends = displayEnds(request);
  next.from = ends.from;
  next.to = ends.to;
  next.portsSummary = portsSummary(request.spec.ports);
  if (generation !== undefined) next.observedGeneration = generation;

  // Refs: what exists now plus what this plan creates (apply fills in the new uids). Kept after teardown (audit).
  if (phase === 'Active') {
    const refs: ObjectRef[] = [];
    for (const h of halves) {
      const m = ownMaxtac.find((o) => o.kind === h.kind && o.metadata.namespace === h.namespace && o.metadata.name === h.maxtacName);
      const mc = creates.find((c) => c.object.kind === h.kind && c.object.metadata.name === h.maxtacName);
      if (replacing.has(h.maxtacName)) continue;
      if (m || mc) refs.push(refOf((m ?? mc?.object)!, h.part));
      const c = ownServices.find((o) => o.metadata.namespace === h.namespace && o.metadata.name === h.cloneName);
      const cc = creates.find((x) => x.object.kind === 'Service' && x.object.metadata.name === h.cloneName);
      if (c || cc) refs.push(refOf((c ?? cc?.object)!, h.part));
    }
    next.objects = refs;
  }

  // Parts and readiness.
  const partStatuses: PartStatus[] = [];
  let allInForce = phase === 'Active';
  const notInForce: string[] = [];
  for (const p of parts) {
    const ps: PartStatus = { part: p.name, namespace: p.namespace, state: approved.has(p.name) ? 'Approved' : 'Pending' };
    if (phase === 'Failed') {
      ps.state = 'Failed';
      ps.message = phaseResult.message;
    } else if (phase === 'Active') {
      const ds = decisions.filter((d) => d.half.part === p.name);
      const messages: string[] = [];
      let skippedAll = ds.length > 0;
      let active = true;
      for (const d of ds) {
        if (d.skippedDirections.length > 0) {
          const what = `${d.skippedDirections.join(' and ').toLowerCase()} of ${key(d.half.original.namespace, d.half.original.name)}`;
          messages.push(
            `skipped ${what}: no NetworkPolicy isolates it yet, so that traffic is already allowed, and a policy would cut its other traffic`,
          );
        }
        if (d.direction === undefined) continue;
        skippedAll = false;
        const obj = d.existing;
        if (!obj || !inForce(observed.networkPolicies, obj)) {
          active = false;
          notInForce.push(`${d.half.kind} ${key(d.half.namespace, d.half.maxtacName)}`);
        }
      }
      if (skippedAll) ps.state = 'Skipped';
      else if (active) ps.state = 'Active';
      else allInForce = false;
      if (messages.length > 0) ps.message = messages.join('; ');
    } else if (terminal) {
      ps.state = approved.has(p.name) ? 'Approved' : 'Pending';
    }
    partStatuses.push(ps);
  }
  next.parts = partStatuses;

  let conditions = status.conditions ?? [];
  conditions = setCondition(
    conditions,
    fullyApproved
      ? { type: ConditionType.Approved, status: 'True', reason: Reason.AllPartsApproved, message: 'Every part is approved.' }
      : approved.size > 0
        ? { type: ConditionType.Approved, status: 'False', reason: Reason.PartiallyApproved, message: `${approved.size} of ${parts.length} parts approved.` }
        : { type: ConditionType.Approved, status: 'False', reason: Reason.AwaitingApproval, message: 'No part is approved yet.' },
    now,
    generation,
  );
  const skippedEverything = phase === 'Active' && partStatuses.every((p) => p.state === 'Skipped');
  conditions = setCondition(
    conditions,
    phase === 'Active'
      ? allInForce
        ? skippedEverything
          ? { type: ConditionType.Ready, status: 'True', reason: Reason.AlreadyAllowed, message: 'No NetworkPolicy isolates these pods in the requested directions: the traffic is already allowed.' }
          : { type: ConditionType.Ready, status: 'True', reason: Reason.InForce, message: 'maxtac wrote the NetworkPolicy of every part.' }
        : { type: ConditionType.Ready, status: 'False', reason: Reason.Materializing, message: `waiting for maxtac to write the NetworkPolicy of ${notInForce.join(', ')}` }
      : terminal
        ? { type: ConditionType.Ready, status: 'False', reason: phaseResult.reason, message: phaseResult.message }
        : { type: ConditionType.Ready, status: 'False', reason: Reason.NotApproved, message: 'The request is not fully approved.' },
    now,
    generation,
  );
  if (terminal) {
    conditions = setCondition(conditions, { type: ConditionType.Ended, status: 'True', reason: phaseResult.reason, message: phaseResult.message }, now, generation);
  }
  next.conditions = conditions;

  // --- events: one per transition
  const events: PlannedEvent[] = [];
  if (phase !== status.phase) {
    events.push({ type: phase === 'Failed' ? 'Warning' : 'Normal', reason: phase === 'Active' ? 'Activated' : phaseResult.reason, message: phase === 'Active' ? describeActive(request, expiresAt) : phaseResult.message });
  }
  const wasReady = findCondition(status.conditions, ConditionType.Ready)?.status === 'True';
  const isReady = findCondition(conditions, ConditionType.Ready)?.status === 'True';
  if (isReady && !wasReady) events.push({ type: 'Normal', reason: findCondition(conditions, ConditionType.Ready)?.reason ?? Reason.InForce, message: findCondition(conditions, ConditionType.Ready)?.message ?? '' });

  // --- finalizers, retention, requeue
  const finalizers = request.metadata.finalizers ?? [];
  const addFinalizer = !deleting && !finalizers.includes(REQUEST_FINALIZER) && !(terminal && nothingLeft);
  const legacy = finalizers.filter((f) => LEGACY_FINALIZERS.includes(f));
  const removeFinalizers = deleting && nothingLeft && deletes.length === 0 ? finalizers.filter((f) => f === REQUEST_FINALIZER || LEGACY_FINALIZERS.includes(f)) : legacy;

  const endedAt = findCondition(conditions, ConditionType.Ended)?.lastTransitionTime;
  const retentionDue = terminal && config.retentionSeconds !== null && endedAt !== undefined && nowMs >= Date.parse(endedAt) + config.retentionSeconds * 1000;
  const wakeups: number[] = [];
  if (phase === 'Active' && expiresMs !== undefined) wakeups.push(expiresMs - nowMs);
  if (!fullyApproved && !terminal && config.pendingTtlSeconds !== null) wakeups.push(createdMs + config.pendingTtlSeconds * 1000 - nowMs);
  if (terminal && config.retentionSeconds !== null && endedAt && !retentionDue) wakeups.push(Date.parse(endedAt) + config.retentionSeconds * 1000 - nowMs);
  const future = wakeups.filter((w) => w > 0);

  const out: Plan = {
    addFinalizer,
    creates,
    deletes,
    status: statusEqual(request.status, next) ? undefined : next,
    events,
    removeFinalizers,
    deleteRequest: retentionDue && !deleting,
    becameActive: phase === 'Active' && status.phase !== 'Active',
  };
  if (future.length > 0) out.requeueAfterMs = Math.min(...future);
  return out;
}

function deleteOf(obj: Service | MaxtacObject): DeleteAction {
  const d: DeleteAction = {
    apiVersion: obj.apiVersion ?? 'v1',
    kind: obj.kind ?? 'Service',
    namespace: obj.metadata.namespace ?? '',
    name: obj.metadata.name ?? '',
  };
  if (obj.metadata.uid) d.uid = obj.metadata.uid;
  return d;
}

function describeActive(request: AccessRequest, expiresAt: string | undefined): string {
  const ends = displayEnds(request);
  return `Access from ${ends.from} to ${ends.to} (${portsSummary(request.spec.ports)}) is active${expiresAt ? ` until ${expiresAt}` : ' without expiry'}.`;
}
