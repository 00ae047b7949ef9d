import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_DURATIONS, settingsFromEnv } from './config.ts';

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

describe('NETWATCH_WEBUI_PUBLIC_URL', () => {
  const accepted: [string, Record<string, string>, string][] = [
    ['https://nw.example', {}, 'https://nw.example/auth/callback'],
    ['https://nw.example/', {}, 'https://nw.example/auth/callback'],
    ['https://nw.example:8443', {}, 'https://nw.example:8443/auth/callback'],
    ['http://127.0.0.1:8080', { NETWATCH_WEBUI_INSECURE_COOKIES: 'true' }, 'http://127.0.0.1:8080/auth/callback'],
  ];
  for (const [url, extra, redirect] of accepted) {
    test(`${url}${extra.NETWATCH_WEBUI_INSECURE_COOKIES ? ' with insecure cookies' : ''} is accepted and gives ${redirect}`, () => {
      const s = settingsFromEnv({ ...base, ...extra, NETWATCH_WEBUI_PUBLIC_URL: url }, read);
      assert.equal(s.oidc.redirectUri, redirect);
      assert.equal(s.app.publicUrl, new URL(url).origin);
    });
  }
  const refused: [string, string, Record<string, string>, RegExp][] = [
    ['a path, which the redirect URI would drop', 'https://nw.example/netwatch', {}, /has the path \/netwatch, but the web UI is served from \/ and its redirect URI would be https:\/\/nw\.example\/auth\/callback/],
    ['a query', 'https://nw.example/?x=1', {}, /has a query/],
    ['an empty query', 'https://nw.example?', {}, /has a query/],
    ['a fragment', 'https://nw.example/#top', {}, /has a fragment/],
    ['a relative URL', 'nw.example', {}, /is not a URL/],
    ['http without insecure cookies', 'http://nw.example', {}, /is http, which only works with NETWATCH_WEBUI_INSECURE_COOKIES=true/],
    ['another scheme', 'ftp://nw.example', { NETWATCH_WEBUI_INSECURE_COOKIES: 'true' }, /is ftp/],
    ['credentials', 'https://user:pw@nw.example', {}, /without a user name or password/],
  ];
  for (const [name, url, extra, message] of refused) {
    test(`a URL with ${name} is refused`, () =>
      assert.throws(() => settingsFromEnv({ ...base, ...extra, NETWATCH_WEBUI_PUBLIC_URL: url }, read), (err: Error) => {
        assert.match(err.message, /^NETWATCH_WEBUI_PUBLIC_URL must be an absolute https URL with no path/);
        assert.match(err.message, message);
        return true;
      }));
  }
});

describe('NETWATCH_WEBUI_DURATIONS', () => {
  test('unset or empty gives the defaults', () => {
    assert.deepEqual(settingsFromEnv(base, read).app.durations, DEFAULT_DURATIONS);
    assert.deepEqual(settingsFromEnv({ ...base, NETWATCH_WEBUI_DURATIONS: ' ' }, read).app.durations, DEFAULT_DURATIONS);
  });
  test('durations the webhook reads are accepted, unlimited included', () =>
    assert.deepEqual(settingsFromEnv({ ...base, NETWATCH_WEBUI_DURATIONS: '90s, 1h30m,168h,unlimited' }, read).app.durations, ['90s', '1h30m', '168h', 'unlimited']));
  for (const [entry, message] of [
    ['1d', /"1d" is not a duration such as 30m, 2h or 1h30m/],
    ['2 hours', /"2 hours" is not a duration/],
    ['1.5h', /"1\.5h" is not a duration/],
    ['0s', /"0s" is not longer than 0s/],
  ] as const) {
    test(`an entry ${JSON.stringify(entry)} is refused, naming it`, () =>
      assert.throws(() => settingsFromEnv({ ...base, NETWATCH_WEBUI_DURATIONS: `30m,${entry},2h` }, read), (err: Error) => {
        assert.match(err.message, /^NETWATCH_WEBUI_DURATIONS must be a comma-separated list of durations: /);
        assert.match(err.message, message);
        return true;
      }));
  }
  test('a list of nothing but commas is refused', () =>
    assert.throws(() => settingsFromEnv({ ...base, NETWATCH_WEBUI_DURATIONS: ',,' }, read), /NETWATCH_WEBUI_DURATIONS .*lists no duration/));
});
