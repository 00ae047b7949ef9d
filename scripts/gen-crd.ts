// Writes crds/accessrequests.netwatch.vtk.io.yaml from the TypeScript schema (lib/api/accessrequest.ts).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CRD_FILE, renderCrdYaml } from '../crds/render.ts';

writeFileSync(fileURLToPath(CRD_FILE), renderCrdYaml());
process.stdout.write(`wrote ${fileURLToPath(CRD_FILE)}\n`);
