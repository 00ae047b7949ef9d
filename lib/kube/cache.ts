// The read side: one map per cached resource, indexed by `namespace/name`, by uid and by namespace, fed by
// informers (real) or by the fake API server. Listeners hear every change (level-based consumers
// only use them to know *what* to look at again).
import type { KubeObject } from './types.ts';

/** The resources the controller caches through informers. */
export type CachedResource = 'accessrequests' | 'services' | 'accesses' | 'externalaccesses' | 'networkpolicies' | 'pods' | RbacResource | 'accesspolicies';
/** RBAC, read to tell who may approve a part (lib/domain/approvers.ts). */
export type RbacResource = 'roles' | 'clusterroles' | 'rolebindings' | 'clusterrolebindings';
export const RBAC_RESOURCES: readonly RbacResource[] = ['roles', 'clusterroles', 'rolebindings', 'clusterrolebindings'];
/** What the controller caches (the default of HttpKube); AccessPolicies are cached by the webhook only. */
export const CACHED_RESOURCES: readonly CachedResource[] = ['accessrequests', 'services', 'accesses', 'externalaccesses', 'networkpolicies', 'pods', ...RBAC_RESOURCES];
const CACHEABLE: readonly CachedResource[] = [...CACHED_RESOURCES, 'accesspolicies'];

export type ChangeListener = (resource: CachedResource, obj: KubeObject, type: 'add' | 'update' | 'delete') => void;

class Store {
  readonly byKey = new Map<string, KubeObject>();
  readonly byUid = new Map<string, KubeObject>();
  readonly byNamespace = new Map<string, Map<string, KubeObject>>();

  upsert(obj: KubeObject): void {
    const k = keyOf(obj);
    const old = this.byKey.get(k);
    if (old) this.remove(old);
    this.byKey.set(k, obj);
    if (obj.metadata.uid) this.byUid.set(obj.metadata.uid, obj);
    mapOf(this.byNamespace, obj.metadata.namespace ?? '').set(k, obj);
  }

  remove(obj: KubeObject): void {
    const k = keyOf(obj);
    const cur = this.byKey.get(k);
    if (!cur) return;
    this.byKey.delete(k);
    if (cur.metadata.uid) this.byUid.delete(cur.metadata.uid);
    const ns = this.byNamespace.get(cur.metadata.namespace ?? '');
    ns?.delete(k);
    if (ns?.size === 0) this.byNamespace.delete(cur.metadata.namespace ?? '');
  }
}

function mapOf<K, V>(m: Map<K, Map<string, V>>, k: K): Map<string, V> {
  let inner = m.get(k);
  if (!inner) m.set(k, (inner = new Map<string, V>()));
  return inner;
}

export function keyOf(obj: KubeObject): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`;
}

export class ClusterCache {
  private readonly stores = new Map<CachedResource, Store>(CACHEABLE.map((r) => [r, new Store()]));
  private readonly listeners: ChangeListener[] = [];

  onChange(listener: ChangeListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  private store(resource: CachedResource): Store {
    const s = this.stores.get(resource);
    if (!s) throw new Error(`${resource} is not cached`);
    return s;
  }

  /** Called by the feeding side. */
  apply(resource: CachedResource, obj: KubeObject, type: 'add' | 'update' | 'delete'): void {
    const s = this.store(resource);
    if (type === 'delete') s.remove(obj);
    else s.upsert(obj);
    for (const l of [...this.listeners]) l(resource, obj, type);
  }

  /** Replaces a whole resource after a relist, reporting removals as deletes. */
  clear(resource: CachedResource): void {
    this.stores.set(resource, new Store());
  }

  get<T extends KubeObject>(resource: CachedResource, namespace: string, name: string): T | undefined {
    return this.store(resource).byKey.get(`${namespace}/${name}`) as T | undefined;
  }

  byUid<T extends KubeObject>(resource: CachedResource, uid: string): T | undefined {
    return this.store(resource).byUid.get(uid) as T | undefined;
  }

  inNamespace<T extends KubeObject>(resource: CachedResource, namespace: string): T[] {
    return [...(this.store(resource).byNamespace.get(namespace)?.values() ?? [])] as T[];
  }

  list<T extends KubeObject>(resource: CachedResource): T[] {
    return [...this.store(resource).byKey.values()] as T[];
  }

  size(resource: CachedResource): number {
    return this.store(resource).byKey.size;
  }
}
