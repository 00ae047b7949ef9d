// Phase and condition derivation for AccessRequests. Pure: the caller passes `now` and the generation.
import type { AccessRequestStatus, Condition, DecisionType, Phase } from '../api/accessrequest.ts';
import { TERMINAL_PHASES } from '../api/accessrequest.ts';

/** Condition types the controller maintains on every AccessRequest. */
export const ConditionType = {
  /** True when every part is approved. */
  Approved: 'Approved',
  /** True while the access is in force: every part that is not skipped has its NetworkPolicy written by maxtac. */
  Ready: 'Ready',
  /**
   * True once the request reached a terminal phase; its lastTransitionTime is when it ended (retention counts from
   * it). False (PoliciesRemain, PoliciesLinger) while netwatch is ending it but a NetworkPolicy of its maxtac
   * objects still exists: the lastTransitionTime is then when netwatch started ending it.
   */
  Ended: 'Ended',
  /**
   * While Active: whether the grant's own NetworkPolicies are the first of their direction on some pods, so that
   * they cut those pods' other traffic in that direction. Judged again on every pass (pods and other policies
   * change after approval), never only once.
   */
  Isolating: 'Isolating',
  /**
   * Present once the grant was extended (status.extensions): False (ExtensionPending) while the latest extension
   * waits for parts, naming them; True (Extended) once it is granted and expiresAt moved.
   */
  Extension: 'Extension',
} as const;

/** Documented reasons. Each is a CamelCase word, as metav1.Condition requires. */
export const Reason = {
  /** No part is approved yet. */
  AwaitingApproval: 'AwaitingApproval',
  /** Some parts are approved, at least one is not. */
  PartiallyApproved: 'PartiallyApproved',
  /** Every part is approved. */
  AllPartsApproved: 'AllPartsApproved',
  /** Approved; the clones and maxtac objects are created, maxtac has not written every NetworkPolicy yet. */
  Materializing: 'Materializing',
  /** Every part that is not skipped has its NetworkPolicy. */
  InForce: 'InForce',
  /** Every part was skipped because no policy isolates those pods in that direction: the traffic is already allowed. */
  AlreadyAllowed: 'AlreadyAllowed',
  /** The request is not fully approved, so nothing is in force. */
  NotApproved: 'NotApproved',
  /** expiresAt passed. */
  Expired: 'Expired',
  /** The request stayed unapproved longer than the pending TTL. */
  PendingTimeout: 'PendingTimeout',
  Denied: 'Denied',
  Aborted: 'Aborted',
  Revoked: 'Revoked',
  /** A Service the request names does not exist. */
  ServiceNotFound: 'ServiceNotFound',
  /** A Service the request names has no selector (ExternalName or selector-less): no pods to grant. */
  ServiceWithoutSelector: 'ServiceWithoutSelector',
  /** A requested port is not a port of the target Service, or the Service has no ports. */
  PortNotFound: 'PortNotFound',
  /** An object with a deterministic netwatch name exists and is not labelled as this request's. */
  NameConflict: 'NameConflict',
  /** Isolation policy `refuse`: a part would newly isolate pods. */
  WouldIsolate: 'WouldIsolate',
  /** A materialized clone or maxtac object was deleted before expiry, outside netwatch. */
  ObjectDeleted: 'ObjectDeleted',
  /** The spec cannot be materialized (e.g. an unparsable duration). */
  InvalidSpec: 'InvalidSpec',
  /**
   * Ended is False: the request is ending (Ready says why) and netwatch deleted its maxtac objects, but a
   * NetworkPolicy they own still exists, so the access may still be open. The phase is left as it was.
   */
  PoliciesRemain: 'PoliciesRemain',
  /** As PoliciesRemain, for longer than the controller's --linger-warning: a Warning Event with this reason was emitted. */
  PoliciesLinger: 'PoliciesLinger',
  /** Isolating is False: every direction the grant holds is isolated already by other NetworkPolicies. */
  NoNewIsolation: 'NoNewIsolation',
  /** Isolating is True under --isolation allow: the message names the pods and directions the grant alone isolates. */
  IsolatesPods: 'IsolatesPods',
  /**
   * Isolating is True under --isolation refuse: since approval, other NetworkPolicies or pods changed and the grant's
   * policy became the one isolating the pods named. The grant is kept (refuse decides at approval); a Warning Event.
   */
  IsolationDrift: 'IsolationDrift',
  /**
   * Isolating is False under --isolation skip: a direction whose policy became the one isolating pods was withdrawn
   * (its maxtac object deleted, and made again with the directions left, if any); it is granted again once another
   * NetworkPolicy isolates those pods. A Warning Event.
   */
  DirectionWithdrawn: 'DirectionWithdrawn',
  /** Extension is False: the latest extension waits for the parts the message names. */
  ExtensionPending: 'ExtensionPending',
  /** Extension is True: the latest extension is granted and expiresAt moved by it. */
  Extended: 'Extended',
} as const;
export type ReasonName = (typeof Reason)[keyof typeof Reason];

/**
 * The terminal phase each reason ends a request in; null for the reasons of a request that has not ended. Every
 * reason is listed, so a new one cannot be added without deciding this.
 */
