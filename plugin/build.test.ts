// The bundle's split (build.ts): each command reads only the code it runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUNDLE_FILES, buildParts } from './build.ts';

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
    // The entry loads the other two from beside itself, not from copies of its own.
    const entryCode = readFileSync(join(out, BUNDLE_FILES.entry), 'utf8');
    assert.ok(entryCode.includes(`import("./${BUNDLE_FILES.list}")`), entryCode);
    assert.ok(entryCode.includes(`import("./${BUNDLE_FILES.cli}")`), entryCode);

    const heavy = /node_modules\/(yargs|yargs-parser|ink|react|react-reconciler|yoga-layout|yaml|openid-client|oauth4webapi|jose|socks|socks-proxy-agent)\//;
    const list = inputsOf(BUNDLE_FILES.list);
    assert.deepEqual(list.filter((i) => heavy.test(i)), [], 'the list path bundles no CLI parser, TUI, YAML printer, OIDC client or SOCKS client');
    assert.ok(list.some((i) => i.includes('@kubernetes/client-node/dist/config.js')), 'the list path reads kubeconfigs with client-node');
    assert.ok(list.every((i) => !i.endsWith('plugin/src/cli.ts')));

    const cli = inputsOf(BUNDLE_FILES.cli);
    for (const pkg of ['yargs', 'ink', 'react', 'openid-client', 'socks']) assert.ok(cli.some((i) => i.includes(`node_modules/${pkg}/`)), `the CLI bundles ${pkg}`);
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
