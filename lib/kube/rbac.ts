// The RBAC objects of an informer cache as the approver lookup (lib/domain/approvers.ts) reads them.
import type { RbacView } from '../domain/approvers.ts';
import type { ClusterCache } from './cache.ts';
import type { RbacBinding, RbacRole } from './types.ts';

export function rbacViewOfCache(cache: ClusterCache): RbacView {
  return {
    role: (namespace, name) => cache.get<RbacRole>('roles', namespace, name),
    clusterRole: (name) => cache.get<RbacRole>('clusterroles', '', name),
    roleBindings: (namespace) => cache.inNamespace<RbacBinding>('rolebindings', namespace),
    clusterRoleBindings: () => cache.list<RbacBinding>('clusterrolebindings'),
  };
}
