import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { AccessRequest, AccessRequestSpec } from '../lib/api/accessrequest.ts';
import type { ResourceCheck } from '../lib/domain/parts.ts';
import { build } from './app.ts';
import type { WebUiConfig } from './config.ts';
import { tokenMatches } from './plugins/auth.ts';
import { KubeError, type Actor, type KubeGateway, type UserKube } from './kube.ts';
import type { NetworkPolicy, Pod, Service } from '../lib/kube/types.ts';
import type { LoginTransaction, OidcPort } from './oidc.ts';
import { accessRequest } from '../test/support/builders.ts';
import { MemoryRevocationList } from '../test/support/fake-revocations.ts';

const ORIGIN = 'https://netwatch.test';
const XSS = '<script>alert("pwned")</script><img src=x onerror=alert(1)>';

function config(over: Partial<WebUiConfig> = {}): WebUiConfig {
  return {
    publicUrl: ORIGIN,
    sessionKey: randomBytes(32),
    sessionTtlSeconds: 3600,
    secureCookies: true,
    actAs: 'token',
    claims: { issuerUrl: 'https://idp.test', usernameClaim: 'email', usernamePrefix: 'oidc:', groupsClaim: 'groups', groupsPrefix: 'oidc:' },
    durations: ['30m', '2h'],
    rateLimitPerMinute: 1000,
    ...over,
  };
}

class FakeOidc implements OidcPort {
  claims: Record<string, unknown> = { email: 'alice@x.test', email_verified: true, groups: ['developers'] };
  lastTx?: LoginTransaction;
  async start() {
    const tx = { state: 's-' + randomBytes(4).toString('hex'), nonce: 'n', codeVerifier: 'v' };
    this.lastTx = tx;
    return { url: new URL(`https://idp.test/auth?state=${tx.state}`), tx };
  }
  async finish(url: URL, tx: LoginTransaction) {
    if (url.searchParams.get('state') !== tx.state) throw new Error('state mismatch');
    return { claims: this.claims, idToken: 'id-token-' + String(this.claims['email']), expiresAt: Math.floor(Date.now() / 1000) + 600 };
  }
  async endSessionUrl(_hint: string | undefined, back: string) {
    return new URL(`https://idp.test/end?post_logout_redirect_uri=${encodeURIComponent(back)}`);
  }
  issuerOrigin() {
    return 'https://idp.test';
  }
}

function ar(name: string, spec: Partial<AccessRequestSpec>, status?: AccessRequest['status']): AccessRequest {
  return accessRequest({
    name,
    metadata: { resourceVersion: '7' },
    spec: { type: 'Service', source: { namespace: 'monitoring', service: 'prometheus' }, target: { namespace: 'default', service: 'database' }, duration: '2h', reason: 'because', requester: { username: 'oidc:alice@x.test' }, ...spec },
    ...(status ? { status } : {}),
  });
}

class FakeKube implements KubeGateway {
  requests = new Map<string, AccessRequest>();
  actors: Actor[] = [];
  patches: { name: string; rv: string; status: Record<string, unknown> }[] = [];
  created: AccessRequestSpec[] = [];
  allowed = (c: ResourceCheck) => c.verb === 'approve' && c.namespace === 'default';
  failList?: Error;
  /** What the preview reads: Services by `ns/name`, pods and NetworkPolicies by namespace. */
  cluster: { services: Record<string, Service>; pods: Pod[]; policies: NetworkPolicy[] } = { services: {}, pods: [], policies: [] };
  /** Namespaces whose NetworkPolicies were listed, one entry per read. */
  policyReads: string[] = [];
  forActor(actor: Actor): UserKube {
    this.actors.push(actor);
    return {
      listRequests: async () => {
        if (this.failList) throw this.failList;
        return { items: [...this.requests.values()], resourceVersion: '1' };
      },
      getRequest: async (name) => {
        const r = this.requests.get(name);
        if (!r) throw new KubeError(404, 'NotFound', 'not found');
        return r;
      },
      createRequest: async (spec) => {
        this.created.push(spec);
        const r = ar('ar-new', spec);
        this.requests.set('ar-new', r);
        return r;
      },
      patchStatus: async (name, rv, status) => {
        this.patches.push({ name, rv, status });
        // The write lands (without the webhook's stamps), so a page read after it shows it.
        const r = this.requests.get(name);
        if (r) this.requests.set(name, { ...r, status: { ...r.status, ...status } });
        return this.requests.get(name) as AccessRequest;
      },
      canI: async (checks) => checks.map((c) => this.allowed(c)),
      listServices: async () => [
        { namespace: 'default', name: 'database', ports: [{ port: 5432, protocol: 'TCP' }, { port: 9187, protocol: 'TCP' }] },
        { namespace: 'shop', name: 'database', ports: [] },
      ],
      previewReader: () => ({
        getService: async (ns, name) => this.cluster.services[`${ns}/${name}`] ?? null,
        listPods: async (ns) => {
          if (ns === 'monitoring') throw new KubeError(403, 'Forbidden', 'pods is forbidden');
          return this.cluster.pods.filter((p) => p.metadata.namespace === ns);
        },
        listNetworkPolicies: async (ns) => {
          this.policyReads.push(ns);
          return this.cluster.policies.filter((p) => p.metadata.namespace === ns);
        },
      }),
      watchRequests: () => ({ stop() {} }),
    };
  }
}

function cookiesOf(res: LightMyRequestResponse, jar: Record<string, string> = {}): Record<string, string> {
  for (const c of res.cookies as { name: string; value: string }[]) jar[c.name] = c.value;
  return jar;
}

async function setup(over: Partial<WebUiConfig> = {}, revocations = new MemoryRevocationList()) {
  const oidc = new FakeOidc();
  const kube = new FakeKube();
  const cfg = config(over);
  const app = await build(cfg, { oidc, kube, revocations: revocations.replica() });
  return { app, oidc, kube, revocations, config: cfg };
}

