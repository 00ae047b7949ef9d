// The webhook process: the only file that reads flags/environment, opens the listening socket or exits.
// Flags may also be given as NETWATCH_WEBHOOK_* environment variables (e.g. NETWATCH_WEBHOOK_MAX_DURATION=8h);
// options.ts parses and checks both.
import { readFileSync, watchFile } from 'node:fs';
import type { Http2SecureServer } from 'node:http2';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { hideBin } from 'yargs/helpers';
import { build, describeError } from './app.ts';
import { kubeHttpFor, reviewerOver, serviceReaderOver } from './kube.ts';
import { webhookMetrics } from './metrics.ts';
import { parseWebhookArgs } from './options.ts';
import { parsedOrExit } from '../lib/cli/flags.ts';

const component = { component: 'netwatch-webhook' };

const { options, warnings } = parsedOrExit(() => parseWebhookArgs(hideBin(process.argv), process.env), component.component);

const logger = pino({ level: options.logLevel, base: component });
for (const warning of warnings) logger.warn(warning);

function fail(message: string): never {
  logger.fatal(message);
  process.exit(1);
}

const config = options.config;

const kc = new KubeConfig();
if (options.kubeconfig) kc.loadFromFile(options.kubeconfig);
else kc.loadFromDefault();

const certFile = options.tlsCertFile;
const keyFile = options.tlsKeyFile;
const readTls = () => ({ cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') });
let tls;
try {
  tls = readTls();
} catch (err) {
  fail(`cannot read the serving certificate: ${describeError(err)}`);
}

const http = kubeHttpFor(kc);
let listening = false;
const app = await build({
  config,
  reviewer: reviewerOver(http),
  services: serviceReaderOver(http),
  logger,
  metrics: webhookMetrics({ defaultMetrics: true }),
  tls,
  isReady: () => listening,
});

// cert-manager rotates the Secret in place; pick the new pair up without a restart.
const reload = () => {
  try {
    (app.server as unknown as Http2SecureServer).setSecureContext(readTls());
    logger.info('serving certificate reloaded');
  } catch (err) {
    logger.error({ err: describeError(err) }, 'could not reload the serving certificate; keeping the previous one');
  }
};
watchFile(certFile, { interval: 30_000 }, reload);
watchFile(keyFile, { interval: 30_000 }, reload);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    listening = false;
    logger.info({ signal }, 'shutting down');
    void app.close().then(() => {
      http.close();
      process.exit(0);
    });
  });
}

try {
  await app.listen({ host: options.host, port: options.port });
  listening = true;
  logger.info({ port: options.port, maxDuration: config.maxDuration, allowUnlimited: config.allowUnlimited }, 'netwatch webhook listening');
} catch (err) {
  fail(`cannot listen: ${describeError(err)}`);
}
