// The one configuration path of the servers: flags, each also settable as an environment variable under the
// component's prefix (NETWATCH_WEBHOOK_, NETWATCH_CONTROLLER_, NETWATCH_NOTIFIER_, NETWATCH_WEBUI_), secrets from files, and the
// variables of earlier releases read as deprecated aliases. Everything here is a pure function of (arguments,
// environment): yargs runs with help, version and errors handed back, never printed or exited on; each
// component's main.ts acts on the result.
//
// The environment is read here rather than by yargs' `.env()`, for three reasons: yargs hands an array flag the
// whole variable as one value (`"10.0.0.0/8 192.168.0.0/16"`), `.strict()` then fails on every unknown variable of
// the prefix with "Unknown argument", and the kubelet itself injects such variables (see isServiceLink). Known
// variables reach yargs as a config object, which ranks below the command line and above the defaults, so a flag
// still wins over its variable.
import yargs, { type Options } from 'yargs';
import { durationHint, formatDuration, isNever, parseDuration } from '../domain/duration.ts';

/** A mistake in the flags (or environment): main.ts reports the message and exits 1. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export type Env = Record<string, string | undefined>;

export type Parsed<T> =
  | ({ kind: 'run' } & T)
  /** --help or --version: print `text` on stdout and exit 0. */
  | { kind: 'print'; text: string };

/** pino's levels; every component logs with pino. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface FlagOption extends Options {
  /** For an array flag: what separates entries in its environment variable (default: spaces or commas). */
  envSeparator?: RegExp;
  /**
   * For a `--<name>-file` flag naming a file that holds a secret: the variable `<PREFIX><NAME>` (without `_FILE`) may
   * hold the secret itself. Never a flag: a command line is visible to every process on the node.
   */
  inlineEnv?: boolean;
  /** Variables of earlier releases that still set this flag, each with a warning naming its replacement. */
  deprecatedEnv?: readonly string[];
  /** The same for the secret itself (see inlineEnv). */
  deprecatedInlineEnv?: readonly string[];
}

export interface Command<F extends string = string> {
  /** The program's name in usage text, e.g. netwatch-webhook. */
  name: string;
  /** What the settings are of, in messages: "not a webhook setting". */
  what: string;
  envPrefix: string;
  options: Readonly<Record<F, FlagOption>>;
}

/** Where a setting's value came from, named as the user wrote it, and the value as written. */
export interface Source {
  name: string;
  raw: string | undefined;
}

export interface CommandLine<F extends string> {
  kind: 'run';
  /** yargs' result: every flag, from the command line, the environment or its default. */
  argv: Record<string, unknown>;
  /** Unknown variables of the prefix, deprecated variables in use: main.ts logs each once. */
  warnings: string[];
  /** The flag when the command line gives it, else the variable that did, else the flag (its default). */
  source: (flag: F) => Source;
  /**
   * The secret of a `--<name>-file` flag with inlineEnv and where it came from: the file's content (trimmed) when
   * a file is named, else the inline variable's value; undefined when neither is set. Throws UsageError naming the
   * source when the file cannot be read.
   */
  secret: (flag: F, readFile: (path: string) => string) => { value: string; name: string } | undefined;
}

