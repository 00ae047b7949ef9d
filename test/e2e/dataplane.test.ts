// Grants proven with packets (issue 15): kube-router enforces the NetworkPolicies maxtac writes for netwatch's
// objects, between pods that are network namespaces (scripts/dataplane.ts). The sandbox's demo namespaces are the
// fixture (Services already isolated by default-deny); people act through the real webhook with their own tokens,
// the real controller materializes, the real maxtac writes policies, kube-controller-manager's garbage collector
// runs. Each step probes the whole truth table (every pod and outside host × every other one × every listening
// port): exactly the requested ports from exactly the requested pods open, and nothing else moves; every way a
// grant ends (revoke, expiry, deny, delete) closes it again, also when the controller is killed on the way.
// One control plane and one dataplane serve the whole file; requests run one after another, each closed before
// the next starts, so every table is the whole truth.
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { startControlPlane, type ControlPlane } from '../../scripts/controlplane.ts';
import { installDemo } from '../../scripts/demo.ts';
import { dataplaneUnavailable, startDataplane, type Dataplane, type DataplanePort, type Endpoint } from '../../scripts/dataplane.ts';
import { assertReachability, cellsOf, connected, differences, firstChange as firstChangeOf, type Cell, type Flow, type Table } from '../../scripts/reachability.ts';
import { installWebhook, type InstalledWebhook } from '../support/webhook.ts';
import { installController, type InstalledController } from '../support/controller.ts';
import type { AccessRequest, AccessRequestSpec } from '../../lib/api/accessrequest.ts';
import { LABEL_REQUEST_ID } from '../../lib/api/markers.ts';
import type { KubeObject, NetworkPolicy } from '../../lib/kube/types.ts';
import { HttpKube } from '../../lib/kube/http.ts';
import { KubeError } from '../../lib/kube/port.ts';
import { waitFor } from '../support/wait.ts';
import { Users } from '../support/users.ts';
import { OutputTail, kill, spawnController } from '../support/controller-child.ts';

let cp: ControlPlane | undefined;
let dp: Dataplane | undefined;
let webhook: InstalledWebhook | undefined;
let controller: InstalledController | undefined;
let users: Users;
/** The controller as a child process, once the crash tests took over from the in-process one. */
let child: ChildProcess | undefined;
const childOutput = new OutputTail();
/** What the suite's dataplane made, read just before stop(): the teardown test checks that all of it is gone. */
let made: { netns: string[]; pids: number[] } | undefined;

const tcp = (port: number): DataplanePort => ({ port, protocol: 'TCP' });
const udp = (port: number): DataplanePort => ({ port, protocol: 'UDP' });

// Pods of the demo Services (listening on their targetPorts, which maxtac's policies name), one pod per
// namespace that no request names, and two hosts outside the cluster: the partner an External request names
// (198.19.0.7/32) and a stranger next to it, both listening on 443 and on the frontend's targetPort 8443.
let prometheus: Endpoint;
let grafana: Endpoint;
let database: Endpoint;
let paymentsApi: Endpoint;
let frontend: Endpoint;
let partner: Endpoint;
let stranger: Endpoint;
let cells: Cell[];

const timings = { approvalToOpen: [] as number[], revokeToClosed: [] as number[], deleteToClosed: [] as number[], expiryToClosed: [] as number[] };

const serviceGrant = (duration: string): AccessRequestSpec => ({
  type: 'Service',
  source: { namespace: 'monitoring', service: 'prometheus' },
  target: { namespace: 'payments', service: 'database' },
  ports: [{ port: 5432, protocol: 'TCP' }],
  duration,
  reason: 'dataplane e2e: dashboards',
});

const externalGrant = (duration: string): AccessRequestSpec => ({
  type: 'External',
  service: { namespace: 'shop', name: 'frontend' },
  cidrs: [`${partner.ip}/32`],
  direction: 'ingress',
  // Service port 443 is targetPort 8443 on the pods: the policy names 8443.
  ports: [{ port: 443, protocol: 'TCP' }],
  duration,
  reason: 'dataplane e2e: partner integration',
});

const created = async (user: string, spec: AccessRequestSpec): Promise<string> => (await users.createRequest(user, spec)).metadata.name ?? '';

async function request(name: string): Promise<AccessRequest | undefined> {
  return users.as('admin').get<AccessRequest>('accessrequests', '', name);
}

