// The components under test run as their own processes, as in a cluster (their bundles with the image's Node flags
// and the Deployment's args and NODE_OPTIONS: scripts/components.ts, which the sandbox uses too), so the load
// generator never shares their event loop and their CPU and memory can be read from /proc. This file holds the
// benchmark's choices on top (log levels, no leader election) and the /proc readings.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ControlPlane } from '../controlplane.ts';
import { unknownFlags } from './revision.ts';
import {
  buildBundles,
  startControllerProcess as startController,
  startWebhookProcess as startWebhook,
  type Bundles,
  type WebhookProcess,
} from '../components.ts';

export type { WebhookProcess };

let built: Promise<Bundles> | undefined;
/** Bundles webhook and controller once per benchmark process, the way the image is built. */
export function ensureBuilt(): Promise<Bundles> {
  built ??= buildBundles(['webhook', 'controller']);
  return built;
}

/** User + system CPU seconds a process has used so far (Linux /proc). */
export function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** Resident set size in bytes (VmRSS), NaN when the process is gone. */
export function rssBytes(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? NaN : Number(kb) * 1024;
  } catch {
    return NaN;
  }
}

/** CPU seconds of named processes between two points. */
export class CpuMeter {
  private readonly start: Map<string, number>;
  private readonly self0 = process.cpuUsage();
  constructor(private readonly pids: Record<string, number | undefined>) {
    this.start = new Map(Object.entries(pids).map(([k, pid]) => [k, pid === undefined ? NaN : cpuSeconds(pid)]));
  }

  /** CPU seconds used since construction, per name, plus `bench` (this process). */
  read(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, pid] of Object.entries(this.pids)) out[k] = pid === undefined ? NaN : cpuSeconds(pid) - (this.start.get(k) ?? NaN);
    const self = process.cpuUsage(this.self0);
    out.bench = (self.user + self.system) / 1e6;
    return out;
  }
}

export function formatCpu(cpu: Record<string, number>): string {
  return Object.entries(cpu)
    .filter(([, v]) => Number.isFinite(v))
    .map(([k, v]) => `${k} ${v.toFixed(1)}`)
    .join(', ');
}

/** etcd and kube-apiserver pids of the control plane (the first two it started). */
export function controlPlanePids(cp: ControlPlane): { etcd: number | undefined; apiserver: number | undefined } {
  const [etcd, apiserver] = cp.pids();
  return { etcd, apiserver };
}

/**
 * Starts webhook/main.ts (bundled) as the netwatch-webhook identity with its manifest RBAC, ready; not yet registered.
 * From `bundles` when given (another revision's: scripts/bench/revision.ts), else this tree's. A benchmark flag that
 * revision's webhook does not have is left out and reported through `log`.
 */
export async function startWebhookProcess(
  cp: ControlPlane,
  opts: { profileDir?: string; set?: Record<string, string>; name?: string; bundles?: Bundles; log?: (line: string) => void } = {},
): Promise<WebhookProcess> {
  const bundles = opts.bundles ?? (await ensureBuilt());
  // One line per admission at info; a production webhook logs them, but here they would only measure pino.
  // One user makes every create: the per-requester limit stays on (its informer and count are part of the cost)
  // but far above what a benchmark creates.
  let set: Record<string, string> = { 'log-level': 'warn', 'max-open-requests': '1000000', ...opts.set };
  const command = bundles.commands?.webhook;
  if (command) {
    const unknown = unknownFlags(set, command);
    if (unknown.length > 0) {
      opts.log?.(`  ${opts.name ?? 'webhook'}: this revision's webhook has no ${unknown.map((f) => `--${f}`).join(', ')}: started without`);
      set = Object.fromEntries(Object.entries(set).filter(([f]) => !unknown.includes(f)));
    }
  }
  return startWebhook(cp, {
    bundles,
    dir: join(cp.dir, opts.name ?? 'bench-webhook'),
    set,
    ...(opts.profileDir ? { profileDir: opts.profileDir } : {}),
  });
}

export interface ControllerProcess {
  pid: number;
  /** Wall-clock time (epoch ms, the controller's own log) at which its caches had synced and its workers started. */
  started: Promise<number>;
  /** Log lines at warn or above so far. */
  warnings: string[];
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Starts controller/main.ts (bundled) as the netwatch-controller identity with its manifest RBAC, without leader
 * election. It logs at info, as deployed: the 'controller started' line marks the end of its start-up.
 */
export async function startControllerProcess(cp: ControlPlane, opts: { workers: number; profileDir?: string; applyRbac?: boolean }): Promise<ControllerProcess> {
  const warnings: string[] = [];
  let resolveStarted: (t: number) => void = () => undefined;
  let rejectStarted: (e: Error) => void = () => undefined;
  const started = new Promise<number>((resolve, reject) => {
    resolveStarted = resolve;
    rejectStarted = reject;
  });
  started.catch(() => undefined);
  const p = await startController(cp, {
    bundles: await ensureBuilt(),
    dir: join(cp.dir, 'bench-controller'),
    set: { 'leader-elect': false, workers: String(opts.workers), 'log-level': 'info' },
    applyRbac: opts.applyRbac ?? true,
    ...(opts.profileDir ? { profileDir: opts.profileDir } : {}),
    onLine: (line) => {
      let entry: { level?: number; msg?: string; time?: number };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        return;
      }
      if (entry.msg === 'controller started' && typeof entry.time === 'number') resolveStarted(entry.time);
      if ((entry.level ?? 0) >= 40 && warnings.length < 50) warnings.push(line.slice(0, 300));
    },
  });
  void p.exited.then((code) => rejectStarted(new Error(`the controller exited with code ${String(code)} before it started`)));
  return { pid: p.pid, started, warnings, metrics: p.metrics, stop: p.stop };
}

/** Wall time of one command in ms, from spawn to exit; fails when it fails or does not print `mustPrint`. */
export function timeCommand(cmd: string, args: string[], env: NodeJS.ProcessEnv, mustPrint?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    execFile(cmd, args, { env, maxBuffer: 256 << 20 }, (err, stdout) => {
      if (err) return reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}`, { cause: err }));
      if (mustPrint !== undefined && !stdout.includes(mustPrint)) return reject(new Error(`${cmd} ${args.join(' ')} did not print ${mustPrint}`));
      resolve(Number(process.hrtime.bigint() - start) / 1e6);
    });
  });
}
