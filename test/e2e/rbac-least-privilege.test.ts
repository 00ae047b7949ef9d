// "A test checks each component's calls against its Role": the real webhook, controller and notifier (delivering to
// local receivers, one of them failing until it is given up), bound to the RBAC of the rendered manifests
// (manifests/default), go through a realistic life of AccessRequests, and the web UI records
// and follows a sign-out and acts as a user, while the API server writes an audit log. Then, per component identity: no call was refused, every call is covered by a rule of the
// manifests (computed here, not only inferred from the absence of 403s), and every permission the manifests grant
// was used — so a verb added to a Role "just in case" fails this suite unless it is on the commented allow-list of
// rare paths below.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyObjects, roleBinding, startControlPlane, type AuditEvent, type ControlPlane } from '../../scripts/controlplane.ts';
import { installWebhook, type InstalledWebhook } from '../support/webhook.ts';
import { installController, type InstalledController } from '../support/controller.ts';
import { installNotifier, type InstalledNotifier } from '../support/notifier.ts';
import { parseConfig } from '../../notifier/config.ts';
import { REASON_NOTIFICATION_FAILED } from '../../notifier/notifier.ts';
import { startHttpReceiver, type HttpReceiver } from '../../scripts/receivers.ts';
import { kubeGateway } from '../../webui/kube.ts';
import { configMapRevocations, SESSIONS_CONFIGMAP } from '../../webui/revocations-configmap.ts';
import { newSessionId } from '../../webui/revocations.ts';
import { HttpKube } from '../../lib/kube/http.ts';
import { isConflict } from '../../lib/kube/port.ts';
import type { AccessRequest, AccessRequestSpec } from '../../lib/api/accessrequest.ts';
import type { MaxtacObject } from '../../lib/kube/types.ts';
import { Admin, suffix, waitFor, waitForPhase, waitForReady } from '../support/admin.ts';
import { REPO, copyManifestTree, render, type Manifest } from '../support/manifests.ts';
import { grantsFor, leastPrivilege, permissionsOf, type Grant, type ServiceAccountRef } from '../support/rbac.ts';
import { requestBody } from '../support/builders.ts';

const SYSTEM_NS = 'netwatch-system';
const CONTROLLER: ServiceAccountRef = { namespace: SYSTEM_NS, name: 'netwatch-controller' };
const WEBHOOK: ServiceAccountRef = { namespace: SYSTEM_NS, name: 'netwatch-webhook' };
const WEBUI: ServiceAccountRef = { namespace: SYSTEM_NS, name: 'netwatch-webui' };
const NOTIFIER: ServiceAccountRef = { namespace: SYSTEM_NS, name: 'netwatch-notifier' };

/** Terminal requests are deleted this long after they ended, so the scenario sees the retention clean-up. */
const RETENTION_SECONDS = 3;

/**
 * Permissions the controller holds for paths this scenario does not reach. Each needs a reason; an entry that is
 * not (or no longer) a permission of the manifests fails the suite, so the list cannot go stale silently.
 */
const CONTROLLER_RARE_PATHS: readonly string[] = [
  // requestExists(): a managed object whose request is missing from the informer cache is confirmed with a live
  // read before it is deleted as an orphan. With a synced cache the request is always found there first.
  'get netwatch.vtk.io/accessrequests',
];

/** The notifier's rare path: a live read when recording delivery results raced another write of the request. */
const NOTIFIER_RARE_PATHS: readonly string[] = ['get netwatch.vtk.io/accessrequests'];

let cp: ControlPlane;
let notifier: InstalledNotifier | undefined;
let receiver: HttpReceiver | undefined;
let webhook: InstalledWebhook | undefined;
let controller: InstalledController | undefined;
let admin: Admin;
let defaultObjects: Manifest[];
let impersonationObjects: Manifest[];
let tree: string;
let events: AuditEvent[] = [];
const users = new Map<string, HttpKube>();

function as(user: string): HttpKube {
  let kube = users.get(user);
  if (!kube) users.set(user, (kube = new HttpKube(cp.kubeConfigFor(user), { cached: [] })));
  return kube;
}

