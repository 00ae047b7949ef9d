import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AccessRequest, AccessRequestSpec, AccessRequestStatus } from '../api/accessrequest.ts';
import type { LabelSelector, MaxtacObject, NetworkPolicy, Pod, Service } from '../kube/types.ts';
import { accessRequest } from '../../test/support/builders.ts';
import { objectName } from './names.ts';
import { DEFAULT_PLAN_CONFIG, createChains, plan, type Observed, type PlanConfig } from './plan.ts';
import { LABEL_REQUEST_ID, MAXTAC_FINALIZER, REQUEST_FINALIZER } from '../api/markers.ts';

// ----- fixture builders
const UID = '5b1f7c0e-1d2a-4c3b-9e8f-0a1b2c3d4e5f';
const NOW = new Date('2026-03-01T12:00:00Z');
const CREATED = '2026-03-01T11:00:00Z';
const APPROVED = '2026-03-01T11:59:00Z';

function request(spec: Partial<AccessRequestSpec>, status: AccessRequestStatus = {}, meta: Partial<AccessRequest['metadata']> = {}): AccessRequest {
  return accessRequest({
    name: 'req-1',
    metadata: { uid: UID, generation: 1, creationTimestamp: CREATED, finalizers: [REQUEST_FINALIZER], ...meta },
    spec: { type: 'Service', duration: '2h', reason: 'debugging', requester: { username: 'alice' }, ...spec },
    status,
  });
}

const svcSpec = { type: 'Service' as const, source: { namespace: 'monitoring', service: 'prometheus' }, target: { namespace: 'db', service: 'database' } };
const sameNsSpec = { type: 'Service' as const, source: { namespace: 'shop', service: 'frontend' }, target: { namespace: 'shop', service: 'backend' } };
const extSpec = (direction: 'ingress' | 'egress' | 'both') => ({ type: 'External' as const, service: { namespace: 'shop', name: 'frontend' }, cidrs: ['203.0.113.7/32'], direction });

const bothApproved = { approvals: [{ part: 'source' as const, namespace: 'monitoring', by: 'bob', at: CREATED }, { part: 'target' as const, namespace: 'db', by: 'carol', at: APPROVED }] };

function service(namespace: string, name: string, over: Partial<NonNullable<Service['spec']>> = {}): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace, name, uid: `uid-${namespace}-${name}` },
    spec: { type: 'ClusterIP', clusterIP: '10.0.0.1', selector: { app: name }, ports: [{ name: 'pg', port: 5432, protocol: 'TCP', targetPort: 15432 }, { name: 'metrics', port: 9187, protocol: 'TCP', targetPort: 'metrics' }], ...over },
  };
}

function denyAll(namespace: string, types: ('Ingress' | 'Egress')[] = ['Ingress', 'Egress']): NetworkPolicy {
  return { metadata: { namespace, name: 'default-deny' }, spec: { podSelector: {}, policyTypes: types } };
}

function observed(req: AccessRequest, over: Partial<Observed> = {}): Observed {
  const originals = new Map<string, Service | null>();
  for (const s of [service('monitoring', 'prometheus'), service('db', 'database'), service('shop', 'frontend', { ports: [{ port: 443, protocol: 'TCP', targetPort: 8443 }] }), service('shop', 'backend')]) {
    originals.set(`${s.metadata.namespace}/${s.metadata.name}`, s);
  }
  return { request: req, originals, services: [], maxtac: [], networkPolicies: [denyAll('monitoring'), denyAll('db'), denyAll('shop')], ...over };
}

/** The objects a plan creates, as they would be observed after the create (with uids). */
function materialize(o: Observed): Observed {
  const p = plan(o, NOW);
  const maxtac: MaxtacObject[] = [...o.maxtac];
  const services: Service[] = [...o.services];
  for (const c of p.creates) {
    const obj = structuredClone(c.object);
    obj.metadata.uid = `uid-${obj.metadata.name}`;
    if (obj.kind === 'Service') services.push(obj);
    else maxtac.push(obj as MaxtacObject);
  }
  const status = structuredClone(p.status ?? o.request.status ?? {});
  for (const ref of status.objects ?? []) ref.uid = `uid-${ref.name}`;
  return { ...o, request: { ...o.request, status }, maxtac, services };
}

function policyOf(m: MaxtacObject): NetworkPolicy {
  return { metadata: { namespace: m.metadata.namespace ?? '', name: `${m.metadata.name}--x`, ownerReferences: [{ apiVersion: m.apiVersion, kind: m.kind, name: m.metadata.name ?? '', uid: m.metadata.uid ?? '' }] }, spec: { podSelector: {} } };
}

const byKind = (p: ReturnType<typeof plan>, kind: string) => p.creates.filter((c) => c.object.kind === kind).map((c) => c.object);

// ----- tables

describe('plan: a fully approved Service request', () => {
  const p = plan(observed(request(svcSpec, bothApproved)), NOW);
  const [sourceAccess, targetAccess] = byKind(p, 'Access') as MaxtacObject[];
  const clones = byKind(p, 'Service') as Service[];

  it('becomes Active with approvedAt at the last approval and expiresAt = approvedAt + duration', () => {
    assert.equal(p.status?.phase, 'Active');
    assert.equal(p.status?.approvedAt, new Date(APPROVED).toISOString());
    assert.equal(p.status?.expiresAt, new Date(Date.parse(APPROVED) + 7200_000).toISOString());
    assert.equal(p.becameActive, true);
  });

  it('creates the maxtac objects before the clones that reference them as owners', () => {
    assert.deepEqual(p.creates.map((c) => c.object.kind), ['Access', 'Access', 'Service', 'Service']);
  });

  it('gives the source part an egress Access in the source namespace that selects the source clone and targets the target clone', () => {
    assert.deepEqual(sourceAccess?.metadata.namespace, 'monitoring');
    assert.equal(sourceAccess?.metadata.name, objectName(UID, 'sourceMaxtac'));
    assert.deepEqual(sourceAccess?.spec, {
      serviceSelector: { matchLabels: { [LABEL_REQUEST_ID]: UID, 'netwatch.vtk.io/role': 'source' } },
      direction: 'egress',
      targets: [{ serviceName: objectName(UID, 'targetClone'), namespace: 'db' }],
      duration: '7140s',
    });
    assert.deepEqual(sourceAccess?.metadata.finalizers, [MAXTAC_FINALIZER]);
  });

  it('gives the target part an ingress Access in the target namespace that targets the source clone', () => {
    assert.equal(targetAccess?.metadata.namespace, 'db');
    assert.equal(targetAccess?.spec.direction, 'ingress');
    assert.deepEqual(targetAccess?.spec.targets, [{ serviceName: objectName(UID, 'sourceClone'), namespace: 'monitoring' }]);
  });

  it('sets maxtac duration to the remaining seconds, consistent with expiresAt', () => {
    const remaining = (Date.parse(p.status?.expiresAt ?? '') - NOW.getTime()) / 1000;
    assert.equal(targetAccess?.spec.duration, `${remaining}s`);
  });

  it('gives both clones the target Service ports with its targetPorts, the original selector, and our labels only', () => {
    for (const c of clones) {
      assert.deepEqual(c.spec?.ports, [{ name: 'pg', port: 5432, protocol: 'TCP', targetPort: 15432 }, { name: 'metrics', port: 9187, protocol: 'TCP', targetPort: 'metrics' }]);
      assert.equal(c.spec?.type, 'ClusterIP');
      assert.equal(c.spec?.clusterIP, undefined);
      assert.equal(c.metadata.labels?.[LABEL_REQUEST_ID], UID);
      assert.equal(c.metadata.labels?.['app.kubernetes.io/managed-by'], 'netwatch');
      assert.equal(c.metadata.annotations?.['netwatch.vtk.io/request-name'], 'req-1');
    }
    assert.deepEqual(clones[0]?.spec?.selector, { app: 'prometheus' });
    assert.deepEqual(clones[1]?.spec?.selector, { app: 'database' });
    assert.deepEqual(clones.map((c) => c.metadata.labels?.['netwatch.vtk.io/role']), ['source', 'target']);
  });

  it('names each clone owner as its same-namespace Access, whose uid apply fills in', () => {
    const owners = p.creates.filter((c) => c.object.kind === 'Service').map((c) => c.ownerMaxtac);
    assert.deepEqual(owners, [
      { kind: 'Access', name: objectName(UID, 'sourceMaxtac'), namespace: 'monitoring' },
      { kind: 'Access', name: objectName(UID, 'targetMaxtac'), namespace: 'db' },
    ]);
  });

  it('chains each clone after the Access that owns it, one chain per half, to run side by side', () => {
    const chains = createChains(p.creates).map((chain) => chain.map((c) => `${c.object.kind}/${c.object.metadata.name}`));
    assert.deepEqual(chains, [
      [`Access/${objectName(UID, 'sourceMaxtac')}`, `Service/${objectName(UID, 'sourceClone')}`],
      [`Access/${objectName(UID, 'targetMaxtac')}`, `Service/${objectName(UID, 'targetClone')}`],
    ]);
    // A clone whose owner already exists (not created by this plan), or that has none, needs no wait.
    const clonesOnly = p.creates.filter((c) => c.object.kind === 'Service');
    assert.deepEqual(createChains(clonesOnly).map((chain) => chain.length), [1, 1]);
    assert.deepEqual(createChains([]), []);
  });

  it('records refs of every object it creates, by part', () => {
    assert.deepEqual(p.status?.objects?.map((r) => `${r.part}:${r.kind}:${r.namespace}`), ['source:Access:monitoring', 'source:Service:monitoring', 'target:Access:db', 'target:Service:db']);
  });

  it('is not Ready until maxtac wrote the NetworkPolicies', () => {
    const ready = p.status?.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'False');
    assert.equal(ready?.reason, 'Materializing');
  });

  it('emits an Activated event', () => {
    assert.deepEqual(p.events.map((e) => e.reason), ['Activated']);
  });
});

