// `npm start`: the whole of netwatch on this machine, for trying it out. etcd, kube-apiserver and maxtac (the
// real binaries, see scripts/controlplane.ts), a local OIDC provider with demo people, the demo namespaces and
// RBAC (scripts/demo.ts), local notification receivers (scripts/receivers.ts: a Slack stand-in and a CloudEvents
// endpoint over HTTPS, an SMTP server), and netwatch's webhook, controller, notifier and web UI as the cluster would
// run them: each its real entry point (bundled, as in the image) in a process of its own, with its Deployment's flags
// and exactly the RBAC of manifests/ for its own identity (scripts/components.ts). Each notification delivered is one
// line of the sandbox's output (and of logs/notifications.log). On a terminal it then opens the TUI as the
// developer. Ctrl-C (SIGINT) or SIGTERM stops everything and removes every temporary file.
//
//   node --import tsx scripts/sandbox.ts [--no-tui] [--dataplane] [--port 8443] [--state-dir .tmp/sandbox] [COMPONENT FLAG…]…
//
// where COMPONENT is webhook, controller, notifier or webui and the flags after it go to that component, replacing
// its Deployment's: `npm start -- --no-tui controller --isolation=refuse webhook --max-duration=8h`.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, copyFileSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { UsageError } from '../lib/cli/flags.ts';
import { applyObjects, freePort, roleBinding, startControlPlane, type ControlPlane } from './controlplane.ts';
import {
  buildBundles,
  checkComponentFlags,
  startControllerProcess,
  startNotifierProcess,
  startWebhookProcess,
  startWebUiProcess,
  type Bundles,
  type ComponentProcess,
  type ServerName,
  type WebUiIdentity,
} from './components.ts';
import { makeServingCertificates } from './certs.ts';
import { DEMO_MAIL_DOMAIN, DEMO_PEOPLE, DEMO_SINKS, demoNotifierConfig, demoPods, installDemo } from './demo.ts';
import { dataplaneUnavailable, startDataplane, type Endpoint } from './dataplane.ts';
import { registerWebhook, waitUntilLive } from './deploy.ts';
import { makeTestPki, startIdp, type TestIdp, type TestPki } from './idp.ts';
import { startHttpReceiver, startSmtpReceiver, summarizeDelivery, type ReceivedMail, type ReceivedRequest } from './receivers.ts';
import { bundle as bundlePlugin } from '../plugin/build.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const CLIENT_ID = 'netwatch-sandbox';

/** The people of the sandbox log in to the IdP with these names; their OIDC subject is their Kubernetes username. */
const IDP_ACCOUNTS = {
  alice: { email: `alice@${DEMO_MAIL_DOMAIN}`, groups: ['developers'] },
  bob: { email: `bob@${DEMO_MAIL_DOMAIN}`, groups: ['developers'] },
  carol: { email: `carol@${DEMO_MAIL_DOMAIN}`, groups: ['developers'] },
  admin: { email: `admin@${DEMO_MAIL_DOMAIN}`, groups: ['netwatch-sandbox-admins'] },
};

/** Where the Slack stand-in and the CloudEvents endpoint take their POSTs: a path per sink, as real URLs differ. */
const SINK_PATHS: Record<string, string> = { [DEMO_SINKS.chat]: '/services/sandbox/team-chat', [DEMO_SINKS.events]: '/events' };

/**
 * How the web UI maps ID token claims, the same as the sandbox's API server: username = the `sub` claim without
 * prefix, so alice in the browser is the same Kubernetes user as alice's token in the TUI (the RBAC of
 * scripts/demo.ts applies to both). A real cluster keeps a prefix (README).
 */
const CLAIMS = { usernameClaim: 'sub', usernamePrefix: '-', groupsClaim: 'groups', groupsPrefix: '' };

export const COMPONENT_NAMES: readonly ServerName[] = ['webhook', 'controller', 'notifier', 'webui'];

/** Flags for each component, given after its name on the sandbox's command line. */
export type ComponentFlags = Partial<Record<ServerName, string[]>>;

/**
 * Splits the sandbox's command line: its own flags first, then sections each opened by a bare component name
 * (`webhook`, `controller`, `notifier`, `webui`) whose flags go to that component. A section may repeat; its flags add up.
 */
