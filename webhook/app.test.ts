import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { AccessRequest } from '../lib/api/accessrequest.ts';
import { accessRequest, serviceSpec } from '../test/support/builders.ts';
import type { ServiceFacts } from '../lib/domain/spec.ts';
import { webhookConfig } from './config.ts';
import type { AccessReviewer } from '../lib/kube/access-review.ts';
import { build, buildProbes, type ApproverLookup, type WebhookDeps } from './app.ts';
import type { Part } from '../lib/domain/parts.ts';
import type { PartApprovers } from '../lib/domain/approvers.ts';
import { webhookMetrics } from './metrics.ts';
import { request as httpsRequest } from 'node:https';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { makeServingCertificates } from '../scripts/certs.ts';

const service: ServiceFacts = { type: 'ClusterIP', hasSelector: true, ports: [{ port: 5432, protocol: 'TCP' }] };

/** Grants `approve` in the namespaces listed, nothing else. */
function reviewerAllowing(namespaces: string[]): AccessReviewer & { calls: number } {
  const r = {
    calls: 0,
    async check(_subject: unknown, checks: readonly { verb: string; namespace: string }[]) {
      r.calls += checks.length;
      return checks.map((c) => c.verb === 'approve' && namespaces.includes(c.namespace));
    },
  };
  return r;
}

/** bob approves in every namespace but those listed, where only system:masters can; counts the lookups. */
function approversEverywhereBut(lonely: string[]): ApproverLookup & { asked: string[] } {
  const lookup = {
    asked: [] as string[],
    approversOf(part: Part): PartApprovers {
      lookup.asked.push(part.namespace);
      return {
        approvers: lonely.includes(part.namespace) ? [] : [{ kind: 'User', name: 'bob', via: 'approve' }],
        clusterAdmins: [{ kind: 'Group', name: 'system:masters' }],
      };
    },
  };
  return lookup;
}

function deps(overrides: Partial<WebhookDeps> = {}): WebhookDeps {
  return {
    config: webhookConfig(),
    reviewer: reviewerAllowing(['src']),
    services: { get: async () => service },
    requests: { openRequestsOf: () => 0 },
    approvers: approversEverywhereBut([]),
    now: () => new Date('2026-11-23T10:00:00Z'),
    ...overrides,
  };
}

const SECRET_REASON = 'reason-that-must-not-be-logged';

function unstamped(): AccessRequest {
  return accessRequest({
    metadata: { creationTimestamp: undefined },
    spec: serviceSpec({ source: { namespace: 'src', service: 'client' }, target: { namespace: 'dst', service: 'db' }, duration: '1h', reason: SECRET_REASON }),
    requester: null,
  });
}

function review(request: Record<string, unknown>) {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'uid-123',
      resource: { group: 'netwatch.vtk.io', version: 'v1alpha1', resource: 'accessrequests' },
      operation: 'CREATE',
      userInfo: { username: 'alice', groups: ['developers'] },
      object: unstamped(),
      ...request,
    },
  };
}

interface ReviewResponse {
  apiVersion: string;
  kind: string;
  response: { uid: string; allowed: boolean; status?: { code: number; message: string }; patchType?: string; patch?: string; warnings?: string[] };
}

