// For end-to-end suites: starts the controller in-process as the `netwatch-controller` identity, with exactly
// the RBAC of manifests/controller/ applied, against a test control plane.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import type { KubernetesObject } from '@kubernetes/client-node';
import { applyObjects, loadYamlFile, type ControlPlane } from '../scripts/controlplane.ts';
import { ControllerApp } from './app.ts';
import type { ControllerConfig } from './controller.ts';

const MANIFESTS = fileURLToPath(new URL('../manifests/controller/', import.meta.url));

export interface InstalledController {
  app: ControllerApp;
  stop(): Promise<void>;
}

export interface InstallControllerExtras {
  /** Lease timings for leader election tests; false runs without election. Default: election with a short lease. */
  leaderElection?: false | { leaseDurationSeconds?: number; renewDeadlineSeconds?: number; retryPeriodSeconds?: number };
  log?: Logger;
}

/** The controller's RBAC (and ServiceAccount) from manifests/controller/, applied as the admin. */
export async function applyControllerRbac(cp: ControlPlane): Promise<void> {
  const namespace: KubernetesObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'netwatch-system' } };
  await applyObjects(cp.admin, [namespace, ...loadYamlFile(join(MANIFESTS, 'serviceaccount.yaml')), ...loadYamlFile(join(MANIFESTS, 'rbac.yaml'))]);
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
