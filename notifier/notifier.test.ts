// The notifier's delivery logic against the in-memory fake of the API server, recording sinks and an injected
// clock (the real control plane, real receivers and real time are test/e2e/notifier.test.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { AccessRequest } from '../lib/api/accessrequest.ts';
import { FakeKube } from '../test/support/fake-kube.ts';
import type { CoreEvent, KubeObject } from '../lib/kube/types.ts';
import { fakeNotifierKube } from '../test/support/fake-notifier-kube.ts';
import { accessPolicy, requestFixture, type RequestFixture } from '../test/support/builders.ts';
import { ANNOTATION_LEDGER, parseLedger, serializeLedger } from './ledger.ts';
import type { Message } from './messages.ts';
import { createNotifierMetrics, type NotifierMetrics } from './metrics.ts';
import { DEFAULT_NOTIFIER_SETTINGS, Notifier, REASON_NOTIFICATION_FAILED, type NotifierSettings } from './notifier.ts';
import { ANNOTATION_NOTIFY_APPROVERS, type Destination, type Routing } from './routes.ts';
import { DeliveryError, type Sink } from './sinks/index.ts';

const log = pino({ level: 'silent' });
const MIN = 60_000;
const HOUR = 60 * MIN;

class RecordingSink implements Sink {
  readonly sent: { notice: string; to: string; key: string }[] = [];
  attempts = 0;
  constructor(
    readonly name: string,
    readonly type: Sink['type'],
    /** Fails this many times first (Infinity: always). */
    public failures = 0,
  ) {}
  async send(m: Message, d: Destination): Promise<void> {
    this.attempts++;
    if (this.failures > 0) {
      this.failures--;
      throw new DeliveryError('HTTP 500');
    }
    this.sent.push({ notice: m.notice.id, to: d.key, key: m.key });
  }
}

const routing: Routing = {
  sinks: new Map([
    ['team-slack', { type: 'slack' as const }],
    ['mail', { type: 'email' as const }],
  ]),
  // Namespaces without the annotation: the leads' list.
  approvers: [{ sink: 'mail', address: 'leads@example.com' }],
  requester: [{ sink: 'mail' }],
  requesterAddress: {},
};

interface World {
  kube: FakeKube;
  clock: { now: number };
  t0: number;
  slack: RecordingSink;
  mail: RecordingSink;
  notifier(settings?: Partial<NotifierSettings>, metrics?: NotifierMetrics): Notifier;
  request(): AccessRequest;
  ledger(): ReturnType<typeof parseLedger>['ledger'];
}

/** A request in the fake API server with the status `f` describes, `monitoring` routed to team-slack. */
async function world(f: RequestFixture, failures: { slack?: number; mail?: number } = {}): Promise<World> {
  const kube = new FakeKube();
  await kube.create('namespaces', { metadata: { name: 'monitoring', annotations: { [ANNOTATION_NOTIFY_APPROVERS]: 'team-slack' } } });
  await kube.create('namespaces', { metadata: { name: 'default' } });
  const fixture = requestFixture(f);
  const created = await kube.create<AccessRequest & KubeObject>('accessrequests', { ...fixture, metadata: { name: 'ar-1' } });
  const t0 = Date.parse(created.metadata.creationTimestamp ?? '');
  await kube.replaceStatus('accessrequests', { ...created, status: requestFixture(f, t0).status });
  const clock = { now: t0 + 1000 };
  const slack = new RecordingSink('team-slack', 'slack', failures.slack ?? 0);
  const mail = new RecordingSink('mail', 'email', failures.mail ?? 0);
  const sinks = new Map<string, Sink>([
    ['team-slack', slack],
    ['mail', mail],
  ]);
  const request = () => kube.cache.get<AccessRequest & KubeObject>('accessrequests', '', 'ar-1') as AccessRequest;
  return {
    kube,
    clock,
    t0,
    slack,
    mail,
    request,
    ledger: () => parseLedger(request().metadata.annotations?.[ANNOTATION_LEDGER]).ledger,
    notifier: (settings = {}, metrics = createNotifierMetrics()) =>
      new Notifier(fakeNotifierKube(kube), sinks, routing, { ...DEFAULT_NOTIFIER_SETTINGS, retry: { initialMs: 1000, maxMs: 8000, maxAttempts: 5 }, ...settings }, log, metrics, () => clock.now),
  };
}

