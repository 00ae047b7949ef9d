import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { PartName } from '../../../lib/api/accessrequest.ts';
import { UserError } from '../errors.ts';
import { FakePort } from '../../../test/support/fake-plugin-port.ts';
import { serviceRequest, svc } from '../../../test/support/builders.ts';
import { approve, byNewest, checkRequest, decide, extend, externalSpec, materializedOf, parsePorts, parseServiceRef, serviceSpec, viewOf } from './requests.ts';

const APPROVE_SHOP = 'approve netwatch.vtk.io/accessrequests shop';
const APPROVE_MON = 'approve netwatch.vtk.io/accessrequests monitoring';

describe('parsing flags', () => {
  test('NS/SVC and a bare SVC in the default namespace', () => {
    assert.deepEqual(parseServiceRef('monitoring/prometheus', 'default', '--from'), { namespace: 'monitoring', service: 'prometheus' });
    assert.deepEqual(parseServiceRef('db', 'team-a', '--to'), { namespace: 'team-a', service: 'db' });
  });
  test('a malformed reference is a user error naming the flag, with the input shown inert', () => {
    assert.throws(() => parseServiceRef('a/b/c', 'default', '--to'), (e: unknown) => e instanceof UserError && /--to "a\/b\/c"/.test(e.message));
    assert.throws(() => parseServiceRef('\x1b[31m', 'default', '--to'), (e: unknown) => e instanceof UserError && e.message.includes('\\x1b[31m'));
  });
  test('ports default to TCP, accept any case, and reject out-of-range numbers', () => {
    assert.deepEqual(parsePorts('5432, 53/udp'), [
      { port: 5432, protocol: 'TCP' },
      { port: 53, protocol: 'UDP' },
    ]);
    assert.equal(parsePorts(''), undefined);
    assert.throws(() => parsePorts('70000'), UserError);
    assert.throws(() => parsePorts('80/HTTP'), UserError);
  });
  test('external CIDRs may be repeated or comma-separated', () => {
    const spec = externalSpec({ cidrs: ['203.0.113.7/32,198.51.100.0/24', '2001:db8::/64'], to: 'shop/frontend', direction: 'ingress', duration: '30m', reason: 'x' }, 'default');
    assert.deepEqual(spec.cidrs, ['203.0.113.7/32', '198.51.100.0/24', '2001:db8::/64']);
    assert.deepEqual(spec.service, { namespace: 'shop', name: 'frontend' });
  });
});

describe('checking a request before it is sent', () => {
  const port = new FakePort({ services: [svc('monitoring', 'prometheus', [9090]), svc('shop', 'database', [5432])] });
  test('a valid request passes', async () => {
    await checkRequest(port, serviceSpec({ from: 'monitoring/prometheus', to: 'shop/database', ports: '5432', duration: '2h', reason: 'x' }, 'default'));
  });
  test('a bare IP as CIDR is refused with the field named', async () => {
    const spec = externalSpec({ cidrs: ['203.0.113.7'], to: 'shop/database', direction: 'ingress', duration: '1h', reason: 'x' }, 'default');
    await assert.rejects(checkRequest(port, spec), (e: unknown) => e instanceof UserError && e.message.includes('spec.cidrs[0]'));
  });
  test('a port the target does not have is refused, listing the ports it has', async () => {
    const spec = serviceSpec({ from: 'monitoring/prometheus', to: 'shop/database', ports: '6543', duration: '2h', reason: 'x' }, 'default');
    await assert.rejects(checkRequest(port, spec), (e: unknown) => e instanceof UserError && /6543\/TCP.*5432\/TCP/.test(e.message));
  });
  test('a missing Service is refused', async () => {
    const spec = serviceSpec({ from: 'monitoring/nope', to: 'shop/database', duration: '2h', reason: 'x' }, 'default');
    await assert.rejects(checkRequest(port, spec), (e: unknown) => e instanceof UserError && e.message.includes('monitoring/nope does not exist'));
  });
  test('a bad duration is refused', async () => {
    const spec = serviceSpec({ from: 'monitoring/prometheus', to: 'shop/database', duration: '2 hours', reason: 'x' }, 'default');
    await assert.rejects(checkRequest(port, spec), (e: unknown) => e instanceof UserError && e.message.includes('spec.duration'));
  });
});

