import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AccessRequest, AccessRequestStatus } from '../lib/api/accessrequest.ts';
import { accessRequest } from '../test/support/builders.ts';
import { viewOf, type Actions } from './model.ts';

function request(status?: AccessRequestStatus, approvedParts: ('source' | 'target')[] = []): AccessRequest {
  return accessRequest({ requester: { username: 'alice', approvedParts }, ...(status ? { status } : {}) });
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
    want: { approve: ['target'], approveExtension: [], extend: false, deny: true, abort: false, revoke: false },
  },
  {
    name: 'the requester without permissions sees only Abort on a pending request',
    req: request({ phase: 'Pending' }),
    viewer: alice,
    may: nobody,
    want: { approve: [], approveExtension: [], extend: false, deny: false, abort: true, revoke: false },
  },
  {
    name: 'a part approved at creation is not offered again before the controller mirrors it',
    req: request(undefined, ['source']),
    viewer: bob,
    may: approverOfBoth,
    want: { approve: ['target'], approveExtension: [], extend: false, deny: true, abort: false, revoke: false },
  },
  {
    name: 'an active request offers Revoke to the requester and nothing else',
    req: request({ phase: 'Active', approvals: [{ part: 'source', namespace: 'monitoring' }, { part: 'target', namespace: 'default' }] }),
    viewer: alice,
    may: nobody,
    want: { approve: [], approveExtension: [], extend: true, deny: false, abort: false, revoke: true },
  },
  {
    name: 'an active request offers Revoke to an approver of any part',
    req: request({ phase: 'Active', approvals: [{ part: 'source', namespace: 'monitoring' }, { part: 'target', namespace: 'default' }] }),
    viewer: bob,
    may: approverOfTarget,
    want: { approve: [], approveExtension: [], extend: true, deny: false, abort: false, revoke: true },
  },
  {
    name: 'a stranger sees no action on an active request',
    req: request({ phase: 'Active', approvals: [{ part: 'source', namespace: 'monitoring' }, { part: 'target', namespace: 'default' }] }),
    viewer: bob,
    may: nobody,
    want: { approve: [], approveExtension: [], extend: false, deny: false, abort: false, revoke: false },
  },
  {
    name: 'a terminal request offers nothing to anyone',
    req: request({ phase: 'Denied' }),
    viewer: alice,
    may: approverOfBoth,
    want: { approve: [], approveExtension: [], extend: false, deny: false, abort: false, revoke: false },
  },
  {
    name: 'a request with a decision not yet processed offers nothing',
    req: request({ phase: 'Pending', decision: { type: 'Aborted' } }),
    viewer: alice,
    may: approverOfBoth,
    want: { approve: [], approveExtension: [], extend: false, deny: false, abort: false, revoke: false },
  },
  {
    name: 'an extension waiting on an active request: its approver of the target may approve it there, and nobody extends again until it is decided',
    req: request({
      phase: 'Active',
      approvals: [{ part: 'source', namespace: 'monitoring' }, { part: 'target', namespace: 'default' }],
      extensions: [{ duration: '1h', requestedBy: 'alice' }],
    }),
    viewer: bob,
    may: approverOfTarget,
    want: { approve: [], approveExtension: ['target'], extend: false, deny: false, abort: false, revoke: true },
  },
];

for (const c of cases) {
  test(c.name, () => assert.deepEqual(viewOf(c.req, c.viewer, c.may).actions, c.want));
}

test('a request being deleted offers nothing (the controller is tearing it down)', () => {
  const req = request({ phase: 'Pending' });
  req.metadata.deletionTimestamp = '2026-01-01T01:00:00Z';
  assert.deepEqual(viewOf(req, bob, approverOfBoth).actions, { approve: [], approveExtension: [], extend: false, deny: false, abort: false, revoke: false });
});

test('each part shows the permission it needs and whether the viewer has it, from the answers by namespace and kind', () => {
  const view = viewOf(request({ phase: 'Pending' }, ['source']), bob, approverOfTarget);
  assert.deepEqual(
    view.parts.map((p) => [p.part, p.viewerMayApprove, p.approval?.by]),
    [['source', false, 'alice'], ['target', true, undefined]],
  );
  assert.match(view.parts[1]?.permission ?? '', /^approve accessrequests\.netwatch\.vtk\.io in default, or create services and accesses\.maxtac\.vtk\.io in default$/);
});

test('a part under an AccessPolicy shows its rule, approvals so far and how many are missing; only eligible approvers are offered Approve', () => {
  const req = request({
    phase: 'Pending',
    reviews: [{ part: 'target', namespace: 'default', by: 'carol', at: '2026-01-01T00:10:00Z', rule: 'default/db/two', required: 2 }],
  });
  req.spec.policy = [{ part: 'target', namespace: 'default', rules: ['default/db/two'], approval: 'Approvers', approvals: 2, approverGroups: ['dbas'], approvalRule: 'default/db/two', maxDuration: '4h' }];
  const view = viewOf(req, { username: 'dave', groups: ['dbas'] }, approverOfTarget);
  assert.equal(view.parts.find((p) => p.part === 'target')?.policy, '2 distinct approvers from dbas, the requester not counted (default/db/two); 1 of 2 so far, 1 missing; max duration 4h');
  assert.equal(view.parts.find((p) => p.part === 'source')?.policy, undefined);
  assert.deepEqual(view.actions.approve, ['target']);
  assert.deepEqual(viewOf(req, { username: 'carol', groups: ['dbas'] }, approverOfTarget).actions.approve, [], 'carol already approved');
  assert.deepEqual(viewOf(req, bob, approverOfTarget).actions.approve, [], 'bob is not a DBA');
  assert.deepEqual(viewOf(req, { username: 'alice', groups: ['dbas'] }, approverOfTarget).actions.approve, [], 'the requester never counts');
});
