// The webhook's reads of the cluster, made with its own ServiceAccount (create subjectaccessreviews, get services;
// see manifests/webhook/rbac.yaml), over the Kubernetes transport (lib/kube/transport.ts).
import type { KubeConfig, V1Service, V1SubjectAccessReview } from '@kubernetes/client-node';
import type { Protocol } from '../lib/api/accessrequest.ts';
import type { ServiceFacts } from '../lib/domain/spec.ts';
import { DEFAULT_ANSWER_TTL_MS, accessReviewerFrom, concurrencyLimit, sharedAnswers, type AccessReviewer } from '../lib/kube/access-review.ts';
import { isNotFound } from '../lib/kube/errors.ts';
import { KubeTransport } from '../lib/kube/transport.ts';

export interface ServiceReader {
  /** The facts of a Service, or null when it does not exist. */
  get(namespace: string, name: string): Promise<ServiceFacts | null>;
}

export function serviceFacts(svc: V1Service): ServiceFacts {
  return {
    type: svc.spec?.type ?? 'ClusterIP',
    hasSelector: Object.keys(svc.spec?.selector ?? {}).length > 0,
    ports: (svc.spec?.ports ?? []).map((p) => ({
      port: p.port,
      protocol: (p.protocol ?? 'TCP') as Protocol,
      ...(p.name ? { name: p.name } : {}),
    })),
    ...(svc.metadata?.labels ? { labels: { ...svc.metadata.labels } } : {}),
  };
}

/**
 * The webhook's transport: an admission must be decided within the API server's webhook timeout (10 s), so a
 * question the API server does not answer within 5 s fails (and the admission fails closed).
 */
export function kubeHttpFor(kc: KubeConfig, opts: { maxSockets?: number; timeoutMs?: number } = {}): KubeTransport {
  return new KubeTransport(kc, { maxSockets: opts.maxSockets ?? 32, timeoutMs: opts.timeoutMs ?? 5000, userAgent: 'netwatch-webhook' });
}

/** SubjectAccessReviews over `http` (needs `create subjectaccessreviews`). */
export function reviewerOver(http: KubeTransport, ttlMs = DEFAULT_ANSWER_TTL_MS, maxInFlight = 32): AccessReviewer {
  return accessReviewerFrom(
    (review) => http.request<V1SubjectAccessReview>('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', { body: review }),
    maxInFlight,
    ttlMs,
  );
}

/**
 * Service reads over `http` (needs `get services`). Reads of the same Service pending at the same time are sent
 * once (admissions of a burst of requests for the same Services would otherwise ask for them hundreds of times at
 * once), and an answer is reused for `ttlMs`.
 */
export function serviceReaderOver(http: KubeTransport, ttlMs = DEFAULT_ANSWER_TTL_MS, maxInFlight = 16): ServiceReader {
  const limit = concurrencyLimit(maxInFlight);
  const shared = sharedAnswers<ServiceFacts | null>(ttlMs);
  return {
    get: (namespace, name) =>
      shared(`${namespace}/${name}`, () =>
        limit(async () => {
          try {
            const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(name)}`;
            return serviceFacts(await http.request<V1Service>('GET', path));
          } catch (err) {
            if (isNotFound(err)) return null;
            throw err;
          }
        }),
      ),
  };
}
