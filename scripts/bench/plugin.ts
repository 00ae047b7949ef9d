// Plugin start-up and list: `kubectl netwatch list -o json` against `kubectl get accessrequests -o json`, same API
// server, same user, same objects, runs interleaved so machine noise hits both alike; medians. Both are measured
// with the kubeconfig as JSON (what the test control plane writes) and as YAML (what kubectl, kind and the cloud
// CLIs write), each with its own HOME (kubectl's discovery cache, the plugin's code cache), as two users would have.
// Floors are measured alongside because they bound what any Node plugin can reach: kubectl dispatching to a plugin
// that does nothing (`kubectl noop`, a shell script), Node starting with nothing to do, and the least a Node plugin
// can do for the list (`kubectl floor`: read a JSON kubeconfig, one HTTPS GET, print; no library, no checks).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify as stringifyYaml } from 'yaml';
import { API_VERSION, GROUP, KIND, VERSION } from '../../lib/api/accessrequest.ts';
import { HttpKube } from '../../lib/kube/http.ts';
import { bundle } from '../../plugin/build.ts';
import type { ControlPlane } from '../controlplane.ts';
import { percentile, runConcurrently } from './http.ts';
import { timeCommand } from './procs.ts';
import type { Comparison, Figure } from './table.ts';
import { BENCH_LABEL, deleteLabelledRequests } from './webhook.ts';

export interface PluginBenchOptions {
  requests: number;
  runs: number;
  kubectl?: string;
  log?: (line: string) => void;
  /** Another revision's plugin (its plugin/bin/kubectl-netwatch.js, built), run in the same interleaved rounds. */
  compare?: { label: string; bin: string };
}

const REPO = fileURLToPath(new URL('../../', import.meta.url));

// The least a Node kubectl plugin can do for the list: no kubeconfig library (JSON only, first cluster and user,
// client certificate or token), no error handling, the server's list printed as it comes.
const FLOOR_PLUGIN = `#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import https from 'node:https';
const config = JSON.parse(readFileSync(process.env.KUBECONFIG, 'utf8'));
const cluster = config.clusters[0].cluster;
const user = config.users[0].user;
const data = (k) => (user[k] ? Buffer.from(user[k], 'base64') : undefined);
const headers = user.token ? { authorization: 'Bearer ' + user.token } : {};
https.get(cluster.server + '/apis/${GROUP}/${VERSION}/accessrequests', { headers, ca: Buffer.from(cluster['certificate-authority-data'], 'base64'), cert: data('client-certificate-data'), key: data('client-key-data') }, (res) => {
  const chunks = [];
  res.on('data', (c) => chunks.push(c));
  res.on('end', () => process.stdout.write(JSON.stringify(JSON.parse(Buffer.concat(chunks).toString()), null, 4) + '\\n', () => process.exit(0)));
});
`;

