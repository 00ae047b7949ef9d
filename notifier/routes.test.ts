import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { destinationsOf, isAddress, parseRoute, requesterAddress, type Routing } from './routes.ts';

const routing: Routing = {
  sinks: new Map([
    ['team-slack', { type: 'slack' as const }],
    ['audit', { type: 'cloudevents' as const }],
    ['mail', { type: 'email' as const, allowedDomains: ['example.com'] }],
  ]),
  approvers: [],
  requester: [],
  requesterAddress: { stripPrefix: 'oidc:', domain: 'example.com' },
};

describe('routes', () => {
  it('parses sink names and email items, separated by commas or spaces, without duplicates', () => {
    assert.deepEqual(parseRoute('team-slack, mail:leads@example.com  audit,team-slack', routing, { requester: false }), {
      items: [{ sink: 'team-slack' }, { sink: 'mail', address: 'leads@example.com' }, { sink: 'audit' }],
      problems: [],
    });
  });

  it('names each bad item and keeps the good ones', () => {
    const r = parseRoute('nope, team-slack:x@example.com, mail, mail:not an address, audit', routing, { requester: false });
    assert.deepEqual(r.items, [{ sink: 'audit' }]);
    assert.deepEqual(r.problems, [
      '"nope": no sink named "nope" (configured: team-slack, audit, mail)',
      '"team-slack:x@example.com": sink team-slack is of type slack and takes no address; write team-slack',
      '"mail": email sink mail needs an address here, e.g. mail:approvers@example.com',
      '"mail:not": "not" is not an email address (local-part@domain, nothing else)',
      '"an": no sink named "an" (configured: team-slack, audit, mail)',
      '"address": no sink named "address" (configured: team-slack, audit, mail)',
    ]);
  });

  it('on the requester route an email sink alone means the requester', () => {
    assert.deepEqual(parseRoute('mail', routing, { requester: true }), { items: [{ sink: 'mail' }], problems: [] });
  });

  it('addresses are plain addr-specs: no display names, no line breaks, no second recipient', () => {
    for (const good of ['a@example.com', 'first.last+tag@sub.example.org']) assert.ok(isAddress(good), good);
    for (const bad of ['a', '@x.io', 'a@b', 'a@x.io\r\nBcc: evil@x.io', '"a"@x.io', 'A <a@x.io>', 'a@x.io,b@x.io', 'a..b@x.io', 'a@-x.io']) assert.ok(!isAddress(bad), bad);
  });

  it('the requester\'s address: an email username (prefix stripped), or the name at the configured domain; never a ServiceAccount', () => {
    assert.equal(requesterAddress('oidc:alice@corp.example.com', routing.requesterAddress), 'alice@corp.example.com');
    assert.equal(requesterAddress('bob', routing.requesterAddress), 'bob@example.com');
    assert.equal(requesterAddress('bob', {}), undefined);
    assert.equal(requesterAddress('system:serviceaccount:ns:sa', routing.requesterAddress), undefined);
    assert.equal(requesterAddress('evil\r\nBcc: x@y.io', routing.requesterAddress), undefined);
  });

  it('destinations: one per sink, email per address; an address outside the allowed domains is reported, not sent to', () => {
    const approvers = { kind: 'approvers' as const, part: 'target' as const, namespace: 'payments' };
    const r = destinationsOf(approvers, [{ sink: 'team-slack' }, { sink: 'mail', address: 'Leads@Example.com' }, { sink: 'mail', address: 'x@elsewhere.io' }], routing, 'alice');
    assert.deepEqual(r.destinations, [
      { sink: 'team-slack', type: 'slack', key: 'team-slack' },
      { sink: 'mail', type: 'email', address: 'Leads@Example.com', key: 'mail:leads@example.com' },
    ]);
    assert.deepEqual(r.unroutable, [{ item: { sink: 'mail', address: 'x@elsewhere.io' }, why: 'domain-not-allowed' }]);
    const requester = destinationsOf({ kind: 'requester' }, [{ sink: 'mail' }], routing, 'system:serviceaccount:a:b');
    assert.deepEqual(requester, { destinations: [], unroutable: [{ item: { sink: 'mail' }, why: 'no-address' }] });
  });
});
