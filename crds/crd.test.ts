import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CRD_FILE, renderCrdYaml } from './render.ts';

test('the committed CRD YAML is exactly what the TypeScript schema generates', () => {
  const committed = readFileSync(CRD_FILE, 'utf8');
  assert.equal(committed, renderCrdYaml(), 'crds/ drifted from lib/api/accessrequest.ts: run `npm run gen:crd`');
});
