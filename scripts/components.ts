// The one way the sandbox (`npm start`) and the benchmarks run netwatch's server components: the real entry points
// (webhook/main.ts, controller/main.ts, notifier/main.ts, webui/main.ts) bundled as the image bundles them (scripts/build-dist.ts),
// each started as its own process the way its Deployment in manifests/ starts it: the image's Node flags, the
// Deployment's args and environment (NODE_OPTIONS included), then the flags that tie it to a local control plane
// (addresses, ports, files, kubeconfig), then the caller's own flags. Nothing here runs a component in-process; the
// end-to-end suites that do are in test/support/.
//
// Bundles rather than tsx: what ships is the bundle, the benchmarks measure it, and it starts in about a third of
// the time (README, Development: the sandbox).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { UsageError, type Command, type Env, type FlagOption, envVarOf, inlineEnvVarOf } from '../lib/cli/flags.ts';
import { CONTROLLER_COMMAND, parseControllerArgs } from '../controller/options.ts';
import { NOTIFIER_COMMAND, parseNotifierArgs } from '../notifier/options.ts';
import { WEBHOOK_COMMAND, parseWebhookArgs } from '../webhook/options.ts';
import { WEBUI_COMMAND, parseWebUiArgs } from '../webui/options.ts';
import { buildServers, SERVER_ENTRIES, type ServerName } from './build-dist.ts';
import { makeServingCertificates } from './certs.ts';
import { freePort, type ControlPlane } from './controlplane.ts';
import { applyControllerRbac, applyNotifierRbac, applyWebhookRbac, installWebUiRbac } from './deploy.ts';

export type { ServerName };
const REPO = fileURLToPath(new URL('..', import.meta.url));

export const COMMANDS: Record<ServerName, Command> = { webhook: WEBHOOK_COMMAND, controller: CONTROLLER_COMMAND, notifier: NOTIFIER_COMMAND, webui: WEBUI_COMMAND };

// ---------------------------------------------------------------------------------------------------------------
// Bundles

export interface Bundles {
  dir: string;
  /**
   * The checkout the bundles were built from: its Containerfile, manifests/ and flags say how each component runs.
   * This repository, or another revision's (the benchmark's --compare: scripts/bench/revision.ts).
   */
  root: string;
  /** Each component's flags as that checkout defines them (its <name>/options.ts); this checkout's when absent. */
  commands?: Partial<Record<ServerName, Command>>;
  /** The bundle of a component, as `node` runs it. */
  entry(name: ServerName): string;
  remove(): void;
}

/**
 * Bundles the components into a folder of their own under .tmp/ (inside the repository: the bundles import their
 * packages from its node_modules), so that concurrent runs never overwrite each other's; removed by remove() or at
 * exit.
 */
export async function buildBundles(only: ServerName[] = Object.keys(SERVER_ENTRIES) as ServerName[]): Promise<Bundles> {
  const dir = join(REPO, '.tmp', `bundles-${process.pid}-${randomBytes(3).toString('hex')}`);
  const remove = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', remove);
  await buildServers({ outdir: dir, only, quiet: true });
  return { dir, root: REPO, entry: (name) => join(dir, `${name}.mjs`), remove };
}

// ---------------------------------------------------------------------------------------------------------------
// The command line of a component, as its Deployment has it (pure, unit-tested in components.test.ts)

interface EnvEntry {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath?: string } };
}

export interface Deployed {
  /** Node flags of the image's ENTRYPOINT (`node --enable-source-maps`). */
  nodeFlags: string[];
  /** The container's args after the bundle (`dist/<name>.mjs`). */
  args: string[];
  env: EnvEntry[];
}

/**
 * How the image and the component's Deployment run it: Containerfile's ENTRYPOINT, manifests/<name>/deployment.yaml
 * of the checkout at `root` (this one by default).
 */
export function deployed(name: ServerName, root = REPO): Deployed {
  const containerfile = readFileSync(join(root, 'Containerfile'), 'utf8');
  const entry = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(containerfile)?.[1];
  const [, ...nodeFlags] = entry ? (JSON.parse(entry) as string[]) : [];
  const deployment = parseYaml(readFileSync(join(root, 'manifests', name, 'deployment.yaml'), 'utf8')) as {
    spec?: { template?: { spec?: { containers?: { args?: string[]; env?: EnvEntry[] }[] } } };
  };
  const container = deployment.spec?.template?.spec?.containers?.[0];
  const [bundle, ...args] = container?.args ?? [];
  if (bundle !== `dist/${name}.mjs`) throw new Error(`manifests/${name}/deployment.yaml: the first argument is ${String(bundle)}, not dist/${name}.mjs`);
  return { nodeFlags, args, env: container?.env ?? [] };
}

