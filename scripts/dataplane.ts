// A real NetworkPolicy dataplane beside a test control plane (scripts/controlplane.ts), for tests that prove grants
// with packets: kube-router (firewall only; a test engine, never shipped) enforces the NetworkPolicies maxtac writes,
// between "pods" that are network namespaces matched to Pod objects. See docs in the README ("The dataplane").
//
// Layout: everything lives behind one dedicated "node" network namespace. kube-router runs inside it, so its
// iptables rules and ipsets are that namespace's own; each pod is a namespace joined to the node by a veth pair
// (a /32 address, a host route on the node end, the node's address as the pod's gateway, IP forwarding on the
// node). Every address is in 198.18.0.0/15 (RFC 2544, benchmarking) and the node has no route anywhere else, so no
// packet can leave it; the machine's own tables, links and routes are never touched. kube-router reaches the API server (loopback of the
// machine) through a Unix socket: TCP 127.0.0.1 inside the node namespace → the socket → the API server.
// Deleting the namespaces takes every rule, set and link along; if the test process dies, a detached watchdog
// does it, and the next start removes what a dead run (whose watchdog died too) left.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createConnection, createServer, type Server } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { KubernetesObject } from '@kubernetes/client-node';
import { applyObjects, ensureBinaries, freePort, roleBinding, type ControlPlane } from './controlplane.ts';
import { HttpKube } from '../lib/kube/http.ts';
import { KubeError } from '../lib/kube/port.ts';
import type { AgentConfig, ProbeAnswer, ProbeCommand, ProbeOutcome } from './dataplane-agent.ts';

export type { ProbeOutcome } from './dataplane-agent.ts';

const AGENT = fileURLToPath(new URL('./dataplane-agent.ts', import.meta.url));
/** The whole dataplane's address space: RFC 2544's benchmarking range, routed nowhere else. */
export const DATAPLANE_CIDR = '198.18.0.0/15';
const NODE_IP = '198.18.0.1';
const NETNS_PREFIX = 'nwdp';
const KUBE_ROUTER_NAMESPACE = 'kube-system';
const KUBE_ROUTER_ACCOUNT = 'netwatch-kube-router';
/** ip, iptables and ipset live in sbin, which a non-login PATH may lack. */
const toolPath = () => `${process.env.PATH ?? ''}:/usr/sbin:/sbin:/usr/bin:/bin`;

export interface DataplanePort {
  port: number;
  protocol: 'TCP' | 'UDP';
  /** The container port's name on the Pod object (what a NetworkPolicy's named port resolves against). */
  name?: string;
}

/** Something probes go from and to: a pod (a Pod object exists) or a host outside the cluster (none does). */
export interface Endpoint {
  /** `namespace/name` for a pod, the bare name for a host. */
  readonly name: string;
  readonly ip: string;
  readonly netns: string;
  /** Ports a listener answers on. */
  readonly ports: readonly DataplanePort[];
  readonly kind: 'pod' | 'host';
}

export interface PodOptions {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  ports: DataplanePort[];
}

export interface ProbeResult {
  outcome: ProbeOutcome;
  /** Who answered (the listener's endpoint name). */
  reply?: string;
  ms: number;
  detail?: string;
}

export interface Dataplane {
  readonly nodeName: string;
  readonly nodeIp: string;
  /** The node network namespace (kube-router's; run `ip netns exec NODE iptables-save` to see its rules). */
  readonly nodeNetns: string;
  /** A pod: a network namespace with listeners on `ports` and a Running Pod object kube-router enforces policies on. */
  addPod(opts: PodOptions): Promise<Endpoint>;
  /** A host outside the cluster (an address in an External request's CIDRs): no Pod object, no policy of its own. */
  addHost(name: string, ports?: DataplanePort[], ip?: string): Promise<Endpoint>;
  /** One connection attempt (TCP connect, or a UDP datagram and its answer) from `from`'s namespace. */
  probe(from: Endpoint, to: Endpoint, port: DataplanePort, timeoutMs?: number): Promise<ProbeResult>;
  /** Resolves once kube-router has written its per-pod rules for every pod added so far (enforcement is on). */
  waitForPods(timeoutMs?: number): Promise<void>;
  /** kube-router's rules (`iptables-save` in the node namespace), for debugging a failure. */
  rules(): Promise<string>;
  /** PIDs of kube-router and the agents. */
  pids(): number[];
  /** Network namespaces this dataplane made (all go in stop()). */
  netns(): string[];
  logFile: string;
  stop(): Promise<void>;
}

