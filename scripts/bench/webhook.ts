// Webhook overhead: AccessRequest create latency at high concurrency with netwatch's admission webhooks registered,
// against the same creates with no webhook, on the same API server, from the same client in the same process.
// Rounds alternate (without, with | with, without | ...) so drift in the machine's load hits both sides. The
// webhook runs as its own process (webhook/main.ts, bundled), as in a cluster: the load generator does not share
// its event loop, and its CPU is read from /proc.
import { API_VERSION, GROUP, KIND, PLURAL, VERSION } from '../../lib/api/accessrequest.ts';
import type { Bundles } from '../components.ts';
import type { ControlPlane } from '../controlplane.ts';
import { installDemo } from '../demo.ts';
import { applyWebhookRbac, registerWebhook, unregisterWebhook, waitUntilLive } from '../deploy.ts';
import { benchClient, mean, percentile, runConcurrently } from './http.ts';
import { CpuMeter, controlPlanePids, formatCpu, startWebhookProcess, type WebhookProcess } from './procs.ts';
import { counterBy, histogramBuckets, quantileBound, subtractBuckets, subtractCounters, type Buckets } from './prom.ts';
import type { Checkout } from './revision.ts';
import type { Comparison, Figure } from './table.ts';

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
  /** With --compare: the revision's figures next to this tree's. */
  comparisons?: Comparison[];
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

/**
 * Which webhook (if any) the API server calls in a round. Without --compare: none; this tree's asking the API
 * server every time (--answer-ttl=0s); this tree's as shipped (reusing answers). With --compare REV: none; REV's as
 * it shipped; this tree's as shipped.
 */
interface Side {
  key: 'without' | 'fresh' | 'reused' | 'revision';
  label: string;
  webhook?: WebhookProcess;
  /** The checkout whose CRDs, RBAC and webhook configurations this side needs; undefined: this tree's. */
  checkout?: Checkout;
}

/**
 * Revision files that, when they differ from this tree's, are installed before each of that revision's rounds. Not the
 * CRDs: this tree's serve every side (netwatch's schema only grew, and a create is valid under both), while changing a
 * CRD restarts the API server's watch cache of its resource, and the informers' full lists that follow landed inside
 * the measured rounds of the webhook that has them.
 */
const INSTALLED_FILES = ['manifests/webhook/rbac.yaml'];

