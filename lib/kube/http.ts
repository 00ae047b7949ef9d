// The real KubePort: REST over one keep-alive HTTPS agent with bounded sockets (client-node 2.x builds a new
// dispatcher per request, which costs a TLS handshake each time), and informer caches from client-node's
// makeInformer, restarted on error.
import { Agent, request as httpsRequest, type RequestOptions } from 'node:https';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { makeInformer, type KubeConfig, type KubernetesObject, type KubernetesListObject, type Informer } from '@kubernetes/client-node';
import type { KubeObject } from './types.ts';
import { ClusterCache } from './cache.ts';
import { CACHED_RESOURCES, KubeError, RESOURCES, apiVersionOf, type CachedResource, type DeleteOptions, type KubePort, type Resource } from './port.ts';

export interface HttpKubeOptions {
  /** Upper bound of concurrent sockets to the API server. */
  maxSockets?: number;
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

const AUTH_REFRESH_MS = 30_000;
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
  private readonly server: URL;
  private agent: Agent | HttpAgent | undefined;
  private auth: { headers: Record<string, string>; at: number } | undefined;
  private readonly informers: Informer<KubernetesObject>[] = [];
  private stopped = false;
  /** Requests made, by method (for benchmarks and debugging). */
  readonly requestCounts = new Map<string, number>();