/** Why this machine cannot run the dataplane (not root, a tool missing), or undefined when it can. */
export function dataplaneUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `the dataplane needs Linux network namespaces (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'the dataplane needs root (network namespaces, iptables)';
  for (const [tool, args, pkg] of [['ip', ['-V'], 'iproute2'], ['iptables', ['--version'], 'iptables'], ['ipset', ['--version'], 'ipset']] as const) {
    const r = spawnSync(tool, args, { env: { PATH: toolPath() }, encoding: 'utf8' });
    if (r.error || r.status !== 0) return `the dataplane needs ${tool} (Debian package ${pkg})`;
  }
  return undefined;
}

async function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { PATH: toolPath() }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} failed (${String(code)}): ${err.trim()}`))));
  });
}

const ip = (...args: string[]) => run('ip', args);
const inNetns = (netns: string, ...args: string[]) => run('ip', ['netns', 'exec', netns, ...args]);
const sysctl = (netns: string, key: string, value: string) => inNetns(netns, 'sh', '-c', `echo ${value} > /proc/sys/${key.replaceAll('.', '/')}`);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Deletes the network namespaces of dataplanes whose process is gone (names carry the owner's pid). The watchdog
 * normally does this; this catches what a run left when its watchdog died with it (a killed process group, a
 * container stop).
 */
export function sweepStaleNetns(): string[] {
  const r = spawnSync('ip', ['netns', 'list'], { env: { PATH: toolPath() }, encoding: 'utf8' });
  const removed: string[] = [];
  for (const line of (r.stdout ?? '').split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const m = new RegExp(`^${NETNS_PREFIX}(\\d+)-`).exec(name);
    if (!m || alive(Number(m[1]))) continue;
    spawnSync('ip', ['netns', 'del', name], { env: { PATH: toolPath() } });
    removed.push(name);
  }
  return removed;
}

// If the test process dies without stop(), a detached watchdog ends kube-router and the agents, deletes the
// namespaces (every rule and link with them) and the folder.
function startWatchdog(dir: string): ChildProcess {
  const script = `
    parent=$1; dir=$2
    while kill -0 "$parent" 2>/dev/null; do sleep 1; done
    for p in $(cat "$dir/pids" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    for n in $(cat "$dir/netns" 2>/dev/null); do ip netns del "$n" 2>/dev/null; done
    rm -rf "$dir"
  `;
  const child = spawn('bash', ['-c', script, 'watchdog', String(process.pid), dir], { detached: true, stdio: 'ignore', env: { PATH: toolPath() } });
  child.unref();
  return child;
}

/** What kube-router v2.1.0 reads with its firewall alone (and nothing else: it writes nothing to the API). */
const KUBE_ROUTER_CLUSTER_ROLE = {
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRole',
  metadata: { name: 'netwatch-test-kube-router' },
  rules: [
    { apiGroups: [''], resources: ['pods', 'namespaces', 'nodes', 'services', 'endpoints'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
  ],
} as KubernetesObject;

class Agent {
  private next = 1;
  private readonly waiting = new Map<number, (a: ProbeAnswer) => void>();
  readonly child: ChildProcess;
  readonly ready: Promise<void>;

  constructor(netns: string, config: AgentConfig, logFile: string) {
    this.child = spawn('ip', ['netns', 'exec', netns, process.execPath, '--disable-warning=ExperimentalWarning', AGENT, JSON.stringify(config)], {
      env: { PATH: toolPath() },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    const log = createWriteStream(logFile, { flags: 'a' });
    this.child.stderr?.pipe(log);
    const lines = createInterface({ input: this.child.stdout! });
    this.ready = new Promise((resolve, reject) => {
      this.child.once('exit', (code) => reject(new Error(`the agent in ${netns} exited (${String(code)}); see ${logFile}`)));
      lines.on('line', (line) => {
        const msg = JSON.parse(line) as ProbeAnswer | { ready: true };
        if ('ready' in msg) return resolve();
        this.waiting.get(msg.id)?.(msg);
        this.waiting.delete(msg.id);
      });
    });
  }

  probe(cmd: Omit<ProbeCommand, 'id'>): Promise<ProbeAnswer> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, resolve);
      this.child.stdin?.write(JSON.stringify({ id, ...cmd }) + '\n', (err) => {
        if (err) {
          this.waiting.delete(id);
          reject(err);
        }
      });
    });
  }
}

/** A Unix socket in this (the machine's) network namespace that forwards every connection to the API server. */
function apiSocket(path: string, server: string): Promise<Server> {
  const url = new URL(server);
  const srv = createServer((inbound) => {
    const outbound = createConnection({ host: url.hostname, port: Number(url.port) });
    inbound.pipe(outbound).pipe(inbound);
    inbound.on('error', () => outbound.destroy());
    outbound.on('error', () => inbound.destroy());
  });
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(path, () => resolve(srv));
  });
}