describe('the webhook HTTP shell', () => {
  test('the mutating endpoint answers with the uid echoed and a base64 JSONPatch stamping the requester', async () => {
    const app = await build(deps());
    const res = await app.inject({ method: 'POST', url: '/mutate', payload: review({}) });
    assert.equal(res.statusCode, 200);
    const body = res.json<ReviewResponse>();
    assert.equal(body.apiVersion, 'admission.k8s.io/v1');
    assert.equal(body.kind, 'AdmissionReview');
    assert.equal(body.response.uid, 'uid-123');
    assert.equal(body.response.allowed, true);
    assert.equal(body.response.patchType, 'JSONPatch');
    const patch = JSON.parse(Buffer.from(body.response.patch ?? '', 'base64').toString()) as unknown[];
    assert.deepEqual(patch, [
      { op: 'add', path: '/spec/requester', value: { username: 'alice', groups: ['developers'], approvedParts: ['source'] } },
    ]);
  });

  test('the validating endpoint refuses with a 422 status naming the field', async () => {
    const app = await build(deps({ services: { get: async (ns) => (ns === 'dst' ? null : service) } }));
    const object = unstamped();
    object.spec.requester = { username: 'alice', groups: ['developers'], approvedParts: ['source'] };
    const res = await app.inject({ method: 'POST', url: '/validate', payload: review({ object }) });
    const body = res.json<ReviewResponse>();
    assert.equal(body.response.allowed, false);
    assert.equal(body.response.status?.code, 422);
    assert.equal(body.response.status?.message, 'spec.target.service: Service dst/db does not exist');
  });

  test('a part nobody but cluster admins may approve is refused at create, naming the namespace and the way out', async () => {
    const approvers = approversEverywhereBut(['dst']);
    const app = await build(deps({ approvers }));
    const object = unstamped();
    object.spec.requester = { username: 'alice', groups: ['developers'], approvedParts: ['source'] };
    const res = await app.inject({ method: 'POST', url: '/validate', payload: review({ object }) });
    const body = res.json<ReviewResponse>();
    assert.equal(body.response.allowed, false);
    assert.equal(body.response.status?.code, 403);
    assert.match(body.response.status?.message ?? '', /^spec\.target\.namespace: nobody but cluster admins may approve the target part in namespace "dst"/);
    assert.match(body.response.status?.message ?? '', /kubectl -n dst create rolebinding netwatch-approver --clusterrole=netwatch-approver/);
    assert.match(body.response.status?.message ?? '', /--unapprovable=refuse/);
    // Only the part left to approvers is looked up: the requester approved the source part herself.
    assert.deepEqual(approvers.asked, ['dst']);
  });

  test('with --unapprovable=warn the same create is allowed with an admission warning', async () => {
    const app = await build(deps({ approvers: approversEverywhereBut(['dst']), config: webhookConfig({ unapprovable: 'warn' }) }));
    const object = unstamped();
    object.spec.requester = { username: 'alice', groups: ['developers'], approvedParts: ['source'] };
    const body = (await app.inject({ method: 'POST', url: '/validate', payload: review({ object }) })).json<ReviewResponse>();
    assert.equal(body.response.allowed, true);
    assert.equal(body.response.warnings?.length, 1);
    assert.match(body.response.warnings?.[0] ?? '', /the target part \(namespace dst\) has no approver but cluster admins/);
  });

  test('with --unapprovable=allow nothing is looked up; with an approver nothing is said', async () => {
    const approvers = approversEverywhereBut(['dst']);
    const object = unstamped();
    object.spec.requester = { username: 'alice', groups: ['developers'], approvedParts: ['source'] };
    const allowApp = await build(deps({ approvers, config: webhookConfig({ unapprovable: 'allow' }) }));
    const allowed = (await allowApp.inject({ method: 'POST', url: '/validate', payload: review({ object }) })).json<ReviewResponse>();
    assert.deepEqual([allowed.response.allowed, allowed.response.warnings, approvers.asked], [true, undefined, []]);
    const fine = await build(deps());
    const ok = (await fine.inject({ method: 'POST', url: '/validate', payload: review({ object }) })).json<ReviewResponse>();
    assert.deepEqual([ok.response.allowed, ok.response.warnings], [true, undefined]);
  });

  test('an approver lookup that cannot tell (RBAC caches not synced) fails closed', async () => {
    const app = await build(
      deps({
        approvers: {
          approversOf: () => {
            throw new Error('the RBAC caches have not synced yet');
          },
        },
      }),
    );
    const object = unstamped();
    object.spec.requester = { username: 'alice', groups: ['developers'], approvedParts: ['source'] };
    const body = (await app.inject({ method: 'POST', url: '/validate', payload: review({ object }) })).json<ReviewResponse>();
    assert.equal(body.response.allowed, false);
    assert.match(body.response.status?.message ?? '', /could not decide \(the RBAC caches have not synced yet\)/);
  });

  test('fails closed: a reviewer that throws becomes allowed: false, with the uid echoed', async () => {
    const app = await build(
      deps({
        reviewer: {
          check: async () => {
            throw Object.assign(new Error('HTTP-Code: 500 Headers: {"authorization":"Bearer t0ken"}'), { code: 500 });
          },
        },
      }),
    );
    const res = await app.inject({ method: 'POST', url: '/mutate', payload: review({}) });
    assert.equal(res.statusCode, 200);
    const body = res.json<ReviewResponse>();
    assert.equal(body.response.uid, 'uid-123');
    assert.equal(body.response.allowed, false);
    assert.match(body.response.status?.message ?? '', /could not decide \(the Kubernetes API answered 500\); the request is refused/);
    assert.doesNotMatch(body.response.status?.message ?? '', /t0ken/);
  });

  test('refuses a resource it is not meant for (a misconfigured rule) instead of allowing it', async () => {
    const app = await build(deps());
    const res = await app.inject({ method: 'POST', url: '/validate', payload: review({ resource: { group: '', version: 'v1', resource: 'pods' } }) });
    const body = res.json<ReviewResponse>();
    assert.equal(body.response.allowed, false);
    assert.match(body.response.status?.message ?? '', /only handles accessrequests\.netwatch\.vtk\.io, not pods/);
  });

  test('rejects a body that is not an AdmissionReview with 400 (the API server then fails closed)', async () => {
    const app = await build(deps());
    for (const payload of [{}, { request: { operation: 'CREATE' } }, { request: { uid: 'x', operation: 'PATCH' } }]) {
      const res = await app.inject({ method: 'POST', url: '/validate', payload });
      assert.equal(res.statusCode, 400, JSON.stringify(payload));
    }
  });

  test('a requester deleting her own request costs no SubjectAccessReview', async () => {
    const reviewer = reviewerAllowing([]);
    const app = await build(deps({ reviewer }));
    const oldObject = unstamped();
    oldObject.spec.requester = { username: 'alice', approvedParts: [] };
    const res = await app.inject({ method: 'POST', url: '/validate', payload: review({ operation: 'DELETE', object: null, oldObject }) });
    assert.equal(res.json<ReviewResponse>().response.allowed, true);
    assert.equal(reviewer.calls, 0);
  });

  test('serves /healthz, /readyz (503 until ready) and, on the probes listener only, /metrics by operation and result', async () => {
    let ready = false;
    const registry = webhookMetrics();
    const app = await build(deps({ isReady: () => ready, metrics: registry }));
    const probes = await buildProbes({ isReady: () => ready, metrics: registry });
    for (const server of [app, probes]) {
      assert.equal((await server.inject('/healthz')).statusCode, 200);
      assert.equal((await server.inject('/readyz')).statusCode, 503);
    }
    ready = true;
    assert.equal((await probes.inject('/readyz')).statusCode, 200);
    await app.inject({ method: 'POST', url: '/mutate', payload: review({}) });
    await app.inject({ method: 'POST', url: '/validate', payload: review({}) });
    assert.equal((await app.inject('/metrics')).statusCode, 404, 'the admission port serves no metrics');
    const metrics = (await probes.inject('/metrics')).body;
    assert.match(metrics, /netwatch_webhook_admission_requests_total\{webhook="mutate",operation="CREATE",subresource="main",result="allowed"\} 1/);
    assert.match(metrics, /netwatch_webhook_admission_requests_total\{webhook="validate",operation="CREATE",subresource="main",result="denied"\} 1/);
    assert.match(metrics, /netwatch_webhook_admission_duration_seconds_count\{webhook="mutate",operation="CREATE",result="allowed"\} 1/);
  });

  test('two apps in one process keep separate metrics (no global registry)', async () => {
    const [ma, mb] = [webhookMetrics(), webhookMetrics()];
    const a = await build(deps({ metrics: ma }));
    await build(deps({ metrics: mb }));
    await a.inject({ method: 'POST', url: '/mutate', payload: review({}) });
    assert.match((await (await buildProbes({ metrics: ma })).inject('/metrics')).body, /result="allowed"\} 1/);
    assert.doesNotMatch((await (await buildProbes({ metrics: mb })).inject('/metrics')).body, /result="allowed"\} 1/);
  });

  test('logs one line per admission without the object, the request body or credentials', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const app = await build(deps({ logger: pino({ level: 'debug' }, sink) }));
    await app.inject({ method: 'POST', url: '/mutate', payload: review({}), headers: { authorization: 'Bearer sekrit-token' } });
    const all = lines.join('');
    assert.match(all, /"msg":"admission"/);
    assert.match(all, /"uid":"uid-123"/);
    assert.match(all, /"user":"alice"/);
    assert.doesNotMatch(all, new RegExp(SECRET_REASON));
    assert.doesNotMatch(all, /sekrit-token/);
  });

  test('the markers endpoint refuses a user\'s Service carrying netwatch\'s request-id label, naming the label', async () => {
    const app = await build(deps());
    const object = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'sneaky', namespace: 'payments', labels: { 'netwatch.vtk.io/request-id': 'some-uid', 'netwatch.vtk.io/role': 'target' } }, spec: { selector: { app: 'api' } } };
    const res = await app.inject({
      method: 'POST',
      url: '/validate-markers',
      payload: review({ resource: { group: '', version: 'v1', resource: 'services' }, namespace: 'payments', object }),
    });
    const body = res.json<ReviewResponse>();
    assert.equal(body.response.uid, 'uid-123');
    assert.equal(body.response.allowed, false);
    assert.match(body.response.status?.message ?? '', /^metadata\.labels\[netwatch\.vtk\.io\/request-id\], metadata\.labels\[netwatch\.vtk\.io\/role\]: user "alice" may not create Service payments\/sneaky/);
    const controller = review({
      resource: { group: '', version: 'v1', resource: 'services' },
      userInfo: { username: 'system:serviceaccount:netwatch-system:netwatch-controller', groups: ['system:serviceaccounts', 'system:serviceaccounts:netwatch-system'] },
      object,
    });
    assert.equal((await app.inject({ method: 'POST', url: '/validate-markers', payload: controller })).json<ReviewResponse>().response.allowed, true);
  });

  test('the markers endpoint refuses AccessRequests and the AccessRequest endpoints refuse Services', async () => {
    const app = await build(deps());
    const misrouted = (await app.inject({ method: 'POST', url: '/validate-markers', payload: review({}) })).json<ReviewResponse>();
    assert.equal(misrouted.response.allowed, false);
    assert.match(misrouted.response.status?.message ?? '', /markers webhook only handles services, accesses\.maxtac\.vtk\.io, externalaccesses\.maxtac\.vtk\.io, not accessrequests/);
  });

  test('a create beyond the per-requester limit is refused with the count and the setting', async () => {
    const app = await build(deps({ requests: { openRequestsOf: (user) => (user === 'alice' ? 20 : 0) } }));
    const object = unstamped();
    object.spec.requester = { username: 'alice', groups: ['developers'], approvedParts: ['source'] };
    const body = (await app.inject({ method: 'POST', url: '/validate', payload: review({ object }) })).json<ReviewResponse>();
    assert.equal(body.response.allowed, false);
    assert.equal(
      body.response.status?.message,
      'spec.requester: user "alice" already has 20 open AccessRequests (Pending, PartiallyApproved or Active) and the limit is 20 (webhook setting --max-open-requests); abort or revoke one you no longer need',
    );
  });

  test('a limit that cannot be counted (cache not synced) fails closed', async () => {
    const app = await build(deps({ requests: { openRequestsOf: () => { throw new Error('the AccessRequest cache has not synced yet'); } } }));
    const object = unstamped();
    object.spec.requester = { username: 'alice', groups: ['developers'], approvedParts: ['source'] };
    const body = (await app.inject({ method: 'POST', url: '/validate', payload: review({ object }) })).json<ReviewResponse>();
    assert.equal(body.response.allowed, false);
    assert.match(body.response.status?.message ?? '', /could not decide \(the AccessRequest cache has not synced yet\)/);
  });

  test('with a client CA, an admission request without the API server\'s certificate gets 401 and costs no review', async () => {
    const server = makeServingCertificates();
    const client = makeServingCertificates({ usage: 'client', commonName: 'kube-apiserver-webhook-client' });
    const stranger = makeServingCertificates({ usage: 'client', commonName: 'mallory' });
    const reviewer = reviewerAllowing(['src']);
    const app = await build(deps({ reviewer, tls: { key: server.keyPem, cert: server.certPem, clientCa: client.caPem } }));
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as AddressInfo).port;
    const post = (path: string, cert?: { certPem: string; keyPem: string }) =>
      new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = httpsRequest(
          { host: '127.0.0.1', port, path, method: path.startsWith('/') && path !== '/healthz' ? 'POST' : 'GET', ca: server.caPem, ...(cert ? { cert: cert.certPem, key: cert.keyPem } : {}), headers: { 'content-type': 'application/json' } },
          (res) => {
            let text = '';
            res.on('data', (c: Buffer) => (text += c.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          },
        );
        req.on('error', reject);
        req.end(path === '/healthz' ? undefined : JSON.stringify(review({})));
      });
    try {
      for (const path of ['/mutate', '/validate', '/validate-markers']) {
        assert.equal((await post(path)).status, 401, `${path} without a certificate`);
        assert.equal((await post(path, stranger)).status, 401, `${path} with a certificate from another CA`);
      }
      assert.equal(reviewer.calls, 0);
      const answered = await post('/mutate', client);
      assert.equal(answered.status, 200);
      assert.equal((JSON.parse(answered.text) as ReviewResponse).response.allowed, true);
      assert.ok(reviewer.calls > 0);
      assert.equal((await post('/healthz')).status, 200, 'probes need no certificate');
      // The API server speaks HTTP/2: the same holds there (the request's socket is then the session's).
      const h2 = async (cert?: { certPem: string; keyPem: string }) => {
        const session = http2.connect(`https://127.0.0.1:${port}`, { ca: server.caPem, ...(cert ? { cert: cert.certPem, key: cert.keyPem } : {}) });
        try {
          return await new Promise<number>((resolve, reject) => {
            const stream = session.request({ ':method': 'POST', ':path': '/validate', 'content-type': 'application/json' });
            let status = 0;
            stream.on('response', (headers) => (status = Number(headers[':status'])));
            stream.on('data', () => undefined);
            stream.on('end', () => resolve(status));
            stream.on('error', reject);
            stream.end(JSON.stringify(review({})));
          });
        } finally {
          session.destroy();
        }
      };
      assert.equal(await h2(), 401);
      assert.equal(await h2(client), 200);
    } finally {
      await app.close();
    }
  });
});
