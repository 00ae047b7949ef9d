import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../errors.ts';
import { KubePort } from './kube.ts';

const kubeconfig = {
  apiVersion: 'v1',
  kind: 'Config',
  clusters: [
    { name: 'one', cluster: { server: 'https://127.0.0.1:6443' } },
    { name: 'two', cluster: { server: 'https://127.0.0.1:7443/' } },
  ],
  users: [{ name: 'u', user: { token: 't' } }],
  contexts: [
    { name: 'first', context: { cluster: 'one', user: 'u' } },
    { name: 'second', context: { cluster: 'two', user: 'u', namespace: 'team-b' } },
  ],
  'current-context': 'first',
};

describe('the user’s kubeconfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'netwatch-kc-'));
  const path = join(dir, 'config');
  writeFileSync(path, JSON.stringify(kubeconfig));
  test.after(() => rmSync(dir, { recursive: true, force: true }));

  test('--kubeconfig is read and its current context used, with namespace default', () => {
    const port = KubePort.fromOptions({ kubeconfig: path });
    assert.deepEqual(port.info, { context: 'first', server: 'https://127.0.0.1:6443', namespace: 'default' });
  });
  test('--context switches cluster and takes the context namespace', () => {
    const port = KubePort.fromOptions({ kubeconfig: path, context: 'second' });
    assert.deepEqual(port.info, { context: 'second', server: 'https://127.0.0.1:7443', namespace: 'team-b' });
  });
  test('-n overrides the context namespace', () => {
    assert.equal(KubePort.fromOptions({ kubeconfig: path, context: 'second', namespace: 'x' }).info.namespace, 'x');
  });
  test('an unknown context is a user error with a hint', () => {
    assert.throws(() => KubePort.fromOptions({ kubeconfig: path, context: 'nope' }), (e: unknown) => e instanceof UserError && /context "nope"/.test(e.message) && !!e.hint);
  });
  test('a missing kubeconfig file is a user error', () => {
    assert.throws(() => KubePort.fromOptions({ kubeconfig: join(dir, 'missing') }), UserError);
  });
});
