// The flags of a component that runs only while it holds a Lease (the controller, the notifier): the same names,
// defaults, checks and messages for both, so that their manifests and documentation read alike and a fix to one
// reaches the other. lib/kube/leader.ts is the election itself.
import { isDns1123Label, isDns1123Subdomain } from '../api/names.ts';
import { formatDuration } from '../domain/duration.ts';
import { LOG_LEVELS, MAX_TIMER_SECONDS, durationFlag, parseListen, type FlagOption, type LogLevel, type Source } from './flags.ts';
import { timingsForLease, type LeaderTimings } from '../kube/leader.ts';

/** The Lease flags, for a component whose Lease is called `leaseName` and which `acts` only while leading. */
export function leaderElectionOptions(leaseName: string, acts: string) {
  return {
    'leader-elect': { type: 'boolean', default: true, describe: `${acts} only while holding the Lease (--no-leader-elect for a single replica)` },
    'lease-namespace': { type: 'string', default: 'netwatch-system', describe: 'namespace of the Lease' },
    'lease-name': { type: 'string', default: leaseName, describe: 'name of the Lease' },
    'lease-duration': { type: 'string', default: '15s', describe: `Lease duration, from 2s to ${formatDuration(MAX_TIMER_SECONDS * 1000)}` },
    identity: { type: 'string', describe: 'lease holder identity (default: $POD_NAME or the hostname)' },
  } as const satisfies Record<string, FlagOption>;
}

export type LeaderElectionFlag = keyof ReturnType<typeof leaderElectionOptions>;

export interface LeaderElectionSettings {
  leaderElect: boolean;
  leaseNamespace: string;
  leaseName: string;
  leaseDurationSeconds: number;
  /** undefined: $POD_NAME or the hostname (main.ts decides). */
  identity: string | undefined;
}

/** A namespace-name flag (the Lease's, the Events'); pushes a message naming its source when the value is not one. */
export function namespaceFlag(given: Source, value: string, problems: string[]): string {
  if (!isDns1123Label(value)) problems.push(`${given.name}: must be a namespace name (lower-case letters, digits and "-", at most 63 characters); ${JSON.stringify(value)} is not`);
  return value;
}

/**
 * The Lease settings from parsed flags, each checked; every problem is pushed onto `problems`, naming the flag or
 * variable. The result is only meaningful when nothing was pushed.
 */
export function leaderElectionSettings(argv: Record<string, unknown>, given: (flag: LeaderElectionFlag) => Source, problems: string[]): LeaderElectionSettings {
  // At least 2s: the renew deadline (⌊⅔⌋ of it, at least 1s) must stay below the lease duration.
  const leaseDurationSeconds = durationFlag(given('lease-duration'), argv['lease-duration'] as string, { min: 2, max: MAX_TIMER_SECONDS, allowNever: false }, problems);
  const leaseNamespace = namespaceFlag(given('lease-namespace'), argv['lease-namespace'] as string, problems);
  const leaseName = argv['lease-name'] as string;
  if (!isDns1123Subdomain(leaseName)) {
    problems.push(`${given('lease-name').name}: must be an object name (lower-case letters, digits, "-" and ".", at most 253 characters); ${JSON.stringify(leaseName)} is not`);
  }
  const identity = argv.identity as string | undefined;
  if (identity === '') problems.push(`${given('identity').name}: must not be empty; leave it out to use $POD_NAME or the hostname`);
  return { leaderElect: argv['leader-elect'] as boolean, leaseNamespace, leaseName, leaseDurationSeconds: leaseDurationSeconds ?? 0, identity };
}

/**
 * Every flag a leader-elected component has besides its own: the kubeconfig, the probe and metrics listener, the
 * Lease, the namespace of its Events, how often it looks at everything again, and the log level.
 */
export function leaderElectedOptions(leaseName: string, acts: string, sweepDefault: string) {
  return {
    kubeconfig: {
      type: 'string',
      describe: 'kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster ServiceAccount)',
    },
    listen: { type: 'string', default: '0.0.0.0:8080', describe: 'HOST:PORT of /healthz, /readyz and /metrics (port 0: any free port)' },
    ...leaderElectionOptions(leaseName, acts),
    'event-namespace': { type: 'string', default: 'default', describe: 'namespace of the Events about AccessRequests' },
    'sweep-interval': { type: 'string', default: sweepDefault, describe: `how often every object is looked at again, from 1s to ${formatDuration(MAX_TIMER_SECONDS * 1000)}` },
    'log-level': { type: 'string', choices: LOG_LEVELS, default: 'info' as LogLevel, describe: 'JSON log lines (pino) at this level and above' },
  } as const satisfies Record<string, FlagOption>;
}

export type LeaderElectedFlag = keyof ReturnType<typeof leaderElectedOptions>;

export interface LeaderElectedSettings extends LeaderElectionSettings {
  kubeconfig: string | undefined;
  listen: { host: string; port: number };
  eventNamespace: string;
  sweepIntervalSeconds: number;
  logLevel: LogLevel;
}

/** The settings of leaderElectedOptions' flags, each checked; problems are pushed as in leaderElectionSettings. */
export function leaderElectedSettings(argv: Record<string, unknown>, given: (flag: LeaderElectedFlag) => Source, problems: string[]): LeaderElectedSettings {
  const listen = parseListen(given('listen'), argv.listen as string, problems);
  // 0s would run the sweep continuously.
  const sweepIntervalSeconds = durationFlag(given('sweep-interval'), argv['sweep-interval'] as string, { min: 1, max: MAX_TIMER_SECONDS, allowNever: false }, problems);
  return {
    kubeconfig: (argv.kubeconfig as string | undefined) || undefined,
    listen,
    ...leaderElectionSettings(argv, given, problems),
    eventNamespace: namespaceFlag(given('event-namespace'), argv['event-namespace'] as string, problems),
    sweepIntervalSeconds: sweepIntervalSeconds ?? 0,
    logLevel: argv['log-level'] as LogLevel,
  };
}

/** The election a main.ts hands its app: the Lease named by the flags, or false with --no-leader-elect. */
export function electionOf(s: LeaderElectionSettings): false | { namespace: string; name: string } & LeaderTimings {
  return s.leaderElect ? { namespace: s.leaseNamespace, name: s.leaseName, ...timingsForLease(s.leaseDurationSeconds) } : false;
}
