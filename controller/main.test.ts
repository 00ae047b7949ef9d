// The real process start-up: a bad flag stops it with one fatal line before it touches the cluster; --help prints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runMain as runEntry, type MainResult } from '../test/support/run-main.ts';


const runMain = (args: string[]): Promise<MainResult> => runEntry('controller/main.ts', args);

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
