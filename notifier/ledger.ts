// The record of what was delivered, kept on the AccessRequest itself in one annotation written by the notifier:
// per notice and destination, claimed (being sent, by whom, until when), retrying (attempts, next try), sent, or
// dead (given up). Pure: parsing, the decision per destination, and the next ledger after a claim or a result.
//
// Exactly once per destination cannot be promised by anyone who talks to a sink that has no transactions: the
// notifier claims a delivery (a write guarded by resourceVersion, so of two replicas only one wins it) before it
// sends, and records the outcome after. A crash between sending and recording leaves a claim that expires, and the
// delivery is tried again (at least once), with the same idempotency key (the CloudEvent id, the Message-ID, the
// Idempotency-Key header) so the receiver can tell.
import { GROUP } from '../lib/api/accessrequest.ts';

export const ANNOTATION_LEDGER = `${GROUP}/notifications`;

export type Entry =
  | { state: 'claimed'; by: string; until: string; attempts: number }
  | { state: 'retrying'; attempts: number; next: string; error: string }
  | { state: 'sent'; attempts: number; at: string }
  | { state: 'dead'; attempts: number; at: string; error: string };

/** notice id → destination key → entry. */
export type Ledger = Record<string, Record<string, Entry>>;

export interface RetryPolicy {
  /** Wait after the first failure; doubles after each further one, up to maxMs. */
  initialMs: number;
  maxMs: number;
  /** Attempts before a delivery is given up (dead-lettered). */
  maxAttempts: number;
}

export const DEFAULT_RETRY: RetryPolicy = { initialMs: 5_000, maxMs: 10 * 60_000, maxAttempts: 8 };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isTime = (v: unknown): v is string => typeof v === 'string' && Number.isFinite(Date.parse(v));
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function entryOf(v: unknown): Entry | undefined {
  if (!isObject(v) || !isCount(v.attempts)) return undefined;
  switch (v.state) {
    case 'claimed':
      return typeof v.by === 'string' && isTime(v.until) ? { state: 'claimed', by: v.by, until: v.until, attempts: v.attempts } : undefined;
    case 'retrying':
      return isTime(v.next) ? { state: 'retrying', attempts: v.attempts, next: v.next, error: typeof v.error === 'string' ? v.error : '' } : undefined;
    case 'sent':
      return isTime(v.at) ? { state: 'sent', attempts: v.attempts, at: v.at } : undefined;
    case 'dead':
      return isTime(v.at) ? { state: 'dead', attempts: v.attempts, at: v.at, error: typeof v.error === 'string' ? v.error : '' } : undefined;
    default:
      return undefined;
  }
}

/**
 * The ledger in an annotation value. Entries that do not parse are left out (and overwritten by the next write);
 * `corrupt` says the value as a whole was not a ledger, for a warning.
 */
export function parseLedger(text: string | undefined): { ledger: Ledger; corrupt: boolean } {
  if (text === undefined || text === '') return { ledger: {}, corrupt: false };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ledger: {}, corrupt: true };
  }
  if (!isObject(parsed)) return { ledger: {}, corrupt: true };
  const ledger: Ledger = {};
  for (const [notice, byDestination] of Object.entries(parsed)) {
    if (!isObject(byDestination)) continue;
    for (const [destination, raw] of Object.entries(byDestination)) {
      const entry = entryOf(raw);
      if (entry) (ledger[notice] ??= {})[destination] = entry;
    }
  }
  return { ledger, corrupt: false };
}

export function serializeLedger(ledger: Ledger): string {
  return JSON.stringify(ledger);
}

export function entryFor(ledger: Ledger, notice: string, destination: string): Entry | undefined {
  return ledger[notice]?.[destination];
}

/** Whether a notice has an entry for some destination: it was acted on, so it is never stale. */
export function isStarted(ledger: Ledger, notice: string): boolean {
  return Object.keys(ledger[notice] ?? {}).length > 0;
}

/** Whether every destination a notice was tried at has finished (sent or dead). */
export function isFinished(ledger: Ledger, notice: string): boolean {
  const entries = Object.values(ledger[notice] ?? {});
  return entries.length > 0 && entries.every((e) => e.state === 'sent' || e.state === 'dead');
}

export type Decision =
  /** Send now; `attempt` counts from 1. */
  | { action: 'send'; attempt: number }
  /** Look again at `atMs`: a retry is not due, or another replica's claim has not run out. */
  | { action: 'wait'; atMs: number }
  | { action: 'done' };

export function decide(entry: Entry | undefined, nowMs: number): Decision {
  if (!entry) return { action: 'send', attempt: 1 };
  switch (entry.state) {
    case 'sent':
    case 'dead':
      return { action: 'done' };
    case 'claimed': {
      // Whoever claimed it (another replica, or this one before a restart) may still be sending: only once the
      // claim runs out is the attempt counted as failed and tried again.
      const until = Date.parse(entry.until);
      return until > nowMs ? { action: 'wait', atMs: until } : { action: 'send', attempt: entry.attempts + 1 };
    }
    case 'retrying': {
      const next = Date.parse(entry.next);
      return next > nowMs ? { action: 'wait', atMs: next } : { action: 'send', attempt: entry.attempts + 1 };
    }
  }
}

/** Wait after failed attempt number `attempt` (1-based): doubling from initialMs, at most maxMs. */
export function backoffMs(attempt: number, policy: RetryPolicy): number {
  return Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
}

export interface Claim {
  notice: string;
  destination: string;
  attempt: number;
}

/** The ledger with these deliveries claimed by `holder` until `untilMs`. */
export function withClaims(ledger: Ledger, claims: readonly Claim[], holder: string, untilMs: number): Ledger {
  const next = structuredClone(ledger);
  const until = new Date(untilMs).toISOString();
  for (const c of claims) (next[c.notice] ??= {})[c.destination] = { state: 'claimed', by: holder, until, attempts: c.attempt };
  return next;
}

export type Outcome = { ok: true } | { ok: false; error: string; retryAfterMs?: number };

export interface Result extends Claim {
  outcome: Outcome;
}

/**
 * The ledger after these results of `holder`'s claims, applied to the ledger as it is now (which may have moved on
 * since the claim). A result replaces only what is still this holder's claim, or nothing; a delivery that somebody
 * else finished meanwhile stays finished. Failures wait their backoff, or die at the last attempt.
 */
export function withResults(ledger: Ledger, results: readonly Result[], holder: string, nowMs: number, policy: RetryPolicy): { ledger: Ledger; dead: Result[] } {
  const next = structuredClone(ledger);
  const dead: Result[] = [];
  const now = new Date(nowMs).toISOString();
  for (const r of results) {
    const current = next[r.notice]?.[r.destination];
    if (current && !(current.state === 'claimed' && current.by === holder)) {
      // Taken over after our claim ran out. A success still counts (the receiver has it); a failure is theirs to retry.
      if (!r.outcome.ok || current.state === 'sent') continue;
    }
    let entry: Entry;
    if (r.outcome.ok) {
      entry = { state: 'sent', attempts: r.attempt, at: now };
    } else if (r.attempt >= policy.maxAttempts) {
      entry = { state: 'dead', attempts: r.attempt, at: now, error: r.outcome.error };
      dead.push(r);
    } else {
      const wait = Math.max(backoffMs(r.attempt, policy), Math.min(r.outcome.retryAfterMs ?? 0, policy.maxMs));
      entry = { state: 'retrying', attempts: r.attempt, next: new Date(nowMs + wait).toISOString(), error: r.outcome.error };
    }
    (next[r.notice] ??= {})[r.destination] = entry;
  }
  return { ledger: next, dead };
}
