// Wires the notifier together: leader election decides when this replica runs the informer, the workers and the
// deliveries. main.ts and testing.ts both build it; neither this file nor its imports read the environment or listen.
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { KubeConfig } from '@kubernetes/client-node';
import { DEFAULT_LEADER_TIMINGS, type LeaderOptions } from '../lib/kube/leader.ts';
import { LeaderElected } from '../lib/kube/leader-elected.ts';
import { createProbeServer } from '../lib/server/probes.ts';
import type { NotifierConfig } from './config.ts';
import { httpNotifierKube } from './kube.ts';
import { createNotifierMetrics, type NotifierMetrics } from './metrics.ts';
import { DEFAULT_NOTIFIER_SETTINGS, Notifier, type NotifierSettings } from './notifier.ts';
import { createSinks, type ReadSecret, type Sink } from './sinks/index.ts';

export interface NotifierAppOptions {
  kubeConfig: KubeConfig;
  config: NotifierConfig;
  settings?: Partial<NotifierSettings>;
  /** false: run without leader election (a single replica, or tests). */
  leaderElection?: false | Partial<Omit<LeaderOptions, 'identity'>>;
  log: Logger;
  metrics?: NotifierMetrics;
  /** How secret files are read (tests); default the file system. */
  readSecret?: ReadSecret;
}

const NOTIFIER_LEASE: Omit<LeaderOptions, 'identity'> = { namespace: 'netwatch-system', name: 'netwatch-notifier', ...DEFAULT_LEADER_TIMINGS };

export class NotifierApp {
  readonly metrics: NotifierMetrics;
  readonly settings: NotifierSettings;
  readonly sinks: ReadonlyMap<string, Sink>;
  private readonly led: LeaderElected<Notifier>;

  constructor(private readonly options: NotifierAppOptions) {
    this.metrics = options.metrics ?? createNotifierMetrics();
    this.settings = { ...DEFAULT_NOTIFIER_SETTINGS, ...options.settings };
    this.sinks = createSinks(options.config.sinks, options.readSecret);
    this.led = new LeaderElected({
      kubeConfig: options.kubeConfig,
      lease: NOTIFIER_LEASE,
      election: options.leaderElection ?? {},
      identity: this.settings.identity,
      log: options.log,
      leading: this.metrics.isLeader,
      make: () => {
        const kube = httpNotifierKube(options.kubeConfig, (resource, err) =>
          options.log.warn({ resource, err: (err as Error)?.message ?? String(err) }, 'informer failed; restarting it'),
        );
        return new Notifier(kube, this.sinks, options.config.routing, this.settings, options.log, this.metrics);
      },
    });
  }

  /** The notifier while this replica leads. */
  get notifier(): Notifier | undefined {
    return this.led.work;
  }

  /** Resolves once this replica leads and its cache synced (or at once on a standby when `wait` is false). */
  start(wait = true): Promise<void> {
    return this.led.start(wait);
  }

  stop(): Promise<void> {
    return this.led.stop();
  }

  /** Ready: the leader once its cache synced; a standby is ready to take over. */
  get ready(): boolean {
    return this.led.ready;
  }

  get isLeader(): boolean {
    return this.led.isLeader;
  }

  /** /healthz, /readyz and /metrics; the caller listens. */
  createProbeServer(): Server {
    return createProbeServer({ ready: () => this.ready, registry: this.metrics.registry });
  }
}
