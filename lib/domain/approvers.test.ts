import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { PolicyRule, RbacBinding, RbacRole, RbacSubject } from '../kube/types.ts';
import { approversOf, describeApprovers, isApprovable, rbacViewOf, ruleMatch, subjectOf, type PartApprovers, type RbacCheck } from './approvers.ts';

// Fixture builders: roles and bindings as kubectl would write them.
const clusterRole = (name: string, ...rules: PolicyRule[]): RbacRole => ({ metadata: { name }, rules });
const role = (namespace: string, name: string, ...rules: PolicyRule[]): RbacRole => ({ metadata: { namespace, name }, rules });
const user = (name: string): RbacSubject => ({ kind: 'User', name, apiGroup: 'rbac.authorization.k8s.io' });
const group = (name: string): RbacSubject => ({ kind: 'Group', name, apiGroup: 'rbac.authorization.k8s.io' });
const sa = (name: string, namespace?: string): RbacSubject => ({ kind: 'ServiceAccount', name, ...(namespace ? { namespace } : {}) });
const roleBinding = (namespace: string, ref: { kind: 'Role' | 'ClusterRole'; name: string }, ...subjects: RbacSubject[]): RbacBinding => ({
  metadata: { namespace, name: `${ref.name}-${subjects.map((s) => s.name).join('-')}` },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', ...ref },
  subjects,
});
const clusterBinding = (roleName: string, ...subjects: RbacSubject[]): RbacBinding => ({
  metadata: { name: `${roleName}-${subjects.map((s) => s.name).join('-')}` },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName },
  subjects,
});

const APPROVE = { apiGroups: ['netwatch.vtk.io'], resources: ['accessrequests'], verbs: ['approve'] };
const CREATE_SERVICES = { apiGroups: [''], resources: ['services'], verbs: ['create'] };
const CREATE_ACCESSES = { apiGroups: ['maxtac.vtk.io'], resources: ['accesses'], verbs: ['create'] };
const CREATE_EXTERNAL = { apiGroups: ['maxtac.vtk.io'], resources: ['externalaccesses'], verbs: ['create'] };
const EVERYTHING = { apiGroups: ['*'], resources: ['*'], verbs: ['*'] };

// The cluster every case starts from: the shipped roles and what every cluster has.
const base = {
  clusterRoles: [
    clusterRole('netwatch-approver', APPROVE, { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['get', 'list', 'watch'] }),
    clusterRole('cluster-admin', EVERYTHING, { nonResourceURLs: ['*'], verbs: ['*'] }),
    clusterRole('netwatch-controller', { apiGroups: [''], resources: ['services'], verbs: ['get', 'list', 'watch', 'create', 'delete'] }, { apiGroups: ['maxtac.vtk.io'], resources: ['accesses', 'externalaccesses'], verbs: ['create', 'delete'] }),
    clusterRole('creator', CREATE_SERVICES, CREATE_ACCESSES),
    clusterRole('services-only', CREATE_SERVICES),
    clusterRole('accesses-only', CREATE_ACCESSES),
  ],
  clusterRoleBindings: [clusterBinding('cluster-admin', group('system:masters')), clusterBinding('netwatch-controller', sa('netwatch-controller', 'netwatch-system'))],
};

type Fixture = { roles?: RbacRole[]; clusterRoles?: RbacRole[]; roleBindings?: RbacBinding[]; clusterRoleBindings?: RbacBinding[] };

function lookup(extra: Fixture, part: { namespace: string; maxtacResource: 'accesses' | 'externalaccesses' } = { namespace: 'payments', maxtacResource: 'accesses' }): PartApprovers {
  return approversOf(
    part,
    rbacViewOf({
      roles: extra.roles ?? [],
      clusterRoles: [...base.clusterRoles, ...(extra.clusterRoles ?? [])],
      roleBindings: extra.roleBindings ?? [],
      clusterRoleBindings: [...base.clusterRoleBindings, ...(extra.clusterRoleBindings ?? [])],
    }),
  );
}

