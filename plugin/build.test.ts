// The bundle's split (build.ts): each command reads only the code it runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { Script } from 'node:vm';
import { BUNDLE_FILES, buildParts } from './build.ts';
import { partSource } from './src/code-cache.ts';

test('the entry holds only the dispatch, the list path leaves out the CLI, the TUI and rare kubeconfig needs, the CLI has them', async () => {
  const out = mkdtempSync(join(tmpdir(), 'netwatch-bundle-'));
  try {
    const parts = await buildParts({ outdir: out, metafile: true });
    const inputsOf = (name: string): string[] => {
      const part = parts.find((p) => basename(p.file) === name);
      assert.ok(part?.metafile, `${name} was built`);
      return Object.keys(part.metafile.inputs);
    };
    const entry = inputsOf(BUNDLE_FILES.entry);
    assert.deepEqual(entry.filter((i) => i.includes('node_modules/')), [], 'the entry bundles no package');
    assert.ok(entry.some((i) => i.endsWith('plugin/src/fast-path.ts')));
    assert.ok(entry.every((i) => !i.endsWith('plugin/src/list-json.ts') && !i.endsWith('plugin/src/cli.ts')), 'the entry bundles neither part');
    // The entry loads the other two from beside itself, not from copies of its own.
    const entryCode = readFileSync(join(out, BUNDLE_FILES.entry), 'utf8');
    assert.ok(entryCode.includes(`new URL("./${BUNDLE_FILES.list}",import.meta.url)`), entryCode);
    assert.ok(entryCode.includes(`new URL("./${BUNDLE_FILES.cli}",import.meta.url)`), entryCode);

    const heavy = /node_modules\/(yargs|yargs-parser|ink|react|react-reconciler|yoga-layout|yaml|openid-client|oauth4webapi|jose|socks|socks-proxy-agent)\//;
    const list = inputsOf(BUNDLE_FILES.list);
    assert.deepEqual(list.filter((i) => heavy.test(i)), [], 'the list path bundles no CLI parser, TUI, YAML printer, OIDC client or SOCKS client');
    assert.ok(list.some((i) => i.includes('@kubernetes/client-node/dist/config.js')), 'the list path reads kubeconfigs with client-node');
    assert.ok(list.every((i) => !i.endsWith('plugin/src/cli.ts')));
    // `why` and its reads belong to the CLI part: the list path does not grow for them.
    const whyOnly = /plugin\/src\/services\/(why|kube-cli)\.ts$|lib\/domain\/netpol\//;
    assert.deepEqual(list.filter((i) => whyOnly.test(i)), [], 'the list path bundles neither why, its evaluator nor its reads');
    // The neutralizer of other users' strings is shared with the notifier from lib/text/; the HTML template beside it
    // is not the list path's.
    assert.ok(list.some((i) => i.endsWith('lib/text/inert.ts')), 'the list path makes error messages inert');
    assert.deepEqual(list.filter((i) => /lib\/text\/html\.ts$/.test(i)), [], 'the list path bundles no HTML template');

    const cli = inputsOf(BUNDLE_FILES.cli);
    for (const pkg of ['yargs', 'ink', 'react', 'openid-client', 'socks']) assert.ok(cli.some((i) => i.includes(`node_modules/${pkg}/`)), `the CLI bundles ${pkg}`);
    for (const file of ['plugin/src/services/why.ts', 'plugin/src/services/kube-cli.ts', 'lib/domain/netpol/evaluate.ts']) assert.ok(cli.some((i) => i.endsWith(file)), `the CLI bundles ${file}`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('each part is a script whose value is an async function, headed by the id of its contents', async () => {
  const out = mkdtempSync(join(tmpdir(), 'netwatch-bundle-'));
  try {
    await buildParts({ outdir: out, minify: false });
    const ids = new Set<string>();
    for (const name of [BUNDLE_FILES.list, BUNDLE_FILES.cli]) {
      const text = readFileSync(join(out, name), 'utf8');
      const strict = "'use strict';\n";
      const bundled = text.slice(text.indexOf(strict) + strict.length, text.lastIndexOf('\n})'));
      const id = createHash('sha256').update(bundled).digest('hex').slice(0, 32);
      assert.equal(text, partSource(id, bundled), `${name} is headed by the hash of its contents`);
      ids.add(id);
      // Compiles as a classic script (no import or export statement) and evaluates to the part's function.
      const value: unknown = new Script(text, { filename: name }).runInThisContext();
      assert.equal(typeof value, 'function', name);
      assert.equal((value as () => unknown).constructor.name, 'AsyncFunction', name);
    }
    assert.equal(ids.size, 2);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('the bin script looks for exactly the files the build writes', () => {
  const bin = readFileSync(fileURLToPath(new URL('bin/kubectl-netwatch.js', import.meta.url)), 'utf8');
  const listed = /const bundleFiles = \[([^\]]*)\]/.exec(bin)?.[1];
  assert.ok(listed, 'bin/kubectl-netwatch.js lists the bundle files');
  assert.deepEqual([...listed.matchAll(/'([^']+)'/g)].map((m) => m[1]), Object.values(BUNDLE_FILES));
});
