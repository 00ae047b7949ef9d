// Controller throughput and latency. The controller runs as its own process (controller/main.ts, bundled, at info
// log level as deployed); the baseline is a bare client in this process making the same API writes (the request
// finalizer, the maxtac objects, the clones, the status, the Events; on teardown the status, the deletes, the
// maxtac finalizers, the Events) for the same requests, planned by the same pure `plan`, with as many requests in
// flight as the controller has workers. Neither side reads anything while timed.
//
// Materialization: N approved requests exist before the controller starts; the clock runs from its own
// 'controller started' log line (caches synced, workers about to start) until this process's watch has seen all
// N Active. Teardown: the controller is stopped, every request gets a Revoked decision, the controller starts
// again, and the clock runs until every clone and maxtac object is gone. A watch of the same resources runs in
// this process during the bare client's runs too, so both sides pay for it. Rounds alternate which side goes
// first (bare, controller | controller, bare | ...) and the times are summed per side.
//
// Approval→Active: on an idle controller with the webhook registered (as in a cluster, every write to an
// AccessRequest, the controller's included, is admitted by it): carol creates a request whose source part she
// approves, bob approves the target part; the clock runs from the response to bob's status write (the approval is
// stored) until this process's watch shows phase Active. Two other clocks are printed alongside.
import { randomBytes } from 'node:crypto';
import type { AccessRequest } from '../../lib/api/accessrequest.ts';
import { API_VERSION, GROUP, KIND, PLURAL, VERSION } from '../../lib/api/accessrequest.ts';
import { createChains, plan, type Observed, type Plan } from '../../lib/domain/plan.ts';
import { LABEL_MANAGED_BY, MANAGED_BY, REQUEST_FINALIZER } from '../../lib/api/markers.ts';
import { HttpKube, resourcePath } from '../../lib/kube/http.ts';
import { resourceOfKind, type Resource } from '../../lib/kube/port.ts';
import type { CoreEvent, KubeObject, MaxtacObject, NetworkPolicy, Service } from '../../lib/kube/types.ts';
import type { ControlPlane } from '../controlplane.ts';
import { installDemo } from '../demo.ts';
import { applyControllerRbac, registerWebhook, unregisterWebhook, waitUntilLive } from '../deploy.ts';
import { benchClient, percentile, runConcurrently } from './http.ts';
import { CpuMeter, controlPlanePids, formatCpu, startControllerProcess, startWebhookProcess, type ControllerProcess } from './procs.ts';
import type { Figure } from './table.ts';
import { counterBy, subtractCounters } from './prom.ts';
import { BENCH_LABEL, apiRequestCounts, formatPerItem } from './webhook.ts';

export interface ControllerBenchOptions {
  requests: number;
  workers: number;
  latencySamples: number;
  /** Interleaved rounds (bare client, controller | controller, bare client | ...); times are summed per side. */
  rounds: number;
  profileDir?: string;
  log?: (line: string) => void;
}

const PAIRS = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean, timeoutMs: number, pollMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(pollMs);
  }
}

const isManaged = (o: KubeObject) => o.metadata.labels?.[LABEL_MANAGED_BY] === MANAGED_BY;

/** The Event the controller records for a planned transition (same fields, same size). */
function eventFor(request: AccessRequest, e: Plan['events'][number]): CoreEvent {
  const now = new Date().toISOString();
  return {
    metadata: { name: `${request.metadata.name}.${randomBytes(8).toString('hex')}`, namespace: 'default' },
    involvedObject: { apiVersion: API_VERSION, kind: KIND, name: request.metadata.name ?? '', uid: request.metadata.uid ?? '', resourceVersion: request.metadata.resourceVersion ?? '' },
    reason: e.reason,
    message: e.message.slice(0, 1024),
    type: e.type,
    source: { component: 'netwatch-controller' },
    reportingComponent: 'netwatch.vtk.io/controller',
    reportingInstance: 'bench-bare-client',
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
  };
}

