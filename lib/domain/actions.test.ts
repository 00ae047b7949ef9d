import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AccessRequest, AccessRequestStatus, PartName } from '../api/accessrequest.ts';
import { accessRequest } from '../../test/support/builders.ts';
import { partsOf } from './parts.ts';
import {
  allowedActions,
  askPermissions,
  effectiveApprovals,
  extendedMs,
  extensionRequirement,
  grantedExtensions,
  mayApproveExtension,
  mayApproveParts,
  mayExtend,
  pendingExtension,
  mayDecide,
  mayDelete,
  permissionQuestions,
  stageOf,
  type Actor,
  type AllowedActions,
} from './actions.ts';
import type { ResourceCheck } from './parts.ts';

/** alice's request monitoring/prometheus → default/database; `approvedParts` she could approve at creation. */
function request(status?: AccessRequestStatus, opts: { approvedParts?: PartName[]; deleting?: boolean } = {}): AccessRequest {
  return accessRequest({
    metadata: opts.deleting ? { deletionTimestamp: '2026-01-01T01:00:00Z' } : {},
    requester: { username: 'alice', approvedParts: opts.approvedParts ?? [] },
    ...(status ? { status } : {}),
  });
}

const actor = (username: string, parts: PartName[] = []): Actor => ({ username, mayApprove: new Map(parts.map((p) => [p, true])) });
const alice = actor('alice');
const bob = actor('bob', ['target']);
const carol = actor('carol', ['source', 'target']);
const mallory = actor('mallory');
/** Active: every part approved. */
const bothApproved = { approvals: [{ part: 'source' as const, namespace: 'monitoring' }, { part: 'target' as const, namespace: 'default' }] };
const none: AllowedActions = { approve: [], approveExtension: [], extend: false, deny: false, abort: false, revoke: false, delete: false };