const names = (a: PartApprovers) => a.approvers.map((s) => `${s.kind}:${s.namespace ? `${s.namespace}/` : ''}${s.name}:${s.via}`);
const admins = (a: PartApprovers) => a.clusterAdmins.map((s) => `${s.kind}:${s.namespace ? `${s.namespace}/` : ''}${s.name}`);
const ADMINS = ['Group:system:masters', 'ServiceAccount:netwatch-system/netwatch-controller'];

describe('approversOf: who may approve a part in its namespace', () => {
  const cases: { name: string; fixture: Fixture; part?: { namespace: string; maxtacResource: 'accesses' | 'externalaccesses' }; approvers: string[]; admins?: string[] }[] = [
    { name: 'a namespace with no binding has only cluster admins', fixture: {}, approvers: [] },
    {
      name: 'netwatch-approver bound in the namespace to a user',
      fixture: { roleBindings: [roleBinding('payments', { kind: 'ClusterRole', name: 'netwatch-approver' }, user('bob'))] },
      approvers: ['User:bob:approve'],
    },
    {
      name: 'bound to a group and a user at once',
      fixture: { roleBindings: [roleBinding('payments', { kind: 'ClusterRole', name: 'netwatch-approver' }, group('payments-leads'), user('bob'))] },
      approvers: ['User:bob:approve', 'Group:payments-leads:approve'],
    },
    {
      name: 'a binding in another namespace does not count here',
      fixture: { roleBindings: [roleBinding('shop', { kind: 'ClusterRole', name: 'netwatch-approver' }, user('carol'))] },
      approvers: [],
    },
    {
      name: 'a namespaced Role that grants approve',
      fixture: { roles: [role('payments', 'approvers', APPROVE)], roleBindings: [roleBinding('payments', { kind: 'Role', name: 'approvers' }, user('bob'))] },
      approvers: ['User:bob:approve'],
    },
    {
      name: "a Role of the same name in another namespace is not the binding's",
      fixture: { roles: [role('shop', 'approvers', APPROVE)], roleBindings: [roleBinding('payments', { kind: 'Role', name: 'approvers' }, user('bob'))] },
      approvers: [],
    },
    {
      name: 'a binding to a role that does not exist grants nothing',
      fixture: { roleBindings: [roleBinding('payments', { kind: 'ClusterRole', name: 'missing' }, user('bob'))] },
      approvers: [],
    },
    {
      name: 'could have created it: create services and accesses in the namespace',
      fixture: { roleBindings: [roleBinding('payments', { kind: 'ClusterRole', name: 'creator' }, user('dave'))] },
      approvers: ['User:dave:create'],
    },
    {
      name: 'could have created it from two bindings of the same subject',
      fixture: {
        roleBindings: [
          roleBinding('payments', { kind: 'ClusterRole', name: 'services-only' }, user('dave')),
          roleBinding('payments', { kind: 'ClusterRole', name: 'accesses-only' }, user('dave')),
        ],
      },
      approvers: ['User:dave:create'],
    },
    {
      name: 'create services alone is not enough',
      fixture: { roleBindings: [roleBinding('payments', { kind: 'ClusterRole', name: 'services-only' }, user('dave'))] },
      approvers: [],
    },
    {
      name: 'an External part needs externalaccesses, not accesses',
      fixture: { roleBindings: [roleBinding('payments', { kind: 'ClusterRole', name: 'creator' }, user('dave'))] },
      part: { namespace: 'payments', maxtacResource: 'externalaccesses' },
      approvers: [],
    },
    {
      name: 'externalaccesses and services make an approver of an External part',
      fixture: { roles: [role('payments', 'ext', CREATE_SERVICES, CREATE_EXTERNAL)], roleBindings: [roleBinding('payments', { kind: 'Role', name: 'ext' }, user('dave'))] },
      part: { namespace: 'payments', maxtacResource: 'externalaccesses' },
      approvers: ['User:dave:create'],
    },
    {
      name: 'a wildcard verb on accessrequests counts',
      fixture: { roles: [role('payments', 'ar-admin', { apiGroups: ['netwatch.vtk.io'], resources: ['accessrequests'], verbs: ['*'] })], roleBindings: [roleBinding('payments', { kind: 'Role', name: 'ar-admin' }, user('erin'))] },
      approvers: ['User:erin:approve'],
    },
    {
      name: 'a wildcard group on accessrequests counts',
      fixture: { roles: [role('payments', 'r', { apiGroups: ['*'], resources: ['accessrequests'], verbs: ['approve'] })], roleBindings: [roleBinding('payments', { kind: 'Role', name: 'r' }, user('erin'))] },
      approvers: ['User:erin:approve'],
    },
    {
      name: 'approve in another API group does not count',
      fixture: { roles: [role('payments', 'r', { apiGroups: ['example.com'], resources: ['accessrequests'], verbs: ['approve'] })], roleBindings: [roleBinding('payments', { kind: 'Role', name: 'r' }, user('erin'))] },
      approvers: [],
    },
    {
      name: 'approve on the status subresource only does not count',
      fixture: { roles: [role('payments', 'r', { apiGroups: ['netwatch.vtk.io'], resources: ['accessrequests/status'], verbs: ['approve'] })], roleBindings: [roleBinding('payments', { kind: 'Role', name: 'r' }, user('erin'))] },
      approvers: [],
    },
    {
      name: 'a rule limited to resourceNames never matches an approval review (it names no object)',
      fixture: { roles: [role('payments', 'r', { ...APPROVE, resourceNames: ['one-request'] })], roleBindings: [roleBinding('payments', { kind: 'Role', name: 'r' }, user('erin'))] },
      approvers: [],
    },
    {
      name: 'verbs other than approve do not count',
      fixture: { roles: [role('payments', 'r', { apiGroups: ['netwatch.vtk.io'], resources: ['accessrequests'], verbs: ['get', 'list', 'update'] })], roleBindings: [roleBinding('payments', { kind: 'Role', name: 'r' }, user('erin'))] },
      approvers: [],
    },
    {
      name: 'cluster-admin bound in the namespace (a namespace admin) is an approver there',
      fixture: { roleBindings: [roleBinding('payments', { kind: 'ClusterRole', name: 'cluster-admin' }, group('payments-owners'))] },
      approvers: ['Group:payments-owners:approve'],
    },
    {
      name: 'cluster-admin bound cluster-wide is a cluster admin, not an approver',
      fixture: { clusterRoleBindings: [clusterBinding('cluster-admin', user('root'))] },
      approvers: [],
      admins: ['User:root', ...ADMINS],
    },
    {
      name: 'netwatch-approver bound cluster-wide approves everywhere',
      fixture: { clusterRoleBindings: [clusterBinding('netwatch-approver', group('security'))] },
      approvers: ['Group:security:approve'],
    },
    {
      name: 'create services and accesses cluster-wide is a cluster admin (automation such as the controller)',
      fixture: { clusterRoleBindings: [clusterBinding('creator', sa('deployer', 'ci'))] },
      approvers: [],
      admins: ['Group:system:masters', 'ServiceAccount:ci/deployer', 'ServiceAccount:netwatch-system/netwatch-controller'],
    },
    {
      name: 'a subject that is both a local approver and a cluster admin is listed as an approver',
      fixture: {
        roleBindings: [roleBinding('payments', { kind: 'ClusterRole', name: 'netwatch-approver' }, user('root'))],
        clusterRoleBindings: [clusterBinding('cluster-admin', user('root'))],
      },
      approvers: ['User:root:approve'],
    },
    {
      name: "a RoleBinding's ServiceAccount without namespace is the binding's namespace's",
      fixture: { roleBindings: [roleBinding('payments', { kind: 'ClusterRole', name: 'netwatch-approver' }, sa('approver-bot'))] },
      approvers: ['ServiceAccount:payments/approver-bot:approve'],
    },
    {
      name: 'a ServiceAccount of another namespace keeps its own',
      fixture: { roleBindings: [roleBinding('payments', { kind: 'ClusterRole', name: 'netwatch-approver' }, sa('approver-bot', 'ci'))] },
      approvers: ['ServiceAccount:ci/approver-bot:approve'],
    },
    {
      name: 'unknown subject kinds are ignored',
      fixture: { roleBindings: [roleBinding('payments', { kind: 'ClusterRole', name: 'netwatch-approver' }, { kind: 'Robot', name: 'r2' })] },
      approvers: [],
    },
    {
      name: 'a ClusterRoleBinding pointing at a Role is ignored (RBAC does)',
      fixture: { roles: [role('payments', 'approvers', APPROVE)], clusterRoleBindings: [{ metadata: { name: 'x' }, roleRef: { kind: 'Role', name: 'approvers' }, subjects: [user('bob')] }] },
      approvers: [],
    },
    {
      name: 'an aggregated ClusterRole is read from the rules the API server wrote',
      fixture: {
        clusterRoles: [{ metadata: { name: 'team-admin' }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { x: 'y' } }] }, rules: [APPROVE] } as RbacRole],
        roleBindings: [roleBinding('payments', { kind: 'ClusterRole', name: 'team-admin' }, user('bob'))],
      },
      approvers: ['User:bob:approve'],
    },
    {
      name: 'a ClusterRole with no rules (aggregation not resolved yet) grants nothing',
      fixture: { clusterRoles: [{ metadata: { name: 'empty' }, rules: null }], roleBindings: [roleBinding('payments', { kind: 'ClusterRole', name: 'empty' }, user('bob'))] },
      approvers: [],
    },
    {
      name: 'approvers are sorted users, groups, then ServiceAccounts, and listed once',
      fixture: {
        roleBindings: [
          roleBinding('payments', { kind: 'ClusterRole', name: 'netwatch-approver' }, sa('bot', 'ci'), group('leads'), user('zed'), user('bob')),
          roleBinding('payments', { kind: 'ClusterRole', name: 'creator' }, user('bob')),
        ],
      },
      approvers: ['User:bob:approve', 'User:zed:approve', 'Group:leads:approve', 'ServiceAccount:ci/bot:approve'],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const got = lookup(c.fixture, c.part);
      assert.deepEqual(names(got), c.approvers);
      assert.deepEqual(admins(got), c.admins ?? ADMINS);
      assert.equal(isApprovable(got), c.approvers.length > 0);
    });
  }
});

