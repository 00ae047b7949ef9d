// The notifier's flags, parsed and range-checked as a pure function of the arguments (the controller's style:
// main.ts passes process.argv and acts on the result). Every refusal names the flag and what it accepts. What the
// notifier sends where (sinks, routes) is in the configuration file --config names (config.ts), not in flags.
import { isDns1123Label, isDns1123Subdomain } from '../lib/api/names.ts';
import { MAX_TIMER_SECONDS, UsageError, commandLineValue, durationFlag, flagShapeProblems, parseListen, runYargs, type Parsed } from '../lib/cli/flags.ts';
import { formatDuration } from '../lib/domain/duration.ts';
import type { NotifierSettings } from './notifier.ts';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const DEFAULT_CONFIG_FILE = '/etc/netwatch-notifier/config/config.json';

const OPTIONS = {
  kubeconfig: {
    type: 'string',
    describe: 'kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster ServiceAccount)',
  },
  listen: { type: 'string', default: '0.0.0.0:8080', describe: 'HOST:PORT of /healthz, /readyz and /metrics (port 0: any free port)' },
  config: { type: 'string', default: DEFAULT_CONFIG_FILE, describe: 'the JSON file of sinks and routes (docs/notifications.md)' },
  'web-url': { type: 'string', describe: 'base address of the netwatch web UI (https://…): messages link to the request there' },
  'pending-reminder': { type: 'string', default: '4h', describe: 'a part still pending this long after the request was made is announced again to its approvers: a duration, or never' },
  'expiry-warning': { type: 'string', default: '10m', describe: 'an active grant is announced to its requester this long before it expires: a duration, or never' },
  'max-notice-age': { type: 'string', default: '1h', describe: 'a transition older than this when first seen is not announced (a new install, a long outage)' },
  'send-timeout': { type: 'string', default: '10s', describe: 'one delivery attempt may take this long, from 1s to 5m' },
  'retry-initial': { type: 'string', default: '5s', describe: 'wait after a failed delivery; doubles after each further failure' },
  'retry-max': { type: 'string', default: '10m', describe: 'the longest wait between two attempts' },
  'max-attempts': { type: 'number', default: 8, describe: 'attempts before a delivery is given up and a Warning Event (NotificationFailed) is written' },
  workers: { type: 'number', default: 4, describe: 'requests handled at the same time, an integer of at least 1' },
  'leader-elect': { type: 'boolean', default: true, describe: 'send only while holding the Lease (--no-leader-elect for a single replica)' },
  'lease-namespace': { type: 'string', default: 'netwatch-system', describe: 'namespace of the Lease' },
  'lease-name': { type: 'string', default: 'netwatch-notifier', describe: 'name of the Lease' },
  'lease-duration': { type: 'string', default: '15s', describe: `Lease duration, from 2s to ${formatDuration(MAX_TIMER_SECONDS * 1000)}` },
  identity: { type: 'string', describe: 'lease holder identity (default: $POD_NAME or the hostname)' },
  'event-namespace': { type: 'string', default: 'default', describe: 'namespace of the Warning Events about AccessRequests' },
  'sweep-interval': { type: 'string', default: '1m', describe: `how often every request is looked at again, from 1s to ${formatDuration(MAX_TIMER_SECONDS * 1000)}` },
  'log-level': { choices: LOG_LEVELS, default: 'info' as LogLevel },
} as const;

export interface NotifierOptions {
  kubeconfig: string | undefined;
  listen: { host: string; port: number };
  configFile: string;
  settings: Omit<NotifierSettings, 'identity'>;
  leaderElect: boolean;
  leaseNamespace: string;
  leaseName: string;
  leaseDurationSeconds: number;
  identity: string | undefined;
  logLevel: LogLevel;
}

export type NotifierArgs = Parsed<{ options: NotifierOptions }>;

export { UsageError };

function webUrl(text: string | undefined, problems: string[]): string | undefined {
  if (text === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  // Messages put it in links (Slack's <url|label>, an HTML href): nothing but a plain http(s) base address.
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.search || url.hash || url.username || url.password || /[\s<>|"'`]/.test(text)) {
    problems.push(`--web-url: must be the web UI's base address, such as https://netwatch.example.com (no query, fragment or credentials); ${JSON.stringify(text)} is not`);
    return undefined;
  }
  return text.replace(/\/+$/, '');
}

function integerFlag(args: readonly string[], flag: string, value: number, problems: string[]): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    problems.push(`--${flag}: must be an integer of at least 1; ${JSON.stringify(commandLineValue(args, flag) ?? String(value))} is not`);
  }
  return value;
}

