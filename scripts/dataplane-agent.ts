// One process per network namespace of the dataplane harness (scripts/dataplane.ts), started with
// `ip netns exec NS node scripts/dataplane-agent.ts CONFIG`: it listens on a pod's ports (TCP and UDP, answering
// with the pod's name so a probe knows whom it reached) and runs probes from this namespace on request, one JSON
// line per probe on stdin and one per answer on stdout. A namespace's sockets can only be opened from inside it,
// so everything that happens "in a pod" happens here; a long-lived agent answers a probe in microseconds where a
// process started per probe would cost a Node start.
//
// Run by Node directly (type stripping): only erasable TypeScript, only node: imports.
import { createConnection, createServer, type Server } from 'node:net';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createInterface } from 'node:readline';

export interface AgentConfig {
  /** Sent back to every connection and datagram: who answered. */
  name: string;
  listen: { port: number; protocol: 'TCP' | 'UDP' }[];
  /** Forward TCP 127.0.0.1:port of this namespace to a Unix socket (the API server, seen from the node namespace). */
  forward?: { port: number; socket: string };
}

export interface ProbeCommand {
  id: number;
  host: string;
  port: number;
  protocol: 'TCP' | 'UDP';
  timeoutMs: number;
}

/**
 * `open`: the listener answered; `refused`: a TCP reset or ICMP port-unreachable came back (no listener, or a
 * firewall's REJECT: kube-router's answer to a packet no policy allows); `timeout`: no answer at all (dropped).
 */
export type ProbeOutcome = 'open' | 'refused' | 'timeout' | 'unreachable' | 'error';

export interface ProbeAnswer {
  id: number;
  outcome: ProbeOutcome;
  /** The name the listener answered with. */
  reply?: string;
  ms: number;
  detail?: string;
}

function outcomeOf(err: NodeJS.ErrnoException): ProbeOutcome {
  if (err.code === 'ECONNREFUSED') return 'refused';
  if (err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH') return 'unreachable';
  if (err.code === 'ETIMEDOUT') return 'timeout';
  return 'error';
}

function probeTcp(cmd: ProbeCommand): Promise<Omit<ProbeAnswer, 'id' | 'ms'>> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: cmd.host, port: cmd.port });
    let reply = '';
    let done = false;
    const finish = (answer: Omit<ProbeAnswer, 'id' | 'ms'>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    // A dropped SYN is retransmitted after a second: the deadline, not the kernel, decides.
    const timer = setTimeout(() => finish({ outcome: 'timeout' }), cmd.timeoutMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      reply += chunk;
      if (reply.includes('\n')) finish({ outcome: 'open', reply: reply.trim() });
    });
    socket.on('end', () => finish(reply ? { outcome: 'open', reply: reply.trim() } : { outcome: 'error', detail: 'connected, but the listener sent nothing' }));
    socket.on('error', (err: NodeJS.ErrnoException) => finish({ outcome: outcomeOf(err), detail: err.code ?? err.message }));
  });
}

function probeUdp(cmd: ProbeCommand): Promise<Omit<ProbeAnswer, 'id' | 'ms'>> {
  return new Promise((resolve) => {
    const socket: UdpSocket = createSocket('udp4');
    let done = false;
    const finish = (answer: Omit<ProbeAnswer, 'id' | 'ms'>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.close();
      resolve(answer);
    };
    const timer = setTimeout(() => finish({ outcome: 'timeout' }), cmd.timeoutMs);
    socket.on('message', (msg) => finish({ outcome: 'open', reply: msg.toString('utf8').trim() }));
    // A connected UDP socket reports the ICMP port-unreachable of a closed port as ECONNREFUSED.
    socket.on('error', (err: NodeJS.ErrnoException) => finish({ outcome: outcomeOf(err), detail: err.code ?? err.message }));
    socket.connect(cmd.port, cmd.host, () => socket.send('probe\n'));
  });
}

async function probe(cmd: ProbeCommand): Promise<ProbeAnswer> {
  const started = performance.now();
  const answer = cmd.protocol === 'UDP' ? await probeUdp(cmd) : await probeTcp(cmd);
  return { id: cmd.id, ...answer, ms: Math.round((performance.now() - started) * 100) / 100 };
}

function listenTcp(port: number, name: string): Promise<Server> {
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.end(`${name}\n`);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '0.0.0.0', () => resolve(server));
  });
}

function listenUdp(port: number, name: string): Promise<UdpSocket> {
  const socket = createSocket('udp4');
  socket.on('message', (_msg, peer) => socket.send(`${name}\n`, peer.port, peer.address));
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, '0.0.0.0', () => resolve(socket));
  });
}

function forwardToUnix(port: number, path: string): Promise<Server> {
  const server = createServer((inbound) => {
    const outbound = createConnection({ path });
    inbound.pipe(outbound).pipe(inbound);
    inbound.on('error', () => outbound.destroy());
    outbound.on('error', () => inbound.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as AgentConfig;
  for (const l of config.listen) {
    if (l.protocol === 'UDP') await listenUdp(l.port, config.name);
    else await listenTcp(l.port, config.name);
  }
  if (config.forward) await forwardToUnix(config.forward.port, config.forward.socket);
  process.stdout.write(JSON.stringify({ ready: true }) + '\n');
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (!line.trim()) return;
    const cmd = JSON.parse(line) as ProbeCommand;
    void probe(cmd).then((answer) => process.stdout.write(JSON.stringify(answer) + '\n'));
  });
  // The harness closing stdin (or dying) ends the agent.
  lines.on('close', () => process.exit(0));
}

main().catch((err: unknown) => {
  process.stderr.write(`dataplane agent: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
