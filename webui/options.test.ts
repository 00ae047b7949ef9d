import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_DURATIONS, UsageError, parseWebUiArgs, type Env, type Settings } from './options.ts';

const key = Buffer.alloc(32, 7).toString('base64');
const base: Env = {
  NETWATCH_WEBUI_PUBLIC_URL: 'https://nw.example',
  NETWATCH_WEBUI_SESSION_KEY: key,
  NETWATCH_WEBUI_OIDC_ISSUER_URL: 'https://idp.example',
  NETWATCH_WEBUI_OIDC_CLIENT_ID: 'netwatch',
};
const files: Record<string, string> = { '/s/secret': 'sekret\n', '/s/token': 't'.repeat(40), '/s/key': `${key}\n`, '/s/ca.crt': 'PEM' };
const read = (p: string) => {
  const v = files[p];
  if (v === undefined) throw new Error(`ENOENT: no such file ${p}`);
  return v;
};

function run(env: Env, args: string[] = []): { settings: Settings; warnings: string[] } {
  const parsed = parseWebUiArgs(args, env, read);
  assert.equal(parsed.kind, 'run');
  return parsed;
}
const settings = (env: Env, args: string[] = []) => run(env, args).settings;

function refused(env: Env, message: RegExp, args: string[] = []): void {
  assert.throws(
    () => parseWebUiArgs(args, env, read),
    (err: unknown) => {
      assert.ok(err instanceof UsageError, String(err));
      assert.match(err.message, message);
      return true;
    },
  );
}

test('the minimal environment gives ID-token mode, secure cookies, no API token and the callback URL', () => {
  const { settings: s, warnings } = run(base);
  assert.deepEqual(warnings, []);
  assert.equal(s.app.actAs, 'token');
  assert.equal(s.app.secureCookies, true);
  assert.equal(s.app.apiToken, undefined);
  assert.equal(s.oidc.redirectUri, 'https://nw.example/auth/callback');
  assert.equal(s.app.claims.usernameClaim, 'email');
  assert.deepEqual(s.oidc.scopes, ['openid', 'email', 'profile', 'groups']);
  assert.deepEqual(s.server, { host: '0.0.0.0', port: 8443, tls: undefined, logLevel: 'info', kubeconfig: undefined });
});

test('the same from flags alone, which win over their variables', () => {
  const args = ['--public-url=https://ui.example', '--session-key-file=/s/key', '--oidc-issuer-url=https://idp.example', '--oidc-client-id=nw', '--port=9443', '--host=127.0.0.1'];
  const s = settings({}, args);
  assert.equal(s.app.publicUrl, 'https://ui.example');
  assert.equal(s.app.sessionKey.toString('base64'), key);
  assert.deepEqual([s.oidc.clientId, s.server.port, s.server.host], ['nw', 9443, '127.0.0.1']);
  assert.equal(settings({ ...base, NETWATCH_WEBUI_PORT: '7443' }, ['--port=9443']).server.port, 9443);
  assert.equal(settings({ ...base, NETWATCH_WEBUI_PORT: '7443' }).server.port, 7443);
});

test('secrets are read from files and the API token gets its identity', () => {
  const s = settings({
    ...base,
    NETWATCH_WEBUI_ACT_AS: 'impersonate',
    NETWATCH_WEBUI_OIDC_CLIENT_SECRET_FILE: '/s/secret',
    NETWATCH_WEBUI_API_TOKEN_FILE: '/s/token',
    NETWATCH_WEBUI_API_TOKEN_GROUPS: 'ci, bots',
  });
  assert.equal(s.oidc.clientSecret, 'sekret');
  assert.deepEqual(s.app.apiToken, { token: 't'.repeat(40), identity: { username: 'netwatch:automation', groups: ['ci', 'bots'] } });
});

test('a secret file wins over the variable holding the secret itself', () =>
  assert.equal(settings({ ...base, NETWATCH_WEBUI_OIDC_CLIENT_SECRET: 'inline', NETWATCH_WEBUI_OIDC_CLIENT_SECRET_FILE: '/s/secret' }).oidc.clientSecret, 'sekret'));

