// SubjectAccessReviews on behalf of another user (the user of an admission request): the webhook's way to ask
// RBAC (or whatever authorizer the cluster runs) "may this user approve that part?". Nothing is cached across
// calls: a Role granted or removed a second ago must count at once. Identical reviews asked while one is already
// on its way share its answer (a burst of creates by one user asks the same few questions hundreds of times at
// once); the answer is then at most one round trip old, as if that caller's own review had been slow.
import type { V1SubjectAccessReview } from '@kubernetes/client-node';
import type { PartName } from '../api/accessrequest.ts';
import type { Part, ResourceCheck } from '../domain/parts.ts';
import { askPermissions, questionKey } from '../domain/actions.ts';

/** The identity a review is about, as the API server reports it in an admission request's userInfo. */
export interface ReviewSubject {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/** Answers resource checks for a subject; one boolean per check, in order. */
export interface AccessReviewer {
  check(subject: ReviewSubject, checks: readonly ResourceCheck[]): Promise<boolean[]>;
}

/** The SubjectAccessReview body for one check (namespace empty = cluster-wide). */
export function subjectAccessReview(subject: ReviewSubject, check: ResourceCheck): V1SubjectAccessReview {
  return {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    spec: {
      user: subject.username,
      ...(subject.uid ? { uid: subject.uid } : {}),
      ...(subject.groups ? { groups: subject.groups } : {}),
      ...(subject.extra ? { extra: subject.extra } : {}),
      resourceAttributes: {
        verb: check.verb,
        group: check.group,
        resource: check.resource,
        ...(check.namespace ? { namespace: check.namespace } : {}),
      },
    },
  };
}

/** Runs at most `max` of the given tasks at once; the rest wait in order. */
export function concurrencyLimit(max: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (running >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await task();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}

/** At most this many answers are kept: beyond it, new answers are shared only while pending. */
const MAX_KEPT = 10_000;

/**
 * Calls with the same key while a task for it is pending (queued or in flight) share that task's result. A result
 * is kept `keepMs` after it settled successfully (0: forgotten at once, so nothing outlives the call that produced
 * it); a failure is never kept. `now` is injectable for tests.
 */
export function sharedAnswers<T>(keepMs = 0, now: () => number = Date.now): (key: string, task: () => Promise<T>) => Promise<T> {
  const entries = new Map<string, { answer: Promise<T>; until: number }>();
  return (key, task) => {
    const t = now();
    const known = entries.get(key);
    if (known && known.until >= t) return known.answer;
    const answer = task();
    // Pending: shared until it settles; then kept for keepMs when it succeeded.
    entries.set(key, { answer, until: Number.POSITIVE_INFINITY });
    const settle = (ok: boolean) => {
      if (entries.get(key)?.answer !== answer) return;
      if (!ok || keepMs <= 0) entries.delete(key);
      else entries.set(key, { answer, until: now() + keepMs });
    };
    answer.then(
      () => settle(true),
      () => settle(false),
    );
    if (entries.size > MAX_KEPT) {
      for (const [k, e] of entries) if (e.until < t) entries.delete(k);
    }
    return answer;
  };
}

/**
 * How long an answer (a SubjectAccessReview's, a Service read) is reused. The mutating and the validating webhook
 * ask the same questions about the same create, and one user's creates ask the same ones again and again; a Role
 * granted or removed counts from the next question after this (the API server's own webhook authorizer caches its
 * answers for minutes).
 */
export const DEFAULT_ANSWER_TTL_MS = 2000;

/**
 * A reviewer from a function that creates one SubjectAccessReview, with at most `maxInFlight` in flight: a burst
 * of admissions would otherwise open one connection (and TLS handshake) per review. Identical reviews (same
 * subject, same attributes) pending at the same time are sent once, and an answer is reused for `ttlMs`.
 */
export function accessReviewerFrom(
  create: (review: V1SubjectAccessReview) => Promise<V1SubjectAccessReview>,
  maxInFlight = 32,
  ttlMs = DEFAULT_ANSWER_TTL_MS,
): AccessReviewer {
  const limit = concurrencyLimit(maxInFlight);
  const shared = sharedAnswers<boolean>(ttlMs);
  return {
    async check(subject, checks) {
      // In parallel: the admission latency is one round trip, not one per check.
      return Promise.all(
        checks.map((c) => {
          const body = subjectAccessReview(subject, c);
          // The whole spec is the key: user, uid, groups, extra and every resource attribute.
          return shared(JSON.stringify(body.spec), () =>
            limit(async () => {
              const review = await create(body);
              // A denial or an evaluation error both count as "no": only an explicit allow grants.
              return review.status?.allowed === true && review.status.denied !== true;
            }),
          );
        }),
      );
    },
  };
}

/**
 * Whether `subject` may approve each of `parts`: verb `approve` there, or create services + the maxtac kind.
 * `approve` is asked first for every part; the two `create` checks only for the parts where it was refused, which
 * halves the reviews for approvers at the cost of one more round trip for the others.
 */
export async function approvableParts(
  reviewer: AccessReviewer,
  subject: ReviewSubject,
  parts: readonly Part[],
): Promise<Partial<Record<PartName, boolean>>> {
  // Every check in one round: one round trip per admission (answers are reused, so the extra reviews are cheap).
  const answers = await askPermissions(parts, (checks) => reviewer.check(subject, checks));
  return Object.fromEntries(parts.map((p) => [p.name, answers.get(questionKey(p)) === true]));
}