export async function benchController(cp: ControlPlane, opts: ControllerBenchOptions): Promise<Figure[]> {
  const log = opts.log ?? (() => undefined);
  const N = opts.requests;
  const W = opts.workers;
  const timeoutMs = Math.max(120_000, N * 200);
  const pids = controlPlanePids(cp);
  await applyControllerRbac(cp);
  const admin = new HttpKube(cp.admin, { maxSockets: 32, cached: [] });
  const watcher = new HttpKube(cp.admin, { maxSockets: 4, cached: ['accessrequests', 'services', 'accesses'] });

  // The user's side: PAIRS namespace pairs, each already isolated by a default-deny policy (so no part is skipped
  // for isolation), each with a Service to clone.
  const originals = new Map<string, Service | null>();
  const policies: NetworkPolicy[] = [];
  const ignoreExists = (e: unknown) => {
    if ((e as { status?: number }).status !== 409) throw e;
  };
  for (let i = 0; i < PAIRS; i++) {
    for (const [ns, svc] of [[`bench-src-${i}`, 'client'], [`bench-dst-${i}`, 'server']] as const) {
      await admin.call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }).catch(ignoreExists);
      await admin.create('networkpolicies', { metadata: { name: 'default-deny', namespace: ns }, spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } }).catch(ignoreExists);
      await admin.create<Service>('services', { metadata: { name: svc, namespace: ns }, spec: { selector: { app: svc }, ports: [{ port: 80, protocol: 'TCP', targetPort: 8080 }] } }).catch(ignoreExists);
      originals.set(`${ns}/${svc}`, (await admin.get<Service>('services', ns, svc)) ?? null);
      policies.push(...(await admin.list<NetworkPolicy>('networkpolicies', ns)).items);
    }
  }
  /** N approved requests, as an approver-requester would have them after the webhook (untimed). */
  const createApproved = async (prefix: string): Promise<AccessRequest[]> => {
    const out: AccessRequest[] = new Array<AccessRequest>(N);
    await runConcurrently(N, 32, async (i) => {
      out[i] = await admin.create<AccessRequest>('accessrequests', {
        apiVersion: API_VERSION,
        kind: KIND,
        metadata: { name: `${prefix}-${i}`, labels: { [BENCH_LABEL]: prefix } },
        spec: {
          type: 'Service',
          source: { namespace: `bench-src-${i % PAIRS}`, service: 'client' },
          target: { namespace: `bench-dst-${i % PAIRS}`, service: 'server' },
          duration: '1h',
          reason: 'controller benchmark',
          requester: { username: 'alice', uid: 'alice-uid', groups: ['developers', 'system:authenticated'], approvedParts: ['source', 'target'] },
        },
      });
    });
    await until(`the watch to see ${prefix}-*`, () => out.every((r) => watcher.cache.get('accessrequests', '', r.metadata.name ?? '')), timeoutMs);
    return out;
  };
  const revokeAll = async (names: string[]) => {
    await runConcurrently(names.length, 32, async (i) => {
      for (;;) {
        const latest = await admin.get<AccessRequest>('accessrequests', '', names[i] ?? '');
        if (!latest) throw new Error(`${names[i]} vanished`);
        try {
          await admin.replaceStatus('accessrequests', { ...latest, status: { ...latest.status, decision: { type: 'Revoked', by: 'bench', at: new Date().toISOString(), reason: 'benchmark teardown' } } });
          return;
        } catch (e) {
          if ((e as { status?: number }).status !== 409) throw e;
        }
      }
    });
    await until('the watch to see the decisions', () => names.every((n) => watcher.cache.get<AccessRequest>('accessrequests', '', n)?.status?.decision), timeoutMs);
  };
  const nothingManagedLeft = () => watcher.cache.list('accesses').length === 0 && !watcher.cache.list<Service>('services').some(isManaged);
  const profile = opts.profileDir ? { profileDir: opts.profileDir } : {};
  let seq = 0;

  /** The bare client: plans with the same pure `plan` and makes exactly the controller's writes, nothing else. */
  const bareRound = async (): Promise<{ materialize: number; teardown: number }> => {
    const requests = await createApproved(`bench-bare-${seq++}`);
    const bare = new HttpKube(cp.kubeConfigFor('netwatch-controller'), { maxSockets: Math.max(8, W * 2), cached: [] });
    const state = new Map<string, { latest: AccessRequest; created: KubeObject[] }>();
    try {
      let requests0 = await apiRequestCounts(cp);
      let cpu = new CpuMeter({ apiserver: pids.apiserver, etcd: pids.etcd });
      let t = performance.now();
      await runConcurrently(N, W, async (i) => {
        const ar = requests[i]!;
        const p = plan({ request: ar, originals, services: [], maxtac: [], networkPolicies: policies } satisfies Observed, new Date());
        let latest = ar;
        if (p.addFinalizer) latest = await bare.setFinalizers<AccessRequest>('accessrequests', '', ar.metadata.name ?? '', ar.metadata.resourceVersion ?? '', [REQUEST_FINALIZER]);
        const uids = new Map<string, string>();
        const created: KubeObject[] = [];
        // As the controller does: one chain per half (the maxtac object, then its clone), side by side.
        await Promise.all(
          createChains(p.creates).map(async (chain) => {
            for (const c of chain) {
              const obj = structuredClone(c.object);
              if (c.ownerMaxtac) obj.metadata.ownerReferences = [{ apiVersion: 'maxtac.vtk.io/v1alpha1', kind: c.ownerMaxtac.kind, name: c.ownerMaxtac.name, uid: uids.get(c.ownerMaxtac.name) ?? '', controller: true }];
              const made = await bare.create(resourceOfKind(obj.kind ?? 'Service'), obj);
              uids.set(made.metadata.name ?? '', made.metadata.uid ?? '');
              created.push(made);
            }
          }),
        );
        if (p.status) {
          const status = structuredClone(p.status);
          for (const ref of status.objects ?? []) ref.uid ??= uids.get(ref.name);
          latest = await bare.replaceStatus<AccessRequest>('accessrequests', { ...latest, status });
        }
        for (const e of p.events) await bare.create('events', eventFor(latest, e));
        state.set(ar.metadata.name ?? '', { latest, created });
      });
      const materialize = (performance.now() - t) / 1000;
      log(`  bare client: materialized ${N} in ${materialize.toFixed(2)} s; cpu s: ${formatCpu(cpu.read())}`);
      log(`    API requests per request: ${formatPerItem(subtractCounters(await apiRequestCounts(cp), requests0), N)}`);
      if (!requests.every((r) => state.get(r.metadata.name ?? '')?.latest.status?.phase === 'Active')) throw new Error('the bare client did not make every request Active: the plan differs from the benchmark setup');

      await revokeAll(requests.map((r) => r.metadata.name ?? ''));
      requests0 = await apiRequestCounts(cp);
      cpu = new CpuMeter({ apiserver: pids.apiserver, etcd: pids.etcd });
      t = performance.now();
      await runConcurrently(N, W, async (i) => {
        const name = requests[i]?.metadata.name ?? '';
        const st = state.get(name)!;
        const request = watcher.cache.get<AccessRequest>('accessrequests', '', name)!;
        const p = plan(
          {
            request,
            originals,
            services: st.created.filter((o) => o.kind === 'Service'),
            maxtac: st.created.filter((o) => o.kind !== 'Service') as MaxtacObject[],
            networkPolicies: policies,
          },
          new Date(),
        );
        let latest = request;
        if (p.status) latest = await bare.replaceStatus<AccessRequest>('accessrequests', { ...request, status: p.status });
        const finalizing: KubeObject[] = [];
        for (const d of p.deletes) {
          const resource: Resource = resourceOfKind(d.kind);
          const body = { apiVersion: 'v1', kind: 'DeleteOptions', ...(d.uid ? { preconditions: { uid: d.uid } } : {}) };
          const res = await bare.call<KubeObject>('DELETE', resourcePath(resource, d.namespace, d.name), body);
          if (res.metadata?.deletionTimestamp && (res.metadata.finalizers ?? []).length > 0) finalizing.push({ ...res, kind: d.kind });
        }
        for (const e of p.events) await bare.create('events', eventFor(latest, e));
        // The controller's second step: the clones are gone, so the clones finalizer of each maxtac object comes off.
        for (const m of finalizing) await bare.setFinalizers(resourceOfKind(m.kind ?? ''), m.metadata.namespace ?? '', m.metadata.name ?? '', m.metadata.resourceVersion ?? '', []);
      });
      const teardown = (performance.now() - t) / 1000;
      log(`  bare client: tore down ${N} in ${teardown.toFixed(2)} s; cpu s: ${formatCpu(cpu.read())}`);
      log(`    API requests per request: ${formatPerItem(subtractCounters(await apiRequestCounts(cp), requests0), N)}`);
      await until('the bare client objects to leave the watch', nothingManagedLeft, timeoutMs);
      return { materialize, teardown };
    } finally {
      await bare.stop();
      // Out of the way of the next round (untimed): nobody else removes their finalizers.
      await runConcurrently(N, 32, async (i) => {
        const name = requests[i]?.metadata.name ?? '';
        const cur = await admin.get<AccessRequest>('accessrequests', '', name);
        if (cur?.metadata.finalizers?.length) await admin.setFinalizers('accessrequests', '', name, cur.metadata.resourceVersion ?? '', []);
        if (cur) await admin.delete('accessrequests', '', name);
      });
      await until('the bare requests to be deleted', () => requests.every((r) => !watcher.cache.get('accessrequests', '', r.metadata.name ?? '')), timeoutMs);
    }
  };

  /** The controller process, started once the approved requests exist; again once they are all revoked. */
  const controllerRound = async (): Promise<{ materialize: number; teardown: number }> => {
    const requests = await createApproved(`bench-ctl-${seq++}`);
    const names = requests.map((r) => r.metadata.name ?? '');
    const phaseCount = (phase: string) => names.filter((n) => watcher.cache.get<AccessRequest>('accessrequests', '', n)?.status?.phase === phase).length;
    let requests0 = await apiRequestCounts(cp);
    controller = await startControllerProcess(cp, { workers: W, applyRbac: false, ...profile });
    let t0 = await controller.started;
    let cpu = new CpuMeter({ apiserver: pids.apiserver, etcd: pids.etcd, controller: controller.pid });
    await until(`${N} requests Active`, () => phaseCount('Active') === N, timeoutMs);
    const materialize = (Date.now() - t0) / 1000;
    log(`  controller:  materialized ${N} in ${materialize.toFixed(2)} s; cpu s: ${formatCpu(cpu.read())}`);
    // Counted from before the start: its initial lists and watches are in (LIST, WATCH), its lease is not (no election).
    log(`    API requests per request: ${formatPerItem(subtractCounters(await apiRequestCounts(cp), requests0), N)}`);
    log(`    reconciles per request: ${formatPerItem(counterBy(await controller.metrics(), 'netwatch_controller_reconciles_total', ['kind', 'result']), N)}`);
    await controller.stop();
    controller = undefined;

    await revokeAll(names);
    requests0 = await apiRequestCounts(cp);
    controller = await startControllerProcess(cp, { workers: W, applyRbac: false, ...profile });
    t0 = await controller.started;
    cpu = new CpuMeter({ apiserver: pids.apiserver, etcd: pids.etcd, controller: controller.pid });
    await until(`${N} requests torn down`, () => phaseCount('Revoked') === N && nothingManagedLeft(), timeoutMs);
    const teardown = (Date.now() - t0) / 1000;
    log(`  controller:  tore down ${N} in ${teardown.toFixed(2)} s; cpu s: ${formatCpu(cpu.read())}`);
    log(`    API requests per request: ${formatPerItem(subtractCounters(await apiRequestCounts(cp), requests0), N)}`);
    log(`    reconciles per request: ${formatPerItem(counterBy(await controller.metrics(), 'netwatch_controller_reconciles_total', ['kind', 'result']), N)}`);
    if (controller.warnings.length > 0) log(`  controller warnings:\n    ${controller.warnings.join('\n    ')}`);
    // Deleting the requests lets the running controller take its finalizer off (untimed).
    await runConcurrently(N, 32, async (i) => admin.delete('accessrequests', '', names[i] ?? ''));
    await until('the controller requests to be deleted', () => names.every((n) => !watcher.cache.get('accessrequests', '', n)), timeoutMs);
    await controller.stop();
    controller = undefined;
    return { materialize, teardown };
  };

  const figures: Figure[] = [];
  let controller: ControllerProcess | undefined;
  try {
    await watcher.start();
    const sum = { bare: { materialize: 0, teardown: 0 }, controller: { materialize: 0, teardown: 0 } };
    for (let r = 0; r < opts.rounds; r++) {
      // ABBA: the side that ran second in one round runs first in the next.
      for (const side of r % 2 === 0 ? (['bare', 'controller'] as const) : (['controller', 'bare'] as const)) {
        log(`  round ${r + 1}, ${side}:`);
        const got = side === 'bare' ? await bareRound() : await controllerRound();
        sum[side].materialize += got.materialize;
        sum[side].teardown += got.teardown;
      }
    }
    const per = `${N} approved, ${W} workers, ${opts.rounds} round${opts.rounds > 1 ? 's' : ''}`;
    figures.push(
      { metric: `controller: materialize (${per})`, measured: sum.controller.materialize, baseline: sum.bare.materialize, unit: 's', maxRatio: 1.3 },
      { metric: `controller: teardown (${per})`, measured: sum.controller.teardown, baseline: sum.bare.teardown, unit: 's', maxRatio: 1.3 },
    );

    // ---- approval → Active, one at a time, on an idle controller with the webhook in the path
    controller = await startControllerProcess(cp, { workers: W, applyRbac: false, ...profile });
    await controller.started;
    figures.push(await approvalToActive(cp, watcher, opts));
    if (controller.warnings.length > 0) log(`  controller warnings:\n    ${controller.warnings.join('\n    ')}`);
  } finally {
    await controller?.stop();
    await watcher.stop();
    await admin.stop();
  }
  return figures;
}

