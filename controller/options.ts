// The controller's flags and NETWATCH_CONTROLLER_* environment variables, parsed and range-checked as a pure
// function of (arguments, environment) on the components' one configuration path (lib/cli/flags.ts): main.ts
// passes process.argv and process.env and acts on the result. Every refusal names the flag or variable and what
// it accepts, so a typo stops the controller at start-up instead of quietly running it with a meaningless setting.
import { LOG_LEVELS, MAX_TIMER_SECONDS, UsageError, durationFlag, parseListen, readCommandLine, type Command, type Env, type FlagOption, type LogLevel, type Parsed } from '../lib/cli/flags.ts';
import { formatDuration } from '../lib/domain/duration.ts';
import type { IsolationPolicy } from '../lib/domain/plan.ts';
import { isDns1123Label, isDns1123Subdomain } from '../lib/api/names.ts';

export const ISOLATION_POLICIES = ['skip', 'refuse', 'allow'] as const satisfies readonly IsolationPolicy[];

export const ENV_PREFIX = 'NETWATCH_CONTROLLER_';

const OPTIONS = {
  kubeconfig: {
    type: 'string',
    describe: 'kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster ServiceAccount)',
  },
  listen: { type: 'string', default: '0.0.0.0:8080', describe: 'HOST:PORT of /healthz, /readyz and /metrics (port 0: any free port)' },
  isolation: {
    choices: ISOLATION_POLICIES,
    default: 'skip' as IsolationPolicy,
    describe: 'a part whose policy would newly isolate pods: skip it, refuse the request, or allow it',
  },
  'pending-ttl': { type: 'string', default: '168h', describe: 'requests not fully approved within this expire: a positive duration, or never' },
  retention: { type: 'string', default: '720h', describe: 'terminal requests are deleted this long after they ended: a duration, or never' },
  'linger-warning': {
    type: 'string',
    default: '2m',
    describe: 'a Warning Event when an ended request\'s NetworkPolicies are still there this long after its teardown: a positive duration, or never',
  },
  workers: { type: 'number', default: 16, describe: 'concurrent reconciles, an integer of at least 1' },
  'leader-elect': { type: 'boolean', default: true, describe: 'reconcile only while holding the Lease (--no-leader-elect for a single replica)' },
  'lease-namespace': { type: 'string', default: 'netwatch-system', describe: 'namespace of the Lease' },
  'lease-name': { type: 'string', default: 'netwatch-controller', describe: 'name of the Lease' },
  'lease-duration': { type: 'string', default: '15s', describe: `Lease duration, from 2s to ${formatDuration(MAX_TIMER_SECONDS * 1000)}` },
  identity: { type: 'string', describe: 'lease holder identity (default: $POD_NAME or the hostname)' },
  'event-namespace': { type: 'string', default: 'default', describe: 'namespace of the Events about AccessRequests' },
  'sweep-interval': {
    type: 'string',
    default: '5m',
    describe: `how often every object is looked at again, from 1s to ${formatDuration(MAX_TIMER_SECONDS * 1000)}`,
  },
  'log-level': { type: 'string', choices: LOG_LEVELS, default: 'info' as LogLevel, describe: 'JSON log lines (pino) at this level and above' },
} as const satisfies Record<string, FlagOption>;

type Flag = keyof typeof OPTIONS;

/** The controller's flags and variables: the docs test (docs/configuration.test.ts) and the sandbox read them too. */
export const CONTROLLER_COMMAND: Command<Flag> = { name: 'netwatch-controller', what: 'controller', envPrefix: ENV_PREFIX, options: OPTIONS };

export interface ControllerOptions {
  kubeconfig: string | undefined;
  listen: { host: string; port: number };
  isolation: IsolationPolicy;
  /** null: pending requests never expire. */
  pendingTtlSeconds: number | null;
  /** null: terminal requests are kept. */
  retentionSeconds: number | null;
  /** null: no Warning Event about NetworkPolicies that outlive a request's teardown. */
  lingerWarningSeconds: number | null;
  workers: number;
  leaderElect: boolean;
  leaseNamespace: string;
  leaseName: string;
  leaseDurationSeconds: number;
  identity: string | undefined;
  eventNamespace: string;
  sweepIntervalSeconds: number;
  logLevel: LogLevel;
}

