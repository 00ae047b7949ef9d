// Started by the dataplane teardown test as a separate process: starts a control plane and a dataplane with a pod and
// a host, prints what they made, and waits to be killed without any chance to clean up.
import { startControlPlane } from '../../scripts/controlplane.ts';
import { startDataplane } from '../../scripts/dataplane.ts';

const cp = await startControlPlane({ maxtac: false, garbageCollector: false });
const dp = await startDataplane(cp);
await dp.addPod({ namespace: 'default', name: 'doomed', labels: { app: 'doomed' }, ports: [{ port: 80, protocol: 'TCP' }] });
await dp.addHost('outside');
await dp.waitForPods();
process.stdout.write(JSON.stringify({ pids: [...cp.pids(), ...dp.pids()], netns: dp.netns() }) + '\n');
setInterval(() => undefined, 1000);
