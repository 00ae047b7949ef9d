// Started by the teardown test as a separate process: starts a control plane, prints its PIDs and folder, and
// waits to be killed without any chance to clean up.
import { startControlPlane } from '../../scripts/controlplane.ts';

const cp = await startControlPlane({ maxtac: true });
process.stdout.write(JSON.stringify({ pids: cp.pids(), dir: cp.dir }) + '\n');
setInterval(() => undefined, 1000);
