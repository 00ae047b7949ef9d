// Sign-outs that every replica honours. A session is an encrypted cookie that no server keeps, so deleting it in
// the browser does not end it: a copy of the cookie would work until it expires. Each session therefore carries a
// random id, and a sign-out lists the digest of that id, until the session would have expired, in one list that
// every replica follows (a ConfigMap: webui/revocations-configmap.ts). A replica that cannot tell whether its list
// is current accepts no session at all: it cannot know whether the one in front of it was ended elsewhere.
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';

/**
 * How long past a session's own expiry its entry is kept. Each replica judges expiry by its own clock; an entry
 * removed the moment one clock says the session expired would let a replica whose clock is behind accept it again.
 */
export const CLOCK_SKEW_MS = 5 * 60_000;

/** How long a sign-out waits for the shared list to be written. */
const WRITE_TIMEOUT_MS = 10_000;

/** A new session's id: 144 random bits. */
export function newSessionId(): string {
  return randomBytes(18).toString('base64url');
}

/**
 * The key a session is listed under. A digest, so the list (readable by whoever may read ConfigMaps in the web
 * UI's namespace) names no session; base64url fits a ConfigMap key.
 */
export function revocationKey(sessionId: string): string {
  return createHash('sha256').update(sessionId).digest('base64url');
}

/** The shared list as stored: key → the RFC 3339 time the session would have expired. */
export type RevocationData = Record<string, string>;

/** The entries of `data` still in force at `now` (ms since the epoch, with the skew allowance); others dropped. */
export function entriesInForce(data: RevocationData, now: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const [key, at] of Object.entries(data)) {
    const expires = Date.parse(at);
    // An entry whose time this version cannot read (edited by hand, or written by another version) was meant to
    // refuse a session until some time: it stays until someone removes it.
    out.set(key, Number.isNaN(expires) ? Number.POSITIVE_INFINITY : expires);
  }
  for (const [key, expires] of out) if (expires + CLOCK_SKEW_MS <= now) out.delete(key);
  return out;
}

/** `data` with one more entry and without the entries no replica needs any more (pure: what a write stores). */
export function withRevocation(data: RevocationData, key: string, expiresAt: Date, now: Date): RevocationData {
  const kept = entriesInForce(data, now.getTime());
  const out: RevocationData = {};
  for (const [k, at] of Object.entries(data)) if (kept.has(k)) out[k] = at;
  out[key] = expiresAt.toISOString();
  return out;
}

/** Writes one entry into the shared list (pruning it), or throws when it could not. */
export interface RevocationWriter {
  record(key: string, expiresAt: Date): Promise<void>;
}

export interface RevocationSink {
  /** The whole shared list, as now stored (after every change, and after every (re)list). */
  list(data: RevocationData): void;
  /** Following the list failed; `list` is called again once it is current. */
  failed(err: unknown): void;
}

/** Follows the shared list. */
export interface RevocationFeed {
  start(sink: RevocationSink): void;
  stop(): Promise<void>;
}

/** starting: no list read yet; current: following it; unavailable: following failed and is being retried. */
export type RevocationState = 'starting' | 'current' | 'unavailable';

type Log = Pick<FastifyBaseLogger, 'info' | 'warn'>;

export class SessionRevocations {
  #shared = new Map<string, number>();
  /** Revoked here: refused at once, and kept even if the shared write failed (other replicas then do not know). */
  readonly #local = new Map<string, number>();
  readonly #listeners = new Map<string, Set<() => void>>();
  #state: RevocationState = 'starting';
  #log: Log | undefined;

  private readonly now: () => Date;
  private readonly writeTimeoutMs: number;

  constructor(
    private readonly writer: RevocationWriter,
    private readonly feed: RevocationFeed,
    opts: { now?: (() => Date) | undefined; writeTimeoutMs?: number } = {},
  ) {
    this.now = opts.now ?? (() => new Date());
    this.writeTimeoutMs = opts.writeTimeoutMs ?? WRITE_TIMEOUT_MS;
  }

  get state(): RevocationState {
    return this.#state;
  }

  start(log: Log): void {
    this.#log = log;
    this.feed.start({ list: (data) => this.#apply(data), failed: (err) => this.#failed(err) });
  }

  stop(): Promise<void> {
    return this.feed.stop();
  }

  isRevoked(sessionId: string): boolean {
    const key = revocationKey(sessionId);
    return this.#shared.has(key) || this.#local.has(key);
  }

  /**
   * Ends the session: refused by this replica at once, then recorded for every replica. Rejects when the shared
   * list could not be written in time; this replica refuses the session all the same.
   */
  async revoke(sessionId: string, expiresAt: Date): Promise<void> {
    const key = revocationKey(sessionId);
    const now = this.now().getTime();
    for (const [k, expires] of this.#local) if (expires + CLOCK_SKEW_MS <= now) this.#local.delete(k);
    this.#local.set(key, expiresAt.getTime());
    this.#notify(key);
    // A person is waiting on the sign-out: past the deadline they are told it did not reach every replica (the
    // write may still land afterwards, which only helps).
    const write = this.writer.record(key, expiresAt);
    write.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the list of ended sessions was not written within ${this.writeTimeoutMs} ms`)), this.writeTimeoutMs);
    });
    try {
      await Promise.race([write, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Calls `listener` once the session is revoked (here or by another replica); the returned function unsubscribes. */
  onRevoked(sessionId: string, listener: () => void): () => void {
    const key = revocationKey(sessionId);
    let set = this.#listeners.get(key);
    if (!set) this.#listeners.set(key, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.#listeners.delete(key);
    };
  }

  #apply(data: RevocationData): void {
    const before = this.#shared;
    this.#shared = entriesInForce(data, this.now().getTime());
    if (this.#state === 'unavailable') this.#log?.info('the list of ended sessions is current again; sessions are accepted');
    this.#state = 'current';
    for (const key of this.#shared.keys()) if (!before.has(key)) this.#notify(key);
  }

  #failed(err: unknown): void {
    if (this.#state !== 'unavailable') {
      this.#log?.warn({ reason: err instanceof Error ? err.message : String(err) }, 'cannot follow the list of ended sessions; refusing every session until it is current again');
    }
    this.#state = 'unavailable';
  }

  #notify(key: string): void {
    for (const l of [...(this.#listeners.get(key) ?? [])]) l();
  }
}
