// The controller against a real API server and the real maxtac: approval materializes clones and maxtac objects,
// maxtac writes the NetworkPolicies we assert on; expiry, revoke, delete and hand deletion tear everything down.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startControlPlane, type ControlPlane } from '../../scripts/controlplane.ts';
import { installController, type InstalledController } from '../support/controller.ts';
import { objectName } from '../../lib/domain/names.ts';
import type { NetworkPolicy, Service } from '../../lib/kube/types.ts';
import type { AccessRequest } from '../../lib/api/accessrequest.ts';
import { HttpKube } from '../../lib/kube/http.ts';
import { ANNOTATION_REQUEST_NAME, LABEL_MANAGED_BY, LABEL_REQUEST_ID, LABEL_ROLE, MANAGED_BY } from '../../lib/api/markers.ts';
import { Admin, suffix, waitFor, waitForPhase, waitForReady } from '../support/admin.ts';

let cp: ControlPlane;
let controller: InstalledController;
let admin: Admin;

before(async () => {
  cp = await startControlPlane({ maxtac: true });
  controller = await installController(cp, { pendingTtlSeconds: 20, retentionSeconds: null });
  admin = new Admin(cp);
});

after(async () => {
  await controller?.stop();
  await admin?.close();
  await cp?.stop();
});

const policyOf = (policies: NetworkPolicy[], namespace: string) => policies.filter((p) => p.metadata.namespace === namespace);

/** A Service with netwatch's markers for half `role` of request `requestId`, as only the controller should write. */
function marked(namespace: string, name: string, requestId: string, role: 'source' | 'target', requestName = requestId): Service {
  return {
    metadata: {
      name,
      namespace,
      labels: { [LABEL_REQUEST_ID]: requestId, [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_ROLE]: role },
      annotations: { [ANNOTATION_REQUEST_NAME]: requestName },
    },
    spec: { selector: { app: 'x' }, ports: [{ port: 80, protocol: 'TCP' }] },
  };
}

/** Plants netwatch's clone of a request that does not exist and waits for the orphan sweep to delete it. */
async function sweptOrphan(namespace: string): Promise<void> {
  const requestId = `gone-${suffix()}`;
  const orphan = marked(namespace, objectName(requestId, 'sourceClone'), requestId, 'source');
  await admin.kube.create('services', orphan);
  await waitFor('a real orphan swept', async () => (await admin.kube.get('services', namespace, orphan.metadata.name ?? '')) === undefined);
}

async function nothingLeft(uid: string): Promise<boolean> {
  const m = await admin.materialized(uid);
  return m.clones.length === 0 && m.maxtac.length === 0 && m.policies.length === 0;
}

