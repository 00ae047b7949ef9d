// Command-line parsing shared by the server components: yargs run as a pure function (help, version and
// errors handed back, never printed or exited on), the checks yargs leaves out, and what a main.ts does with
// the result.
import { pino } from 'pino';
import yargs, { type Options } from 'yargs';
import { durationHint, formatDuration, isNever, parseDuration } from '../domain/duration.ts';

/** A mistake in the flags (or environment): main.ts reports the message and exits 1. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export type Parsed<T> =
  | ({ kind: 'run' } & T)
  /** --help or --version: print `text` on stdout and exit 0. */
  | { kind: 'print'; text: string };

export interface YargsResult {
  argv: Record<string, unknown>;
  output: string;
}

/**
 * Parses `args` strictly against `options`; `config` ranks below the command line and above the defaults.
 * Throws UsageError for what yargs refuses (unknown flag, invalid choice, missing required flag).
 */
export function runYargs(
  args: readonly string[],
  spec: { scriptName: string; usage?: string; options: Record<string, Options>; config?: Record<string, unknown> },
): YargsResult {
  let result: { err: Error | undefined; argv: Record<string, unknown>; output: string } | undefined;
  let parser = yargs().scriptName(spec.scriptName);
  if (spec.usage) parser = parser.usage(spec.usage);
  // A parse callback makes yargs hand over help, version and error text instead of printing it and exiting.
  void parser
    .options(spec.options)
    .config(spec.config ?? {})
    .strict()
    .help()
    .parse([...args], {}, (err, argv, output) => {
      result = { err: err ?? undefined, argv, output };
    });
  if (!result) throw new Error('yargs did not call back');
  if (result.err) throw new UsageError(`${result.err.message} (see --help)`);
  return { argv: result.argv, output: result.output };
}

function camelCase(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** What the command line says for `flag` (the last `--flag=v` or `--flag v`), as typed, if anything. */
export function commandLineValue(args: readonly string[], flag: string): string | undefined {
  const names = [`--${flag}`, `--${camelCase(flag)}`, `--no-${flag}`, `--no-${camelCase(flag)}`];
  let found: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') break;
    for (const n of names) {
      if (arg === n) found = n.startsWith('--no-') ? 'false' : (args[i + 1] ?? '');
      else if (arg.startsWith(`${n}=`)) found = arg.slice(n.length + 1);
    }
  }
  return found;
}

/**
 * What yargs accepts but means something else: a single-value flag given twice (yargs makes it a list), and a
 * boolean flag with a value other than true or false after `=` (yargs reads `--flag=yes` as false).
 */
export function flagShapeProblems(args: readonly string[], argv: Record<string, unknown>, options: Record<string, Options>): string[] {
  const problems: string[] = [];
  for (const [flag, option] of Object.entries(options)) {
    if (!option.array && Array.isArray(argv[flag])) problems.push(`--${flag}: given more than once; give it once`);
    if (option.type !== 'boolean') continue;
    for (const arg of args) {
      const m = /^--(?:no-)?([a-zA-Z-]+)=(.*)$/.exec(arg);
      if (m && (m[1] === flag || m[1] === camelCase(flag)) && m[2] !== 'true' && m[2] !== 'false') {
        problems.push(`--${flag}: must be true or false (or --no-${flag}), not ${JSON.stringify(m[2])}`);
      }
    }
  }
  return problems;
}

/**
 * For a main.ts: the parsed settings, or the process ends here: help or version printed (exit 0), a usage
 * mistake logged as one fatal line (exit 1).
 */
export function parsedOrExit<T>(parse: () => Parsed<T>, component: string): { kind: 'run' } & T {
  let parsed: Parsed<T>;
  try {
    parsed = parse();
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    pino({ base: { component } }).fatal(err.message);
    process.exit(1);
  }
  if (parsed.kind === 'print') {
    process.stdout.write(`${parsed.text}\n`);
    process.exit(0);
  }
  return parsed;
}

/**
 * Node's timers hold at most 2^31-1 ms; a longer delay is silently replaced by 1 ms, which would turn a periodic
 * sweep (setInterval) or a leader's retry (setTimeout, ⌊lease/7⌋) into a busy loop against the API server.
 */
export const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

const DURATION_EXAMPLES = 'such as 30s, 5m, 1h30m or 168h (hours, minutes, seconds)';

/**
 * Whole seconds of a duration flag, or null for never/forever where `allowNever`. `min`/`max` in seconds.
 * Pushes a message naming the flag onto `problems` and returns undefined when the value is not allowed.
 */
export function durationFlag(
  flag: string,
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
    problems.push(`--${flag}: must be ${allowed}${limits.allowNever ? ', or never' : ''}; ${JSON.stringify(text)} ${why || 'is not one'}`);
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

/** HOST:PORT of a listen flag (port 0: any free port); pushes a message naming the flag when it is not one. */
export function parseListen(flag: string, text: string, problems: string[]): { host: string; port: number } {
  const colon = text.lastIndexOf(':');
  const portText = colon < 0 ? '' : text.slice(colon + 1);
  const port = Number(portText);
  if (colon < 0 || !/^\d+$/.test(portText) || port > 65535) {
    problems.push(`--${flag}: must be HOST:PORT with a port from 0 to 65535, e.g. 0.0.0.0:8080 or :8080; ${JSON.stringify(text)} is not`);
    return { host: '0.0.0.0', port: 0 };
  }
  // `[::1]:8080`: net.Server.listen wants the address without brackets.
  const host = text.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return { host: host || '0.0.0.0', port };
}
