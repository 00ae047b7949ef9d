import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { makeServingCertificates } from '../scripts/certs.ts';
import { KubeError } from '../lib/kube/errors.ts';
import { describeError } from './app.ts';
import { kubeHttpFor, reviewerOver, serviceReaderOver } from './kube.ts';

// A stand-in HTTPS endpoint to observe the client's wire behaviour (the real API server is used in test/e2e).
async function fakeApi(handler: (method: string, url: string, auth: string | undefined, body: string) => [number, unknown]) {
  const certs = makeServingCertificates();
  let connections = 0;
  const server = createServer({ key: certs.keyPem, cert: certs.certPem }, (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const [status, json] = handler(req.method ?? '', req.url ?? '', req.headers.authorization, body);
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
    });
  });
  server.on('secureConnection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, caData: Buffer.from(certs.caPem).toString('base64') }],
    users: [{ name: 'u', token: 'the-token' }],
    contexts: [{ name: 'c', cluster: 'c', user: 'u' }],
    currentContext: 'c',
  });
  return { kc, connections: () => connections, close: () => new Promise<void>((r) => server.close(() => r())) };
}

test('reviews and Service reads reuse a few kept-alive TLS connections and send the bearer token', async () => {
  const seen: string[] = [];
  const api = await fakeApi((method, url, auth, body) => {
    assert.equal(auth, 'Bearer the-token');
    seen.push(`${method} ${url}`);
    if (url.startsWith('/apis/authorization.k8s.io/v1/subjectaccessreviews')) {
      const review = JSON.parse(body) as { spec: { user: string; resourceAttributes: { namespace: string } } };
      return [201, { status: { allowed: review.spec.resourceAttributes.namespace === 'yes' } }];
    }
    if (url === '/api/v1/namespaces/a/services/db') return [200, { spec: { selector: { app: 'db' }, ports: [{ port: 5432 }] } }];
    return [404, { kind: 'Status', message: 'not found' }];
  });
  const http = kubeHttpFor(api.kc, { maxSockets: 4 });
  try {
    const reviewer = reviewerOver(http);
    const checks = Array.from({ length: 50 }, (_, i) => ({ verb: 'approve', group: 'g', resource: 'r', namespace: i % 2 ? 'yes' : 'no' }));
    const answers = await reviewer.check({ username: 'alice' }, checks);
    assert.deepEqual(answers, checks.map((c) => c.namespace === 'yes'));
    const services = serviceReaderOver(http);
    assert.deepEqual(await services.get('a', 'db'), { type: 'ClusterIP', hasSelector: true, ports: [{ port: 5432, protocol: 'TCP' }] });
    assert.equal(await services.get('a', 'missing'), null);
    assert.ok(api.connections() <= 4, `${api.connections()} TLS connections for ${seen.length} requests`);
  } finally {
    http.close();
    await api.close();
  }
});

test('an API error is a KubeError carrying the status code, described to users with it', async () => {
  const api = await fakeApi(() => [403, { kind: 'Status', reason: 'Forbidden', message: 'forbidden' }]);
  const http = kubeHttpFor(api.kc);
  try {
    await assert.rejects(http.request('GET', '/api/v1/namespaces/a/services/db'), (err) => err instanceof KubeError && err.status === 403 && err.reason === 'Forbidden');
    await assert.rejects(serviceReaderOver(http).get('a', 'db'), (err) => describeError(err) === 'the Kubernetes API answered 403: forbidden');
  } finally {
    http.close();
    await api.close();
  }
});

test('identical reviews and Service reads pending at the same time are sent once, and never answered from the past', async () => {
  let reviews = 0;
  let reads = 0;
  let allowed = true;
  const api = await fakeApi((_method, url, _auth, body) => {
    if (url.startsWith('/apis/authorization.k8s.io/v1/subjectaccessreviews')) {
      reviews++;
      const review = JSON.parse(body) as { spec: { user: string } };
      return [201, { status: { allowed: allowed && review.spec.user === 'alice' } }];
    }
    reads++;
    return [200, { spec: { selector: { app: 'db' }, ports: [{ port: 5432 }] } }];
  });
  const http = kubeHttpFor(api.kc, { maxSockets: 4 });
  try {
    // Answers kept 300 ms here (2 s in the webhook's default), to see both reuse and expiry.
    const reviewer = reviewerOver(http, 300);
    const check = { verb: 'approve', group: 'g', resource: 'r', namespace: 'n' };
    // 100 admissions of alice at once ask the same question: one review. bob (another subject) gets his own.
    const answers = await Promise.all([
      ...Array.from({ length: 100 }, () => reviewer.check({ username: 'alice', groups: ['developers'] }, [check])),
      reviewer.check({ username: 'bob', groups: ['developers'] }, [check]),
      reviewer.check({ username: 'alice', groups: ['other'] }, [check]),
    ]);
    assert.deepEqual(answers.slice(0, 100), Array.from({ length: 100 }, () => [true]));
    assert.deepEqual(answers.slice(100), [[false], [true]]);
    assert.equal(reviews, 3);
    // Within the time an answer is kept, a Role removed meanwhile does not count yet; after it, it does.
    allowed = false;
    assert.deepEqual(await reviewer.check({ username: 'alice', groups: ['developers'] }, [check]), [true]);
    assert.equal(reviews, 3);
    await new Promise((r) => setTimeout(r, 400));
    assert.deepEqual(await reviewer.check({ username: 'alice', groups: ['developers'] }, [check]), [false]);
    assert.equal(reviews, 4);
    // With no time to keep answers, the next question is asked again at once.
    const uncached = reviewerOver(http, 0);
    await uncached.check({ username: 'alice', groups: ['developers'] }, [check]);
    await uncached.check({ username: 'alice', groups: ['developers'] }, [check]);
    assert.equal(reviews, 6);

    const services = serviceReaderOver(http, 300);
    const facts = await Promise.all(Array.from({ length: 50 }, () => services.get('a', 'db')));
    assert.ok(facts.every((f) => f?.hasSelector === true));
    assert.equal(reads, 1);
    await services.get('a', 'db');
    assert.equal(reads, 1, 'reused');
    await new Promise((r) => setTimeout(r, 400));
    await services.get('a', 'db');
    assert.equal(reads, 2);
  } finally {
    http.close();
    await api.close();
  }
});