/** A flag on a command line with the tokens that make it up (`--x=v`, `--x v`, `--no-x`, `--x`). */
interface FlagTokens {
  flag: string;
  tokens: string[];
}

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** Splits a command line into flags, using `options` to tell a boolean (`--x`) from a flag taking the next token. */
export function flagsOf(args: readonly string[], options: Readonly<Record<string, FlagOption>>): FlagTokens[] {
  const out: FlagTokens[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const m = /^--(no-)?([^=]+)(=.*)?$/.exec(arg);
    if (!m) throw new UsageError(`${JSON.stringify(arg)} is not a flag: write --name=value`);
    const flag = kebab(m[2]!);
    const takesNext = !m[1] && !m[3] && options[flag]?.type !== 'boolean' && i + 1 < args.length && !args[i + 1]!.startsWith('--');
    out.push({ flag, tokens: takesNext ? [arg, args[++i]!] : [arg] });
  }
  return out;
}

/** A value for a flag the launcher sets: a string (or several, for a repeatable flag), a boolean, or undefined to unset it. */
export type FlagValue = string | string[] | boolean | undefined;

function tokensFor(flag: string, value: FlagValue): string[] {
  if (value === undefined) return [];
  if (typeof value === 'boolean') return [value ? `--${flag}` : `--no-${flag}`];
  return (Array.isArray(value) ? value : [value]).map((v) => `--${flag}=${v}`);
}

export interface CommandLine {
  args: string[];
  env: Record<string, string>;
}

/**
 * The arguments and environment of `name` as its Deployment runs it, with `set` (the flags a launcher ties to its
 * control plane: each replaces the Deployment's flag and variable; undefined removes them) and then `extra` (a
 * user's flags, each replacing the Deployment's). `extra` may not touch a flag in `set`. `fieldRefs` stands for
 * the Pod fields the Deployment reads through the downward API (`metadata.name`).
 */
export function commandLine(
  name: ServerName,
  opts: { set?: Record<string, FlagValue>; extra?: readonly string[]; fieldRefs?: Record<string, string>; deployment?: Deployed; command?: Command },
): CommandLine {
  const command = opts.command ?? COMMANDS[name];
  const deployment = opts.deployment ?? deployed(name);
  const set = opts.set ?? {};
  for (const flag of Object.keys(set)) if (!command.options[flag]) throw new Error(`${name} has no flag --${flag}`);
  const extra = flagsOf(opts.extra ?? [], command.options);
  const clashes = [...new Set(extra.map((f) => f.flag).filter((f) => f in set))];
  if (clashes.length > 0) {
    throw new UsageError(
      `${clashes.map((f) => `--${f}`).join(', ')}: set by the sandbox to tie the ${name} to its control plane (it sets ${Object.keys(set)
        .map((f) => `--${f}`)
        .join(', ')})`,
    );
  }
  const replaced = new Set([...Object.keys(set), ...extra.map((f) => f.flag)]);
  const args = [
    ...flagsOf(deployment.args, command.options)
      .filter((f) => !replaced.has(f.flag))
      .flatMap((f) => f.tokens),
    ...Object.entries(set).flatMap(([flag, value]) => tokensFor(flag, value)),
    ...extra.flatMap((f) => f.tokens),
  ];
  // A variable of a flag the launcher sets would lose to the flag anyway; dropping it keeps the process's
  // environment saying what it runs with (and unsets a secret's inline variable along with its file).
  const dropped = new Set(Object.keys(set).flatMap((flag) => [envVarOf(command.envPrefix, flag), inlineEnvVarOf(command.envPrefix, flag)]));
  const env: Record<string, string> = {};
  for (const e of deployment.env) {
    if (dropped.has(e.name)) continue;
    if (e.value !== undefined) env[e.name] = e.value;
    else {
      const field = e.valueFrom?.fieldRef?.fieldPath;
      const value = field === undefined ? undefined : opts.fieldRefs?.[field];
      if (value === undefined) throw new Error(`manifests/${name}/deployment.yaml: env ${e.name} reads ${field ?? 'a source'} that the launcher does not provide`);
      env[e.name] = value;
    }
  }
  return { args, env };
}

