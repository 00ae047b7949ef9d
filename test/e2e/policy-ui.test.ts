// What the AccessPolicy rules look like to people, end to end: a rule needing two approvers on payments, a request
// under it with one approval, then the TUI (`kubectl netwatch` in a real terminal, tmux) and the web UI (in a real
// Chromium, signed in through a real OIDC provider) naming the rule and the approval still missing. Then the grant
// is extended from the TUI and from the web UI, each extension approved under the same rule. One control plane for
// the whole file, with the real webhook, controller and maxtac.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { applyObjects, freePort, loadYamlFile, roleBinding, startControlPlane, type ControlPlane } from '../../scripts/controlplane.ts';
import { makeTestPki, startIdp, type TestIdp, type TestPki } from '../../scripts/idp.ts';
import type { AccessPolicy } from '../../lib/api/accesspolicy.ts';
import { bundle } from '../../plugin/build.ts';
import { serviceSpec } from '../support/builders.ts';
import { installWebhook, type InstalledWebhook } from '../support/webhook.ts';
import { installController, type InstalledController } from '../support/controller.ts';
import { installWebUiRbac, startWebUi } from '../support/webui.ts';
import { launchChromium, signIn } from '../support/browser.ts';
import { Tmux, type Terminal } from '../support/terminal.ts';
import { Users } from '../support/users.ts';
import { Admin, waitFor, waitForPhase } from '../support/admin.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const CLIENT_ID = 'netwatch';
const RULE = 'payments/database/two-approvers';
/** The part's line, as the TUI and the web UI show it (lib/domain/actions.ts policySummary). */
const ONE_OF_TWO = `2 distinct approvers, the requester not counted (${RULE}); 1 of 2 so far, 1 missing`;

const POLICY: AccessPolicy = {
  apiVersion: 'netwatch.vtk.io/v1alpha1',
  kind: 'AccessPolicy',
  metadata: { name: 'database', namespace: 'payments' },
  spec: { rules: [{ name: 'two-approvers', match: { services: { names: ['database'] } }, approvals: { count: 2 } }] },
};

