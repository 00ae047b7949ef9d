// A real, throw-away Kubernetes control plane on loopback: etcd + kube-apiserver (RBAC on, token-file users,
// optional OIDC) + the real maxtac controller + kube-controller-manager with its garbage collector alone, with
// maxtac's CRDs and ours installed. Used by the end-to-end tests and by the sandbox. The garbage collector is what
// every real cluster runs (it removes maxtac's NetworkPolicies once their owner is gone); it proves nothing away:
// nothing owns an AccessRequest or a maxtac object, and a clone's owner goes only once netwatch's finalizer lets it,
// so a test still passes only if netwatch cleans up by itself.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'node:https';
import { randomBytes } from 'node:crypto';
import {
  ApiextensionsV1Api,
  KubeConfig,
  KubernetesObjectApi,
  loadAllYaml,
  type KubernetesObject,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface TestUser {
  /** The username the API server authenticates. */
  name: string;
  token: string;
  groups: string[];
}

export interface OidcOptions {
  issuerUrl: string;
  clientId: string;
  caFile: string;
  usernameClaim?: string;
  usernamePrefix?: string;
  groupsClaim?: string;
  groupsPrefix?: string;
}

export interface ControlPlaneOptions {
  /** Start the real maxtac controller (default true). */
  maxtac?: boolean;
  /**
   * Run kube-controller-manager with the garbage collector alone (default true, as in every real cluster). Off, a
   * NetworkPolicy whose owner was deleted stays: for tests that show what netwatch itself sees and does then.
   */
  garbageCollector?: boolean;
  extraUsers?: (TestUser & { key?: string })[];
  oidc?: OidcOptions;
  /** Keep the temporary folder (logs, certificates) after stop(), for debugging. Also NETWATCH_KEEP_CP=1. */
  keep?: boolean;
  /**
   * Write an audit log (every request at Metadata level: who, verb, resource, response code), read back with
   * `auditEvents()`. Off by default: it costs a write per request.
   */
  audit?: boolean;
}

/** One audit.k8s.io/v1 Event, the fields the tests read. */
export interface AuditEvent {
  stage: string;
  verb: string;
  requestURI: string;
  user: { username: string; groups?: string[] };
  impersonatedUser?: { username: string; groups?: string[] };
  objectRef?: { resource?: string; namespace?: string; name?: string; apiGroup?: string; apiVersion?: string; subresource?: string };
  responseStatus?: { code?: number };
}

export interface ControlPlane {
  server: string;
  caPem: string;
  caFile: string;
  /**
   * The CA of the client certificate the API server presents to every admission webhook (its AdmissionConfiguration
   * names a kubeconfig with that certificate for `*`): a webhook given this CA knows the API server is calling.
   */
  webhookClientCaFile: string;
  webhookClientCaPem: string;
  dir: string;
  admin: KubeConfig;
  adminKubeconfigPath: string;
  users: Record<string, TestUser>;
  kubeConfigFor(user: string): KubeConfig;
  kubeconfigPathFor(user: string): string;
  /** PIDs of etcd, kube-apiserver, maxtac and kube-controller-manager (for tests that check teardown). */
  pids(): number[];
  /** The audit events written so far (a request's event may land a moment after its response). Needs `audit`. */
  auditEvents(): AuditEvent[];
  stop(): Promise<void>;
}

export interface Binaries {
  etcd: string;
  apiserver: string;
  controllerManager: string;
  maxtac: string;
  maxtacCrds: string;
  /** cert-manager's CRD files (deploy/crds of its module), for checking the cert-manager overlay. */
  certManagerCrds: string;
  /** The test-only NetworkPolicy engine of scripts/dataplane.ts. */
  kubeRouter: string;
}

/** Builds (first time) or finds the cached binaries; see scripts/build-binaries.sh. */
export function ensureBinaries(): Binaries {
  const result = spawnSync('bash', [join(REPO_ROOT, 'scripts/build-binaries.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (result.status !== 0) throw new Error(`scripts/build-binaries.sh failed with exit code ${String(result.status)}`);
  // The script names the binaries of the versions it was asked for (NETWATCH_*_VERSION), not whatever else the
  // cache holds.
  const paths = new Map(result.stdout.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const));
  const path = (name: string) => {
    const p = paths.get(name);
    if (!p || !existsSync(p)) throw new Error(`scripts/build-binaries.sh did not provide ${name} (got: ${result.stdout.trim()})`);
    return p;
  };
  return {
    etcd: path('etcd'),
    apiserver: path('kube-apiserver'),
    controllerManager: path('kube-controller-manager'),
    maxtac: path('maxtac'),
    maxtacCrds: path('maxtac-crds'),
    certManagerCrds: path('cert-manager-crds'),
    kubeRouter: path('kube-router'),
  };
}

/**
 * The range the kernel takes source ports of outgoing connections from (Linux; elsewhere the IANA default). A port
 * chosen now and listened on later (by a process started seconds afterwards) must not be in it: meanwhile any
 * outgoing connection (the API server's to etcd, a test's to the API server) may be given that very port, and the
 * later listen fails with EADDRINUSE. Ports just below the range are never handed out that way.
 */
function ephemeralStart(): number {
  try {
    const lo = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (lo > 2048) return lo;
  } catch {
    // not Linux
  }
  return 49152;
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

const handedOut = new Set<number>();

/**
 * A loopback port that is free now and outside the ephemeral range (see ephemeralStart), for a later listen; never
 * the same port twice in one process, so two ports asked for before either is listened on differ.
 */
export async function freePort(): Promise<number> {
  const lo = ephemeralStart();
  const floor = Math.max(1024, lo - 16_384);
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = floor + Math.floor(Math.random() * (lo - floor));
    if (handedOut.has(port) || !(await canListen(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free loopback port between ${floor} and ${lo - 1}`);
}

function openssl(cwd: string, args: string[]): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
}

/** A CA plus the certificates the control plane needs, made with the openssl CLI. */
function makeCertificates(dir: string): void {
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=netwatch-test-ca']);
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n');
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=kube-apiserver']);
  openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'server.ext']);
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'admin.key', '-out', 'admin.csr', '-subj', '/O=system:masters/CN=netwatch-admin']);
  openssl(dir, ['x509', '-req', '-in', 'admin.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'admin.crt', '-days', '2', '-extfile', 'client.ext']);
  // The API server's client certificate toward admission webhooks, from a CA of its own: a webhook that trusts this
  // CA (--client-ca-file) answers the API server and nobody else.
  openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'webhook-client-ca.key', '-out', 'webhook-client-ca.crt', '-days', '2', '-subj', '/CN=netwatch-test-webhook-client-ca']);
  openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'webhook-client.key', '-out', 'webhook-client.csr', '-subj', '/CN=kube-apiserver-webhook-client']);
  openssl(dir, ['x509', '-req', '-in', 'webhook-client.csr', '-CA', 'webhook-client-ca.crt', '-CAkey', 'webhook-client-ca.key', '-CAcreateserial', '-out', 'webhook-client.crt', '-days', '2', '-extfile', 'client.ext']);
  // kube-controller-manager's identity, the user Kubernetes' own RBAC bootstrap binds to system:kube-controller-manager.
  openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'controller-manager.key', '-out', 'controller-manager.csr', '-subj', '/CN=system:kube-controller-manager']);
  openssl(dir, ['x509', '-req', '-in', 'controller-manager.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'controller-manager.crt', '-days', '2', '-extfile', 'client.ext']);
  openssl(dir, ['genrsa', '-out', 'sa.key', '2048']);
  openssl(dir, ['rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub']);
}

const COMPONENT_GROUPS = ['system:serviceaccounts', 'system:serviceaccounts:netwatch-system'];

/** The users every control plane has: keys are short names, `name` is what the API server sees. */
function defaultUsers(): Record<string, TestUser> {
  const token = () => randomBytes(24).toString('hex');
  const users: Record<string, TestUser> = {
    admin: { name: 'admin', token: token(), groups: ['system:masters'] },
  };
  for (const name of ['alice', 'bob', 'carol', 'dave', 'erin', 'mallory']) {
    users[name] = { name, token: token(), groups: ['developers'] };
  }
  for (const name of ['netwatch-controller', 'netwatch-notifier', 'netwatch-webhook', 'netwatch-webui']) {
    users[name] = { name: `system:serviceaccount:netwatch-system:${name}`, token: token(), groups: COMPONENT_GROUPS };
  }
  // The name maxtac's own manifests give its ServiceAccount (namePrefix maxtac-, controller-manager): the webhook's
  // default --marker-deleter list expects it.
  users.maxtac = {
    name: 'system:serviceaccount:maxtac-system:maxtac-controller-manager',
    token: token(),
    groups: ['system:serviceaccounts', 'system:serviceaccounts:maxtac-system'],
  };
  return users;
}

// Every request at Metadata level: enough to tell who called what and whether it was allowed, without bodies.
// RequestReceived is dropped so each request is one event (long-running ones such as watches add ResponseStarted).
const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: Metadata
`;

function readAuditLog(path: string): AuditEvent[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  // The last line may be half written while the API server appends to it.
  return text.split('\n').flatMap((line) => {
    try {
      return line ? [JSON.parse(line) as AuditEvent] : [];
    } catch {
      return [];
    }
  });
}

/** The credentials the API server presents to admission webhooks: `*` matches every webhook host. */
function webhookClientKubeconfig(dir: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    users: [{ name: '*', user: { 'client-certificate': join(dir, 'webhook-client.crt'), 'client-key': join(dir, 'webhook-client.key') } }],
  });
}

function admissionConfiguration(kubeconfig: string): string {
  const plugin = (name: string) => ({
    name,
    configuration: { apiVersion: 'apiserver.config.k8s.io/v1', kind: 'WebhookAdmissionConfiguration', kubeConfigFile: kubeconfig },
  });
  return JSON.stringify({
    apiVersion: 'apiserver.config.k8s.io/v1',
    kind: 'AdmissionConfiguration',
    plugins: [plugin('ValidatingAdmissionWebhook'), plugin('MutatingAdmissionWebhook')],
  });
}

function csvField(value: string): string {
  return `"${value.replaceAll('"', '""')}"`;
}

function kubeConfigObject(server: string, caPem: string, user: { token?: string; certPem?: string; keyPem?: string }, name: string) {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'netwatch-test', cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
    users: [
      {
        name,
        user: user.token
          ? { token: user.token }
          : {
              'client-certificate-data': Buffer.from(user.certPem ?? '').toString('base64'),
              'client-key-data': Buffer.from(user.keyPem ?? '').toString('base64'),
            },
      },
    ],
    contexts: [{ name, context: { cluster: 'netwatch-test', user: name } }],
    'current-context': name,
  };
}

function kubeConfigFromObject(obj: ReturnType<typeof kubeConfigObject>): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(JSON.stringify(obj));
  return kc;
}

interface Proc {
  name: string;
  child: ChildProcess;
  logFile: string;
}

function startProcess(name: string, bin: string, args: string[], logDir: string, env: NodeJS.ProcessEnv = {}): Proc {
  const logFile = join(logDir, `${name}.log`);
  const out = createWriteStream(logFile);
  // Its own process group: a Ctrl-C in the terminal (SIGINT to the whole foreground group) must reach only our
  // process, which then stops maxtac, the API server and etcd in order; stop(), the exit hook and the watchdog
  // still end them if anything goes wrong.
  const child = spawn(bin, args, { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  return { name, child, logFile };
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

async function waitFor(what: string, proc: Proc, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.child.exitCode !== null) {
      throw new Error(`${proc.name} exited with code ${String(proc.child.exitCode)} while waiting for ${what}:\n${tail(proc.logFile)}`);
    }
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${tail(proc.logFile)}`);
    await sleep(100);
  }
}

function httpGet(url: string, agent?: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, method: 'GET', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

// If the test process dies without calling stop() (SIGKILL, a crash), a detached watchdog kills what it started
// and removes the folder, so no etcd or apiserver outlives its test.
function startWatchdog(dir: string, pids: () => number[], keep: boolean): ChildProcess {
  const script = `
    parent=$1; shift; dir=$1; shift; keep=$1; shift
    while kill -0 "$parent" 2>/dev/null; do sleep 1; done
    for p in $(cat "$dir/pids" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    [ "$keep" = 1 ] || rm -rf "$dir"
  `;
  writeFileSync(join(dir, 'pids'), pids().join('\n'));
  const child = spawn('bash', ['-c', script, 'watchdog', String(process.pid), dir, keep ? '1' : '0'], { detached: true, stdio: 'ignore' });
  child.unref();
  return child;
}

const MAXTAC_CLUSTER_ROLE = {
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRole',
  metadata: { name: 'maxtac-controller' },
  // Written from the calls maxtac v0.3.0 makes (its shipped helper Roles name a wrong API group).
  rules: [
    {
      apiGroups: ['maxtac.vtk.io'],
      resources: ['accesses', 'externalaccesses', 'clusteraccesses', 'clusterexternalaccesses'],
      verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
    },
    {
      apiGroups: ['maxtac.vtk.io'],
      resources: ['accesses/status', 'externalaccesses/status', 'clusteraccesses/status', 'clusterexternalaccesses/status'],
      verbs: ['get', 'update', 'patch'],
    },
    {
      apiGroups: ['maxtac.vtk.io'],
      resources: ['accesses/finalizers', 'externalaccesses/finalizers', 'clusteraccesses/finalizers', 'clusterexternalaccesses/finalizers'],
      verbs: ['update'],
    },
    { apiGroups: [''], resources: ['services'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
  ],
};

// kube-controller-manager runs without --use-service-account-credentials, so the garbage collector acts as
// system:kube-controller-manager (a name the markers webhook's default --marker-deleter list expects). Kubernetes'
// bootstrap role of that name covers the manager itself (discovery, events, token and access reviews); this adds
// what the garbage collector does to every kind: list and watch (metadata only) to build its graph, get an owner,
// delete a dependent whose owners are gone, patch or update ownerReferences and finalizers (orphaning, foreground
// deletion). The same verbs as Kubernetes' system:controller:generic-garbage-collector role.
const GARBAGE_COLLECTOR_CLUSTER_ROLE = {
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRole',
  metadata: { name: 'netwatch-test-garbage-collector' },
  rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['get', 'list', 'watch', 'patch', 'update', 'delete'] }],
};

/**
 * A ClusterRoleBinding (no namespace) or RoleBinding of `role` (a ClusterRole, or a Role of that namespace) to one
 * user, group or service account.
 */
export function roleBinding(
  name: string,
  role: string,
  subject: { kind: 'User' | 'Group' | 'ServiceAccount'; name: string; namespace?: string },
  namespace?: string,
  roleKind: 'ClusterRole' | 'Role' = 'ClusterRole',
): KubernetesObject {
  const rbac = 'rbac.authorization.k8s.io';
  return {
    apiVersion: `${rbac}/v1`,
    kind: namespace ? 'RoleBinding' : 'ClusterRoleBinding',
    metadata: { name, ...(namespace ? { namespace } : {}) },
    roleRef: { apiGroup: rbac, kind: roleKind, name: role },
    subjects: [{ ...(subject.kind === 'ServiceAccount' ? {} : { apiGroup: rbac }), ...subject }],
  } as KubernetesObject;
}

/** Creates (or replaces) objects as the admin; returns once CRDs among them are Established. */
export async function applyObjects(kc: KubeConfig, objects: KubernetesObject[]): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  for (const obj of objects) {
    try {
      await api.create(obj);
    } catch (err) {
      if ((err as { code?: number }).code !== 409) throw err;
      await api.patch(obj, undefined, undefined, 'netwatch-tests', true, 'application/apply-patch+yaml');
    }
  }
  const crds = objects.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => o.metadata?.name ?? '');
  if (crds.length > 0) await waitForCrds(kc, crds);
}

async function waitForCrds(kc: KubeConfig, names: string[]): Promise<void> {
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  const deadline = Date.now() + 60_000;
  for (const name of names) {
    for (;;) {
      const crd: V1CustomResourceDefinition = await ext.readCustomResourceDefinition({ name });
      if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} not Established`);
      await sleep(100);
    }
  }
}

export function loadYamlFile(path: string): KubernetesObject[] {
  return loadAllYaml(readFileSync(path, 'utf8')).filter(Boolean) as KubernetesObject[];
}

export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const bins = ensureBinaries();
  const keep = opts.keep ?? process.env.NETWATCH_KEEP_CP === '1';
  const dir = mkdtempSync(join(tmpdir(), 'netwatch-cp-'));
  const logDir = join(dir, 'logs');
  mkdirSync(logDir);
  const procs: Proc[] = [];
  const pids = () => procs.map((p) => p.child.pid).filter((p): p is number => typeof p === 'number');
  let watchdog: ChildProcess | undefined;
  let stopped = false;

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    process.off('exit', onExit);
    // maxtac first, then the apiserver, then etcd: each one's clients go before it does.
    for (const proc of [...procs].reverse()) {
      if (proc.child.exitCode !== null || proc.child.signalCode !== null) continue;
      const exited = new Promise<void>((r) => proc.child.once('exit', () => r()));
      proc.child.kill('SIGTERM');
      const timer = setTimeout(() => proc.child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    watchdog?.kill('SIGKILL');
    if (!keep) rmSync(dir, { recursive: true, force: true });
  };
  const onExit = () => {
    for (const p of procs) p.child.kill('SIGKILL');
    if (!keep) rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', onExit);

  try {
    makeCertificates(dir);
    const caPem = readFileSync(join(dir, 'ca.crt'), 'utf8');
    const users = defaultUsers();
    for (const u of opts.extraUsers ?? []) users[u.key ?? u.name] = { name: u.name, token: u.token, groups: u.groups };
    writeFileSync(
      join(dir, 'tokens.csv'),
      Object.values(users)
        .map((u) => [u.token, u.name, u.name, u.groups.join(',')].map(csvField).join(','))
        .join('\n') + '\n',
    );

    const [etcdClient, etcdPeer, apiPort] = [await freePort(), await freePort(), await freePort()];
    const etcd = startProcess('etcd', bins.etcd, [
      '--name=default',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=default=http://127.0.0.1:${etcdPeer}`,
      // Test data is thrown away: skipping fsync makes writes an order of magnitude faster here.
      '--unsafe-no-fsync',
      '--log-level=warn',
    ], logDir);
    procs.push(etcd);
    await waitFor('etcd', etcd, async () => (await fetch(`http://127.0.0.1:${etcdClient}/health`)).ok, 30_000);

    const server = `https://127.0.0.1:${apiPort}`;
    const apiArgs = [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--cert-dir=${join(dir, 'apiserver-certs')}`,
      `--tls-cert-file=${join(dir, 'server.crt')}`,
      `--tls-private-key-file=${join(dir, 'server.key')}`,
      `--client-ca-file=${join(dir, 'ca.crt')}`,
      `--token-auth-file=${join(dir, 'tokens.csv')}`,
      '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc',
      `--service-account-key-file=${join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      '--service-cluster-ip-range=10.96.0.0/16',
      '--enable-priority-and-fairness=false',
      '--max-requests-inflight=2000',
      '--max-mutating-requests-inflight=1000',
      '--profiling=false',
      '--v=1',
    ];
    if (opts.oidc) {
      const o = opts.oidc;
      apiArgs.push(`--oidc-issuer-url=${o.issuerUrl}`, `--oidc-client-id=${o.clientId}`, `--oidc-ca-file=${o.caFile}`);
      if (o.usernameClaim) apiArgs.push(`--oidc-username-claim=${o.usernameClaim}`);
      if (o.usernamePrefix !== undefined) apiArgs.push(`--oidc-username-prefix=${o.usernamePrefix}`);
      if (o.groupsClaim) apiArgs.push(`--oidc-groups-claim=${o.groupsClaim}`);
      if (o.groupsPrefix !== undefined) apiArgs.push(`--oidc-groups-prefix=${o.groupsPrefix}`);
    }
    writeFileSync(join(dir, 'webhook-client.kubeconfig'), webhookClientKubeconfig(dir));
    writeFileSync(join(dir, 'admission.yaml'), admissionConfiguration(join(dir, 'webhook-client.kubeconfig')));
    apiArgs.push(`--admission-control-config-file=${join(dir, 'admission.yaml')}`);
    const auditLog = join(dir, 'audit.log');
    if (opts.audit) {
      writeFileSync(join(dir, 'audit-policy.yaml'), AUDIT_POLICY);
      apiArgs.push(`--audit-policy-file=${join(dir, 'audit-policy.yaml')}`, `--audit-log-path=${auditLog}`, '--audit-log-format=json', '--audit-log-mode=blocking');
    }
    const apiserver = startProcess('kube-apiserver', bins.apiserver, apiArgs, logDir);
    procs.push(apiserver);

    const certPem = readFileSync(join(dir, 'admin.crt'), 'utf8');
    const keyPem = readFileSync(join(dir, 'admin.key'), 'utf8');
    const agent = new Agent({ ca: caPem, cert: certPem, key: keyPem });
    await waitFor('kube-apiserver /readyz', apiserver, async () => (await httpGet(`${server}/readyz`, agent)) === 200, 120_000);
    agent.destroy();

    const kubeconfigs = new Map<string, { path: string; obj: ReturnType<typeof kubeConfigObject> }>();
    const adminObj = kubeConfigObject(server, caPem, { certPem, keyPem }, 'netwatch-admin');
    const adminKubeconfigPath = join(dir, 'admin.kubeconfig');
    writeFileSync(adminKubeconfigPath, JSON.stringify(adminObj, null, 2), { mode: 0o600 });
    const admin = kubeConfigFromObject(adminObj);


    const userKubeconfig = (key: string) => {
      const known = kubeconfigs.get(key);
      if (known) return known;
      const user = users[key];
      if (!user) throw new Error(`unknown test user ${key}; known: ${Object.keys(users).join(', ')}`);
      const obj = kubeConfigObject(server, caPem, { token: user.token }, key);
      const path = join(dir, `${key}.kubeconfig`);
      writeFileSync(path, JSON.stringify(obj, null, 2), { mode: 0o600 });
      const entry = { path, obj };
      kubeconfigs.set(key, entry);
      return entry;
    };

    const crdFiles = readdirSync(bins.maxtacCrds).filter((f) => f.endsWith('.yaml')).map((f) => join(bins.maxtacCrds, f));
    const crds = [...crdFiles.flatMap(loadYamlFile), ...['accessrequests', 'accesspolicies'].flatMap((n) => loadYamlFile(join(REPO_ROOT, `crds/${n}.netwatch.vtk.io.yaml`)))];
    await applyObjects(admin, crds);

    if (opts.maxtac !== false) {
      await applyObjects(admin, [
        MAXTAC_CLUSTER_ROLE,
        roleBinding('maxtac-controller', 'maxtac-controller', { kind: 'User', name: users.maxtac?.name ?? '' }),
      ]);
      const probePort = await freePort();
      const maxtac = startProcess(
        'maxtac',
        bins.maxtac,
        ['--metrics-bind-address=0', `--health-probe-bind-address=127.0.0.1:${probePort}`, '--leader-elect=false', '--log-level=info'],
        logDir,
        { KUBECONFIG: userKubeconfig('maxtac').path },
      );
      procs.push(maxtac);
      await waitFor('maxtac readiness', maxtac, async () => (await fetch(`http://127.0.0.1:${probePort}/readyz`)).ok, 60_000);
    }

    if (opts.garbageCollector !== false) {
      await applyObjects(admin, [
        GARBAGE_COLLECTOR_CLUSTER_ROLE,
        roleBinding('netwatch-test-garbage-collector', 'netwatch-test-garbage-collector', { kind: 'User', name: 'system:kube-controller-manager' }),
      ]);
      const kcmKubeconfig = join(dir, 'controller-manager.kubeconfig');
      const kcmObj = kubeConfigObject(
        server,
        caPem,
        { certPem: readFileSync(join(dir, 'controller-manager.crt'), 'utf8'), keyPem: readFileSync(join(dir, 'controller-manager.key'), 'utf8') },
        'kube-controller-manager',
      );
      writeFileSync(kcmKubeconfig, JSON.stringify(kcmObj), { mode: 0o600 });
      const kcmPort = await freePort();
      const kcm = startProcess(
        'kube-controller-manager',
        bins.controllerManager,
        [
          `--kubeconfig=${kcmKubeconfig}`,
          // The garbage collector and nothing else: no namespace, ServiceAccount or endpoint controllers.
          '--controllers=garbagecollector',
          '--use-service-account-credentials=false',
          '--leader-elect=false',
          '--bind-address=127.0.0.1',
          `--secure-port=${kcmPort}`,
          `--cert-dir=${join(dir, 'controller-manager-certs')}`,
          // /healthz is always allowed; nothing else is served to anyone, so no delegated authentication lookups.
          '--authentication-skip-lookup=true',
          '--profiling=false',
          '--v=1',
        ],
        logDir,
      );
      procs.push(kcm);
      const insecure = new Agent({ rejectUnauthorized: false });
      await waitFor('kube-controller-manager /healthz', kcm, async () => (await httpGet(`https://127.0.0.1:${kcmPort}/healthz`, insecure)) === 200, 60_000);
      insecure.destroy();
    }

    watchdog = startWatchdog(dir, pids, keep);

    return {
      server,
      caPem,
      caFile: join(dir, 'ca.crt'),
      webhookClientCaFile: join(dir, 'webhook-client-ca.crt'),
      webhookClientCaPem: readFileSync(join(dir, 'webhook-client-ca.crt'), 'utf8'),
      dir,
      admin,
      adminKubeconfigPath,
      users,
      kubeConfigFor: (user) => kubeConfigFromObject(userKubeconfig(user).obj),
      kubeconfigPathFor: (user) => userKubeconfig(user).path,
      pids,
      auditEvents: () => {
        if (!opts.audit) throw new Error('auditEvents() needs startControlPlane({ audit: true })');
        return readAuditLog(auditLog);
      },
      stop,
    };
  } catch (err) {
    const logs = procs.map((p) => `--- ${p.name}\n${tail(p.logFile, 15)}`).join('\n');
    await stop();
    if (existsSync(dir) && !keep) rmSync(dir, { recursive: true, force: true });
    throw new Error(`starting the control plane failed: ${(err as Error).message}\n${logs}`, { cause: err });
  }
}
