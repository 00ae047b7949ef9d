// Webhook overhead: AccessRequest create latency at high concurrency with netwatch's admission webhooks registered,
// against the same creates with no webhook, on the same API server, from the same client in the same process.
// Rounds alternate (without, with | with, without | ...) so drift in the machine's load hits both sides. The
// webhook runs as its own process (webhook/main.ts, bundled), as in a cluster: the load generator does not share
// its event loop, and its CPU is read from /proc.
import { API_VERSION, GROUP, KIND, PLURAL, VERSION } from '../../lib/api/accessrequest.ts';
import type { ControlPlane } from '../controlplane.ts';
import { installDemo } from '../demo.ts';
import { registerWebhook, unregisterWebhook, waitUntilLive } from '../deploy.ts';
import { benchClient, mean, percentile, runConcurrently } from './http.ts';
import { CpuMeter, controlPlanePids, formatCpu, startWebhookProcess, type WebhookProcess } from './procs.ts';
import { counterBy, histogramBuckets, quantileBound, subtractBuckets, subtractCounters, type Buckets } from './prom.ts';
import type { Figure } from './table.ts';

export interface WebhookBenchOptions {
  /** Creates per measured round. */
  creates: number;
  /** Creates in flight. */
  concurrency: number;
  /** Measured rounds per side. */
  rounds: number;
  profileDir?: string;
  log?: (line: string) => void;
}

export interface WebhookFigures {
  figures: Figure[];
  without: number[];
  withHooks: number[];
  errors: number;
}

export const BENCH_LABEL = 'netwatch.vtk.io/bench';
/** Deletes every AccessRequest a benchmark labelled (none may carry a finalizer: no controller handles them). */
export async function deleteLabelledRequests(cp: ControlPlane, value: string): Promise<void> {
  const admin = benchClient(cp, 'admin-cert', 4);
  try {
    const res = await admin.call('DELETE', `/apis/${GROUP}/${VERSION}/${PLURAL}?labelSelector=${encodeURIComponent(`${BENCH_LABEL}=${value}`)}`);
    if (res.status !== 200) throw new Error(`deleting the benchmark's requests answered ${res.status}: ${res.body.slice(0, 300)}`);
  } finally {
    admin.close();
  }
}

/** API requests served by the API server so far, by verb and resource (its own /metrics). */
export async function apiRequestCounts(cp: ControlPlane): Promise<Map<string, number>> {
  const admin = benchClient(cp, 'admin-cert', 1);
  try {
    return counterBy((await admin.call('GET', '/metrics')).body, 'apiserver_request_total', ['verb', 'resource']);
  } finally {
    admin.close();
  }
}

export function formatPerItem(counts: Map<string, number>, items: number): string {
  return [...counts]
    // The scrapes themselves (GET of a non-resource URL) and rare background requests are noise here.
    .filter(([k, n]) => !k.endsWith(' ') && n / items >= 0.005)
    .sort(([, a], [, b]) => b - a)
    .map(([k, n]) => `${(n / items).toFixed(2)} ${k}`)
    .join(', ');
}

function webhookBuckets(text: string, webhook: 'mutate' | 'validate'): Buckets {
  return histogramBuckets(text, 'netwatch_webhook_admission_duration_seconds', { webhook, operation: 'CREATE' });
}

/** Which webhook (if any) the API server calls in a round: none; one that asks the API server every time; one that reuses answers. */
type Side = 'without' | 'fresh' | 'reused';
const SIDES: readonly Side[] = ['without', 'fresh', 'reused'];
const SIDE_LABEL: Record<Side, string> = { without: 'without webhooks  ', fresh: 'with, answers fresh', reused: 'with, answers reused' };

