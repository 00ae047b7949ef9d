import { test } from 'node:test';
import assert from 'node:assert/strict';
import { settingsFromEnv } from './config.ts';

const key = Buffer.alloc(32, 7).toString('base64');
const base = {
  NETWATCH_WEBUI_PUBLIC_URL: 'https://nw.example',
  NETWATCH_WEBUI_SESSION_KEY: key,
  OIDC_ISSUER_URL: 'https://idp.example',
  OIDC_CLIENT_ID: 'netwatch',
};
const files: Record<string, string> = { '/s/secret': 'sekret\n', '/s/token': 't'.repeat(40) };
const read = (p: string) => {
  const v = files[p];
  if (v === undefined) throw new Error(`no file ${p}`);
  return v;
};

test('the minimal environment gives ID-token mode, secure cookies, no API token and the callback URL', () => {
  const s = settingsFromEnv(base, read);
  assert.equal(s.app.actAs, 'token');
  assert.equal(s.app.secureCookies, true);
  assert.equal(s.app.apiToken, undefined);
  assert.equal(s.oidc.redirectUri, 'https://nw.example/auth/callback');
  assert.equal(s.app.claims.usernameClaim, 'email');
});

test('secrets are read from files and the API token gets its identity', () => {
  const s = settingsFromEnv(
    { ...base, NETWATCH_WEBUI_ACT_AS: 'impersonate', OIDC_CLIENT_SECRET_FILE: '/s/secret', NETWATCH_WEBUI_API_TOKEN_FILE: '/s/token', NETWATCH_WEBUI_API_TOKEN_GROUPS: 'ci, bots' },
    read,
  );
  assert.equal(s.oidc.clientSecret, 'sekret');
  assert.deepEqual(s.app.apiToken, { token: 't'.repeat(40), identity: { username: 'netwatch:automation', groups: ['ci', 'bots'] } });
});

const bad: { name: string; env: Record<string, string>; message: RegExp }[] = [
  { name: 'a short session key is refused', env: { NETWATCH_WEBUI_SESSION_KEY: 'c2hvcnQ=' }, message: /32 bytes/ },
  { name: 'an unknown mode is refused', env: { NETWATCH_WEBUI_ACT_AS: 'root' }, message: /token or impersonate/ },
  { name: 'a missing client id is refused', env: { OIDC_CLIENT_ID: '' }, message: /OIDC_CLIENT_ID/ },
  { name: 'a TLS cert without key is refused', env: { TLS_CERT_FILE: '/s/secret' }, message: /go together/ },
];
for (const c of bad) {
  test(c.name, () => assert.throws(() => settingsFromEnv({ ...base, ...c.env }, read), c.message));
}
