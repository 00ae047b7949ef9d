// The transport against a local HTTPS server on 127.0.0.1 that records what arrives (headers, the client certificate
// presented, connections) and answers as a test tells it; the real API server is used in test/e2e.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import { createServer as createPlainServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { User } from '@kubernetes/client-node/dist/config_types.js';
import { makeServingCertificates, type ServingCertificates } from '../../scripts/certs.ts';
import { startHttpConnectProxy } from '../../test/support/proxies.ts';
import { KubeError, NO_ANSWER, isAlreadyExists, isConflict, isExpired, isNotFound } from './errors.ts';
import { KubeTransport, type TransportOptions, type WatchEvent } from './transport.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  /** CN of the client certificate presented on the connection, if any. */
  client: string | undefined;
  body: string;
  connection: number;
}

type Handler = (seen: Seen, res: ServerResponse) => void;

const json = (res: ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

/** An HTTPS server that asks for (but does not verify) client certificates, so a test sees which one came. */
async function apiServer(serving: ServingCertificates, handler: Handler) {
  const seen: Seen[] = [];
  const sockets = new Map<Socket, number>();
  const closed: number[] = [];
  let connections = 0;
  const server: Server = createServer({ key: serving.keyPem, cert: serving.certPem, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const socket = req.socket as TLSSocket;
      const cn = socket.getPeerCertificate().subject?.CN;
      const s: Seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, client: typeof cn === 'string' ? cn : undefined, body, connection: sockets.get(socket) ?? -1 };
      seen.push(s);
      handler(s, res);
    });
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    const n = ++connections;
    sockets.set(socket, n);
    socket.on('close', () => closed.push(n));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    closed,
    connections: () => connections,
    /** Serves another certificate from now on; open connections are closed. */
    serve(next: ServingCertificates) {
      server.setSecureContext({ key: next.keyPem, cert: next.certPem });
      for (const s of sockets.keys()) s.destroy();
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** A kubeconfig whose CA, client certificate and key are files in `dir` (as a mounted Secret is). */
function kubeconfigWithFiles(dir: string, server: string, user: Partial<User> = {}): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, caFile: join(dir, 'ca.crt'), skipTLSVerify: false }],
    users: [{ name: 'u', certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key'), ...user }],
    contexts: [{ name: 'c', cluster: 'c', user: 'u' }],
    currentContext: 'c',
  });
  return kc;
}

function writeClient(dir: string, ca: string, client: ServingCertificates): void {
  writeFileSync(join(dir, 'ca.crt'), ca);
  writeFileSync(join(dir, 'tls.crt'), client.certPem);
  writeFileSync(join(dir, 'tls.key'), client.keyPem);
}

