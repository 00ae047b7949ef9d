import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { run } from './cli.ts';
import type { ClusterPort } from './services/port.ts';
import { KubeError } from '../../lib/kube/errors.ts';
import { FakePort, serviceRequest, svc } from './testing/fake-port.ts';
import { captured } from './testing/streams.ts';

const HOSTILE = 'please \x1b[2J\x1b[31mAPPROVED\x1b[0m\x1b]0;owned\x07 ' + 'z'.repeat(5000);

async function cli(argv: string[], port: ClusterPort, interrupted: Promise<void> = Promise.resolve()): Promise<{ code: number; out: string; err: string }> {
  const io = captured();
  const code = await run(argv, { stdout: io.stdout, stderr: io.stderr, stdin: new PassThrough(), makePort: () => port, now: () => Date.parse('2026-01-01T01:00:00Z'), interrupted });
  return { code, out: io.out(), err: io.err() };
}

const services = [svc('monitoring', 'prometheus', [9090]), svc('shop', 'database', [5432, 9187])];

describe('kubectl netwatch list', () => {
  test('prints a kubectl-style table', async () => {
    const { code, out } = await cli(['list'], new FakePort({ requests: [serviceRequest('db-access')] }));
    assert.equal(code, 0);
    assert.match(out, /^NAME\s+TYPE\s+FROM\s+TO\s+PORTS\s+PHASE\s+REQUESTER\s+EXPIRES\s+AGE\n/);
    assert.match(out, /db-access\s+Service\s+monitoring\/prometheus\s+shop\/database\s+5432\/TCP\s+Pending\s+alice/);
  });
  test('-o json and -o yaml leave out managedFields, as kubectl does', async () => {
    const r = serviceRequest('r1');
    (r.metadata as Record<string, unknown>).managedFields = [{ manager: 'kubectl-netwatch', operation: 'Update' }];
    for (const args of [['list', '-o', 'json'], ['list', '--pending', '-o', 'json'], ['list', '-o', 'yaml']]) {
      const { code, out, err } = await cli(args, new FakePort({ requests: [r] }));
      assert.equal(code, 0, `${args.join(' ')}: ${err}`);
      assert.match(out, /r1/);
      assert.doesNotMatch(out, /managedFields|kubectl-netwatch/, args.join(' '));
    }
  });
  test('--no-headers prints the rows only', async () => {
    const port = new FakePort({ requests: [serviceRequest('r1')] });
    const { code, out, err } = await cli(['list', '--no-headers'], port);
    assert.equal(code, 0, err);
    assert.match(out, /^r1\s+Service\s+monitoring\/prometheus/);
    assert.doesNotMatch(out, /NAME/);
  });
  test("another user's hostile reason is shown inert and cut in -o wide", async () => {
    const { out } = await cli(['list', '-o', 'wide'], new FakePort({ requests: [serviceRequest('evil', { reason: HOSTILE, by: 'mallory' })] }));
    assert.ok(!out.includes('\x1b'), 'no raw escape reaches the terminal');
    assert.ok(!out.includes('\x07'), 'no raw BEL reaches the terminal');
    assert.ok(out.includes('\\x1b[2J'), 'the escape is visible as text');
    assert.ok(out.split('\n').every((l) => l.length < 400), 'a long reason is cut');
  });
  test('-o json prints a List that scripts can parse (escapes stay JSON-escaped)', async () => {
    const { out } = await cli(['list', '-o', 'json'], new FakePort({ requests: [serviceRequest('evil', { reason: HOSTILE })] }));
    const list = JSON.parse(out) as { kind: string; items: { spec: { reason: string } }[] };
    assert.equal(list.kind, 'List');
    assert.equal(list.items[0]?.spec.reason, HOSTILE);
    assert.ok(!out.includes('\x1b'));
  });
  test('-o yaml prints a List', async () => {
    const { out } = await cli(['list', '-o', 'yaml'], new FakePort({ requests: [serviceRequest('a')] }));
    assert.match(out, /^apiVersion: v1\nkind: List\nitems:/);
  });
  test('--pending, --active and --mine filter; -n keeps requests touching the namespace', async () => {
    const port = new FakePort({
      me: { username: 'bob', groups: [] },
      requests: [serviceRequest('p1'), serviceRequest('a1', { phase: 'Active' }), serviceRequest('b1', { by: 'bob', phase: 'Denied' })],
    });
    const names = async (args: string[]) => (await cli(['list', '-o', 'name', ...args], port)).out.trim().split('\n').filter(Boolean).map((l) => l.split('/').pop());
    assert.deepEqual(await names(['--pending']), ['p1']);
    assert.deepEqual(await names(['--active']), ['a1']);
    assert.deepEqual(await names(['--mine']), ['b1']);
    assert.deepEqual((await names(['-n', 'shop'])).sort(), ['a1', 'b1', 'p1']);
    assert.deepEqual(await names(['-n', 'elsewhere']), []);
    assert.deepEqual((await names(['-n', 'elsewhere', '-A'])).sort(), ['a1', 'b1', 'p1']);
  });
  test('forbidden is a user error: one line, a hint, exit 1', async () => {
    const port = new FakePort({ failWith: new KubeError(403, 'Forbidden', 'accessrequests.netwatch.vtk.io is forbidden: User "mallory" cannot list resource') });
    const { code, err } = await cli(['list'], port);
    assert.equal(code, 1);
    assert.match(err, /^error: listing access requests: .*forbidden.*\nhint: .*can-i\n$/);
  });
});

