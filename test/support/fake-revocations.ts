// A test double of the web UI for unit tests (the product never imports this file; scripts/imports.test.ts checks
// that): an in-memory list of ended sessions that several SessionRevocations share as replicas share the
// ConfigMap. The web UI's RBAC for end-to-end suites is in scripts/deploy.ts (test/support/webui.ts).
import { SessionRevocations, withRevocation, type RevocationData, type RevocationFeed, type RevocationSink, type RevocationWriter } from '../../webui/revocations.ts';

/** Stands in for the ConfigMap: writes reach every follower at once, and both sides can be made to fail. */
export class MemoryRevocationList implements RevocationWriter {
  data: RevocationData = {};
  /** Makes every write fail with this error (the store is out of reach). */
  failWrites: Error | undefined;
  readonly #sinks = new Set<RevocationSink>();

  /** Makes every write wait this long first (a slow API server). */
  writeDelayMs = 0;

  async record(key: string, expiresAt: Date): Promise<void> {
    if (this.writeDelayMs > 0) await new Promise((r) => setTimeout(r, this.writeDelayMs));
    if (this.failWrites) throw this.failWrites;
    this.data = withRevocation(this.data, key, expiresAt, new Date());
    for (const sink of this.#sinks) sink.list({ ...this.data });
  }

  feed(): RevocationFeed {
    let mine: RevocationSink | undefined;
    return {
      start: (sink) => {
        mine = sink;
        this.#sinks.add(sink);
        sink.list({ ...this.data });
      },
      stop: async () => {
        if (mine) this.#sinks.delete(mine);
      },
    };
  }

  /** Every follower loses the list (a watch that broke); `restore` makes it current again. */
  breakFeeds(err = new Error('watch failed')): void {
    for (const sink of this.#sinks) sink.failed(err);
  }

  restoreFeeds(): void {
    for (const sink of this.#sinks) sink.list({ ...this.data });
  }

  /** One replica's view of this list. */
  replica(opts: ConstructorParameters<typeof SessionRevocations>[2] = {}): SessionRevocations {
    return new SessionRevocations(this, this.feed(), opts);
  }
}
