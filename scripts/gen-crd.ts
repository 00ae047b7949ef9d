// Writes crds/*.yaml from the TypeScript schemas (lib/api/accessrequest.ts, lib/api/accesspolicy.ts).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CRD_FILES, renderCrdYaml } from '../crds/render.ts';

for (const entry of CRD_FILES) {
  writeFileSync(fileURLToPath(entry.file), renderCrdYaml(entry));
  process.stdout.write(`wrote ${fileURLToPath(entry.file)}\n`);
}
