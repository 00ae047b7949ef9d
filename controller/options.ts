// The controller's flags and NETWATCH_CONTROLLER_* environment variables, parsed and range-checked as a pure
// function of (arguments, environment) on the components' one configuration path (lib/cli/flags.ts): main.ts
// passes process.argv and process.env and acts on the result. Every refusal names the flag or variable and what
// it accepts, so a typo stops the controller at start-up instead of quietly running it with a meaningless setting.
import { UsageError, durationFlag, readCommandLine, type Command, type Env, type FlagOption, type Parsed } from '../lib/cli/flags.ts';
import { leaderElectedOptions, leaderElectedSettings, type LeaderElectedSettings } from '../lib/cli/leader.ts';
import type { IsolationPolicy } from '../lib/domain/plan.ts';

export const ISOLATION_POLICIES = ['skip', 'refuse', 'allow'] as const satisfies readonly IsolationPolicy[];

export const ENV_PREFIX = 'NETWATCH_CONTROLLER_';

const OPTIONS = {
  ...leaderElectedOptions('netwatch-controller', 'reconcile', '5m'),
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
} as const satisfies Record<string, FlagOption>;

type Flag = keyof typeof OPTIONS;

/** The controller's flags and variables: the docs test (docs/configuration.test.ts) and the sandbox read them too. */
export const CONTROLLER_COMMAND: Command<Flag> = { name: 'netwatch-controller', what: 'controller', envPrefix: ENV_PREFIX, options: OPTIONS };

export interface ControllerOptions extends LeaderElectedSettings {
  isolation: IsolationPolicy;
  /** null: pending requests never expire. */
  pendingTtlSeconds: number | null;
  /** null: terminal requests are kept. */
  retentionSeconds: number | null;
  /** null: no Warning Event about NetworkPolicies that outlive a request's teardown. */
  lingerWarningSeconds: number | null;
  workers: number;
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
  // 0s would expire every pending request at once.
  const pendingTtlSeconds = durationFlag(given('pending-ttl'), argv['pending-ttl'] as string, { min: 1, allowNever: true }, problems);
  // 0s is allowed: it deletes a request as soon as it ends (no history kept), which is a choice, not a typo.
  const retentionSeconds = durationFlag(given('retention'), argv.retention as string, { min: 0, allowNever: true }, problems);
  // 0s would warn about every request, whose policies always take a moment to go.
  const lingerWarningSeconds = durationFlag(given('linger-warning'), argv['linger-warning'] as string, { min: 1, allowNever: true }, problems);
  const common = leaderElectedSettings(argv, given, problems);
  // Past this point every durationFlag result above is a number (or null where never is allowed).
  if (problems.length > 0) throw new UsageError(problems.join('; '));

  return {
    kind: 'run',
    warnings: read.warnings,
    options: {
      ...common,
      isolation: argv.isolation as IsolationPolicy,
      pendingTtlSeconds: pendingTtlSeconds as number | null,
      retentionSeconds: retentionSeconds as number | null,
      lingerWarningSeconds: lingerWarningSeconds as number | null,
      workers,
    },
  };
}
