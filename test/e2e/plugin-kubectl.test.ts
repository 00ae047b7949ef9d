// kubectl-netwatch end to end: the bundled plugin run as `kubectl netwatch` (kubectl's own plugin lookup on
// PATH) by token-file users with their own kubeconfigs, against a real API server with the real webhook,
// controller and maxtac. Requests are made with the subcommands and with the TUI driven through a real
// terminal (tmux), approved by other users, become Active, and maxtac's NetworkPolicies are seen. Hostile
// strings in another user's request are shown inert in the table, describe and the TUI.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify as stringifyYaml } from 'yaml';
import { CustomObjectsApi, NetworkingV1Api, type KubernetesObject } from '@kubernetes/client-node';
import { applyObjects, loadYamlFile, roleBinding, startControlPlane, type ControlPlane } from '../../scripts/controlplane.ts';
import { installWebhook, type InstalledWebhook } from '../support/webhook.ts';
import { installController, type InstalledController } from '../support/controller.ts';
import { bundle } from '../../plugin/build.ts';
import { startHttpConnectProxy, startSocksProxy, type TestProxy } from '../support/proxies.ts';
import type { AccessRequest } from '../../lib/api/accessrequest.ts';
import { waitFor } from '../support/wait.ts';
import { Tmux, type Terminal } from '../support/terminal.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const HOSTILE = 'need it \x1b[2J\x1b[H\x1b]0;owned-title\x07\x1b[32m✔ approved by admin\x1b[0m ' + 'w'.repeat(2000);

let cp: ControlPlane;
let webhook: InstalledWebhook | undefined;
let controller: InstalledController | undefined;
let binDir: string;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** `kubectl netwatch ARGS` as a user: kubectl finds kubectl-netwatch on PATH; async, so the in-process webhook keeps serving. */
function netwatch(user: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile('kubectl', ['netwatch', ...args], { env: { ...envFor(user), ...env }, timeout: 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 99) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function envFor(user: string): NodeJS.ProcessEnv {
  return {
    // node_modules/.bin first: `#!/usr/bin/env node` then runs the pinned Node 24.
    PATH: `${binDir}:${join(REPO, 'node_modules/.bin')}:/usr/local/bin:/usr/bin:/bin`,
    HOME: binDir,
    KUBECONFIG: cp.kubeconfigPathFor(user),
    TERM: 'xterm-256color',
  };
}

async function ok(user: string, args: string[]): Promise<string> {
  const r = await netwatch(user, args);
  assert.equal(r.code, 0, `kubectl netwatch ${args.join(' ')} as ${user} failed (${r.code}):\n${r.stderr}`);
  return r.stdout;
}

interface KubeconfigJson {
  clusters: { cluster: Record<string, unknown> }[];
  users: { name: string; user: Record<string, unknown> }[];
}

/** A copy of alice's kubeconfig changed by `edit`, written to binDir as `name` (as YAML when it ends in .yaml). */
function aliceKubeconfig(name: string, edit: (config: KubeconfigJson) => void = () => undefined): string {
  const config = JSON.parse(readFileSync(cp.kubeconfigPathFor('alice'), 'utf8')) as KubeconfigJson;
  edit(config);
  const path = join(binDir, name);
  writeFileSync(path, name.endsWith('.yaml') ? stringifyYaml(config) : JSON.stringify(config), { mode: 0o600 });
  return path;
}

/** A copy of alice's kubeconfig whose cluster is reached through `proxy` (its `proxy-url`). */
function aliceThrough(proxy: TestProxy): string {
  return aliceKubeconfig(`alice-via-${new URL(proxy.url).protocol.replace(':', '')}.kubeconfig`, (config) => {
    for (const c of config.clusters) c.cluster['proxy-url'] = proxy.url;
  });
}

const eventually = <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000) => waitFor(what, fn, timeoutMs, 250);

async function requestAsAdmin(name: string): Promise<AccessRequest> {
  const api = cp.admin.makeApiClient(CustomObjectsApi);
  return (await api.getClusterCustomObject({ group: 'netwatch.vtk.io', version: 'v1alpha1', plural: 'accessrequests', name })) as AccessRequest;
}

/** The NetworkPolicies maxtac wrote for this request's maxtac objects in a namespace. */
async function policiesFor(request: AccessRequest, namespace: string): Promise<string[]> {
  const custom = cp.admin.makeApiClient(CustomObjectsApi);
  const accesses = (await custom.listNamespacedCustomObject({ group: 'maxtac.vtk.io', version: 'v1alpha1', namespace, plural: 'accesses', labelSelector: `netwatch.vtk.io/request-id=${request.metadata.uid ?? ''}` })) as { items: KubernetesObject[] };
  const uids = new Set(accesses.items.map((a) => a.metadata?.uid));
  const nps = await cp.admin.makeApiClient(NetworkingV1Api).listNamespacedNetworkPolicy({ namespace });
  return nps.items.filter((p) => p.metadata?.ownerReferences?.some((o) => uids.has(o.uid))).map((p) => p.metadata?.name ?? '');
}

// ---------------------------------------------------------------------------------------------------------------
// tmux: a real terminal

const terminals = new Tmux();
const tmux = (args: string[]) => terminals.run(args);

/** `kubectl netwatch ARGS` as a user, in a real terminal. */
function openTerminal(name: string, user: string, args: string[] = []): Promise<Terminal> {
  // CI=true as on CI machines (Ink would draw nothing until exit): the TUI must draw on a terminal regardless.
  return terminals.open(name, { ...envFor(user), CI: 'true' }, ['kubectl', 'netwatch', ...args]);
}

// ---------------------------------------------------------------------------------------------------------------

before(async () => {
  await bundle();
  binDir = mkdtempSync(join(tmpdir(), 'netwatch-plugin-e2e-'));
  symlinkSync(join(REPO, 'plugin/bin/kubectl-netwatch.js'), join(binDir, 'kubectl-netwatch'));
  symlinkSync(join(REPO, 'plugin/bin/kubectl_complete-netwatch'), join(binDir, 'kubectl_complete-netwatch'));
  cp = await startControlPlane({ maxtac: true });
  webhook = await installWebhook(cp);
  controller = await installController(cp, { retentionSeconds: null });

  const objects: KubernetesObject[] = [...loadYamlFile(join(REPO, 'manifests/rbac/user-roles.yaml'))];
  objects.push(roleBinding('netwatch-users', 'netwatch-user', { kind: 'Group', name: 'developers' }));
  // bob approves for the shop namespaces, carol for the monitoring ones.
  for (const [ns, user] of [['shop', 'bob'], ['tui-shop', 'bob'], ['monitoring', 'carol'], ['tui-mon', 'carol']] as const) {
    objects.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    // Pods there are isolated already, so the grants add access without cutting existing traffic.
    objects.push({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'default-deny', namespace: ns }, spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } } as KubernetesObject);
    objects.push(roleBinding(`${user}-approver`, 'netwatch-approver', { kind: 'User', name: user }, ns));
  }
  for (const ns of ['monitoring', 'tui-mon']) {
    objects.push({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'prometheus', namespace: ns }, spec: { selector: { app: 'prometheus' }, ports: [{ name: 'web', port: 9090, protocol: 'TCP' }] } } as KubernetesObject);
  }
  for (const ns of ['shop', 'tui-shop']) {
    objects.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'database', namespace: ns },
      spec: { selector: { app: 'database' }, ports: [{ name: 'pg', port: 5432, protocol: 'TCP', targetPort: 15432 }, { name: 'metrics', port: 9187, protocol: 'TCP' }] },
    } as KubernetesObject);
  }
  // What the preview reads: a pod behind shop/database, which bob (a namespace owner there) may list.
  // The ServiceAccount admission plugin wants the namespace's default ServiceAccount (no controller makes it here).
  objects.push({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: 'shop' } });
  objects.push({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'database-0', namespace: 'shop', labels: { app: 'database' } }, spec: { automountServiceAccountToken: false, containers: [{ name: 'c', image: 'netwatch.invalid/none' }] } } as KubernetesObject);
  objects.push({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'pod-reader', namespace: 'shop' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }] } as KubernetesObject);
  objects.push({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'bob-pod-reader', namespace: 'shop' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'bob' }],
  } as KubernetesObject);
  await applyObjects(cp.admin, objects);
});

