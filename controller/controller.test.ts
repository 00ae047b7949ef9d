// The controller's apply logic against the in-memory fake of the kube port (the real API server is exercised by
// test/e2e/controller-*.test.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { AccessRequest } from '../lib/api/accessrequest.ts';
import { FakeKube, type CacheUpdate } from '../test/support/fake-kube.ts';
import { KubeError } from '../lib/kube/port.ts';
import type { CoreEvent, Lease, MaxtacObject, NetworkPolicy, Pod, Service } from '../lib/kube/types.ts';
import { objectName } from '../lib/domain/names.ts';
import { LABEL_MANAGED_BY, LABEL_REQUEST_ID, LABEL_ROLE, MANAGED_BY, MAXTAC_FINALIZER, REQUEST_FINALIZER } from '../lib/api/markers.ts';
import { Controller, DEFAULT_CONTROLLER_CONFIG } from './controller.ts';
import { LeaderElector } from '../lib/kube/leader.ts';
import { createMetrics } from './metrics.ts';
import { requestBody } from '../test/support/builders.ts';

const log = pino({ level: 'silent' });

interface SetupOptions {
  /** The target Service is created so late that the cache has not seen it when the controller first looks. */
  lateServer?: boolean;
  kube?: FakeKube;
  /** false: the caller made the namespaces' NetworkPolicies (default: a deny-all in each). */
  policies?: boolean;
}

async function setup(opts: SetupOptions = {}): Promise<{ kube: FakeKube; controller: Controller; ar: AccessRequest }> {
  const kube = opts.kube ?? new FakeKube();
  for (const ns of opts.policies === false ? [] : ['src', 'dst']) {
    await kube.create<NetworkPolicy>('networkpolicies', { metadata: { name: 'deny', namespace: ns }, spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } });
  }
  await kube.create<Service>('services', { metadata: { name: 'client', namespace: 'src' }, spec: { selector: { app: 'client' }, ports: [{ port: 80, protocol: 'TCP', targetPort: 8080 }] } });
  if (opts.lateServer) kube.holdCache();
  await kube.create<Service>('services', { metadata: { name: 'server', namespace: 'dst' }, spec: { selector: { app: 'server' }, ports: [{ port: 80, protocol: 'TCP', targetPort: 8080 }] } });
  const ar = await kube.create<AccessRequest>('accessrequests', requestBody(
    { type: 'Service', source: { namespace: 'src', service: 'client' }, target: { namespace: 'dst', service: 'server' }, duration: '1h', reason: 'x', requester: { username: 'alice', approvedParts: ['source', 'target'] } },
    { name: 'r1' },
  ));
  if (opts.lateServer) kube.releaseCache((u) => u.resource === 'accessrequests');
  const controller = newController(kube);
  return { kube, controller, ar };
}

/** A controller whose reconciles the test drives; `start` (no workers) lets it hear cache updates as it would. */
function newController(kube: FakeKube, workers = 0): Controller {
  return new Controller(kube, { ...DEFAULT_CONTROLLER_CONFIG, workers }, log, createMetrics());
}

/** netwatch's markers on a clone or maxtac object of request `uid`, half `role`. */
function markers(uid: string, role: 'source' | 'target'): Record<string, string> {
  return { [LABEL_REQUEST_ID]: uid, [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_ROLE]: role };
}

const get = (kube: FakeKube) => kube.cache.get<AccessRequest>('accessrequests', '', 'r1');

