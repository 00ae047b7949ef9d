import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { clusterCidrsOf, run } from './cli.ts';
import type { ClusterPort } from './services/port.ts';
import { KubeError } from '../../lib/kube/errors.ts';
import type { KubeObject } from '../../lib/kube/types.ts';
import { FakePort } from '../../test/support/fake-plugin-port.ts';
import { serviceRequest, svc } from '../../test/support/builders.ts';
import { captured } from '../../test/support/streams.ts';

const HOSTILE = 'please \x1b[2J\x1b[31mAPPROVED\x1b[0m\x1b]0;owned\x07 ' + 'z'.repeat(5000);

async function cli(argv: string[], port: ClusterPort, interrupted: Promise<void> = Promise.resolve(), env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  const io = captured();
  const code = await run(argv, { stdout: io.stdout, stderr: io.stderr, stdin: new PassThrough(), makePort: () => port, now: () => Date.parse('2026-01-01T01:00:00Z'), interrupted, env });
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
  test('--from and --to complete namespaces, then the Services of the one typed', async () => {
    const port = new FakePort({ services, namespaces: ['monitoring', 'shop'] });
    const ns = await cli(['--get-yargs-completions', 'request', 'service', '--from', 'mo'], port);
    assert.equal(ns.out, 'monitoring/\n');
    const svcs = await cli(['--get-yargs-completions', 'request', 'service', '--from', 'monitoring/prometheus', '--to', 'shop/'], port);
    assert.equal(svcs.out, 'shop/database\n');
    const why = await cli(['--get-yargs-completions', 'why', '--to', 'shop/d'], port);
    assert.equal(why.out, 'shop/database\n');
  });
  test("--ports completes the --to Service's ports, one more after a comma", async () => {
    const port = new FakePort({ services });
    const first = await cli(['--get-yargs-completions', 'request', 'service', '--from', 'monitoring/prometheus', '--to', 'shop/database', '--ports', ''], port);
    assert.equal(first.out, '5432/TCP\n9187/TCP\n');
    const next = await cli(['--get-yargs-completions', 'request', 'service', '--to', 'shop/database', '--ports', '5432/TCP,'], port);
    assert.equal(next.out, '5432/TCP,9187/TCP\n');
    const none = await cli(['--get-yargs-completions', 'request', 'service', '--ports', ''], port);
    assert.equal(none.out, '', 'no --to, nothing to offer');
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
    // The preview, as YAML comments: what approving would do, from what the user may read.
    assert.match(out, /^# preview \(from what you may read\):\n#\s+source monitoring\/prometheus \(source part\): egress to shop\/database\n/m);
    assert.match(out, /^#\s+pods: none selected now$/m);
    assert.match(out, /^#\s+! egress isolation: no NetworkPolicy is known to isolate the pods of monitoring\/prometheus in egress yet/m);
    assert.match(out, /^#\s+in shop: pods app=database; Ingress from pods app=prometheus in namespace monitoring; ports 5432\/TCP$/m);
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
  test('extend prints the parts it waits for; --by is required; describe lists the extension, its reason inert', async () => {
    const port = new FakePort({ requests: [serviceRequest('r1', { phase: 'Active' })] });
    assert.equal((await cli(['extend', 'r1'], port)).code, 1);
    assert.deepEqual(port.writes, [], 'a missing required flag stops the command before any write');
    const { code, out, err } = await cli(['extend', 'r1', '--by', '1h', '--reason', HOSTILE], port);
    assert.equal(code, 0, err);
    assert.equal(out, 'accessrequest.netwatch.vtk.io/r1 extension 1 (+1h): waiting for approval of: source (monitoring, 1 approval missing), target (shop, 1 approval missing)\n');
    const described = (await cli(['describe', 'r1'], port)).out;
    assert.match(described, /Extensions:\n {2}1\. \+1h by alice at .*: pending, waiting for source \(monitoring\), target \(shop\) \(please \\x1b\[2J/);
    assert.ok(!described.includes('\x1b'), 'no raw escape reaches the terminal');
    const refused = await cli(['extend', 'r1', '--by', '1h'], port);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /one extension at a time/);
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
  test('describe shows the preview: pods now, ports, isolation per side with each --isolation setting, planned policies', async () => {
    const pod = (ns: string, name: string, app: string) => ({ metadata: { namespace: ns, name, labels: { app } }, status: { phase: 'Running' } });
    const denyAll = { metadata: { namespace: 'shop', name: 'default-deny' }, spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } } as KubeObject;
    const port = new FakePort({
      requests: [serviceRequest('r1')],
      services: [svc('monitoring', 'prometheus', [9090]), svc('shop', 'database', [5432])],
      pods: [pod('monitoring', 'prometheus-0', 'prometheus'), pod('shop', 'database-0', 'database'), pod('shop', 'database-1', 'database')],
      objects: [{ kind: 'networkpolicies', namespace: 'shop', object: denyAll }],
      forbidden: ['list networkpolicies monitoring'],
    });
    const { code, out } = await cli(['describe', 'r1'], port);
    assert.equal(code, 0);
    const preview = out.slice(out.indexOf('Preview (what approving would do'));
    assert.match(preview, /\n {2}source monitoring\/prometheus \(source part\): egress to shop\/database\n {4}pods: 1 now \(prometheus-0\)\n {4}ports: 5432\/TCP\n/);
    assert.match(preview, /! egress isolation: not known: you may not read NetworkPolicies in monitoring/);
    assert.match(preview, /--isolation=skip \(default\): granted only if the controller sees a NetworkPolicy isolating those pods in egress/);
    assert.match(preview, /target shop\/database \(target part\): ingress from monitoring\/prometheus\n {4}pods: 2 now \(database-0, database-1\)/);
    assert.match(preview, /ingress isolation: every pod \(2\) is isolated in ingress already, by default-deny/);
    assert.match(preview, /NetworkPolicies maxtac would write \(named by maxtac\):\n {4}in monitoring: pods app=prometheus; Egress to pods app=database in namespace shop; ports 5432\/TCP/);
  });
  test('describe of an Active request shows the NetworkPolicies maxtac wrote for it', async () => {
    const r = serviceRequest('r1', { phase: 'Active' });
    r.status = { ...r.status, objects: [{ apiVersion: 'maxtac.vtk.io/v1alpha1', kind: 'Access', namespace: 'shop', name: 'nw-t', uid: 'uid-access', part: 'target' }] };
    const np = { metadata: { namespace: 'shop', name: 'maxtac-np', ownerReferences: [{ apiVersion: 'maxtac.vtk.io/v1alpha1', kind: 'Access', name: 'nw-t', uid: 'uid-access' }] }, spec: { podSelector: {}, policyTypes: ['Ingress'] } } as KubeObject;
    const port = new FakePort({ requests: [r], services, objects: [{ kind: 'networkpolicies', namespace: 'shop', object: np }] });
    const { code, out } = await cli(['describe', 'r1'], port);
    assert.equal(code, 0);
    assert.match(out, /Preview \(as granted now, from what you may read\):/);
    assert.match(out, /NetworkPolicies in force \(written by maxtac for this request\):\n {4}monitoring: none\n {4}shop\/maxtac-np \(Ingress\) by Access\/nw-t\n/);
  });
  test('describe names who can approve each pending part, cluster admins apart, inert', async () => {
    const r = serviceRequest('r1');
    r.status = {
      ...r.status,
      parts: [
        { part: 'source', namespace: 'monitoring', state: 'Pending', approvers: { approvers: [], clusterAdmins: [{ kind: 'Group', name: 'system:masters' }] } },
        {
          part: 'target',
          namespace: 'shop',
          state: 'Pending',
          approvers: { approvers: [{ kind: 'User', name: 'bob', via: 'approve' }, { kind: 'Group', name: `leads${HOSTILE}`, via: 'approve' }], clusterAdmins: [{ kind: 'Group', name: 'system:masters' }] },
        },
      ],
    };
    const { code, out } = await cli(['describe', 'r1'], new FakePort({ requests: [r] }));
    assert.equal(code, 0);
    assert.match(out, /source \(monitoring\): pending\n.*needs: .*\n\s+who can approve: nobody but cluster admins\n\s+cluster admins \(not counted\): group system:masters/);
    assert.match(out, /target \(shop\): pending\n.*needs: .*\n\s+who can approve: user bob, group leads/);
    assert.ok(!out.includes('\x1b'));
  });
  test('can-i NAME lists each action', async () => {
    const port = new FakePort({ requests: [serviceRequest('r1')], allowed: ['approve netwatch.vtk.io/accessrequests shop'] });
    const { out } = await cli(['can-i', 'r1'], port);
    assert.match(out, /approve target \(shop\)\tyes/);
    assert.match(out, /approve source \(monitoring\)\tno/);
    assert.match(out, /deny\tyes/);
    assert.match(out, /extend\tno/);
  });
  test('can-i NAME on an Active request with an extension waiting says who may extend and approve it', async () => {
    const active = serviceRequest('r1', { phase: 'Active' });
    active.status = { ...active.status, extensions: [{ duration: '1h', requestedBy: 'alice', at: '2026-01-01T00:00:00Z' }] };
    const port = new FakePort({ requests: [active], me: { username: 'bob', groups: [] }, allowed: ['approve netwatch.vtk.io/accessrequests shop'] });
    const { out } = await cli(['can-i', 'r1'], port);
    assert.match(out, /^extend\tno$/m, 'one extension at a time');
    assert.match(out, /^approve extension 1 target\tyes$/m);
    assert.match(out, /^approve extension 1 source\tno$/m);
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

describe("the cluster's own ranges (--cluster-cidr, NETWATCH_CLUSTER_CIDR)", () => {
  test('the flag is repeatable or comma-separated and replaces the variable; duplicates go', () => {
    assert.deepEqual(clusterCidrsOf(['10.244.0.0/16', '10.96.0.0/12,fd00:10:96::/112'], '192.168.0.0/16'), ['10.244.0.0/16', '10.96.0.0/12', 'fd00:10:96::/112']);
    assert.deepEqual(clusterCidrsOf(undefined, '10.244.0.0/16, 10.96.0.0/12 10.96.0.0/12'), ['10.244.0.0/16', '10.96.0.0/12']);
    assert.deepEqual(clusterCidrsOf([], ''), []);
  });
  test('a value that is not a CIDR is refused naming the flag or the variable', () => {
    assert.throws(() => clusterCidrsOf(['10.96.0.0'], undefined), /^UserError: --cluster-cidr: "10\.96\.0\.0" is not a CIDR with a prefix$/);
    assert.throws(() => clusterCidrsOf(undefined, '10.244.0.0/16,pods'), /^UserError: NETWATCH_CLUSTER_CIDR: "pods" is not a CIDR with a prefix$/);
  });
  const dryRun = ['request', 'external', '--cidr', '10.96.0.10/32', '--to', 'shop/database', '--ports', '5432', '--reason', 'x', '--dry-run'];
  test('the preview classes a requested CIDR inside them as cluster, and warns', async () => {
    for (const [args, env] of [[['--cluster-cidr', '10.96.0.0/12', ...dryRun], {}], [dryRun, { NETWATCH_CLUSTER_CIDR: '10.244.0.0/16,10.96.0.0/12' }]] as const) {
      const { code, out, err } = await cli([...args], new FakePort({ services }), Promise.resolve(), env);
      assert.equal(code, 0, err);
      assert.match(out, /^#\s+! 10\.96\.0\.10\/32: 1 IPv4 address \(a \/32\), cluster \+ private$/m);
    }
    const { out } = await cli(dryRun, new FakePort({ services }));
    assert.match(out, /^#\s+10\.96\.0\.10\/32: 1 IPv4 address \(a \/32\), private$/m, 'without them, only private');
  });
  test('describe and a command given after the flag see them too', async () => {
    const r = serviceRequest('ext');
    r.spec = { type: 'External', service: { namespace: 'shop', name: 'database' }, cidrs: ['10.244.3.0/24'], direction: 'ingress', duration: '1h', reason: 'x', requester: { username: 'alice', approvedParts: [] } };
    const { code, out, err } = await cli(['--cluster-cidr', '10.244.0.0/16', 'describe', 'ext'], new FakePort({ services, requests: [r] }));
    assert.equal(code, 0, err);
    assert.match(out, /! 10\.244\.3\.0\/24: 256 IPv4 addresses \(a \/24\), cluster \+ private/);
  });
  test('a bad value stops every command with exit 1 before anything is sent', async () => {
    const port = new FakePort({ services });
    const { code, err } = await cli(['--cluster-cidr', '10.96.0.0', ...dryRun.slice(0, -1)], port);
    assert.equal(code, 1);
    assert.match(err, /^error: --cluster-cidr: "10\.96\.0\.0" is not a CIDR with a prefix\nhint: /);
    assert.equal(port.writes.length, 0);
    const list = await cli(['list'], port, Promise.resolve(), { NETWATCH_CLUSTER_CIDR: 'nope' });
    assert.equal(list.code, 1);
    assert.match(list.err, /^error: NETWATCH_CLUSTER_CIDR: "nope" is not a CIDR/);
  });
});
