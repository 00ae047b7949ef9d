// The controller's apply logic against the in-memory fake of the kube port (the real API server is exercised by
// test/e2e/controller-*.test.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { AccessRequest } from '../lib/api/accessrequest.ts';
import { FakeKube } from '../lib/kube/fake.ts';
import { KubeError } from '../lib/kube/port.ts';
import type { Lease, MaxtacObject, NetworkPolicy, Service } from '../lib/kube/types.ts';
import { objectName } from '../lib/domain/names.ts';
import { MAXTAC_FINALIZER, REQUEST_FINALIZER } from '../lib/api/markers.ts';
import { Controller, DEFAULT_CONTROLLER_CONFIG } from './controller.ts';
import { LeaderElector } from './leader.ts';
import { createMetrics } from './metrics.ts';

const log = pino({ level: 'silent' });

async function setup(): Promise<{ kube: FakeKube; controller: Controller; ar: AccessRequest }> {
  const kube = new FakeKube();
  for (const ns of ['src', 'dst']) {
    await kube.create<NetworkPolicy>('networkpolicies', { metadata: { name: 'deny', namespace: ns }, spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } });
  }
  await kube.create<Service>('services', { metadata: { name: 'client', namespace: 'src' }, spec: { selector: { app: 'client' }, ports: [{ port: 80, protocol: 'TCP', targetPort: 8080 }] } });
  await kube.create<Service>('services', { metadata: { name: 'server', namespace: 'dst' }, spec: { selector: { app: 'server' }, ports: [{ port: 80, protocol: 'TCP', targetPort: 8080 }] } });
  const ar = await kube.create<AccessRequest>('accessrequests', {
    apiVersion: 'netwatch.vtk.io/v1alpha1',
    kind: 'AccessRequest',
    metadata: { name: 'r1' },
    spec: { type: 'Service', source: { namespace: 'src', service: 'client' }, target: { namespace: 'dst', service: 'server' }, duration: '1h', reason: 'x', requester: { username: 'alice', approvedParts: ['source', 'target'] } },
  });
  const controller = new Controller(kube, { ...DEFAULT_CONTROLLER_CONFIG, workers: 1 }, log, createMetrics());
  return { kube, controller, ar };
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
    await kube.create<Service>('services', { metadata: { name: 'nws-x', namespace: 'src', labels: { 'netwatch.vtk.io/request-id': 'gone', 'app.kubernetes.io/managed-by': 'netwatch' }, annotations: { 'netwatch.vtk.io/request-name': 'gone' } }, spec: {} });
    await kube.create<MaxtacObject>('accesses', { apiVersion: 'maxtac.vtk.io/v1alpha1', kind: 'Access', metadata: { name: 'theirs', namespace: 'src', finalizers: ['netwatch.vtk.io/access-cleanup-finalizer'] }, spec: { serviceSelector: {}, direction: 'egress' } });
    await controller.reconcileObject('obj/services/src/nws-x');
    await controller.reconcileObject('obj/accesses/src/theirs');
    assert.equal(kube.all<Service>('services').find((s) => s.metadata.name === 'nws-x'), undefined);
    assert.deepEqual(kube.all<MaxtacObject>('accesses').find((a) => a.metadata.name === 'theirs')?.metadata.finalizers, []);
  });

  it('only netwatch-managed maxtac objects get the clones finalizer', async () => {
    const { kube, controller } = await setup();
    await controller.reconcileRequest('r1');
    assert.ok(kube.all<MaxtacObject>('accesses').every((a) => a.metadata.finalizers?.includes(MAXTAC_FINALIZER) && a.metadata.labels?.['app.kubernetes.io/managed-by'] === 'netwatch'));
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
});
