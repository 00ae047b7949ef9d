// The components under test run as their own processes, as in a cluster (`node dist/<component>.mjs` with the
// image's Node flags and the Deployment's NODE_OPTIONS), so the load generator never shares their event loop and
// their CPU and memory can be read from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { buildServers } from '../build-dist.ts';
import { freePort, type ControlPlane } from '../controlplane.ts';
import { makeServingCertificates } from '../certs.ts';
import { applyControllerRbac, applyWebhookRbac } from '../deploy.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
/** Inside the repository (the bundles import their packages from its node_modules), apart from dist/. */
const BUILD_DIR = join(REPO, 'node_modules/.cache/netwatch-bench');

let built: Promise<void> | undefined;
/** Bundles webhook and controller once per benchmark process, the way the image is built. */
export function ensureBuilt(): Promise<void> {
  built ??= buildServers({ outdir: BUILD_DIR, only: ['webhook', 'controller'], quiet: true });
  return built;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

interface Spawned {
  child: ChildProcess;
  exited: Promise<number | null>;
}

export interface NodeRuntime {
  /** Node flags of the image's ENTRYPOINT (`node --enable-source-maps`). */
  flags: string[];
  /** NODE_OPTIONS set by the component's Deployment, if any. */
  nodeOptions: string | undefined;
}

/** How the image and the component's Deployment run Node: the bench starts the component the same way. */
export function deployedRuntime(component: 'webhook' | 'controller'): NodeRuntime {
  const containerfile = readFileSync(join(REPO, 'Containerfile'), 'utf8');
  const entry = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(containerfile)?.[1];
  const [, ...flags] = entry ? (JSON.parse(entry) as string[]) : [];
  const deployment = parseYaml(readFileSync(join(REPO, 'manifests', component, 'deployment.yaml'), 'utf8')) as {
    spec?: { template?: { spec?: { containers?: { env?: { name: string; value?: string }[] }[] } } };
  };
  const env = deployment.spec?.template?.spec?.containers?.[0]?.env ?? [];
  return { flags, nodeOptions: env.find((e) => e.name === 'NODE_OPTIONS')?.value };
}

function spawnNode(component: 'webhook' | 'controller', args: string[], profileDir: string | undefined, stdout: 'pipe' | 'ignore'): Spawned {
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const runtime = deployedRuntime(component);
  const child = spawn(process.execPath, [...runtime.flags, ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), join(BUILD_DIR, `${component}.mjs`), ...args], {
    cwd: REPO,
    stdio: ['ignore', stdout, 'inherit'],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'production', ...(runtime.nodeOptions ? { NODE_OPTIONS: runtime.nodeOptions } : {}) },
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited };
}

/** SIGTERM (both components exit cleanly on it, which also writes CPU profiles), SIGKILL after 10 s. */
async function terminate(s: Spawned): Promise<void> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return;
  s.child.kill('SIGTERM');
  const timer = setTimeout(() => s.child.kill('SIGKILL'), 10_000);
  await s.exited;
  clearTimeout(timer);
}

function get(url: string, ca?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const done = (res: import('node:http').IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    };
    const req = url.startsWith('https:') ? request(url, { ca, timeout: 5000 }, done) : httpRequest(url, { timeout: 5000 }, done);
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

async function waitUntil(what: string, s: Spawned, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (s.child.exitCode !== null) throw new Error(`${what}: the process exited with code ${String(s.child.exitCode)}`);
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what}: timed out`);
    await sleep(50);
  }
}

export interface WebhookProcess {
  /** https://127.0.0.1:PORT, for the webhook configurations. */
  url: string;
  caPem: string;
  pid: number;
  /** The webhook's Prometheus text. */
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

/** Starts webhook/main.ts (bundled) as the netwatch-webhook identity with its manifest RBAC; not yet registered. */
export async function startWebhookProcess(cp: ControlPlane, opts: { profileDir?: string } = {}): Promise<WebhookProcess> {
  await ensureBuilt();
  await applyWebhookRbac(cp);
  const certs = makeServingCertificates({ ips: ['127.0.0.1'], dnsNames: ['localhost'] });
  const dir = join(cp.dir, 'bench-webhook');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tls.crt'), certs.certPem);
  writeFileSync(join(dir, 'tls.key'), certs.keyPem, { mode: 0o600 });
  const port = await freePort();
  const metricsPort = await freePort();
  const url = `https://127.0.0.1:${port}`;
  const s = spawnNode(
    'webhook',
    [
      '--host=127.0.0.1',
      `--port=${port}`,
      `--metrics-port=${metricsPort}`,
      // As a cluster with mutual TLS runs it: the API server presents the control plane's webhook client certificate.
      `--client-ca-file=${cp.webhookClientCaFile}`,
      `--kubeconfig=${cp.kubeconfigPathFor('netwatch-webhook')}`,
      `--tls-cert-file=${join(dir, 'tls.crt')}`,
      `--tls-key-file=${join(dir, 'tls.key')}`,
      // One line per admission at info; a production webhook logs them, but here they would only measure pino.
      '--log-level=warn',
    ],
    opts.profileDir,
    'ignore',
  );
  try {
    await waitUntil('webhook /readyz', s, async () => (await get(`${url}/readyz`, certs.caPem)).status === 200);
  } catch (err) {
    await terminate(s);
    throw err;
  }
  return {
    url,
    caPem: certs.caPem,
    pid: s.child.pid ?? 0,
    metrics: async () => await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text(),
    stop: () => terminate(s),
  };
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
  await ensureBuilt();
  if (opts.applyRbac ?? true) await applyControllerRbac(cp);
  const port = await freePort();
  const s = spawnNode(
    'controller',
    [`--kubeconfig=${cp.kubeconfigPathFor('netwatch-controller')}`, `--listen=127.0.0.1:${port}`, '--leader-elect=false', `--workers=${opts.workers}`, '--log-level=info'],
    opts.profileDir,
    'pipe',
  );
  const warnings: string[] = [];
  let resolveStarted: (t: number) => void = () => undefined;
  let rejectStarted: (e: Error) => void = () => undefined;
  const started = new Promise<number>((resolve, reject) => {
    resolveStarted = resolve;
    rejectStarted = reject;
  });
  started.catch(() => undefined);
  void s.exited.then((code) => rejectStarted(new Error(`the controller exited with code ${String(code)} before it started`)));
  const lines = createInterface({ input: s.child.stdout! });
  lines.on('line', (line) => {
    let entry: { level?: number; msg?: string; time?: number };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      return;
    }
    if (entry.msg === 'controller started' && typeof entry.time === 'number') resolveStarted(entry.time);
    if ((entry.level ?? 0) >= 40 && warnings.length < 50) warnings.push(line.slice(0, 300));
  });
  return {
    pid: s.child.pid ?? 0,
    started,
    warnings,
    metrics: async () => (await get(`http://127.0.0.1:${port}/metrics`)).body,
    stop: () => terminate(s),
  };
}
