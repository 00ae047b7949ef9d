// Controller memory: resident set size of the controller process (controller/main.ts, bundled, as deployed) once
// it has cached and reconciled N AccessRequests, against the same process started with none of them. Pending
// External requests with a realistic reason: each gets the controller's full status (conditions, parts).
import type { AccessRequest } from '../../lib/api/accessrequest.ts';
import { API_VERSION, KIND } from '../../lib/api/accessrequest.ts';
import { HttpKube } from '../../lib/kube/http.ts';
import type { ControlPlane } from '../controlplane.ts';
import { runConcurrently } from './http.ts';
import { samples } from './prom.ts';
import { rssBytes, startControllerProcess } from './procs.ts';
import type { Figure } from './table.ts';
import { BENCH_LABEL } from './webhook.ts';

export interface MemoryBenchOptions {
  requests: number;
  /** Remove the requests afterwards (default true; the orchestrator skips it when nothing runs after). */
  cleanup?: boolean;
  profileDir?: string;
  log?: (line: string) => void;
}

const MB = 1024 * 1024;
const SETTLE_MS = 5000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function gauge(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : NaN;
}

export async function benchMemory(cp: ControlPlane, opts: MemoryBenchOptions): Promise<Figure[]> {
  const log = opts.log ?? (() => undefined);
  const N = opts.requests;
  const profile = opts.profileDir ? { profileDir: opts.profileDir } : {};
  const admin = new HttpKube(cp.admin, { maxSockets: 32, cached: ['accessrequests'] });
  try {
    // Baseline: the same process with its caches synced and nothing of ours to hold.
    let controller = await startControllerProcess(cp, { workers: 16, ...profile });
    let idle: number;
    try {
      await controller.started;
      await sleep(SETTLE_MS);
      idle = rssBytes(controller.pid);
    } finally {
      await controller.stop();
    }

    await admin.start();
    await runConcurrently(N, 32, async (i) => {
      await admin.create<AccessRequest>('accessrequests', {
        apiVersion: API_VERSION,
        kind: KIND,
        metadata: { name: `bench-mem-${i}`, labels: { [BENCH_LABEL]: 'memory' } },
        spec: {
          type: 'External',
          service: { namespace: `team-${i % 50}`, name: 'web' },
          cidrs: ['203.0.113.0/24'],
          direction: 'ingress',
          ports: [{ port: 443, protocol: 'TCP' }],
          duration: '2h',
          reason: 'memory benchmark: a reason of a realistic length, a sentence or two about why this access is needed',
          requester: { username: `user-${i % 200}`, uid: `uid-${i % 200}`, groups: ['developers', 'system:authenticated'] },
        },
      });
    });
    const mine = (r: AccessRequest) => r.metadata.labels?.[BENCH_LABEL] === 'memory';
    controller = await startControllerProcess(cp, { workers: 16, ...profile });
    let peak = 0;
    let steady: number;
    let heapUsed = NaN;
    let heapTotal = NaN;
    let external = NaN;
    let spaces = '';
    try {
      await controller.started;
      const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(controller.pid) || 0)), 250);
      try {
        // Every request reconciled once (its status written) means the whole set is cached and processed.
        const deadline = Date.now() + Math.max(300_000, N * 100);
        while (admin.cache.list<AccessRequest>('accessrequests').filter((r) => mine(r) && r.status?.phase === 'Pending').length < N) {
          if (Date.now() > deadline) throw new Error(`timed out waiting for the controller to reconcile ${N} requests`);
          await sleep(500);
        }
        await sleep(SETTLE_MS);
      } finally {
        clearInterval(sampler);
      }
      steady = rssBytes(controller.pid);
      peak = Math.max(peak, steady);
      const metrics = await controller.metrics();
      heapUsed = gauge(metrics, 'netwatch_controller_nodejs_heap_size_used_bytes');
      heapTotal = gauge(metrics, 'netwatch_controller_nodejs_heap_size_total_bytes');
      external = gauge(metrics, 'netwatch_controller_nodejs_external_memory_bytes');
      spaces = samples(metrics, 'netwatch_controller_nodejs_heap_space_size_total_bytes')
        .map((x) => `${x.labels.get('space') ?? '?'} ${(x.value / MB).toFixed(0)}`)
        .join(', ');
    } finally {
      await controller.stop();
    }
    log(`  controller RSS: ${(idle / MB).toFixed(0)} MB idle; with ${N} requests ${(steady / MB).toFixed(0)} MB settled, ${(peak / MB).toFixed(0)} MB peak while reconciling`);
    log(`  its JS heap: ${(heapUsed / MB).toFixed(0)} MB used of ${(heapTotal / MB).toFixed(0)} MB (spaces, MB: ${spaces}); external ${(external / MB).toFixed(0)} MB`);

    if (opts.cleanup ?? true) {
      // Nobody else takes the controller's finalizer off now.
      const names = admin.cache.list<AccessRequest>('accessrequests').filter(mine).map((r) => r.metadata.name ?? '');
      await runConcurrently(names.length, 32, async (i) => {
        const cur = await admin.get<AccessRequest>('accessrequests', '', names[i] ?? '');
        if (!cur) return;
        if ((cur.metadata.finalizers ?? []).length > 0) await admin.setFinalizers('accessrequests', '', names[i] ?? '', cur.metadata.resourceVersion ?? '', []);
        await admin.delete('accessrequests', '', names[i] ?? '');
      });
    }
    return [{ metric: `controller: RSS with ${N} requests cached (vs idle)`, measured: steady / MB, baseline: idle / MB, unit: 'MB', maxValue: 200 }];
  } finally {
    await admin.stop();
  }
}
