// `kubectl netwatch why` end to end, and the evaluator behind it checked against packets. Against the real control
// plane (with the real webhook, controller and maxtac), users run the bundled plugin as kubectl runs it. When the
// machine can run the test dataplane (root, iproute2, iptables, ipset), every pod is a network namespace that
// kube-router enforces NetworkPolicies on, and at each step the evaluator's verdict for every cell of the truth table
// (every pod and outside host × every other one × every port it listens on) must equal what the packets do; each
// `why` answer is compared with the probes of its pairs too. Without the dataplane the Pod objects are made directly
// (status patched as a kubelet would) and `why` is checked against the evaluator alone, which the packet tables prove
// wherever the dataplane runs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubernetesObject } from '@kubernetes/client-node';
import { applyObjects, loadYamlFile, roleBinding, startControlPlane, type ControlPlane } from '../../scripts/controlplane.ts';
import { dataplaneUnavailable, startDataplane, type Dataplane, type DataplanePort, type Endpoint, type PodOptions } from '../../scripts/dataplane.ts';
import { cellsOf, connected, differences, formatTable, observe, type Cell, type Table } from '../../scripts/reachability.ts';
import { installWebhook, type InstalledWebhook } from '../support/webhook.ts';
import { installController, type InstalledController } from '../support/controller.ts';
import { bundle } from '../../plugin/build.ts';
import { PolicyEvaluator, podFactsOf, type PodFacts } from '../../lib/domain/netpol/evaluate.ts';
import { parseAddress, parseCidr } from '../../lib/domain/cidr.ts';
import type { AccessRequest } from '../../lib/api/accessrequest.ts';
import type { NetworkPolicy, Pod, Service } from '../../lib/kube/types.ts';
import type { WhyResult } from '../../plugin/src/services/why.ts';
import { Users } from '../support/users.ts';
import { waitFor } from '../support/wait.ts';
import { Tmux } from '../support/terminal.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

let cp: ControlPlane | undefined;
let dp: Dataplane | undefined;
let webhook: InstalledWebhook | undefined;
let controller: InstalledController | undefined;
let users: Users;
let binDir = '';
const terminals = new Tmux();

const tcp = (port: number, name?: string): DataplanePort => ({ port, protocol: 'TCP', ...(name ? { name } : {}) });
const udp = (port: number, name?: string): DataplanePort => ({ port, protocol: 'UDP', ...(name ? { name } : {}) });

// x holds the servers (app=web; x/b is a canary), y and z the clients (y/b is quarantined). Namespaces carry a team
// label for namespaceSelectors that look past the name. Two hosts stand outside the cluster.
const WEB_PORTS = [tcp(80, 'serve-80-tcp'), tcp(81, 'serve-81-tcp'), udp(80, 'serve-80-udp')];
const CLIENT_PORTS = [tcp(80, 'serve-80-tcp')];
const PODS: PodOptions[] = [
  { namespace: 'x', name: 'a', labels: { pod: 'a', app: 'web' }, ports: WEB_PORTS },
  { namespace: 'x', name: 'b', labels: { pod: 'b', app: 'web', tier: 'canary' }, ports: WEB_PORTS },
  { namespace: 'y', name: 'a', labels: { pod: 'a', app: 'client' }, ports: CLIENT_PORTS },
  { namespace: 'y', name: 'b', labels: { pod: 'b', app: 'client', quarantine: 'true' }, ports: CLIENT_PORTS },
  { namespace: 'z', name: 'a', labels: { pod: 'a', app: 'client' }, ports: CLIENT_PORTS },
];
const HOSTS = [
  { name: 'partner', ip: '198.19.0.7' },
  { name: 'stranger', ip: '198.19.0.9' },
];
const NAMESPACES: Record<string, Record<string, string>> = { x: { team: 'blue' }, y: { team: 'red' }, z: {} };

/** Pods and hosts as the probes know them (with the dataplane), or as the API knows them (without). */
const endpoints: Endpoint[] = [];
let cells: Cell[] = [];

function service(namespace: string, name: string, selector: Record<string, string>, ports: NonNullable<Service['spec']>['ports']): KubernetesObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace, name }, spec: { selector, ports } } as KubernetesObject;
}

