// The web UI's port to the API server. Every call is made AS the logged-in user: either with the user's ID token
// as the bearer token (the cluster trusts the same IdP) or with the web UI's own credentials plus impersonation
// headers. Nothing is ever read with the web UI's own identity, so RBAC decides what each user sees and does.
import { readFileSync } from 'node:fs';
import { eachJsonLine } from '../lib/kube/json-lines.ts';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { API_VERSION, GROUP, KIND, PLURAL, VERSION, type AccessRequest, type AccessRequestSpec } from '../lib/api/accessrequest.ts';
import type { ResourceCheck } from '../lib/domain/parts.ts';
import { impersonable, type Identity } from './identity.ts';

export type Actor = { kind: 'token'; token: string } | { kind: 'impersonate'; identity: Identity };

export class KubeError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly reason?: string,
  ) {
    super(message);
    this.name = 'KubeError';
  }
}

export interface ServiceSummary {
  namespace: string;
  name: string;
  ports: { port: number; protocol: string; name?: string }[];
}

export interface PolicySummary {
  namespace: string;
  name: string;
  policyTypes: string[];
  ownerKind?: string;
  ownerName?: string;
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: AccessRequest;
}

export interface Watch {
  stop(): void;
}

export interface RequestList {
  items: AccessRequest[];
  resourceVersion: string;
}

/** What the web UI does toward the API server, as one user. */
export interface UserKube {
  listRequests(): Promise<RequestList>;
  getRequest(name: string): Promise<AccessRequest>;
  createRequest(spec: AccessRequestSpec): Promise<AccessRequest>;
  /** JSON merge patch of the status subresource, with the resourceVersion as a precondition. */
  patchStatus(name: string, resourceVersion: string, status: Record<string, unknown>): Promise<AccessRequest>;
  /** SelfSubjectAccessReview for each check, as the user. */
  canI(checks: ResourceCheck[]): Promise<boolean[]>;
  /** Services the user may list, cluster-wide; null when the user may not list them. */
  listServices(): Promise<ServiceSummary[] | null>;
  /** NetworkPolicies of one namespace; null when the user may not list them. */
  listNetworkPolicies(namespace: string): Promise<PolicySummary[] | null>;
  watchRequests(resourceVersion: string, onEvent: (e: WatchEvent) => void, onEnd: (err?: Error) => void): Watch;
}

export interface KubeGateway {
  forActor(actor: Actor): UserKube;
}

const AR_PATH = `/apis/${GROUP}/${VERSION}/${PLURAL}`;

interface Target {
  server: URL;
  ca?: Buffer | string;
  rejectUnauthorized: boolean;
}

function targetOf(kc: KubeConfig): Target {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const t: Target = { server: new URL(cluster.server), rejectUnauthorized: !cluster.skipTLSVerify };
  if (cluster.caData) t.ca = Buffer.from(cluster.caData, 'base64');
  // In-cluster config names the CA by file (the ServiceAccount mount).
  else if (cluster.caFile) t.ca = readFileSync(cluster.caFile);
  return t;
}

/**
 * `kc` holds the web UI's own connection: the server and CA in both modes, and in impersonation mode the
 * credentials that carry the impersonation headers.
 */