export function splitCommandLine(argv: readonly string[]): { sandbox: string[]; components: ComponentFlags } {
  const sandbox: string[] = [];
  const components: ComponentFlags = {};
  let current: string[] = sandbox;
  for (const arg of argv) {
    if ((COMPONENT_NAMES as readonly string[]).includes(arg)) current = components[arg as ServerName] ??= [];
    else current.push(arg);
  }
  return { sandbox, components };
}

export interface SandboxOptions {
  /** Web UI port; 0 picks a free one. */
  port: number;
  stateDir: string;
  /** Flags passed through to each component, after its Deployment's. */
  componentFlags?: ComponentFlags;
  log: (line: string) => void;
  /** Called with one line per notification a receiver got (sink, to whom, subject); also appended to the log file. */
  onNotification?: (line: string) => void;
  /** Run a NetworkPolicy engine with the demo Services' pods as network namespaces, where the machine allows it. */
  dataplane?: boolean;
}

/** A demo flow through the dataplane: the command that tries the connection, blocked until its request is approved. */
export interface DemoFlow {
  title: string;
  /** The request that opens it, as alice types it (`kubectl netwatch request …`). */
  request: string;
  /** Who approves it, and the shell command (root) that connects from the source pod to the target: prints connected or blocked. */
  approvers: string[];
  probe: string;
}

/** What `--dataplane` gave: the flows to try, or why there is no dataplane on this machine. */
export type SandboxDataplane = { flows: DemoFlow[]; nodeNetns: string } | { unavailable: string };

export interface Sandbox {
  webUrl: string;
  issuer: string;
  apiServer: string;
  stateDir: string;
  /** Kubeconfig file per demo person (alice, bob, carol, admin). */
  kubeconfigs: Record<string, string>;
  /** A folder with `kubectl-netwatch` in it, for PATH. */
  binDir: string;
  /** Each component's process: its pid, Node's arguments (bundle and flags) and its log file. */
  components: { name: ServerName; pid: number; argv: string[]; logFile: string | undefined }[];
  /** Where the components' bundles were built (removed at stop). */
  bundlesDir: string;
  /** The notifier's local receivers, and the file with one line per notification delivered. */
  notifications: { log: string; webhooks: string; smtp: string };
  /** With `--dataplane`: the demo flows to try with packets, or why the machine cannot run it. */
  dataplane?: SandboxDataplane;
  /** Every process the sandbox started (control plane and components), for checks that nothing is left behind. */
  pids: () => number[];
  stop: () => Promise<void>;
}

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}

/** What `<state-dir>/sandbox.json` holds. */
export type SandboxState = Omit<Sandbox, 'stop' | 'pids'> & { sandboxPid: number; controlPlanePids: number[]; controlPlaneDir: string };

