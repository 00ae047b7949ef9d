// Bundles kubectl-netwatch into plugin/dist/ (git-ignored), which plugin/bin/kubectl-netwatch.js runs when
// present. The bundle is three self-contained files, so that each command reads only the code it runs:
//   kubectl-netwatch.mjs      the entry (src/main.ts): chooses a path from argv, handles exit and EPIPE, loads
//                             one of the two parts below through its code cache (src/code-cache.ts);
//   kubectl-netwatch-list.js  `list -o json`, what scripts run most: kubeconfig, one GET, print;
//   kubectl-netwatch-cli.js   every command (yargs) and the TUI. Ink, React and yoga sit behind a dynamic
//                             import inside it (lazily initialized modules), evaluated only for the TUI.
// The two parts are scripts, not modules: each is an ES module bundle wrapped in an async function (so top-level
// await still works), because V8's code cache API, which keeps the functions a command ran, compiles scripts.
// Why not one file: before running a line Node reads and decodes the whole file (and hashes a module), ~30 ms per MB
// on the two-core CI machine; the CLI file is ~0.9 MB, and `list -o json` has ~75 ms in all to stay within
// 1.5x of kubectl get (scripts/bench/plugin.ts). Code shared by the list and the CLI (the kube client) is in both.
// Run: node --import tsx plugin/build.ts [--analyze]
import { build, analyzeMetafile, type BuildOptions, type Metafile, type Plugin } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { PART_PARAMETERS, partSource } from './src/code-cache.ts';

const root = fileURLToPath(new URL('.', import.meta.url));

// Only KubeConfig is used from @kubernetes/client-node. Its package index drags in the whole generated API
// client (megabytes); config.js alone is enough. config.js still imports the generated client (for
// makeApiClient) and undici (for the generated clients' dispatcher): neither is ever called by the plugin, so
// they are replaced by stubs that throw if something did call them.
const leanKubeClient: Plugin = {
  name: 'lean-kube-client',
  setup(b) {
    b.onResolve({ filter: /^@kubernetes\/client-node$/ }, (args) => ({
      path: fileURLToPath(import.meta.resolve('@kubernetes/client-node/dist/config.js', `file://${args.resolveDir}/`)),
    }));
    b.onResolve({ filter: /^\.\/gen\/index\.js$/ }, (args) =>
      args.importer.includes('@kubernetes/client-node/dist/') ? { path: 'generated-client', namespace: 'stub' } : undefined,
    );
    b.onResolve({ filter: /^undici$/ }, (args) =>
      args.importer.includes('@kubernetes/client-node/dist/') ? { path: 'undici', namespace: 'stub' } : undefined,
    );
    // The legacy auth-provider plugins: openid-client (oidc) is loaded only when a kubeconfig uses it; the
    // gcp/azure providers were removed from kubectl in 1.26 (exec credential plugins replace them).
    b.onResolve({ filter: /^openid-client$/ }, (args) =>
      args.importer.includes('@kubernetes/client-node/dist/') ? { path: 'openid-client-lazy', namespace: 'stub' } : undefined,
    );
    b.onResolve({ filter: /^jsonpath-plus$/ }, (args) =>
      args.importer.includes('@kubernetes/client-node/dist/') ? { path: 'jsonpath-plus', namespace: 'stub' } : undefined,
    );
    // Ink loads React DevTools only when DEV=true; it is not installed and never wanted in the plugin.
    b.onResolve({ filter: /^react-devtools-core$/ }, () => ({ path: 'react-devtools-core', namespace: 'stub' }));
    b.onLoad({ filter: /.*/, namespace: 'stub' }, (args) => ({
      loader: 'js',
      resolveDir: fileURLToPath(new URL('../node_modules/@kubernetes/client-node/dist/', import.meta.url)),
      contents:
        args.path === 'openid-client-lazy'
          ? `const load = () => import('openid-client');
             export const customFetch = Symbol('customFetch');
             export async function discovery(server, clientId, metadata, auth, options) {
               const m = await load();
               if (options && options[customFetch]) options = { ...options, [m.customFetch]: options[customFetch] };
               return m.discovery(server, clientId, metadata, auth, options);
             }
             export async function refreshTokenGrant(...args) { return (await load()).refreshTokenGrant(...args); }`
          : args.path === 'jsonpath-plus'
          ? `export function JSONPath() { throw new Error('the gcp and azure auth-providers are not supported (kubectl removed them in 1.26); use an exec credential plugin'); }`
          : args.path === 'react-devtools-core'
          ? `export default { initialize() {}, connectToDevTools() {} };`
          : args.path === 'generated-client'
          ? `export function createConfiguration() { throw new Error('kubectl-netwatch does not bundle the generated API clients'); }
             export class ServerConfiguration {}`
          : `export class Agent { constructor() { throw new Error('kubectl-netwatch does not bundle undici'); } }
             export class ProxyAgent extends Agent {}`,
    }));
  },
};

