// What a request's state says somebody should be told, as a pure function of (request, settings, now): the
// notices due now and the moment the next one (a reminder) falls due. Level-based like the controller: only the
// current state counts, so a notifier that was down while a request went Pending → Active → Revoked announces the
// revocation, not the history. Whether a notice was already delivered is the ledger's business (ledger.ts).
import type { AccessRequest, PartName } from '../lib/api/accessrequest.ts';
import { effectiveApprovals, pendingParts, stageOf } from '../lib/domain/actions.ts';
import { partsOf } from '../lib/domain/parts.ts';
import { ConditionType, findCondition } from '../lib/domain/phase.ts';

export const NOTICE_KINDS = ['approval-needed', 'part-approved', 'pending-reminder', 'active', 'expiring', 'denied', 'revoked', 'failed'] as const;
export type NoticeKind = (typeof NOTICE_KINDS)[number];

/** Who a notice is for: the approvers of one part's namespace, or the person who asked. */
export type Audience = { kind: 'approvers'; part: PartName; namespace: string } | { kind: 'requester' };

export interface Notice {
  /** Unique within its request (`approval-needed/target`): with the request's uid, the idempotency key. */
  id: string;
  kind: NoticeKind;
  audience: Audience;
  /** When it fell due (ms): the transition's time, or the reminder's. */
  dueAtMs: number;
  /** part-approved: the part that was just approved. */
  approvedPart?: PartName;
}

export interface NoticeTimings {
  /** A part still pending this long after the request was made is announced again; null: never. */
  pendingReminderMs: number | null;
  /** An Active grant is announced this long before it expires; null: never. */
  expiryWarningMs: number | null;
  /**
   * An Active request whose policies maxtac has not written (Ready not True) is announced anyway this long after
   * full approval, saying so: the requester should not wait forever for a grant that is stuck.
   */
  activeGraceMs: number;
}

export const DEFAULT_NOTICE_TIMINGS: NoticeTimings = { pendingReminderMs: 4 * 3600_000, expiryWarningMs: 10 * 60_000, activeGraceMs: 60_000 };

export interface NoticeSchedule {
  due: Notice[];
  /** The earliest future moment (ms) a notice falls due, if any: the caller looks again then. */
  nextAtMs?: number;
}

const time = (text: string | undefined): number | undefined => {
  const ms = text ? Date.parse(text) : NaN;
  return Number.isFinite(ms) ? ms : undefined;
};

export function noticesOf(request: AccessRequest, timings: NoticeTimings, nowMs: number): NoticeSchedule {
  const phase = request.status?.phase;
  // Nothing before the controller has looked at the request (it may fail at once, or be Active at once), and
  // nothing about a request being deleted: whoever deletes it knows.
  if (!phase || request.metadata.deletionTimestamp) return { due: [] };
  const due: Notice[] = [];
  const later: number[] = [];
  const schedule = (notice: Notice) => {
    if (notice.dueAtMs <= nowMs) due.push(notice);
    else later.push(notice.dueAtMs);
  };
  const createdMs = time(request.metadata.creationTimestamp) ?? nowMs;
  const stage = stageOf(request);

  if (stage === 'waiting' && (phase === 'Pending' || phase === 'PartiallyApproved')) {
    const pending = pendingParts(request);
    for (const p of pending) {
      const audience: Audience = { kind: 'approvers', part: p.name, namespace: p.namespace };
      schedule({ id: `approval-needed/${p.name}`, kind: 'approval-needed', audience, dueAtMs: createdMs });
      if (timings.pendingReminderMs !== null) {
        schedule({ id: `pending-reminder/${p.name}`, kind: 'pending-reminder', audience, dueAtMs: createdMs + timings.pendingReminderMs });
      }
    }
    // An approval given after the request was made, while another part still waits: its approvers hear that the
    // other side said yes. Parts approved at creation are already in the approval-needed notice.
    const atCreation = new Set(request.spec.requester?.approvedParts ?? []);
    for (const a of effectiveApprovals(request)) {
      if (atCreation.has(a.part)) continue;
      for (const p of pending) {
        schedule({
          id: `part-approved/${a.part}`,
          kind: 'part-approved',
          audience: { kind: 'approvers', part: p.name, namespace: p.namespace },
          dueAtMs: time(a.at) ?? nowMs,
          approvedPart: a.part,
        });
      }
    }
  }

  if (stage === 'active' && phase === 'Active') {
    const approvedMs = time(request.status?.approvedAt) ?? createdMs;
    const ready = findCondition(request.status?.conditions, ConditionType.Ready)?.status === 'True';
    schedule({ id: 'active', kind: 'active', audience: { kind: 'requester' }, dueAtMs: ready ? approvedMs : approvedMs + timings.activeGraceMs });
    const expiresMs = time(request.status?.expiresAt);
    // A grant shorter than the warning was announced with its expiry time already: no second message.
    if (timings.expiryWarningMs !== null && expiresMs !== undefined && expiresMs - approvedMs > timings.expiryWarningMs && nowMs < expiresMs) {
      schedule({ id: 'expiring', kind: 'expiring', audience: { kind: 'requester' }, dueAtMs: expiresMs - timings.expiryWarningMs });
    }
  }

  const endedMs = time(findCondition(request.status?.conditions, ConditionType.Ended)?.lastTransitionTime) ?? time(request.status?.decision?.at) ?? nowMs;
  const requester = request.spec.requester?.username;
  switch (phase) {
    case 'Denied':
      schedule({ id: 'denied', kind: 'denied', audience: { kind: 'requester' }, dueAtMs: endedMs });
      break;
    case 'Revoked':
      // Requesters who end their own access need no message about it.
      if (!requester || request.status?.decision?.by !== requester) schedule({ id: 'revoked', kind: 'revoked', audience: { kind: 'requester' }, dueAtMs: endedMs });
      break;
    case 'Failed':
      schedule({ id: 'failed', kind: 'failed', audience: { kind: 'requester' }, dueAtMs: endedMs });
      break;
    case 'Pending':
    case 'PartiallyApproved':
    case 'Active':
    case 'Aborted':
    case 'Expired':
      break;
  }
  return later.length > 0 ? { due, nextAtMs: Math.min(...later) } : { due };
}

/** The parts of a request with who approved each (for messages). */
export function partsWithApprovals(request: AccessRequest): { part: PartName; namespace: string; approvedBy?: string }[] {
  const approvals = effectiveApprovals(request);
  return partsOf(request.spec).map((p) => {
    const by = approvals.find((a) => a.part === p.name)?.by;
    return by === undefined ? { part: p.name, namespace: p.namespace } : { part: p.name, namespace: p.namespace, approvedBy: by };
  });
}
