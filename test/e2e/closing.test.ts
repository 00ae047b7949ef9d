// Closing is verified (issue 15, item 0). When a request's maxtac object goes (revoke, or maxtac's own expiry), the
// NetworkPolicy maxtac wrote for it keeps an ownerReference to the deleted object; only Kubernetes' garbage
// collector removes it. Without one, expiry leaves the policy behind and the request still reports Expired: the
// access stays open while netwatch says it is closed. This file reproduces that against the real control plane with
// the garbage collector off (with packets: the access stays open after it expired), shows the garbage collector
// removing the policy when on (as in every real cluster),
// and holds (skipped until the controller change lands) the behaviour the design asks for: a request counts as
// closed only when no NetworkPolicy owned by its maxtac objects remains.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startControlPlane, type ControlPlane } from '../../scripts/controlplane.ts';
import { startDataplane, type Dataplane, type Endpoint } from '../../scripts/dataplane.ts';
import { installDemo } from '../../scripts/demo.ts';
import { installWebhook, type InstalledWebhook } from '../../webhook/testing.ts';
import { installController, type InstalledController } from '../../controller/testing.ts';
import { TERMINAL_PHASES, type AccessRequest, type AccessRequestSpec } from '../../lib/api/accessrequest.ts';
import type { NetworkPolicy } from '../../lib/kube/types.ts';
import { waitFor } from './support/wait.ts';
import { Users } from './support/users.ts';

// The case the issue measured 3 times out of 3: maxtac deletes its expired ExternalAccess and nothing deletes the
// policy. (Revoke left one 3 times out of 61, a race with maxtac's orphan sweep: too rare to reproduce on demand.)
const shortExternalGrant: AccessRequestSpec = {
  type: 'External',
  service: { namespace: 'shop', name: 'frontend' },
  cidrs: ['198.19.0.7/32'],
  direction: 'ingress',
  ports: [{ port: 443, protocol: 'TCP' }],
  duration: '15s',
  reason: 'closing e2e',
};

interface Setup {
  cp: ControlPlane;
  webhook: InstalledWebhook;
  controller: InstalledController;
  users: Users;
}

async function setUp(garbageCollector: boolean): Promise<Setup> {
  const cp = await startControlPlane({ garbageCollector });
  await installDemo(cp);
  const webhook = await installWebhook(cp);
  const controller = await installController(cp, { workers: 4 });
  return { cp, webhook, controller, users: new Users(cp) };
}

async function tearDown(s: Setup | undefined): Promise<void> {
  await s?.controller.stop();
  await s?.webhook.close();
  await s?.users.close();
  await s?.cp.stop();
}

const phaseOf = async (s: Setup, name: string) => (await s.users.as('admin').get<AccessRequest>('accessrequests', '', name))?.status?.phase;

/** The NetworkPolicies in `namespace` whose ownerReference names one of `uids`. */
async function policiesOwnedBy(s: Setup, namespace: string, uids: Set<string>): Promise<NetworkPolicy[]> {
  const list = await s.users.as('admin').list<NetworkPolicy>('networkpolicies', namespace);
  return list.items.filter((np) => (np.metadata.ownerReferences ?? []).some((o) => uids.has(o.uid)));
}

/** An External grant made Active by alice and carol, and the uids of its maxtac objects once maxtac's policy exists. */
async function activeExternalGrant(s: Setup): Promise<{ name: string; maxtacUids: Set<string> }> {
  const created = await s.users.createRequest('alice', shortExternalGrant);
  const name = created.metadata.name ?? '';
  await s.users.approve('carol', name, 'target', 'shop');
  const active = await waitFor(`${name} Active and Ready`, async () => {
    const ar = await s.users.as('admin').get<AccessRequest>('accessrequests', '', name);
    return ar?.status?.phase === 'Active' && ar.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? ar : undefined;
  });
  const maxtacUids = new Set((active.status?.objects ?? []).filter((o) => o.kind === 'ExternalAccess' || o.kind === 'Access').map((o) => o.uid ?? ''));
  assert.equal(maxtacUids.size, 1, `one ExternalAccess in ${JSON.stringify(active.status?.objects)}`);
  await waitFor('maxtac to write the grant\'s NetworkPolicy', async () => (await policiesOwnedBy(s, 'shop', maxtacUids)).length > 0);
  return { name, maxtacUids };
}

async function maxtacObjectsGone(s: Setup, maxtacUids: Set<string>): Promise<boolean> {
  const list = await s.users.as('admin').list<{ metadata: { uid?: string } }>('externalaccesses', 'shop');
  return !list.items.some((o) => maxtacUids.has(o.metadata.uid ?? ''));
}

