import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Reason, closingOf, derivePhase, endingPhaseOf, setCondition, type PhaseInput } from './phase.ts';
import type { Condition } from '../api/accessrequest.ts';

const base: PhaseInput = { approvedParts: 0, totalParts: 2, expired: false, pendingTimedOut: false };

describe('derivePhase', () => {
  const cases: [string, PhaseInput, string, string][] = [
    ['a request nobody approved is Pending', base, 'Pending', 'AwaitingApproval'],
    ['a request with one of two parts approved is PartiallyApproved', { ...base, approvedParts: 1 }, 'PartiallyApproved', 'PartiallyApproved'],
    ['a request with every part approved is Active', { ...base, approvedParts: 2 }, 'Active', 'AllPartsApproved'],
    ['an active request past expiresAt is Expired', { ...base, approvedParts: 2, expired: true }, 'Expired', 'Expired'],
    ['a pending request past the pending TTL is Expired by PendingTimeout', { ...base, pendingTimedOut: true }, 'Expired', 'PendingTimeout'],
    ['a fully approved request ignores the pending TTL', { ...base, approvedParts: 2, pendingTimedOut: true }, 'Active', 'AllPartsApproved'],
    ['a revoke beats expiry', { ...base, approvedParts: 2, expired: true, decision: 'Revoked' }, 'Revoked', 'Revoked'],
    ['a denial of a pending request is Denied', { ...base, decision: 'Denied' }, 'Denied', 'Denied'],
    ['an abort is Aborted', { ...base, approvedParts: 1, decision: 'Aborted' }, 'Aborted', 'Aborted'],
    ['a failure beats being active', { ...base, approvedParts: 2, failure: { reason: 'ServiceNotFound', message: 'x' } }, 'Failed', 'ServiceNotFound'],
    ['a terminal phase never changes, even with a later decision', { ...base, current: 'Expired', decision: 'Revoked' }, 'Expired', 'Expired'],
    ['a request without parts is never Active', { ...base, totalParts: 0 }, 'Pending', 'AwaitingApproval'],
    [
      'a closing request keeps heading where it was heading, whatever the checks now say',
      { ...base, approvedParts: 2, closing: { phase: 'Failed', reason: 'ServiceNotFound', message: 'gone' }, failure: { reason: 'PortNotFound', message: 'x' } },
      'Failed',
      'ServiceNotFound',
    ],
    ['a terminal phase beats a closing record', { ...base, current: 'Expired', closing: { phase: 'Revoked', reason: 'Revoked', message: '' } }, 'Expired', 'Expired'],
  ];
  for (const [name, input, phase, reason] of cases) {
    it(name, () => {
      const got = derivePhase(input);
      assert.equal(got.phase, phase);
      assert.equal(got.reason, reason);
    });
  }
});

describe('closing', () => {
  const at = '2026-01-01T00:00:00Z';
  const condition = (type: string, status: Condition['status'], reason: string, message = ''): Condition => ({ type, status, reason, message, lastTransitionTime: at });

  it('every reason either ends a request in one terminal phase or ends none', () => {
    const ends = Object.values(Reason).map((r) => `${r}:${endingPhaseOf(r) ?? '-'}`);
    assert.deepEqual(ends, [
      'AwaitingApproval:-', 'PartiallyApproved:-', 'AllPartsApproved:-', 'Materializing:-', 'InForce:-', 'AlreadyAllowed:-', 'NotApproved:-',
      'Expired:Expired', 'PendingTimeout:Expired', 'Denied:Denied', 'Aborted:Aborted', 'Revoked:Revoked',
      'ServiceNotFound:Failed', 'ServiceWithoutSelector:Failed', 'PortNotFound:Failed', 'NameConflict:Failed', 'WouldIsolate:Failed', 'ObjectDeleted:Failed', 'InvalidSpec:Failed',
      'PoliciesRemain:-', 'PoliciesLinger:-', 'NoNewIsolation:-', 'IsolatesPods:-', 'IsolationDrift:-', 'DirectionWithdrawn:-', 'ExtensionPending:-', 'Extended:-',
    ]);
    assert.equal(endingPhaseOf('toString'), undefined);
  });

  it('a closing request heads where Ready says, since Ended turned False', () => {
    const closing = closingOf({ phase: 'Active', conditions: [condition('Ready', 'False', 'ObjectDeleted', 'Access x was deleted'), condition('Ended', 'False', 'PoliciesLinger')] });
    assert.deepEqual(closing, { phase: 'Failed', reason: 'ObjectDeleted', message: 'Access x was deleted', since: at, warned: true });
  });

  it('a terminal request, an Ended of another reason, or a Ready that ends nothing is not closing', () => {
    const ready = condition('Ready', 'False', 'Expired');
    assert.equal(closingOf({ phase: 'Expired', conditions: [ready, condition('Ended', 'False', 'PoliciesRemain')] }), undefined);
    assert.equal(closingOf({ phase: 'Active', conditions: [ready, condition('Ended', 'True', 'Expired')] }), undefined);
    assert.equal(closingOf({ phase: 'Active', conditions: [condition('Ready', 'True', 'InForce'), condition('Ended', 'False', 'PoliciesRemain')] }), undefined);
    assert.equal(closingOf({ phase: 'Active', conditions: [condition('Ended', 'False', 'PoliciesRemain')] }), undefined);
  });
});

describe('setCondition', () => {
  const t0 = new Date('2026-01-01T00:00:00Z');
  const t1 = new Date('2026-01-01T01:00:00Z');

  it('a new condition gets now as lastTransitionTime and the generation', () => {
    const [c] = setCondition([], { type: 'Ready', status: 'False', reason: 'A', message: 'a' }, t0, 3);
    assert.deepEqual(c, { type: 'Ready', status: 'False', reason: 'A', message: 'a', lastTransitionTime: t0.toISOString(), observedGeneration: 3 });
  });

  it('an unchanged status keeps lastTransitionTime but refreshes reason and message', () => {
    const first = setCondition([], { type: 'Ready', status: 'False', reason: 'A', message: 'a' }, t0, 1);
    const [c] = setCondition(first, { type: 'Ready', status: 'False', reason: 'B', message: 'b' }, t1, 2);
    assert.equal(c?.lastTransitionTime, t0.toISOString());
    assert.equal(c?.reason, 'B');
    assert.equal(c?.observedGeneration, 2);
  });

  it('a changed status moves lastTransitionTime', () => {
    const first = setCondition([], { type: 'Ready', status: 'False', reason: 'A', message: 'a' }, t0, 1);
    const [c] = setCondition(first, { type: 'Ready', status: 'True', reason: 'A', message: 'a' }, t1, 1);
    assert.equal(c?.lastTransitionTime, t1.toISOString());
  });

  it('other conditions are kept in place', () => {
    const two = setCondition(setCondition([], { type: 'A', status: 'True', reason: 'R', message: '' }, t0, 1), { type: 'B', status: 'True', reason: 'R', message: '' }, t0, 1);
    const out = setCondition(two, { type: 'A', status: 'False', reason: 'R', message: '' }, t1, 1);
    assert.deepEqual(out.map((c) => c.type), ['A', 'B']);
  });
});
