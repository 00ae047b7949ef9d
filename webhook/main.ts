// The webhook process: the only file that reads flags/environment, opens the listening socket or exits.
// Flags may also be given as NETWATCH_WEBHOOK_* environment variables (e.g. NETWATCH_WEBHOOK_MAX_DURATION=8h);
// options.ts parses and checks both.
import type { Http2SecureServer } from 'node:http2';
import { hideBin } from 'yargs/helpers';
import { build, buildProbes, describeError } from './app.ts';
import { kubeHttpFor, reviewerOver, serviceReaderOver } from './kube.ts';
import { HttpKube } from '../lib/kube/http.ts';
import { OpenRequestIndex } from './open-requests.ts';
import { ApproverIndex } from '../lib/kube/rbac.ts';
import { RBAC_RESOURCES, type CachedResource } from '../lib/kube/cache.ts';
import { CachedPolicies } from './policies.ts';
import { webhookMetrics } from './metrics.ts';
import { parseWebhookArgs } from './options.ts';
import { beginMain, loadKubeConfig } from '../lib/cli/main.ts';
import { readServingFiles, reloadWhenChanged } from '../lib/server/serving-certificate.ts';

const { parsed, log: logger } = beginMain('netwatch-webhook', () => parseWebhookArgs(hideBin(process.argv), process.env), (p) => p.options.logLevel);
const { options } = parsed;

function fail(message: string): never {
  logger.fatal(message);
  process.exit(1);
}

const config = options.config;

const kc = loadKubeConfig(options.kubeconfig);

const servingFiles = { certFile: options.tlsCertFile, keyFile: options.tlsKeyFile, clientCaFile: options.clientCaFile };
let tls;
try {
  tls = readServingFiles(servingFiles);
} catch (err) {
  fail(`cannot read the serving certificate: ${describeError(err)}`);
}

const metrics = webhookMetrics({ defaultMetrics: true });
const http = kubeHttpFor(kc);
// Informers: AccessPolicies (the rules enforced) always; open AccessRequests per user (the per-requester limit) only
// when a limit is set; who may approve a part (--unapprovable refuse or warn): Roles, ClusterRoles and their bindings.
const limited = config.maxOpenRequests > 0;
const checksApprovers = config.unapprovable !== 'allow';
const cached: CachedResource[] = [...(limited ? (['accessrequests'] as const) : []), 'accesspolicies', ...(checksApprovers ? RBAC_RESOURCES : [])];
const requestCache = new HttpKube(kc, { cached, maxSockets: 2, onInformerError: (resource, err) => logger.warn({ resource, err: describeError(err) }, 'informer failed; restarting it') });
const openRequests = new OpenRequestIndex(requestCache.cache);
const approvers = new ApproverIndex(requestCache.cache);
const policies = new CachedPolicies(requestCache.cache);
let listening = false;
let synced = false;
const app = await build({
  config,
  reviewer: reviewerOver(http, options.answerTtlMs),
  services: serviceReaderOver(http, options.answerTtlMs),
  requests: openRequests,
  approvers,
  policies,
  logger,
  metrics,
  tls,
  isReady: () => listening && synced,
});

// cert-manager rotates the Secret in place; pick the new pair (and client CA) up without a restart.
reloadWhenChanged(app.server as unknown as Http2SecureServer, servingFiles, logger);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    listening = false;
    logger.info({ signal }, 'shutting down');
    void Promise.all([app.close(), probes?.close()]).then(async () => {
      http.close();
      await requestCache.stop();
      process.exit(0);
    });
  });
}

const probes = options.metricsPort > 0 ? await buildProbes({ metrics, isReady: () => listening && synced }) : undefined;
try {
  await probes?.listen({ host: options.host, port: options.metricsPort });
  await app.listen({ host: options.host, port: options.port });
  listening = true;
  await requestCache.start();
  openRequests.markSynced();
  approvers.markSynced();
  policies.markSynced();
  synced = true;
  logger.info({ port: options.port, metricsPort: options.metricsPort, maxDuration: config.maxDuration, allowUnlimited: config.allowUnlimited, unapprovable: config.unapprovable }, 'netwatch webhook listening');
} catch (err) {
  fail(`cannot listen: ${describeError(err)}`);
}
