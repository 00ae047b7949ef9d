// certs/dev-certs.sh, run as a developer would: the next steps it prints lead to the self-signed overlay first
// and keep the manual commands (which fight the overlay over the Secret and caBundle) apart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('dev-certs.sh', import.meta.url));
const REPO = fileURLToPath(new URL('..', import.meta.url));
const OVERLAY_STEP = 'certs/dev-certs.sh -o manifests/overlays/self-signed/certs && kubectl apply -k manifests/overlays/self-signed';

function sections(output: string): { overlay: string; manual: string } {
  const one = output.indexOf('1. Self-signed overlay');
  const two = output.indexOf('2. Manual, only for a bare `kubectl apply -k manifests/default` install');
  assert.ok(one > 0 && two > one, `the overlay comes first, then the manual commands:\n${output}`);
  return { overlay: output.slice(one, two), manual: output.slice(two) };
}

test('run elsewhere, it offers the overlay first and the manual commands only for manifests/default', () => {
  const work = mkdtempSync(join(tmpdir(), 'netwatch-dev-certs-'));
  try {
    const out = join(work, 'certs');
    const output = execFileSync('bash', [SCRIPT, '-o', out], { cwd: REPO, encoding: 'utf8' });
    for (const f of ['ca.crt', 'ca.key', 'tls.crt', 'tls.key']) assert.ok(existsSync(join(out, f)), f);
    const { overlay, manual } = sections(output);
    assert.ok(overlay.includes(`     ${OVERLAY_STEP}\n`), overlay);
    assert.match(overlay, new RegExp(`This run wrote to ${out.replaceAll('/', '\\/')}, which the overlay does not read`));
    assert.doesNotMatch(overlay, /create secret|caBundle","value"/);
    assert.match(manual, /kubectl -n netwatch-system create secret tls netwatch-webhook-tls/);
    assert.match(manual, /"path":"\/webhooks\/0\/clientConfig\/caBundle","value":"[A-Za-z0-9+/=]+"/);
    assert.match(output, /ONE of these two ways, not both/);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test("run into the overlay's folder, it says only the apply is left", () => {
  // A copy of the repository layout, so the real overlay's (git-ignored) files are left alone.
  const work = mkdtempSync(join(tmpdir(), 'netwatch-dev-certs-'));
  try {
    mkdirSync(join(work, 'certs'));
    mkdirSync(join(work, 'manifests', 'overlays', 'self-signed', 'certs'), { recursive: true });
    copyFileSync(SCRIPT, join(work, 'certs', 'dev-certs.sh'));
    const output = execFileSync('bash', ['certs/dev-certs.sh', '-o', 'manifests/overlays/self-signed/certs'], { cwd: work, encoding: 'utf8' });
    assert.ok(existsSync(join(work, 'manifests', 'overlays', 'self-signed', 'certs', 'tls.crt')));
    const { overlay } = sections(output);
    assert.ok(overlay.includes(OVERLAY_STEP), overlay);
    assert.match(overlay, /This run already wrote the overlay's files: only `kubectl apply -k manifests\/overlays\/self-signed` is left/);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('with another namespace it warns that the overlay does not fit that certificate', () => {
  const work = mkdtempSync(join(tmpdir(), 'netwatch-dev-certs-'));
  try {
    const output = execFileSync('bash', [SCRIPT, '-o', work, '-n', 'team-a'], { cwd: REPO, encoding: 'utf8' });
    const { overlay, manual } = sections(output);
    assert.match(overlay, /this certificate is for\s+netwatch-webhook\.team-a\.svc/);
    assert.match(manual, /kubectl -n team-a create secret tls/);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
