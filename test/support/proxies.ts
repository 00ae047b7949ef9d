// Minimal proxies for tests, on loopback: enough to prove that a kubeconfig's `proxy-url` is honoured, and to see
// where the client went through it. SOCKS5 (no authentication, CONNECT to an IPv4 address only) and HTTP CONNECT
// (what corporate proxies and `proxy-url: http://…` use for an https API server).
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export interface TestProxy {
  /** socks5://127.0.0.1:PORT or http://127.0.0.1:PORT */
  url: string;
  /** host:port of each CONNECT, in order. */
  connects: string[];
  close(): Promise<void>;
}

/** Listens on loopback and returns the proxy; `sockets` are destroyed on close (tunnels outlive requests). */
async function listening(server: Server, scheme: string, connects: string[], sockets: Set<Socket>): Promise<TestProxy> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    url: `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connects,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

function tracker(sockets: Set<Socket>): (socket: Socket) => Socket {
  return (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    return socket;
  };
}

export async function startSocksProxy(): Promise<TestProxy> {
  const connects: string[] = [];
  const sockets = new Set<Socket>();
  const track = tracker(sockets);
  const server = createServer((client) => {
    track(client);
    client.once('data', () => {
      client.write(Buffer.from([5, 0])); // version 5, no authentication
      client.once('data', (req: Buffer) => {
        // VER CMD RSV ATYP=1 (IPv4) ADDR(4) PORT(2)
        const host = [...req.subarray(4, 8)].join('.');
        const port = req.readUInt16BE(8);
        connects.push(`${host}:${port}`);
        const upstream = track(
          connect(port, host, () => {
            client.write(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]));
            client.pipe(upstream).pipe(client);
          }),
        );
        upstream.on('error', () => client.destroy());
      });
    });
  });
  return listening(server, 'socks5', connects, sockets);
}

export async function startHttpConnectProxy(): Promise<TestProxy> {
  const connects: string[] = [];
  const sockets = new Set<Socket>();
  const track = tracker(sockets);
  const server = createHttpServer((_req, res) => {
    // Only tunnels: an https API server is reached with CONNECT, never with a plain proxied request.
    res.writeHead(405).end();
  });
  server.on('connect', (req: { url?: string }, client: Socket, head: Buffer) => {
    track(client);
    const target = req.url ?? '';
    connects.push(target);
    const url = new URL(`http://${target}`);
    const upstream = track(
      connect(Number(url.port), url.hostname, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        if (head.length > 0) upstream.write(head);
        client.pipe(upstream).pipe(client);
      }),
    );
    upstream.on('error', () => client.destroy());
  });
  return listening(server, 'http', connects, sockets);
}
