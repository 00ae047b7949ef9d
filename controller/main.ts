// The controller process: the only file that reads flags/environment (options.ts parses and checks flags and
// NETWATCH_CONTROLLER_* variables), listens for probes and metrics, or exits. Runs until SIGTERM.
import { hostname } from 'node:os';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { hideBin } from 'yargs/helpers';
import { ControllerApp } from './app.ts';
import { createMetrics } from './metrics.ts';
import { parseControllerArgs } from './options.ts';
import { startup } from '../lib/cli/flags.ts';
import { timingsForLease } from '../lib/kube/leader.ts';

const component = { component: 'netwatch-controller' };

const parsed = startup(() => parseControllerArgs(hideBin(process.argv), process.env));
if (parsed.kind === 'stop') {
  if (parsed.code === 0) process.stdout.write(parsed.print);
  else pino({ base: component }).fatal(parsed.fatal);
  process.exit(parsed.code);
}
const { options, warnings } = parsed;

const log = pino({ level: options.logLevel, base: component });
for (const warning of warnings) log.warn(warning);

const kc = new KubeConfig();
if (options.kubeconfig) kc.loadFromFile(options.kubeconfig);
else kc.loadFromDefault();

const app = new ControllerApp({
  kubeConfig: kc,
  log,
  metrics: createMetrics({ defaultMetrics: true }),
  config: {
    isolation: options.isolation,
    pendingTtlSeconds: options.pendingTtlSeconds,
    retentionSeconds: options.retentionSeconds,
    lingerWarningSeconds: options.lingerWarningSeconds,
    workers: options.workers,
    eventNamespace: options.eventNamespace,
    sweepIntervalSeconds: options.sweepIntervalSeconds,
    identity: options.identity ?? process.env.POD_NAME ?? hostname(),
  },
  leaderElection: options.leaderElect
    ? {
        namespace: options.leaseNamespace,
        name: options.leaseName,
        ...timingsForLease(options.leaseDurationSeconds),
      }
    : false,
});

const { host, port } = options.listen;
const server = app.createProbeServer();
server.listen(port, host, () => log.info({ listen: `${host}:${port}` }, 'probes and metrics listening'));

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down');
  server.close();
  await app.stop().catch((e: unknown) => log.error({ err: e }, 'error while stopping'));
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

await app.start(false);