/** Starts everything; on a failure part-way, stops what did start before rethrowing. */
export async function startSandbox(opts: SandboxOptions): Promise<Sandbox> {
  const started: { what: string; undo: () => Promise<void> }[] = [];
  const undoing = (what: string, undo: () => Promise<void>) => started.push({ what, undo });
  // In reverse order of starting; a part that does not stop in time is reported and left to the watchdogs and
  // process exit, rather than hanging Ctrl-C.
  const stop = async () => {
    for (const { what, undo } of started.splice(0).reverse()) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<string>((r) => (timer = setTimeout(() => r('timed out after 15 s'), 15_000)));
      const outcome = await Promise.race([undo().then(() => ''), timeout]).catch((err: unknown) => (err as Error).message);
      clearTimeout(timer);
      if (outcome) opts.log(`  stopping ${what}: ${outcome}`);
    }
  };
  const step = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    opts.log(`  ${what}…`);
    const result = await fn();
    opts.log(`  ${what}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return result;
  };
  try {
    rmSync(opts.stateDir, { recursive: true, force: true });
    mkdirSync(join(opts.stateDir, 'logs'), { recursive: true, mode: 0o700 });
    undoing('the state folder', async () => rmSync(opts.stateDir, { recursive: true, force: true }));

    const pki: TestPki = makeTestPki();
    undoing('the sandbox CA', async () => pki.remove());
    const webPort = opts.port === 0 ? await freePort() : opts.port;
    if (!(await portIsFree(webPort))) throw new Error(`port ${webPort} on 127.0.0.1 is taken: pass --port N (or --port 0 for any free port)`);
    const webUrl = `https://127.0.0.1:${webPort}`;

    const bundles: Bundles = await step('bundling webhook, controller, notifier and web UI', () => buildBundles());
    undoing('the bundles', async () => bundles.remove());

    // The IdP first: kube-apiserver fetches its discovery document and keys when it starts.
    const idp: TestIdp = await step('OIDC provider', async () =>
      startIdp({
        port: await freePort(),
        pki,
        clientId: CLIENT_ID,
        redirectUris: [`${webUrl}/auth/callback`],
        postLogoutRedirectUris: [`${webUrl}/`],
        accounts: IDP_ACCOUNTS,
      }),
    );
    undoing('the OIDC provider', () => idp.close());

    const cp: ControlPlane = await step('etcd, kube-apiserver and maxtac', () =>
      startControlPlane({ oidc: { issuerUrl: idp.issuer, clientId: CLIENT_ID, caFile: pki.caFile, ...CLAIMS } }),
    );
    undoing('the control plane', () => cp.stop());

    await step('demo namespaces, services and RBAC', async () => {
      await installDemo(cp);
      await applyObjects(cp.admin, [roleBinding('netwatch-sandbox-admins', 'cluster-admin', { kind: 'Group', name: 'netwatch-sandbox-admins' })]);
    });

    const notifications = await step('notification receivers (Slack stand-in, CloudEvents endpoint, SMTP server)', () => startReceivers(opts, undoing, webUrl));

    let dataplane: SandboxDataplane | undefined;
    if (opts.dataplane) {
      const unavailable = dataplaneUnavailable();
      if (unavailable) {
        opts.log(`  dataplane: not started: ${unavailable}; the sandbox runs without it`);
        dataplane = { unavailable };
      } else {
        dataplane = await step('dataplane (kube-router; the demo pods as network namespaces)', async () => {
          const dp = await startDataplane(cp);
          undoing('the dataplane', () => dp.stop());
          const pods = new Map<string, Endpoint>();
          for (const p of demoPods()) pods.set(`${p.namespace}/${p.name}`, await dp.addPod(p));
          const partner = await dp.addHost('partner');
          await dp.waitForPods();
          return { flows: demoFlows(pods, partner), nodeNetns: dp.nodeNetns };
        });
      }
    }

    // The four start side by side: none needs another to come up.
    const flags = opts.componentFlags ?? {};
    const launch = (name: ServerName) => ({ bundles, dir: join(opts.stateDir, name), extra: flags[name] ?? [], logFile: join(opts.stateDir, 'logs', `${name}.log`) });
    const processes: ComponentProcess[] = [];
    const running = <T extends ComponentProcess>(what: string, p: T): T => {
      processes.push(p);
      undoing(what, () => p.stop());
      return p;
    };
    const results = await Promise.allSettled([
      step('admission webhook (webhook/main.ts)', async () => {
        const webhook = running('the webhook', await startWebhookProcess(cp, launch('webhook')));
        await registerWebhook(cp, webhook.url, webhook.caPem);
        await waitUntilLive(cp);
      }),
      step('controller (controller/main.ts)', async () => {
        running('the controller', await startControllerProcess(cp, { ...launch('controller'), waitUntilLeading: true, podName: 'netwatch-controller-sandbox' }));
      }),
      step('notifier (notifier/main.ts)', async () => {
        running('the notifier', await startNotifierProcess(cp, { ...launch('notifier'), ...notifications.wiring, podName: 'netwatch-notifier-sandbox' }));
      }),
      step('web UI (webui/main.ts)', async () => {
        const idpIdentity: WebUiIdentity = { issuer: idp.issuer, caFile: pki.caFile, clientId: CLIENT_ID, ...CLAIMS };
        running('the web UI', await startWebUiProcess(cp, { ...launch('webui'), port: webPort, idp: idpIdentity, tls: pki }));
      }),
    ]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;

    // The plugin is a `#!/usr/bin/env node` script; the project's own Node (the one running this) goes into the
    // same folder, so PATH=<binDir>:$PATH works even where the system node is older than 22.
    const binDir = join(opts.stateDir, 'bin');
    await step('kubectl-netwatch bundle', async () => {
      await bundlePlugin();
      mkdirSync(binDir);
      symlinkSync(join(REPO, 'plugin/bin/kubectl-netwatch.js'), join(binDir, 'kubectl-netwatch'));
      symlinkSync(join(REPO, 'plugin/bin/kubectl_complete-netwatch'), join(binDir, 'kubectl_complete-netwatch'));
      symlinkSync(process.execPath, join(binDir, 'node'));
    });

    const kubeconfigs: Record<string, string> = {};
    for (const { user } of DEMO_PEOPLE) {
      const file = join(opts.stateDir, `${user}.kubeconfig`);
      copyFileSync(user === 'admin' ? cp.adminKubeconfigPath : cp.kubeconfigPathFor(user), file);
      kubeconfigs[user] = file;
    }
    copyFileSync(pki.caFile, join(opts.stateDir, 'ca.crt'));
    const order = (p: ComponentProcess) => COMPONENT_NAMES.indexOf(p.name);
    const components = processes.sort((a, b) => order(a) - order(b)).map((p) => ({ name: p.name, pid: p.pid, argv: p.argv, logFile: p.logFile }));
    const sandbox: Sandbox = {
      webUrl,
      issuer: idp.issuer,
      apiServer: cp.server,
      stateDir: opts.stateDir,
      kubeconfigs,
      binDir,
      components,
      bundlesDir: bundles.dir,
      notifications: notifications.where,
      ...(dataplane ? { dataplane } : {}),
      pids: () => [...cp.pids(), ...components.map((c) => c.pid)],
      stop,
    };
    // For tools and the end-to-end test: where everything is, and the processes and folders that must be gone
    // after a stop.
    const { stop: _stop, pids: _pids, ...described } = sandbox;
    const state: SandboxState = { ...described, sandboxPid: process.pid, controlPlanePids: cp.pids(), controlPlaneDir: cp.dir };
    writeFileSync(join(opts.stateDir, 'sandbox.json'), JSON.stringify(state, null, 2) + '\n');
    return sandbox;
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * The notifier's receivers on loopback and its configuration pointing at them: secrets (the URLs, the SMTP login)
 * and the receivers' CA as files, as a cluster mounts them. Every delivery becomes one line: the sink, to whom, the
 * subject.
 */
async function startReceivers(
  opts: SandboxOptions,
  undoing: (what: string, undo: () => Promise<void>) => void,
  webUrl: string,
): Promise<{ wiring: { configFile: string; webUrl: string }; where: Sandbox['notifications'] }> {
  const dir = join(opts.stateDir, 'notifier');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const log = join(opts.stateDir, 'logs', 'notifications.log');
  writeFileSync(log, '');
  const sinkOf = Object.fromEntries(Object.entries(SINK_PATHS).map(([sink, path]) => [path, sink]));
  const delivered = (d: ReceivedRequest | ReceivedMail) => {
    const { sink, path, to, subject } = summarizeDelivery(d);
    const name = sink === 'email' ? DEMO_SINKS.mail : (sinkOf[path ?? ''] ?? path ?? '?');
    const line = `notification  ${`${name} (${sink})`.padEnd(26)} to ${to}: ${subject}`;
    appendFileSync(log, `${new Date().toISOString()} ${line}\n`);
    opts.onNotification?.(line);
  };
  const certificates = makeServingCertificates({ ips: ['127.0.0.1'], dnsNames: ['localhost'] });
  const login = { username: 'netwatch', password: randomBytes(18).toString('base64url') };
  const http = await startHttpReceiver({ certificates, onDelivered: delivered });
  undoing('the webhook receiver', () => http.close());
  const smtp = await startSmtpReceiver({ certificates, auth: login, onDelivered: delivered });
  undoing('the SMTP server', () => smtp.close());
  const file = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content, { mode: 0o600 });
    return path;
  };
  const config = demoNotifierConfig({
    chatUrlFile: file('team-chat-url', `${http.url}${SINK_PATHS[DEMO_SINKS.chat]}`),
    eventsUrlFile: file('audit-events-url', `${http.url}${SINK_PATHS[DEMO_SINKS.events]}`),
    caFile: file('receivers-ca.crt', certificates.caPem),
    smtp: { host: smtp.host, port: smtp.port, usernameFile: file('smtp-username', login.username), passwordFile: file('smtp-password', login.password) },
  });
  return {
    wiring: { configFile: file('config.json', `${JSON.stringify(config, null, 2)}\n`), webUrl },
    where: { log, webhooks: http.url, smtp: `${smtp.host}:${smtp.port}` },
  };
}