describe('plan: after materialization', () => {
  const after = materialize(observed(request(svcSpec, bothApproved)));

  it('a second pass creates nothing and changes nothing when the policies are not written yet', () => {
    const p = plan(after, NOW);
    assert.deepEqual(p.creates, []);
    assert.deepEqual(p.deletes, []);
    assert.equal(p.status, undefined);
  });

  it('becomes Ready (InForce) once each Access has a NetworkPolicy owned by its uid, with an event', () => {
    const p = plan({ ...after, networkPolicies: [...after.networkPolicies, ...after.maxtac.map(policyOf)] }, NOW);
    const ready = p.status?.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'True');
    assert.equal(ready?.reason, 'InForce');
    assert.deepEqual(p.status?.parts?.map((x) => x.state), ['Active', 'Active']);
    assert.deepEqual(p.events.map((e) => e.reason), ['InForce']);
  });

  it('expires at expiresAt: phase Expired and every object deleted', () => {
    const p = plan(after, new Date(Date.parse(APPROVED) + 7200_000));
    assert.equal(p.status?.phase, 'Expired');
    assert.equal(p.deletes.length, 4);
    assert.equal(p.events[0]?.reason, 'Expired');
  });

  it('a revoke tears everything down and records Revoked', () => {
    const revoked = { ...after, request: { ...after.request, status: { ...after.request.status, decision: { type: 'Revoked' as const, by: 'bob' } } } };
    const p = plan(revoked, NOW);
    assert.equal(p.status?.phase, 'Revoked');
    assert.deepEqual(p.deletes.map((d) => d.kind).sort(), ['Access', 'Access', 'Service', 'Service']);
    assert.ok(p.deletes.every((d) => d.uid?.startsWith('uid-')));
  });

  it('an Access deleted by hand long before expiry fails the request and tears down the rest', () => {
    const p = plan({ ...after, maxtac: after.maxtac.slice(1) }, NOW);
    assert.equal(p.status?.phase, 'Failed');
    assert.equal(p.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'ObjectDeleted');
    assert.equal(p.deletes.length, 3);
    assert.equal(p.events[0]?.type, 'Warning');
  });

  it('an Access deleted by maxtac at expiry is Expired, not Failed', () => {
    const p = plan({ ...after, maxtac: after.maxtac.slice(1) }, new Date(Date.parse(APPROVED) + 7200_000 - 5_000));
    assert.equal(p.status?.phase, 'Expired');
  });

  it('an Access whose spec was edited is deleted with its clone (never updated), then both are recreated', () => {
    const edited = structuredClone(after);
    edited.maxtac[0]!.spec.targets = [{ serviceName: 'other', namespace: 'db' }];
    const p = plan(edited, NOW);
    assert.deepEqual(p.deletes.map((d) => d.name), [objectName(UID, 'sourceClone'), objectName(UID, 'sourceMaxtac')]);
    assert.deepEqual(p.creates, []);
    assert.equal(p.status?.phase, 'Active');
    assert.deepEqual(p.status?.objects?.map((o) => o.name), [objectName(UID, 'targetMaxtac'), objectName(UID, 'targetClone')]);
    // Once both are gone, the next pass recreates them and stays Active.
    const gone = { ...edited, request: { ...edited.request, status: p.status }, maxtac: edited.maxtac.slice(1), services: edited.services.filter((x) => x.metadata.name !== objectName(UID, 'sourceClone')) };
    const again = plan(gone, NOW);
    assert.equal(again.status?.phase ?? 'Active', 'Active');
    assert.deepEqual(again.creates.map((c) => c.object.metadata.name), [objectName(UID, 'sourceMaxtac'), objectName(UID, 'sourceClone')]);
  });

  it('an Access read back from the API server with sorted keys is the same Access (not recreated)', () => {
    const sorted = structuredClone(after);
    for (const m of sorted.maxtac) m.spec.targets = m.spec.targets?.map((t) => ({ namespace: t.namespace, serviceName: t.serviceName }));
    assert.deepEqual(plan(sorted, NOW).deletes, []);
  });

  it('a deleted request keeps its finalizer while objects remain, and deletes them', () => {
    const deleting = { ...after, request: { ...after.request, metadata: { ...after.request.metadata, deletionTimestamp: NOW.toISOString() } } };
    const p = plan(deleting, NOW);
    assert.equal(p.deletes.length, 4);
    assert.deepEqual(p.removeFinalizers, []);
  });

  it('a deleted request with nothing left removes our finalizer and the legacy ones', () => {
    const req = request(svcSpec, { ...bothApproved, phase: 'Revoked' }, { deletionTimestamp: NOW.toISOString(), finalizers: [REQUEST_FINALIZER, 'netwatch.vtk.io/request-cleanup-finalizer', 'other.io/keep'] });
    const p = plan(observed(req), NOW);
    assert.deepEqual(p.removeFinalizers, [REQUEST_FINALIZER, 'netwatch.vtk.io/request-cleanup-finalizer']);
  });
});

describe('plan: shapes', () => {
  it('a same-namespace Service request has one target part and materializes both halves in that namespace', () => {
    const p = plan(observed(request(sameNsSpec, { approvals: [{ part: 'target', namespace: 'shop', at: APPROVED }] })), NOW);
    assert.equal(p.status?.phase, 'Active');
    assert.deepEqual(p.creates.map((c) => `${c.object.kind}/${c.object.metadata.namespace}`), ['Access/shop', 'Access/shop', 'Service/shop', 'Service/shop']);
    assert.deepEqual(p.status?.parts?.map((x) => x.part), ['target']);
    assert.equal(new Set(p.creates.map((c) => c.object.metadata.name)).size, 4);
  });

  const externals: [string, 'ingress' | 'egress' | 'both', string][] = [
    ['an External ingress request gives an ingress ExternalAccess', 'ingress', 'ingress'],
    ['an External egress request gives an egress ExternalAccess', 'egress', 'egress'],
    ['an External both request gives maxtac direction all', 'both', 'all'],
  ];
  for (const [name, direction, maxtac] of externals) {
    it(name, () => {
      const p = plan(observed(request(extSpec(direction), { approvals: [{ part: 'target', namespace: 'shop', at: APPROVED }] })), NOW);
      const [ea, clone] = p.creates.map((c) => c.object);
      assert.equal(ea?.kind, 'ExternalAccess');
      assert.deepEqual((ea as MaxtacObject).spec.targetCIDRs, ['203.0.113.7/32']);
      assert.equal((ea as MaxtacObject).spec.direction, maxtac);
      assert.equal((ea as MaxtacObject).spec.targets, undefined);
      assert.deepEqual((clone as Service).spec?.ports, [{ port: 443, protocol: 'TCP', targetPort: 8443 }]);
      assert.equal(p.creates.length, 2);
    });
  }

  it('port overrides keep only the requested ports, with their targetPort', () => {
    const p = plan(observed(request({ ...svcSpec, ports: [{ port: 9187, protocol: 'TCP' }] }, bothApproved)), NOW);
    assert.deepEqual((byKind(p, 'Service')[0] as Service).spec?.ports, [{ name: 'metrics', port: 9187, protocol: 'TCP', targetPort: 'metrics' }]);
  });

  it('UDP and SCTP ports are carried with their protocol', () => {
    const o = observed(request({ ...svcSpec, ports: [{ port: 53, protocol: 'UDP' }, { port: 3868, protocol: 'SCTP' }] }, bothApproved));
    o.originals.set('db/database', service('db', 'database', { ports: [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 5353 }, { name: 'diameter', port: 3868, protocol: 'SCTP' }] }));
    const p = plan(o, NOW);
    assert.deepEqual((byKind(p, 'Service')[1] as Service).spec?.ports, [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 5353 }, { name: 'diameter', port: 3868, protocol: 'SCTP', targetPort: 3868 }]);
  });

  it('a requested port the target Service does not have fails the request and creates nothing', () => {
    const p = plan(observed(request({ ...svcSpec, ports: [{ port: 8080, protocol: 'TCP' }] }, bothApproved)), NOW);
    assert.equal(p.status?.phase, 'Failed');
    assert.match(p.status?.conditions?.find((c) => c.type === 'Ready')?.message ?? '', /8080\/TCP is not a port of Service db\/database/);
    assert.deepEqual(p.creates, []);
  });

  it('a headless original gives a headless clone; a LoadBalancer original gives a plain ClusterIP without nodePorts', () => {
    const o = observed(request(svcSpec, bothApproved));
    o.originals.set('monitoring/prometheus', service('monitoring', 'prometheus', { clusterIP: 'None' }));
    o.originals.set('db/database', service('db', 'database', { type: 'LoadBalancer', ports: [{ port: 5432, protocol: 'TCP', targetPort: 5432, nodePort: 30000 }] }));
    const [src, tgt] = byKind(plan(o, NOW), 'Service') as Service[];
    assert.equal(src?.spec?.clusterIP, 'None');
    assert.equal(tgt?.spec?.type, 'ClusterIP');
    assert.deepEqual(tgt?.spec?.ports, [{ port: 5432, protocol: 'TCP', targetPort: 5432 }]);
  });

  it('the original annotations (which maxtac would read as targets) are never copied to a clone', () => {
    const o = observed(request(svcSpec, bothApproved));
    const orig = service('db', 'database');
    orig.metadata.annotations = { 'maxtac.vtk.io.access/targets': 'evil,kube-system' };
    o.originals.set('db/database', orig);
    const tgt = byKind(plan(o, NOW), 'Service')[1] as Service;
    assert.equal(tgt.metadata.annotations?.['maxtac.vtk.io.access/targets'], undefined);
  });

  it('a missing source Service fails the request with ServiceNotFound', () => {
    const o = observed(request(svcSpec, bothApproved));
    o.originals.set('monitoring/prometheus', null);
    const p = plan(o, NOW);
    assert.equal(p.status?.phase, 'Failed');
    assert.equal(p.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'ServiceNotFound');
  });

  it('a selector-less target Service fails with ServiceWithoutSelector', () => {
    const o = observed(request(svcSpec, bothApproved));
    o.originals.set('db/database', service('db', 'database', { selector: {} }));
    assert.equal(plan(o, NOW).status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'ServiceWithoutSelector');
  });

  it('an unlimited request has no expiresAt and no maxtac duration', () => {
    const p = plan(observed(request({ ...svcSpec, duration: 'unlimited' }, bothApproved)), NOW);
    assert.equal(p.status?.expiresAt, undefined);
    assert.ok(byKind(p, 'Access').every((a) => (a as MaxtacObject).spec.duration === undefined));
    assert.equal(p.requeueAfterMs, undefined);
  });

  it('an object with our deterministic name that is not ours is a NameConflict, never adopted', () => {
    const o = observed(request(svcSpec, bothApproved));
    o.services = [{ metadata: { namespace: 'db', name: objectName(UID, 'targetClone'), labels: { app: 'x' } } }];
    const p = plan(o, NOW);
    assert.equal(p.status?.phase, 'Failed');
    assert.match(p.status?.conditions?.find((c) => c.type === 'Ready')?.message ?? '', /refusing to adopt/);
    assert.deepEqual(p.deletes, []);
  });

  it('an object with our name and our labels is adopted (not created again)', () => {
    const first = materialize(observed(request(svcSpec, bothApproved)));
    const crashed = { ...first, request: request(svcSpec, bothApproved) };
    const p = plan(crashed, NOW);
    assert.deepEqual(p.creates, []);
    assert.equal(p.status?.objects?.length, 4);
  });
});

