// The notifier: AccessRequest informer → keyed work queue → per request: the notices due (notices.ts), their
// destinations (routes.ts), what the ledger on the request says of each (ledger.ts) → claim → send → record.
//
// Claims and results are written to the request's ledger annotation with a resourceVersion precondition, so two
// notifiers (a second replica without the lease, a leader that lost it mid-send) never both win a delivery, and a
// restart knows what was sent. Leader election keeps one replica busy; the ledger keeps the promise without it.
import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { API_VERSION, KIND, type AccessRequest, type PartName } from '../lib/api/accessrequest.ts';
import type { AccessPolicy } from '../lib/api/accesspolicy.ts';
import { isConflict, isNotFound, isRace } from '../lib/kube/errors.ts';
import type { CoreEvent } from '../lib/kube/types.ts';
import { WorkQueue } from '../lib/kube/workqueue.ts';
import type { NotifierKube } from './kube.ts';
import {
  ANNOTATION_LEDGER,
  DEFAULT_RETRY,
  type Claim,
  type Ledger,
  type Result,
  type RetryPolicy,
  decide,
  entryFor,
  isFinished,
  isStarted,
  parseLedger,
  serializeLedger,
  withClaims,
  withResults,
} from './ledger.ts';
import { buildMessage } from './messages.ts';
import type { NotifierMetrics } from './metrics.ts';
import { DEFAULT_NOTICE_TIMINGS, type Notice, type NoticeTimings, noticesOf } from './notices.ts';
import { ANNOTATION_NOTIFY_APPROVERS, type Destination, type RouteItem, type Routing, approverRoute, destinationsOf } from './routes.ts';
import type { Sink } from './sinks/index.ts';

export interface NotifierSettings {
  /** This replica's name (the pod's): in claims, Events and the lease. */
  identity: string;
  timings: NoticeTimings;
  /**
   * A notice that fell due longer ago than this and was never acted on is not sent: a notifier installed on a
   * cluster with history, or back after a long outage, does not flood anyone with old news.
   */
  maxNoticeAgeMs: number;
  retry: RetryPolicy;
  /** One delivery attempt may take this long. A claim lasts twice that and some. */
  sendTimeoutMs: number;
  /** Namespace of the dead-letter Events about (cluster-scoped) AccessRequests, as the controller's. */
  eventNamespace: string;
  sweepIntervalMs: number;
  workers: number;
  webUrl?: string;
}

export const DEFAULT_NOTIFIER_SETTINGS: NotifierSettings = {
  identity: `netwatch-notifier-${randomBytes(4).toString('hex')}`,
  timings: DEFAULT_NOTICE_TIMINGS,
  maxNoticeAgeMs: 3600_000,
  retry: DEFAULT_RETRY,
  sendTimeoutMs: 10_000,
  eventNamespace: 'default',
  sweepIntervalMs: 60_000,
  workers: 4,
};

/** The Event reason of a delivery given up. */
export const REASON_NOTIFICATION_FAILED = 'NotificationFailed';

/** How long a Namespace's annotation is reused before it is read again. */
const NAMESPACE_ROUTE_TTL_MS = 10_000;
/** Bounds the memory of problems already reported (a sweep clears it past this; they are then logged once more). */
const REPORTED_MAX = 10_000;
const MAX_REQUEUE_MS = 6 * 3600_000;
const RECORD_ATTEMPTS = 10;

type Clock = () => number;

interface Planned extends Claim {
  notice: string;
  noticeObj: Notice;
  dest: Destination;
}

export class Notifier {
  private readonly queue = new WorkQueue({ baseDelayMs: 200, maxDelayMs: 30_000 });
  /** The identity plus a per-process suffix: a restarted process must not take its predecessor's claims for its own. */
  readonly holder: string;
  /** Request name → resourceVersions our ledger writes replaced: while the cache shows one, it is behind. */
  private readonly superseded = new Map<string, Set<string>>();
  private readonly namespaceRoutes = new Map<string, { at: number; annotation: string | undefined }>();
  /** Notices whose unroutable items were already counted and logged (by request uid and notice). */
  private readonly reportedUnroutable = new Set<string>();
  /** Bad route items already counted and logged (by field and problem). */
  private readonly reportedRoutes = new Set<string>();
  private readonly workers: Promise<void>[] = [];
  private unsubscribe: (() => void) | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private running = false;
  ready = false;