describe('kubectl netwatch list --watch', () => {
  test('prints the table, then a row per change, until interrupted', async () => {
    const port = new FakePort({ requests: [serviceRequest('r1')] });
    let stop!: () => void;
    const interrupted = new Promise<void>((r) => (stop = r));
    const running = cli(['list', '--watch'], port, interrupted);
    await new Promise((r) => setTimeout(r, 50));
    port.put(serviceRequest('r1', { phase: 'Active', expiresAt: '2026-01-01T03:00:00Z' }));
    await new Promise((r) => setTimeout(r, 20));
    stop();
    const { code, out } = await running;
    assert.equal(code, 0);
    const lines = out.trim().split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[2] ?? '', /^r1\s+Service.*Active\s+alice\s+2h00m00s/);
  });
});

describe('shell completion', () => {
  test('request names are offered after a command that takes one', async () => {
    const { out } = await cli(['--get-yargs-completions', 'approve', 'r'], new FakePort({ requests: [serviceRequest('r1'), serviceRequest('other')] }));
    assert.match(out, /^r1$/m);
    assert.doesNotMatch(out, /^other$/m);
  });
});

describe('kubectl netwatch request', () => {
  test('service creates the request with generateName from the target', async () => {
    const port = new FakePort({ services });
    const { code, out } = await cli(['request', 'service', '--from', 'monitoring/prometheus', '--to', 'shop/database', '--ports', '5432/TCP', '--duration', '2h', '--reason', 'debug'], port);
    assert.equal(code, 0);
    assert.match(out, /^accessrequest.netwatch.vtk.io\/database-\S+ created\n$/);
    const body = port.writes[0]?.body as { metadata: { generateName: string }; spec: { ports: unknown } };
    assert.equal(body.metadata.generateName, 'database-');
    assert.deepEqual(body.spec.ports, [{ port: 5432, protocol: 'TCP' }]);
  });
  test('--dry-run prints the AccessRequest and the planned clones and maxtac objects, and creates nothing', async () => {
    const port = new FakePort({ services });
    const { code, out } = await cli(['request', 'service', '--from', 'monitoring/prometheus', '--to', 'shop/database', '--ports', '5432', '--reason', 'x', '--dry-run'], port);
    assert.equal(code, 0);
    assert.equal(port.writes.length, 0);
    assert.match(out, /kind: AccessRequest/);
    assert.equal((out.match(/kind: Service\n/g) ?? []).length, 2, 'two clones');
    assert.equal((out.match(/kind: Access\n/g) ?? []).length, 2, 'two maxtac Accesses');
    assert.match(out, /direction: egress/);
    assert.match(out, /direction: ingress/);
    assert.match(out, /duration: 3600s/);
  });
  test('external with a bare IP is refused naming the field; nothing is sent', async () => {
    const port = new FakePort({ services });
    const { code, err } = await cli(['request', 'external', '--cidr', '203.0.113.7', '--to', 'shop/database', '--reason', 'x'], port);
    assert.equal(code, 1);
    assert.match(err, /spec\.cidrs\[0\]/);
    assert.equal(port.writes.length, 0);
  });
  test('a missing required flag is a user error', async () => {
    const { code, err } = await cli(['request', 'service', '--from', 'a/b'], new FakePort());
    assert.equal(code, 1);
    assert.match(err, /Missing required argument/);
  });
});