// Functions that are read long before they are called: client-node's ExecAuth stores child_process.spawn when a
// KubeConfig is made, which would load child_process (~10 ms) for every command, exec credential plugin or not.
// Reading one of these returns a stand-in that loads the module when called.
const DEFERRED_FUNCTIONS: Record<string, string[]> = { child_process: ['spawn'] };

// An ESM `import http from 'node:http'` makes Node build the module's ESM facade, which reads every export,
// getters included: node:http's WebSocket getter loads undici, node:tls's rootCertificates parses the CA store,
// node:crypto's webcrypto initializes WebCrypto — tens of milliseconds for nothing. Going through require()
// (CommonJS interop, property reads at use) keeps those lazy.
const lazyBuiltins: Plugin = {
  name: 'lazy-builtins',
  setup(b) {
    const builtins = new Set(builtinModules.filter((m) => !m.startsWith('_')));
    b.onResolve({ filter: /^(node:)?[a-z0-9_/]+$/ }, (args) => {
      // The stub's own require() stays a real require of the built-in.
      if (args.namespace === 'node-builtin') return { path: args.path, external: true };
      const name = args.path.replace(/^node:/, '');
      return builtins.has(name) ? { path: name, namespace: 'node-builtin' } : undefined;
    });
    // Loaded at the first property read, not when the importing module initializes: `list -o json` then never
    // loads child_process (exec credential plugins), assert (yargs), zlib and friends. The export names are
    // known at build time, so esbuild's interop can enumerate them without loading the module.
    b.onLoad({ filter: /.*/, namespace: 'node-builtin' }, async (args) => {
      const id = JSON.stringify(`node:${args.path}`);
      const real = (await import(`node:${args.path}`)) as Record<string, unknown>;
      const keys = JSON.stringify(Object.keys(real.default ?? real));
      const deferred = JSON.stringify(DEFERRED_FUNCTIONS[args.path] ?? []);
      return {
        loader: 'js',
        contents: `let m;
          const load = () => (m ??= require(${id}));
          const keys = ${keys};
          const known = new Set(keys);
          const deferred = new Map(${deferred}.map((k) => [k, (...a) => load()[k](...a)]));
          module.exports = new Proxy({}, {
            // esbuild's interop asks for __esModule first; answering it must not load the module.
            get: (_, k) => (k === '__esModule' ? undefined : deferred.get(k) ?? load()[k]),
            has: (_, k) => k in load(),
            ownKeys: () => keys,
            // esbuild's interop copies every export name once per importing module: a Set, not a scan per name.
            getOwnPropertyDescriptor: (_, k) => (known.has(k) ? { configurable: true, enumerable: true, get: () => load()[k] } : undefined),
            set: (_, k, v) => ((load()[k] = v), true),
          });`,
      };
    });
  },
};

// lib/api/accessrequest.ts (and accesspolicy.ts) build the CRDs' TypeBox schemas when they load; the plugin needs only their constants
// (names, limits, phases) and types. The bundle gets those constants, taken from the real module at build time
// (so they cannot drift), without the schemas or TypeBox. Importing a schema from plugin code fails the build.
const apiConstantsOnly: Plugin = {
  name: 'api-constants-only',
  setup(b) {
    b.onLoad({ filter: /[\\/]lib[\\/]api[\\/](accessrequest|accesspolicy)\.ts$/ }, async (args) => {
      const api = (await import(args.path)) as Record<string, unknown>;
      const plainValue = (v: unknown): boolean =>
        typeof v === 'string' || typeof v === 'number' || (Array.isArray(v) && v.every((x) => typeof x === 'string'));
      const contents = Object.entries(api)
        .filter(([, v]) => plainValue(v))
        .map(([k, v]) => `export const ${k} = ${JSON.stringify(v)};`)
        .join('\n');
      return { contents, loader: 'js' };
    });
  },
};