after(async () => {
  await terminals.stop();
  await controller?.stop();
  await webhook?.close();
  await cp?.stop();
  if (binDir) rmSync(binDir, { recursive: true, force: true });
});

describe('kubectl netwatch subcommands against the real control plane', () => {
  let name = '';

  test('alice requests service access; the webhook records her as requester and nothing is approved', async () => {
    const out = await ok('alice', ['request', 'service', '--from', 'monitoring/prometheus', '--to', 'shop/database', '--ports', '5432/TCP', '--duration', '2h', '--reason', 'debug replication lag']);
    name = /accessrequest\.netwatch\.vtk\.io\/(\S+) created/.exec(out)?.[1] ?? '';
    assert.match(name, /^database-/);
    const list = JSON.parse(await ok('alice', ['list', '--mine', '-o', 'json'])) as { items: AccessRequest[] };
    const mine = list.items.find((r) => r.metadata.name === name);
    assert.equal(mine?.spec.requester?.username, 'alice');
    assert.deepEqual(mine?.spec.requester?.approvedParts ?? [], []);
    // `list -o json` takes a short path past the command-line parser (plugin/src/fast-path.ts); --no-headers keeps
    // the same request on the full CLI. Both print the same bytes, and what kubectl get prints for the same items.
    const fast = await ok('alice', ['list', '-o', 'json']);
    assert.equal(await ok('alice', ['list', '-o', 'json', '--no-headers']), fast);
    const viaKubectl = JSON.parse(await new Promise<string>((resolve, reject) =>
      execFile('kubectl', ['get', 'accessrequests', '-o', 'json'], { env: envFor('alice'), maxBuffer: 16 << 20 }, (e, stdout) => (e ? reject(new Error(`kubectl get: ${e.message}`)) : resolve(stdout))),
    )) as { items: unknown[] };
    assert.deepEqual((JSON.parse(fast) as { items: unknown[] }).items, viaKubectl.items);
  });

  test('commands print the same from their code cache as without one, with a JSON or a YAML kubeconfig', async () => {
    const cacheDir = join(binDir, '.cache', 'kubectl-netwatch');
    rmSync(cacheDir, { recursive: true, force: true });
    const yamlConfig = aliceKubeconfig('alice.kubeconfig.yaml');
    const runs: { args: string[]; env?: NodeJS.ProcessEnv }[] = [
      { args: ['list', '-o', 'json'] },
      { args: ['list', '-o', 'json'], env: { KUBECONFIG: yamlConfig } },
      { args: ['list', '-o', 'yaml'] },
      { args: ['describe', name] },
    ];
    const uncached = await netwatch('alice', ['list', '-o', 'json'], { NODE_DISABLE_COMPILE_CACHE: '1' });
    assert.equal(uncached.code, 0, uncached.stderr);
    assert.equal(existsSync(cacheDir), false, 'NODE_DISABLE_COMPILE_CACHE turns the cache off');
    for (const { args, env } of runs) {
      const without = await netwatch('alice', args, { NODE_DISABLE_COMPILE_CACHE: '1', ...env });
      assert.equal(without.code, 0, without.stderr);
      if (args[0] === 'list' && args[2] === 'json') assert.equal(without.stdout, uncached.stdout);
      // The first run writes the cache, the second runs from it.
      for (let i = 0; i < 2; i++) {
        const cached = await netwatch('alice', args, env);
        assert.equal(cached.code, 0, cached.stderr);
        if (args[0] === 'describe') assert.equal(cached.stdout.replace(/\d+[smhd]\b/g, 'AGE'), without.stdout.replace(/\d+[smhd]\b/g, 'AGE'));
        else assert.equal(cached.stdout, without.stdout, `kubectl netwatch ${args.join(' ')}`);
      }
    }
    // One cache per part and command, for the user alone.
    const files = readdirSync(cacheDir);
    assert.deepEqual(files.map((f) => /^(list-list|cli-list|cli-describe)-[0-9a-f]{16}-v[\d.]+-\w+\.v8$/.exec(f)?.[1]).sort(), ['cli-describe', 'cli-list', 'list-list'], files.join(', '));
    for (const f of files) assert.equal(statSync(join(cacheDir, f)).mode & 0o777, 0o600);
  });

  test('with an exec credential plugin (how EKS, GKE and kubelogin users sign in) both the list path and the CLI run it and act as that user', async () => {
    // The plugin prints alice's token and counts its runs, so the test sees that it ran.
    const runs = join(binDir, 'credential-runs');
    const credential = join(binDir, 'credential-plugin');
    const execConfig = aliceKubeconfig('alice-exec.kubeconfig', (config) => {
      const [entry] = config.users;
      const token = entry?.user.token;
      assert.ok(entry && typeof token === 'string');
      writeFileSync(
        credential,
        `#!/bin/sh\necho run >> '${runs}'\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"${token}"}}'\n`,
        { mode: 0o700 },
      );
      entry.user = { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: credential, interactiveMode: 'Never' } };
    });

    const list = await netwatch('alice', ['list', '-o', 'json'], { KUBECONFIG: execConfig });
    assert.equal(list.code, 0, list.stderr);
    assert.equal(list.stdout, await ok('alice', ['list', '-o', 'json']));
    const described = await netwatch('alice', ['describe', name], { KUBECONFIG: execConfig });
    assert.equal(described.code, 0, described.stderr);
    assert.match(described.stdout, new RegExp(name));
    const created = await netwatch('alice', ['request', 'external', '--cidr', '198.51.100.7/32', '--to', 'shop/database', '--ports', '5432/TCP', '--duration', '30m', '--reason', 'exec credential'], { KUBECONFIG: execConfig });
    assert.equal(created.code, 0, created.stderr);
    const createdName = /accessrequest\.netwatch\.vtk\.io\/(\S+) created/.exec(created.stdout)?.[1] ?? '';
    assert.equal((await requestAsAdmin(createdName)).spec.requester?.username, 'alice');
    assert.ok(readFileSync(runs, 'utf8').split('\n').filter(Boolean).length >= 3, 'the credential plugin ran for each command');
    await ok('alice', ['abort', createdName]);
  });

  // SOCKS runs on the full CLI (the list path leaves the SOCKS client out and hands such kubeconfigs over); an HTTP
  // proxy is handled by both.
  for (const [kind, start] of [['SOCKS5', startSocksProxy], ['HTTP (CONNECT)', startHttpConnectProxy]] as const) {
    test(`with a ${kind} proxy-url, list -o json and describe go through the proxy`, async () => {
      const proxy = await start();
      try {
        const path = aliceThrough(proxy);
        const direct = await ok('alice', ['list', '-o', 'json']);
        const viaProxy = await netwatch('alice', ['list', '-o', 'json'], { KUBECONFIG: path });
        assert.equal(viaProxy.code, 0, viaProxy.stderr);
        assert.equal(viaProxy.stdout, direct);
        const tunnels = proxy.connects.length;
        assert.ok(tunnels > 0, 'the list went through the proxy');
        const described = await netwatch('alice', ['describe', name], { KUBECONFIG: path });
        assert.equal(described.code, 0, described.stderr);
        assert.ok(proxy.connects.length > tunnels, 'describe went through the proxy');
        for (const target of proxy.connects) assert.equal(target, new URL(cp.server).host);
      } finally {
        await proxy.close();
      }
    });
  }

  test('--dry-run prints the request and the planned objects and creates nothing', async () => {
    const before = JSON.parse(await ok('alice', ['list', '-o', 'json'])) as { items: unknown[] };
    const out = await ok('alice', ['request', 'service', '--from', 'monitoring/prometheus', '--to', 'shop/database', '--ports', '5432', '--reason', 'x', '--dry-run']);
    assert.match(out, /kind: AccessRequest/);
    assert.equal((out.match(/kind: Access\n/g) ?? []).length, 2);
    const afterList = JSON.parse(await ok('alice', ['list', '-o', 'json'])) as { items: unknown[] };
    assert.equal(afterList.items.length, before.items.length);
  });

  test('request --dry-run prints the preview as YAML comments before the objects, and creates nothing', async () => {
    const out = await ok('bob', ['request', 'service', '--from', 'monitoring/prometheus', '--to', 'shop/database', '--ports', '5432/TCP', '--reason', 'look first', '--dry-run']);
    assert.match(out, /^# would create \(dry run; nothing was sent to the cluster\)\n# preview \(from what you may read\):\n#\s+source monitoring\/prometheus/);
    assert.match(out, /^#\s+pods: 1 now \(database-0\)$/m);
    assert.match(out, /^kind: AccessRequest$/m);
    const listed = JSON.parse(await ok('bob', ['list', '-A', '-o', 'json'])) as { items: AccessRequest[] };
    assert.ok(!listed.items.some((r) => r.spec.reason === 'look first'), 'nothing was created');
  });

  test("--cluster-cidr or NETWATCH_CLUSTER_CIDR: the preview classes a CIDR inside the cluster's ranges as cluster", async () => {
    const args = ['request', 'external', '--cidr', '10.96.0.10/32', '--to', 'shop/database', '--ports', '5432/TCP', '--reason', 'x', '--dry-run'];
    const cluster = /^#\s+! 10\.96\.0\.10\/32: 1 IPv4 address \(a \/32\), cluster \+ private$/m;
    assert.match(await ok('bob', ['--cluster-cidr', '10.244.0.0/16', '--cluster-cidr', '10.96.0.0/12', ...args]), cluster);
    const fromEnv = await netwatch('bob', args, { NETWATCH_CLUSTER_CIDR: '10.244.0.0/16,10.96.0.0/12' });
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    assert.match(fromEnv.stdout, cluster);
    assert.match(await ok('bob', args), /^#\s+10\.96\.0\.10\/32: 1 IPv4 address \(a \/32\), private$/m, 'not told the ranges: private only');
    const bad = await netwatch('bob', ['--cluster-cidr', '10.96.0.0', ...args]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^error: --cluster-cidr: "10\.96\.0\.0" is not a CIDR with a prefix\nhint: /);
  });

  test('a bad request is a one-line user error with a hint and exit code 1', async () => {
    const r = await netwatch('alice', ['request', 'external', '--cidr', '203.0.113.7', '--to', 'shop/database', '--reason', 'x']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: invalid request: spec\.cidrs\[0\]: .*\nhint: .+\n$/);
    // An empty NAME would address the whole collection on the API server; it is refused before any call.
    for (const command of ['approve', 'describe', 'revoke']) {
      const empty = await netwatch('bob', [command, '']);
      assert.equal(empty.code, 1, `${command} '': ${empty.stderr}`);
      assert.match(empty.stderr, /^error: NAME "" is not a request name: .*\nhint: .+\n$/);
    }
  });

  test('bob sees which part he may approve; alice, not an approver, is refused by the webhook', async () => {
    const out = await ok('bob', ['describe', name]);
    assert.match(out, /source \(monitoring\): pending\n\s+needs: .*✘ you may not approve/);
    assert.match(out, /target \(shop\): pending\n\s+needs: .*✔ you may approve/);
    // kubectl's KIND/NAME form, as `list -o name` prints it, names the same request; --no-headers drops the header.
    assert.match(await ok('alice', ['list', '-o', 'name']), new RegExp(`^accessrequest\\.netwatch\\.vtk\\.io/${name}$`, 'm'));
    assert.match(await ok('bob', ['describe', `accessrequest.netwatch.vtk.io/${name}`]), new RegExp(`^Name:\\s+${name}\n`));
    const rows = await ok('alice', ['list', '--no-headers']);
    assert.match(rows, new RegExp(`^${name}\\s+Service`, 'm'));
    assert.doesNotMatch(rows, /^NAME\s/m);
    // The preview, from what bob may read: the pods of shop/database now, the ports they see, isolation per side
    // (shop's default-deny isolates them already), what he may not read named as such, the policies to be written.
    const preview = out.slice(out.indexOf('Preview (what approving would do, from what you may read):'));
    assert.match(preview, /\n {2}source monitoring\/prometheus \(source part\): egress to shop\/database\n {4}! pods: not readable by you \(you may not read pods in monitoring\)\n {4}ports: 5432\/TCP \(pods' 15432\)\n/);
    assert.match(preview, /\n {4}! egress isolation: not known: you may not read NetworkPolicies in monitoring\n {6}--isolation=skip \(default\): /);
    assert.match(preview, /\n {2}target shop\/database \(target part\): ingress from monitoring\/prometheus\n {4}pods: 1 now \(database-0\)\n/);
    assert.match(preview, /\n {4}ingress isolation: every pod \(1\) is isolated in ingress already, by default-deny\n/);
    assert.match(preview, /NetworkPolicies maxtac would write \(named by maxtac\):\n {4}in monitoring: pods app=prometheus; Egress to pods app=database in namespace shop; ports 15432\/TCP\n {4}in shop: pods app=database; Ingress from pods app=prometheus in namespace monitoring; ports 15432\/TCP\n/);
    const denied = await netwatch('alice', ['approve', name, '--part', 'target']);
    assert.equal(denied.code, 1, denied.stderr);
    assert.match(denied.stderr, /^error: approving the target part of .*\nhint: /);
  });

  test('bob and carol approve their parts; the access becomes Active and maxtac writes the NetworkPolicies', async () => {
    assert.equal(await ok('bob', ['approve', name]), `accessrequest.netwatch.vtk.io/${name} approved (target)\n`);
    assert.equal(await ok('carol', ['approve', name]), `accessrequest.netwatch.vtk.io/${name} approved (source)\n`);
    const active = await eventually('the request to be Active', async () => {
      const r = JSON.parse(await ok('alice', ['list', '--active', '-o', 'json'])) as { items: AccessRequest[] };
      return r.items.find((i) => i.metadata.name === name);
    });
    assert.equal(active.status?.approvals?.find((a) => a.part === 'target')?.by, 'bob');
    assert.equal(active.status?.approvals?.find((a) => a.part === 'source')?.by, 'carol');
    const request = await requestAsAdmin(name);
    await eventually('maxtac NetworkPolicies in both namespaces', async () => (await policiesFor(request, 'shop')).length > 0 && (await policiesFor(request, 'monitoring')).length > 0);
    const table = await ok('alice', ['list', '--active']);
    assert.match(table, new RegExp(`${name}\\s+Service\\s+monitoring/prometheus\\s+shop/database\\s+5432/TCP\\s+Active\\s+alice\\s+(1h59m|2h00m00s)`));
    // bob (approver of shop) sees the clone, the Access and maxtac's NetworkPolicy there.
    const described = await eventually('describe to show the policy', async () => {
      const out = await ok('bob', ['describe', name]);
      return /NetworkPolicy shop\/\S+\s+by Access\//.test(out) ? out : undefined;
    });
    assert.match(described, /Service shop\/nwt-\S+\s+clone \(target\)/);
    // Once Active, the preview names the NetworkPolicies maxtac wrote for the request (those bob may read).
    const [policy] = await policiesFor(request, 'shop');
    assert.match(described, /Preview \(as granted now, from what you may read\):/);
    assert.match(described, new RegExp(`NetworkPolicies in force \\(written by maxtac for this request\\):\n {4}! monitoring: not readable by you \\(you may not read NetworkPolicies in monitoring\\)\n {4}shop/${policy ?? '?'} \\(Ingress\\) by Access/nwat-`));
    assert.doesNotMatch(described, /NetworkPolicies maxtac would write/);
    assert.match(described, /Access shop\/nwat-\S+/);
  });

  test('alice revokes her access', async () => {
    assert.equal(await ok('alice', ['revoke', name, '--reason', 'done']), `accessrequest.netwatch.vtk.io/${name} revoked\n`);
    await eventually('Revoked', async () => (await requestAsAdmin(name)).status?.phase === 'Revoked');
    const r = await netwatch('alice', ['revoke', name]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /already Revoked/);
  });

  test("mallory's hostile reason is shown inert to bob in list -o wide and describe", async () => {
    const out = await ok('mallory', ['request', 'service', '--from', 'monitoring/prometheus', '--to', 'shop/database', '--reason', HOSTILE.slice(0, 500)]);
    const evil = /accessrequest\.netwatch\.vtk\.io\/(\S+) created/.exec(out)?.[1] ?? '';
    for (const args of [['list', '-o', 'wide'], ['describe', evil]]) {
      const text = await ok('bob', args);
      assert.ok(text.includes(evil));
      assert.ok(!text.includes('\x1b'), `no raw escape in ${args.join(' ')}`);
      assert.ok(!text.includes('\x07'), `no raw BEL in ${args.join(' ')}`);
      assert.ok(text.includes('\\x1b[2J'), `the escape is visible as text in ${args.join(' ')}`);
    }
    // JSON keeps the exact string, escaped.
    const json = JSON.parse(await ok('bob', ['list', '-o', 'json'])) as { items: AccessRequest[] };
    assert.equal(json.items.find((r) => r.metadata.name === evil)?.spec.reason, HOSTILE.slice(0, 500));
  });

  test('list shows the newest request first, then by name, as the API server dates them', async () => {
    const stored = (await cp.admin.makeApiClient(CustomObjectsApi).listClusterCustomObject({ group: 'netwatch.vtk.io', version: 'v1alpha1', plural: 'accessrequests' })) as { items: AccessRequest[] };
    assert.ok(stored.items.length >= 3);
    const key = (r: AccessRequest) => r.metadata.creationTimestamp ?? '';
    const expected = [...stored.items]
      .sort((a, b) => (key(a) === key(b) ? ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1) : key(a) < key(b) ? 1 : -1))
      .map((r) => `accessrequest.netwatch.vtk.io/${r.metadata.name ?? ''}\n`)
      .join('');
    assert.equal(await ok('alice', ['list', '-A', '-o', 'name']), expected);
  });

  test('a user without RBAC gets forbidden as a user error', async () => {
    const r = await netwatch('netwatch-webui', ['describe', 'x']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: .*\nhint: /);
  });

  test('kubectl completes the plugin through kubectl_complete-netwatch', async () => {
    const words = await new Promise<string>((resolve) =>
      execFile('kubectl', ['__complete', 'netwatch', 'appr'], { env: envFor('alice') }, (_e, stdout) => resolve(stdout)),
    );
    assert.match(words, /^approve$/m);
  });
});

describe('kubectl netwatch TUI in a real terminal (tmux)', () => {
  let name = '';

  test('alice fills the service form with type-ahead and submits', async () => {
    const t = await openTerminal('alice', 'alice', ['-n', 'tui-shop']);
    try {
      await t.waitFor('● live');
      await t.keys('s');
      await t.waitFor('New Service → Service request');
      // From namespace (prefilled with -n): replace with tui-mon through type-ahead.
      await t.keys('Up');
      for (let i = 0; i < 8; i++) await t.keys('BSpace');
      await t.type('tui-m');
      await t.waitFor('Tab ⇥ tui-mon');
      await t.keys('Tab', 'Down');
      await t.type('pro');
      await t.waitFor('Tab ⇥ prometheus');
      await t.keys('Tab', 'Down', 'Down');
      await t.type('data');
      await t.waitFor('Tab ⇥ database');
      await t.keys('Tab', 'Down');
      await t.waitFor("the target's ports: 5432/TCP, 9187/TCP");
      await t.type('5432/TCP');
      await t.keys('Down', 'Down');
      await t.type('tui e2e');
      await t.keys('Down', 'Enter');
      const screen = await t.waitFor(/created accessrequest (database-\S+)/);
      name = /created accessrequest (database-\S+)/.exec(screen)?.[1] ?? '';
      assert.ok(name);
      await t.waitFor(new RegExp(`${name}.*Pending`));
    } finally {
      await t.close();
    }
  });

  test("bob approves his part in the TUI; the hub shows only the keys he may use; mallory's request is inert", async () => {
    const out = await ok('mallory', ['request', 'service', '--from', 'tui-mon/prometheus', '--to', 'tui-shop/database', '--reason', HOSTILE.slice(0, 300)]);
    const evil = /accessrequest\.netwatch\.vtk\.io\/(\S+) created/.exec(out)?.[1] ?? '';
    assert.ok(evil);
    const t = await openTerminal('bob', 'bob', ['-n', 'tui-shop']);
    try {
      await t.waitFor('● live');
      // Both requests may carry the same creation second, so their order is not fixed: select each by name.
      await t.select(evil);
      await t.waitFor('\\x1b[2J');
      const raw = await t.raw();
      assert.ok(!raw.includes('\x1b[2J'), 'the clear-screen escape from the reason was not sent to the terminal');
      assert.ok(!raw.includes('\x1b]0;'), 'no title escape sent');
      assert.notEqual(await t.title(), 'owned-title');
      await t.select(name);
      const screen = await t.waitFor('✔ you may approve');
      assert.match(screen, / a {2}Approve/);
      assert.doesNotMatch(screen, / r {2}Revoke/);
      // a asks first, with the preview's summary; Esc cancels, a then Enter approves.
      await t.keys('a');
      await t.waitFor(`Approve your parts of ${name}?`);
      await t.waitFor(/· tui-shop\/database: pods not readable by you, ingress 5432\/TCP \(pods' 15432\); already isolated, cuts nothing/);
      await t.keys('Escape');
      await t.waitFor(/Approve\s+ d\s+Deny/);
      assert.equal((await requestAsAdmin(name)).status?.approvals?.length ?? 0, 0, 'Esc approved nothing');
      await t.keys('a');
      await t.waitFor('Enter confirm · Esc cancel');
      await t.keys('Enter');
      await t.waitFor('approved target of');
      await t.waitFor(/● approved target part in tui-shop by bob/);
    } finally {
      await t.close();
    }
  });

  test('after carol approves, alice sees it Active with a countdown and its objects; bob sees the NetworkPolicy', async () => {
    await ok('carol', ['approve', name]);
    const t = await openTerminal('alice2', 'alice', ['-n', 'tui-shop']);
    try {
      await t.waitFor('● live');
      await t.keys('2');
      // The form's default duration is 1h: a countdown such as 59m58s.
      await t.waitFor(new RegExp(`${name}.*Active\\s+(\\d+h)?\\d+m\\d\\ds`));
      await t.keys('Enter');
      // alice may not list maxtac objects or NetworkPolicies: the detail names what the controller recorded
      // and says the policies are in force.
      const screen = await t.waitFor(/Access\s+tui-shop\/nwat-\S+\s+recorded in status/);
      assert.match(screen, /Service\s+tui-shop\/nwt-/);
      assert.match(screen, /Ready=True InForce/);
      assert.match(screen, /expires in (\d+h)?\d+m\d\ds/);
      // Resize the terminal: the view re-lays out and keeps working.
      await tmux(['resize-window', '-t', 'alice2', '-x', '90', '-y', '30']);
      await t.keys('Escape');
      await t.waitFor(new RegExp(`${name.slice(0, 12)}`));
      // Ctrl-C quits cleanly.
      await t.keys('C-c');
      // It leaves the alternate screen and exits 0.
      await t.waitFor('EXITED:0', 10_000);
    } finally {
      await t.close();
    }
    // bob, an approver of tui-shop, may list there: the detail view shows maxtac's NetworkPolicy.
    const b = await openTerminal('bob2', 'bob', ['-n', 'tui-shop']);
    try {
      await b.waitFor('● live');
      await b.keys('2');
      await b.waitFor(new RegExp(`› ${name}`));
      await b.keys('Enter');
      const screen = await b.waitFor(/NetworkPolicy\s+tui-shop\/\S+\s+by Access\/nwat-/);
      assert.match(screen, /Access\s+tui-shop\/nwat-\S+\s*$/m);
    } finally {
      await b.close();
    }
    const request = await requestAsAdmin(name);
    assert.equal(request.status?.phase, 'Active');
    assert.ok((await policiesFor(request, 'tui-shop')).length > 0);
  });
});