/** A TCP connect from `from`'s network namespace, one second at most; root only (ip netns exec). */
function probeCommand(from: Endpoint, to: Endpoint, port: number): string {
  return `ip netns exec ${from.netns} timeout 1 bash -c 'exec 3<>/dev/tcp/${to.ip}/${port}' 2>/dev/null && echo connected || echo blocked`;
}

/** The demo's two flows: prometheus to the database (both namespaces consent), and a partner address to the shop. */
function demoFlows(pods: ReadonlyMap<string, Endpoint>, partner: Endpoint): DemoFlow[] {
  const pod = (name: string) => {
    const p = pods.get(name);
    if (!p) throw new Error(`no demo pod ${name}`);
    return p;
  };
  return [
    {
      title: 'monitoring/prometheus → payments/database on 5432/TCP',
      request: 'kubectl netwatch request service --from monitoring/prometheus --to payments/database --ports 5432/TCP --duration 30m --reason "dashboards"',
      approvers: ['bob (payments)', 'carol (monitoring)'],
      probe: probeCommand(pod('monitoring/prometheus-0'), pod('payments/database-0'), 5432),
    },
    {
      // The Service's port 443 is the pods' 8443: the probe connects where the policy opens.
      title: `a partner at ${partner.ip} → shop/frontend on 443/TCP`,
      request: `kubectl netwatch request external --cidr ${partner.ip}/32 --to shop/frontend --ports 443/TCP --direction ingress --duration 30m --reason "partner test"`,
      approvers: ['carol (shop)'],
      probe: probeCommand(partner, pod('shop/frontend-0'), 8443),
    },
  ];
}