async function create(user: string, spec: Omit<AccessRequestSpec, 'reason'>): Promise<string> {
  const ar = await as(user).create<AccessRequest>('accessrequests', requestBody({ reason: 'least-privilege scenario', ...spec }, { name: `lp-${suffix()}` }));
  return ar.metadata.name ?? '';
}

/**
 * A status write as `user`, the way the plugin and the web UI approve and decide (the webhook stamps `by`):
 * read-modify-write, again on Conflict since the controller writes the same status.
 */
async function writeStatus(user: string, name: string, change: (status: NonNullable<AccessRequest['status']>) => void): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const ar = await as(user).get<AccessRequest>('accessrequests', '', name);
    if (!ar) throw new Error(`AccessRequest ${name} not found`);
    const status = structuredClone(ar.status ?? {});
    change(status);
    try {
      await as(user).replaceStatus<AccessRequest>('accessrequests', { ...ar, status });
      return;
    } catch (e) {
      if (!isConflict(e) || attempt >= 10) throw e;
    }
  }
}

/** Deletes a maxtac object without letting any finalizer run (stripped first; retried when maxtac moved it on). */
async function forceDelete(resource: 'accesses' | 'externalaccesses', namespace: string, name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const live = await admin.kube.get<MaxtacObject>(resource, namespace, name);
    if (!live) throw new Error(`${resource} ${namespace}/${name} not found`);
    try {
      await admin.kube.setFinalizers(resource, namespace, name, live.metadata.resourceVersion ?? '', []);
      break;
    } catch (e) {
      if (!isConflict(e) || attempt >= 10) throw e;
    }
  }
  await admin.kube.delete(resource, namespace, name);
}

/** Waits until the audit log holds an event written after everything before it (the log lags the responses). */
async function flushAudit(): Promise<AuditEvent[]> {
  const marker = `netwatch-audit-marker-${randomBytes(4).toString('hex')}`;
  await admin.kube.get('services', 'default', marker);
  return waitFor('the audit log to catch up', async () => {
    const all = cp.auditEvents();
    return all.some((e) => e.objectRef?.name === marker) ? all : undefined;
  });
}

function assertLeastPrivilege(identity: string, grants: Grant[], rarePaths: readonly string[] = []): void {
  const report = leastPrivilege(events, identity, grants, rarePaths);
  assert.deepEqual(report.forbidden, [], `${identity} was refused`);
  assert.deepEqual(report.uncovered, [], `${identity} made calls its manifests do not grant`);
  assert.deepEqual(report.unused, [], `${identity} holds permissions the scenario never used (remove them, or allow-list a rare path with its reason)`);
  assert.deepEqual(report.unknownRarePaths, [], 'the rare-path allow-list names permissions the manifests do not grant');
}

