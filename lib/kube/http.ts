// The real KubePort: REST over the Kubernetes transport (transport.ts) and informer caches (informer.ts) fed by
// its watches.
import type { KubeConfig } from '@kubernetes/client-node';
import type { KubeObject, Pod } from './types.ts';
import { ClusterCache } from './cache.ts';
import { isExpired, isNotFound } from './errors.ts';
import { Informer } from './informer.ts';
import { KubeTransport, type Method } from './transport.ts';
import { RESOURCES, apiVersionOf, type DeleteOptions, type KubePort, type Resource } from './port.ts';
import { CACHED_RESOURCES, type CachedResource } from './cache.ts';

export interface HttpKubeOptions {
  /** Upper bound of concurrent sockets to the API server. */
  maxSockets?: number;
  /** How long one request may take (default 30 s). */
  timeoutMs?: number;
  /** Label selector per cached resource (e.g. only netwatch-managed Services). */
  selectors?: Partial<Record<CachedResource, string>>;
  /** Resources to cache; default all. */
  cached?: readonly CachedResource[];
  onInformerError?: (resource: CachedResource, err: unknown) => void;
  /**
   * Keep `metadata.managedFields` on cached objects. Off by default, as client-go controllers strip them: nothing
   * here reads them, they are often half of an object's memory, and an update sent from a cached object still
   * keeps the stored ones (the API server takes the live object's managedFields when an update carries none).
   */
  keepManagedFields?: boolean;
}

interface List<T> {
  items: T[];
  metadata?: { resourceVersion?: string; continue?: string };
}

/** Objects per page of an informer's list (client-go's informers use 500). */
const LIST_PAGE_SIZE = 500;

export function resourcePath(resource: Resource, namespace: string, name?: string, subresource?: string): string {
  const info = RESOURCES[resource];
  let p = info.group ? `/apis/${info.group}/${info.version}` : `/api/${info.version}`;
  if (info.namespaced && namespace) p += `/namespaces/${encodeURIComponent(namespace)}`;
  p += `/${info.plural}`;
  if (name) p += `/${encodeURIComponent(name)}`;
  if (subresource) p += `/${subresource}`;
  return p;
}

export class HttpKube implements KubePort {
  readonly cache = new ClusterCache();
  private readonly transport: KubeTransport;
  private readonly informers: Informer<KubeObject>[] = [];
  /** Requests made, by method (for benchmarks and debugging). */
  readonly requestCounts = new Map<string, number>();

  constructor(
    kc: KubeConfig,
    private readonly options: HttpKubeOptions = {},
  ) {
    this.transport = new KubeTransport(kc, {
      maxSockets: options.maxSockets ?? 64,
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      userAgent: 'netwatch',
    });
  }

  async call<T>(method: Method, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const counted = `${method} ${/\/(\w+)(?:\/[^/?]+)?(?:\/(status))?(?:\?.*)?$/.exec(path)?.slice(1).filter(Boolean).join('/') ?? path}`;
    this.requestCounts.set(counted, (this.requestCounts.get(counted) ?? 0) + 1);
    return this.transport.request<T>(method, path, { body, contentType });
  }

