// RBAC arithmetic for the least-privilege suite, computed from rendered manifests (not from the API server's
// answers): which rules the bindings give a ServiceAccount, whether a call (from the audit log) is covered by
// them, and which of them a run exercised. It follows the RBAC authorizer's matching rules for what netwatch's
// roles use: verbs, API groups, resources with subresources, resourceNames, and namespaces of RoleBindings.
import type { AuditEvent } from '../../scripts/controlplane.ts';
import type { Manifest } from './manifests.ts';

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

/** A rule as one subject holds it: through a ClusterRoleBinding (everywhere) or a RoleBinding (its namespace). */
export interface Grant {
  rule: PolicyRule;
  /** undefined: every namespace and cluster-scoped resources. */
  namespace?: string;
  via: string;
}

/** One authorization decision an API request needed, as the RBAC authorizer sees it. */
export interface Call {
  verb: string;
  apiGroup: string;
  /** `resource` or `resource/subresource`. */
  resource: string;
  namespace?: string;
  name?: string;
  nonResourceURL?: string;
}

export interface ServiceAccountRef {
  namespace: string;
  name: string;
}

interface RoleManifest extends Manifest {
  rules?: PolicyRule[];
}

interface BindingManifest extends Manifest {
  roleRef: { kind: string; name: string };
  subjects?: { kind: string; name: string; namespace?: string }[];
}

export const serviceAccountUser = (sa: ServiceAccountRef): string => `system:serviceaccount:${sa.namespace}:${sa.name}`;

function bindsServiceAccount(binding: BindingManifest, sa: ServiceAccountRef): boolean {
  return (binding.subjects ?? []).some(
    (s) =>
      (s.kind === 'ServiceAccount' && s.name === sa.name && (s.namespace ?? binding.metadata.namespace) === sa.namespace) ||
      (s.kind === 'User' && s.name === serviceAccountUser(sa)) ||
      (s.kind === 'Group' && ['system:serviceaccounts', `system:serviceaccounts:${sa.namespace}`, 'system:authenticated'].includes(s.name)),
  );
}

