// Who can approve a part: read from RBAC (Roles, ClusterRoles, RoleBindings, ClusterRoleBindings), as the RBAC
// authorizer would answer the webhook's approval review (lib/domain/parts.ts permissionFor) for each subject a binding
// names. Pure: the caller hands in what its informers hold. The controller records the answer in status per part
// (the UIs show it), the webhook refuses or warns at create when a pending part has nobody to approve it.
//
// What RBAC alone can tell, and what it cannot:
// - Subjects are the ones bindings name (User, Group, ServiceAccount); who is in a group is the authenticator's
//   business, so a person who gets `create services` from one group and `create accesses` from another is not seen.
// - Other authorizers (webhook authorizers, ABAC) are not seen, and neither is system:masters' membership (that group
//   bypasses authorization: it is always listed as a cluster admin).
// - A ClusterRole's aggregated rules are read as the API server wrote them into `rules`.
//
// Cluster admins are listed apart, and do not make a part approvable: a subject whose right comes only through a
// ClusterRoleBinding, by a wildcard rule (`*` resources: cluster-admin) or by the "could have created it" path
// (cluster-wide automation such as netwatch's own controller), is someone who can do anything anywhere, not the
// namespace's approver. What is granted through a RoleBinding in the namespace (whatever the role) counts, and so
// does `approve` on accessrequests granted cluster-wide by a rule naming them (a deliberate "approves everywhere").
import { APPROVERS_MAX, GROUP, PLURAL, type PartApproversStatus } from '../api/accessrequest.ts';
import type { PolicyRule, RbacBinding, RbacRole, RbacSubject } from '../kube/types.ts';
import { MAXTAC_GROUP, type Part } from './parts.ts';

export type SubjectKind = 'User' | 'Group' | 'ServiceAccount';

export interface Subject {
  kind: SubjectKind;
  name: string;
  /** ServiceAccounts only. */
  namespace?: string;
}

export interface Approver extends Subject {
  /** `approve` on accessrequests, or `create` on services and the maxtac kind ("could have created it"). */
  via: 'approve' | 'create';
}

export interface PartApprovers {
  /** The namespace's approvers, sorted (users, groups, ServiceAccounts). */
  approvers: Approver[];
  /** Subjects that hold the right only as cluster admins (system:masters always), sorted likewise. */
  clusterAdmins: Subject[];
}

/** What the caller's informers hold, looked up by namespace and name. */
export interface RbacView {
  role(namespace: string, name: string): RbacRole | undefined;
  clusterRole(name: string): RbacRole | undefined;
  roleBindings(namespace: string): readonly RbacBinding[];
  clusterRoleBindings(): readonly RbacBinding[];
}

/** An RbacView over plain lists (tests, one-off lookups). */
export function rbacViewOf(objects: { roles?: RbacRole[]; clusterRoles?: RbacRole[]; roleBindings?: RbacBinding[]; clusterRoleBindings?: RbacBinding[] }): RbacView {
  const roles = objects.roles ?? [];
  const clusterRoles = objects.clusterRoles ?? [];
  const roleBindings = objects.roleBindings ?? [];
  return {
    role: (ns, name) => roles.find((r) => r.metadata.namespace === ns && r.metadata.name === name),
    clusterRole: (name) => clusterRoles.find((r) => r.metadata.name === name),
    roleBindings: (ns) => roleBindings.filter((b) => b.metadata.namespace === ns),
    clusterRoleBindings: () => objects.clusterRoleBindings ?? [],
  };
}

/** A request attribute as the RBAC authorizer matches it: no subresource, no object name (as the webhook asks). */
export interface RbacCheck {
  verb: string;
  group: string;
  resource: string;
}

/** How a rule grants a check: naming the resource, through `*` resources, or not at all. */
export type RuleMatch = 'named' | 'wildcard' | undefined;

