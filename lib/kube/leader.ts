// Leader election on a coordination.k8s.io Lease, written directly over the client: acquire, renew and release
// are PUTs guarded by resourceVersion, so two replicas can never both believe they hold it.
import type { Logger } from 'pino';
import type { KubePort } from './port.ts';
import { isAlreadyExists, isConflict } from './port.ts';
import type { Lease } from './types.ts';

export interface LeaderOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSeconds: number;
  /** A leader that could not renew for this long steps down (must be below the lease duration). */
  renewDeadlineSeconds: number;
  retryPeriodSeconds: number;
}

export type LeaderTimings = Pick<LeaderOptions, 'leaseDurationSeconds' | 'renewDeadlineSeconds' | 'retryPeriodSeconds'>;

export const DEFAULT_LEADER_TIMINGS: LeaderTimings = { leaseDurationSeconds: 15, renewDeadlineSeconds: 10, retryPeriodSeconds: 2 };

/**
 * The renew deadline and retry period that go with a lease duration (the ratios of client-go's defaults, 15s/10s/2s):
 * a leader gives up at ⅔ of the lease, before anyone may take it over, and tries about seven times per lease.
 */
export function timingsForLease(leaseDurationSeconds: number): LeaderTimings {
  return {
    leaseDurationSeconds,
    renewDeadlineSeconds: Math.max(1, Math.floor((leaseDurationSeconds * 2) / 3)),
    retryPeriodSeconds: Math.max(1, Math.floor(leaseDurationSeconds / 7)),
  };
}

type Clock = () => Date;

/** MicroTime as the API server expects it (RFC 3339 with microseconds). */
function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElector {
  private leading = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  /** The tick under way, if any: stop() waits for it, or it could take the lease back after the release. */
  private inFlight: Promise<void> | undefined;
  private lastRenew = 0;
  private current: Lease | undefined;

  constructor(
    private readonly kube: Pick<KubePort, 'get' | 'create' | 'replace'>,
    private readonly options: LeaderOptions,
    private readonly log: Logger,
    private readonly callbacks: { onStartedLeading: () => Promise<void> | void; onStoppedLeading: () => Promise<void> | void },
    private readonly clock: Clock = () => new Date(),
  ) {}

  get isLeader(): boolean {
    return this.leading;
  }

  /** Starts trying; returns at once. */
  run(): void {
    this.stopped = false;
    void this.tick();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), this.options.retryPeriodSeconds * 1000);
  }

  private tick(): Promise<void> {
    this.inFlight = this.tickOnce();
    return this.inFlight;
  }

  private async tickOnce(): Promise<void> {
    try {
      const held = await this.tryAcquireOrRenew();
      // Stopped while asking: never start leading now; stop() releases a lease this tick may have taken.
      if (this.stopped) return;
      if (held) {
        this.lastRenew = this.clock().getTime();
        if (!this.leading) {
          this.leading = true;
          this.log.info({ lease: this.options.name, identity: this.options.identity }, 'became leader');
          await this.callbacks.onStartedLeading();
        }
      } else if (this.leading) {
        await this.lose('another replica holds the lease');
      }
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'lease update failed');
      if (this.leading && this.clock().getTime() - this.lastRenew > this.options.renewDeadlineSeconds * 1000) {
        await this.lose('could not renew the lease before the renew deadline');
      }
    }
    this.schedule();
  }

  private async lose(why: string): Promise<void> {
    this.leading = false;
    this.log.warn({ why }, 'lost leadership');
    await this.callbacks.onStoppedLeading();
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity, leaseDurationSeconds } = this.options;
    const now = this.clock();
    const existing = await this.kube.get<Lease>('leases', namespace, name);
    if (!existing) {
      try {
        this.current = await this.kube.create<Lease>('leases', {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace },
          spec: { holderIdentity: identity, leaseDurationSeconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
        });
        return true;
      } catch (e) {
        if (isAlreadyExists(e)) return false;
        throw e;
      }
    }
    const spec = existing.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const renewed = spec.renewTime ? Date.parse(spec.renewTime) : 0;
    const expired = renewed + (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000 < now.getTime();
    if (holder !== identity && holder !== '' && !expired) return false;
    const next: Lease = {
      ...existing,
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds,
        renewTime: microTime(now),
        ...(holder !== identity ? { acquireTime: microTime(now), leaseTransitions: (spec.leaseTransitions ?? 0) + 1 } : {}),
      },
    };
    try {
      this.current = await this.kube.replace<Lease>('leases', next);
      return true;
    } catch (e) {
      if (isConflict(e)) return false;
      throw e;
    }
  }

  /** Stops trying; a leader releases the lease so a standby takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    // A tick under way may renew or even take the lease while the release below is sent; wait for it first.
    await this.inFlight?.catch(() => undefined);
    const wasLeading = this.leading;
    this.leading = false;
    if (!wasLeading && this.current?.spec?.holderIdentity !== this.options.identity) return;
    try {
      const lease = await this.kube.get<Lease>('leases', this.options.namespace, this.options.name);
      if (lease?.spec?.holderIdentity === this.options.identity) {
        await this.kube.replace<Lease>('leases', { ...lease, spec: { ...lease.spec, holderIdentity: null, leaseDurationSeconds: 1 } });
      }
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'could not release the lease');
    }
    if (wasLeading) await this.callbacks.onStoppedLeading();
  }
}
