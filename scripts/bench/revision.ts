// `npm run bench -- --compare REV`: another revision of netwatch, checked out into a temporary git worktree outside
// this repository (removed at the end), with its dependencies (this checkout's node_modules when both lock files
// agree, else its own `npm ci --prefer-offline`), and its components bundled by its own scripts/build-dist.ts, so
// that the benchmarks run it exactly the way they run this tree: its Containerfile's Node flags, its Deployment's
// args, its RBAC, CRDs and webhook configurations (scripts/components.ts, scripts/deploy.ts take the checkout's root).
// The checks of what a revision must have are pure and unit-tested (table.test.ts).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Command } from '../../lib/cli/flags.ts';
import type { Bundles, ServerName } from '../components.ts';
import type { BenchName } from './options.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** What a revision needs for its webhook to be bundled, started, given its RBAC and CRDs, and registered. */
export const WEBHOOK_NEEDS = [
  'package-lock.json',
  'scripts/build-dist.ts',
  'webhook/main.ts',
  'webhook/options.ts',
  'Containerfile',
  'manifests/webhook/deployment.yaml',
  'manifests/webhook/rbac.yaml',
  'manifests/webhook/webhooks.yaml',
  // The AccessPolicy CRD is not needed: a revision from before it has none, and this tree's stays installed.
  'crds/accessrequests.netwatch.vtk.io.yaml',
] as const;

/** What a revision needs for its plugin to be bundled by its own build and run through kubectl. */
export const PLUGIN_NEEDS = ['package-lock.json', 'plugin/build.ts', 'plugin/bin/kubectl-netwatch.js'] as const;

/** What comparing `benches` needs of a revision: each path once, in order. */
export function needsOf(benches: readonly BenchName[]): string[] {
  const needs: string[] = [];
  if (benches.includes('webhook')) needs.push(...WEBHOOK_NEEDS);
  if (benches.includes('plugin')) needs.push(...PLUGIN_NEEDS);
  return [...new Set(needs)];
}

/** The needed paths a revision's tree lacks, in the order of `needs`. */
export function missingFiles(files: ReadonlySet<string>, needs: readonly string[] = WEBHOOK_NEEDS): string[] {
  return needs.filter((f) => !files.has(f));
}

/** Whether a revision can share this checkout's node_modules: only when its package-lock.json is the same. */
export function dependencyPlan(revisionLock: string, headLock: string): 'share' | 'install' {
  return revisionLock === headLock ? 'share' : 'install';
}

/** The flags of `set` a revision's command does not define (the benchmark's tuning flags may be newer than it). */
export function unknownFlags(set: Readonly<Record<string, unknown>>, command: Pick<Command, 'options'>): string[] {
  return Object.keys(set).filter((f) => !(f in command.options));
}

export interface Checkout {
  /** As the user wrote it (`HEAD~5`), and the commit it names. */
  rev: string;
  sha: string;
  /** `REV (abc1234)`, for tables and messages. */
  label: string;
  root: string;
  /** Files of the revision's tree differ from this checkout's (content), e.g. 'crds/…', 'manifests/webhook/rbac.yaml'. */
  differs(path: string): boolean;
  remove(): void;
}

