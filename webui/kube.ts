// The web UI's port to the API server. Every call is made AS the logged-in user: either with the user's ID token
// as the bearer token (the cluster trusts the same IdP) or with the web UI's own credentials plus impersonation
// headers (lib/kube/transport.ts does both). Nothing is ever read with the web UI's own identity, so RBAC decides
// what each user sees and does.
import type { KubeConfig } from '@kubernetes/client-node';
import { API_VERSION, GROUP, KIND, PLURAL, VERSION, type AccessRequest, type AccessRequestSpec } from '../lib/api/accessrequest.ts';
import type { ResourceCheck } from '../lib/domain/parts.ts';
import { isForbidden, isNotFound } from '../lib/kube/errors.ts';
import type { PreviewReader } from '../lib/domain/preview.ts';
import type { NetworkPolicy, Pod, Service } from '../lib/kube/types.ts';
import { KubeTransport, type Method } from '../lib/kube/transport.ts';
import type { Identity } from './identity.ts';

export { KubeError } from '../lib/kube/errors.ts';

export type Actor = { kind: 'token'; token: string } | { kind: 'impersonate'; identity: Identity };

export interface ServiceSummary {
  namespace: string;
  name: string;
  ports: { port: number; protocol: string; name?: string }[];
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
  watchRequests(resourceVersion: string, onEvent: (e: WatchEvent) => void, onEnd: (err?: Error) => void): Watch;
  /** The reads of a request's preview (lib/domain/preview.ts), as the user: refusals are errors it names. */
  previewReader(): PreviewReader;
}

export interface KubeGateway {
  forActor(actor: Actor): UserKube;
}

const AR_PATH = `/apis/${GROUP}/${VERSION}/${PLURAL}`;

/**
 * `kc` holds the web UI's own connection: the server and CA in both modes, and in impersonation mode the
 * credentials that carry the impersonation headers.
 */
export function kubeGateway(kc: KubeConfig): KubeGateway {
  const transport = new KubeTransport(kc, { maxSockets: 64, userAgent: 'netwatch-webui' });

  function forActor(actor: Actor): UserKube {
    const call = <T>(method: Method, path: string, body?: unknown, contentType?: string): Promise<T> =>
      transport.request<T>(method, path, { as: actor, body, ...(contentType ? { contentType } : {}) });
    /** What the user may not read is null, not an error: the pages then show less. */
    const unlessForbidden = async <T>(read: Promise<T>): Promise<T | null> => {
      try {
        return await read;
      } catch (err) {
        if (isForbidden(err)) return null;
        throw err;
      }
    };
    return {
      async listRequests() {
        const list = await call<{ items: AccessRequest[]; metadata: { resourceVersion: string } }>('GET', AR_PATH);
        return { items: list.items, resourceVersion: list.metadata.resourceVersion };
      },
      getRequest(name) {
        return call<AccessRequest>('GET', `${AR_PATH}/${encodeURIComponent(name)}`);
      },
      createRequest(spec) {
        const body = { apiVersion: API_VERSION, kind: KIND, metadata: { generateName: 'ar-' }, spec };
        return call<AccessRequest>('POST', AR_PATH, body);
      },
      patchStatus(name, resourceVersion, status) {
        return call<AccessRequest>('PATCH', `${AR_PATH}/${encodeURIComponent(name)}/status`, { metadata: { resourceVersion }, status }, 'application/merge-patch+json');
      },
      async canI(checks) {
        return Promise.all(
          checks.map(async (c) => {
            const review = await call<{ status?: { allowed?: boolean } }>('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
              apiVersion: 'authorization.k8s.io/v1',
              kind: 'SelfSubjectAccessReview',
              spec: { resourceAttributes: { verb: c.verb, group: c.group, resource: c.resource, namespace: c.namespace } },
            });
            return review.status?.allowed === true;
          }),
        );
      },
      async listServices() {
        type Svc = { metadata: { namespace: string; name: string }; spec?: { ports?: ServiceSummary['ports'] } };
        const list = await unlessForbidden(call<{ items: Svc[] }>('GET', '/api/v1/services?limit=2000'));
        return list && list.items.map((s) => ({ namespace: s.metadata.namespace, name: s.metadata.name, ports: s.spec?.ports ?? [] }));
      },
      previewReader() {
        const ns = (namespace: string) => `/namespaces/${encodeURIComponent(namespace)}`;
        return {
          async getService(namespace, name) {
            try {
              return await call<Service>('GET', `/api/v1${ns(namespace)}/services/${encodeURIComponent(name)}`);
            } catch (err) {
              if (isNotFound(err)) return null;
              throw err;
            }
          },
          async listPods(namespace) {
            return (await call<{ items?: Pod[] }>('GET', `/api/v1${ns(namespace)}/pods`)).items ?? [];
          },
          async listNetworkPolicies(namespace) {
            return (await call<{ items?: NetworkPolicy[] }>('GET', `/apis/networking.k8s.io/v1${ns(namespace)}/networkpolicies`)).items ?? [];
          },
        };
      },
      watchRequests(resourceVersion, onEvent, onEnd) {
        const path = `${AR_PATH}?watch=true&allowWatchBookmarks=true&resourceVersion=${encodeURIComponent(resourceVersion)}`;
        return transport.watch<AccessRequest>(path, onEvent, onEnd, { as: actor });
      },
    };
  }

  return { forActor };
}