  constructor(
    private readonly kube: NotifierKube,
    private readonly sinks: ReadonlyMap<string, Sink>,
    private readonly routing: Routing,
    private readonly settings: NotifierSettings,
    private readonly log: Logger,
    private readonly metrics: NotifierMetrics,
    private readonly clock: Clock = () => Date.now(),
  ) {
    this.holder = `${settings.identity}/${randomBytes(3).toString('hex')}`;
    metrics.sources.queueDepth = () => this.queue.depth;
  }

  async start(): Promise<void> {
    this.running = true;
    this.unsubscribe = this.kube.cache.onChange((resource, obj) => {
      if (resource !== 'accessrequests') return;
      const name = obj.metadata.name ?? '';
      if (!this.superseded.get(name)?.has(obj.metadata.resourceVersion ?? '')) this.superseded.delete(name);
      this.queue.add(name);
    });
    await this.kube.start();
    this.sweep();
    for (let i = 0; i < this.settings.workers; i++) this.workers.push(this.work());
    this.sweepTimer = setInterval(() => this.sweep(), this.settings.sweepIntervalMs);
    this.sweepTimer.unref();
    this.ready = true;
    this.log.info({ workers: this.settings.workers, sinks: [...this.sinks.keys()] }, 'notifier started');
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.ready = false;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.unsubscribe?.();
    this.queue.shutDown();
    // Deliveries in flight finish (each within the send timeout) and are recorded before the informer stops.
    await Promise.all(this.workers);
    await this.kube.stop();
    this.log.info('notifier stopped');
  }

  /** Every request is looked at again: reminders and retries whose timers were lost, routes that changed. */
  sweep(): void {
    for (const r of this.kube.cache.list<AccessRequest & { metadata: { name?: string } }>('accessrequests')) this.queue.add(r.metadata.name ?? '');
    if (this.reportedUnroutable.size > REPORTED_MAX) this.reportedUnroutable.clear();
    if (this.reportedRoutes.size > REPORTED_MAX) this.reportedRoutes.clear();
  }

  private async work(): Promise<void> {
    for (;;) {
      const name = await this.queue.get();
      if (name === undefined) return;
      try {
        const after = await this.reconcile(name);
        this.queue.forget(name);
        if (after !== undefined) this.queue.addAfter(name, Math.min(after, MAX_REQUEUE_MS));
        this.metrics.reconciles.inc({ result: 'success' });
      } catch (e) {
        if (isRace(e)) {
          this.metrics.reconciles.inc({ result: 'requeue' });
          this.log.debug({ request: name, err: (e as Error).message }, 'requeue after race');
        } else {
          this.metrics.reconciles.inc({ result: 'error' });
          this.log.error({ request: name, err: (e as Error).message }, 'reconcile failed');
        }
        this.queue.addRateLimited(name);
      } finally {
        this.queue.done(name);
      }
    }
  }

  /** One pass over one request; resolves with when to look again (ms), if a reminder or a retry is ahead. */
  async reconcile(name: string): Promise<number | undefined> {
    const request = this.kube.cache.get<AccessRequest & { metadata: { name?: string } }>('accessrequests', '', name);
    if (!request) return undefined;
    const rv = request.metadata.resourceVersion ?? '';
    // Our last ledger write is not in the cache yet: its watch event brings us back.
    if (this.superseded.get(name)?.has(rv)) return undefined;
    const now = this.clock();
    const { due, nextAtMs } = noticesOf(request, this.settings.timings, now);
    const { ledger, corrupt } = parseLedger(request.metadata.annotations?.[ANNOTATION_LEDGER]);
    if (corrupt) this.log.warn({ request: name, annotation: ANNOTATION_LEDGER }, 'the ledger annotation is not JSON; it is started afresh');
    const wakeups: number[] = nextAtMs === undefined ? [] : [nextAtMs];
    const planned: Planned[] = [];
    for (const notice of due) {
      if (isFinished(ledger, notice.id)) continue;
      const started = isStarted(ledger, notice.id);
      if (!started && now - notice.dueAtMs > this.settings.maxNoticeAgeMs) continue;
      const destinations = started ? this.destinationsInLedger(ledger, notice.id) : await this.destinationsOf(request, notice);
      for (const dest of destinations) {
        const d = decide(entryFor(ledger, notice.id, dest.key), now);
        if (d.action === 'send') planned.push({ notice: notice.id, destination: dest.key, attempt: d.attempt, noticeObj: notice, dest });
        else if (d.action === 'wait') wakeups.push(d.atMs);
      }
    }
    if (planned.length > 0) {
      await this.deliver(request, ledger, planned, now);
      // The watch event of our result write brings us back to schedule retries and reminders.
      return undefined;
    }
    const future = wakeups.map((at) => at - now).filter((ms) => ms > 0);
    return future.length > 0 ? Math.min(...future) + 5 : undefined;
  }

