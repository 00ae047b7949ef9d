// kubectl-netwatch with a kubeconfig that signs in through the legacy `oidc` auth-provider (an ID token from the
// user's IdP, as written by older `kubectl config set-credentials --auth-provider=oidc` setups), against a real
// OIDC provider and a kube-apiserver that trusts it. The list path leaves out the OIDC client, so such a kubeconfig
// is handed to the full CLI (plugin/src/list-json.ts): this proves the hand-over, and that the plugin then acts as
// the user the API server sees in the token, exactly as kubectl does with the same kubeconfig.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CustomObjectsApi, type KubernetesObject } from '@kubernetes/client-node';
import { chromium, type Browser } from 'playwright-core';
import { stringify as stringifyYaml } from 'yaml';
import { applyObjects, freePort, loadYamlFile, roleBinding, startControlPlane, type ControlPlane } from '../../scripts/controlplane.ts';
import { makeTestPki, startIdp, type TestIdp, type TestPki } from '../../scripts/idp.ts';
import { GROUP, PLURAL, VERSION, type AccessRequest } from '../../lib/api/accessrequest.ts';
import { installWebhook, type InstalledWebhook } from '../support/webhook.ts';
import { openIdClient } from '../../webui/oidc.ts';
import { bundle } from '../../plugin/build.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const CLIENT_ID = 'kubectl';
const USER_ROLES = join(REPO, 'manifests/rbac/user-roles.yaml');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

