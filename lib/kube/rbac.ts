// The RBAC objects of an informer cache as the approver lookup (lib/domain/approvers.ts) reads them, and an index
// that keeps its answers per namespace and maxtac kind until the next RBAC change (the webhook asks at every create,
// the controller at every reconcile of a waiting request: both then pay a Map lookup).
import { questionKey } from '../domain/actions.ts';
import { approversOf, type PartApprovers, type RbacView } from '../domain/approvers.ts';
import type { Part } from '../domain/parts.ts';
import { RBAC_RESOURCES, type ClusterCache } from './cache.ts';
import type { RbacBinding, RbacRole } from './types.ts';

export function rbacViewOfCache(cache: ClusterCache): RbacView {
  return {
    role: (namespace, name) => cache.get<RbacRole>('roles', namespace, name),
    clusterRole: (name) => cache.get<RbacRole>('clusterroles', '', name),
    roleBindings: (namespace) => cache.inNamespace<RbacBinding>('rolebindings', namespace),
    clusterRoleBindings: () => cache.list<RbacBinding>('clusterrolebindings'),
  };
}

export class ApproverIndex {
  private readonly answers = new Map<string, PartApprovers>();
  private readonly view: RbacView;
  private synced: boolean;

  /** `synced`: whether the cache already holds complete lists (else every answer throws until markSynced). */
  constructor(cache: ClusterCache, opts: { synced?: boolean } = {}) {
    this.view = rbacViewOfCache(cache);
    this.synced = opts.synced ?? false;
    cache.onChange((resource) => {
      if ((RBAC_RESOURCES as readonly string[]).includes(resource)) this.answers.clear();
    });
  }

  /** Called once every RBAC cache holds a complete list: before that, "nobody" could be a cache still filling. */
  markSynced(): void {
    this.synced = true;
  }

  approversOf(part: Pick<Part, 'namespace' | 'maxtacResource'>): PartApprovers {
    if (!this.synced) throw new Error('the RBAC caches have not synced yet, so who may approve cannot be told');
    const k = questionKey(part);
    let answer = this.answers.get(k);
    if (!answer) this.answers.set(k, (answer = approversOf(part, this.view)));
    return answer;
  }
}