describe('least privilege: each component calls exactly what its manifests grant', () => {
  before(async () => {
    cp = await startControlPlane({ maxtac: true, audit: true });
    admin = new Admin(cp);
    defaultObjects = await render(join(REPO, 'manifests/default'));
    // The impersonation component composed onto the default tree, in a private copy of the manifests.
    tree = copyManifestTree();
    const overlay = join(tree, 'manifests/overlays/test-impersonation');
    mkdirSync(overlay);
    writeFileSync(join(overlay, 'kustomization.yaml'), 'resources: [../../default]\ncomponents: [../../webui/impersonation]\n');
    impersonationObjects = await render(overlay);
    webhook = await installWebhook(cp);
    controller = await installController(cp, { retentionSeconds: RETENTION_SECONDS });
    // Every notice goes to a CloudEvents receiver and to a Slack stand-in that always fails: deliveries write the
    // ledger, and giving up writes a Warning Event.
    receiver = await startHttpReceiver();
    receiver.fail('/broken', Infinity);
    const secrets = join(tree, 'notifier-secrets');
    mkdirSync(secrets);
    writeFileSync(join(secrets, 'events-url'), `${receiver.url}/events`);
    writeFileSync(join(secrets, 'broken-url'), `${receiver.url}/broken`);
    writeFileSync(join(secrets, 'ca.crt'), receiver.caPem ?? '');
    const config = parseConfig(
      JSON.stringify({
        sinks: [
          { name: 'events', type: 'cloudevents', urlFile: join(secrets, 'events-url'), caFile: join(secrets, 'ca.crt') },
          { name: 'broken', type: 'slack', urlFile: join(secrets, 'broken-url'), caFile: join(secrets, 'ca.crt') },
        ],
        routes: { approvers: ['events', 'broken'], requester: ['events', 'broken'] },
      }),
      'least-privilege config',
    );
    notifier = await installNotifier(cp, { config, settings: { retry: { initialMs: 200, maxMs: 400, maxAttempts: 2 } } });
  });

  after(async () => {
    await notifier?.stop();
    await receiver?.close();
    await controller?.stop();
    await webhook?.close();
    for (const kube of users.values()) await kube.stop();
    await admin?.close();
    await cp?.stop();
    if (tree) rmSync(tree, { recursive: true, force: true });
  });

  test('a realistic scenario: requests created, approved, revoked, expired, deleted; objects deleted behind netwatch\'s back', async () => {
    const s = suffix();
    const src = await admin.namespace(`lp-src-${s}`);
    const dst = await admin.namespace(`lp-dst-${s}`);
    await admin.service(src, 'client');
    await admin.service(src, 'worker');
    await admin.service(dst, 'db');
    await admin.service(dst, 'web');
    // People get the roles the manifests ship: everyone files requests; carol approves for src, bob for dst.
    await applyObjects(cp.admin, [
      ...defaultObjects.filter((o) => o.kind === 'ClusterRole' && ['netwatch-user', 'netwatch-approver'].includes(o.metadata.name)),
      roleBinding(`lp-users-${s}`, 'netwatch-user', { kind: 'Group', name: 'developers' }),
      roleBinding('lp-carol', 'netwatch-approver', { kind: 'User', name: 'carol' }, src),
      roleBinding('lp-bob', 'netwatch-approver', { kind: 'User', name: 'bob' }, dst),
    ]);

    // 1. alice asks, each namespace's approver approves their part, it goes Active, bob revokes it.
    const revoked = await create('alice', { type: 'Service', source: { namespace: src, service: 'client' }, target: { namespace: dst, service: 'db' }, duration: '1h' });
    await waitForPhase(admin, revoked, 'Pending');
    await writeStatus('carol', revoked, (st) => void (st.approvals = [...(st.approvals ?? []), { part: 'source', namespace: src }]));
    await writeStatus('bob', revoked, (st) => void (st.approvals = [...(st.approvals ?? []), { part: 'target', namespace: dst }]));
    await waitForReady(admin, revoked);
    await writeStatus('bob', revoked, (st) => void (st.decision = { type: 'Revoked', reason: 'done' }));
    await waitForPhase(admin, revoked, 'Revoked');

    // 2. bob may approve what he asks for in dst: Active at once, and it expires after a short duration.
    const expired = await create('bob', { type: 'External', service: { namespace: dst, name: 'web' }, cidrs: ['203.0.113.7/32'], direction: 'ingress', duration: '5s' });
    await waitForReady(admin, expired);
    await waitForPhase(admin, expired, 'Expired', 30_000);

    // 3. carol's same-namespace request is Active at once; somebody deletes its maxtac Access by hand.
    const handDeleted = await create('carol', { type: 'Service', source: { namespace: src, service: 'client' }, target: { namespace: src, service: 'worker' }, duration: '1h' });
    const active = await waitForReady(admin, handDeleted);
    const access = active.status?.objects?.find((o) => o.kind === 'Access');
    assert.ok(access, JSON.stringify(active.status?.objects));
    await admin.kube.delete('accesses', access.namespace, access.name);
    await waitForPhase(admin, handDeleted, 'Failed');

    // 4. An Active External request deleted by its requester; a pending one deleted by its requester.
    const deletedActive = await create('bob', { type: 'External', service: { namespace: dst, name: 'db' }, cidrs: ['198.51.100.0/24'], direction: 'egress', duration: '1h' });
    await waitForReady(admin, deletedActive);
    await as('bob').delete('accessrequests', '', deletedActive);
    const deletedPending = await create('alice', { type: 'External', service: { namespace: dst, name: 'web' }, cidrs: ['192.0.2.0/24'], direction: 'ingress', duration: '1h' });
    await waitForPhase(admin, deletedPending, 'Pending');
    await as('alice').delete('accessrequests', '', deletedPending);

    // 5. An admin force-deletes an Access and an ExternalAccess (finalizers stripped first, as people do with
    // stuck objects): the controller learns of it only from their absence and confirms with live reads.
    const forcedAccess = await create('carol', { type: 'Service', source: { namespace: src, service: 'worker' }, target: { namespace: src, service: 'client' }, duration: '1h' });
    const forcedExternal = await create('bob', { type: 'External', service: { namespace: dst, name: 'web' }, cidrs: ['203.0.113.0/24'], direction: 'ingress', duration: '1h' });
    for (const name of [forcedAccess, forcedExternal]) {
      const ref = (await waitForReady(admin, name)).status?.objects?.find((o) => o.kind !== 'Service');
      assert.ok(ref);
      await forceDelete(ref.kind === 'Access' ? 'accesses' : 'externalaccesses', ref.namespace, ref.name);
      await waitForPhase(admin, name, 'Failed');
    }

    // 6. The target Service is deleted while the request waits for approval: at full approval the controller
    // double-checks with a live read before it fails the request.
    await admin.service(dst, 'legacy');
    const targetGone = await create('alice', { type: 'Service', source: { namespace: src, service: 'client' }, target: { namespace: dst, service: 'legacy' }, duration: '1h' });
    await waitForPhase(admin, targetGone, 'Pending');
    await admin.kube.delete('services', dst, 'legacy');
    await writeStatus('carol', targetGone, (st) => void (st.approvals = [...(st.approvals ?? []), { part: 'source', namespace: src }]));
    await writeStatus('bob', targetGone, (st) => void (st.approvals = [...(st.approvals ?? []), { part: 'target', namespace: dst }]));
    await waitForPhase(admin, targetGone, 'Failed');

    // Deletions go through the controller's finalizer; terminal requests go when their retention ends.
    for (const name of [revoked, expired, handDeleted, deletedActive, deletedPending, forcedAccess, forcedExternal, targetGone]) {
      await waitFor(`${name} to be gone`, async () => (await admin.get(name)) === undefined, 40_000);
    }
    await waitFor('every clone and maxtac object gone', async () => {
      const clones = await admin.list('services', 'app.kubernetes.io/managed-by=netwatch');
      const accesses = [...(await admin.list('accesses')), ...(await admin.list('externalaccesses'))];
      return clones.length === 0 && accesses.length === 0;
    });

    // The web UI's own identity with the RBAC of manifests/webui: one replica records a sign-out in the ConfigMap
    // the manifests create, another follows the ConfigMap and learns of it.
    await applyObjects(cp.admin, defaultObjects.filter((o) => o.metadata.name === SESSIONS_CONFIGMAP));
    const [signingOut, following] = [configMapRevocations(cp.kubeConfigFor('netwatch-webui')), configMapRevocations(cp.kubeConfigFor('netwatch-webui'))];
    const quiet = pino({ level: 'silent' });
    signingOut.start(quiet);
    following.start(quiet);
    await waitFor('the web UI to follow the sign-out list', async () => following.state === 'current' && signingOut.state === 'current');
    const sid = newSessionId();
    await signingOut.revoke(sid, new Date(Date.now() + 3600_000));
    await waitFor('the other replica to learn of the sign-out', async () => following.isRevoked(sid));
    await signingOut.stop();
    await following.stop();

    // The web UI in impersonation mode, as its own identity with the component's RBAC: it lists as alice.
    await applyObjects(cp.admin, impersonationObjects.filter((o) => o.metadata.name === 'netwatch-webui-impersonator'));
    const asAlice = kubeGateway(cp.kubeConfigFor('netwatch-webui')).forActor({ kind: 'impersonate', identity: { username: 'alice', groups: ['developers'] } });
    await asAlice.listRequests();
    assert.deepEqual(await asAlice.canI([{ verb: 'create', group: 'netwatch.vtk.io', resource: 'accessrequests', namespace: '' }]), [true]);

    // The notifier delivered, and gave up on the broken sink with a Warning Event.
    await waitFor('a notification delivered', async () => (receiver?.delivered('/events').length ?? 0) > 0);
    const deadLetters = async () => {
      const list = await admin.kube.call<{ items: { reason: string }[] }>('GET', '/api/v1/namespaces/default/events');
      return list.items.some((e) => e.reason === REASON_NOTIFICATION_FAILED);
    };
    await waitFor('a dead-letter Event', deadLetters, 30_000);

    // Stopping releases the controller's and the notifier's Leases (an update); then read everything the API
    // server logged.
    await notifier?.stop();
    notifier = undefined;
    await controller?.stop();
    controller = undefined;
    await webhook?.close();
    webhook = undefined;
    events = await flushAudit();
  });

  test('the controller: no refusal, every call granted, every permission used', () => {
    const identity = cp.users['netwatch-controller']?.name ?? '';
    assert.ok(events.some((e) => e.user.username === identity), 'the audit log has the controller\'s calls');
    assertLeastPrivilege(identity, grantsFor(defaultObjects, CONTROLLER), CONTROLLER_RARE_PATHS);
  });

  test('the notifier: no refusal, every call granted, every permission used', () => {
    const identity = cp.users['netwatch-notifier']?.name ?? '';
    assert.ok(events.some((e) => e.user.username === identity), 'the audit log has the notifier\'s calls');
    assertLeastPrivilege(identity, grantsFor(defaultObjects, NOTIFIER), NOTIFIER_RARE_PATHS);
  });

  test('the webhook: no refusal, every call granted, every permission used', () => {
    const identity = cp.users['netwatch-webhook']?.name ?? '';
    assert.ok(events.some((e) => e.user.username === identity), 'the audit log has the webhook\'s calls');
    assertLeastPrivilege(identity, grantsFor(defaultObjects, WEBHOOK));
  });

  test('the web UI: in ID-token mode it only keeps the sign-out ConfigMap; in impersonation mode it also impersonates', () => {
    const sessions = ['get', 'list', 'update', 'watch'].map((verb) => `${verb} core/configmaps [${SESSIONS_CONFIGMAP}] in ${SYSTEM_NS}`);
    assert.deepEqual(permissionsOf(grantsFor(defaultObjects, WEBUI)).map((p) => p.id).sort(), sessions, 'ID-token mode: the sign-out list only');
    const grants = grantsFor(impersonationObjects, WEBUI);
    assert.deepEqual(permissionsOf(grants).map((p) => p.id).sort(), ['impersonate core/groups', 'impersonate core/users', ...sessions].sort());
    const identity = cp.users['netwatch-webui']?.name ?? '';
    const mine = events.filter((e) => e.user.username === identity);
    const own = mine.filter((e) => !e.impersonatedUser);
    assert.ok(own.length > 0 && own.every((e) => e.objectRef?.resource === 'configmaps' && e.objectRef.name === SESSIONS_CONFIGMAP), 'its own calls are on the sign-out ConfigMap only');
    assert.ok(mine.some((e) => e.impersonatedUser) && mine.every((e) => !e.impersonatedUser || e.impersonatedUser.username === 'alice'), 'every other call acts as the user');
    assertLeastPrivilege(identity, grants);
  });

  test('the check fails for an extra verb, a missing rule and a stale allow-list entry', () => {
    const identity = cp.users['netwatch-controller']?.name ?? '';
    const grants = grantsFor(defaultObjects, CONTROLLER);
    const extra: Grant = { rule: { apiGroups: [''], resources: ['services'], verbs: ['update'] }, via: 'test' };
    assert.deepEqual(leastPrivilege(events, identity, [...grants, extra], CONTROLLER_RARE_PATHS).unused, ['update core/services']);
    const withoutEvents = grants.filter((g) => !g.rule.resources?.includes('events'));
    assert.deepEqual(leastPrivilege(events, identity, withoutEvents, CONTROLLER_RARE_PATHS).uncovered, ['create core/events in default']);
    assert.deepEqual(leastPrivilege(events, identity, grants, [...CONTROLLER_RARE_PATHS, 'get core/secrets']).unknownRarePaths, ['get core/secrets']);
  });
});
