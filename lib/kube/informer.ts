// A local copy of one collection, kept current as client-go's reflector keeps it: one consistent list, then a watch
// from the list's resourceVersion, resumed from the last resourceVersion seen (bookmarks included) whenever it
// ends, and a new list only when that resourceVersion is too old (410 Expired). After a list, objects that
// vanished meanwhile are reported as deletes.
import { isExpired } from './errors.ts';
import { keyOf } from './cache.ts';
import type { KubeTransport, Watch, WatchEvent } from './transport.ts';
import type { KubeObject } from './types.ts';

export type ChangeType = 'add' | 'update' | 'delete';

export interface InformerOptions<T extends KubeObject> {
  transport: Pick<KubeTransport, 'watch'>;
  /** The collection's path, without a query. */
  path: string;
  labelSelector?: string | undefined;
  /** One consistent list of the collection. */
  list(): Promise<{ items: T[]; resourceVersion: string }>;
  onChange(type: ChangeType, obj: T): void;
  /** A list or watch failed; the informer tries again after a delay (0.5 s, doubling up to 30 s). */
  onError(err: unknown): void;
}

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 30_000;

export class Informer<T extends KubeObject> {
  private readonly known = new Map<string, T>();
  private resourceVersion = '';
  private watch: Watch | undefined;
  private stopped = true;
  private running: Promise<void> | undefined;
  private delayMs = FIRST_DELAY_MS;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private markSynced: () => void = () => undefined;
  private synced: Promise<void> = new Promise((resolve) => (this.markSynced = resolve));

  constructor(private readonly options: InformerOptions<T>) {}

  /**
   * Starts listing and watching; resolves once the first list is in. A failed list does not reject (its error goes
   * to onError, and it is tried again): an empty copy must never pass for a synced one.
   */
  start(): Promise<void> {
    this.stopped = false;
    this.running ??= this.run().finally(() => (this.running = undefined));
    return this.synced;
  }

  stop(): void {
    this.stopped = true;
    this.watch?.stop();
    clearTimeout(this.timer);
    this.wake?.();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        if (!this.resourceVersion) await this.relist();
        if (this.stopped) return;
        const { err, events } = await this.watchOnce();
        if (err) throw err;
        // The API server ended the watch (its timeout): resume at once, unless it ends them without a word.
        if (events === 0) await this.backOff();
      } catch (err) {
        if (this.stopped) return;
        if (isExpired(err)) {
          this.resourceVersion = '';
          continue;
        }
        this.options.onError(err);
        await this.backOff();
      }
    }
  }

  private async backOff(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, this.delayMs);
      this.timer.unref();
    });
    this.wake = undefined;
    this.delayMs = Math.min(this.delayMs * 2, MAX_DELAY_MS);
  }

  private async relist(): Promise<void> {
    const list = await this.options.list();
    if (this.stopped) return;
    const listed = new Map(list.items.map((o) => [keyOf(o), o]));
    for (const [key, old] of this.known) {
      if (listed.has(key)) continue;
      this.known.delete(key);
      this.options.onChange('delete', old);
    }
    for (const [key, obj] of listed) {
      const old = this.known.get(key);
      if (old && old.metadata.resourceVersion === obj.metadata.resourceVersion) continue;
      this.known.set(key, obj);
      this.options.onChange(old ? 'update' : 'add', obj);
    }
    this.resourceVersion = list.resourceVersion;
    this.delayMs = FIRST_DELAY_MS;
    this.markSynced();
  }

  private watchOnce(): Promise<{ err: Error | undefined; events: number }> {
    // As client-go's reflector: the API server ends each watch after 5 to 10 minutes, spread so that informers
    // started together do not come back together.
    const timeoutSeconds = 300 + Math.floor(Math.random() * 300);
    const query = new URLSearchParams({ watch: '1', allowWatchBookmarks: 'true', resourceVersion: this.resourceVersion, timeoutSeconds: String(timeoutSeconds) });
    if (this.options.labelSelector) query.set('labelSelector', this.options.labelSelector);
    let events = 0;
    return new Promise((resolve) => {
      this.watch = this.options.transport.watch<T>(
        `${this.options.path}?${query.toString()}`,
        (e) => {
          events++;
          this.delayMs = FIRST_DELAY_MS;
          this.apply(e);
        },
        (err) => {
          this.watch = undefined;
          resolve({ err, events });
        },
      );
    });
  }

  private apply(e: WatchEvent<T>): void {
    const obj = e.object;
    const rv = obj.metadata?.resourceVersion;
    switch (e.type) {
      case 'BOOKMARK':
        break;
      case 'ADDED':
      case 'MODIFIED': {
        const key = keyOf(obj);
        const known = this.known.has(key);
        this.known.set(key, obj);
        this.options.onChange(known ? 'update' : 'add', obj);
        break;
      }
      case 'DELETED':
        this.known.delete(keyOf(obj));
        this.options.onChange('delete', obj);
        break;
    }
    if (rv) this.resourceVersion = rv;
  }
}
