// The web UI end to end: a real OIDC provider over HTTPS, a real kube-apiserver that trusts it, the real webhook
// and controller, the web UI acting as each user with the user's ID token (two replicas sharing the session key
// and the sign-out ConfigMap, with the RBAC of manifests/webui), and a real Chromium.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CoreV1Api, CustomObjectsApi, type KubernetesObject } from '@kubernetes/client-node';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { fileURLToPath } from 'node:url';
import { applyObjects, freePort, loadYamlFile, roleBinding, startControlPlane, type ControlPlane } from '../../scripts/controlplane.ts';
import { GROUP, PLURAL, VERSION, type AccessRequest } from '../../lib/api/accessrequest.ts';
import { installWebhook, type InstalledWebhook } from '../support/webhook.ts';
import { installController, type InstalledController } from '../support/controller.ts';
import { SESSIONS_CONFIGMAP } from '../../webui/revocations-configmap.ts';
import { installWebUiRbac, startWebUi } from '../support/webui.ts';
import { expectUrl as waitForUrl, launchChromium, signIn as signInAs } from '../support/browser.ts';
import { makeTestPki, startIdp, type TestIdp, type TestPki } from '../../scripts/idp.ts';

const CLIENT_ID = 'netwatch';
const XSS = `<img src=x onerror="document.title='pwned'"><script>document.title='pwned'</script>`;
const SHOTS = process.env['NETWATCH_SCREENSHOTS'] ?? join(tmpdir(), 'netwatch-webui-screenshots');

const accounts = {
  alice: { email: 'alice@example.test', groups: ['developers'] },
  bob: { email: 'bob@example.test', groups: ['developers'] },
  eve: { email: 'eve@example.test', emailVerified: false, groups: ['developers'] },
  // Signs in fine but has no netwatch role at all.
  carol: { email: 'carol@example.test', groups: ['contractors'] },
};

const USER_ROLES = fileURLToPath(new URL('../../manifests/rbac/user-roles.yaml', import.meta.url));
const IMPERSONATION_RBAC = fileURLToPath(new URL('../../manifests/webui/impersonation/rbac.yaml', import.meta.url));

function fixtures(): KubernetesObject[] {
  const objects: KubernetesObject[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'monitoring' } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'payments' } },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'prometheus', namespace: 'monitoring' },
      spec: { selector: { app: 'prometheus' }, ports: [{ port: 9090, protocol: 'TCP' }] },
    } as KubernetesObject,
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'database', namespace: 'payments' },
      spec: { selector: { app: 'database' }, ports: [{ port: 5432, protocol: 'TCP' }] },
    } as KubernetesObject,
    // Both namespaces already isolate their pods, so a grant is needed and the controller materializes one.
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'default-deny-egress', namespace: 'monitoring' },
      spec: { podSelector: {}, policyTypes: ['Egress'] },
    } as KubernetesObject,
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'default-deny-ingress', namespace: 'payments' },
      spec: { podSelector: {}, policyTypes: ['Ingress'] },
    } as KubernetesObject,
    // Every developer is a netwatch user; bob approves for both namespaces.
    roleBinding('e2e-netwatch-users', 'netwatch-user', { kind: 'Group', name: 'oidc:developers' }),
  ];
  for (const ns of ['monitoring', 'payments']) {
    objects.push(roleBinding('e2e-bob-approves', 'netwatch-approver', { kind: 'User', name: 'oidc:bob@example.test' }, ns));
  }
  return objects;
}

