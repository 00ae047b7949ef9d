// The kustomize tree as a cluster gets it: manifests/default and the two overlays (plus the web UI's impersonation
// component composed onto one) are rendered with kubectl's built-in kustomize and applied to the real test API
// server as server-side dry runs, client-side and server-side apply both, with strict field validation and the
// restricted Pod Security Standard in warn mode on netwatch-system. The rendered objects are then checked for what
// the manifests promise: hardened Deployments whose arguments the programs accept, fail-closed webhooks with a
// CA, PodDisruptionBudgets, Services and NetworkPolicies that match the pods.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { applyObjects, ensureBinaries, loadYamlFile, startControlPlane, type ControlPlane } from '../../scripts/controlplane.ts';
import { SERVER_ENTRIES } from '../../scripts/build-dist.ts';
import { parseWebUiArgs, WEBUI_COMMAND } from '../../webui/options.ts';
import { variablesOf } from '../../lib/cli/flags.ts';
import { durationSeconds, isNever } from '../../lib/domain/duration.ts';
import { partsOf, permissionFor } from '../../lib/domain/parts.ts';
import { parseConfig } from '../../notifier/config.ts';
import { NOTIFIER_COMMAND, parseNotifierArgs } from '../../notifier/options.ts';
import {
  REPO,
  copyManifestTree,
  deploymentProblems,
  find,
  kubectl,
  ofKind,
  render,
  webhookConfigurationsOf,
  webhookProblems,
  type Container,
  type Deployment,
  type Manifest,
} from '../support/manifests.ts';
import type { PolicyRule } from '../support/rbac.ts';

const SYSTEM_NS = 'netwatch-system';
const IMPERSONATION = 'overlays/test-impersonation';
/** What kubectl applies, relative to the copied manifests/ folder. */
const TREES = ['default', 'overlays/cert-manager', 'overlays/self-signed', IMPERSONATION] as const;
type Tree = (typeof TREES)[number];

let cp: ControlPlane;
let root: string;
const rendered = new Map<Tree, Manifest[]>();
const objectsOf = (tree: Tree): Manifest[] => rendered.get(tree) ?? assert.fail(`${tree} was not rendered`);
const dirOf = (tree: string) => join(root, 'manifests', tree);
const selfSignedCerts = () => join(dirOf('overlays/self-signed'), 'certs');

// cert-manager's own CRDs (its release's deploy/crds, fetched by scripts/build-binaries.sh), so the overlay's Issuers
// and Certificates are checked against cert-manager's real schemas. Its controller and cainjector do not run here
// (the Go module proxy does not serve them): issuing the certificate and injecting the CA are cert-manager's part.
function certManagerCrds(): KubernetesObject[] {
  const dir = ensureBinaries().certManagerCrds;
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  assert.ok(files.includes('cert-manager.io_certificates.yaml') && files.includes('cert-manager.io_issuers.yaml'), `${dir} holds cert-manager's CRDs`);
  return files.flatMap((f) => loadYamlFile(join(dir, f)));
}

// kubectl warns when it applies to an object that was created without it (the control plane creates our CRD); that
// is the test setup, not the manifests. Every other warning (Pod Security, deprecations, unknown fields) fails.
const isSetupWarning = (line: string) => line.includes('missing the kubectl.kubernetes.io/last-applied-configuration annotation');

async function dryRun(tree: Tree, serverSide: boolean): Promise<void> {
  const args = ['apply', '-k', dirOf(tree), '--dry-run=server'];
  if (serverSide) args.push('--server-side', '--field-manager=netwatch-manifests-test');
  const r = await kubectl(args, { kubeconfig: cp.adminKubeconfigPath });
  assert.equal(r.status, 0, `kubectl ${args.join(' ')} failed:\n${r.stderr}`);
  const warnings = r.stderr.split('\n').filter((l) => l.trim() && !isSetupWarning(l));
  assert.deepEqual(warnings, [], `kubectl ${args.join(' ')} warned`);
  const applied = r.stdout.split('\n').filter((l) => l.endsWith('(server dry run)'));
  assert.equal(applied.length, objectsOf(tree).length, r.stdout);
}