describe('closing a grant without a garbage collector (the race of issue 15, reproduced)', () => {
  let s: Setup | undefined;
  let dp: Dataplane | undefined;
  let frontend: Endpoint;
  let partner: Endpoint;
  const https = { port: 8443, protocol: 'TCP' } as const;
  before(async () => {
    s = await setUp(false);
    dp = await startDataplane(s.cp);
    frontend = await dp.addPod({ namespace: 'shop', name: 'frontend-0', labels: { app: 'frontend' }, ports: [https] });
    partner = await dp.addHost('partner', [], shortExternalGrant.cidrs?.[0]?.replace('/32', ''));
    await dp.waitForPods();
  });
  after(async () => {
    await dp?.stop();
    await tearDown(s);
  });
  const partnerReachesFrontend = async () => (await dp!.probe(partner, frontend, https)).outcome === 'open';

  // Today's behaviour, kept as evidence. Once the controller reports a request closed only when no such policy
  // remains, this test fails (the request is never Expired here while the policy lingers): delete it then, and
  // turn the next one on.
  test('today: after expiry the request reports Expired while the NetworkPolicy of its deleted ExternalAccess lingers', async () => {
    const setup = s!;
    assert.equal(await partnerReachesFrontend(), false, 'default-deny before the grant');
    const { name, maxtacUids } = await activeExternalGrant(setup);
    await waitFor('the partner to reach the frontend', partnerReachesFrontend);
    await waitFor(`${name} Expired`, async () => (await phaseOf(setup, name)) === 'Expired', 60_000);
    await waitFor('the ExternalAccess deleted', () => maxtacObjectsGone(setup, maxtacUids));
    // Not a moment's lag: nothing removes it.
    await new Promise((r) => setTimeout(r, 5000));
    const lingering = await policiesOwnedBy(setup, 'shop', maxtacUids);
    assert.ok(lingering.length > 0, 'a NetworkPolicy owned by the deleted ExternalAccess is still there');
    assert.equal(await phaseOf(setup, name), 'Expired', 'and the request says the access is closed');
    assert.equal(await partnerReachesFrontend(), true, 'while the partner still connects');
  });

  test(
    'the request is reported closed only once no NetworkPolicy owned by its maxtac objects remains',
    {
      skip:
        'needs the controller change of issue 15 item 0 (lib/domain/plan.ts, controller/): report Expired/Revoked only once ' +
        'no NetworkPolicy owned by the request\'s maxtac objects remains, with a condition naming the lingering policy',
    },
    async () => {
      const setup = s!;
      const { name, maxtacUids } = await activeExternalGrant(setup);
      await waitFor('the ExternalAccess deleted at expiry', () => maxtacObjectsGone(setup, maxtacUids), 60_000);
      const lingering = await waitFor('the lingering policy', async () => {
        const found = await policiesOwnedBy(setup, 'shop', maxtacUids);
        return found.length > 0 ? found : undefined;
      });
      // While it lingers the request is not closed, and a condition names the policy.
      await new Promise((r) => setTimeout(r, 5000));
      const open = await setup.users.as('admin').get<AccessRequest>('accessrequests', '', name);
      assert.ok(!TERMINAL_PHASES.includes(open?.status?.phase ?? 'Pending'), `not closed while a policy lingers: ${JSON.stringify(open?.status)}`);
      const policyName = lingering[0]?.metadata.name ?? '';
      assert.ok(
        open?.status?.conditions?.some((c) => c.status === 'True' && c.message.includes(policyName)),
        `a condition names ${policyName}: ${JSON.stringify(open?.status?.conditions)}`,
      );
      // The garbage collector's part, played by hand: then the request closes.
      for (const np of lingering) await setup.users.as('admin').delete('networkpolicies', 'shop', np.metadata.name ?? '');
      await waitFor(`${name} Expired once the policy is gone`, async () => (await phaseOf(setup, name)) === 'Expired');
    },
  );
});

describe('closing a grant with the garbage collector (as in every real cluster)', () => {
  let s: Setup | undefined;
  before(async () => {
    s = await setUp(true);
  });
  after(async () => tearDown(s));

  test('the NetworkPolicy of an expired ExternalAccess is removed through its ownerReference', async () => {
    const setup = s!;
    const { name, maxtacUids } = await activeExternalGrant(setup);
    await waitFor(`${name} Expired`, async () => (await phaseOf(setup, name)) === 'Expired', 60_000);
    await waitFor('the ExternalAccess deleted', () => maxtacObjectsGone(setup, maxtacUids));
    await waitFor('the garbage collector to delete the policy', async () => (await policiesOwnedBy(setup, 'shop', maxtacUids)).length === 0, 60_000);
  });
});
