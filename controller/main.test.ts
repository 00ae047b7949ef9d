// The real process start-up: a bad flag stops it with one fatal line before it touches the cluster; --help prints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function runMain(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'controller/main.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

test('main.ts exits 1 with one fatal line naming each bad flag, before reading the kubeconfig', async () => {
  const r = await runMain(['--kubeconfig=/nonexistent/kubeconfig', '--workers=0', '--sweep-interval=never']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.equal(r.stderr, '');
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1, r.stdout);
  const line = JSON.parse(lines[0]!) as { level: number; msg: string; component: string };
  assert.equal(line.level, 60);
  assert.equal(line.component, 'netwatch-controller');
  assert.match(line.msg, /^--workers: must be an integer of at least 1; "0" is not; --sweep-interval: .*"never" is not allowed here/);
});

test('main.ts --help prints the flags on stdout and exits 0', async () => {
  const r = await runMain(['--help']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /--leader-elect/);
  assert.match(r.stdout.replace(/\s+/g, ' '), /default: \$KUBECONFIG, then ~\/\.kube\/config, then the in-cluster ServiceAccount/);
});
