// Grants in packets: how long after the last approval the first packet of a grant gets through, and how long after a
// revoke or an expiry the first one is refused, against the same for maxtac's policy alone (the engine's floor: an
// Access or ExternalAccess the admin creates or deletes directly on a Service, with the same maxtac, kube-router,
// garbage collector and probes). The control plane is this benchmark's own (the shared one runs without maxtac):
// etcd, kube-apiserver, maxtac, kube-controller-manager's garbage collector, the test dataplane of
// scripts/dataplane.ts, and the webhook and controller as processes from their bundles, as the other benchmarks run
// them. The sandbox's demo namespaces are the fixture (already isolated by default-deny, so no part is skipped).
//
// Opening and closing are timed one grant at a time, netwatch and the floor alternating (ABBA), from just before
// the write (the approval's status write, the revoke's; the floor's create, its delete) to the first probe that saw
// the change: probes start every PROBE_INTERVAL_MS, and a probe's fate is decided by its first packet, sent as it
// starts (scripts/reachability.ts, firstChange). Between samples everything of the last one is gone (its
// NetworkPolicies too), untimed. Expiry takes the grant's duration to wait for, so LANES grants run at once, each
// lane with its own outside host (its own flow), staggered, each alternating netwatch and the floor; closing is timed
// from the nominal expiry: expiresAt for netwatch, the floor object's creationTimestamp + duration for maxtac (both
// whole seconds, as the approval time and creationTimestamp are).
import type { AccessRequest, AccessRequestSpec, DecisionType, PartName } from '../../lib/api/accessrequest.ts';
import { API_VERSION, KIND } from '../../lib/api/accessrequest.ts';
import { LABEL_REQUEST_ID } from '../../lib/api/markers.ts';
import { HttpKube } from '../../lib/kube/http.ts';
import { isConflict } from '../../lib/kube/errors.ts';
import { MAXTAC_API_VERSION, type MaxtacObject, type NetworkPolicy, type Service } from '../../lib/kube/types.ts';
import { startControlPlane, type ControlPlane } from '../controlplane.ts';
import { dataplaneUnavailable, startDataplane, type Dataplane, type DataplanePort, type Endpoint } from '../dataplane.ts';
import { installDemo } from '../demo.ts';
import { firstChange, type Flow } from '../reachability.ts';
import { registerWebhook, unregisterWebhook, waitUntilLive } from '../deploy.ts';
import { percentile } from './http.ts';
import { startControllerProcess, startWebhookProcess, type ControllerProcess, type WebhookProcess } from './procs.ts';
import type { Figure } from './table.ts';

export interface DataplaneBenchOptions {
  /** Measured samples per figure and side (a few more warm the path first). */
  samples: number;
  log?: (line: string) => void;
}

const WARMUP = 3;
const PROBE_INTERVAL_MS = 20;
const LANES = 5;
const EXPIRY_SECONDS = 5;
const DEMO_NAMESPACES = ['monitoring', 'payments', 'shop'];
const FLOOR_LABEL = 'bench.netwatch.vtk.io/floor';
const tcp = (port: number): DataplanePort => ({ port, protocol: 'TCP' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 60_000, pollMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(pollMs);
  }
}

/** One grant of the benchmark: opened and closed by netwatch (people through the webhook) or by the admin alone. */
interface Side {
  /** Makes everything but the last step; returns that step, which resolves when its write was sent. */
  prepare(flow: Flow, duration: string): Promise<{ open: () => Promise<number> }>;
  /** The wall-clock time (ms) at which the grant opened last expires by its own clock. */
  nominalExpiry(): Promise<number>;
  /** Revoke (netwatch) or delete (the floor); resolves with the time just before the write. */
  close(): Promise<number>;
  /** Waits until nothing of the grant is left, its NetworkPolicies included. */
  gone(): Promise<void>;
}

interface Kind {
  name: string;
  /** A fresh side per lane: each holds the state of its own grant. */
  netwatch: () => Side;
  floor: () => Side;
}