  private async deliver(request: AccessRequest & { metadata: { name?: string } }, ledger: Ledger, planned: Planned[], now: number): Promise<void> {
    const name = request.metadata.name ?? '';
    const rv = request.metadata.resourceVersion ?? '';
    const claimMs = this.settings.sendTimeoutMs * 2 + 10_000;
    // The claim: of two writers from the same resourceVersion, the API server lets one through (Conflict for the
    // other, which looks again and finds the claim).
    let written = await this.kube.writeLedger(name, rv, serializeLedger(withClaims(ledger, planned, this.holder, now + claimMs)));
    this.markSuperseded(name, rv);

    const results: Result[] = await Promise.all(
      planned.map(async (p): Promise<Result> => {
        const sink = this.sinks.get(p.dest.sink);
        const end = this.metrics.deliveryDuration.startTimer({ sink: p.dest.sink });
        try {
          if (!sink) throw new Error(`sink ${p.dest.sink} is no longer configured`);
          const message = buildMessage(request, p.noticeObj, this.settings.webUrl ? { webUrl: this.settings.webUrl } : {}, now);
          await withDeadline(sink.send(message, p.dest, this.settings.sendTimeoutMs), this.settings.sendTimeoutMs * 1.5);
          this.metrics.deliveries.inc({ sink: p.dest.sink, outcome: 'sent' });
          this.log.info({ request: name, notice: p.notice, destination: p.dest.key, attempt: p.attempt }, 'notification sent');
          return { notice: p.notice, destination: p.destination, attempt: p.attempt, outcome: { ok: true } };
        } catch (e) {
          const error = (e as Error).message;
          this.metrics.deliveries.inc({ sink: p.dest.sink, outcome: 'failed' });
          this.log.warn({ request: name, notice: p.notice, destination: p.dest.key, attempt: p.attempt, err: error }, 'notification failed');
          const retryAfterMs = (e as { retryAfterMs?: unknown }).retryAfterMs;
          return { notice: p.notice, destination: p.destination, attempt: p.attempt, outcome: { ok: false, error, ...(typeof retryAfterMs === 'number' ? { retryAfterMs } : {}) } };
        } finally {
          end();
        }
      }),
    );

    // The record: applied to the request as it is now, again on Conflict (the controller may have written its status
    // meanwhile). Our entries are ours to overwrite until our claim runs out.
    let dead: Result[];
    for (let attempt = 1; ; attempt++) {
      const base = parseLedger(written.metadata.annotations?.[ANNOTATION_LEDGER]).ledger;
      const next = withResults(base, results, this.holder, this.clock(), this.settings.retry);
      const before = written.metadata.resourceVersion ?? '';
      try {
        written = await this.kube.writeLedger(name, before, serializeLedger(next.ledger));
        this.markSuperseded(name, before);
        dead = next.dead;
        break;
      } catch (e) {
        if (!isConflict(e) || attempt >= RECORD_ATTEMPTS) {
          if (isNotFound(e)) return;
          // The claims run out and the deliveries are tried again: at least once, with the same idempotency keys.
          this.log.error({ request: name, err: (e as Error).message }, 'could not record delivery results');
          throw e;
        }
        const fresh = await this.kube.getRequest(name);
        if (!fresh) return;
        written = fresh;
      }
    }
    for (const r of dead) {
      const p = planned.find((x) => x.notice === r.notice && x.destination === r.destination);
      if (!p || r.outcome.ok) continue;
      this.metrics.deliveries.inc({ sink: p.dest.sink, outcome: 'dead' });
      this.log.error({ request: name, notice: r.notice, destination: r.destination, attempts: r.attempt, err: r.outcome.error }, 'notification given up');
      await this.deadLetter(written, p, r.attempt, r.outcome.error);
    }
  }

  private markSuperseded(name: string, resourceVersion: string): void {
    let set = this.superseded.get(name);
    if (!set) this.superseded.set(name, (set = new Set()));
    set.add(resourceVersion);
  }

  /** A notice already acted on goes on to the destinations it was first sent to, even if a route changed since. */
  private destinationsInLedger(ledger: Ledger, notice: string): Destination[] {
    const out: Destination[] = [];
    for (const key of Object.keys(ledger[notice] ?? {})) {
      const colon = key.indexOf(':');
      const sink = colon < 0 ? key : key.slice(0, colon);
      const def = this.routing.sinks.get(sink);
      if (!def) continue;
      out.push(colon < 0 ? { sink, type: def.type, key } : { sink, type: def.type, address: key.slice(colon + 1), key });
    }
    return out;
  }

