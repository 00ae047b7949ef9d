import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_NOTICE_TIMINGS, noticesOf, type NoticeTimings } from './notices.ts';
import { T0, extendedFixture, requestFixture, type RequestFixture } from '../test/support/builders.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const timings: NoticeTimings = { pendingReminderMs: 4 * HOUR, expiryWarningMs: 10 * MIN, activeGraceMs: MIN };

function ids(f: RequestFixture, nowMs: number, t: NoticeTimings = timings): { due: string[]; next?: number } {
  const s = noticesOf(requestFixture(f), t, T0 + nowMs);
  const out: { due: string[]; next?: number } = { due: s.due.map((n) => `${n.id}→${n.audience.kind === 'approvers' ? n.audience.namespace : 'requester'}`).sort() };
  if (s.nextAtMs !== undefined) out.next = s.nextAtMs - T0;
  return out;
}

const extended = extendedFixture;
const bothApproved = [
  { extension: 0, part: 'source' as const, by: 'carol', atMs: 40 * MIN },
  { extension: 0, part: 'target' as const, by: 'bob', atMs: 45 * MIN },
];

describe('noticesOf: extensions of an Active grant', () => {
  const table: { name: string; f: RequestFixture; now: number; want: { due: string[]; next?: number } }[] = [
    {
      name: 'a pending extension without policies: each part\'s approvers are asked, reminders and the old warning scheduled',
      f: extended(),
      now: 31 * MIN,
      want: { due: ['active→requester', 'extension-needed/0/source→monitoring', 'extension-needed/0/target→default'], next: 2 * HOUR - 10 * MIN },
    },
    {
      name: 'a part within its maxTotalDuration approves by itself: its approvers hear nothing',
      f: extended({ policyStamps: { target: { maxTotalDuration: '4h' } } }),
      now: 31 * MIN,
      want: { due: ['active→requester', 'extension-needed/0/source→monitoring'], next: 2 * HOUR - 10 * MIN },
    },
    {
      name: 'one part approved the extension: the other part\'s approvers hear of it',
      f: extended({ extensionApprovals: [{ extension: 0, part: 'target', by: 'bob', atMs: 40 * MIN }] }),
      now: 41 * MIN,
      want: { due: ['active→requester', 'extension-needed/0/source→monitoring', 'extension-part-approved/0/target→monitoring'], next: 2 * HOUR - 10 * MIN },
    },
    {
      name: 'a part that needs two approvers and has one: still asked, not announced as approved',
      f: extended({
        policyStamps: { target: { approval: 'Approvers', approvalRule: 'default/dba/db', approvals: 2 } },
        extensionApprovals: [{ extension: 0, part: 'target', by: 'dba1', atMs: 40 * MIN }],
      }),
      now: 41 * MIN,
      want: { due: ['active→requester', 'extension-needed/0/source→monitoring', 'extension-needed/0/target→default'], next: 2 * HOUR - 10 * MIN },
    },
    {
      name: 'the extension reminder falls due --pending-reminder after the asking, per waiting part',
      f: extended({ expiresAtMs: 6 * HOUR }),
      now: 30 * MIN + 4 * HOUR,
      want: {
        due: ['active→requester', 'extension-needed/0/source→monitoring', 'extension-needed/0/target→default', 'extension-reminder/0/source→monitoring', 'extension-reminder/0/target→default'],
        next: 6 * HOUR - 10 * MIN,
      },
    },
    {
      name: 'granted and expiresAt moved: the requester hears, the warning moves to the new expiry under a new id',
      f: extended({ extensionApprovals: bothApproved, expiresAtMs: 3 * HOUR }),
      now: 46 * MIN,
      want: { due: ['active→requester', 'extended/0→requester'], next: 3 * HOUR - 10 * MIN },
    },
    {
      name: 'granted but expiresAt not moved yet: no warning at the old time, no `extended` naming the old expiry',
      f: extended({ extensionApprovals: bothApproved }),
      now: 115 * MIN,
      want: { due: ['active→requester'] },
    },
    {
      name: 'extended after the old warning: warned again before the new expiry',
      f: extended({ extensionApprovals: bothApproved, expiresAtMs: 3 * HOUR }),
      now: 3 * HOUR - 10 * MIN,
      want: { due: ['active→requester', 'expiring/1→requester', 'extended/0→requester'] },
    },
    {
      name: 'the requester extended within every maxTotalDuration: nobody is asked, nobody told, the warning moves',
      f: extended({ policyStamps: { source: { maxTotalDuration: '8h' }, target: { maxTotalDuration: '8h' } }, expiresAtMs: 3 * HOUR }),
      now: 31 * MIN,
      want: { due: ['active→requester'], next: 3 * HOUR - 10 * MIN },
    },
    {
      name: 'an approver extended it within every maxTotalDuration: the requester hears',
      f: extended({
        policyStamps: { source: { maxTotalDuration: '8h' }, target: { maxTotalDuration: '8h' } },
        extensions: [{ duration: '1h', by: 'bob', atMs: 30 * MIN }],
        expiresAtMs: 3 * HOUR,
      }),
      now: 31 * MIN,
      want: { due: ['active→requester', 'extended/0→requester'], next: 3 * HOUR - 10 * MIN },
    },
    {
      name: 'extended within the warning: the `extended` message says when it ends, no second warning',
      f: extended({
        policyStamps: { source: { maxTotalDuration: '8h' }, target: { maxTotalDuration: '8h' } },
        extensions: [{ duration: '5m', by: 'bob', atMs: 115 * MIN }],
        expiresAtMs: 125 * MIN,
      }),
      now: 116 * MIN,
      want: { due: ['active→requester', 'extended/0→requester'] },
    },
  ];
  for (const c of table) it(c.name, () => assert.deepEqual(ids(c.f, c.now), c.want));
});

