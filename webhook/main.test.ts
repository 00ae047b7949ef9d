// The real process: flags, TLS, readiness, fail-closed when the API server is unreachable, clean SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../scripts/controlplane.ts';
import { makeServingCertificates } from '../scripts/certs.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function call(port: number, ca: string, method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, ca, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

test('main.ts serves HTTPS with the given certificate, is not ready and fails closed without an API server, and stops on SIGTERM', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'netwatch-webhook-main-'));
  const certs = makeServingCertificates();
  writeFileSync(join(dir, 'tls.crt'), certs.certPem);
  writeFileSync(join(dir, 'tls.key'), certs.keyPem);
  const apiPort = await freePort(); // nothing listens there
  writeFileSync(
    join(dir, 'kubeconfig'),
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server: `https://127.0.0.1:${apiPort}`, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'u', user: { token: 'x' } }],
      contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'c',
    }),
  );
  const port = await freePort();
  const metricsPort = await freePort();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'webhook/main.ts', `--port=${port}`, `--metrics-port=${metricsPort}`, '--host=127.0.0.1', `--kubeconfig=${join(dir, 'kubeconfig')}`,
      `--tls-cert-file=${join(dir, 'tls.crt')}`, `--tls-key-file=${join(dir, 'tls.key')}`, '--log-level=warn'],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        NETWATCH_WEBHOOK_MAX_DURATION: '8h',
        // Without a limit the webhook needs no AccessRequest informer; its AccessPolicy informer (and, unless
        // --unapprovable=allow, its RBAC informers) it always needs.
        NETWATCH_WEBHOOK_MAX_OPEN_REQUESTS: '0',
        NETWATCH_WEBHOOK_UNAPPROVABLE: 'allow',
        // A typo and the kubelet's Service-link variables must not stop the webhook.
        NETWATCH_WEBHOOK_MAXDURATION: '1h',
        NETWATCH_WEBHOOK_PORT: 'tcp://10.96.0.7:443',
        NETWATCH_WEBHOOK_SERVICE_HOST: '10.96.0.7',
      },
    },
  );
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const r = await call(port, certs.caPem, 'GET', '/healthz').catch(() => undefined);
      if (r?.status === 200) break;
      assert.ok(Date.now() < deadline && child.exitCode === null, `webhook did not start listening:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const review = {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: 'u-1',
        operation: 'CREATE',
        resource: { group: 'netwatch.vtk.io', version: 'v1alpha1', resource: 'accessrequests' },
        userInfo: { username: 'alice' },
        object: {
          spec: {
            type: 'Service',
            source: { namespace: 'a', service: 'x' },
            target: { namespace: 'b', service: 'y' },
            duration: '9h',
            reason: 'r',
          },
        },
      },
    };
    const mutateAnswer = JSON.parse((await call(port, certs.caPem, 'POST', '/mutate', review)).text) as { response: { uid: string; allowed: boolean; status?: { message: string } } };
    assert.equal(mutateAnswer.response.uid, 'u-1');
    assert.equal(mutateAnswer.response.allowed, false, 'no API server to ask: refuse');
    assert.match(mutateAnswer.response.status?.message ?? '', /could not decide/);
    // NETWATCH_WEBHOOK_MAX_DURATION=8h reached the policy; an invalid spec is judged without API calls.
    const validateAnswer = JSON.parse((await call(port, certs.caPem, 'POST', '/validate', review)).text) as { response: { status?: { message: string } } };
    assert.equal(validateAnswer.response.status?.message, 'spec.duration: must be at most 8h on this cluster');
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text().then((text) => ({ text }));
    // The AccessPolicies in force are unknown until their informer has listed them: not ready, and every admission
    // that needs them refused (above).
    assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/readyz`)).status, 503);
    assert.equal((await call(port, certs.caPem, 'GET', '/readyz')).status, 503);
    assert.match(metrics.text, /netwatch_webhook_admission_requests_total\{webhook="mutate",operation="CREATE",subresource="main",result="error"\} 1/);
    assert.match(metrics.text, /netwatch_webhook_process_cpu_seconds_total/);
    assert.doesNotMatch(output, /"token"|Bearer/);
    assert.match(output, /"level":40,.*ignoring environment variable NETWATCH_WEBHOOK_MAXDURATION/);
    assert.doesNotMatch(output, /NETWATCH_WEBHOOK_SERVICE_HOST/);
  } finally {
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, output);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('main.ts exits 1 with one fatal line naming the flag when --port is out of range', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'webhook/main.ts', '--port=70000', '--tls-cert-file=/nonexistent', '--tls-key-file=/nonexistent'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  assert.equal(code, 1, output);
  const lines = output.trim().split('\n');
  assert.equal(lines.length, 1, output);
  const line = JSON.parse(lines[0]!) as { level: number; msg: string };
  assert.equal(line.level, 60);
  assert.equal(line.msg, '--port: must be an integer from 1 to 65535, not "70000"');
});