  private async destinationsOf(request: AccessRequest, notice: Notice): Promise<Destination[]> {
    const audience = notice.audience;
    const items = audience.kind === 'requester' ? this.routing.requester : await this.approverRoute(request, audience.part, audience.namespace);
    const { destinations, unroutable } = destinationsOf(audience, items, this.routing, request.spec.requester?.username);
    const reported = `${request.metadata.uid ?? ''}/${notice.id}`;
    if (unroutable.length > 0 && !this.reportedUnroutable.has(reported)) {
      this.reportedUnroutable.add(reported);
      for (const u of unroutable) {
        this.metrics.unroutable.inc({ reason: u.why });
        this.log.warn({ request: request.metadata.name, notice: notice.id, sink: u.item.sink, why: u.why }, 'a route item cannot be delivered to');
      }
    }
    return destinations;
  }

  /** The route of a part's approvers (routes.ts approverRoute: its policies' rules, its Namespace, the default). */
  private async approverRoute(request: AccessRequest, part: PartName, namespace: string): Promise<RouteItem[]> {
    const rules = request.spec.policy?.find((p) => p.part === part)?.rules ?? [];
    const policies = this.kube.cache.inNamespace<AccessPolicy & { metadata: { namespace?: string } }>('accesspolicies', namespace);
    const route = approverRoute({ namespace, rules, policies, annotation: await this.namespaceAnnotation(namespace) }, this.routing);
    // Each bad item once per process: a route is resolved at every pass over every waiting request.
    const fresh = route.problems.filter((p) => !this.reportedRoutes.has(`${p.field}\n${p.problem}`));
    for (const p of fresh) this.reportedRoutes.add(`${p.field}\n${p.problem}`);
    if (fresh.length > 0) {
      this.metrics.unroutable.inc({ reason: 'bad-route' }, fresh.length);
      for (const field of new Set(fresh.map((p) => p.field))) {
        const problems = fresh.filter((p) => p.field === field).map((p) => p.problem);
        if (fresh.find((p) => p.field === field)?.source === 'namespace') this.log.warn({ namespace, annotation: ANNOTATION_NOTIFY_APPROVERS, problems }, 'the namespace names route items that cannot be used');
        else this.log.warn({ namespace, field, problems }, 'an AccessPolicy names route items that cannot be used');
      }
    }
    return route.items;
  }

  /** The Namespace's approver annotation (undefined: none), read again at most every NAMESPACE_ROUTE_TTL_MS. */
  private async namespaceAnnotation(namespace: string): Promise<string | undefined> {
    const now = this.clock();
    const memo = this.namespaceRoutes.get(namespace);
    if (memo && now - memo.at < NAMESPACE_ROUTE_TTL_MS) return memo.annotation;
    const annotation = (await this.kube.namespaceAnnotations(namespace))?.[ANNOTATION_NOTIFY_APPROVERS];
    this.namespaceRoutes.set(namespace, { at: now, annotation });
    return annotation;
  }

  private async deadLetter(request: AccessRequest, p: Planned, attempts: number, error: string): Promise<void> {
    const name = request.metadata.name ?? '';
    const now = new Date(this.clock()).toISOString();
    // A deterministic name: a record retried after a crash does not write the same Event twice.
    const id = createHash('sha256').update(`${request.metadata.uid ?? ''}/${p.notice}/${p.destination}`).digest('hex').slice(0, 16);
    const event: CoreEvent = {
      metadata: { name: `${name.slice(0, 253 - 20)}.nf${id}`, namespace: this.settings.eventNamespace },
      involvedObject: { apiVersion: API_VERSION, kind: KIND, name, uid: request.metadata.uid ?? '', resourceVersion: request.metadata.resourceVersion ?? '' },
      reason: REASON_NOTIFICATION_FAILED,
      message: `Gave up sending the ${p.noticeObj.kind} notice (${p.notice}) to ${p.destination} after ${attempts} attempts: ${error}`.slice(0, 1024),
      type: 'Warning',
      source: { component: 'netwatch-notifier' },
      reportingComponent: 'netwatch.vtk.io/notifier',
      reportingInstance: this.settings.identity,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    try {
      await this.kube.createEvent(event);
    } catch (e) {
      this.log.warn({ request: name, err: (e as Error).message }, 'could not record the dead-letter event');
    }
  }
}

/** Rejects when `promise` has not settled within `ms`: a sink that trickles bytes must not hold a claim forever. */
function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000}s`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