describe('the AccessPolicy rule and the approvals missing, in the TUI and the web UI', () => {
  let pki: TestPki;
  let idp: TestIdp;
  let cp: ControlPlane;
  let webhook: InstalledWebhook | undefined;
  let controller: InstalledController | undefined;
  let webui: FastifyInstance | undefined;
  let browser: Browser | undefined;
  let admin: Admin;
  let users: Users;
  let ui = '';
  let binDir = '';
  const tmux = new Tmux(`netwatch-policy-ui-${process.pid}`);
  const contexts: BrowserContext[] = [];
  let name = '';

  const envFor = (user: string): NodeJS.ProcessEnv => ({
    // node_modules/.bin first: `#!/usr/bin/env node` then runs the pinned Node 24.
    PATH: `${binDir}:${join(REPO, 'node_modules/.bin')}:/usr/local/bin:/usr/bin:/bin`,
    HOME: binDir,
    KUBECONFIG: cp.kubeconfigPathFor(user),
    TERM: 'xterm-256color',
  });

  /** The TUI on payments as `user` in a real terminal (tmux); CI=true as on CI machines, where Ink must draw regardless. */
  const openTui = (user: string): Promise<Terminal> => tmux.open(user, { ...envFor(user), CI: 'true' }, ['kubectl', 'netwatch', '-n', 'payments']);

  async function newPage(): Promise<Page> {
    assert.ok(browser);
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    contexts.push(context);
    return context.newPage();
  }

  before(async () => {
    await bundle();
    binDir = mkdtempSync(join(tmpdir(), 'netwatch-policy-ui-'));
    symlinkSync(join(REPO, 'plugin/bin/kubectl-netwatch.js'), join(binDir, 'kubectl-netwatch'));
    pki = makeTestPki();
    const [idpPort, uiPort] = [await freePort(), await freePort()];
    ui = `https://127.0.0.1:${uiPort}`;
    // The provider runs before the API server: kube-apiserver fetches its discovery document and keys.
    idp = await startIdp({
      port: idpPort,
      pki,
      clientId: CLIENT_ID,
      redirectUris: [`${ui}/auth/callback`],
      postLogoutRedirectUris: [`${ui}/`],
      accounts: { dave: { email: 'dave@example.test', groups: ['developers'] } },
    });
    // Token users (alice, bob, dba1) for the plugin, dave through the IdP for the web UI.
    cp = await startControlPlane({
      extraUsers: [{ name: 'dba1', token: `token-dba1-${Date.now()}`, groups: ['developers'] }],
      oidc: { issuerUrl: idp.issuer, clientId: CLIENT_ID, caFile: pki.caFile, usernameClaim: 'email', usernamePrefix: 'oidc:', groupsClaim: 'groups', groupsPrefix: 'oidc:' },
    });
    admin = new Admin(cp);
    users = new Users(cp);
    await admin.namespace('monitoring');
    await admin.namespace('payments');
    await admin.service('monitoring', 'prometheus', [{ name: 'web', port: 9090, protocol: 'TCP', targetPort: 9090 }]);
    await admin.service('payments', 'database', [{ name: 'postgres', port: 5432, protocol: 'TCP', targetPort: 5432 }]);
    const objects: KubernetesObject[] = [
      ...loadYamlFile(join(REPO, 'manifests/rbac/user-roles.yaml')),
      roleBinding('e2e-users', 'netwatch-user', { kind: 'Group', name: 'developers' }),
      roleBinding('e2e-oidc-users', 'netwatch-user', { kind: 'Group', name: 'oidc:developers' }),
      // alice approves her own source part at creation; bob, dba1 and dave approve for payments.
      roleBinding('e2e-alice-approver', 'netwatch-approver', { kind: 'User', name: 'alice' }, 'monitoring'),
      ...['bob', 'dba1', 'oidc:dave@example.test'].map((u, i) => roleBinding(`e2e-payments-approver-${i}`, 'netwatch-approver', { kind: 'User', name: u }, 'payments')),
    ];
    await applyObjects(cp.admin, objects);
    webhook = await installWebhook(cp);
    controller = await installController(cp);
    await installWebUiRbac(cp);
    webui = await startWebUi({ cp, idp, pki, clientId: CLIENT_ID, port: uiPort, actAs: 'token' });
    browser = await launchChromium(pki.spki);

    await applyObjects(cp.admin, [POLICY as unknown as KubernetesObject]);
    // The webhook reads policies from its informer: wait until a dry-run create is stamped with the rule.
    await waitFor('the policy in the webhook', async () => {
      const probe = await users.dryRunRequest('alice', serviceSpec({ target: { namespace: 'payments', service: 'database' } }));
      return probe.spec.policy?.some((p) => p.approvalRule === RULE);
    });
    const created = await users.createRequest('alice', serviceSpec({ target: { namespace: 'payments', service: 'database' }, reason: 'INC-7 replication lag' }));
    name = created.metadata.name ?? '';
    await waitForPhase(admin, name, 'PartiallyApproved');
    await users.approve('dba1', name, 'target', 'payments');
    const one = await admin.get(name);
    assert.deepEqual(one?.status?.reviews?.map((r) => [r.by, r.rule, r.required]), [['dba1', RULE, 2]]);
    assert.equal(one?.status?.approvals?.some((a) => a.part === 'target'), false, 'one of two approvals: the part waits');
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await webui?.close().catch(() => undefined);
    await tmux.stop();
    await controller?.stop().catch(() => undefined);
    await webhook?.close().catch(() => undefined);
    await users?.close();
    await admin?.close();
    await cp?.stop();
    await idp?.close();
    pki?.remove();
    if (binDir) rmSync(binDir, { recursive: true, force: true });
  });

  test('the TUI in a real terminal names the rule and the approval missing, in the hub and the detail view', async () => {
    const t = await openTui('bob');
    try {
      await t.waitFor('● live');
      await t.select(name);
      const hub = await t.waitFor(`policy: ${ONE_OF_TWO}`);
      assert.match(hub, /○ pending {2}target part in payments/);
      assert.match(hub, /✔ you may approve/);
      await t.keys('Enter');
      const detail = await t.waitFor('Objects (clones, maxtac objects, NetworkPolicies):');
      assert.ok(detail.includes(`policy: ${ONE_OF_TWO}`), detail);
    } finally {
      await t.close();
    }
  });

  test('the web UI request page in Chromium names the rule, who approved so far and the approval missing', async () => {
    const page = await newPage();
    await signIn(page, ui, 'dave');
    await page.goto(`${ui}/requests/${name}`);
    assert.equal(await page.getByTestId('access-policy-target').textContent(), `Policy: ${ONE_OF_TWO}`);
    assert.equal(await page.getByTestId('approved-so-far-target').textContent(), 'Approved so far by: dba1');
    // The source part is approved by alice at creation; no rule applies to it.
    assert.equal(await page.getByTestId('access-policy-source').count(), 0);
    // The hub says it too.
    await page.goto(`${ui}/`);
    assert.match((await page.locator(`tr[data-request="${name}"]`).first().textContent()) ?? '', new RegExp(`Policy: ${ONE_OF_TWO.replace(/[()/]/g, '\\$&')}`));
  });

  test('the second approver makes it Active, and the web UI then shows nothing missing', async () => {
    // dave approves from the web UI: the confirmation page, then its POST as dave; the webhook counts him.
    const page = await newPage();
    await signIn(page, ui, 'dave');
    await page.goto(`${ui}/requests/${name}`);
    await page.getByRole('button', { name: `Approve target of ${name}` }).click();
    await page.waitForURL(new RegExp(`/requests/${name}/confirm\\?action=approve&part=target$`));
    await page.getByRole('button', { name: 'Confirm approval' }).click();
    await page.waitForURL(/notice=approved/);
    const active = await waitForPhase(admin, name, 'Active');
    assert.deepEqual(active.status?.reviews?.map((r) => r.by), ['dba1', 'oidc:dave@example.test']);
    await page.reload();
    assert.equal(await page.getByTestId('access-policy-target').textContent(), `Policy: 2 distinct approvers, the requester not counted (${RULE}); 2 of 2 so far`);
    assert.equal(await page.getByTestId('approved-so-far-target').textContent(), 'Approved so far by: dba1, oidc:dave@example.test');
  });

  test('alice extends the access from the TUI; the web UI lists what the extension waits for and dave approves it there', async () => {
    const t = await openTui('alice');
    try {
      await t.waitFor('● live');
      await t.keys('2');
      await t.select(name);
      await t.waitFor(/ t {2}Extend/);
      await t.keys('t');
      await t.waitFor(`Extend ${name} by how long?`);
      await t.type('1x');
      await t.keys('Enter');
      await t.waitFor('✘ Duration: must be a positive duration such as 30m, 1h or 1h30m (got "1x")');
      await t.keys('BSpace');
      await t.type('h');
      await t.keys('Enter');
      const confirm = await t.waitFor(`Extend ${name} by 1h?`);
      assert.match(confirm, new RegExp(`· target \\(payments\\): 2 distinct approvers, the requester not counted \\(${RULE.replaceAll('/', '\\/')}; total 3h\\)`));
      assert.match(confirm, /· source \(monitoring\): one approver \(total 3h, no maxTotalDuration\) \(you may approve it: approved with this\)/);
      await t.keys('Enter');
      await t.waitFor(`extension 1 of ${name} (+1h) waits for the target part; you approved the source part`);
      await t.keys('Enter');
      const detail = await t.waitFor('Extensions:');
      assert.match(detail, /extension 1: \+1h by alice: waiting for the target part/);
      assert.match(detail, /target \(payments\): 2 distinct approvers, the requester not counted .*; 0 of 2 so far, 2 missing/);
    } finally {
      await t.close();
    }
    const extended = await admin.get(name);
    assert.deepEqual(extended?.status?.extensions?.map((e) => [e.duration, e.requestedBy]), [['1h', 'alice']], 'the webhook stamped who extended');
    assert.deepEqual(extended?.status?.extensionApprovals?.map((a) => [a.extension, a.part, a.by]), [[0, 'source', 'alice']]);

    const page = await newPage();
    await signIn(page, ui, 'dave');
    await page.goto(`${ui}/requests/${name}`);
    assert.match((await page.getByTestId('extension-1').textContent()) ?? '', /extension 1: \+1h by alice: waiting for the target part.*target \(payments\): .*0 of 2 so far, 2 missing/);
    await page.getByRole('button', { name: `Approve extension target of ${name}` }).click();
    await page.waitForURL(new RegExp(`/requests/${name}/confirm\\?action=approve-extension&part=target$`));
    await page.getByRole('button', { name: 'Confirm extension approval' }).click();
    await page.waitForURL(/notice=extensionApproved/);
    assert.match((await page.getByTestId('extension-1').textContent()) ?? '', /1 of 2 so far \(oidc:dave@example\.test\), 1 missing/);
    const approved = await admin.get(name);
    assert.deepEqual(approved?.status?.extensionApprovals?.map((a) => [a.part, a.by]), [['source', 'alice'], ['target', 'oidc:dave@example.test']]);
  });

  test('once the second approver approves it the grant runs an hour longer; dave then extends again from the web UI', async () => {
    const before = Date.parse((await admin.get(name))?.status?.expiresAt ?? '');
    await users.writeStatus('dba1', name, (r) => ({ ...r.status, extensionApprovals: [...(r.status?.extensionApprovals ?? []), { extension: 0, part: 'target', namespace: 'payments' }] }));
    await waitFor('the controller to move the expiry by the extension', async () => Date.parse((await admin.get(name))?.status?.expiresAt ?? '') - before === 3_600_000, 60_000);

    const page = await newPage();
    await signIn(page, ui, 'dave');
    await page.goto(`${ui}/requests/${name}`);
    assert.match((await page.getByTestId('extension-1').textContent()) ?? '', /extension 1: \+1h by alice: granted/);
    await page.getByLabel('Extend by').fill('30 minutes');
    await page.getByRole('button', { name: `Extend ${name}` }).click();
    assert.match((await page.locator('#duration-error').textContent()) ?? '', /^Duration: must be a positive duration such as 30m, 1h or 1h30m \(got "30 minutes"\)$/);
    await page.getByLabel('Extend by').fill('30m');
    await page.getByRole('button', { name: `Extend ${name}` }).click();
    await page.waitForURL(new RegExp(`/requests/${name}/confirm\\?action=extend&duration=30m$`));
    assert.match((await page.getByTestId('extension-summary').textContent()) ?? '', /target \(payments\): 2 distinct approvers, the requester not counted .*total 3h30m\) \(you may approve it: approved with this\)/);
    await page.getByLabel('Reason (optional)').fill('the migration runs long');
    await page.getByRole('button', { name: 'Confirm extension' }).click();
    await page.waitForURL(/notice=extended/);
    assert.match((await page.getByTestId('extension-2').textContent()) ?? '', /extension 2: \+30m by oidc:dave@example\.test, "the migration runs long": waiting for the source and target parts/);
    const stored = await admin.get(name);
    assert.deepEqual(stored?.status?.extensions?.[1], { ...stored?.status?.extensions?.[1], duration: '30m', requestedBy: 'oidc:dave@example.test', reason: 'the migration runs long' });
    assert.deepEqual(stored?.status?.extensionApprovals?.filter((a) => a.extension === 1).map((a) => [a.part, a.by]), [['target', 'oidc:dave@example.test']], 'his own part is approved with it');
  });
});

