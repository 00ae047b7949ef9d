// Podman for the container suite: build the real image without an image registry, and run it the way a Deployment
// of manifests/ runs it. Everything made here carries the run's id in its name, tag or label, so a run removes
// exactly what it made and parallel runs leave each other alone.
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { REPO, type Container, type Deployment, type Manifest, type SecurityContext } from './manifests.ts';

/**
 * Settings every podman build and run needs on the test machines, each found by trial: crun refuses hosts that
 * mount cgroup v1 and v2 together ("cgroups in hybrid mode not supported"), and podman's default rlimits fail
 * with "setrlimit … Operation not permitted".
 */
const ENGINE_FLAGS = ['--runtime=runc', '--ulimit=nofile=1024:1024', '--ulimit=nproc=1024:1024'];

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export function podman(args: string[], timeoutMs = 120_000): Promise<Result> {
  return new Promise((resolve) => {
    execFile('podman', args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr: err && code === 1 && !stderr ? err.message : stderr });
    });
  });
}

async function podmanOk(args: string[], timeoutMs?: number): Promise<string> {
  const r = await podman(args, timeoutMs);
  if (r.code !== 0) throw new Error(`podman ${args.slice(0, 2).join(' ')} failed (exit ${r.code}):\n${tail(r.stderr || r.stdout)}`);
  return r.stdout;
}

const tail = (text: string, lines = 40) => text.trimEnd().split('\n').slice(-lines).join('\n');

function run(cmd: string, args: string[], timeoutMs: number): Promise<Result> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: REPO, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr: stderr || (err?.message ?? '') }),
    );
  });
}

/** Why podman cannot build and run images here, or undefined when it can. */
export async function podmanUnusable(): Promise<string | undefined> {
  const version = await podman(['version', '--format', '{{.Client.Version}}'], 30_000);
  if (version.code !== 0) return `podman does not run (${tail(version.stderr, 3) || `exit ${version.code}`})`;
  if (process.getuid?.() !== 0) return 'the base image is made with debootstrap, which needs root';
  const runc = await run('runc', ['--version'], 30_000);
  if (runc.code !== 0) return `runc does not run (${tail(runc.stderr, 3)})`;
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Building

export interface Images {
  /** The image under test, built from Containerfile. */
  image: string;
  /** What Containerfile's NODE_IMAGE points at: Debian with this checkout's Node and the machine's npm. */
  nodeImage: string;
}

/** Tags and labels of one run; `cleanup` removes what the run made, whatever failed before. */
export class PodmanRun {
  readonly id: string;
  readonly label: string;
  private readonly images: string[] = [];

  constructor(id: string) {
    this.id = id;
    this.label = `netwatch-e2e-run=${id}`;
  }

  tag(name: string): string {
    const tag = `localhost/netwatch-e2e-${name}:${this.id}`;
    this.images.push(tag);
    return tag;
  }

  containerName(name: string): string {
    return `netwatch-e2e-${this.id}-${name}`;
  }

  async cleanup(): Promise<string[]> {
    const problems: string[] = [];
    const ids = await podman(['ps', '--all', '--quiet', '--filter', `label=${this.label}`]);
    const containers = ids.stdout.split('\n').filter(Boolean);
    if (containers.length > 0) {
      const r = await podman(['rm', '--force', '--time=0', ...containers]);
      if (r.code !== 0) problems.push(`podman rm: ${r.stderr}`);
    }
    // Newest first: an image is removed before the one it was built from.
    for (const tag of [...this.images].reverse()) {
      const r = await podman(['rmi', '--force', tag]);
      if (r.code !== 0 && !/image not known|no such image/i.test(r.stderr)) problems.push(`podman rmi ${tag}: ${r.stderr}`);
    }
    return problems;
  }
}

/** The npm on PATH (the one that installed this checkout), as the folder of its package. */
async function npmPackageDir(): Promise<string> {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const bin = await realpath(join(dir, 'npm')).catch(() => undefined);
    if (!bin) continue;
    for (let d = dirname(bin); d !== dirname(d); d = dirname(d)) {
      const pkg = await readFile(join(d, 'package.json'), 'utf8').catch(() => undefined);
      if (pkg && (JSON.parse(pkg) as { name?: string }).name === 'npm') return d;
    }
  }
  throw new Error('no npm on PATH: the image build needs the npm that installed this checkout');
}

/**
 * Builds the image from the repository's Containerfile on a base made here: a Debian root filesystem from
 * scripts/build-base-image.sh (cached per machine) with the Node of the `node` devDependency and the machine's
 * npm at the places the official node image has them. Both `npm ci` steps of the Containerfile run without a
 * network, from this machine's npm cache (filled by the `npm ci` of this checkout), through an npmrc and the cache
 * mounted for the build only: neither reaches an image layer.
 */