const deploymentsOf = (tree: Tree) => ofKind<Deployment>(objectsOf(tree), 'Deployment');
const containerOf = (d: Deployment): Container => d.spec.template.spec.containers[0] ?? assert.fail(`${d.metadata.name} has no container`);
const containerPort = (c: Container, name: string): number => c.ports?.find((p) => p.name === name)?.containerPort ?? assert.fail(`${c.name} has no port ${name}`);
const flag = (args: string[], name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const labelsMatch = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);

/**
 * Runs the component's real entry point with the manifest's arguments plus a kubeconfig that does not exist: the
 * flags are parsed (strictly, choices checked, the webhook's configuration validated) and the process stops at
 * the first thing it does afterwards, loading that file. Any other failure is a manifest/program mismatch.
 */
function runWithManifestArgs(entry: string, args: string[]): Promise<{ status: number | null; stderr: string; sentinel: string }> {
  const sentinel = join(root, 'netwatch-manifest-check.kubeconfig');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, entry), ...args, `--kubeconfig=${sentinel}`], { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] });
    const err: Buffer[] = [];
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stderr: Buffer.concat(err).toString('utf8'), sentinel }));
  });
}

interface NetworkPolicy extends Manifest {
  spec: {
    podSelector: { matchLabels?: Record<string, string> };
    policyTypes?: string[];
    ingress?: { from?: { namespaceSelector?: { matchLabels?: Record<string, string> }; podSelector?: unknown; ipBlock?: unknown }[]; ports?: { port?: number | string; protocol?: string }[] }[];
  };
}

/** The ingress rules that open `port` of the pods with `labels`; [] when a default deny leaves it closed. */
function ingressTo(policies: NetworkPolicy[], labels: Record<string, string>, port: number) {
  return policies
    .filter((p) => (p.spec.policyTypes ?? ['Ingress']).includes('Ingress') && labelsMatch(p.spec.podSelector.matchLabels ?? {}, labels))
    .flatMap((p) => p.spec.ingress ?? [])
    .filter((rule) => !rule.ports || rule.ports.some((p) => p.port === port));
}