async function login(app: FastifyInstance): Promise<Record<string, string>> {
  const start = await app.inject({ method: 'GET', url: '/login' });
  assert.equal(start.statusCode, 303);
  const jar = cookiesOf(start);
  const state = new URL(start.headers.location as string).searchParams.get('state') ?? '';
  const cb = await app.inject({ method: 'GET', url: `/auth/callback?code=c0de&state=${state}`, cookies: jar });
  assert.equal(cb.statusCode, 200, cb.body);
  return cookiesOf(cb, jar);
}

function csrfOf(body: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(body);
  assert.ok(m, 'page has a CSRF token');
  return m[1] as string;
}

async function loggedIn(over: Partial<WebUiConfig> = {}) {
  const s = await setup(over);
  const jar = await login(s.app);
  const page = await s.app.inject({ method: 'GET', url: '/', cookies: jar });
  return { ...s, jar: cookiesOf(page, jar), csrf: csrfOf(page.body) };
}

/** A same-origin form POST by the signed-in user; `fields` as the browser would send them (add `_csrf` yourself). */
function postForm(t: Awaited<ReturnType<typeof loggedIn>>, url: string, fields: Record<string, string>) {
  return t.app.inject({
    method: 'POST',
    url,
    cookies: t.jar,
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN },
    payload: new URLSearchParams(fields).toString(),
  });
}

test('a logged-out user sees a sign-in page and no request data', async () => {
  const { app, kube } = await setup();
  kube.requests.set('ar-1', ar('ar-1', { reason: 'secret-reason' }));
  for (const url of ['/', '/requests/ar-1', '/new/service']) {
    const res = await app.inject({ method: 'GET', url, headers: { accept: 'text/html' } });
    assert.equal(res.statusCode, 401, url);
    assert.match(res.body, /Sign in/);
    assert.doesNotMatch(res.body, /secret-reason|ar-1/);
  }
  assert.equal((await app.inject({ method: 'GET', url: '/events' })).statusCode, 401);
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/requests' })).statusCode, 401);
  assert.equal(kube.actors.length, 0, 'no API call was made');
});

test('signing in stores the identity with the configured prefixes and the session cookie is Secure, HttpOnly, SameSite=Strict', async () => {
  const { app } = await setup();
  const start = await app.inject({ method: 'GET', url: '/login' });
  const loginCookie = (start.cookies as { name: string; sameSite?: string; httpOnly?: boolean; secure?: boolean }[]).find((c) => c.name === 'netwatch_login');
  assert.ok(loginCookie?.httpOnly && loginCookie.secure, 'login transaction cookie is HttpOnly and Secure');
  const state = new URL(start.headers.location as string).searchParams.get('state');
  const cb = await app.inject({ method: 'GET', url: `/auth/callback?code=c&state=${state}`, cookies: cookiesOf(start) });
  const session = (cb.cookies as { name: string; sameSite?: string; httpOnly?: boolean; secure?: boolean }[]).find((c) => c.name === 'netwatch_session');
  assert.deepEqual([session?.httpOnly, session?.secure, session?.sameSite], [true, true, 'Strict']);
  assert.match(cb.body, /http-equiv="refresh"/);
  const page = await app.inject({ method: 'GET', url: '/', cookies: cookiesOf(cb) });
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /oidc:alice@x\.test/);
});

test('a callback without the login cookie, or with another state, does not sign in', async () => {
  const { app } = await setup();
  const start = await app.inject({ method: 'GET', url: '/login' });
  const noCookie = await app.inject({ method: 'GET', url: '/auth/callback?code=c&state=x' });
  assert.equal(noCookie.statusCode, 400);
  const wrongState = await app.inject({ method: 'GET', url: '/auth/callback?code=c&state=forged', cookies: cookiesOf(start) });
  assert.equal(wrongState.statusCode, 401);
  assert.equal((wrongState.cookies as { name: string }[]).some((c) => c.name === 'netwatch_session' ), false);
});

test('an unverified email cannot sign in', async () => {
  const { app, oidc } = await setup();
  oidc.claims = { email: 'eve@x.test', email_verified: false };
  const start = await app.inject({ method: 'GET', url: '/login' });
  const state = new URL(start.headers.location as string).searchParams.get('state');
  const cb = await app.inject({ method: 'GET', url: `/auth/callback?code=c&state=${state}`, cookies: cookiesOf(start) });
  assert.equal(cb.statusCode, 403);
  assert.match(cb.body, /not verified/);
});

test('token mode passes the ID token; impersonation mode passes the identity without system: groups', async () => {
  const t = await loggedIn();
  await t.app.inject({ method: 'GET', url: '/', cookies: t.jar });
  assert.deepEqual(t.kube.actors.at(-1), { kind: 'token', token: 'id-token-alice@x.test' });

  const s = await setup({ actAs: 'impersonate' });
  s.oidc.claims = { email: 'bob@x.test', email_verified: true, groups: ['ops', 'system:masters'] };
  s.oidc.claims['groups'] = ['ops'];
  const jar = await login(s.app);
  await s.app.inject({ method: 'GET', url: '/', cookies: jar });
  assert.deepEqual(s.kube.actors.at(-1), { kind: 'impersonate', identity: { username: 'oidc:bob@x.test', groups: ['oidc:ops'] } });
});

test('a reason with markup is rendered as text on the hub and the detail page', async () => {
  const t = await loggedIn();
  t.kube.requests.set('ar-x', ar('ar-x', { reason: XSS }, { phase: 'Pending' }));
  for (const url of ['/', '/requests/ar-x']) {
    const res = await t.app.inject({ method: 'GET', url, cookies: t.jar });
    assert.equal(res.statusCode, 200);
    assert.doesNotMatch(res.body, /<script>alert|<img src=x/);
    assert.match(res.body, /&lt;script&gt;alert\(&quot;pwned&quot;\)&lt;\/script&gt;/);
  }
});