/** With `compare`, another revision's webhook (its checkout and bundles) is measured next to this tree's. */
export async function benchWebhook(cp: ControlPlane, opts: WebhookBenchOptions & { compare?: { checkout: Checkout; bundles: Bundles } }): Promise<WebhookFigures> {
  const log = opts.log ?? (() => undefined);
  const { creates: count, concurrency } = opts;
  await installDemo(cp);
  const profile = opts.profileDir ? { profileDir: opts.profileDir } : {};
  const sides: Side[] = [{ key: 'without', label: 'without webhooks' }];
  try {
    if (opts.compare) {
      // Each webhook as its revision deploys it (its Deployment's flags, its defaults): REV's first, so that this
      // tree's RBAC is the one in place when both are up.
      const { checkout, bundles } = opts.compare;
      const revision = await startWebhookProcess(cp, { name: 'bench-webhook-revision', bundles, log }).catch((err: unknown) => {
        throw new Error(`--compare ${checkout.label}: its webhook did not start the way this tree's does: ${(err as Error).message}`, { cause: err });
      });
      sides.push({ key: 'revision', label: `REV ${checkout.label}`, checkout, webhook: revision });
      sides.push({ key: 'reused', label: 'HEAD (this tree)', webhook: await startWebhookProcess(cp, { name: 'bench-webhook', ...profile }) });
    } else {
      // Two webhooks, as deployed but for --answer-ttl: the shipped one reuses answers of the API server for 2 s; the
      // other asks every time, as netwatch did before, so that one run shows both against the same baseline.
      sides.push({ key: 'fresh', label: 'with, answers fresh', webhook: await startWebhookProcess(cp, { name: 'bench-webhook-fresh', set: { 'answer-ttl': '0s' } }) });
      sides.push({ key: 'reused', label: 'with, answers reused', webhook: await startWebhookProcess(cp, { name: 'bench-webhook', ...profile }) });
    }
  } catch (err) {
    for (const side of sides) await side.webhook?.stop();
    throw err;
  }
  const revisionInstalls = opts.compare ? INSTALLED_FILES.filter((f) => opts.compare?.checkout.differs(f)) : [];
  if (opts.compare) {
    log(
      revisionInstalls.length > 0
        ? `  ${opts.compare.checkout.label} differs from this tree in ${revisionInstalls.join(', ')}: each revision's is applied before its rounds (this tree's for the baseline); this tree's CRDs serve both`
        : `  ${opts.compare.checkout.label} has this tree's webhook RBAC; this tree's CRDs serve both`,
    );
  }
  const labelWidth = Math.max(...sides.map((s) => s.label.length));
  // alice may request (netwatch-user) and approves nothing: every create makes the mutating webhook ask the most
  // SubjectAccessReviews (approve, create services, create accesses, for both parts), and the validating webhook
  // read both Services. All creates are hers, so identical reviews and reads are shared while in flight, and reused
  // afterwards by the reusing webhook (webhook/kube.ts): the per-create API request counts printed below show how
  // many were sent.
  const client = benchClient(cp, 'alice', concurrency);
  let registered: Side = sides[0] as Side;
  // Whose CRDs and webhook RBAC are applied: this tree's (undefined) or the compared revision's.
  let installed: Checkout | undefined;
  const install = async (checkout: Checkout | undefined) => {
    if (revisionInstalls.length === 0 || checkout === installed) return;
    const root = checkout?.root;
    await applyWebhookRbac(cp, root);
    installed = checkout;
  };
  const setSide = async (side: Side) => {
    if (side === registered) return;
    if (!side.webhook) await unregisterWebhook(cp);
    await install(side.checkout);
    if (side.webhook) {
      await registerWebhook(cp, side.webhook.url, side.webhook.caPem, side.checkout?.root);
      await waitUntilLive(cp);
    }
    registered = side;
  };
  const pids = controlPlanePids(cp);
  let seq = 0;
  let errors = 0;
  const server = { mutate: new Map() as Buckets, validate: new Map() as Buckets };
  const cpuBy = new Map<Side, Record<string, number>>();
  const round = async (label: string, side: Side, measured: boolean): Promise<number[]> => {
    await setSide(side);
    const webhook = side.webhook;
    const names = Array.from({ length: count }, () => `bench-wh-${side.key}-${seq++}`);
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
    if (measured) {
      const sum = cpuBy.get(side) ?? {};
      for (const [k, v] of Object.entries(used)) sum[k] = (sum[k] ?? 0) + v;
      cpuBy.set(side, sum);
    }
    const perCreate = formatPerItem(subtractCounters(await apiRequestCounts(cp), requests0), count);
    let serverSide = '';
    if (webhook) {
      const after = await webhook.metrics();
      const parts: string[] = [];
      for (const kind of ['mutate', 'validate'] as const) {
        const delta = subtractBuckets(webhookBuckets(after, kind), webhookBuckets(before, kind));
        if (measured && side.key === 'reused') for (const [le, n] of delta) server[kind].set(le, (server[kind].get(le) ?? 0) + n);
        const q = quantileBound(delta, 0.99);
        // A revision may name or bucket its histogram otherwise: say nothing rather than ≤ 0 ms.
        if (q.count > 0) parts.push(`${kind} p99 ≤ ${(q.bound * 1000).toFixed(0)} ms`);
      }
      if (parts.length > 0) serverSide = `; in the webhook: ${parts.join(', ')}`;
    }
    if (measured) errors += failed;
    log(
      `  ${label.padEnd(12)} ${side.label.padEnd(labelWidth)}: p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, ` +
        `mean ${mean(latencies).toFixed(1)} ms, ${(count / wall).toFixed(0)} creates/s${failed ? `, ${failed} FAILED (${firstError})` : ''}; cpu s: ${formatCpu(used)}${serverSide}\n` +
        `               API requests per create: ${perCreate}`,
    );
    return latencies;
  };

  const measuredBy = new Map<Side, number[][]>(sides.map((s) => [s, []]));
  try {
    // Warm every path (connections, the webhooks' JIT, the API server's caches) before measuring.
    for (const side of sides) await round('warm-up', side, false);
    for (let r = 0; r < opts.rounds; r++) {
      // Each side runs first, second and third in turn, so drift in the machine's load hits all of them.
      const order = sides.map((_, i) => sides[(i + r) % sides.length] as Side);
      for (const side of order) measuredBy.get(side)?.push(await round(`round ${r + 1}`, side, true));
    }
  } finally {
    await setSide(sides[0] as Side).catch(() => undefined);
    await install(undefined).catch(() => undefined);
    client.close();
    for (const side of sides) await side.webhook?.stop();
  }
  await deleteLabelledRequests(cp, 'webhook');

  const sideOf = (key: Side['key']) => sides.find((s) => s.key === key) as Side;
  const samples = (key: Side['key']) => measuredBy.get(sideOf(key))?.flat() ?? [];
  const a = samples('without');
  const b = samples('reused');
  const f = samples('fresh');
  for (const kind of ['mutate', 'validate'] as const) {
    const q = quantileBound(server[kind], 0.99);
    log(`  webhook-side ${kind} admission (CREATE, measured rounds, this tree's shipped webhook): ${q.count} calls, p99 ≤ ${(q.bound * 1000).toFixed(0)} ms (histogram bucket)`);
  }
  if (errors > 0) log(`  WARNING: ${errors} creates failed in measured rounds`);
  const at = `@${concurrency}`;
  const figures: Figure[] = [
    { metric: `webhook: create latency p50 ${at}`, measured: percentile(b, 50), baseline: percentile(a, 50), unit: 'ms', maxRatio: 1.5 },
    { metric: `webhook: create latency mean ${at}`, measured: mean(b), baseline: mean(a), unit: 'ms', maxRatio: 1.5 },
    { metric: `webhook: create latency p99 ${at}`, measured: percentile(b, 99), baseline: percentile(a, 99), unit: 'ms' },
  ];
  if (!opts.compare) {
    figures.push(
      { metric: `webhook, answers asked every time (--answer-ttl=0s): create latency p50 ${at}`, measured: percentile(f, 50), baseline: percentile(a, 50), unit: 'ms' },
      { metric: `webhook, answers asked every time (--answer-ttl=0s): create latency mean ${at}`, measured: mean(f), baseline: mean(a), unit: 'ms' },
    );
    return { without: a, withHooks: b, errors, figures };
  }
  const r = samples('revision');
  const comparisons: Comparison[] = [
    { metric: `webhook: create latency p50 ${at}`, baseline: percentile(a, 50), revision: percentile(r, 50), head: percentile(b, 50), unit: 'ms', maxRatio: 1.5 },
    { metric: `webhook: create latency p95 ${at}`, baseline: percentile(a, 95), revision: percentile(r, 95), head: percentile(b, 95), unit: 'ms' },
    { metric: `webhook: create latency p99 ${at}`, baseline: percentile(a, 99), revision: percentile(r, 99), head: percentile(b, 99), unit: 'ms' },
    { metric: `webhook: create latency mean ${at}`, baseline: mean(a), revision: mean(r), head: mean(b), unit: 'ms', maxRatio: 1.5 },
  ];
  // CPU seconds per process over the measured rounds (the same creates on every side).
  const cpuOf = (key: Side['key'], proc: string) => cpuBy.get(sideOf(key))?.[proc] ?? NaN;
  for (const proc of ['webhook', 'apiserver', 'etcd', 'bench']) {
    comparisons.push({
      metric: `webhook: CPU s of ${proc}, ${opts.rounds * count} creates`,
      ...(proc === 'webhook' ? {} : { baseline: cpuOf('without', proc) }),
      revision: cpuOf('revision', proc),
      head: cpuOf('reused', proc),
      unit: 's',
    });
  }
  return { without: a, withHooks: b, errors, figures, comparisons };
}
