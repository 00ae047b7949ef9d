// Extending an Active grant against the real control plane (API server, etcd, maxtac, the netwatch webhook and
// controller): within every part's maxTotalDuration an extension needs no approval; beyond it the parts are asked
// again and expiresAt stays until they approve. Each granted extension makes a new generation of clones and maxtac
// objects with the remaining time before the previous one goes, and the grant's NetworkPolicies never go missing
// meanwhile. What the rule book forbids (a stranger, a second pending extension, a request not Active) the webhook
// refuses, naming the field.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import type { KubernetesObject } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { applyObjects, roleBinding, startControlPlane, type ControlPlane } from '../../scripts/controlplane.ts';
import type { AccessRequest, AccessRequestSpec } from '../../lib/api/accessrequest.ts';
import type { AccessPolicy } from '../../lib/api/accesspolicy.ts';
import { KubeError } from '../../lib/kube/errors.ts';
import { objectName } from '../../lib/domain/names.ts';
import { installWebhook, type InstalledWebhook } from '../support/webhook.ts';
import { installController, type InstalledController } from '../support/controller.ts';
import { Users } from '../support/users.ts';
import { serviceSpec } from '../support/builders.ts';
import { Admin, waitFor, waitForPhase, waitForReady } from '../support/admin.ts';
import { run } from '../../plugin/src/cli.ts';
import { captured } from '../support/streams.ts';

const REPO = new URL('../..', import.meta.url).pathname;

let cp: ControlPlane;
let webhook: InstalledWebhook;
let controller: InstalledController;
let admin: Admin;
let users: Users;
// The request the first tests extend, and its uid.
let name = '';
let uid = '';

/** prometheus → payments/database on 5432/TCP, with a reason the example policies accept. */
const spec = (overrides: Partial<AccessRequestSpec> = {}): AccessRequestSpec =>
  serviceSpec({ target: { namespace: 'payments', service: 'database' }, reason: 'INC-4711 replication lag', ...overrides });

function policy(namespace: string, rule: AccessPolicy['spec']['rules'][number]): KubernetesObject {
  return { apiVersion: 'netwatch.vtk.io/v1alpha1', kind: 'AccessPolicy', metadata: { name: 'extend', namespace }, spec: { rules: [rule] } } as KubernetesObject;
}

async function refusal(what: Promise<unknown>): Promise<{ status: number; message: string }> {
  try {
    await what;
  } catch (err) {
    if (err instanceof KubeError) return { status: err.status ?? 0, message: err.message };
    throw err;
  }
  assert.fail('the API server accepted a write that must be refused');
}

async function cli(user: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captured();
  const code = await run([...args, '--kubeconfig', cp.kubeconfigPathFor(user)], { stdout: io.stdout, stderr: io.stderr, stdin: new PassThrough() });
  return { code, out: io.out(), err: io.err() };
}

async function get(name: string): Promise<AccessRequest> {
  const ar = await admin.get(name);
  assert.ok(ar, `${name} exists`);
  return ar;
}

const plus = (iso: string | undefined, ms: number) => new Date(Date.parse(iso ?? '') + ms).toISOString();

/** The maxtac objects of `uid`, by name, and whether each half has a NetworkPolicy of a live maxtac object. */
async function grant(uid: string): Promise<{ maxtac: string[]; clones: string[]; policyIn: Set<string> }> {
  const m = await admin.materialized(uid);
  return {
    maxtac: m.maxtac.filter((o) => !o.metadata.deletionTimestamp).map((o) => o.metadata.name ?? '').sort(),
    clones: m.clones.filter((o) => !o.metadata.deletionTimestamp).map((o) => o.metadata.name ?? '').sort(),
    policyIn: new Set(m.policies.map((p) => p.metadata.namespace ?? '')),
  };
}

function readyOf(ar: AccessRequest | undefined) {
  return ar?.status?.conditions?.find((c) => c.type === 'Ready');
}

/**
 * Samples the grant until `done` holds, failing the moment a half has no NetworkPolicy of a live maxtac object (the
 * make-before-break promise) or the request stops saying so (Active and Ready True, the same Ready since `since`).
 */