/** The RBAC authorizer's rule match (verbs, apiGroups, resources, resourceNames), for a request that names no object. */
export function ruleMatch(rule: PolicyRule, check: RbacCheck): RuleMatch {
  const verbs = rule.verbs ?? [];
  const groups = rule.apiGroups ?? [];
  const resources = rule.resources ?? [];
  if (!verbs.includes('*') && !verbs.includes(check.verb)) return undefined;
  if (!groups.includes('*') && !groups.includes(check.group)) return undefined;
  // A rule limited to resourceNames matches only requests naming one of them; these checks name none (as a create
  // never does, and as the webhook's review does not).
  const names = rule.resourceNames ?? [];
  if (names.length > 0 && !names.includes('')) return undefined;
  if (resources.includes(check.resource)) return 'named';
  if (resources.includes('*')) return 'wildcard';
  return undefined;
}

/** The strongest match of any rule: named beats wildcard. */
export function rulesMatch(rules: readonly PolicyRule[] | null | undefined, check: RbacCheck): RuleMatch {
  let best: RuleMatch;
  for (const rule of rules ?? []) {
    const m = ruleMatch(rule, check);
    if (m === 'named') return m;
    best ??= m;
  }
  return best;
}

/** A binding's subject as an identity; undefined for kinds RBAC does not know or a ServiceAccount without namespace. */
export function subjectOf(s: RbacSubject, bindingNamespace: string | undefined): Subject | undefined {
  if (!s?.name) return undefined;
  switch (s.kind) {
    case 'User':
    case 'Group':
      return { kind: s.kind, name: s.name };
    case 'ServiceAccount': {
      // As the authorizer: a RoleBinding's ServiceAccount without a namespace is the binding's namespace's.
      const namespace = s.namespace || bindingNamespace;
      return namespace ? { kind: 'ServiceAccount', name: s.name, namespace } : undefined;
    }
    default:
      return undefined;
  }
}

export const SYSTEM_MASTERS: Subject = { kind: 'Group', name: 'system:masters' };

type CheckName = 'approve' | 'services' | 'maxtac';

function checksFor(part: Pick<Part, 'maxtacResource'>): Record<CheckName, RbacCheck> {
  return {
    approve: { verb: 'approve', group: GROUP, resource: PLURAL },
    services: { verb: 'create', group: '', resource: 'services' },
    maxtac: { verb: 'create', group: MAXTAC_GROUP, resource: part.maxtacResource },
  };
}

interface Held {
  subject: Subject;
  /** Granted through RoleBindings in the namespace. */
  local: Set<CheckName>;
  /** Granted through ClusterRoleBindings, and how. */
  cluster: Map<CheckName, 'named' | 'wildcard'>;
}

const KIND_ORDER: Record<SubjectKind, number> = { User: 0, Group: 1, ServiceAccount: 2 };

export function subjectKey(s: Subject): string {
  return `${s.kind}/${s.namespace ?? ''}/${s.name}`;
}

export function compareSubjects(a: Subject, b: Subject): number {
  return KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || (a.namespace ?? '').localeCompare(b.namespace ?? '') || a.name.localeCompare(b.name);
}

