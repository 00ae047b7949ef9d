// What the controller and the notifier share: work that runs only while this replica holds its Lease. The work is
// made anew each time the replica starts leading and stopped when it loses the Lease; a standby counts as ready.
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { KubeConfig } from '@kubernetes/client-node';
import { HttpKube } from './http.ts';
import { LeaderElector, type LeaderOptions } from './leader.ts';
import { createProbeServer } from '../server/probes.ts';

/** The work a leader runs: its informers, workers and whatever else writes. */
export interface LedWork {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly ready: boolean;
}

export interface LeaderElectedOptions<W extends LedWork> {
  kubeConfig: KubeConfig;
  /** The component's Lease; `election` overrides its fields, false runs without election (one replica, tests). */
  lease: Omit<LeaderOptions, 'identity'>;
  election: false | Partial<Omit<LeaderOptions, 'identity'>>;
  identity: string;
  log: Logger;
  /** Set to 1 while leading, 0 otherwise (the component's `*_is_leader` gauge). */
  leading: { set(value: number): void };
  /** The component's metrics, served on the probe port. */
  registry: Registry;
  make(): W;
}

/** The base of the controller's and the notifier's apps: their work under a Lease, probes and metrics. */
export class LeaderElected<W extends LedWork> {
  /** The work while this replica leads. */
  protected work: W | undefined;
  private elector: LeaderElector | undefined;
  private starting: Promise<void> | undefined;
  private standby = false;

  constructor(private readonly options: LeaderElectedOptions<W>) {}

  /** Resolves once this replica leads and its work started (or at once on a standby when `wait` is false). */
  async start(wait = true): Promise<void> {
    if (this.options.election === false) {
      this.starting = this.startWork();
      return this.starting;
    }
    const leaderOpts = { ...this.options.lease, ...this.options.election, identity: this.options.identity };
    let resolveLed: () => void = () => undefined;
    const led = new Promise<void>((r) => (resolveLed = r));
    const kube = new HttpKube(this.options.kubeConfig, { maxSockets: 2, cached: [] });
    this.elector = new LeaderElector(kube, leaderOpts, this.options.log, {
      onStartedLeading: async () => {
        this.starting = this.startWork();
        await this.starting;
        resolveLed();
      },
      onStoppedLeading: () => this.stopWork(),
    });
    this.standby = true;
    this.elector.run();
    if (wait) await led;
  }

  async stop(): Promise<void> {
    this.standby = false;
    if (this.elector) await this.elector.stop();
    await this.stopWork();
  }

  /** Ready: the leader once its work started; a standby is ready to take over. */
  get ready(): boolean {
    return Boolean(this.work?.ready) || (this.standby && !this.elector?.isLeader);
  }

  get isLeader(): boolean {
    return this.elector?.isLeader ?? this.work !== undefined;
  }

  /** /healthz, /readyz and /metrics; the caller listens. */
  createProbeServer(): Server {
    return createProbeServer({ ready: () => this.ready, registry: this.options.registry });
  }

  private async startWork(): Promise<void> {
    const work = this.options.make();
    this.work = work;
    this.options.leading.set(1);
    await work.start();
  }

  private async stopWork(): Promise<void> {
    this.options.leading.set(0);
    await this.starting?.catch(() => undefined);
    const w = this.work;
    this.work = undefined;
    await w?.stop();
  }
}

/**
 * What the main.ts of the controller and of the notifier do once configured: listen for probes and metrics, start
 * the app (a standby starts at once), and stop it on SIGTERM or SIGINT, exiting 0.
 */
export async function runLeaderElected(app: LeaderElected<LedWork>, listen: { host: string; port: number }, log: Logger): Promise<void> {
  const server = app.createProbeServer();
  server.listen(listen.port, listen.host, () => log.info({ listen: `${listen.host}:${listen.port}` }, 'probes and metrics listening'));
  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    server.close();
    await app.stop().catch((e: unknown) => log.error({ err: e }, 'error while stopping'));
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  await app.start(false);
}