const ENDS_IN = {
  AwaitingApproval: null,
  PartiallyApproved: null,
  AllPartsApproved: null,
  Materializing: null,
  InForce: null,
  AlreadyAllowed: null,
  NotApproved: null,
  Expired: 'Expired',
  PendingTimeout: 'Expired',
  Denied: 'Denied',
  Aborted: 'Aborted',
  Revoked: 'Revoked',
  ServiceNotFound: 'Failed',
  ServiceWithoutSelector: 'Failed',
  PortNotFound: 'Failed',
  NameConflict: 'Failed',
  WouldIsolate: 'Failed',
  ObjectDeleted: 'Failed',
  InvalidSpec: 'Failed',
  PoliciesRemain: null,
  PoliciesLinger: null,
  NoNewIsolation: null,
  IsolatesPods: null,
  IsolationDrift: null,
  DirectionWithdrawn: null,
  ExtensionPending: null,
  Extended: null,
} as const satisfies Record<ReasonName, Phase | null>;

/** The terminal phase a reason ends a request in, or undefined when it is not a reason to end one. */
export function endingPhaseOf(reason: string): Phase | undefined {
  return Object.hasOwn(ENDS_IN, reason) ? (ENDS_IN[reason as ReasonName] ?? undefined) : undefined;
}

/** A request netwatch is ending while a NetworkPolicy of its maxtac objects remains (Ended False). */
export interface Closing extends PhaseResult {
  /** When netwatch started ending it: the lastTransitionTime of Ended. */
  since: string;
  /** The --linger-warning Event was emitted (reason PoliciesLinger). */
  warned: boolean;
}

/**
 * Where a request that is still closing is heading, from its recorded status: Ended False (PoliciesRemain or
 * PoliciesLinger), and Ready holding the reason and message it ends with. A terminal phase or an ending the
 * request is not heading to (a deletion) is no closing.
 */
export function closingOf(status: AccessRequestStatus | undefined): Closing | undefined {
  if (isTerminal(status?.phase)) return undefined;
  const ended = findCondition(status?.conditions, ConditionType.Ended);
  if (ended?.status !== 'False' || (ended.reason !== Reason.PoliciesRemain && ended.reason !== Reason.PoliciesLinger)) return undefined;
  const ready = findCondition(status?.conditions, ConditionType.Ready);
  const phase = ready ? endingPhaseOf(ready.reason) : undefined;
  if (!ready || !phase) return undefined;
  return { phase, reason: ready.reason, message: ready.message, since: ended.lastTransitionTime, warned: ended.reason === Reason.PoliciesLinger };
}

export interface ConditionInput {
  type: string;
  status: Condition['status'];
  reason: string;
  message: string;
}

/**
 * metav1.Condition semantics: lastTransitionTime changes only when the status changes; reason, message and
 * observedGeneration are refreshed every time. Returns a new array; order of existing conditions is kept.
 */
export function setCondition(conditions: readonly Condition[] | undefined, next: ConditionInput, now: Date, generation: number | undefined): Condition[] {
  const out = [...(conditions ?? [])];
  const index = out.findIndex((c) => c.type === next.type);
  const existing = index >= 0 ? out[index] : undefined;
  const condition: Condition = {
    type: next.type,
    status: next.status,
    reason: next.reason,
    message: next.message,
    lastTransitionTime: existing && existing.status === next.status ? existing.lastTransitionTime : now.toISOString(),
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
  if (index >= 0) out[index] = condition;
  else out.push(condition);
  return out;
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isTerminal(phase: Phase | undefined): boolean {
  return phase !== undefined && TERMINAL_PHASES.includes(phase);
}

export interface PhaseInput {
  /** The phase currently recorded. A terminal phase never changes again. */
  current?: Phase;
  /** Where a request that is closing is heading (see closingOf): as sticky as a terminal phase. */
  closing?: PhaseResult;
  decision?: DecisionType;
  approvedParts: number;
  totalParts: number;
  /** expiresAt of a fully approved request has passed. */
  expired: boolean;
  /** A request that is not fully approved outlived the pending TTL. */
  pendingTimedOut: boolean;
  /** A reason the request cannot be (or stay) materialized. */
  failure?: { reason: string; message: string };
}

export interface PhaseResult {
  phase: Phase;
  reason: string;
  message: string;
}

/**
 * The ordered checks deciding the phase. Terminal phases are sticky, and so is the ending of a request that is
 * closing; a decision beats everything else (a revoke that races expiry is recorded as the revoke a human made); a
 * failure beats expiry; expiry beats being active.
 */
export function derivePhase(input: PhaseInput, previous?: { reason: string; message: string }): PhaseResult {
  if (input.current && isTerminal(input.current)) {
    return { phase: input.current, reason: previous?.reason ?? input.current, message: previous?.message ?? `The request is ${input.current.toLowerCase()}.` };
  }
  if (input.closing) return { ...input.closing };
  if (input.decision) {
    const verb = { Denied: 'denied', Aborted: 'aborted', Revoked: 'revoked' }[input.decision];
    return { phase: input.decision, reason: input.decision, message: `The request was ${verb}.` };
  }
  if (input.failure) return { phase: 'Failed', reason: input.failure.reason, message: input.failure.message };
  const fully = input.totalParts > 0 && input.approvedParts >= input.totalParts;
  if (fully) {
    if (input.expired) return { phase: 'Expired', reason: Reason.Expired, message: 'The access expired.' };
    return { phase: 'Active', reason: Reason.AllPartsApproved, message: 'Every part is approved.' };
  }
  if (input.pendingTimedOut) {
    return { phase: 'Expired', reason: Reason.PendingTimeout, message: 'The request was not fully approved before the pending TTL ran out.' };
  }
  if (input.approvedParts > 0) {
    return { phase: 'PartiallyApproved', reason: Reason.PartiallyApproved, message: `${input.approvedParts} of ${input.totalParts} parts approved.` };
  }
  return { phase: 'Pending', reason: Reason.AwaitingApproval, message: 'No part is approved yet.' };
}