export async function buildImages(runInfo: PodmanRun, revision: string, log: (line: string) => void): Promise<Images> {
  const work = await mkdtemp(join(tmpdir(), 'netwatch-image-'));
  try {
    let started = Date.now();
    const base = await run('bash', [join(REPO, 'scripts/build-base-image.sh')], 15 * 60_000);
    const rootfs = /^rootfs=(.+)$/m.exec(base.stdout)?.[1];
    if (base.code !== 0 || !rootfs) throw new Error(`scripts/build-base-image.sh failed:\n${tail(base.stderr)}`);
    log(`${tail(base.stderr, 1)} (${Date.now() - started} ms)`);

    started = Date.now();
    const debian = runInfo.tag('debian');
    await podmanOk(['import', '--quiet', rootfs, debian], 10 * 60_000);

    const node = join(REPO, 'node_modules/node/bin/node');
    await stat(node).catch(() => {
      throw new Error(`${node} is missing: the pinned Node comes from the node devDependency (npm ci)`);
    });
    const context = join(work, 'node-image');
    await mkdir(context);
    await cp(node, join(context, 'node'));
    await cp(await npmPackageDir(), join(context, 'npm'), { recursive: true });
    await writeFile(
      join(context, 'Containerfile'),
      [
        `FROM ${debian}`,
        'COPY node /usr/local/bin/node',
        'COPY npm /usr/local/lib/node_modules/npm',
        'RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm',
        '',
      ].join('\n'),
    );
    const nodeImage = runInfo.tag('node');
    await podmanOk(['build', ...ENGINE_FLAGS, '--network=none', '--layers=false', '--force-rm', '--quiet', '-t', nodeImage, context], 10 * 60_000);
    log(`base images imported and built (${Date.now() - started} ms)`);

    started = Date.now();
    const npmCache = (await run('npm', ['config', 'get', 'cache'], 60_000)).stdout.trim();
    if (!npmCache) throw new Error('npm config get cache printed nothing');
    const npmrc = join(work, 'npmrc');
    await writeFile(npmrc, 'offline=true\nlogs-max=0\nupdate-notifier=false\naudit=false\nfund=false\n');
    const image = runInfo.tag('image');
    const built = await podman(
      [
        'build',
        ...ENGINE_FLAGS,
        '--network=none',
        '--layers=false',
        '--force-rm',
        // The build and deps stages are independent: their two npm ci steps run side by side.
        '--jobs=2',
        // The root user's npm settings and cache in the build stages; `O` gives the build a throwaway upper
        // layer, so npm cannot change this machine's cache.
        `--volume=${npmrc}:/root/.npmrc:ro`,
        `--volume=${npmCache}:/root/.npm:O`,
        `--build-arg=NODE_IMAGE=${nodeImage}`,
        `--build-arg=REVISION=${revision}`,
        '-f',
        join(REPO, 'Containerfile'),
        '-t',
        image,
        REPO,
      ],
      20 * 60_000,
    );
    if (built.code !== 0) {
      const hint = /ENOTCACHED/.test(built.stdout + built.stderr)
        ? `\nThe build's npm ci runs offline from this machine's npm cache (${npmCache}), which lacks a package of package-lock.json: run npm ci in the checkout first.`
        : '';
      throw new Error(`podman build -f Containerfile failed (exit ${built.code}):\n${tail(built.stdout + built.stderr)}${hint}`);
    }
    log(`image built from Containerfile (${Date.now() - started} ms)`);
    return { image, nodeImage };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export interface ImageConfig {
  User?: string;
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  WorkingDir?: string;
  Labels?: Record<string, string>;
}

export async function imageConfig(image: string): Promise<ImageConfig> {
  return JSON.parse(await podmanOk(['image', 'inspect', '--format', '{{json .Config}}', image])) as ImageConfig;
}

/** The instruction behind each layer of an image, oldest first. */
export async function imageHistory(image: string): Promise<string[]> {
  const out = await podmanOk(['history', '--no-trunc', '--format', '{{.CreatedBy}}', image]);
  return out.split('\n').filter(Boolean).reverse();
}

// ---------------------------------------------------------------------------------------------------------------
// Running as a Deployment

/** Where the kubelet mounts a Pod's ServiceAccount token. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface PodRun {
  deployment: Deployment;
  /** The Deployment's ServiceAccount: whether its token is mounted. */
  serviceAccount: Manifest & { automountServiceAccountToken?: boolean };
  /** Per volume of the Pod, a host folder holding what the volume would (the files a Secret or projection has). */
  volumes: Record<string, string>;
  /** The folder the kubelet's automounted token would be: token, ca.crt, namespace. */
  serviceAccountToken: string;
  /** The API server address the kubelet tells Pods (KUBERNETES_SERVICE_HOST/PORT). */
  apiServer: { host: string; port: number };
  /** Replaces the container's args (the tests change ports and add flags). */
  args?: string[];
  /** Added to or replacing the container's environment. */
  env?: Record<string, string>;
  network: 'none' | 'host';
  /** Leave the root filesystem writable whatever the Deployment says (to see what the process writes). */
  writableRoot?: boolean;
  name: string;
}

export function containerOf(d: Deployment): Container {
  const c = d.spec.template.spec.containers[0];
  if (!c) throw new Error(`Deployment ${d.metadata.name} has no container`);
  return c;
}

/** Kubernetes memory quantities as podman takes them (bytes). */
function bytes(quantity: string): number {
  const m = /^(\d+)(Ki|Mi|Gi|k|M|G)?$/.exec(quantity);
  if (!m) throw new Error(`memory quantity ${quantity}: not understood by this test`);
  const unit = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, k: 1e3, M: 1e6, G: 1e9 }[m[2] ?? ''] ?? 1;
  return Number(m[1]) * unit;
}

