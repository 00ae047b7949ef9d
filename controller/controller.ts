// The netwatch controller: informer caches → keyed work queue → gather → plan (pure) → idempotent apply.
// Two kinds of keys: `ar/<name>` reconciles one AccessRequest; `obj/<resource>/<namespace>/<name>` looks after one
// netwatch-managed object (the clones finalizer on maxtac objects, orphans, legacy finalizers).
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { AccessRequest } from '../lib/api/accessrequest.ts';
import { API_VERSION, KIND } from '../lib/api/accessrequest.ts';
import {
  ANNOTATION_REQUEST_NAME,
  LABEL_REQUEST_ID,
  LEGACY_FINALIZERS,
  MAXTAC_FINALIZER,
  MAXTAC_OWNER_LABELS,
  REQUEST_FINALIZER,
} from '../lib/api/markers.ts';
import { DEFAULT_PLAN_CONFIG, createChains, plan, type CreateAction, type Observed, type Plan, type PlanConfig } from '../lib/domain/plan.ts';
import { allHalvesOf, deterministicNameFor, halvesOf, isMarked, isMarkedFor, isOwnedBy, key, type Piece } from '../lib/domain/desired.ts';
import { closingOf, isTerminal } from '../lib/domain/phase.ts';
import { isRunning } from '../lib/domain/netpol/evaluate.ts';
import { requestHash, requestHashOfMaxtacName } from '../lib/domain/names.ts';
import type { KubePort, Resource } from '../lib/kube/port.ts';
import type { CachedResource } from '../lib/kube/cache.ts';
import { isAlreadyExists, isConflict, isNotFound, isRace, resourceOfKind } from '../lib/kube/port.ts';
import type { CoreEvent, KubeObject, MaxtacObject, NetworkPolicy, Pod, Service } from '../lib/kube/types.ts';
import { WorkQueue } from '../lib/kube/workqueue.ts';
import { ApproverIndex } from '../lib/kube/rbac.ts';
import { pendingParts, questionKey, stageOf } from '../lib/domain/actions.ts';
import type { PartApprovers } from '../lib/domain/approvers.ts';
import type { ControllerMetrics } from './metrics.ts';

export interface ControllerConfig extends PlanConfig {
  /** Concurrent reconciles. */
  workers: number;
  /** Namespace of the Events about (cluster-scoped) AccessRequests; client-go uses `default` too. */
  eventNamespace: string;
  /** Every this many seconds, every managed object and request is looked at again (orphan sweep, resync). */
  sweepIntervalSeconds: number;
  /** Reported as the Event's reportingInstance and the lease holder. */
  identity: string;
}

export const DEFAULT_CONTROLLER_CONFIG: ControllerConfig = {
  ...DEFAULT_PLAN_CONFIG,
  workers: 16,
  eventNamespace: 'default',
  sweepIntervalSeconds: 300,
  identity: `netwatch-controller-${randomBytes(4).toString('hex')}`,
};

const MAXTAC_RESOURCES: readonly CachedResource[] = ['accesses', 'externalaccesses'];

type Clock = () => Date;

const MAX_REQUEUE_MS = 6 * 3600_000;
/** RBAC changes within this long of the first are taken together. */
const RBAC_SETTLE_MS = 200;