test('the serving certificate and key are files for main.ts to read (and read again)', () =>
  assert.deepEqual(settings({ ...base, NETWATCH_WEBUI_TLS_CERT_FILE: '/tls/tls.crt', NETWATCH_WEBUI_TLS_KEY_FILE: '/tls/tls.key' }).server.tls, {
    certFile: '/tls/tls.crt',
    keyFile: '/tls/tls.key',
  }));

const bad: { name: string; env: Env; args?: string[]; message: RegExp }[] = [
  { name: 'a short session key is refused', env: { NETWATCH_WEBUI_SESSION_KEY: 'c2hvcnQ=' }, message: /^NETWATCH_WEBUI_SESSION_KEY: must be 32 random bytes in base64 .*; it decodes to 5 bytes$/ },
  { name: 'a missing session key is refused', env: { NETWATCH_WEBUI_SESSION_KEY: undefined }, message: /^--session-key-file \(or NETWATCH_WEBUI_SESSION_KEY_FILE, or NETWATCH_WEBUI_SESSION_KEY\) is required/ },
  { name: 'an unreadable session key file is refused, naming the variable', env: { NETWATCH_WEBUI_SESSION_KEY_FILE: '/s/nope' }, message: /^NETWATCH_WEBUI_SESSION_KEY_FILE: cannot read \/s\/nope: ENOENT/ },
  { name: 'an unknown mode is refused', env: { NETWATCH_WEBUI_ACT_AS: 'root' }, message: /Invalid values:[\s\S]*act-as[\s\S]*"token", "impersonate"/ },
  { name: 'a missing client id is refused', env: { NETWATCH_WEBUI_OIDC_CLIENT_ID: undefined }, message: /Missing required argument: oidc-client-id/ },
  { name: 'an empty client id flag is refused', env: {}, args: ['--oidc-client-id='], message: /^--oidc-client-id: must not be empty$/ },
  { name: 'an http issuer is refused', env: { NETWATCH_WEBUI_OIDC_ISSUER_URL: 'http://idp.example' }, message: /^NETWATCH_WEBUI_OIDC_ISSUER_URL: must be the IdP's issuer, an absolute https URL/ },
  { name: 'scopes without openid are refused', env: { NETWATCH_WEBUI_OIDC_SCOPES: 'email groups' }, message: /^NETWATCH_WEBUI_OIDC_SCOPES: must include openid/ },
  { name: 'a TLS cert without key is refused', env: { NETWATCH_WEBUI_TLS_CERT_FILE: '/s/secret' }, message: /^NETWATCH_WEBUI_TLS_CERT_FILE: --tls-cert-file and --tls-key-file go together; --tls-key-file is not set$/ },
  { name: 'a port out of range is refused', env: { NETWATCH_WEBUI_PORT: '70000' }, message: /^NETWATCH_WEBUI_PORT: must be an integer from 1 to 65535, not "70000"$/ },
  { name: 'a session TTL of 0 is refused', env: {}, args: ['--session-ttl-seconds=0'], message: /^--session-ttl-seconds: must be a positive whole number of seconds, not "0"$/ },
  { name: 'a fractional rate limit is refused', env: { NETWATCH_WEBUI_RATE_LIMIT_PER_MINUTE: '1.5' }, message: /^NETWATCH_WEBUI_RATE_LIMIT_PER_MINUTE: must be a positive whole number, not "1\.5"$/ },
  { name: 'a boolean that is not true or false is refused instead of read as false', env: { NETWATCH_WEBUI_TRUST_PROXY: 'yes' }, message: /^NETWATCH_WEBUI_TRUST_PROXY: must be true or false, not "yes"$/ },
  { name: 'a short API token is refused', env: { NETWATCH_WEBUI_ACT_AS: 'impersonate', NETWATCH_WEBUI_API_TOKEN: 'short' }, message: /^NETWATCH_WEBUI_API_TOKEN: must be at least 32 characters; it has 5$/ },
  { name: 'an API token in token mode is refused', env: { NETWATCH_WEBUI_API_TOKEN_FILE: '/s/token' }, message: /^NETWATCH_WEBUI_API_TOKEN_FILE: needs --act-as=impersonate/ },
  { name: 'an unknown log level is refused', env: { NETWATCH_WEBUI_LOG_LEVEL: 'loud' }, message: /Invalid values:[\s\S]*log-level/ },
  { name: 'an unknown flag is refused', env: {}, args: ['--public-uri=https://x.example'], message: /^Unknown arguments?: public-uri/ },
];
for (const c of bad) {
  test(c.name, () => refused({ ...base, ...c.env }, c.message, c.args));
}

test('every problem is reported at once', () =>
  refused({ ...base, NETWATCH_WEBUI_PORT: '0', NETWATCH_WEBUI_DURATIONS: '1d' }, /^NETWATCH_WEBUI_DURATIONS: .*; NETWATCH_WEBUI_PORT: /));

test('an unknown NETWATCH_WEBUI_* variable is a warning naming the likely one', () => {
  const { warnings } = run({ ...base, NETWATCH_WEBUI_PUBLICURL: 'x' });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /^ignoring environment variable NETWATCH_WEBUI_PUBLICURL: not a web UI setting \(did you mean NETWATCH_WEBUI_PUBLIC_URL\?\)/);
});