async function approvalToActive(cp: ControlPlane, watcher: HttpKube, opts: ControllerBenchOptions): Promise<Figure> {
  const log = opts.log ?? (() => undefined);
  await installDemo(cp);
  const webhook = await startWebhookProcess(cp, opts.profileDir ? { profileDir: opts.profileDir } : {});
  const carol = benchClient(cp, 'carol', 2);
  const bob = benchClient(cp, 'bob', 2);
  const admin = benchClient(cp, 'admin-cert', 2);
  const path = `/apis/${GROUP}/${VERSION}/${PLURAL}`;
  /** When this process's watch first shows `name` in a state `test` accepts. */
  const whenSeen = (name: string, test: (ar: AccessRequest) => boolean) =>
    new Promise<number>((resolve) => {
      const now = watcher.cache.get<AccessRequest>('accessrequests', '', name);
      if (now && test(now)) return resolve(performance.now());
      const off = watcher.cache.onChange((resource, obj) => {
        if (resource === 'accessrequests' && obj.metadata.name === name && test(obj as AccessRequest)) {
          off();
          resolve(performance.now());
        }
      });
    });
  const whenPhase = (name: string, phase: string) => whenSeen(name, (ar) => ar.status?.phase === phase);
  const fromSend: number[] = [];
  const fromAck: number[] = [];
  const fromWatch: number[] = [];
  const names: string[] = [];
  try {
    await registerWebhook(cp, webhook.url, webhook.caPem);
    await waitUntilLive(cp);
    for (let i = 0; i < opts.latencySamples + 3; i++) {
      const name = `bench-lat-${i}`;
      names.push(name);
      // carol approves monitoring (her part is approved at create); bob approves payments.
      const partial = whenPhase(name, 'PartiallyApproved');
      const created = await carol.call('POST', path, {
        apiVersion: API_VERSION,
        kind: KIND,
        metadata: { name, labels: { [BENCH_LABEL]: 'latency' } },
        spec: { type: 'Service', source: { namespace: 'monitoring', service: 'prometheus' }, target: { namespace: 'payments', service: 'database' }, ports: [{ port: 5432, protocol: 'TCP' }], duration: '1h', reason: 'approval latency benchmark' },
      });
      if (created.status !== 201) throw new Error(`carol's create answered ${created.status}: ${created.body.slice(0, 300)}`);
      await partial;
      await sleep(150);
      const latest = JSON.parse((await bob.call('GET', `${path}/${name}`)).body) as AccessRequest;
      const approvals = [...(latest.status?.approvals ?? []), { part: 'target' as const, namespace: 'payments', by: 'bob', at: new Date().toISOString() }];
      const active = whenPhase(name, 'Active');
      const approvalSeen = whenSeen(name, (ar) => (ar.status?.approvals ?? []).some((a) => a.part === 'target'));
      const t0 = performance.now();
      const res = await bob.call('PUT', `${path}/${name}/status`, { ...latest, status: { ...latest.status, approvals } });
      const acked = performance.now();
      if (res.status !== 200) throw new Error(`bob's approval answered ${res.status}: ${res.body.slice(0, 300)}`);
      const seen = await Promise.race([active, new Promise<number>((r) => setTimeout(() => r(NaN), 30_000).unref())]);
      const approvalAt = await approvalSeen;
      // The first few warm the path (JIT, connections) and are not counted.
      if (i >= 3) {
        fromSend.push(seen - t0);
        fromAck.push(seen - acked);
        fromWatch.push(seen - approvalAt);
      }
    }
    const p = (xs: number[]) => `p50 ${percentile(xs, 50).toFixed(1)} ms, p90 ${percentile(xs, 90).toFixed(1)} ms`;
    log(`  approval→Active (${fromSend.length} samples, webhook registered), until this process's watch shows Active:`);
    log(`    from the approval write's response (the figure)       ${p(fromAck)}`);
    log(`    from sending it (includes the approval's own admission) ${p(fromSend)}`);
    log(`    from this process's watch showing the approval         ${p(fromWatch)}`);
    // The controller tears them down and takes its finalizer off (untimed).
    for (const name of names) await admin.call('DELETE', `${path}/${name}`);
    await until('the latency requests to be deleted', () => names.every((n) => !watcher.cache.get('accessrequests', '', n)), 60_000);
  } finally {
    await unregisterWebhook(cp).catch(() => undefined);
    await webhook.stop();
    carol.close();
    bob.close();
    admin.close();
  }
  return { metric: 'controller: approval→Active p50 (idle, with webhook)', measured: percentile(fromAck, 50), unit: 'ms', maxValue: 100 };
}