describe('kubectl netwatch with a legacy oidc auth-provider kubeconfig', () => {
  let pki: TestPki;
  let idp: TestIdp;
  let cp: ControlPlane;
  let webhook: InstalledWebhook | undefined;
  let browser: Browser | undefined;
  let work: string;
  let callback: string;

  before(async () => {
    pki = makeTestPki();
    callback = `https://127.0.0.1:${await freePort()}/callback`;
    idp = await startIdp({
      port: await freePort(),
      pki,
      clientId: CLIENT_ID,
      redirectUris: [callback],
      postLogoutRedirectUris: [],
      accounts: { alice: { email: 'alice@example.test', groups: ['developers'] } },
    });
    cp = await startControlPlane({
      maxtac: false,
      oidc: { issuerUrl: idp.issuer, clientId: CLIENT_ID, caFile: pki.caFile, usernameClaim: 'email', usernamePrefix: 'oidc:', groupsClaim: 'groups', groupsPrefix: 'oidc:' },
    });
    await applyObjects(cp.admin, [
      ...loadYamlFile(USER_ROLES),
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'monitoring' } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'payments' } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'prometheus', namespace: 'monitoring' }, spec: { selector: { app: 'prometheus' }, ports: [{ port: 9090, protocol: 'TCP' }] } } as KubernetesObject,
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'database', namespace: 'payments' }, spec: { selector: { app: 'database' }, ports: [{ port: 5432, protocol: 'TCP' }] } } as KubernetesObject,
      roleBinding('e2e-netwatch-users', 'netwatch-user', { kind: 'Group', name: 'oidc:developers' }),
      // Approvers of both namespaces: a request nobody but cluster admins may approve is refused at create.
      roleBinding('e2e-approver', 'netwatch-approver', { kind: 'User', name: 'oidc:bob@example.test' }, 'monitoring'),
      roleBinding('e2e-approver', 'netwatch-approver', { kind: 'User', name: 'oidc:bob@example.test' }, 'payments'),
    ]);
    webhook = await installWebhook(cp);
    await bundle();
    work = mkdtempSync(join(tmpdir(), 'netwatch-plugin-oidc-'));
    symlinkSync(join(REPO, 'plugin/bin/kubectl-netwatch.js'), join(work, 'kubectl-netwatch'));
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--ignore-certificate-errors-spki-list=${pki.spki}`],
    });
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await webhook?.close().catch(() => undefined);
    await cp?.stop();
    await idp?.close();
    pki?.remove();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** Alice signs in at the IdP in a real browser (authorization code with PKCE); the code is exchanged for her ID token. */
  async function idTokenOfAlice(): Promise<string> {
    const oidc = openIdClient({ issuerUrl: idp.issuer, clientId: CLIENT_ID, redirectUri: callback, scopes: ['openid', 'email', 'groups'], caPem: pki.caPem });
    const { url, tx } = await oidc.start();
    const context = await browser!.newContext();
    try {
      const page = await context.newPage();
      // Nothing listens at the redirect URI: the browser's request to it is caught here, as a CLI's loopback listener would.
      let redirected = '';
      await page.route(`${callback}**`, async (route) => {
        redirected = route.request().url();
        await route.fulfill({ status: 200, contentType: 'text/plain', body: 'signed in' });
      });
      await page.goto(url.href);
      await page.locator('input[name=login]').fill('alice');
      await page.locator('input[name=password]').fill('demo');
      await page.getByRole('button', { name: 'Sign-in' }).click();
      await page.waitForURL((u) => u.href.startsWith(callback) || u.pathname.includes('/interaction/'));
      if (!page.url().startsWith(callback)) await page.getByRole('button', { name: 'Continue' }).click();
      await page.waitForURL((u) => u.href.startsWith(callback));
      assert.ok(redirected, 'the IdP redirected back with a code');
      return (await oidc.finish(new URL(redirected), tx)).idToken;
    } finally {
      await context.close();
    }
  }

  function run(cmd: string, args: string[], home: string, kubeconfig: string): Promise<Result> {
    const env = { PATH: `${work}:${join(REPO, 'node_modules/.bin')}:/usr/local/bin:/usr/bin:/bin`, HOME: home, KUBECONFIG: kubeconfig };
    return new Promise((resolve) => {
      execFile(cmd, args, { env, timeout: 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 99) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  }

  test('the plugin hands the kubeconfig to the full CLI and acts as the user in the ID token, as kubectl does', async () => {
    const idToken = await idTokenOfAlice();
    // A kubeconfig as `kubectl config set-credentials alice --auth-provider=oidc ...` writes it (YAML).
    const kubeconfig = join(work, 'alice-oidc.kubeconfig');
    writeFileSync(
      kubeconfig,
      stringifyYaml({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'e2e', cluster: { server: cp.server, 'certificate-authority-data': Buffer.from(cp.caPem).toString('base64') } }],
        users: [
          {
            name: 'alice',
            user: {
              'auth-provider': {
                name: 'oidc',
                config: { 'client-id': CLIENT_ID, 'id-token': idToken, 'idp-issuer-url': idp.issuer, 'idp-certificate-authority-data': Buffer.from(pki.caPem).toString('base64') },
              },
            },
          },
        ],
        contexts: [{ name: 'e2e', context: { cluster: 'e2e', user: 'alice' } }],
        'current-context': 'e2e',
      }),
      { mode: 0o600 },
    );
    const home = mkdtempSync(join(work, 'home-'));

    const created = await run('kubectl', ['netwatch', 'request', 'service', '--from', 'monitoring/prometheus', '--to', 'payments/database', '--ports', '5432/TCP', '--duration', '2h', '--reason', 'signed in with oidc'], home, kubeconfig);
    assert.equal(created.code, 0, created.stderr);
    const name = /accessrequest\.netwatch\.vtk\.io\/(\S+) created/.exec(created.stdout)?.[1] ?? '';
    const stored = (await cp.admin.makeApiClient(CustomObjectsApi).getClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, name })) as AccessRequest;
    assert.equal(stored.spec.requester?.username, 'oidc:alice@example.test');
    assert.deepEqual(stored.spec.requester?.groups?.filter((g) => g.startsWith('oidc:')), ['oidc:developers']);

    const listed = await run('kubectl', ['netwatch', 'list', '-o', 'json'], home, kubeconfig);
    assert.equal(listed.code, 0, listed.stderr);
    const viaKubectl = await run('kubectl', ['get', 'accessrequests', '-o', 'json'], home, kubeconfig);
    assert.equal(viaKubectl.code, 0, viaKubectl.stderr);
    const items = (out: string) => (JSON.parse(out) as { items: AccessRequest[] }).items;
    assert.deepEqual(items(listed.stdout), items(viaKubectl.stdout));
    assert.ok(items(listed.stdout).some((r) => r.metadata.name === name));
    // The list path read the kubeconfig and handed it to the full CLI, which listed: the CLI wrote its code cache
    // for `list` (only `request` ran on the CLI before).
    const cache = join(home, '.cache', 'kubectl-netwatch');
    assert.ok(existsSync(cache));
    const files = readdirSync(cache);
    assert.ok(files.some((f) => f.startsWith('cli-list-')), files.join(', '));

    // Once the ID token has expired the plugin does not refresh it (it could not save the new one, as kubectl does):
    // it says so, in one line with the way out, and sends nothing.
    const [header, payload, signature] = idToken.split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as { exp: number };
    const expired = [header, Buffer.from(JSON.stringify({ ...claims, exp: 1_000_000_000 })).toString('base64url'), signature].join('.');
    const expiredConfig = join(work, 'alice-oidc-expired.kubeconfig');
    writeFileSync(expiredConfig, readFileSync(kubeconfig, 'utf8').replace(idToken, expired), { mode: 0o600 });
    const refused = await run('kubectl', ['netwatch', 'list', '-o', 'json'], home, expiredConfig);
    assert.equal(refused.code, 1, refused.stderr);
    assert.equal(refused.stdout, '');
    assert.match(refused.stderr, /^error: the ID token of the kubeconfig's oidc auth-provider expired at 2001-09-09T01:46:40\.000Z\nhint: kubectl refreshes and saves it/);
  });
});