export interface DataplaneOptions {
  /** The Node object's name (kube-router's --hostname-override). */
  nodeName?: string;
}

/**
 * Starts kube-router (firewall only) in a node network namespace of its own, against `cp`'s API server, with a Node
 * object for it. Throws with the reason when the machine cannot run it (see dataplaneUnavailable).
 */
export async function startDataplane(cp: ControlPlane, opts: DataplaneOptions = {}): Promise<Dataplane> {
  const unavailable = dataplaneUnavailable();
  if (unavailable) throw new Error(unavailable);
  const bins = ensureBinaries();
  sweepStaleNetns();

  const nodeName = opts.nodeName ?? 'netwatch-dataplane-node';
  const dir = mkdtempSync(join(tmpdir(), 'netwatch-dp-'));
  const logFile = join(dir, 'dataplane.log');
  const id = `${NETNS_PREFIX}${process.pid}-${dir.slice(-6).toLowerCase().replace(/[^a-z0-9]/g, 'x')}`;
  const nodeNetns = `${id}-node`;
  const namespaces: string[] = [];
  const processes: ChildProcess[] = [];
  const agents = new Map<string, Agent>();
  const endpoints: Endpoint[] = [];
  const admin = new HttpKube(cp.admin, { cached: [], maxSockets: 8 });
  let socketServer: Server | undefined;
  let watchdog: ChildProcess | undefined;
  let stopped = false;
  let nextPod = 1;
  let nextHost = 1;

  const pids = () => processes.map((p) => p.pid).filter((p): p is number => typeof p === 'number');
  const record = () => {
    writeFileSync(join(dir, 'pids'), pids().join('\n'));
    writeFileSync(join(dir, 'netns'), namespaces.join('\n'));
  };

  const removeAll = () => {
    for (const p of processes) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    // Pods first: deleting a namespace deletes its veth ends, and with them their peers in the node namespace.
    for (const n of [...namespaces].reverse()) spawnSync('ip', ['netns', 'del', n], { env: { PATH: toolPath() } });
  };
  const onExit = () => {
    removeAll();
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', onExit);

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    process.off('exit', onExit);
    for (const p of processes) {
      if (p.exitCode !== null || p.signalCode !== null) continue;
      const exited = new Promise<void>((r) => p.once('exit', () => r()));
      p.kill('SIGTERM');
      const timer = setTimeout(() => p.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    removeAll();
    await new Promise<void>((r) => (socketServer ? socketServer.close(() => r()) : r()));
    await admin.stop();
    watchdog?.kill('SIGKILL');
    if (process.env.NETWATCH_KEEP_CP !== '1') rmSync(dir, { recursive: true, force: true });
  };

  const addNetns = async (name: string) => {
    namespaces.push(name);
    record();
    await ip('netns', 'add', name);
    await ip('-n', name, 'link', 'set', 'lo', 'up');
  };

  const startAgent = async (netns: string, config: AgentConfig): Promise<Agent> => {
    const agent = new Agent(netns, config, logFile);
    processes.push(agent.child);
    record();
    await agent.ready;
    return agent;
  };

  /**
   * A namespace joined to the node by a veth pair, with `address` and a route to the rest of the dataplane through
   * the node's own address (the only neighbour a pod ever asks for: proxy ARP would answer too, after its 0.8 s
   * proxy delay).
   */
  const plug = async (netns: string, index: number, address: string) => {
    const nodeEnd = `vp${index}`;
    await ip('-n', nodeNetns, 'link', 'add', nodeEnd, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns);
    await ip('-n', nodeNetns, 'link', 'set', nodeEnd, 'up');
    await ip('-n', nodeNetns, 'route', 'add', `${address}/32`, 'dev', nodeEnd);
    await ip('-n', netns, 'addr', 'add', `${address}/32`, 'dev', 'eth0');
    await ip('-n', netns, 'link', 'set', 'eth0', 'up');
    await ip('-n', netns, 'route', 'add', NODE_IP, 'dev', 'eth0', 'scope', 'link');
    await ip('-n', netns, 'route', 'add', DATAPLANE_CIDR, 'via', NODE_IP, 'dev', 'eth0');
  };

  try {
    watchdog = startWatchdog(dir);
    await addNetns(nodeNetns);
    // On the node's loopback (the kernel may lack the dummy link type); the node answers ARP for it on every veth.
    await ip('-n', nodeNetns, 'addr', 'add', `${NODE_IP}/32`, 'dev', 'lo');
    await sysctl(nodeNetns, 'net.ipv4.ip_forward', '1');
    // kube-router answers a packet no policy allows with an ICMP unreachable; the kernel's per-peer limit on them (one a
    // second after a burst of six, per namespace) would turn most refusals of a truth table into silent timeouts.
    await sysctl(nodeNetns, 'net.ipv4.icmp_ratelimit', '0');

    // The API server, reachable from inside the node namespace at 127.0.0.1:port (its certificate names 127.0.0.1).
    const socketPath = join(dir, 'apiserver.sock');
    socketServer = await apiSocket(socketPath, cp.server);
    const apiPort = await freePort();
    await startAgent(nodeNetns, { name: nodeName, listen: [], forward: { port: apiPort, socket: socketPath } });

    // kube-router's identity: a ServiceAccount, as a cluster would deploy it, with a token from the TokenRequest API.
    await applyObjects(cp.admin, [
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: KUBE_ROUTER_ACCOUNT, namespace: KUBE_ROUTER_NAMESPACE } },
      KUBE_ROUTER_CLUSTER_ROLE,
      roleBinding('netwatch-test-kube-router', 'netwatch-test-kube-router', { kind: 'ServiceAccount', name: KUBE_ROUTER_ACCOUNT, namespace: KUBE_ROUTER_NAMESPACE }),
    ]);
    const tokenRequest = await admin.call<{ status: { token: string } }>(
      'POST',
      `/api/v1/namespaces/${KUBE_ROUTER_NAMESPACE}/serviceaccounts/${KUBE_ROUTER_ACCOUNT}/token`,
      { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 2 * 86400 } },
    );
    const kubeconfig = join(dir, 'kube-router.kubeconfig');
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'netwatch-test', cluster: { server: `https://127.0.0.1:${apiPort}`, 'certificate-authority-data': Buffer.from(cp.caPem).toString('base64') } }],
        users: [{ name: 'kube-router', user: { token: tokenRequest.status.token } }],
        contexts: [{ name: 'kube-router', context: { cluster: 'netwatch-test', user: 'kube-router' } }],
        'current-context': 'kube-router',
      }),
      { mode: 0o600 },
    );

    // The Node kube-router runs as: its InternalIP is how kube-router tells its own pods (status.hostIP) apart.
    await admin.call('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName, labels: { 'kubernetes.io/hostname': nodeName } } });
    const now = new Date().toISOString();
    await admin.call(
      'PATCH',
      `/api/v1/nodes/${nodeName}/status`,
      {
        status: {
          addresses: [
            { type: 'InternalIP', address: NODE_IP },
            { type: 'Hostname', address: nodeName },
          ],
          conditions: [{ type: 'Ready', status: 'True', reason: 'NetwatchDataplane', message: 'a network namespace of the netwatch test dataplane', lastHeartbeatTime: now, lastTransitionTime: now }],
        },
      },
      'application/merge-patch+json',
    );

    const kubeRouter = spawn(
      'ip',
      [
        'netns', 'exec', nodeNetns, bins.kubeRouter,
        `--kubeconfig=${kubeconfig}`,
        `--hostname-override=${nodeName}`,
        '--run-firewall=true',
        '--run-router=false',
        '--run-service-proxy=false',
        '--enable-cni=false',
        '--enable-ipv4=true',
        '--enable-ipv6=false',
        '--health-port=0',
        '--metrics-port=0',
        '--v=1',
      ],
      { env: { PATH: toolPath() }, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    const kubeRouterLog = createWriteStream(join(dir, 'kube-router.log'));
    kubeRouter.stdout.pipe(kubeRouterLog);
    kubeRouter.stderr.pipe(kubeRouterLog);
    processes.push(kubeRouter);
    record();

    const rules = () => inNetns(nodeNetns, 'iptables-save');
    // Started when its top-level chains are in place.
    const deadline = Date.now() + 60_000;
    while (!(await rules()).includes('KUBE-ROUTER-FORWARD')) {
      if (kubeRouter.exitCode !== null) throw new Error(`kube-router exited with ${String(kubeRouter.exitCode)}:\n${tailOf(join(dir, 'kube-router.log'))}`);
      if (Date.now() > deadline) throw new Error(`kube-router wrote no rules within 60 s:\n${tailOf(join(dir, 'kube-router.log'))}`);
      await sleep(200);
    }

    const ensureServiceAccount = async (namespace: string) => {
      try {
        await admin.call('POST', `/api/v1/namespaces/${namespace}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } });
      } catch (err) {
        if (!(err instanceof KubeError && err.status === 409)) throw err;
      }
    };

    const addPod = async (o: PodOptions): Promise<Endpoint> => {
      const index = nextPod++;
      const address = `198.18.${1 + Math.floor(index / 250)}.${1 + (index % 250)}`;
      const netns = `${id}-p${index}`;
      const name = `${o.namespace}/${o.name}`;
      await addNetns(netns);
      await plug(netns, index, address);
      agents.set(netns, await startAgent(netns, { name, listen: o.ports.map(({ port, protocol }) => ({ port, protocol })) }));
      // No kubelet, no kube-controller-manager's ServiceAccount controller: the Pod needs its namespace's `default`.
      await ensureServiceAccount(o.namespace);
      await admin.call('POST', `/api/v1/namespaces/${o.namespace}/pods`, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: o.name, namespace: o.namespace, labels: o.labels },
        spec: {
          nodeName,
          automountServiceAccountToken: false,
          containers: [
            { name: 'listener', image: 'netwatch.invalid/dataplane-agent', ports: o.ports.map((p) => ({ ...(p.name ? { name: p.name } : {}), containerPort: p.port, protocol: p.protocol })) },
          ],
        },
      });
      // kube-router enforces policies on a pod only with an IP and on its own node, by status.hostIP.
      await admin.call(
        'PATCH',
        `/api/v1/namespaces/${o.namespace}/pods/${o.name}/status`,
        {
          status: {
            phase: 'Running',
            podIP: address,
            podIPs: [{ ip: address }],
            hostIP: NODE_IP,
            hostIPs: [{ ip: NODE_IP }],
            conditions: [{ type: 'Ready', status: 'True' }],
          },
        },
        'application/merge-patch+json',
      );
      const endpoint: Endpoint = { name, ip: address, netns, ports: [...o.ports], kind: 'pod' };
      endpoints.push(endpoint);
      return endpoint;
    };

    const addHost = async (name: string, ports: DataplanePort[] = [], address?: string): Promise<Endpoint> => {
      const index = nextHost++;
      const hostIp = address ?? `198.19.0.${index}`;
      const netns = `${id}-h${index}`;
      await addNetns(netns);
      await plug(netns, 1000 + index, hostIp);
      agents.set(netns, await startAgent(netns, { name, listen: ports }));
      const endpoint: Endpoint = { name, ip: hostIp, netns, ports: [...ports], kind: 'host' };
      endpoints.push(endpoint);
      return endpoint;
    };

    return {
      nodeName,
      nodeIp: NODE_IP,
      nodeNetns,
      logFile,
      addPod,
      addHost,
      async probe(from, to, port, timeoutMs = 1000) {
        const agent = agents.get(from.netns);
        if (!agent) throw new Error(`${from.name} is not an endpoint of this dataplane`);
        const answer = await agent.probe({ host: to.ip, port: port.port, protocol: port.protocol, timeoutMs });
        return { outcome: answer.outcome, ms: answer.ms, ...(answer.reply ? { reply: answer.reply } : {}), ...(answer.detail ? { detail: answer.detail } : {}) };
      },
      async waitForPods(timeoutMs = 30_000) {
        const pods = endpoints.filter((e) => e.kind === 'pod');
        const end = Date.now() + timeoutMs;
        for (;;) {
          const text = await rules();
          const missing = pods.filter((p) => !text.includes(`-d ${p.ip}/32`));
          if (missing.length === 0) return;
          if (Date.now() > end) throw new Error(`kube-router wrote no rules for ${missing.map((p) => p.name).join(', ')} within ${timeoutMs} ms:\n${tailOf(join(dir, 'kube-router.log'))}`);
          await sleep(200);
        }
      },
      rules,
      pids,
      netns: () => [...namespaces],
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

function tailOf(file: string, lines = 30): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}
