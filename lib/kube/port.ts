// The kube client port the controller depends on: a read side served from informer caches and a small REST write
// side. `http.ts` implements it over the real API server, `fake.ts` in memory for unit tests of the logic.
import type { KubeObject } from './types.ts';
import type { ClusterCache } from './cache.ts';

export interface ResourceInfo {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

export const RESOURCES = {
  accessrequests: { group: 'netwatch.vtk.io', version: 'v1alpha1', plural: 'accessrequests', kind: 'AccessRequest', namespaced: false },
  accesspolicies: { group: 'netwatch.vtk.io', version: 'v1alpha1', plural: 'accesspolicies', kind: 'AccessPolicy', namespaced: true },
  services: { group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true },
  accesses: { group: 'maxtac.vtk.io', version: 'v1alpha1', plural: 'accesses', kind: 'Access', namespaced: true },
  externalaccesses: { group: 'maxtac.vtk.io', version: 'v1alpha1', plural: 'externalaccesses', kind: 'ExternalAccess', namespaced: true },
  networkpolicies: { group: 'networking.k8s.io', version: 'v1', plural: 'networkpolicies', kind: 'NetworkPolicy', namespaced: true },
  events: { group: '', version: 'v1', plural: 'events', kind: 'Event', namespaced: true },
  leases: { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true },
  configmaps: { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true },
  namespaces: { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false },
  pods: { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true },
  roles: { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'roles', kind: 'Role', namespaced: true },
  clusterroles: { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterroles', kind: 'ClusterRole', namespaced: false },
  rolebindings: { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'rolebindings', kind: 'RoleBinding', namespaced: true },
  clusterrolebindings: { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterrolebindings', kind: 'ClusterRoleBinding', namespaced: false },
} as const satisfies Record<string, ResourceInfo>;

export type Resource = keyof typeof RESOURCES;

export function resourceOfKind(kind: string): Resource {
  for (const [name, info] of Object.entries(RESOURCES)) if (info.kind === kind) return name as Resource;
  throw new Error(`unknown kind ${kind}`);
}

export function apiVersionOf(resource: Resource): string {
  const info = RESOURCES[resource];
  return info.group ? `${info.group}/${info.version}` : info.version;
}

// The port's errors are the transport's (errors.ts); the fake throws the same ones.
export { KubeError, isAlreadyExists, isConflict, isNotFound, isRace } from './errors.ts';

export interface DeleteOptions {
  /** Precondition: delete only this incarnation. */
  uid?: string;
  resourceVersion?: string;
}

export interface KubePort {
  readonly cache: ClusterCache;
  /** Starts the informers; resolves once every cache has synced. */
  start(): Promise<void>;
  stop(): Promise<void>;
  get<T extends KubeObject>(resource: Resource, namespace: string, name: string): Promise<T | undefined>;
  create<T extends KubeObject>(resource: Resource, obj: T): Promise<T>;
  /** PUT of the whole object; `metadata.resourceVersion` is the precondition. */
  replace<T extends KubeObject>(resource: Resource, obj: T): Promise<T>;
  /** PUT of the status subresource; `metadata.resourceVersion` is the precondition. */
  replaceStatus<T extends KubeObject>(resource: Resource, obj: T): Promise<T>;
  /** Sets metadata.finalizers, guarded by resourceVersion (a JSON merge patch carrying the resourceVersion). */
  setFinalizers<T extends KubeObject>(resource: Resource, namespace: string, name: string, resourceVersion: string, finalizers: string[]): Promise<T>;
  delete(resource: Resource, namespace: string, name: string, options?: DeleteOptions): Promise<void>;
}
