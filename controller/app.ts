// Wires the controller together: leader election decides when this replica runs the informers and workers.
// main.ts and testing.ts both build it; neither this file nor its imports read the environment or listen.
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { KubeConfig } from '@kubernetes/client-node';
import { HttpKube } from '../lib/kube/http.ts';
import { Controller, DEFAULT_CONTROLLER_CONFIG, type ControllerConfig } from './controller.ts';
import { DEFAULT_LEADER_TIMINGS, type LeaderOptions } from '../lib/kube/leader.ts';
import { LeaderElected } from '../lib/kube/leader-elected.ts';
import { createProbeServer } from '../lib/server/probes.ts';
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

export class ControllerApp {
  readonly metrics: ControllerMetrics;
  readonly config: ControllerConfig;
  private readonly led: LeaderElected<Controller>;

  constructor(private readonly options: AppOptions) {
    this.metrics = options.metrics ?? createMetrics();
    this.config = { ...DEFAULT_CONTROLLER_CONFIG, ...options.config };
    const election = options.leaderElection ?? true;
    this.led = new LeaderElected({
      kubeConfig: options.kubeConfig,
      lease: CONTROLLER_LEASE,
      election: election === true ? {} : election,
      identity: this.config.identity,
      log: options.log,
      leading: this.metrics.isLeader,
      make: () => {
        const kube = new HttpKube(options.kubeConfig, {
          maxSockets: options.maxSockets ?? Math.max(8, this.config.workers * 2),
          onInformerError: (resource, err) => options.log.warn({ resource, err: (err as Error)?.message ?? String(err) }, 'informer failed; restarting it'),
        });
        return new Controller(kube, this.config, options.log, this.metrics);
      },
    });
  }

  /** The controller while this replica leads. */
  get controller(): Controller | undefined {
    return this.led.work;
  }

  /** Resolves once this replica leads and its caches synced (or at once on a standby when `wait` is false). */
  start(wait = true): Promise<void> {
    return this.led.start(wait);
  }

  stop(): Promise<void> {
    return this.led.stop();
  }

  /** Ready: the leader once its caches synced; a standby is ready to take over. */
  get ready(): boolean {
    return this.led.ready;
  }

  /** /healthz, /readyz and /metrics; the caller listens. */
  createProbeServer(): Server {
    return createProbeServer({ ready: () => this.ready, registry: this.metrics.registry });
  }
}
