// How the bundle's entry loads its two big parts (the list path, the CLI): as scripts compiled through V8's code
// cache, kept on disk per part, build, Node version and command.
//
// Why not Node's own compile cache (module.enableCompileCache, which the bin script turns on for the entry): it
// stores the code V8 has compiled when the module is first compiled, before it runs. V8 compiles a function when it
// is first called, so nearly everything a command runs is compiled again on every start (~20 ms for `list` through
// the CLI, ~5 ms for `list -o json` on the two-core CI machine; scripts/bench/plugin.ts). A cache taken after the
// command has run (vm.Script#createCachedData) holds those functions too.
//
// A part file (plugin/build.ts writes them) is a script whose value is an async function: its body is the part's
// ES module bundle (top-level await and all), which hands its exports to the function's first parameter. Its first
// line, `// netwatch-part <id>`, names its contents, so a cache is never used for other source of the same length
// (the only check V8 makes on the source).
//
// The cache is an optimization and nothing else: any failure to read or write it is ignored, a cache V8 rejects
// (another V8, other flags) is rewritten, and NODE_DISABLE_COMPILE_CACHE turns it off as it turns off Node's.
// Built-ins come through process.getBuiltinModule: this file is in the entry, which every command loads.
const { accessSync, closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } = process.getBuiltinModule('node:fs');
const { createRequire } = process.getBuiltinModule('node:module');
const path = process.getBuiltinModule('node:path');
const { fileURLToPath, pathToFileURL } = process.getBuiltinModule('node:url');
const vm = process.getBuiltinModule('node:vm');

export interface CodeCacheSettings {
  /** Where caches are kept; none: compile without a cache. */
  dir?: string | undefined;
  /** Which run this is (the CLI's command): each keeps the functions its own runs call. */
  variant: string;
}

let settings: CodeCacheSettings = { variant: 'default' };

/** Set once by main.ts, before a part is loaded. */
export function configureCodeCache(next: CodeCacheSettings): void {
  settings = next;
}

/** The cache directory for this environment: $XDG_CACHE_HOME/kubectl-netwatch, else ~/.cache/kubectl-netwatch. */
export function codeCacheDir(env: NodeJS.ProcessEnv): string | undefined {
  if (env.NODE_DISABLE_COMPILE_CACHE) return undefined;
  const base = env.XDG_CACHE_HOME || (env.HOME ? path.join(env.HOME, '.cache') : env.LOCALAPPDATA);
  return base ? path.join(base, 'kubectl-netwatch') : undefined;
}

// The CLI's commands (cli.ts; code-cache.test.ts checks they agree). Runs of other words share one cache, so a typo does
// not leave a file behind.
const COMMANDS: Record<string, string> = {
  request: 'request',
  list: 'list',
  ls: 'list',
  get: 'list',
  describe: 'describe',
  approve: 'approve',
  extend: 'extend',
  deny: 'deny',
  abort: 'abort',
  revoke: 'revoke',
  'can-i': 'can-i',
  why: 'why',
  policy: 'policy',
  tui: 'tui',
  completion: 'completion',
};

export const CACHED_COMMANDS: readonly string[] = Object.keys(COMMANDS);

// Flags before the command whose value is the next word (`kubectl netwatch -n team-a list`).
const VALUED_FLAGS = new Set(['-n', '--namespace', '--context', '--kubeconfig', '--cluster-cidr', '-o', '--output']);

/** The cache variant of a CLI command line: its command, `tui` when there is none, else `other`. */
export function cliVariant(argv: readonly string[]): string {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (VALUED_FLAGS.has(arg)) i++;
    else if (!arg.startsWith('-')) return Object.hasOwn(COMMANDS, arg) ? (COMMANDS[arg] ?? 'other') : 'other';
  }
  // No command: the TUI (`kubectl netwatch -A`), unless only help or the version is asked for.
  return argv.some((a) => a === '-h' || a === '--help' || a === '--version') ? 'other' : 'tui';
}

const ID_LINE = /^\/\/ netwatch-part ([0-9a-f]{16,64})\n/;

/** The parameters of a part file's function, in order (the bundle's body uses them, loadPart passes them). */
export const PART_PARAMETERS = ['__netwatchPart', 'require', '__importMetaUrl', '__importMetaResolve'] as const;

