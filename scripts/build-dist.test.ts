import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { buildServers } from './build-dist.ts';

const OUT = fileURLToPath(new URL('../node_modules/.cache/netwatch-build-dist-test/', import.meta.url));

for (const component of ['controller', 'notifier'] as const) {
  test(`the ${component} bundle carries KubeConfig and netwatch's informer, not the generated API client`, async () => {
    const out = `${OUT}${component}/`;
    try {
      await buildServers({ outdir: out, only: [component], quiet: true });
      const code = await readFile(`${out}${component}.mjs`, 'utf8');
      const has = (re: RegExp) => re.test(code);
      assert.ok(has(/\bKubeConfig\d* = class\b/), 'KubeConfig is bundled');
      assert.ok(has(/\bInformer\d* = class\b/), 'netwatch\'s informer (lib/kube/informer.ts) is bundled');
      assert.ok(!has(/\bListWatch\d* = class\b/), 'client-node\'s informer is not');
      // The generated client (some 45 MB of memory at run time) is neither bundled nor imported.
      assert.ok(!has(/CoreV1Api/), 'no generated API class');
      assert.ok(!has(/from ["']@kubernetes\/client-node["']/), 'the package index is not imported');
      assert.ok(has(/the generated API client of @kubernetes\/client-node is not bundled/), 'the stub is there');
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
}