function dataplaneSection(s: Sandbox, env: (user: string) => string): string {
  const d = s.dataplane;
  if (!d) return '';
  if ('unavailable' in d) return `\n  Dataplane     not started: ${d.unavailable}\n`;
  const flows = d.flows
    .map(
      (f, i) => `    ${i + 1}. ${f.title}
       try it (as root): ${f.probe}
       blocked; then ${env('alice')} ${f.request}
       approve as ${f.approvers.join(' and ')} (kubectl netwatch approve NAME), and the same command connects`,
    )
    .join('\n');
  return `
  Dataplane (kube-router enforcing maxtac's NetworkPolicies; the demo pods are network namespaces, rules in
  network namespace ${d.nodeNetns}):
${flows}
`;
}

function banner(s: Sandbox, tui: boolean): string {
  const rel = (p: string) => {
    const r = relative(process.cwd(), p);
    return r.startsWith('..') ? p : r;
  };
  const roles = DEMO_PEOPLE.map((p) => `    ${p.user.padEnd(6)} ${p.role}`).join('\n');
  const env = (user: string) => `KUBECONFIG=${rel(s.kubeconfigs[user] ?? '')}`;
  const processes = s.components.map((c) => `    ${c.name.padEnd(10)} pid ${String(c.pid).padEnd(8)} ${rel(c.logFile ?? '')}`).join('\n');
  return `
netwatch sandbox is running.

  Web UI        ${s.webUrl}
                sign in at the sandbox identity provider as alice, bob, carol or admin (any password);
                the web UI and the IdP use the sandbox CA ${rel(join(s.stateDir, 'ca.crt'))}: trust it or accept the warning
  API server    ${s.apiServer}

  Components (each its own process, run as its Deployment runs it; log files)
${processes}

  Who is who
${roles}

  Notifications (the notifier delivers to local receivers: a Slack stand-in and a CloudEvents endpoint on
  ${s.notifications.webhooks}, an SMTP server on ${s.notifications.smtp}). Approvals go to the team chat and the
  namespace's approver (bob: payments, carol: monitoring and shop), news of a request to its requester, by mail at
  <user>@${DEMO_MAIL_DOMAIN}. Each delivery is one line below${tui ? ' once the TUI is closed' : ''}, and in
    tail -f ${rel(s.notifications.log)}

  The terminal UI and kubectl, as each person (in another terminal, from ${process.cwd()}):
    export PATH="${resolve(s.binDir)}:$PATH"
    ${env('alice')} kubectl netwatch                 # the TUI as alice
    ${env('bob')} kubectl netwatch list --pending    # what bob may approve
    ${env('alice')} kubectl netwatch request service --from monitoring/prometheus --to payments/database --ports 5432/TCP --duration 1h --reason "dashboards"
    ${env('admin')} kubectl get accessrequests,accesses,networkpolicies -A
${dataplaneSection(s, env)}${tui ? '\n  Opening the TUI as alice; quitting it (q) leaves the sandbox running.\n' : ''}
Press Ctrl-C to stop everything.
`;
}