export class Controller {
  private readonly queue = new WorkQueue({ baseDelayMs: 20, maxDelayMs: 30_000 });
  // Expectations (as controller-runtime keeps them): our own writes are not in the caches until their watch
  // events arrive, and a reconcile triggered meanwhile must neither redo them (Conflict, AlreadyExists, 404
  // round trips) nor mistake their absence for a deletion.
  /** Request name → resourceVersions our writes replaced: while the cache shows one of them, it is stale. */
  private readonly staleRequests = new Map<string, Set<string>>();
  /** `resource/namespace/name` → an object we created that the cache has not shown yet. */
  private readonly createdObjects = new Map<string, { obj: KubeObject; at: number }>();
  /** uids of objects we deleted that the cache still shows. */
  private readonly deletedUids = new Set<string>();
  /**
   * Request hash (lib/domain/names.ts) → request name, for every cached request: a NetworkPolicy names its maxtac
   * owner, and once that owner is gone its name is the only way back to the request waiting for the policy to go.
   */
  private readonly requestByHash = new Map<string, string>();
  /**
   * Namespace → the live Active requests with a half there. What their grants isolate on their own depends on the
   * pods and the other NetworkPolicies of those namespaces, so a change there brings them back (plan.ts judges it
   * again on every pass); requests not Active yet are planned afresh when they become so.
   */
  private readonly activeByNamespace = new Map<string, Set<string>>();
  private readonly namespacesOfActive = new Map<string, string[]>();
  /** What of a pod decides whether a policy isolates it (`namespace/name` → running and labels): other changes are noise. */
  private readonly podIsolationKeys = new Map<string, string>();
  private readonly workers: Promise<void>[] = [];
  private unsubscribe: (() => void) | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private rbacTimer: NodeJS.Timeout | undefined;
  /** Who may approve, from the RBAC caches; reconciles run only once those have synced. */
  private readonly approvers: ApproverIndex;
  private running = false;
  /** Set once the caches have synced and the workers run. */
  ready = false;

  constructor(
    readonly kube: KubePort,
    private readonly config: ControllerConfig,
    private readonly log: Logger,
    private readonly metrics: ControllerMetrics,
    private readonly clock: Clock = () => new Date(),
  ) {
    this.approvers = new ApproverIndex(kube.cache, { synced: true });
    metrics.sources.queueDepth = () => this.queue.depth;
    metrics.sources.activeAccesses = () => kube.cache.list<AccessRequest>('accessrequests').filter((r) => r.status?.phase === 'Active').length;
  }

  async start(): Promise<void> {
    this.running = true;
    this.unsubscribe = this.kube.cache.onChange((resource, obj, type) => this.onChange(resource, obj, type));
    await this.kube.start();
    // What the caches held before this controller listened (a port started earlier) is indexed as if just heard.
    for (const r of this.kube.cache.list<AccessRequest>('accessrequests')) this.indexActive(r, 'update');
    for (const p of this.kube.cache.list<Pod>('pods')) this.podIsolationKeys.set(podKey(p), podIsolationKey(p));
    this.sweep();
    for (let i = 0; i < this.config.workers; i++) this.workers.push(this.work());
    this.sweepTimer = setInterval(() => this.sweep(), this.config.sweepIntervalSeconds * 1000);
    this.sweepTimer.unref();
    this.ready = true;
    this.log.info({ workers: this.config.workers }, 'controller started');
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.ready = false;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    clearTimeout(this.rbacTimer);
    this.rbacTimer = undefined;
    this.unsubscribe?.();
    this.queue.shutDown();
    await Promise.all(this.workers);
    await this.kube.stop();
    this.log.info('controller stopped');
  }

  /** Everything is looked at again: requests (resync) and managed objects (orphan sweep). */
  sweep(): void {
    for (const r of this.kube.cache.list<AccessRequest>('accessrequests')) this.queue.add(`ar/${r.metadata.name}`);
    for (const resource of ['services', ...MAXTAC_RESOURCES] as CachedResource[]) {
      for (const o of this.kube.cache.list(resource)) {
        if (isMarked(o) || hasLegacy(o)) this.queue.add(objKey(resource, o));
      }
    }
  }

