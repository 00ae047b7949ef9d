// The pure heart of the controller: from one AccessRequest and what was observed about it, the exact objects that
// must exist, those that must go, the status to record and the Events to emit. No client, no clock: `now` and
// the observation are arguments, so every rule here is a table test.
//
// One pass, in four steps: the facts are computed once from the observation; ordered named checks each return a
// problem or nothing, and the first problem fails the request; the phase follows from the facts and that verdict;
// then the creates and deletes, the status, the Events, and the finalizers and wake-up are derived from them.
//
// Closing: a request netwatch ends (expiry, a decision, a failure, a deletion) is torn down at once, but it is
// reported ended (a terminal phase, Ended True) only once no NetworkPolicy of its maxtac objects remains: maxtac's
// policy outlives a deleted owner until the garbage collector (or maxtac's own sweep) removes it, and until then the
// access may still be open. Meanwhile the phase stays as it was, Ready says how the request ends, and Ended is False
// with reason PoliciesRemain, naming each policy and since when; after --linger-warning, PoliciesLinger and a
// Warning Event.
import type {
  AccessRequest,
  AccessRequestStatus,
  Approval,
  Condition,
  ObjectRef,
  PartName,
  PartStatus,
  Phase,
  Port,
} from '../api/accessrequest.ts';
import { LABEL_REQUEST_ID, LEGACY_FINALIZERS, MAXTAC_OWNER_LABELS, REQUEST_FINALIZER } from '../api/markers.ts';
import type { MaxtacDirection, MaxtacKind, MaxtacObject, NetworkPolicy, Pod, Service, ServicePort } from '../kube/types.ts';
import { allHalvesOf, clonePorts, desiredClone, desiredMaxtac, halvesOf, isOwnedBy, key, type Half, type HalfRole, type Problem } from './desired.ts';
import { directionsOf, inForce, maxtacDirectionOf, policiesOwnedBy, type PolicyDirection, type PolicyOwner } from './isolation.ts';
import { isRunning, podFactsOf, podsOfService, serviceIsolation } from './netpol/evaluate.ts';
import { partsOf, type Part } from './parts.ts';
import { describeExtensionRequirement, describePolicies, effectiveApprovals, extendedMs, extensionsOf, questionKey, type ExtensionProgress } from './actions.ts';
import { approversStatus, type PartApprovers } from './approvers.ts';
import { durationSeconds } from './duration.ts';
import {
  ConditionType,
  Reason,
  closingOf,
  derivePhase,
  findCondition,
  isTerminal,
  setCondition,
  type Closing,
  type ConditionInput,
  type PhaseResult,
} from './phase.ts';

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
  /**
   * A request still closing this many seconds after netwatch started ending it (a NetworkPolicy of its maxtac
   * objects remains) gets a Warning Event and reason PoliciesLinger (null: never).
   */
  lingerWarningSeconds: number | null;
}

export const DEFAULT_PLAN_CONFIG: PlanConfig = {
  isolation: 'skip',
  pendingTtlSeconds: 7 * 24 * 3600,
  retentionSeconds: 30 * 24 * 3600,
  expiryToleranceSeconds: 30,
  lingerWarningSeconds: 120,
};