/** Every (Cluster)RoleBinding among `objects` that names the ServiceAccount, directly or through its groups. */
export function bindingsFor(objects: Manifest[], sa: ServiceAccountRef): BindingManifest[] {
  return objects.filter((o): o is BindingManifest => (o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding') && bindsServiceAccount(o as BindingManifest, sa));
}

/** The rules the manifests grant the ServiceAccount; throws when a binding refers to a role they do not define. */
export function grantsFor(objects: Manifest[], sa: ServiceAccountRef): Grant[] {
  const grants: Grant[] = [];
  for (const b of bindingsFor(objects, sa)) {
    const namespace = b.kind === 'RoleBinding' ? b.metadata.namespace : undefined;
    const role = objects.find<RoleManifest>(
      (o): o is RoleManifest => o.kind === b.roleRef.kind && o.metadata.name === b.roleRef.name && (o.kind === 'ClusterRole' || o.metadata.namespace === b.metadata.namespace),
    );
    if (!role) throw new Error(`${b.kind} ${b.metadata.name} refers to ${b.roleRef.kind} ${b.roleRef.name}, which the manifests do not define`);
    for (const rule of role.rules ?? []) grants.push({ rule, namespace, via: `${b.kind} ${b.metadata.name} → ${role.kind} ${role.metadata.name}` });
  }
  return grants;
}

/**
 * What the cluster's bootstrap roles give every authenticated user (system:basic-user, system:discovery,
 * system:public-info-viewer): a component may rely on these without a Role of ours.
 */
export const BOOTSTRAP_GRANTS: Grant[] = [
  { rule: { apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'], verbs: ['create'] }, via: 'system:basic-user' },
  { rule: { apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'], verbs: ['create'] }, via: 'system:basic-user' },
  {
    rule: { nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/readyz', '/version', '/version/', '/openapi', '/openapi/*'], verbs: ['get'] },
    via: 'system:discovery',
  },
];

const matchesOne = (values: string[] | undefined, value: string) => (values ?? []).some((v) => v === '*' || v === value);

function resourceMatches(resources: string[] | undefined, resource: string): boolean {
  const sub = resource.includes('/') ? resource.slice(resource.indexOf('/')) : undefined;
  return (resources ?? []).some((r) => r === '*' || r === resource || (sub !== undefined && r === `*${sub}`));
}

function urlMatches(urls: string[], url: string): boolean {
  return urls.some((u) => u === '*' || u === url || (u.endsWith('*') && url.startsWith(u.slice(0, -1))));
}

/** Whether `grant` authorizes `call` (RBAC semantics: a create, list or watch has no name to match resourceNames). */
export function allows(grant: Grant, call: Call): boolean {
  const { rule } = grant;
  if (!matchesOne(rule.verbs, call.verb)) return false;
  if (call.nonResourceURL !== undefined) return urlMatches(rule.nonResourceURLs ?? [], call.nonResourceURL);
  if (rule.nonResourceURLs?.length) return false;
  if (grant.namespace !== undefined && grant.namespace !== call.namespace) return false;
  if (!matchesOne(rule.apiGroups, call.apiGroup) || !resourceMatches(rule.resources, call.resource)) return false;
  if ((rule.resourceNames ?? []).length === 0) return true;
  return call.name !== undefined && call.name !== '' && (rule.resourceNames ?? []).includes(call.name);
}

/**
 * Verbs whose request has no object name for the authorizer (a create names its object only in the body). A list
 * or watch has one only through a `metadata.name` field selector, which the API server's audit event then shows as
 * objectRef.name (that is how resourceNames can authorize a watch of one object).
 */
const UNNAMED_VERBS = new Set(['create', 'deletecollection']);

/**
 * The authorization decisions behind one audit event of `identity`: the request itself, or, when it acted as
 * someone else, only the impersonation (the request was then authorized as the impersonated user).
 */
export function callsOf(e: AuditEvent): Call[] {
  if (e.impersonatedUser) {
    const calls: Call[] = [{ verb: 'impersonate', apiGroup: '', resource: 'users', name: e.impersonatedUser.username }];
    // The API server adds system:authenticated to every impersonated user itself; that one is not authorized.
    for (const g of e.impersonatedUser.groups ?? []) if (g !== 'system:authenticated') calls.push({ verb: 'impersonate', apiGroup: '', resource: 'groups', name: g });
    return calls;
  }
  const ref = e.objectRef;
  if (!ref?.resource) return [{ verb: e.verb, apiGroup: '', resource: '', nonResourceURL: e.requestURI.split('?')[0] ?? '' }];
  return [
    {
      verb: e.verb,
      apiGroup: ref.apiGroup ?? '',
      resource: ref.subresource ? `${ref.resource}/${ref.subresource}` : ref.resource,
      namespace: ref.namespace,
      name: UNNAMED_VERBS.has(e.verb) ? undefined : ref.name,
    },
  ];
}

export function describeCall(c: Call): string {
  if (c.nonResourceURL !== undefined) return `${c.verb} ${c.nonResourceURL}`;
  return `${c.verb} ${c.apiGroup || 'core'}/${c.resource}${c.name ? ` ${c.name}` : ''}${c.namespace ? ` in ${c.namespace}` : ''}`;
}

/**
 * One verb on one resource as a grant gives it, e.g. `update coordination.k8s.io/leases [netwatch-controller]
 * in netwatch-system`: the unit of "was this permission used?".
 */
export interface Permission {
  id: string;
  grant: Grant;
  call: Omit<Call, 'name' | 'namespace'>;
}

export function permissionsOf(grants: Grant[]): Permission[] {
  const out: Permission[] = [];
  for (const grant of grants) {
    const { rule } = grant;
    const names = rule.resourceNames?.length ? ` [${rule.resourceNames.join(',')}]` : '';
    const scope = grant.namespace ? ` in ${grant.namespace}` : '';
    for (const verb of rule.verbs) {
      for (const url of rule.nonResourceURLs ?? []) out.push({ id: `${verb} ${url}`, grant, call: { verb, apiGroup: '', resource: '', nonResourceURL: url } });
      for (const apiGroup of rule.apiGroups ?? []) {
        for (const resource of rule.resources ?? []) {
          out.push({ id: `${verb} ${apiGroup || 'core'}/${resource}${names}${scope}`, grant, call: { verb, apiGroup, resource } });
        }
      }
    }
  }
  return out;
}

/** Whether `call` used `permission`: same verb, group and resource, and allowed by the permission's grant. */
export function uses(permission: Permission, call: Call): boolean {
  const p = permission.call;
  if (p.nonResourceURL !== undefined) return call.nonResourceURL !== undefined && call.verb === p.verb && urlMatches([p.nonResourceURL], call.nonResourceURL);
  return call.verb === p.verb && call.apiGroup === p.apiGroup && call.resource === p.resource && allows(permission.grant, call);
}

export interface LeastPrivilegeReport {
  /** Requests of the identity the API server refused with 403. */
  forbidden: string[];
  /** Calls no grant of the manifests (nor the bootstrap roles) covers. */
  uncovered: string[];
  /** Permissions the manifests grant that no call used, minus `rarePaths`. */
  unused: string[];
  /** Entries of `rarePaths` that are not permissions of the manifests at all (stale allow-list). */
  unknownRarePaths: string[];
}

/** Compares what `identity` did (its audit events) with what the manifests grant it. */
export function leastPrivilege(events: AuditEvent[], identity: string, grants: Grant[], rarePaths: readonly string[] = []): LeastPrivilegeReport {
  const mine = events.filter((e) => e.user.username === identity);
  const forbidden = mine.filter((e) => e.responseStatus?.code === 403).map((e) => `${e.verb} ${e.requestURI}${e.impersonatedUser ? ` as ${e.impersonatedUser.username}` : ''}`);
  // Refused calls exercised nothing; every other response (404 and 409 included) passed authorization.
  const calls = mine.filter((e) => e.responseStatus?.code !== 403).flatMap(callsOf);
  const uncovered = [...new Set(calls.filter((c) => ![...grants, ...BOOTSTRAP_GRANTS].some((g) => allows(g, c))).map(describeCall))];
  const permissions = permissionsOf(grants);
  const unused = permissions.filter((p) => !rarePaths.includes(p.id) && !calls.some((c) => uses(p, c))).map((p) => p.id);
  const unknownRarePaths = rarePaths.filter((id) => !permissions.some((p) => p.id === id));
  return { forbidden: [...new Set(forbidden)], uncovered, unused: [...new Set(unused)], unknownRarePaths };
}
