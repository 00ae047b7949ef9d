// What the notifier asks of the Kubernetes API: AccessRequests and AccessPolicies (the routes their rules name) from
// informer caches, a live read, the Namespace's annotations, the ledger annotation written with a resourceVersion precondition, and Events. Its RBAC is exactly
// this (manifests/notifier/rbac.yaml): it cannot touch a request's spec or status, and the admission webhook refuses
// it netwatch's finalizers.
import type { KubeConfig } from '@kubernetes/client-node';
import type { AccessRequest } from '../lib/api/accessrequest.ts';
import type { CachedResource, ClusterCache } from '../lib/kube/cache.ts';
import { HttpKube, resourcePath } from '../lib/kube/http.ts';
import type { CoreEvent, KubeObject } from '../lib/kube/types.ts';
import { ANNOTATION_LEDGER } from './ledger.ts';

export interface NotifierKube {
  readonly cache: ClusterCache;
  /** Starts the AccessRequest and AccessPolicy informers; resolves once they synced. */
  start(): Promise<void>;
  stop(): Promise<void>;
  getRequest(name: string): Promise<AccessRequest | undefined>;
  /** A Namespace's annotations; undefined when it does not exist. */
  namespaceAnnotations(name: string): Promise<Record<string, string> | undefined>;
  /** Sets the ledger annotation; Conflict when the request is no longer at `resourceVersion`. */
  writeLedger(name: string, resourceVersion: string, value: string): Promise<AccessRequest>;
  createEvent(event: CoreEvent): Promise<void>;
}

export function httpNotifierKube(kc: KubeConfig, onInformerError: (resource: CachedResource, err: unknown) => void): NotifierKube {
  const kube = new HttpKube(kc, { maxSockets: 8, cached: ['accessrequests', 'accesspolicies'], onInformerError });
  return {
    cache: kube.cache,
    start: () => kube.start(),
    stop: () => kube.stop(),
    getRequest: (name) => kube.get<AccessRequest & KubeObject>('accessrequests', '', name),
    async namespaceAnnotations(name) {
      const ns = await kube.get('namespaces', '', name);
      return ns ? (ns.metadata.annotations ?? {}) : undefined;
    },
    // A JSON merge patch carrying metadata.resourceVersion: the API server answers Conflict when the object moved
    // on, so of two replicas claiming the same delivery only one succeeds.
    writeLedger: (name, resourceVersion, value) =>
      kube.call<AccessRequest>('PATCH', resourcePath('accessrequests', '', name), { metadata: { resourceVersion, annotations: { [ANNOTATION_LEDGER]: value } } }, 'application/merge-patch+json'),
    async createEvent(event) {
      await kube.create('events', event);
    },
  };
}
