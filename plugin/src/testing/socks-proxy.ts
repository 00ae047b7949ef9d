// A minimal SOCKS5 proxy for tests (no authentication, CONNECT to an IPv4 address only), on loopback: enough to
// prove that a kubeconfig's SOCKS `proxy-url` is honoured, and to see where the client went through it.
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

export interface SocksProxy {
  /** socks5://127.0.0.1:PORT */
  url: string;
  /** host:port of each CONNECT, in order. */
  connects: string[];
  close(): Promise<void>;
}

export async function startSocksProxy(): Promise<SocksProxy> {
  const connects: string[] = [];
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  const server = createServer((client) => {
    track(client);
    client.on('error', () => undefined);
    client.once('data', () => {
      client.write(Buffer.from([5, 0])); // version 5, no authentication
      client.once('data', (req: Buffer) => {
        // VER CMD RSV ATYP=1 (IPv4) ADDR(4) PORT(2)
        const host = [...req.subarray(4, 8)].join('.');
        const port = req.readUInt16BE(8);
        connects.push(`${host}:${port}`);
        const upstream = connect(port, host, () => {
          client.write(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]));
          client.pipe(upstream).pipe(client);
        });
        track(upstream);
        upstream.on('error', () => client.destroy());
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    url: `socks5://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connects,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
