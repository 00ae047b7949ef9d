// The real process start-up: a bad flag or a bad configuration file stops it with one fatal line naming each
// problem, before it touches the cluster or sends anything; --help prints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runMain as runEntry, type MainResult } from '../test/support/run-main.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';


const runMain = (args: string[]): Promise<MainResult> => runEntry('notifier/main.ts', args);

function fatal(r: { code: number | null; stdout: string; stderr: string }): string {
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.equal(r.stderr, '');
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1, r.stdout);
  const line = JSON.parse(lines[0]!) as { level: number; msg: string; component: string };
  assert.equal(line.level, 60);
  assert.equal(line.component, 'netwatch-notifier');
  return line.msg;
}

test('main.ts exits 1 with one fatal line naming each bad flag, before reading the kubeconfig', async () => {
  const msg = fatal(await runMain(['--kubeconfig=/nonexistent/kubeconfig', '--max-attempts=0', '--expiry-warning=soon']));
  assert.match(msg, /^--expiry-warning: .*"soon" is not one; --max-attempts: must be an integer of at least 1; "0" is not$/);
});

test('main.ts exits 1 with one fatal line naming each problem of the configuration file, secrets unreadable included', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'netwatch-notifier-main-'));
  try {
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, JSON.stringify({ apiVersion: 'v1', kind: 'Config', clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:1' } }], users: [{ name: 'u', user: { token: 't' } }], contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }], 'current-context': 'x' }));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ sinks: [{ name: 'mail', type: 'email', host: 'smtp.example.com', from: 'n@example.com', tls: 'ssl' }] }));
    assert.match(fatal(await runMain([`--kubeconfig=${kubeconfig}`, `--config=${bad}`])), /bad\.json: sinks\[0\]\.tls: must be one of starttls, implicit, none/);
    const missing = join(dir, 'missing.json');
    writeFileSync(missing, JSON.stringify({ sinks: [{ name: 'chat', type: 'slack', urlFile: join(dir, 'no-such-url') }] }));
    assert.match(fatal(await runMain([`--kubeconfig=${kubeconfig}`, `--config=${missing}`])), /sinks\[0\]\.urlFile \(chat\): cannot read .*no-such-url \(ENOENT\)/);
    assert.match(fatal(await runMain([`--kubeconfig=${kubeconfig}`, `--config=${join(dir, 'nope.json')}`])), /^--config: cannot read .*nope\.json \(ENOENT\)$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('main.ts --help prints the flags on stdout and exits 0', async () => {
  const r = await runMain(['--help']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /--pending-reminder/);
  assert.match(r.stdout, /--web-url/);
});
