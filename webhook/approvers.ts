// Who may approve a part, as the webhook answers it at create: from its own informers on Roles, ClusterRoles,
// RoleBindings and ClusterRoleBindings (list/watch, manifests/webhook/rbac.yaml), resolved by the same pure lookup the
// controller records in status (lib/domain/approvers.ts). A SubjectAccessReview cannot answer this: it checks one
// subject, it cannot list them. Answers are kept per namespace and maxtac kind until the next RBAC change, so an
// admission costs a Map lookup; until the caches have synced every answer throws (and the admission fails closed).
import { questionKey } from '../lib/domain/actions.ts';
import { approversOf, type PartApprovers } from '../lib/domain/approvers.ts';
import type { Part } from '../lib/domain/parts.ts';
import { RBAC_RESOURCES, type ClusterCache } from '../lib/kube/cache.ts';
import { rbacViewOfCache } from '../lib/kube/rbac.ts';
import type { ApproverLookup } from './app.ts';

export class ApproverIndex implements ApproverLookup {
  private readonly answers = new Map<string, PartApprovers>();
  private synced = false;

  constructor(private readonly cache: ClusterCache) {
    cache.onChange((resource) => {
      if ((RBAC_RESOURCES as readonly string[]).includes(resource)) this.answers.clear();
    });
  }

  /** Called once every RBAC cache holds a complete list: before that, "nobody" could be a cache still filling. */
  markSynced(): void {
    this.synced = true;
  }

  approversOf(part: Part): PartApprovers {
    if (!this.synced) throw new Error('the RBAC caches have not synced yet, so who may approve cannot be told');
    const k = questionKey(part);
    let answer = this.answers.get(k);
    if (!answer) this.answers.set(k, (answer = approversOf(part, rbacViewOfCache(this.cache))));
    return answer;
  }
}
