// What a cluster gets from manifests/ for each netwatch component, applied to a local control plane
// (scripts/controlplane.ts): each component's ServiceAccount identity gets exactly the RBAC of its manifests, and
// the webhook is registered by loopback URL + caBundle, as the design requires of tests. The sandbox, the
// benchmarks and the end-to-end harness (test/support/) all install netwatch through these.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AdmissionregistrationV1Api, CustomObjectsApi, type KubernetesObject } from '@kubernetes/client-node';
import { applyObjects, loadYamlFile, type ControlPlane } from './controlplane.ts';
import { API_VERSION, GROUP, KIND, PLURAL, VERSION } from '../lib/api/accessrequest.ts';
import { WEBHOOK_CONFIGURATION_NAME, webhookConfigurations } from '../webhook/configurations.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const MANIFESTS = `${REPO}manifests/`;
const manifest = (path: string) => loadYamlFile(`${MANIFESTS}${path}`);
const SYSTEM_NAMESPACE: KubernetesObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'netwatch-system' } };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Applies the webhook's RBAC (manifests/webhook/rbac.yaml) for the netwatch-webhook identity, of this checkout or of
 * the one at `root` (another revision's, for the benchmark's --compare).
 */
export async function applyWebhookRbac(cp: ControlPlane, root?: string): Promise<void> {
  await applyObjects(cp.admin, root === undefined ? manifest('webhook/rbac.yaml') : loadYamlFile(join(root, 'manifests/webhook/rbac.yaml')));
}

/** The CRDs netwatch defines, as the checkout at `root` generated them (crds/); an older checkout may lack some. */
export function netwatchCrds(root = REPO): KubernetesObject[] {
  return ['accessrequests', 'accesspolicies'].map((n) => join(root, `crds/${n}.netwatch.vtk.io.yaml`)).filter((f) => existsSync(f)).flatMap((f) => loadYamlFile(f));
}

/**
 * The webhook configurations of manifests/webhook/webhooks.yaml at `root` (the cluster form, which
 * webhook/configurations.test.ts keeps equal to webhookConfigurations()), each pointed at `url` + its Service path.
 * For another revision, whose configuration code this checkout cannot import.
 */
export function webhookConfigurationsOf(root: string, url: string, caBundle: string): KubernetesObject[] {
  type Hook = { clientConfig?: { service?: { path?: string }; url?: string; caBundle?: string } };
  return loadYamlFile(join(root, 'manifests/webhook/webhooks.yaml')).map((o) => {
    // unregisterWebhook deletes the configurations by this name: another would stay registered.
    if (o.metadata?.name !== WEBHOOK_CONFIGURATION_NAME) {
      throw new Error(`${join(root, 'manifests/webhook/webhooks.yaml')}: ${o.kind ?? '?'} is named ${String(o.metadata?.name)}, not ${WEBHOOK_CONFIGURATION_NAME}`);
    }
    const hooks = ((o as { webhooks?: Hook[] }).webhooks ?? []).map((h) => {
      const path = h.clientConfig?.service?.path;
      if (path === undefined) throw new Error(`${join(root, 'manifests/webhook/webhooks.yaml')}: a webhook of ${o.kind ?? '?'} has no clientConfig.service.path`);
      return { ...h, clientConfig: { url: `${url}${path}`, caBundle } };
    });
    return { ...o, webhooks: hooks } as KubernetesObject;
  });
}

/** The controller's RBAC (and ServiceAccount) from manifests/controller/, applied as the admin. */
export async function applyControllerRbac(cp: ControlPlane): Promise<void> {
  await applyObjects(cp.admin, [SYSTEM_NAMESPACE, ...manifest('controller/serviceaccount.yaml'), ...manifest('controller/rbac.yaml')]);
}

/** The notifier's RBAC (and ServiceAccount) from manifests/notifier/, applied as the admin. */
export async function applyNotifierRbac(cp: ControlPlane): Promise<void> {
  await applyObjects(cp.admin, [SYSTEM_NAMESPACE, ...manifest('notifier/serviceaccount.yaml'), ...manifest('notifier/rbac.yaml')]);
}

