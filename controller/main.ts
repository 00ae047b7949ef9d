// The controller process: the only file that reads flags/environment (options.ts parses and checks flags and
// NETWATCH_CONTROLLER_* variables), listens for probes and metrics, or exits. Runs until SIGTERM.
import { hostname } from 'node:os';
import { hideBin } from 'yargs/helpers';
import { ControllerApp } from './app.ts';
import { createMetrics } from './metrics.ts';
import { parseControllerArgs } from './options.ts';
import { beginMain, loadKubeConfig } from '../lib/cli/main.ts';
import { electionOf } from '../lib/cli/leader.ts';
import { runLeaderElected } from '../lib/kube/leader-elected.ts';

const { parsed, log } = beginMain('netwatch-controller', () => parseControllerArgs(hideBin(process.argv), process.env), (p) => p.options.logLevel);
const { options } = parsed;
const kc = loadKubeConfig(options.kubeconfig);

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
