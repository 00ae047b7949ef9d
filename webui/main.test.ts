// The real process: --help, one fatal line naming the setting for a bad one, and with a v0.1 environment (the
// deprecated names, one warning each) it still serves HTTPS with the certificate it was given and stops on SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../scripts/controlplane.ts';
import { makeServingCertificates } from '../scripts/certs.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function start(args: string[], env: Record<string, string> = {}) {
  // Not the test runner's environment: a KUBECONFIG or PORT of the machine must not reach it.
  const child = spawn(process.execPath, ['--import', 'tsx', 'webui/main.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), ...env } });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (c: Buffer) => (out.stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out.stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, out, exited };
}

test('main.ts --help prints the flags and their variables on stdout and exits 0', async () => {
  const p = start(['--help']);
  assert.equal(await p.exited, 0, p.out.stderr);
  assert.match(p.out.stdout, /--oidc-issuer-url/);
  assert.match(p.out.stdout, /NETWATCH_WEBUI_/);
});

test('main.ts exits 1 with one fatal line naming each bad setting, before it reads a file or listens', async () => {
  const p = start(['--port=0', '--public-url=https://x.example', '--oidc-issuer-url=https://idp.example', '--oidc-client-id=c'], { NETWATCH_WEBUI_SESSION_KEY_FILE: '/no/such/key' });
  assert.equal(await p.exited, 1, p.out.stdout + p.out.stderr);
  const lines = p.out.stdout.trim().split('\n');
  assert.equal(lines.length, 1, p.out.stdout);
  const line = JSON.parse(lines[0]!) as { level: number; msg: string; component: string };
  assert.equal(line.level, 60);
  assert.equal(line.component, 'netwatch-webui');
  assert.equal(line.msg, 'NETWATCH_WEBUI_SESSION_KEY_FILE: cannot read /no/such/key: ENOENT: no such file or directory, open \'/no/such/key\'; --port: must be an integer from 1 to 65535, not "0"');
});

test('main.ts with the v0.1 variables warns once for each, serves HTTPS with its certificate and stops on SIGTERM', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'netwatch-webui-main-'));
  const certs = makeServingCertificates();
  writeFileSync(join(dir, 'tls.crt'), certs.certPem);
  writeFileSync(join(dir, 'tls.key'), certs.keyPem);
  writeFileSync(join(dir, 'session-key'), Buffer.alloc(32, 1).toString('base64'));
  // An API server nobody answers at: the web UI serves (and says it is not ready) without one.
  writeFileSync(
    join(dir, 'kubeconfig'),
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server: `https://127.0.0.1:${await freePort()}`, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'u', user: { token: 'x' } }],
      contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'c',
    }),
  );
  const port = await freePort();
  const old = { OIDC_ISSUER_URL: 'https://idp.example', OIDC_CLIENT_ID: 'netwatch', TLS_CERT_FILE: join(dir, 'tls.crt'), TLS_KEY_FILE: join(dir, 'tls.key'), HOST: '127.0.0.1', PORT: String(port) };
  const p = start([], {
    ...old,
    NETWATCH_WEBUI_PUBLIC_URL: `https://127.0.0.1:${port}`,
    NETWATCH_WEBUI_SESSION_KEY_FILE: join(dir, 'session-key'),
    NETWATCH_WEBUI_KUBECONFIG: join(dir, 'kubeconfig'),
  });
  try {
    const served = await (async () => {
      for (const deadline = Date.now() + 30_000; ; ) {
        const r = await new Promise<{ status: number; serial: string } | undefined>((resolve) => {
          const req = request({ host: '127.0.0.1', port, path: '/healthz', ca: certs.caPem }, (res) => {
            const serial = new X509Certificate(res.socket && 'getPeerCertificate' in res.socket ? (res.socket as import('node:tls').TLSSocket).getPeerCertificate().raw : Buffer.alloc(0)).serialNumber;
            res.resume();
            resolve({ status: res.statusCode ?? 0, serial });
          });
          req.on('error', () => resolve(undefined));
          req.end();
        });
        if (r) return r;
        assert.ok(Date.now() < deadline && p.child.exitCode === null, `the web UI did not serve:\n${p.out.stdout}${p.out.stderr}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    assert.equal(served.status, 200);
    assert.equal(served.serial, new X509Certificate(certs.certPem).serialNumber);
    const warnings = p.out.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { level: number; msg: string })
      .filter((l) => l.level === 40 && l.msg.includes('is deprecated'));
    assert.deepEqual(warnings.map((w) => /^environment variable (\S+) is deprecated: set (\S+)/.exec(w.msg)?.slice(1)).sort(), Object.keys(old).sort().map((k) => [k, `NETWATCH_WEBUI_${k}`]));
  } finally {
    p.child.kill('SIGTERM');
    assert.equal(await p.exited, 0, p.out.stdout + p.out.stderr);
    rmSync(dir, { recursive: true, force: true });
  }
});