test('--help describes the flags, the variables, the secrets and the deprecated names', () => {
  const parsed = parseWebUiArgs(['--help'], {}, read);
  assert.equal(parsed.kind, 'print');
  const text = parsed.text.replace(/\s+/g, ' ');
  for (const flag of ['--public-url', '--oidc-issuer-url', '--session-key-file', '--tls-cert-file', '--log-level']) assert.ok(text.includes(flag), flag);
  assert.match(text, /NETWATCH_WEBUI_/);
  assert.match(text, /NETWATCH_WEBUI_SESSION_KEY\b/);
  assert.match(text, /OIDC_ISSUER_URL \(now NETWATCH_WEBUI_OIDC_ISSUER_URL\)/);
});

describe('the variables of v0.1, deprecated', () => {
  const v01: Env = {
    NETWATCH_WEBUI_PUBLIC_URL: 'https://nw.example',
    NETWATCH_WEBUI_SESSION_KEY_FILE: '/s/key',
    OIDC_ISSUER_URL: 'https://idp.example',
    OIDC_CLIENT_ID: 'netwatch',
    OIDC_CLIENT_SECRET_FILE: '/s/secret',
    OIDC_CA_FILE: '/s/ca.crt',
    OIDC_SCOPES: 'openid,email',
    OIDC_USERNAME_CLAIM: 'sub',
    OIDC_USERNAME_PREFIX: 'oidc:',
    OIDC_GROUPS_CLAIM: 'roles',
    OIDC_GROUPS_PREFIX: 'oidc:',
    TLS_CERT_FILE: '/tls/tls.crt',
    TLS_KEY_FILE: '/tls/tls.key',
    HOST: '127.0.0.1',
    PORT: '9443',
    LOG_LEVEL: 'debug',
  };
  test('a v0.1 environment still configures everything', () => {
    const s = settings(v01);
    assert.deepEqual(s.oidc, { issuerUrl: 'https://idp.example', clientId: 'netwatch', clientSecret: 'sekret', redirectUri: 'https://nw.example/auth/callback', scopes: ['openid', 'email'], caPem: 'PEM' });
    assert.deepEqual(s.app.claims, { issuerUrl: 'https://idp.example', usernameClaim: 'sub', usernamePrefix: 'oidc:', groupsClaim: 'roles', groupsPrefix: 'oidc:' });
    assert.deepEqual(s.server, { host: '127.0.0.1', port: 9443, tls: { certFile: '/tls/tls.crt', keyFile: '/tls/tls.key' }, logLevel: 'debug', kubeconfig: undefined });
  });
  test('each old variable logs one warning that names the variable to use instead', () => {
    const { warnings } = run(v01);
    const old = Object.keys(v01).filter((k) => !k.startsWith('NETWATCH_WEBUI_'));
    assert.equal(warnings.length, old.length, warnings.join('\n'));
    for (const name of old) {
      // Every old name is the new one without the prefix.
      const replacement = `NETWATCH_WEBUI_${name}`;
      const flag = `--${replacement.slice('NETWATCH_WEBUI_'.length).toLowerCase().replaceAll('_', '-')}`;
      assert.ok(
        warnings.includes(`environment variable ${name} is deprecated: set ${replacement} (or ${flag}) instead; ${name} will stop working in a later release`),
        `${name}:\n${warnings.join('\n')}`,
      );
    }
  });
  test('the secret itself in OIDC_CLIENT_SECRET still works, pointing at NETWATCH_WEBUI_OIDC_CLIENT_SECRET', () => {
    const { settings: s, warnings } = run({ ...base, OIDC_CLIENT_SECRET: 'inline' });
    assert.equal(s.oidc.clientSecret, 'inline');
    assert.deepEqual(warnings, ['environment variable OIDC_CLIENT_SECRET is deprecated: set NETWATCH_WEBUI_OIDC_CLIENT_SECRET instead; OIDC_CLIENT_SECRET will stop working in a later release']);
  });
  // The manifests now set the new names; a site overlay written for v0.1 still patches the old ones, and its value
  // is the one that must count.
  test('an old variable overrides the new one while both are set, and the warning says so', () => {
    const { settings: s, warnings } = run({ ...base, NETWATCH_WEBUI_OIDC_ISSUER_URL: 'https://idp.example.com', OIDC_ISSUER_URL: 'https://login.example.org/realms/main' });
    assert.equal(s.oidc.issuerUrl, 'https://login.example.org/realms/main');
    assert.deepEqual(warnings, [
      'environment variable OIDC_ISSUER_URL is deprecated: set NETWATCH_WEBUI_OIDC_ISSUER_URL (or --oidc-issuer-url) instead; OIDC_ISSUER_URL will stop working in a later release, and until then it overrides NETWATCH_WEBUI_OIDC_ISSUER_URL',
    ]);
  });
  test('a flag wins over an old variable too', () => assert.equal(settings({ ...base, PORT: '9443' }, ['--port=7443']).server.port, 7443));
  test('a bad value in an old variable is refused under the old name', () => refused({ ...base, PORT: 'https' }, /^PORT: must be an integer from 1 to 65535, not "https"$/));
});

