import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AccessRequestSpec } from '../api/accessrequest.ts';
import type { AccessPolicy, PolicyRule } from '../api/accesspolicy.ts';
import { describeApproval, evaluateParts, policyErrors, ruleId, unusablePattern, type PartPolicy, type ServiceLabels } from './access-policy.ts';
import { externalSpec, serviceSpec } from '../../test/support/builders.ts';

function policy(namespace: string, name: string, ...rules: PolicyRule[]): AccessPolicy {
  return { apiVersion: 'netwatch.vtk.io/v1alpha1', kind: 'AccessPolicy', metadata: { namespace, name }, spec: { rules } };
}

const LABELS: Record<string, Record<string, string>> = {
  'monitoring/prometheus': { app: 'prometheus', tier: 'observability' },
  'payments/database': { app: 'postgres', tier: 'data' },
};
const labels: ServiceLabels = (ns, name) => LABELS[`${ns}/${name}`];

// alice (group devs) asks monitoring/prometheus → payments/database on 5432/TCP for 2h.
const base = serviceSpec({
  target: { namespace: 'payments', service: 'database' },
  requester: { username: 'alice', groups: ['devs', 'system:authenticated'] },
});
const ext = externalSpec({ requester: { username: 'alice', groups: ['devs'] } });

function target(spec: AccessRequestSpec, ...policies: AccessPolicy[]): PartPolicy {
  const out = evaluateParts(spec, policies, labels).find((p) => p.part === 'target');
  assert.ok(out, 'a target part');
  return out;
}

describe('matching: a rule applies to a part when every condition it gives holds', () => {
  const auto = (match: PolicyRule['match']): PolicyRule => ({ name: 'r', autoApprove: true, ...(match ? { match } : {}) });
  const cases: { name: string; spec: AccessRequestSpec; rule: PolicyRule; matches: boolean }[] = [
    { name: 'a rule without match applies to every part in its namespace', spec: base, rule: auto(undefined), matches: true },
    { name: 'local Service by name', spec: base, rule: auto({ services: { names: ['database'] } }), matches: true },
    { name: 'local Service by another name', spec: base, rule: auto({ services: { names: ['cache'] } }), matches: false },
    { name: 'local Service by labels', spec: base, rule: auto({ services: { labels: { tier: 'data' } } }), matches: true },
    { name: 'local Service by labels it lacks', spec: base, rule: auto({ services: { labels: { tier: 'web' } } }), matches: false },
    { name: 'peer namespace by name', spec: base, rule: auto({ peers: { namespaces: ['monitoring'] } }), matches: true },
    { name: 'peer namespace not listed', spec: base, rule: auto({ peers: { namespaces: ['shop'] } }), matches: false },
    { name: 'peer Service by name and namespace', spec: base, rule: auto({ peers: { namespaces: ['monitoring'], services: { names: ['prometheus'] } } }), matches: true },
    { name: 'peer Service by labels', spec: base, rule: auto({ peers: { services: { labels: { app: 'prometheus' } } } }), matches: true },
    { name: 'peer Service whose labels differ', spec: base, rule: auto({ peers: { services: { labels: { app: 'grafana' } } } }), matches: false },
    { name: 'a CIDR peer rule never matches an in-cluster peer', spec: base, rule: auto({ peers: { cidrs: ['0.0.0.0/0'] } }), matches: false },
    { name: 'requested CIDRs inside the rule\'s set', spec: ext, rule: auto({ peers: { cidrs: ['203.0.113.0/24'] } }), matches: true },
    {
      name: 'requested CIDRs inside the union of adjacent networks',
      spec: externalSpec({ cidrs: ['203.0.113.0/24'] }),
      rule: auto({ peers: { cidrs: ['203.0.113.0/25', '203.0.113.128/25'] } }),
      matches: true,
    },
    { name: 'a requested CIDR reaching outside the set', spec: externalSpec({ cidrs: ['203.0.113.0/23'] }), rule: auto({ peers: { cidrs: ['203.0.113.0/24'] } }), matches: false },
    { name: 'exceptCidrs: CIDRs outside the exception match', spec: externalSpec({ cidrs: ['192.0.2.1/32'] }), rule: auto({ peers: { exceptCidrs: ['203.0.113.0/24'] } }), matches: true },
    { name: 'exceptCidrs: CIDRs all inside the exception do not', spec: ext, rule: auto({ peers: { exceptCidrs: ['203.0.113.0/24'] } }), matches: false },
    {
      name: 'exceptCidrs: one CIDR outside the exception is enough to match',
      spec: externalSpec({ cidrs: ['203.0.113.7/32', '192.0.2.1/32'] }),
      rule: auto({ peers: { exceptCidrs: ['203.0.113.0/24'] } }),
      matches: true,
    },
    { name: 'an in-cluster peer rule never matches CIDRs', spec: ext, rule: auto({ peers: { namespaces: ['monitoring'] } }), matches: false },
    { name: 'ports: every requested port listed', spec: base, rule: auto({ ports: [{ port: 5432, protocol: 'TCP' }, { port: 9187 }] }), matches: true },
    { name: 'ports: a protocol left out matches any', spec: base, rule: auto({ ports: [{ port: 5432 }] }), matches: true },
    { name: 'ports: another protocol', spec: base, rule: auto({ ports: [{ port: 5432, protocol: 'UDP' }] }), matches: false },
    { name: 'ports: a requested port not listed', spec: serviceSpec({ ...base, ports: [{ port: 5432, protocol: 'TCP' }, { port: 22, protocol: 'TCP' }] }), rule: auto({ ports: [{ port: 5432 }] }), matches: false },
    { name: 'ports: all ports of the Service never match a list', spec: serviceSpec({ ...base, ports: [] }), rule: auto({ ports: [{ port: 5432 }] }), matches: false },
    { name: 'direction: the target part sees ingress', spec: base, rule: auto({ directions: ['ingress'] }), matches: true },
    { name: 'direction: the target part is not egress', spec: base, rule: auto({ directions: ['egress'] }), matches: false },
    { name: 'direction: external both needs both listed', spec: externalSpec({ direction: 'both' }), rule: auto({ directions: ['ingress'] }), matches: false },
    { name: 'direction: external both with both listed', spec: externalSpec({ direction: 'both' }), rule: auto({ directions: ['ingress', 'egress'] }), matches: true },
    { name: 'requester by user', spec: base, rule: auto({ requesters: { users: ['alice'] } }), matches: true },
    { name: 'requester by group', spec: base, rule: auto({ requesters: { groups: ['devs'] } }), matches: true },
    { name: 'requester neither listed nor in a listed group', spec: base, rule: auto({ requesters: { users: ['bob'], groups: ['dbas'] } }), matches: false },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const ns = c.spec.type === 'External' ? 'shop' : 'payments';
      const out = target(c.spec, policy(ns, 'p', c.rule));
      assert.deepEqual(out.matched.map(ruleId), c.matches ? [`${ns}/p/r`] : []);
      assert.equal(out.approval.kind, c.matches ? 'auto' : 'default');
    });
  }

  test('each part reads only its own namespace\'s policies, from its own side', () => {
    const parts = evaluateParts(base, [policy('monitoring', 'm', { name: 'out', maxDuration: '1h', match: { directions: ['egress'], peers: { namespaces: ['payments'] } } })], labels);
    assert.deepEqual(parts.map((p) => [p.part, p.matched.map(ruleId)]), [['source', ['monitoring/m/out']], ['target', []]]);
  });

  test('one namespace for both ends: its single part is matched as the target and as the source', () => {
    const same = serviceSpec({ source: { namespace: 'shop', service: 'api' }, target: { namespace: 'shop', service: 'db' } });
    const rule: PolicyRule = { name: 'egress-from-api', maxDuration: '1h', match: { directions: ['egress'], services: { names: ['api'] } } };
    assert.deepEqual(target(same, policy('shop', 'p', rule)).matched.map(ruleId), ['shop/p/egress-from-api']);
  });

  test('a policy being deleted no longer counts', () => {
    const p = policy('payments', 'p', { name: 'r', refuse: 'no' });
    p.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
    assert.equal(target(base, p).refuse, undefined);
  });
});