  async get<T extends KubeObject>(resource: Resource, namespace: string, name: string): Promise<T | undefined> {
    try {
      return withKind(resource, await this.call<T>('GET', resourcePath(resource, namespace, name)));
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async list<T extends KubeObject>(resource: Resource, namespace = '', labelSelector?: string): Promise<List<T>> {
    const q = labelSelector ? `?labelSelector=${encodeURIComponent(labelSelector)}` : '';
    const list = await this.call<List<T>>('GET', resourcePath(resource, namespace) + q);
    list.items = list.items.map((i) => withKind(resource, i));
    return list;
  }

  async create<T extends KubeObject>(resource: Resource, obj: T): Promise<T> {
    return withKind(resource, await this.call<T>('POST', resourcePath(resource, obj.metadata.namespace ?? ''), { apiVersion: apiVersionOf(resource), kind: RESOURCES[resource].kind, ...obj }));
  }

  async replace<T extends KubeObject>(resource: Resource, obj: T): Promise<T> {
    return withKind(resource, await this.call<T>('PUT', resourcePath(resource, obj.metadata.namespace ?? '', obj.metadata.name), obj));
  }

  async replaceStatus<T extends KubeObject>(resource: Resource, obj: T): Promise<T> {
    return withKind(resource, await this.call<T>('PUT', resourcePath(resource, obj.metadata.namespace ?? '', obj.metadata.name, 'status'), obj));
  }

  async setFinalizers<T extends KubeObject>(resource: Resource, namespace: string, name: string, resourceVersion: string, finalizers: string[]): Promise<T> {
    // A merge patch that carries metadata.resourceVersion is rejected with Conflict when the object moved on.
    return withKind(resource, await this.call<T>('PATCH', resourcePath(resource, namespace, name), { metadata: { resourceVersion, finalizers } }, 'application/merge-patch+json'));
  }

  async delete(resource: Resource, namespace: string, name: string, options: DeleteOptions = {}): Promise<void> {
    const preconditions: Record<string, string> = {};
    if (options.uid) preconditions.uid = options.uid;
    if (options.resourceVersion) preconditions.resourceVersion = options.resourceVersion;
    await this.call('DELETE', resourcePath(resource, namespace, name), { apiVersion: 'v1', kind: 'DeleteOptions', ...(Object.keys(preconditions).length ? { preconditions } : {}) });
  }

  async start(): Promise<void> {
    const resources = this.options.cached ?? CACHED_RESOURCES;
    await Promise.all(resources.map((r) => this.startInformer(r)));
  }

  /**
   * The informer's list, in pages of LIST_PAGE_SIZE as client-go's informers list: the response for 10,000
   * objects never sits in memory whole (as bytes, text and objects at once). Every page is of the same snapshot
   * (the first page's resourceVersion); if the continue token expired meanwhile, one whole list instead.
   */
  private async listInPages(resource: CachedResource, labelSelector: string | undefined): Promise<{ items: KubeObject[]; resourceVersion: string }> {
    const items: KubeObject[] = [];
    let resourceVersion: string | undefined;
    let next: string | undefined;
    do {
      const q = new URLSearchParams({ limit: String(LIST_PAGE_SIZE) });
      if (labelSelector) q.set('labelSelector', labelSelector);
      if (next) q.set('continue', next);
      let page: List<KubeObject>;
      try {
        page = await this.call<List<KubeObject>>('GET', `${resourcePath(resource, '')}?${q.toString()}`);
      } catch (e) {
        if (next && isExpired(e)) {
          const whole = await this.list(resource, '', labelSelector);
          return { items: whole.items.map((i) => this.forCache(resource, i)), resourceVersion: whole.metadata?.resourceVersion ?? '' };
        }
        throw e;
      }
      resourceVersion ??= page.metadata?.resourceVersion ?? '';
      for (const item of page.items) items.push(this.forCache(resource, item));
      next = page.metadata?.continue || undefined;
    } while (next);
    return { items, resourceVersion: resourceVersion ?? '' };
  }

  private forCache(resource: CachedResource, obj: KubeObject): KubeObject {
    // The informer keeps this same object: dropping the field here frees it in both.
    if (this.options.keepManagedFields !== true && obj.metadata) delete (obj.metadata as { managedFields?: unknown }).managedFields;
    if (resource === 'pods') slimPod(obj);
    return withKind(resource, obj);
  }

  private async startInformer(resource: CachedResource): Promise<void> {
    const labelSelector = this.options.selectors?.[resource];
    const informer = new Informer<KubeObject>({
      transport: this.transport,
      path: resourcePath(resource, ''),
      labelSelector,
      list: () => this.listInPages(resource, labelSelector),
      onChange: (type, obj) => this.cache.apply(resource, this.forCache(resource, obj), type),
      onError: (err) => this.options.onInformerError?.(resource, err),
    });
    this.informers.push(informer);
    await informer.start();
  }

  async stop(): Promise<void> {
    for (const informer of this.informers) informer.stop();
    this.informers.length = 0;
    this.transport.close();
  }
}

/**
 * A cached Pod keeps only what the NetworkPolicy evaluator reads (labels, container ports, phase, addresses), as
 * client-go's transform functions trim what a controller caches: a cluster's pods outnumber everything else the
 * controller watches, and their specs and statuses are most of their size. In place, so the informer's own copy
 * shrinks too.
 */
export function slimPod(pod: Pod): void {
  const m = pod.metadata;
  pod.metadata = {
    name: m.name,
    namespace: m.namespace,
    ...(m.uid ? { uid: m.uid } : {}),
    ...(m.resourceVersion ? { resourceVersion: m.resourceVersion } : {}),
    ...(m.labels ? { labels: m.labels } : {}),
    ...(m.deletionTimestamp ? { deletionTimestamp: m.deletionTimestamp } : {}),
  };
  const containers = (pod.spec?.containers ?? []).map((c) => ({ name: c.name, ...(c.ports ? { ports: c.ports.map((p) => ({ ...(p.name ? { name: p.name } : {}), containerPort: p.containerPort, ...(p.protocol ? { protocol: p.protocol } : {}) })) } : {}) }));
  pod.spec = { containers };
  const st = pod.status;
  pod.status = { ...(st?.phase ? { phase: st.phase } : {}), ...(st?.podIP ? { podIP: st.podIP } : {}), ...(st?.podIPs ? { podIPs: st.podIPs.map((p) => ({ ip: p.ip })) } : {}) };
}

function withKind<T extends KubeObject>(resource: Resource, obj: T): T {
  if (obj && typeof obj === 'object' && !obj.kind) {
    obj.kind = RESOURCES[resource].kind;
    obj.apiVersion = apiVersionOf(resource);
  }
  return obj;
}
