// The admission webhook against a real kube-apiserver, exercised by real token users with real RBAC. Assertions
// are on what the API server stores or refuses; no controller runs (where a test needs controller-owned status,
// it writes it as the controller's identity, which is itself part of what the webhook must allow).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { CoreV1Api, CustomObjectsApi, RbacAuthorizationV1Api, type KubernetesObject } from '@kubernetes/client-node';
import { applyObjects, roleBinding, startControlPlane, type ControlPlane } from '../../scripts/controlplane.ts';
import { GROUP, PLURAL, VERSION, type AccessRequest, type AccessRequestSpec } from '../../lib/api/accessrequest.ts';
import { installWebhook, type InstalledWebhook } from '../support/webhook.ts';
import { requestBody } from '../support/builders.ts';

const SRC = 'team-src';
const DST = 'team-dst';

let cp: ControlPlane;
let webhook: InstalledWebhook;
let counter = 0;

function api(user: string): CustomObjectsApi {
  return (user === 'admin' ? cp.admin : cp.kubeConfigFor(user)).makeApiClient(CustomObjectsApi);
}

function serviceSpec(overrides: Partial<AccessRequestSpec> = {}): AccessRequestSpec {
  return {
    type: 'Service',
    source: { namespace: SRC, service: 'client' },
    target: { namespace: DST, service: 'db' },
    ports: [{ port: 5432, protocol: 'TCP' }],
    duration: '2h',
    reason: 'e2e: client reads the database',
    ...overrides,
  };
}

async function create(user: string, spec: AccessRequestSpec, extra: Partial<AccessRequest> = {}): Promise<AccessRequest> {
  const body = { ...requestBody(spec, { name: `e2e-${++counter}` }), ...extra };
  return (await api(user).createClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, body })) as AccessRequest;
}

async function get(name: string): Promise<AccessRequest> {
  return (await api('admin').getClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, name })) as AccessRequest;
}

/** Read-modify-write of the status subresource as `user`, the way the plugin and web UI do it. */
async function writeStatus(user: string, name: string, change: (ar: AccessRequest) => void): Promise<AccessRequest> {
  const ar = (await api(user).getClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, name })) as AccessRequest;
  ar.status ??= {};
  change(ar);
  return (await api(user).replaceClusterCustomObjectStatus({ group: GROUP, version: VERSION, plural: PLURAL, name, body: ar })) as AccessRequest;
}

async function refused(what: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await what;
  } catch (err) {
    const e = err as { code?: number; body?: unknown };
    let message = String(e.body ?? err);
    try {
      message = String((JSON.parse(message) as { message?: string }).message ?? message);
    } catch {
      // not JSON: keep the text
    }
    return { code: e.code ?? 0, message };
  }
  assert.fail('the API server accepted a write that must be refused');
}

const role = (name: string, namespace: string | undefined, rules: unknown[]): KubernetesObject =>
  ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: namespace ? 'Role' : 'ClusterRole',
    metadata: { name, ...(namespace ? { namespace } : {}) },
    rules,
  }) as KubernetesObject;

const recent = (at: string | undefined) => !!at && Math.abs(Date.parse(at) - Date.now()) < 120_000;