  private onChange(resource: CachedResource, obj: KubeObject, type: 'add' | 'update' | 'delete'): void {
    if (resource === 'accessrequests' && !this.staleRequests.get(obj.metadata.name ?? '')?.has(obj.metadata.resourceVersion ?? '')) this.staleRequests.delete(obj.metadata.name ?? '');
    this.createdObjects.delete(`${resource}/${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`);
    if (type === 'delete' && obj.metadata.uid) this.deletedUids.delete(obj.metadata.uid);
    switch (resource) {
      case 'accessrequests': {
        const uid = obj.metadata.uid;
        if (uid) {
          const hash = requestHash(uid);
          if (type === 'delete') this.requestByHash.delete(hash);
          else this.requestByHash.set(hash, obj.metadata.name ?? '');
        }
        this.indexActive(obj as AccessRequest, type);
        this.queue.add(`ar/${obj.metadata.name}`);
        return;
      }
      case 'pods': {
        const k = podKey(obj);
        const isolationKey = type === 'delete' ? undefined : podIsolationKey(obj);
        if (isolationKey === this.podIsolationKeys.get(k)) return;
        if (isolationKey === undefined) this.podIsolationKeys.delete(k);
        else this.podIsolationKeys.set(k, isolationKey);
        this.requeueActiveIn(obj.metadata.namespace ?? '');
        return;
      }
      case 'services':
      case 'accesses':
      case 'externalaccesses': {
        if (isMarked(obj) || hasLegacy(obj)) this.queue.add(objKey(resource, obj));
        const requestName = obj.metadata.annotations?.[ANNOTATION_REQUEST_NAME];
        if (isMarked(obj) && requestName) this.queue.add(`ar/${requestName}`);
        return;
      }
      case 'roles':
      case 'clusterroles':
      case 'rolebindings':
      case 'clusterrolebindings':
        this.rbacChanged();
        return;
      case 'networkpolicies': {
        // maxtac's policy for one of our maxtac objects appeared (the request may now be in force), changed, or went
        // (a closing request may now be closed; its owner is usually gone by then). maxtac names the owner in an
        // ownerReference and a label; netwatch's maxtac names carry the request's hash.
        const owners = [
          ...(obj.metadata.ownerReferences ?? []).filter((r) => r.kind === 'Access' || r.kind === 'ExternalAccess').map((r) => r.name),
          ...Object.values(MAXTAC_OWNER_LABELS).map((label) => obj.metadata.labels?.[label] ?? ''),
        ];
        let grant = false;
        for (const owner of new Set(owners)) {
          const hash = requestHashOfMaxtacName(owner);
          grant ||= Boolean(hash);
          const requestName = hash ? this.requestByHash.get(hash) : undefined;
          if (requestName) this.queue.add(`ar/${requestName}`);
        }
        // Anyone else's policy changing (the owner deleting their default-deny) may leave a grant's policy the first
        // to isolate pods. A grant's own policy is left out: under skip and refuse it only ever adds to isolation that
        // was there (the periodic sweep catches the rest), and materializing a thousand grants in one namespace must
        // not plan each of them a thousand times.
        if (!grant) this.requeueActiveIn(obj.metadata.namespace ?? '');
        return;
      }
      case 'accesspolicies':
        // Enforced by the webhook at each decision; the controller does not cache them.
        return;
    }
  }

  /**
   * Who may approve a waiting request may have changed: look at every waiting request again, once per burst of RBAC
   * changes (an informer's first list alone brings every Role and binding of the cluster).
   */
  private rbacChanged(): void {
    if (this.rbacTimer || !this.running) return;
    this.rbacTimer = setTimeout(() => {
      this.rbacTimer = undefined;
      for (const r of this.kube.cache.list<AccessRequest>('accessrequests')) if (stageOf(r) === 'waiting') this.queue.add(`ar/${r.metadata.name}`);
    }, RBAC_SETTLE_MS);
    this.rbacTimer.unref();
  }

