#!/usr/bin/env node
// kubectl-netwatch: runs the esbuild bundle (plugin/dist/kubectl-netwatch.mjs, built by `node --import tsx
// plugin/build.ts`) when it exists; otherwise, in a source checkout, runs the TypeScript source through tsx.
// The same file is the `bin` of the npm package (plugin/pack.ts) and the executable of the krew archive
// (plugin/krew/build.ts), where only the bundle exists: there a missing bundle is a broken installation, reported
// as such.

// First, before anything a too-old Node lacks: `#!/usr/bin/env node` runs whichever node is first on PATH, and
// the bundle targets Node 22 (process.getBuiltinModule, module.enableCompileCache).
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  process.stderr.write(`kubectl-netwatch needs Node.js 22 or later on PATH; found ${process.version} (${process.execPath})\n`);
  process.exit(1);
}

// V8's code cache for the bundle: later starts skip most parsing and compiling (Node 22.1+).
process.getBuiltinModule('node:module').enableCompileCache?.();

// The bundle is imported straight away (relative to this file's real path: Node resolves the symlinks npm and krew
// put in front of it); only if a file of it is missing does this script look around. Start-up time matters here
// (see scripts/bench/plugin.ts).
try {
  await import('../dist/kubectl-netwatch.mjs');
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
  // Built-ins through process.getBuiltinModule: an ESM `import` of node:fs would build its ESM facade for nothing.
  const { existsSync } = process.getBuiltinModule('node:fs');
  const { fileURLToPath, pathToFileURL } = process.getBuiltinModule('node:url');
  // The bundle's files: BUNDLE_FILES in plugin/build.ts (build.test.ts checks they agree).
  const bundleFiles = ['kubectl-netwatch.mjs', 'kubectl-netwatch-list.js', 'kubectl-netwatch-cli.js'].map((f) =>
    fileURLToPath(new URL(`../dist/${f}`, import.meta.url)),
  );
  const missing = bundleFiles.find((f) => !existsSync(f));
  if (!missing) throw err;
  const source = fileURLToPath(new URL('../src/main.ts', import.meta.url));
  if (missing === bundleFiles[0] && existsSync(source)) {
    const { register } = await import('tsx/esm/api');
    register();
    await import(pathToFileURL(source).href);
  } else {
    process.stderr.write(
      `kubectl-netwatch: this installation is incomplete: ${missing} is missing.\n` +
        'Reinstall the plugin (npm install -g kubectl-netwatch, or kubectl krew reinstall netwatch); in a source checkout, run npm run build:plugin.\n',
    );
    process.exit(1);
  }
}