async function phase(name: string, wanted: string, timeoutMs = 30_000): Promise<AccessRequest> {
  return waitFor(`${name} to be ${wanted}`, async () => {
    const ar = await request(name);
    return ar?.status?.phase === wanted ? ar : undefined;
  }, timeoutMs);
}

/** Every NetworkPolicy of the demo namespaces besides their default-deny. */
async function grantPolicies(): Promise<NetworkPolicy[]> {
  const all = await users.as('admin').list<NetworkPolicy>('networkpolicies');
  return all.items.filter((np) => np.metadata.name !== 'default-deny');
}

/** Every object carrying a request's id (clones and maxtac objects), and every policy besides default-deny. */
async function leftovers(uid: string): Promise<string[]> {
  const admin = users.as('admin');
  const selector = `${LABEL_REQUEST_ID}=${uid}`;
  const marked: KubeObject[] = [];
  for (const resource of ['services', 'accesses', 'externalaccesses'] as const) marked.push(...(await admin.list(resource, '', selector)).items);
  return [...marked, ...(await grantPolicies())].map((o) => `${o.kind ?? '?'} ${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`);
}

/** Waits until `name` is in a terminal `phase` with nothing of it left: no clone, no maxtac object, no policy. */
async function closedFor(name: string, wanted: string, timeoutMs = 30_000): Promise<void> {
  const ar = await phase(name, wanted, timeoutMs);
  await waitFor(`nothing of ${name} left`, async () => (await leftovers(ar.metadata.uid ?? '')).length === 0, timeoutMs);
}

async function activeAndReady(name: string, timeoutMs = 30_000): Promise<AccessRequest> {
  return waitFor(`${name} Active and Ready`, async () => {
    const ar = await request(name);
    return ar?.status?.phase === 'Active' && ar.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? ar : undefined;
  }, timeoutMs);
}

const probe = (from: Endpoint, to: Endpoint, port: DataplanePort) => dp!.probe(from, to, port, 1000);

/**
 * The whole table against `open`. Right after a change (`settle`), kube-router gets a few seconds to apply every
 * policy of it (one grant's policies need not arrive together); otherwise one observation must hold.
 */