describe('Controller with the fake kube port', () => {
  it('one reconcile of a fully approved request adds the finalizer, creates four objects and writes Active', async () => {
    const { kube, controller, ar } = await setup();
    await controller.reconcileRequest('r1');
    const now = get(kube);
    assert.deepEqual(now?.metadata.finalizers, [REQUEST_FINALIZER]);
    assert.equal(now?.status?.phase, 'Active');
    assert.equal(kube.all('accesses').length, 2);
    assert.equal(kube.all('services').filter((s) => s.metadata.name?.startsWith('nw')).length, 2);
    const clone = kube.all<Service>('services').find((s) => s.metadata.name === objectName(ar.metadata.uid ?? '', 'sourceClone'));
    const access = kube.all<MaxtacObject>('accesses').find((a) => a.metadata.name === objectName(ar.metadata.uid ?? '', 'sourceMaxtac'));
    assert.equal(clone?.metadata.ownerReferences?.[0]?.uid, access?.metadata.uid);
    assert.ok(now?.status?.objects?.every((o) => o.uid));
    assert.ok(kube.all('events').length >= 1);
  });

  it('the finalizer is written before any object is created', async () => {
    const { kube, controller } = await setup();
    kube.calls.length = 0;
    await controller.reconcileRequest('r1');
    const first = kube.calls.findIndex((c) => c.verb === 'create' && c.resource !== 'events');
    const fin = kube.calls.findIndex((c) => c.verb === 'setFinalizers' && c.resource === 'accessrequests');
    assert.ok(fin >= 0 && fin < first, JSON.stringify(kube.calls));
  });

  it('a crash after the Access was created is recovered by adopting it, never by a duplicate', async () => {
    const { kube, controller } = await setup();
    kube.injectFault((c) => c.verb === 'create' && c.resource === 'services', new Error('killed'));
    await assert.rejects(controller.reconcileRequest('r1'), /killed/);
    assert.equal(kube.all('accesses').length, 2);
    await controller.reconcileRequest('r1');
    assert.equal(kube.all('accesses').length, 2);
    assert.equal(get(kube)?.status?.phase, 'Active');
  });

  it('AlreadyExists of an object labelled as ours (cache behind) is adopted', async () => {
    const { kube, controller } = await setup();
    await controller.reconcileRequest('r1');
    // Forget the clones from the cache only: the next reconcile tries to create them and must adopt.
    const access = kube.cache.list<MaxtacObject>('accesses');
    for (const a of access) kube.cache.apply('accesses', a, 'delete');
    await controller.reconcileRequest('r1');
    assert.equal(kube.all('accesses').length, 2);
  });

  it('a status write that races another writer is a Conflict (quiet requeue), not a lost update', async () => {
    const { kube, controller } = await setup();
    kube.injectFault((c) => c.verb === 'replaceStatus', new KubeError(409, 'Conflict', 'modified'));
    await assert.rejects(controller.reconcileRequest('r1'), (e: unknown) => e instanceof KubeError && e.reason === 'Conflict');
  });

  it('a maxtac object being deleted (maxtac expiry, a user) loses its clones, then its finalizer', async () => {
    const { kube, controller, ar } = await setup();
    await controller.reconcileRequest('r1');
    const name = objectName(ar.metadata.uid ?? '', 'targetMaxtac');
    await kube.delete('accesses', 'dst', name);
    assert.ok(kube.all<MaxtacObject>('accesses').find((a) => a.metadata.name === name)?.metadata.deletionTimestamp);
    await controller.reconcileObject(`obj/accesses/dst/${name}`);
    assert.equal(kube.all<MaxtacObject>('accesses').find((a) => a.metadata.name === name), undefined);
    assert.equal(kube.all<Service>('services').find((s) => s.metadata.name === objectName(ar.metadata.uid ?? '', 'targetClone')), undefined);
  });

  it('a deleted request is torn down and released once nothing is left', async () => {
    const { kube, controller } = await setup();
    await controller.reconcileRequest('r1');
    await kube.delete('accessrequests', '', 'r1');
    await controller.reconcileRequest('r1');
    for (const a of kube.all<MaxtacObject>('accesses')) await controller.reconcileObject(`obj/accesses/${a.metadata.namespace}/${a.metadata.name}`);
    assert.equal(kube.all('accesses').length, 0);
    await controller.reconcileRequest('r1');
    assert.equal(get(kube), undefined);
  });

  it('objects whose request is gone are deleted as orphans; legacy finalizers are removed from any maxtac object', async () => {
    const { kube, controller } = await setup();
    const orphan = objectName('gone', 'sourceClone');
    await kube.create<Service>('services', { metadata: { name: orphan, namespace: 'src', labels: markers('gone', 'source'), annotations: { 'netwatch.vtk.io/request-name': 'gone' } }, spec: {} });
    await kube.create<MaxtacObject>('accesses', { apiVersion: 'maxtac.vtk.io/v1alpha1', kind: 'Access', metadata: { name: 'theirs', namespace: 'src', finalizers: ['netwatch.vtk.io/access-cleanup-finalizer'] }, spec: { serviceSelector: {}, direction: 'egress' } });
    await controller.reconcileObject(`obj/services/src/${orphan}`);
    await controller.reconcileObject('obj/accesses/src/theirs');
    assert.equal(kube.all<Service>('services').find((s) => s.metadata.name === orphan), undefined);
    assert.deepEqual(kube.all<MaxtacObject>('accesses').find((a) => a.metadata.name === 'theirs')?.metadata.finalizers, []);
  });

  it('only netwatch-managed maxtac objects get the clones finalizer', async () => {
    const { kube, controller } = await setup();
    await controller.reconcileRequest('r1');
    assert.ok(kube.all<MaxtacObject>('accesses').every((a) => a.metadata.finalizers?.includes(MAXTAC_FINALIZER) && a.metadata.labels?.['app.kubernetes.io/managed-by'] === 'netwatch'));
  });
});

