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

/**
 * Calls with the same key while a task for it is pending (queued or in flight) share that task's result; once it
 * settles the key is forgotten, so nothing outlives the call that produced it (this is not a cache).
 */
export function sharedWhilePending<T>(): (key: string, task: () => Promise<T>) => Promise<T> {
  const pending = new Map<string, Promise<T>>();
  return (key, task) => {
    const running = pending.get(key);
    if (running) return running;
    const p = task();
    pending.set(key, p);
    const forget = () => {
      if (pending.get(key) === p) pending.delete(key);
    };
    p.then(forget, forget);
    return p;
  };
}

/**
 * A reviewer from a function that creates one SubjectAccessReview, with at most `maxInFlight` in flight: a burst
 * of admissions would otherwise open one connection (and TLS handshake) per review. Identical reviews pending at
 * the same time (same subject, same attributes) are sent once.
 */
export function accessReviewerFrom(
  create: (review: V1SubjectAccessReview) => Promise<V1SubjectAccessReview>,
  maxInFlight = 32,
): AccessReviewer {
  const limit = concurrencyLimit(maxInFlight);
  const shared = sharedWhilePending<boolean>();
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
  const answers = await askPermissions(parts, (checks) => reviewer.check(subject, checks), { createOnlyIfRefused: true });
  return Object.fromEntries(parts.map((p) => [p.name, answers.get(questionKey(p)) === true]));
}