async function neverClosedUntil(uid: string, what: string, done: (g: Awaited<ReturnType<typeof grant>>) => boolean): Promise<number> {
  let samples = 0;
  const gaps: string[] = [];
  const since = readyOf(await admin.get(name))?.lastTransitionTime;
  // waitFor takes a throw for "not yet": gaps are collected and asserted after.
  await waitFor(what, async () => {
    const g = await grant(uid);
    const ar = await admin.get(name);
    const ready = readyOf(ar);
    samples++;
    if (g.policyIn.size !== 2) gaps.push(`sample ${samples}: ${JSON.stringify({ ...g, policyIn: [...g.policyIn] })}`);
    if (ar?.status?.phase !== 'Active' || ready?.status !== 'True' || ready.lastTransitionTime !== since) {
      gaps.push(`sample ${samples}: ${ar?.status?.phase ?? 'no phase'}, Ready ${JSON.stringify(ready)} (True since ${since ?? '?'} expected)`);
    }
    return gaps.length > 0 || done(g);
  }, 60_000);
  assert.deepEqual(gaps, [], 'the grant looked closed');
  return samples;
}

/** The InForce Events of the request: one, when its access first came in force; a switch makes none. */
async function inForceEvents(): Promise<string[]> {
  return (await admin.events(name)).filter((e) => e.reason === 'InForce').map((e) => e.message);
}

/** The PID of the control plane's maxtac process (started by this test's control plane). */
function maxtacProcess(): number {
  const pid = cp.pids().find((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0')[0]?.includes('maxtac') === true;
    } catch {
      return false;
    }
  });
  assert.ok(pid, 'the maxtac process of this control plane');
  return pid;
}

const names = (uid: string, generation: number) => ({
  maxtac: [objectName(uid, 'sourceMaxtac', generation), objectName(uid, 'targetMaxtac', generation)].sort(),
  clones: [objectName(uid, 'sourceClone', generation), objectName(uid, 'targetClone', generation)].sort(),
});