describe('plan: ownership', () => {
  const marked = (namespace: string, name: string, uid = UID): Service => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace, name, uid: `uid-lookalike-${namespace}-${name}`, labels: { [LABEL_REQUEST_ID]: uid, 'app.kubernetes.io/managed-by': 'netwatch', 'netwatch.vtk.io/role': 'target' } },
  });
  const revoke = (o: Observed): Observed => ({ ...o, request: { ...o.request, status: { ...o.request.status, decision: { type: 'Revoked' as const, by: 'bob' } } } });

  it('a Service marked with this request in another namespace, or under another name, is neither adopted nor torn down', () => {
    const after = materialize(observed(request(svcSpec, bothApproved)));
    const lookalikes = [marked('elsewhere', objectName(UID, 'targetClone')), marked('db', 'nwt-lookalike')];
    const withThem = { ...after, services: [...after.services, ...lookalikes] };
    const active = plan(withThem, NOW);
    assert.equal(active.status, undefined);
    assert.deepEqual(active.deletes, []);
    const p = plan(revoke(withThem), NOW);
    assert.equal(p.status?.phase, 'Revoked');
    assert.deepEqual(p.deletes.map((d) => `${d.namespace}/${d.name}`).sort(), [...after.services, ...after.maxtac].map((o) => `${o.metadata.namespace}/${o.metadata.name}`).sort());
  });

  it('an object marked for another request at our deterministic name is a NameConflict, left alone', () => {
    const o = observed(request(svcSpec, bothApproved));
    o.services = [marked('db', objectName(UID, 'targetClone'), 'another-request')];
    const p = plan(o, NOW);
    assert.equal(p.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'NameConflict');
    assert.deepEqual(p.deletes, []);
  });

  it('an object whose uid the status records is this request\'s even without its markers: kept while Active, torn down after', () => {
    const after = materialize(observed(request(svcSpec, bothApproved)));
    const unmarked = structuredClone(after);
    for (const s of unmarked.services) delete s.metadata.labels;
    assert.equal(plan(unmarked, NOW).status, undefined);
    assert.equal(plan(revoke(unmarked), NOW).deletes.length, 4);
  });
});

describe('plan: isolation', () => {
  const approved = request(svcSpec, bothApproved);
  const config = (isolation: PlanConfig['isolation']): PlanConfig => ({ ...DEFAULT_PLAN_CONFIG, isolation });

  it('skips every half when no policy isolates those pods yet (default), says so per part, and is Ready as AlreadyAllowed', () => {
    const p = plan(observed(approved, { networkPolicies: [] }), NOW);
    assert.equal(p.status?.phase, 'Active');
    assert.deepEqual(p.creates, []);
    assert.deepEqual(p.status?.parts?.map((x) => x.state), ['Skipped', 'Skipped']);
    assert.match(p.status?.parts?.[0]?.message ?? '', /skipped egress of monitoring\/prometheus/);
    assert.equal(p.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'AlreadyAllowed');
  });

  it('skips only the half whose pods are not isolated; the other half still gets its Access and both clones', () => {
    const p = plan(observed(approved, { networkPolicies: [denyAll('db', ['Ingress'])] }), NOW);
    assert.deepEqual(p.creates.map((c) => `${c.object.kind}/${c.object.metadata.namespace}`), ['Access/db', 'Service/monitoring', 'Service/db']);
    assert.equal(p.creates[1]?.ownerMaxtac, undefined);
    assert.deepEqual(p.status?.parts?.map((x) => x.state), ['Skipped', 'Approved']);
  });

  it('refuses the whole request under the refuse policy', () => {
    const p = plan(observed(approved, { networkPolicies: [denyAll('db', ['Ingress'])] }), NOW, config('refuse'));
    assert.equal(p.status?.phase, 'Failed');
    assert.equal(p.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'WouldIsolate');
    assert.deepEqual(p.creates, []);
  });

  it('materializes everything under the allow policy', () => {
    assert.equal(plan(observed(approved, { networkPolicies: [] }), NOW, config('allow')).creates.length, 4);
  });

  it('narrows an External both request to the direction already isolated', () => {
    const ext = request(extSpec('both'), { approvals: [{ part: 'target', namespace: 'shop', at: APPROVED }] });
    const p = plan(observed(ext, { networkPolicies: [denyAll('shop', ['Ingress'])] }), NOW);
    assert.equal((p.creates[0]?.object as MaxtacObject).spec.direction, 'ingress');
    assert.match(p.status?.parts?.[0]?.message ?? '', /skipped egress/);
  });

  it('a policy that selects other pods does not count as isolating', () => {
    const np: NetworkPolicy = { metadata: { namespace: 'db', name: 'np' }, spec: { podSelector: { matchLabels: { app: 'other' } }, policyTypes: ['Ingress'] } };
    const p = plan(observed(approved, { networkPolicies: [np] }), NOW);
    assert.deepEqual(p.creates, []);
  });

  // Without the pods, a policy counts only when its selector provably covers every pod the Service selects
  // ({app: database}); the target half is then granted, otherwise skipped.
  const selectors: [string, LabelSelector, boolean][] = [
    ['an empty selector covers every pod', {}, true],
    ['matching matchLabels cover the pods', { matchLabels: { app: 'database' } }, true],
    ['a label the Service selector does not pin is not proven', { matchLabels: { tier: 'x' } }, false],
    ['In with the pinned value covers', { matchExpressions: [{ key: 'app', operator: 'In', values: ['database', 'x'] }] }, true],
    ['NotIn with another value covers', { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['x'] }] }, true],
    ['Exists on a pinned key covers', { matchExpressions: [{ key: 'app', operator: 'Exists' }] }, true],
    ['DoesNotExist is never proven without the pods', { matchExpressions: [{ key: 'zzz', operator: 'DoesNotExist' }] }, false],
  ];
  const targetGranted = (networkPolicies: NetworkPolicy[], pods?: Pod[]) => {
    const p = plan(observed(approved, { networkPolicies: [denyAll('monitoring'), ...networkPolicies], ...(pods ? { pods } : {}) }), NOW);
    return p.status?.parts?.find((x) => x.part === 'target');
  };
  const ingressPolicy = (podSelector: LabelSelector): NetworkPolicy => ({ metadata: { namespace: 'db', name: 'np' }, spec: { podSelector, policyTypes: ['Ingress'] } });
  for (const [name, sel, expected] of selectors) it(name, () => assert.equal(targetGranted([ingressPolicy(sel)])?.state !== 'Skipped', expected));

  // With the pods (the two misreadings): each pod is judged by the labels it has.
  const pod = (name: string, labels: Record<string, string>): Pod => ({ metadata: { namespace: 'db', name, labels }, status: { phase: 'Running', podIP: '10.0.0.9' } });
  const quarantine = ingressPolicy({ matchExpressions: [{ key: 'quarantine', operator: 'DoesNotExist' }] });

  it('with the pods, a DoesNotExist policy that isolates every pod of the Service counts: the target is granted', () => {
    assert.equal(targetGranted([quarantine], [pod('database-0', { app: 'database' }), pod('database-1', { app: 'database' })])?.state, 'Approved');
  });

  it('with the pods, a policy covering only some of them skips the half and names the pods it would newly isolate', () => {
    const part = targetGranted([quarantine], [pod('database-0', { app: 'database' }), pod('database-1', { app: 'database', quarantine: 'true' })]);
    assert.equal(part?.state, 'Skipped');
    assert.equal(part?.message, 'skipped ingress of db/database: no NetworkPolicy isolates 1 of 2 pods of db/database (database-1, in ingress) yet, and a policy would cut their other traffic');
  });

  it('under refuse, the message names the pods too', () => {
    const o = observed(approved, { networkPolicies: [denyAll('monitoring'), quarantine], pods: [pod('database-0', { app: 'database' }), pod('database-1', { app: 'database', quarantine: 'true' })] });
    const ready = plan(o, NOW, config('refuse')).status?.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.reason, 'WouldIsolate');
    assert.match(ready?.message ?? '', /no NetworkPolicy isolates 1 of 2 pods of db\/database \(database-1, in ingress\) yet/);
  });

  it('pods that have ended and pods of other Services do not count', () => {
    const ended: Pod = { ...pod('database-old', { app: 'database', quarantine: 'true' }), status: { phase: 'Succeeded' } };
    assert.equal(targetGranted([quarantine], [pod('database-0', { app: 'database' }), ended, pod('web-0', { app: 'web', quarantine: 'true' })])?.state, 'Approved');
  });
});