export async function benchDataplane(opts: DataplaneBenchOptions): Promise<Figure[]> {
  const log = opts.log ?? (() => undefined);
  const unavailable = dataplaneUnavailable();
  if (unavailable) {
    log(`  skipped: ${unavailable}`);
    return [];
  }
  let cp: ControlPlane | undefined;
  let dp: Dataplane | undefined;
  let webhook: WebhookProcess | undefined;
  let controller: ControllerProcess | undefined;
  const clients = new Map<string, HttpKube>();
  try {
    cp = await startControlPlane();
    const plane = cp;
    await installDemo(plane);
    webhook = await startWebhookProcess(plane);
    await registerWebhook(plane, webhook.url, webhook.caPem);
    await waitUntilLive(plane);
    controller = await startControllerProcess(plane, { workers: 4 });
    await controller.started;
    const as = (user: string) => {
      let c = clients.get(user);
      if (!c) {
        c = new HttpKube(user === 'admin' ? plane.admin : plane.kubeConfigFor(user), { cached: [], maxSockets: 8 });
        clients.set(user, c);
      }
      return c;
    };
    const admin = as('admin');

    dp = await startDataplane(plane);
    const prometheus = await dp.addPod({ namespace: 'monitoring', name: 'prometheus-0', labels: { app: 'prometheus' }, ports: [tcp(9090)] });
    const database = await dp.addPod({ namespace: 'payments', name: 'database-0', labels: { app: 'postgres' }, ports: [tcp(5432)] });
    const frontend = await dp.addPod({ namespace: 'shop', name: 'frontend-0', labels: { app: 'frontend' }, ports: [tcp(8443)] });
    const hosts: Endpoint[] = [];
    for (let lane = 0; lane < LANES; lane++) hosts.push(await dp.addHost(`partner-${lane}`, [], `198.19.1.${lane + 1}`));
    await dp.waitForPods();
    const engine = dp;
    const probe = (flow: Flow, open: boolean, since: number) =>
      firstChange((from, to, port) => engine.probe(from, to, port, 900), flow, open, since, { intervalMs: PROBE_INTERVAL_MS, timeoutMs: 60_000 });

    // The floor's Services: copies of the demo Services with a label of ours, as netwatch's clones are (the same
    // selector, the requested port), made once; the floor's maxtac objects select them.
    for (const [namespace, name, app, port, targetPort] of [
      ['shop', 'floor-frontend', 'frontend', 443, 8443],
      ['monitoring', 'floor-prometheus', 'prometheus', 5432, 5432],
      ['payments', 'floor-database', 'postgres', 5432, 5432],
    ] as const) {
      await admin.create<Service>('services', {
        metadata: { name, namespace, labels: { [FLOOR_LABEL]: name } },
        spec: { selector: { app }, ports: [{ name: 'p', port, targetPort, protocol: 'TCP' }] },
      });
    }

    /** No NetworkPolicy in the demo namespaces is owned by one of these maxtac objects (grants run side by side). */
    const noPolicyOwnedBy = async (uids: Set<string>) => {
      for (const ns of DEMO_NAMESPACES) {
        const policies = (await admin.list<NetworkPolicy>('networkpolicies', ns)).items;
        if (policies.some((np) => (np.metadata.ownerReferences ?? []).some((o) => uids.has(o.uid)))) return false;
      }
      return true;
    };

    const writeStatus = async (user: string, name: string, change: (ar: AccessRequest) => AccessRequest['status']): Promise<number> => {
      for (;;) {
        const ar = await as(user).get<AccessRequest>('accessrequests', '', name);
        if (!ar) throw new Error(`${name} is gone`);
        const sent = performance.now();
        try {
          await as(user).replaceStatus('accessrequests', { ...ar, status: change(ar) });
          return sent;
        } catch (err) {
          if (!isConflict(err)) throw err;
        }
      }
    };
    const approve = (user: string, name: string, part: PartName, namespace: string) =>
      writeStatus(user, name, (ar) => ({ ...ar.status, approvals: [...(ar.status?.approvals ?? []), { part, namespace }] }));
    const decide = (user: string, name: string, type: DecisionType) => writeStatus(user, name, (ar) => ({ ...ar.status, decision: { type, reason: 'dataplane benchmark' } }));
    const phaseIs = (name: string, phases: string[]) =>
      until(`${name} ${phases.join(' or ')}`, async () => {
        const ar = await admin.get<AccessRequest>('accessrequests', '', name);
        return ar?.status?.phase && phases.includes(ar.status.phase) ? ar : undefined;
      });

    let seq = 0;
    /**
     * netwatch: alice asks, the approvers approve (all but the last approval untimed), alice revokes. Between samples
     * the request is deleted, once nothing of it is left.
     */
    const netwatchSide = (spec: (flow: Flow, duration: string) => AccessRequestSpec, approvals: [string, PartName, string][]) => (): Side => {
      let name = '';
      let expiresAt = NaN;
      return {
        async prepare(flow, duration) {
          const created = await as('alice').create<AccessRequest>('accessrequests', { apiVersion: API_VERSION, kind: KIND, metadata: { name: `bench-dp-${seq++}` }, spec: spec(flow, duration) });
          name = created.metadata.name ?? '';
          for (const [user, part, ns] of approvals.slice(0, -1)) {
            await phaseIs(name, ['Pending']);
            await approve(user, name, part, ns);
          }
          await phaseIs(name, approvals.length > 1 ? ['PartiallyApproved'] : ['Pending']);
          const [user, part, ns] = approvals[approvals.length - 1]!;
          return { open: () => approve(user, name, part, ns) };
        },
        async nominalExpiry() {
          if (Number.isNaN(expiresAt)) {
            const ar = await phaseIs(name, ['Active', 'Expired']);
            expiresAt = Date.parse(ar.status?.expiresAt ?? '');
          }
          return expiresAt;
        },
        async close() {
          await until(`${name} Ready`, async () => {
            const ar = await admin.get<AccessRequest>('accessrequests', '', name);
            return ar?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
          });
          return decide('alice', name, 'Revoked');
        },
        async gone() {
          const ended = await phaseIs(name, ['Revoked', 'Expired']);
          const uids = new Set((ended.status?.objects ?? []).filter((o) => o.kind !== 'Service').map((o) => o.uid ?? ''));
          const selector = `${LABEL_REQUEST_ID}=${ended.metadata.uid ?? ''}`;
          await until(`nothing of ${name} left`, async () => {
            const left = [...(await admin.list('accesses', '', selector)).items, ...(await admin.list('externalaccesses', '', selector)).items];
            return left.length === 0 && (await noPolicyOwnedBy(uids));
          });
          await admin.delete('accessrequests', '', name);
          expiresAt = NaN;
        },
      };
    };

    /** The floor: the admin creates maxtac's objects on the floor Services, all at once, and deletes them. */
    const floorSide = (objects: (flow: Flow, duration: string, id: string) => MaxtacObject[]) => (): Side => {
      let made: MaxtacObject[] = [];
      return {
        async prepare(flow, duration) {
          const wanted = objects(flow, duration, `bench-floor-${seq++}`);
          return {
            open: async () => {
              const sent = performance.now();
              made = await Promise.all(wanted.map((o) => admin.create<MaxtacObject>(o.kind === 'Access' ? 'accesses' : 'externalaccesses', o)));
              return sent;
            },
          };
        },
        async nominalExpiry() {
          const o = made[0];
          const seconds = Number(/^(\d+)s$/.exec(o?.spec.duration ?? '')?.[1]);
          return Date.parse(o?.metadata.creationTimestamp ?? '') + seconds * 1000;
        },
        async close() {
          const sent = performance.now();
          await Promise.all(made.map((o) => admin.delete(o.kind === 'Access' ? 'accesses' : 'externalaccesses', o.metadata.namespace ?? '', o.metadata.name ?? '')));
          return sent;
        },
        async gone() {
          await until('the floor objects and their policies gone', async () => {
            for (const o of made) if (await admin.get(o.kind === 'Access' ? 'accesses' : 'externalaccesses', o.metadata.namespace ?? '', o.metadata.name ?? '')) return false;
            return noPolicyOwnedBy(new Set(made.map((o) => o.metadata.uid ?? '')));
          });
          made = [];
        },
      };
    };

    const maxtac = (kind: 'Access' | 'ExternalAccess', namespace: string, name: string, spec: MaxtacObject['spec']): MaxtacObject => ({
      apiVersion: MAXTAC_API_VERSION,
      kind,
      metadata: { name, namespace },
      spec,
    });
    const durationOf = (duration: string) => (duration === '1h' ? {} : { duration });

    const external: Kind = {
      name: 'External ingress',
      netwatch: netwatchSide(
        (flow, duration) => ({
          type: 'External',
          service: { namespace: 'shop', name: 'frontend' },
          cidrs: [`${flow.from.ip}/32`],
          direction: 'ingress',
          ports: [{ port: 443, protocol: 'TCP' }],
          duration,
          reason: 'dataplane benchmark',
        }),
        [['carol', 'target', 'shop']],
      ),
      floor: floorSide((flow, duration, id) => [
        maxtac('ExternalAccess', 'shop', id, { serviceSelector: { matchLabels: { [FLOOR_LABEL]: 'floor-frontend' } }, targetCIDRs: [`${flow.from.ip}/32`], direction: 'ingress', ...durationOf(duration) }),
      ]),
    };
    const service: Kind = {
      name: 'Service → Service',
      netwatch: netwatchSide(
        (_flow, duration) => ({
          type: 'Service',
          source: { namespace: 'monitoring', service: 'prometheus' },
          target: { namespace: 'payments', service: 'database' },
          ports: [{ port: 5432, protocol: 'TCP' }],
          duration,
          reason: 'dataplane benchmark',
        }),
        [
          ['bob', 'target', 'payments'],
          ['carol', 'source', 'monitoring'],
        ],
      ),
      floor: floorSide((_flow, duration, id) => [
        maxtac('Access', 'monitoring', `${id}-s`, { serviceSelector: { matchLabels: { [FLOOR_LABEL]: 'floor-prometheus' } }, targets: [{ serviceName: 'floor-database', namespace: 'payments' }], direction: 'egress', ...durationOf(duration) }),
        maxtac('Access', 'payments', `${id}-t`, { serviceSelector: { matchLabels: { [FLOOR_LABEL]: 'floor-database' } }, targets: [{ serviceName: 'floor-prometheus', namespace: 'monitoring' }], direction: 'ingress', ...durationOf(duration) }),
      ]),
    };

    // Where the time goes: when the API server announced each grant NetworkPolicy (added or deleted), as this
    // process's watch saw it; the rest, up to the first packet that saw the change, is the engine's.
    const policyEvents: { type: 'add' | 'update' | 'delete'; at: number }[] = [];
    const watcher = new HttpKube(plane.admin, { cached: ['networkpolicies'], maxSockets: 2 });
    clients.set('watcher', watcher);
    watcher.cache.onChange((resource, obj, type) => {
      if (resource === 'networkpolicies' && obj.metadata.name !== 'default-deny') policyEvents.push({ type, at: performance.now() });
    });
    await watcher.start();
    /** ms from `sent` to the `nth` policy event of `type` after it. */
    const apiAfter = (sent: number, type: 'add' | 'delete', nth: number) => (policyEvents.filter((e) => e.type === type && e.at >= sent)[nth - 1]?.at ?? NaN) - sent;

    interface Timed {
      /** ms from the write to the first packet that saw the change. */
      packet: number;
      /** ms from the write to the API server's announcement of the policies that make the change. */
      api: number;
    }
    /** Starts probing as the write goes out (the write's own latency counts, as a person waits for it too). */
    const probeAfter = async (write: () => Promise<number>, flow: Flow, open: boolean): Promise<{ ms: number; sent: number }> => {
      const since = performance.now();
      const timed = probe(flow, open, since);
      const sent = await write();
      return { ms: (await timed) - (sent - since), sent };
    };
    /** One grant opened and closed by `side`; `policies` is how many NetworkPolicies make it (every one must be there). */
    const cycle = async (side: Side, flow: Flow, policies: number): Promise<{ open: Timed; close: Timed }> => {
      const { open } = await side.prepare(flow, '1h');
      const opened = await probeAfter(open, flow, true);
      const closed = await probeAfter(() => side.close(), flow, false);
      await side.gone();
      // Any one policy going closes the flow.
      return { open: { packet: opened.ms, api: apiAfter(opened.sent, 'add', policies) }, close: { packet: closed.ms, api: apiAfter(closed.sent, 'delete', 1) } };
    };

    const figures: Figure[] = [];
    const summary = (xs: number[]) => `p50 ${percentile(xs, 50).toFixed(0)} ms, p95 ${percentile(xs, 95).toFixed(0)} ms, min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)} (${xs.length})`;
    const split = (xs: Timed[]) => `policies in the API p50 ${percentile(xs.map((x) => x.api), 50).toFixed(0)} ms, then the engine p50 ${percentile(xs.map((x) => x.packet - x.api), 50).toFixed(0)} ms`;
    const pair = (metric: string, measured: number[], baseline: number[]) => {
      figures.push(
        { metric: `${metric} p50`, measured: percentile(measured, 50), baseline: percentile(baseline, 50), unit: 'ms', maxRatio: 1.2 },
        { metric: `${metric} p95`, measured: percentile(measured, 95), baseline: percentile(baseline, 95), unit: 'ms' },
      );
    };

    log('  baseline ("floor"): maxtac alone, the admin creating or deleting the Access/ExternalAccess on a Service');
    for (const kind of [service, external]) {
      const flow: Flow = kind === service ? { from: prometheus, to: database, port: tcp(5432) } : { from: hosts[0]!, to: frontend, port: tcp(8443) };
      const policies = kind === service ? 2 : 1;
      const sides = { netwatch: kind.netwatch(), floor: kind.floor() };
      const got = { netwatch: { open: [] as Timed[], close: [] as Timed[] }, floor: { open: [] as Timed[], close: [] as Timed[] } };
      const t = performance.now();
      for (let i = 0; i < opts.samples + WARMUP; i++) {
        for (const name of i % 2 === 0 ? (['netwatch', 'floor'] as const) : (['floor', 'netwatch'] as const)) {
          const timed = await cycle(sides[name], flow, policies);
          if (i < WARMUP) continue;
          got[name].open.push(timed.open);
          got[name].close.push(timed.close);
        }
      }
      const packets = (xs: Timed[]) => xs.map((x) => x.packet);
      log(`  ${kind.name}, ${opts.samples} grants per side, one at a time (${((performance.now() - t) / 1000).toFixed(0)} s):`);
      log(`    approval → first allowed packet  netwatch ${summary(packets(got.netwatch.open))}; ${split(got.netwatch.open)}`);
      log(`    create → first allowed packet    floor    ${summary(packets(got.floor.open))}; ${split(got.floor.open)}`);
      log(`    revoke → first refused packet    netwatch ${summary(packets(got.netwatch.close))}; ${split(got.netwatch.close)}`);
      log(`    delete → first refused packet    floor    ${summary(packets(got.floor.close))}; ${split(got.floor.close)}`);
      pair(`dataplane: ${kind.name}, approval → first allowed packet`, packets(got.netwatch.open), packets(got.floor.open));
      pair(`dataplane: ${kind.name}, revoke → first refused packet`, packets(got.netwatch.close), packets(got.floor.close));
    }

    // Expiry, External: LANES grants at once, one outside host each, staggered over the grant's duration.
    const expiry = { netwatch: [] as number[], floor: [] as number[] };
    const rounds = Math.ceil((opts.samples + WARMUP) / LANES);
    const t = performance.now();
    await Promise.all(
      hosts.map(async (host, lane) => {
        await sleep((lane * EXPIRY_SECONDS * 1000) / LANES);
        const flow: Flow = { from: host, to: frontend, port: tcp(8443) };
        const sides = { netwatch: external.netwatch(), floor: external.floor() };
        for (let round = 0; round < rounds; round++) {
          for (const name of (round + lane) % 2 === 0 ? (['netwatch', 'floor'] as const) : (['floor', 'netwatch'] as const)) {
            const side = sides[name];
            const { open } = await side.prepare(flow, `${EXPIRY_SECONDS}s`);
            await probeAfter(open, flow, true);
            const expires = await side.nominalExpiry();
            // Probing starts a second before the nominal expiry (a grant may close a little early: maxtac counts
            // from a creationTimestamp in whole seconds).
            await sleep(Math.max(0, expires - Date.now() - 1000));
            const sinceWall = Date.now();
            const closed = sinceWall + (await probe(flow, false, performance.now())) - expires;
            await side.gone();
            if (round > 0 || lane >= WARMUP) expiry[name].push(closed);
          }
        }
      }),
    );
    for (const name of ['netwatch', 'floor'] as const) expiry[name] = expiry[name].slice(0, Math.max(opts.samples, 1));
    log(`  External expiry, ${expiry.netwatch.length} grants per side, ${LANES} at once (${((performance.now() - t) / 1000).toFixed(0)} s):`);
    log(`    expiresAt → first refused packet            netwatch ${summary(expiry.netwatch)}`);
    log(`    creation + duration → first refused packet  floor    ${summary(expiry.floor)} (maxtac's own duration)`);
    pair('dataplane: External, expiry → first refused packet', expiry.netwatch, expiry.floor);
    if (controller.warnings.length > 0) log(`  controller warnings:\n    ${controller.warnings.join('\n    ')}`);
    return figures;
  } finally {
    for (const c of clients.values()) await c.stop();
    await dp?.stop();
    await controller?.stop();
    if (cp) await unregisterWebhook(cp).catch(() => undefined);
    await webhook?.stop();
    await cp?.stop();
  }
}
