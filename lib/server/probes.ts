// The plain-HTTP endpoint of the leader-elected components (controller, notifier): liveness, readiness and
// Prometheus metrics on one port. The caller listens.
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export function createProbeServer(probe: { ready: () => boolean; registry: Registry }): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    } else if (path === '/readyz') {
      const ok = probe.ready();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok' : 'not ready');
    } else if (path === '/metrics') {
      probe.registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': probe.registry.contentType }).end(body),
        () => res.writeHead(500).end('Internal Server Error'),
      );
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
}