describe('Controller: a request is reported ended only once its NetworkPolicies are gone', () => {
  /** What maxtac writes for an object of ours: an ownerReference to its uid, and its owner label. */
  const policyFor = (m: MaxtacObject): NetworkPolicy => ({
    metadata: {
      name: `${m.metadata.name}-policy`,
      namespace: m.metadata.namespace ?? '',
      labels: { 'maxtac.vtk.io.access/owner': m.metadata.name ?? '' },
      ownerReferences: [{ apiVersion: 'maxtac.vtk.io/v1alpha1', kind: 'Access', name: m.metadata.name ?? '', uid: m.metadata.uid ?? '', controller: true }],
    },
    spec: { podSelector: {} },
  });
  const revoke = async (kube: FakeKube) => {
    const latest = kube.all<AccessRequest>('accessrequests')[0]!;
    await kube.replaceStatus('accessrequests', { ...latest, status: { ...latest.status, decision: { type: 'Revoked', by: 'bob' } } });
  };
  const ended = (kube: FakeKube) => get(kube)?.status?.conditions?.find((c) => c.type === 'Ended');
  async function until(what: string, check: () => boolean, timeoutMs = 2_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  it('a revoke whose policies outlive their Accesses stays closing, warns after --linger-warning, and ends once they are deleted', async () => {
    const { kube } = await setup();
    let now = new Date('2026-03-01T12:00:00Z');
    const controller = new Controller(kube, { ...DEFAULT_CONTROLLER_CONFIG, workers: 0, lingerWarningSeconds: 60 }, log, createMetrics(), () => now);
    await controller.reconcileRequest('r1');
    for (const a of kube.all<MaxtacObject>('accesses')) await kube.create('networkpolicies', policyFor(a));
    await controller.reconcileRequest('r1');
    assert.equal(get(kube)?.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'InForce');

    await revoke(kube);
    await controller.reconcileRequest('r1');
    for (const a of kube.all<MaxtacObject>('accesses')) await controller.reconcileObject(`obj/accesses/${a.metadata.namespace}/${a.metadata.name}`);
    assert.equal(kube.all('accesses').length, 0, 'the Accesses are gone; with no garbage collector their policies stay');
    await controller.reconcileRequest('r1');
    assert.equal(get(kube)?.status?.phase, 'Active');
    assert.deepEqual([ended(kube)?.status, ended(kube)?.reason], ['False', 'PoliciesRemain']);
    const policies = kube.all<NetworkPolicy>('networkpolicies').filter((np) => np.metadata.name?.endsWith('-policy'));
    for (const np of policies) assert.ok(ended(kube)?.message.includes(`${np.metadata.namespace}/${np.metadata.name}`), ended(kube)?.message);

    const warnings = () => kube.all<CoreEvent>('events').filter((e) => e.type === 'Warning' && e.reason === 'PoliciesLinger');
    now = new Date(now.getTime() + 60_000);
    await controller.reconcileRequest('r1');
    assert.equal(ended(kube)?.reason, 'PoliciesLinger');
    assert.equal(warnings().length, 1);
    await controller.reconcileRequest('r1');
    assert.equal(warnings().length, 1, 'once');

    for (const np of policies) await kube.delete('networkpolicies', np.metadata.namespace ?? '', np.metadata.name ?? '');
    await controller.reconcileRequest('r1');
    assert.equal(get(kube)?.status?.phase, 'Revoked');
    assert.deepEqual([ended(kube)?.status, ended(kube)?.reason], ['True', 'Revoked']);
    assert.deepEqual(kube.all<CoreEvent>('events').filter((e) => e.reason === 'Revoked').length, 1);
  });

  it('the deletion of a policy whose Access is gone wakes its request, found through the Access name maxtac wrote', async () => {
    const { kube } = await setup();
    const controller = newController(kube, 1);
    await controller.start();
    try {
      await until('Active', () => get(kube)?.status?.phase === 'Active' && kube.all('accesses').length === 2);
      for (const a of kube.all<MaxtacObject>('accesses')) await kube.create('networkpolicies', policyFor(a));
      await until('InForce', () => get(kube)?.status?.conditions?.find((c) => c.type === 'Ready')?.reason === 'InForce');
      await revoke(kube);
      await until('closing, the Accesses gone', () => ended(kube)?.reason === 'PoliciesRemain' && kube.all('accesses').length === 0);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(get(kube)?.status?.phase, 'Active');
      // Nothing else would wake it for minutes (no delete left to watch, the linger warning at 2m, the sweep at 5m).
      for (const np of kube.all<NetworkPolicy>('networkpolicies').filter((x) => x.metadata.name?.endsWith('-policy'))) {
        await kube.delete('networkpolicies', np.metadata.namespace ?? '', np.metadata.name ?? '');
      }
      await until('Revoked', () => get(kube)?.status?.phase === 'Revoked');
    } finally {
      await controller.stop();
    }
  });
});

describe('Controller: ownership is proven, never assumed', () => {
  const services = (kube: FakeKube) => kube.all<Service>('services').map((s) => `${s.metadata.namespace}/${s.metadata.name}`);
  const lookalike = (namespace: string, name: string, labels: Record<string, string>, extra: Partial<Service['metadata']> = {}): Service => ({
    metadata: { name, namespace, labels, annotations: { 'netwatch.vtk.io/request-name': 'r1' }, ...extra },
    spec: { selector: { app: 'x' }, ports: [{ port: 80, protocol: 'TCP' }] },
  });

  it('teardown and the sweep leave a Service marked with the request uid in another namespace, or under another name', async () => {
    const { kube, controller, ar } = await setup();
    const uid = ar.metadata.uid ?? '';
    await controller.reconcileRequest('r1');
    const elsewhere = lookalike('elsewhere', objectName(uid, 'targetClone'), markers(uid, 'target'), {
      // Even claiming to be owned by an Access that does not exist (the sweep deletes such clones of ours).
      ownerReferences: [{ apiVersion: 'maxtac.vtk.io/v1alpha1', kind: 'Access', name: 'gone', uid: 'no-such-uid', controller: true }],
    });
    const misnamed = lookalike('dst', 'nwt-lookalike', markers(uid, 'target'));
    for (const s of [elsewhere, misnamed]) await kube.create('services', s);
    const before = services(kube);
    await controller.reconcileRequest('r1');
    for (const s of [elsewhere, misnamed]) await controller.reconcileObject(`obj/services/${s.metadata.namespace}/${s.metadata.name}`);
    assert.deepEqual(services(kube), before, 'an Active request adopts nothing more, the sweep deletes nothing');

    const latest = kube.all<AccessRequest>('accessrequests')[0]!;
    await kube.replaceStatus('accessrequests', { ...latest, status: { ...latest.status, decision: { type: 'Revoked', by: 'bob' } } });
    await controller.reconcileRequest('r1');
    for (const a of kube.all<MaxtacObject>('accesses')) await controller.reconcileObject(`obj/accesses/${a.metadata.namespace}/${a.metadata.name}`);
    for (const s of [elsewhere, misnamed]) await controller.reconcileObject(`obj/services/${s.metadata.namespace}/${s.metadata.name}`);
    assert.equal(get(kube)?.status?.phase, 'Revoked');
    assert.equal(kube.all('accesses').length, 0);
    assert.deepEqual(services(kube), ['src/client', 'dst/server', 'elsewhere/' + objectName(uid, 'targetClone'), 'dst/nwt-lookalike']);
  });

  it('the sweep leaves a marked Service whose name is not the one netwatch gives those labels, request or not', async () => {
    const { kube, controller } = await setup();
    const squatters = [
      lookalike('src', 'nws-squatter', markers('no-such-request', 'source')),
      lookalike('src', objectName('no-such-request', 'targetClone'), markers('no-such-request', 'source')),
      lookalike('src', objectName('no-such-request', 'sourceClone'), { [LABEL_REQUEST_ID]: 'no-such-request', [LABEL_MANAGED_BY]: MANAGED_BY }),
    ];
    for (const s of squatters) {
      await kube.create('services', s);
      await controller.reconcileObject(`obj/services/src/${s.metadata.name}`);
    }
    assert.equal(kube.all('services').length, 2 + squatters.length);
  });

  it('a collision with an object at our name, labelled with our uid but not managed by netwatch, is never adopted', async () => {
    const { kube, controller, ar } = await setup();
    const name = objectName(ar.metadata.uid ?? '', 'targetClone');
    // Made a moment ago (the cache has not seen it): the controller's create collides with it.
    kube.holdCache();
    await kube.create('services', lookalike('dst', name, { [LABEL_REQUEST_ID]: ar.metadata.uid ?? '' }));
    kube.releaseCache((u) => u.resource === 'accessrequests');
    await assert.rejects(controller.reconcileRequest('r1'), (e: unknown) => e instanceof KubeError && e.reason === 'AlreadyExists');
    kube.resumeCache();
    await controller.reconcileRequest('r1');
    const failed = get(kube);
    assert.equal(failed?.status?.phase, 'Failed');
    assert.equal(failed?.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'NameConflict');
    assert.ok(!failed?.status?.objects?.some((o) => o.name === name));
    assert.deepEqual(kube.all<Service>('services').find((s) => s.metadata.name === name)?.metadata.labels, { [LABEL_REQUEST_ID]: ar.metadata.uid ?? '' });
  });

  it('deleting a look-alike maxtac object that carries our finalizer releases it and leaves the real clone alone', async () => {
    const { kube, controller, ar } = await setup();
    const uid = ar.metadata.uid ?? '';
    // Nothing isolates the target's pods: its half is skipped, and its clone (the source Access's peer) has no owner.
    await kube.delete('networkpolicies', 'dst', 'deny');
    await controller.reconcileRequest('r1');
    assert.deepEqual(kube.all<Service>('services').find((s) => s.metadata.name === objectName(uid, 'targetClone'))?.metadata.ownerReferences, undefined);
    await kube.create<MaxtacObject>('accesses', {
      apiVersion: 'maxtac.vtk.io/v1alpha1',
      kind: 'Access',
      metadata: { name: 'lookalike', namespace: 'dst', labels: markers(uid, 'target'), finalizers: [MAXTAC_FINALIZER] },
      spec: { serviceSelector: {}, direction: 'ingress' },
    });
    await kube.delete('accesses', 'dst', 'lookalike');
    await controller.reconcileObject('obj/accesses/dst/lookalike');
    assert.equal(kube.all<MaxtacObject>('accesses').find((a) => a.metadata.name === 'lookalike'), undefined);
    assert.ok(services(kube).includes(`dst/${objectName(uid, 'targetClone')}`));
  });
});

describe('Controller with a cache that lags behind the API server', () => {
  const writes = (kube: FakeKube) => kube.calls.filter((c) => c.verb !== 'get' && c.resource !== 'events');
  const requestUpdates = (u: CacheUpdate) => u.resource === 'accessrequests';

  it('a reconcile while the cache still shows the request from before our own writes makes no call: their events bring it back', async () => {
    const { kube, controller } = await setup();
    await controller.start();
    kube.holdCache();
    await controller.reconcileRequest('r1');
    assert.equal(kube.all<AccessRequest>('accessrequests')[0]?.status?.phase, 'Active');
    kube.calls.length = 0;
    // Without the expectation the stale copy (no finalizer, no status) would be planned again: a finalizer write
    // refused as a Conflict, and creates refused as AlreadyExists.
    await controller.reconcileRequest('r1');
    assert.deepEqual(kube.calls, []);
    kube.resumeCache();
    await controller.reconcileRequest('r1');
    assert.deepEqual(writes(kube), []);
    assert.equal(get(kube)?.status?.phase, 'Active');
    await controller.stop();
  });

  it('objects we created that the cache does not show yet are neither created again nor taken for deleted, without a read', async () => {
    const { kube, controller } = await setup();
    await controller.start();
    kube.holdCache();
    await controller.reconcileRequest('r1');
    // The request's own updates arrive first; the four creates are still on their way.
    kube.releaseCache(requestUpdates);
    assert.equal(get(kube)?.status?.phase, 'Active');
    assert.equal(kube.cache.list('accesses').length, 0);
    kube.calls.length = 0;
    await controller.reconcileRequest('r1');
    assert.deepEqual(kube.calls, [], 'no create, no GET to confirm, no status write');
    assert.equal(get(kube)?.status?.phase, 'Active');
    await controller.stop();
  });

  it('objects we deleted that the cache still shows are not deleted again, and a deleted request is released', async () => {
    const { kube, controller } = await setup();
    await controller.start();
    await controller.reconcileRequest('r1');
    const ar = kube.all<AccessRequest>('accessrequests')[0]!;
    await kube.replaceStatus('accessrequests', { ...ar, status: { ...ar.status, decision: { type: 'Revoked', by: 'bob' } } });
    await kube.delete('accessrequests', '', 'r1');
    kube.holdCache();
    await controller.reconcileRequest('r1');
    assert.equal(kube.all<Service>('services').filter((s) => s.metadata.name?.startsWith('nw')).length, 0);
    kube.releaseCache(requestUpdates);
    assert.equal(kube.cache.list('accesses').length, 2, 'the cache still shows the Accesses, not being deleted');
    kube.calls.length = 0;
    await controller.reconcileRequest('r1');
    assert.deepEqual(kube.calls.filter((c) => c.verb === 'delete'), []);
    // Everything it made is on its way out: the request's finalizer comes off.
    assert.equal(kube.all('accessrequests').length, 0);
    await controller.stop();
  });

  it('a target Service created a moment ago, not in the cache yet, is read from the API server instead of failing the request', async () => {
    const { kube, controller } = await setup({ lateServer: true });
    assert.equal(kube.cache.get('services', 'dst', 'server'), undefined);
    await controller.reconcileRequest('r1');
    assert.equal(kube.all<AccessRequest>('accessrequests')[0]?.status?.phase, 'Active');
    assert.equal(kube.all('accesses').length, 2);
  });

  it('after a restart, objects the status records that the cache does not show yet are read from the API server, not taken for deleted', async () => {
    const { kube, controller } = await setup();
    kube.holdCache();
    await controller.reconcileRequest('r1');
    kube.releaseCache(requestUpdates);
    // A new incarnation of the controller (a restart, another replica taking over): no memory of its writes, and
    // its Service and Access caches listed before the creates, its request cache after the status write.
    const restarted = newController(kube);
    await restarted.reconcileRequest('r1');
    const now = kube.all<AccessRequest>('accessrequests')[0];
    assert.equal(now?.status?.phase, 'Active', JSON.stringify(now?.status?.conditions));
    assert.equal(kube.all('accesses').length, 2);
  });

  it('running with every watch event late, the controller converges on one of each object and never repeats a write', async () => {
    const kube = new FakeKube({ cacheDelayMs: 5 });
    await setup({ kube });
    await new Promise((r) => setTimeout(r, 20));
    kube.calls.length = 0;
    const controller = newController(kube, 4);
    await controller.start();
    const deadline = Date.now() + 5_000;
    while (get(kube)?.status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'False' || kube.undelivered > 0) {
      if (Date.now() > deadline) assert.fail(`not converged: ${JSON.stringify(get(kube)?.status)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, 100));
    await controller.stop();
    const made = writes(kube).map((c) => `${c.verb} ${c.resource} ${c.namespace}/${c.name}`);
    assert.equal(new Set(made).size, made.length, made.join('\n'));
    assert.equal(kube.all('accesses').length, 2);
    assert.equal(get(kube)?.status?.phase, 'Active');
  });
});

describe('Controller: pods and other NetworkPolicies bring Active requests back (isolation judged again)', () => {
  async function until(what: string, check: () => boolean, timeoutMs = 2_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}: ${JSON.stringify(get(lastKube)?.status)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  let lastKube: FakeKube;
  const pod = (name: string, labels: Record<string, string>): Pod => ({ metadata: { name, namespace: 'dst', labels }, spec: { containers: [{ name: 'c' }] }, status: { phase: 'Running', podIP: '10.1.0.1' } });
  const isolating = (kube: FakeKube) => get(kube)?.status?.conditions?.find((c) => c.type === 'Isolating');

  /** An Active grant from src/client to dst/server, whose server pods dst's policy `deny` isolates unless quarantined. */
  async function activeGrant(): Promise<{ kube: FakeKube; controller: Controller; metrics: ReturnType<typeof createMetrics> }> {
    const kube = new FakeKube();
    lastKube = kube;
    await kube.create<NetworkPolicy>('networkpolicies', { metadata: { name: 'deny', namespace: 'src' }, spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } });
    await kube.create<NetworkPolicy>('networkpolicies', {
      metadata: { name: 'deny', namespace: 'dst' },
      spec: { podSelector: { matchExpressions: [{ key: 'quarantine', operator: 'DoesNotExist' }] }, policyTypes: ['Ingress', 'Egress'] },
    });
    await kube.create<Pod>('pods', pod('server-0', { app: 'server' }));
    await setup({ kube, policies: false });
    const metrics = createMetrics();
    const controller = new Controller(kube, { ...DEFAULT_CONTROLLER_CONFIG, workers: 1 }, log, metrics);
    await controller.start();
    await until('Active with both halves', () => get(kube)?.status?.phase === 'Active' && kube.all('accesses').length === 2);
    assert.equal(isolating(kube)?.reason, 'NoNewIsolation');
    return { kube, controller, metrics };
  }
  const targetAccess = (kube: FakeKube) => kube.all<MaxtacObject>('accesses').find((a) => a.metadata.namespace === 'dst');
  const requestReconciles = async (metrics: ReturnType<typeof createMetrics>) =>
    (await metrics.reconciles.get()).values.filter((v) => v.labels.kind === 'request').reduce((n, v) => n + v.value, 0);

  it('a pod the owner policy leaves out comes: the request is planned again and, under skip, the target half withdrawn', async () => {
    const { kube, controller } = await activeGrant();
    try {
      await kube.create<Pod>('pods', pod('server-1', { app: 'server', quarantine: 'true' }));
      await until('the target half withdrawn', () => isolating(kube)?.reason === 'DirectionWithdrawn' && targetAccess(kube) === undefined);
      assert.match(isolating(kube)?.message ?? '', /withdrew ingress of dst\/server, since .* isolating 1 of 2 pods of dst\/server \(server-1, in ingress\)/);
      assert.deepEqual(kube.all<CoreEvent>('events').filter((e) => e.reason === 'DirectionWithdrawn').map((e) => e.type), ['Warning']);
      // The pod is let go of the quarantine: the direction is granted again.
      await kube.delete('pods', 'dst', 'server-1');
      await until('the target half made again', () => isolating(kube)?.reason === 'NoNewIsolation' && targetAccess(kube)?.spec.direction === 'ingress');
    } finally {
      await controller.stop();
    }
  });

  it('the owner deleting their policy (not a grant of ours) plans the requests of that namespace again', async () => {
    const { kube, controller } = await activeGrant();
    try {
      await kube.delete('networkpolicies', 'dst', 'deny');
      await until('the target half withdrawn', () => isolating(kube)?.reason === 'DirectionWithdrawn' && targetAccess(kube) === undefined);
    } finally {
      await controller.stop();
    }
  });

  it('a pod change that cannot change isolation (status, not labels) and pods of other namespaces wake nothing', async () => {
    const { kube, controller, metrics } = await activeGrant();
    try {
      let before = -1;
      while (before !== (before = await requestReconciles(metrics))) await new Promise((r) => setTimeout(r, 50));
      const live = kube.all<Pod>('pods').find((p) => p.metadata.name === 'server-0')!;
      await kube.replace<Pod>('pods', { ...live, status: { ...live.status, podIP: '10.1.0.2' } });
      await kube.create<Pod>('pods', { ...pod('elsewhere', { app: 'server', quarantine: 'true' }), metadata: { name: 'elsewhere', namespace: 'other', labels: { app: 'server' } } });
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(await requestReconciles(metrics), before);
      // A label change does.
      const now = kube.all<Pod>('pods').find((p) => p.metadata.name === 'server-0')!;
      await kube.replace<Pod>('pods', { ...now, metadata: { ...now.metadata, labels: { app: 'server', tier: 'x' } } });
      await new Promise((r) => setTimeout(r, 50));
      assert.ok((await requestReconciles(metrics)) > before);
    } finally {
      await controller.stop();
    }
  });
});

describe('LeaderElector with the fake kube port', () => {
  function elector(kube: FakeKube, identity: string, clock: () => Date, events: string[]) {
    return new LeaderElector(kube, { namespace: 'ns', name: 'lease', identity, leaseDurationSeconds: 10, renewDeadlineSeconds: 6, retryPeriodSeconds: 1 }, log, {
      onStartedLeading: () => void events.push(`${identity} leads`),
      onStoppedLeading: () => void events.push(`${identity} stops`),
    }, clock);
  }

  it('the first replica creates the lease; a second does not take a live lease but takes an expired one', async () => {
    const kube = new FakeKube();
    let now = new Date('2026-01-01T00:00:00Z');
    const events: string[] = [];
    const a = elector(kube, 'a', () => now, events);
    const b = elector(kube, 'b', () => now, events);
    a.run();
    await new Promise((r) => setTimeout(r, 20));
    b.run();
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(events, ['a leads']);
    now = new Date(now.getTime() + 11_000);
    await (b as unknown as { tick(): Promise<void> }).tick();
    assert.deepEqual(events, ['a leads', 'b leads']);
    assert.equal(kube.all<Lease>('leases')[0]?.spec?.leaseTransitions, 1);
    await a.stop();
    await b.stop();
  });

  it('stopping the leader releases the lease', async () => {
    const kube = new FakeKube();
    const events: string[] = [];
    const a = elector(kube, 'a', () => new Date(), events);
    a.run();
    await new Promise((r) => setTimeout(r, 20));
    await a.stop();
    assert.equal(kube.all<Lease>('leases')[0]?.spec?.holderIdentity, null);
    assert.deepEqual(events, ['a leads', 'a stops']);
  });

  it('stopping while a renewal is under way neither leads again nor keeps the lease', async () => {
    const kube = new FakeKube();
    const events: string[] = [];
    const a = elector(kube, 'a', () => new Date(), events);
    a.run();
    await new Promise((r) => setTimeout(r, 20));
    // The next renewal reads the lease slowly: stop() is called while it waits.
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const get = kube.get.bind(kube);
    kube.get = (async (...args: Parameters<typeof get>) => {
      await gate;
      return get(...args);
    });
    const renewing = (a as unknown as { tick(): Promise<void> }).tick();
    kube.get = get;
    const stopping = a.stop();
    open();
    await Promise.all([renewing, stopping]);
    assert.deepEqual(events, ['a leads', 'a stops']);
    assert.equal(kube.all<Lease>('leases')[0]?.spec?.holderIdentity, null);
    assert.equal(a.isLeader, false);
  });

  it('an extension granted: expiresAt moves, generation 1 is made, and generation 0 goes (clones with it) only once 1 is in force', async () => {
    const { kube, controller, ar } = await setup();
    const uid = ar.metadata.uid ?? '';
    const inForce = async (generation: number) => {
      for (const a of kube.all<MaxtacObject>('accesses').filter((x) => x.metadata.name === objectName(uid, 'sourceMaxtac', generation) || x.metadata.name === objectName(uid, 'targetMaxtac', generation))) {
        await kube.create<NetworkPolicy>('networkpolicies', { metadata: { name: `${a.metadata.name ?? ''}-np`, namespace: a.metadata.namespace ?? '', ownerReferences: [{ apiVersion: a.apiVersion ?? '', kind: 'Access', name: a.metadata.name ?? '', uid: a.metadata.uid ?? '' }] }, spec: { podSelector: {} } });
      }
    };
    await controller.reconcileRequest('r1');
    await inForce(0);
    await controller.reconcileRequest('r1');
    const before = get(kube);
    assert.ok(before?.status?.expiresAt);
    await kube.replaceStatus<AccessRequest>('accessrequests', {
      ...before,
      status: {
        ...before.status,
        extensions: [{ duration: '30m', requestedBy: 'alice', at: '2026-01-01T00:00:00Z' }],
        extensionApprovals: [{ extension: 0, part: 'source', namespace: 'src', by: 'alice' }, { extension: 0, part: 'target', namespace: 'dst', by: 'alice' }],
      },
    });
    await controller.reconcileRequest('r1');
    assert.equal(get(kube)?.status?.expiresAt, new Date(Date.parse(before.status?.expiresAt ?? '') + 30 * 60_000).toISOString());
    const names = () => kube.all<MaxtacObject>('accesses').filter((a) => !a.metadata.deletionTimestamp).map((a) => a.metadata.name).sort();
    assert.deepEqual(names(), [objectName(uid, 'sourceMaxtac'), objectName(uid, 'targetMaxtac'), objectName(uid, 'sourceMaxtac', 1), objectName(uid, 'targetMaxtac', 1)].sort());
    await controller.reconcileRequest('r1');
    assert.equal(names().length, 4, 'generation 0 stays until generation 1 has its NetworkPolicies');
    await inForce(1);
    await controller.reconcileRequest('r1');
    assert.deepEqual(names(), [objectName(uid, 'sourceMaxtac', 1), objectName(uid, 'targetMaxtac', 1)].sort());
    for (const a of kube.all<MaxtacObject>('accesses').filter((x) => x.metadata.deletionTimestamp)) await controller.reconcileObject(`obj/accesses/${a.metadata.namespace}/${a.metadata.name}`);
    const clones = kube.all<Service>('services').filter((x) => x.metadata.name?.startsWith('nw')).map((x) => x.metadata.name).sort();
    assert.deepEqual(clones, [objectName(uid, 'sourceClone', 1), objectName(uid, 'targetClone', 1)].sort(), "each old maxtac object took its own generation's clone");
    assert.ok(kube.all<CoreEvent>('events').some((e) => e.reason === 'Extended'));
  });
});