/** Reconciles like the work queue would: again after each write, and at each wake-up, until `untilMs`. */
async function drive(w: World, n: Notifier, untilMs: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const after = await n.reconcile('ar-1');
    if (after === undefined) {
      // After a delivery the watch event of the write brings it back; with nothing left, it is idle.
      const again = await n.reconcile('ar-1');
      if (again === undefined) return;
      if (w.clock.now + again > untilMs) return;
      w.clock.now += again;
    } else {
      if (w.clock.now + after > untilMs) return;
      w.clock.now += after;
    }
  }
  assert.fail('did not settle');
}

const sentKeys = (s: RecordingSink) => s.sent.map((x) => `${x.notice}→${x.to}`).sort();

describe('Notifier with the fake API server and recording sinks', () => {
  it('a pending request reaches each part\'s approvers once per destination: the annotation\'s route, else the cluster default', async () => {
    const w = await world({ phase: 'Pending' });
    const n = w.notifier();
    await drive(w, n, w.t0 + MIN);
    assert.deepEqual(sentKeys(w.slack), ['approval-needed/source→team-slack']);
    assert.deepEqual(sentKeys(w.mail), ['approval-needed/target→mail:leads@example.com']);
    assert.deepEqual(w.ledger()['approval-needed/source'], { 'team-slack': { state: 'sent', attempts: 1, at: new Date(w.clock.now).toISOString() } });
    // Looking again sends nothing: the ledger on the request says it is done.
    await n.reconcile('ar-1');
    assert.equal(w.slack.sent.length + w.mail.sent.length, 2);
  });

  it('each transition is announced once: Pending, then partially approved, then Active to the requester', async () => {
    const w = await world({ phase: 'Pending', username: 'alice@example.com' });
    const n = w.notifier();
    await drive(w, n, w.t0 + MIN);
    // carol approves the source part.
    const r = w.request();
    await w.kube.replaceStatus('accessrequests', { ...r, status: requestFixture({ phase: 'PartiallyApproved', approvals: [{ part: 'source', by: 'carol', atMs: 2 * MIN }] }, w.t0).status });
    w.clock.now = w.t0 + 2 * MIN;
    await drive(w, n, w.t0 + 3 * MIN);
    const r2 = w.request();
    await w.kube.replaceStatus('accessrequests', {
      ...r2,
      status: requestFixture({ phase: 'Active', approvals: [{ part: 'source', by: 'carol', atMs: 2 * MIN }, { part: 'target', by: 'bob', atMs: 3 * MIN }], approvedAtMs: 3 * MIN, expiresAtMs: 2 * HOUR, ready: true }, w.t0).status,
    });
    w.clock.now = w.t0 + 3 * MIN;
    await drive(w, n, w.t0 + 4 * MIN);
    assert.deepEqual(sentKeys(w.slack), ['approval-needed/source→team-slack']);
    assert.deepEqual(sentKeys(w.mail), ['active→mail:alice@example.com', 'approval-needed/target→mail:leads@example.com', 'part-approved/source→mail:leads@example.com']);
  });

  it('a sink that fails three times then recovers gets the message once, after backoff', async () => {
    const metrics = createNotifierMetrics();
    const w = await world({ phase: 'PartiallyApproved', approvedAtCreation: ['target'] }, { slack: 3 });
    const n = w.notifier({}, metrics);
    await drive(w, n, w.t0 + MIN);
    assert.equal(w.slack.attempts, 4);
    assert.deepEqual(sentKeys(w.slack), ['approval-needed/source→team-slack']);
    assert.deepEqual(w.ledger()['approval-needed/source']?.['team-slack']?.state, 'sent');
    // 1s, 2s, 4s of backoff between the four attempts.
    assert.ok(w.clock.now - w.t0 >= 1000 + 7000, String(w.clock.now - w.t0));
    const counts = (await metrics.deliveries.get()).values.map((v) => `${String(v.labels.sink)}/${String(v.labels.outcome)}=${v.value}`).sort();
    assert.deepEqual(counts, ['team-slack/failed=3', 'team-slack/sent=1']);
  });

  it('a sink that keeps failing is given up after the last attempt, with a Warning Event, and left alone afterwards', async () => {
    const metrics = createNotifierMetrics();
    const w = await world({ phase: 'PartiallyApproved', approvedAtCreation: ['target'] }, { slack: Infinity });
    const n = w.notifier({ retry: { initialMs: 1000, maxMs: 2000, maxAttempts: 3 } }, metrics);
    await drive(w, n, w.t0 + HOUR);
    assert.equal(w.slack.attempts, 3);
    const entry = w.ledger()['approval-needed/source']?.['team-slack'];
    assert.deepEqual(entry && { state: entry.state, attempts: entry.attempts, error: 'error' in entry ? entry.error : '' }, { state: 'dead', attempts: 3, error: 'HTTP 500' });
    const events = w.kube.all<CoreEvent>('events').filter((e) => e.reason === REASON_NOTIFICATION_FAILED);
    assert.equal(events.length, 1);
    assert.equal(events[0]?.type, 'Warning');
    assert.equal(events[0]?.involvedObject.name, 'ar-1');
    assert.match(events[0]?.message ?? '', /approval-needed notice \(approval-needed\/source\) to team-slack after 3 attempts: HTTP 500/);
    const dead = (await metrics.deliveries.get()).values.find((v) => v.labels.outcome === 'dead');
    assert.equal(dead?.value, 1);
  });

  it('two notifiers at once (no lease between them): every destination still gets each notice once', async () => {
    const w = await world({ phase: 'Pending' });
    const [a, b] = [w.notifier({ identity: 'a' }), w.notifier({ identity: 'b' })];
    const outcomes = await Promise.allSettled([a.reconcile('ar-1'), b.reconcile('ar-1')]);
    assert.equal(outcomes.filter((o) => o.status === 'rejected').length, 1, 'one of the two claims lost with Conflict');
    await drive(w, a, w.t0 + MIN);
    await drive(w, b, w.t0 + MIN);
    assert.deepEqual(sentKeys(w.slack), ['approval-needed/source→team-slack']);
    assert.deepEqual(sentKeys(w.mail), ['approval-needed/target→mail:leads@example.com']);
  });

  it('a restart sends nothing that was recorded; a claim left by a crashed process is retried only once it runs out', async () => {
    const w = await world({ phase: 'Pending' });
    await drive(w, w.notifier(), w.t0 + MIN);
    await drive(w, w.notifier(), w.t0 + MIN);
    assert.equal(w.slack.sent.length + w.mail.sent.length, 2);

    // A process claimed the Active notice and died before sending.
    const r = w.request();
    const ledger = w.ledger();
    ledger.active = { 'mail:alice@example.com': { state: 'claimed', by: 'crashed/0', until: new Date(w.clock.now + 30_000).toISOString(), attempts: 1 } };
    await w.kube.replace('accessrequests', { ...r, metadata: { ...r.metadata, annotations: { [ANNOTATION_LEDGER]: serializeLedger(ledger) } } });
    const r2 = w.request();
    await w.kube.replaceStatus('accessrequests', { ...r2, status: requestFixture({ phase: 'Active', approvedAtCreation: ['source', 'target'], approvedAtMs: 0, expiresAtMs: HOUR, ready: true, username: 'alice@example.com' }, w.t0).status });
    const n = w.notifier();
    const wait = await n.reconcile('ar-1');
    assert.ok(wait !== undefined && wait > 29_000 && wait < 31_000, String(wait));
    assert.equal(w.mail.sent.filter((s) => s.notice === 'active').length, 0, 'not while the claim holds');
    await drive(w, n, w.clock.now + 40_000);
    assert.deepEqual(w.mail.sent.filter((s) => s.notice === 'active').map((s) => s.to), ['mail:alice@example.com']);
    assert.equal(w.ledger().active?.['mail:alice@example.com']?.attempts, 2);
  });

  it('old news is not sent: a transition older than the maximum notice age when first seen', async () => {
    const w = await world({ phase: 'Pending' });
    w.clock.now = w.t0 + 2 * HOUR;
    await drive(w, w.notifier({ maxNoticeAgeMs: HOUR, timings: { ...DEFAULT_NOTIFIER_SETTINGS.timings, pendingReminderMs: null } }), w.clock.now + MIN);
    assert.equal(w.slack.attempts + w.mail.attempts, 0);
    assert.equal(w.request().metadata.annotations?.[ANNOTATION_LEDGER], undefined, 'nothing written either');
  });

  it('reminders fire at the configured times: a part still pending, a grant about to expire', async () => {
    const w = await world({ phase: 'PartiallyApproved', approvedAtCreation: ['target'] });
    const timings = { pendingReminderMs: 30 * MIN, expiryWarningMs: 10 * MIN, activeGraceMs: MIN };
    const n = w.notifier({ timings });
    await drive(w, n, w.t0 + 29 * MIN);
    assert.deepEqual(sentKeys(w.slack), ['approval-needed/source→team-slack']);
    await drive(w, n, w.t0 + 31 * MIN);
    assert.deepEqual(sentKeys(w.slack), ['approval-needed/source→team-slack', 'pending-reminder/source→team-slack']);
    const reminderAt = Date.parse((w.ledger()['pending-reminder/source']?.['team-slack'] as { at: string }).at);
    assert.equal(reminderAt, w.t0 + 30 * MIN + 5, 'at the reminder time (and the 5 ms the queue adds)');

    const r = w.request();
    await w.kube.replaceStatus('accessrequests', {
      ...r,
      status: requestFixture({ phase: 'Active', approvedAtCreation: ['target'], approvals: [{ part: 'source', by: 'carol', atMs: 31 * MIN }], approvedAtMs: 31 * MIN, expiresAtMs: 91 * MIN, ready: true }, w.t0).status,
    });
    await drive(w, n, w.t0 + 80 * MIN);
    assert.deepEqual(sentKeys(w.mail).filter((k) => k.startsWith('expiring')), []);
    await drive(w, n, w.t0 + 82 * MIN);
    assert.deepEqual(sentKeys(w.mail).filter((k) => !k.startsWith('approval')), ['active→mail:alice@example.com', 'expiring→mail:alice@example.com']);
    assert.equal(Date.parse((w.ledger().expiring?.['mail:alice@example.com'] as { at: string }).at), w.t0 + 81 * MIN + 5);
  });

  it('an extension: its approvers once, the requester once when granted, and a new warning for the new expiry across a restart', async () => {
    const active: RequestFixture = { phase: 'Active', approvedAtCreation: ['source', 'target'], approvedAtMs: 0, expiresAtMs: 2 * HOUR, ready: true };
    const w = await world(active);
    const timings = { pendingReminderMs: null, expiryWarningMs: 10 * MIN, activeGraceMs: MIN };
    const n = w.notifier({ timings });
    await drive(w, n, w.t0 + 111 * MIN);
    assert.deepEqual(sentKeys(w.mail), ['active→mail:alice@example.com', 'expiring→mail:alice@example.com']);

    // Warned; alice asks for 1h more: both parts need an approver again (no policy).
    const extensions = [{ duration: '1h', by: 'alice@example.com', atMs: 112 * MIN, reason: 'almost done' }];
    await w.kube.replaceStatus('accessrequests', { ...w.request(), status: requestFixture({ ...active, extensions }, w.t0).status });
    w.clock.now = w.t0 + 112 * MIN;
    await drive(w, n, w.t0 + 113 * MIN);
    assert.deepEqual(sentKeys(w.slack), ['extension-needed/0/source→team-slack']);
    assert.ok(sentKeys(w.mail).includes('extension-needed/0/target→mail:leads@example.com'));

    // Both approve, the controller moves expiresAt; a restarted notifier tells alice once and warns again before 3h.
    const extensionApprovals = [
      { extension: 0, part: 'source' as const, by: 'carol', atMs: 113 * MIN },
      { extension: 0, part: 'target' as const, by: 'bob', atMs: 114 * MIN },
    ];
    await w.kube.replaceStatus('accessrequests', { ...w.request(), status: requestFixture({ ...active, extensions, extensionApprovals, expiresAtMs: 3 * HOUR }, w.t0).status });
    w.clock.now = w.t0 + 115 * MIN;
    const restarted = w.notifier({ timings });
    await drive(w, restarted, w.t0 + 169 * MIN);
    assert.deepEqual(sentKeys(w.mail).filter((k) => k.endsWith('alice@example.com')), ['active→mail:alice@example.com', 'expiring→mail:alice@example.com', 'extended/0→mail:alice@example.com']);
    await drive(w, restarted, w.t0 + 171 * MIN);
    assert.deepEqual(
      sentKeys(w.mail),
      ['active→mail:alice@example.com', 'expiring/1→mail:alice@example.com', 'expiring→mail:alice@example.com', 'extended/0→mail:alice@example.com', 'extension-needed/0/target→mail:leads@example.com'],
    );
    assert.deepEqual(sentKeys(w.slack), ['extension-needed/0/source→team-slack']);
    assert.deepEqual(Object.keys(w.ledger()).sort(), ['active', 'expiring', 'expiring/1', 'extended/0', 'extension-needed/0/source', 'extension-needed/0/target']);
    assert.equal(Date.parse((w.ledger()['expiring/1']?.['mail:alice@example.com'] as { at: string }).at), w.t0 + 170 * MIN + 5);
  });

  it('a namespace annotation naming unknown sinks keeps its good items and counts the bad ones', async () => {
    const metrics = createNotifierMetrics();
    const w = await world({ phase: 'PartiallyApproved', approvedAtCreation: ['target'] });
    const ns = await w.kube.get('namespaces', '', 'monitoring');
    await w.kube.replace('namespaces', { ...ns, metadata: { ...ns?.metadata, annotations: { [ANNOTATION_NOTIFY_APPROVERS]: 'nope, mail:mon@example.com, team-slack:x@y.io' } } });
    await drive(w, w.notifier({}, metrics), w.t0 + MIN);
    assert.deepEqual(sentKeys(w.mail), ['approval-needed/source→mail:mon@example.com']);
    assert.equal(w.slack.attempts, 0);
    assert.equal((await metrics.unroutable.get()).values.find((v) => v.labels.reason === 'bad-route')?.value, 2);
  });

  it('an AccessPolicy rule that matched a part routes its approvals instead of the annotation; a bad item is counted once', async () => {
    const metrics = createNotifierMetrics();
    const w = await world({ phase: 'Pending', policyRules: { source: ['monitoring/scrapers/prometheus'] } });
    // The informer's view of the namespace's policies (the fake API server does not feed this cache).
    const policy = accessPolicy('monitoring', 'scrapers', [{ name: 'prometheus', maxDuration: '8h', notify: { approvers: ['mail:scrapers@example.com', 'nope'] } }]);
    w.kube.cache.apply('accesspolicies', policy, 'add');
    await drive(w, w.notifier({}, metrics), w.t0 + MIN);
    assert.deepEqual(sentKeys(w.mail), ['approval-needed/source→mail:scrapers@example.com', 'approval-needed/target→mail:leads@example.com']);
    assert.equal(w.slack.attempts, 0, 'not the namespace annotation\'s team-slack');
    assert.equal((await metrics.unroutable.get()).values.find((v) => v.labels.reason === 'bad-route')?.value, 1);
  });
});