// Proxy support (a kubeconfig `proxy-url`) needs socks and hpagent, which cost a lot to load; they are required
// at first use instead (esbuild turns require() of a bundled CommonJS package into a lazy call).
const lazyProxyAgents: Plugin = {
  name: 'lazy-proxy-agents',
  setup(b) {
    b.onResolve({ filter: /^(socks-proxy-agent|socks|hpagent)$/ }, (args) =>
      args.importer.includes('@kubernetes/client-node/dist/') ? { path: args.path, namespace: 'lazy-proxy' } : undefined,
    );
    const exportsOf: Record<string, string[]> = {
      'socks-proxy-agent': ['SocksProxyAgent'],
      socks: ['SocksClient'],
      hpagent: ['HttpProxyAgent', 'HttpsProxyAgent'],
    };
    b.onLoad({ filter: /.*/, namespace: 'lazy-proxy' }, (args) => ({
      loader: 'js',
      resolveDir: fileURLToPath(new URL('../node_modules/@kubernetes/client-node/dist/', import.meta.url)),
      contents: (exportsOf[args.path] ?? [])
        .map((name) =>
          name === 'SocksClient'
            ? `export const SocksClient = { createConnection: (...a) => require(${JSON.stringify(args.path)}).SocksClient.createConnection(...a) };`
            : `export class ${name} { constructor(...a) { const Real = require(${JSON.stringify(args.path)}).${name}; return new Real(...a); } }`,
        )
        .join('\n'),
    }));
  },
};

// yargs and cliui measure help text with string-width, whose Unicode-property regexes cost ~20 ms to build at
// load. Help text here is ASCII plus a few symbols: code points, escapes stripped, are width enough. yargs also
// loads node:assert (another ~20 ms) for two argument checks of its own API.
const plainStringWidth: Plugin = {
  name: 'plain-string-width',
  setup(b) {
    b.onResolve({ filter: /^string-width$/ }, (args) =>
      /[\\/]node_modules[\\/](yargs|cliui)[\\/]/.test(args.importer) ? { path: 'string-width', namespace: 'plain-string-width' } : undefined,
    );
    // cliui wraps help columns with wrap-ansi, whose own string-width copy costs as much again.
    b.onResolve({ filter: /^wrap-ansi$/ }, (args) =>
      /[\\/]node_modules[\\/]cliui[\\/]/.test(args.importer) ? { path: 'wrap-ansi', namespace: 'plain-wrap' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'plain-wrap' }, () => ({
      loader: 'js',
      contents: `export default function wrap(text, width, opts = {}) {
        return String(text).split('\\n').map((line) => {
          const out = [];
          let cur = '';
          for (const word of line.split(' ')) {
            if (cur !== '' && [...cur].length + 1 + [...word].length > width) { out.push(cur); cur = word; }
            else cur = cur === '' ? word : cur + ' ' + word;
            while (opts.hard && [...cur].length > width) { out.push([...cur].slice(0, width).join('')); cur = [...cur].slice(width).join(''); }
          }
          out.push(cur);
          return out.join('\\n');
        }).join('\\n');
      }`,
    }));
    b.onResolve({ filter: /^assert$/ }, (args) =>
      /[\\/]node_modules[\\/]yargs[\\/]/.test(args.importer) ? { path: 'assert', namespace: 'yargs-assert' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'yargs-assert' }, () => ({
      loader: 'js',
      contents: `export function strictEqual(a, b, m) { if (a !== b) throw new Error(m ?? 'expected values to be strictly equal'); }
                 export function notStrictEqual(a, b, m) { if (a === b) throw new Error(m ?? 'expected values to differ'); }`,
    }));
    b.onLoad({ filter: /.*/, namespace: 'plain-string-width' }, () => ({
      loader: 'js',
      contents: `export default function stringWidth(s) { return [...String(s).replace(/\\x1b\\[[0-9;]*m/g, '')].length; }`,
    }));
  },
};

/** The files of the bundle, in plugin/dist/ (and in the npm package and krew archive). */
export const BUNDLE_FILES = { entry: 'kubectl-netwatch.mjs', list: 'kubectl-netwatch-list.js', cli: 'kubectl-netwatch-cli.js' } as const;