describe('the admission webhook on a real API server', () => {
  before(async () => {
    cp = await startControlPlane({ maxtac: false });
    webhook = await installWebhook(cp);
    const core = cp.admin.makeApiClient(CoreV1Api);
    for (const name of [SRC, DST]) await core.createNamespace({ body: { metadata: { name } } });
    const svc = (namespace: string, name: string, spec: object) => core.createNamespacedService({ namespace, body: { metadata: { name }, spec } });
    await svc(SRC, 'client', { selector: { app: 'client' }, ports: [{ port: 8080, protocol: 'TCP' }] });
    await svc(SRC, 'exposed', { type: 'NodePort', selector: { app: 'exposed' }, ports: [{ port: 8080, protocol: 'TCP' }] });
    await svc(DST, 'db', { selector: { app: 'db' }, ports: [{ port: 5432, protocol: 'TCP' }] });
    await svc(DST, 'manual', { ports: [{ port: 5432, protocol: 'TCP' }] });

    const userRef = (u: string) => ({ kind: 'User' as const, name: cp.users[u]?.name ?? u });
    await applyObjects(cp.admin, [
      // Every developer may file requests and write their status; who may do *what* is the webhook's business.
      role('e2e-requester', undefined, [
        { apiGroups: [GROUP], resources: [PLURAL], verbs: ['create', 'get', 'list', 'watch', 'update', 'patch', 'delete'] },
        { apiGroups: [GROUP], resources: [`${PLURAL}/status`], verbs: ['get', 'update', 'patch'] },
      ]),
      roleBinding('e2e-requester', 'e2e-requester', { kind: 'Group', name: 'developers' }),
      role('e2e-approver', undefined, [{ apiGroups: [GROUP], resources: [PLURAL], verbs: ['approve'] }]),
      // alice could create the source half herself: services + maxtac accesses in SRC.
      role('e2e-creator', SRC, [
        { apiGroups: [''], resources: ['services'], verbs: ['create'] },
        { apiGroups: ['maxtac.vtk.io'], resources: ['accesses'], verbs: ['create'] },
      ]),
      roleBinding('e2e-alice-creator', 'e2e-creator', userRef('alice'), SRC, 'Role'),
      // bob approves for DST; carol approves for both.
      roleBinding('e2e-bob-approver', 'e2e-approver', userRef('bob'), DST),
      roleBinding('e2e-carol-approver', 'e2e-approver', userRef('carol'), SRC),
      roleBinding('e2e-carol-approver', 'e2e-approver', userRef('carol'), DST),
      // Stand-in for the controller's status writes (its real RBAC is the controller's manifests).
      role('e2e-controller-status', undefined, [
        { apiGroups: [GROUP], resources: [PLURAL, `${PLURAL}/status`], verbs: ['get', 'update', 'patch', 'delete'] },
      ]),
      roleBinding('e2e-controller-status', 'e2e-controller-status', userRef('netwatch-controller')),
      // dave may create services in SRC but not maxtac accesses: half of what "could have created it" needs.
      role('e2e-services-only', SRC, [{ apiGroups: [''], resources: ['services'], verbs: ['create'] }]),
      roleBinding('e2e-dave-services', 'e2e-services-only', userRef('dave'), SRC, 'Role'),
    ]);
  });

  after(async () => {
    await webhook?.close();
    await cp?.stop();
  });

  test('a forged spec.requester is overwritten with the authenticated user', async () => {
    const ar = await create('alice', {
      ...serviceSpec(),
      requester: { username: 'bob', uid: 'forged', groups: ['system:masters'], approvedParts: ['source', 'target'] },
    });
    const stored = await get(ar.metadata.name ?? '');
    assert.equal(stored.spec.requester?.username, 'alice');
    assert.equal(stored.spec.requester?.uid, 'alice');
    assert.ok(!stored.spec.requester?.groups?.includes('system:masters'), JSON.stringify(stored.spec.requester));
    assert.ok(stored.spec.requester?.groups?.includes('developers'));
    assert.deepEqual(stored.spec.requester?.approvedParts, ['source']);
  });

  test('a user with rights in the source namespace only gets the source part approved and the target pending', async () => {
    const ar = await create('alice', serviceSpec());
    const stored = await get(ar.metadata.name ?? '');
    assert.deepEqual(stored.spec.requester?.approvedParts, ['source']);
    assert.equal(stored.status?.approvals, undefined, 'nothing else is approved');
  });

  test('half of "could have created it" is not enough: services alone approve nothing', async () => {
    const ar = await create('dave', serviceSpec());
    assert.deepEqual((await get(ar.metadata.name ?? '')).spec.requester?.approvedParts, []);
  });

  test('a user who may approve both namespaces gets every part approved at create', async () => {
    const ar = await create('carol', serviceSpec());
    assert.deepEqual((await get(ar.metadata.name ?? '')).spec.requester?.approvedParts, ['source', 'target']);
  });

  test('status a client sends at create is not stored', async () => {
    const ar = await create('mallory', serviceSpec(), { status: { phase: 'Active', approvals: [{ part: 'target', namespace: DST, by: 'bob' }] } });
    const stored = await get(ar.metadata.name ?? '');
    assert.equal(stored.status?.phase, undefined);
    assert.equal(stored.status?.approvals, undefined);
  });

  test('an approver of the target namespace completes the request, stamped with their own name', async () => {
    const ar = await create('alice', serviceSpec());
    const name = ar.metadata.name ?? '';
    await writeStatus('bob', name, (s) => {
      s.status!.approvals = [{ part: 'target', namespace: DST, by: 'mallory', at: '2000-01-01T00:00:00Z' }];
    });
    const stored = await get(name);
    assert.equal(stored.status?.approvals?.length, 1);
    assert.equal(stored.status?.approvals?.[0]?.by, 'bob');
    assert.ok(recent(stored.status?.approvals?.[0]?.at), stored.status?.approvals?.[0]?.at);
  });

  describe('a user without rights', () => {
    let name = '';
    before(async () => {
      name = (await create('alice', serviceSpec())).metadata.name ?? '';
    });

    test('cannot approve a part', async () => {
      const r = await refused(writeStatus('mallory', name, (s) => void (s.status!.approvals = [{ part: 'target', namespace: DST }])));
      assert.equal(r.code, 403);
      assert.match(r.message, /status\.approvals\[0\]: user "mallory" may not approve the target part: that needs approve accessrequests\.netwatch\.vtk\.io in team-dst/);
    });

    test('including the requester for a part she has no rights in', async () => {
      const r = await refused(writeStatus('alice', name, (s) => void (s.status!.approvals = [{ part: 'target', namespace: DST }])));
      assert.match(r.message, /user "alice" may not approve the target part/);
    });

    test('cannot deny', async () => {
      const r = await refused(writeStatus('mallory', name, (s) => void (s.status!.decision = { type: 'Denied', reason: 'no' })));
      assert.match(r.message, /status\.decision: user "mallory" may not deny this request/);
    });

    test('cannot tamper with controller-owned status', async () => {
      const r = await refused(writeStatus('mallory', name, (s) => void (s.status!.phase = 'Active')));
      assert.match(r.message, /status\.phase: is written only by the netwatch controller/);
    });

    test('cannot change the spec', async () => {
      const ar = await get(name);
      ar.spec.reason = 'changed by mallory';
      const r = await refused(api('mallory').replaceClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, name, body: ar }));
      assert.match(r.message, /spec/);
      assert.equal((await get(name)).spec.reason, serviceSpec().reason);
    });

    test("cannot change the requester, not even the requester's own", async () => {
      const ar = await get(name);
      ar.spec.requester = { ...ar.spec.requester!, approvedParts: ['source', 'target'] };
      const r = await refused(api('alice').replaceClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, name, body: ar }));
      assert.match(r.message, /spec/);
    });

    test("cannot delete someone else's request", async () => {
      const r = await refused(api('mallory').deleteClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, name }));
      assert.equal(r.code, 403);
      assert.match(r.message, /user "mallory" may not delete AccessRequest .*only its requester \(alice\)/);
      assert.equal((await get(name)).metadata.name, name);
    });

    test('cannot add two things in one write, even with rights for each', async () => {
      const r = await refused(
        writeStatus('carol', name, (s) => {
          s.status!.approvals = [{ part: 'target', namespace: DST }];
          s.status!.decision = { type: 'Denied' };
        }),
      );
      assert.match(r.message, /may add exactly one thing/);
    });
  });

  test('an approver of a pending part can deny, and the denied request accepts nothing more', async () => {
    const name = (await create('alice', serviceSpec())).metadata.name ?? '';
    await writeStatus('bob', name, (s) => void (s.status!.decision = { type: 'Denied', reason: 'not this quarter', by: 'alice' }));
    const stored = await get(name);
    assert.equal(stored.status?.decision?.type, 'Denied');
    assert.equal(stored.status?.decision?.by, 'bob');
    const r = await refused(writeStatus('carol', name, (s) => void (s.status!.approvals = [{ part: 'target', namespace: DST }])));
    assert.match(r.message, /already Denied/);
  });

  test('the requester can abort her pending request; others cannot', async () => {
    const name = (await create('alice', serviceSpec())).metadata.name ?? '';
    const r = await refused(writeStatus('bob', name, (s) => void (s.status!.decision = { type: 'Aborted' })));
    assert.match(r.message, /only the requester \(alice\) may abort/);
    await writeStatus('alice', name, (s) => void (s.status!.decision = { type: 'Aborted', reason: 'not needed any more' }));
    const stored = await get(name);
    assert.equal(stored.status?.decision?.type, 'Aborted');
    assert.equal(stored.status?.decision?.by, 'alice');
    assert.ok(recent(stored.status?.decision?.at));
  });

  test('only the controller writes phase; an Active access is revoked by its requester, not by strangers', async () => {
    const name = (await create('carol', serviceSpec())).metadata.name ?? '';
    const controller = cp.users['netwatch-controller']?.name ?? '';
    assert.ok(controller);
    await writeStatus('netwatch-controller', name, (s) => {
      s.status = {
        phase: 'Active',
        approvals: [
          { part: 'source', namespace: SRC, by: 'carol', at: s.metadata.creationTimestamp },
          { part: 'target', namespace: DST, by: 'carol', at: s.metadata.creationTimestamp },
        ],
      };
    });
    assert.equal((await get(name)).status?.phase, 'Active');

    const forged = await refused(
      writeStatus('netwatch-controller', name, (s) => void (s.status!.decision = { type: 'Revoked', by: 'carol' })),
    );
    assert.match(forged.message, /status\.decision: is decided by users/);

    const r = await refused(writeStatus('mallory', name, (s) => void (s.status!.decision = { type: 'Revoked' })));
    assert.match(r.message, /may not revoke this access/);
    const abort = await refused(writeStatus('carol', name, (s) => void (s.status!.decision = { type: 'Aborted' })));
    assert.match(abort.message, /use Revoked/);

    await writeStatus('carol', name, (s) => void (s.status!.decision = { type: 'Revoked', reason: 'done' }));
    assert.equal((await get(name)).status?.decision?.by, 'carol');
  });

  test('the controller may mirror only the approvals recorded at creation', async () => {
    const name = (await create('alice', serviceSpec())).metadata.name ?? '';
    const r = await refused(
      writeStatus('netwatch-controller', name, (s) => void (s.status!.approvals = [{ part: 'target', namespace: DST, by: 'alice' }])),
    );
    assert.match(r.message, /status\.approvals\[0\]: the controller may only mirror approvals recorded at creation/);
    await writeStatus('netwatch-controller', name, (s) => void (s.status!.approvals = [{ part: 'source', namespace: SRC, by: 'alice' }]));
    assert.equal((await get(name)).status?.approvals?.length, 1);
  });

  test('the requester and an approver of a part may delete a request', async () => {
    const mine = (await create('mallory', serviceSpec())).metadata.name ?? '';
    await api('mallory').deleteClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, name: mine });
    const approved = (await create('mallory', serviceSpec())).metadata.name ?? '';
    await api('bob').deleteClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, name: approved });
    for (const name of [mine, approved]) assert.equal((await refused(get(name))).code, 404);
  });

  describe('at create, what the CRD cannot check', () => {
    const cases: { name: string; spec: AccessRequestSpec; message: RegExp }[] = [
      {
        name: 'a target Service that does not exist',
        spec: serviceSpec({ target: { namespace: DST, service: 'nothing' } }),
        message: /spec\.target\.service: Service team-dst\/nothing does not exist/,
      },
      {
        name: 'a NodePort source',
        spec: serviceSpec({ source: { namespace: SRC, service: 'exposed' } }),
        message: /spec\.source\.service: Service team-src\/exposed is of type NodePort/,
      },
      {
        name: 'a selector-less target',
        spec: serviceSpec({ target: { namespace: DST, service: 'manual' } }),
        message: /spec\.target\.service: .*has no selector/,
      },
      { name: 'a port the target does not have', spec: serviceSpec({ ports: [{ port: 5433, protocol: 'TCP' }] }), message: /spec\.ports\[0\]: 5433\/TCP is not a port/ },
      { name: 'a duration above the maximum', spec: serviceSpec({ duration: '48h' }), message: /spec\.duration: must be at most 24h/ },
      { name: 'unlimited access', spec: serviceSpec({ duration: 'unlimited' }), message: /spec\.duration: "unlimited" is not allowed/ },
      {
        name: 'the whole Internet',
        spec: {
          type: 'External',
          service: { namespace: DST, name: 'db' },
          cidrs: ['0.0.0.0/0'],
          direction: 'ingress',
          duration: '1h',
          reason: 'everyone',
        },
        message: /spec\.cidrs\[0\]: 0\.0\.0\.0\/0 is refused by the cluster's CIDR policy/,
      },
      {
        name: 'a non-canonical IPv6 CIDR',
        spec: {
          type: 'External',
          service: { namespace: DST, name: 'db' },
          cidrs: ['2001:DB8:0::/48'],
          direction: 'egress',
          duration: '1h',
          reason: 'partner',
        },
        message: /spec\.cidrs\[0\]: must be written canonically .*: 2001:db8::\/48/,
      },
    ];
    for (const c of cases) {
      test(`refuses ${c.name}, naming the field`, async () => {
        const r = await refused(create('alice', c.spec));
        assert.match(r.message, c.message);
      });
    }
    test('accepts an external request within policy', async () => {
      const ar = await create('bob', {
        type: 'External',
        service: { namespace: DST, name: 'db' },
        cidrs: ['203.0.113.7/32'],
        direction: 'ingress',
        ports: [{ port: 5432, protocol: 'TCP' }],
        duration: '30m',
        reason: 'partner',
      });
      assert.deepEqual((await get(ar.metadata.name ?? '')).spec.requester?.approvedParts, ['target']);
    });
  });

  describe('the CIDR policy, on the union of a request and on special-purpose ranges', () => {
    const external = (cidrs: string[]): AccessRequestSpec => ({
      type: 'External',
      service: { namespace: DST, name: 'db' },
      cidrs,
      direction: 'egress',
      duration: '1h',
      reason: 'e2e: CIDR policy',
    });
    const DENIED = 'admission webhook "validate.accessrequests.netwatch.vtk.io" denied the request: ';
    const cases: { name: string; cidrs: string[]; message: string }[] = [
      {
        name: 'two halves of the IPv4 Internet in one request',
        cidrs: ['0.0.0.0/1', '128.0.0.0/1'],
        message:
          "spec.cidrs: spec.cidrs[0] 0.0.0.0/1 and spec.cidrs[1] 128.0.0.0/1 together cover 0.0.0.0/0 (the whole IPv4 Internet), which the cluster's CIDR policy refuses (a webhook default, lifted by --no-default-cidr-deny); request networks that leave part of it out",
      },
      {
        name: 'the cloud metadata address, next to an allowed one',
        cidrs: ['203.0.113.7/32', '169.254.169.254/32'],
        message:
          "spec.cidrs[1]: 169.254.169.254/32 overlaps 169.254.0.0/16 (IPv4 link-local, where clouds serve instance metadata at 169.254.169.254), which the cluster's CIDR policy refuses (a webhook default, lifted by --no-default-cidr-deny-overlapping); request addresses outside it",
      },
      {
        name: "AWS's IPv6 metadata address",
        cidrs: ['fd00:ec2::254/128'],
        message:
          "spec.cidrs[0]: fd00:ec2::254/128 is refused by the cluster's CIDR policy: it is the AWS instance metadata address over IPv6 (a webhook default, lifted by --no-default-cidr-deny-overlapping); request other addresses",
      },
      {
        name: 'adjacent networks that together hold more addresses than the limit',
        cidrs: ['198.18.0.0/17', '198.18.128.0/17', '198.19.0.0/32'],
        message:
          'spec.cidrs: spec.cidrs[0] 198.18.0.0/17, spec.cidrs[1] 198.18.128.0/17 and spec.cidrs[2] 198.19.0.0/32 together hold 65537 IPv4 addresses, more than the 65536 IPv4 addresses (a /16) the cluster allows in one request (webhook setting --cidr-max-addresses-ipv4); request fewer addresses',
      },
    ];
    for (const c of cases) {
      test(`refuses ${c.name}, with the message the user sees`, async () => {
        const r = await refused(create('alice', external(c.cidrs)));
        assert.equal(r.code, 422);
        assert.equal(r.message, `${DENIED}${c.message}`);
      });
    }
    test('accepts adjacent networks that together hold exactly the limit', async () => {
      const ar = await create('alice', external(['198.18.0.0/17', '198.18.128.0/17']));
      assert.deepEqual((await get(ar.metadata.name ?? '')).spec.cidrs, ['198.18.0.0/17', '198.18.128.0/17']);
    });
  });

  describe('input the webhook used to get wrong', () => {
    test('type Cluster is refused by the API server with its field error, not by a crashed webhook', async () => {
      const r = await refused(create('alice', { ...serviceSpec(), type: 'Cluster' as 'Service' }));
      assert.match(r.message, /spec\.type: Unsupported value: "Cluster": supported values: "Service", "External"/);
      assert.doesNotMatch(r.message, /webhook|Cannot read properties/);
    });
    test('a reason of 300 emoji is accepted, as the CRD accepts it', async () => {
      const reason = '🔥'.repeat(300);
      const ar = await create('alice', serviceSpec({ reason }));
      assert.equal((await get(ar.metadata.name ?? '')).spec.reason, reason);
    });
  });

  describe('who can approve: a part nobody but cluster admins may approve', () => {
    const LONELY = 'team-lonely';
    const toLonely = () => serviceSpec({ target: { namespace: LONELY, service: 'web' }, reason: 'e2e: nobody approves there' });

    before(async () => {
      const core = cp.admin.makeApiClient(CoreV1Api);
      await core.createNamespace({ body: { metadata: { name: LONELY } } });
      await core.createNamespacedService({ namespace: LONELY, body: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 5432, protocol: 'TCP' }] } } });
    });

    test('is refused at create, naming the namespace and the rolebinding its owners can create', async () => {
      // alice approves the source part herself (she could have created it); the target part would wait for nobody.
      const r = await refused(create('alice', toLonely()));
      assert.equal(r.code, 403);
      assert.match(r.message, /spec\.target\.namespace: nobody but cluster admins may approve the target part in namespace "team-lonely"/);
      assert.match(r.message, /kubectl -n team-lonely create rolebinding netwatch-approver --clusterrole=netwatch-approver/);
      assert.match(r.message, /cluster admins: group system:masters/);
      assert.match(r.message, /--unapprovable=refuse/);
      // A requester who may approve every part needs nobody: the admin's request to the same namespace is created.
      const admin = await create('admin', toLonely());
      assert.deepEqual((await get(admin.metadata.name ?? '')).spec.requester?.approvedParts, ['source', 'target']);
    });

    test('is created once the namespace has an approver (the webhook follows RBAC through its informers)', async () => {
      await applyObjects(cp.admin, [roleBinding('e2e-erin-approver', 'e2e-approver', { kind: 'User', name: 'erin' }, LONELY)]);
      const deadline = Date.now() + 10_000;
      for (;;) {
        const made = await create('alice', toLonely()).catch((e: unknown) => e as Error);
        if (!(made instanceof Error)) break;
        assert.ok(Date.now() < deadline, `still refused after the binding: ${made.message}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      await cp.admin.makeApiClient(RbacAuthorizationV1Api).deleteNamespacedRoleBinding({ name: 'e2e-erin-approver', namespace: LONELY });
    });

    test('with --unapprovable=warn it is created, and kubectl prints the admission warning', async () => {
      await webhook.close();
      webhook = await installWebhook(cp, { unapprovable: 'warn' });
      const manifest = JSON.stringify(requestBody(toLonely(), { name: `e2e-warn-${++counter}` }));
      // The binding of the previous test is gone; the new webhook's informers start from a fresh list.
      const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        const child = execFile('kubectl', ['--kubeconfig', cp.kubeconfigPathFor('alice'), 'create', '-f', '-'], { timeout: 60_000 }, (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
        child.stdin?.end(manifest);
      });
      assert.equal(out.code, 0, out.stderr);
      assert.match(out.stdout, /created/);
      assert.match(out.stderr, /Warning: the target part \(namespace team-lonely\) has no approver but cluster admins; its owners can bind one: kubectl -n team-lonely create rolebinding netwatch-approver/);
      await webhook.close();
      webhook = await installWebhook(cp);
    });
  });

  // Last: it stops the webhook.
  test('with the webhook down, creates and decisions are refused (fail closed)', async () => {
    const name = (await create('alice', serviceSpec())).metadata.name ?? '';
    await webhook.close();
    const r = await refused(create('alice', serviceSpec()));
    assert.match(r.message, /failed calling webhook/);
    const d = await refused(writeStatus('alice', name, (s) => void (s.status!.decision = { type: 'Aborted' })));
    assert.match(d.message, /failed calling webhook/);
    assert.equal((await get(name)).status?.decision, undefined);
  });
});