/** Parses and checks every flag; throws UsageError with one message per problem, each naming its flag. */
export function parseNotifierArgs(args: readonly string[]): NotifierArgs {
  const { argv, output } = runYargs(args, { scriptName: 'netwatch-notifier', options: OPTIONS });
  if (output) return { kind: 'print', text: output };
  const problems = flagShapeProblems(args, argv, OPTIONS);
  if (problems.length > 0) throw new UsageError(problems.join('; '));

  const listen = parseListen('listen', argv.listen as string, problems);
  const configFile = argv.config as string;
  if (configFile === '') problems.push('--config: must name the configuration file');
  const web = webUrl(argv['web-url'] as string | undefined, problems);
  const pendingReminder = durationFlag('pending-reminder', argv['pending-reminder'] as string, { min: 1, allowNever: true }, problems);
  const expiryWarning = durationFlag('expiry-warning', argv['expiry-warning'] as string, { min: 1, allowNever: true }, problems);
  const maxNoticeAge = durationFlag('max-notice-age', argv['max-notice-age'] as string, { min: 1, allowNever: false }, problems);
  const sendTimeout = durationFlag('send-timeout', argv['send-timeout'] as string, { min: 1, max: 300, allowNever: false }, problems);
  const retryInitial = durationFlag('retry-initial', argv['retry-initial'] as string, { min: 1, max: MAX_TIMER_SECONDS, allowNever: false }, problems);
  const retryMax = durationFlag('retry-max', argv['retry-max'] as string, { min: 1, max: MAX_TIMER_SECONDS, allowNever: false }, problems);
  if (typeof retryInitial === 'number' && typeof retryMax === 'number' && retryMax < retryInitial) {
    problems.push(`--retry-max: must be at least --retry-initial (${formatDuration(retryInitial * 1000)}); ${JSON.stringify(argv['retry-max'])} is shorter`);
  }
  const maxAttempts = integerFlag(args, 'max-attempts', argv['max-attempts'] as number, problems);
  const workers = integerFlag(args, 'workers', argv.workers as number, problems);
  const sweep = durationFlag('sweep-interval', argv['sweep-interval'] as string, { min: 1, max: MAX_TIMER_SECONDS, allowNever: false }, problems);
  const leaseDuration = durationFlag('lease-duration', argv['lease-duration'] as string, { min: 2, max: MAX_TIMER_SECONDS, allowNever: false }, problems);
  for (const flag of ['lease-namespace', 'event-namespace'] as const) {
    const value = argv[flag] as string;
    if (!isDns1123Label(value)) problems.push(`--${flag}: must be a namespace name (lower-case letters, digits and "-", at most 63 characters); ${JSON.stringify(value)} is not`);
  }
  const leaseName = argv['lease-name'] as string;
  if (!isDns1123Subdomain(leaseName)) problems.push(`--lease-name: must be an object name (lower-case letters, digits, "-" and ".", at most 253 characters); ${JSON.stringify(leaseName)} is not`);
  const identity = argv.identity as string | undefined;
  if (identity === '') problems.push('--identity: must not be empty; leave it out to use $POD_NAME or the hostname');
  // Past this point every durationFlag result above is a number (or null where never is allowed).
  if (problems.length > 0) throw new UsageError(problems.join('; '));

  const ms = (seconds: number | null | undefined) => (seconds === null || seconds === undefined ? null : seconds * 1000);
  return {
    kind: 'run',
    options: {
      kubeconfig: (argv.kubeconfig as string | undefined) || undefined,
      listen,
      configFile,
      settings: {
        timings: { pendingReminderMs: ms(pendingReminder), expiryWarningMs: ms(expiryWarning), activeGraceMs: 60_000 },
        maxNoticeAgeMs: ms(maxNoticeAge) ?? 0,
        retry: { initialMs: ms(retryInitial) ?? 0, maxMs: ms(retryMax) ?? 0, maxAttempts },
        sendTimeoutMs: ms(sendTimeout) ?? 0,
        eventNamespace: argv['event-namespace'] as string,
        sweepIntervalMs: ms(sweep) ?? 0,
        workers,
        ...(web ? { webUrl: web } : {}),
      },
      leaderElect: argv['leader-elect'] as boolean,
      leaseNamespace: argv['lease-namespace'] as string,
      leaseName,
      leaseDurationSeconds: leaseDuration as number,
      identity,
      logLevel: argv['log-level'] as LogLevel,
    },
  };
}