describe('strictest wins, setting by setting, in evaluation order (policies by name, rules as listed)', () => {
  const r = (name: string, rest: Omit<PolicyRule, 'name'>): PolicyRule => ({ name, ...rest });
  const cases: { name: string; policies: AccessPolicy[]; want: (p: PartPolicy) => unknown; expected: unknown }[] = [
    {
      name: 'no matching rule: today\'s behaviour',
      policies: [policy('shop', 'p', r('a', { refuse: 'no' }))],
      want: (p) => [p.approval.kind, p.refuse, p.maxDuration, p.reasonPatterns],
      expected: ['default', undefined, undefined, []],
    },
    {
      name: 'refuse beats auto-approve, whatever the order',
      policies: [policy('payments', 'a', r('auto', { autoApprove: true })), policy('payments', 'b', r('no', { refuse: 'not from here' }))],
      want: (p) => [p.refuse?.rule.policy, p.refuse?.message],
      expected: ['b', 'not from here'],
    },
    {
      name: 'the first refusing rule is the one named',
      policies: [policy('payments', 'z', r('late', { refuse: 'z' })), policy('payments', 'a', r('x', { maxDuration: '1h' }), r('early', { refuse: 'a' }))],
      want: (p) => p.refuse?.rule.rule,
      expected: 'early',
    },
    {
      name: 'approvers beat auto-approve',
      policies: [policy('payments', 'p', r('auto', { autoApprove: true }), r('two', { approvals: { count: 2 } }))],
      want: (p) => [p.approval.kind, p.approval.kind === 'count' ? p.approval.count : 0],
      expected: ['count', 2],
    },
    {
      name: 'more approvers beat fewer',
      policies: [policy('payments', 'p', r('three', { approvals: { count: 3 } }), r('two', { approvals: { count: 2, groups: ['dbas'] } }))],
      want: (p) => (p.approval.kind === 'count' ? [p.approval.count, p.approval.rule.rule] : p.approval.kind),
      expected: [3, 'three'],
    },
    {
      name: 'for as many approvers, named groups beat anyone',
      policies: [policy('payments', 'p', r('any', { approvals: { count: 2 } }), r('dbas', { approvals: { count: 2, groups: ['dbas'] } }))],
      want: (p) => (p.approval.kind === 'count' ? p.approval.rule.rule : p.approval.kind),
      expected: 'dbas',
    },
    {
      name: 'on a full tie the first rule in order wins',
      policies: [policy('payments', 'b', r('second', { approvals: { count: 2 } })), policy('payments', 'a', r('first', { approvals: { count: 2 } }))],
      want: (p) => (p.approval.kind === 'count' ? ruleId(p.approval.rule) : p.approval.kind),
      expected: 'payments/a/first',
    },
    {
      name: 'a rule that sets no approvals leaves auto-approve of another in place',
      policies: [policy('payments', 'p', r('auto', { autoApprove: true }), r('short', { maxDuration: '1h' }))],
      want: (p) => [p.approval.kind, p.maxDuration?.text],
      expected: ['auto', '1h'],
    },
    {
      name: 'the shortest maxDuration and maxTotalDuration win, each from its own rule',
      policies: [
        policy('payments', 'p', r('a', { maxDuration: '8h', maxTotalDuration: '12h' }), r('b', { maxDuration: '90m', maxTotalDuration: '24h' })),
        policy('payments', 'q', r('c', { maxDuration: '1h30m' })),
      ],
      want: (p) => [p.maxDuration?.text, p.maxDuration?.rule.rule, p.maxTotalDuration?.text, p.maxTotalDuration?.rule.rule],
      expected: ['90m', 'b', '12h', 'a'],
    },
    {
      name: 'every reason pattern applies',
      policies: [policy('payments', 'p', r('a', { reasonPattern: '^INC-' })), policy('payments', 'q', r('b', { reasonPattern: '[0-9]{4}' }))],
      want: (p) => p.reasonPatterns.map((x) => x.pattern),
      expected: ['^INC-', '[0-9]{4}'],
    },
  ];
  for (const c of cases) {
    test(c.name, () => assert.deepEqual(c.want(target(base, ...c.policies)), c.expected));
  }
});

