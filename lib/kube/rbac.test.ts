import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterCache } from './cache.ts';
import { ApproverIndex } from './rbac.ts';

const part = { namespace: 'payments', maxtacResource: 'accesses' as const };
const binding = (user: string) => ({
  metadata: { name: `approver-${user}`, namespace: 'payments', resourceVersion: '1' },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'netwatch-approver' },
  subjects: [{ kind: 'User', name: user }],
});

test('the index answers from the cache, only once synced, and forgets its answers at every RBAC change', () => {
  const cache = new ClusterCache();
  const index = new ApproverIndex(cache);
  assert.throws(() => index.approversOf(part), /RBAC caches have not synced yet/);
  cache.apply('clusterroles', { metadata: { name: 'netwatch-approver' }, rules: [{ apiGroups: ['netwatch.vtk.io'], resources: ['accessrequests'], verbs: ['approve'] }] } as never, 'add');
  index.markSynced();
  assert.deepEqual(index.approversOf(part).approvers, []);
  cache.apply('rolebindings', binding('bob'), 'add');
  assert.deepEqual(index.approversOf(part).approvers.map((a) => a.name), ['bob']);
  // Other resources do not clear it; the same answer object is served.
  const first = index.approversOf(part);
  cache.apply('services', { metadata: { name: 'x', namespace: 'payments' } }, 'add');
  assert.equal(index.approversOf(part), first);
  cache.apply('rolebindings', binding('bob'), 'delete');
  assert.deepEqual(index.approversOf(part).approvers, []);
});