/**
 * `podman run` arguments for the Deployment's container, as the kubelet would start it: the Pod's and container's
 * securityContext (user, read-only root filesystem with no tmpfs anywhere, capabilities, no privilege escalation;
 * podman's default seccomp profile stands for RuntimeDefault), the memory limit, args, env (the Pod name for
 * fieldRef metadata.name), volume mounts, the automounted ServiceAccount token, the Service variables the kubelet
 * sets, and no /etc/passwd entry for the user (the kubelet adds none; podman would).
 */
export function podRunArgs(p: PodRun, image: string, label: string): string[] {
  const pod = p.deployment.spec.template.spec;
  const c = containerOf(p.deployment);
  const sc: SecurityContext & { runAsGroup?: number } = { ...pod.securityContext, ...c.securityContext };
  const args = ['run', ...ENGINE_FLAGS, `--name=${p.name}`, `--label=${label}`, `--hostname=${p.name}`, `--network=${p.network}`, '--passwd=false'];

  if (sc.runAsUser !== undefined) args.push(`--user=${sc.runAsUser}${sc.runAsGroup !== undefined ? `:${sc.runAsGroup}` : ''}`);
  if (sc.readOnlyRootFilesystem && !p.writableRoot) args.push('--read-only', '--read-only-tmpfs=false');
  if (sc.allowPrivilegeEscalation === false) args.push('--security-opt=no-new-privileges');
  if (sc.privileged) throw new Error(`${p.deployment.metadata.name}: privileged containers are not run by this test`);
  for (const cap of sc.capabilities?.drop ?? []) args.push(`--cap-drop=${cap}`);
  for (const cap of sc.capabilities?.add ?? []) args.push(`--cap-add=${cap}`);
  const memory = c.resources?.limits?.memory;
  if (memory) args.push(`--memory=${bytes(memory)}`);

  const env: Record<string, string> = { KUBERNETES_SERVICE_HOST: p.apiServer.host, KUBERNETES_SERVICE_PORT: String(p.apiServer.port) };
  for (const e of c.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if ((e.valueFrom as { fieldRef?: { fieldPath?: string } } | undefined)?.fieldRef?.fieldPath === 'metadata.name') env[e.name] = p.name;
    else throw new Error(`${p.deployment.metadata.name}: env ${e.name} has a valueFrom this test does not emulate`);
  }
  for (const [k, v] of Object.entries({ ...env, ...p.env })) args.push(`--env=${k}=${v}`);

  const mounts = c.volumeMounts ?? [];
  for (const m of mounts) {
    const host = p.volumes[m.name];
    if (!host) throw new Error(`${p.deployment.metadata.name}: no folder given for volume ${m.name}`);
    // Secret, ConfigMap and projected volumes are read-only whatever the mount says.
    args.push(`--volume=${host}:${m.mountPath}:ro`);
  }
  const automount = pod.automountServiceAccountToken ?? p.serviceAccount.automountServiceAccountToken ?? true;
  if (automount && !mounts.some((m) => m.mountPath === SERVICE_ACCOUNT_DIR)) args.push(`--volume=${p.serviceAccountToken}:${SERVICE_ACCOUNT_DIR}:ro`);

  return [...args, image, ...(p.args ?? c.args ?? [])];
}

/** Runs the container to its end. */
export async function runPod(p: PodRun, image: string, label: string, timeoutMs = 120_000): Promise<Result> {
  return podman(['run', '--rm', ...podRunArgs(p, image, label).slice(1)], timeoutMs);
}

/** Starts the container in the background; `podman logs`, `podman kill` and `podman wait` take `p.name`. */
export async function startPod(p: PodRun, image: string, label: string): Promise<void> {
  await podmanOk(['run', '--detach', ...podRunArgs(p, image, label).slice(1)]);
}

export async function logsOf(name: string): Promise<string> {
  const r = await podman(['logs', name]);
  return r.stdout + r.stderr;
}

/** Sends SIGTERM, as the kubelet does first, and returns the exit code. */
export async function terminate(name: string, timeoutMs = 30_000): Promise<number> {
  await podmanOk(['kill', '--signal=TERM', name]);
  return Number((await podmanOk(['wait', name], timeoutMs)).trim());
}

/** What `podman diff` reports changed in the container's filesystem: `[kind, path]`. */
export async function changedPaths(name: string): Promise<[string, string][]> {
  const out = await podmanOk(['diff', name]);
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [kind = '', ...path] = l.split(' ');
      return [kind, path.join(' ')];
    });
}

export async function removeContainer(name: string): Promise<void> {
  await podman(['rm', '--force', '--time=0', name]);
}