describe('--public-url', () => {
  const accepted: [string, Env, string][] = [
    ['https://nw.example', {}, 'https://nw.example/auth/callback'],
    ['https://nw.example/', {}, 'https://nw.example/auth/callback'],
    ['https://nw.example:8443', {}, 'https://nw.example:8443/auth/callback'],
    ['http://127.0.0.1:8080', { NETWATCH_WEBUI_INSECURE_COOKIES: 'true' }, 'http://127.0.0.1:8080/auth/callback'],
  ];
  for (const [url, extra, redirect] of accepted) {
    test(`${url}${extra.NETWATCH_WEBUI_INSECURE_COOKIES ? ' with insecure cookies' : ''} is accepted and gives ${redirect}`, () => {
      const s = settings({ ...base, ...extra, NETWATCH_WEBUI_PUBLIC_URL: url });
      assert.equal(s.oidc.redirectUri, redirect);
      assert.equal(s.app.publicUrl, new URL(url).origin);
    });
  }
  const refusedUrls: [string, string, Env, RegExp][] = [
    ['a path, which the redirect URI would drop', 'https://nw.example/netwatch', {}, /has the path \/netwatch, but the web UI is served from \/ and its redirect URI would be https:\/\/nw\.example\/auth\/callback/],
    ['a query', 'https://nw.example/?x=1', {}, /has a query/],
    ['an empty query', 'https://nw.example?', {}, /has a query/],
    ['a fragment', 'https://nw.example/#top', {}, /has a fragment/],
    ['a relative URL', 'nw.example', {}, /is not a URL/],
    ['http without insecure cookies', 'http://nw.example', {}, /is http, which only works with --insecure-cookies/],
    ['another scheme', 'ftp://nw.example', { NETWATCH_WEBUI_INSECURE_COOKIES: 'true' }, /is ftp/],
    ['credentials', 'https://user:pw@nw.example', {}, /has a user name or password/],
  ];
  for (const [name, url, extra, message] of refusedUrls) {
    test(`a URL with ${name} is refused`, () =>
      assert.throws(() => parseWebUiArgs([], { ...base, ...extra, NETWATCH_WEBUI_PUBLIC_URL: url }, read), (err: Error) => {
        assert.match(err.message, /^NETWATCH_WEBUI_PUBLIC_URL: must be an absolute https URL with no path/);
        assert.match(err.message, message);
        return true;
      }));
  }
  test('the flag is named when the flag gave it', () => refused(base, /^--public-url: must be .*"nw\.example" is not a URL/, ['--public-url=nw.example']));
  test('with insecure cookies the message says http is allowed and why', () =>
    refused({ ...base, NETWATCH_WEBUI_PUBLIC_URL: 'ftp://x', NETWATCH_WEBUI_INSECURE_COOKIES: 'true' }, /\(http is allowed too, as NETWATCH_WEBUI_INSECURE_COOKIES is true\)/));
});

