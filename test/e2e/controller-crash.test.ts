// Crash safety: the controller runs as a separate process (controller/main.ts) and is SIGKILLed at random moments
// while 120 requests are approved, expire and are revoked. After a final restart, every Active request is
// materialized exactly once and nothing is left of the ended ones.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { startControlPlane, type ControlPlane } from '../../scripts/controlplane.ts';
import { applyControllerRbac } from '../support/controller.ts';
import { objectName } from '../../lib/domain/names.ts';
import type { AccessRequest } from '../../lib/api/accessrequest.ts';
import type { Lease } from '../../lib/kube/types.ts';
import { HttpKube } from '../../lib/kube/http.ts';
import { Admin, suffix, waitFor } from '../support/admin.ts';
import { OutputTail, kill, spawnController } from '../support/controller-child.ts';
import { requestBody } from '../support/builders.ts';

let cp: ControlPlane;
let admin: Admin;
let child: ChildProcess | undefined;
const logs = new OutputTail();

function startController(identity = 'crash-test'): ChildProcess {
  return spawnController(cp, ['--listen', '127.0.0.1:0', '--identity', identity, '--lease-duration', '4s', '--workers', '8', '--sweep-interval', '10s', '--log-level', 'warn', '--retention', 'never'], logs);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rand = (lo: number, hi: number) => lo + Math.random() * (hi - lo);

before(async () => {
  cp = await startControlPlane({ maxtac: true });
  await applyControllerRbac(cp);
  admin = new Admin(cp);
});

after(async () => {
  await kill(child);
  await admin?.close();
  await cp?.stop();
});

async function pool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(Array.from({ length: concurrency }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
  }));
}

