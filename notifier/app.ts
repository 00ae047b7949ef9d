// Wires the notifier together: leader election decides when this replica runs the informer, the workers and the
// deliveries. main.ts and testing.ts both build it; neither this file nor its imports read the environment or listen.
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { KubeConfig } from '@kubernetes/client-node';
import { HttpKube } from '../lib/kube/http.ts';
import { DEFAULT_LEADER_TIMINGS, LeaderElector, type LeaderOptions } from '../lib/kube/leader.ts';
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
  notifier: Notifier | undefined;
  private elector: LeaderElector | undefined;
  private starting: Promise<void> | undefined;
  private standby = false;

  constructor(private readonly options: NotifierAppOptions) {
    this.metrics = options.metrics ?? createNotifierMetrics();
    this.settings = { ...DEFAULT_NOTIFIER_SETTINGS, ...options.settings };
    this.sinks = createSinks(options.config.sinks, options.readSecret);
  }

  private async startNotifier(): Promise<void> {
    const kube = httpNotifierKube(this.options.kubeConfig, (err) =>
      this.options.log.warn({ resource: 'accessrequests', err: (err as Error)?.message ?? String(err) }, 'informer failed; restarting it'),
    );
    const notifier = new Notifier(kube, this.sinks, this.options.config.routing, this.settings, this.options.log, this.metrics);
    this.notifier = notifier;
    this.metrics.isLeader.set(1);
    await notifier.start();
  }

  private async stopNotifier(): Promise<void> {
    this.metrics.isLeader.set(0);
    await this.starting?.catch(() => undefined);
    const n = this.notifier;
    this.notifier = undefined;
    await n?.stop();
  }

  /** Resolves once this replica leads and its cache synced (or at once on a standby when `wait` is false). */
  async start(wait = true): Promise<void> {
    if (this.options.leaderElection === false) {
      this.starting = this.startNotifier();
      return this.starting;
    }
    const leaderOpts = { ...NOTIFIER_LEASE, ...this.options.leaderElection, identity: this.settings.identity };
    let resolveLed: () => void = () => undefined;
    const led = new Promise<void>((r) => (resolveLed = r));
    const kube = new HttpKube(this.options.kubeConfig, { maxSockets: 2, cached: [] });
    this.elector = new LeaderElector(kube, leaderOpts, this.options.log, {
      onStartedLeading: async () => {
        this.starting = this.startNotifier();
        await this.starting;
        resolveLed();
      },
      onStoppedLeading: () => this.stopNotifier(),
    });
    this.standby = true;
    this.elector.run();
    if (wait) await led;
  }

  async stop(): Promise<void> {
    this.standby = false;
    if (this.elector) await this.elector.stop();
    await this.stopNotifier();
  }

  /** Ready: the leader once its cache synced; a standby is ready to take over. */
  get ready(): boolean {
    return Boolean(this.notifier?.ready) || (this.standby && !this.elector?.isLeader);
  }

  get isLeader(): boolean {
    return this.elector?.isLeader ?? this.notifier !== undefined;
  }

  /** /healthz, /readyz and /metrics; the caller listens. */
  createProbeServer(): Server {
    return createProbeServer({ ready: () => this.ready, registry: this.metrics.registry });
  }
}
