// Live updates: one watch on AccessRequests per user, made AS that user, fanned out to that user's open pages.
// Watching as the user (instead of one watch with the web UI's own identity filtered afterwards) means the API
// server's RBAC decides what each browser may learn, and the web UI's ServiceAccount needs no read permission.
import type { FastifyBaseLogger } from 'fastify';
import type { Actor, KubeGateway, Watch, WatchEvent } from './kube.ts';
import { KubeError } from './kube.ts';
import type { Identity } from './identity.ts';

export interface LiveEvent {
  type: 'change';
  name: string;
  phase?: string | undefined;
}

export type Listener = (e: LiveEvent | { type: 'closed'; reason: string }) => void;

interface UserFeed {
  listeners: Set<Listener>;
  actor: Actor;
  watch?: Watch | undefined;
  retry?: NodeJS.Timeout | undefined;
  failures: number;
}

export class LiveHub {
  readonly #feeds = new Map<string, UserFeed>();

  constructor(
    private readonly kube: KubeGateway,
    private readonly log: FastifyBaseLogger,
  ) {}

  static keyOf(identity: Identity): string {
    return [identity.username, ...[...identity.groups].sort()].join('\n');
  }

  /** Starts (or joins) the user's feed. The returned function unsubscribes. */
  subscribe(identity: Identity, actor: Actor, listener: Listener): () => void {
    const key = LiveHub.keyOf(identity);
    let feed = this.#feeds.get(key);
    if (!feed) {
      feed = { listeners: new Set(), actor, failures: 0 };
      this.#feeds.set(key, feed);
      this.#start(key, feed);
    } else {
      // The newest session's credentials replace older ones (an ID token may have been refreshed by a new login).
      feed.actor = actor;
    }
    feed.listeners.add(listener);
    return () => {
      const f = this.#feeds.get(key);
      if (!f) return;
      f.listeners.delete(listener);
      if (f.listeners.size === 0) this.#stop(key, f);
    };
  }

  get feedCount(): number {
    return this.#feeds.size;
  }

  close(): void {
    for (const [key, feed] of this.#feeds) {
      for (const l of feed.listeners) l({ type: 'closed', reason: 'server shutting down' });
      this.#stop(key, feed);
    }
  }

  #stop(key: string, feed: UserFeed): void {
    clearTimeout(feed.retry);
    feed.watch?.stop();
    feed.watch = undefined;
    this.#feeds.delete(key);
  }

  #start(key: string, feed: UserFeed): void {
    const kube = this.kube.forActor(feed.actor);
    kube.listRequests().then(
      (list) => {
        if (this.#feeds.get(key) !== feed) return;
        feed.watch = kube.watchRequests(
          list.resourceVersion,
          (e: WatchEvent) => {
            feed.failures = 0;
            if (e.type === 'BOOKMARK' || e.type === 'ERROR') return;
            const ev: LiveEvent = { type: 'change', name: e.object.metadata.name ?? '', phase: e.object.status?.phase };
            for (const l of feed.listeners) l(ev);
          },
          (err) => this.#restart(key, feed, err),
        );
      },
      (err: unknown) => this.#restart(key, feed, err as Error),
    );
  }

  #restart(key: string, feed: UserFeed, err?: Error): void {
    if (this.#feeds.get(key) !== feed) return;
    feed.watch = undefined;
    if (err instanceof KubeError && (err.status === 401 || err.status === 403)) {
      // The user may not watch (or the credentials expired): tell the pages, which stop listening.
      for (const l of feed.listeners) l({ type: 'closed', reason: err.status === 401 ? 'session expired' : 'not allowed to watch requests' });
      this.#stop(key, feed);
      return;
    }
    if (err) this.log.warn({ err: err.message }, 'live update watch ended; restarting');
    feed.failures += 1;
    // Pages may have missed changes while the watch was down: tell them to refresh once it is back.
    const delay = Math.min(30_000, 250 * 2 ** Math.min(feed.failures, 7));
    feed.retry = setTimeout(() => {
      for (const l of feed.listeners) l({ type: 'change', name: '' });
      this.#start(key, feed);
    }, delay);
  }
}
