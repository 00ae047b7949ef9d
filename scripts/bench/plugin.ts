// Plugin start-up and list: `kubectl netwatch list -o json` against `kubectl get accessrequests -o json`, same API
// server, same user, same objects, runs interleaved so machine noise hits both alike; medians. Two floors are
// measured alongside because they bound what any Node plugin can reach: kubectl dispatching to a plugin that does
// nothing (`kubectl noop`, a shell script), and Node starting with nothing to do.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { API_VERSION, KIND } from '../../lib/api/accessrequest.ts';
import { HttpKube } from '../../lib/kube/http.ts';
import { bundle } from '../../plugin/build.ts';
import type { ControlPlane } from '../controlplane.ts';
import { percentile, runConcurrently } from './http.ts';
import type { Figure } from './table.ts';
import { BENCH_LABEL, deleteLabelledRequests } from './webhook.ts';

export interface PluginBenchOptions {
  requests: number;
  runs: number;
  kubectl?: string;
  log?: (line: string) => void;
}

const REPO = fileURLToPath(new URL('../../', import.meta.url));

function time(cmd: string, args: string[], env: NodeJS.ProcessEnv, expectList: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    execFile(cmd, args, { env, maxBuffer: 64 << 20 }, (err, stdout) => {
      if (err) return reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}`, { cause: err }));
      if (expectList && !stdout.includes('"items"')) return reject(new Error(`${cmd} ${args.join(' ')} printed no list`));
      resolve(Number(process.hrtime.bigint() - start) / 1e6);
    });
  });
}

export async function benchPlugin(cp: ControlPlane, opts: PluginBenchOptions): Promise<Figure[]> {
  const log = opts.log ?? (() => undefined);
  const kubectl = opts.kubectl ?? '/usr/bin/kubectl';
  await bundle();
  const bin = mkdtempSync(join(tmpdir(), 'netwatch-bench-'));
  const admin = new HttpKube(cp.admin, { maxSockets: 16, cached: [] });
  try {
    symlinkSync(join(REPO, 'plugin/bin/kubectl-netwatch.js'), join(bin, 'kubectl-netwatch'));
    writeFileSync(join(bin, 'kubectl-noop'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
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
    const env: NodeJS.ProcessEnv = { PATH: `${bin}:${join(REPO, 'node_modules/.bin')}:/usr/local/bin:/usr/bin:/bin`, HOME: bin, KUBECONFIG: cp.adminKubeconfigPath };
    const node = process.execPath;
    const cases: { label: string; cmd: string; args: string[]; list: boolean }[] = [
      { label: 'kubectl get accessrequests -o json', cmd: kubectl, args: ['get', 'accessrequests', '-o', 'json'], list: true },
      { label: 'kubectl netwatch list -o json', cmd: kubectl, args: ['netwatch', 'list', '-o', 'json'], list: true },
      { label: 'kubectl-netwatch list -o json (direct)', cmd: node, args: [join(REPO, 'plugin/bin/kubectl-netwatch.js'), 'list', '-o', 'json'], list: true },
      { label: 'floor: kubectl noop (no-op shell plugin)', cmd: kubectl, args: ['noop'], list: false },
      { label: 'floor: node -e 0', cmd: node, args: ['-e', '0'], list: false },
    ];
    // Warm-up: kubectl's discovery cache, Node's compile cache, the API server's watch cache.
    for (let i = 0; i < 3; i++) for (const c of cases) await time(c.cmd, c.args, env, c.list);
    const samples = cases.map(() => [] as number[]);
    for (let i = 0; i < opts.runs; i++) for (const [k, c] of cases.entries()) samples[k]?.push(await time(c.cmd, c.args, env, c.list));
    const median = (k: number) => percentile(samples[k] ?? [], 50);
    const base = median(0);
    log(`  ${opts.requests} AccessRequests, ${opts.runs} interleaved runs each, median wall time:`);
    for (const [k, c] of cases.entries()) log(`    ${c.label.padEnd(42)} ${median(k).toFixed(1).padStart(7)} ms  ${(median(k) / base).toFixed(2)}×`);
    log(`    floor of any Node plugin through kubectl (noop dispatch + node start): ${((median(3) + median(4)) / base).toFixed(2)}×`);
    return [{ metric: `plugin: list -o json, ${opts.requests} requests (vs kubectl get)`, measured: median(1), baseline: base, unit: 'ms', maxRatio: 1.5 }];
  } finally {
    await admin.stop();
    rmSync(bin, { recursive: true, force: true });
    await deleteLabelledRequests(cp, 'plugin');
  }
}
