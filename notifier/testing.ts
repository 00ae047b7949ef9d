// For end-to-end suites: starts the notifier in-process as the `netwatch-notifier` identity, with exactly the RBAC
// of manifests/notifier/ applied, against a test control plane. Its sinks point wherever the test says (the local
// receivers of scripts/receivers.ts).
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import type { KubernetesObject } from '@kubernetes/client-node';
import { applyObjects, loadYamlFile, type ControlPlane } from '../scripts/controlplane.ts';
import { NotifierApp } from './app.ts';
import type { NotifierConfig } from './config.ts';
import type { NotifierSettings } from './notifier.ts';

const MANIFESTS = fileURLToPath(new URL('../manifests/notifier/', import.meta.url));

export interface InstalledNotifier {
  app: NotifierApp;
  stop(): Promise<void>;
}

export interface InstallNotifierOptions {
  config: NotifierConfig;
  settings?: Partial<NotifierSettings>;
  /** Lease timings; false runs without election (two such notifiers are both active). Default: a short lease. */
  leaderElection?: false | { leaseDurationSeconds?: number; renewDeadlineSeconds?: number; retryPeriodSeconds?: number };
  /** Wait until this replica leads (default true; false for a standby). */
  wait?: boolean;
  log?: Logger;
}

/** The notifier's ServiceAccount and RBAC from manifests/notifier/, applied as the admin. */
export async function applyNotifierRbac(cp: ControlPlane): Promise<void> {
  const namespace: KubernetesObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'netwatch-system' } };
  await applyObjects(cp.admin, [namespace, ...loadYamlFile(join(MANIFESTS, 'serviceaccount.yaml')), ...loadYamlFile(join(MANIFESTS, 'rbac.yaml'))]);
}

export async function installNotifier(cp: ControlPlane, opts: InstallNotifierOptions): Promise<InstalledNotifier> {
  await applyNotifierRbac(cp);
  const app = new NotifierApp({
    kubeConfig: cp.kubeConfigFor('netwatch-notifier'),
    config: opts.config,
    log: opts.log ?? pino({ level: 'warn', base: { component: 'netwatch-notifier' } }),
    settings: opts.settings ?? {},
    leaderElection: opts.leaderElection === false ? false : { leaseDurationSeconds: 6, renewDeadlineSeconds: 4, retryPeriodSeconds: 1, ...(opts.leaderElection ?? {}) },
  });
  await app.start(opts.wait ?? true);
  return { app, stop: () => app.stop() };
}