export async function benchPlugin(cp: ControlPlane, opts: PluginBenchOptions): Promise<{ figures: Figure[]; comparisons: Comparison[] }> {
  const log = opts.log ?? (() => undefined);
  const kubectl = opts.kubectl ?? '/usr/bin/kubectl';
  await bundle();
  const bin = mkdtempSync(join(tmpdir(), 'netwatch-bench-'));
  const admin = new HttpKube(cp.admin, { maxSockets: 16, cached: [] });
  try {
    symlinkSync(join(REPO, 'plugin/bin/kubectl-netwatch.js'), join(bin, 'kubectl-netwatch'));
    writeFileSync(join(bin, 'kubectl-noop'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    writeFileSync(join(bin, 'kubectl-floor.mjs'), FLOOR_PLUGIN, { mode: 0o755 });
    symlinkSync(join(bin, 'kubectl-floor.mjs'), join(bin, 'kubectl-floor'));
    const yamlHome = join(bin, 'yaml-user');
    mkdirSync(yamlHome);
    const yamlConfig = join(yamlHome, 'kubeconfig.yaml');
    writeFileSync(yamlConfig, stringifyYaml(JSON.parse(readFileSync(cp.adminKubeconfigPath, 'utf8'))), { mode: 0o600 });
    await runConcurrently(opts.requests, 16, async (i) => {
      await admin.create('accessrequests', {
        apiVersion: API_VERSION,
        kind: KIND,
        metadata: { name: `bench-plugin-${i}`, labels: { [BENCH_LABEL]: 'plugin' } },
        spec: {
          type: 'Service',
          source: { namespace: 'monitoring', service: 'prometheus' },
          target: { namespace: `team-${i % 10}`, service: 'database' },
          ports: [{ port: 5432, protocol: 'TCP' }],
          duration: '2h',
          reason: `benchmark request ${i}`,
          requester: { username: 'alice', groups: ['developers'] },
        },
      });
    });
    const path = `${join(REPO, 'node_modules/.bin')}:/usr/local/bin:/usr/bin:/bin`;
    const env: NodeJS.ProcessEnv = { PATH: `${bin}:${path}`, HOME: bin, KUBECONFIG: cp.adminKubeconfigPath };
    const yamlEnv: NodeJS.ProcessEnv = { ...env, HOME: yamlHome, KUBECONFIG: yamlConfig };
    // The compared revision's plugin: first on a PATH of its own, with a HOME of its own (its code cache).
    const revisionBin = join(bin, 'revision');
    const revisionEnv: NodeJS.ProcessEnv = { ...env, PATH: `${revisionBin}:${path}`, HOME: revisionBin };
    if (opts.compare) {
      mkdirSync(revisionBin);
      symlinkSync(opts.compare.bin, join(revisionBin, 'kubectl-netwatch'));
    }
    const node = process.execPath;
    const cases: { key: string; label: string; cmd: string; args: string[]; env: NodeJS.ProcessEnv; list: boolean }[] = [
      { key: 'get', label: 'kubectl get accessrequests -o json', cmd: kubectl, args: ['get', 'accessrequests', '-o', 'json'], env, list: true },
      { key: 'list', label: 'kubectl netwatch list -o json', cmd: kubectl, args: ['netwatch', 'list', '-o', 'json'], env, list: true },
      { key: 'getYaml', label: 'kubectl get … (YAML kubeconfig)', cmd: kubectl, args: ['get', 'accessrequests', '-o', 'json'], env: yamlEnv, list: true },
      { key: 'listYaml', label: 'kubectl netwatch … (YAML kubeconfig)', cmd: kubectl, args: ['netwatch', 'list', '-o', 'json'], env: yamlEnv, list: true },
      { key: 'getTable', label: 'kubectl get accessrequests (table)', cmd: kubectl, args: ['get', 'accessrequests'], env, list: false },
      { key: 'listTable', label: 'kubectl netwatch list (table: the full CLI)', cmd: kubectl, args: ['netwatch', 'list'], env, list: false },
      { key: 'direct', label: 'kubectl-netwatch list -o json (direct)', cmd: node, args: [join(REPO, 'plugin/bin/kubectl-netwatch.js'), 'list', '-o', 'json'], env, list: true },
      { key: 'floor', label: 'floor: kubectl floor (least Node plugin)', cmd: kubectl, args: ['floor'], env, list: true },
      { key: 'noop', label: 'floor: kubectl noop (no-op shell plugin)', cmd: kubectl, args: ['noop'], env, list: false },
      { key: 'node', label: 'floor: node -e 0', cmd: node, args: ['-e', '0'], env, list: false },
      ...(opts.compare
        ? [
            { key: 'listRev', label: `REV ${opts.compare.label}: kubectl netwatch list -o json`, cmd: kubectl, args: ['netwatch', 'list', '-o', 'json'], env: revisionEnv, list: true },
            { key: 'listTableRev', label: `REV ${opts.compare.label}: kubectl netwatch list`, cmd: kubectl, args: ['netwatch', 'list'], env: revisionEnv, list: false },
          ]
        : []),
    ];
    // Warm-up: kubectl's discovery cache, Node's compile cache and the plugin's code cache, the API server's watch cache.
    for (let i = 0; i < 3; i++) for (const c of cases) await timeCommand(c.cmd, c.args, c.env, c.list ? '"items"' : undefined);
    const samples = cases.map(() => [] as number[]);
    for (let i = 0; i < opts.runs; i++) for (const [k, c] of cases.entries()) samples[k]?.push(await timeCommand(c.cmd, c.args, c.env, c.list ? '"items"' : undefined));
    const median = (k: number) => percentile(samples[k] ?? [], 50);
    const ms = (key: string) => median(cases.findIndex((c) => c.key === key));
    const base = ms('get');
    log(`  ${opts.requests} AccessRequests, ${opts.runs} interleaved runs each, median wall time (ratio to kubectl get, JSON kubeconfig):`);
    for (const [k, c] of cases.entries()) log(`    ${c.label.padEnd(42)} ${median(k).toFixed(1).padStart(7)} ms  ${(median(k) / base).toFixed(2)}×`);
    log(`    with a YAML kubeconfig, kubectl netwatch / kubectl get: ${(ms('listYaml') / ms('getYaml')).toFixed(2)}×`);
    log(`    the table (through the full CLI), kubectl netwatch list / kubectl get: ${(ms('listTable') / ms('getTable')).toFixed(2)}×`);
    log(`    floor of any Node plugin through kubectl (noop dispatch + node start): ${((ms('noop') + ms('node')) / base).toFixed(2)}×`);
    const figures: Figure[] = [
      { metric: `plugin: list -o json, ${opts.requests} requests (vs kubectl get)`, measured: ms('list'), baseline: base, unit: 'ms', maxRatio: 1.5 },
      { metric: `plugin: the same, YAML kubeconfig`, measured: ms('listYaml'), baseline: ms('getYaml'), unit: 'ms', maxRatio: 1.5 },
      { metric: `plugin: least Node plugin (kubectl floor), for reference`, measured: ms('floor'), baseline: base, unit: 'ms' },
      { metric: `plugin: list as a table (the full CLI) vs kubectl get`, measured: ms('listTable'), baseline: ms('getTable'), unit: 'ms' },
    ];
    const comparisons: Comparison[] = opts.compare
      ? [
          { metric: `plugin: list -o json, ${opts.requests} requests, median`, baseline: base, revision: ms('listRev'), head: ms('list'), unit: 'ms', maxRatio: 1.5 },
          { metric: `plugin: list as a table (the full CLI), median`, baseline: ms('getTable'), revision: ms('listTableRev'), head: ms('listTable'), unit: 'ms' },
        ]
      : [];
    return { figures, comparisons };
  } finally {
    await admin.stop();
    rmSync(bin, { recursive: true, force: true });
    await deleteLabelledRequests(cp, 'plugin');
  }
}