/** A file reader for checking a command line before the files exist: any secret file holds a valid 32-byte key. */
const placeholderFiles = () => Buffer.alloc(32).toString('base64');

/**
 * The component's own parser on `line` (the pure function its main.ts calls): throws its UsageError, or returns
 * the help text when the line asks for --help or --version.
 */
export function checkCommandLine(name: ServerName, line: CommandLine): string | undefined {
  const env: Env = line.env;
  const parsed = (() => {
    switch (name) {
      case 'webhook':
        return parseWebhookArgs(line.args, env);
      case 'controller':
        return parseControllerArgs(line.args, env);
      case 'notifier':
        return parseNotifierArgs(line.args, env);
      case 'webui':
        return parseWebUiArgs(line.args, env, placeholderFiles);
    }
  })();
  return parsed.kind === 'print' ? parsed.text : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Processes

export interface ComponentProcess {
  name: ServerName;
  pid: number;
  /** Node's arguments: flags, the bundle, the component's arguments. */
  argv: string[];
  /** The environment it was given. */
  env: Record<string, string>;
  /** Where its stdout and stderr go, when a file. */
  logFile: string | undefined;
  child: ChildProcess;
  exited: Promise<number | null>;
  /** SIGTERM (each component exits cleanly on it), SIGKILL after 10 s. */
  stop: () => Promise<void>;
}

export interface StartOptions {
  bundles: Bundles;
  line: CommandLine;
  /** stdout and stderr go to this file; else stderr is inherited and stdout ignored (or read by onLine). */
  logFile?: string;
  onLine?: (line: string) => void;
  /** Write a V8 CPU profile into this folder (at exit). */
  profileDir?: string;
}

/**
 * Starts `name` from its bundle in a process group of its own: a Ctrl-C in the terminal reaches only the launcher,
 * which stops the components in order. If the launcher dies without stopping them, a watchdog does.
 */
export function startComponent(name: ServerName, opts: StartOptions): ComponentProcess {
  const deployment = deployed(name, opts.bundles.root);
  if (opts.profileDir) mkdirSync(opts.profileDir, { recursive: true });
  const argv = [...deployment.nodeFlags, ...(opts.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`] : []), opts.bundles.entry(name), ...opts.line.args];
  // The image's environment (NODE_ENV) and the Deployment's, not the caller's: a KUBECONFIG or LOG_LEVEL of the
  // terminal must not reach a component.
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'production', ...opts.line.env };
  const toFile = opts.logFile ? createWriteStream(opts.logFile, { flags: 'a' }) : undefined;
  const child = spawn(process.execPath, argv, {
    cwd: opts.bundles.root,
    env,
    detached: true,
    stdio: ['ignore', toFile || opts.onLine ? 'pipe' : 'ignore', toFile ? 'pipe' : 'inherit'],
  });
  if (toFile) {
    child.stdout?.pipe(toFile, { end: false });
    child.stderr?.pipe(toFile, { end: false });
  }
  if (opts.onLine && child.stdout) createInterface({ input: child.stdout }).on('line', opts.onLine);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  void exited.then(() => toFile?.end());
  const pid = child.pid ?? 0;
  const watchdog = watch(pid);
  const onExit = () => child.kill('SIGKILL');
  process.on('exit', onExit);
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      process.off('exit', onExit);
      watchdog.kill('SIGKILL');
    })());
  return { name, pid, argv, env, logFile: opts.logFile, child, exited, stop };
}

/** Ends `pid` once this process is gone, however it went (SIGKILL included). */
function watch(pid: number): ChildProcess {
  const script = 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; kill -TERM "$2" 2>/dev/null; sleep 5; kill -KILL "$2" 2>/dev/null';
  const child = spawn('sh', ['-c', script, 'watchdog', String(process.pid), String(pid)], { detached: true, stdio: 'ignore' });
  child.unref();
  return child;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** GET over HTTP(S), trusting `ca`; the status and body. */
export function get(url: string, ca?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const done = (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    };
    const req = url.startsWith('https:') ? httpsRequest(url, { ca, timeout: 5000 }, done) : httpRequest(url, { timeout: 5000 }, done);
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

function tail(file: string | undefined): string {
  if (!file) return '';
  try {
    return `\n${readFileSync(file, 'utf8').split('\n').slice(-15).join('\n')}`;
  } catch {
    return '';
  }
}

/** Waits until `check` passes; stops the process and throws (with its last log lines) if it exits or times out. */
export async function waitUntilReady(p: ComponentProcess, what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (p.child.exitCode !== null) {
      await p.stop(); // its watchdog
      throw new Error(`the ${p.name} exited with code ${String(p.child.exitCode)} before ${what}${tail(p.logFile)}`);
    }
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) {
      await p.stop();
      throw new Error(`the ${p.name}: timed out waiting for ${what}${tail(p.logFile)}`);
    }
    await sleep(50);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Each component against a local control plane, as its identity with its manifests' RBAC

export interface LaunchOptions {
  bundles: Bundles;
  /** Serving certificates, keys and the like are written here. */
  dir: string;
  /** The flags the launcher sets besides those that tie the component to the control plane. */
  set?: Record<string, FlagValue>;
  /** A user's flags for the component (the sandbox passes them through). */
  extra?: readonly string[];
  logFile?: string;
  profileDir?: string;
}

export interface WebhookProcess extends ComponentProcess {
  /** https://127.0.0.1:PORT, for the webhook configurations. */
  url: string;
  caPem: string;
  /** The webhook's Prometheus text. */
  metrics: () => Promise<string>;
}

/** The flags that tie the webhook to a control plane on loopback: the same in checkSandboxFlags and at start. */
function webhookSet(cp: ControlPlane | undefined, files: { cert: string; key: string }, ports: { port: number; metrics: number }): Record<string, FlagValue> {
  return {
    host: '127.0.0.1',
    port: String(ports.port),
    'metrics-port': String(ports.metrics),
    'tls-cert-file': files.cert,
    'tls-key-file': files.key,
    // As a cluster with mutual TLS runs it: the API server presents the control plane's webhook client certificate.
    'client-ca-file': cp?.webhookClientCaFile ?? '/placeholder/ca.crt',
    kubeconfig: cp?.kubeconfigPathFor('netwatch-webhook') ?? '/placeholder/kubeconfig',
  };
}

/** Starts webhook/main.ts (bundled) as the netwatch-webhook identity with its manifest RBAC, ready; not yet registered. */
export async function startWebhookProcess(cp: ControlPlane, opts: LaunchOptions): Promise<WebhookProcess> {
  await applyWebhookRbac(cp, opts.bundles.root);
  const certs = makeServingCertificates({ ips: ['127.0.0.1'], dnsNames: ['localhost'] });
  mkdirSync(opts.dir, { recursive: true });
  const files = { cert: join(opts.dir, 'tls.crt'), key: join(opts.dir, 'tls.key') };
  writeFileSync(files.cert, certs.certPem);
  writeFileSync(files.key, certs.keyPem, { mode: 0o600 });
  const ports = { port: await freePort(), metrics: await freePort() };
  const line = commandLine('webhook', {
    set: { ...webhookSet(cp, files, ports), ...opts.set },
    extra: opts.extra ?? [],
    deployment: deployed('webhook', opts.bundles.root),
    ...(opts.bundles.commands?.webhook ? { command: opts.bundles.commands.webhook } : {}),
  });
  const p = startComponent('webhook', { bundles: opts.bundles, line, ...(opts.logFile ? { logFile: opts.logFile } : {}), ...(opts.profileDir ? { profileDir: opts.profileDir } : {}) });
  const url = `https://127.0.0.1:${ports.port}`;
  await waitUntilReady(p, 'GET /readyz answered 200', async () => (await get(`${url}/readyz`, certs.caPem)).status === 200);
  return { ...p, url, caPem: certs.caPem, metrics: async () => (await get(`http://127.0.0.1:${ports.metrics}/metrics`)).body };
}

export interface ControllerProcess extends ComponentProcess {
  /** http://127.0.0.1:PORT of /healthz, /readyz and /metrics. */
  url: string;
  metrics: () => Promise<string>;
}

function controllerSet(cp: ControlPlane | undefined, port: number): Record<string, FlagValue> {
  return { listen: `127.0.0.1:${port}`, kubeconfig: cp?.kubeconfigPathFor('netwatch-controller') ?? '/placeholder/kubeconfig' };
}

/**
 * Starts controller/main.ts (bundled) as the netwatch-controller identity with its manifest RBAC (unless
 * `applyRbac` is false). With `waitUntilLeading`, resolves once it holds the Lease and its caches synced.
 */
export async function startControllerProcess(
  cp: ControlPlane,
  opts: LaunchOptions & { applyRbac?: boolean; waitUntilLeading?: boolean; podName?: string; onLine?: (line: string) => void },
): Promise<ControllerProcess> {
  if (opts.applyRbac ?? true) await applyControllerRbac(cp);
  const port = await freePort();
  const line = commandLine('controller', {
    set: { ...controllerSet(cp, port), ...opts.set },
    extra: opts.extra ?? [],
    fieldRefs: { 'metadata.name': opts.podName ?? 'netwatch-controller-local' },
  });
  const p = startComponent('controller', {
    bundles: opts.bundles,
    line,
    ...(opts.logFile ? { logFile: opts.logFile } : {}),
    ...(opts.onLine ? { onLine: opts.onLine } : {}),
    ...(opts.profileDir ? { profileDir: opts.profileDir } : {}),
  });
  const url = `http://127.0.0.1:${port}`;
  const metrics = async () => (await get(`${url}/metrics`)).body;
  // /readyz alone is 200 on a standby too; the leader gauge tells the leader apart, and its /readyz waits for the caches.
  if (opts.waitUntilLeading) {
    await waitUntilReady(p, 'it led with its caches synced', async () => /^netwatch_controller_is_leader 1$/m.test(await metrics()) && (await get(`${url}/readyz`)).status === 200);
  }
  return { ...p, url, metrics };
}

export interface NotifierProcess extends ComponentProcess {
  /** http://127.0.0.1:PORT of /healthz, /readyz and /metrics. */
  url: string;
  metrics: () => Promise<string>;
}

/**
 * The flags that tie the notifier to a control plane on loopback, to the configuration file written for it (its
 * sinks are the launcher's receivers) and to the web UI its messages link to.
 */
function notifierSet(cp: ControlPlane | undefined, port: number, wiring: NotifierWiring): Record<string, FlagValue> {
  return {
    listen: `127.0.0.1:${port}`,
    kubeconfig: cp?.kubeconfigPathFor('netwatch-notifier') ?? '/placeholder/kubeconfig',
    config: wiring.configFile,
    'web-url': wiring.webUrl,
  };
}

export interface NotifierWiring {
  /** The JSON configuration (sinks and routes), already written. */
  configFile: string;
  /** The web UI, for the links in messages. */
  webUrl: string;
}

/**
 * Starts notifier/main.ts (bundled) as the netwatch-notifier identity with its manifest RBAC; resolves once it holds
 * the Lease and its cache synced (it announces nothing before that).
 */
export async function startNotifierProcess(cp: ControlPlane, opts: LaunchOptions & NotifierWiring & { podName?: string }): Promise<NotifierProcess> {
  await applyNotifierRbac(cp);
  const port = await freePort();
  const line = commandLine('notifier', {
    set: { ...notifierSet(cp, port, opts), ...opts.set },
    extra: opts.extra ?? [],
    fieldRefs: { 'metadata.name': opts.podName ?? 'netwatch-notifier-local' },
  });
  const p = startComponent('notifier', { bundles: opts.bundles, line, ...(opts.logFile ? { logFile: opts.logFile } : {}) });
  const url = `http://127.0.0.1:${port}`;
  const metrics = async () => (await get(`${url}/metrics`)).body;
  // As for the controller: /readyz is 200 on a standby too, the leader gauge tells the leader apart.
  await waitUntilReady(p, 'it led with its cache synced', async () => /^netwatch_notifier_is_leader 1$/m.test(await metrics()) && (await get(`${url}/readyz`)).status === 200);
  return { ...p, url, metrics };
}

export interface WebUiProcess extends ComponentProcess {
  url: string;
}

export interface WebUiIdentity {
  /** The OIDC provider the API server trusts, and the CA of its certificate. */
  issuer: string;
  caFile: string;
  clientId: string;
  /** The claims as the API server maps them (its --oidc-* flags). */
  usernameClaim: string;
  usernamePrefix: string;
  groupsClaim: string;
  groupsPrefix: string;
}

function webUiSet(cp: ControlPlane | undefined, idp: WebUiIdentity, files: { cert: string; key: string; sessionKey: string }, port: number): Record<string, FlagValue> {
  return {
    'public-url': `https://127.0.0.1:${port}`,
    host: '127.0.0.1',
    port: String(port),
    'tls-cert-file': files.cert,
    'tls-key-file': files.key,
    'session-key-file': files.sessionKey,
    kubeconfig: cp?.kubeconfigPathFor('netwatch-webui') ?? '/placeholder/kubeconfig',
    'oidc-issuer-url': idp.issuer,
    'oidc-client-id': idp.clientId,
    // A public client: authorization code flow with PKCE and no secret.
    'oidc-client-secret-file': undefined,
    'oidc-ca-file': idp.caFile,
    'oidc-username-claim': idp.usernameClaim,
    'oidc-username-prefix': idp.usernamePrefix,
    'oidc-groups-claim': idp.groupsClaim,
    'oidc-groups-prefix': idp.groupsPrefix,
  };
}

/**
 * Starts webui/main.ts (bundled) as the netwatch-webui identity with its manifest RBAC, serving `tls` (PEM) on
 * 127.0.0.1:`port`; resolves once /readyz answers 200 (it follows the list of ended sessions).
 */
export async function startWebUiProcess(
  cp: ControlPlane,
  opts: LaunchOptions & { port: number; idp: WebUiIdentity; tls: { certPem: string; keyPem: string; caPem: string } },
): Promise<WebUiProcess> {
  await installWebUiRbac(cp);
  mkdirSync(opts.dir, { recursive: true });
  const files = { cert: join(opts.dir, 'tls.crt'), key: join(opts.dir, 'tls.key'), sessionKey: join(opts.dir, 'session.key') };
  writeFileSync(files.cert, opts.tls.certPem);
  writeFileSync(files.key, opts.tls.keyPem, { mode: 0o600 });
  writeFileSync(files.sessionKey, randomBytes(32).toString('base64'), { mode: 0o600 });
  const line = commandLine('webui', { set: { ...webUiSet(cp, opts.idp, files, opts.port), ...opts.set }, extra: opts.extra ?? [] });
  const p = startComponent('webui', { bundles: opts.bundles, line, ...(opts.logFile ? { logFile: opts.logFile } : {}) });
  const url = `https://127.0.0.1:${opts.port}`;
  await waitUntilReady(p, 'GET /readyz answered 200', async () => (await get(`${url}/readyz`, opts.tls.caPem)).status === 200);
  return { ...p, url };
}

/**
 * Checks a user's flags for each component against its own parser before anything starts, with the Deployment's
 * flags and the launcher's in place (placeholder ports and files): a typo stops `npm start` at once, not after the
 * control plane came up. Returns the help text when a component's flags ask for it.
 */
export function checkComponentFlags(extra: Partial<Record<ServerName, readonly string[]>>, idp: WebUiIdentity): { name: ServerName; help: string } | undefined {
  const files = { cert: '/placeholder/tls.crt', key: '/placeholder/tls.key', sessionKey: '/placeholder/session.key' };
  const sets: Record<ServerName, Record<string, FlagValue>> = {
    webhook: webhookSet(undefined, files, { port: 1, metrics: 2 }),
    controller: controllerSet(undefined, 1),
    notifier: notifierSet(undefined, 1, { configFile: '/placeholder/config.json', webUrl: 'https://127.0.0.1:1' }),
    webui: webUiSet(undefined, idp, files, 1),
  };
  for (const name of Object.keys(SERVER_ENTRIES) as ServerName[]) {
    let help: string | undefined;
    try {
      help = checkCommandLine(name, commandLine(name, { set: sets[name], extra: extra[name] ?? [], fieldRefs: { 'metadata.name': 'placeholder' } }));
    } catch (err) {
      if (err instanceof UsageError) throw new UsageError(`${name}: ${err.message}`);
      throw err;
    }
    if (help !== undefined) return { name, help };
  }
  return undefined;
}