/** Who may approve a part in its namespace (see the head of this file for what counts). */
export function approversOf(part: Pick<Part, 'namespace' | 'maxtacResource'>, rbac: RbacView): PartApprovers {
  const checks = checksFor(part);
  const names = Object.keys(checks) as CheckName[];
  const held = new Map<string, Held>();
  const holder = (s: Subject): Held => {
    const k = subjectKey(s);
    let h = held.get(k);
    if (!h) held.set(k, (h = { subject: s, local: new Set(), cluster: new Map() }));
    return h;
  };

  for (const binding of rbac.roleBindings(part.namespace)) {
    const ref = binding.roleRef;
    const role = ref?.kind === 'Role' ? rbac.role(part.namespace, ref.name) : ref?.kind === 'ClusterRole' ? rbac.clusterRole(ref.name) : undefined;
    if (!role) continue;
    const granted = names.filter((n) => rulesMatch(role.rules, checks[n]) !== undefined);
    if (granted.length === 0) continue;
    for (const s of binding.subjects ?? []) {
      const subject = subjectOf(s, part.namespace);
      if (subject) for (const n of granted) holder(subject).local.add(n);
    }
  }
  for (const binding of rbac.clusterRoleBindings()) {
    if (binding.roleRef?.kind !== 'ClusterRole') continue;
    const role = rbac.clusterRole(binding.roleRef.name);
    if (!role) continue;
    const granted = names.map((n) => [n, rulesMatch(role.rules, checks[n])] as const).filter((g): g is readonly [CheckName, 'named' | 'wildcard'] => g[1] !== undefined);
    if (granted.length === 0) continue;
    for (const s of binding.subjects ?? []) {
      const subject = subjectOf(s, undefined);
      if (!subject) continue;
      const h = holder(subject);
      for (const [n, how] of granted) if (h.cluster.get(n) !== 'named') h.cluster.set(n, how);
    }
  }

  const approvers: Approver[] = [];
  const clusterAdmins = new Map<string, Subject>([[subjectKey(SYSTEM_MASTERS), SYSTEM_MASTERS]]);
  for (const { subject, local, cluster } of held.values()) {
    const has = (n: CheckName) => local.has(n) || cluster.has(n);
    if (local.has('approve') || cluster.get('approve') === 'named') approvers.push({ ...subject, via: 'approve' });
    else if (local.has('services') && local.has('maxtac')) approvers.push({ ...subject, via: 'create' });
    else if (has('approve') || (has('services') && has('maxtac'))) clusterAdmins.set(subjectKey(subject), subject);
  }
  return { approvers: approvers.sort(compareSubjects), clusterAdmins: [...clusterAdmins.values()].sort(compareSubjects) };
}

/** A part is approvable when someone other than a cluster admin may approve it. */
export function isApprovable(a: Pick<PartApprovers, 'approvers'>): boolean {
  return a.approvers.length > 0;
}

/** `user bob`, `group team-a`, `serviceaccount ci/deployer`. */
export function describeSubject(s: Subject): string {
  return s.kind === 'ServiceAccount' ? `serviceaccount ${s.namespace ?? ''}/${s.name}` : `${s.kind.toLowerCase()} ${s.name}`;
}

/** One line for the UIs: the approvers, at most `max` of them named. */
export function describeApprovers(a: Pick<PartApprovers, 'approvers'> & { more?: number }, max = 8): string {
  if (a.approvers.length === 0) return 'nobody but cluster admins';
  const shown = a.approvers.slice(0, max).map(describeSubject);
  const rest = a.approvers.length - shown.length + (a.more ?? 0);
  return shown.join(', ') + (rest > 0 ? ` and ${rest} more` : '');
}

/** One line of the cluster admins (listed apart, not counted as approvers). */
export function describeClusterAdmins(a: Pick<PartApprovers, 'clusterAdmins'> & { moreClusterAdmins?: number }, max = 4): string {
  const shown = a.clusterAdmins.slice(0, max).map(describeSubject);
  const rest = a.clusterAdmins.length - shown.length + (a.moreClusterAdmins ?? 0);
  return shown.join(', ') + (rest > 0 ? ` and ${rest} more` : '');
}

/** The owners' way out, in the words of a refusal or a warning. */
export function bindApproverHint(namespace: string): string {
  return `the namespace's owners can name its approvers: kubectl -n ${namespace} create rolebinding netwatch-approver --clusterrole=netwatch-approver --group=<their approvers' group>`;
}

/** As recorded in a part's status: at most APPROVERS_MAX of each, the rest counted. */
export function approversStatus(a: PartApprovers): PartApproversStatus {
  const out: PartApproversStatus = {
    approvers: a.approvers.slice(0, APPROVERS_MAX).map((s) => ({ ...s })),
    clusterAdmins: a.clusterAdmins.slice(0, APPROVERS_MAX).map(({ kind, name, namespace }) => ({ kind, name, ...(namespace ? { namespace } : {}) })),
  };
  if (a.approvers.length > APPROVERS_MAX) out.more = a.approvers.length - APPROVERS_MAX;
  if (a.clusterAdmins.length > APPROVERS_MAX) out.moreClusterAdmins = a.clusterAdmins.length - APPROVERS_MAX;
  return out;
}