test('the request page names who can approve each pending part, cluster admins apart, escaped', async () => {
  const t = await loggedIn();
  const r = ar('ar-w', {}, {
    phase: 'Pending',
    parts: [
      { part: 'source', namespace: 'monitoring', state: 'Pending', approvers: { approvers: [], clusterAdmins: [{ kind: 'Group', name: 'system:masters' }] } },
      { part: 'target', namespace: 'default', state: 'Pending', approvers: { approvers: [{ kind: 'User', name: 'bob', via: 'approve' }, { kind: 'Group', name: XSS, via: 'approve' }], clusterAdmins: [] } },
    ],
  });
  t.kube.requests.set('ar-w', r);
  const res = await t.app.inject({ method: 'GET', url: '/requests/ar-w', cookies: t.jar });
  assert.equal(res.statusCode, 200);
  assert.match(res.body, /<span data-testid="approvers-source">Who can approve: nobody but cluster admins<\/span><br><span class="muted">Cluster admins \(not counted\): group system:masters<\/span>/);
  assert.match(res.body, /<span data-testid="approvers-target">Who can approve: user bob, group &lt;script&gt;/);
  assert.doesNotMatch(res.body, /<script>alert/);
});

test('pages carry a strict CSP and load only the static script', async () => {
  const t = await loggedIn();
  const res = await t.app.inject({ method: 'GET', url: '/', cookies: t.jar });
  const csp = String(res.headers['content-security-policy']);
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  const scripts = res.body.match(/<script[^>]*>/g) ?? [];
  assert.deepEqual(scripts, ['<script src="/static/live.js" defer>']);
});

test('the hub offers Approve only for the part the viewer may approve, as a step to its confirmation', async () => {
  const t = await loggedIn();
  t.kube.requests.set('ar-p', ar('ar-p', { requester: { username: 'someone-else' } }, { phase: 'Pending' }));
  const res = await t.app.inject({ method: 'GET', url: '/', cookies: t.jar });
  assert.match(res.body, /<form method="get" action="\/requests\/ar-p\/confirm" class="inline"><input type="hidden" name="action" value="approve"><input type="hidden" name="part" value="target"><button type="submit" class="primary" aria-label="Approve target of ar-p">/);
  assert.doesNotMatch(res.body, /method="post" action="\/requests\/ar-p\/approve"/, 'no one-click approve');
  assert.doesNotMatch(res.body, /Approve source of ar-p/);
  assert.match(res.body, /aria-label="Deny ar-p"/);
  assert.doesNotMatch(res.body, /aria-label="Abort ar-p"/);
});

const crossSite: { name: string; headers: Record<string, string>; withCsrf: boolean; want: number }[] = [
  { name: 'a POST from another origin is refused', headers: { origin: 'https://evil.test' }, withCsrf: true, want: 403 },
  { name: 'a POST without Origin from another site is refused', headers: { 'sec-fetch-site': 'cross-site' }, withCsrf: true, want: 403 },
  { name: 'a same-origin POST without the CSRF token is refused', headers: { origin: ORIGIN }, withCsrf: false, want: 403 },
  { name: 'a same-origin POST with the CSRF token is accepted', headers: { origin: ORIGIN }, withCsrf: true, want: 303 },
];

for (const c of crossSite) {
  test(c.name, async () => {
    const t = await loggedIn();
    t.kube.requests.set('ar-p', ar('ar-p', {}, { phase: 'Pending' }));
    const payload = new URLSearchParams({ part: 'target', ...(c.withCsrf ? { _csrf: t.csrf } : {}) }).toString();
    const res = await t.app.inject({
      method: 'POST',
      url: '/requests/ar-p/approve',
      cookies: t.jar,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...c.headers },
      payload,
    });
    assert.equal(res.statusCode, c.want, res.body);
    assert.equal(t.kube.patches.length, c.want === 303 ? 1 : 0);
  });
}

function previewCluster(t: Awaited<ReturnType<typeof loggedIn>>) {
  t.kube.cluster = {
    services: {
      'monitoring/prometheus': { metadata: { namespace: 'monitoring', name: 'prometheus' }, spec: { selector: { app: 'prometheus' }, ports: [{ port: 9090, protocol: 'TCP' }] } },
      'default/database': { metadata: { namespace: 'default', name: 'database' }, spec: { selector: { app: XSS }, ports: [{ port: 5432, protocol: 'TCP', targetPort: 15432 }] } },
    },
    pods: [{ metadata: { namespace: 'default', name: 'database-0', labels: { app: XSS } }, status: { phase: 'Running' } }],
    policies: [],
  };
}

