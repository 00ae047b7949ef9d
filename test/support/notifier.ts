// End-to-end harness: starts the notifier in-process as the `netwatch-notifier` identity, with exactly the RBAC of
// manifests/notifier/ applied, against a test control plane. Its sinks point wherever the test says (the local
// receivers of scripts/receivers.ts). (The sandbox runs notifier/main.ts as a process instead: scripts/components.ts.)
import { pino, type Logger } from 'pino';
import type { ControlPlane } from '../../scripts/controlplane.ts';
import { applyNotifierRbac } from '../../scripts/deploy.ts';
import { NotifierApp } from '../../notifier/app.ts';
import type { NotifierConfig } from '../../notifier/config.ts';
import type { NotifierSettings } from '../../notifier/notifier.ts';

// Defined with the other components' in scripts/deploy.ts (the sandbox uses it too); suites import it from here.
export { applyNotifierRbac };

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