function policy(namespace: string, name: string, spec: NetworkPolicy['spec']): NetworkPolicy {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace, name }, spec };
}

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function envFor(user: string): NodeJS.ProcessEnv {
  return { PATH: `${binDir}:${join(REPO, 'node_modules/.bin')}:/usr/local/bin:/usr/bin:/bin`, HOME: binDir, KUBECONFIG: cp!.kubeconfigPathFor(user) };
}

function netwatch(user: string, args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile('kubectl', ['netwatch', ...args], { env: envFor(user), timeout: 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 99) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

async function why(user: string, args: string[]): Promise<WhyResult> {
  const r = await netwatch(user, ['why', ...args, '-o', 'json']);
  assert.equal(r.code, 0, `kubectl netwatch why ${args.join(' ')} as ${user}: ${r.stderr}`);
  return JSON.parse(r.stdout) as WhyResult;
}

/** Everything, read as the admin: the evaluator then has no unknowns. */
async function evaluator(): Promise<{ ev: PolicyEvaluator; pods: PodFacts[] }> {
  const admin = users.as('admin');
  const pods: PodFacts[] = [];
  const policies: NetworkPolicy[] = [];
  for (const ns of Object.keys(NAMESPACES)) {
    pods.push(...(await admin.call<{ items: Pod[] }>('GET', `/api/v1/namespaces/${ns}/pods`)).items.map(podFactsOf));
    policies.push(...(await admin.list<NetworkPolicy>('networkpolicies', ns)).items);
  }
  const namespaces = Object.entries(NAMESPACES).map(([name, labels]) => ({ name, labels }));
  return { ev: new PolicyEvaluator({ policies, namespaces }), pods };
}

/** The evaluator's verdict for one cell of the table. */
function predicted(ev: PolicyEvaluator, pods: PodFacts[], c: Cell): boolean {
  const end = (e: Endpoint) => {
    const pod = pods.find((p) => `${p.namespace}/${p.name}` === e.name);
    return pod ? { pod } : { address: e.ip };
  };
  const v = ev.evaluate({ from: end(c.from), to: end(c.to), port: c.port.port, protocol: c.port.protocol });
  assert.notEqual(v.allowed, 'unknown', `the admin reads everything: ${c.from.name} → ${c.to.name}`);
  return v.allowed === 'yes';
}

/**
 * Waits until the packets agree with the evaluator on every cell (kube-router applies a policy change within
 * seconds), then returns the table; throws with the three tables printed when they never do.
 */
async function evaluatorMatchesPackets(title: string): Promise<Table | undefined> {
  if (!dp) return undefined;
  const { ev, pods } = await evaluator();
  const expected = cells.map((c) => predicted(ev, pods, c));
  let last: Table | undefined;
  try {
    return await waitFor(
      `the packets to match the evaluator (${title})`,
      async () => {
        last = { title, cells, expected, observed: await observe(cells, (f, t, p) => dp!.probe(f, t, p, 1000)) };
        return differences(last).length === 0 ? last : undefined;
      },
      60_000,
      500,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${last ? formatTable(last) : ''}\n\nkube-router's rules:\n${await dp.rules()}`, { cause: err });
  }
}

const endpoint = (name: string) => endpoints.find((e) => e.name === name);

/** Each pair of a `why` answer against a probe of the same flow (for a CIDR piece: every host inside it). */
async function whyMatchesPackets(r: WhyResult): Promise<void> {
  if (!dp) return;
  const wrong: string[] = [];
  for (const pair of r.pairs) {
    const to = endpoint(pair.to);
    assert.ok(to, `${pair.to} is a pod of the dataplane`);
    if (pair.port === undefined) continue;
    const port: DataplanePort = { port: pair.port, protocol: r.protocol === 'UDP' ? 'UDP' : 'TCP' };
    const piece = parseCidr(pair.from);
    const froms = piece ? endpoints.filter((e) => e.kind === 'host' && ((a) => !!a && a.value >= piece.first && a.value <= piece.last)(parseAddress(e.ip))) : [endpoint(pair.from)];
    for (const from of froms) {
      assert.ok(from, `${pair.from} is an endpoint of the dataplane`);
      const open = connected({ from, to, port }, await dp.probe(from, to, port, 1000));
      if (open !== (pair.allowed === 'yes')) wrong.push(`${from.name} → ${to.name} ${port.port}/${port.protocol}: why says ${pair.allowed}, the packet ${open ? 'got through' : 'did not'}`);
    }
  }
  assert.deepEqual(wrong, []);
}

async function setPolicies(policies: NetworkPolicy[]): Promise<void> {
  const admin = users.as('admin');
  for (const ns of Object.keys(NAMESPACES)) {
    for (const np of (await admin.list<NetworkPolicy>('networkpolicies', ns)).items) {
      if (!policies.some((p) => p.metadata.namespace === ns && p.metadata.name === np.metadata.name)) await admin.delete('networkpolicies', ns, np.metadata.name ?? '');
    }
  }
  for (const np of policies) {
    const existing = await admin.get<NetworkPolicy>('networkpolicies', np.metadata.namespace ?? '', np.metadata.name ?? '');
    if (existing) await admin.replace('networkpolicies', { ...np, metadata: { ...np.metadata, resourceVersion: existing.metadata.resourceVersion } });
    else await admin.create('networkpolicies', np);
  }
}

const pairs = (r: WhyResult) => r.pairs.map((p) => `${p.from} → ${p.to}${p.port !== undefined ? ` :${p.port}` : ''} ${p.allowed}`);

// ---------------------------------------------------------------------------------------------------------------

before(async () => {
  await bundle();
  binDir = mkdtempSync(join(tmpdir(), 'netwatch-why-e2e-'));
  symlinkSync(join(REPO, 'plugin/bin/kubectl-netwatch.js'), join(binDir, 'kubectl-netwatch'));
  cp = await startControlPlane();
  webhook = await installWebhook(cp);
  controller = await installController(cp, { workers: 2, retentionSeconds: null });
  users = new Users(cp);

  const objects: KubernetesObject[] = [...loadYamlFile(join(REPO, 'manifests/rbac/user-roles.yaml'))];
  objects.push(roleBinding('netwatch-users', 'netwatch-user', { kind: 'Group', name: 'developers' }));
  // What `why` reads beyond netwatch-user: alice may read pods and NetworkPolicies of x, y and z; dave may not.
  objects.push({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'netpol-reader' },
    rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }, { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['get', 'list'] }],
  } as KubernetesObject);
  for (const [ns, labels] of Object.entries(NAMESPACES)) {
    objects.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels } });
    objects.push(roleBinding('alice-reads-policies', 'netpol-reader', { kind: 'User', name: 'alice' }, ns));
    // Each namespace has an approver, or the webhook (--unapprovable=refuse) refuses the request `why` prints.
    objects.push(roleBinding('carol-approves', 'netwatch-approver', { kind: 'User', name: 'carol' }, ns));
  }
  objects.push(service('x', 'web', { app: 'web' }, [{ name: 'http', port: 8080, protocol: 'TCP', targetPort: 'serve-80-tcp' }, { name: 'admin', port: 81, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP', targetPort: 80 }]));
  for (const ns of ['y', 'z']) objects.push(service(ns, 'client', { app: 'client' }, [{ name: 'http', port: 80, protocol: 'TCP' }]));
  await applyObjects(cp.admin, objects);

  const unavailable = dataplaneUnavailable();
  if (unavailable) {
    // The Pod objects alone, as a kubelet would report them (addresses in the dataplane's range all the same).
    const admin = users.as('admin');
    let i = 1;
    for (const p of PODS) {
      await admin.call('POST', `/api/v1/namespaces/${p.namespace}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } }).catch(() => undefined);
      const ports = p.ports.map((x) => ({ ...(x.name ? { name: x.name } : {}), containerPort: x.port, protocol: x.protocol }));
      await admin.call('POST', `/api/v1/namespaces/${p.namespace}/pods`, { apiVersion: 'v1', kind: 'Pod', metadata: { name: p.name, namespace: p.namespace, labels: p.labels }, spec: { automountServiceAccountToken: false, containers: [{ name: 'c', image: 'netwatch.invalid/none', ports }] } });
      const ip = `198.18.9.${i++}`;
      await admin.call('PATCH', `/api/v1/namespaces/${p.namespace}/pods/${p.name}/status`, { status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] } }, 'application/merge-patch+json');
      endpoints.push({ name: `${p.namespace}/${p.name}`, ip, netns: '', ports: p.ports, kind: 'pod' });
    }
    for (const h of HOSTS) endpoints.push({ name: h.name, ip: h.ip, netns: '', ports: [tcp(80)], kind: 'host' });
    process.stderr.write(`why e2e: no dataplane here (${unavailable}); answers are checked against the evaluator, not packets\n`);
  } else {
    dp = await startDataplane(cp);
    for (const p of PODS) endpoints.push(await dp.addPod(p));
    for (const h of HOSTS) endpoints.push(await dp.addHost(h.name, [tcp(80)], h.ip));
    await dp.waitForPods();
  }
  cells = cellsOf(endpoints, endpoints);
});

after(async () => {
  await terminals.stop();
  await dp?.stop();
  await controller?.stop();
  await webhook?.close();
  await users?.close();
  await cp?.stop();
  if (binDir) rmSync(binDir, { recursive: true, force: true });
});

describe('kubectl netwatch why against the real control plane', () => {
  test('without any NetworkPolicy everything is allowed, and why says so with nothing isolating either side', async () => {
    await evaluatorMatchesPackets('no policy');
    const r = await why('alice', ['--from', 'y/client', '--to', 'x/web', '--port', '8080']);
    assert.equal(r.answer, 'allowed');
    assert.deepEqual(pairs(r), ['y/a → x/a :80 yes', 'y/b → x/a :80 yes', 'y/a → x/b :80 yes', 'y/b → x/b :80 yes']);
    assert.deepEqual([r.egress?.isolatedPods, r.ingress.isolatedPods], [0, 0]);
    await whyMatchesPackets(r);
  });

  const isolating = [
    // x: nothing gets in but what a rule allows.
    policy('x', 'default-deny', { podSelector: {}, policyTypes: ['Ingress'] }),
    // The web pods take the http port, by name, from pods of team=red namespaces that are not quarantined.
    policy('x', 'web-from-red', {
      podSelector: { matchLabels: { app: 'web' } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'red' } }, podSelector: { matchExpressions: [{ key: 'quarantine', operator: 'DoesNotExist' }] } }], ports: [{ port: 'serve-80-tcp' }] }],
    }),
    // The canary takes 80 to 81 (a port range) from z.
    policy('x', 'canary-from-z', {
      podSelector: { matchLabels: { tier: 'canary' } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['z'] }] } }], ports: [{ protocol: 'TCP', port: 80, endPort: 81 }] }],
    }),
    // Quarantined pods may only reach the outside block, on 80, and not the stranger in it.
    policy('y', 'quarantine', {
      podSelector: { matchExpressions: [{ key: 'quarantine', operator: 'Exists' }] },
      policyTypes: ['Egress'],
      egress: [{ to: [{ ipBlock: { cidr: '198.19.0.0/24', except: ['198.19.0.9/32'] } }], ports: [{ port: 80 }] }],
    }),
  ];

  test('isolation, namespace and pod selectors, named ports, endPort and ipBlock except: the evaluator matches the packets, and why names the policies', async (t) => {
    await setPolicies(isolating);
    const table = await evaluatorMatchesPackets('isolating policies');
    if (table) {
      const open = table.expected.filter(Boolean).length;
      t.diagnostic(`${table.cells.length} cells, ${open} open, every one as the evaluator said`);
      assert.ok(open > 0 && open < table.cells.length, 'the table has open and closed cells');
    }

    const fromY = await why('alice', ['--from', 'y/client', '--to', 'x/web', '--port', '8080']);
    assert.equal(fromY.answer, 'partly allowed');
    assert.deepEqual(pairs(fromY), ['y/a → x/a :80 yes', 'y/b → x/a :80 no', 'y/a → x/b :80 yes', 'y/b → x/b :80 no']);
    assert.deepEqual(fromY.ingress.isolatedBy, ['x/default-deny', 'x/web-from-red', 'x/canary-from-z']);
    assert.deepEqual(fromY.ingress.allowedBy, ['x/web-from-red ingress rule 1']);
    assert.deepEqual(fromY.egress?.isolatedBy, ['y/quarantine']);
    await whyMatchesPackets(fromY);

    const fromZ = await why('alice', ['--from', 'z/client', '--to', 'x/web', '--port', '81']);
    assert.equal(fromZ.answer, 'partly allowed');
    assert.deepEqual(pairs(fromZ), ['z/a → x/a :81 no', 'z/a → x/b :81 yes']);
    assert.deepEqual(fromZ.ingress.allowedBy, ['x/canary-from-z ingress rule 1']);
    await whyMatchesPackets(fromZ);

    const outside = await why('alice', ['--from', '198.19.0.0/24', '--to', 'x/web', '--port', '8080']);
    assert.equal(outside.answer, 'blocked');
    assert.equal(outside.open, 'kubectl netwatch request external --cidr 198.19.0.0/24 --to x/web --direction ingress --ports 8080/TCP --duration 1h --reason "<why you need it>"');
    await whyMatchesPackets(outside);

    // The text names every policy isolating the target and the rule that lets some pods in.
    const text = await netwatch('alice', ['why', '--from', 'y/client', '--to', 'x/web', '--port', '8080']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^PARTLY ALLOWED: y\/client → x\/web on 8080\/TCP \(pod port 80\)\n/);
    assert.match(text.stdout, /ingress of x\/web \(2 pods\)\n {2}isolated by: {2}x\/default-deny, x\/web-from-red, x\/canary-from-z\n {2}allowed by: {3}x\/web-from-red ingress rule 1\n/);
    assert.match(text.stdout, /y\/b → x\/a :80 {3}blocked \(egress: no rule allows it; ingress: no rule allows it\)/);
  });

  test('the request why prints opens the flow once approved, and why then names the policy maxtac wrote', async () => {
    await setPolicies(isolating);
    const query = ['--from', 'y/client', '--to', 'x/web', '--port', '81'];
    const blocked = await why('alice', query);
    assert.equal(blocked.answer, 'blocked');
    assert.ok(blocked.open, 'a command to open it is offered');
    await whyMatchesPackets(blocked);

    const args = (blocked.open.match(/"[^"]*"|\S+/g) ?? []).slice(2).map((a) => (a === '"<why you need it>"' ? 'why e2e: the printed request' : a));
    const created = await netwatch('alice', args);
    assert.equal(created.code, 0, created.stderr);
    const name = /accessrequest\.netwatch\.vtk\.io\/(\S+) created/.exec(created.stdout)?.[1] ?? '';
    assert.ok(name, created.stdout);
    await users.approve('admin', name, 'source', 'y');
    await users.approve('admin', name, 'target', 'x');
    // The controller judges per pod: y/quarantine isolates y/b's egress but not y/a's, so the source part is
    // skipped (y/a's egress is open already) and x's part grants ingress.
    const active = await waitFor(`${name} to be Active and Ready`, async () => {
      const ar = await users.as('admin').get<AccessRequest>('accessrequests', '', name);
      return ar?.status?.phase === 'Active' && ar.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? ar : undefined;
    }, 60_000);
    assert.deepEqual(active.status?.parts?.map((p) => p.state), ['Skipped', 'Active']);

    const maxtacPolicy = await waitFor('maxtac to write its NetworkPolicy in x', async () =>
      (await users.as('admin').list<NetworkPolicy>('networkpolicies', 'x')).items.find((np) => !isolating.some((p) => p.metadata.name === np.metadata.name)),
    );
    // y/a gets in; y/b stays blocked by its own egress policy, which the grant does not touch.
    const opened = await waitFor('why to see the grant', async () => {
      const r = await why('alice', query);
      return r.answer === 'partly allowed' ? r : undefined;
    }, 30_000);
    assert.deepEqual(pairs(opened), ['y/a → x/a :81 yes', 'y/b → x/a :81 no', 'y/a → x/b :81 yes', 'y/b → x/b :81 no']);
    assert.ok(opened.ingress.allowedBy.some((rule) => rule.startsWith(`x/${maxtacPolicy.metadata.name ?? ''} ingress rule`)), JSON.stringify(opened.ingress));
    assert.deepEqual(opened.egress?.isolatedBy, ['y/quarantine']);
    await evaluatorMatchesPackets('granted by maxtac');
    await whyMatchesPackets(opened);

    await users.decide('alice', name, 'Revoked', 'why e2e done');
    await waitFor('why to say blocked again', async () => (await why('alice', query)).answer === 'blocked', 60_000);
    await evaluatorMatchesPackets('revoked');
  });

  test('what a user may not read is named, and nothing is guessed', async () => {
    await setPolicies(isolating);
    const r = await why('dave', ['--from', 'y/client', '--to', 'x/web', '--port', '8080']);
    assert.equal(r.answer, 'unknown');
    assert.deepEqual(r.notReadable.sort(), [
      'the NetworkPolicies of namespace x (list networkpolicies in x)',
      'the NetworkPolicies of namespace y (list networkpolicies in y)',
      'the pods of namespace x (list pods in x)',
      'the pods of namespace y (list pods in y)',
    ]);
    assert.deepEqual(r.pairs, []);
    assert.equal(r.open, undefined);
    const text = await netwatch('dave', ['why', '--from', 'y/client', '--to', 'x/web', '--port', '8080']);
    assert.match(text.stdout, /^UNKNOWN: /);
    assert.match(text.stdout, /not readable with your permissions \(nothing is assumed about them\):\n {2}the pods of namespace/);
  });

  test('bad input is refused with the flag named, exit 1', async () => {
    const r = await netwatch('alice', ['why', '--from', 'y/client', '--to', 'x/nope', '--port', '80']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: Service x\/nope does not exist\nhint: /);
    const p = await netwatch('alice', ['why', '--from', 'y/client', '--to', 'x/web', '--port', 'http']);
    assert.equal(p.code, 1);
    assert.match(p.stderr, /^error: --port "http" is not PORT\[\/PROTOCOL\]/);
  });

  test('in the TUI (a real terminal): w asks why, the answer is blocked, and n opens the request form filled in', async () => {
    await setPolicies(isolating);
    // CI=true as on CI machines: the TUI must draw on a terminal regardless.
    const t = await terminals.open('why-alice', { ...envFor('alice'), TERM: 'xterm-256color', CI: 'true' }, ['kubectl', 'netwatch']);
    try {
      await t.waitFor('● live');
      await t.keys('w');
      await t.waitFor('Why is FROM → TO on PORT blocked');
      await t.type('y/client');
      await t.keys('Down', ...Array<string>(12).fill('BSpace'));
      await t.type('x');
      await t.keys('Down');
      await t.type('web');
      await t.keys('Down');
      await t.type('81');
      await t.keys('Down', 'Enter');
      const answer = await t.waitFor('BLOCKED: y/client → x/web on 81/TCP');
      assert.match(answer, /ingress of x\/web \(2 pods\)\n\s+isolated by: {2}x\/default-deny, x\/web-from-red, x\/canary-from-z\n\s+allowed by: {3}no rule of those policies/);
      assert.match(answer, /kubectl netwatch request service --from y\/client --to x\/web --ports 81\/TCP/);
      assert.match(answer, /Press n to open this request in the form/);
      await t.keys('n');
      const form = await t.waitFor('New Service → Service request');
      for (const field of [/From namespace\s+y\b/, /From service\s+client\b/, /To namespace\s+x\b/, /To service\s+web\b/, /Ports\s+81\/TCP/, /› Reason/]) assert.match(form, field);
      await t.type('why e2e: from the TUI');
      await t.keys('Down', 'Enter');
      const created = await t.waitFor(/created accessrequest (web-\S+)/);
      const name = /created accessrequest (web-\S+)/.exec(created)?.[1] ?? '';
      const request = await users.as('admin').get<AccessRequest>('accessrequests', '', name);
      assert.deepEqual([request?.spec.source, request?.spec.target, request?.spec.ports, request?.spec.requester?.username], [
        { namespace: 'y', service: 'client' },
        { namespace: 'x', service: 'web' },
        [{ port: 81, protocol: 'TCP' }],
        'alice',
      ]);
      await users.decide('alice', name, 'Aborted', 'why e2e done');
    } finally {
      await t.close();
    }
  });
});