/** A part file (plugin/build.ts writes them): its id on the first line, then `body` as an async function's. */
export function partSource(id: string, body: string): string {
  return `// netwatch-part ${id}\n(async function (${PART_PARAMETERS.join(', ')}) {\n'use strict';\n${body}\n})\n`;
}

/**
 * Runs the part file `url` and returns its exports. A missing file fails as a missing ES module does
 * (ERR_MODULE_NOT_FOUND), which the bin script reports as an incomplete installation.
 */
export async function loadPart(url: URL, name: string): Promise<Record<string, unknown>> {
  const file = fileURLToPath(url);
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    throw Object.assign(new Error(`Cannot find module '${file}'`, { cause: err }), { code: 'ERR_MODULE_NOT_FOUND' });
  }
  const cache = cacheOf(name, ID_LINE.exec(source)?.[1]);
  const cachedData = cache ? readOwnFile(cache.file) : undefined;
  const script = new vm.Script(source, {
    filename: file,
    ...(cachedData ? { cachedData } : {}),
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  if (cache && (!cachedData || script.cachedDataRejected)) {
    // At exit, when every function the command called has been compiled.
    process.once('exit', () => saveCache(script, cache));
  }
  const run = script.runInThisContext() as (...args: unknown[]) => Promise<void>;
  if (typeof run !== 'function') throw new Error(`${file} is not a kubectl-netwatch bundle part`);
  const requireFromPart = createRequire(file);
  let exports: Record<string, unknown> | undefined;
  await run(
    (part: Record<string, unknown>) => (exports = part),
    requireFromPart,
    pathToFileURL(file).href,
    (specifier: string) => pathToFileURL(requireFromPart.resolve(specifier)).href,
  );
  if (!exports) throw new Error(`${file} handed over no exports`);
  return exports;
}

interface CacheFile {
  dir: string;
  file: string;
  /** Names of every cache of this part and variant. */
  prefix: string;
  /** Names of this part's build among them (any Node version). */
  build: string;
}

/** Where part `name` with id `id` is cached for this variant and Node, if it can be: an id, and a private directory. */
function cacheOf(name: string, id: string | undefined): CacheFile | undefined {
  const { dir, variant } = settings;
  if (!dir || !id || !privateDir(dir, true)) return undefined;
  const prefix = `${name}-${variant}-`;
  const build = `${prefix}${id.slice(0, 16)}-`;
  return { dir, file: path.join(dir, `${build}${process.version}-${process.arch}.v8`), prefix, build };
}

// A code cache is code: it is read only from a directory and a file that the user owns and nobody else may write
// (in a directory others may write, they could also plant links where the cache is written). Windows reports no
// owner and no such mode bits; there the directory is the user's profile (LOCALAPPDATA), private by its ACL.
const POSIX = process.platform !== 'win32';

function onlyUserMayWrite(st: { mode: number; uid: number }): boolean {
  return !POSIX || ((st.mode & 0o022) === 0 && (!process.getuid || st.uid === process.getuid()));
}

function privateDir(dir: string, missingIsFine: boolean): boolean {
  try {
    const st = lstatSync(dir);
    return st.isDirectory() && onlyUserMayWrite(st);
  } catch (err) {
    return missingIsFine && (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

function readOwnFile(file: string): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const st = fstatSync(fd);
    if (!st.isFile() || !onlyUserMayWrite(st)) return undefined;
    return readFileSync(fd);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function saveCache(script: InstanceType<typeof vm.Script>, { dir, file, prefix, build }: CacheFile): void {
  try {
    // Serializing the cache costs tens of milliseconds for the CLI: only when it can be written (a read-only HOME
    // would pay it on every run).
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!privateDir(dir, false)) return;
    accessSync(dir, constants.W_OK);
    const data = script.createCachedData();
    // Written aside (a new file: 'wx' follows no link) and renamed: a concurrent start reads the old file or the
    // new one, never half of one.
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, data, { mode: 0o600, flag: 'wx' });
    renameSync(tmp, file);
    // Caches of this part and variant for another build are dead weight now (those of another Node version of this
    // build stay: someone switching Node versions keeps one of each), and so are files a crashed write left.
    for (const f of readdirSync(dir)) {
      const stale = f.startsWith(prefix) && (!f.startsWith(build) || (f.endsWith('.tmp') && path.join(dir, f) !== tmp));
      if (stale) rmSync(path.join(dir, f), { force: true });
    }
  } catch {
    // An optimization: a read-only or full disk must not fail a command that has done its work.
  }
}
