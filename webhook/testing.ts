// Starts the real webhook in-process against a test control plane, as the netwatch-webhook identity with the
// RBAC of manifests/webhook/rbac.yaml, and registers it with the API server by loopback URL + caBundle. Other
// components' end-to-end suites call installWebhook(cp) to get admission exactly as a cluster would have it.
import { fileURLToPath } from 'node:url';
import { AdmissionregistrationV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { applyObjects, loadYamlFile, type ControlPlane } from '../scripts/controlplane.ts';
import { API_VERSION, GROUP, KIND, PLURAL, VERSION } from '../lib/api/accessrequest.ts';
import { webhookConfig, type WebhookConfig } from './config.ts';
import { build } from './app.ts';
import { makeServingCertificates } from '../scripts/certs.ts';
import { WEBHOOK_CONFIGURATION_NAME, webhookConfigurations } from './configurations.ts';
import { kubeHttpFor, reviewerOver, serviceReaderOver } from './kube.ts';
import { HttpKube } from '../lib/kube/http.ts';
import { OpenRequestIndex } from './open-requests.ts';

const RBAC_FILE = fileURLToPath(new URL('../manifests/webhook/rbac.yaml', import.meta.url));
const IDENTITY = 'netwatch-webhook';

export interface InstalledWebhook {
  url: string;
  /** Stops the server; the configurations stay registered, so admission now fails closed. */
  close(): Promise<void>;
  /** Deletes the webhook configurations (admission no longer calls the webhook at all). */
  unregister(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The API server picks configuration changes up asynchronously. A dry-run create (webhooks with sideEffects None
// are called for dry runs, nothing is stored) whose Services do not exist is refused by our validating webhook
// with "does not exist" only once the mutating webhook has stamped the requester too: then both are live.
export async function waitUntilLive(cp: ControlPlane, timeoutMs = 30_000): Promise<void> {
  const custom = cp.admin.makeApiClient(CustomObjectsApi);
  const body = {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { generateName: 'netwatch-webhook-probe-' },
    spec: {
      type: 'Service',
      source: { namespace: 'netwatch-webhook-probe', service: 'probe-a' },
      target: { namespace: 'netwatch-webhook-probe', service: 'probe-b' },
      duration: '1m',
      reason: 'webhook readiness probe (dry run)',
    },
  };
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

/** Applies the webhook's RBAC (manifests/webhook/rbac.yaml) for the netwatch-webhook identity. */
export async function applyWebhookRbac(cp: ControlPlane): Promise<void> {
  await applyObjects(cp.admin, loadYamlFile(RBAC_FILE));
}

/** (Re)registers both webhook configurations for a webhook served at `url` with a certificate signed by `caPem`. */
export async function registerWebhook(cp: ControlPlane, url: string, caPem: string): Promise<AdmissionregistrationV1Api> {
  const caBundle = Buffer.from(caPem).toString('base64');
  const configurations = webhookConfigurations((path) => ({ url: `${url}${path}`, caBundle }));
  // Replace, not merge: a previous install on this control plane may have pointed at another port.
  const admission = cp.admin.makeApiClient(AdmissionregistrationV1Api);
  await admission.deleteMutatingWebhookConfiguration({ name: WEBHOOK_CONFIGURATION_NAME }).catch(() => undefined);
  await admission.deleteValidatingWebhookConfiguration({ name: WEBHOOK_CONFIGURATION_NAME }).catch(() => undefined);
  await applyObjects(cp.admin, configurations);
  return admission;
}

export interface InstallWebhookOptions extends Partial<WebhookConfig> {
  /** Answer admission requests without asking for the API server's client certificate (default: ask). */
  anyCaller?: boolean;
}

export async function installWebhook(cp: ControlPlane, opts: InstallWebhookOptions = {}): Promise<InstalledWebhook> {
  const { anyCaller, ...configOverrides } = opts;
  const config = webhookConfig(configOverrides);
  const certs = makeServingCertificates({ ips: ['127.0.0.1'], dnsNames: ['localhost'] });
  await applyWebhookRbac(cp);

  const kc = cp.kubeConfigFor(IDENTITY);
  const http = kubeHttpFor(kc);
  const requestCache = new HttpKube(kc, { cached: ['accessrequests'], maxSockets: 2 });
  const requests = new OpenRequestIndex(requestCache.cache);
  await requestCache.start();
  requests.markSynced();
  const app = await build({
    config,
    reviewer: reviewerOver(http),
    services: serviceReaderOver(http),
    requests,
    tls: { key: certs.keyPem, cert: certs.certPem, ...(anyCaller ? {} : { clientCa: cp.webhookClientCaPem }) },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (!address || typeof address !== 'object') throw new Error('the webhook server has no address');
  const url = `https://127.0.0.1:${address.port}`;

  const admission = await registerWebhook(cp, url, certs.caPem);
  try {
    await waitUntilLive(cp);
  } catch (err) {
    await app.close();
    http.close();
    await requestCache.stop();
    throw err;
  }

  let closed = false;
  return {
    url,
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      http.close();
      await requestCache.stop();
    },
    async unregister() {
      await admission.deleteMutatingWebhookConfiguration({ name: WEBHOOK_CONFIGURATION_NAME }).catch(() => undefined);
      await admission.deleteValidatingWebhookConfiguration({ name: WEBHOOK_CONFIGURATION_NAME }).catch(() => undefined);
    },
  };
}