test('the confirmation page shows the preview summary (escaped) and holds the CSRF-protected POST', async () => {
  const t = await loggedIn();
  previewCluster(t);
  t.kube.requests.set('ar-p', ar('ar-p', { ports: [{ port: 5432, protocol: 'TCP' }] }, { phase: 'Pending' }));
  const res = await t.app.inject({ method: 'GET', url: '/requests/ar-p/confirm?action=approve&part=target', cookies: t.jar });
  assert.equal(res.statusCode, 200, res.body);
  assert.match(res.body, /<h1>Approve the target part \(default\) of <span class="mono">ar-p<\/span>\?<\/h1>/);
  assert.match(res.body, /<li>default\/database: 1 pod, ingress 5432\/TCP \(pods&#39; 15432\); not isolated in ingress yet: skip leaves it out, allow would cut other traffic<\/li>/);
  assert.match(res.body, /<li>monitoring\/prometheus: pods not readable by you, egress/);
  assert.match(res.body, /<form method="post" action="\/requests\/ar-p\/approve"><input type="hidden" name="_csrf" value="[^"]+"><input type="hidden" name="part" value="target"><button type="submit" class="primary">Confirm approval<\/button>/);
  assert.match(res.body, /in default: pods app=&lt;script&gt;/, 'the preview is escaped');
  assert.doesNotMatch(res.body, /<script>alert/);
  assert.equal(t.kube.patches.length, 0, 'showing the confirmation writes nothing');
  const scripts = res.body.match(/<script[^>]*>/g) ?? [];
  assert.deepEqual(scripts, ['<script src="/static/live.js" defer>'], 'no inline script on the confirmation page');
});

test('the revoke and deny confirmations take the reason and post the decision', async () => {
  const t = await loggedIn();
  t.kube.requests.set('ar-p', ar('ar-p', {}, { phase: 'Pending' }));
  const deny = await t.app.inject({ method: 'GET', url: '/requests/ar-p/confirm?action=deny', cookies: t.jar });
  assert.equal(deny.statusCode, 200);
  assert.match(deny.body, /<form method="post" action="\/requests\/ar-p\/decision"><input type="hidden" name="_csrf" value="[^"]+"><input type="hidden" name="type" value="Denied">/);
  assert.match(deny.body, /<input id="reason" name="reason" maxlength="512" required>/);
  assert.match(deny.body, /Confirm denial/);
});

test('a confirmation of an action the viewer may not take is refused on the request page', async () => {
  const t = await loggedIn();
  t.kube.requests.set('ar-p', ar('ar-p', {}, { phase: 'Pending' }));
  for (const url of ['/requests/ar-p/confirm?action=approve&part=source', '/requests/ar-p/confirm?action=approve', '/requests/ar-p/confirm?action=revoke']) {
    const res = await t.app.inject({ method: 'GET', url, cookies: t.jar });
    assert.equal(res.statusCode, 409, url);
    assert.match(res.body, /You may not .* this request now\./);
  }
  const bad = await t.app.inject({ method: 'GET', url: '/requests/ar-p/confirm?action=delete', cookies: t.jar });
  assert.equal(bad.statusCode, 400);
});

test('the request page shows the preview; once materialized, the NetworkPolicies maxtac wrote for it', async () => {
  const t = await loggedIn();
  previewCluster(t);
  t.kube.requests.set('ar-p', ar('ar-p', {}, { phase: 'Pending' }));
  const pending = await t.app.inject({ method: 'GET', url: '/requests/ar-p', cookies: t.jar });
  assert.match(pending.body, /<h2 id="h-preview">Preview: what approving would do<\/h2>/);
  assert.match(pending.body, /pods: 1 now \(database-0\)/);
  assert.match(pending.body, /<li class="risk"><strong>! <\/strong>pods: not readable by you/);
  assert.match(pending.body, /NetworkPolicies maxtac would write/);
  t.kube.cluster.policies = [
    { metadata: { namespace: 'default', name: 'granted-np', ownerReferences: [{ apiVersion: 'maxtac.vtk.io/v1alpha1', kind: 'Access', name: 'nw-t', uid: 'u-t' }] }, spec: { podSelector: {}, policyTypes: ['Ingress'] } },
  ];
  t.kube.requests.set('ar-a', ar('ar-a', {}, { phase: 'Active', objects: [{ apiVersion: 'maxtac.vtk.io/v1alpha1', kind: 'Access', namespace: 'default', name: 'nw-t', uid: 'u-t' }] }));
  t.kube.policyReads = [];
  const active = await t.app.inject({ method: 'GET', url: '/requests/ar-a', cookies: t.jar });
  assert.match(active.body, /Preview: as granted now/);
  assert.match(active.body, /NetworkPolicies in force \(written by maxtac for this request\):<ul><li class="">monitoring: none<\/li><li class="">default\/granted-np \(Ingress\) by Access\/nw-t<\/li>/);
  // The Objects card lists the same policies from the same read: each namespace is listed once per page.
  assert.match(active.body, /<p class="muted">No NetworkPolicy for this request in monitoring yet\.<\/p><ul><li data-testid="policy"><span class="mono">default\/granted-np<\/span> \(Ingress\) from Access\/nw-t<\/li><\/ul>/);
  assert.deepEqual(t.kube.policyReads.sort(), ['default', 'monitoring']);
});

test("the request page classes a CIDR inside the cluster's own ranges (--cluster-cidr) as cluster, a risk", async () => {
  const external = ar('ar-x', { type: 'External', source: undefined, target: undefined, service: { namespace: 'default', name: 'database' }, cidrs: ['10.96.0.10/32', '203.0.113.0/24'], direction: 'ingress' }, { phase: 'Pending' });
  const withRanges = await loggedIn({ clusterCidrs: ['10.96.0.0/12'] });
  withRanges.kube.requests.set('ar-x', external);
  const page = await withRanges.app.inject({ method: 'GET', url: '/requests/ar-x', cookies: withRanges.jar });
  assert.match(page.body, /<li class="risk"><strong>! <\/strong>10\.96\.0\.10\/32: 1 IPv4 address \(a \/32\), cluster \+ private<\/li>/);
  assert.match(page.body, /<li class="">203\.0\.113\.0\/24: 256 IPv4 addresses \(a \/24\), public<\/li>/);
  const without = await loggedIn();
  without.kube.requests.set('ar-x', external);
  const plain = await without.app.inject({ method: 'GET', url: '/requests/ar-x', cookies: without.jar });
  assert.match(plain.body, /<li class="">10\.96\.0\.10\/32: 1 IPv4 address \(a \/32\), private<\/li>/);
});

test('approving adds one {part, namespace} approval with the read resourceVersion as precondition', async () => {
  const t = await loggedIn();
  t.kube.requests.set('ar-p', ar('ar-p', {}, { phase: 'PartiallyApproved', approvals: [{ part: 'source', namespace: 'monitoring', by: 'x', at: '2026-01-01T00:00:00Z' }] }));
  const res = await postForm(t, '/requests/ar-p/approve', { part: 'target', _csrf: t.csrf });
  assert.equal(res.statusCode, 303);
  assert.equal(res.headers.location, '/requests/ar-p?notice=approved');
  assert.deepEqual(t.kube.patches, [
    {
      name: 'ar-p',
      rv: '7',
      status: { approvals: [{ part: 'source', namespace: 'monitoring', by: 'x', at: '2026-01-01T00:00:00Z' }, { part: 'target', namespace: 'default' }] },
    },
  ]);
});

test('a decision sets only type and reason', async () => {
  const t = await loggedIn();
  t.kube.requests.set('ar-p', ar('ar-p', {}, { phase: 'Pending' }));
  const res = await postForm(t, '/requests/ar-p/decision', { type: 'Denied', reason: ' no ', _csrf: t.csrf });
  assert.equal(res.statusCode, 303);
  assert.deepEqual(t.kube.patches[0]?.status, { decision: { type: 'Denied', reason: 'no' } });
});

test('the service form creates a request and shows field errors without calling the API', async () => {
  const t = await loggedIn();
  const post = (fields: Record<string, string>) => postForm(t, '/requests', { _csrf: t.csrf, type: 'Service', ...fields });
  const bad = await post({ sourceNamespace: 'NOPE', duration: '2h', reason: 'x' });
  assert.equal(bad.statusCode, 422);
  assert.match(bad.body, /aria-invalid="true"/);
  assert.equal(t.kube.created.length, 0);
  const ok = await post({ sourceNamespace: 'monitoring', sourceService: 'prometheus', targetNamespace: 'default', targetService: 'database', ports: '5432', duration: '2h', reason: XSS });
  assert.equal(ok.statusCode, 303);
  assert.equal(ok.headers.location, '/requests/ar-new?notice=created');
  assert.equal(t.kube.created[0]?.reason, XSS);
});

test('a refusal from the API server is shown on the form, escaped', async () => {
  const t = await loggedIn();
  t.kube.forActor = ((orig) => (actor: Actor) => ({
    ...orig(actor),
    createRequest: async () => {
      throw new KubeError(403, 'Forbidden', `admission webhook denied: ${XSS}`);
    },
  }))(t.kube.forActor.bind(t.kube));
  const res = await postForm(t, '/requests', { _csrf: t.csrf, type: 'External', namespace: 'shop', service: 'web', cidrs: '10.0.0.0/8', direction: 'ingress', duration: '30m', reason: 'r' });
  assert.equal(res.statusCode, 422);
  assert.match(res.body, /admission webhook denied: &lt;script&gt;/);
});

test('a body field outside the schema is refused with a 400 and a message', async () => {
  const t = await loggedIn();
  const res = await postForm(t, '/requests/ar-p/approve', { _csrf: t.csrf, part: 'middle' });
  assert.equal(res.statusCode, 400);
  assert.match(res.body, /must be equal to one of the allowed values/);
});

test('an unexpected failure answers "Internal Server Error" without details', async () => {
  const t = await loggedIn();
  t.kube.failList = new Error('socket hang up to 10.0.0.1 with token abc');
  const res = await t.app.inject({ method: 'GET', url: '/', cookies: t.jar });
  assert.equal(res.statusCode, 500);
  assert.match(res.body, /Internal Server Error/);
  assert.doesNotMatch(res.body, /socket|token abc/);
});

test('logout needs the CSRF token and ends the IdP session', async () => {
  const t = await loggedIn();
  const refused = await postForm(t, '/logout', { x: '1' });
  assert.equal(refused.statusCode, 403);
  const res = await postForm(t, '/logout', { _csrf: t.csrf });
  assert.equal(res.statusCode, 303);
  assert.match(String(res.headers.location), /^https:\/\/idp\.test\/end/);
  const after = await t.app.inject({ method: 'GET', url: '/', cookies: cookiesOf(res, { ...t.jar }) });
  assert.equal(after.statusCode, 401);
});

test('the API token is off by default, and when set acts as its identity by impersonation', async () => {
  const off = await setup();
  assert.equal((await off.app.inject({ method: 'GET', url: '/api/v1/requests', headers: { authorization: 'Bearer anything' } })).statusCode, 401);

  const token = 'a'.repeat(40);
  const on = await setup({ actAs: 'impersonate', apiToken: { token, identity: { username: 'netwatch:automation', groups: [] } } });
  on.kube.requests.set('ar-1', ar('ar-1', {}));
  assert.equal((await on.app.inject({ method: 'GET', url: '/api/v1/requests', headers: { authorization: 'Bearer wrong' } })).statusCode, 401);
  const res = await on.app.inject({ method: 'GET', url: '/api/v1/requests', headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.statusCode, 200);
  assert.equal(res.json<{ items: unknown[] }>().items.length, 1);
  assert.deepEqual(on.kube.actors.at(-1), { kind: 'impersonate', identity: { username: 'netwatch:automation', groups: [] } });
  // The token only opens the JSON API, never the pages.
  assert.equal((await on.app.inject({ method: 'GET', url: '/', headers: { authorization: `Bearer ${token}`, accept: 'text/html' } })).statusCode, 401);
});

test('the API token cannot be configured in ID-token mode', async () => {
  await assert.rejects(build(config({ apiToken: { token: 'a'.repeat(40), identity: { username: 'x', groups: [] } } }), { oidc: new FakeOidc(), kube: new FakeKube(), revocations: new MemoryRevocationList().replica() }));
});

test('token comparison accepts only the exact token', () => {
  assert.equal(tokenMatches('abc', 'abc'), true);
  assert.equal(tokenMatches('abd', 'abc'), false);
  assert.equal(tokenMatches('abcd', 'abc'), false);
});

test('requests forbidden to the viewer look like missing ones', async () => {
  const t = await loggedIn();
  const res = await t.app.inject({ method: 'GET', url: '/requests/nope', cookies: t.jar });
  assert.equal(res.statusCode, 404);
});

test('checking permissions on the form shows each part with a check where the user may approve it', async () => {
  const t = await loggedIn();
  const res = await postForm(t, '/requests/preview', { _csrf: t.csrf, type: 'Service', sourceNamespace: 'monitoring', sourceService: 'prometheus', targetNamespace: 'default', targetService: 'database', duration: '2h', reason: 'r' });
  assert.equal(res.statusCode, 200);
  assert.match(res.body, /<strong>default<\/strong> \(target\): you may approve this part/);
  assert.match(res.body, /<strong>monitoring<\/strong> \(source\): needs an approver/);
  assert.match(res.body, /Submitting approves your parts and sends the rest for review\./);
  assert.equal(t.kube.created.length, 0, 'a preview creates nothing');
  assert.match(res.body, /value="prometheus"/, 'the form keeps its values');
  // Pickers: Services labelled with their namespaces, and the named target's ports.
  assert.match(res.body, /<datalist id="services"><option value="database" label="default, shop"><\/datalist>/);
  assert.match(res.body, /<input id="ports" name="ports" value="" list="ports"/);
  assert.match(res.body, /<datalist id="ports"><option value="5432\/TCP" label="default\/database"><option value="9187\/TCP" label="default\/database"><option value="5432\/TCP, 9187\/TCP" label="default\/database"><\/datalist>/);
});

test('the sign-in route is rate limited', async () => {
  const { app } = await setup();
  const codes: number[] = [];
  for (let i = 0; i < 31; i++) codes.push((await app.inject({ method: 'GET', url: '/login' })).statusCode);
  assert.equal(codes.filter((c) => c === 303).length, 30);
  assert.equal(codes.at(-1), 429);
});

test('a route without a schema is refused when it is added, so every route has one', async () => {
  const { app } = await setup();
  assert.throws(() => app.get('/no-schema', async () => 'x'), /GET \/no-schema has no schema/);
});

test('the stylesheet and the script are served without a session, with their types', async () => {
  const { app } = await setup();
  for (const [url, type] of [['/static/app.css', 'text/css'], ['/static/live.js', 'text/javascript']] as const) {
    const res = await app.inject({ method: 'GET', url });
    assert.equal(res.statusCode, 200, url);
    assert.match(String(res.headers['content-type']), new RegExp(`^${type}`));
    assert.ok(res.body.length > 0);
  }
});

/** Two replicas of one deployment: the same configuration (session key included) and the same list of sign-outs. */
async function twoReplicas(over: Partial<WebUiConfig> = {}) {
  const revocations = new MemoryRevocationList();
  const a = await setup(over, revocations);
  const b = await setup({ ...over, sessionKey: a.config.sessionKey }, revocations);
  return { a, b, revocations };
}

const asPage = { accept: 'text/html' };

test('a session signed out on one replica is refused by every replica, and a new sign-in works', async () => {
  const { a, b } = await twoReplicas({ actAs: 'impersonate' });
  const jar = await login(a.app);
  const page = await a.app.inject({ method: 'GET', url: '/', cookies: jar });
  assert.equal((await b.app.inject({ method: 'GET', url: '/', cookies: jar })).statusCode, 200, 'replica B accepts the session');
  const stolen = { ...cookiesOf(page, jar) };

  const out = await a.app.inject({
    method: 'POST',
    url: '/logout',
    cookies: stolen,
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN },
    payload: new URLSearchParams({ _csrf: csrfOf(page.body) }).toString(),
  });
  assert.equal(out.statusCode, 303);
  assert.match(String(out.headers.location), /^https:\/\/idp\.test\/end/);

  for (const [name, replica] of [['A', a], ['B', b]] as const) {
    const again = await replica.app.inject({ method: 'GET', url: '/', cookies: stolen, headers: asPage });
    assert.equal(again.statusCode, 401, `replica ${name} refuses the old cookie`);
    assert.match(again.body, /Sign in/);
    assert.ok((again.cookies as { name: string; value: string }[]).some((c) => c.name === 'netwatch_session' && c.value === ''), `replica ${name} clears it`);
    assert.equal((await replica.app.inject({ method: 'GET', url: '/api/v1/requests', cookies: stolen })).statusCode, 401);
  }

  const fresh = await login(b.app);
  assert.equal((await b.app.inject({ method: 'GET', url: '/', cookies: fresh })).statusCode, 200);
  assert.equal((await a.app.inject({ method: 'GET', url: '/', cookies: fresh })).statusCode, 200);
});

test('when the sign-out cannot be recorded for every replica, the cookie is still cleared and the page says so', async () => {
  const { a, b, revocations } = await twoReplicas();
  const jar = await login(a.app);
  const page = await a.app.inject({ method: 'GET', url: '/', cookies: jar });
  const stolen = { ...cookiesOf(page, jar) };
  revocations.failWrites = new Error('connect ECONNREFUSED');
  const out = await a.app.inject({
    method: 'POST',
    url: '/logout',
    cookies: stolen,
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN },
    payload: new URLSearchParams({ _csrf: csrfOf(page.body) }).toString(),
  });
  assert.equal(out.statusCode, 503);
  assert.match(out.body, /could not record the sign-out for all of its servers/);
  assert.match(out.body, /href="https:\/\/idp\.test\/end/, 'the IdP sign-out is still offered');
  assert.doesNotMatch(out.body, /ECONNREFUSED/);
  assert.ok((out.cookies as { name: string; value: string }[]).some((c) => c.name === 'netwatch_session' && c.value === ''), 'the cookie is cleared');
  assert.equal((await a.app.inject({ method: 'GET', url: '/', cookies: stolen })).statusCode, 401, 'this replica refuses it');
  // What the page warns about: the other replica never learnt of it.
  assert.equal((await b.app.inject({ method: 'GET', url: '/', cookies: stolen })).statusCode, 200);
});

test('a replica that cannot follow the sign-outs refuses every session and is not ready, until it follows them again', async () => {
  const { app, revocations } = await setup();
  const jar = await login(app);
  assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
  revocations.breakFeeds();
  const page = await app.inject({ method: 'GET', url: '/', cookies: jar, headers: asPage });
  assert.equal(page.statusCode, 503);
  assert.equal(page.headers['retry-after'], '5');
  assert.match(page.body, /cannot check sign-outs right now/);
  assert.ok(!(page.cookies as { name: string }[]).some((c) => c.name === 'netwatch_session'), 'the cookie is kept');
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/requests', cookies: jar })).statusCode, 503);
  assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 503);
  assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'alive all the same');
  revocations.restoreFeeds();
  assert.equal((await app.inject({ method: 'GET', url: '/', cookies: jar })).statusCode, 200);
  assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
});