describe('what a user may do to a request', () => {
  const me = { username: 'bob', groups: [] };
  const perms = (entries: [PartName, boolean][]) => new Map(entries);
  const cases: { name: string; req: ReturnType<typeof serviceRequest>; me: typeof me; perms: [PartName, boolean][]; actions: string[]; approvable: PartName[] }[] = [
    { name: 'an approver of one pending part may approve it and deny', req: serviceRequest('r'), me, perms: [['target', true]], actions: ['approve', 'deny'], approvable: ['target'] },
    { name: 'a user with no permission may do nothing', req: serviceRequest('r'), me, perms: [], actions: [], approvable: [] },
    { name: 'the requester may abort a pending request', req: serviceRequest('r', { by: 'bob' }), me, perms: [], actions: ['abort'], approvable: [] },
    { name: 'a part approved at creation is not approvable again', req: serviceRequest('r', { approvedParts: ['target'] }), me, perms: [['target', true]], actions: [], approvable: [] },
    { name: 'an approver may revoke an active access', req: serviceRequest('r', { phase: 'Active' }), me, perms: [['source', true]], actions: ['revoke'], approvable: [] },
    { name: 'the requester may revoke but not abort an active access', req: serviceRequest('r', { phase: 'Active', by: 'bob' }), me, perms: [], actions: ['revoke'], approvable: [] },
    { name: 'nobody may act on a denied request', req: serviceRequest('r', { phase: 'Denied', by: 'bob' }), me, perms: [['source', true], ['target', true]], actions: [], approvable: [] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const view = viewOf(c.req, c.me, perms(c.perms));
      assert.deepEqual(view.actions, c.actions);
      assert.deepEqual(view.approvable, c.approvable);
    });
  }
  test('every part lists the permission it needs', () => {
    const view = viewOf(serviceRequest('r'), me, new Map());
    assert.deepEqual(view.parts.map((p) => [p.part, p.namespace]), [['source', 'monitoring'], ['target', 'shop']]);
    assert.match(view.parts[1]?.needs ?? '', /approve accessrequests.netwatch.vtk.io in shop/);
  });
});

describe('approving and deciding', () => {
  test('approve adds one {part, namespace} per part the user may approve, each its own status write', async () => {
    const port = new FakePort({ requests: [serviceRequest('r1')], allowed: [APPROVE_SHOP, APPROVE_MON] });
    const { approved } = await approve(port, 'r1');
    assert.deepEqual(approved, ['source', 'target']);
    assert.deepEqual(port.writes.map((w) => w.body), [
      { approvals: [{ part: 'source', namespace: 'monitoring' }] },
      { approvals: [{ part: 'source', namespace: 'monitoring' }, { part: 'target', namespace: 'shop' }] },
    ]);
  });
  test('approve --part sends that part even without a green check: the webhook decides', async () => {
    const port = new FakePort({ requests: [serviceRequest('r1')] });
    await approve(port, 'r1', 'target');
    assert.deepEqual(port.writes[0]?.body, { approvals: [{ part: 'target', namespace: 'shop' }] });
  });
  test('approve without any permitted part is a user error that says what is needed', async () => {
    const port = new FakePort({ requests: [serviceRequest('r1')] });
    await assert.rejects(approve(port, 'r1'), (e: unknown) => e instanceof UserError && /approve accessrequests.netwatch.vtk.io in shop/.test(e.message));
    assert.equal(port.writes.length, 0);
  });
  test('approving a missing request is a user error with a hint', async () => {
    const port = new FakePort();
    await assert.rejects(approve(port, 'nope'), (e: unknown) => e instanceof UserError && /not found/.test(e.message) && !!e.hint);
  });
  test('a status write that conflicts with a concurrent change is retried on the fresh object', async () => {
    const port = new FakePort({ requests: [serviceRequest('r1')], allowed: [APPROVE_SHOP] });
    const original = port.patchStatus.bind(port);
    let calls = 0;
    port.patchStatus = async (name, rv, status) => {
      // The controller writes status between our read and our write, once.
      if (calls++ === 0) port.put({ ...(await port.getRequest(name)), status: { phase: 'Pending', approvals: [] } });
      return original(name, rv, status);
    };
    const { approved } = await approve(port, 'r1');
    assert.deepEqual(approved, ['target']);
    assert.equal(calls, 2);
    assert.deepEqual(port.writes.map((w) => w.body), [{ approvals: [{ part: 'target', namespace: 'shop' }] }]);
  });
  test('deny writes the decision with its reason', async () => {
    const port = new FakePort({ requests: [serviceRequest('r1')] });
    await decide(port, 'r1', 'Denied', 'not during the freeze');
    assert.deepEqual(port.writes[0]?.body, { decision: { type: 'Denied', reason: 'not during the freeze' } });
  });
  test('revoking a pending request is refused before anything is sent', async () => {
    const port = new FakePort({ requests: [serviceRequest('r1')] });
    await assert.rejects(decide(port, 'r1', 'Revoked'), UserError);
    assert.equal(port.writes.length, 0);
  });
  test('aborting an active access is refused with a hint to revoke', async () => {
    const port = new FakePort({ requests: [serviceRequest('r1', { phase: 'Active' })] });
    await assert.rejects(decide(port, 'r1', 'Aborted'), (e: unknown) => e instanceof UserError && /revoke/.test(e.hint ?? ''));
  });
});

