// An in-memory implementation of the KubePort, for unit tests of the controller logic (never for end-to-end
// tests). It keeps the API server semantics the controller relies on: uids, resourceVersion preconditions,
// AlreadyExists, status subresources, finalizers delaying deletion, and a cache fed on every write: at once by
// default, or late, as watch events are, so the controller's stale-cache paths run in unit tests too.
import { randomUUID } from 'node:crypto';
import type { KubeObject } from '../../lib/kube/types.ts';
import { ClusterCache } from '../../lib/kube/cache.ts';
import { KubeError, RESOURCES, apiVersionOf, type DeleteOptions, type KubePort, type Resource } from '../../lib/kube/port.ts';
import { CACHED_RESOURCES, type CachedResource } from '../../lib/kube/cache.ts';

const WITH_STATUS: readonly Resource[] = ['accessrequests', 'accesses', 'externalaccesses'];

export interface FakeCall {
  verb: 'create' | 'replace' | 'replaceStatus' | 'setFinalizers' | 'delete' | 'get';
  resource: Resource;
  namespace: string;
  name: string;
}

export interface FakeKubeOptions {
  /** Every cache update arrives this many milliseconds after its write (in write order) instead of at once. */
  cacheDelayMs?: number;
}

/** One write as the cache hears of it: the object as the write left it. */
export interface CacheUpdate {
  resource: CachedResource;
  obj: KubeObject;
  type: 'add' | 'update' | 'delete';
}