const git = (...args: string[]) => execFileSync('git', ['-C', REPO, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

/**
 * Checks `rev` out into a temporary worktree outside the repository, with its dependencies. Throws, naming what is
 * missing, when the revision is not a commit or lacks what running its webhook needs; nothing is left behind then.
 */
export function checkoutRevision(rev: string, needs: readonly string[], log: (line: string) => void): Checkout {
  let sha: string;
  try {
    sha = git('rev-parse', '--verify', '--quiet', `${rev}^{commit}`);
  } catch {
    throw new Error(`--compare: ${JSON.stringify(rev)} is not a commit of this repository (git rev-parse found nothing)`);
  }
  const short = sha.slice(0, 7);
  const label = rev === short || rev === sha ? short : `${rev} (${short})`;
  const missing = missingFiles(new Set(git('ls-tree', '-r', '--name-only', sha).split('\n')), needs);
  if (missing.length > 0) {
    throw new Error(`--compare ${label}: the benchmark cannot run this revision the way it runs this tree: it lacks ${missing.join(', ')}`);
  }
  const parent = mkdtempSync(join(tmpdir(), `netwatch-bench-${short}-`));
  const root = join(parent, 'netwatch');
  let removed = false;
  const remove = () => {
    if (removed) return;
    removed = true;
    try {
      git('worktree', 'remove', '--force', root);
    } catch {
      // Not (or no longer) a worktree: the folder goes below, and `git worktree prune` forgets it.
    }
    rmSync(parent, { recursive: true, force: true });
    process.off('exit', remove);
  };
  process.once('exit', remove);
  try {
    git('worktree', 'add', '--detach', '--quiet', root, sha);
    const plan = dependencyPlan(readFileSync(join(root, 'package-lock.json'), 'utf8'), readFileSync(join(REPO, 'package-lock.json'), 'utf8'));
    if (plan === 'share') symlinkSync(realpathSync(join(REPO, 'node_modules')), join(root, 'node_modules'));
    else {
      log(`  ${label}: its package-lock.json differs from this tree's: npm ci --prefer-offline in ${root}`);
      const r = spawnSync('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
      if (r.status !== 0) throw new Error(`--compare ${label}: npm ci in its worktree failed (exit ${String(r.status)})`);
    }
  } catch (err) {
    remove();
    throw err;
  }
  const differs = (path: string) => {
    const mine = join(REPO, path);
    const theirs = join(root, path);
    if (!existsSync(mine) || !existsSync(theirs)) return existsSync(mine) !== existsSync(theirs);
    return !readFileSync(mine).equals(readFileSync(theirs));
  };
  return { rev, sha, label, root, differs, remove };
}

/**
 * Bundles `names` with the revision's own scripts/build-dist.ts (its buildServers, in a Node process of its own in
 * the revision's worktree), and reads each component's flags from its options.ts.
 */
export async function buildRevisionBundles(co: Checkout, names: readonly ServerName[]): Promise<Bundles> {
  const dir = join(co.root, '.tmp', 'bench-bundles');
  const script = [
    "const m = await import('./scripts/build-dist.ts');",
    "if (typeof m.buildServers !== 'function') { process.stderr.write('scripts/build-dist.ts does not export buildServers\\n'); process.exit(3); }",
    'await m.buildServers({ outdir: process.argv[1], only: JSON.parse(process.argv[2]), quiet: true });',
  ].join('\n');
  await runIn(co, `its scripts/build-dist.ts could not bundle ${names.join(', ')}`, ['--input-type=module', '-e', script, dir, JSON.stringify(names)]);
  const commands: Partial<Record<ServerName, Command>> = {};
  for (const name of names) {
    const file = join(co.root, name, 'options.ts');
    const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    const command = Object.values(mod).find((v): v is Command => typeof v === 'object' && v !== null && 'options' in v && 'envPrefix' in v);
    if (!command) throw new Error(`--compare ${co.label}: ${name}/options.ts exports no command (an object with options and envPrefix, like WEBHOOK_COMMAND)`);
    commands[name] = command;
  }
  return { dir, root: co.root, commands, entry: (name) => join(dir, `${name}.mjs`), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs `node --import tsx ARGS` in the revision's worktree; throws `failure` with its last stderr when it fails. */
async function runIn(co: Checkout, failure: string, args: string[]): Promise<void> {
  const stderr: Buffer[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: co.root, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.on('data', (c: Buffer) => stderr.push(c));
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`--compare ${co.label}: ${failure} (exit ${String(code)}):\n${Buffer.concat(stderr).toString().slice(-2000)}`);
}

/**
 * Bundles the revision's plugin with its own plugin/build.ts; returns its plugin/bin/kubectl-netwatch.js, which
 * runs that bundle (the bin falls back to the TypeScript source when the bundle is missing: a failed build stops here).
 */
export async function buildRevisionPlugin(co: Checkout): Promise<string> {
  await runIn(co, 'its plugin/build.ts failed', ['plugin/build.ts']);
  if (!existsSync(join(co.root, 'plugin/dist/kubectl-netwatch.mjs'))) throw new Error(`--compare ${co.label}: its plugin/build.ts wrote no plugin/dist/kubectl-netwatch.mjs`);
  return join(co.root, 'plugin/bin/kubectl-netwatch.js');
}

/** Another revision, checked out and built for the benchmarks to compare: what `benches` need of it. */
export interface CompareWith {
  checkout: Checkout;
  /** Its webhook's bundle (with the webhook benchmark). */
  bundles?: Bundles;
  /** Its plugin's bin (with the plugin benchmark). */
  plugin?: string;
}

/** Checks `rev` out and builds what comparing `benches` needs; nothing is left behind when that fails. */
export async function prepareRevision(rev: string, benches: readonly BenchName[], log: (line: string) => void): Promise<CompareWith> {
  const checkout = checkoutRevision(rev, needsOf(benches), log);
  try {
    return {
      checkout,
      ...(benches.includes('webhook') ? { bundles: await buildRevisionBundles(checkout, ['webhook']) } : {}),
      ...(benches.includes('plugin') ? { plugin: await buildRevisionPlugin(checkout) } : {}),
    };
  } catch (err) {
    checkout.remove();
    throw err;
  }
}
