// The controller's flags and NETWATCH_CONTROLLER_* environment variables, parsed and range-checked as a pure
// function of (arguments, environment) on the components' one configuration path (lib/cli/flags.ts): main.ts
// passes process.argv and process.env and acts on the result. Every refusal names the flag or variable and what
// it accepts, so a typo stops the controller at start-up instead of quietly running it with a meaningless setting.
import { LOG_LEVELS, UsageError, readCommandLine, type Command, type Env, type FlagOption, type LogLevel, type Parsed, type Source } from '../lib/cli/flags.ts';
import { durationHint, formatDuration, isNever, parseDuration } from '../lib/domain/duration.ts';
import type { IsolationPolicy } from '../lib/domain/plan.ts';
import { isDns1123Label, isDns1123Subdomain } from '../lib/api/names.ts';

export const ISOLATION_POLICIES = ['skip', 'refuse', 'allow'] as const satisfies readonly IsolationPolicy[];

/**
 * Node's timers hold at most 2^31-1 ms; a longer delay is silently replaced by 1 ms, which would turn the sweep
 * (setInterval) or the leader's retry (setTimeout, ⌊lease/7⌋) into a busy loop against the API server.
 */
const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

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

const DURATION_EXAMPLES = 'such as 30s, 5m, 1h30m or 168h (hours, minutes, seconds)';

/**
 * Whole seconds of a duration flag, or null for never/forever where `allowNever`. `min`/`max` in seconds.
 * Pushes a message naming the flag onto `problems` and returns undefined when the value is not allowed.
 */
function durationFlag(
  given: Source,
  text: string,
  limits: { min: number; max?: number; allowNever: boolean },
  problems: string[],
): number | null | undefined {
  const allowed = [
    limits.min > 0 ? `a duration of at least ${formatDuration(limits.min * 1000)}` : 'a duration',
    limits.max !== undefined ? `and at most ${formatDuration(limits.max * 1000)}` : '',
    DURATION_EXAMPLES,
  ]
    .filter(Boolean)
    .join(' ');
  const refuse = (why = '') => {
    problems.push(`${given.name}: must be ${allowed}${limits.allowNever ? ', or never' : ''}; ${JSON.stringify(text)} ${why || 'is not one'}`);
    return undefined;
  };
  if (isNever(text)) return limits.allowNever ? null : refuse('is not allowed here: a finite duration is required');
  const ms = parseDuration(text);
  // `unlimited` is a spec.duration word; here it used to be taken silently as "never" (or, for the sweep and the
  // lease, as the default).
  if (ms === 'unlimited') return refuse(limits.allowNever ? 'means nothing here: write never' : 'is not allowed here');
  if (ms === null) return refuse(durationHint(text));
  const seconds = ms / 1000;
  if (seconds < limits.min) return refuse('is too short');
  if (limits.max !== undefined && seconds > limits.max) return refuse('is too long');
  return seconds;
}

function parseListen(given: Source, text: string, problems: string[]): { host: string; port: number } {
  const colon = text.lastIndexOf(':');
  const portText = colon < 0 ? '' : text.slice(colon + 1);
  const port = Number(portText);
  if (colon < 0 || !/^\d+$/.test(portText) || port > 65535) {
    problems.push(`${given.name}: must be HOST:PORT with a port from 0 to 65535, e.g. 0.0.0.0:8080 or :8080; ${JSON.stringify(text)} is not`);
    return { host: '0.0.0.0', port: 0 };
  }
  // `[::1]:8080`: net.Server.listen wants the address without brackets.
  const host = text.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return { host: host || '0.0.0.0', port };
}

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