  private indexActive(request: AccessRequest, type: 'add' | 'update' | 'delete'): void {
    const name = request.metadata.name ?? '';
    for (const ns of this.namespacesOfActive.get(name) ?? []) {
      const names = this.activeByNamespace.get(ns);
      names?.delete(name);
      if (names?.size === 0) this.activeByNamespace.delete(ns);
    }
    this.namespacesOfActive.delete(name);
    const status = request.status;
    const live = type !== 'delete' && status?.phase === 'Active' && !request.metadata.deletionTimestamp && !status.decision && !closingOf(status);
    if (!live) return;
    const namespaces = [...new Set(halvesOf(request).map((h) => h.namespace))];
    this.namespacesOfActive.set(name, namespaces);
    for (const ns of namespaces) {
      let names = this.activeByNamespace.get(ns);
      if (!names) this.activeByNamespace.set(ns, (names = new Set()));
      names.add(name);
    }
  }

  private requeueActiveIn(namespace: string): void {
    for (const name of this.activeByNamespace.get(namespace) ?? []) this.queue.add(`ar/${name}`);
  }

  private async work(): Promise<void> {
    for (;;) {
      const k = await this.queue.get();
      if (k === undefined) return;
      const kind = k.startsWith('ar/') ? 'request' : 'object';
      const end = this.metrics.reconcileDuration.startTimer({ kind });
      try {
        const requeueAfterMs = kind === 'request' ? await this.reconcileRequest(k.slice(3)) : await this.reconcileObject(k);
        this.queue.forget(k);
        if (requeueAfterMs !== undefined) this.queue.addAfter(k, requeueAfterMs);
        this.metrics.reconciles.inc({ kind, result: 'success' });
      } catch (e) {
        if (isRace(e)) {
          // Somebody (or our own cache) moved on: look again, quietly.
          this.metrics.reconciles.inc({ kind, result: 'requeue' });
          this.log.debug({ key: k, err: (e as Error).message }, 'requeue after race');
        } else {
          this.metrics.reconciles.inc({ kind, result: 'error' });
          this.metrics.errors.inc({ kind });
          this.log.error({ key: k, err: e }, 'reconcile failed');
        }
        this.queue.addRateLimited(k);
      } finally {
        end();
        this.queue.done(k);
      }
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // AccessRequests

  /** Gathers what plan needs, from the caches, confirming with the API server where a stale cache would mislead. */
  async gather(request: AccessRequest, confirm: boolean): Promise<Observed> {
    const cache = this.kube.cache;
    const halves = halvesOf(request);
    const originals = new Map<string, Service | null>();
    const active = !isTerminal(request.status?.phase) && !request.metadata.deletionTimestamp;
    for (const h of halves) {
      const k = key(h.original.namespace, h.original.name);
      let svc = cache.get<Service>('services', h.original.namespace, h.original.name) ?? null;
      // A Service missing from the cache may be one created a moment ago: ask before failing a request over it.
      if (!svc && confirm && active) svc = (await this.kube.get<Service>('services', h.original.namespace, h.original.name)) ?? null;
      originals.set(k, svc);
    }
    // Only where this request's objects can be: its deterministic names in its halves' namespaces, and the refs
    // its status records. An object labelled with its uid anywhere else is not its own, whatever the label says.
    const services = new Map<string, Service>();
    const maxtac = new Map<string, MaxtacObject>();
    // Every generation's names: an extension makes new objects before the previous ones go (plan.ts).
    const places = allHalvesOf(request).flatMap((h) => [
      { kind: 'Service', namespace: h.namespace, name: h.cloneName },
      { kind: h.kind, namespace: h.namespace, name: h.maxtacName },
    ]);
    for (const { kind, namespace, name } of [...places, ...(request.status?.objects ?? [])]) {
      const resource = cachedResourceOfKind(kind);
      if (!resource) continue;
      const o = cache.get<KubeObject>(resource, namespace, name) ?? this.recentlyCreated(`${resource}/${namespace}/${name}`);
      if (o && kind === 'Service') services.set(key(namespace, name), o);
      else if (o) maxtac.set(`${kind}/${key(namespace, name)}`, o as MaxtacObject);
    }
    for (const [k, o] of [...services, ...maxtac]) if (o.metadata.uid && this.deletedUids.has(o.metadata.uid)) (o.kind === 'Service' || !o.kind ? services : maxtac).delete(k);
    // Objects the status says we created but the cache does not show: deleted, or the cache is behind. Ask.
    if (confirm && active && request.status?.phase === 'Active') {
      for (const ref of request.status.objects ?? []) {
        const k = ref.kind === 'Service' ? key(ref.namespace, ref.name) : `${ref.kind}/${key(ref.namespace, ref.name)}`;
        if ((ref.kind === 'Service' ? services.has(k) : maxtac.has(k))) continue;
        const live = await this.kube.get<KubeObject>(resourceOfKind(ref.kind), ref.namespace, ref.name);
        if (live && ref.kind === 'Service') services.set(k, live);
        else if (live) maxtac.set(k, live as MaxtacObject);
      }
    }
    const networkPolicies: NetworkPolicy[] = [];
    const pods: Pod[] = [];
    for (const ns of new Set(halves.map((h) => h.namespace))) {
      networkPolicies.push(...cache.inNamespace<NetworkPolicy>('networkpolicies', ns));
      pods.push(...cache.inNamespace<Pod>('pods', ns));
    }
    // Who may approve what still waits for approval (recorded in status; RBAC changes requeue waiting requests).
    const approvers = new Map<string, PartApprovers>();
    if (active && request.status?.phase !== 'Active') {
      for (const part of pendingParts(request)) {
        const k = questionKey(part);
        if (!approvers.has(k)) approvers.set(k, this.approvers.approversOf(part));
      }
    }
    return { request, originals, services: [...services.values()], maxtac: [...maxtac.values()], networkPolicies, pods, approvers };
  }

  async reconcileRequest(name: string): Promise<number | undefined> {
    const cached = this.kube.cache.get<AccessRequest>('accessrequests', '', name);
    if (!cached) return undefined;
    // Our last write is not in the cache yet: its watch event will bring us back.
    if (this.staleRequests.get(name)?.has(cached.metadata.resourceVersion ?? '')) return undefined;
    let observed = await this.gather(cached, false);
    const now = this.clock();
    let p = plan(observed, now, this.config);
    if (p.becameFailed) {
      // About to fail the request over something missing from the caches: the caches may only be behind (a
      // Service created a moment ago, our own objects whose watch events have not arrived). Ask the API server
      // before deciding; the hot path never pays for these reads.
      observed = await this.gather(cached, true);
      p = plan(observed, now, this.config);
    }
    return this.apply(cached, observed, p, now);
  }

  private async apply(request: AccessRequest, observed: Observed, p: Plan, now: Date): Promise<number | undefined> {
    const name = request.metadata.name ?? '';
    let latest = request;
    if (p.deleteRequest) {
      this.log.info({ request: name }, 'retention over: deleting request');
      await this.kube.delete('accessrequests', '', name, { uid: request.metadata.uid ?? '' }).catch(ignoreNotFound);
      return undefined;
    }
    // The finalizer goes on before any side effect, so nothing we create can outlive a deleted request.
    if (p.addFinalizer) {
      const before = latest.metadata.resourceVersion;
      latest = await this.kube.setFinalizers<AccessRequest>('accessrequests', '', name, before ?? '', [...(latest.metadata.finalizers ?? []), REQUEST_FINALIZER]);
      this.superseded(name, before);
    }

    const uids = new Map<string, string>();
    for (const m of observed.maxtac) uids.set(`${m.kind}/${key(m.metadata.namespace ?? '', m.metadata.name ?? '')}`, m.metadata.uid ?? '');
    // One chain per half (its maxtac object, then the clone it owns), the chains at the same time: approval→Active
    // waits for two round trips instead of four. All chains settle before a failure is reported.
    const results = await Promise.allSettled(
      createChains(p.creates).map(async (chain) => {
        for (const c of chain) {
          const created = await this.create(c, uids, request.metadata.uid ?? '');
          uids.set(`${created.kind}/${key(created.metadata.namespace ?? '', created.metadata.name ?? '')}`, created.metadata.uid ?? '');
        }
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;

    if (p.status) {
      const status = structuredClone(p.status);
      for (const ref of status.objects ?? []) {
        if (!ref.uid) {
          const u = uids.get(`${ref.kind}/${key(ref.namespace, ref.name)}`);
          if (u) ref.uid = u;
        }
      }
      const before = latest.metadata.resourceVersion;
      latest = await this.kube.replaceStatus<AccessRequest>('accessrequests', { ...latest, status });
      this.superseded(name, before);
      if (p.becameActive && status.approvedAt) this.metrics.approvalToActive.observe(Math.max(0, now.getTime() - Date.parse(status.approvedAt)) / 1000);
      if (status.phase !== request.status?.phase) this.log.info({ request: name, phase: status.phase, from: request.status?.phase }, 'phase changed');
    }

    for (const d of p.deletes) {
      if (d.uid) this.deletedUids.add(d.uid);
      await this.kube.delete(resourceOfKind(d.kind), d.namespace, d.name, d.uid ? { uid: d.uid } : {}).catch((e: unknown) => {
        // Gone already, or a newer incarnation we must not touch.
        if (!isNotFound(e) && !isConflict(e)) throw e;
      });
    }

    for (const e of p.events) await this.emit(latest, e.type, e.reason, e.message);

    if (p.removeFinalizers.length > 0) {
      const remaining = (latest.metadata.finalizers ?? []).filter((f) => !p.removeFinalizers.includes(f));
      const before = latest.metadata.resourceVersion;
      await this.kube.setFinalizers('accessrequests', '', name, before ?? '', remaining).catch(ignoreNotFound);
      this.superseded(name, before);
    }
    // Deletes wait for their objects to leave the cache (their events requeue us); add a slow safety net.
    if (p.deletes.length > 0) return Math.min(p.requeueAfterMs ?? 5_000, 5_000);
    // Node timers overflow past 2^31 ms; far wake-ups are re-planned by the periodic sweep anyway.
    return p.requeueAfterMs === undefined ? undefined : Math.min(p.requeueAfterMs + 5, MAX_REQUEUE_MS);
  }

  /** An object we created whose watch event has not arrived; after a minute we trust the cache again. */
  private recentlyCreated(k: string): KubeObject | undefined {
    const entry = this.createdObjects.get(k);
    if (!entry) return undefined;
    if (Date.now() - entry.at > 60_000) {
      this.createdObjects.delete(k);
      return undefined;
    }
    return entry.obj;
  }

  private superseded(name: string, resourceVersion: string | undefined): void {
    let set = this.staleRequests.get(name);
    if (!set) this.staleRequests.set(name, (set = new Set()));
    set.add(resourceVersion ?? '');
  }

  /**
   * Creates one planned object. AlreadyExists (a crash before the status write, a cache behind) means adopt it when
   * its markers say it is this request's: it is at one of the request's deterministic names by construction.
   */
  private async create(action: CreateAction, uids: Map<string, string>, requestUid: string): Promise<KubeObject> {
    const obj = structuredClone(action.object);
    if (action.ownerMaxtac) {
      const o = action.ownerMaxtac;
      const uid = uids.get(`${o.kind}/${key(o.namespace, o.name)}`);
      if (!uid) throw new Error(`owner ${o.kind} ${key(o.namespace, o.name)} of ${obj.metadata.name} has no uid`);
      obj.metadata.ownerReferences = [{ apiVersion: 'maxtac.vtk.io/v1alpha1', kind: o.kind, name: o.name, uid, controller: true }];
    }
    const resource = resourceOfKind(obj.kind ?? 'Service');
    try {
      const created = await this.kube.create(resource, obj);
      // The watch event may beat the response: only remember what the cache does not show yet.
      if (this.kube.cache.get(resource as CachedResource, created.metadata.namespace ?? '', created.metadata.name ?? '')?.metadata.uid !== created.metadata.uid) {
        this.createdObjects.set(`${resource}/${created.metadata.namespace ?? ''}/${created.metadata.name ?? ''}`, { obj: created, at: Date.now() });
      }
      return created;
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
      const existing = await this.kube.get(resource, obj.metadata.namespace ?? '', obj.metadata.name ?? '');
      if (existing && isMarkedFor(existing, requestUid) && !existing.metadata.deletionTimestamp) return existing;
      // Not ours (the next plan fails the request with NameConflict once the cache shows it), or being deleted.
      throw e;
    }
  }

  private async emit(request: AccessRequest, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const now = this.clock().toISOString();
    const event: CoreEvent = {
      metadata: { name: `${request.metadata.name}.${randomBytes(8).toString('hex')}`, namespace: this.config.eventNamespace },
      involvedObject: { apiVersion: API_VERSION, kind: KIND, name: request.metadata.name ?? '', uid: request.metadata.uid ?? '', resourceVersion: request.metadata.resourceVersion ?? '' },
      reason,
      message: message.slice(0, 1024),
      type,
      source: { component: 'netwatch-controller' },
      reportingComponent: 'netwatch.vtk.io/controller',
      reportingInstance: this.config.identity,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    try {
      await this.kube.create('events', event);
    } catch (e) {
      // An Event is best effort: never fail (and redo) a reconcile because the audit trail write failed.
      this.log.warn({ request: request.metadata.name, reason, err: (e as Error).message }, 'could not record event');
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // Managed objects

  async reconcileObject(k: string): Promise<number | undefined> {
    const [, resource, namespace, name] = k.split('/') as [string, CachedResource, string, string];
    const obj = this.kube.cache.get<KubeObject>(resource, namespace, name);
    if (!obj) return undefined;
    const isMaxtac = resource === 'accesses' || resource === 'externalaccesses';

    if (isMaxtac && obj.metadata.deletionTimestamp && (obj.metadata.finalizers ?? []).includes(MAXTAC_FINALIZER)) {
      // Whoever deleted it (maxtac at expiry, a user, us), its clone goes first: there is no garbage collector we
      // may count on.
      const clone = this.cloneOf(obj);
      if (clone?.metadata.uid && !this.deletedUids.has(clone.metadata.uid)) {
        this.deletedUids.add(clone.metadata.uid);
        await this.kube.delete('services', clone.metadata.namespace ?? '', clone.metadata.name ?? '', { uid: clone.metadata.uid }).catch(ignoreGone);
      }
      const remaining = (obj.metadata.finalizers ?? []).filter((f) => f !== MAXTAC_FINALIZER && !LEGACY_FINALIZERS.includes(f));
      await this.kube.setFinalizers(resource, namespace, name, obj.metadata.resourceVersion ?? '', remaining).catch(ignoreNotFound);
      return undefined;
    }
    if (hasLegacy(obj)) {
      const remaining = (obj.metadata.finalizers ?? []).filter((f) => !LEGACY_FINALIZERS.includes(f));
      await this.kube.setFinalizers(resource, namespace, name, obj.metadata.resourceVersion ?? '', remaining).catch(ignoreNotFound);
      return undefined;
    }
    if (!isMarked(obj) || obj.metadata.deletionTimestamp) return undefined;
    // Only netwatch's own objects are touched: marked, and named as netwatch names the half those markers describe.
    // Anything else is a look-alike, whatever its labels claim.
    const piece: Piece = isMaxtac ? 'maxtac' : 'clone';
    if (deterministicNameFor(obj.metadata.labels, piece) !== name) return undefined;

    const request = await this.requestOf(obj);
    if (!request) {
      this.log.info({ kind: obj.kind, namespace, name }, 'deleting orphan: its request is gone');
      await this.kube.delete(resource, namespace, name, { uid: obj.metadata.uid ?? '' }).catch(ignoreGone);
      return undefined;
    }
    // Its request exists: it must also be in the namespace where that request puts this half.
    if (!isOwnedBy(request, allHalvesOf(request), obj, piece)) return undefined;
    if (resource === 'services') {
      for (const ref of obj.metadata.ownerReferences ?? []) {
        if (ref.kind !== 'Access' && ref.kind !== 'ExternalAccess') continue;
        const r: Resource = ref.kind === 'Access' ? 'accesses' : 'externalaccesses';
        const owner = this.kube.cache.byUid<KubeObject>(r, ref.uid) ?? (await this.kube.get<KubeObject>(r, namespace, ref.name));
        if (!owner || owner.metadata.uid !== ref.uid) {
          this.log.info({ namespace, name, owner: ref.name }, 'deleting clone whose maxtac object is gone');
          await this.kube.delete('services', namespace, name, { uid: obj.metadata.uid ?? '' }).catch(ignoreGone);
          return undefined;
        }
      }
    }
    return undefined;
  }

  /**
   * The clone a maxtac object selects, when both are netwatch's: the maxtac object marked and at its deterministic
   * name, the clone marked for the same request, at the clone name of the same half, in the same namespace, and
   * owned by this incarnation (or by none yet).
   */
  private cloneOf(maxtac: KubeObject): Service | undefined {
    const labels = maxtac.metadata.labels;
    if (!isMarked(maxtac) || deterministicNameFor(labels, 'maxtac') !== maxtac.metadata.name) return undefined;
    const cloneName = deterministicNameFor(labels, 'clone');
    const clone = cloneName ? this.kube.cache.get<Service>('services', maxtac.metadata.namespace ?? '', cloneName) : undefined;
    if (!clone || !isMarkedFor(clone, labels?.[LABEL_REQUEST_ID] ?? '')) return undefined;
    const owners = clone.metadata.ownerReferences ?? [];
    return owners.length === 0 || owners.some((o) => o.uid === maxtac.metadata.uid) ? clone : undefined;
  }

  /** The request an object's markers name; before anything is deleted over its absence, the API server is asked. */
  private async requestOf(obj: KubeObject): Promise<AccessRequest | undefined> {
    const uid = obj.metadata.labels?.[LABEL_REQUEST_ID] ?? '';
    const name = obj.metadata.annotations?.[ANNOTATION_REQUEST_NAME];
    const cached = name ? this.kube.cache.get<AccessRequest>('accessrequests', '', name) : undefined;
    if (cached?.metadata.uid === uid) return cached;
    const byUid = this.kube.cache.byUid<AccessRequest>('accessrequests', uid);
    if (byUid) return byUid;
    if (!name) return undefined;
    const live = await this.kube.get<AccessRequest>('accessrequests', '', name);
    return live?.metadata.uid === uid ? live : undefined;
  }
}

/** The cached resource of the kinds netwatch materializes; undefined for any other kind. */
function cachedResourceOfKind(kind: string): CachedResource | undefined {
  switch (kind) {
    case 'Service':
      return 'services';
    case 'Access':
      return 'accesses';
    case 'ExternalAccess':
      return 'externalaccesses';
    default:
      return undefined;
  }
}

function podKey(pod: KubeObject): string {
  return `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
}

/** All that decides whether a NetworkPolicy isolates a pod: whether it runs, and its labels. */
function podIsolationKey(pod: Pod): string {
  return `${isRunning(pod)}|${JSON.stringify(Object.entries(pod.metadata.labels ?? {}).sort())}`;
}

function objKey(resource: CachedResource, obj: KubeObject): string {
  return `obj/${resource}/${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`;
}

function hasLegacy(obj: KubeObject): boolean {
  return (obj.metadata.finalizers ?? []).some((f) => LEGACY_FINALIZERS.includes(f));
}

function ignoreNotFound(e: unknown): void {
  if (!isNotFound(e)) throw e;
}

function ignoreGone(e: unknown): void {
  if (!isNotFound(e) && !isConflict(e)) throw e;
}
