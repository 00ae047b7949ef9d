import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { API_VERSION, KIND, type AccessRequest } from '../lib/api/accessrequest.ts';
import { serviceSpec } from '../lib/domain/testing.ts';
import type { ServiceFacts } from '../lib/domain/spec.ts';
import { webhookConfig } from './config.ts';
import type { AccessReviewer } from '../lib/kube/access-review.ts';
import { build, type WebhookDeps } from './app.ts';

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

function deps(overrides: Partial<WebhookDeps> = {}): WebhookDeps {
  return {
    config: webhookConfig(),
    reviewer: reviewerAllowing(['src']),
    services: { get: async () => service },
    now: () => new Date('2026-11-23T10:00:00Z'),
    ...overrides,
  };
}

const SECRET_REASON = 'reason-that-must-not-be-logged';

function accessRequest(): AccessRequest {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name: 'ar-1' },
    spec: serviceSpec({ source: { namespace: 'src', service: 'client' }, target: { namespace: 'dst', service: 'db' }, duration: '1h', reason: SECRET_REASON }),
  };
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
      object: accessRequest(),
      ...request,
    },
  };
}

interface ReviewResponse {
  apiVersion: string;
  kind: string;
  response: { uid: string; allowed: boolean; status?: { code: number; message: string }; patchType?: string; patch?: string };
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
    const object = accessRequest();
    object.spec.requester = { username: 'alice', groups: ['developers'], approvedParts: ['source'] };
    const res = await app.inject({ method: 'POST', url: '/validate', payload: review({ object }) });
    const body = res.json<ReviewResponse>();
    assert.equal(body.response.allowed, false);
    assert.equal(body.response.status?.code, 422);
    assert.equal(body.response.status?.message, 'spec.target.service: Service dst/db does not exist');
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
    const oldObject = accessRequest();
    oldObject.spec.requester = { username: 'alice', approvedParts: [] };
    const res = await app.inject({ method: 'POST', url: '/validate', payload: review({ operation: 'DELETE', object: null, oldObject }) });
    assert.equal(res.json<ReviewResponse>().response.allowed, true);
    assert.equal(reviewer.calls, 0);
  });

  test('serves /healthz, /readyz (503 until ready) and /metrics by operation and result', async () => {
    let ready = false;
    const app = await build(deps({ isReady: () => ready }));
    assert.equal((await app.inject('/healthz')).statusCode, 200);
    assert.equal((await app.inject('/readyz')).statusCode, 503);
    ready = true;
    assert.equal((await app.inject('/readyz')).statusCode, 200);
    await app.inject({ method: 'POST', url: '/mutate', payload: review({}) });
    await app.inject({ method: 'POST', url: '/validate', payload: review({}) });
    const metrics = (await app.inject('/metrics')).body;
    assert.match(metrics, /netwatch_webhook_admission_requests_total\{webhook="mutate",operation="CREATE",subresource="main",result="allowed"\} 1/);
    assert.match(metrics, /netwatch_webhook_admission_requests_total\{webhook="validate",operation="CREATE",subresource="main",result="denied"\} 1/);
    assert.match(metrics, /netwatch_webhook_admission_duration_seconds_count\{webhook="mutate",operation="CREATE",result="allowed"\} 1/);
  });

  test('two apps in one process keep separate metrics (no global registry)', async () => {
    const a = await build(deps());
    const b = await build(deps());
    await a.inject({ method: 'POST', url: '/mutate', payload: review({}) });
    assert.doesNotMatch((await b.inject('/metrics')).body, /result="allowed"\} 1/);
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
});
