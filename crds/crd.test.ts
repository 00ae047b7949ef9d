import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CRD_FILES, renderCrdYaml } from './render.ts';

for (const entry of CRD_FILES) {
  test(`the committed ${entry.file.pathname.split('/').pop()} is exactly what ${entry.source} generates`, () => {
    const committed = readFileSync(entry.file, 'utf8');
    assert.equal(committed, renderCrdYaml(entry), `crds/ drifted from ${entry.source}: run \`npm run gen:crd\``);
  });
}