describe('materialized objects', () => {
  test('clones, maxtac objects and the NetworkPolicies they own are listed; hidden kinds are named', async () => {
    const label = { 'netwatch.vtk.io/request-id': 'uid-r1' };
    const port = new FakePort({
      objects: [
        { kind: 'services', namespace: 'shop', object: { metadata: { name: 'nwt-x', labels: label } } },
        { kind: 'accesses', namespace: 'shop', object: { metadata: { name: 'nwat-x', uid: 'acc-1', labels: label } } },
        { kind: 'networkpolicies', namespace: 'shop', object: { metadata: { name: 'np-1', ownerReferences: [{ apiVersion: 'maxtac.vtk.io/v1alpha1', kind: 'Access', name: 'nwat-x', uid: 'acc-1' }] } } },
        { kind: 'networkpolicies', namespace: 'shop', object: { metadata: { name: 'unrelated' } } },
      ],
    });
    const m = await materializedOf(port, serviceRequest('r1', { phase: 'Active' }));
    assert.deepEqual(
      m.objects.map((o) => `${o.kind} ${o.namespace}/${o.name}`),
      ['Service shop/nwt-x', 'Access shop/nwat-x', 'NetworkPolicy shop/np-1'],
    );
  });
});

describe('the order of requests', () => {
  test('newest first, then by name; a request without a creation time last', () => {
    const at = (name: string, creationTimestamp?: string) => {
      const r = serviceRequest(name);
      if (creationTimestamp) r.metadata.creationTimestamp = creationTimestamp;
      else delete r.metadata.creationTimestamp;
      return r;
    };
    const sorted = [
      at('b-old', '2026-01-01T09:59:59Z'),
      at('no-time'),
      at('z-new', '2026-01-02T00:00:00Z'),
      at('b-same', '2026-01-01T10:00:00Z'),
      at('a-same', '2026-01-01T10:00:00Z'),
      at('a10', '2025-12-31T23:00:00Z'),
      at('a9', '2025-12-31T23:00:00Z'),
    ].sort(byNewest);
    assert.deepEqual(sorted.map((r) => r.metadata.name), ['z-new', 'a-same', 'b-same', 'b-old', 'a10', 'a9', 'no-time']);
  });
});

describe('extending an Active access', () => {
  test('the requester adds one extension in one status write; it then waits for both parts', async () => {
    const port = new FakePort({ requests: [serviceRequest('r1', { phase: 'Active' })] });
    const { extension, approved } = await extend(port, 'r1', '1h', 'still debugging');
    assert.deepEqual(port.writes.map((w) => w.body), [{ extensions: [{ duration: '1h', reason: 'still debugging' }] }]);
    assert.deepEqual(approved, []);
    assert.deepEqual(extension.waitingFor, ['source', 'target']);
  });

  test('an approver of the target extends and approves that part in the same call; approve then does the other part', async () => {
    const port = new FakePort({ me: { username: 'bob', groups: [] }, allowed: [APPROVE_SHOP], requests: [serviceRequest('r1', { phase: 'Active' })] });
    const { approved, extension } = await extend(port, 'r1', '30m');
    assert.deepEqual(approved, ['target']);
    assert.deepEqual(extension.waitingFor, ['source']);
    assert.deepEqual(port.writes[1]?.body, { extensionApprovals: [{ extension: 0, part: 'target', namespace: 'shop' }] });
    const carol = new FakePort({ me: { username: 'carol', groups: [] }, allowed: [APPROVE_MON], requests: [port.requests.get('r1')!] });
    const after = await approve(carol, 'r1');
    assert.deepEqual(after.approved, ['source']);
    assert.equal(after.extension?.granted, true);
  });

  test('a Pending request cannot be extended, and the message says why before anything is written', async () => {
    const port = new FakePort({ requests: [serviceRequest('r1', { phase: 'Pending' })] });
    await assert.rejects(extend(port, 'r1', '1h'), (e: unknown) => e instanceof UserError && /"r1" is Pending; only an Active access can be extended/.test(e.message));
    assert.deepEqual(port.writes, []);
  });

  test('a second extension while one waits is refused', async () => {
    const port = new FakePort({ requests: [serviceRequest('r1', { phase: 'Active' })] });
    await extend(port, 'r1', '1h');
    await assert.rejects(extend(port, 'r1', '1h'), (e: unknown) => e instanceof UserError && /one extension at a time/.test(e.message));
  });
});
