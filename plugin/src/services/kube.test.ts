import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeError } from '../../../lib/kube/errors.ts';
import { UserError, explain } from '../errors.ts';
import { KubePort, jwtExpiry } from './kube.ts';

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

describe('the legacy oidc auth-provider', () => {
  const dir = mkdtempSync(join(tmpdir(), 'netwatch-kc-oidc-'));
  test.after(() => rmSync(dir, { recursive: true, force: true }));
  const jwt = (claims: object) => `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.signature`;
  /** A port on a kubeconfig whose user signs in with `config`; nothing listens at its server. */
  const portWith = (name: string, config: Record<string, string>) => {
    const path = join(dir, name);
    const kc = {
      ...kubeconfig,
      users: [{ name: 'u', user: { 'auth-provider': { name: 'oidc', config: { 'client-id': 'kubectl', 'idp-issuer-url': 'https://127.0.0.1:2', 'refresh-token': 'r', ...config } } } }],
      clusters: [{ name: 'one', cluster: { server: 'https://127.0.0.1:1' } }],
    };
    writeFileSync(path, JSON.stringify(kc));
    return KubePort.fromOptions({ kubeconfig: path });
  };

  test('an expired ID token is a user error that says kubectl refreshes it, and nothing is sent', async () => {
    const port = portWith('expired', { 'id-token': jwt({ exp: 1_000_000_000 }) });
    await assert.rejects(
      port.listRequests(),
      (e: unknown) => e instanceof UserError && /expired at 2001-09-09T01:46:40\.000Z/.test(e.message) && /kubectl get --raw \/version/.test(e.hint ?? ''),
    );
  });

  test('a missing ID token is the same user error', async () => {
    await assert.rejects(portWith('missing', {}).listRequests(), (e: unknown) => e instanceof UserError && /no ID token/.test(e.message));
  });

  test('a valid ID token is used: the request goes out (and finds nobody listening)', async () => {
    const port = portWith('valid', { 'id-token': jwt({ exp: Math.floor(Date.now() / 1000) + 3600 }) });
    await assert.rejects(port.listRequests(), (e: unknown) => e instanceof KubeError && e.status === 0 && explain(e) instanceof UserError && /cannot reach the API server/.test(e.message));
  });

  test('the expiry of a token that is not a JWT is unknown', () => {
    assert.equal(jwtExpiry('opaque'), undefined);
    assert.equal(jwtExpiry('a.not-json.c'), undefined);
    assert.equal(jwtExpiry(jwt({ exp: 'soon' })), undefined);
    assert.equal(jwtExpiry(jwt({ exp: 42 })), 42);
  });
});