test('a session cookie from before sessions had an id counts as signed out', async () => {
  const { app } = await setup();
  await app.ready();
  const legacy = app.createSecureSession({ user: { username: 'oidc:alice@x.test', groups: [], idToken: 't', exp: Math.floor(Date.now() / 1000) + 600 } });
  const res = await app.inject({ method: 'GET', url: '/', cookies: { netwatch_session: app.encodeSecureSession(legacy) }, headers: asPage });
  assert.equal(res.statusCode, 401);
});

test('an open event stream ends when its session is signed out on another replica', async () => {
  const { a, b } = await twoReplicas();
  const jar = await login(a.app);
  const page = await b.app.inject({ method: 'GET', url: '/', cookies: jar });
  const stream = a.app.inject({ method: 'GET', url: '/events', cookies: jar });
  await new Promise((r) => setTimeout(r, 50));
  const out = await b.app.inject({
    method: 'POST',
    url: '/logout',
    cookies: cookiesOf(page, { ...jar }),
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN },
    payload: new URLSearchParams({ _csrf: csrfOf(page.body) }).toString(),
  });
  assert.equal(out.statusCode, 303);
  const events = await stream;
  assert.match(events.body, /event: closed\ndata: \{"reason":"signed out"\}/);
});

test('the hub shows the AccessPolicy rule of a part, its approvals so far and how many are missing, escaped', async () => {
  const t = await loggedIn();
  const r = ar(
    'ar-pol',
    {
      requester: { username: 'someone-else' },
      policy: [{ part: 'target', namespace: 'default', rules: ['default/db/two'], approval: 'Approvers', approvals: 2, approverGroups: ['<dbas>'], approvalRule: 'default/db/two' }],
    },
    { phase: 'Pending', reviews: [{ part: 'target', namespace: 'default', by: 'carol', at: '2026-01-01T00:10:00Z', rule: 'default/db/two', required: 2 }] },
  );
  t.kube.requests.set('ar-pol', r);
  const res = await t.app.inject({ method: 'GET', url: '/', cookies: t.jar });
  assert.match(res.body, /Policy: 2 distinct approvers from &lt;dbas&gt;, the requester not counted \(default\/db\/two\); 1 of 2 so far, 1 missing/);
  assert.doesNotMatch(res.body, /<dbas>/);
});