describe('extending an Active grant on a real API server', () => {
  before(async () => {
    cp = await startControlPlane({ maxtac: true });
    admin = new Admin(cp);
    users = new Users(cp);
    for (const ns of ['monitoring', 'payments']) await admin.namespace(ns);
    await admin.service('monitoring', 'prometheus', [{ name: 'web', port: 9090, protocol: 'TCP', targetPort: 9090 }]);
    await admin.service('payments', 'database', [{ name: 'postgres', port: 5432, protocol: 'TCP', targetPort: 5432 }]);
    const userRef = (u: string) => ({ kind: 'User' as const, name: cp.users[u]?.name ?? u });
    await applyObjects(cp.admin, [
      ...(parseAllDocuments(readFileSync(`${REPO}manifests/rbac/user-roles.yaml`, 'utf8')) as { toJS(): unknown }[]).map((d) => d.toJS() as KubernetesObject),
      roleBinding('e2e-users', 'netwatch-user', { kind: 'Group', name: 'developers' }),
      roleBinding('e2e-bob-approver', 'netwatch-approver', userRef('bob'), 'payments'),
      roleBinding('e2e-carol-approver', 'netwatch-approver', userRef('carol'), 'monitoring'),
      // monitoring lets prometheus out with no human; payments asks bob; both allow 3h in all.
      policy('monitoring', { name: 'prometheus-out', autoApprove: true, maxTotalDuration: '3h' }),
      policy('payments', { name: 'postgres', maxDuration: '2h', maxTotalDuration: '3h' }),
    ]);
    webhook = await installWebhook(cp);
    controller = await installController(cp, { workers: 2 });
    // The webhook reads policies from its informer: wait until the request it stamps names both rules.
    await waitFor('the policies in the webhook', async () => {
      const probe = await users.dryRunRequest('alice', spec());
      return (probe.spec.policy ?? []).filter((p) => p.maxTotalDuration === '3h').length === 2;
    });
  });

  after(async () => {
    await controller?.stop();
    await webhook?.close();
    await users?.close();
    await admin?.close();
    await cp?.stop();
  });

  test('within maxTotalDuration: no approval, expiresAt moves, a new generation replaces the old one and the grant never closes', async () => {
    const created = await users.createRequest('alice', spec());
    name = created.metadata.name ?? '';
    uid = created.metadata.uid ?? '';
    await users.approve('bob', name, 'target', 'payments');
    const active = await waitForReady(admin, name);
    const expiresAt = active.status?.expiresAt;
    assert.ok(expiresAt);
    await neverClosedUntil(uid, 'generation 0 in force', (g) => g.maxtac.length === 2);
    await waitFor('the InForce Event', async () => (await inForceEvents()).length === 1);

    const extended = await cli('alice', ['extend', name, '--by', '30m', '--reason', 'INC-4711 still digging']);
    assert.equal(extended.code, 0, extended.err);
    assert.match(extended.out, new RegExp(`accessrequest.netwatch.vtk.io/${name} extension 1 \\(\\+30m\\): extended to ${plus(expiresAt, 30 * 60_000).replace(/[.]/g, '\\.')}`));

    const samples = await neverClosedUntil(uid, 'generation 1 alone', (g) => JSON.stringify({ maxtac: g.maxtac, clones: g.clones }) === JSON.stringify(names(uid, 1)));
    assert.ok(samples > 0);
    const after1 = await get(name);
    assert.equal(after1.status?.expiresAt, plus(expiresAt, 30 * 60_000));
    assert.equal(after1.status?.phase, 'Active');
    assert.deepEqual(after1.status?.extensions?.map((e) => [e.duration, e.requestedBy, e.reason]), [['30m', 'alice', 'INC-4711 still digging']]);
    assert.deepEqual(after1.status?.extensionApprovals ?? [], [], 'nobody had to approve');
    // The new maxtac objects run for the time left, not the whole 2h30m from now.
    const m = await admin.materialized(uid);
    for (const o of m.maxtac) {
      const seconds = parseInt(o.spec?.duration ?? '', 10);
      assert.ok(seconds > 2 * 3600 && seconds <= 2.5 * 3600, `${o.metadata.name} duration ${o.spec?.duration}`);
    }
    await waitFor('the Extended Event', async () => (await admin.events(name)).some((e) => e.reason === 'Extended' && /Extension 1 \(\+30m, requested by alice: INC-4711 still digging\) is granted/.test(e.message)));
    // The pass that deletes generation 0 records the switch done.
    const switched = await waitFor('Ready without the switch', async () => {
      const ready = readyOf(await get(name));
      return ready?.message === 'maxtac wrote the NetworkPolicy of every part.' ? ready : undefined;
    });
    assert.deepEqual([switched.status, switched.reason, switched.lastTransitionTime], ['True', 'InForce', readyOf(active)?.lastTransitionTime], 'Ready stayed True through the switch');
    assert.equal((await inForceEvents()).length, 1, 'the switch announced no second InForce');
  });

  test('beyond maxTotalDuration: the parts are asked again; expiresAt stays until both approve, then moves', async () => {
    const before = await get(name);
    const extended = await cli('alice', ['extend', name, '--by', '1h']);
    assert.equal(extended.code, 0, extended.err);
    assert.match(extended.out, /extension 2 \(\+1h\): waiting for approval of: source \(monitoring, 1 approval missing\), target \(payments, 1 approval missing\)/);
    await waitFor('the ExtensionPending condition', async () => (await get(name)).status?.conditions?.some((c) => c.type === 'Extension' && c.reason === 'ExtensionPending') === true);
    assert.equal((await get(name)).status?.expiresAt, before.status?.expiresAt, 'expiresAt does not move while parts are missing');
    assert.match((await cli('alice', ['describe', name])).out, /Extensions:\n {2}1\. \+30m by alice .*: approved .*\n(.*\n)* {2}2\. \+1h by alice .*: pending, waiting for source \(monitoring\), target \(payments\)/);

    // One pending extension at a time, and only for those entitled.
    const second = await cli('alice', ['extend', name, '--by', '10m']);
    assert.equal(second.code, 1);
    assert.match(second.err, /one extension at a time/);
    const raw = await refusal(users.writeStatus('alice', name, (ar) => ({ ...ar.status, extensions: [...(ar.status?.extensions ?? []), { duration: '10m' }] })));
    assert.equal(raw.status, 403);
    assert.match(raw.message, /status\.extensions: extension 2 \(\+1h\) still waits for the source and target parts; one extension at a time/);

    const approvedTarget = await cli('bob', ['approve', name]);
    assert.equal(approvedTarget.code, 0, approvedTarget.err);
    assert.match(approvedTarget.out, /extension 2 approved \(target\): waiting for approval of: source \(monitoring, 1 approval missing\)/);
    await waitFor('the ExtensionApproved Event', async () => (await admin.events(name)).some((e) => e.reason === 'ExtensionApproved' && /target \(payments\): approved by bob/.test(e.message)));
    assert.equal((await get(name)).status?.expiresAt, before.status?.expiresAt);

    // maxtac paused: generation 2 gets no NetworkPolicy, so generation 1 must stay (make-before-break), also across a
    // controller restart; once maxtac runs again, the restarted controller completes the switch.
    const readyBefore = readyOf(await get(name));
    assert.equal(readyBefore?.status, 'True');
    const maxtac = maxtacProcess();
    process.kill(maxtac, 'SIGSTOP');
    try {
      const approvedSource = await cli('carol', ['approve', name]);
      assert.equal(approvedSource.code, 0, approvedSource.err);
      assert.match(approvedSource.out, /extension 2 approved \(source\): extended to /);
      await waitFor('generation 2 maxtac objects', async () => {
        const g = await grant(uid);
        return names(uid, 2).maxtac.every((n) => g.maxtac.includes(n));
      });
      await new Promise((r) => setTimeout(r, 3000));
      const held = await grant(uid);
      assert.deepEqual(held.maxtac, [...names(uid, 1).maxtac, ...names(uid, 2).maxtac].sort(), 'generation 1 is kept while generation 2 has no NetworkPolicy');
      assert.deepEqual([...held.policyIn].sort(), ['monitoring', 'payments']);
      // The access is in force all along: Ready stays True, saying which generation it switches to.
      const switching = await get(name);
      assert.equal(switching.status?.phase, 'Active');
      const ready = readyOf(switching);
      assert.deepEqual([ready?.status, ready?.reason, ready?.lastTransitionTime], ['True', 'InForce', readyBefore?.lastTransitionTime]);
      const gen2 = [`Access monitoring/${objectName(uid, 'sourceMaxtac', 2)}`, `Access payments/${objectName(uid, 'targetMaxtac', 2)}`];
      assert.match(ready?.message ?? '', new RegExp(`Switching to generation 2 \\(extension 2\\): until maxtac writes the NetworkPolicy of ${gen2.join(', ')}, those of the earlier generation keep the access in force\\.`));
      // A new controller, with nothing in memory, takes over the half-done switch (as after a crash).
      await controller.stop();
      controller = await installController(cp, { workers: 2 });
      await new Promise((r) => setTimeout(r, 2000));
      assert.deepEqual((await grant(uid)).maxtac, held.maxtac, 'the new controller keeps both generations while generation 2 has no NetworkPolicy');
      assert.deepEqual(readyOf(await get(name)), ready, 'and keeps Ready as it was');
    } finally {
      process.kill(maxtac, 'SIGCONT');
    }
    await neverClosedUntil(uid, 'generation 2 alone', (g) => JSON.stringify({ maxtac: g.maxtac, clones: g.clones }) === JSON.stringify(names(uid, 2)));
    const after2 = await get(name);
    assert.equal(after2.status?.expiresAt, plus(before.status?.expiresAt, 3600_000));
    assert.deepEqual(after2.status?.extensionApprovals?.map((a) => [a.extension, a.part, a.by]), [[1, 'target', 'bob'], [1, 'source', 'carol']]);
    const event = (await admin.events(name)).find((e) => e.reason === 'Extended' && e.message.startsWith('Extension 2 '));
    assert.match(event?.message ?? '', /source \(monitoring\): approved by carol; target \(payments\): approved by bob\); expiresAt is now /);
    const readyAfter = await waitFor('Ready without the switch', async () => {
      const ready = readyOf(await get(name));
      return ready?.message === 'maxtac wrote the NetworkPolicy of every part.' ? ready : undefined;
    });
    assert.deepEqual([readyAfter.status, readyAfter.reason, readyAfter.lastTransitionTime], ['True', 'InForce', readyBefore?.lastTransitionTime], 'Ready stayed True through the switch');
    assert.equal((await inForceEvents()).length, 1, 'two switches, one InForce Event');
  });

  test('a user neither requester nor approver is refused, naming who may', async () => {
    const viaCli = await cli('mallory', ['extend', name, '--by', '10m']);
    assert.equal(viaCli.code, 1);
    assert.match(viaCli.err, /user "mallory" may not extend this access: only its requester or a user allowed to approve one of its parts/);
    const raw = await refusal(users.writeStatus('mallory', name, (ar) => ({ ...ar.status, extensions: [...(ar.status?.extensions ?? []), { duration: '10m' }] })));
    assert.equal(raw.status, 403);
    assert.match(raw.message, /status\.extensions: user "mallory" may not extend this access/);
  });

  test('a request that is not Active cannot be extended, with a clear message', async () => {
    const pending = await users.createRequest('alice', spec());
    const pendingName = pending.metadata.name ?? '';
    await waitForPhase(admin, pendingName, 'PartiallyApproved');
    const viaCli = await cli('alice', ['extend', pendingName, '--by', '30m']);
    assert.equal(viaCli.code, 1);
    assert.match(viaCli.err, new RegExp(`accessrequest "${pendingName}" is PartiallyApproved; only an Active access can be extended`));
    const raw = await refusal(users.writeStatus('alice', pendingName, (ar) => ({ ...ar.status, extensions: [{ duration: '30m' }] })));
    assert.equal(raw.status, 403);
    assert.match(raw.message, /status\.extensions: only an Active access can be extended and this request is PartiallyApproved/);
  });

  test('revoking an extended grant removes every generation', async () => {
    await users.decide('alice', name, 'Revoked', 'done');
    await waitForPhase(admin, name, 'Revoked');
    const m = await admin.materialized(uid);
    assert.deepEqual([m.maxtac.length, m.clones.length, m.policies.length], [0, 0, 0]);
  });
});
