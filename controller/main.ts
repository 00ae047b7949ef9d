// The controller process: reads flags and the environment, listens for probes and metrics, runs until SIGTERM.
import { hostname } from 'node:os';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { parseDurationSeconds } from '../lib/domain/phase.ts';
import { ControllerApp } from './app.ts';
import { createMetrics } from './metrics.ts';

function seconds(flag: string, value: string): number | null {
  if (value === 'never' || value === 'forever') return null;
  try {
    const s = parseDurationSeconds(value);
    if (s === null) return null;
    return s;
  } catch {
    throw new Error(`--${flag}: ${JSON.stringify(value)} is not a duration like 30s, 5m, 168h or never`);
  }
}

const argv = await yargs(hideBin(process.argv))
  .scriptName('netwatch-controller')
  .strict()
  .option('kubeconfig', { type: 'string', describe: 'kubeconfig file (default: in-cluster, then $KUBECONFIG / ~/.kube/config)' })
  .option('listen', { type: 'string', default: '0.0.0.0:8080', describe: 'address of /healthz, /readyz and /metrics' })
  .option('isolation', { choices: ['skip', 'refuse', 'allow'] as const, default: 'skip' as const, describe: 'a part whose policy would newly isolate pods: skip it, refuse the request, or allow it' })
  .option('pending-ttl', { type: 'string', default: '168h', describe: 'requests not fully approved within this expire (or never)' })
  .option('retention', { type: 'string', default: '720h', describe: 'terminal requests are deleted this long after they ended (or never)' })
  .option('workers', { type: 'number', default: 16 })
  .option('leader-elect', { type: 'boolean', default: true })
  .option('lease-namespace', { type: 'string', default: 'netwatch-system' })
  .option('lease-name', { type: 'string', default: 'netwatch-controller' })
  .option('lease-duration', { type: 'string', default: '15s' })
  .option('identity', { type: 'string', describe: 'lease holder identity (default: $POD_NAME or the hostname)' })
  .option('event-namespace', { type: 'string', default: 'default' })
  .option('sweep-interval', { type: 'string', default: '5m' })
  .option('log-level', { choices: ['trace', 'debug', 'info', 'warn', 'error'] as const, default: 'info' as const })
  .help()
  .parseAsync();

const log = pino({ level: argv['log-level'], base: { component: 'netwatch-controller' } });

const kc = new KubeConfig();
if (argv.kubeconfig) kc.loadFromFile(argv.kubeconfig);
else kc.loadFromDefault();

const leaseSeconds = seconds('lease-duration', argv['lease-duration']) ?? 15;
const app = new ControllerApp({
  kubeConfig: kc,
  log,
  metrics: createMetrics({ defaultMetrics: true }),
  config: {
    isolation: argv.isolation,
    pendingTtlSeconds: seconds('pending-ttl', argv['pending-ttl']),
    retentionSeconds: seconds('retention', argv.retention),
    workers: argv.workers,
    eventNamespace: argv['event-namespace'],
    sweepIntervalSeconds: seconds('sweep-interval', argv['sweep-interval']) ?? 300,
    identity: argv.identity ?? process.env.POD_NAME ?? hostname(),
  },
  leaderElection: argv['leader-elect']
    ? {
        namespace: argv['lease-namespace'],
        name: argv['lease-name'],
        leaseDurationSeconds: leaseSeconds,
        renewDeadlineSeconds: Math.max(1, Math.floor((leaseSeconds * 2) / 3)),
        retryPeriodSeconds: Math.max(1, Math.floor(leaseSeconds / 7)),
      }
    : false,
});

const [host, port] = ((): [string, number] => {
  const i = argv.listen.lastIndexOf(':');
  return [argv.listen.slice(0, i) || '0.0.0.0', Number(argv.listen.slice(i + 1))];
})();
const server = app.createProbeServer();
server.listen(port, host, () => log.info({ listen: argv.listen }, 'probes and metrics listening'));

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
