// The webhook's reads of the cluster, made with its own ServiceAccount (create subjectaccessreviews, get services;
// see manifests/webhook/rbac.yaml), over a small keep-alive HTTPS client.
//
// Why not the generated @kubernetes/client-node API classes: 2.0 builds a new undici Agent (and re-reads the CA and
// client certificate files) for every request, so each call pays a TCP + TLS handshake and ~1 ms of CPU. An
// admission makes several SubjectAccessReviews; under 200 concurrent creates that alone pushed the webhook past
// its 10 s timeout. KubeConfig is still the single source of server, TLS material and credentials.
import { Agent, request } from 'node:https';
import type { KubeConfig, V1Service, V1SubjectAccessReview } from '@kubernetes/client-node';
import type { Protocol } from '../lib/api/accessrequest.ts';
import type { ServiceFacts } from '../lib/domain/spec.ts';
import { accessReviewerFrom, concurrencyLimit, sharedWhilePending, type AccessReviewer } from '../lib/kube/access-review.ts';

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
  };
}

/** An API error with the status code, shaped like client-node's ApiException (`code`, `body`). */
export class KubeHttpError extends Error {
  constructor(
    readonly code: number,
    readonly body: string,
  ) {
    super(`the Kubernetes API answered ${code}`);
  }
}

export interface KubeHttp {
  request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T>;
  close(): void;
}

/** Credentials are re-read this often: projected ServiceAccount tokens rotate (client-go also re-reads every minute). */
const CREDENTIALS_TTL_MS = 60_000;

export function kubeHttpFor(kc: KubeConfig, opts: { maxSockets?: number; timeoutMs?: number } = {}): KubeHttp {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const server = new URL(cluster.server);
  const timeoutMs = opts.timeoutMs ?? 5000;
  let agent: Agent | undefined;
  let headers: Record<string, string> = {};
  let loadedAt = 0;
  let loading: Promise<void> | undefined;

  const refresh = async () => {
    const o: { headers?: Record<string, string>; ca?: unknown; cert?: unknown; key?: unknown; rejectUnauthorized?: boolean; servername?: string } = {};
    await kc.applyToHTTPSOptions(o as Parameters<KubeConfig['applyToHTTPSOptions']>[0]);
    headers = { ...(o.headers ?? {}) };
    const old = agent;
    agent = new Agent({
      keepAlive: true,
      maxSockets: opts.maxSockets ?? 32,
      ca: o.ca as string | undefined,
      cert: o.cert as string | undefined,
      key: o.key as string | undefined,
      ...(o.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}),
      ...(o.servername ? { servername: o.servername } : {}),
    });
    // Idle sockets of the previous agent go now; busy ones finish their request first.
    old?.destroy();
    loadedAt = Date.now();
  };
  const ensureFresh = async () => {
    if (agent && Date.now() - loadedAt < CREDENTIALS_TTL_MS) return;
    loading ??= refresh().finally(() => (loading = undefined));
    await loading;
  };

  return {
    async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
      await ensureFresh();
      const payload = body === undefined ? undefined : JSON.stringify(body);
      return new Promise<T>((resolve, reject) => {
        const req = request(
          {
            protocol: server.protocol,
            hostname: server.hostname,
            port: server.port,
            path: `${server.pathname.replace(/\/$/, '')}${path}`,
            method,
            agent,
            timeout: timeoutMs,
            headers: {
              ...headers,
              accept: 'application/json',
              ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              const status = res.statusCode ?? 0;
              if (status < 200 || status >= 300) return reject(new KubeHttpError(status, text));
              try {
                resolve(JSON.parse(text) as T);
              } catch {
                reject(new Error(`the Kubernetes API sent invalid JSON for ${method} ${path}`));
              }
            });
            res.on('error', reject);
          },
        );
        req.on('timeout', () => req.destroy(new Error(`the Kubernetes API did not answer ${method} ${path} within ${timeoutMs} ms`)));
        req.on('error', reject);
        req.end(payload);
      });
    },
    close() {
      agent?.destroy();
    },
  };
}

/** SubjectAccessReviews over `http` (needs `create subjectaccessreviews`). */
export function reviewerOver(http: KubeHttp, maxInFlight = 32): AccessReviewer {
  return accessReviewerFrom(
    (review) => http.request<V1SubjectAccessReview>('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', review),
    maxInFlight,
  );
}

/**
 * Service reads over `http` (needs `get services`). Reads of the same Service pending at the same time are sent
 * once (admissions of a burst of requests for the same Services would otherwise ask for them hundreds of times at
 * once); nothing is kept once answered.
 */
export function serviceReaderOver(http: KubeHttp, maxInFlight = 16): ServiceReader {
  const limit = concurrencyLimit(maxInFlight);
  const shared = sharedWhilePending<ServiceFacts | null>();
  return {
    get: (namespace, name) =>
      shared(`${namespace}/${name}`, () =>
        limit(async () => {
          try {
            const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(name)}`;
            return serviceFacts(await http.request<V1Service>('GET', path));
          } catch (err) {
            if (err instanceof KubeHttpError && err.code === 404) return null;
            throw err;
          }
        }),
      ),
  };
}
