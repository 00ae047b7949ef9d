import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ROUTE_ITEM_PATTERN, type AccessPolicy, type PolicyRule } from '../lib/api/accesspolicy.ts';
import { accessPolicy } from '../test/support/builders.ts';
import { approverRoute, destinationsOf, isAddress, parseRoute, requesterAddress, type ApproverRouteInput, type Routing } from './routes.ts';

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

  it('what the CRD accepts as a route item is what a route parses (given the sink exists)', () => {
    const schema = new RegExp(ROUTE_ITEM_PATTERN);
    for (const good of ['team-slack', 'audit', 'mail:leads@example.com', 'mail:first.last+tag@sub.example.com']) {
      assert.ok(schema.test(good), good);
      assert.deepEqual(parseRoute(good, routing, { requester: false }).problems, [], good);
    }
    for (const bad of ['Team-Slack', 'team slack', 'a,b', 'mail:', 'mail:x', 'mail:a@b@example.com', 'mail:x@example.com\nBcc: y@example.com', '-x', 'mail:x@-example.com']) {
      assert.ok(!schema.test(bad), bad);
    }
  });
});

describe('approverRoute: where one part\'s approval notices go', () => {
  const sinks: Routing = { ...routing, sinks: new Map([...routing.sinks, ['dba-chat', { type: 'slack' as const }]]), approvers: [{ sink: 'audit' }] };
  const rule = (name: string, notify?: string[]): PolicyRule => ({ name, maxDuration: '8h', ...(notify ? { notify: { approvers: notify } } : {}) });
  const db = (rules: PolicyRule[], notify?: string[]): AccessPolicy => accessPolicy('payments', 'database', rules, notify ? { notify: { approvers: notify } } : {});
  const input = (over: Partial<ApproverRouteInput>): ApproverRouteInput => ({ namespace: 'payments', rules: [], policies: [], annotation: undefined, ...over });

  const cases: { name: string; input: ApproverRouteInput; items: string[]; source: string; problems?: string[] }[] = [
    { name: 'no policy, no annotation: the cluster default', input: input({}), items: ['audit'], source: 'default' },
    { name: 'the Namespace annotation when no matching rule names a route', input: input({ annotation: 'team-slack', rules: ['payments/database/postgres'], policies: [db([rule('postgres')])] }), items: ['team-slack'], source: 'namespace' },
    { name: 'an empty annotation routes nothing (the namespace opted out)', input: input({ annotation: '' }), items: [], source: 'namespace' },
    {
      name: 'a matching rule\'s own route wins over its policy\'s and the annotation',
      input: input({ annotation: 'team-slack', rules: ['payments/database/postgres'], policies: [db([rule('postgres', ['dba-chat'])], ['mail:owners@example.com'])] }),
      items: ['dba-chat'],
      source: 'policy',
    },
    {
      name: 'a matching rule without a route of its own takes its policy\'s',
      input: input({ annotation: 'team-slack', rules: ['payments/database/postgres'], policies: [db([rule('postgres')], ['mail:owners@example.com'])] }),
      items: ['mail:owners@example.com'],
      source: 'policy',
    },
    {
      name: 'several matching rules: their routes joined, each item once, in stamp order',
      input: input({
        rules: ['payments/database/postgres', 'payments/database/any', 'payments/other/all'],
        policies: [db([rule('postgres', ['dba-chat', 'mail:dbas@example.com']), rule('any')], ['dba-chat', 'team-slack']), accessPolicy('payments', 'other', [rule('all', ['mail:DBAs@example.com', 'mail:dbas@example.com'])])],
      }),
      items: ['dba-chat', 'mail:dbas@example.com', 'team-slack', 'mail:DBAs@example.com'],
      source: 'policy',
    },
    {
      name: 'a rule that did not match at creation does not route (only the stamped rules count)',
      input: input({ annotation: 'team-slack', rules: [], policies: [db([rule('postgres', ['dba-chat'])])] }),
      items: ['team-slack'],
      source: 'namespace',
    },
    {
      name: 'a rule or policy deleted since names nothing',
      input: input({ annotation: 'team-slack', rules: ['payments/database/gone', 'payments/missing/x'], policies: [db([rule('postgres', ['dba-chat'])], ['dba-chat'])] }),
      items: ['team-slack'],
      source: 'namespace',
    },
    {
      name: 'another namespace\'s rule in the stamp is not this namespace\'s to route',
      input: input({ rules: ['shop/database/postgres'], policies: [{ ...db([rule('postgres', ['dba-chat'])]), metadata: { namespace: 'shop', name: 'database' } }] }),
      items: ['audit'],
      source: 'default',
    },
    {
      name: 'a policy being deleted names nothing',
      input: input({ rules: ['payments/database/postgres'], policies: [{ ...db([rule('postgres', ['dba-chat'])]), metadata: { namespace: 'payments', name: 'database', deletionTimestamp: '2030-01-01T00:00:00Z' } }] }),
      items: ['audit'],
      source: 'default',
    },
    {
      name: 'unknown items are reported with the field naming them; the good ones still route',
      input: input({ annotation: 'team-slack', rules: ['payments/database/postgres'], policies: [db([rule('postgres', ['nope', 'dba-chat'])])] }),
      items: ['dba-chat'],
      source: 'policy',
      problems: ['AccessPolicy payments/database, rule "postgres", notify.approvers: "nope": no sink named "nope" (configured: team-slack, audit, mail, dba-chat)'],
    },
    {
      name: 'a policy route none of whose items can be used counts as unset: the annotation still reaches someone',
      input: input({ annotation: 'team-slack, nope2', rules: ['payments/database/postgres'], policies: [db([rule('postgres')], ['nope', 'mail'])] }),
      items: ['team-slack'],
      source: 'namespace',
      problems: [
        'AccessPolicy payments/database, spec.notify.approvers: "nope": no sink named "nope" (configured: team-slack, audit, mail, dba-chat)',
        'AccessPolicy payments/database, spec.notify.approvers: "mail": email sink mail needs an address here, e.g. mail:approvers@example.com',
        'Namespace payments, annotation netwatch.vtk.io/notify-approvers: "nope2": no sink named "nope2" (configured: team-slack, audit, mail, dba-chat)',
      ],
    },
    {
      name: 'two rules inheriting one policy route report its problems once',
      input: input({ rules: ['payments/database/a', 'payments/database/b'], policies: [db([rule('a'), rule('b')], ['nope', 'team-slack'])] }),
      items: ['team-slack'],
      source: 'policy',
      problems: ['AccessPolicy payments/database, spec.notify.approvers: "nope": no sink named "nope" (configured: team-slack, audit, mail, dba-chat)'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = approverRoute(c.input, sinks);
      assert.deepEqual(r.items.map((i) => (i.address ? `${i.sink}:${i.address}` : i.sink)), c.items);
      assert.equal(r.source, c.source);
      assert.deepEqual(r.problems.map((p) => `${p.field}: ${p.problem}`), c.problems ?? []);
    });
  }
});