/** What the controller saw of one request, from its caches (and a live GET where the cache cannot be trusted). */
export interface Observed {
  request: AccessRequest;
  /** The user's Services named by the spec, keyed `namespace/name`; absent key or null = does not exist. */
  originals: Map<string, Service | null>;
  /**
   * The Services at this request's deterministic clone names (and at the refs its status records), whoever made
   * them: the planner adopts or deletes only those that are provably this request's (see isOwnedBy) and fails
   * the request over any other at its names.
   */
  services: Service[];
  /** The maxtac objects at this request's deterministic names (and refs), likewise. */
  maxtac: MaxtacObject[];
  /** NetworkPolicies in the namespaces of the halves (including those whose maxtac owner is gone). */
  networkPolicies: NetworkPolicy[];
  /**
   * Pods in the namespaces of the halves, when the controller sees them: isolation is then judged per pod. Without
   * them only what a Service's selector proves about every pod it may select counts (serviceIsolation).
   */
  pods?: Pod[];
  /**
   * Who may approve each part, by permission question key (actions.ts questionKey), read from RBAC: recorded in the
   * status of pending parts. Absent: nothing is recorded (and what was is kept).
   */
  approvers?: ReadonlyMap<string, PartApprovers>;
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
  /** When to look again (expiry, pending TTL, the linger warning, retention), in ms from now. */
  requeueAfterMs?: number;
  /** Set when the phase became Active in this plan: for the approval→active latency metric. */
  becameActive: boolean;
  /**
   * Set when this plan starts failing the request (whether it records Failed now or closes first): the controller
   * confirms what its caches showed before acting on it.
   */
  becameFailed: boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// The plan

export function plan(observed: Observed, now: Date, config: PlanConfig = DEFAULT_PLAN_CONFIG): Plan {
  const facts = factsOf(observed, now, config);
  const verdict = verdictOf(facts, firstProblem(facts));
  const closing = closingStateOf(facts, verdict);
  // While closing, the recorded phase stays; everything else follows where the request is heading.
  const phase = closing ? facts.status.phase : verdict.phase;
  const { creates, deletes } = changesOf(facts, verdict.phase);
  const status = statusOf(facts, verdict, phase, closing, creates);
  const conditions = status.conditions ?? [];
  const { deleteRequest, requeueAfterMs } = scheduleOf(facts, verdict.phase, phase, closing, conditions);
  const out: Plan = {
    ...finalizersOf(facts, phase, deletes, closing),
    creates,
    deletes,
    status: statusEqual(facts.request.status, status) ? undefined : status,
    events: eventsOf(facts, verdict, phase, closing, conditions),
    deleteRequest,
    becameActive: phase === 'Active' && facts.status.phase !== 'Active',
    becameFailed: verdict.phase === 'Failed' && facts.status.phase !== 'Failed' && facts.closingRecord?.phase !== 'Failed',
  };
  if (requeueAfterMs !== undefined) out.requeueAfterMs = requeueAfterMs;
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Facts: everything the checks and the derivations read, computed once.

/** Pods that a grant in one direction isolates (or would) on its own: no other NetworkPolicy isolates them there. */
interface NewIsolation {
  direction: PolicyDirection;
  /** Which pods, e.g. `1 of 2 pods of db/database (database-1, in ingress)`; named when the pods are known. */
  what: string;
  podsKnown: boolean;
}

/** How one half is materialized, decided while the request is to be Active (and again on every pass while it is). */
interface HalfDecision {
  half: Half;
  /** This half's maxtac object, when it exists already. */
  existing?: MaxtacObject;
  /** Direction to create with (the existing object's when it exists); undefined: the half is skipped. */
  direction?: MaxtacDirection;
  skippedDirections: PolicyDirection[];
  /**
   * What this half's grant isolates on its own: for a new object, what it would isolate (refuse fails over it,
   * allow grants it); for an existing one, what it isolates now (allow states it, refuse reports it as drift).
   */
  newlyIsolates: NewIsolation[];
  /** Directions an existing object held and --isolation skip now withdraws: its policy became the first isolating pods. */
  withdrawn: NewIsolation[];
  /** The Service's pods no policy isolates yet in the directions skipped, when the pods are known. */
  notIsolatedPods?: string;
  /** The existing object no longer grants what the half asks: it is deleted with its clone (never edited). */
  stale: boolean;
  /** The existing object is on its way out (stale, withdrawn or being deleted): neither it nor its clone is recorded or made. */
  replacing: boolean;
  /** This pass deletes the existing object and its clone (stale or withdrawn); the next one makes what is still granted. */
  remove: boolean;
}

interface Facts {
  observed: Observed;
  request: AccessRequest;
  status: AccessRequestStatus;
  config: PlanConfig;
  now: Date;
  nowMs: number;
  deleting: boolean;
  parts: Part[];
  /** The halves of the current generation (extensions granted): what is materialized now. */
  halves: Half[];
  /** The halves of every generation so far: where this request's objects can be. */
  allHalves: Half[];
  /** This request's objects of earlier generations: deleted once the current one is in force (make-before-break). */
  previous: { services: Service[]; maxtac: MaxtacObject[] };
  /** Approvals that count, including the requester's own parts at creation. */
  approvals: Approval[];
  approved: Set<PartName>;
  fullyApproved: boolean;
  /** This request's own clones and maxtac objects among those observed: the only ones it adopts or deletes. */
  own: { services: Service[]; maxtac: MaxtacObject[] };
  /** Why the spec's duration does not parse, if it does not. */
  durationError: string | undefined;
  approvedAt: string | undefined;
  expiresAt: string | undefined;
  expiresMs: number | undefined;
  expired: boolean;
  /** Within the expiry tolerance of expiresAt: a maxtac object that vanishes now went by maxtac's own expiry. */
  nearExpiry: boolean;
  expiredByMaxtac: boolean;
  createdMs: number;
  pendingTimedOut: boolean;
  /** Objects status.objects records as created that are gone, replaced by another incarnation, or being deleted. */
  goneRefs: ObjectRef[];
  /** Where the request is heading, when an earlier pass started ending it and a NetworkPolicy of it remained. */
  closingRecord: Closing | undefined;
  /** The NetworkPolicies of this request's maxtac objects, of any incarnation, whether the object exists or not. */
  grantPolicies: GrantPolicy[];
  /** Not ended, not decided, not closing, not being deleted. */
  live: boolean;
  /** Live, fully approved and not expired: the request is to be Active unless a check finds a problem. */
  materializing: boolean;
  /** One per half while materializing, none otherwise. */
  decisions: HalfDecision[];
  /** The halves whose clone this pass creates (while materializing). */
  clonesToCreate: Half[];
  /** The ports of those clones, or why there are none (undefined when no clone is created). */
  ports: { ports: ServicePort[] } | Problem | undefined;
}

function factsOf(observed: Observed, now: Date, config: PlanConfig): Facts {
  const request = observed.request;
  const status = request.status ?? {};
  const nowMs = now.getTime();
  const deleting = Boolean(request.metadata.deletionTimestamp);
  const parts = partsOf(request.spec);
  const halves = halvesOf(request);
  const allHalves = allHalvesOf(request);
  const approvals = effectiveApprovals(request);
  const approved = approvedPartNames(parts, approvals);
  const fullyApproved = parts.length > 0 && parts.every((p) => approved.has(p.name));
  const own = {
    services: observed.services.filter((s) => isOwnedBy(request, allHalves, s, 'clone')),
    maxtac: observed.maxtac.filter((m) => isOwnedBy(request, allHalves, m, 'maxtac')),
  };
  const current = (o: Service | MaxtacObject) => halves.some((h) => h.namespace === o.metadata.namespace && (h.cloneName === o.metadata.name || h.maxtacName === o.metadata.name));
  const previous = { services: own.services.filter((o) => !current(o)), maxtac: own.maxtac.filter((o) => !current(o)) };
  const { seconds: durationSeconds, error: durationError } = durationOf(request);
  const approvedAt = approvedAtOf(status, fullyApproved, parts, approvals, nowMs);
  const expiresAt = expiresAtOf(status, approvedAt, durationSeconds, extendedMs(request));
  const expiresMs = expiresAt ? Date.parse(expiresAt) : undefined;
  const expired = expiresMs !== undefined && nowMs >= expiresMs;
  const nearExpiry = expiresMs !== undefined && nowMs >= expiresMs - config.expiryToleranceSeconds * 1000;
  const createdMs = request.metadata.creationTimestamp ? Date.parse(request.metadata.creationTimestamp) : nowMs;
  const closingRecord = closingOf(status);
  const live = !isTerminal(status.phase) && !deleting && !status.decision && !closingRecord;
  const refs = status.objects ?? [];
  const expiredByMaxtac =
    live && fullyApproved && !expired && nearExpiry &&
    refs.some((ref) => ref.kind !== 'Service' && halves.some((h) => h.maxtacName === ref.name) && !own.maxtac.some((m) => m.metadata.name === ref.name && !m.metadata.deletionTimestamp));
  const materializing = live && fullyApproved && !expired && !expiredByMaxtac;
  const facts: Facts = {
    observed,
    request,
    status,
    config,
    now,
    nowMs,
    deleting,
    parts,
    halves,
    allHalves,
    previous,
    approvals,
    approved,
    fullyApproved,
    own,
    durationError,
    approvedAt,
    expiresAt,
    expiresMs,
    expired,
    nearExpiry,
    expiredByMaxtac,
    createdMs,
    pendingTimedOut: config.pendingTtlSeconds !== null && nowMs >= createdMs + config.pendingTtlSeconds * 1000,
    // A ref of an earlier generation (recorded before an extension was granted) is not the grant any more.
    goneRefs: refs.filter((ref) => halves.some((h) => h.namespace === ref.namespace && (h.cloneName === ref.name || h.maxtacName === ref.name)) && isGone(own, ref)),
    closingRecord,
    grantPolicies: grantPoliciesOf(observed.networkPolicies, allHalves, refs, own.maxtac),
    live,
    materializing,
    decisions: [],
    clonesToCreate: [],
    ports: undefined,
  };
  if (materializing) {
    facts.decisions = halves.map((h) => decideHalf(facts, h));
    facts.clonesToCreate = clonesToCreate(facts);
    if (facts.clonesToCreate.length > 0) facts.ports = clonePorts(request, halves, observed.originals);
  }
  return facts;
}

/** A NetworkPolicy maxtac wrote for one of this request's maxtac objects. */
interface GrantPolicy {
  policy: NetworkPolicy;
  owner: PolicyOwner;
  /** No incarnation of the owner it names exists any more: only the garbage collector removes it now. */
  ownerGone: boolean;
}

/** The owners are the maxtac objects at the halves' deterministic names, with every uid recorded or observed. */
function grantPoliciesOf(policies: NetworkPolicy[], halves: Half[], refs: ObjectRef[], own: MaxtacObject[]): GrantPolicy[] {
  const owners = new Map<string, { kind: MaxtacKind; namespace: string; name: string; uids: Set<string> }>();
  const add = (kind: string | undefined, namespace: string, name: string, uid: string | undefined) => {
    if (kind !== 'Access' && kind !== 'ExternalAccess') return;
    const k = `${kind}/${key(namespace, name)}`;
    let owner = owners.get(k);
    if (!owner) owners.set(k, (owner = { kind, namespace, name, uids: new Set() }));
    if (uid) owner.uids.add(uid);
  };
  for (const h of halves) add(h.kind, h.namespace, h.maxtacName, undefined);
  for (const ref of refs) add(ref.kind, ref.namespace, ref.name, ref.uid);
  for (const m of own) add(m.kind, m.metadata.namespace ?? '', m.metadata.name ?? '', m.metadata.uid);
  return policiesOwnedBy(policies, [...owners.values()]).map(({ policy, owner }) => {
    const ownerUids = new Set((policy.metadata.ownerReferences ?? []).map((r) => r.uid));
    return { policy, owner, ownerGone: !own.some((m) => ownerUids.has(m.metadata.uid ?? '')) };
  });
}

function durationOf(request: AccessRequest): { seconds: number | null; error: string | undefined } {
  try {
    return { seconds: durationSeconds(request.spec.duration), error: undefined };
  } catch (e) {
    return { seconds: null, error: (e as Error).message };
  }
}

/**
 * Full approval happened when the last part was approved (not at submission, not when we noticed), but never in
 * the future of our clock; once recorded it stays.
 */
function approvedAtOf(status: AccessRequestStatus, fullyApproved: boolean, parts: Part[], approvals: Approval[], nowMs: number): string | undefined {
  if (status.approvedAt || !fullyApproved) return status.approvedAt;
  const times = approvals.filter((a) => parts.some((p) => p.name === a.part)).map((a) => (a.at ? Date.parse(a.at) : NaN));
  const last = times.length > 0 && times.every((t) => Number.isFinite(t)) ? Math.max(...times) : nowMs;
  return new Date(Math.min(last, nowMs)).toISOString();
}

/**
 * Full approval plus the duration plus every extension granted: moves only when an extension is granted (the
 * extensions are append-only and granted ones stay granted).
 */
function expiresAtOf(status: AccessRequestStatus, approvedAt: string | undefined, durationSeconds: number | null, extendedMs: number): string | undefined {
  if (!approvedAt || durationSeconds === null) return status.expiresAt;
  const computed = new Date(Date.parse(approvedAt) + durationSeconds * 1000 + extendedMs).toISOString();
  // A request made before extensions existed keeps the expiresAt recorded for it until it is extended.
  if (status.expiresAt && extendedMs === 0) return status.expiresAt;
  return computed;
}

/** An approval counts for a part only when it names the part's namespace too. */
function approvedPartNames(parts: Part[], approvals: Approval[]): Set<PartName> {
  const approved = new Set<PartName>();
  for (const a of approvals) {
    if (parts.some((p) => p.name === a.part && p.namespace === a.namespace)) approved.add(a.part);
  }
  return approved;
}

function ownClone(f: Pick<Facts, 'own'>, h: Half): Service | undefined {
  return f.own.services.find((s) => s.metadata.namespace === h.namespace && s.metadata.name === h.cloneName);
}

function ownMaxtac(f: Pick<Facts, 'own'>, h: Half): MaxtacObject | undefined {
  return f.own.maxtac.find((m) => m.kind === h.kind && m.metadata.namespace === h.namespace && m.metadata.name === h.maxtacName);
}

/** A recorded object is gone when it is missing, another incarnation took its name, or it is being deleted. */
function isGone(own: Facts['own'], ref: ObjectRef): boolean {
  const found: Service | MaxtacObject | undefined =
    ref.kind === 'Service'
      ? own.services.find((s) => s.metadata.namespace === ref.namespace && s.metadata.name === ref.name)
      : own.maxtac.find((m) => m.kind === ref.kind && m.metadata.namespace === ref.namespace && m.metadata.name === ref.name);
  return !found || (ref.uid !== undefined && ref.uid !== '' && found.metadata.uid !== ref.uid) || Boolean(found.metadata.deletionTimestamp);
}

/**
 * A new maxtac object gets the requested direction narrowed to what other NetworkPolicies isolate already, unless the
 * isolation policy allows isolating pods anew. An existing one is judged again on every pass, its own policies left
 * out: pods and other policies change after approval (the owner deletes their default-deny, a new pod lacks the
 * label a policy selects), and its policy may have become the first to isolate pods (see decideExisting).
 */
function decideHalf(f: Facts, h: Half): HalfDecision {
  const existing = ownMaxtac(f, h);
  if (existing) return decideExisting(f, h, existing);
  const wanted = directionsOf(h.direction);
  const newly = newIsolationOf(f, h, wanted, false);
  const decision: HalfDecision = { half: h, direction: h.direction, skippedDirections: [], newlyIsolates: newly, withdrawn: [], stale: false, replacing: false, remove: false };
  if (newly.length === 0) return decision;
  const named = newly.filter((n) => n.podsKnown);
  if (named.length > 0) decision.notIsolatedPods = named.map((n) => n.what).join('; ');
  if (f.config.isolation === 'allow') return decision;
  // Skip grants none of it; refuse fails the request over it (isolationAllowed).
  if (f.config.isolation === 'skip') decision.newlyIsolates = [];
  const narrowed = maxtacDirectionOf(wanted.filter((d) => !newly.some((n) => n.direction === d)));
  if (narrowed) decision.direction = narrowed;
  else delete decision.direction;
  decision.skippedDirections = newly.map((n) => n.direction);
  return decision;
}

/**
 * An existing object keeps its direction, unless its policy now isolates pods that no other NetworkPolicy isolates
 * in a direction it grants (drift). Then --isolation skip withdraws that direction: maxtac objects are never edited,
 * so the object and its clone are deleted, and the next pass, finding no object, decides the half afresh (the
 * directions still isolated by others, or none) and makes it again; once another policy isolates the pods again,
 * the direction comes back the same way (a narrowed object is deleted and made again for every direction asked).
 * --isolation refuse keeps the grant and reports the drift: refuse decides before anything exists, and tearing
 * down an approved grant over a change that may be passing (a policy replaced by delete and create) would end it for
 * good. --isolation allow keeps it and states what it isolates.
 */
function decideExisting(f: Facts, h: Half, existing: MaxtacObject): HalfDecision {
  const direction = existing.spec?.direction;
  const granted = directionsOf(direction ?? h.direction);
  const beingDeleted = Boolean(existing.metadata.deletionTimestamp);
  const stale = direction !== undefined && !beingDeleted && !maxtacMatches(existing, desiredMaxtac(f.request, h, direction, null), h.direction);
  const requested = directionsOf(h.direction);
  const decision: HalfDecision = {
    half: h,
    existing,
    direction,
    skippedDirections: requested.filter((d) => !granted.includes(d)),
    newlyIsolates: [],
    withdrawn: [],
    stale,
    replacing: direction !== undefined && (stale || beingDeleted),
    remove: stale,
  };
  if (direction === undefined || decision.replacing) return decision;
  const newly = newIsolationOf(f, h, granted, true);
  if (newly.length === 0) {
    // Narrowed (an External `both` made for one direction): once other policies isolate the pods in the direction
    // left out, the object is made again for every direction asked, the same way.
    if (decision.skippedDirections.length === 0) return decision;
    const left = newIsolationOf(f, h, decision.skippedDirections, false);
    const named = left.filter((n) => n.podsKnown);
    if (named.length > 0) decision.notIsolatedPods = named.map((n) => n.what).join('; ');
    if (left.length === 0) {
      decision.replacing = true;
      decision.remove = true;
    }
    return decision;
  }
  if (f.config.isolation !== 'skip') {
    decision.newlyIsolates = newly;
    return decision;
  }
  const left = granted.filter((d) => !newly.some((n) => n.direction === d));
  const narrowed = maxtacDirectionOf(left);
  if (narrowed) decision.direction = narrowed;
  else delete decision.direction;
  decision.skippedDirections = requested.filter((d) => !left.includes(d));
  const named = newly.filter((n) => n.podsKnown);
  if (named.length > 0) decision.notIsolatedPods = named.map((n) => n.what).join('; ');
  decision.withdrawn = newly;
  decision.replacing = true;
  decision.remove = true;
  return decision;
}

/**
 * The directions (of `directions`) in which a grant on this half's pods is, or would be, the first NetworkPolicy to
 * isolate some of them: this request's own policies do not count. An existing grant selects the pods of its clone;
 * when the pods are known and it selects none, it isolates nothing now (a pod that comes brings the request back).
 */
function newIsolationOf(f: Facts, h: Half, directions: PolicyDirection[], existing: boolean): NewIsolation[] {
  const ownNames = new Set(f.allHalves.map((x) => x.maxtacName));
  const isOwnPolicy = (np: NetworkPolicy) => Object.values(MAXTAC_OWNER_LABELS).some((label) => ownNames.has(np.metadata.labels?.[label] ?? ''));
  const original = f.observed.originals.get(key(h.original.namespace, h.original.name)) ?? undefined;
  const selector = (existing ? ownClone(f, h)?.spec?.selector : undefined) ?? original?.spec?.selector;
  const pods = f.observed.pods?.filter(isRunning).map(podFactsOf);
  if (existing && pods && podsOfService(selector, h.namespace, pods).length === 0) return [];
  const svc = key(h.original.namespace, h.original.name);
  const out: NewIsolation[] = [];
  for (const direction of directions) {
    const answer = serviceIsolation({ policies: f.observed.networkPolicies, namespace: h.namespace, selector, direction, pods, ignore: isOwnPolicy });
    if (answer.everyIsolated) continue;
    const p = answer.pods;
    const dir = direction.toLowerCase();
    out.push(
      p
        ? { direction, podsKnown: true, what: `${p.notIsolated.length} of ${p.isolated.length + p.notIsolated.length} pods of ${svc} (${p.notIsolated.slice(0, 5).join(', ')}${p.notIsolated.length > 5 ? ', …' : ''}, in ${dir})` }
        : { direction, podsKnown: false, what: `the pods of ${svc} (in ${dir})` },
    );
  }
  return out;
}

/**
 * Every half with a maxtac object needs its own clone (the object selects it) and, for a Service request, the
 * other half's clone (its peer). A half being replaced gets its clone back with its new maxtac object.
 */
function clonesToCreate(f: Facts): Half[] {
  const needed = new Set<HalfRole>();
  for (const d of f.decisions) {
    if (d.direction === undefined) continue;
    needed.add(d.half.role);
    if (f.request.spec.type === 'Service') needed.add(d.half.role === 'source' ? 'target' : 'source');
  }
  return f.halves.filter((h) => needed.has(h.role) && !isReplacing(f, h) && !ownClone(f, h));
}

function isReplacing(f: Facts, h: Half): boolean {
  return f.decisions.some((d) => d.half === h && d.replacing);
}

// ---------------------------------------------------------------------------------------------------------------
// Checks, in order: the first problem found fails the request, unless it has ended or been decided already (see
// derivePhase).

type Check = (f: Facts) => Problem | undefined;

function specNamesAService(f: Facts): Problem | undefined {
  if (!f.fullyApproved || f.halves.length > 0) return undefined;
  return { reason: Reason.InvalidSpec, message: 'the spec names no Service to grant' };
}

function durationParses(f: Facts): Problem | undefined {
  return f.durationError === undefined ? undefined : { reason: Reason.InvalidSpec, message: f.durationError };
}

/** Objects recorded as created and now gone were deleted by someone else (near expiry: by maxtac's own expiry). */
function materializedObjectsRemain(f: Facts): Problem | undefined {
  if (!f.live || !f.fullyApproved || f.expired || f.nearExpiry || f.goneRefs.length === 0) return undefined;
  const gone = f.goneRefs.map((ref) => `${ref.kind} ${key(ref.namespace, ref.name)}`);
  return { reason: Reason.ObjectDeleted, message: `${gone.join(', ')} was deleted outside netwatch; the access is no longer in force` };
}

/** A deterministic name taken by an object that is not provably this request's: never adopted, never deleted. */
function deterministicNamesFree(f: Facts): Problem | undefined {
  if (!f.materializing) return undefined;
  const uid = f.request.metadata.uid ?? '';
  for (const h of f.halves) {
    const maxtac = f.observed.maxtac.find((o) => o.kind === h.kind && o.metadata.namespace === h.namespace && o.metadata.name === h.maxtacName);
    const clone = f.observed.services.find((o) => o.metadata.namespace === h.namespace && o.metadata.name === h.cloneName);
    for (const [obj, what, piece] of [[maxtac, h.kind, 'maxtac'], [clone, 'Service', 'clone']] as const) {
      if (obj && !isOwnedBy(f.request, f.halves, obj, piece)) {
        return {
          reason: Reason.NameConflict,
          message: `${what} ${key(h.namespace, obj.metadata.name ?? '')} exists and is not labelled as this request's (${LABEL_REQUEST_ID}=${uid}); refusing to adopt it`,
        };
      }
    }
  }
  return undefined;
}

function isolationAllowed(f: Facts): Problem | undefined {
  if (f.config.isolation !== 'refuse') return undefined;
  // Only what a new object would isolate: drift of an existing one is reported, not failed (decideExisting). A new
  // generation renews a grant that is in force (an extension): refuse decided at approval, as for drift.
  if (f.previous.maxtac.length > 0) return undefined;
  const would = f.decisions.flatMap((d) => (d.existing ? [] : d.newlyIsolates.map((n) => n.what)));
  if (would.length === 0) return undefined;
  return {
    reason: Reason.WouldIsolate,
    message: `no NetworkPolicy isolates ${would.join('; ')} yet: a grant would cut their other traffic in that direction, and the isolation policy is refuse`,
  };
}

/** Nothing is created when the request cannot be materialized in full: each clone copies an existing Service. */
function originalsUsable(f: Facts): Problem | undefined {
  if (f.ports && 'reason' in f.ports) return f.ports;
  for (const h of f.clonesToCreate) {
    const where = key(h.original.namespace, h.original.name);
    const original = f.observed.originals.get(where) ?? null;
    // A missing target Service is the ports' problem, reported above.
    if (!original && h.role !== 'target') return { reason: Reason.ServiceNotFound, message: `Service ${where} does not exist` };
    if (original && Object.keys(original.spec?.selector ?? {}).length === 0) {
      return { reason: Reason.ServiceWithoutSelector, message: `Service ${where} has no selector, so it selects no pods to grant` };
    }
  }
  return undefined;
}

const CHECKS: readonly Check[] = [specNamesAService, durationParses, materializedObjectsRemain, deterministicNamesFree, isolationAllowed, originalsUsable];

function firstProblem(f: Facts): Problem | undefined {
  for (const check of CHECKS) {
    const problem = check(f);
    if (problem) return problem;
  }
  return undefined;
}

function verdictOf(f: Facts, problem: Problem | undefined): PhaseResult {
  return derivePhase(
    {
      ...(f.status.phase ? { current: f.status.phase } : {}),
      ...(f.status.decision?.type ? { decision: f.status.decision.type } : {}),
      approvedParts: f.parts.filter((p) => f.approved.has(p.name)).length,
      totalParts: f.parts.length,
      expired: f.expired || f.expiredByMaxtac,
      pendingTimedOut: f.pendingTimedOut,
      ...(problem ? { failure: problem } : {}),
      ...(f.closingRecord ? { closing: { phase: f.closingRecord.phase, reason: f.closingRecord.reason, message: f.closingRecord.message } } : {}),
    },
    findCondition(f.status.conditions, ConditionType.Ended),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Closing

interface ClosingState {
  /** The policies that keep the request from being reported ended. */
  remaining: GrantPolicy[];
  /** When netwatch started ending the request. */
  since: string;
  /** Past --linger-warning: reason PoliciesLinger. */
  lingering: boolean;
  /** This pass crosses --linger-warning: the Warning Event goes out now (once; the reason records it). */
  warnNow: boolean;
}

/**
 * A request netwatch is ending (a terminal verdict, or a deletion) is closing while a NetworkPolicy of its maxtac
 * objects remains. Never for a request already terminal: that phase is final.
 */
function closingStateOf(f: Facts, verdict: PhaseResult): ClosingState | undefined {
  const ending = isTerminal(verdict.phase) || f.deleting;
  if (!ending || isTerminal(f.status.phase) || f.grantPolicies.length === 0) return undefined;
  const ended = findCondition(f.status.conditions, ConditionType.Ended);
  const recorded = ended?.status === 'False' && (ended.reason === Reason.PoliciesRemain || ended.reason === Reason.PoliciesLinger) ? ended : undefined;
  const since = recorded?.lastTransitionTime ?? f.now.toISOString();
  const warned = recorded?.reason === Reason.PoliciesLinger;
  const linger = f.config.lingerWarningSeconds;
  const due = linger !== null && f.nowMs >= Date.parse(since) + linger * 1000;
  return { remaining: f.grantPolicies, since, lingering: warned || due, warnNow: due && !warned };
}

function endedWhileClosing(f: Facts, verdict: PhaseResult, closing: ClosingState): ConditionInput {
  const deleted = !isTerminal(verdict.phase);
  const what = deleted ? 'The request is being deleted.' : verdict.message;
  const until = deleted ? 'its deletion completes' : `the request becomes ${verdict.phase}`;
  const named = closing.remaining.map((p) => `NetworkPolicy ${key(p.owner.namespace, p.policy.metadata.name ?? '')}`);
  const them = named.length === 1 ? named[0] : named.join(', ');
  if (!closing.lingering) {
    return {
      type: ConditionType.Ended,
      status: 'False',
      reason: Reason.PoliciesRemain,
      message: `${what} Waiting for maxtac's ${them} to be removed, since ${closing.since}; ${until} once no NetworkPolicy of its maxtac objects remains.`,
    };
  }
  const owned = closing.remaining.map((p) => `NetworkPolicy ${key(p.owner.namespace, p.policy.metadata.name ?? '')} (owner ${p.owner.kind} ${key(p.owner.namespace, p.owner.name)}, ${p.ownerGone ? 'gone' : 'still being deleted'})`);
  const hints: string[] = [];
  const gone = closing.remaining.filter((p) => p.ownerGone);
  if (gone.length > 0) {
    // One exact command, or the form of it: maxtac's policy names are long, and an Event message keeps 1024 characters.
    const [only] = gone;
    const command = gone.length === 1 && only ? `kubectl delete networkpolicy -n ${only.owner.namespace} ${only.policy.metadata.name ?? ''}` : 'kubectl delete networkpolicy -n NAMESPACE NAME, for each';
    hints.push(`Only Kubernetes' garbage collector removes a NetworkPolicy whose owner is gone: check that kube-controller-manager runs it, or have an administrator delete the policy (${command}).`);
  }
  if (gone.length < closing.remaining.length) hints.push('maxtac removes the policies of an owner it sees deleted: check that maxtac runs, and what keeps the owner from going (its finalizers).');
  return {
    type: ConditionType.Ended,
    status: 'False',
    reason: Reason.PoliciesLinger,
    message: `${what} ${owned.join(', ')} still ${owned.length === 1 ? 'exists' : 'exist'} since ${closing.since}, so the access may still be open; ${until} once no NetworkPolicy of its maxtac objects remains. ${hints.join(' ')}`,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Creates and deletes

interface Changes {
  creates: CreateAction[];
  deletes: DeleteAction[];
}

function changesOf(f: Facts, phase: Phase): Changes {
  if (phase === 'Active' && !f.deleting) return materialization(f);
  if (isTerminal(phase) || f.deleting) return { creates: [], deletes: teardown(f) };
  return { creates: [], deletes: [] };
}

/** The maxtac objects first, then the clones that name them as owners; stale objects go with their clones. */
function materialization(f: Facts): Changes {
  const creates: CreateAction[] = [];
  const deletes: DeleteAction[] = [];
  const remaining = f.expiresMs === undefined ? null : Math.max(1, Math.ceil((f.expiresMs - f.nowMs) / 1000));
  for (const d of f.decisions) {
    if (d.existing && d.remove) {
      // Never edit a materialized maxtac object (maxtac leaves the old policies behind): delete it and its clone,
      // forget their refs, and make what is still granted once they are gone.
      const clone = ownClone(f, d.half);
      if (clone) deletes.push(deleteOf(clone));
      deletes.push(deleteOf(d.existing));
      continue;
    }
    if (d.direction !== undefined && !d.existing) creates.push({ object: desiredMaxtac(f.request, d.half, d.direction, remaining) });
  }
  deletes.push(...previousGeneration(f));
  const ports = f.ports && 'ports' in f.ports ? f.ports.ports : [];
  for (const h of f.clonesToCreate) {
    const original = f.observed.originals.get(key(h.original.namespace, h.original.name));
    if (!original) continue;
    const action: CreateAction = { object: desiredClone(f.request, h, original, ports) };
    if (f.decisions.some((d) => d.half.role === h.role && d.direction !== undefined)) action.ownerMaxtac = { kind: h.kind, name: h.maxtacName, namespace: h.namespace };
    creates.push(action);
  }
  return { creates, deletes };
}

/**
 * Make-before-break after an extension: the objects of earlier generations go only once every half of the current
 * one that grants something has its maxtac object, not being replaced, with its NetworkPolicy written; until then
 * both generations grant the same traffic. A crash in between is completed by the next pass, which finds the same.
 */
function previousGeneration(f: Facts): DeleteAction[] {
  const left = [...f.previous.services, ...f.previous.maxtac].filter((o) => !o.metadata.deletionTimestamp);
  if (left.length === 0) return [];
  const ready = f.decisions.every((d) => d.direction === undefined || (d.existing !== undefined && !d.replacing && inForce(f.observed.networkPolicies, d.existing)));
  return ready ? left.map(deleteOf) : [];
}

/** Clones first: the clones finalizer of each maxtac object then finds nothing left to do. */
function teardown(f: Facts): DeleteAction[] {
  const live = [...f.own.services, ...f.own.maxtac].filter((o) => !o.metadata.deletionTimestamp);
  return live.map(deleteOf);
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

// ---------------------------------------------------------------------------------------------------------------
// Status and conditions

/** `verdict` is where the request is heading; `phase` what to record (the same, except while closing). */
function statusOf(f: Facts, verdict: PhaseResult, phase: Phase | undefined, closing: ClosingState | undefined, creates: CreateAction[]): AccessRequestStatus {
  const next: AccessRequestStatus = { ...f.status };
  if (phase) next.phase = phase;
  const mirrored = f.approvals.filter((a) => !(f.status.approvals ?? []).some((b) => b.part === a.part));
  if (mirrored.length > 0) next.approvals = [...(f.status.approvals ?? []), ...mirrored];
  if (f.approvedAt) next.approvedAt = f.approvedAt;
  if (f.expiresAt) next.expiresAt = f.expiresAt;
  else delete next.expiresAt;
  const ends = displayEnds(f.request);
  next.from = ends.from;
  next.to = ends.to;
  next.portsSummary = portsSummary(f.request.spec.ports);
  const generation = f.request.metadata.generation;
  if (generation !== undefined) next.observedGeneration = generation;
  // Refs are kept after teardown (audit).
  if (verdict.phase === 'Active') next.objects = refsOf(f, creates);
  const readiness = readinessOf(f, verdict);
  next.parts = withApprovers(f, readiness.parts);
  let conditions = setCondition(f.status.conditions, approvedCondition(f), f.now, generation);
  conditions = setCondition(conditions, readyCondition(verdict, readiness), f.now, generation);
  if (verdict.phase === 'Active' && !closing) conditions = setCondition(conditions, isolatingCondition(f), f.now, generation);
  const extension = extensionCondition(f);
  if (extension) conditions = setCondition(conditions, extension, f.now, generation);
  if (closing) conditions = setCondition(conditions, endedWhileClosing(f, verdict, closing), f.now, generation);
  else if (isTerminal(phase)) {
    conditions = setCondition(conditions, { type: ConditionType.Ended, status: 'True', reason: verdict.reason, message: verdict.message }, f.now, generation);
  }
  next.conditions = conditions;
  return next;
}

/** What exists now plus what this plan creates (apply fills in the new uids); not what is being replaced. */
function refsOf(f: Facts, creates: CreateAction[]): ObjectRef[] {
  const created = (kind: string, name: string) => creates.find((c) => c.object.kind === kind && c.object.metadata.name === name)?.object;
  const refs: ObjectRef[] = [];
  for (const h of f.halves) {
    if (isReplacing(f, h)) continue;
    const maxtac = ownMaxtac(f, h) ?? created(h.kind, h.maxtacName);
    if (maxtac) refs.push(refOf(maxtac, h.part));
    const clone = ownClone(f, h) ?? created('Service', h.cloneName);
    if (clone) refs.push(refOf(clone, h.part));
  }
  return refs;
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

interface Readiness {
  parts: PartStatus[];
  /** The maxtac objects (of parts not skipped) whose NetworkPolicy maxtac has not written yet, nothing holding their grant. */
  notInForce: string[];
  /** The directions skipped, as `ingress of namespace/service`. */
  skipped: string[];
  /**
   * While an extension is put in force: the current generation's maxtac objects whose NetworkPolicy maxtac has not
   * written yet, each half's grant held meanwhile by an earlier generation's object that is in force.
   */
  switching: { generation: number; waiting: string[] } | undefined;
}

function readinessOf(f: Facts, verdict: PhaseResult): Readiness {
  const notInForce: string[] = [];
  const switching: string[] = [];
  const skipped: string[] = [];
  const parts = f.parts.map((p) => {
    const ps: PartStatus = { part: p.name, namespace: p.namespace, state: f.approved.has(p.name) ? 'Approved' : 'Pending' };
    if (verdict.phase === 'Failed') return { ...ps, state: 'Failed' as const, message: verdict.message };
    if (verdict.phase !== 'Active') return ps;
    const decisions = f.decisions.filter((d) => d.half.part === p.name);
    const messages = decisions.filter((d) => d.skippedDirections.length > 0).map((d) => skippedMessage(d));
    skipped.push(...decisions.filter((d) => d.skippedDirections.length > 0).map((d) => directionsOfService(d.skippedDirections, d.half)));
    messages.push(...decisions.filter(holds).flatMap((d) => d.newlyIsolates.map((n) => isolatesMessage(f, d, n))));
    if (messages.length > 0) ps.message = messages.join('; ');
    const granting = decisions.filter((d) => d.direction !== undefined);
    // An object being replaced is made again by a later pass: until then, its part waits.
    const pending = granting.filter((d) => !d.existing || d.replacing || !inForce(f.observed.networkPolicies, d.existing));
    // Make-before-break: a half whose earlier generation is still in force keeps its grant while the new one comes.
    const held = pending.filter((d) => heldByPreviousGeneration(f, d.half));
    const waiting = pending.filter((d) => !held.includes(d));
    notInForce.push(...waiting.map(describeMaxtac));
    switching.push(...held.map(describeMaxtac));
    if (decisions.length > 0 && granting.length === 0) ps.state = 'Skipped';
    else if (waiting.length === 0) ps.state = 'Active';
    return ps;
  });
  const generation = f.halves[0]?.generation ?? 0;
  return { parts, notInForce, skipped, switching: switching.length > 0 ? { generation, waiting: switching } : undefined };
}

function describeMaxtac(d: HalfDecision): string {
  return `${d.half.kind} ${key(d.half.namespace, d.half.maxtacName)}`;
}

/**
 * An earlier generation's maxtac object for the same end of the traffic exists, is not being deleted and has its
 * NetworkPolicy: the grant of this half is in force while its current generation waits for maxtac. One that went
 * before the new generation was in force (deleted by someone else, or by maxtac at its own expiry) holds nothing.
 */
function heldByPreviousGeneration(f: Facts, h: Half): boolean {
  const earlier = f.allHalves.filter((x) => x.role === h.role && x.generation < h.generation);
  return earlier.some((x) => {
    const m = ownMaxtac(f, x);
    return m !== undefined && !m.metadata.deletionTimestamp && inForce(f.observed.networkPolicies, m);
  });
}

function directionsOfService(directions: PolicyDirection[], h: Half): string {
  return `${directions.join(' and ').toLowerCase()} of ${key(h.original.namespace, h.original.name)}`;
}

/** The half holds a grant (existing or made by this pass) that isolates pods on its own. */
function holds(d: HalfDecision): boolean {
  return d.direction !== undefined && !d.replacing && d.newlyIsolates.length > 0;
}

/**
 * The policy maxtac wrote for the half's object: by name once it exists, except under --isolation allow, whose
 * statement is made before maxtac writes it and must not change (and be announced again) once it has.
 */
function grantPolicyOf(f: Facts, d: HalfDecision): string {
  const uid = f.config.isolation === 'allow' ? undefined : d.existing?.metadata.uid;
  const names = uid
    ? f.observed.networkPolicies
        .filter((np) => np.metadata.namespace === d.half.namespace && (np.metadata.ownerReferences ?? []).some((r) => r.uid === uid))
        .map((np) => `NetworkPolicy ${key(d.half.namespace, np.metadata.name ?? '')}`)
    : [];
  return names.length > 0 ? names.join(', ') : `the NetworkPolicy maxtac writes for ${d.half.kind} ${key(d.half.namespace, d.half.maxtacName)}`;
}

function isolatesMessage(f: Facts, d: HalfDecision, n: NewIsolation): string {
  return `isolates ${n.what}: ${grantPolicyOf(f, d)} is the only NetworkPolicy isolating them in that direction, so it cuts their other traffic there`;
}

/** Pending parts of a live request name who may approve them (from observed RBAC, else as recorded before). */
function withApprovers(f: Facts, parts: PartStatus[]): PartStatus[] {
  if (!f.live) return parts;
  return parts.map((ps) => {
    if (ps.state !== 'Pending') return ps;
    const part = f.parts.find((p) => p.name === ps.part);
    const observed = part && f.observed.approvers?.get(questionKey(part));
    const approvers = observed ? approversStatus(observed) : f.status.parts?.find((p) => p.part === ps.part && p.namespace === ps.namespace)?.approvers;
    return approvers ? { ...ps, approvers } : ps;
  });
}

function skippedMessage(d: HalfDecision): string {
  const what = directionsOfService(d.skippedDirections, d.half);
  if (d.notIsolatedPods) return `skipped ${what}: no NetworkPolicy isolates ${d.notIsolatedPods} yet, and a policy would cut their other traffic`;
  return `skipped ${what}: no NetworkPolicy isolates it yet, so that traffic is already allowed, and a policy would cut its other traffic`;
}

function approvedCondition(f: Facts): ConditionInput {
  if (f.fullyApproved) return { type: ConditionType.Approved, status: 'True', reason: Reason.AllPartsApproved, message: 'Every part is approved.' };
  if (f.approved.size > 0) {
    return { type: ConditionType.Approved, status: 'False', reason: Reason.PartiallyApproved, message: `${f.approved.size} of ${f.parts.length} parts approved.` };
  }
  return { type: ConditionType.Approved, status: 'False', reason: Reason.AwaitingApproval, message: 'No part is approved yet.' };
}

/**
 * Ready, by ordered named rules: the first that applies says it. During an extension's switch the earlier
 * generation keeps the access in force, so Ready stays True (no second InForce Event) and its message names the
 * objects of the generation being switched to; the Extension condition says what was granted.
 */
type ReadyRule = (verdict: PhaseResult, readiness: Readiness) => ConditionInput | undefined;

function readyOnceEnding(verdict: PhaseResult): ConditionInput | undefined {
  if (!isTerminal(verdict.phase)) return undefined;
  return { type: ConditionType.Ready, status: 'False', reason: verdict.reason, message: verdict.message };
}

function readyBeforeApproval(verdict: PhaseResult): ConditionInput | undefined {
  if (verdict.phase === 'Active') return undefined;
  return { type: ConditionType.Ready, status: 'False', reason: Reason.NotApproved, message: 'The request is not fully approved.' };
}

function readyWhileMaterializing(_verdict: PhaseResult, readiness: Readiness): ConditionInput | undefined {
  if (readiness.notInForce.length === 0) return undefined;
  return { type: ConditionType.Ready, status: 'False', reason: Reason.Materializing, message: `waiting for maxtac to write the NetworkPolicy of ${readiness.notInForce.join(', ')}` };
}

function readyWhenAlreadyAllowed(_verdict: PhaseResult, readiness: Readiness): ConditionInput | undefined {
  if (!readiness.parts.every((p) => p.state === 'Skipped')) return undefined;
  return { type: ConditionType.Ready, status: 'True', reason: Reason.AlreadyAllowed, message: 'No NetworkPolicy isolates these pods in the requested directions: the traffic is already allowed.' };
}

function readyWhileSwitching(_verdict: PhaseResult, readiness: Readiness): ConditionInput | undefined {
  const s = readiness.switching;
  if (!s) return undefined;
  const them = s.waiting.join(', ');
  return {
    type: ConditionType.Ready,
    status: 'True',
    reason: Reason.InForce,
    message: `${inForceMessage(readiness)} Switching to generation ${s.generation} (extension ${s.generation}): until maxtac writes the NetworkPolicy of ${them}, those of the earlier generation keep the access in force.`,
  };
}

function readyInForce(_verdict: PhaseResult, readiness: Readiness): ConditionInput {
  return { type: ConditionType.Ready, status: 'True', reason: Reason.InForce, message: inForceMessage(readiness) };
}

function inForceMessage(readiness: Readiness): string {
  if (readiness.skipped.length === 0) return 'maxtac wrote the NetworkPolicy of every part.';
  return `maxtac wrote the NetworkPolicy of every part, except the directions skipped because a grant there would be the first NetworkPolicy to isolate some of the pods (each part's message names them): ${readiness.skipped.join(', ')}.`;
}

const READY_RULES: readonly ReadyRule[] = [readyOnceEnding, readyBeforeApproval, readyWhileMaterializing, readyWhenAlreadyAllowed, readyWhileSwitching];

function readyCondition(verdict: PhaseResult, readiness: Readiness): ConditionInput {
  for (const rule of READY_RULES) {
    const ready = rule(verdict, readiness);
    if (ready) return ready;
  }
  return readyInForce(verdict, readiness);
}

/**
 * What the grant isolates on its own, judged again on every pass while it is Active: what --isolation skip withdrew
 * in this pass (and, while that direction stays skipped, that it did), what allow grants knowingly, what refuse
 * keeps after a drift, or nothing.
 */
function isolatingCondition(f: Facts): ConditionInput {
  const type = ConditionType.Isolating;
  const withdrawn = f.decisions.filter((d) => d.withdrawn.length > 0);
  if (withdrawn.length > 0) {
    const what = withdrawn.flatMap((d) => d.withdrawn.map((n) => `${n.direction.toLowerCase()} of ${key(d.half.original.namespace, d.half.original.name)}, since ${grantPolicyOf(f, d)} had become the only NetworkPolicy isolating ${n.what}`));
    const how = withdrawn.map((d) => `${d.half.kind} ${key(d.half.namespace, d.half.maxtacName)} is deleted${d.direction ? ` and made again for ${d.direction} only` : ''}`);
    return {
      type,
      status: 'False',
      reason: Reason.DirectionWithdrawn,
      message: `At ${f.now.toISOString()} netwatch withdrew ${what.join('; ')}. Other NetworkPolicies or pods changed after approval, and under --isolation skip a grant never cuts other traffic: ${how.join(', ')}. The direction is granted again once another NetworkPolicy isolates those pods.`,
    };
  }
  const holding = f.decisions.filter(holds);
  if (holding.length > 0) {
    const what = holding.flatMap((d) => d.newlyIsolates.map((n) => `${n.what}, isolated only by ${grantPolicyOf(f, d)}`)).join('; ');
    if (f.config.isolation === 'allow') {
      return { type, status: 'True', reason: Reason.IsolatesPods, message: `Under --isolation allow the grant alone isolates ${what}: their other traffic in that direction is cut while the grant lasts.` };
    }
    return {
      type,
      status: 'True',
      reason: Reason.IsolationDrift,
      message: `Other NetworkPolicies or pods changed after approval, and the grant alone now isolates ${what}: their other traffic in that direction is cut. Under --isolation refuse an Active grant is kept: revoke it, or restore a NetworkPolicy that isolates those pods.`,
    };
  }
  const previous = findCondition(f.status.conditions, type);
  // The withdrawal stays stated while the direction is still left out (or its object still on its way out).
  if (previous?.reason === Reason.DirectionWithdrawn && f.decisions.some((d) => d.skippedDirections.length > 0 || d.replacing)) {
    return { type, status: previous.status, reason: previous.reason, message: previous.message };
  }
  return { type, status: 'False', reason: Reason.NoNewIsolation, message: 'The grant isolates no pod on its own: other NetworkPolicies isolated every pod it selects already, in each direction it holds.' };
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

// ---------------------------------------------------------------------------------------------------------------
// Events, finalizers and wake-ups

/**
 * One Event per phase transition (a closing request's transition comes once it has closed), one when the access
 * comes into force, and a Warning once a closing request outlives --linger-warning.
 */
function eventsOf(f: Facts, verdict: PhaseResult, phase: Phase | undefined, closing: ClosingState | undefined, conditions: Condition[]): PlannedEvent[] {
  const events: PlannedEvent[] = [];
  if (phase !== f.status.phase) events.push(transitionEvent(f, verdict));
  const wasReady = findCondition(f.status.conditions, ConditionType.Ready)?.status === 'True';
  const ready = findCondition(conditions, ConditionType.Ready);
  if (ready?.status === 'True' && !wasReady) events.push({ type: 'Normal', reason: ready.reason, message: ready.message });
  const ended = findCondition(conditions, ConditionType.Ended);
  if (closing?.warnNow && ended) events.push({ type: 'Warning', reason: ended.reason, message: ended.message });
  const isolating = isolatingEvent(findCondition(f.status.conditions, ConditionType.Isolating), findCondition(conditions, ConditionType.Isolating));
  if (isolating) events.push(isolating);
  const extension = extensionEvent(f, findCondition(f.status.conditions, ConditionType.Extension), findCondition(conditions, ConditionType.Extension));
  if (extension) events.push(extension);
  return events;
}

/**
 * A Warning when what the grant isolates on its own changes into something (allow's statement, refuse's drift,
 * skip's withdrawal), a Normal Event when it is back to nothing after one of those; none for a grant that never
 * isolated anything.
 */
function isolatingEvent(before: Condition | undefined, after: Condition | undefined): PlannedEvent | undefined {
  if (!after || (before?.reason === after.reason && before.message === after.message)) return undefined;
  if (after.reason !== Reason.NoNewIsolation) return { type: 'Warning', reason: after.reason, message: after.message };
  if (before && before.reason !== Reason.NoNewIsolation) return { type: 'Normal', reason: after.reason, message: after.message };
  return undefined;
}

/** Who approved each part of an extension, or what it still waits for: `source: AccessPolicy (…); target: bob`. */
function describeExtensionParts(e: ExtensionProgress): string {
  return e.parts
    .map((p) => {
      if (p.requirement.kind === 'auto') return `${p.part} (${p.namespace}): ${describeExtensionRequirement(p.requirement)}`;
      const so = p.approvers.length > 0 ? `approved by ${p.approvers.join(', ')}` : 'no approval yet';
      return `${p.part} (${p.namespace}): ${so}${p.missing > 0 ? `, ${p.missing} missing: ${describeExtensionRequirement(p.requirement)}` : ''}`;
    })
    .join('; ');
}

/** The latest extension, while the request is live: waiting (naming the parts) or granted (and where expiresAt is). */
function extensionCondition(f: Facts): ConditionInput | undefined {
  const all = extensionsOf(f.request);
  const latest = all.at(-1);
  if (!latest || !f.live) return undefined;
  const e = latest.extension;
  const what = `Extension ${latest.index + 1} (+${e.duration}, requested by ${e.requestedBy ?? 'unknown'}${e.reason ? `: ${e.reason}` : ''})`;
  if (!latest.granted) {
    return { type: ConditionType.Extension, status: 'False', reason: Reason.ExtensionPending, message: `${what} waits for the ${latest.waitingFor.join(' and ')} part${latest.waitingFor.length === 1 ? '' : 's'}: ${describeExtensionParts(latest)}.` };
  }
  return { type: ConditionType.Extension, status: 'True', reason: Reason.Extended, message: `${what} is granted (${describeExtensionParts(latest)}); expiresAt is now ${f.expiresAt ?? 'unknown'}.` };
}

/** An Event whenever the latest extension's record changes: requested, a part approved, granted (expiresAt moved). */
function extensionEvent(f: Facts, before: Condition | undefined, after: Condition | undefined): PlannedEvent | undefined {
  if (!after || (before?.reason === after.reason && before.message === after.message)) return undefined;
  if (after.reason === Reason.Extended) return { type: 'Normal', reason: Reason.Extended, message: after.message };
  const latest = extensionsOf(f.request).at(-1);
  const sameExtension = before?.reason === Reason.ExtensionPending && latest && before.message.startsWith(`Extension ${latest.index + 1} `);
  return { type: 'Normal', reason: sameExtension ? 'ExtensionApproved' : 'ExtensionRequested', message: after.message };
}

function transitionEvent(f: Facts, verdict: PhaseResult): PlannedEvent {
  // While approvals are being gathered and when access opens, the Event names the AccessPolicy rules that decided.
  const policies = verdict.phase === 'Active' || verdict.phase === 'Pending' || verdict.phase === 'PartiallyApproved' ? describePolicies(f.request) : '';
  const withPolicies = (message: string) => (policies ? `${message} AccessPolicy: ${policies}.`.slice(0, 1000) : message);
  if (verdict.phase === 'Active') return { type: 'Normal', reason: 'Activated', message: withPolicies(describeActive(f.request, f.expiresAt)) };
  return { type: verdict.phase === 'Failed' ? 'Warning' : 'Normal', reason: verdict.reason, message: withPolicies(verdict.message) };
}

function describeActive(request: AccessRequest, expiresAt: string | undefined): string {
  const ends = displayEnds(request);
  return `Access from ${ends.from} to ${ends.to} (${portsSummary(request.spec.ports)}) is active${expiresAt ? ` until ${expiresAt}` : ' without expiry'}.`;
}

/**
 * Our finalizer goes on before anything is materialized and comes off only once a deleted request has nothing
 * left, its maxtac objects' NetworkPolicies included; legacy finalizers always come off.
 */
function finalizersOf(f: Facts, phase: Phase | undefined, deletes: DeleteAction[], closing: ClosingState | undefined): Pick<Plan, 'addFinalizer' | 'removeFinalizers'> {
  const finalizers = f.request.metadata.finalizers ?? [];
  const nothingLeft = f.own.maxtac.length === 0 && f.own.services.length === 0;
  const released = f.deleting && nothingLeft && deletes.length === 0 && !closing;
  return {
    addFinalizer: !f.deleting && !finalizers.includes(REQUEST_FINALIZER) && !(isTerminal(phase) && nothingLeft),
    removeFinalizers: finalizers.filter((fin) => LEGACY_FINALIZERS.includes(fin) || (released && fin === REQUEST_FINALIZER)),
  };
}

/**
 * Retention, and when to look again: at expiry, at the end of the pending TTL, when a closing request's linger
 * warning is due, at the end of retention. A closing request's policies going wake it through their watch events.
 */
function scheduleOf(
  f: Facts,
  heading: Phase,
  phase: Phase | undefined,
  closing: ClosingState | undefined,
  conditions: Condition[],
): { deleteRequest: boolean; requeueAfterMs?: number } {
  const terminal = isTerminal(phase);
  const endedAt = findCondition(conditions, ConditionType.Ended)?.lastTransitionTime;
  const retentionEndsMs = terminal && f.config.retentionSeconds !== null && endedAt ? Date.parse(endedAt) + f.config.retentionSeconds * 1000 : undefined;
  const retentionDue = retentionEndsMs !== undefined && f.nowMs >= retentionEndsMs;
  const wakeups: number[] = [];
  if (heading === 'Active' && f.expiresMs !== undefined) wakeups.push(f.expiresMs);
  if (!f.fullyApproved && !isTerminal(heading) && f.config.pendingTtlSeconds !== null) wakeups.push(f.createdMs + f.config.pendingTtlSeconds * 1000);
  if (closing && !closing.lingering && f.config.lingerWarningSeconds !== null) wakeups.push(Date.parse(closing.since) + f.config.lingerWarningSeconds * 1000);
  if (retentionEndsMs !== undefined && !retentionDue) wakeups.push(retentionEndsMs);
  const future = wakeups.map((at) => at - f.nowMs).filter((ms) => ms > 0);
  // A request ended before netwatch waited for its policies (an upgrade) keeps its record while one remains.
  const deleteRequest = retentionDue && !f.deleting && f.grantPolicies.length === 0;
  return { deleteRequest, ...(future.length > 0 ? { requeueAfterMs: Math.min(...future) } : {}) };
}
