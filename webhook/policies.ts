// The AccessPolicies the webhook enforces, read from an informer cache (lib/kube/informer.ts through HttpKube): an
// admission asks a Map, never the API server, and a policy change counts from the next admission after the watch
// delivers it.
import type { AccessPolicy } from '../lib/api/accesspolicy.ts';
import type { ClusterCache } from '../lib/kube/cache.ts';

export interface PolicyReader {
  /** The AccessPolicies of these namespaces; throws while it cannot tell (an empty answer would waive every rule). */
  policiesIn(namespaces: readonly string[]): AccessPolicy[];
}

export class CachedPolicies implements PolicyReader {
  private synced = false;

  constructor(private readonly cache: ClusterCache) {}

  /** Called once the cache holds a complete list. */
  markSynced(): void {
    this.synced = true;
  }

  policiesIn(namespaces: readonly string[]): AccessPolicy[] {
    if (!this.synced) throw new Error('the AccessPolicy cache has not synced yet, so the rules in force are unknown');
    return [...new Set(namespaces)].flatMap((ns) => this.cache.inNamespace<AccessPolicy & { metadata: { namespace?: string } }>('accesspolicies', ns));
  }
}

/** No policies at all (tests of the shell that are not about policies). */
export const NO_POLICIES: PolicyReader = { policiesIn: () => [] };