export async function benchWebhook(cp: ControlPlane, opts: WebhookBenchOptions): Promise<WebhookFigures> {
  const log = opts.log ?? (() => undefined);
  const { creates: count, concurrency } = opts;
  await installDemo(cp);
  // Two webhooks, as deployed but for --answer-ttl: the shipped one reuses answers of the API server for 2 s; the
  // other asks every time, as netwatch did before, so that one run shows both against the same baseline.
  const webhooks: Record<Exclude<Side, 'without'>, WebhookProcess> = {
    reused: await startWebhookProcess(cp, { name: 'bench-webhook', ...(opts.profileDir ? { profileDir: opts.profileDir } : {}) }),
    fresh: await startWebhookProcess(cp, { name: 'bench-webhook-fresh', set: { 'answer-ttl': '0s' } }),
  };
  // alice may request (netwatch-user) and approves nothing: every create makes the mutating webhook ask the most
  // SubjectAccessReviews (approve, create services, create accesses, for both parts), and the validating webhook
  // read both Services. All creates are hers, so identical reviews and reads are shared while in flight, and reused
  // afterwards by the reusing webhook (webhook/kube.ts): the per-create API request counts printed below show how
  // many were sent.
  const client = benchClient(cp, 'alice', concurrency);
  let registered: Side = 'without';
  const setSide = async (side: Side) => {
    if (side === registered) return;
    if (side === 'without') await unregisterWebhook(cp);
    else {
      await registerWebhook(cp, webhooks[side].url, webhooks[side].caPem);
      await waitUntilLive(cp);
    }
    registered = side;
  };
  const pids = controlPlanePids(cp);
  let seq = 0;
  let errors = 0;
  const server = { mutate: new Map() as Buckets, validate: new Map() as Buckets };
  const round = async (label: string, side: Side, measured: boolean): Promise<number[]> => {
    await setSide(side);
    const webhook = side === 'without' ? undefined : webhooks[side];
    const names = Array.from({ length: count }, () => `bench-wh-${side}-${seq++}`);
    const before = webhook ? await webhook.metrics() : '';
    const requests0 = await apiRequestCounts(cp);
    const cpu = new CpuMeter({ apiserver: pids.apiserver, etcd: pids.etcd, ...(webhook ? { webhook: webhook.pid } : {}) });
    let failed = 0;
    let firstError = '';
    const started = performance.now();
    const latencies = await runConcurrently(count, concurrency, async (i) => {
      const res = await client.call('POST', `/apis/${GROUP}/${VERSION}/${PLURAL}`, {
        apiVersion: API_VERSION,
        kind: KIND,
        metadata: { name: names[i], labels: { [BENCH_LABEL]: 'webhook' } },
        spec: { type: 'Service', source: { namespace: 'monitoring', service: 'prometheus' }, target: { namespace: 'payments', service: 'database' }, ports: [{ port: 5432, protocol: 'TCP' }], duration: '1h', reason: 'benchmark' },
      });
      if (res.status !== 201) {
        failed++;
        firstError ||= `${res.status}: ${res.body.slice(0, 300)}`;
      }
    });
    const wall = (performance.now() - started) / 1000;
    const used = cpu.read();
    const perCreate = formatPerItem(subtractCounters(await apiRequestCounts(cp), requests0), count);
    let serverSide = '';
    if (webhook) {
      const after = await webhook.metrics();
      const parts: string[] = [];
      for (const kind of ['mutate', 'validate'] as const) {
        const delta = subtractBuckets(webhookBuckets(after, kind), webhookBuckets(before, kind));
        if (measured && side === 'reused') for (const [le, n] of delta) server[kind].set(le, (server[kind].get(le) ?? 0) + n);
        const q = quantileBound(delta, 0.99);
        parts.push(`${kind} p99 ≤ ${(q.bound * 1000).toFixed(0)} ms`);
      }
      serverSide = `; in the webhook: ${parts.join(', ')}`;
    }
    if (measured) errors += failed;
    log(
      `  ${label.padEnd(12)} ${SIDE_LABEL[side]}: p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, ` +
        `mean ${mean(latencies).toFixed(1)} ms, ${(count / wall).toFixed(0)} creates/s${failed ? `, ${failed} FAILED (${firstError})` : ''}; cpu s: ${formatCpu(used)}${serverSide}\n` +
        `               API requests per create: ${perCreate}`,
    );
    return latencies;
  };

  const measuredBy: Record<Side, number[][]> = { without: [], fresh: [], reused: [] };
  try {
    // Warm every path (connections, the webhooks' JIT, the API server's caches) before measuring.
    for (const side of SIDES) await round('warm-up', side, false);
    for (let r = 0; r < opts.rounds; r++) {
      // Each side runs first, second and third in turn, so drift in the machine's load hits all of them.
      const order = SIDES.map((_, i) => SIDES[(i + r) % SIDES.length] as Side);
      for (const side of order) measuredBy[side].push(await round(`round ${r + 1}`, side, true));
    }
  } finally {
    await setSide('without').catch(() => undefined);
    client.close();
    for (const w of Object.values(webhooks)) await w.stop();
  }
  await deleteLabelledRequests(cp, 'webhook');

  const a = measuredBy.without.flat();
  const b = measuredBy.reused.flat();
  const f = measuredBy.fresh.flat();
  for (const kind of ['mutate', 'validate'] as const) {
    const q = quantileBound(server[kind], 0.99);
    log(`  webhook-side ${kind} admission (CREATE, measured rounds, answers reused): ${q.count} calls, p99 ≤ ${(q.bound * 1000).toFixed(0)} ms (histogram bucket)`);
  }
  if (errors > 0) log(`  WARNING: ${errors} creates failed in measured rounds`);
  const at = `@${concurrency}`;
  return {
    without: a,
    withHooks: b,
    errors,
    figures: [
      { metric: `webhook: create latency p50 ${at}`, measured: percentile(b, 50), baseline: percentile(a, 50), unit: 'ms', maxRatio: 1.5 },
      { metric: `webhook: create latency mean ${at}`, measured: mean(b), baseline: mean(a), unit: 'ms', maxRatio: 1.5 },
      { metric: `webhook: create latency p99 ${at}`, measured: percentile(b, 99), baseline: percentile(a, 99), unit: 'ms' },
      { metric: `webhook, answers asked every time (--answer-ttl=0s): create latency p50 ${at}`, measured: percentile(f, 50), baseline: percentile(a, 50), unit: 'ms' },
      { metric: `webhook, answers asked every time (--answer-ttl=0s): create latency mean ${at}`, measured: mean(f), baseline: mean(a), unit: 'ms' },
    ],
  };
}
