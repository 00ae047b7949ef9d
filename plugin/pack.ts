// Builds the publishable `kubectl-netwatch` npm package from plugin/package.json: bundles the plugin into a
// staging folder beside the bin scripts, README and the repository's LICENSE, then runs `npm pack` there. The
// staging folder (outside the repository) is also what the krew archive is made of (plugin/krew/build.ts), so
// both channels ship the same files.
// Run: node --import tsx plugin/pack.ts [--out DIR]   (default DIR: plugin/dist/release, git-ignored)
// Publish the tarball it prints: npm publish plugin/dist/release/kubectl-netwatch-<version>.tgz
import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { BUNDLE_FILES, bundle } from './build.ts';

const run = promisify(execFile);

export const PLUGIN_DIR = fileURLToPath(new URL('.', import.meta.url));
export const REPO_DIR = fileURLToPath(new URL('..', import.meta.url));
export const RELEASE_DIR = join(PLUGIN_DIR, 'dist', 'release');

/**
 * Every file of the package, relative to its root. package.json stays in the krew archive too: it makes
 * bin/kubectl-netwatch.js an ES module whatever package.json the user has above ~/.krew.
 */
export const PACKAGE_FILES = [
  'LICENSE',
  'README.md',
  'bin/kubectl-netwatch.js',
  'bin/kubectl_complete-netwatch',
  ...Object.values(BUNDLE_FILES).map((f) => `dist/${f}` as const),
  'package.json',
] as const;
export const EXECUTABLES: readonly string[] = ['bin/kubectl-netwatch.js', 'bin/kubectl_complete-netwatch'];

export interface PluginManifest {
  name: string;
  version: string;
  homepage: string;
  repository: { type: string; url: string; directory?: string };
  bin: Record<string, string>;
  files: string[];
  scripts?: Record<string, string>;
  [key: string]: unknown;
}

/** plugin/package.json, checked against the repository's own version (the two are released together). */
export async function pluginManifest(): Promise<PluginManifest> {
  const plugin = JSON.parse(await readFile(join(PLUGIN_DIR, 'package.json'), 'utf8')) as PluginManifest;
  const root = JSON.parse(await readFile(join(REPO_DIR, 'package.json'), 'utf8')) as { version: string };
  if (plugin.version !== root.version) {
    throw new Error(`plugin/package.json has version ${plugin.version} but package.json has ${root.version}: release them together`);
  }
  return plugin;
}

/** "owner/name" of the GitHub repository in plugin/package.json (release downloads and the homepage). */
export function githubRepository(manifest: PluginManifest): string {
  const m = /github\.com[/:]([\w.-]+\/[\w.-]+?)(?:\.git)?$/.exec(manifest.repository.url);
  if (!m?.[1]) throw new Error(`plugin/package.json repository.url is not a GitHub repository: ${manifest.repository.url}`);
  return m[1];
}

/** Fills `dir` (empty or missing) with PACKAGE_FILES: a fresh minified bundle, and no scripts in package.json. */
export async function stagePlugin(dir: string): Promise<PluginManifest> {
  const manifest = await pluginManifest();
  await mkdir(join(dir, 'bin'), { recursive: true });
  await bundle({ outdir: join(dir, 'dist') });
  for (const f of EXECUTABLES) {
    await copyFile(join(PLUGIN_DIR, f), join(dir, f));
    await chmod(join(dir, f), 0o755);
  }
  await copyFile(join(REPO_DIR, 'LICENSE'), join(dir, 'LICENSE'));
  await copyFile(join(PLUGIN_DIR, 'README.md'), join(dir, 'README.md'));
  // The committed manifest's prepack script refuses a pack straight from plugin/ (no LICENSE, maybe a stale
  // bundle); the staged copy is the real thing, and installed users need no scripts.
  const { scripts: _scripts, ...published } = manifest;
  await writeFile(join(dir, 'package.json'), `${JSON.stringify(published, null, 2)}\n`);
  return manifest;
}

/** Runs npm under the Node running this script, so `#!/usr/bin/env node` in npm picks the same one. */
export async function npm(args: string[], cwd: string): Promise<string> {
  const env = { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}` };
  const { stdout } = await run('npm', args, { cwd, env, maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

export interface Packed {
  /** Absolute path of the .tgz. */
  tarball: string;
  /** Paths inside the package, as npm recorded them. */
  files: string[];
  version: string;
}

/** Stages and packs the plugin into `outDir`; the staging folder is removed afterwards. */
export async function packPlugin(outDir: string = RELEASE_DIR): Promise<Packed> {
  const stage = await mkdtemp(join(tmpdir(), 'kubectl-netwatch-pack-'));
  try {
    const manifest = await stagePlugin(stage);
    await mkdir(outDir, { recursive: true });
    const out = await npm(['pack', '--json', '--ignore-scripts', '--pack-destination', resolve(outDir)], stage);
    const [result] = JSON.parse(out) as { filename: string; files: { path: string }[] }[];
    if (!result) throw new Error(`npm pack printed no result: ${out}`);
    return { tarball: join(resolve(outDir), result.filename), files: result.files.map((f) => f.path).sort(), version: manifest.version };
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const i = process.argv.indexOf('--out');
  const packed = await packPlugin(i > 0 && process.argv[i + 1] ? resolve(process.argv[i + 1]!) : RELEASE_DIR);
  process.stdout.write(`${packed.tarball}\n`);
}