test('the request page shows each part\'s AccessPolicy rule, who approved so far and how many approvals are missing, escaped', async () => {
  const t = await loggedIn();
  const stamp = { part: 'target' as const, namespace: 'default', rules: ['default/db/two'], approval: 'Approvers' as const, approvals: 2, approverGroups: ['<dbas>'], approvalRule: 'default/db/two' };
  const review = (by: string) => ({ part: 'target' as const, namespace: 'default', by, at: '2026-01-01T00:10:00Z', rule: 'default/db/two', required: 2 });
  t.kube.requests.set('ar-pol', ar('ar-pol', { requester: { username: 'someone-else' }, policy: [stamp] }, { phase: 'Pending', reviews: [review(XSS)] }));
  const one = await t.app.inject({ method: 'GET', url: '/requests/ar-pol', cookies: t.jar });
  assert.equal(one.statusCode, 200);
  assert.match(one.body, /<span class="policy" data-testid="access-policy-target">Policy: 2 distinct approvers from &lt;dbas&gt;, the requester not counted \(default\/db\/two\); 1 of 2 so far, 1 missing<\/span>/);
  assert.match(one.body, /data-testid="approved-so-far-target">Approved so far by: &lt;script&gt;/);
  assert.doesNotMatch(one.body, /<dbas>|<script>alert/);
  assert.doesNotMatch(one.body, /access-policy-source/, 'no rule applies to the source part: nothing is shown for it');

  // The second approval of two approves the part: nothing is missing any more.
  t.kube.requests.set('ar-pol', ar('ar-pol', { requester: { username: 'someone-else' }, policy: [stamp] }, {
    phase: 'PartiallyApproved',
    reviews: [review('carol'), review('dave')],
    approvals: [{ part: 'target', namespace: 'default', by: 'dave', at: '2026-01-01T00:20:00Z' }],
  }));
  const two = await t.app.inject({ method: 'GET', url: '/requests/ar-pol', cookies: t.jar });
  assert.match(two.body, /data-testid="access-policy-target">Policy: 2 distinct approvers from &lt;dbas&gt;, the requester not counted \(default\/db\/two\); 2 of 2 so far<\/span>/);
  assert.match(two.body, /Approved so far by: carol, dave/);
});