describe('ruleMatch: the RBAC rule semantics the lookup relies on', () => {
  const check: RbacCheck = { verb: 'create', group: '', resource: 'services' };
  const cases: [string, PolicyRule, ReturnType<typeof ruleMatch>][] = [
    ['names the verb, group and resource', CREATE_SERVICES, 'named'],
    ['every verb', { ...CREATE_SERVICES, verbs: ['*'] }, 'named'],
    ['every group', { ...CREATE_SERVICES, apiGroups: ['*'] }, 'named'],
    ['every resource', { ...CREATE_SERVICES, resources: ['*'] }, 'wildcard'],
    ['another verb', { ...CREATE_SERVICES, verbs: ['get'] }, undefined],
    ['another group', { ...CREATE_SERVICES, apiGroups: ['apps'] }, undefined],
    ['a subresource only', { ...CREATE_SERVICES, resources: ['services/status'] }, undefined],
    ['resourceNames', { ...CREATE_SERVICES, resourceNames: ['db'] }, undefined],
    ['non-resource URLs only', { nonResourceURLs: ['*'], verbs: ['*'] }, undefined],
    ['no verbs', { apiGroups: [''], resources: ['services'] }, undefined],
  ];
  for (const [name, rule, want] of cases) test(name, () => assert.equal(ruleMatch(rule, check), want));
});

describe('subjectOf and describeApprovers', () => {
  test('a ClusterRoleBinding ServiceAccount without namespace is dropped', () => assert.equal(subjectOf(sa('x'), undefined), undefined));
  test('a subject without a name is dropped', () => assert.equal(subjectOf({ kind: 'User', name: '' }, 'ns'), undefined));
  test('nobody is said so', () => assert.equal(describeApprovers({ approvers: [] }), 'nobody but cluster admins'));
  test('names the first ones and counts the rest', () => {
    const approvers = ['a', 'b', 'c'].map((n) => ({ kind: 'User' as const, name: n, via: 'approve' as const }));
    assert.equal(describeApprovers({ approvers: [...approvers, { kind: 'ServiceAccount', name: 'bot', namespace: 'ci', via: 'create' }] }, 3), 'user a, user b, user c and 1 more');
    assert.equal(describeApprovers({ approvers: [{ kind: 'ServiceAccount', name: 'bot', namespace: 'ci', via: 'create' }], more: 4 }), 'serviceaccount ci/bot and 4 more');
  });
});
