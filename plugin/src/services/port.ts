// The plugin's port to the API server. Everything the commands and the TUI do to the cluster goes through this
// small interface, so services and reducers are tested against an in-memory implementation and only kube.ts
// speaks HTTP. Every call is made with the user's own kubeconfig credentials: RBAC applies to the user. What the
// API server refuses, or a call that gets no answer, is a KubeError (lib/kube/errors.ts).
import type { AccessRequest } from '../../../lib/api/accessrequest.ts';
import type { ResourceCheck } from '../../../lib/domain/parts.ts';
import type { KubeObject, Namespace, NetworkPolicy, Pod, Service } from '../../../lib/kube/types.ts';

export interface ContextInfo {
  /** kubeconfig context name. */
  context: string;
  server: string;
  /** The context's namespace (or `-n`), `default` when neither is set. */
  namespace: string;
}

export interface Identity {
  username: string;
  uid?: string;
  groups: string[];
}

export interface RequestList {
  items: AccessRequest[];
  resourceVersion: string;
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: AccessRequest;
}

export interface Watch {
  stop(): void;
}

/** Namespaced kinds the detail view shows: the clones, the maxtac objects and maxtac's NetworkPolicies. */
export type DetailKind = 'services' | 'accesses' | 'externalaccesses' | 'networkpolicies';

export interface ClusterPort {
  readonly info: ContextInfo;
  whoAmI(): Promise<Identity>;
  listRequests(): Promise<RequestList>;
  getRequest(name: string): Promise<AccessRequest>;
  /** Creates the request; `dryRun` asks the API server (and its admission webhooks) without persisting. */
  createRequest(body: AccessRequest, opts?: { dryRun?: boolean }): Promise<AccessRequest>;
  /** JSON merge patch of the /status subresource, with `resourceVersion` as the optimistic-lock precondition. */
  patchStatus(name: string, resourceVersion: string, status: Record<string, unknown>): Promise<AccessRequest>;
  /** Watches AccessRequests from `resourceVersion`; `onEnd` is called once when the watch ends (err on failure). */
  watchRequests(resourceVersion: string, onEvent: (e: WatchEvent) => void, onEnd: (err?: Error) => void): Watch;
  /** One SelfSubjectAccessReview per check, as the user; answers in the same order. */
  canI(checks: readonly ResourceCheck[]): Promise<boolean[]>;
  listNamespaces(): Promise<string[]>;
  listServices(namespace: string): Promise<Service[]>;
  getService(namespace: string, name: string): Promise<Service | null>;
  /** Objects of one kind in a namespace with a label selector (`a=b,c=d`). */
  listLabelled(kind: DetailKind, namespace: string, labelSelector: string): Promise<(KubeObject | NetworkPolicy)[]>;
  /** Pods of a namespace (their labels, addresses and container ports: what `why` evaluates). */
  listPods(namespace: string): Promise<Pod[]>;
  /** A namespace with its labels, or null when it does not exist. */
  getNamespace(name: string): Promise<Namespace | null>;
}

/**
 * The reads only `why` makes. The list path's port (KubePort, kube.ts) leaves them out: every method of that class
 * is in the list path's bundle, which must not grow (build.ts); the CLI's port (kube-cli.ts) adds them.
 */
export type ListPort = Omit<ClusterPort, 'listPods' | 'getNamespace'>;
