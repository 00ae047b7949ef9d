// Command-line parsing shared by the webhook and the controller: yargs run as a pure function (help, version and
// errors handed back, never printed or exited on), the checks yargs leaves out, and what a main.ts does with
// the result.
import { pino } from 'pino';
import yargs, { type Options } from 'yargs';

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
