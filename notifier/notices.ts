// What a request's state says somebody should be told, as a pure function of (request, settings, now): the
// notices due now and the moment the next one (a reminder) falls due. Level-based like the controller: only the
// current state counts, so a notifier that was down while a request went Pending → Active → Revoked announces the
// revocation, not the history. Whether a notice was already delivered is the ledger's business (ledger.ts).
import type { AccessRequest, PartName } from '../lib/api/accessrequest.ts';
import { effectiveApprovals, extendedExpiry, grantedExtensions, pendingExtension, pendingParts, stageOf, type ExtensionProgress } from '../lib/domain/actions.ts';
import { partsOf } from '../lib/domain/parts.ts';
import { ConditionType, findCondition } from '../lib/domain/phase.ts';

export const NOTICE_KINDS = [
  'approval-needed',
  'part-approved',
  'pending-reminder',
  'active',
  'expiring',
  'extension-needed',
  'extension-part-approved',
  'extension-reminder',
  'extended',
  'denied',
  'revoked',
  'failed',
] as const;
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
  /** part-approved, extension-part-approved: the part that was just approved. */
  approvedPart?: PartName;
  /** extension-*, extended: the index of the extension (status.extensions) it is about. */
  extension?: number;
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
    const granted = grantedExtensions(request);
    const last = granted.at(-1);
    // Granted per the rule book but expiresAt not moved yet: the controller is about to write it. Until it has, no
    // warning (it would name the old expiry) and no `extended` (it would say the old one).
    const moved = last === undefined || (expiresMs !== undefined && time(extendedExpiry(request)) === expiresMs);
    // Announced with its expiry time already (the grant, or its last extension): what is left of it is the news.
    const announcedMs = last === undefined ? approvedMs : extensionGrantedMs(request, last, createdMs);
    if (last !== undefined && moved && announcesExtended(request, last)) {
      schedule({ id: `extended/${last.index}`, kind: 'extended', audience: { kind: 'requester' }, dueAtMs: announcedMs, extension: last.index });
    }
    // The warning is about one expiry: its id carries how many extensions made it, so a grant extended after its
    // warning is warned again before the new expiry, and the ledger still holds each warning once.
    if (moved && timings.expiryWarningMs !== null && expiresMs !== undefined && expiresMs - announcedMs > timings.expiryWarningMs && nowMs < expiresMs) {
      const id = granted.length === 0 ? 'expiring' : `expiring/${granted.length}`;
      schedule({ id, kind: 'expiring', audience: { kind: 'requester' }, dueAtMs: expiresMs - timings.expiryWarningMs });
    }
    const pending = pendingExtension(request);
    if (pending) {
      const i = pending.index;
      const askedMs = time(pending.extension.at) ?? nowMs;
      const waiting = pending.parts.filter((p) => p.missing > 0);
      for (const p of waiting) {
        // Parts within their maxTotalDuration approve by themselves and are never among the waiting.
        const audience: Audience = { kind: 'approvers', part: p.part, namespace: p.namespace };
        schedule({ id: `extension-needed/${i}/${p.part}`, kind: 'extension-needed', audience, dueAtMs: askedMs, extension: i });
        if (timings.pendingReminderMs !== null) {
          schedule({ id: `extension-reminder/${i}/${p.part}`, kind: 'extension-reminder', audience, dueAtMs: askedMs + timings.pendingReminderMs, extension: i });
        }
      }
      // A part whose approvers said yes while another one still waits: as part-approved for a request.
      for (const done of pending.parts) {
        if (done.missing > 0 || done.requirement.kind === 'auto') continue;
        const doneMs = approvalsMs(request, i, done.part) ?? askedMs;
        for (const p of waiting) {
          schedule({
            id: `extension-part-approved/${i}/${done.part}`,
            kind: 'extension-part-approved',
            audience: { kind: 'approvers', part: p.part, namespace: p.namespace },
            dueAtMs: doneMs,
            approvedPart: done.part,
            extension: i,
          });
        }
      }
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

/** When the last approval of `part` of extension `index` was given, if any. */
function approvalsMs(request: AccessRequest, index: number, part: PartName): number | undefined {
  const times = (request.status?.extensionApprovals ?? []).filter((a) => a.extension === index && a.part === part).flatMap((a) => time(a.at) ?? []);
  return times.length > 0 ? Math.max(...times) : undefined;
}

/** When an extension was granted: its last approval, or its asking when every part approved automatically. */
function extensionGrantedMs(request: AccessRequest, e: ExtensionProgress, fallbackMs: number): number {
  const asked = time(e.extension.at) ?? fallbackMs;
  return Math.max(asked, ...e.parts.flatMap((p) => approvalsMs(request, e.index, p.part) ?? []));
}

/** Whether the requester should hear of a granted extension: not when they asked for it and nobody else had a say. */
function announcesExtended(request: AccessRequest, e: ExtensionProgress): boolean {
  const requester = request.spec.requester?.username;
  if (requester === undefined || e.extension.requestedBy !== requester) return true;
  return e.parts.some((p) => p.approvers.some((by) => by !== requester));
}

/** The parts of a request with who approved each (for messages). */
export function partsWithApprovals(request: AccessRequest): { part: PartName; namespace: string; approvedBy?: string }[] {
  const approvals = effectiveApprovals(request);
  return partsOf(request.spec).map((p) => {
    const by = approvals.find((a) => a.part === p.name)?.by;
    return by === undefined ? { part: p.name, namespace: p.namespace } : { part: p.name, namespace: p.namespace, approvedBy: by };
  });
}