describe('the rule book: what each person may do', () => {
  const cases: { name: string; req: AccessRequest; who: Actor; want: AllowedActions }[] = [
    { name: 'an approver of the target may approve it, deny and delete a pending request', req: request({ phase: 'Pending' }), who: bob, want: { ...none, approve: ['target'], deny: true, delete: true } },
    { name: 'the requester without rights may abort and delete her pending request', req: request({ phase: 'Pending' }), who: alice, want: { ...none, abort: true, delete: true } },
    { name: 'a stranger may do nothing to a pending request', req: request({ phase: 'Pending' }), who: mallory, want: none },
    { name: 'a request with no phase yet is pending', req: request(), who: bob, want: { ...none, approve: ['target'], deny: true, delete: true } },
    { name: 'a part approved at creation is not approvable again before the controller mirrors it', req: request(undefined, { approvedParts: ['target'] }), who: carol, want: { ...none, approve: ['source'], deny: true, delete: true } },
    { name: 'once every pending part is approved nobody may deny', req: request({ phase: 'PartiallyApproved', approvals: [{ part: 'source', namespace: 'monitoring' }] }, { approvedParts: ['target'] }), who: carol, want: { ...none, delete: true } },
    { name: 'the requester may revoke but not abort an active access', req: request({ phase: 'Active', ...bothApproved }), who: alice, want: { ...none, revoke: true, extend: true, delete: true } },
    { name: 'an approver of any part may revoke an active access', req: request({ phase: 'Active', ...bothApproved }), who: bob, want: { ...none, revoke: true, extend: true, delete: true } },
    { name: 'a stranger may not revoke an active access', req: request({ phase: 'Active', ...bothApproved }), who: mallory, want: none },
    { name: 'a denied request accepts nothing more but may still be deleted by its people', req: request({ phase: 'Denied', decision: { type: 'Denied', by: 'bob' } }), who: carol, want: { ...none, delete: true } },
    { name: 'a decision the controller has not processed yet closes the request', req: request({ phase: 'Pending', decision: { type: 'Aborted', by: 'alice' } }), who: carol, want: { ...none, delete: true } },
    { name: 'a request being deleted is closed to approvals and decisions', req: request({ phase: 'Pending' }, { deleting: true }), who: carol, want: { ...none, delete: true } },
    { name: 'an expired request offers only deletion to its requester', req: request({ phase: 'Expired' }), who: alice, want: { ...none, delete: true } },
  ];
  for (const c of cases) test(c.name, () => assert.deepEqual(allowedActions(c.req, c.who), c.want));

  test('refusals name the field and say what is allowed', () => {
    const pending = request({ phase: 'Pending' });
    assert.deepEqual(mayDecide(pending, mallory, 'Revoked'), { allowed: false, field: 'status.decision.type', message: 'only an Active access can be revoked and this request is Pending; use Denied' });
    assert.deepEqual(mayDecide(request({ phase: 'Active' }), alice, 'Aborted'), { allowed: false, field: 'status.decision.type', message: 'an Active access cannot be aborted; use Revoked to end it' });
    const revoke = mayDecide(request({ phase: 'Active' }), mallory, 'Revoked');
    assert.equal(revoke.allowed, false);
    assert.match(revoke.allowed ? '' : revoke.message, /^user "mallory" may not revoke this access: only its requester or a user allowed to approve one of its parts \(approve accessrequests\.netwatch\.vtk\.io in monitoring, or create services and accesses\.maxtac\.vtk\.io in monitoring; or approve/);
    const closed = mayDecide(request({ phase: 'Pending' }, { deleting: true }), carol, 'Denied');
    assert.deepEqual(closed, { allowed: false, field: 'status.decision', message: 'the request is already being deleted; it accepts no further approvals or decisions' });
    assert.match((mayDelete(pending, mallory) as { message: string }).message, /^user "mallory" may not delete AccessRequest ar-1: only its requester \(alice\), a user allowed to approve/);
  });

  test('stages', () => {
    assert.equal(stageOf(request()), 'waiting');
    assert.equal(stageOf(request({ phase: 'PartiallyApproved' })), 'waiting');
    assert.equal(stageOf(request({ phase: 'Active' })), 'active');
    assert.equal(stageOf(request({ phase: 'Active', decision: { type: 'Revoked' } })), 'closed');
    assert.equal(stageOf(request({ phase: 'Failed' })), 'closed');
  });

  test('an expired access still closing (a NetworkPolicy of it remains) is closed to decisions, and the refusal says so', () => {
    const at = '2026-01-01T02:00:00Z';
    const closing = request({
      ...bothApproved,
      phase: 'Active',
      conditions: [
        { type: 'Ready', status: 'False', reason: 'Expired', message: 'The access expired.', lastTransitionTime: at },
        { type: 'Ended', status: 'False', reason: 'PoliciesRemain', message: 'waiting', lastTransitionTime: at },
      ],
    });
    assert.equal(stageOf(closing), 'closed');
    assert.deepEqual(mayDecide(closing, alice, 'Revoked'), {
      allowed: false,
      field: 'status.decision',
      message: 'the request is already Expired (closing: a NetworkPolicy of its grant remains); it accepts no further approvals or decisions',
    });
    // Ended False for another reason (or a Ready reason that ends nothing) is no closing.
    const other = request({ ...bothApproved, phase: 'Active', conditions: [{ type: 'Ready', status: 'True', reason: 'InForce', message: '', lastTransitionTime: at }, { type: 'Ended', status: 'False', reason: 'PoliciesRemain', message: '', lastTransitionTime: at }] });
    assert.equal(stageOf(other), 'active');
  });

  test('approvals: recorded ones first, then the ones made at creation; approvals of parts the request lacks do not count', () => {
    const r = request({ approvals: [{ part: 'target', namespace: 'default', by: 'bob', at: '2026-01-01T00:10:00Z' }, { part: 'target', namespace: 'elsewhere', by: 'x' }] }, { approvedParts: ['source'] });
    assert.deepEqual(effectiveApprovals(r), [
      { part: 'target', namespace: 'default', by: 'bob', at: '2026-01-01T00:10:00Z' },
      { part: 'source', namespace: 'monitoring', by: 'alice', at: '2026-01-01T00:00:00Z' },
    ]);
    const wrongNamespace = request({ approvals: [{ part: 'target', namespace: 'monitoring', by: 'bob' }] });
    assert.deepEqual(effectiveApprovals(wrongNamespace), []);
  });
});

describe('the permission questions', () => {
  const parts = [...partsOf(request().spec), ...partsOf(request().spec)];

  test('one question per namespace and maxtac kind, however many requests share it', () => {
    assert.deepEqual(permissionQuestions(parts).map((q) => q.key), ['monitoring/accesses', 'default/accesses']);
  });

  test('approve OR every create check; answers fold per part of a request', async () => {
    const granted = new Set(['approve default', 'create monitoring services', 'create monitoring accesses']);
    const asked: ResourceCheck[][] = [];
    const ask = async (checks: readonly ResourceCheck[]) => {
      asked.push([...checks]);
      return checks.map((c) => granted.has(`${c.verb} ${c.namespace}${c.verb === 'create' ? ` ${c.resource}` : ''}`));
    };
    const all = await askPermissions(parts, ask);
    assert.equal(asked.length, 1, 'everything in one round');
    assert.deepEqual([...mayApproveParts(request(), all)], [['source', true], ['target', true]]);

    granted.delete('create monitoring accesses');
    assert.deepEqual([...mayApproveParts(request(), await askPermissions(parts, ask))], [['source', false], ['target', true]], 'half of "could have created it" is not enough');
  });
});

describe('extensions: who may extend, and how each part approves an extension', () => {
  const active = { phase: 'Active' as const, ...bothApproved };
  type Stamp = NonNullable<AccessRequest['spec']['policy']>[number];
  const stamped = (status: AccessRequestStatus, stamps: Stamp[]): AccessRequest => {
    const r = request(status);
    return { ...r, spec: { ...r.spec, policy: stamps } };
  };
  const target = (over: Partial<Stamp>): Stamp => ({ part: 'target', namespace: 'default', rules: ['default/p/r'], approval: 'Default', ...over });
  const ext = (duration: string, by = 'alice') => ({ duration, requestedBy: by, at: '2026-01-01T01:00:00Z' });

  const requirements: { name: string; stamps: Stamp[]; extensions: string[]; want: string }[] = [
    { name: 'no policy: one approver again', stamps: [], extensions: ['1h'], want: 'default' },
    { name: 'within maxTotalDuration (2h + 1h ≤ 4h): automatic', stamps: [target({ maxTotalDuration: '4h' })], extensions: ['1h'], want: 'auto' },
    { name: 'exactly at maxTotalDuration: automatic', stamps: [target({ maxTotalDuration: '3h' })], extensions: ['1h'], want: 'auto' },
    { name: 'beyond maxTotalDuration counting earlier extensions (2h + 1h + 1h30m > 4h): approval again', stamps: [target({ maxTotalDuration: '4h' })], extensions: ['1h', '1h30m'], want: 'default' },
    { name: 'an Approvers rule beyond the limit: the same count again', stamps: [target({ approval: 'Approvers', approvals: 2, approvalRule: 'default/p/r', maxTotalDuration: '2h' })], extensions: ['1h'], want: 'count:2' },
    { name: 'an Auto rule without maxTotalDuration: one approver (nothing else bounds it)', stamps: [target({ approval: 'Auto', approvalRule: 'default/p/r' })], extensions: ['1h'], want: 'default' },
    { name: 'an Auto rule within maxTotalDuration: automatic', stamps: [target({ approval: 'Auto', approvalRule: 'default/p/r', maxTotalDuration: '8h' })], extensions: ['1h'], want: 'auto' },
  ];
  for (const c of requirements) {
    test(`the target part: ${c.name}`, () => {
      const r = stamped({ ...active, extensions: c.extensions.map((d) => ext(d)) }, c.stamps);
      const got = extensionRequirement(r, 'target', c.extensions.length - 1);
      assert.equal(got.kind === 'count' ? `count:${got.count}` : got.kind, c.want);
    });
  }

  const verdicts: { name: string; status: AccessRequestStatus; stamps?: Stamp[]; check: (r: AccessRequest) => ReturnType<typeof mayExtend>; want: RegExp | 'yes' }[] = [
    { name: 'the requester may extend an Active access', status: active, check: (r) => mayExtend(r, alice, '1h'), want: 'yes' },
    { name: 'an approver of one part may extend', status: active, check: (r) => mayExtend(r, bob, '1h'), want: 'yes' },
    { name: 'a stranger may not', status: active, check: (r) => mayExtend(r, mallory, '1h'), want: /^status\.extensions: user "mallory" may not extend/ },
    { name: 'a Pending request cannot be extended', status: { phase: 'Pending' }, check: (r) => mayExtend(r, alice, '1h'), want: /only an Active access can be extended and this request is Pending/ },
    { name: 'one extension at a time', status: { ...active, extensions: [ext('1h')] }, check: (r) => mayExtend(r, alice, '1h'), want: /extension 1 \(\+1h\) still waits for the source and target parts; one extension at a time/ },
    { name: 'a negative or empty duration is refused', status: active, check: (r) => mayExtend(r, alice, '0s'), want: /^status\.extensions\[0\]\.duration: must be a positive duration/ },
    { name: 'over the webhook --max-duration', status: active, check: (r) => mayExtend(r, alice, '3h', { maxDuration: '2h' }), want: /must be at most 2h, the longest duration this cluster allows/ },
    { name: "over a part's maxDuration", status: active, stamps: [target({ maxDuration: '30m' })], check: (r) => mayExtend(r, alice, '1h'), want: /must be at most 30m for the target part/ },
    { name: 'an approver approves the waiting extension', status: { ...active, extensions: [ext('1h')] }, check: (r) => mayApproveExtension(r, bob, 'target'), want: 'yes' },
    { name: 'the requester counts under Default when she may approve the part', status: { ...active, extensions: [ext('1h')] }, check: (r) => mayApproveExtension(r, actor('alice', ['target']), 'target'), want: 'yes' },
    {
      name: 'under Approvers the requester never counts',
      status: { ...active, extensions: [ext('1h')] },
      stamps: [target({ approval: 'Approvers', approvals: 2, approvalRule: 'default/p/r' })],
      check: (r) => mayApproveExtension(r, actor('alice', ['target']), 'target'),
      want: /the requester never counts as an approver/,
    },
    {
      name: 'a part within maxTotalDuration needs no approval',
      status: { ...active, extensions: [ext('1h')] },
      stamps: [target({ maxTotalDuration: '4h' })],
      check: (r) => mayApproveExtension(r, bob, 'target'),
      want: /the target part needs no more approval of extension 1 \(within its maxTotalDuration 4h\)/,
    },
    { name: 'nothing to approve without a waiting extension', status: active, check: (r) => mayApproveExtension(r, bob, 'target'), want: /no extension of this request waits for approval/ },
  ];
  for (const c of verdicts) {
    test(c.name, () => {
      const v = c.check(stamped(c.status, c.stamps ?? []));
      if (c.want === 'yes') assert.deepEqual(v, { allowed: true });
      else assert.match(v.allowed ? 'allowed' : `${v.field}: ${v.message}`, c.want);
    });
  }

  test('an extension is granted once every part approved it; the grant grows by the granted ones only', () => {
    const waiting = stamped({ ...active, extensions: [ext('1h')], extensionApprovals: [{ extension: 0, part: 'target', namespace: 'default', by: 'bob' }] }, [
      { part: 'source', namespace: 'monitoring', rules: ['monitoring/p/r'], approval: 'Default', maxTotalDuration: '3h' },
    ]);
    assert.deepEqual(pendingExtension(waiting), undefined, 'source within its limit, target approved by bob');
    assert.equal(grantedExtensions(waiting).length, 1);
    assert.equal(extendedMs(waiting), 3_600_000);
    const second = { ...waiting, status: { ...waiting.status, extensions: [...(waiting.status?.extensions ?? []), ext('2h')] } };
    assert.deepEqual(pendingExtension(second)?.waitingFor, ['source', 'target']);
    assert.equal(extendedMs(second), 3_600_000);
  });
});