export class FakeKube implements KubePort {
  readonly cache = new ClusterCache();
  readonly calls: FakeCall[] = [];
  private readonly objects = new Map<string, KubeObject>();
  private rv = 1;
  /** Makes the next matching call fail with this error (once). */
  private faults: { match: (c: FakeCall) => boolean; error: Error }[] = [];
  /** Cache updates written while the cache is held, oldest first; undefined while updates flow. */
  private held: CacheUpdate[] | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly options: FakeKubeOptions = {}) {}

  /** From now on cache updates wait, as watch events can, until `releaseCache` or `resumeCache` delivers them. */
  holdCache(): void {
    this.held ??= [];
  }

  /**
   * Delivers the held updates that `which` selects (all by default), in write order; the others stay held.
   * Returns how many were delivered.
   */
  releaseCache(which: (u: CacheUpdate) => boolean = () => true): number {
    const held = this.held ?? [];
    const now = held.filter(which);
    this.held = held.filter((u) => !which(u));
    for (const u of now) this.cache.apply(u.resource, u.obj, u.type);
    return now.length;
  }

  /** Delivers everything held and lets updates flow again. */
  resumeCache(): void {
    this.releaseCache();
    this.held = undefined;
  }

  /** How many cache updates are written but not delivered yet (held or delayed). */
  get undelivered(): number {
    return (this.held?.length ?? 0) + this.timers.size;
  }

  injectFault(match: (c: FakeCall) => boolean, error: Error): void {
    this.faults.push({ match, error });
  }

  private record(call: FakeCall): void {
    this.calls.push(call);
    const i = this.faults.findIndex((f) => f.match(call));
    if (i >= 0) {
      const [f] = this.faults.splice(i, 1);
      throw f!.error;
    }
  }

  private k(resource: Resource, namespace: string, name: string): string {
    return `${resource}|${RESOURCES[resource].namespaced ? namespace : ''}|${name}`;
  }

  private feed(resource: Resource, obj: KubeObject, type: 'add' | 'update' | 'delete'): void {
    if (!(CACHED_RESOURCES as readonly string[]).includes(resource)) return;
    const update: CacheUpdate = { resource: resource as CachedResource, obj: structuredClone(obj), type };
    if (this.held) {
      this.held.push(update);
    } else if (this.options.cacheDelayMs !== undefined) {
      // Timers of equal delay fire in the order they were set: updates keep their write order.
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.cache.apply(update.resource, update.obj, update.type);
      }, this.options.cacheDelayMs);
      this.timers.add(timer);
    } else {
      this.cache.apply(update.resource, update.obj, update.type);
    }
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** Every stored object of a resource (a test's view of the "API server"). */
  all<T extends KubeObject>(resource: Resource): T[] {
    return [...this.objects.entries()].filter(([k]) => k.startsWith(`${resource}|`)).map(([, v]) => structuredClone(v) as T);
  }

  async get<T extends KubeObject>(resource: Resource, namespace: string, name: string): Promise<T | undefined> {
    this.record({ verb: 'get', resource, namespace, name });
    const o = this.objects.get(this.k(resource, namespace, name));
    return o ? (structuredClone(o) as T) : undefined;
  }

  async create<T extends KubeObject>(resource: Resource, obj: T): Promise<T> {
    const name = obj.metadata.name ?? '';
    const namespace = RESOURCES[resource].namespaced ? (obj.metadata.namespace ?? '') : '';
    this.record({ verb: 'create', resource, namespace, name });
    const k = this.k(resource, namespace, name);
    if (this.objects.has(k)) throw new KubeError(409, 'AlreadyExists', `${resource} "${name}" already exists`);
    const stored = structuredClone(obj) as KubeObject & { status?: unknown };
    stored.apiVersion = apiVersionOf(resource);
    stored.kind = RESOURCES[resource].kind;
    if (WITH_STATUS.includes(resource)) delete stored.status;
    stored.metadata = { ...stored.metadata, namespace: namespace || undefined, uid: randomUUID(), resourceVersion: String(this.rv++), generation: 1, creationTimestamp: new Date().toISOString() };
    if (!namespace) delete stored.metadata.namespace;
    this.objects.set(k, stored);
    this.feed(resource, stored, 'add');
    return structuredClone(stored) as T;
  }

  private current(resource: Resource, namespace: string, name: string, resourceVersion: string | undefined): KubeObject {
    const cur = this.objects.get(this.k(resource, namespace, name));
    if (!cur) throw new KubeError(404, 'NotFound', `${resource} "${name}" not found`);
    if (resourceVersion !== undefined && cur.metadata.resourceVersion !== resourceVersion) {
      throw new KubeError(409, 'Conflict', `Operation cannot be fulfilled on ${resource} "${name}": the object has been modified`);
    }
    return cur;
  }

  private store(resource: Resource, next: KubeObject): KubeObject {
    next.metadata.resourceVersion = String(this.rv++);
    const k = this.k(resource, next.metadata.namespace ?? '', next.metadata.name ?? '');
    if (next.metadata.deletionTimestamp && (next.metadata.finalizers ?? []).length === 0) {
      this.objects.delete(k);
      this.feed(resource, next, 'delete');
    } else {
      this.objects.set(k, next);
      this.feed(resource, next, 'update');
    }
    return structuredClone(next);
  }

  async replace<T extends KubeObject>(resource: Resource, obj: T): Promise<T> {
    const namespace = obj.metadata.namespace ?? '';
    this.record({ verb: 'replace', resource, namespace, name: obj.metadata.name ?? '' });
    const cur = this.current(resource, namespace, obj.metadata.name ?? '', obj.metadata.resourceVersion) as KubeObject & { status?: unknown };
    const next = structuredClone(obj) as KubeObject & { status?: unknown };
    next.metadata = { ...next.metadata, uid: cur.metadata.uid, creationTimestamp: cur.metadata.creationTimestamp, deletionTimestamp: cur.metadata.deletionTimestamp, generation: cur.metadata.generation };
    if (WITH_STATUS.includes(resource)) next.status = cur.status;
    return this.store(resource, next) as T;
  }

  async replaceStatus<T extends KubeObject>(resource: Resource, obj: T): Promise<T> {
    const namespace = obj.metadata.namespace ?? '';
    this.record({ verb: 'replaceStatus', resource, namespace, name: obj.metadata.name ?? '' });
    const cur = this.current(resource, namespace, obj.metadata.name ?? '', obj.metadata.resourceVersion);
    const next = structuredClone(cur) as KubeObject & { status?: unknown };
    next.status = structuredClone((obj as KubeObject & { status?: unknown }).status);
    return this.store(resource, next) as T;
  }

  async setFinalizers<T extends KubeObject>(resource: Resource, namespace: string, name: string, resourceVersion: string, finalizers: string[]): Promise<T> {
    this.record({ verb: 'setFinalizers', resource, namespace, name });
    const cur = this.current(resource, namespace, name, resourceVersion);
    const next = structuredClone(cur);
    next.metadata.finalizers = [...finalizers];
    return this.store(resource, next) as T;
  }

  async delete(resource: Resource, namespace: string, name: string, options: DeleteOptions = {}): Promise<void> {
    this.record({ verb: 'delete', resource, namespace, name });
    const cur = this.current(resource, namespace, name, options.resourceVersion);
    if (options.uid && cur.metadata.uid !== options.uid) throw new KubeError(409, 'Conflict', `Precondition failed: UID in precondition: ${options.uid}, UID in object meta: ${cur.metadata.uid}`);
    if ((cur.metadata.finalizers ?? []).length > 0) {
      if (cur.metadata.deletionTimestamp) return;
      const next = structuredClone(cur);
      next.metadata.deletionTimestamp = new Date().toISOString();
      this.store(resource, next);
      return;
    }
    this.objects.delete(this.k(resource, namespace, name));
    this.feed(resource, cur, 'delete');
  }
}
