// End-to-end harness: starts the real webhook in-process against a test control plane, as the netwatch-webhook
// identity with the RBAC of manifests/webhook/rbac.yaml, and registers it with the API server by loopback URL +
// caBundle. Other components' end-to-end suites call installWebhook(cp) to get admission exactly as a cluster would
// have it. (The sandbox and the benchmarks run webhook/main.ts as a process instead: scripts/components.ts.)
import type { ControlPlane } from '../../scripts/controlplane.ts';
import { applyWebhookRbac, registerWebhook, unregisterWebhook, waitUntilLive } from '../../scripts/deploy.ts';
import { makeServingCertificates } from '../../scripts/certs.ts';
import { webhookConfig, type WebhookConfig } from '../../webhook/config.ts';
import { build } from '../../webhook/app.ts';
import { kubeHttpFor, reviewerOver, serviceReaderOver } from '../../webhook/kube.ts';
import { HttpKube } from '../../lib/kube/http.ts';
import { OpenRequestIndex } from '../../webhook/open-requests.ts';
import { ApproverIndex } from '../../lib/kube/rbac.ts';
import { RBAC_RESOURCES } from '../../lib/kube/cache.ts';
import { CachedPolicies } from '../../webhook/policies.ts';

// Where they were before they moved here with the harness: end-to-end suites import them from this file.
export { applyWebhookRbac, registerWebhook, unregisterWebhook, waitUntilLive };

const IDENTITY = 'netwatch-webhook';

export interface InstalledWebhook {
  url: string;
  /** Stops the server; the configurations stay registered, so admission now fails closed. */
  close(): Promise<void>;
  /** Deletes the webhook configurations (admission no longer calls the webhook at all). */
  unregister(): Promise<void>;
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
  // As main.ts: RBAC informers only when the unapprovable check runs (the least-privilege suite sees their calls).
  const requestCache = new HttpKube(kc, { cached: ['accessrequests', 'accesspolicies', ...(config.unapprovable === 'allow' ? [] : RBAC_RESOURCES)], maxSockets: 2 });
  const requests = new OpenRequestIndex(requestCache.cache);
  const approvers = new ApproverIndex(requestCache.cache);
  const policies = new CachedPolicies(requestCache.cache);
  await requestCache.start();
  requests.markSynced();
  approvers.markSynced();
  policies.markSynced();
  const app = await build({
    config,
    reviewer: reviewerOver(http),
    services: serviceReaderOver(http),
    requests,
    approvers,
    policies,
    tls: { key: certs.keyPem, cert: certs.certPem, ...(anyCaller ? {} : { clientCa: cp.webhookClientCaPem }) },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (!address || typeof address !== 'object') throw new Error('the webhook server has no address');
  const url = `https://127.0.0.1:${address.port}`;

  await registerWebhook(cp, url, certs.caPem);
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
    unregister: () => unregisterWebhook(cp),
  };
}
