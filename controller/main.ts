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
import { electionOf } from '../lib/cli/leader.ts';
import { runLeaderElected } from '../lib/kube/leader-elected.ts';

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
  leaderElection: electionOf(options),
});

await runLeaderElected(app, options.listen, log);
