// The notifier end to end: the real control plane with the real webhook, controller and maxtac, people acting with
// their own tokens, and the notifier (as its own identity, with exactly the RBAC of manifests/notifier/) delivering
// to real local receivers (scripts/receivers.ts): a Slack stand-in and a CloudEvents endpoint over verified HTTPS,
// and an SMTP server with STARTTLS and AUTH. What it proves: each transition reaches each destination exactly once;
// a sink that fails three times then recovers gets the message once; one that keeps failing is given up with a
// Warning Event; neither a second replica nor a restart sends anything twice; reminders fire at the configured
// times (short ones here); an extension beyond the grant reaches each part's approvers once and its grant the
// requester once; an AccessPolicy rule that matched a part routes its approvals instead of the annotation.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HTTP, type CloudEvent } from 'cloudevents';
import { applyObjects, loadYamlFile, roleBinding, startControlPlane, type ControlPlane } from '../../scripts/controlplane.ts';
import { startHttpReceiver, startSmtpReceiver, type HttpReceiver, type SmtpReceiver } from '../../scripts/receivers.ts';
import { installWebhook, type InstalledWebhook } from '../support/webhook.ts';
import { installController, type InstalledController } from '../support/controller.ts';
import { installNotifier, type InstalledNotifier } from '../support/notifier.ts';
import { parseConfig, type NotifierConfig } from '../../notifier/config.ts';
import { ANNOTATION_LEDGER, parseLedger } from '../../notifier/ledger.ts';
import { idempotencyKey } from '../../notifier/messages.ts';
import { REASON_NOTIFICATION_FAILED, type NotifierSettings } from '../../notifier/notifier.ts';
import { ANNOTATION_NOTIFY_APPROVERS } from '../../notifier/routes.ts';
import type { AccessRequest, AccessRequestSpec } from '../../lib/api/accessrequest.ts';
import type { KubeObject } from '../../lib/kube/types.ts';
import { KubeError } from '../../lib/kube/errors.ts';
import { accessPolicy } from '../support/builders.ts';
import { Admin, suffix, waitFor, waitForPhase, waitForReady } from '../support/admin.ts';
import { Users } from '../support/users.ts';
import { REPO } from '../support/manifests.ts';

const WEB_URL = 'https://netwatch.example.com';
const NOTICE_IDS = [
  'approval-needed/source',
  'approval-needed/target',
  'part-approved/source',
  'part-approved/target',
  'pending-reminder/source',
  'pending-reminder/target',
  'active',
  'expiring',
  'extension-needed/0/source',
  'extension-needed/0/target',
  'extension-part-approved/0/source',
  'extended/0',
  'denied',
  'revoked',
  'failed',
];
/** Long enough for a stray second delivery (a sweep runs every second here) to show up before we count. */
const QUIET_MS = 3000;
const HOSTILE_REASON = 'dashboards <script>alert(1)</script> <!channel> \u202eevil';