/** The objects of manifests/webui the web UI's own identity needs: its Role, RoleBinding and the sessions ConfigMap. */
export function webUiOwnObjects(): KubernetesObject[] {
  return ['rbac.yaml', 'sessions.yaml'].flatMap((f) => manifest(`webui/${f}`));
}

/** Applies them (and the namespace) to a test control plane, for the netwatch-webui identity. */
export async function installWebUiRbac(cp: ControlPlane): Promise<void> {
  await applyObjects(cp.admin, [SYSTEM_NAMESPACE, ...webUiOwnObjects()]);
}

/**
 * (Re)registers both webhook configurations for a webhook served at `url` with a certificate signed by `caPem`:
 * this checkout's, or those of the checkout at `root` (its manifests).
 */
export async function registerWebhook(cp: ControlPlane, url: string, caPem: string, root?: string): Promise<AdmissionregistrationV1Api> {
  const caBundle = Buffer.from(caPem).toString('base64');
  const configurations = root === undefined ? webhookConfigurations((path) => ({ url: `${url}${path}`, caBundle })) : webhookConfigurationsOf(root, url, caBundle);
  // Replace, not merge: a previous install on this control plane may have pointed at another port.
  const admission = cp.admin.makeApiClient(AdmissionregistrationV1Api);
  await admission.deleteMutatingWebhookConfiguration({ name: WEBHOOK_CONFIGURATION_NAME }).catch(() => undefined);
  await admission.deleteValidatingWebhookConfiguration({ name: WEBHOOK_CONFIGURATION_NAME }).catch(() => undefined);
  await applyObjects(cp.admin, configurations);
  return admission;
}

/** An AccessRequest for dry runs only: its Services do not exist, so the validating webhook refuses it. */
function probeRequest(reason: string) {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { generateName: 'netwatch-webhook-probe-' },
    spec: {
      type: 'Service',
      source: { namespace: 'netwatch-webhook-probe', service: 'probe-a' },
      target: { namespace: 'netwatch-webhook-probe', service: 'probe-b' },
      duration: '1m',
      reason,
    },
  };
}

// The API server picks configuration changes up asynchronously. A dry-run create (webhooks with sideEffects None
// are called for dry runs, nothing is stored) whose Services do not exist is refused by our validating webhook
// with "does not exist" only once the mutating webhook has stamped the requester too: then both are live.
export async function waitUntilLive(cp: ControlPlane, timeoutMs = 30_000): Promise<void> {
  const custom = cp.admin.makeApiClient(CustomObjectsApi);
  const body = probeRequest('webhook readiness probe (dry run)');
  const deadline = Date.now() + timeoutMs;
  let last: string;
  for (;;) {
    try {
      await custom.createClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, body, dryRun: 'All' });
      last = 'the dry-run create was allowed';
    } catch (err) {
      last = String((err as { body?: unknown }).body ?? err);
      if (last.includes('does not exist')) return;
    }
    if (Date.now() > deadline) throw new Error(`the netwatch webhooks did not become live: ${last.slice(0, 500)}`);
    await sleep(100);
  }
}

/** Deletes both webhook configurations and waits until the API server stops calling the webhook. */
export async function unregisterWebhook(cp: ControlPlane, timeoutMs = 30_000): Promise<void> {
  const admission = cp.admin.makeApiClient(AdmissionregistrationV1Api);
  await admission.deleteMutatingWebhookConfiguration({ name: WEBHOOK_CONFIGURATION_NAME }).catch(() => undefined);
  await admission.deleteValidatingWebhookConfiguration({ name: WEBHOOK_CONFIGURATION_NAME }).catch(() => undefined);
  // A dry-run create that comes back with no requester went through no mutating webhook.
  const custom = cp.admin.makeApiClient(CustomObjectsApi);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const created = (await custom
      .createClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, body: probeRequest('webhook removal probe (dry run)'), dryRun: 'All' })
      .catch(() => undefined)) as { spec?: { requester?: unknown } } | undefined;
    if (created && !created.spec?.requester) return;
    await sleep(100);
  }
  throw new Error('the API server still calls the netwatch webhooks after their configurations were deleted');
}
