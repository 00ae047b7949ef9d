// The webhook process: the only file that reads flags/environment, opens the listening socket or exits.
// Flags may also be given as NETWATCH_WEBHOOK_* environment variables (e.g. NETWATCH_WEBHOOK_MAX_DURATION=8h).
import { readFileSync, watchFile } from 'node:fs';
import type { Http2SecureServer } from 'node:http2';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { DEFAULT_WEBHOOK_CONFIG, webhookConfig } from '../lib/domain/validate.ts';
import { build, describeError } from './app.ts';
import { kubeHttpFor, reviewerOver, serviceReaderOver } from './kube.ts';
import { webhookMetrics } from './metrics.ts';

const argv = await yargs(hideBin(process.argv))
  .scriptName('netwatch-webhook')
  .env('NETWATCH_WEBHOOK')
  .options({
    port: { type: 'number', default: 8443, describe: 'HTTPS port' },
    host: { type: 'string', default: '0.0.0.0', describe: 'address to listen on' },
    'tls-cert-file': { type: 'string', demandOption: true, describe: 'serving certificate (PEM); reloaded when it changes' },
    'tls-key-file': { type: 'string', demandOption: true, describe: 'serving key (PEM); reloaded when it changes' },
    kubeconfig: { type: 'string', describe: 'kubeconfig file (default: in-cluster, then $KUBECONFIG)' },
    'max-duration': { type: 'string', default: DEFAULT_WEBHOOK_CONFIG.maxDuration, describe: 'longest duration a request may ask for' },
    'allow-unlimited': { type: 'boolean', default: false, describe: 'accept duration "unlimited"' },
    'cidr-deny': {
      type: 'string',
      array: true,
      default: [...DEFAULT_WEBHOOK_CONFIG.cidrDenyList],
      describe: 'refuse requested CIDRs that cover one of these (repeatable)',
    },
    'cidr-deny-overlapping': { type: 'string', array: true, default: [], describe: 'refuse requested CIDRs that overlap one of these (repeatable)' },
    'controller-username': { type: 'string', default: DEFAULT_WEBHOOK_CONFIG.controllerUsername, describe: "the controller's identity" },
    'log-level': { type: 'string', default: 'info', choices: ['debug', 'info', 'warn', 'error'] },
  })
  .strict()
  .help()
  .parse();

const logger = pino({ level: argv['log-level'], base: { component: 'netwatch-webhook' } });

function fail(message: string): never {
  logger.fatal(message);
  process.exit(1);
}

let config;
try {
  config = webhookConfig({
    maxDuration: argv['max-duration'],
    allowUnlimited: argv['allow-unlimited'],
    cidrDenyList: argv['cidr-deny'].map(String),
    cidrDenyOverlapping: argv['cidr-deny-overlapping'].map(String),
    controllerUsername: argv['controller-username'],
  });
} catch (err) {
  fail((err as Error).message);
}

const kc = new KubeConfig();
if (argv.kubeconfig) kc.loadFromFile(argv.kubeconfig);
else kc.loadFromDefault();

const certFile = argv['tls-cert-file'];
const keyFile = argv['tls-key-file'];
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
  await app.listen({ host: argv.host, port: argv.port });
  listening = true;
  logger.info({ port: argv.port, maxDuration: config.maxDuration, allowUnlimited: config.allowUnlimited }, 'netwatch webhook listening');
} catch (err) {
  fail(`cannot listen: ${describeError(err)}`);
}
