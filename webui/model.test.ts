import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AccessRequest, AccessRequestStatus } from '../lib/api/accessrequest.ts';
import { partsOf } from '../lib/domain/parts.ts';
import { checksFor, mayApproveByKey, viewOf, type Actions } from './model.ts';

function request(status?: AccessRequestStatus, approvedParts: ('source' | 'target')[] = []): AccessRequest {
  const r: AccessRequest = {
    apiVersion: 'netwatch.vtk.io/v1alpha1',
    kind: 'AccessRequest',
    metadata: { name: 'ar-1', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: {
      type: 'Service',
      source: { namespace: 'monitoring', service: 'prometheus' },
      target: { namespace: 'default', service: 'database' },
      duration: '2h',
      reason: 'r',
      requester: { username: 'alice', approvedParts },
    },
  };
  if (status) r.status = status;
  return r;
}

const alice = { username: 'alice', groups: [] };
const bob = { username: 'bob', groups: [] };
const approverOfBoth = new Map([['monitoring/accesses', true], ['default/accesses', true]]);
const approverOfTarget = new Map([['default/accesses', true]]);
const nobody = new Map<string, boolean>();

const cases: { name: string; req: AccessRequest; viewer: typeof alice; may: Map<string, boolean>; want: Actions }[] = [
  {
    name: 'an approver of the target sees Approve for the target and Deny on a pending request',
    req: request({ phase: 'Pending' }),
    viewer: bob,
    may: approverOfTarget,
    want: { approve: ['target'], deny: true, abort: false, revoke: false },
  },
  {
    name: 'the requester without permissions sees only Abort on a pending request',
    req: request({ phase: 'Pending' }),
    viewer: alice,
    may: nobody,
    want: { approve: [], deny: false, abort: true, revoke: false },
  },
  {
    name: 'a part approved at creation is not offered again before the controller mirrors it',
    req: request(undefined, ['source']),
    viewer: bob,
    may: approverOfBoth,
    want: { approve: ['target'], deny: true, abort: false, revoke: false },
  },
  {
    name: 'an active request offers Revoke to the requester and nothing else',
    req: request({ phase: 'Active' }),
    viewer: alice,
    may: nobody,
    want: { approve: [], deny: false, abort: false, revoke: true },
  },
  {
    name: 'an active request offers Revoke to an approver of any part',
    req: request({ phase: 'Active' }),
    viewer: bob,
    may: approverOfTarget,
    want: { approve: [], deny: false, abort: false, revoke: true },
  },
  {
    name: 'a stranger sees no action on an active request',
    req: request({ phase: 'Active' }),
    viewer: bob,
    may: nobody,
    want: { approve: [], deny: false, abort: false, revoke: false },
  },
  {
    name: 'a terminal request offers nothing to anyone',
    req: request({ phase: 'Denied' }),
    viewer: alice,
    may: approverOfBoth,
    want: { approve: [], deny: false, abort: false, revoke: false },
  },
  {
    name: 'a request with a decision not yet processed offers nothing',
    req: request({ phase: 'Pending', decision: { type: 'Aborted' } }),
    viewer: alice,
    may: approverOfBoth,
    want: { approve: [], deny: false, abort: false, revoke: false },
  },
];

for (const c of cases) {
  test(c.name, () => assert.deepEqual(viewOf(c.req, c.viewer, c.may).actions, c.want));
}

test('checks are deduplicated per namespace and kind, and may-approve follows approve OR all creates', () => {
  const req = request();
  const checks = checksFor([...partsOf(req.spec), ...partsOf(req.spec)]);
  assert.deepEqual(checks.map((c) => c.key), ['monitoring/accesses', 'default/accesses']);
  const may = mayApproveByKey(checks, [
    [false, true, true],
    [false, true, false],
  ]);
  assert.equal(may.get('monitoring/accesses'), true);
  assert.equal(may.get('default/accesses'), false);
});