describe('noticesOf: what the state of a request says somebody should hear', () => {
  const table: { name: string; f: RequestFixture; now: number; want: { due: string[]; next?: number } }[] = [
    { name: 'nothing before the controller has written a phase', f: {}, now: 0, want: { due: [] } },
    {
      name: 'a new request nobody could approve: both parts\' approvers, reminders scheduled',
      f: { phase: 'Pending' },
      now: 1000,
      want: { due: ['approval-needed/source→monitoring', 'approval-needed/target→default'], next: 4 * HOUR },
    },
    {
      name: 'a part the requester approved at creation is not announced, the other one is',
      f: { phase: 'PartiallyApproved', approvedAtCreation: ['source'] },
      now: 1000,
      want: { due: ['approval-needed/target→default'], next: 4 * HOUR },
    },
    {
      name: 'an approval given later: the remaining part\'s approvers hear of it',
      f: { phase: 'PartiallyApproved', approvals: [{ part: 'source', by: 'carol', atMs: 5 * MIN }] },
      now: 6 * MIN,
      want: { due: ['approval-needed/target→default', 'part-approved/source→default'], next: 4 * HOUR },
    },
    {
      name: 'the pending reminder falls due at the configured time after creation, per pending part',
      f: { phase: 'PartiallyApproved', approvedAtCreation: ['source'] },
      now: 4 * HOUR,
      want: { due: ['approval-needed/target→default', 'pending-reminder/target→default'] },
    },
    {
      name: 'no reminder when reminders are off',
      f: { phase: 'Pending' },
      now: 5 * HOUR,
      want: { due: ['approval-needed/source→monitoring', 'approval-needed/target→default'] },
    },
    {
      name: 'Active and in force: the requester hears at once, the expiry warning is scheduled',
      f: { phase: 'Active', approvedAtCreation: ['source', 'target'], approvedAtMs: 1000, expiresAtMs: 2 * HOUR, ready: true },
      now: 2000,
      want: { due: ['active→requester'], next: 2 * HOUR - 10 * MIN },
    },
    {
      name: 'Active but not in force yet: the requester hears after the grace period',
      f: { phase: 'Active', approvedAtCreation: ['source', 'target'], approvedAtMs: 1000, expiresAtMs: 2 * HOUR, ready: false },
      now: 2000,
      want: { due: [], next: 1000 + MIN },
    },
    {
      name: 'the expiry warning falls due ten minutes before expiry',
      f: { phase: 'Active', approvedAtCreation: ['source', 'target'], approvedAtMs: 1000, expiresAtMs: 2 * HOUR, ready: true },
      now: 2 * HOUR - 10 * MIN,
      want: { due: ['active→requester', 'expiring→requester'] },
    },
    {
      name: 'a grant shorter than the warning gets no warning (its Active message says when it ends)',
      f: { phase: 'Active', approvedAtCreation: ['source', 'target'], approvedAtMs: 0, expiresAtMs: 5 * MIN, ready: true },
      now: 1000,
      want: { due: ['active→requester'] },
    },
    {
      name: 'Denied: the requester',
      f: { phase: 'Denied', decision: { type: 'Denied', by: 'bob', at: new Date(T0 + MIN).toISOString(), reason: 'no' }, endedAtMs: MIN },
      now: 2 * MIN,
      want: { due: ['denied→requester'] },
    },
    {
      name: 'Revoked by someone else: the requester',
      f: { phase: 'Revoked', decision: { type: 'Revoked', by: 'bob' }, endedAtMs: MIN },
      now: 2 * MIN,
      want: { due: ['revoked→requester'] },
    },
    {
      name: 'Revoked by the requester: nobody',
      f: { phase: 'Revoked', decision: { type: 'Revoked', by: 'alice@example.com' }, endedAtMs: MIN },
      now: 2 * MIN,
      want: { due: [] },
    },
    { name: 'Failed: the requester', f: { phase: 'Failed', endedAtMs: MIN, endedReason: 'ServiceNotFound' }, now: 2 * MIN, want: { due: ['failed→requester'] } },
    { name: 'Aborted: nobody (the requester did it)', f: { phase: 'Aborted', decision: { type: 'Aborted', by: 'alice@example.com' }, endedAtMs: MIN }, now: 2 * MIN, want: { due: [] } },
    { name: 'Expired: nobody (they were warned)', f: { phase: 'Expired', endedAtMs: MIN }, now: 2 * MIN, want: { due: [] } },
    {
      name: 'a decision the controller has not turned into a phase yet: no approver is asked any more',
      f: { phase: 'Pending', decision: { type: 'Denied', by: 'bob' } },
      now: 1000,
      want: { due: [] },
    },
  ];
  for (const c of table) {
    it(c.name, () => {
      const t = c.name.startsWith('no reminder') ? { ...timings, pendingReminderMs: null } : timings;
      assert.deepEqual(ids(c.f, c.now, t), c.want);
    });
  }

  it('a request being deleted is announced to nobody', () => {
    const r = requestFixture({ phase: 'Pending' });
    r.metadata.deletionTimestamp = new Date(T0).toISOString();
    assert.deepEqual(noticesOf(r, DEFAULT_NOTICE_TIMINGS, T0 + 1000).due, []);
  });

  it('due times are the transition times, not the time the notifier looked', () => {
    const s = noticesOf(requestFixture({ phase: 'Denied', decision: { type: 'Denied', by: 'bob' }, endedAtMs: 7 * MIN }), timings, T0 + HOUR);
    assert.equal(s.due[0]?.dueAtMs, T0 + 7 * MIN);
  });
});