describe('the web UI in a real browser', () => {
  let pki: TestPki;
  let idp: TestIdp;
  let cp: ControlPlane;
  let webhook: InstalledWebhook | undefined;
  let controller: InstalledController | undefined;
  let app: FastifyInstance;
  /** A second replica of `app`: the same public URL and session key, its own process state. */
  let replica: FastifyInstance;
  let uiReplica: string;
  let appImpersonating: FastifyInstance;
  let uiImpersonating: string;
  let browser: Browser;
  let evil: Server;
  let ui: string;
  let evilOrigin: string;
  let requestName = '';
  const contexts: BrowserContext[] = [];

  /** A web UI listening on `port`; a replica of another passes that one's public URL and session key. */
  function startUi(port: number, actAs: 'token' | 'impersonate', shared: { publicUrl?: string; sessionKey?: Buffer } = {}): Promise<FastifyInstance> {
    // The cluster's own ranges (--cluster-cidr): the preview classes a requested CIDR inside one as `cluster`.
    return startWebUi({ cp, idp, pki, clientId: CLIENT_ID, port, actAs, clusterCidrs: ['10.96.0.0/12'], ...shared });
  }

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    pki = makeTestPki();
    const [idpPort, uiPort, uiImpersonatingPort, evilPort, replicaPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    ui = `https://127.0.0.1:${uiPort}`;
    uiReplica = `https://127.0.0.1:${replicaPort}`;
    uiImpersonating = `https://127.0.0.1:${uiImpersonatingPort}`;
    // The provider runs before the API server: kube-apiserver fetches its discovery document and keys.
    idp = await startIdp({
      port: idpPort,
      pki,
      clientId: CLIENT_ID,
      redirectUris: [`${ui}/auth/callback`, `${uiImpersonating}/auth/callback`],
      postLogoutRedirectUris: [`${ui}/`, `${uiImpersonating}/`],
      accounts,
    });
    cp = await startControlPlane({
      oidc: { issuerUrl: idp.issuer, clientId: CLIENT_ID, caFile: pki.caFile, usernameClaim: 'email', usernamePrefix: 'oidc:', groupsClaim: 'groups', groupsPrefix: 'oidc:' },
    });
    await applyObjects(cp.admin, [...loadYamlFile(USER_ROLES), ...fixtures()]);
    webhook = await installWebhook(cp);
    controller = await installController(cp);
    await installWebUiRbac(cp);
    const sessionKey = randomBytes(32);
    app = await startUi(uiPort, 'token', { sessionKey });
    replica = await startUi(replicaPort, 'token', { publicUrl: ui, sessionKey });
    // The same web UI in impersonation mode: as the netwatch-webui identity with exactly the RBAC of
    // manifests/webui/impersonation/rbac.yaml.
    await applyObjects(cp.admin, loadYamlFile(IMPERSONATION_RBAC));
    appImpersonating = await startUi(uiImpersonatingPort, 'impersonate');
    // Another site (localhost is not 127.0.0.1 for the browser) whose page posts to the web UI.
    evil = createServer((req, res) => {
      const target = new URL(req.url ?? '/', 'http://x').searchParams.get('target') ?? '';
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(`<!doctype html><form id="f" method="post" action="${target}"><input name="type" value="Revoked"><input name="reason" value="csrf"></form><script>document.getElementById('f').submit()</script>`);
    });
    await new Promise<void>((resolve, reject) => {
      evil.once('error', reject);
      evil.listen(evilPort, '127.0.0.1', () => resolve());
    });
    evilOrigin = `http://localhost:${evilPort}`;
    browser = await launchChromium(pki.spki);
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await app?.close().catch(() => undefined);
    await replica?.close().catch(() => undefined);
    await appImpersonating?.close().catch(() => undefined);
    await new Promise<void>((r) => (evil ? evil.close(() => r()) : r()));
    await controller?.stop().catch(() => undefined);
    await webhook?.close().catch(() => undefined);
    await cp?.stop();
    await idp?.close();
    pki?.remove();
  });

  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    page.on('dialog', (d) => {
      throw new Error(`unexpected dialog: ${d.message()}`);
    });
    return page;
  }

  async function signIn(page: Page, account: string, base = ui): Promise<void> {
    await signInAs(page, base, account, () => shot(page, `failed-sign-in-${account}`));
  }

  /** Waits for a URL; on timeout the error carries the page's alert text and a screenshot is kept. */
  async function expectUrl(page: Page, url: string | RegExp, what: string): Promise<void> {
    await waitForUrl(page, url, what, () => shot(page, `failed-${what}`));
  }

  /** A request from Node (not the browser) that trusts the test CA, with cookies taken from a browser context. */
  async function rawRequest(method: string, url: string, opts: { headers?: Record<string, string>; form?: Record<string, string>; context?: BrowserContext } = {}) {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.context) {
      const cookies = await opts.context.cookies(url);
      headers['Cookie'] = cookies.map((c) => `${c.name}=${c.value}`).join('; ');
    }
    const body = opts.form ? new URLSearchParams(opts.form).toString() : undefined;
    if (body) headers['Content-Type'] = 'application/x-www-form-urlencoded';
    return new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = httpsRequest(url, { method, headers, ca: pki.caPem }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        // The event stream never ends on its own: the status is all that matters.
        if (res.headers['content-type']?.startsWith('text/event-stream')) {
          resolve({ status: res.statusCode ?? 0, text: '' });
          res.destroy();
        }
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  async function shot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  }

  test('a logged-out visitor sees the sign-in page and nothing else', async () => {
    const page = await newPage();
    const res = await page.goto(`${ui}/`);
    assert.equal(res?.status(), 401);
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Sign in');
    assert.equal(await page.locator('table').count(), 0);
    await shot(page, '01-sign-in');
    assert.equal((await rawRequest('GET', `${ui}/api/v1/requests`)).status, 401);
    assert.equal((await rawRequest('GET', `${ui}/events`)).status, 401);
  });

  test('an unverified email address cannot sign in', async () => {
    const page = await newPage();
    await page.goto(`${ui}/`);
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.locator('input[name=login]').fill('eve');
    await page.locator('input[name=password]').fill('demo');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    const consent = page.getByRole('button', { name: 'Continue' });
    await page.waitForURL((u) => u.href.startsWith(ui) || u.pathname.includes('/interaction/'));
    if (!page.url().startsWith(ui) && (await consent.isVisible().catch(() => false))) await consent.click();
    await page.waitForURL((u) => u.href.startsWith(`${ui}/auth/callback`));
    assert.match((await page.locator('[role=alert]').textContent()) ?? '', /not verified/);
  });

  test('a developer submits a request, an approver approves it, and the developer sees it Active without reloading', async () => {
    const alice = await newPage();
    await signIn(alice, 'alice');
    assert.equal(await alice.getByTestId('username').textContent(), 'oidc:alice@example.test');
    await shot(alice, '02-hub-empty');

    await alice.getByRole('link', { name: 'New external access' }).click();
    await shot(alice, '03-external-form');
    await alice.getByRole('link', { name: 'New service access' }).click();
    await alice.getByLabel('Namespace').first().fill('monitoring');
    await alice.getByLabel('Service').first().fill('prometheus');
    await alice.getByLabel('Namespace').nth(1).fill('payments');
    await alice.getByLabel('Service').nth(1).fill('database');
    await alice.getByLabel('Ports').fill('5432');
    await alice.getByLabel('Duration').selectOption('2h');
    await alice.getByLabel('Reason').fill(XSS);
    await alice.getByRole('button', { name: 'Check my permissions' }).click();
    await alice.getByTestId('preview').waitFor();
    assert.match((await alice.getByTestId('preview').textContent()) ?? '', /Submitting sends the request for review\./);
    await shot(alice, '04-service-form');
    await alice.getByRole('button', { name: 'Submit request' }).click();
    await expectUrl(alice, /\/requests\/[^/?]+\?notice=created$/, 'submit');
    requestName = new URL(alice.url()).pathname.split('/').pop() ?? '';
    assert.match(requestName, /^ar-/);
    assert.equal(await alice.getByTestId('reason').textContent(), XSS, 'the reason is shown as text');
    await shot(alice, '05-detail-pending');

    // The request really exists, created by alice (stamped by the webhook).
    const stored = (await cp.admin.makeApiClient(CustomObjectsApi).getClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, name: requestName })) as AccessRequest;
    assert.equal(stored.spec.requester?.username, 'oidc:alice@example.test');
    assert.equal(stored.spec.reason, XSS);

    await alice.goto(`${ui}/`);
    const aliceRow = alice.locator(`tr[data-request="${requestName}"]`);
    assert.equal(await alice.locator('table[data-testid=waiting]').locator(`tr[data-request="${requestName}"]`).count(), 1);
    assert.equal(await aliceRow.getByRole('button', { name: /^Approve/ }).count(), 0, 'alice may approve nothing');

    const bob = await newPage();
    await signIn(bob, 'bob');
    const bobRow = bob.locator(`table[data-testid=waiting] tr[data-request="${requestName}"]`);
    assert.equal(await bobRow.locator('td.reason').textContent(), XSS);
    assert.equal(await bob.locator('img[src=x]').count(), 0);
    assert.notEqual(await bob.title(), 'pwned');
    await shot(bob, '06-hub-approver');
    // Approve leads to a confirmation with the preview's summary (pods, ports, risk); only its button approves.
    await bobRow.getByRole('button', { name: `Approve source of ${requestName}` }).click();
    await expectUrl(bob, new RegExp(`/requests/${requestName}/confirm\\?action=approve&part=source$`), 'confirm-source');
    const summary = (await bob.getByTestId('confirm-summary').textContent()) ?? '';
    assert.match(summary, /monitoring\/prometheus: pods not readable by you, egress 5432\/TCP; already isolated, cuts nothing/);
    assert.match(summary, /payments\/database: pods not readable by you, ingress 5432\/TCP; already isolated, cuts nothing/);
    assert.match((await bob.getByTestId('request-preview').textContent()) ?? '', /NetworkPolicies maxtac would write/);
    assert.equal(await bob.locator('img[src=x]').count(), 0, 'the reason on the confirmation is text');
    await shot(bob, '06b-confirm-approve');
    const pending = (await cp.admin.makeApiClient(CustomObjectsApi).getClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, name: requestName })) as AccessRequest;
    assert.equal(pending.status?.approvals?.length ?? 0, 0, 'the confirmation page approves nothing by itself');
    await bob.getByRole('button', { name: 'Confirm approval' }).click();
    await expectUrl(bob, /notice=approved/, 'approve-source');
    await bob.getByRole('button', { name: `Approve target of ${requestName}` }).click();
    await expectUrl(bob, /\/confirm\?action=approve&part=target$/, 'confirm-target');
    await bob.getByRole('button', { name: 'Confirm approval' }).click();
    await expectUrl(bob, /notice=approved/, 'approve-target');
    await shot(bob, '07-detail-approved');
    assert.notEqual(await bob.title(), 'pwned');

    const approvals = ((await cp.admin.makeApiClient(CustomObjectsApi).getClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, name: requestName })) as AccessRequest).status?.approvals ?? [];
    assert.deepEqual(
      approvals.map((a) => [a.part, a.by]).sort(),
      [
        ['source', 'oidc:bob@example.test'],
        ['target', 'oidc:bob@example.test'],
      ],
    );

    // Alice's page was not reloaded: the live update moves the row into the active table.
    await alice
      .locator(`table[data-testid=active] tr[data-request="${requestName}"]`)
      .waitFor({ timeout: 60_000 })
      .catch(async (err: Error) => {
        const now = (await cp.admin.makeApiClient(CustomObjectsApi).getClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, name: requestName })) as AccessRequest;
        throw new Error(`${err.message.split('\n')[0]}; status: ${JSON.stringify(now.status)}`, { cause: err });
      });
    assert.match((await alice.locator('[data-live-status]').textContent()) ?? '', /Updated/);
    await shot(alice, '08-hub-active-live');
    await alice.goto(`${ui}/requests/${requestName}`);
    await shot(alice, '09-detail-active');
    // Bob approves for both namespaces, so he may list their NetworkPolicies: maxtac's policies are shown.
    await bob.goto(`${ui}/requests/${requestName}`);
    await bob.getByTestId('policy').first().waitFor({ timeout: 30_000 }).catch(async () => {
      await bob.reload();
      await bob.getByTestId('policy').first().waitFor({ timeout: 30_000 });
    });
    assert.equal(await bob.getByTestId('policy').count(), 2);
    // The preview now names the NetworkPolicies in force instead of those maxtac would write.
    const granted = (await bob.getByTestId('request-preview').textContent()) ?? '';
    assert.match(granted, /Preview: as granted now/);
    assert.match(granted, /NetworkPolicies in force \(written by maxtac for this request\):monitoring\/\S+ \(Egress\) by Access\/nwas-\S+payments\/\S+ \(Ingress\) by Access\/nwat-/);
    assert.doesNotMatch(granted, /would write/);
    await shot(bob, '10-detail-policies');
  });

  test('a cross-site POST is refused and changes nothing', async () => {
    assert.ok(requestName, 'the previous test created a request');
    const bob = await newPage();
    await signIn(bob, 'bob');
    const before = ((await cp.admin.makeApiClient(CustomObjectsApi).getClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, name: requestName })) as AccessRequest).status?.decision;
    // 1. A page on another site submits a form to the web UI in bob's browser.
    const refused = bob.waitForResponse((r) => r.url() === `${ui}/requests/${requestName}/decision`);
    await bob.goto(`${evilOrigin}/?target=${encodeURIComponent(`${ui}/requests/${requestName}/decision`)}`);
    const res = await refused;
    assert.ok([401, 403].includes(res.status()), `refused, got ${res.status()}`);
    // 2. The same request with bob's cookies attached, from the other origin: the Origin check refuses it.
    const forged = await rawRequest('POST', `${ui}/requests/${requestName}/decision`, {
      headers: { Origin: evilOrigin, Accept: 'text/html' },
      form: { type: 'Revoked', reason: 'csrf' },
      context: bob.context(),
    });
    assert.equal(forged.status, 403);
    assert.match(forged.text, /cross-site request refused/);
    // 3. Same origin but no CSRF token: refused too.
    const noToken = await rawRequest('POST', `${ui}/requests/${requestName}/decision`, { headers: { Origin: ui }, form: { type: 'Revoked' }, context: bob.context() });
    assert.equal(noToken.status, 403);
    const afterDecision = ((await cp.admin.makeApiClient(CustomObjectsApi).getClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, name: requestName })) as AccessRequest).status?.decision;
    assert.deepEqual(afterDecision, before);
  });

  test('in impersonation mode the web UI acts as the signed-in user and has no rights of its own', async () => {
    const custom = cp.kubeConfigFor('netwatch-webui').makeApiClient(CustomObjectsApi);
    await assert.rejects(custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL }), /403|forbidden/i);

    const alice = await newPage();
    await signIn(alice, 'alice', uiImpersonating);
    assert.equal(await alice.locator(`tr[data-request="${requestName}"]`).count(), 1, 'alice lists requests as herself');
    await alice.getByRole('link', { name: 'New external access' }).click();
    await alice.getByLabel('Namespace').fill('payments');
    await alice.getByLabel('Service').fill('database');
    await alice.getByLabel('CIDRs').fill('203.0.113.7/32');
    await alice.getByLabel('Direction').selectOption('ingress');
    await alice.getByLabel('Ports').fill('5432');
    await alice.getByLabel('Duration').selectOption('30m');
    await alice.getByLabel('Reason').fill('partner health check');
    await alice.getByRole('button', { name: 'Submit request' }).click();
    await expectUrl(alice, /\/requests\/[^/?]+\?notice=created$/, 'submit-external');
    const name = new URL(alice.url()).pathname.split('/').pop() ?? '';
    const admin = cp.admin.makeApiClient(CustomObjectsApi);
    const stored = (await admin.getClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, name })) as AccessRequest;
    assert.equal(stored.spec.requester?.username, 'oidc:alice@example.test');
    assert.ok(stored.spec.requester?.groups?.includes('oidc:developers'));

    const bob = await newPage();
    await signIn(bob, 'bob', uiImpersonating);
    await bob.goto(`${uiImpersonating}/requests/${name}`);
    await bob.getByRole('button', { name: `Deny ${name}` }).click();
    await expectUrl(bob, /\/confirm\?action=deny$/, 'confirm-deny');
    assert.match((await bob.getByTestId('confirm-summary').textContent()) ?? '', /addresses: 1 IPv4 address \(a \/32\) \(public\)/);
    await bob.getByLabel('Reason').fill('not during the freeze');
    await bob.getByRole('button', { name: 'Confirm denial' }).click();
    await expectUrl(bob, /notice=decided/, 'deny');
    const decided = (await admin.getClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, name })) as AccessRequest;
    assert.deepEqual([decided.status?.decision?.type, decided.status?.decision?.by, decided.status?.decision?.reason], ['Denied', 'oidc:bob@example.test', 'not during the freeze']);
    await shot(bob, '11-detail-denied');
  });

  test('without JavaScript a developer can still sign in and submit a request', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, javaScriptEnabled: false });
    contexts.push(context);
    const page = await context.newPage();
    await signIn(page, 'alice');
    await page.getByRole('link', { name: 'New service access' }).click();
    await page.getByLabel('Namespace').first().fill('payments');
    await page.getByLabel('Service').first().fill('database');
    await page.getByLabel('Namespace').nth(1).fill('monitoring');
    await page.getByLabel('Service').nth(1).fill('prometheus');
    await page.getByLabel('Reason').fill('no-script browser');
    await page.getByRole('button', { name: 'Submit request' }).click();
    await expectUrl(page, /\/requests\/[^/?]+\?notice=created$/, 'submit-no-js');
    assert.equal(await page.getByTestId('reason').textContent(), 'no-script browser');
  });

  test("the request page classes a CIDR inside the cluster's own ranges (--cluster-cidr) as cluster, a risk", async () => {
    const page = await newPage();
    await signIn(page, 'alice');
    await page.getByRole('link', { name: 'New external access' }).click();
    await page.locator('#namespace').fill('payments');
    await page.locator('#service').fill('database');
    await page.locator('#cidrs').fill('10.96.0.10/32');
    await page.locator('#reason').fill('a cluster range');
    await page.getByRole('button', { name: 'Submit request' }).click();
    await expectUrl(page, /\/requests\/[^/?]+\?notice=created$/, 'submit-cluster-cidr');
    const risk = page.getByTestId('request-preview').locator('li.risk', { hasText: '10.96.0.10/32' });
    assert.equal((await risk.textContent())?.trim(), '! 10.96.0.10/32: 1 IPv4 address (a /32), cluster + private');
  });

  test('a signed-in user without netwatch rights sees no request, neither on the pages nor in the event stream', async () => {
    const carol = await newPage();
    await carol.goto(`${ui}/`);
    await carol.getByRole('link', { name: 'Sign in' }).click();
    await carol.locator('input[name=login]').fill('carol');
    await carol.locator('input[name=password]').fill('demo');
    await carol.getByRole('button', { name: 'Sign-in' }).click();
    await carol.waitForURL((u) => u.href.startsWith(ui) || u.pathname.includes('/interaction/'));
    if (!carol.url().startsWith(ui)) await carol.getByRole('button', { name: 'Continue' }).click();
    await carol.waitForURL(`${ui}/`);
    assert.match((await carol.locator('[role=alert]').textContent()) ?? '', /You may not list access requests/);
    assert.equal(await carol.locator(`text=${requestName}`).count(), 0);
    const detail = await carol.goto(`${ui}/requests/${requestName}`);
    assert.equal(detail?.status(), 404);
    // The event stream is opened as carol: the API server refuses her watch, so the stream just closes.
    const cookies = (await carol.context().cookies(ui)).map((c) => `${c.name}=${c.value}`).join('; ');
    const text = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest(`${ui}/events`, { headers: { Cookie: cookies }, ca: pki.caPem }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve(body));
      });
      req.setTimeout(15_000, () => req.destroy(new Error('the event stream did not close')));
      req.on('error', reject);
      req.end();
    });
    assert.match(text, /event: closed\ndata: \{"reason":"not allowed to watch requests"\}/);
    assert.doesNotMatch(text, /event: change/);
  });

  test('after signing out, the request pages and the event stream show nothing', async () => {
    const page = await newPage();
    await signIn(page, 'alice');
    await page.getByRole('button', { name: 'Sign out' }).click();
    // The provider asks to confirm the end of its own session.
    const confirm = page.getByRole('button', { name: 'Yes, sign me out' });
    if (await confirm.isVisible({ timeout: 5000 }).catch(() => false)) await confirm.click();
    await expectUrl(page, `${ui}/`, 'sign-out');
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Sign in');
    const detail = await page.goto(`${ui}/requests/${requestName}`);
    assert.equal(detail?.status(), 401);
    assert.equal(await page.locator('body').textContent().then((b) => b?.includes(requestName) ?? false), false);
    assert.equal((await rawRequest('GET', `${ui}/events`, { context: page.context() })).status, 401);
  });

  test('signing out on one replica ends the session on every replica: a copied cookie is refused, a new sign-in works', async (t) => {
    const page = await newPage();
    await signIn(page, 'alice');
    // What someone who copied the cookie would replay.
    const copied = (await page.context().cookies(ui)).map((c) => `${c.name}=${c.value}`).join('; ');
    const replay = (base: string, path: string) => rawRequest('GET', `${base}${path}`, { headers: { Cookie: copied, Accept: 'text/html' } });
    assert.equal((await replay(uiReplica, '/')).status, 200, 'the other replica accepts the session before the sign-out');

    await page.getByRole('button', { name: 'Sign out' }).click();
    const confirm = page.getByRole('button', { name: 'Yes, sign me out' });
    if (await confirm.isVisible({ timeout: 5000 }).catch(() => false)) await confirm.click();
    await expectUrl(page, `${ui}/`, 'sign-out');
    const signedOutAt = Date.now();

    // The other replica learns of it through its watch on the ConfigMap (by now: the IdP's sign-out took longer).
    const refused = await replay(uiReplica, '/');
    assert.equal(refused.status, 401, `the other replica refuses the copied cookie ${Date.now() - signedOutAt} ms after the sign-out`);
    assert.match(refused.text, /<h1>Sign in<\/h1>/);
    assert.equal((await replay(uiReplica, '/api/v1/requests')).status, 401);
    assert.equal((await replay(uiReplica, '/events')).status, 401);
    assert.equal((await replay(ui, '/')).status, 401, 'and so does the replica that signed it out');

    // What the cluster holds: the digest of the session id and when the session would have expired, nothing else.
    const cm = await cp.admin.makeApiClient(CoreV1Api).readNamespacedConfigMap({ namespace: 'netwatch-system', name: SESSIONS_CONFIGMAP });
    const entries = Object.entries(cm.data ?? {});
    assert.ok(entries.length >= 1);
    for (const [key, until] of entries) {
      assert.match(key, /^[-_A-Za-z0-9]{43}$/);
      assert.ok(Date.parse(until) > Date.now(), until);
    }

    await signIn(page, 'alice');
    const fresh = (await page.context().cookies(ui)).map((c) => `${c.name}=${c.value}`).join('; ');
    assert.notEqual(fresh, copied);
    assert.equal((await rawRequest('GET', `${uiReplica}/`, { headers: { Cookie: fresh, Accept: 'text/html' } })).status, 200, 'a new session works on every replica');

    // How soon the other replica refuses: the same sign-out posted straight to the first replica, no IdP after it.
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.content())?.[1] ?? assert.fail('no CSRF token on the page');
    const out = await rawRequest('POST', `${ui}/logout`, { headers: { Cookie: fresh, Origin: ui }, form: { _csrf: csrf } });
    assert.equal(out.status, 303);
    const posted = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - posted < 10_000) status = (await rawRequest('GET', `${uiReplica}/`, { headers: { Cookie: fresh, Accept: 'text/html' } })).status;
    assert.equal(status, 401);
    t.diagnostic(`the other replica refused the session ${Date.now() - posted} ms after the sign-out was answered`);
  });

  test('when the sign-out cannot be recorded for every replica, the browser is still signed out and is told so', async () => {
    const core = cp.admin.makeApiClient(CoreV1Api);
    await core.deleteNamespacedConfigMap({ namespace: 'netwatch-system', name: SESSIONS_CONFIGMAP });
    try {
      const page = await newPage();
      await signIn(page, 'alice');
      const copied = (await page.context().cookies(ui)).map((c) => `${c.name}=${c.value}`).join('; ');
      const answered = page.waitForResponse((r) => r.url() === `${ui}/logout`);
      await page.getByRole('button', { name: 'Sign out' }).click();
      assert.equal((await answered).status(), 503);
      assert.match((await page.locator('[role=alert]').textContent()) ?? '', /could not record the sign-out for all of its servers/);
      await shot(page, '12-signed-out-here-only');
      assert.equal((await page.context().cookies(ui)).some((c) => c.name === 'netwatch_session'), false, 'the browser holds no session');
      assert.equal((await rawRequest('GET', `${ui}/`, { headers: { Cookie: copied, Accept: 'text/html' } })).status, 401, 'the replica that signed it out refuses it');
      // What the page warns about: the other replica was not told.
      assert.equal((await rawRequest('GET', `${uiReplica}/`, { headers: { Cookie: copied, Accept: 'text/html' } })).status, 200);
    } finally {
      await installWebUiRbac(cp);
    }
  });
});