describe('plan: isolation is judged again while Active (drift)', () => {
  const config = (isolation: PlanConfig['isolation']): PlanConfig => ({ ...DEFAULT_PLAN_CONFIG, isolation });
  const dbPod = (name: string, labels: Record<string, string> = { app: 'database' }): Pod => ({ metadata: { namespace: 'db', name, labels }, status: { phase: 'Running', podIP: '10.0.0.9' } });
  const promPod: Pod = { metadata: { namespace: 'monitoring', name: 'prometheus-0', labels: { app: 'prometheus' } }, status: { phase: 'Running', podIP: '10.0.0.8' } };
  const pods = [dbPod('database-0'), promPod];
  /** What maxtac writes for one of our objects: owner label and reference, selecting the clone's pods in its direction. */
  const grantPolicy = (m: MaxtacObject): NetworkPolicy => ({
    metadata: { namespace: m.metadata.namespace ?? '', name: `${m.metadata.name}-np`, labels: { 'maxtac.vtk.io.access/owner': m.metadata.name ?? '' }, ownerReferences: [{ apiVersion: m.apiVersion, kind: m.kind, name: m.metadata.name ?? '', uid: m.metadata.uid ?? '' }] },
    spec: { podSelector: {}, policyTypes: m.spec.direction === 'all' ? ['Ingress', 'Egress'] : m.spec.direction === 'ingress' ? ['Ingress'] : ['Egress'] },
  });
  /** One pass applied as the controller and maxtac would: creates get uids (and their policies), deletes go, status is written. */
  const pass = (o: Observed, cfg: PlanConfig): { p: ReturnType<typeof plan>; next: Observed } => {
    const p = plan(o, NOW, cfg);
    const gone = new Set(p.deletes.map((d) => `${d.kind}/${d.namespace}/${d.name}`));
    const keep = <T extends Service | MaxtacObject>(x: T) => !gone.has(`${x.kind}/${x.metadata.namespace}/${x.metadata.name}`);
    const maxtac = o.maxtac.filter(keep);
    const services = o.services.filter(keep);
    const removedUids = new Set(o.maxtac.filter((m) => !keep(m)).map((m) => m.metadata.uid));
    const networkPolicies = o.networkPolicies.filter((np) => !(np.metadata.ownerReferences ?? []).some((r) => removedUids.has(r.uid)));
    for (const c of p.creates) {
      const obj = structuredClone(c.object);
      obj.metadata.uid = `uid-${obj.metadata.name}-${o.maxtac.length + o.services.length}`;
      if (obj.kind === 'Service') services.push(obj);
      else {
        maxtac.push(obj as MaxtacObject);
        networkPolicies.push(grantPolicy(obj as MaxtacObject));
      }
    }
    const status = structuredClone(p.status ?? o.request.status ?? {});
    for (const ref of status.objects ?? []) ref.uid ??= [...maxtac, ...services].find((x) => x.metadata.name === ref.name)?.metadata.uid;
    return { p, next: { ...o, request: { ...o.request, status }, maxtac, services, networkPolicies } };
  };
  const cond = (p: ReturnType<typeof plan>, type: string) => p.status?.conditions?.find((c) => c.type === type);
  const active = (isolation: PlanConfig['isolation'], networkPolicies = [denyAll('monitoring'), denyAll('db')], withPods = pods) => {
    const first = pass(observed(request(svcSpec, bothApproved), { networkPolicies, pods: withPods }), config(isolation));
    assert.equal(first.p.status?.phase, 'Active');
    // The second pass sees maxtac's policies: the request is in force, nothing isolated anew.
    const second = pass(first.next, config(isolation));
    assert.equal(cond(second.p, 'Ready')?.reason, 'InForce');
    return second.next;
  };
  const withoutDenyIn = (o: Observed, ns: string) => ({ ...o, networkPolicies: o.networkPolicies.filter((np) => !(np.metadata.namespace === ns && np.metadata.name === 'default-deny')) });
  const targetMaxtac = objectName(UID, 'targetMaxtac');

  it('a grant over pods other policies isolate says it isolates nothing, with no Event about it', () => {
    const first = plan(observed(request(svcSpec, bothApproved), { pods }), NOW);
    assert.deepEqual({ ...cond(first, 'Isolating'), lastTransitionTime: undefined, observedGeneration: undefined }, {
      type: 'Isolating', status: 'False', reason: 'NoNewIsolation', lastTransitionTime: undefined, observedGeneration: undefined,
      message: 'The grant isolates no pod on its own: other NetworkPolicies isolated every pod it selects already, in each direction it holds.',
    });
    assert.deepEqual(first.events.map((e) => e.reason), ['Activated']);
  });

  it('skip: the owner deletes their default-deny, the target half is withdrawn (object and clone deleted, never edited) and the status and a Warning say so', () => {
    const { p } = pass(withoutDenyIn(active('skip'), 'db'), config('skip'));
    assert.equal(p.status?.phase, 'Active');
    assert.deepEqual(p.deletes.map((d) => `${d.kind}/${d.name}`), [`Service/${objectName(UID, 'targetClone')}`, `Access/${targetMaxtac}`]);
    assert.deepEqual(p.creates, []);
    const isolating = cond(p, 'Isolating');
    assert.equal(isolating?.reason, 'DirectionWithdrawn');
    assert.equal(isolating?.status, 'False');
    assert.match(isolating?.message ?? '', new RegExp(`withdrew ingress of db/database, since NetworkPolicy db/${targetMaxtac}-np had become the only NetworkPolicy isolating 1 of 1 pods of db/database \\(database-0, in ingress\\)`));
    assert.match(isolating?.message ?? '', new RegExp(`Access db/${targetMaxtac} is deleted\\.`));
    assert.deepEqual(p.events.map((e) => `${e.type} ${e.reason}`), ['Warning DirectionWithdrawn']);
    assert.equal(p.events[0]?.message, isolating?.message);
    assert.deepEqual(p.status?.parts?.map((x) => x.state), ['Active', 'Skipped']);
    assert.deepEqual(p.status?.objects?.map((o) => o.name), [objectName(UID, 'sourceMaxtac'), objectName(UID, 'sourceClone')]);
  });

  it('skip: once withdrawn, the next passes remake the peer clone, keep saying so, and grant the direction again when a policy isolates the pods again', () => {
    const withdrawn = pass(withoutDenyIn(active('skip'), 'db'), config('skip')).next;
    const { p, next } = pass(withdrawn, config('skip'));
    // The source half's Access targets the target clone: it comes back, owned by nothing.
    assert.deepEqual(p.creates.map((c) => `${c.object.kind}/${c.object.metadata.name}`), [`Service/${objectName(UID, 'targetClone')}`]);
    assert.equal(cond(p, 'Isolating')?.reason, 'DirectionWithdrawn');
    assert.deepEqual(p.events, []);
    assert.match(cond(p, 'Ready')?.message ?? '', /except the directions skipped .*: ingress of db\/database\.$/);
    assert.equal(pass(next, config('skip')).p.status, undefined, 'settled');
    const restored = pass({ ...next, networkPolicies: [...next.networkPolicies, denyAll('db')] }, config('skip'));
    assert.deepEqual(restored.p.creates.map((c) => `${c.object.kind}/${c.object.metadata.name}`), [`Access/${targetMaxtac}`]);
    assert.equal(cond(restored.p, 'Isolating')?.reason, 'NoNewIsolation');
    assert.deepEqual(restored.p.events.map((e) => `${e.type} ${e.reason}`), ['Normal NoNewIsolation']);
  });

  it('skip: an External both grant whose egress drifts is made again for ingress only', () => {
    const ext = request(extSpec('both'), { approvals: [{ part: 'target', namespace: 'shop', at: APPROVED }] });
    const shopPods = [{ metadata: { namespace: 'shop', name: 'frontend-0', labels: { app: 'frontend' } }, status: { phase: 'Running' } } as Pod];
    const first = pass(observed(ext, { networkPolicies: [denyAll('shop')], pods: shopPods }), config('skip'));
    assert.equal((first.p.creates[0]?.object as MaxtacObject).spec.direction, 'all');
    const ingressOnly = { ...first.next, networkPolicies: first.next.networkPolicies.map((np) => (np.metadata.name === 'default-deny' ? denyAll('shop', ['Ingress']) : np)) };
    const withdraw = pass(ingressOnly, config('skip'));
    assert.deepEqual(withdraw.p.deletes.map((d) => d.kind), ['Service', 'ExternalAccess']);
    assert.match(cond(withdraw.p, 'Isolating')?.message ?? '', /withdrew egress of shop\/frontend.*ExternalAccess shop\/\S+ is deleted and made again for ingress only\./);
    const remade = pass(withdraw.next, config('skip'));
    assert.deepEqual(remade.p.creates.map((c) => (c.object.kind === 'Service' ? 'Service' : (c.object as MaxtacObject).spec.direction)), ['ingress', 'Service']);
    assert.match(remade.p.status?.parts?.[0]?.message ?? '', /^skipped egress of shop\/frontend: no NetworkPolicy isolates 1 of 1 pods of shop\/frontend \(frontend-0, in egress\) yet/);
    const inForce = pass(remade.next, config('skip'));
    assert.equal(cond(inForce.p, 'Ready')?.reason, 'InForce');
    assert.equal(pass(inForce.next, config('skip')).p.status, undefined, 'settled');
    // The owner isolates egress again: the narrowed object is deleted and made again for both directions.
    const restored = { ...inForce.next, networkPolicies: [...inForce.next.networkPolicies, denyAll('shop', ['Egress'])] };
    const widen = pass(restored, config('skip'));
    assert.deepEqual(widen.p.deletes.map((d) => d.kind), ['Service', 'ExternalAccess']);
    assert.equal(cond(widen.p, 'Isolating')?.reason, 'DirectionWithdrawn');
    const widened = pass(widen.next, config('skip'));
    assert.deepEqual(widened.p.creates.map((c) => (c.object.kind === 'Service' ? 'Service' : (c.object as MaxtacObject).spec.direction)), ['all', 'Service']);
    assert.equal(cond(widened.p, 'Isolating')?.reason, 'NoNewIsolation');
    assert.equal(widened.p.status?.parts?.[0]?.message, undefined);
  });

  it('refuse: the drift is reported (condition naming the policy, pods and direction, one Warning) and the grant is kept', () => {
    const { p, next } = pass(withoutDenyIn(active('refuse'), 'db'), config('refuse'));
    assert.equal(p.status?.phase, 'Active');
    assert.deepEqual(p.deletes, []);
    const isolating = cond(p, 'Isolating');
    assert.equal(isolating?.status, 'True');
    assert.equal(isolating?.reason, 'IsolationDrift');
    assert.match(isolating?.message ?? '', new RegExp(`the grant alone now isolates 1 of 1 pods of db/database \\(database-0, in ingress\\), isolated only by NetworkPolicy db/${targetMaxtac}-np`));
    assert.match(isolating?.message ?? '', /Under --isolation refuse an Active grant is kept/);
    assert.deepEqual(p.events.map((e) => `${e.type} ${e.reason}`), ['Warning IsolationDrift']);
    assert.match(p.status?.parts?.[1]?.message ?? '', /^isolates 1 of 1 pods of db\/database \(database-0, in ingress\)/);
    assert.equal(cond(p, 'Ready')?.reason, 'InForce');
    assert.equal(pass(next, config('refuse')).p.status, undefined, 'reported once');
  });

  it('allow: the status and a Warning state what the grant newly isolates, from activation on, and the statement does not change once maxtac wrote its policies', () => {
    const first = pass(observed(request(svcSpec, bothApproved), { networkPolicies: [], pods }), config('allow'));
    const isolating = cond(first.p, 'Isolating');
    assert.equal(isolating?.reason, 'IsolatesPods');
    assert.equal(
      isolating?.message,
      `Under --isolation allow the grant alone isolates 1 of 1 pods of monitoring/prometheus (prometheus-0, in egress), isolated only by the NetworkPolicy maxtac writes for Access monitoring/${objectName(UID, 'sourceMaxtac')}; ` +
        `1 of 1 pods of db/database (database-0, in ingress), isolated only by the NetworkPolicy maxtac writes for Access db/${targetMaxtac}: their other traffic in that direction is cut while the grant lasts.`,
    );
    assert.deepEqual(first.p.events.map((e) => `${e.type} ${e.reason}`), ['Normal Activated', 'Warning IsolatesPods']);
    assert.match(first.p.status?.parts?.[0]?.message ?? '', /^isolates 1 of 1 pods of monitoring\/prometheus \(prometheus-0, in egress\)/);
    const second = pass(first.next, config('allow'));
    assert.equal(cond(second.p, 'Isolating')?.message, isolating?.message);
    assert.deepEqual(second.p.events.map((e) => e.reason), ['InForce']);
    // A second pod of the Service is isolated too: the statement changes, and says so again.
    const scaled = pass({ ...second.next, pods: [...pods, dbPod('database-1')] }, config('allow'));
    assert.match(cond(scaled.p, 'Isolating')?.message ?? '', /2 of 2 pods of db\/database \(database-0, database-1, in ingress\)/);
    assert.deepEqual(scaled.p.events.map((e) => `${e.type} ${e.reason}`), ['Warning IsolatesPods']);
  });

  it('pods decide: a new pod that the owner policy leaves out is drift; a Service with no pod left isolates nothing', () => {
    const labelled: NetworkPolicy = { metadata: { namespace: 'db', name: 'default-deny' }, spec: { podSelector: { matchLabels: { team: 'db' } }, policyTypes: ['Ingress', 'Egress'] } };
    const start = active('refuse', [denyAll('monitoring'), labelled], [dbPod('database-0', { app: 'database', team: 'db' }), promPod]);
    assert.equal(pass(start, config('refuse')).p.status, undefined, 'every pod isolated by the owner policy');
    const rogue = pass({ ...start, pods: [...(start.pods ?? []), dbPod('database-9')] }, config('refuse'));
    assert.match(cond(rogue.p, 'Isolating')?.message ?? '', /1 of 2 pods of db\/database \(database-9, in ingress\)/);
    assert.equal(pass({ ...start, pods: [promPod] }, config('refuse')).p.status, undefined, 'no pod: nothing isolated now');
  });

  it('Ready names the directions skipped once the rest is in force', () => {
    const first = pass(observed(request(svcSpec, bothApproved), { networkPolicies: [denyAll('db', ['Ingress'])], pods }), config('skip'));
    const ready = cond(pass(first.next, config('skip')).p, 'Ready');
    assert.equal(ready?.reason, 'InForce');
    assert.equal(
      ready?.message,
      "maxtac wrote the NetworkPolicy of every part, except the directions skipped because a grant there would be the first NetworkPolicy to isolate some of the pods (each part's message names them): egress of monitoring/prometheus.",
    );
  });
});