describe('manifests: kustomize trees the API server accepts', () => {
  before(async () => {
    cp = await startControlPlane({ maxtac: false });
    root = copyManifestTree();
    const certs = spawnSync('bash', [join(REPO, 'certs/dev-certs.sh'), '-o', selfSignedCerts()], { encoding: 'utf8' });
    assert.equal(certs.status, 0, certs.stderr);
    // The impersonation component composed onto an overlay, as the default kustomization's comment tells users to.
    mkdirSync(dirOf(IMPERSONATION));
    writeFileSync(join(dirOf(IMPERSONATION), 'kustomization.yaml'), 'resources: [../self-signed]\ncomponents: [../../webui/impersonation]\n');
    for (const tree of TREES) rendered.set(tree, await render(dirOf(tree)));
    await applyObjects(cp.admin, certManagerCrds());
    // A dry run cannot create the namespace its namespaced objects go to: the Namespace is created for real (with
    // its Pod Security labels, so the dry runs below are checked against the restricted standard).
    await applyObjects(cp.admin, [find(objectsOf('default'), 'Namespace', SYSTEM_NS)]);
  });

  after(async () => {
    await cp?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  for (const tree of TREES) {
    test(`${tree}: kubectl apply -k --dry-run=server succeeds without warnings, client- and server-side`, async () => {
      await dryRun(tree, false);
      await dryRun(tree, true);
    });

    test(`${tree}: every Deployment is hardened and every webhook fails closed`, () => {
      assert.equal(deploymentsOf(tree).length, 4);
      assert.deepEqual(deploymentsOf(tree).flatMap(deploymentProblems), []);
      assert.equal(webhookConfigurationsOf(objectsOf(tree)).length, 2);
      assert.deepEqual(webhookProblems(objectsOf(tree)), []);
    });
  }

  test('the checks catch a broken manifest, and so does the API server', async () => {
    const webhook = structuredClone(find<Deployment>(objectsOf('default'), 'Deployment', 'netwatch-webhook'));
    const c = containerOf(webhook);
    delete c.securityContext?.capabilities;
    delete c.livenessProbe;
    assert.deepEqual(deploymentProblems(webhook), ['Deployment netwatch-webhook container webhook: capabilities do not drop ALL', 'Deployment netwatch-webhook container webhook: no livenessProbe']);
    const r = await kubectl(['apply', '-f', '-', '--dry-run=server'], { kubeconfig: cp.adminKubeconfigPath, input: JSON.stringify(webhook) });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /would violate PodSecurity "restricted:latest": unrestricted capabilities/);

    const objects = structuredClone(objectsOf('default'));
    const hooks = webhookConfigurationsOf(objects);
    const first = hooks[0]?.webhooks[0] ?? assert.fail('no webhook');
    first.failurePolicy = 'Ignore';
    assert.equal(webhookProblems(objects).length, 1);
  });

  test('default: no certificate at all; the webhook expects the Secret netwatch-webhook-tls', () => {
    const objects = objectsOf('default');
    for (const config of webhookConfigurationsOf(objects)) {
      assert.equal(config.metadata.annotations?.['cert-manager.io/inject-ca-from'], undefined);
      for (const h of config.webhooks) assert.equal(h.clientConfig.caBundle, undefined);
    }
    assert.deepEqual(objects.filter((o) => o.kind === 'Secret' || o.apiVersion.startsWith('cert-manager.io/')), []);
    const volumes = find<Deployment>(objects, 'Deployment', 'netwatch-webhook').spec.template.spec.volumes ?? [];
    assert.deepEqual(volumes.find((v) => v.name === 'tls')?.['secret'], { secretName: 'netwatch-webhook-tls' });
  });

  test('self-signed: the generated Secret holds the serving pair and every caBundle is the CA of dev-certs.sh', () => {
    const objects = objectsOf('overlays/self-signed');
    const file = (name: string) => readFileSync(join(selfSignedCerts(), name), 'utf8');
    const secret = find<Manifest & { type: string; data: Record<string, string> }>(objects, 'Secret', 'netwatch-webhook-tls');
    assert.equal(secret.metadata.namespace, SYSTEM_NS);
    assert.equal(secret.type, 'kubernetes.io/tls');
    assert.deepEqual(Object.keys(secret.data).sort(), ['ca.crt', 'tls.crt', 'tls.key'], 'the CA key never goes into the cluster');
    const decoded = (b64: string) => Buffer.from(b64.replace(/\s/g, ''), 'base64').toString('utf8');
    assert.equal(decoded(secret.data['tls.crt'] ?? ''), file('tls.crt'));
    assert.equal(decoded(secret.data['tls.key'] ?? ''), file('tls.key'));
    const hooks = webhookConfigurationsOf(objects).flatMap((c) => c.webhooks);
    assert.equal(hooks.length, 3);
    for (const h of hooks) assert.equal(decoded(h.clientConfig.caBundle ?? ''), file('ca.crt'), h.name);
    // The serving certificate names the Service the webhooks call.
    const san = spawnSync('openssl', ['x509', '-noout', '-ext', 'subjectAltName', '-in', join(selfSignedCerts(), 'tls.crt')], { encoding: 'utf8' });
    assert.match(san.stdout, /DNS:netwatch-webhook\.netwatch-system\.svc\b/);
  });

  test('cert-manager: both configurations ask the cainjector for the serving Certificate, which names the Service', () => {
    const objects = objectsOf('overlays/cert-manager');
    for (const config of webhookConfigurationsOf(objects)) {
      assert.equal(config.metadata.annotations?.['cert-manager.io/inject-ca-from'], `${SYSTEM_NS}/netwatch-webhook`, config.kind);
    }
    const certificate = find<Manifest & { spec: { secretName: string; dnsNames: string[]; issuerRef: { name: string; kind: string } } }>(objects, 'Certificate', 'netwatch-webhook');
    assert.equal(certificate.metadata.namespace, SYSTEM_NS);
    assert.equal(certificate.spec.secretName, 'netwatch-webhook-tls');
    assert.ok(certificate.spec.dnsNames.includes('netwatch-webhook.netwatch-system.svc'));
    assert.equal(find(objects, certificate.spec.issuerRef.kind, certificate.spec.issuerRef.name).metadata.namespace, SYSTEM_NS);
  });

  test("cert-manager: the overlay's Certificates pass cert-manager's own schema, which refuses what cert-manager would not take", async () => {
    const objects = objectsOf('overlays/cert-manager');
    const certificates = ofKind<Manifest & { spec: Record<string, unknown> }>(objects, 'Certificate');
    assert.ok(certificates.length > 0);
    const dryRunOne = (obj: unknown) =>
      kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', '-'], { kubeconfig: cp.adminKubeconfigPath, input: JSON.stringify(obj) });
    for (const certificate of certificates) {
      const ok = await dryRunOne(certificate);
      assert.equal(ok.status, 0, ok.stderr);
      // The schema is really in force: a key algorithm cert-manager does not know, and a misspelt field.
      const badAlgorithm = await dryRunOne({ ...certificate, spec: { ...certificate.spec, privateKey: { algorithm: 'DSA' } } });
      assert.notEqual(badAlgorithm.status, 0);
      assert.match(badAlgorithm.stderr, /spec\.privateKey\.algorithm/);
      const misspelt = await dryRunOne({ ...certificate, spec: { ...certificate.spec, dnsName: ['x.example'] } });
      assert.notEqual(misspelt.status, 0);
      assert.match(misspelt.stderr, /unknown field "spec\.dnsName"/);
    }
  });

  test('impersonation component: the web UI impersonates with its mounted token, and may only impersonate', () => {
    const objects = objectsOf(IMPERSONATION);
    const ui = find<Deployment>(objects, 'Deployment', 'netwatch-webui');
    const env = Object.fromEntries((containerOf(ui).env ?? []).map((e) => [e.name, e.value]));
    assert.equal(env['NETWATCH_WEBUI_ACT_AS'], 'impersonate');
    assert.deepEqual((ui.spec.template.spec.volumes ?? []).map((v) => v.name).sort(), ['oidc', 'session', 'tls']);
    assert.ok(!(containerOf(ui).volumeMounts ?? []).some((m) => m.mountPath.startsWith('/var/run/secrets/kubernetes.io')));
    assert.equal(find(objects, 'ServiceAccount', 'netwatch-webui')['automountServiceAccountToken'], true);
    const role = find<Manifest & { rules: PolicyRule[] }>(objects, 'ClusterRole', 'netwatch-webui-impersonator');
    assert.deepEqual(role.rules, [{ apiGroups: [''], resources: ['users', 'groups'], verbs: ['impersonate'] }]);
    // Nothing else changed: the same objects as the overlay it was composed onto, plus the role and its binding.
    const base = objectsOf('overlays/self-signed').map((o) => `${o.kind}/${o.metadata.name}`);
    assert.deepEqual(objects.map((o) => `${o.kind}/${o.metadata.name}`).filter((k) => !base.includes(k)).sort(), ['ClusterRole/netwatch-webui-impersonator', 'ClusterRoleBinding/netwatch-webui-impersonator']);
  });

  test('each component folder still builds on its own', async () => {
    for (const dir of ['base', 'rbac', 'controller', 'notifier', 'webhook', 'webui', 'networkpolicies']) {
      assert.ok((await render(join(REPO, 'manifests', dir))).length > 0, dir);
    }
  });

  test('the controller, notifier and webhook arguments are flags their programs accept', async () => {
    for (const name of ['controller', 'notifier', 'webhook'] as const) {
      const d = find<Deployment>(objectsOf('default'), 'Deployment', `netwatch-${name}`);
      const c = containerOf(d);
      // The image's ENTRYPOINT is `node`: no command, and the first argument is the component's bundle.
      assert.equal((c as Container & { command?: unknown }).command, undefined);
      const [bundle, ...args] = c.args ?? [];
      assert.equal(bundle, `dist/${name}.mjs`);
      const r = await runWithManifestArgs(SERVER_ENTRIES[name], args);
      assert.ok(r.status !== 0 && r.stderr.includes('ENOENT') && r.stderr.includes(r.sentinel), `${name} ${args.join(' ')}:\n${r.stderr}`);
    }
    const controller = containerOf(find<Deployment>(objectsOf('default'), 'Deployment', 'netwatch-controller'));
    const args = controller.args ?? [];
    for (const d of ['pending-ttl', 'retention', 'lease-duration', 'sweep-interval']) {
      const value = flag(args, d);
      if (value !== undefined && !isNever(value)) assert.doesNotThrow(() => durationSeconds(value), `--${d}=${value}`);
    }
    assert.equal(Number(flag(args, 'listen')?.split(':').pop()), containerPort(controller, 'http'));
    const webhook = containerOf(find<Deployment>(objectsOf('default'), 'Deployment', 'netwatch-webhook'));
    assert.equal(Number(flag(webhook.args ?? [], 'port')), containerPort(webhook, 'https'));
    assert.equal(flag(webhook.args ?? [], 'controller-username'), `system:serviceaccount:${SYSTEM_NS}:netwatch-controller`);
  });

  test('the notifier reads the shipped configuration from its ConfigMap, and its secrets Secret is optional', () => {
    const objects = objectsOf('default');
    const d = find<Deployment>(objects, 'Deployment', 'netwatch-notifier');
    const c = containerOf(d);
    // Its flags and variables as its own parser reads them: known, valid, no warning.
    const env: Record<string, string | undefined> = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value ?? 'from-the-pod']));
    const known = new Set([...variablesOf(NOTIFIER_COMMAND).map((v) => v.name), 'POD_NAME', 'NODE_OPTIONS']);
    assert.deepEqual(Object.keys(env).filter((k) => !known.has(k)), [], 'variables that are not notifier settings');
    const parsed = parseNotifierArgs((c.args ?? []).slice(1), env);
    assert.equal(parsed.kind, 'run');
    assert.deepEqual(parsed.warnings, []);
    assert.equal(parsed.options.settings.webUrl, undefined, 'no link until the site sets NETWATCH_NOTIFIER_WEB_URL');
    const configFile = flag(c.args ?? [], 'config') ?? assert.fail('no --config');
    const mount = (c.volumeMounts ?? []).find((m) => configFile.startsWith(`${m.mountPath}/`)) ?? assert.fail(`${configFile} is not under a volume mount`);
    const volume = (d.spec.template.spec.volumes ?? []).find((v) => v.name === mount.name) as { configMap?: { name: string } } | undefined;
    const configMap = find<Manifest & { data: Record<string, string> }>(objects, 'ConfigMap', volume?.configMap?.name ?? assert.fail('not a ConfigMap volume'));
    const text = configMap.data[configFile.slice(mount.mountPath.length + 1)] ?? assert.fail(`the ConfigMap has no ${configFile}`);
    assert.deepEqual(parseConfig(text, configFile).sinks, [], 'no sinks until configured');
    const secrets = (d.spec.template.spec.volumes ?? []).find((v) => v.name === 'secrets') as { secret?: { secretName: string; optional?: boolean } } | undefined;
    assert.deepEqual(secrets?.secret && { name: secrets.secret.secretName, optional: secrets.secret.optional }, { name: 'netwatch-notifier-secrets', optional: true });
    assert.equal(Number(flag(c.args ?? [], 'listen')?.split(':').pop()), containerPort(c, 'http'));
  });

  test('the web UI environment is exactly what its configuration reads, current names only, and valid', () => {
    const current = new Set(variablesOf(WEBUI_COMMAND).filter((v) => !v.deprecated).map((v) => v.name));
    for (const tree of ['default', IMPERSONATION] as const) {
      const c = containerOf(find<Deployment>(objectsOf(tree), 'Deployment', 'netwatch-webui'));
      assert.deepEqual(c.args, [`dist/webui.mjs`]);
      assert.equal(SERVER_ENTRIES.webui, 'webui/main.ts');
      const env: Record<string, string | undefined> = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
      assert.deepEqual(Object.keys(env).filter((k) => !current.has(k)), [], 'variables that are not (or no longer) web UI settings');
      // Mounted files stand in: the session key must decode to 32 bytes, the rest is opaque text.
      const parsed = parseWebUiArgs([], env, (path) => (path.endsWith('/session/key') ? Buffer.alloc(32, 7).toString('base64') : `contents of ${path}`));
      assert.equal(parsed.kind, 'run');
      assert.deepEqual(parsed.warnings, [], 'no unknown or deprecated variable');
      const { settings } = parsed;
      assert.equal(settings.server.port, containerPort(c, 'https'));
      assert.ok(settings.server.tls, 'serves HTTPS itself');
      assert.equal(settings.app.actAs, tree === 'default' ? 'token' : 'impersonate');
      // Every mounted file the configuration names is under a volume mount.
      for (const [name, value] of Object.entries(env)) {
        if (!name.endsWith('_FILE') || !value) continue;
        assert.ok((c.volumeMounts ?? []).some((m) => value.startsWith(`${m.mountPath}/`)), `${name}=${value} is not mounted`);
      }
    }
  });

  test('Services, PodDisruptionBudgets and NetworkPolicies match the pods they are for', () => {
    const objects = objectsOf('default');
    const deployments = ofKind<Deployment>(objects, 'Deployment');
    const podsOf = (selector: Record<string, string>) => deployments.filter((d) => labelsMatch(selector, d.spec.template.metadata.labels));
    for (const svc of ofKind<Manifest & { spec: { selector: Record<string, string>; ports: { port: number; targetPort: string | number }[] } }>(objects, 'Service')) {
      const [d, ...more] = podsOf(svc.spec.selector);
      assert.ok(d && more.length === 0, `Service ${svc.metadata.name} selects one Deployment`);
      for (const p of svc.spec.ports) assert.ok((containerOf(d).ports ?? []).some((port) => port.name === p.targetPort || port.containerPort === p.targetPort), `${svc.metadata.name}:${p.port}`);
    }
    const pdbs = ofKind<Manifest & { spec: { minAvailable: number; selector: { matchLabels: Record<string, string> } } }>(objects, 'PodDisruptionBudget');
    for (const d of deployments) {
      const pdb = pdbs.find((p) => labelsMatch(p.spec.selector.matchLabels, d.spec.template.metadata.labels));
      assert.ok(pdb, `no PodDisruptionBudget for ${d.metadata.name}`);
      assert.ok(pdb.spec.minAvailable >= 1 && pdb.spec.minAvailable < (d.spec.replicas ?? 1), `${d.metadata.name}: a drain can proceed and leaves a replica`);
    }

    const policies = ofKind<NetworkPolicy>(objects, 'NetworkPolicy');
    assert.ok(policies.every((p) => p.metadata.namespace === SYSTEM_NS));
    const deny = policies.filter((p) => Object.keys(p.spec.podSelector.matchLabels ?? {}).length === 0);
    assert.deepEqual(deny.map((p) => [p.spec.policyTypes, p.spec.ingress]), [[['Ingress'], undefined]], 'one default deny for ingress');
    assert.ok(policies.every((p) => !(p.spec.policyTypes ?? []).includes('Egress')), 'egress is left open (see networkpolicies.yaml)');
    const pod = (name: string) => find<Deployment>(objects, 'Deployment', name).spec.template.metadata.labels;
    for (const name of ['netwatch-webhook', 'netwatch-webui']) {
      assert.deepEqual(ingressTo(policies, pod(name), 8443).map((r) => r.from), [undefined], `${name} 8443 is open to any source`);
    }
    assert.deepEqual(ingressTo(policies, pod('netwatch-webui'), 8080), [], 'the web UI has nothing else open');
    for (const name of ['netwatch-controller', 'netwatch-notifier', 'netwatch-webhook']) {
      assert.deepEqual(ingressTo(policies, pod(name), 8080).map((r) => r.from), [[{ namespaceSelector: { matchLabels: { 'netwatch.vtk.io/metrics-scraper': 'true' } } }]], `${name} metrics`);
    }
    assert.deepEqual(ingressTo(policies, pod('netwatch-controller'), 8443), []);
  });

  test('people roles: netwatch-approver grants the check the webhook makes, netwatch-user what the UIs call', () => {
    const objects = objectsOf('default');
    const rules = (name: string) => find<Manifest & { rules: PolicyRule[] }>(objects, 'ClusterRole', name).rules;
    const approve = permissionFor(partsOf({ type: 'External', service: { namespace: 'team-a', name: 'web' } })[0] ?? assert.fail('no part')).approve;
    assert.ok(rules('netwatch-approver').some((r) => r.verbs.includes(approve.verb) && r.apiGroups?.includes(approve.group) && r.resources?.includes(approve.resource)));
    // A RoleBinding scopes it to one namespace: nothing in it may be cluster-scoped or a write of anything else.
    assert.deepEqual([...new Set(rules('netwatch-approver').flatMap((r) => r.verbs))].sort(), ['approve', 'get', 'list', 'watch']);
    const user = rules('netwatch-user');
    const has = (group: string, resource: string, verb: string) => user.some((r) => r.apiGroups?.includes(group) && r.resources?.includes(resource) && r.verbs.includes(verb));
    for (const verb of ['create', 'get', 'list', 'watch', 'delete']) assert.ok(has(approve.group, 'accessrequests', verb), verb);
    assert.ok(has(approve.group, 'accessrequests/status', 'update'), 'approvals and decisions are status writes');
    assert.ok(!has(approve.group, 'accessrequests', 'update') && !has(approve.group, 'accessrequests', 'patch'), 'specs are immutable: no spec writes');
  });
});