async function table(title: string, open: Flow[], settle = false): Promise<Table> {
  try {
    return await assertReachability(title, cells, open, probe, { withinMs: settle ? 5000 : 0 });
  } catch (err) {
    // The rules kube-router wrote explain most surprises; they are in its namespace, gone after the test.
    const rules = await dp!.rules().catch((e: unknown) => String(e));
    throw new Error(`${(err as Error).message}\n\nkube-router's rules:\n${rules}`, { cause: err });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * When `flow` first connects (or, `open` false, first fails) after `since`, one probe started every 50 ms, each with
 * a deadline shorter than TCP's first SYN retransmission. Returns ms after `since`.
 */
function firstChange(flow: Flow, open: boolean, since: number, timeoutMs = 60_000): Promise<number> {
  return firstChangeOf((from, to, port) => dp!.probe(from, to, port, 900), flow, open, since, { timeoutMs });
}

function report(t: TestContext): void {
  const fmt = (xs: number[]) => (xs.length ? `${xs.join(', ')} ms` : '—');
  t.diagnostic(`approval → first allowed packet: ${fmt(timings.approvalToOpen)}`);
  t.diagnostic(`revoke → first refused packet: ${fmt(timings.revokeToClosed)}`);
  t.diagnostic(`delete → first refused packet: ${fmt(timings.deleteToClosed)}`);
  t.diagnostic(`expiresAt → first refused packet: ${fmt(timings.expiryToClosed)}`);
}

describe('packets follow grants: kube-router enforcing the policies maxtac writes for netwatch', () => {
  before(async () => {
    const unavailable = dataplaneUnavailable();
    // Not a skip: on a machine that cannot run the dataplane, say why and fail (CI runs as root with the tools).
    if (unavailable) throw new Error(`cannot run the dataplane here: ${unavailable}`);
    cp = await startControlPlane();
    await installDemo(cp);
    webhook = await installWebhook(cp);
    controller = await installController(cp, { workers: 4 });
    users = new Users(cp);
    dp = await startDataplane(cp);
    prometheus = await dp.addPod({ namespace: 'monitoring', name: 'prometheus-0', labels: { app: 'prometheus' }, ports: [tcp(9090)] });
    grafana = await dp.addPod({ namespace: 'monitoring', name: 'grafana-0', labels: { app: 'grafana' }, ports: [tcp(3000)] });
    database = await dp.addPod({ namespace: 'payments', name: 'database-0', labels: { app: 'postgres' }, ports: [tcp(5432), tcp(9187)] });
    paymentsApi = await dp.addPod({ namespace: 'payments', name: 'api-0', labels: { app: 'payments-api' }, ports: [tcp(8080)] });
    frontend = await dp.addPod({ namespace: 'shop', name: 'frontend-0', labels: { app: 'frontend' }, ports: [tcp(8443), udp(8443)] });
    partner = await dp.addHost('partner', [tcp(443), tcp(8443)], '198.19.0.7');
    stranger = await dp.addHost('stranger', [tcp(443), tcp(8443)], '198.19.0.8');
    const everyone = [prometheus, grafana, database, paymentsApi, frontend, partner, stranger];
    cells = cellsOf(everyone, everyone);
    await dp.waitForPods();
  });

  after(async () => {
    await kill(child);
    made = dp ? { netns: dp.netns(), pids: dp.pids() } : undefined;
    await dp?.stop();
    await controller?.stop();
    await webhook?.close();
    await users?.close();
    await cp?.stop();
  });

  test('the harness sees both sides: without any policy a pod reaches another, and default-deny stops it', async () => {
    // A namespace of its own without default-deny: pods there talk freely (kube-router lets unselected pods be).
    await users.as('admin').call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'open-range' } });
    const a = await dp!.addPod({ namespace: 'open-range', name: 'a', labels: { app: 'a' }, ports: [tcp(7000), udp(7001)] });
    const b = await dp!.addPod({ namespace: 'open-range', name: 'b', labels: { app: 'b' }, ports: [tcp(7000), udp(7001)] });
    await dp!.waitForPods();
    const pair = cellsOf([a, b], [a, b]);
    await assertReachability('no policy', pair, pair, probe);
    await users.as('admin').create('networkpolicies', { metadata: { name: 'default-deny', namespace: 'open-range' }, spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } });
    await waitFor('default-deny to be enforced', async () => !connected(pair[0]!, await probe(a, b, tcp(7000))));
    await assertReachability('default-deny', pair, [], probe);
    // The whole demo table, before any request.
    await table('before any request', []);
  });

  test('Service → Service across namespaces: closed with one part approved, exactly 5432 from prometheus once both are, closed again after revoke', async (t) => {
    const grant: Flow = { from: prometheus, to: database, port: tcp(5432) };
    const ar = await users.createRequest('alice', serviceGrant('1h'));
    const name = ar.metadata.name ?? '';
    await phase(name, 'Pending');
    await table('pending', []);

    await users.approve('bob', name, 'target', 'payments');
    await phase(name, 'PartiallyApproved');
    assert.deepEqual(await grantPolicies(), [], 'nothing is materialized with one part approved');
    await table('one part approved (payments)', []);

    const approvedAt = performance.now();
    await users.approve('carol', name, 'source', 'monitoring');
    timings.approvalToOpen.push(await firstChange(grant, true, approvedAt));
    await waitFor(`${name} Active and Ready`, async () => {
      const now = await request(name);
      return now?.status?.phase === 'Active' && now.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    });
    const granted = await table('both parts approved', [grant]);
    // The table is real: the same observations against one flipped expectation fail on exactly that cell.
    const metrics = granted.cells.findIndex((c) => c.from === prometheus && c.to === database && c.port.port === 9187);
    const flipped: Table = { ...granted, expected: granted.expected.map((e, i) => (i === metrics ? !e : e)) };
    assert.deepEqual(differences(flipped), [granted.cells[metrics]]);

    const revokedAt = performance.now();
    await users.decide('bob', name, 'Revoked', 'dataplane e2e');
    timings.revokeToClosed.push(await firstChange(grant, false, revokedAt));
    await phase(name, 'Revoked');
    await table('revoked', []);
    report(t);
  });

  test('External ingress: exactly 8443/TCP from the partner\'s /32 once approved; not UDP, not the stranger, not the way back; closed after revoke', async (t) => {
    const grant: Flow = { from: partner, to: frontend, port: tcp(8443) };
    const ar = await users.createRequest('alice', externalGrant('1h'));
    const name = ar.metadata.name ?? '';
    await phase(name, 'Pending');
    await table('pending', []);

    const approvedAt = performance.now();
    await users.approve('carol', name, 'target', 'shop');
    timings.approvalToOpen.push(await firstChange(grant, true, approvedAt));
    await phase(name, 'Active');
    await table('approved', [grant]);

    const revokedAt = performance.now();
    await users.decide('alice', name, 'Revoked', 'done with it');
    timings.revokeToClosed.push(await firstChange(grant, false, revokedAt));
    await phase(name, 'Revoked');
    await table('revoked', []);
    report(t);
  });

  test('Service → Service in one namespace: one part, exactly 5432 from the api pods; closed again once the Active request is deleted', async (t) => {
    const grant: Flow = { from: paymentsApi, to: database, port: tcp(5432) };
    const name = await created('alice', { ...serviceGrant('1h'), source: { namespace: 'payments', service: 'api' }, reason: 'dataplane e2e: same namespace' });
    await phase(name, 'Pending');
    await table('pending', []);

    // One namespace consents once for both ends.
    const approvedAt = performance.now();
    await users.approve('bob', name, 'target', 'payments');
    timings.approvalToOpen.push(await firstChange(grant, true, approvedAt));
    await activeAndReady(name);
    await table('approved', [grant], true);

    const deletedAt = performance.now();
    await users.as('alice').delete('accessrequests', '', name);
    timings.deleteToClosed.push(await firstChange(grant, false, deletedAt));
    await waitFor(`${name} gone`, async () => (await request(name)) === undefined);
    assert.deepEqual(await grantPolicies(), [], 'no policy outlives the deleted request');
    await table('deleted', [], true);
    report(t);
  });

  test('every port: a request without ports opens each port of the target Service (5432 and 9187) from prometheus, nothing else; closed after revoke', async (t) => {
    const grants: Flow[] = [
      { from: prometheus, to: database, port: tcp(5432) },
      { from: prometheus, to: database, port: tcp(9187) },
    ];
    const { ports: _ports, ...everyPort } = serviceGrant('1h');
    const name = await created('alice', { ...everyPort, reason: 'dataplane e2e: every port' });
    await users.approve('bob', name, 'target', 'payments');
    await phase(name, 'PartiallyApproved');
    await table('one part approved', []);

    const approvedAt = performance.now();
    await users.approve('carol', name, 'source', 'monitoring');
    timings.approvalToOpen.push(await firstChange(grants[0]!, true, approvedAt));
    await activeAndReady(name);
    await table('approved', grants, true);

    const revokedAt = performance.now();
    await users.decide('carol', name, 'Revoked', 'dataplane e2e');
    timings.revokeToClosed.push(await firstChange(grants[1]!, false, revokedAt));
    await closedFor(name, 'Revoked');
    await table('revoked', [], true);
    report(t);
  });

  test('deny of a live request: closed with one part approved, closed after the other part is denied, and nothing was ever materialized', async () => {
    const name = await created('alice', serviceGrant('1h'));
    await users.approve('bob', name, 'target', 'payments');
    const partial = await phase(name, 'PartiallyApproved');
    await table('one part approved', []);
    await users.decide('carol', name, 'Denied', 'not for dashboards');
    await closedFor(name, 'Denied');
    await table('denied', []);
    // Approving after the denial is refused at admission, and still opens nothing.
    await assert.rejects(users.approve('carol', name, 'source', 'monitoring'), (err: unknown) => err instanceof KubeError && err.status >= 400 && err.status < 500);
    assert.deepEqual(await leftovers(partial.metadata.uid ?? ''), []);
    await table('after a refused late approval', []);
  });

  test('UDP, Service → Service: exactly 8443/UDP of the frontend from prometheus, not its TCP port on the same number; closed after revoke', async (t) => {
    const grant: Flow = { from: prometheus, to: frontend, port: udp(8443) };
    const name = await created('alice', {
      type: 'Service',
      source: { namespace: 'monitoring', service: 'prometheus' },
      target: { namespace: 'shop', service: 'frontend' },
      ports: [{ port: 443, protocol: 'UDP' }],
      duration: '1h',
      reason: 'dataplane e2e: QUIC probe',
    });
    await users.approve('carol', name, 'target', 'shop');
    await phase(name, 'PartiallyApproved');
    await table('one part approved', []);
    const approvedAt = performance.now();
    await users.approve('carol', name, 'source', 'monitoring');
    timings.approvalToOpen.push(await firstChange(grant, true, approvedAt));
    await activeAndReady(name);
    await table('approved', [grant], true);

    const revokedAt = performance.now();
    await users.decide('alice', name, 'Revoked', 'done');
    timings.revokeToClosed.push(await firstChange(grant, false, revokedAt));
    await closedFor(name, 'Revoked');
    await table('revoked', [], true);
    report(t);
  });

  test('External egress: the frontend reaches the partner\'s /32 on the port maxtac takes from the Service (its targetPort 8443), not 443, not the stranger; closed after revoke', async (t) => {
    // maxtac writes a policy's ports from the Service its object selects, egress included: the frontend clone's
    // port 443 has targetPort 8443, so that is the port the frontend may reach on the partner.
    const grant: Flow = { from: frontend, to: partner, port: tcp(8443) };
    const name = await created('alice', { ...externalGrant('1h'), direction: 'egress', reason: 'dataplane e2e: webhook calls to the partner' });
    await table('pending', []);
    const approvedAt = performance.now();
    await users.approve('carol', name, 'target', 'shop');
    timings.approvalToOpen.push(await firstChange(grant, true, approvedAt));
    await activeAndReady(name);
    await table('approved', [grant], true);

    const revokedAt = performance.now();
    await users.decide('carol', name, 'Revoked', 'done');
    timings.revokeToClosed.push(await firstChange(grant, false, revokedAt));
    await closedFor(name, 'Revoked');
    await table('revoked', [], true);
    report(t);
  });

  test('External ingress on every port: TCP and UDP 8443 of the frontend from the partner\'s /32, not from the stranger; closed once the Active request is deleted', async (t) => {
    const grants: Flow[] = [
      { from: partner, to: frontend, port: tcp(8443) },
      { from: partner, to: frontend, port: udp(8443) },
    ];
    const { ports: _ports, ...everyPort } = externalGrant('1h');
    const name = await created('alice', { ...everyPort, reason: 'dataplane e2e: partner, every port' });
    const approvedAt = performance.now();
    await users.approve('carol', name, 'target', 'shop');
    timings.approvalToOpen.push(await firstChange(grants[1]!, true, approvedAt));
    await activeAndReady(name);
    await table('approved', grants, true);

    const deletedAt = performance.now();
    await users.as('carol').delete('accessrequests', '', name);
    timings.deleteToClosed.push(await firstChange(grants[0]!, false, deletedAt));
    await waitFor(`${name} gone`, async () => (await request(name)) === undefined);
    assert.deepEqual(await grantPolicies(), []);
    await table('deleted', [], true);
    report(t);
  });

  test('expiry closes both kinds of grant: Service → Service and External, 12 s each', async (t) => {
    const flows: Flow[] = [
      { from: prometheus, to: database, port: tcp(5432) },
      { from: partner, to: frontend, port: tcp(8443) },
    ];
    const service = (await users.createRequest('alice', serviceGrant('12s'))).metadata.name ?? '';
    const external = (await users.createRequest('alice', externalGrant('12s'))).metadata.name ?? '';
    await users.approve('bob', service, 'target', 'payments');
    const serviceApprovedAt = performance.now();
    await users.approve('carol', service, 'source', 'monitoring');
    const opened = firstChange(flows[0]!, true, serviceApprovedAt);
    const externalApprovedAt = performance.now();
    await users.approve('carol', external, 'target', 'shop');
    timings.approvalToOpen.push(...(await Promise.all([opened, firstChange(flows[1]!, true, externalApprovedAt)])));
    const active = [await phase(service, 'Active'), await phase(external, 'Active')];
    await table('both granted', flows);

    // Closing is measured from the moment each request expires by its own status (expiresAt, wall clock), with
    // both watched at once from shortly before the first expiry.
    const expiries = active.map((ar) => Date.parse(ar.status?.expiresAt ?? ''));
    assert.ok(expiries.every(Number.isFinite), `expiresAt in ${JSON.stringify(active.map((ar) => ar.status))}`);
    await sleep(Math.max(0, Math.min(...expiries) - Date.now() - 2000));
    const sinceWall = Date.now();
    const since = performance.now();
    const closed = await Promise.all(flows.map((f) => firstChange(f, false, since, 60_000)));
    closed.forEach((ms, i) => timings.expiryToClosed.push(sinceWall + ms - (expiries[i] ?? 0)));
    await phase(service, 'Expired', 60_000);
    await phase(external, 'Expired', 60_000);
    await table('both expired', []);
    report(t);
  });

  describe('the controller killed on the way (a separate process, SIGKILLed): packets follow the phase once it is back', () => {
    const startChild = () =>
      spawnController(cp!, ['--listen', '127.0.0.1:0', '--identity', 'dataplane-crash', '--lease-duration', '2s', '--workers', '4', '--log-level', 'warn'], childOutput);
    const accessesOf = async (uid: string) => (await users.as('admin').list('accesses', '', `${LABEL_REQUEST_ID}=${uid}`)).items;

    before(async () => {
      // The in-process controller hands over: stopping it releases the Lease the child then takes.
      await controller?.stop();
      controller = undefined;
    });

    test('between approval and materialization: nothing opens while it is down, exactly the grant once it is back', async (t) => {
      const grant: Flow = { from: prometheus, to: database, port: tcp(5432) };
      child = startChild();
      const name = await created('alice', serviceGrant('1h'));
      await users.approve('bob', name, 'target', 'payments');
      await phase(name, 'PartiallyApproved');

      // Frozen, it can neither see the last approval nor act on it; the API server stores it meanwhile. Then killed.
      child.kill('SIGSTOP');
      await users.approve('carol', name, 'source', 'monitoring');
      await kill(child);
      const down = await request(name);
      assert.equal(down?.status?.phase, 'PartiallyApproved', 'nobody wrote the status while the controller was down');
      assert.deepEqual(await leftovers(down.metadata.uid ?? ''), [], 'nothing materialized');
      await table('fully approved, controller down', []);

      const restartedAt = performance.now();
      child = startChild();
      t.diagnostic(`restart → first allowed packet: ${await firstChange(grant, true, restartedAt)} ms`);
      await activeAndReady(name);
      await table('controller back', [grant], true);

      await users.decide('bob', name, 'Revoked', 'dataplane crash e2e');
      await closedFor(name, 'Revoked');
      await table('revoked', [], true);
    });

    test('in the middle of materialization: killed as its first object appears, exactly the grant (made once) once it is back', async (t) => {
      const grant: Flow = { from: prometheus, to: database, port: tcp(5432) };
      const name = await created('alice', serviceGrant('1h'));
      await users.approve('bob', name, 'target', 'payments');
      const uid = (await phase(name, 'PartiallyApproved')).metadata.uid ?? '';
      // A watch, not polling: the signal goes out as the API server announces the first Access, while the
      // controller's other writes for the request are still on their way.
      const watcher = new HttpKube(cp!.admin, { cached: ['accesses'], selectors: { accesses: `${LABEL_REQUEST_ID}=${uid}` }, maxSockets: 2 });
      await watcher.start();
      const killed = new Promise<void>((resolve) => {
        const off = watcher.cache.onChange((resource) => {
          if (resource !== 'accesses') return;
          off();
          child?.kill('SIGKILL');
          resolve();
        });
      });
      try {
        await users.approve('carol', name, 'source', 'monitoring');
        await killed;
        await kill(child);
      } finally {
        await watcher.stop();
      }
      t.diagnostic(`killed with ${(await leftovers(uid)).join(', ') || 'nothing'} made`);

      const restartedAt = performance.now();
      child = startChild();
      t.diagnostic(`restart → first allowed packet: ${await firstChange(grant, true, restartedAt)} ms`);
      const active = await activeAndReady(name);
      await table('controller back', [grant], true);
      // Exactly once: a clone and an Access per half, and the status names exactly those.
      const made = (await leftovers(uid)).filter((o) => !o.startsWith('NetworkPolicy'));
      assert.equal(made.length, 4, made.join(', '));
      assert.equal(active.status?.objects?.length, 4, JSON.stringify(active.status?.objects));

      await users.decide('bob', name, 'Revoked', 'dataplane crash e2e');
      await closedFor(name, 'Revoked');
      await table('revoked', [], true);
    });

    test('between expiry and teardown: frozen before expiresAt, killed after it; closed and torn down once it is back', async (t) => {
      const grant: Flow = { from: prometheus, to: database, port: tcp(5432) };
      const name = await created('alice', serviceGrant('10s'));
      await users.approve('bob', name, 'target', 'payments');
      const approvedAt = performance.now();
      await users.approve('carol', name, 'source', 'monitoring');
      await firstChange(grant, true, approvedAt);
      const active = await activeAndReady(name);
      await table('granted', [grant], true);
      const uid = active.metadata.uid ?? '';
      const expiresAt = Date.parse(active.status?.expiresAt ?? '');
      assert.ok(Number.isFinite(expiresAt), JSON.stringify(active.status));

      await sleep(expiresAt - Date.now() - 1500);
      child!.kill('SIGSTOP');
      // Past expiresAt and past maxtac's own expiry of its Accesses (counted from their creation, in whole seconds).
      await sleep(expiresAt + 4000 - Date.now());
      await kill(child);
      // What an outage at expiry looks like is reported, not asserted (the phase is only promised once the
      // controller is back): today the grant stays open past expiresAt, since maxtac's deletion of its expired
      // Accesses waits on netwatch's finalizer, and their policies (owned by them) wait with them.
      const down = await request(name);
      const open = connected(grant, await probe(grant.from, grant.to, grant.port));
      const accesses = (await accessesOf(uid)).map((a) => `${a.metadata.name ?? ''}${a.metadata.deletionTimestamp ? ' (being deleted)' : ''}`);
      t.diagnostic(`down ${Math.round(Date.now() - expiresAt)} ms after expiresAt: phase ${down?.status?.phase ?? '?'}, the grant ${open ? 'open' : 'closed'}, Accesses: ${accesses.join(', ') || 'none'}`);

      const restartedAt = performance.now();
      child = startChild();
      if (open) t.diagnostic(`restart → first refused packet: ${await firstChange(grant, false, restartedAt)} ms`);
      await closedFor(name, 'Expired', 60_000);
      await table('expired, controller back', [], true);
    });
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const netnsNames = () => spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.split(' ')[0] ?? '').filter(Boolean);

/** Anything of kube-router's or the harness's in the machine's own network namespace (there should never be any). */
function hostLeftovers(): string[] {
  const rules = spawnSync('iptables-save', [], { encoding: 'utf8' }).stdout.split('\n').filter((l) => /KUBE-|198\.1[89]\./.test(l));
  const sets = spawnSync('ipset', ['list', '-n'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => /^(KUBE-|kube-router)/i.test(l));
  const links = spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => /^\d+: vp\d+[@:]/.test(l));
  const routes = spawnSync('ip', ['route', 'show', 'table', 'all'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.includes('198.18.') || l.includes('198.19.'));
  return [...rules, ...sets, ...links, ...routes];
}

describe('tearing the dataplane down', () => {
  test('stop() ends kube-router and the agents and deletes every namespace (and with them every rule, set and link)', () => {
    assert.ok(made && made.netns.length > 0 && made.pids.length > 0, 'the suite above made a dataplane');
    const netns = netnsNames();
    assert.deepEqual(made.netns.filter((n) => netns.includes(n)), []);
    assert.deepEqual(made.pids.filter(alive), []);
    assert.deepEqual(hostLeftovers(), []);
  });

  test('a test process that dies leaves no process, namespace, rule or link behind', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', new URL('../support/dp-child.ts', import.meta.url).pathname], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      let buf = '';
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        if (buf.includes('\n')) resolve(buf.split('\n')[0] ?? '');
      });
      child.on('exit', (code) => reject(new Error(`child exited early with ${String(code)}`)));
    });
    const { pids, netns } = JSON.parse(line) as { pids: number[]; netns: string[] };
    assert.ok(netns.length === 3 && netns.every((n) => netnsNames().includes(n)), `the child made a node, a pod and a host namespace: ${netns.join(', ')}`);
    child.kill('SIGKILL');
    await waitFor('the watchdogs to clean up', async () => {
      const left = netnsNames();
      return pids.every((p) => !alive(p)) && netns.every((n) => !left.includes(n));
    }, 30_000);
    assert.deepEqual(hostLeftovers(), []);
  });
});
