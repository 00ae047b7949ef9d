import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backoffMs, decide, parseLedger, serializeLedger, withClaims, withResults, type Ledger, type RetryPolicy } from './ledger.ts';

const policy: RetryPolicy = { initialMs: 1000, maxMs: 8000, maxAttempts: 3 };
const t = (ms: number) => new Date(ms).toISOString();

describe('the delivery ledger', () => {
  it('decides: nothing yet → send; sent or dead → done; a live claim or a pending retry → wait; a lapsed one → next attempt', () => {
    assert.deepEqual(decide(undefined, 0), { action: 'send', attempt: 1 });
    assert.deepEqual(decide({ state: 'sent', attempts: 1, at: t(0) }, 0), { action: 'done' });
    assert.deepEqual(decide({ state: 'dead', attempts: 3, at: t(0), error: 'x' }, 0), { action: 'done' });
    assert.deepEqual(decide({ state: 'claimed', by: 'b', until: t(5000), attempts: 1 }, 1000), { action: 'wait', atMs: 5000 });
    assert.deepEqual(decide({ state: 'claimed', by: 'b', until: t(5000), attempts: 1 }, 5000), { action: 'send', attempt: 2 });
    assert.deepEqual(decide({ state: 'retrying', attempts: 2, next: t(3000), error: 'x' }, 1000), { action: 'wait', atMs: 3000 });
    assert.deepEqual(decide({ state: 'retrying', attempts: 2, next: t(3000), error: 'x' }, 3000), { action: 'send', attempt: 3 });
  });

  it('backs off doubling from the initial wait, up to the maximum', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 40].map((n) => backoffMs(n, policy)), [1000, 2000, 4000, 8000, 8000, 8000]);
  });

  it('claims, then records success, failure with backoff, and death at the last attempt', () => {
    const claimed = withClaims({}, [{ notice: 'active', destination: 'slack', attempt: 1 }, { notice: 'active', destination: 'mail:a@x.io', attempt: 3 }], 'me', 60_000);
    assert.deepEqual(claimed.active?.slack, { state: 'claimed', by: 'me', until: t(60_000), attempts: 1 });
    const { ledger, dead } = withResults(
      claimed,
      [
        { notice: 'active', destination: 'slack', attempt: 1, outcome: { ok: false, error: 'HTTP 500' } },
        { notice: 'active', destination: 'mail:a@x.io', attempt: 3, outcome: { ok: false, error: 'SMTP ECONNECTION' } },
      ],
      'me',
      10_000,
      policy,
    );
    assert.deepEqual(ledger.active?.slack, { state: 'retrying', attempts: 1, next: t(11_000), error: 'HTTP 500' });
    assert.deepEqual(ledger.active?.['mail:a@x.io'], { state: 'dead', attempts: 3, at: t(10_000), error: 'SMTP ECONNECTION' });
    assert.deepEqual(dead.map((d) => d.destination), ['mail:a@x.io']);
    const ok = withResults(ledger, [{ notice: 'active', destination: 'slack', attempt: 2, outcome: { ok: true } }], 'me', 20_000, policy);
    assert.deepEqual(ok.ledger.active?.slack, { state: 'sent', attempts: 2, at: t(20_000) });
  });

  it('a Retry-After longer than the backoff is honoured, within the maximum', () => {
    const { ledger } = withResults({}, [{ notice: 'n', destination: 'd', attempt: 1, outcome: { ok: false, error: 'HTTP 429', retryAfterMs: 5000 } }], 'me', 0, policy);
    assert.equal(ledger.n?.d?.state === 'retrying' && ledger.n.d.next, t(5000));
  });

  it('a result never undoes what another holder finished, and a failure leaves their claim alone', () => {
    const theirs: Ledger = { n: { sent: { state: 'sent', attempts: 2, at: t(0) }, claimed: { state: 'claimed', by: 'other', until: t(9999), attempts: 2 } } };
    const { ledger } = withResults(
      theirs,
      [
        { notice: 'n', destination: 'sent', attempt: 1, outcome: { ok: false, error: 'late' } },
        { notice: 'n', destination: 'claimed', attempt: 1, outcome: { ok: false, error: 'late' } },
      ],
      'me',
      1,
      policy,
    );
    assert.deepEqual(ledger, theirs);
    // A success still counts: the receiver has it.
    const ok = withResults(theirs, [{ notice: 'n', destination: 'claimed', attempt: 1, outcome: { ok: true } }], 'me', 1, policy);
    assert.equal(ok.ledger.n?.claimed?.state, 'sent');
  });

  it('parses what it serializes, drops malformed entries, and says when the whole value is garbage', () => {
    const l: Ledger = { a: { b: { state: 'sent', attempts: 1, at: t(0) } } };
    assert.deepEqual(parseLedger(serializeLedger(l)), { ledger: l, corrupt: false });
    assert.deepEqual(parseLedger('{"a":{"b":{"state":"sent"},"c":{"state":"sent","attempts":1,"at":"2030-01-01T00:00:00.000Z"}}}').ledger, { a: { c: { state: 'sent', attempts: 1, at: '2030-01-01T00:00:00.000Z' } } });
    assert.deepEqual(parseLedger('not json'), { ledger: {}, corrupt: true });
    assert.deepEqual(parseLedger('[1]'), { ledger: {}, corrupt: true });
    assert.deepEqual(parseLedger(undefined), { ledger: {}, corrupt: false });
  });
});