describe('approve, deny, abort, revoke, describe, can-i', () => {
  test('approve prints the parts approved', async () => {
    const port = new FakePort({ requests: [serviceRequest('r1')], allowed: ['approve netwatch.vtk.io/accessrequests shop'] });
    const { code, out } = await cli(['approve', 'r1'], port);
    assert.equal(code, 0);
    assert.equal(out, 'accessrequest.netwatch.vtk.io/r1 approved (target)\n');
  });
  test('an empty or malformed NAME is a user error naming NAME, and nothing is sent', async () => {
    for (const bad of ['', 'Database', 'a/b', '../x', 'x'.repeat(254)]) {
      const port = new FakePort({ requests: [serviceRequest('r1')], allowed: ['approve netwatch.vtk.io/accessrequests shop'] });
      const { code, err } = await cli(['approve', bad], port);
      assert.equal(code, 1, `approve ${JSON.stringify(bad)}`);
      assert.match(err, /^error: NAME ".*" is not a request name: lower-case letters/);
      assert.equal(port.writes.length, 0);
    }
  });
  test("kubectl's KIND/NAME form, as list -o name prints it, is accepted", async () => {
    for (const ref of ['accessrequest.netwatch.vtk.io/r1', 'ar/r1', 'accessrequests/r1']) {
      const port = new FakePort({ requests: [serviceRequest('r1')], allowed: ['approve netwatch.vtk.io/accessrequests shop'] });
      const { code, out } = await cli(['approve', ref], port);
      assert.equal(code, 0, ref);
      assert.equal(out, 'accessrequest.netwatch.vtk.io/r1 approved (target)\n');
    }
  });
  test('deny requires a reason', async () => {
    const { code } = await cli(['deny', 'r1'], new FakePort({ requests: [serviceRequest('r1')] }));
    assert.equal(code, 1);
  });
  test('revoke writes a Revoked decision', async () => {
    const port = new FakePort({ requests: [serviceRequest('r1', { phase: 'Active' })] });
    const { code, out } = await cli(['revoke', 'r1', '--reason', 'done'], port);
    assert.equal(code, 0);
    assert.equal(out, 'accessrequest.netwatch.vtk.io/r1 revoked\n');
    assert.deepEqual(port.writes[0]?.body, { decision: { type: 'Revoked', reason: 'done' } });
  });
  test('describe shows parts, the permission each needs and a check where satisfied, all inert', async () => {
    const port = new FakePort({ requests: [serviceRequest('r1', { reason: HOSTILE })], allowed: ['approve netwatch.vtk.io/accessrequests shop'], me: { username: 'bob', groups: [] } });
    const { code, out } = await cli(['describe', 'r1'], port);
    assert.equal(code, 0);
    assert.match(out, /source \(monitoring\): pending\n\s+needs: approve accessrequests.netwatch.vtk.io in monitoring.*✘ you may not approve/);
    assert.match(out, /target \(shop\): pending\n\s+needs: .*✔ you may approve/);
    assert.match(out, /You may:\s+approve, deny/);
    assert.ok(!out.includes('\x1b'));
  });
  test('can-i NAME lists each action', async () => {
    const port = new FakePort({ requests: [serviceRequest('r1')], allowed: ['approve netwatch.vtk.io/accessrequests shop'] });
    const { out } = await cli(['can-i', 'r1'], port);
    assert.match(out, /approve target \(shop\)\tyes/);
    assert.match(out, /approve source \(monitoring\)\tno/);
    assert.match(out, /deny\tyes/);
  });
});

