// How many open AccessRequests each user has, for the per-requester limit: an index over the informer cache of
// AccessRequests, updated on every change, so an admission asks a Map instead of scanning every request.
// A request counts while it can still grant access: not ended (no terminal phase), not decided, not being deleted.
// Concurrent creates by one user are counted only once they are stored, so a burst may pass the limit by as many
// as are in flight at the same moment; the limit is a guard against runaway clients and clutter, not a quota.
import { isTerminal } from '../lib/domain/phase.ts';
import type { AccessRequest } from '../lib/api/accessrequest.ts';
import type { ClusterCache } from '../lib/kube/cache.ts';
import type { OpenRequestCounter } from './app.ts';

export function isOpen(request: AccessRequest): boolean {
  return !request.metadata.deletionTimestamp && !request.status?.decision && !isTerminal(request.status?.phase);
}

export class OpenRequestIndex implements OpenRequestCounter {
  /** username → names of that user's open requests. */
  private readonly open = new Map<string, Set<string>>();
  /** request name → the username it is counted for. */
  private readonly countedFor = new Map<string, string>();
  private synced = false;

  constructor(cache: ClusterCache) {
    cache.onChange((resource, obj, type) => {
      if (resource !== 'accessrequests') return;
      const request = obj as AccessRequest;
      const name = request.metadata.name ?? '';
      this.uncount(name);
      if (type !== 'delete' && isOpen(request)) this.count(name, request.spec?.requester?.username ?? '');
    });
  }

  /** Called once the cache holds a complete list: before that, a count would be too low. */
  markSynced(): void {
    this.synced = true;
  }

  openRequestsOf(username: string): number {
    if (!this.synced) throw new Error('the AccessRequest cache has not synced yet, so open requests cannot be counted');
    return this.open.get(username)?.size ?? 0;
  }

  private count(name: string, username: string): void {
    let names = this.open.get(username);
    if (!names) this.open.set(username, (names = new Set()));
    names.add(name);
    this.countedFor.set(name, username);
  }

  private uncount(name: string): void {
    const username = this.countedFor.get(name);
    if (username === undefined) return;
    this.countedFor.delete(name);
    const names = this.open.get(username);
    names?.delete(name);
    if (names?.size === 0) this.open.delete(username);
  }
}
