// Phase and condition derivation for AccessRequests. Pure: the caller passes `now` and the generation.
import type { Condition, DecisionType, Phase } from '../api/accessrequest.ts';
import { TERMINAL_PHASES } from '../api/accessrequest.ts';

/** Condition types the controller maintains on every AccessRequest. */
export const ConditionType = {
  /** True when every part is approved. */
  Approved: 'Approved',
  /** True while the access is in force: every part that is not skipped has its NetworkPolicy written by maxtac. */
  Ready: 'Ready',
  /** True once the request reached a terminal phase; its lastTransitionTime is when it ended (retention counts from it). */
  Ended: 'Ended',
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
} as const;
export type ReasonName = (typeof Reason)[keyof typeof Reason];

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
 * The ordered checks deciding the phase. Terminal phases are sticky; a decision beats everything else (a revoke
 * that races expiry is recorded as the revoke a human made); a failure beats expiry; expiry beats being active.
 */
export function derivePhase(input: PhaseInput, previous?: { reason: string; message: string }): PhaseResult {
  if (input.current && isTerminal(input.current)) {
    return { phase: input.current, reason: previous?.reason ?? input.current, message: previous?.message ?? `The request is ${input.current.toLowerCase()}.` };
  }
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