describe('controller: crash safety', () => {
  it('two replicas: one holds the lease and acts, the other takes over when it is killed', async () => {
    const a = startController('replica-a');
    await waitFor('replica-a leads', async () => (await admin.kube.get<Lease>('leases', 'netwatch-system', 'netwatch-controller'))?.spec?.holderIdentity === 'replica-a', 30_000);
    const b = startController('replica-b');
    await sleep(3000);
    assert.equal((await admin.kube.get<Lease>('leases', 'netwatch-system', 'netwatch-controller'))?.spec?.holderIdentity, 'replica-a', 'the standby does not steal a live lease');
    await kill(a);
    await waitFor('replica-b takes over', async () => (await admin.kube.get<Lease>('leases', 'netwatch-system', 'netwatch-controller'))?.spec?.holderIdentity === 'replica-b', 20_000);
    // SIGTERM releases the lease at once.
    await kill(b, 'SIGTERM');
    const lease = await admin.kube.get<Lease>('leases', 'netwatch-system', 'netwatch-controller');
    assert.ok(!lease?.spec?.holderIdentity, `released: ${JSON.stringify(lease?.spec)}`);
  });

  it('SIGKILL at random moments while 120 requests are approved, expire and are revoked leaves no duplicate and no leftover', async () => {
    const s = suffix();
    const pairs = 4;
    for (let i = 0; i < pairs; i++) {
      await admin.namespace(`cs${i}-${s}`);
      await admin.namespace(`cd${i}-${s}`);
      await admin.service(`cs${i}-${s}`, 'client');
      await admin.service(`cd${i}-${s}`, 'server', [{ name: 'pg', port: 5432, protocol: 'TCP', targetPort: 15432 }]);
    }
    type Kind = 'stays' | 'expires' | 'revoked';
    const plan: { name: string; kind: Kind; pair: number }[] = [];
    for (let i = 0; i < 120; i++) plan.push({ name: `crash-${s}-${i}`, kind: i % 4 === 1 ? 'expires' : i % 4 === 3 ? 'revoked' : 'stays', pair: i % pairs });

    let killing = true;
    child = startController();
    const chaos = (async () => {
      let kills = 0;
      while (killing) {
        await sleep(rand(400, 2500));
        if (!killing) break;
        await kill(child);
        kills++;
        child = startController();
      }
      return kills;
    })();

    const kube = new HttpKube(cp.admin, { maxSockets: 8, cached: [] });
    const uids = new Map<string, string>();
    await pool(plan, 6, async (p) => {
      const spec = { type: 'Service' as const, source: { namespace: `cs${p.pair}-${s}`, service: 'client' }, target: { namespace: `cd${p.pair}-${s}`, service: 'server' }, duration: p.kind === 'expires' ? `${Math.round(rand(8, 20))}s` : '1h' };
      // Half are approved at creation (the requester could approve both parts), half through status approvals.
      if (Number(p.name.split('-').pop()) % 2 === 0) {
        const ar = await kube.create<AccessRequest>('accessrequests', requestBody({ ...spec, reason: 'crash test', requester: { username: 'alice', approvedParts: ['source', 'target'] } }, { name: p.name }));
        uids.set(p.name, ar.metadata.uid ?? '');
      } else {
        const ar = await admin.request(spec, ['source', 'target'], p.name);
        uids.set(p.name, ar.metadata.uid ?? '');
      }
    });
    // Revoke at random moments while the controller keeps dying.
    await pool(plan.filter((p) => p.kind === 'revoked'), 3, async (p) => {
      await sleep(rand(0, 12_000));
      await admin.decide(p.name, 'Revoked');
    });
    await sleep(22_000);
    killing = false;
    const kills = await chaos;
    assert.ok(kills >= 8, `the controller was killed ${kills} times`);

    // Let the last incarnation converge.
    const expected: Record<Kind, string> = { stays: 'Active', expires: 'Expired', revoked: 'Revoked' };
    await waitFor('every request in its final phase', async () => {
      const all = await admin.list<AccessRequest>('accessrequests');
      const byName = new Map(all.map((a) => [a.metadata.name, a]));
      return plan.every((p) => {
        const ar = byName.get(p.name);
        if (ar?.status?.phase !== expected[p.kind]) return false;
        return p.kind !== 'stays' || ar.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      });
    }, 120_000, 1000).catch(async (e: unknown) => {
      const all = await admin.list<AccessRequest>('accessrequests');
      const wrong = plan.map((p) => ({ p, ar: all.find((a) => a.metadata.name === p.name) })).filter(({ p, ar }) => ar?.status?.phase !== expected[p.kind]).slice(0, 5);
      throw new Error(`${(e as Error).message}: ${JSON.stringify(wrong.map(({ p, ar }) => [p.name, p.kind, ar?.status?.phase, ar?.status?.conditions]))}\n${logs.text(3000)}`);
    });

    await waitFor('ended requests fully torn down', async () => {
      for (const p of plan.filter((x) => x.kind !== 'stays')) {
        const m = await admin.materialized(uids.get(p.name) ?? '');
        if (m.clones.length + m.maxtac.length + m.policies.length > 0) return false;
      }
      return true;
    }, 60_000, 1000);

    const all = await admin.list<AccessRequest>('accessrequests');
    for (const p of plan.filter((x) => x.kind === 'stays')) {
      const uid = uids.get(p.name) ?? '';
      const ar = all.find((a) => a.metadata.name === p.name);
      const m = await admin.materialized(uid);
      // Exactly once: two clones, two Accesses with the deterministic names, one policy each, and the status
      // refs name exactly these incarnations.
      assert.deepEqual(m.clones.map((c) => c.metadata.name).sort(), [objectName(uid, 'sourceClone'), objectName(uid, 'targetClone')].sort(), p.name);
      assert.deepEqual(m.maxtac.map((c) => c.metadata.name).sort(), [objectName(uid, 'sourceMaxtac'), objectName(uid, 'targetMaxtac')].sort(), p.name);
      assert.equal(m.policies.length, 2, p.name);
      const live = new Set([...m.clones, ...m.maxtac].map((o) => o.metadata.uid));
      assert.deepEqual(new Set(ar?.status?.objects?.map((o) => o.uid)), live, `${p.name}: status refs are the live objects`);
      for (const c of m.clones) assert.ok(m.maxtac.some((a) => a.metadata.uid === c.metadata.ownerReferences?.[0]?.uid), `${p.name}: clone owned by a live Access`);
    }
    // Nothing else anywhere: no managed object outside the Active requests.
    const stays = plan.filter((x) => x.kind === 'stays').length;
    assert.equal((await admin.list('services', 'app.kubernetes.io/managed-by=netwatch')).length, stays * 2);
    assert.equal((await admin.list('accesses', 'app.kubernetes.io/managed-by=netwatch')).length, stays * 2);
    await kube.stop();
  });
});
