import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fastListOptions } from './fast-path.ts';
import { runListJson } from './list-json.ts';
import { captured } from '../../test/support/streams.ts';

describe('which command lines take the list -o json fast path', () => {
  const cases: [string[], ReturnType<typeof fastListOptions>][] = [
    [['list', '-o', 'json'], {}],
    [['list', '--output=json'], {}],
    [['get', '-o', 'json'], {}],
    [['ls', '-o', 'json'], {}],
    [['-o', 'json', 'list'], {}],
    [['list', '-o=json', '-A'], {}],
    [['list', '--all-namespaces', '--output', 'json'], {}],
    [['list', '-o', 'json', '--kubeconfig', '/k', '--context=dev'], { kubeconfig: '/k', context: 'dev' }],
    [['--context', 'list', 'list', '-o', 'json'], { context: 'list' }],
    // Everything else is the full CLI's.
    [['list'], undefined],
    [['list', '-o', 'yaml'], undefined],
    [['list', '-ojson'], undefined],
    [['list', '-o', 'json', '-n', 'shop'], undefined],
    [['list', '-o', 'json', '--mine'], undefined],
    [['list', '-o', 'json', '--watch'], undefined],
    [['list', '-o', 'json', '--help'], undefined],
    [['list', '-o', 'json', '-o', 'json'], undefined],
    [['list', '-o', 'json', '-A', '-A'], undefined],
    [['list', '-o', 'json', '--context'], undefined],
    [['list', '-o', 'json', '--context='], undefined],
    [['list', '-o', 'json', '--kubeconfig', '--context', 'x'], undefined],
    [['list', 'list', '-o', 'json'], undefined],
    [['list', 'get', '-o', 'json'], undefined],
    [['describe', '-o', 'json'], undefined],
    [['-o', 'json'], undefined],
    [['list', '-o', 'json', '--'], undefined],
  ];
  for (const [argv, expected] of cases) {
    test(`${argv.join(' ') || '(nothing)'} → ${expected ? JSON.stringify(expected) : 'full CLI'}`, () => {
      assert.deepEqual(fastListOptions(argv), expected);
    });
  }
});

describe('the fast path reports failures as the CLI does', () => {
  async function runWith(kubeconfig: object, opts: { context?: string } = {}) {
    const dir = mkdtempSync(join(tmpdir(), 'netwatch-fast-'));
    try {
      const file = join(dir, 'config');
      writeFileSync(file, JSON.stringify(kubeconfig));
      const io = captured();
      const code = await runListJson({ kubeconfig: file, ...opts }, io);
      return { code, out: io.out(), err: io.err() };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const kubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:1' } }],
    users: [{ name: 'u', user: { token: 'secret-token-never-printed' } }],
    contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
    'current-context': 'x',
  };

  test('an unreachable API server is a user error with a hint, exit 1, nothing on stdout, no token', async () => {
    const r = await runWith(kubeconfig);
    assert.equal(r.code, 1);
    assert.equal(r.out, '');
    assert.match(r.err, /^error: cannot reach the API server https:\/\/127\.0\.0\.1:1: .*\nhint: check the cluster entry .+\n$/);
    assert.doesNotMatch(r.err, /secret-token/);
  });
  test('an unknown --context names it', async () => {
    const r = await runWith(kubeconfig, { context: 'nope' });
    assert.equal(r.code, 1);
    assert.match(r.err, /^error: context "nope" does not exist in the kubeconfig\nhint: /);
  });

  test('a legacy oidc auth-provider or a SOCKS proxy hands the command to the full CLI, before any request', async () => {
    const withUser = (user: object) => ({ ...kubeconfig, users: [{ name: 'u', user }] });
    const withProxy = (proxyUrl: string) => ({ ...kubeconfig, clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:1', 'proxy-url': proxyUrl } }] });
    for (const config of [withUser({ 'auth-provider': { name: 'oidc', config: { 'idp-issuer-url': 'https://127.0.0.1:1' } } }), withProxy('socks5://127.0.0.1:1')]) {
      const r = await runWith(config);
      assert.equal(r.code, 'cli');
      assert.equal(r.out + r.err, '', 'nothing printed: the CLI does the command');
    }
    // An HTTP proxy is in the list path's bundle: it goes on (and fails to connect, as without a proxy).
    const viaHttpProxy = await runWith(withProxy('http://127.0.0.1:1'));
    assert.equal(viaHttpProxy.code, 1);
    assert.match(viaHttpProxy.err, /^error: cannot reach the API server/);
  });
});