  constructor(
    private readonly kc: KubeConfig,
    private readonly options: HttpKubeOptions = {},
  ) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    this.server = new URL(cluster.server);
  }

  private async requestOptions(): Promise<RequestOptions> {
    if (!this.auth || Date.now() - this.auth.at > AUTH_REFRESH_MS) {
      const opts: RequestOptions & { headers?: Record<string, string> } = {};
      await this.kc.applyToHTTPSOptions(opts);
      if (!this.agent) {
        const maxSockets = this.options.maxSockets ?? 64;
        this.agent =
          this.server.protocol === 'http:'
            ? new HttpAgent({ keepAlive: true, maxSockets })
            : new Agent({ keepAlive: true, maxSockets, ...(opts.ca ? { ca: opts.ca } : {}), ...(opts.cert ? { cert: opts.cert } : {}), ...(opts.key ? { key: opts.key } : {}), ...(opts.rejectUnauthorized !== undefined ? { rejectUnauthorized: opts.rejectUnauthorized } : {}), ...(opts.servername ? { servername: opts.servername } : {}) });
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(opts.headers ?? {})) headers[k] = String(v);
      if (opts.auth) headers.Authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
      this.auth = { headers, at: Date.now() };
    }
    return { agent: this.agent, headers: this.auth.headers };
  }

  async call<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const counted = `${method} ${/\/(\w+)(?:\/[^/?]+)?(?:\/(status))?(?:\?.*)?$/.exec(path)?.slice(1).filter(Boolean).join('/') ?? path}`;
    this.requestCounts.set(counted, (this.requestCounts.get(counted) ?? 0) + 1);
    const base = await this.requestOptions();
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const url = new URL(path, this.server);
    const req = this.server.protocol === 'http:' ? httpRequest : httpsRequest;
    return new Promise<T>((resolve, reject) => {
      const r = req(
        url,
        {
          ...base,
          method,
          headers: {
            ...base.headers,
            Accept: 'application/json',
            ...(payload ? { 'Content-Type': contentType, 'Content-Length': String(payload.length) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              parsed = undefined;
            }
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) return resolve(parsed as T);
            const s = (parsed ?? {}) as { reason?: string; message?: string };
            reject(new KubeError(status, s.reason ?? String(status), s.message ?? `${method} ${path}: HTTP ${status} ${text.slice(0, 200)}`));
          });
        },
      );
      r.on('error', reject);
      r.setTimeout(30_000, () => r.destroy(new Error(`${method} ${path}: timed out`)));
      if (payload) r.write(payload);
      r.end();
    });
  }

  async get<T extends KubeObject>(resource: Resource, namespace: string, name: string): Promise<T | undefined> {
    try {
      return withKind(resource, await this.call<T>('GET', resourcePath(resource, namespace, name)));
    } catch (e) {
      if (e instanceof KubeError && e.status === 404) return undefined;
      throw e;
    }
  }

  async list<T extends KubeObject>(resource: Resource, namespace = '', labelSelector?: string): Promise<KubernetesListObject<T & KubernetesObject>> {
    const q = labelSelector ? `?labelSelector=${encodeURIComponent(labelSelector)}` : '';
    const list = await this.call<KubernetesListObject<T & KubernetesObject>>('GET', resourcePath(resource, namespace) + q);
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
    this.stopped = false;
    const resources = this.options.cached ?? CACHED_RESOURCES;
    await Promise.all(resources.map((r) => this.startInformer(r)));
  }

  /**
   * The informer's list, in pages of LIST_PAGE_SIZE as client-go's informers list: the response for 10,000
   * objects never sits in memory whole (as bytes, text and objects at once). Every page is of the same snapshot
   * (the first page's resourceVersion); if the continue token expired meanwhile, one whole list instead.
   */
  private async listInPages<T extends KubeObject>(resource: CachedResource, labelSelector: string | undefined): Promise<KubernetesListObject<T & KubernetesObject>> {
    const items: (T & KubernetesObject)[] = [];
    let first: KubernetesListObject<T & KubernetesObject> | undefined;
    let next: string | undefined;
    do {
      const q = new URLSearchParams({ limit: String(LIST_PAGE_SIZE) });
      if (labelSelector) q.set('labelSelector', labelSelector);
      if (next) q.set('continue', next);
      let page: KubernetesListObject<T & KubernetesObject>;
      try {
        page = await this.call<KubernetesListObject<T & KubernetesObject>>('GET', `${resourcePath(resource, '')}?${q.toString()}`);
      } catch (e) {
        if (next && e instanceof KubeError && e.status === 410) return this.list<T>(resource, '', labelSelector);
        throw e;
      }
      first ??= page;
      for (const item of page.items) {
        if (this.options.keepManagedFields !== true && item.metadata) delete item.metadata.managedFields;
        items.push(withKind(resource, item));
      }
      // The wire name (the generated type calls it _continue).
      next = (page.metadata as { continue?: string } | undefined)?.continue || undefined;
    } while (next);
    return { ...first, items, metadata: { resourceVersion: first.metadata?.resourceVersion ?? '' } };
  }

  private async startInformer(resource: CachedResource): Promise<void> {
    const selector = this.options.selectors?.[resource];
    const path = resourcePath(resource, '');
    // start() resolves even when the first list fails (the error goes to the error handler): a cache must not
    // count as synced before one list succeeded, or an empty cache would read as "nothing exists".
    let markSynced: () => void = () => undefined;
    const synced = new Promise<void>((r) => (markSynced = r));
    const informer = makeInformer<KubernetesObject>(this.kc, path, async () => {
      const list = await this.listInPages<KubeObject>(resource, selector);
      // After the informer added the listed items (it does so in the microtasks following this promise).
      setImmediate(markSynced);
      return list;
    }, selector);
    const keepManagedFields = this.options.keepManagedFields === true;
    const feed = (type: 'add' | 'update' | 'delete') => (obj: KubernetesObject) => {
      // The informer keeps this same object in its own store: dropping the field here frees it in both.
      if (!keepManagedFields && obj.metadata) delete obj.metadata.managedFields;
      this.cache.apply(resource, withKind(resource, obj as KubeObject), type);
    };
    informer.on('add', feed('add'));
    informer.on('update', feed('update'));
    informer.on('delete', feed('delete'));
    let delay = 500;
    informer.on('error', (err: unknown) => {
      // Stopping aborts every watch: those errors are ours, not the API server's.
      if (this.stopped) return;
      this.options.onInformerError?.(resource, err);
      // The informer stops on error; start it again (it relists, reporting vanished objects as deletes).
      const t = setTimeout(() => {
        if (!this.stopped) informer.start().then(() => (delay = 500), () => undefined);
      }, delay);
      t.unref();
      delay = Math.min(delay * 2, 30_000);
    });
    informer.on('connect', () => undefined);
    this.informers.push(informer);
    await informer.start();
    await synced;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.informers.map((i) => i.stop()));
    this.informers.length = 0;
    this.agent?.destroy();
    this.agent = undefined;
  }
}

function withKind<T extends KubeObject>(resource: Resource, obj: T): T {
  if (obj && typeof obj === 'object' && !obj.kind) {
    obj.kind = RESOURCES[resource].kind;
    obj.apiVersion = apiVersionOf(resource);
  }
  return obj;
}