// In the entry, src/parts.ts (the two parts as dynamic imports) becomes a module that loads the part files through
// the code cache (src/code-cache.ts) instead of bundling them.
const separateParts: Plugin = {
  name: 'separate-parts',
  setup(b) {
    b.onResolve({ filter: /^\.\/parts\.ts$/ }, (args) => (args.importer === `${root}src/main.ts` ? { path: 'parts', namespace: 'parts' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'parts' }, () => ({
      loader: 'js',
      resolveDir: `${root}src`,
      contents: `import { loadPart } from './code-cache.ts';
        export const parts = {
          list: () => loadPart(new URL(${JSON.stringify(`./${BUNDLE_FILES.list}`)}, import.meta.url), 'list'),
          cli: () => loadPart(new URL(${JSON.stringify(`./${BUNDLE_FILES.cli}`)}, import.meta.url), 'cli'),
        };`,
    }));
  },
};

// The list path leaves out what only some kubeconfigs need: openid-client (the legacy `oidc` auth-provider) and
// socks (a SOCKS proxy-url), 60% of its size. list-json.ts hands such kubeconfigs to the full CLI before either is
// used (KubePort.usesRareClientParts); these stand-ins fail loudly if that check ever misses one.
const listPathLeavesOut: Plugin = {
  name: 'list-path-leaves-out',
  setup(b) {
    const exportsOf: Record<string, string> = {
      'openid-client': 'export const customFetch = Symbol("customFetch"); export const discovery = missing; export const refreshTokenGrant = missing;',
      'socks-proxy-agent': 'export class SocksProxyAgent { constructor() { missing(); } }',
      socks: 'export const SocksClient = { createConnection: missing };',
    };
    b.onResolve({ filter: /^(openid-client|socks-proxy-agent|socks)$/ }, (args) =>
      args.importer.includes('@kubernetes/client-node/dist/') ? { path: args.path, namespace: 'left-out' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'left-out' }, (args) => ({
      loader: 'js',
      contents: `function missing() { throw new Error(${JSON.stringify(`kubectl-netwatch: the list path does not include ${args.path}; the full CLI should have run this command (a bug)`)}); }
        ${exportsOf[args.path] ?? ''}`,
    }));
  },
};

/** Builds the three files into `outdir` (default plugin/dist); returns each file with its inputs when asked. */
export async function buildParts(opts: { minify?: boolean; outdir?: string; external?: string[]; metafile?: boolean } = {}): Promise<{ file: string; metafile?: Metafile }[]> {
  const outdir = opts.outdir ?? `${root}dist`;
  const parts = [
    { source: 'main.ts', out: BUNDLE_FILES.entry },
    { source: 'list-json.ts', out: BUNDLE_FILES.list },
    { source: 'cli.ts', out: BUNDLE_FILES.cli },
  ];
  await mkdir(outdir, { recursive: true });
  const define = { 'process.env.NODE_ENV': '"production"', 'process.env.DEV': '"false"' };
  const [handOver, , metaUrl, metaResolve] = PART_PARAMETERS;
  return Promise.all(
    parts.map(async ({ source, out }) => {
      const file = join(outdir, out);
      const isEntry = out === BUNDLE_FILES.entry;
      const shape: BuildOptions = isEntry
        ? {
            entryPoints: [`${root}src/${source}`],
            define,
            // Some bundled CommonJS packages call require() for Node built-ins.
            banner: { js: "const require = process.getBuiltinModule('node:module').createRequire(import.meta.url);" },
          }
        : {
            // A part's bundle hands its exports to the function code-cache.ts calls, instead of exporting them, and
            // gets require and import.meta's URL and resolver as that function's parameters (a script has neither).
            stdin: { contents: `import * as part from './${source}';\n${handOver}(part);`, resolveDir: `${root}src`, sourcefile: `${out}.ts`, loader: 'ts' },
            define: { ...define, 'import.meta.url': metaUrl, 'import.meta.resolve': metaResolve },
          };
      const result = await build({
        ...shape,
        outfile: file,
        write: false,
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node22',
        minify: opts.minify ?? true,
        external: opts.external ?? [],
        keepNames: false,
        legalComments: 'none',
        metafile: true,
        plugins: [...(out === BUNDLE_FILES.list ? [listPathLeavesOut] : []), separateParts, apiConstantsOnly, lazyProxyAgents, plainStringWidth, leanKubeClient, lazyBuiltins],
        logLevel: 'warning',
      });
      const text = result.outputFiles[0]?.text ?? '';
      if (isEntry) {
        await writeFile(file, text);
      } else {
        // The body of an async function must be an ES module with nothing imported or exported (it runs as a script).
        const output = Object.values(result.metafile.outputs)[0];
        if (!output || output.exports.length > 0 || output.imports.some((i) => !i.path.startsWith('node:') && i.kind !== 'require-call'))
          throw new Error(`${out}: a bundle part must neither export nor import (got ${JSON.stringify({ exports: output?.exports, imports: output?.imports })})`);
        const id = createHash('sha256').update(text).digest('hex').slice(0, 32);
        await writeFile(file, partSource(id, text));
      }
      return opts.metafile ? { file, metafile: result.metafile } : { file };
    }),
  );
}

/** Builds the bundle into `outdir` (default plugin/dist); returns the entry's path. */
export async function bundle(opts: { analyze?: boolean; minify?: boolean; outdir?: string; external?: string[] } = {}): Promise<string> {
  const parts = await buildParts({ ...opts, metafile: !!opts.analyze });
  for (const { metafile } of parts) if (metafile) process.stdout.write(await analyzeMetafile(metafile));
  return parts[0]!.file;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = await bundle({ analyze: process.argv.includes('--analyze'), minify: !process.argv.includes('--no-minify') });
  process.stdout.write(`${out}\n`);
}
