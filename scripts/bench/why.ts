// `kubectl netwatch why` on a cluster with many NetworkPolicies against `kubectl get networkpolicies -A -o json` on
// the same cluster, same user: the design's bound for the evaluator (issue 16: under 1.5×). The policies are split
// between the two namespaces the question is about, so `why` reads and evaluates every one of them; a few pods on
// each side (Pod objects with a Running status and an address, as the test dataplane makes them) give it pairs to
// judge. Runs interleaved, medians.
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpKube } from '../../lib/kube/http.ts';
import type { KubeObject } from '../../lib/kube/types.ts';
import { bundle } from '../../plugin/build.ts';
import type { ControlPlane } from '../controlplane.ts';
import { percentile, runConcurrently } from './http.ts';
import { timeCommand } from './procs.ts';
import type { Figure } from './table.ts';

export interface WhyBenchOptions {
  policies: number;
  runs: number;
  kubectl?: string;
  log?: (line: string) => void;
}

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const FROM = 'bench-why-from';
const TO = 'bench-why-to';
const PODS_PER_SIDE = 4;

/** Policy i: alternately an ingress rule in TO admitting some labels from FROM, and an egress rule in FROM, on ports. */
function policy(i: number): KubeObject {
  const inTo = i % 2 === 0;
  const port = 1000 + (i % 500);
  const spec = inTo
    ? { podSelector: { matchLabels: { app: 'server' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': FROM } }, podSelector: { matchLabels: { tier: `t${i % 7}` } } }], ports: [{ port, protocol: 'TCP' }] }] }
    : { podSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: [`t${i % 7}`, 'web'] }] }, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: `10.${i % 250}.0.0/16`, except: [`10.${i % 250}.1.0/24`] } }], ports: [{ port, endPort: port + 10, protocol: 'TCP' }] }] };
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: `bench-np-${i}`, namespace: inTo ? TO : FROM }, spec } as KubeObject;
}

export async function benchWhy(cp: ControlPlane, opts: WhyBenchOptions): Promise<Figure[]> {
  const log = opts.log ?? (() => undefined);
  const kubectl = opts.kubectl ?? '/usr/bin/kubectl';
  await bundle();
  const bin = mkdtempSync(join(tmpdir(), 'netwatch-bench-why-'));
  const admin = new HttpKube(cp.admin, { maxSockets: 16, cached: [] });
  try {
    symlinkSync(join(REPO, 'plugin/bin/kubectl-netwatch.js'), join(bin, 'kubectl-netwatch'));
    for (const ns of [FROM, TO]) {
      await admin.call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      await admin.call('POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } }).catch(() => undefined);
    }
    await admin.call('POST', `/api/v1/namespaces/${FROM}/services`, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'client' }, spec: { selector: { app: 'client' }, ports: [{ port: 80, targetPort: 8080 }] } });
    await admin.call('POST', `/api/v1/namespaces/${TO}/services`, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'server' }, spec: { selector: { app: 'server' }, ports: [{ port: 1100, targetPort: 1100 }] } });
    const pods = [FROM, TO].flatMap((ns, side) => Array.from({ length: PODS_PER_SIDE }, (_, i) => ({ ns, name: `p${i}`, app: side === 0 ? 'client' : 'server', ip: `198.18.${10 + side}.${i + 2}`, tier: `t${i}` })));
    for (const p of pods) {
      await admin.call('POST', `/api/v1/namespaces/${p.ns}/pods`, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: p.name, labels: { app: p.app, tier: p.tier } },
        spec: { automountServiceAccountToken: false, containers: [{ name: 'c', image: 'netwatch.invalid/none', ports: [{ containerPort: 1100, protocol: 'TCP' }] }] },
      });
      await admin.call('PATCH', `/api/v1/namespaces/${p.ns}/pods/${p.name}/status`, { status: { phase: 'Running', podIP: p.ip, podIPs: [{ ip: p.ip }] } }, 'application/merge-patch+json');
    }
    await runConcurrently(opts.policies, 16, async (i) => {
      const np = policy(i);
      await admin.call('POST', `/apis/networking.k8s.io/v1/namespaces/${np.metadata.namespace}/networkpolicies`, np);
    });
    // The pinned Node (node_modules/.bin), as npm scripts have it.
    const env: NodeJS.ProcessEnv = { PATH: `${bin}:${join(REPO, 'node_modules/.bin')}:/usr/local/bin:/usr/bin:/bin`, HOME: bin, KUBECONFIG: cp.adminKubeconfigPath };
    const cases = [
      { label: 'kubectl get networkpolicies -A -o json', args: ['get', 'networkpolicies', '-A', '-o', 'json'], mustPrint: '"items"' },
      { label: `kubectl netwatch why (${PODS_PER_SIDE}×${PODS_PER_SIDE} pods) -o json`, args: ['netwatch', 'why', '--from', `${FROM}/client`, '--to', `${TO}/server`, '--port', '1100/TCP', '-o', 'json'], mustPrint: '"allowedBy"' },
    ];
    for (let i = 0; i < 3; i++) for (const c of cases) await timeCommand(kubectl, c.args, env, c.mustPrint);
    const samples = cases.map(() => [] as number[]);
    for (let i = 0; i < opts.runs; i++) for (const [k, c] of cases.entries()) samples[k]!.push(await timeCommand(kubectl, c.args, env, c.mustPrint));
    const [get, why] = samples.map((s) => percentile(s, 50)) as [number, number];
    log(`  ${opts.policies} NetworkPolicies in ${FROM} and ${TO}, ${opts.runs} interleaved runs each, median wall time:`);
    for (const [k, c] of cases.entries()) log(`    ${c.label.padEnd(48)} ${percentile(samples[k]!, 50).toFixed(1).padStart(7)} ms`);
    return [{ metric: `why: kubectl netwatch why, ${opts.policies} NetworkPolicies (vs kubectl get networkpolicies -A -o json)`, measured: why, baseline: get, unit: 'ms', maxRatio: 1.5 }];
  } finally {
    for (const ns of [FROM, TO]) await admin.call('DELETE', `/api/v1/namespaces/${ns}`).catch(() => undefined);
    await admin.stop();
    rmSync(bin, { recursive: true, force: true });
  }
}
