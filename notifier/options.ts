// The notifier's flags and NETWATCH_NOTIFIER_* environment variables, parsed and range-checked as a pure function
// of (arguments, environment) on the components' one configuration path (lib/cli/flags.ts): main.ts passes
// process.argv and process.env and acts on the result. Every refusal names the flag or variable and what it accepts.
// What the notifier sends where (sinks, routes) is in the configuration file --config names (config.ts), not in
// flags: sinks are a list of differently shaped objects, each naming its own secret files.
import { MAX_TIMER_SECONDS, UsageError, durationFlag, readCommandLine, type Command, type Env, type FlagOption, type Parsed, type Source } from '../lib/cli/flags.ts';
import { leaderElectedOptions, leaderElectedSettings, type LeaderElectedSettings } from '../lib/cli/leader.ts';
import { formatDuration } from '../lib/domain/duration.ts';
import type { NotifierSettings } from './notifier.ts';

export const ENV_PREFIX = 'NETWATCH_NOTIFIER_';

export const DEFAULT_CONFIG_FILE = '/etc/netwatch-notifier/config/config.json';

const OPTIONS = {
  ...leaderElectedOptions('netwatch-notifier', 'send', '1m'),
  config: { type: 'string', default: DEFAULT_CONFIG_FILE, describe: 'the JSON file of sinks and routes (docs/notifications.md)' },
  'web-url': { type: 'string', describe: 'base address of the netwatch web UI (https://…): messages link to the request there' },
  'pending-reminder': { type: 'string', default: '4h', describe: 'a part still pending this long after the request (or an extension) was asked for is announced again to its approvers: a duration, or never' },
  'expiry-warning': { type: 'string', default: '10m', describe: 'an active grant is announced to its requester this long before it expires: a duration, or never' },
  'max-notice-age': { type: 'string', default: '1h', describe: 'a transition older than this when first seen is not announced (a new install, a long outage)' },
  'send-timeout': { type: 'string', default: '10s', describe: 'one delivery attempt may take this long, from 1s to 5m' },
  'retry-initial': { type: 'string', default: '5s', describe: 'wait after a failed delivery; doubles after each further failure' },
  'retry-max': { type: 'string', default: '10m', describe: 'the longest wait between two attempts' },
  'max-attempts': { type: 'number', default: 8, describe: 'attempts before a delivery is given up and a Warning Event (NotificationFailed) is written' },
  workers: { type: 'number', default: 4, describe: 'requests handled at the same time, an integer of at least 1' },
} as const satisfies Record<string, FlagOption>;

type Flag = keyof typeof OPTIONS;

/** The notifier's flags and variables: the docs test (docs/configuration.test.ts) and the sandbox read them too. */
export const NOTIFIER_COMMAND: Command<Flag> = { name: 'netwatch-notifier', what: 'notifier', envPrefix: ENV_PREFIX, options: OPTIONS };

export interface NotifierOptions extends LeaderElectedSettings {
  configFile: string;
  /** Where --config came from (the flag or its variable), to name it when the file cannot be read. */
  configFrom: string;
  settings: Omit<NotifierSettings, 'identity'>;
}

/** Start the notifier (logging each warning first), or print help/version. */
export type NotifierArgs = Parsed<{ options: NotifierOptions; warnings: string[] }>;

export { UsageError, type Env };

function webUrl(given: Source, text: string | undefined, problems: string[]): string | undefined {
  if (text === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  // Messages put it in links (Slack's <url|label>, an HTML href): nothing but a plain http(s) base address.
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.search || url.hash || url.username || url.password || /[\s<>|"'`]/.test(text)) {
    problems.push(`${given.name}: must be the web UI's base address, such as https://netwatch.example.com (no query, fragment or credentials); ${JSON.stringify(text)} is not`);
    return undefined;
  }
  return text.replace(/\/+$/, '');
}

function integerFlag(given: Source, value: number, problems: string[]): number {
  if (!Number.isSafeInteger(value) || value < 1) problems.push(`${given.name}: must be an integer of at least 1; ${JSON.stringify(given.raw ?? String(value))} is not`);
  return value;
}

/** Parses and checks every flag and variable; throws UsageError with one message per problem, each naming its source. */
export function parseNotifierArgs(args: readonly string[], env: Env): NotifierArgs {
  const read = readCommandLine(NOTIFIER_COMMAND, args, env);
  if (read.kind === 'print') return read;
  const { argv, source: given } = read;
  const problems: string[] = [];
  const duration = (flag: Flag, limits: { min: number; max?: number; allowNever: boolean }) => durationFlag(given(flag), argv[flag] as string, limits, problems);

  const configFile = argv.config as string;
  if (configFile === '') problems.push(`${given('config').name}: must name the configuration file`);
  const web = webUrl(given('web-url'), argv['web-url'] as string | undefined, problems);
  const pendingReminder = duration('pending-reminder', { min: 1, allowNever: true });
  const expiryWarning = duration('expiry-warning', { min: 1, allowNever: true });
  const maxNoticeAge = duration('max-notice-age', { min: 1, allowNever: false });
  const sendTimeout = duration('send-timeout', { min: 1, max: 300, allowNever: false });
  const retryInitial = duration('retry-initial', { min: 1, max: MAX_TIMER_SECONDS, allowNever: false });
  const retryMax = duration('retry-max', { min: 1, max: MAX_TIMER_SECONDS, allowNever: false });
  if (typeof retryInitial === 'number' && typeof retryMax === 'number' && retryMax < retryInitial) {
    problems.push(`${given('retry-max').name}: must be at least --retry-initial (${formatDuration(retryInitial * 1000)}); ${JSON.stringify(argv['retry-max'])} is shorter`);
  }
  const maxAttempts = integerFlag(given('max-attempts'), argv['max-attempts'] as number, problems);
  const workers = integerFlag(given('workers'), argv.workers as number, problems);
  const common = leaderElectedSettings(argv, given, problems);
  // Past this point every durationFlag result above is a number (or null where never is allowed).
  if (problems.length > 0) throw new UsageError(problems.join('; '));

  const ms = (seconds: number | null | undefined) => (seconds === null || seconds === undefined ? null : seconds * 1000);
  return {
    kind: 'run',
    warnings: read.warnings,
    options: {
      ...common,
      configFile,
      configFrom: given('config').name,
      settings: {
        timings: { pendingReminderMs: ms(pendingReminder), expiryWarningMs: ms(expiryWarning), activeGraceMs: 60_000 },
        maxNoticeAgeMs: ms(maxNoticeAge) ?? 0,
        retry: { initialMs: ms(retryInitial) ?? 0, maxMs: ms(retryMax) ?? 0, maxAttempts },
        sendTimeoutMs: ms(sendTimeout) ?? 0,
        eventNamespace: common.eventNamespace,
        sweepIntervalMs: common.sweepIntervalSeconds * 1000,
        workers,
        ...(web ? { webUrl: web } : {}),
      },
    },
  };
}