describe('exit codes', () => {
  test('a bug (an unexpected exception) exits 2 with the stack', async () => {
    const port = new FakePort();
    port.listRequests = () => Promise.reject(new TypeError('cannot read properties of undefined'));
    const { code, err } = await cli(['list'], port);
    assert.equal(code, 2);
    assert.match(err, /internal error.*\n.*TypeError/);
  });
  test('no command and no terminal is a user error pointing at --help', async () => {
    const { code, err } = await cli([], new FakePort());
    assert.equal(code, 1);
    assert.match(err, /hint: .*--help/);
  });
  test('--help prints usage that says kubectl netwatch', async () => {
    const { code, out } = await cli(['--help'], new FakePort());
    assert.equal(code, 0);
    assert.match(out, /Usage: kubectl netwatch/);
    assert.match(out, /kubectl netwatch approve <name>/);
  });
  test('completion prints a shell script', async () => {
    const { code, out } = await cli(['completion'], new FakePort());
    assert.equal(code, 0);
    assert.match(out, /complete/);
  });
});

describe('kubectl netwatch policy test', () => {
  const examples = (f: string) => new URL(`../../docs/examples/${f}`, import.meta.url).pathname;
  test('prints the decision per part of each request for the example policies, with no cluster', async () => {
    const { code, out, err } = await cli(['policy', 'test', examples('access-policies.yaml'), examples('requests.yaml')], new FakePort({}));
    assert.equal(code, 0, err);
    const rows = out.trim().split('\n').slice(1).map((l) => l.split(/\s{3,}/).slice(0, 5));
    assert.deepEqual(rows, [
      ['metrics', 'source', 'monitoring', 'auto', 'monitoring/egress/prometheus-out'],
      ['metrics', 'target', 'payments', 'auto', 'payments/database/prometheus-metrics'],
      ['postgres', 'source', 'monitoring', 'auto', 'monitoring/egress/prometheus-out'],
      ['postgres', 'target', 'payments', 'approvers(2)', 'payments/database/postgres'],
      ['postgres-too-long', 'source', 'monitoring', 'refused', 'monitoring/egress/prometheus-out'],
      ['postgres-too-long', 'target', 'payments', 'refused', 'payments/database/postgres'],
      ['partner', 'target', 'shop', 'default', 'shop/internet/partners'],
      ['stranger', 'target', 'shop', 'refused', 'shop/internet/partners-only'],
    ]);
    assert.match(out, /spec\.duration: must be at most 4h for the target part \(namespace payments\) under AccessPolicy payments\/database, rule "postgres" \(asked for 12h\)/);
  });
  test('-o json gives the same decisions to scripts', async () => {
    const { code, out } = await cli(['policy', 'test', examples('access-policies.yaml'), examples('requests.yaml'), '-o', 'json'], new FakePort({}));
    assert.equal(code, 0);
    const rows = JSON.parse(out) as { request: string; decision: string; approvals?: number }[];
    assert.deepEqual(rows.find((r) => r.request === 'postgres' && r.decision === 'approvers')?.approvals, 2);
  });
  test('a missing file or a file without AccessPolicies is a user error naming it', async () => {
    const missing = await cli(['policy', 'test', '/nonexistent.yaml', examples('requests.yaml')], new FakePort({}));
    assert.equal(missing.code, 1);
    assert.match(missing.err, /cannot read \/nonexistent\.yaml: ENOENT/);
    const swapped = await cli(['policy', 'test', examples('requests.yaml'), examples('requests.yaml')], new FakePort({}));
    assert.equal(swapped.code, 1);
    assert.match(swapped.err, /the policy file holds no AccessPolicy/);
  });
});
