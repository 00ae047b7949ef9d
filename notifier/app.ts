// Wires the notifier together: leader election decides when this replica runs the informer, the workers and the
// deliveries. main.ts and testing.ts both build it; neither this file nor its imports read the environment or listen.
import type { Logger } from 'pino';
import type { KubeConfig } from '@kubernetes/client-node';
import { DEFAULT_LEADER_TIMINGS, type LeaderOptions } from '../lib/kube/leader.ts';
import { LeaderElected } from '../lib/kube/leader-elected.ts';
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

export class NotifierApp extends LeaderElected<Notifier> {
  readonly metrics: NotifierMetrics;
  readonly settings: NotifierSettings;
  readonly sinks: ReadonlyMap<string, Sink>;

  constructor(options: NotifierAppOptions) {
    const metrics = options.metrics ?? createNotifierMetrics();
    const settings = { ...DEFAULT_NOTIFIER_SETTINGS, ...options.settings };
    const sinks = createSinks(options.config.sinks, options.readSecret);
    super({
      kubeConfig: options.kubeConfig,
      lease: NOTIFIER_LEASE,
      election: options.leaderElection ?? {},
      identity: settings.identity,
      log: options.log,
      leading: metrics.isLeader,
      registry: metrics.registry,
      make: () => {
        const kube = httpNotifierKube(options.kubeConfig, (resource, err) =>
          options.log.warn({ resource, err: (err as Error)?.message ?? String(err) }, 'informer failed; restarting it'),
        );
        return new Notifier(kube, sinks, options.config.routing, settings, options.log, metrics);
      },
    });
    this.metrics = metrics;
    this.settings = settings;
    this.sinks = sinks;
  }

  /** The notifier while this replica leads. */
  get notifier(): Notifier | undefined {
    return this.work;
  }
}