describe('what the outcome forbids at creation, naming the field and the rule', () => {
  const outcome = (...rules: PolicyRule[]) => evaluateParts(base, [policy('payments', 'db', ...rules)], labels);
  test('a refusing rule', () => {
    assert.deepEqual(policyErrors(base, outcome({ name: 'no', refuse: 'ask the DBAs' })), [
      { field: 'spec', message: 'the target part (namespace payments) is refused by AccessPolicy payments/db, rule "no": ask the DBAs' },
    ]);
  });
  test('a duration above maxDuration, and unlimited', () => {
    assert.deepEqual(policyErrors(base, outcome({ name: 'short', maxDuration: '1h' })).map((e) => e.field), ['spec.duration']);
    assert.match(policyErrors(base, outcome({ name: 'short', maxDuration: '1h' }))[0]?.message ?? '', /at most 1h .* rule "short" \(asked for 2h\)/);
    assert.equal(policyErrors({ ...base, duration: 'unlimited' }, outcome({ name: 'short', maxDuration: '24h' })).length, 1);
    assert.deepEqual(policyErrors({ ...base, duration: '1h' }, outcome({ name: 'short', maxDuration: '1h' })), []);
  });
  test('a reason that does not match; an unusable pattern refuses instead of running', () => {
    assert.match(policyErrors(base, outcome({ name: 'ticket', reasonPattern: '^INC-[0-9]+' }))[0]?.message ?? '', /must match \/\^INC-\[0-9\]\+\/ .* rule "ticket"/);
    assert.deepEqual(policyErrors({ ...base, reason: 'INC-42 outage' }, outcome({ name: 'ticket', reasonPattern: '^INC-[0-9]+' })), []);
    assert.match(policyErrors(base, outcome({ name: 'bad', reasonPattern: '(.)\\1' }))[0]?.message ?? '', /unusable \(it cannot run in linear time/);
    // Catastrophic for a backtracking engine (this reason would take years), answered at once by the linear one.
    assert.equal(policyErrors({ ...base, reason: `${'a'.repeat(64)}!` }, outcome({ name: 'nested', reasonPattern: '^((a+))+$' })).length, 1);
  });
  test('unusable patterns', () => {
    for (const p of ['(.)\\1', '(?<x>a)\\k<x>', '(?=a)b', '[']) assert.ok(unusablePattern(p), p);
    for (const p of ['^(INC|CHG)-[0-9]+', '^JIRA-[0-9]{1,6}\\b', 'metrics|dashboards', '(a+)+', '(x*)*y']) assert.equal(unusablePattern(p), undefined, p);
  });
  test('the approval requirement in words', () => {
    assert.equal(describeApproval(outcome({ name: 'two', approvals: { count: 2, groups: ['dbas'] } })[1]?.approval ?? { kind: 'default' }), '2 distinct approvers from dbas, the requester not counted (payments/db/two)');
  });
});
