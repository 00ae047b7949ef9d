// Bundles the three server components into dist/ (our code only; dependencies stay in node_modules), for the
// container image and for running without tsx. `buildServers` is also used by the benchmarks, which run the
// components exactly as the image does (`node dist/<component>.mjs`), from a private output folder.
import { build } from 'esbuild';
import { cp } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
export const SERVER_ENTRIES = {
  webhook: 'webhook/main.ts',
  controller: 'controller/main.ts',
  webui: 'webui/main.ts',
} as const;

/**
 * Bundles the given components into `outdir` (relative to the repository root, or absolute) as `<name>.mjs`.
 * The folder must be inside the repository so that Node finds the external packages in its node_modules.
 * With the web UI, its stylesheet and script go to `outdir/static/`, where webui/app.ts looks beside its
 * module: dist/ is then all of our code the image needs (Containerfile).
 */
export async function buildServers(opts: { outdir?: string; only?: (keyof typeof SERVER_ENTRIES)[]; quiet?: boolean } = {}): Promise<void> {
  const names = opts.only ?? (Object.keys(SERVER_ENTRIES) as (keyof typeof SERVER_ENTRIES)[]);
  await build({
    absWorkingDir: root,
    entryPoints: Object.fromEntries(names.map((n) => [n, SERVER_ENTRIES[n]])),
    outdir: opts.outdir ?? 'dist',
    outExtension: { '.js': '.mjs' },
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node22',
    sourcemap: true,
    logLevel: opts.quiet ? 'warning' : 'info',
  });
  if (names.includes('webui')) {
    await cp(resolve(root, 'webui/static'), resolve(root, opts.outdir ?? 'dist', 'static'), { recursive: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await buildServers();