function camelCase(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** The variable of a flag: `--max-duration` → `NETWATCH_WEBHOOK_MAX_DURATION`. */
export function envVarOf(prefix: string, flag: string): string {
  return `${prefix}${flag.toUpperCase().replaceAll('-', '_')}`;
}

/** The variable holding a secret itself, for a `--<name>-file` flag with inlineEnv. */
export function inlineEnvVarOf(prefix: string, flag: string): string {
  return envVarOf(prefix, flag.replace(/-file$/, ''));
}

/** One variable a command reads, and what it sets. */
export interface Variable {
  name: string;
  flag: string;
  /** The secret itself rather than a file's path (inlineEnv). */
  inline: boolean;
  /** A variable of an earlier release; `replacement` is the current one. */
  deprecated: boolean;
  replacement: string;
}

/** Every variable `command` reads: for each flag its own, the inline secret one, and the deprecated aliases. */
export function variablesOf(command: Command): Variable[] {
  const out: Variable[] = [];
  for (const [flag, option] of Object.entries<FlagOption>(command.options)) {
    const own = envVarOf(command.envPrefix, flag);
    out.push({ name: own, flag, inline: false, deprecated: false, replacement: own });
    for (const name of option.deprecatedEnv ?? []) out.push({ name, flag, inline: false, deprecated: true, replacement: own });
    if (!option.inlineEnv) continue;
    const inline = inlineEnvVarOf(command.envPrefix, flag);
    out.push({ name: inline, flag, inline: true, deprecated: false, replacement: inline });
    for (const name of option.deprecatedInlineEnv ?? []) out.push({ name, flag, inline: true, deprecated: true, replacement: inline });
  }
  return out;
}

/**
 * With a Service in the component's namespace, the kubelet adds Docker-link variables to every container started
 * after it (unless the Pod sets `enableServiceLinks: false`): for `netwatch-webhook-metrics`,
 * NETWATCH_WEBHOOK_METRICS_SERVICE_HOST, NETWATCH_WEBHOOK_METRICS_SERVICE_PORT(_<NAME>),
 * NETWATCH_WEBHOOK_METRICS_PORT=tcp://10.96.0.7:8080, NETWATCH_WEBHOOK_METRICS_PORT_8080_TCP(_PROTO|_PORT|_ADDR).
 * They are not settings: ignore them without a word, or every Pod would warn, and
 * NETWATCH_WEBHOOK_METRICS_PORT=tcp://… must not be read as --metrics-port.
 */
function isServiceLink(suffix: string, value: string): boolean {
  if (/(^|_)SERVICE_(HOST|PORT(_[A-Z0-9_]+)?)$/.test(suffix)) return true;
  if (/(^|_)PORT_\d+_(TCP|UDP|SCTP)(_(PROTO|PORT|ADDR))?$/.test(suffix)) return true;
  return /(^|_)PORT$/.test(suffix) && /^(tcp|udp|sctp):\/\//.test(value);
}

interface FromEnvironment {
  /** Flag name → value as yargs would have read it from the command line. */
  values: Record<string, string | string[] | boolean>;
  /** Flag name → the variable that set it, and its text. */
  sources: Record<string, Source>;
  /** Flag name → the inline secret and the variable it came from. */
  inline: Record<string, Source & { raw: string }>;
  warnings: string[];
  errors: string[];
}

function fromEnvironment(command: Command, env: Env): FromEnvironment {
  const out: FromEnvironment = { values: {}, sources: {}, inline: {}, warnings: [], errors: [] };
  const variables = variablesOf(command);
  const byName = new Map(variables.map((v) => [v.name, v]));
  const own = variables.filter((v) => !v.deprecated && v.name.startsWith(command.envPrefix)).map((v) => v.name);
  const squash = (name: string) => name.replaceAll('_', '');
  // Current names first and deprecated aliases after them, so that an alias overrides: the manifests set the current
  // names (with example values) while a site's overlay written for v0.1 patches the old ones, and it is the site's
  // value that must count until the overlay is renamed.
  const names = Object.keys(env).sort((a, b) => Number(byName.get(a)?.deprecated ?? false) - Number(byName.get(b)?.deprecated ?? false) || a.localeCompare(b));
  for (const name of names) {
    const value = env[name];
    if (value === undefined) continue;
    if (name.startsWith(command.envPrefix) && isServiceLink(name.slice(command.envPrefix.length), value)) continue;
    const variable = byName.get(name);
    if (!variable) {
      if (!name.startsWith(command.envPrefix)) continue;
      // A typo must not take a component down (the webhook fails closed), but it must not pass unnoticed either.
      const likely = own.find((k) => squash(k) === squash(name.toUpperCase()));
      out.warnings.push(
        `ignoring environment variable ${name}: not a ${command.what} setting${likely ? ` (did you mean ${likely}?)` : ''}; the known ones are ${own.join(', ')}`,
      );
      continue;
    }
    // Kubernetes manifests often carry `value: ""` for "not set".
    if (value.trim() === '') continue;
    const flag = variable.flag;
    const option = command.options[flag]!;
    if (variable.deprecated) {
      const overridden = (variable.inline ? out.inline[flag] : out.sources[flag])?.name;
      out.warnings.push(
        `environment variable ${name} is deprecated: set ${variable.replacement}${variable.inline ? '' : ` (or --${flag})`} instead; ${name} will stop working in a later release` +
          (overridden ? `, and until then it overrides ${overridden}` : ''),
      );
    }
    if (variable.inline) {
      out.inline[flag] = { name, raw: value };
      continue;
    }
    out.sources[flag] = { name, raw: value };
    if (option.array) {
      out.values[flag] = value.split(option.envSeparator ?? /[\s,]+/).map((v) => v.trim()).filter(Boolean);
    } else if (option.type === 'boolean') {
      if (value === 'true' || value === 'false') out.values[flag] = value === 'true';
      else out.errors.push(`${name}: must be true or false, not ${JSON.stringify(value)}`);
    } else {
      out.values[flag] = value;
    }
  }
  return out;
}

export interface YargsResult {
  argv: Record<string, unknown>;
  output: string;
}

/** yargs' own keys stripped of ours: yargs is given only what it knows. */
function yargsOptions(options: Readonly<Record<string, FlagOption>>): Record<string, Options> {
  return Object.fromEntries(
    Object.entries(options).map(([flag, o]) => {
      const { envSeparator: _s, inlineEnv: _i, deprecatedEnv: _d, deprecatedInlineEnv: _di, ...rest } = o;
      return [flag, rest];
    }),
  );
}

/**
 * Parses `args` strictly against `options`; `config` ranks below the command line and above the defaults.
 * Throws UsageError for what yargs refuses (unknown flag, invalid choice, missing required flag).
 */
export function runYargs(
  args: readonly string[],
  spec: { scriptName: string; usage?: string; epilogue?: string; options: Readonly<Record<string, FlagOption>>; config?: Record<string, unknown> },
): YargsResult {
  let result: { err: Error | undefined; argv: Record<string, unknown>; output: string } | undefined;
  let parser = yargs().scriptName(spec.scriptName);
  if (spec.usage) parser = parser.usage(spec.usage);
  if (spec.epilogue) parser = parser.epilogue(spec.epilogue);
  // A parse callback makes yargs hand over help, version and error text instead of printing it and exiting.
  void parser
    .options(yargsOptions(spec.options))
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
export function flagShapeProblems(args: readonly string[], argv: Record<string, unknown>, options: Readonly<Record<string, FlagOption>>): string[] {
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

function usageOf(command: Command): string {
  const flags = Object.keys(command.options);
  const example = flags.includes('log-level') ? 'log-level' : (flags[0] ?? 'flag');
  const secrets = flags.filter((f) => command.options[f]!.inlineEnv);
  return [
    '$0 [flags]',
    '',
    `Every flag can also be set as an environment variable: ${command.envPrefix} and the flag's name in upper case with _ for -` +
      ` (--${example} → ${envVarOf(command.envPrefix, example)}). A flag on the command line wins over its variable.`,
    ...(secrets.length > 0
      ? [
          '',
          `Secrets are read from files (${secrets.map((f) => `--${f}`).join(', ')}); the variable without _FILE (${secrets
            .map((f) => inlineEnvVarOf(command.envPrefix, f))
            .join(', ')}) may hold the secret itself, and the file wins when both are set. Secrets are never flags.`,
        ]
      : []),
  ].join('\n');
}

function epilogueOf(command: Command): string | undefined {
  const deprecated = variablesOf(command).filter((v) => v.deprecated);
  if (deprecated.length === 0) return undefined;
  return `Deprecated variables, still read with a warning: ${deprecated.map((v) => `${v.name} (now ${v.replacement})`).join(', ')}.`;
}

/**
 * Parses `args` and `env` for `command`: the help text for --help/--version, or every flag's value with where it
 * came from. Throws UsageError, naming the flag or variable, for an unknown flag, a missing required one, a value
 * outside its choices, a single-value flag given twice, or a boolean that is neither true nor false.
 */
export function readCommandLine<F extends string>(command: Command<F>, args: readonly string[], env: Env): CommandLine<F> | { kind: 'print'; text: string } {
  const fromEnv = fromEnvironment(command, env);
  const epilogue = epilogueOf(command);
  const { argv, output } = runYargs(args, {
    scriptName: command.name,
    usage: usageOf(command),
    ...(epilogue ? { epilogue } : {}),
    options: command.options,
    config: fromEnv.values,
  });
  if (output) return { kind: 'print', text: output };
  // `--default-cidr-deny=yes` must not be read as false: that would drop the deny list.
  const problems = [...fromEnv.errors, ...flagShapeProblems(args, argv, command.options)];
  if (problems.length > 0) throw new UsageError(problems.join('; '));

  const source = (flag: F): Source => {
    const raw = commandLineValue(args, flag);
    if (raw === undefined && fromEnv.sources[flag]) return fromEnv.sources[flag];
    return { name: `--${flag}`, raw };
  };
  return {
    kind: 'run',
    argv,
    warnings: fromEnv.warnings,
    source,
    secret: (flag, readFile) => {
      const path = argv[flag];
      const { name } = source(flag);
      if (typeof path === 'string' && path !== '') {
        try {
          return { value: readFile(path).trim(), name };
        } catch (err) {
          throw new UsageError(`${name}: cannot read ${path}: ${(err as Error).message}`);
        }
      }
      const inline = fromEnv.inline[flag];
      return inline && { value: inline.raw, name: inline.name };
    },
  };
}

/**
 * What a main.ts does when parsing ends the start-up: print help or version (exit 0), or log the usage mistake as
 * one fatal line (exit 1). `run` carries the parsed settings.
 */
export type Startup<T> = ({ kind: 'run' } & T) | { kind: 'stop'; code: 0; print: string } | { kind: 'stop'; code: 1; fatal: string };

export function startup<T>(parse: () => Parsed<T>): Startup<T> {
  let parsed: Parsed<T>;
  try {
    parsed = parse();
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    return { kind: 'stop', code: 1, fatal: err.message };
  }
  if (parsed.kind === 'print') return { kind: 'stop', code: 0, print: `${parsed.text}\n` };
  return parsed;
}

/**
 * Node's timers hold at most 2^31-1 ms; a longer delay is silently replaced by 1 ms, which would turn a periodic
 * sweep (setInterval) or a leader's retry (setTimeout, ⌊lease/7⌋) into a busy loop against the API server.
 */
export const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

const DURATION_EXAMPLES = 'such as 30s, 5m, 1h30m or 168h (hours, minutes, seconds)';

/**
 * Whole seconds of a duration setting, or null for never/forever where `allowNever`. `min`/`max` in seconds.
 * Pushes a message naming the flag or variable onto `problems` and returns undefined when the value is not allowed.
 */
export function durationFlag(
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

/** HOST:PORT of a listen setting (port 0: any free port); pushes a message naming its source when it is not one. */
export function parseListen(given: Source, text: string, problems: string[]): { host: string; port: number } {
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