describe('plan: approvals, pending, retention', () => {
  it('a request nobody approved is Pending, gets the finalizer and creates nothing', () => {
    const req = request(svcSpec, {}, { finalizers: [] });
    const p = plan(observed(req), NOW);
    assert.equal(p.status?.phase, 'Pending');
    assert.equal(p.addFinalizer, true);
    assert.deepEqual(p.creates, []);
  });

  it("the requester's approvedParts are mirrored into status.approvals, by the requester, at creation", () => {
    const req = request({ ...svcSpec, requester: { username: 'alice', approvedParts: ['source'] } });
    const p = plan(observed(req), NOW);
    assert.equal(p.status?.phase, 'PartiallyApproved');
    assert.deepEqual(p.status?.approvals, [{ part: 'source', namespace: 'monitoring', by: 'alice', at: CREATED }]);
  });

  it('a requester who could approve every part gets an Active access from creation', () => {
    const req = request({ ...svcSpec, requester: { username: 'alice', approvedParts: ['source', 'target'] } });
    const p = plan(observed(req), NOW);
    assert.equal(p.status?.phase, 'Active');
    assert.equal(p.status?.approvedAt, new Date(CREATED).toISOString());
  });

  it('an approval for the wrong namespace does not count', () => {
    const p = plan(observed(request(svcSpec, { approvals: [{ part: 'target', namespace: 'monitoring' }] })), NOW);
    assert.equal(p.status?.phase, 'Pending');
  });

  it('a pending request past the pending TTL expires', () => {
    const p = plan(observed(request(svcSpec)), NOW, { ...DEFAULT_PLAN_CONFIG, pendingTtlSeconds: 60 });
    assert.equal(p.status?.phase, 'Expired');
    assert.equal(p.status?.conditions?.find((c) => c.type === 'Ended')?.reason, 'PendingTimeout');
  });

  it('an active request is requeued at expiresAt', () => {
    const p = plan(observed(request(svcSpec, bothApproved)), NOW);
    assert.equal(p.requeueAfterMs, Date.parse(APPROVED) + 7200_000 - NOW.getTime());
  });

  it('a terminal request past retention is deleted', () => {
    const ended = { type: 'Ended', status: 'True' as const, reason: 'Expired', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' };
    const p = plan(observed(request(svcSpec, { phase: 'Expired', conditions: [ended] })), NOW, { ...DEFAULT_PLAN_CONFIG, retentionSeconds: 3600 });
    assert.equal(p.deleteRequest, true);
  });

  it('a terminal request within retention is requeued for it', () => {
    const ended = { type: 'Ended', status: 'True' as const, reason: 'Expired', message: '', lastTransitionTime: '2026-03-01T11:30:00Z' };
    const p = plan(observed(request(svcSpec, { phase: 'Expired', conditions: [ended] })), NOW, { ...DEFAULT_PLAN_CONFIG, retentionSeconds: 3600 });
    assert.equal(p.deleteRequest, false);
    assert.equal(p.requeueAfterMs, 30 * 60_000);
  });

  it('a terminal phase is sticky even if approvals arrive later', () => {
    const p = plan(observed(request(svcSpec, { ...bothApproved, phase: 'Denied', decision: { type: 'Denied' } })), NOW);
    assert.equal(p.status?.phase, 'Denied');
    assert.deepEqual(p.creates, []);
  });
});

describe('plan: closing waits for the NetworkPolicies of its maxtac objects', () => {
  const EXPIRES = Date.parse(APPROVED) + 7200_000;
  const after = materialize(observed(request(svcSpec, bothApproved)));
  const grantPolicies = after.maxtac.map(policyOf);
  const names = grantPolicies.map((np) => `${np.metadata.namespace}/${np.metadata.name}`);
  const withStatus = (o: Observed, status: AccessRequestStatus | undefined, meta: Partial<AccessRequest['metadata']> = {}): Observed => ({
    ...o,
    request: { ...o.request, metadata: { ...o.request.metadata, ...meta }, status: status ?? o.request.status ?? {} },
  });
  const decided = (o: Observed, type: 'Revoked' | 'Denied') => withStatus(o, { ...o.request.status, decision: { type, by: 'bob', at: NOW.toISOString() } });
  /** After teardown: clones and maxtac objects gone (maxtac at expiry, or our deletes), the policies `left` still there. */
  const tornDown = (o: Observed, left: NetworkPolicy[]): Observed => ({ ...o, maxtac: [], services: [], networkPolicies: [...after.networkPolicies, ...left] });
  const cond = (p: ReturnType<typeof plan>, type: string) => p.status?.conditions?.find((c) => c.type === type);
  const at = (ms: number) => new Date(ms);

  it('expiry while the policies are still there tears down but keeps the phase, Ready says Expired, Ended False names each policy', () => {
    const p = plan({ ...after, networkPolicies: [...after.networkPolicies, ...grantPolicies] }, at(EXPIRES));
    assert.equal(p.deletes.length, 4);
    assert.equal(p.status?.phase, 'Active');
    assert.deepEqual([cond(p, 'Ready')?.status, cond(p, 'Ready')?.reason], ['False', 'Expired']);
    const ended = cond(p, 'Ended');
    assert.deepEqual([ended?.status, ended?.reason, ended?.lastTransitionTime], ['False', 'PoliciesRemain', at(EXPIRES).toISOString()]);
    for (const n of names) assert.ok(ended?.message.includes(`NetworkPolicy ${n}`), ended?.message);
    assert.match(ended?.message ?? '', new RegExp(`since ${at(EXPIRES).toISOString()}; the request becomes Expired once no NetworkPolicy`));
    assert.deepEqual(p.events, [], 'no transition yet: the Expired event comes once it is closed');
    assert.deepEqual(p.removeFinalizers, []);
    assert.equal(p.deleteRequest, false);
  });

  it('lingering after expiry (maxtac deleted its objects, nothing removed their policies): still not Expired, and nothing more to delete', () => {
    const first = plan(tornDown(after, grantPolicies), at(EXPIRES + 1000));
    assert.deepEqual(first.deletes, []);
    assert.equal(first.status?.phase, 'Active');
    assert.equal(cond(first, 'Ended')?.reason, 'PoliciesRemain');
    // The next pass, with what it recorded, changes nothing: no status churn while the policies stay.
    const again = plan(withStatus(tornDown(after, grantPolicies), first.status), at(EXPIRES + 30_000));
    assert.equal(again.status, undefined);
    assert.deepEqual(again.events, []);
  });

  it('lingering after a revoke', () => {
    const p = plan(tornDown(decided(after, 'Revoked'), grantPolicies.slice(1)), NOW);
    assert.equal(p.status?.phase, 'Active');
    assert.deepEqual([cond(p, 'Ready')?.reason, cond(p, 'Ended')?.reason], ['Revoked', 'PoliciesRemain']);
    assert.ok(cond(p, 'Ended')?.message.includes(names[1] ?? '-'));
    assert.ok(!cond(p, 'Ended')?.message.includes(names[0] ?? '-'), 'only the policy that is left');
  });

  it('lingering after a deny of an active request', () => {
    const active = withStatus(after, { ...after.request.status, phase: 'Active' });
    const p = plan(tornDown(decided(active, 'Denied'), grantPolicies), NOW);
    assert.equal(p.status?.phase, 'Active');
    assert.deepEqual([cond(p, 'Ready')?.reason, cond(p, 'Ended')?.reason], ['Denied', 'PoliciesRemain']);
    assert.match(cond(p, 'Ended')?.message ?? '', /the request becomes Denied once/);
  });

  it('policies gone: the request closes, with its event, and retention counts from then', () => {
    const closing = plan(tornDown(decided(after, 'Revoked'), grantPolicies), NOW);
    const later = at(NOW.getTime() + 5_000);
    const p = plan(withStatus(tornDown(decided(after, 'Revoked'), []), closing.status), later, { ...DEFAULT_PLAN_CONFIG, retentionSeconds: 3600 });
    assert.equal(p.status?.phase, 'Revoked');
    const ended = cond(p, 'Ended');
    assert.deepEqual([ended?.status, ended?.reason, ended?.lastTransitionTime], ['True', 'Revoked', later.toISOString()]);
    assert.deepEqual(p.events.map((e) => `${e.type}/${e.reason}`), ['Normal/Revoked']);
    assert.equal(p.requeueAfterMs, 3600_000);
  });

  it('a failure stays the reason it ends for while it closes, whatever the checks would say later', () => {
    // An Access deleted by hand long before expiry: ObjectDeleted, and its policy is left behind.
    const p = plan({ ...after, maxtac: after.maxtac.slice(1), networkPolicies: [...after.networkPolicies, ...grantPolicies] }, NOW);
    assert.equal(p.status?.phase, 'Active');
    assert.equal(cond(p, 'Ready')?.reason, 'ObjectDeleted');
    assert.equal(p.becameFailed, true, 'the controller confirms with the API server before acting on a failure');
    const message = cond(p, 'Ready')?.message;
    // Later the original Service is gone too, and every object with it: the request still ends as ObjectDeleted.
    const gone = withStatus(tornDown(after, grantPolicies), p.status);
    gone.originals.set('db/database', null);
    const still = plan(gone, at(NOW.getTime() + 1000));
    assert.equal(still.status, undefined);
    assert.equal(still.becameFailed, false);
    assert.deepEqual(still.creates, []);
    const closed = plan({ ...gone, networkPolicies: after.networkPolicies }, at(NOW.getTime() + 2000));
    assert.equal(closed.status?.phase, 'Failed');
    assert.deepEqual([cond(closed, 'Ended')?.reason, cond(closed, 'Ended')?.message], ['ObjectDeleted', message]);
  });

  it('after --linger-warning: reason PoliciesLinger, one Warning Event naming the policy, its gone owner and the fix', () => {
    const first = plan(tornDown(after, grantPolicies.slice(0, 1)), at(EXPIRES));
    const o = withStatus(tornDown(after, grantPolicies.slice(0, 1)), first.status);
    assert.equal(plan(o, at(EXPIRES + 119_000)).events.length, 0);
    const p = plan(o, at(EXPIRES + 120_000));
    const ended = cond(p, 'Ended');
    assert.deepEqual([ended?.status, ended?.reason, ended?.lastTransitionTime], ['False', 'PoliciesLinger', at(EXPIRES).toISOString()]);
    assert.deepEqual(p.events.map((e) => `${e.type}/${e.reason}`), ['Warning/PoliciesLinger']);
    const access = after.maxtac[0]!;
    const policy = grantPolicies[0]!;
    assert.ok(
      p.events[0]?.message.includes(`NetworkPolicy ${names[0]} (owner Access ${access.metadata.namespace}/${access.metadata.name}, gone) still exists since ${at(EXPIRES).toISOString()}`),
      p.events[0]?.message,
    );
    assert.ok(p.events[0]?.message.includes(`kubectl delete networkpolicy -n ${policy.metadata.namespace} ${policy.metadata.name}`), p.events[0]?.message);
    assert.equal(p.status?.phase, 'Active');
    // Two of them: the form of the command (maxtac's names are long; an Event keeps 1024 characters).
    const both = withStatus(tornDown(after, grantPolicies), first.status);
    const two = plan(both, at(EXPIRES + 120_000)).events[0]?.message ?? '';
    for (const n of names) assert.ok(two.includes(`NetworkPolicy ${n} (owner Access`), two);
    assert.match(two, /\(kubectl delete networkpolicy -n NAMESPACE NAME, for each\)\.$/);
    // Warned once: the next pass neither warns again nor wakes up for it.
    const next = plan(withStatus(o, p.status), at(EXPIRES + 600_000));
    assert.deepEqual(next.events, []);
    assert.equal(next.requeueAfterMs, undefined);
  });

  it('an owner still being deleted is named as such in the warning', () => {
    const deleting = after.maxtac.map((m) => ({ ...m, metadata: { ...m.metadata, deletionTimestamp: NOW.toISOString() } }));
    const first = plan({ ...decided(after, 'Revoked'), maxtac: deleting, services: [], networkPolicies: [...after.networkPolicies, ...grantPolicies] }, NOW);
    const o = { ...decided(after, 'Revoked'), request: { ...after.request, status: first.status ?? {} }, maxtac: deleting, services: [], networkPolicies: [...after.networkPolicies, ...grantPolicies] };
    const p = plan(o, at(NOW.getTime() + 121_000));
    assert.match(p.events[0]?.message ?? '', /, still being deleted\)/);
    assert.match(p.events[0]?.message ?? '', /check that maxtac runs/);
    assert.doesNotMatch(p.events[0]?.message ?? '', /kubectl delete networkpolicy/);
  });

  it('is requeued when the linger warning is due; never, when the warning is off', () => {
    const first = plan(tornDown(after, grantPolicies), at(EXPIRES));
    assert.equal(first.requeueAfterMs, 120_000);
    const o = withStatus(tornDown(after, grantPolicies), first.status);
    assert.equal(plan(o, at(EXPIRES + 30_000)).requeueAfterMs, 90_000);
    const off = { ...DEFAULT_PLAN_CONFIG, lingerWarningSeconds: null };
    assert.equal(plan(tornDown(after, grantPolicies), at(EXPIRES), off).requeueAfterMs, undefined);
    assert.deepEqual(plan(o, at(EXPIRES + 3600_000), off).events, []);
  });

  it('counts a policy by its owner uid, its owner name, or maxtac owner label; not a policy of another Access', () => {
    const [source] = after.maxtac;
    const ns = source?.metadata.namespace ?? '';
    const byUidOnly: NetworkPolicy = { metadata: { namespace: ns, name: 'by-uid', ownerReferences: [{ apiVersion: 'maxtac.vtk.io/v1alpha1', kind: 'Access', name: 'renamed', uid: source?.metadata.uid ?? '' }] } };
    const byName: NetworkPolicy = { metadata: { namespace: ns, name: 'by-name', ownerReferences: [{ apiVersion: 'maxtac.vtk.io/v1alpha1', kind: 'Access', name: source?.metadata.name ?? '', uid: 'an-earlier-incarnation' }] } };
    const byLabel: NetworkPolicy = { metadata: { namespace: ns, name: 'by-label', labels: { 'maxtac.vtk.io.access/owner': source?.metadata.name ?? '' } } };
    const theirs: NetworkPolicy = { metadata: { namespace: ns, name: 'theirs', labels: { 'maxtac.vtk.io.access/owner': 'theirs' }, ownerReferences: [{ apiVersion: 'maxtac.vtk.io/v1alpha1', kind: 'Access', name: 'theirs', uid: 'their-uid' }] } };
    const elsewhere: NetworkPolicy = { metadata: { ...byLabel.metadata, namespace: 'other', name: 'elsewhere' } };
    const o = tornDown(decided(after, 'Revoked'), [byUidOnly, byName, byLabel, theirs, elsewhere]);
    const message = cond(plan(o, NOW), 'Ended')?.message ?? '';
    for (const n of ['by-uid', 'by-name', 'by-label']) assert.ok(message.includes(`${ns}/${n}`), `${n}: ${message}`);
    for (const n of ['theirs', 'elsewhere']) assert.ok(!message.includes(`/${n}`), `${n}: ${message}`);
    assert.equal(plan(tornDown(decided(after, 'Revoked'), [theirs, elsewhere]), NOW).status?.phase, 'Revoked');
  });

  it('a deleted request keeps its finalizer while a policy remains, says why, and is released once it is gone', () => {
    const deleting = (left: NetworkPolicy[]) => withStatus(tornDown(after, left), after.request.status, { deletionTimestamp: NOW.toISOString() });
    const p = plan(deleting(grantPolicies), NOW);
    assert.deepEqual(p.removeFinalizers, []);
    assert.equal(cond(p, 'Ended')?.reason, 'PoliciesRemain');
    assert.match(cond(p, 'Ended')?.message ?? '', /^The request is being deleted\. Waiting for .*; its deletion completes once/);
    assert.deepEqual(plan(deleting([]), NOW).removeFinalizers, [REQUEST_FINALIZER]);
  });

  it('a request that ended before netwatch waited for its policies keeps its record past retention while one remains', () => {
    const ended = { type: 'Ended', status: 'True' as const, reason: 'Expired', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' };
    const old = withStatus(tornDown(after, grantPolicies), { ...after.request.status, phase: 'Expired', conditions: [ended] });
    const config = { ...DEFAULT_PLAN_CONFIG, retentionSeconds: 3600 };
    const p = plan(old, NOW, config);
    assert.equal(p.deleteRequest, false);
    assert.equal(p.status?.phase, 'Expired', 'a terminal phase stays terminal');
    assert.equal(plan({ ...old, networkPolicies: after.networkPolicies }, NOW, config).deleteRequest, true);
  });

  it('a request whose grant never had a policy (parts skipped, or not in force yet) closes at once, as before', () => {
    const p = plan(decided(after, 'Revoked'), NOW);
    assert.equal(p.status?.phase, 'Revoked');
    assert.equal(cond(p, 'Ended')?.status, 'True');
  });
});

describe('plan: AccessPolicies agree with the webhook on "part approved"', () => {
  const policy = [
    { part: 'source' as const, namespace: 'monitoring', rules: ['monitoring/egress/out'], approval: 'Auto' as const, approvalRule: 'monitoring/egress/out' },
    { part: 'target' as const, namespace: 'db', rules: ['db/db/two'], approval: 'Approvers' as const, approvals: 2, approvalRule: 'db/db/two' },
  ];
  const oneReview = { reviews: [{ part: 'target' as const, namespace: 'db', by: 'carol', at: APPROVED, rule: 'db/db/two', required: 2 }] };

  it('an auto-approved part counts, a part with one review of two does not, and the Event names both rules', () => {
    const p = plan(observed(request({ ...svcSpec, policy }, oneReview)), NOW);
    assert.equal(p.status?.phase, 'PartiallyApproved');
    assert.deepEqual(p.creates, []);
    assert.deepEqual(p.status?.approvals?.map((a) => [a.part, a.by]), [['source', 'AccessPolicy monitoring/egress/out']]);
    assert.match(p.events[0]?.message ?? '', /AccessPolicy: source \(monitoring\): approved automatically \(monitoring\/egress\/out\); target \(db\): 2 distinct approvers, the requester not counted \(db\/db\/two\), 1 of 2 so far\./);
  });

  it('the approval the webhook adds with the second review makes it Active', () => {
    const done = {
      reviews: [...oneReview.reviews, { part: 'target' as const, namespace: 'db', by: 'dave', at: APPROVED, rule: 'db/db/two', required: 2 }],
      approvals: [{ part: 'target' as const, namespace: 'db', by: 'dave', at: APPROVED }],
    };
    const p = plan(observed(request({ ...svcSpec, policy }, done)), NOW);
    assert.equal(p.status?.phase, 'Active');
    assert.deepEqual(p.events.map((e) => e.reason), ['Activated']);
  });
});

describe('plan: extending an Active grant, make-before-break', () => {
  const labelled = (m: MaxtacObject): NetworkPolicy => ({ ...policyOf(m), metadata: { ...policyOf(m).metadata, labels: { 'maxtac.vtk.io.access/owner': m.metadata.name ?? '' } } });
  /** An Active request in force at generation 0, then `extensions` (granted by the approvals given). */
  function activeThenExtended(extension: Partial<AccessRequestStatus>): Observed {
    const first = materialize(observed(request(svcSpec, bothApproved)));
    const inForce: Observed = { ...first, networkPolicies: [...first.networkPolicies, ...first.maxtac.map(labelled)] };
    const settled = plan(inForce, NOW);
    const status = { ...(settled.status ?? inForce.request.status ?? {}), ...extension };
    return { ...inForce, request: { ...inForce.request, status } };
  }
  const ext = { duration: '1h', requestedBy: 'alice', at: '2026-03-01T12:00:00Z' };
  const granted = { extensions: [ext], extensionApprovals: [{ extension: 0, part: 'source' as const, namespace: 'monitoring', by: 'bob' }, { extension: 0, part: 'target' as const, namespace: 'db', by: 'carol' }] };

  it('a waiting extension moves nothing, creates nothing, and says which parts it waits for', () => {
    const o = activeThenExtended({ extensions: [ext] });
    const p = plan(o, NOW);
    assert.deepEqual([p.creates.length, p.deletes.length], [0, 0]);
    assert.equal(p.status?.expiresAt, '2026-03-01T13:59:00.000Z');
    const c = p.status?.conditions?.find((x) => x.type === 'Extension');
    assert.equal(c?.reason, 'ExtensionPending');
    assert.match(c?.message ?? '', /^Extension 1 \(\+1h, requested by alice\) waits for the source and target parts/);
    assert.deepEqual(p.events.map((e) => e.reason), ['ExtensionRequested']);
  });

  it('a granted extension moves expiresAt and makes generation 1 with the remaining time, keeping generation 0', () => {
    const o = activeThenExtended(granted);
    const p = plan(o, NOW);
    assert.equal(p.status?.expiresAt, '2026-03-01T14:59:00.000Z');
    const names = p.creates.map((c) => `${c.object.kind}/${c.object.metadata.name}`).sort();
    assert.deepEqual(names, [`Access/${objectName(UID, 'sourceMaxtac', 1)}`, `Access/${objectName(UID, 'targetMaxtac', 1)}`, `Service/${objectName(UID, 'sourceClone', 1)}`, `Service/${objectName(UID, 'targetClone', 1)}`].sort());
    const access = p.creates.find((c) => c.object.metadata.name === objectName(UID, 'targetMaxtac', 1))?.object as MaxtacObject;
    assert.equal(access.spec.duration, `${(2 * 3600 + 59 * 60)}s`, 'remaining time to the new expiresAt');
    assert.deepEqual(access.spec.targets, [{ serviceName: objectName(UID, 'sourceClone', 1), namespace: 'monitoring' }]);
    assert.equal(access.spec.serviceSelector.matchLabels?.['netwatch.vtk.io/generation'], '1');
    assert.deepEqual(p.deletes, [], 'generation 0 stays until generation 1 is in force');
    assert.deepEqual(p.status?.objects?.map((r) => r.name).sort(), names.map((n) => n.split('/')[1]).sort());
    assert.deepEqual(p.events.map((e) => e.reason), ['Extended']);
    assert.match(p.events[0]?.message ?? '', /Extension 1 \(\+1h, requested by alice\) is granted \(source \(monitoring\): approved by bob; target \(db\): approved by carol\); expiresAt is now 2026-03-01T14:59:00.000Z/);
  });

  it('once generation 1 has its NetworkPolicies, generation 0 is deleted; until then a pass (after a crash too) deletes nothing', () => {
    const made = materialize(activeThenExtended(granted));
    const notYet = plan(made, NOW);
    assert.deepEqual([notYet.creates.length, notYet.deletes.length], [0, 0]);
    assert.equal(notYet.status?.phase ?? made.request.status?.phase, 'Active');
    const gen1 = made.maxtac.filter((m) => m.metadata.name?.endsWith('-1'));
    const inForce: Observed = { ...made, networkPolicies: [...made.networkPolicies, ...gen1.map(labelled)] };
    const p = plan(inForce, NOW);
    assert.deepEqual(p.creates, []);
    assert.deepEqual(p.deletes.map((d) => `${d.kind}/${d.name}`).sort(), [
      `Access/${objectName(UID, 'sourceMaxtac')}`, `Access/${objectName(UID, 'targetMaxtac')}`, `Service/${objectName(UID, 'sourceClone')}`, `Service/${objectName(UID, 'targetClone')}`,
    ].sort());
  });

  describe('Ready during the switch: the earlier generation holds the grant until the new one is in force', () => {
    const LATER = new Date(NOW.getTime() + 60_000);
    const gen = (g: number) => (m: MaxtacObject) => (g === 0 ? !/-[0-9]+$/.test(m.metadata.name ?? '') : (m.metadata.name ?? '').endsWith(`-${g}`));
    const withPolicies = (o: Observed, of: (m: MaxtacObject) => boolean): Observed => ({ ...o, networkPolicies: [...o.networkPolicies, ...o.maxtac.filter(of).map(labelled)] });
    /** Generation 1 made (from the pass that granted the extension), generation 0 still in force. */
    const switching = (): Observed => materialize(activeThenExtended(granted));
    const gen1 = (role: 'source' | 'target') => `Access ${role === 'source' ? 'monitoring' : 'db'}/${objectName(UID, role === 'source' ? 'sourceMaxtac' : 'targetMaxtac', 1)}`;
    const cases: { name: string; observed: () => Observed; ready: 'True' | 'False'; reason: string; message: RegExp; parts: string[]; events: string[] }[] = [
      {
        name: 'the pass that grants the extension: generation 0 in force, generation 1 not made yet → Ready stays True, naming generation 1, no InForce Event',
        observed: () => activeThenExtended(granted),
        ready: 'True',
        reason: 'InForce',
        message: new RegExp(`^maxtac wrote the NetworkPolicy of every part\\. Switching to generation 1 \\(extension 1\\): until maxtac writes the NetworkPolicy of ${gen1('source')}, ${gen1('target')}, those of the earlier generation keep the access in force\\.$`),
        parts: ['Active', 'Active'],
        events: ['Extended'],
      },
      {
        name: 'switching: generation 1 made without its NetworkPolicies yet (maxtac slow or paused, or after a crash) → Ready True, no Event',
        observed: switching,
        ready: 'True',
        reason: 'InForce',
        message: /Switching to generation 1 \(extension 1\)/,
        parts: ['Active', 'Active'],
        events: [],
      },
      {
        name: 'switched: generation 1 in force (generation 0 deleted by this pass) → Ready True, the plain message, no Event',
        observed: () => withPolicies(switching(), gen(1)),
        ready: 'True',
        reason: 'InForce',
        message: /^maxtac wrote the NetworkPolicy of every part\.$/,
        parts: ['Active', 'Active'],
        events: [],
      },
      {
        name: 'switched: generation 0 on its way out after generation 1 came in force → Ready True, no Event',
        observed: () => {
          const o = withPolicies(switching(), gen(1));
          return { ...o, maxtac: o.maxtac.map((m) => (gen(0)(m) ? { ...m, metadata: { ...m.metadata, deletionTimestamp: NOW.toISOString() } } : m)) };
        },
        ready: 'True',
        reason: 'InForce',
        message: /^maxtac wrote the NetworkPolicy of every part\.$/,
        parts: ['Active', 'Active'],
        events: [],
      },
      {
        name: 'generation 0 gone before generation 1 is in force (deleted by someone else) → Ready False, naming the policies missing',
        observed: () => {
          const o = switching();
          return { ...o, maxtac: o.maxtac.filter((m) => !gen(0)(m)) };
        },
        ready: 'False',
        reason: 'Materializing',
        message: new RegExp(`^waiting for maxtac to write the NetworkPolicy of ${gen1('source')}, ${gen1('target')}$`),
        parts: ['Approved', 'Approved'],
        events: [],
      },
      {
        name: 'generation 0 still there but its NetworkPolicies gone → it holds nothing: Ready False',
        observed: () => {
          const o = switching();
          const gen0 = new Set(o.maxtac.filter(gen(0)).map((m) => m.metadata.uid));
          return { ...o, networkPolicies: o.networkPolicies.filter((np) => !(np.metadata.ownerReferences ?? []).some((r) => gen0.has(r.uid))) };
        },
        ready: 'False',
        reason: 'Materializing',
        message: /waiting for maxtac to write the NetworkPolicy of Access monitoring\/.*-1, Access db\/.*-1$/,
        parts: ['Approved', 'Approved'],
        events: [],
      },
      {
        name: "only the source's generation 0 left in force → Ready False, naming only the target's generation 1",
        observed: () => {
          const o = switching();
          return { ...o, maxtac: o.maxtac.filter((m) => !(gen(0)(m) && m.metadata.namespace === 'db')) };
        },
        ready: 'False',
        reason: 'Materializing',
        message: new RegExp(`^waiting for maxtac to write the NetworkPolicy of ${gen1('target')}$`),
        parts: ['Active', 'Approved'],
        events: [],
      },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const o = c.observed();
        const before = o.request.status?.conditions?.find((x) => x.type === 'Ready');
        assert.equal(before?.status, 'True', 'the fixture starts in force');
        const p = plan(o, LATER);
        const status = p.status ?? o.request.status;
        const ready = status?.conditions?.find((x) => x.type === 'Ready');
        assert.deepEqual([ready?.status, ready?.reason], [c.ready, c.reason]);
        assert.match(ready?.message ?? '', c.message);
        assert.equal(ready?.lastTransitionTime, c.ready === 'True' ? before.lastTransitionTime : LATER.toISOString(), 'a True Ready keeps its transition time');
        assert.equal(status?.phase, 'Active');
        assert.deepEqual(status?.parts?.map((x) => x.state), c.parts);
        assert.deepEqual(p.events.map((e) => e.reason), c.events);
      });
    }

    it("generation 0's extra policy for a generation 1 clone (its selector matches it too) does not put generation 1 in force", () => {
      const o = switching();
      const gen0 = o.maxtac.filter(gen(0));
      const extra = gen0.map((m) => ({ ...labelled(m), metadata: { ...labelled(m).metadata, name: `${m.metadata.name}--for-${m.metadata.namespace === 'db' ? objectName(UID, 'targetClone', 1) : objectName(UID, 'sourceClone', 1)}` } }));
      const p = plan({ ...o, networkPolicies: [...o.networkPolicies, ...extra] }, LATER);
      assert.deepEqual([p.creates.length, p.deletes.length], [0, 0], 'generation 0 stays');
      assert.match(p.status?.conditions?.find((x) => x.type === 'Ready')?.message ?? o.request.status?.conditions?.find((x) => x.type === 'Ready')?.message ?? '', /Switching to generation 1/);
    });

    it('once the access was out of force, generation 1 coming in force is announced again (InForce Event)', () => {
      const o = switching();
      const broken = { ...o, maxtac: o.maxtac.filter((m) => !gen(0)(m)) };
      const out = plan(broken, LATER);
      const next = withPolicies({ ...broken, request: { ...broken.request, status: out.status ?? {} } }, gen(1));
      assert.deepEqual(plan(next, LATER).events.map((e) => e.reason), ['InForce']);
    });
  });

  it('revoking an extended grant tears down every generation', () => {
    const made = materialize(activeThenExtended(granted));
    const revoked = { ...made, request: { ...made.request, status: { ...made.request.status, decision: { type: 'Revoked' as const, by: 'bob' } } } };
    const p = plan(revoked, NOW);
    assert.equal(p.deletes.length, 8);
  });
});