describe('--durations', () => {
  test('unset or empty gives the defaults', () => {
    assert.deepEqual(settings(base).app.durations, DEFAULT_DURATIONS);
    assert.deepEqual(settings({ ...base, NETWATCH_WEBUI_DURATIONS: ' ' }).app.durations, DEFAULT_DURATIONS);
  });
  test('durations the webhook reads are accepted, unlimited included', () =>
    assert.deepEqual(settings({ ...base, NETWATCH_WEBUI_DURATIONS: '90s, 1h30m,168h,unlimited' }).app.durations, ['90s', '1h30m', '168h', 'unlimited']));
  for (const [entry, message] of [
    ['1d', /"1d" is not a duration such as 30m, 2h or 1h30m/],
    ['2 hours', /"2 hours" is not a duration/],
    ['1.5h', /"1\.5h" is not a duration/],
    ['0s', /"0s" is not longer than 0s/],
  ] as const) {
    test(`an entry ${JSON.stringify(entry)} is refused, naming it`, () =>
      assert.throws(() => parseWebUiArgs([], { ...base, NETWATCH_WEBUI_DURATIONS: `30m,${entry},2h` }, read), (err: Error) => {
        assert.match(err.message, /^NETWATCH_WEBUI_DURATIONS: must be a comma-separated list of durations: /);
        assert.match(err.message, message);
        return true;
      }));
  }
  test('a list of nothing but commas is refused', () => refused({ ...base, NETWATCH_WEBUI_DURATIONS: ',,' }, /NETWATCH_WEBUI_DURATIONS: .*lists no duration/));
  test('the flag takes the same list', () => assert.deepEqual(settings(base, ['--durations=30m,1h']).app.durations, ['30m', '1h']));
});

describe('--cluster-cidr', () => {
  test('unset: none; repeatable flag, or the variable separated by spaces or commas; duplicates go', () => {
    assert.deepEqual(settings(base).app.clusterCidrs, []);
    assert.deepEqual(settings(base, ['--cluster-cidr=10.244.0.0/16', '--cluster-cidr=10.96.0.0/12']).app.clusterCidrs, ['10.244.0.0/16', '10.96.0.0/12']);
    assert.deepEqual(settings({ ...base, NETWATCH_WEBUI_CLUSTER_CIDR: '10.244.0.0/16, fd00:10:96::/112 10.244.0.0/16' }).app.clusterCidrs, ['10.244.0.0/16', 'fd00:10:96::/112']);
  });
  test('an entry that is not a CIDR stops the web UI, naming the flag or the variable', () => {
    refused({ ...base, NETWATCH_WEBUI_CLUSTER_CIDR: '10.244.0.0/16,10.96.0.1' }, /NETWATCH_WEBUI_CLUSTER_CIDR: "10\.96\.0\.1" is not a CIDR with a prefix/);
    refused(base, /--cluster-cidr: "pods" is not a CIDR with a prefix/, ['--cluster-cidr=pods']);
  });
});
