// Wires the controller together: leader election decides when this replica runs the informers and workers.
// main.ts and the test harness both build it; neither this file nor its imports read the environment or listen.
import type { Logger } from 'pino';
import type { KubeConfig } from '@kubernetes/client-node';
import { HttpKube } from '../lib/kube/http.ts';
import { Controller, DEFAULT_CONTROLLER_CONFIG, type ControllerConfig } from './controller.ts';
import { DEFAULT_LEADER_TIMINGS, type LeaderOptions } from '../lib/kube/leader.ts';
import { LeaderElected } from '../lib/kube/leader-elected.ts';
import { createMetrics, type ControllerMetrics } from './metrics.ts';

export interface AppOptions {
  kubeConfig: KubeConfig;
  config?: Partial<ControllerConfig>;
  /** false: run without leader election (a single replica, or tests). */
  leaderElection?: boolean | Partial<Omit<LeaderOptions, 'identity'>>;
  log: Logger;
  metrics?: ControllerMetrics;
  maxSockets?: number;
}

const CONTROLLER_LEASE: Omit<LeaderOptions, 'identity'> = { namespace: 'netwatch-system', name: 'netwatch-controller', ...DEFAULT_LEADER_TIMINGS };

export class ControllerApp extends LeaderElected<Controller> {
  readonly metrics: ControllerMetrics;
  readonly config: ControllerConfig;

  constructor(options: AppOptions) {
    const metrics = options.metrics ?? createMetrics();
    const config = { ...DEFAULT_CONTROLLER_CONFIG, ...options.config };
    const election = options.leaderElection ?? true;
    super({
      kubeConfig: options.kubeConfig,
      lease: CONTROLLER_LEASE,
      election: election === true ? {} : election,
      identity: config.identity,
      log: options.log,
      leading: metrics.isLeader,
      registry: metrics.registry,
      make: () => {
        const kube = new HttpKube(options.kubeConfig, {
          maxSockets: options.maxSockets ?? Math.max(8, config.workers * 2),
          onInformerError: (resource, err) => options.log.warn({ resource, err: (err as Error)?.message ?? String(err) }, 'informer failed; restarting it'),
        });
        return new Controller(kube, config, options.log, metrics);
      },
    });
    this.metrics = metrics;
    this.config = config;
  }

  /** The controller while this replica leads. */
  get controller(): Controller | undefined {
    return this.work;
  }
}