describe('controller: materialization', () => {
  it('a fully approved Service request gets clones, two Accesses and the NetworkPolicies maxtac writes from them', async () => {
    const s = suffix();
    const src = await admin.namespace(`mon-${s}`);
    const dst = await admin.namespace(`db-${s}`);
    await admin.service(src, 'prometheus', [{ name: 'web', port: 9090, protocol: 'TCP', targetPort: 9090 }]);
    await admin.service(dst, 'database', [
      { name: 'pg', port: 5432, protocol: 'TCP', targetPort: 15432 },
      { name: 'metrics', port: 9187, protocol: 'TCP', targetPort: 9187 },
    ]);
    const ar = await admin.request({ type: 'Service', source: { namespace: src, service: 'prometheus' }, target: { namespace: dst, service: 'database' }, ports: [{ port: 5432, protocol: 'TCP' }], duration: '2h' }, ['source', 'target']);
    const uid = ar.metadata.uid ?? '';
    const ready = await waitForReady(admin, ar.metadata.name ?? '');
    assert.equal(ready.status?.phase, 'Active');
    assert.ok(ready.status?.approvedAt && ready.status.expiresAt);
    assert.equal(Date.parse(ready.status.expiresAt) - Date.parse(ready.status.approvedAt), 2 * 3600_000);
    assert.ok(ready.metadata.finalizers?.includes('netwatch.vtk.io/cleanup'));
    assert.equal(ready.status?.objects?.length, 4);
    assert.ok(ready.status?.objects?.every((o) => o.uid));
    assert.deepEqual(ready.status?.parts?.map((p) => p.state), ['Active', 'Active']);

    const m = await admin.materialized(uid);
    assert.equal(m.clones.length, 2);
    assert.equal(m.maxtac.length, 2);
    const sourceClone = m.clones.find((c) => c.metadata.namespace === src);
    assert.equal(sourceClone?.metadata.name, objectName(uid, 'sourceClone'));
    assert.deepEqual(sourceClone?.spec?.selector, { app: 'prometheus' });
    assert.deepEqual(sourceClone?.spec?.ports?.map((p) => [p.port, p.protocol, p.targetPort]), [[5432, 'TCP', 15432]]);
    assert.equal(sourceClone?.spec?.type, 'ClusterIP');
    const sourceAccess = m.maxtac.find((a) => a.metadata.namespace === src);
    assert.equal(sourceAccess?.spec.direction, 'egress');
    assert.deepEqual(sourceAccess?.metadata.finalizers, ['netwatch.vtk.io/clones']);
    assert.equal(sourceClone?.metadata.ownerReferences?.[0]?.uid, sourceAccess?.metadata.uid);
    assert.match(sourceAccess?.spec.duration ?? '', /^\d+s$/);

    // The policies maxtac wrote: egress from prometheus pods to database pods, ingress to database pods from
    // prometheus pods, both on the database's targetPort.
    const [egress] = policyOf(m.policies, src);
    assert.deepEqual(egress?.spec?.podSelector, { matchLabels: { app: 'prometheus' } });
    assert.deepEqual(egress?.spec?.policyTypes, ['Egress']);
    assert.deepEqual(egress?.spec?.egress?.[0]?.to, [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': dst } }, podSelector: { matchLabels: { app: 'database' } } }]);
    assert.deepEqual(egress?.spec?.egress?.[0]?.ports, [{ protocol: 'TCP', port: 15432 }]);
    assert.equal(egress?.metadata.ownerReferences?.[0]?.uid, sourceAccess?.metadata.uid);
    const [ingress] = policyOf(m.policies, dst);
    assert.deepEqual(ingress?.spec?.podSelector, { matchLabels: { app: 'database' } });
    assert.deepEqual(ingress?.spec?.policyTypes, ['Ingress']);
    assert.deepEqual(ingress?.spec?.ingress?.[0]?.from, [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': src } }, podSelector: { matchLabels: { app: 'prometheus' } } }]);
    assert.deepEqual(ingress?.spec?.ingress?.[0]?.ports, [{ protocol: 'TCP', port: 15432 }]);

    const events = await admin.events(ar.metadata.name ?? '');
    assert.ok(events.some((e) => e.reason === 'Activated'), JSON.stringify(events));
    assert.ok(events.some((e) => e.reason === 'InForce'), JSON.stringify(events));
  });

  it('a partially approved request materializes nothing until the last part is approved', async () => {
    const s = suffix();
    const src = await admin.namespace(`pa-${s}`);
    const dst = await admin.namespace(`pb-${s}`);
    await admin.service(src, 'client');
    await admin.service(dst, 'server');
    const ar = await admin.request({ type: 'Service', source: { namespace: src, service: 'client' }, target: { namespace: dst, service: 'server' }, duration: '1h' }, ['source']);
    await waitForPhase(admin, ar.metadata.name ?? '', 'PartiallyApproved');
    assert.deepEqual(await admin.materialized(ar.metadata.uid ?? ''), { clones: [], maxtac: [], policies: [], orphanPolicies: [] });
    await admin.approve(ar.metadata.name ?? '', ['target']);
    await waitForReady(admin, ar.metadata.name ?? '');
    const m = await admin.materialized(ar.metadata.uid ?? '');
    assert.equal(m.policies.length, 2);
    // Empty ports: every port of the target Service, with its targetPort.
    assert.deepEqual(m.policies[0]?.spec?.egress?.[0]?.ports ?? m.policies[0]?.spec?.ingress?.[0]?.ports, [{ protocol: 'TCP', port: 8080 }]);
  });

  it('a waiting part names who may approve it, read from RBAC, and follows a new RoleBinding', async () => {
    const s = suffix();
    const src = await admin.namespace(`wa-${s}`);
    const dst = await admin.namespace(`wb-${s}`);
    await admin.service(src, 'client');
    await admin.service(dst, 'server');
    const rbac = 'rbac.authorization.k8s.io';
    await admin.kube.create('roles', { metadata: { name: 'approvers', namespace: dst }, rules: [{ apiGroups: ['netwatch.vtk.io'], resources: ['accessrequests'], verbs: ['approve'] }] });
    await admin.kube.create('rolebindings', { metadata: { name: 'bob-approves', namespace: dst }, roleRef: { apiGroup: rbac, kind: 'Role', name: 'approvers' }, subjects: [{ kind: 'User', apiGroup: rbac, name: 'bob' }, { kind: 'Group', apiGroup: rbac, name: 'payments-leads' }] });
    const ar = await admin.request({ type: 'Service', source: { namespace: src, service: 'client' }, target: { namespace: dst, service: 'server' }, duration: '1h' });
    const name = ar.metadata.name ?? '';
    const partStatus = async (part: string) => (await admin.kube.get<AccessRequest>('accessrequests', '', name))?.status?.parts?.find((p) => p.part === part);
    await waitFor('the target part names its approvers', async () => ((await partStatus('target'))?.approvers?.approvers.length ?? 0) > 0);
    const target = await partStatus('target');
    assert.deepEqual(target?.approvers?.approvers, [{ kind: 'User', name: 'bob', via: 'approve' }, { kind: 'Group', name: 'payments-leads', via: 'approve' }]);
    // Cluster admins are listed apart: system:masters always, and the controller itself (it may create Services and
    // Accesses everywhere), so they never make a part look approvable.
    assert.ok(target?.approvers?.clusterAdmins.some((a) => a.kind === 'Group' && a.name === 'system:masters'), JSON.stringify(target?.approvers));
    assert.ok(target?.approvers?.clusterAdmins.some((a) => a.kind === 'ServiceAccount' && a.name === 'netwatch-controller'), JSON.stringify(target?.approvers));
    assert.deepEqual((await partStatus('source'))?.approvers?.approvers, []);
    // A binding made afterwards shows up without anything else happening to the request.
    await admin.kube.create('roles', { metadata: { name: 'services', namespace: src }, rules: [{ apiGroups: [''], resources: ['services'], verbs: ['create', 'delete'] }] });
    await admin.kube.create('rolebindings', { metadata: { name: 'carol-services', namespace: src }, roleRef: { apiGroup: rbac, kind: 'Role', name: 'services' }, subjects: [{ kind: 'User', apiGroup: rbac, name: 'carol' }] });
    await admin.kube.create('roles', { metadata: { name: 'maxtac', namespace: src }, rules: [{ apiGroups: ['maxtac.vtk.io'], resources: ['accesses'], verbs: ['create'] }] });
    await admin.kube.create('rolebindings', { metadata: { name: 'carol-maxtac', namespace: src }, roleRef: { apiGroup: rbac, kind: 'Role', name: 'maxtac' }, subjects: [{ kind: 'User', apiGroup: rbac, name: 'carol' }] });
    await waitFor('the source part names carol', async () => ((await partStatus('source'))?.approvers?.approvers.length ?? 0) > 0);
    // create services from one Role, create accesses from another: "could have created it".
    assert.deepEqual((await partStatus('source'))?.approvers?.approvers, [{ kind: 'User', name: 'carol', via: 'create' }]);
    await admin.approve(name, ['target']);
    await waitFor('an approved part drops its list', async () => (await partStatus('target'))?.state === 'Approved' && (await partStatus('target'))?.approvers === undefined);
  });

  for (const [direction, types] of [['ingress', ['Ingress']], ['egress', ['Egress']], ['both', ['Ingress', 'Egress']]] as const) {
    it(`an External ${direction} request gets one ExternalAccess whose policy uses the CIDR (${types.join('+')})`, async () => {
      const ns = await admin.namespace(`ext-${direction}-${suffix()}`);
      await admin.service(ns, 'frontend', [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 8443 }, { name: 'dns', port: 53, protocol: 'UDP', targetPort: 5353 }]);
      const ar = await admin.request({ type: 'External', service: { namespace: ns, name: 'frontend' }, cidrs: ['203.0.113.7/32'], direction, ports: [{ port: 53, protocol: 'UDP' }], duration: '30m' }, ['target']);
      await waitForReady(admin, ar.metadata.name ?? '');
      const m = await admin.materialized(ar.metadata.uid ?? '');
      assert.equal(m.clones.length, 1);
      assert.equal(m.maxtac.length, 1);
      assert.equal(m.maxtac[0]?.kind, 'ExternalAccess');
      assert.equal(m.maxtac[0]?.spec.direction, direction === 'both' ? 'all' : direction);
      const [np] = m.policies;
      assert.deepEqual(np?.spec?.podSelector, { matchLabels: { app: 'frontend' } });
      assert.deepEqual(np?.spec?.policyTypes, types);
      const rule = direction === 'egress' ? np?.spec?.egress?.[0] : np?.spec?.ingress?.[0];
      assert.deepEqual(direction === 'egress' ? np?.spec?.egress?.[0]?.to : np?.spec?.ingress?.[0]?.from, [{ ipBlock: { cidr: '203.0.113.7/32' } }]);
      assert.deepEqual(rule?.ports, [{ protocol: 'UDP', port: 5353 }]);
      if (direction === 'both') assert.deepEqual(np?.spec?.egress?.[0]?.to, [{ ipBlock: { cidr: '203.0.113.7/32' } }]);
    });
  }

  it('a same-namespace Service request has one part and materializes both halves in that namespace', async () => {
    const ns = await admin.namespace(`same-${suffix()}`);
    await admin.service(ns, 'web');
    await admin.service(ns, 'api', [{ name: 'grpc', port: 9000, protocol: 'TCP', targetPort: 9001 }]);
    const ar = await admin.request({ type: 'Service', source: { namespace: ns, service: 'web' }, target: { namespace: ns, service: 'api' }, duration: '1h' }, ['target']);
    const ready = await waitForReady(admin, ar.metadata.name ?? '');
    assert.deepEqual(ready.status?.parts?.map((p) => `${p.part}:${p.state}`), ['target:Active']);
    const m = await admin.materialized(ar.metadata.uid ?? '');
    assert.equal(m.clones.length, 2);
    assert.equal(m.maxtac.length, 2);
    assert.equal(m.policies.length, 2);
    assert.deepEqual(m.policies.map((p) => p.spec?.policyTypes?.join()).sort(), ['Egress', 'Ingress']);
  });

  it('a part whose pods no policy isolates is skipped by default, and status says why', async () => {
    const src = await admin.namespace(`open-${suffix()}`, { denyAll: false });
    const dst = await admin.namespace(`iso-${suffix()}`);
    await admin.service(src, 'client');
    await admin.service(dst, 'server');
    const ar = await admin.request({ type: 'Service', source: { namespace: src, service: 'client' }, target: { namespace: dst, service: 'server' }, duration: '1h' }, ['source', 'target']);
    const ready = await waitForReady(admin, ar.metadata.name ?? '');
    assert.deepEqual(ready.status?.parts?.map((p) => p.state), ['Skipped', 'Active']);
    assert.match(ready.status?.parts?.[0]?.message ?? '', /skipped egress of .*client: no NetworkPolicy isolates it/);
    const m = await admin.materialized(ar.metadata.uid ?? '');
    assert.deepEqual(m.maxtac.map((a) => a.metadata.namespace), [dst]);
    assert.equal(m.clones.length, 2, 'the target Access still needs the source clone as its peer');
    assert.equal(policyOf(m.policies, src).length, 0);
  });
});

describe('controller: endings', () => {
  async function activeRequest(duration = '1h'): Promise<{ name: string; uid: string }> {
    const s = suffix();
    const src = await admin.namespace(`e1-${s}`);
    const dst = await admin.namespace(`e2-${s}`);
    await admin.service(src, 'client');
    await admin.service(dst, 'server');
    const ar = await admin.request({ type: 'Service', source: { namespace: src, service: 'client' }, target: { namespace: dst, service: 'server' }, duration }, ['source', 'target']);
    await waitForReady(admin, ar.metadata.name ?? '');
    return { name: ar.metadata.name ?? '', uid: ar.metadata.uid ?? '' };
  }

  it('expiry after a short duration tears everything down and the phase is Expired', async () => {
    const { name, uid } = await activeRequest('6s');
    const expired = await waitForPhase(admin, name, 'Expired', 30_000);
    assert.equal(expired.status?.conditions?.find((c) => c.type === 'Ended')?.reason, 'Expired');
    await waitFor('teardown after expiry', () => nothingLeft(uid));
    assert.ok((await admin.events(name)).some((e) => e.reason === 'Expired'));
  });

  it('a revoke tears everything down and the phase is Revoked', async () => {
    const { name, uid } = await activeRequest();
    await admin.decide(name, 'Revoked');
    await waitForPhase(admin, name, 'Revoked');
    await waitFor('teardown after revoke', () => nothingLeft(uid));
  });

  it('deleting an AccessRequest tears everything down before the finalizer lets it go', async () => {
    const { name, uid } = await activeRequest();
    await admin.kube.delete('accessrequests', '', name);
    await waitFor('request gone', async () => (await admin.get(name)) === undefined);
    assert.ok(await nothingLeft(uid));
  });

  it('deleting an Access by hand removes its clones, and the request fails and is torn down', async () => {
    const { name, uid } = await activeRequest();
    const m = await admin.materialized(uid);
    const access = m.maxtac.find((a) => a.spec.direction === 'ingress');
    await admin.kube.delete('accesses', access?.metadata.namespace ?? '', access?.metadata.name ?? '');
    await waitFor('its clone gone', async () => !(await admin.materialized(uid)).clones.some((c) => c.metadata.namespace === access?.metadata.namespace));
    const failed = await waitForPhase(admin, name, 'Failed');
    assert.equal(failed.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'ObjectDeleted');
    await waitFor('teardown after hand deletion', () => nothingLeft(uid));
  });

  it('an Access edited by hand is never updated back: it is deleted with its clone and both are recreated', async () => {
    const { name, uid } = await activeRequest();
    const before = await admin.materialized(uid);
    const access = before.maxtac.find((a) => a.spec.direction === 'egress')!;
    await admin.kube.replace('accesses', { ...access, spec: { ...access.spec, targets: [{ serviceName: 'elsewhere', namespace: 'kube-system' }] } });
    await waitFor('a new incarnation of the Access', async () => {
      const m = await admin.materialized(uid);
      const again = m.maxtac.find((a) => a.metadata.name === access.metadata.name);
      if (!again || again.metadata.uid === access.metadata.uid) return false;
      // The old incarnation's policies (the edit left one behind, as maxtac does) are the garbage collector's to
      // delete; the test plays its part too so as not to wait for it (maxtac cannot take over a policy another
      // Access still owns).
      for (const np of m.orphanPolicies) await admin.kube.delete('networkpolicies', np.metadata.namespace ?? '', np.metadata.name ?? '').catch(() => undefined);
      return m.clones.length === 2 && m.policies.length === 2;
    }).catch(async (e: unknown) => {
      const m = await admin.materialized(uid);
      throw new Error(`${String(e)}: ${JSON.stringify((await admin.get(name))?.status)} ${JSON.stringify(m.maxtac.map((a) => [a.metadata.uid, a.metadata.deletionTimestamp, a.spec]))} clones ${m.clones.length} policies ${m.policies.length}`, { cause: e });
    });
    const ar = await waitForReady(admin, name);
    assert.equal(ar.status?.phase, 'Active');
    const m = await admin.materialized(uid);
    assert.deepEqual(new Set(ar.status?.objects?.map((o) => o.uid)), new Set([...m.clones, ...m.maxtac].map((o) => o.metadata.uid)));
    assert.deepEqual(m.maxtac.find((a) => a.metadata.name === access.metadata.name)?.spec.targets, access.spec.targets);
  });

  it('a request nobody approves expires after the pending TTL', async () => {
    const ns = await admin.namespace(`ttl-${suffix()}`);
    await admin.service(ns, 'web');
    const ar = await admin.request({ type: 'External', service: { namespace: ns, name: 'web' }, cidrs: ['198.51.100.0/24'], direction: 'ingress', duration: '1h' });
    await waitForPhase(admin, ar.metadata.name ?? '', 'Pending');
    const expired = await waitForPhase(admin, ar.metadata.name ?? '', 'Expired', 40_000);
    assert.equal(expired.status?.conditions?.find((c) => c.type === 'Ended')?.reason, 'PendingTimeout');
  });

  it('an orphan clone whose request does not exist is swept', async () => {
    const ns = await admin.namespace(`orphan-${suffix()}`);
    const orphan = await admin.kube.create<Service>('services', marked(ns, objectName('no-such-request', 'sourceClone'), 'no-such-request', 'source'));
    await waitFor('orphan swept', async () => (await admin.kube.get('services', ns, orphan.metadata.name ?? '')) === undefined);
  });

  it('Services marked as a request\'s that netwatch did not make there survive its teardown and the orphan sweep', async () => {
    const { name, uid } = await activeRequest();
    const ar = await admin.get(name);
    const dst = ar?.spec.target?.namespace ?? '';
    const elsewhere = await admin.namespace(`else-${suffix()}`);
    // Written as the admin: this suite does not register the markers admission that would refuse them.
    const lookalikes = [
      // The request's own target clone name, in a namespace that is none of its halves'.
      marked(elsewhere, objectName(uid, 'targetClone'), uid, 'target', name),
      // The target half's namespace, under a name netwatch never gives it.
      marked(dst, `nwt-lookalike-${suffix()}`, uid, 'target', name),
      // A request that does not exist, under a name netwatch never gives those labels.
      marked(elsewhere, 'nws-squatter', 'no-such-request', 'source'),
    ];
    for (const l of lookalikes) await admin.kube.create('services', l);
    const exists = async (l: Service) => (await admin.kube.get<Service>('services', l.metadata.namespace ?? '', l.metadata.name ?? '')) !== undefined;
    // A real orphan planted after them is swept: the sweep has looked at them too by then (a create sends each
    // object to it at once).
    await sweptOrphan(elsewhere);
    for (const l of lookalikes) assert.ok(await exists(l), `${l.metadata.namespace}/${l.metadata.name} survives the sweep`);

    await admin.decide(name, 'Revoked');
    await waitForPhase(admin, name, 'Revoked');
    const own = [objectName(uid, 'sourceClone'), objectName(uid, 'targetClone')];
    await waitFor('the request\'s own objects torn down', async () => {
      const m = await admin.materialized(uid);
      return m.maxtac.length === 0 && m.policies.length === 0 && !m.clones.some((c) => own.includes(c.metadata.name ?? '') && c.metadata.namespace !== elsewhere);
    });
    // Touch each (a watch event sends it to the sweep again), then wait for another real orphan to go.
    for (const l of lookalikes) {
      const cur = await admin.kube.get<Service>('services', l.metadata.namespace ?? '', l.metadata.name ?? '');
      assert.ok(cur, `${l.metadata.namespace}/${l.metadata.name} survives the teardown`);
      await admin.kube.replace('services', { ...cur, metadata: { ...cur.metadata, labels: { ...cur.metadata.labels, touched: 'yes' } } });
    }
    await sweptOrphan(elsewhere);
    for (const l of lookalikes) assert.ok(await exists(l), `${l.metadata.namespace}/${l.metadata.name} survives the sweep after teardown`);
  });

  it('a netwatch Service with our name but not our labels fails the request instead of being adopted', async () => {
    const ns = await admin.namespace(`conf-${suffix()}`);
    await admin.service(ns, 'web');
    // Create the request first to learn its uid, approve only after planting the squatter.
    const ar = await admin.request({ type: 'External', service: { namespace: ns, name: 'web' }, cidrs: ['198.51.100.0/24'], direction: 'ingress', duration: '1h' });
    await admin.kube.create<Service>('services', { metadata: { name: objectName(ar.metadata.uid ?? '', 'targetClone'), namespace: ns }, spec: { selector: { app: 'x' }, ports: [{ port: 80, protocol: 'TCP' }] } });
    await admin.approve(ar.metadata.name ?? '', ['target']);
    const failed = await waitForPhase(admin, ar.metadata.name ?? '', 'Failed');
    assert.match(failed.status?.conditions?.find((c) => c.type === 'Ready')?.message ?? '', /refusing to adopt/);
    assert.ok(await admin.kube.get('services', ns, objectName(ar.metadata.uid ?? '', 'targetClone')), 'the squatter is left alone');
  });

  it('the controller identity has exactly the least privilege of manifests/controller/rbac.yaml', async () => {
    const asController = new HttpKube(cp.kubeConfigFor('netwatch-controller'), { cached: [] });
    const can = async (verb: string, group: string, resource: string, namespace = 'default', subresource?: string) => {
      const review = await asController.call<{ status: { allowed: boolean } }>('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { verb, group, resource, namespace, ...(subresource ? { subresource } : {}) } },
      });
      return review.status.allowed;
    };
    // What it needs (every test above ran as this identity with this RBAC)...
    assert.equal(await can('create', '', 'services'), true);
    assert.equal(await can('create', 'maxtac.vtk.io', 'accesses'), true);
    assert.equal(await can('update', 'netwatch.vtk.io', 'accessrequests', '', 'status'), true);
    // ...and nothing it must never do.
    assert.equal(await can('create', 'networking.k8s.io', 'networkpolicies'), false, 'netwatch never writes NetworkPolicies');
    assert.equal(await can('update', '', 'services'), false, 'never edits a Service');
    assert.equal(await can('update', 'maxtac.vtk.io', 'accesses'), false, 'never updates a maxtac object');
    assert.equal(await can('update', 'netwatch.vtk.io', 'accessrequests'), false, 'never edits a spec');
    assert.equal(await can('get', '', 'secrets'), false);
    assert.equal(await can('impersonate', '', 'users'), false);
    await asController.stop();
  });

  it('the controller exports its metrics', async () => {
    const text = await controller.app.metrics.registry.metrics();
    assert.match(text, /netwatch_controller_reconciles_total\{kind="request",result="success"\} \d+/);
    assert.match(text, /netwatch_controller_approval_to_active_seconds_count \d+/);
    assert.match(text, /netwatch_controller_is_leader 1/);
  });
});
