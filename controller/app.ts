// Wires the controller together: leader election decides when this replica runs the informers and workers.
// main.ts and testing.ts both build it; neither this file nor its imports read the environment or listen.
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { KubeConfig } from '@kubernetes/client-node';
import { HttpKube } from '../lib/kube/http.ts';
import { Controller, DEFAULT_CONTROLLER_CONFIG, type ControllerConfig } from './controller.ts';
import { LeaderElector, DEFAULT_LEADER_TIMINGS, type LeaderOptions } from '../lib/kube/leader.ts';
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
  controller: Controller | undefined;
  private elector: LeaderElector | undefined;
  private starting: Promise<void> | undefined;
  private standby = false;

  constructor(private readonly options: AppOptions) {
    this.metrics = options.metrics ?? createMetrics();
    this.config = { ...DEFAULT_CONTROLLER_CONFIG, ...options.config };
  }

  private async startController(): Promise<void> {
    const kube = new HttpKube(this.options.kubeConfig, {
      maxSockets: this.options.maxSockets ?? Math.max(8, this.config.workers * 2),
      onInformerError: (resource, err) => this.options.log.warn({ resource, err: (err as Error)?.message ?? String(err) }, 'informer failed; restarting it'),
    });
    const controller = new Controller(kube, this.config, this.options.log, this.metrics);
    this.controller = controller;
    this.metrics.isLeader.set(1);
    await controller.start();
  }

  private async stopController(): Promise<void> {
    this.metrics.isLeader.set(0);
    await this.starting?.catch(() => undefined);
    const c = this.controller;
    this.controller = undefined;
    await c?.stop();
  }

  /** Resolves once this replica leads and its caches synced (or at once on a standby when `wait` is false). */
  async start(wait = true): Promise<void> {
    if (this.options.leaderElection === false) {
      this.starting = this.startController();
      return this.starting;
    }
    const leaderOpts = { ...CONTROLLER_LEASE, ...(typeof this.options.leaderElection === 'object' ? this.options.leaderElection : {}), identity: this.config.identity };
    let resolveLed: () => void = () => undefined;
    const led = new Promise<void>((r) => (resolveLed = r));
    const kube = new HttpKube(this.options.kubeConfig, { maxSockets: 2, cached: [] });
    this.elector = new LeaderElector(kube, leaderOpts, this.options.log, {
      onStartedLeading: async () => {
        this.starting = this.startController();
        await this.starting;
        resolveLed();
      },
      onStoppedLeading: () => this.stopController(),
    });
    this.standby = true;
    this.elector.run();
    if (wait) await led;
  }

  async stop(): Promise<void> {
    this.standby = false;
    if (this.elector) await this.elector.stop();
    await this.stopController();
  }

  /** Ready: the leader once its caches synced; a standby is ready to take over. */
  get ready(): boolean {
    return Boolean(this.controller?.ready) || (this.standby && !this.elector?.isLeader);
  }

  /** /healthz, /readyz and /metrics; the caller listens. */
  createProbeServer(): Server {
    return createProbeServer({ ready: () => this.ready, registry: this.metrics.registry });
  }
}