describe('the Kubernetes transport', () => {
  let serving: ServingCertificates;
  let alice1: ServingCertificates;
  let alice2: ServingCertificates;
  let dir: string;
  before(() => {
    serving = makeServingCertificates();
    alice1 = makeServingCertificates({ commonName: 'alice-1' });
    alice2 = makeServingCertificates({ commonName: 'alice-2' });
  });
  const fresh = () => {
    dir = mkdtempSync(join(tmpdir(), 'netwatch-transport-'));
    writeClient(dir, serving.caPem, alice1);
  };
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function withApi(handler: Handler, user: Partial<User>, options: TransportOptions, run: (t: KubeTransport, api: Awaited<ReturnType<typeof apiServer>>) => Promise<void>) {
    fresh();
    const api = await apiServer(serving, handler);
    const transport = new KubeTransport(kubeconfigWithFiles(dir, api.url, user), { fileCheckMs: 0, ...options });
    try {
      await run(transport, api);
    } finally {
      transport.close();
      await api.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }

  test('sends and parses JSON, with the content type asked for, and keeps connections alive', async () => {
    await withApi(
      (s, res) => (s.method === 'DELETE' ? res.writeHead(200).end() : json(res, s.method === 'POST' ? 201 : 200, { got: s.method, body: s.body ? (JSON.parse(s.body) as unknown) : null })),
      { token: 'own-token' },
      { userAgent: 'netwatch-test' },
      async (t, api) => {
        assert.deepEqual(await t.request('GET', '/api/v1/namespaces/a/services/db'), { got: 'GET', body: null });
        assert.deepEqual(await t.request('POST', '/api/v1/namespaces', { body: { metadata: { name: 'x' } } }), { got: 'POST', body: { metadata: { name: 'x' } } });
        await t.request('PATCH', '/api/v1/namespaces/x', { body: { metadata: { labels: { a: 'b' } } }, contentType: 'application/merge-patch+json' });
        assert.equal(await t.request('DELETE', '/api/v1/namespaces/x'), undefined, 'an empty answer is undefined');
        assert.equal(await t.text('GET', '/raw'), JSON.stringify({ got: 'GET', body: null }), 'text() gives the bytes as sent');
        assert.equal(api.seen[1]?.headers['content-type'], 'application/json');
        assert.equal(api.seen[2]?.headers['content-type'], 'application/merge-patch+json');
        for (const s of api.seen) {
          assert.equal(s.headers.authorization, 'Bearer own-token');
          assert.equal(s.headers.accept, 'application/json');
          assert.equal(s.headers['user-agent'], 'netwatch-test');
          assert.equal(s.client, 'alice-1', 'the kubeconfig’s client certificate is presented');
        }
        assert.equal(api.connections(), 1, 'one kept-alive connection for requests made one after another');
      },
    );
  });

  test('an answer that is not 2xx is a KubeError with the Status reason, message and details', async () => {
    const answers: Record<string, [number, unknown]> = {
      '/missing': [404, { kind: 'Status', reason: 'NotFound', message: 'services "db" not found', details: { name: 'db', kind: 'services' } }],
      '/exists': [409, { kind: 'Status', reason: 'AlreadyExists', message: 'already exists' }],
      '/conflict': [409, { kind: 'Status', reason: 'Conflict', message: 'the object has been modified' }],
      '/gone': [410, { kind: 'Status', reason: 'Expired', message: 'too old resource version' }],
    };
    await withApi(
      (s, res) => {
        const a = answers[s.url];
        if (a) return json(res, a[0], a[1]);
        res.writeHead(502, { 'content-type': 'text/plain' }).end('upstream connect error\n');
      },
      { token: 't' },
      {},
      async (t) => {
        await assert.rejects(t.request('GET', '/missing'), (e: unknown) => {
          assert.ok(e instanceof KubeError && isNotFound(e));
          assert.deepEqual([e.status, e.reason, e.message, e.details], [404, 'NotFound', 'services "db" not found', { name: 'db', kind: 'services' }]);
          return true;
        });
        await assert.rejects(t.request('POST', '/exists', { body: {} }), (e: unknown) => isAlreadyExists(e) && !isConflict(e));
        await assert.rejects(t.request('PUT', '/conflict', { body: {} }), (e: unknown) => isConflict(e) && !isAlreadyExists(e));
        await assert.rejects(t.request('GET', '/gone'), (e: unknown) => isExpired(e));
        // Not a Status (a proxy's page): the text is the message, the reason the one the status code implies.
        await assert.rejects(t.request('GET', '/proxy'), (e: unknown) => e instanceof KubeError && e.status === 502 && e.message === 'upstream connect error');
      },
    );
  });

  test('no answer within the timeout, or no server at all, is a KubeError with status 0 saying which', async () => {
    await withApi(
      () => undefined,
      { token: 't' },
      { timeoutMs: 300 },
      async (t) => {
        await assert.rejects(
          t.request('GET', '/api/v1/namespaces'),
          (e: unknown) => e instanceof KubeError && e.status === 0 && e.reason === NO_ANSWER.timeout && e.message === 'the Kubernetes API did not answer GET /api/v1/namespaces within 300 ms',
        );
        // A call can be given a longer (or shorter) time of its own.
        await assert.rejects(t.request('GET', '/slow', { timeoutMs: 100 }), /within 100 ms/);
        // A watch whose answer does not start in time ends the same way.
        const ended = await new Promise<Error | undefined>((resolve) => t.watch('/watch?watch=1', () => undefined, resolve));
        assert.ok(ended instanceof KubeError && ended.reason === NO_ANSWER.timeout && /within 300 ms/.test(ended.message), String(ended));
      },
    );
    const kc = new KubeConfig();
    kc.loadFromOptions({ clusters: [{ name: 'c', server: 'https://127.0.0.1:1', skipTLSVerify: false }], users: [{ name: 'u', token: 't' }], contexts: [{ name: 'c', cluster: 'c', user: 'u' }], currentContext: 'c' });
    const nobody = new KubeTransport(kc);
    await assert.rejects(nobody.request('GET', '/api'), (e: unknown) => e instanceof KubeError && e.status === 0 && e.reason === NO_ANSWER.unreachable && /^cannot reach the API server https:\/\/127\.0\.0\.1:1: /.test(e.message));
    nobody.close();
  });

  test('credentials that cannot be loaded are a KubeError saying so, and nothing is sent', async () => {
    await withApi(
      (_s, res) => json(res, 200, {}),
      { authProvider: { name: 'tokenFile', config: { tokenFile: '/nonexistent/token' } } },
      {},
      async (t, api) => {
        await assert.rejects(t.request('GET', '/api'), (e: unknown) => e instanceof KubeError && e.reason === NO_ANSWER.credentials && /^cannot authenticate with the kubeconfig: .*nonexistent/.test(e.message));
        assert.equal(api.seen.length, 0);
      },
    );
  });

  test('a watch streams events split anywhere across chunks, and ends with the Status of an ERROR event', async () => {
    const lines = [
      { type: 'ADDED', object: { metadata: { name: 'a', resourceVersion: '2' } } },
      { type: 'BOOKMARK', object: { metadata: { resourceVersion: '3' } } },
      { type: 'MODIFIED', object: { metadata: { name: 'a', resourceVersion: '4' } } },
      { type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version: 1 (4)' } },
    ];
    await withApi(
      (s, res) => {
        if (s.url.includes('forbidden')) return json(res, 403, { kind: 'Status', reason: 'Forbidden', message: 'cannot watch' });
        res.writeHead(200, { 'content-type': 'application/json' });
        const text = lines.map((l) => JSON.stringify(l)).join('\n') + '\n';
        // Chunks of 7 bytes, written on separate turns: lines arrive in pieces.
        let i = 0;
        const next = () => {
          if (i >= text.length) return s.url.includes('end') ? res.end() : undefined;
          res.write(text.slice(i, (i += 7)));
          setImmediate(next);
        };
        next();
      },
      { token: 't' },
      {},
      async (t) => {
        const events: WatchEvent<{ metadata: { resourceVersion: string } }>[] = [];
        const ended = await new Promise<Error | undefined>((resolve) => t.watch<{ metadata: { resourceVersion: string } }>('/watch?watch=1', (e) => events.push(e), resolve));
        assert.deepEqual(events.map((e) => `${e.type} ${e.object.metadata.resourceVersion}`), ['ADDED 2', 'BOOKMARK 3', 'MODIFIED 4']);
        assert.ok(ended instanceof KubeError && isExpired(ended) && ended.message === 'too old resource version: 1 (4)', String(ended));

        const refused = await new Promise<Error | undefined>((resolve) => t.watch('/watch?watch=1&forbidden', () => undefined, resolve));
        assert.ok(refused instanceof KubeError && refused.status === 403 && refused.message === 'cannot watch');
      },
    );
  });

  test('a watch the server ends, or the caller stops, ends without an error', async () => {
    let open: ServerResponse | undefined;
    await withApi(
      (s, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a' } } }) + '\n');
        if (s.url.includes('end')) res.end();
        else open = res;
      },
      { token: 't' },
      {},
      async (t, api) => {
        assert.equal(await new Promise<Error | undefined>((resolve) => t.watch('/watch?watch=1&end', () => undefined, resolve)), undefined);
        let stop = () => undefined as void;
        const ended = new Promise<Error | undefined>((resolve) => {
          const w = t.watch('/watch?watch=1', () => stop(), resolve);
          stop = () => w.stop();
        });
        assert.equal(await ended, undefined);
        // The stopped watch's connection is closed, not left to the server.
        await waitFor(() => api.closed.length > 0, 'the watch connection closed');
        assert.ok(open);
      },
    );
  });

  test('open watches do not take the sockets requests are bounded to', async () => {
    await withApi(
      (s, res) => {
        if (!s.url.includes('watch')) return json(res, 200, {});
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '1' } } }) + '\n');
      },
      { token: 't' },
      { maxSockets: 1, timeoutMs: 2000 },
      async (t) => {
        let streaming: () => void = () => undefined;
        const started = new Promise<void>((r) => (streaming = r));
        const watch = t.watch('/watch?watch=1', () => streaming(), () => undefined);
        await started;
        // With the watch streaming, a request still gets the one socket it may use (else: a timeout).
        assert.deepEqual(await t.request('GET', '/api'), {});
        watch.stop();
      },
    );
  });

  test('acts with a bearer token given per call: only that token, over a connection without the client certificate', async () => {
    await withApi(
      (_s, res) => json(res, 200, {}),
      { token: 'own-token' },
      {},
      async (t, api) => {
        await t.request('GET', '/as-user', { as: { kind: 'token', token: 'user-id-token' } });
        await t.request('GET', '/as-self');
        const [asUser, asSelf] = api.seen;
        assert.equal(asUser?.headers.authorization, 'Bearer user-id-token');
        assert.equal(asUser?.client, undefined, 'no client certificate: the API server would take it over the token');
        assert.equal(asUser?.headers['impersonate-user'], undefined);
        assert.equal(asSelf?.headers.authorization, 'Bearer own-token');
        assert.equal(asSelf?.client, 'alice-1');
      },
    );
  });

  test('impersonates with its own credentials, never a system: user or group', async () => {
    await withApi(
      (_s, res) => json(res, 200, {}),
      { token: 'own-token' },
      {},
      async (t, api) => {
        await t.request('GET', '/x', { as: { kind: 'impersonate', identity: { username: 'bob', groups: ['developers', 'system:masters', 'approvers'] } } });
        const [s] = api.seen;
        assert.equal(s?.headers.authorization, 'Bearer own-token');
        assert.equal(s?.client, 'alice-1');
        assert.equal(s?.headers['impersonate-user'], 'bob');
        assert.deepEqual(s?.headers['impersonate-group'], 'developers, approvers', 'one header line per group');
        await assert.rejects(
          t.request('GET', '/x', { as: { kind: 'impersonate', identity: { username: 'system:admin', groups: [] } } }),
          (e: unknown) => e instanceof KubeError && e.status === 403 && e.message === 'this user may not be impersonated',
        );
        assert.equal(api.seen.length, 1, 'nothing was sent for system:admin');
      },
    );
  });

  test('a rotated client certificate is presented from the next request on, and the old connections close', async () => {
    await withApi(
      (_s, res) => json(res, 200, {}),
      {},
      {},
      async (t, api) => {
        await t.request('GET', '/one');
        writeClient(dir, serving.caPem, alice2);
        await t.request('GET', '/two');
        assert.deepEqual(api.seen.map((s) => s.client), ['alice-1', 'alice-2']);
        assert.notEqual(api.seen[0]?.connection, api.seen[1]?.connection);
        await waitFor(() => api.closed.includes(api.seen[0]?.connection ?? 0), 'the idle connection of the old certificate closed');
      },
    );
  });

  test('a rotated CA is trusted from the next request on', async () => {
    const next = makeServingCertificates();
    await withApi(
      (_s, res) => json(res, 200, {}),
      {},
      {},
      async (t, api) => {
        await t.request('GET', '/one');
        // The server moves to a certificate of a new CA: with the old CA file, it is not trusted.
        api.serve(next);
        await assert.rejects(t.request('GET', '/two'), (e: unknown) => e instanceof KubeError && e.reason === NO_ANSWER.unreachable);
        writeFileSync(join(dir, 'ca.crt'), next.caPem);
        await t.request('GET', '/three');
        assert.deepEqual(api.seen.map((s) => s.url), ['/one', '/three']);
      },
    );
  });

  test('a rotated token file is sent from the next request on; a 401 reads credentials again and asks once more', async () => {
    let valid = 'token-1';
    await withApi(
      (s, res) => (s.headers.authorization === `Bearer ${valid}` ? json(res, 200, {}) : json(res, 401, { kind: 'Status', reason: 'Unauthorized', message: 'Unauthorized' })),
      {},
      {},
      async (_t, api) => {
        // The kubeconfig of a Pod: the projected token in a file, read by the transport when it changes.
        const tokenFile = join(dir, 'token');
        writeFileSync(tokenFile, 'token-1\n');
        const kc = kubeconfigWithFiles(dir, api.url, { authProvider: { name: 'tokenFile', config: { tokenFile } } });
        const watching = new KubeTransport(kc, { fileCheckMs: 0 });
        // Files looked at only once a minute: only the 401 tells it to read them again.
        const late = new KubeTransport(kc, { fileCheckMs: 60_000 });
        try {
          await watching.request('GET', '/a');
          await late.request('GET', '/a');
          writeFileSync(tokenFile, 'token-2\n');
          valid = 'token-2';
          await watching.request('GET', '/b');
          await late.request('GET', '/b');
          assert.deepEqual(
            api.seen.map((s) => `${s.url} ${s.headers.authorization}`),
            ['/a Bearer token-1', '/a Bearer token-1', '/b Bearer token-2', '/b Bearer token-1', '/b Bearer token-2'],
          );
          // A 401 that reading again does not cure (the same token) is the caller's error, asked once.
          valid = 'token-3';
          await assert.rejects(late.request('GET', '/c'), (e: unknown) => e instanceof KubeError && e.status === 401);
          assert.equal(api.seen.filter((s) => s.url === '/c').length, 1);
        } finally {
          watching.close();
          late.close();
        }
      },
    );
  });

  test('goes through an HTTP CONNECT proxy-url, and a rotated client certificate goes through it too', async () => {
    const proxy = await startHttpConnectProxy();
    try {
      await withApi(
        (_s, res) => json(res, 200, {}),
        {},
        {},
        async (_t, api) => {
          const kc = kubeconfigWithFiles(dir, api.url);
          kc.clusters = [{ ...kc.clusters[0]!, proxyUrl: proxy.url }];
          const t = new KubeTransport(kc, { fileCheckMs: 0 });
          try {
            await t.request('GET', '/one');
            writeClient(dir, serving.caPem, alice2);
            await t.request('GET', '/two');
          } finally {
            t.close();
          }
          assert.deepEqual(api.seen.map((s) => s.client), ['alice-1', 'alice-2']);
          assert.ok(proxy.connects.length >= 2 && proxy.connects.every((c) => c === api.url.replace('https://', '')), JSON.stringify(proxy.connects));
        },
      );
    } finally {
      await proxy.close();
    }
  });

  test('talks to an http: server (insecure-skip-tls-verify, as client-node requires)', async () => {
    const server = createPlainServer((req, res) => json(res, 200, { path: req.url, auth: req.headers.authorization }));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}/prefix`, skipTLSVerify: true }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'c', cluster: 'c', user: 'u' }],
      currentContext: 'c',
    });
    const t = new KubeTransport(kc);
    try {
      assert.deepEqual(await t.request('GET', '/api/v1'), { path: '/prefix/api/v1', auth: 'Bearer t' });
      assert.deepEqual(await t.request('GET', '/api/v1', { as: { kind: 'token', token: 'u' } }), { path: '/prefix/api/v1', auth: 'Bearer u' });
    } finally {
      t.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

async function waitFor(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
