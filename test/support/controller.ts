// End-to-end harness: starts the controller in-process as the `netwatch-controller` identity, with exactly the
// RBAC of manifests/controller/ applied, against a test control plane. (The sandbox and the benchmarks run
// controller/main.ts as a process instead: scripts/components.ts.)
import { pino, type Logger } from 'pino';
import type { ControlPlane } from '../../scripts/controlplane.ts';
import { applyControllerRbac } from '../../scripts/deploy.ts';
import { ControllerApp } from '../../controller/app.ts';
import type { ControllerConfig } from '../../controller/controller.ts';

// Where it was before it moved here with the harness: end-to-end suites import it from this file.
export { applyControllerRbac };

export interface InstalledController {
  app: ControllerApp;
  stop(): Promise<void>;
}

export interface InstallControllerExtras {
  /** Lease timings for leader election tests; false runs without election. Default: election with a short lease. */
  leaderElection?: false | { leaseDurationSeconds?: number; renewDeadlineSeconds?: number; retryPeriodSeconds?: number };
  log?: Logger;
}

export async function installController(cp: ControlPlane, opts: Partial<ControllerConfig> & InstallControllerExtras = {}): Promise<InstalledController> {
  await applyControllerRbac(cp);
  const { leaderElection, log, ...config } = opts;
  const app = new ControllerApp({
    kubeConfig: cp.kubeConfigFor('netwatch-controller'),
    log: log ?? pino({ level: 'warn', base: { component: 'netwatch-controller' } }),
    config: { workers: 8, ...config },
    leaderElection: leaderElection === false ? false : { leaseDurationSeconds: 6, renewDeadlineSeconds: 4, retryPeriodSeconds: 1, ...(leaderElection ?? {}) },
  });
  await app.start(true);
  return { app, stop: () => app.stop() };
}