const ACTIVE: AccessRequest['status'] = {
  phase: 'Active',
  approvals: [{ part: 'source', namespace: 'monitoring', by: 'carol' }, { part: 'target', namespace: 'default', by: 'bob' }],
  approvedAt: '2026-01-01T00:00:00Z',
  expiresAt: '2026-01-01T02:00:00Z',
};

test('Extend on an active request: a form on its page, a confirmation naming what each part needs, then the CSRF-protected POST', async () => {
  const t = await loggedIn();
  t.kube.requests.set('ar-a', ar('ar-a', {}, ACTIVE));
  const page = await t.app.inject({ method: 'GET', url: '/requests/ar-a', cookies: t.jar });
  assert.match(page.body, /<form method="get" action="\/requests\/ar-a\/confirm" class="extend" data-testid="extend-form">\s*<input type="hidden" name="action" value="extend">/);
  assert.match(page.body, /<label for="duration">Extend by<\/label>/);

  const confirm = await t.app.inject({ method: 'GET', url: '/requests/ar-a/confirm?action=extend&duration=1h', cookies: t.jar });
  assert.equal(confirm.statusCode, 200);
  assert.match(confirm.body, /<h1>Extend {2}<span class="mono">ar-a<\/span> by 1h\?<\/h1>/);
  assert.match(confirm.body, /<li>source \(monitoring\): one approver \(total 3h, no maxTotalDuration\)<\/li><li>target \(default\): one approver \(total 3h, no maxTotalDuration\) \(you may approve it: approved with this\)<\/li>/);
  assert.match(confirm.body, /<form method="post" action="\/requests\/ar-a\/extend"><input type="hidden" name="_csrf" value="[^"]+"><input type="hidden" name="duration" value="1h">/);
  assert.equal(t.kube.patches.length, 0, 'showing the confirmation writes nothing');

  const noToken = await postForm(t, '/requests/ar-a/extend', { duration: '1h' });
  assert.equal(noToken.statusCode, 403);
  assert.equal(t.kube.patches.length, 0);
  const res = await postForm(t, '/requests/ar-a/extend', { _csrf: csrfOf(confirm.body), duration: '1h', reason: 'the migration runs long' });
  assert.equal(res.statusCode, 303);
  assert.equal(res.headers.location, '/requests/ar-a?notice=extended');
  // Then, as `kubectl netwatch extend` does, the part the viewer may approve (target) is approved with it.
  assert.deepEqual(t.kube.patches, [
    { name: 'ar-a', rv: '7', status: { extensions: [{ duration: '1h', reason: 'the migration runs long' }] } },
    { name: 'ar-a', rv: '7', status: { extensionApprovals: [{ extension: 0, part: 'target', namespace: 'default' }] } },
  ]);
});