export function kubeGateway(kc: KubeConfig): KubeGateway {
  const target = targetOf(kc);
  const agent = new https.Agent({ keepAlive: true, maxSockets: 64 });

  async function options(actor: Actor, method: string, path: string, headers: Record<string, string | string[]>): Promise<https.RequestOptions> {
    const opts: https.RequestOptions = {
      method,
      protocol: target.server.protocol,
      hostname: target.server.hostname,
      port: target.server.port,
      path: target.server.pathname.replace(/\/$/, '') + path,
      agent,
      rejectUnauthorized: target.rejectUnauthorized,
      headers: { Accept: 'application/json', ...headers },
    };
    if (target.ca) opts.ca = target.ca;
    if (actor.kind === 'token') {
      (opts.headers as Record<string, string>)['Authorization'] = `Bearer ${actor.token}`;
      return opts;
    }
    const who = impersonable(actor.identity);
    if (!who) throw new KubeError(403, 'this user may not be impersonated');
    await kc.applyToHTTPSOptions(opts);
    const h = opts.headers as Record<string, string | string[]>;
    h['Impersonate-User'] = who.username;
    if (who.groups.length > 0) h['Impersonate-Group'] = who.groups;
    return opts;
  }

  function call<T>(actor: Actor, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    return options(actor, method, path, body === undefined ? {} : { 'Content-Type': contentType }).then(
      (opts) =>
        new Promise<T>((resolve, reject) => {
          const req = https.request(opts, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              let parsed: unknown;
              try {
                parsed = text ? JSON.parse(text) : {};
              } catch {
                parsed = { message: text.slice(0, 500) };
              }
              const status = res.statusCode ?? 500;
              if (status >= 200 && status < 300) return resolve(parsed as T);
              const s = parsed as { message?: string; reason?: string };
              reject(new KubeError(status, s.message ?? `the API server answered ${status}`, s.reason));
            });
            res.on('error', reject);
          });
          req.setTimeout(30_000, () => req.destroy(new Error('API server request timed out')));
          req.on('error', reject);
          if (body !== undefined) req.end(JSON.stringify(body));
          else req.end();
        }),
    );
  }

  function forActor(actor: Actor): UserKube {
    return {
      async listRequests() {
        const list = await call<{ items: AccessRequest[]; metadata: { resourceVersion: string } }>(actor, 'GET', AR_PATH);
        return { items: list.items, resourceVersion: list.metadata.resourceVersion };
      },
      getRequest(name) {
        return call<AccessRequest>(actor, 'GET', `${AR_PATH}/${encodeURIComponent(name)}`);
      },
      createRequest(spec) {
        const body = { apiVersion: API_VERSION, kind: KIND, metadata: { generateName: 'ar-' }, spec };
        return call<AccessRequest>(actor, 'POST', AR_PATH, body);
      },
      patchStatus(name, resourceVersion, status) {
        return call<AccessRequest>(
          actor,
          'PATCH',
          `${AR_PATH}/${encodeURIComponent(name)}/status`,
          { metadata: { resourceVersion }, status },
          'application/merge-patch+json',
        );
      },
      async canI(checks) {
        return Promise.all(
          checks.map(async (c) => {
            const review = await call<{ status?: { allowed?: boolean } }>(actor, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
              apiVersion: 'authorization.k8s.io/v1',
              kind: 'SelfSubjectAccessReview',
              spec: { resourceAttributes: { verb: c.verb, group: c.group, resource: c.resource, namespace: c.namespace } },
            });
            return review.status?.allowed === true;
          }),
        );
      },
      async listServices() {
        try {
          const list = await call<{ items: { metadata: { namespace: string; name: string }; spec?: { ports?: ServiceSummary['ports'] } }[] }>(
            actor,
            'GET',
            '/api/v1/services?limit=2000',
          );
          return list.items.map((s) => ({ namespace: s.metadata.namespace, name: s.metadata.name, ports: s.spec?.ports ?? [] }));
        } catch (err) {
          if (err instanceof KubeError && (err.status === 403 || err.status === 401)) return null;
          throw err;
        }
      },
      async listNetworkPolicies(namespace) {
        try {
          type Np = { metadata: { namespace: string; name: string; ownerReferences?: { kind: string; name: string }[] }; spec?: { policyTypes?: string[] } };
          const list = await call<{ items: Np[] }>(actor, 'GET', `/apis/networking.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/networkpolicies`);
          return list.items.map((p) => {
            const owner = p.metadata.ownerReferences?.[0];
            const s: PolicySummary = { namespace: p.metadata.namespace, name: p.metadata.name, policyTypes: p.spec?.policyTypes ?? [] };
            if (owner) {
              s.ownerKind = owner.kind;
              s.ownerName = owner.name;
            }
            return s;
          });
        } catch (err) {
          if (err instanceof KubeError && (err.status === 403 || err.status === 401)) return null;
          throw err;
        }
      },
      watchRequests(resourceVersion, onEvent, onEnd) {
        let req: ReturnType<typeof https.request> | undefined;
        let ended = false;
        const end = (err?: Error) => {
          if (ended) return;
          ended = true;
          req?.destroy();
          onEnd(err);
        };
        const path = `${AR_PATH}?watch=true&allowWatchBookmarks=true&resourceVersion=${encodeURIComponent(resourceVersion)}`;
        options(actor, 'GET', path, {}).then(
          (opts) => {
            if (ended) return;
            req = https.request(opts, (res) => {
              if (res.statusCode !== 200) {
                res.resume();
                return end(new KubeError(res.statusCode ?? 500, `watch answered ${res.statusCode}`));
              }
              eachJsonLine(
                res,
                (value) => {
                  const e = value as WatchEvent;
                  if (e.type === 'ERROR') {
                    end(new KubeError(410, 'watch expired'));
                    return false;
                  }
                  onEvent(e);
                },
                (err) => end(err),
              );
              res.on('end', () => end());
              res.on('error', (err) => end(err));
            });
            req.on('error', (err) => end(err));
            req.end();
          },
          (err: unknown) => end(err as Error),
        );
        return { stop: () => end() };
      },
    };
  }

  return { forActor };
}
