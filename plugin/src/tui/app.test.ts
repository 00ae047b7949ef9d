import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createElement } from 'react';
import { cleanup, render } from 'ink-testing-library';
import { FakePort } from '../../../test/support/fake-plugin-port.ts';
import { policedRequest, serviceRequest, svc } from '../../../test/support/builders.ts';
import { App, type AppProps } from './app.tsx';

// createElement rather than JSX: the unit-test glob (npm run test:unit) picks up *.test.ts files.
const app = (props: AppProps) => createElement(App, props);

const HOSTILE = 'ok \x1b[2J\x1b[1;1H\x1b]0;owned\x07\x1b[32m✔ approved by admin\x1b[0m ' + 'y'.repeat(3000);
const APPROVE_SHOP = 'approve netwatch.vtk.io/accessrequests shop';

async function until(what: string, check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const tick = () => new Promise((r) => setTimeout(r, 30));
const now = () => Date.parse('2026-01-01T01:00:00Z');

afterEach(() => cleanup());

describe('the interactive view', () => {
  test("another user's hostile reason is shown inert in the hub", async () => {
    const port = new FakePort({ me: { username: 'bob', groups: [] }, requests: [serviceRequest('evil', { by: 'mallory', reason: HOSTILE })] });
    const ui = render(app({ port, tickMs: 0, now }));
    await until('the request to show', () => (ui.lastFrame() ?? '').includes('evil'));
    const frame = ui.lastFrame() ?? '';
    assert.ok(frame.includes('\\x1b[2J'), 'the escape is visible as text');
    for (const raw of ['\x1b[2J', '\x1b[1;1H', '\x1b]0;', '\x07']) assert.ok(!frame.includes(raw), `no raw ${JSON.stringify(raw)}`);
    assert.ok(frame.split('\n').every((l) => l.length < 400), 'the long reason is cut to the screen');
  });

  test('the Approve key appears only where the user may approve, asks to confirm with the preview, and approving writes status', async () => {
    const pods = [{ metadata: { namespace: 'shop', name: 'database-0', labels: { app: 'database' } }, status: { phase: 'Running' } }];
    const port = new FakePort({ me: { username: 'bob', groups: [] }, requests: [serviceRequest('r1')], allowed: [APPROVE_SHOP], services: [svc('monitoring', 'prometheus', [9090]), svc('shop', 'database', [5432])], pods });
    const ui = render(app({ port, tickMs: 0, now }));
    await until('the permission check', () => (ui.lastFrame() ?? '').includes('✔ you may approve'));
    const frame = ui.lastFrame() ?? '';
    assert.match(frame, / a {2}Approve/);
    assert.match(frame, / d {2}Deny/);
    assert.doesNotMatch(frame, /Revoke/);
    assert.match(frame, /source part in monitoring .*✘ you may not approve/);
    ui.stdin.write('a');
    await until('the confirmation with the preview summary', () => /shop\/database: 1 pod, ingress 5432\/TCP/.test(ui.lastFrame() ?? ''));
    assert.match(ui.lastFrame() ?? '', /Approve your parts of r1\?/);
    assert.match(ui.lastFrame() ?? '', /Enter confirm · Esc cancel/);
    await tick();
    assert.equal(port.writes.length, 0, 'nothing is written before Enter');
    ui.stdin.write('\r');
    await until('the approval to be written', () => port.writes.length === 1);
    assert.deepEqual(port.writes[0]?.body, { approvals: [{ part: 'target', namespace: 'shop' }] });
    await until('the hub to update from the watch', () => /approved target part in shop/.test(ui.lastFrame() ?? ''));
  });

  test('a user without permission sees no Approve or Deny key, and pressing a does nothing', async () => {
    const port = new FakePort({ me: { username: 'carol', groups: [] }, requests: [serviceRequest('r1')] });
    const ui = render(app({ port, tickMs: 0, now }));
    await until('the permission check', () => (ui.lastFrame() ?? '').includes('✘ you may not approve'));
    assert.doesNotMatch(ui.lastFrame() ?? '', /Approve|Deny/);
    ui.stdin.write('a');
    await tick();
    assert.equal(port.writes.length, 0);
  });

  test('Esc on the approve confirmation writes nothing', async () => {
    const port = new FakePort({ me: { username: 'bob', groups: [] }, requests: [serviceRequest('r1')], allowed: [APPROVE_SHOP] });
    const ui = render(app({ port, tickMs: 0, now }));
    await until('the permission check', () => (ui.lastFrame() ?? '').includes('✔ you may approve'));
    ui.stdin.write('a');
    await until('the confirmation', () => /Approve your parts of r1\?/.test(ui.lastFrame() ?? ''));
    ui.stdin.write('\x1b');
    await until('the confirmation to close', () => !/Approve your parts of r1\?/.test(ui.lastFrame() ?? ''));
    await tick();
    assert.equal(port.writes.length, 0);
  });

  test('the detail view shows the preview: pods, ports, isolation and the policies maxtac would write', async () => {
    const pods = [{ metadata: { namespace: 'shop', name: 'database-0', labels: { app: 'database' } }, status: { phase: 'Running' } }];
    const port = new FakePort({ me: { username: 'bob', groups: [] }, requests: [serviceRequest('r1')], services: [svc('monitoring', 'prometheus', [9090]), svc('shop', 'database', [5432])], pods, forbidden: ['list pods monitoring'] });
    const ui = render(app({ port, tickMs: 0, now }));
    await until('the request', () => (ui.lastFrame() ?? '').includes('r1'));
    ui.stdin.write('\r');
    await until('the preview', () => (ui.lastFrame() ?? '').includes('NetworkPolicies maxtac would write'));
    const frame = ui.lastFrame() ?? '';
    assert.match(frame, /Preview \(what approving would do, from what you may read\):/);
    assert.match(frame, /pods: not readable by you/);
    assert.match(frame, /pods: 1 now \(database-0\)/);
    assert.match(frame, /ingress isolation: no NetworkPolicy isolates 1 of 1 pods in ingress yet/);
    assert.match(frame, /--isolation=refuse: the request fails/);
  });

  test('active accesses count down to expiry', async () => {
    const port = new FakePort({ requests: [serviceRequest('live', { phase: 'Active', expiresAt: '2026-01-01T02:30:00Z' })] });
    const ui = render(app({ port, tickMs: 0, now }));
    await until('the countdown', () => (ui.lastFrame() ?? '').includes('1h30m00s'));
  });

  test('a service request is made through the form with type-ahead from the cluster', async () => {
    const port = new FakePort({
      me: { username: 'alice', groups: [] },
      services: [svc('monitoring', 'prometheus', [9090]), svc('shop', 'database', [5432, 9187])],
      namespaces: ['default', 'monitoring', 'shop'],
    });
    const ui = render(app({ port, tickMs: 0, now }));
    await until('the hub', () => (ui.lastFrame() ?? '').includes('no requests here'));
    ui.stdin.write('s');
    await until('the form', () => (ui.lastFrame() ?? '').includes('New Service'));
    const steps: string[] = ['\x1b[A', '\x7f'.repeat(7), 'mon'];
    for (const k of steps) {
      ui.stdin.write(k);
      await tick();
    }
    await until('the namespace suggestion', () => (ui.lastFrame() ?? '').includes('Tab ⇥ monitoring'));
    for (const k of ['\t', '\x1b[B', 'pro']) {
      ui.stdin.write(k);
      await tick();
    }
    await until('the service suggestion', () => (ui.lastFrame() ?? '').includes('Tab ⇥ prometheus'));
    for (const k of ['\t', '\x1b[B', '\x7f'.repeat(7), 'shop', '\x1b[B', 'database', '\x1b[B']) {
      ui.stdin.write(k);
      await tick();
    }
    await until("the target's ports", () => (ui.lastFrame() ?? '').includes("the target's ports: 5432/TCP, 9187/TCP"));
    for (const k of ['5432', '\x1b[B', '\x1b[B', 'debug lag', '\x1b[B', '\r']) {
      ui.stdin.write(k);
      await tick();
    }
    await until('the request to be created', () => port.writes.some((w) => w.kind === 'create'));
    const body = port.writes.find((w) => w.kind === 'create')?.body as { spec: Record<string, unknown> };
    assert.deepEqual(body.spec.source, { namespace: 'monitoring', service: 'prometheus' });
    assert.deepEqual(body.spec.target, { namespace: 'shop', service: 'database' });
    assert.deepEqual(body.spec.ports, [{ port: 5432, protocol: 'TCP' }]);
    assert.equal(body.spec.reason, 'debug lag');
    await until('the confirmation', () => (ui.lastFrame() ?? '').includes('created accessrequest database-'));
  });

  test('the detail view lists clones, maxtac objects and their NetworkPolicies', async () => {
    const label = { 'netwatch.vtk.io/request-id': 'uid-r1' };
    const port = new FakePort({
      requests: [serviceRequest('r1', { phase: 'Active', expiresAt: '2026-01-01T02:00:00Z' })],
      objects: [
        { kind: 'services', namespace: 'shop', object: { metadata: { name: 'nwt-abc', labels: label } } },
        { kind: 'accesses', namespace: 'shop', object: { metadata: { name: 'nwat-abc', uid: 'u1', labels: label } } },
        { kind: 'networkpolicies', namespace: 'shop', object: { metadata: { name: 'maxtac-np', ownerReferences: [{ apiVersion: 'maxtac.vtk.io/v1alpha1', kind: 'Access', name: 'nwat-abc', uid: 'u1' }] } } },
      ],
    });
    const ui = render(app({ port, tickMs: 0, now }));
    await until('the hub', () => (ui.lastFrame() ?? '').includes('r1'));
    ui.stdin.write('\r');
    await until('the objects', () => (ui.lastFrame() ?? '').includes('maxtac-np'));
    const frame = ui.lastFrame() ?? '';
    assert.match(frame, /Service\s+shop\/nwt-abc/);
    assert.match(frame, /Access\s+shop\/nwat-abc/);
    assert.match(frame, /NetworkPolicy\s+shop\/maxtac-np\s+by Access\/nwat-abc/);
    assert.match(frame, /expires in 1h00m00s/);
  });

  test('the detail view names who can approve each pending part, cluster admins apart', async () => {
    const r = serviceRequest('r1');
    r.status = {
      ...r.status,
      parts: [
        { part: 'source', namespace: 'monitoring', state: 'Pending', approvers: { approvers: [], clusterAdmins: [{ kind: 'Group', name: 'system:masters' }] } },
        { part: 'target', namespace: 'shop', state: 'Pending', approvers: { approvers: [{ kind: 'User', name: 'bob', via: 'approve' }], clusterAdmins: [{ kind: 'Group', name: 'system:masters' }] } },
      ],
    };
    const ui = render(app({ port: new FakePort({ requests: [r] }), tickMs: 0, now }));
    await until('the hub', () => (ui.lastFrame() ?? '').includes('r1'));
    ui.stdin.write('\r');
    await until('the approvers', () => (ui.lastFrame() ?? '').includes('who can approve the target part'));
    const frame = ui.lastFrame() ?? '';
    assert.match(frame, /who can approve the source part: nobody but cluster admins {2}\(cluster admins: group system:masters\)/);
    assert.match(frame, /who can approve the target part: user bob/);
  });

  test('the policy line names the rule and the approvals missing in full, wrapped on a narrow terminal, in the hub and the detail view', async () => {
    const port = new FakePort({ me: { username: 'bob', groups: [] }, requests: [policedRequest('pol-1', { groups: ['dbas'], reviewers: ['dba1'] })] });
    const ui = render(app({ port, tickMs: 0, now }));
    // ink-testing-library draws 100 columns: the line does not fit on one.
    const policy = /policy: 2 distinct approvers from dbas, the requester not counted\s*(?:│\s*)?\(shop\/database\/two\); 1 of 2 so far, 1 missing/;
    const flat = () => (ui.lastFrame() ?? '').replace(/\s*│\n│\s*/g, ' ');
    await until('the policy line in the hub', () => policy.test(flat()));
    assert.match(flat(), /target part in shop/);
    assert.doesNotMatch(ui.lastFrame() ?? '', /source part in monitoring[^\n]*\n[^\n]*policy:/, 'no rule applies to the source part');
    ui.stdin.write('\r');
    await until('the detail view', () => (ui.lastFrame() ?? '').includes('Objects (clones'));
    assert.match(flat(), policy);
  });

  test('t extends an active access: the duration, the confirmation with what each part needs, then one status write', async () => {
    const port = new FakePort({ me: { username: 'alice', groups: [] }, requests: [serviceRequest('live', { phase: 'Active', expiresAt: '2026-01-01T02:30:00Z' })] });
    const ui = render(app({ port, tickMs: 0, now }));
    await until('the Extend key', () => / t {2}Extend/.test(ui.lastFrame() ?? ''));
    ui.stdin.write('t');
    await until('the duration step', () => (ui.lastFrame() ?? '').includes('Extend live by how long?'));
    ui.stdin.write('0s');
    await tick();
    ui.stdin.write('\r');
    await until('the error naming the field', () => (ui.lastFrame() ?? '').includes('✘ Duration: must be a positive duration'));
    for (const k of ['\x7f\x7f', '1h', '\r']) {
      ui.stdin.write(k);
      await tick();
    }
    await until('the confirmation', () => (ui.lastFrame() ?? '').includes('Extend live by 1h?'));
    const frame = ui.lastFrame() ?? '';
    assert.match(frame, /expires in 1h30m00s now/);
    assert.match(frame, /· target \(shop\): one approver \(total 3h, no maxTotalDuration\)/);
    assert.equal(port.writes.length, 0, 'nothing is written before Enter');
    ui.stdin.write('\r');
    await until('the extension to be written', () => port.writes.length === 1);
    assert.deepEqual(port.writes[0]?.body, { extensions: [{ duration: '1h' }] });
    await until('the outcome', () => /extension 1 of live \(\+1h\) waits for the source and target parts/.test(ui.lastFrame() ?? ''));
  });

  test('the detail view lists each extension, granted or waiting, and what each part still needs', async () => {
    const r = policedRequest('pol-1', { groups: ['dbas'], reviewers: ['dba1', 'dba2'] });
    r.status = {
      ...r.status,
      phase: 'Active',
      approvals: [...(r.status?.approvals ?? []), { part: 'source', namespace: 'monitoring', by: 'carol' }],
      expiresAt: '2026-01-01T03:00:00Z',
      extensions: [
        { duration: '1h', requestedBy: 'alice', at: '2026-01-01T00:30:00Z' },
        { duration: '30m', requestedBy: 'alice', at: '2026-01-01T00:50:00Z', reason: 'migration runs long' },
      ],
      extensionApprovals: [
        { extension: 0, part: 'source', namespace: 'monitoring', by: 'carol' },
        { extension: 0, part: 'target', namespace: 'shop', by: 'dba1' },
        { extension: 0, part: 'target', namespace: 'shop', by: 'dba2' },
        { extension: 1, part: 'source', namespace: 'monitoring', by: 'carol' },
        { extension: 1, part: 'target', namespace: 'shop', by: 'dba1' },
      ],
    };
    const port = new FakePort({ me: { username: 'bob', groups: ['dbas'] }, requests: [r], allowed: [APPROVE_SHOP] });
    const ui = render(app({ port, tickMs: 0, now }));
    await until('the waiting extension in the hub', () => (ui.lastFrame() ?? '').includes('extension 2: +30m by alice, "migration runs long": waiting for the target part'));
    await until('the Approve extension key', () => / a {2}Approve extension/.test(ui.lastFrame() ?? ''));
    ui.stdin.write('\r');
    await until('the extensions', () => (ui.lastFrame() ?? '').includes('Extensions:'));
    const flat = (ui.lastFrame() ?? '').replace(/\n\s+/g, ' ');
    assert.match(flat, /extension 1: \+1h by alice: granted/);
    assert.match(flat, /target \(shop\): 2 distinct approvers from dbas, the requester not counted \(shop\/database\/two; total 3h\); 2 of 2 so far \(dba1, dba2\)/);
    assert.match(flat, /extension 2: \+30m by alice, "migration runs long": waiting for the target part/);
    assert.match(flat, /target \(shop\): 2 distinct approvers from dbas, the requester not counted \(shop\/database\/two; total 3h30m\); 1 of 2 so far \(dba1\), 1 missing/);
    assert.match(flat, /source \(monitoring\): one approver \(total 3h30m, no maxTotalDuration\); approved by carol/);
    ui.stdin.write('a');
    await until('the confirmation', () => (ui.lastFrame() ?? '').includes('Approve extension 2 (+30m) for your parts of pol-1?'));
    ui.stdin.write('\r');
    await until('the extension approval to be written', () => port.writes.length === 1);
    assert.deepEqual(port.writes[0]?.body, { extensionApprovals: [...(r.status.extensionApprovals ?? []), { extension: 1, part: 'target', namespace: 'shop' }] });
  });

  test('w asks why a flow is blocked, shows the answer in the CLI\'s words, and n fills the request that opens it', async () => {
    const pod = (namespace: string, name: string, app: string, ip: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { namespace, name, labels: { app } }, status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] } });
    const denyAll = (namespace: string) => ({ kind: 'networkpolicies' as const, namespace, object: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace, name: 'default-deny' }, spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } } });
    const port = new FakePort({
      me: { username: 'alice', groups: [] },
      services: [svc('monitoring', 'prometheus', [9090]), svc('shop', 'database', [5432])],
      namespaces: ['default', 'monitoring', 'shop'],
      pods: [pod('monitoring', 'prometheus-0', 'prometheus', '10.1.0.1'), pod('shop', 'database-0', 'database', '10.2.0.1')],
      namespaceLabels: { monitoring: {}, shop: {} },
      objects: [denyAll('monitoring'), denyAll('shop')],
    });
    const ui = render(app({ port, tickMs: 0, now }));
    await until('the hub', () => (ui.lastFrame() ?? '').includes('no requests here'));
    assert.match(ui.lastFrame() ?? '', / w {2}why blocked\?/);
    ui.stdin.write('w');
    await until('the why form', () => (ui.lastFrame() ?? '').includes('Why is FROM → TO on PORT blocked'));
    for (const k of ['mon', '\t']) {
      ui.stdin.write(k);
      await tick();
    }
    await until('the Service suggestion', () => (ui.lastFrame() ?? '').includes('Tab ⇥ monitoring/prometheus'));
    for (const k of ['\t', '\x1b[B', '\x7f'.repeat(7), 'shop', '\x1b[B', 'database', '\x1b[B', '5432', '\x1b[B', '\r']) {
      ui.stdin.write(k);
      await tick();
    }
    await until('the answer', () => (ui.lastFrame() ?? '').includes('BLOCKED: monitoring/prometheus → shop/database on 5432/TCP'));
    const frame = ui.lastFrame() ?? '';
    assert.match(frame, /egress of monitoring\/prometheus \(1 pod\)\n\s+isolated by: {2}monitoring\/default-deny\n\s+allowed by: {3}no rule of those policies/);
    assert.match(frame, /ingress of shop\/database \(1 pod\)\n\s+isolated by: {2}shop\/default-deny/);
    assert.match(frame, /kubectl netwatch request service --from monitoring\/prometheus --to shop\/database --ports 5432\/TCP/);
    assert.match(frame, /Press n to open this request in the form/);
    ui.stdin.write('n');
    await until('the filled request form', () => (ui.lastFrame() ?? '').includes('New Service → Service request'));
    assert.match(ui.lastFrame() ?? '', /From service\s+prometheus/);
    assert.match(ui.lastFrame() ?? '', /Ports\s+5432\/TCP/);
    for (const k of ['dashboards', '\x1b[B', '\r']) {
      ui.stdin.write(k);
      await tick();
    }
    await until('the request to be created', () => port.writes.some((w) => w.kind === 'create'));
    const body = port.writes.find((w) => w.kind === 'create')?.body as { spec: Record<string, unknown> };
    assert.deepEqual([body.spec.source, body.spec.target, body.spec.ports, body.spec.reason], [
      { namespace: 'monitoring', service: 'prometheus' },
      { namespace: 'shop', service: 'database' },
      [{ port: 5432, protocol: 'TCP' }],
      'dashboards',
    ]);
  });

  test('why names a read the user may not make, and offers no request while it cannot tell', async () => {
    const port = new FakePort({ services: [svc('monitoring', 'prometheus', [9090]), svc('shop', 'database', [5432])], forbidden: ['list pods shop', 'list networkpolicies shop'] });
    const ui = render(app({ port, tickMs: 0, now }));
    await until('the hub', () => (ui.lastFrame() ?? '').includes('no requests here'));
    for (const k of ['w', 'monitoring/prometheus', '\x1b[B', '\x7f'.repeat(7), 'shop', '\x1b[B', 'database', '\x1b[B', '5432', '\x1b[B', '\r']) {
      ui.stdin.write(k);
      await tick();
    }
    await until('the answer', () => (ui.lastFrame() ?? '').includes('UNKNOWN: monitoring/prometheus → shop/database'));
    assert.match(ui.lastFrame() ?? '', /the pods of namespace shop \(list pods in shop\)/);
    assert.doesNotMatch(ui.lastFrame() ?? '', /Press n/);
    ui.stdin.write('n');
    await tick();
    assert.match(ui.lastFrame() ?? '', /UNKNOWN: /);
  });
});