test('a bad extension duration is refused with an error naming the field, on the confirmation step and on the POST, writing nothing', async () => {
  const t = await loggedIn();
  t.kube.requests.set('ar-a', ar('ar-a', {}, ACTIVE));
  const bad = await t.app.inject({ method: 'GET', url: '/requests/ar-a/confirm?action=extend&duration=%3Cb%3Esoon', cookies: t.jar });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.body, /<p class="field-error" id="duration-error">Duration: must be a positive duration such as 30m, 1h or 1h30m \(got &quot;&lt;b&gt;soon&quot;\)<\/p>/);
  assert.match(bad.body, /<input id="duration" name="duration" value="&lt;b&gt;soon"/, 'the typed value is kept, escaped');
  const empty = await t.app.inject({ method: 'GET', url: '/requests/ar-a/confirm?action=extend', cookies: t.jar });
  assert.equal(empty.statusCode, 400);
  assert.match(empty.body, /Duration: type how much longer, e\.g\. 30m, 1h or 1h30m/);
  const limited = ar('ar-l', { policy: [{ part: 'target', namespace: 'default', rules: ['default/db/short'], approval: 'Default', maxDuration: '30m' }] }, ACTIVE);
  t.kube.requests.set('ar-l', limited);
  const over = await t.app.inject({ method: 'GET', url: '/requests/ar-l/confirm?action=extend&duration=1h', cookies: t.jar });
  assert.equal(over.statusCode, 400);
  assert.match(over.body, /Duration: must be at most 30m for the target part \(namespace default\) under its maxDuration \(asked for 1h\)/);
  const posted = await postForm(t, '/requests/ar-a/extend', { _csrf: t.csrf, duration: '0s' });
  assert.equal(posted.statusCode, 400);
  assert.match(posted.body, /Duration: must be a positive duration such as 30m, 1h or 1h30m \(got &quot;0s&quot;\)/);
  const long = await postForm(t, '/requests/ar-a/extend', { _csrf: t.csrf, duration: '1'.repeat(40) + 'h' });
  assert.equal(long.statusCode, 400, 'the schema bounds the field');
  assert.equal(t.kube.patches.length, 0);
});

test('Extend is offered only where the viewer may extend: not on a pending request, not to a stranger', async () => {
  const t = await loggedIn();
  t.kube.requests.set('ar-p', ar('ar-p', {}, { phase: 'Pending' }));
  t.kube.requests.set('ar-s', ar('ar-s', { requester: { username: 'someone-else' } }, ACTIVE));
  t.kube.allowed = () => false;
  for (const name of ['ar-p', 'ar-s']) {
    const page = await t.app.inject({ method: 'GET', url: `/requests/${name}`, cookies: t.jar });
    assert.doesNotMatch(page.body, /extend-form/);
    const res = await t.app.inject({ method: 'GET', url: `/requests/${name}/confirm?action=extend&duration=1h`, cookies: t.jar });
    assert.equal(res.statusCode, 409);
    assert.match(res.body, /You may not extend this request now\./);
  }
});

test('a waiting extension is listed with what each part needs, and an approver of a part approves it through its confirmation', async () => {
  const t = await loggedIn();
  t.kube.requests.set('ar-x', ar('ar-x', { requester: { username: 'someone-else' } }, { ...ACTIVE, extensions: [{ duration: '1h', requestedBy: '<b>mallory</b>', at: '2026-01-01T01:00:00Z' }] }));
  const page = await t.app.inject({ method: 'GET', url: '/requests/ar-x', cookies: t.jar });
  assert.match(page.body, /<li data-testid="extension-1"><strong>… <\/strong>extension 1: \+1h by &lt;b&gt;mallory&lt;\/b&gt;: waiting for the source and target parts<ul><li>source \(monitoring\): one approver \(total 3h, no maxTotalDuration\); waiting for one approver<\/li>/);
  assert.match(page.body, /<input type="hidden" name="action" value="approve-extension"><input type="hidden" name="part" value="target"><button type="submit" class="primary" aria-label="Approve extension target of ar-x">Approve extension for default<\/button>/);
  assert.doesNotMatch(page.body, /extend-form/, 'one extension at a time');
  const refused = await t.app.inject({ method: 'GET', url: '/requests/ar-x/confirm?action=approve-extension&part=source', cookies: t.jar });
  assert.equal(refused.statusCode, 409);
  const confirm = await t.app.inject({ method: 'GET', url: '/requests/ar-x/confirm?action=approve-extension&part=target', cookies: t.jar });
  assert.equal(confirm.statusCode, 200);
  assert.match(confirm.body, /<h1>Approve the extension for the target part \(default\) of <span class="mono">ar-x<\/span>\?<\/h1>/);
  assert.match(confirm.body, /data-testid="extension-summary"><p>extension 1: \+1h by &lt;b&gt;mallory&lt;\/b&gt;/);
  assert.match(confirm.body, /<form method="post" action="\/requests\/ar-x\/approve-extension"><input type="hidden" name="_csrf" value="[^"]+"><input type="hidden" name="part" value="target">/);
  const res = await postForm(t, '/requests/ar-x/approve-extension', { _csrf: csrfOf(confirm.body), part: 'target' });
  assert.equal(res.statusCode, 303);
  assert.equal(res.headers.location, '/requests/ar-x?notice=extensionApproved');
  assert.deepEqual(t.kube.patches, [{ name: 'ar-x', rv: '7', status: { extensionApprovals: [{ extension: 0, part: 'target', namespace: 'default' }] } }]);
});