const USAGE = `usage: npm start -- [--no-tui] [--dataplane] [--port 8443 (0: any free port)] [--state-dir .tmp/sandbox] [COMPONENT FLAG…]…

--dataplane runs a NetworkPolicy engine (kube-router, test-only) with the demo Services' pods as network
namespaces (root, iproute2, iptables, ipset; otherwise the sandbox says why and starts without it), and prints a
command per demo flow that connects only once its request is approved.

COMPONENT is webhook, controller, notifier or webui: the flags after it go to that component (its --help lists them),
replacing its Deployment's flags of the same name, e.g.
  npm start -- --no-tui controller --isolation=refuse --pending-ttl=1h webhook --max-duration=8h
Flags that tie a component to the sandbox's control plane (addresses, ports, files, kubeconfig, OIDC, the
notifier's configuration and web UI link) are the sandbox's and cannot be changed.`;

async function main(): Promise<void> {
  const split = splitCommandLine(process.argv.slice(2));
  const { values } = parseArgs({
    args: split.sandbox,
    options: {
      'no-tui': { type: 'boolean', default: false },
      dataplane: { type: 'boolean', default: false },
      port: { type: 'string', default: process.env['NETWATCH_SANDBOX_PORT'] ?? '8443' },
      'state-dir': { type: 'string', default: join(REPO, '.tmp/sandbox') },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0-65535, got ${values.port}`);
  // Each component's own parser, before anything starts: a typo stops here, not after the control plane came up.
  const help = checkComponentFlags(split.components, { issuer: 'https://127.0.0.1:1', caFile: '/placeholder/ca.crt', clientId: CLIENT_ID, ...CLAIMS });
  if (help) {
    console.log(`Flags of the ${help.name}, given after "${help.name}" on the sandbox's command line:\n\n${help.help}`);
    return;
  }
  const tui = !values['no-tui'] && process.stdin.isTTY && process.stdout.isTTY;

  console.log('Starting the netwatch sandbox (the first run builds etcd, kube-apiserver and maxtac: about 15 minutes).');
  const t0 = Date.now();
  // While the TUI owns the terminal a line printed over it would garble its screen: those wait until it closes.
  let tuiOpen = false;
  const whileTui: string[] = [];
  const onNotification = (line: string) => (tuiOpen ? whileTui.push(line) : console.log(`  ${line}`));
  const sandbox = await startSandbox({
    port,
    stateDir: resolve(values['state-dir']),
    componentFlags: split.components,
    log: (l) => console.log(l),
    onNotification,
    dataplane: values.dataplane,
  });
  console.log(`  all up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  console.log(banner(sandbox, tui));

  let child: ChildProcess | undefined;
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the sandbox…`);
    child?.kill('SIGTERM');
    sandbox.stop().then(
      () => {
        console.log('Stopped; nothing left behind.');
        process.exit(0);
      },
      (err: unknown) => {
        console.error(`stopping failed: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('Ctrl-C'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGHUP', () => shutdown('SIGHUP'));

  if (tui) {
    // The TUI owns the terminal (raw mode, so its Ctrl-C closes it rather than signalling us); the sandbox goes
    // on until Ctrl-C reaches it.
    tuiOpen = true;
    child = spawn(join(sandbox.binDir, 'kubectl-netwatch'), [], {
      stdio: 'inherit',
      env: { ...process.env, KUBECONFIG: sandbox.kubeconfigs['alice'], PATH: `${sandbox.binDir}:${process.env['PATH'] ?? ''}` },
    });
    child.on('exit', () => {
      child = undefined;
      tuiOpen = false;
      if (stopping) return;
      console.log('The TUI closed; the sandbox is still running (URLs above). Press Ctrl-C to stop it.');
      if (whileTui.length > 0) console.log(`While the TUI was open, netwatch sent ${whileTui.length} notification(s):`);
      for (const line of whileTui.splice(0)) console.log(`  ${line}`);
    });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  main().catch((err: unknown) => {
    console.error(`netwatch sandbox: ${(err as Error).message}${err instanceof UsageError ? '\n(npm start -- --help for the sandbox, npm start -- COMPONENT --help for a component)' : ''}`);
    process.exit(1);
  });
}