/** Start the controller (logging each warning first), or print help/version. */
export type ControllerArgs = Parsed<{ options: ControllerOptions; warnings: string[] }>;

export { UsageError, type Env };

/** Parses and checks every flag and variable; throws UsageError with one message per problem, each naming its source. */
export function parseControllerArgs(args: readonly string[], env: Env): ControllerArgs {
  const read = readCommandLine(CONTROLLER_COMMAND, args, env);
  if (read.kind === 'print') return read;
  const { argv, source: given } = read;
  const problems: string[] = [];

  const workers = argv.workers as number;
  if (!Number.isSafeInteger(workers) || workers < 1) {
    // 0 would start no worker at all: nothing would ever be reconciled.
    const { name, raw } = given('workers');
    problems.push(`${name}: must be an integer of at least 1; ${JSON.stringify(raw ?? String(workers))} is not`);
  }
  const listen = parseListen(given('listen'), argv.listen as string, problems);
  // 0s would expire every pending request at once.
  const pendingTtlSeconds = durationFlag(given('pending-ttl'), argv['pending-ttl'] as string, { min: 1, allowNever: true }, problems);
  // 0s is allowed: it deletes a request as soon as it ends (no history kept), which is a choice, not a typo.
  const retentionSeconds = durationFlag(given('retention'), argv.retention as string, { min: 0, allowNever: true }, problems);
  // 0s would warn about every request, whose policies always take a moment to go.
  const lingerWarningSeconds = durationFlag(given('linger-warning'), argv['linger-warning'] as string, { min: 1, allowNever: true }, problems);
  // 0s would run the sweep continuously.
  const sweepIntervalSeconds = durationFlag(given('sweep-interval'), argv['sweep-interval'] as string, { min: 1, max: MAX_TIMER_SECONDS, allowNever: false }, problems);
  // At least 2s: the renew deadline (⌊⅔⌋ of it, at least 1s) must stay below the lease duration.
  const leaseDurationSeconds = durationFlag(given('lease-duration'), argv['lease-duration'] as string, { min: 2, max: MAX_TIMER_SECONDS, allowNever: false }, problems);
  for (const flag of ['lease-namespace', 'event-namespace'] as const) {
    const value = argv[flag] as string;
    if (!isDns1123Label(value)) {
      problems.push(`${given(flag).name}: must be a namespace name (lower-case letters, digits and "-", at most 63 characters); ${JSON.stringify(value)} is not`);
    }
  }
  const leaseName = argv['lease-name'] as string;
  if (!isDns1123Subdomain(leaseName)) {
    problems.push(`${given('lease-name').name}: must be an object name (lower-case letters, digits, "-" and ".", at most 253 characters); ${JSON.stringify(leaseName)} is not`);
  }
  const identity = argv.identity as string | undefined;
  if (identity === '') problems.push(`${given('identity').name}: must not be empty; leave it out to use $POD_NAME or the hostname`);
  // Past this point every durationFlag result above is a number (or null where never is allowed).
  if (problems.length > 0) throw new UsageError(problems.join('; '));

  return {
    kind: 'run',
    warnings: read.warnings,
    options: {
      kubeconfig: (argv.kubeconfig as string | undefined) || undefined,
      listen,
      isolation: argv.isolation as IsolationPolicy,
      pendingTtlSeconds: pendingTtlSeconds as number | null,
      retentionSeconds: retentionSeconds as number | null,
      lingerWarningSeconds: lingerWarningSeconds as number | null,
      workers,
      leaderElect: argv['leader-elect'] as boolean,
      leaseNamespace: argv['lease-namespace'] as string,
      leaseName,
      leaseDurationSeconds: leaseDurationSeconds as number,
      identity,
      eventNamespace: argv['event-namespace'] as string,
      sweepIntervalSeconds: sweepIntervalSeconds as number,
      logLevel: argv['log-level'] as LogLevel,
    },
  };
}