let cp: ControlPlane;
let webhook: InstalledWebhook | undefined;
let controller: InstalledController | undefined;
let https: HttpReceiver;
let smtp: SmtpReceiver;
let admin: Admin;
let users: Users;
let dir: string;
let config: NotifierConfig;
let src: string;
let dst: string;
let lonely: string;
const running: InstalledNotifier[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A notifier as the netwatch-notifier identity, with short timings unless the test says otherwise. */
async function notifier(settings: Partial<NotifierSettings> = {}, opts: { leaderElection?: false; wait?: boolean } = {}): Promise<InstalledNotifier> {
  const n = await installNotifier(cp, {
    config,
    settings: {
      webUrl: WEB_URL,
      sweepIntervalMs: 1000,
      retry: { initialMs: 500, maxMs: 2000, maxAttempts: 4 },
      timings: { pendingReminderMs: null, expiryWarningMs: null, activeGraceMs: 60_000 },
      ...settings,
    },
    ...(opts.leaderElection === false ? { leaderElection: false as const } : {}),
    ...(opts.wait === false ? { wait: false } : {}),
  });
  running.push(n);
  return n;
}

async function stopAll(): Promise<void> {
  for (const n of running.splice(0)) await n.stop();
}

interface Delivery {
  /** Destination: `chat`, `events` or `mail:<address>`. */
  to: string;
  key: string;
  at: number;
}

/** Everything the receivers accepted, as (destination, idempotency key). */
function deliveries(): Delivery[] {
  return [
    ...https.delivered('/chat/').map((r) => ({ to: 'chat', key: String(r.headers['idempotency-key']), at: r.at })),
    ...https.delivered('/events').map((r) => ({ to: 'events', key: (HTTP.toEvent({ headers: r.headers, body: r.body }) as CloudEvent).id, at: r.at })),
    ...https.delivered('/broken').map((r) => ({ to: 'broken', key: String(r.headers['idempotency-key']), at: r.at })),
    ...smtp.mails.flatMap((m) => m.to.map((to) => ({ to: `mail:${to}`, key: /^<([0-9a-f]+)@/.exec(m.messageId)?.[1] ?? '', at: m.at }))),
  ];
}

/** The deliveries of one request, as sorted `notice → destination` lines (a line twice means sent twice). */
function deliveredFor(uid: string): string[] {
  const byKey = new Map(NOTICE_IDS.map((id) => [idempotencyKey(uid, id), id]));
  return deliveries()
    .filter((d) => byKey.has(d.key))
    .map((d) => `${byKey.get(d.key)} → ${d.to}`)
    .sort();
}

/** Waits until the request's deliveries are exactly `expected`, then that nothing else arrives for a while. */
async function expectExactly(uid: string, expected: string[], timeoutMs = 30_000): Promise<void> {
  const want = [...expected].sort();
  await waitFor(`deliveries ${JSON.stringify(want)}`, async () => {
    const got = deliveredFor(uid);
    return got.length >= want.length ? got : undefined;
  }, timeoutMs).catch((e: Error) => {
    throw new Error(`${e.message}; got ${JSON.stringify(deliveredFor(uid))}`, { cause: e });
  });
  await sleep(QUIET_MS);
  assert.deepEqual(deliveredFor(uid), want);
}

function serviceSpec(reason = 'notifier e2e'): AccessRequestSpec {
  return { type: 'Service', source: { namespace: src, service: 'client' }, target: { namespace: dst, service: 'db' }, ports: [{ port: 80, protocol: 'TCP' }], duration: '1h', reason };
}

function create(user: string, spec: AccessRequestSpec): Promise<AccessRequest> {
  return users.createRequest(user, spec);
}

async function annotate(namespace: string, route: string): Promise<void> {
  await admin.kube.call('PATCH', `/api/v1/namespaces/${namespace}`, { metadata: { annotations: { [ANNOTATION_NOTIFY_APPROVERS]: route } } }, 'application/merge-patch+json');
}

describe('notifier: notifications and reminders delivered to real receivers', () => {
  before(async () => {
    cp = await startControlPlane({ maxtac: true });
    admin = new Admin(cp);
    users = new Users(cp);
    webhook = await installWebhook(cp);
    controller = await installController(cp);
    https = await startHttpReceiver();
    smtp = await startSmtpReceiver({ auth: { username: 'netwatch', password: 'smtp pass word' } });
    dir = mkdtempSync(join(tmpdir(), 'netwatch-notifier-e2e-'));
    const file = (name: string, content: string) => {
      writeFileSync(join(dir, name), content, { mode: 0o600 });
      return join(dir, name);
    };
    config = parseConfig(
      JSON.stringify({
        sinks: [
          { name: 'chat', type: 'slack', urlFile: file('chat-url', `${https.url}/chat/T0/B0/secret-token\n`), caFile: file('https-ca.crt', https.caPem ?? '') },
          { name: 'events', type: 'cloudevents', urlFile: file('events-url', `${https.url}/events`), authorizationFile: file('events-auth', 'Bearer e2e'), caFile: join(dir, 'https-ca.crt') },
          { name: 'broken', type: 'slack', urlFile: file('broken-url', `${https.url}/broken`), caFile: join(dir, 'https-ca.crt') },
          {
            name: 'mail',
            type: 'email',
            host: smtp.host,
            port: smtp.port,
            tls: 'starttls',
            from: 'netwatch <netwatch@example.com>',
            usernameFile: file('smtp-user', 'netwatch'),
            passwordFile: file('smtp-pass', 'smtp pass word'),
            caFile: file('smtp-ca.crt', smtp.caPem ?? ''),
            allowedDomains: ['example.com'],
          },
        ],
        routes: { approvers: ['mail:default-approvers@example.com'], requester: ['mail', 'events'] },
        requesterAddress: { domain: 'example.com' },
      }),
      'e2e config',
    );
    https.fail('/broken', Infinity);

    const s = suffix();
    src = await admin.namespace(`nt-src-${s}`);
    dst = await admin.namespace(`nt-dst-${s}`);
    lonely = await admin.namespace(`nt-lonely-${s}`);
    await admin.service(src, 'client');
    await admin.service(dst, 'db');
    await admin.service(lonely, 'web');
    await annotate(src, 'chat, mail:src-leads@example.com');
    await annotate(dst, 'events mail:dst-leads@example.com');
    await annotate(lonely, 'broken');
    const roles = loadYamlFile(join(REPO, 'manifests/rbac/user-roles.yaml'));
    await applyObjects(cp.admin, [
      ...roles,
      roleBinding(`nt-users-${s}`, 'netwatch-user', { kind: 'Group', name: 'developers' }),
      roleBinding('nt-carol', 'netwatch-approver', { kind: 'User', name: 'carol' }, src),
      roleBinding('nt-bob', 'netwatch-approver', { kind: 'User', name: 'bob' }, dst),
      roleBinding('nt-bob-lonely', 'netwatch-approver', { kind: 'User', name: 'bob' }, lonely),
    ]);
  });

  after(async () => {
    await stopAll();
    await controller?.stop();
    await webhook?.close();
    await users?.close();
    await admin?.close();
    await https?.close();
    await smtp?.close();
    await cp?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('each transition reaches each destination exactly once, with escaped text, the link and the exact commands', async () => {
    await notifier();
    const r = await create('alice', serviceSpec(HOSTILE_REASON));
    const name = r.metadata.name ?? '';
    const uid = r.metadata.uid ?? '';
    await waitForPhase(admin, name, 'Pending');
    const pending = ['approval-needed/source → chat', 'approval-needed/source → mail:src-leads@example.com', 'approval-needed/target → events', 'approval-needed/target → mail:dst-leads@example.com'];
    await expectExactly(uid, pending);

    // What the approvers read: the link, the exact command, the reason escaped for each format, no button.
    const chat = https.delivered('/chat/').find((d) => d.headers['idempotency-key'] === idempotencyKey(uid, 'approval-needed/source'));
    assert.ok(chat);
    assert.ok(chat.body.includes(`kubectl netwatch approve ${name} --part source`), chat.body);
    assert.ok(chat.body.includes(`<${WEB_URL}/requests/${name}|`));
    assert.ok(!/"type":"(actions|button)"/.test(chat.body));
    const slack = JSON.parse(chat.body) as { text: string };
    assert.ok(!slack.text.includes('<!channel>') && !slack.text.includes('<script'), slack.text);
    const mail = smtp.mails.find((m) => m.to.includes('dst-leads@example.com') && m.messageId === `<${idempotencyKey(uid, 'approval-needed/target')}@netwatch.vtk.io>`);
    assert.ok(mail);
    assert.equal(mail.subject, `[netwatch] ${name}: approval needed in ${dst}`);
    assert.ok(mail.secure && mail.user === 'netwatch', 'STARTTLS and AUTH from the files');
    assert.ok(mail.html.includes('&lt;script&gt;alert(1)&lt;/script&gt;') && !mail.html.includes('<script'), mail.html);
    assert.ok(mail.text.includes(`kubectl netwatch approve ${name} --part target`));
    assert.ok(mail.text.includes('\\u202eevil'), 'the bidi override is a visible escape');
    const event = https.delivered('/events').find((d) => (HTTP.toEvent({ headers: d.headers, body: d.body }) as CloudEvent).id === idempotencyKey(uid, 'approval-needed/target'));
    assert.equal(event?.headers.authorization, 'Bearer e2e');
    const ce = HTTP.toEvent({ headers: event?.headers ?? {}, body: event?.body }) as CloudEvent<{ request: { reason: string } }>;
    assert.equal(ce.type, 'io.vtk.netwatch.accessrequest.approval-needed');
    assert.equal(ce.data?.request.reason, HOSTILE_REASON, 'JSON carries the reason exactly');

    // carol approves the source part: the target's approvers hear that the other side said yes.
    await users.approve('carol', name, 'source', src);
    const partial = [...pending, 'part-approved/source → events', 'part-approved/source → mail:dst-leads@example.com'];
    await expectExactly(uid, partial);

    // bob approves the target part: Active, in force; the requester hears (by mail at alice@example.com, and events).
    await users.approve('bob', name, 'target', dst);
    await waitForReady(admin, name);
    const active = [...partial, 'active → events', 'active → mail:alice@example.com'];
    await expectExactly(uid, active);

    // bob revokes it.
    await users.decide('bob', name, 'Revoked', 'done here');
    await waitForPhase(admin, name, 'Revoked');
    await expectExactly(uid, [...active, 'revoked → events', 'revoked → mail:alice@example.com']);

    // The ledger on the request says the same.
    const ledger = parseLedger((await admin.get(name))?.metadata.annotations?.[ANNOTATION_LEDGER]).ledger;
    const states = Object.entries(ledger).flatMap(([notice, byDest]) => Object.entries(byDest).map(([d, e]) => `${notice} → ${d}: ${e.state}`));
    assert.equal(states.length, 10);
    assert.ok(states.every((s) => s.endsWith(': sent')), states.join('\n'));

    // A denial reaches the requester, with the reason.
    const denied = await create('alice', serviceSpec());
    await waitForPhase(admin, denied.metadata.name ?? '', 'Pending');
    await users.decide('carol', denied.metadata.name ?? '', 'Denied', 'not this week');
    await waitForPhase(admin, denied.metadata.name ?? '', 'Denied');
    await expectExactly(denied.metadata.uid ?? '', [...pending, 'denied → events', 'denied → mail:alice@example.com']);
    const deniedMail = smtp.mails.find((m) => m.messageId === `<${idempotencyKey(denied.metadata.uid ?? '', 'denied')}@netwatch.vtk.io>`);
    assert.ok(deniedMail?.text.includes('carol denied your request') && deniedMail.text.includes('Reason given: not this week'), deniedMail?.text);
    await stopAll();
  });

  test('a sink that fails three times then recovers gets the message once; one that keeps failing is given up with a Warning Event', async () => {
    const n = await notifier();
    https.fail('/chat/', 3, 503);
    const before = https.requests.filter((x) => x.path.startsWith('/chat/')).length;
    const r = await create('alice', serviceSpec());
    const uid = r.metadata.uid ?? '';
    await expectExactly(uid, ['approval-needed/source → chat', 'approval-needed/source → mail:src-leads@example.com', 'approval-needed/target → events', 'approval-needed/target → mail:dst-leads@example.com']);
    const tries = https.requests.filter((x) => x.path.startsWith('/chat/')).slice(before);
    assert.deepEqual(tries.map((t) => t.status), [503, 503, 503, 200]);
    assert.ok(tries.every((t) => t.headers['idempotency-key'] === idempotencyKey(uid, 'approval-needed/source')), 'every attempt carries the same key');
    // Backed off: 0.5 s, 1 s, 2 s between the attempts.
    const gaps = tries.slice(1).map((t, i) => t.at - (tries[i]?.at ?? 0));
    assert.ok(gaps[0]! >= 400 && gaps[1]! >= 900 && gaps[2]! >= 1900, JSON.stringify(gaps));

    // The lonely namespace's only route is a sink that always fails: four attempts, then a dead letter.
    const lone = await create('alice', { type: 'External', service: { namespace: lonely, name: 'web' }, cidrs: ['203.0.113.9/32'], direction: 'ingress', ports: [{ port: 80, protocol: 'TCP' }], duration: '1h', reason: 'dead letter' });
    const loneName = lone.metadata.name ?? '';
    const event = await waitFor('the dead-letter Event', async () => (await admin.events(loneName)).find((e) => e.reason === REASON_NOTIFICATION_FAILED), 30_000);
    assert.equal(event.type, 'Warning');
    assert.match(event.message, /^Gave up sending the approval-needed notice \(approval-needed\/target\) to broken after 4 attempts: HTTP 500$/);
    assert.equal(https.requests.filter((x) => x.path === '/broken' && x.headers['idempotency-key'] === idempotencyKey(lone.metadata.uid ?? '', 'approval-needed/target')).length, 4);
    const ledger = parseLedger((await admin.get(loneName))?.metadata.annotations?.[ANNOTATION_LEDGER]).ledger;
    assert.equal(ledger['approval-needed/target']?.broken?.state, 'dead');
    await users.decide('alice', r.metadata.name ?? '', 'Aborted');
    const metrics = await n.app.metrics.registry.metrics();
    assert.match(metrics, /^netwatch_notifier_deliveries_total\{sink="broken",outcome="dead"\} 1$/m);
    assert.match(metrics, /^netwatch_notifier_deliveries_total\{sink="chat",outcome="failed"\} 3$/m);
    // Given up means left alone: no fifth attempt.
    await sleep(QUIET_MS);
    assert.equal(https.requests.filter((x) => x.path === '/broken' && x.headers['idempotency-key'] === idempotencyKey(lone.metadata.uid ?? '', 'approval-needed/target')).length, 4);
    await users.decide('alice', loneName, 'Aborted');
    await stopAll();
  });

  test('neither a second replica nor a restart in the middle sends anything twice', async () => {
    // Two replicas with no lease between them: only the ledger's claims keep them from both sending.
    await notifier({}, { leaderElection: false });
    await notifier({}, { leaderElection: false });
    const r = await create('alice', serviceSpec());
    const name = r.metadata.name ?? '';
    const uid = r.metadata.uid ?? '';
    const pending = ['approval-needed/source → chat', 'approval-needed/source → mail:src-leads@example.com', 'approval-needed/target → events', 'approval-needed/target → mail:dst-leads@example.com'];
    await expectExactly(uid, pending);

    // Both stop; carol approves while none runs; a new one starts: the approval is announced, nothing before it again.
    await stopAll();
    await users.approve('carol', name, 'source', src);
    await waitForPhase(admin, name, 'PartiallyApproved');
    await notifier();
    const partial = [...pending, 'part-approved/source → events', 'part-approved/source → mail:dst-leads@example.com'];
    await expectExactly(uid, partial);

    // A leader and a standby; the leader stops in the middle, the standby takes over and resends nothing.
    await stopAll();
    const leader = await notifier();
    const standby = await notifier({ identity: 'standby' }, { wait: false });
    assert.ok(leader.app.isLeader && !standby.app.isLeader);
    await users.approve('bob', name, 'target', dst);
    await waitForReady(admin, name);
    await expectExactly(uid, [...partial, 'active → events', 'active → mail:alice@example.com']);
    await leader.stop();
    await waitFor('the standby to lead', async () => standby.app.isLeader && standby.app.ready, 20_000);
    await users.decide('alice', name, 'Revoked');
    await waitForPhase(admin, name, 'Revoked');
    // Revoked by the requester: no message about it, and nothing else either.
    await sleep(QUIET_MS);
    assert.deepEqual(deliveredFor(uid), [...partial, 'active → events', 'active → mail:alice@example.com'].sort());
    await stopAll();
  });

  test('reminders fire at the configured times: a part still pending, a grant about to expire', async () => {
    const reminder = 4000;
    const warning = 8000;
    await notifier({ timings: { pendingReminderMs: reminder, expiryWarningMs: warning, activeGraceMs: 60_000 } });
    const r = await create('alice', { ...serviceSpec(), duration: '20s' });
    const name = r.metadata.name ?? '';
    const uid = r.metadata.uid ?? '';
    const created = Date.parse(r.metadata.creationTimestamp ?? '');
    await users.approve('carol', name, 'source', src);
    const remind = await waitFor('the pending reminder', async () => deliveries().find((d) => d.key === idempotencyKey(uid, 'pending-reminder/target') && d.to === 'events'), 15_000);
    // The API server's timestamps have whole seconds: allow that much on the early side.
    // Not before its time, and at it rather than at some later pass (the generous bound is for a loaded machine).
    assert.ok(remind.at >= created + reminder - 1000 && remind.at < created + 2 * reminder, `reminder ${remind.at - created} ms after creation`);
    assert.ok(!deliveries().some((d) => d.key === idempotencyKey(uid, 'pending-reminder/source')), 'the approved part is not reminded of');

    await users.approve('bob', name, 'target', dst);
    const ready = await waitForReady(admin, name);
    const expires = Date.parse(ready.status?.expiresAt ?? '');
    const warned = await waitFor('the expiry warning', async () => deliveries().find((d) => d.key === idempotencyKey(uid, 'expiring') && d.to === 'mail:alice@example.com'), 25_000);
    assert.ok(warned.at >= expires - warning - 1000 && warned.at < expires - warning / 2, `warned ${expires - warned.at} ms before expiry`);
    const mail = smtp.mails.find((m) => m.messageId === `<${idempotencyKey(uid, 'expiring')}@netwatch.vtk.io>`);
    assert.match(mail?.subject ?? '', /: access expires in \d+s$/);
    await waitForPhase(admin, name, 'Expired', 30_000);
    await sleep(QUIET_MS);
    const all = deliveredFor(uid);
    assert.equal(all.filter((x) => x.startsWith('pending-reminder/target')).length, 2, 'the reminder once per destination');
    assert.equal(all.filter((x) => x.startsWith('expiring')).length, 2, 'the warning once per destination');
    await stopAll();
  });

  test('an extension: each part\'s approvers once with the approve command, then the requester once when it is granted', async () => {
    const r = await create('alice', serviceSpec());
    const name = r.metadata.name ?? '';
    const uid = r.metadata.uid ?? '';
    await users.approve('carol', name, 'source', src);
    await users.approve('bob', name, 'target', dst);
    await waitForReady(admin, name);
    // No AccessPolicy, so no maxTotalDuration: both parts are asked again. The notifier starts now, so the request's
    // own approval notices are not due any more and only the grant and the extension are announced.
    await users.extend('alice', name, '1h', HOSTILE_REASON);
    await notifier();
    const needed = [
      'active → events',
      'active → mail:alice@example.com',
      'extension-needed/0/source → chat',
      'extension-needed/0/source → mail:src-leads@example.com',
      'extension-needed/0/target → events',
      'extension-needed/0/target → mail:dst-leads@example.com',
    ];
    await waitFor('the extension notices', async () => needed.every((x) => deliveredFor(uid).includes(x)), 30_000);
    const chat = https.delivered('/chat/').find((d) => d.headers['idempotency-key'] === idempotencyKey(uid, 'extension-needed/0/source'));
    assert.ok(chat);
    assert.ok(chat.body.includes(`kubectl netwatch approve ${name} --part source`), chat.body);
    assert.ok(!(JSON.parse(chat.body) as { text: string }).text.includes('<!channel>'));
    const mail = smtp.mails.find((m) => m.messageId === `<${idempotencyKey(uid, 'extension-needed/0/target')}@netwatch.vtk.io>`);
    assert.equal(mail?.subject, `[netwatch] ${name}: extension approval needed in ${dst}`);
    assert.ok(mail.text.includes('by 1h: the target part') && mail.text.includes('one approver (total 2h, no maxTotalDuration)'), mail.text);
    assert.ok(mail.html.includes('&lt;script&gt;alert(1)&lt;/script&gt;') && !mail.html.includes('<script'), mail.html);

    await users.approveExtension('carol', name, 0, 'source', src);
    await waitFor('the target\'s approvers to hear of the source\'s approval', async () => deliveredFor(uid).includes('extension-part-approved/0/source → events'), 30_000);
    await users.approveExtension('bob', name, 0, 'target', dst);
    const extended = await waitFor('expiresAt to move', async () => {
      const ar = await admin.get(name);
      return Date.parse(ar?.status?.expiresAt ?? '') - Date.parse(ar?.status?.approvedAt ?? '') === 2 * 3600_000 ? ar : undefined;
    });
    await expectExactly(uid, [
      ...needed,
      'extension-part-approved/0/source → events',
      'extension-part-approved/0/source → mail:dst-leads@example.com',
      'extended/0 → events',
      'extended/0 → mail:alice@example.com',
    ]);
    const told = smtp.mails.find((m) => m.messageId === `<${idempotencyKey(uid, 'extended/0')}@netwatch.vtk.io>`);
    assert.ok(told?.text.includes(`is extended by 1h: it is open until ${extended.status?.expiresAt ?? '?'}`), told?.text);
    await users.decide('alice', name, 'Revoked');
    await stopAll();
  });

  test('an AccessPolicy rule routes the approvals of the part it matched: to its sinks, exactly once, not to the annotation\'s', async () => {
    await admin.service(dst, 'cache');
    const policy = (notify: string[]) => accessPolicy(dst, 'cache-owners', [{ name: 'cache', match: { services: { names: ['cache'] } }, notify: { approvers: notify } }]) as KubeObject;
    // The CRD refuses what can never be a route item, naming the field.
    const refused = await admin.kube.create('accesspolicies', policy(['Team Chat'])).then(() => undefined, (e: unknown) => e);
    assert.ok(refused instanceof KubeError && refused.status === 422 && /spec\.rules\[0\]\.notify\.approvers\[0\]/.test(refused.message), String(refused));
    await admin.kube.create('accesspolicies', policy(['chat', 'mail:dst-cache@example.com']));
    const spec = { ...serviceSpec(), target: { namespace: dst, service: 'cache' } };
    // The webhook stamps the matching rule once its informer has the policy (a dry run shows the stamp).
    await waitFor('the webhook to stamp the cache rule', async () => {
      const probe = await users.dryRunRequest('alice', spec);
      return probe.spec.policy?.some((p) => p.part === 'target' && p.rules.includes(`${dst}/cache-owners/cache`));
    });
    await notifier();
    const r = await create('alice', spec);
    // The target part: the rule's chat and mailbox, not the dst annotation's events and dst-leads; the source part
    // (no policy) its annotation's.
    await expectExactly(r.metadata.uid ?? '', [
      'approval-needed/source → chat',
      'approval-needed/source → mail:src-leads@example.com',
      'approval-needed/target → chat',
      'approval-needed/target → mail:dst-cache@example.com',
    ]);
    await users.decide('alice', r.metadata.name ?? '', 'Aborted');
    await stopAll();
  });
});
