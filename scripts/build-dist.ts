// Bundles the server components into dist/ (our code only; dependencies stay in node_modules), for the
// container image and for running without tsx. `buildServers` is also used by the benchmarks, which run the
// components exactly as the image does (`node dist/<component>.mjs`), from a private output folder.
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { cp } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
export const SERVER_ENTRIES = {
  webhook: 'webhook/main.ts',
  controller: 'controller/main.ts',
  notifier: 'notifier/main.ts',
  webui: 'webui/main.ts',
} as const;
export type ServerName = keyof typeof SERVER_ENTRIES;

const CLIENT_DIST = `${root}node_modules/@kubernetes/client-node/dist/`;

/**
 * What a component uses of @kubernetes/client-node at run time, by export name → file of the package's dist/. The
 * package index, and config.js through it, load the whole generated API client
 * (every API class and model: some 45 MB of a process's memory) that these components never call. Their bundles
 * take these exports from their own files and replace the generated client with stubs that throw if ever called;
 * importing anything else from the package fails the build. The web UI uses the generated client: not listed.
 */
const LEAN_CLIENT_EXPORTS: Partial<Record<ServerName, Record<string, string>>> = {
  controller: { KubeConfig: 'config.js' },
  notifier: { KubeConfig: 'config.js' },
};

function leanKubeClient(exportsUsed: Record<string, string>): Plugin {
  // By path segment, not by CLIENT_DIST: node_modules may be a link (to a shared install), which esbuild resolves.
  const inPackage = (importer: string) => importer.includes('/node_modules/@kubernetes/client-node/dist/');
  return {
    name: 'lean-kube-client',
    setup(b) {
      b.onResolve({ filter: /^@kubernetes\/client-node$/ }, () => ({ path: 'index', namespace: 'lean-kube-client' }));
      // config.js imports the generated client for makeApiClient only.
      b.onResolve({ filter: /^\.\/gen\/index\.js$/ }, (args) =>
        inPackage(args.importer) ? { path: args.path, namespace: 'lean-kube-client' } : undefined,
      );
      // The package itself is bundled; every other package stays external, as in the other bundles.
      b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('node:') || args.kind === 'entry-point' ? undefined : { path: args.path, external: true }));
      b.onLoad({ filter: /.*/, namespace: 'lean-kube-client' }, (args) => {
        const notBundled = (what: string) => `throw new Error('${what} of @kubernetes/client-node is not bundled (scripts/build-dist.ts)')`;
        if (args.path === 'index') {
          const lines = Object.entries(exportsUsed).map(([name, file]) => `export { ${name} } from ${JSON.stringify(CLIENT_DIST + file)};`);
          return { loader: 'js', resolveDir: CLIENT_DIST, contents: lines.join('\n') };
        }
        return { loader: 'js', contents: `export function createConfiguration() { ${notBundled('the generated API client')}; }\nexport class ServerConfiguration { constructor() { ${notBundled('the generated API client')}; } }` };
      });
    },
  };
}

/**
 * Bundles the given components into `outdir` (relative to the repository root, or absolute) as `<name>.mjs`.
 * The folder must be inside the repository so that Node finds the external packages in its node_modules.
 * With the web UI, its stylesheet and script go to `outdir/static/`, where webui/routes/static.ts looks beside its
 * module: dist/ is then all of our code the image needs (Containerfile).
 */
export async function buildServers(opts: { outdir?: string; only?: ServerName[]; quiet?: boolean } = {}): Promise<void> {
  const names = opts.only ?? (Object.keys(SERVER_ENTRIES) as ServerName[]);
  const common: BuildOptions = {
    absWorkingDir: root,
    outdir: opts.outdir ?? 'dist',
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    sourcemap: true,
    logLevel: opts.quiet ? 'warning' : 'info',
  };
  const plain = names.filter((n) => !LEAN_CLIENT_EXPORTS[n]);
  if (plain.length > 0) await build({ ...common, entryPoints: Object.fromEntries(plain.map((n) => [n, SERVER_ENTRIES[n]])), packages: 'external' });
  for (const n of names) {
    const lean = LEAN_CLIENT_EXPORTS[n];
    if (lean) await build({ ...common, entryPoints: { [n]: SERVER_ENTRIES[n] }, plugins: [leanKubeClient(lean)] });
  }
  if (names.includes('webui')) {
    await cp(resolve(root, 'webui/static'), resolve(root, opts.outdir ?? 'dist', 'static'), { recursive: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await buildServers();
