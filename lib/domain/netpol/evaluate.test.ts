import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LabelSelector, NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort, Pod } from '../../kube/types.ts';
import { parseCidr } from '../cidr.ts';
import {
  NAMESPACE_NAME_LABEL,
  PolicyEvaluator,
  podFactsOf,
  policyTypesOf,
  serviceIsolation,
  type ClusterFacts,
  type NamespaceFacts,
  type PodFacts,
  type Protocol,
} from './evaluate.ts';

// ----- the model: namespaces x, y, z with pods a, b, c each (as Kubernetes' own network-policy e2e suite lays out
// its truth tables), every pod serving 80 and 81 over TCP, UDP and SCTP under the names serve-PORT-PROTOCOL.

type Ns = 'x' | 'y' | 'z';
type Name = 'a' | 'b' | 'c';
const NAMESPACES: Ns[] = ['x', 'y', 'z'];
const NAMES: Name[] = ['a', 'b', 'c'];
const PROTOCOLS: Protocol[] = ['TCP', 'UDP', 'SCTP'];

function ipOf(ns: string, name: string): string {
  return `10.0.${NAMESPACES.indexOf(ns as Ns) + 1}.${NAMES.indexOf(name as Name) + 1}`;
}

function modelPod(ns: Ns, name: Name, extraLabels: Record<string, string> = {}): PodFacts {
  return {
    namespace: ns,
    name,
    labels: { pod: name, ...extraLabels },
    ips: [ipOf(ns, name)],
    ports: PROTOCOLS.flatMap((protocol) => [80, 81].map((port) => ({ name: `serve-${port}-${protocol.toLowerCase()}`, port, protocol }))),
  };
}

interface Model {
  pods: PodFacts[];
  namespaces: NamespaceFacts[];
}

function model(over: { podLabels?: Partial<Record<string, Record<string, string>>>; nsLabels?: Partial<Record<Ns, Record<string, string>>> } = {}): Model {
  return {
    pods: NAMESPACES.flatMap((ns) => NAMES.map((name) => modelPod(ns, name, over.podLabels?.[`${ns}/${name}`]))),
    namespaces: NAMESPACES.map((ns) => ({ name: ns, labels: { [NAMESPACE_NAME_LABEL]: ns, ...over.nsLabels?.[ns] } })),
  };
}

// ----- policy builders

type Rule = { peers?: NetworkPolicyPeer[]; ports?: NetworkPolicyPort[] };

function policy(namespace: string, name: string, podSelector: LabelSelector, rules: { ingress?: Rule[]; egress?: Rule[]; types?: ('Ingress' | 'Egress')[] }): NetworkPolicy {
  const types = rules.types ?? [...(rules.ingress ? ['Ingress' as const] : []), ...(rules.egress ? ['Egress' as const] : [])];
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { namespace, name },
    spec: {
      podSelector,
      ...(types.length > 0 ? { policyTypes: types } : {}),
      ...(rules.ingress ? { ingress: rules.ingress.map((r) => ({ ...(r.peers ? { from: r.peers } : {}), ...(r.ports ? { ports: r.ports } : {}) })) } : {}),
      ...(rules.egress ? { egress: rules.egress.map((r) => ({ ...(r.peers ? { to: r.peers } : {}), ...(r.ports ? { ports: r.ports } : {}) })) } : {}),
    },
  };
}

const all: LabelSelector = {};
const podIs = (name: string): LabelSelector => ({ matchLabels: { pod: name } });
const nsIs = (ns: string): LabelSelector => ({ matchLabels: { [NAMESPACE_NAME_LABEL]: ns } });
const port = (p: number | string, protocol?: Protocol, endPort?: number): NetworkPolicyPort => ({
  port: p,
  ...(protocol ? { protocol } : {}),
  ...(endPort !== undefined ? { endPort } : {}),
});

// ----- truth tables: every pod to every other one (a pod to itself is left out, as the upstream suite does)

type Open = (from: PodFacts, to: PodFacts) => boolean;
const everything: Open = () => true;
const is = (p: PodFacts, ns: Ns, name?: Name) => p.namespace === ns && (name === undefined || p.name === name);

function table(facts: ClusterFacts & { pods: PodFacts[] }, p: number, protocol: Protocol, open: Open): void {
  const ev = new PolicyEvaluator(facts);
  const wrong: string[] = [];
  for (const from of facts.pods) {
    for (const to of facts.pods) {
      if (from === to) continue;
      const v = ev.evaluate({ from: { pod: from }, to: { pod: to }, port: p, protocol });
      const want = open(from, to) ? 'yes' : 'no';
      if (v.allowed !== want) wrong.push(`${from.namespace}/${from.name} → ${to.namespace}/${to.name} ${p}/${protocol}: ${v.allowed}, want ${want}`);
    }
  }
  assert.deepEqual(wrong, []);
}

function check(policies: NetworkPolicy[], p: number, protocol: Protocol, open: Open, m: Model = model()): void {
  table({ policies, namespaces: m.namespaces, pods: m.pods }, p, protocol, open);
}

// ----- Kubernetes' network-policy e2e cases (test/e2e/network/netpol), facts carried over, tables written here

describe('the cases of the upstream network-policy e2e suite', () => {
  test('a default-deny-ingress policy in x blocks every flow into x and nothing else', () => {
    check([policy('x', 'deny-ingress', all, { ingress: [] })], 80, 'TCP', (_f, t) => !is(t, 'x'));
  });

  test('a default-deny-all policy in x blocks every flow into and out of x', () => {
    check([policy('x', 'deny-all', all, { ingress: [], egress: [] })], 80, 'TCP', (f, t) => !is(f, 'x') && !is(t, 'x'));
  });

  test('x/a isolated, allowing ingress from pods of its own namespace labelled pod=b only', () => {
    check([policy('x', 'x-a-allows-x-b', podIs('a'), { ingress: [{ peers: [{ podSelector: podIs('b') }] }] })], 80, 'TCP', (f, t) => !is(t, 'x', 'a') || is(f, 'x', 'b'));
  });

  test('default-deny-ingress in x plus a policy allowing every pod of every namespace into x/a: x/a open, the rest of x closed', () => {
    const policies = [
      policy('x', 'deny-all', all, { ingress: [] }),
      policy('x', 'allow-all-to-a', podIs('a'), { ingress: [{ peers: [{ podSelector: all, namespaceSelector: all }] }] }),
    ];
    check(policies, 80, 'TCP', (_f, t) => !is(t, 'x') || is(t, 'x', 'a'));
  });

  test('an empty namespaceSelector peer allows ingress from pods of every namespace', () => {
    check([policy('x', 'allow-from-another-ns', podIs('a'), { ingress: [{ peers: [{ namespaceSelector: { matchLabels: {} } }] }] })], 80, 'TCP', everything);
  });

  test('a namespaceSelector on the namespace-name label lets in only pods of y', () => {
    check([policy('x', 'allow-client-a-via-ns-selector', podIs('a'), { ingress: [{ peers: [{ namespaceSelector: nsIs('y') }] }] })], 80, 'TCP', (f, t) => !is(t, 'x', 'a') || is(f, 'y'));
  });

  test('a podSelector with matchExpressions In selects the peer', () => {
    const sel: LabelSelector = { matchExpressions: [{ key: 'pod', operator: 'In', values: ['b'] }] };
    check([policy('x', 'x-a-allows-x-b', podIs('a'), { ingress: [{ peers: [{ podSelector: sel }] }] })], 80, 'TCP', (f, t) => !is(t, 'x', 'a') || is(f, 'x', 'b'));
  });

  test('a namespaceSelector with matchExpressions In selects the namespace', () => {
    const sel: LabelSelector = { matchExpressions: [{ key: NAMESPACE_NAME_LABEL, operator: 'In', values: ['y'] }] };
    check([policy('x', 'allow-ns-y', podIs('a'), { ingress: [{ peers: [{ namespaceSelector: sel }] }] })], 80, 'TCP', (f, t) => !is(t, 'x', 'a') || is(f, 'y'));
  });

  test('two peers are ORed: any namespace but x, or pod=b of x', () => {
    const notX: LabelSelector = { matchExpressions: [{ key: NAMESPACE_NAME_LABEL, operator: 'NotIn', values: ['x'] }] };
    const policies = [policy('x', 'allow-ns-or-pod', podIs('a'), { ingress: [{ peers: [{ namespaceSelector: notX }, { podSelector: podIs('b') }] }] })];
    check(policies, 80, 'TCP', (f, t) => !is(t, 'x', 'a') || !is(f, 'x') || is(f, 'x', 'b'));
  });

  test('namespaceSelector and podSelector in one peer are ANDed: pod=b in any namespace but x', () => {
    const notX: LabelSelector = { matchExpressions: [{ key: NAMESPACE_NAME_LABEL, operator: 'NotIn', values: ['x'] }] };
    const policies = [policy('x', 'allow-ns-and-pod', podIs('a'), { ingress: [{ peers: [{ namespaceSelector: notX, podSelector: podIs('b') }] }] })];
    check(policies, 80, 'TCP', (f, t) => !is(t, 'x', 'a') || (!is(f, 'x') && f.name === 'b'));
  });

  test('matchExpressions on both selectors of a peer: pods b and c of namespaces other than x', () => {
    const notX: LabelSelector = { matchExpressions: [{ key: NAMESPACE_NAME_LABEL, operator: 'NotIn', values: ['x'] }] };
    const bc: LabelSelector = { matchExpressions: [{ key: 'pod', operator: 'In', values: ['b', 'c'] }] };
    const policies = [policy('x', 'allow-ns-y-z-pod-b-c', podIs('a'), { ingress: [{ peers: [{ namespaceSelector: notX, podSelector: bc }] }] })];
    check(policies, 80, 'TCP', (f, t) => !is(t, 'x', 'a') || (!is(f, 'x') && f.name !== 'a'));
  });

  test('several podSelector peers in one rule: pod=b or pod=c of x', () => {
    const policies = [policy('x', 'allow-x-b-c', podIs('a'), { ingress: [{ peers: [{ podSelector: podIs('b') }, { podSelector: podIs('c') }] }] })];
    check(policies, 80, 'TCP', (f, t) => !is(t, 'x', 'a') || is(f, 'x', 'b') || is(f, 'x', 'c'));
  });

  test('only y/a, by namespace and pod selector in one peer', () => {
    const policies = [policy('x', 'allow-y-a', podIs('a'), { ingress: [{ peers: [{ namespaceSelector: nsIs('y'), podSelector: podIs('a') }] }] })];
    check(policies, 80, 'TCP', (f, t) => !is(t, 'x', 'a') || is(f, 'y', 'a'));
  });

  test('a rule with one port: 81 from y is open, 80 is closed to everyone', () => {
    const policies = [policy('x', 'allow-81-from-y', podIs('a'), { ingress: [{ peers: [{ namespaceSelector: nsIs('y') }], ports: [port(81, 'TCP')] }] })];
    check(policies, 81, 'TCP', (f, t) => !is(t, 'x', 'a') || is(f, 'y'));
    check(policies, 80, 'TCP', (_f, t) => !is(t, 'x', 'a'));
  });

  test('stacked policies on overlapping pods add up: a second policy opens 80 from y', () => {
    const p81 = policy('x', 'allow-81-from-y', podIs('a'), { ingress: [{ peers: [{ namespaceSelector: nsIs('y') }], ports: [port(81, 'TCP')] }] });
    const p80 = policy('x', 'allow-80-from-y', podIs('a'), { ingress: [{ peers: [{ namespaceSelector: nsIs('y') }], ports: [port(80, 'TCP')] }] });
    check([p81], 80, 'TCP', (_f, t) => !is(t, 'x', 'a'));
    check([p81, p80], 80, 'TCP', (f, t) => !is(t, 'x', 'a') || is(f, 'y'));
    check([p81, p80], 81, 'TCP', (f, t) => !is(t, 'x', 'a') || is(f, 'y'));
  });

  test('an allow-all policy (one empty ingress rule) restricts nothing, on any port', () => {
    const policies = [policy('x', 'allow-all', all, { ingress: [{}] })];
    check(policies, 80, 'TCP', everything);
    check(policies, 81, 'TCP', everything);
  });

  test('a named ingress port (serve-81-tcp) opens 81 into x and leaves 80 closed', () => {
    const policies = [policy('x', 'allow-81-by-name', all, { ingress: [{ ports: [port('serve-81-tcp')] }] })];
    check(policies, 81, 'TCP', everything);
    check(policies, 80, 'TCP', (_f, t) => !is(t, 'x'));
  });

  test('a named port and a namespace: serve-80-tcp from y only, 81 closed to all', () => {
    const policies = [policy('x', 'allow-80-by-name-from-y', podIs('a'), { ingress: [{ peers: [{ namespaceSelector: nsIs('y') }], ports: [port('serve-80-tcp', 'TCP')] }] })];
    check(policies, 80, 'TCP', (f, t) => !is(t, 'x', 'a') || is(f, 'y'));
    check(policies, 81, 'TCP', (_f, t) => !is(t, 'x', 'a'));
  });

  test('a named egress port resolves against the destination pod: serve-80-tcp out of x, 81 closed', () => {
    const policies = [policy('x', 'allow-egress-80', all, { egress: [{ ports: [port('serve-80-tcp')] }] })];
    check(policies, 80, 'TCP', everything);
    check(policies, 81, 'TCP', (f) => !is(f, 'x'));
  });

  test('an updated policy: allow-all into x, then deny-all', () => {
    check([policy('x', 'mutate', all, { ingress: [{}] })], 81, 'TCP', everything);
    check([policy('x', 'mutate', all, { ingress: [] })], 81, 'TCP', (_f, t) => !is(t, 'x'));
  });

  test('an updated namespace: y gains ns2=updated and its pods get in', () => {
    const policies = [policy('x', 'allow-ns2', podIs('a'), { ingress: [{ peers: [{ namespaceSelector: { matchLabels: { ns2: 'updated' } } }] }] })];
    check(policies, 80, 'TCP', (_f, t) => !is(t, 'x', 'a'));
    check(policies, 80, 'TCP', (f, t) => !is(t, 'x', 'a') || is(f, 'y'), model({ nsLabels: { y: { ns2: 'updated' } } }));
  });

  test('an updated pod: x/b gains pod2=updated and gets in', () => {
    const policies = [policy('x', 'allow-pod2', podIs('a'), { ingress: [{ peers: [{ podSelector: { matchLabels: { pod: 'b', pod2: 'updated' } } }] }] })];
    check(policies, 80, 'TCP', (_f, t) => !is(t, 'x', 'a'));
    check(policies, 80, 'TCP', (f, t) => !is(t, 'x', 'a') || is(f, 'x', 'b'), model({ podLabels: { 'x/b': { pod2: 'updated' } } }));
  });

  test('an empty podSelector peer means every pod of the policy namespace: other namespaces are shut out of x', () => {
    const policies = [policy('x', 'deny-other-ns', all, { ingress: [{ peers: [{ podSelector: { matchLabels: {} } }] }] })];
    check(policies, 80, 'TCP', (f, t) => !is(t, 'x') || is(f, 'x'));
  });

  test('a pod labelled into a deny policy becomes isolated', () => {
    const policies = [policy('x', 'deny-isolated', { matchLabels: { target: 'isolated' } }, { ingress: [] })];
    check(policies, 80, 'TCP', everything);
    check(policies, 80, 'TCP', (_f, t) => !is(t, 'x', 'a'), model({ podLabels: { 'x/a': { target: 'isolated' } } }));
  });

  test('deny egress of x/a by podSelector', () => {
    check([policy('x', 'deny-egress-a', podIs('a'), { egress: [] })], 80, 'TCP', (f) => !is(f, 'x', 'a'));
  });

  test('deny egress of every pod of x', () => {
    check([policy('x', 'deny-egress-x', all, { egress: [] })], 80, 'TCP', (f) => !is(f, 'x'));
  });

  test('ingress and egress in one policy: in from x/b only, out on 80 only', () => {
    const policies = [policy('x', 'both', podIs('a'), { ingress: [{ peers: [{ podSelector: podIs('b') }] }], egress: [{ ports: [port(80)] }], types: ['Egress', 'Ingress'] })];
    check(policies, 80, 'TCP', (f, t) => !is(t, 'x', 'a') || is(f, 'x', 'b'));
    check(policies, 81, 'TCP', (f, t) => !is(f, 'x', 'a') && (!is(t, 'x', 'a') || is(f, 'x', 'b')));
  });

  test('egress denied at the client even though the server allows it', () => {
    const allowFromXa = [{ peers: [{ namespaceSelector: nsIs('x'), podSelector: podIs('a') }] }];
    const policies = [
      policy('x', 'allow-to-y-a', podIs('a'), { egress: [{ peers: [{ namespaceSelector: nsIs('y'), podSelector: podIs('a') }] }] }),
      policy('y', 'allow-from-xa-on-ya', podIs('a'), { ingress: allowFromXa }),
      policy('y', 'allow-from-xa-on-yb', podIs('b'), { ingress: allowFromXa }),
    ];
    check(policies, 80, 'TCP', (f, t) => {
      if (is(f, 'x', 'a')) return is(t, 'y', 'a');
      return !is(t, 'y', 'a') && !is(t, 'y', 'b');
    });
  });

  test('egress to a server in another namespace by namespace and pod selector', () => {
    const policies = [policy('x', 'allow-to-y-a', podIs('a'), { egress: [{ peers: [{ namespaceSelector: nsIs('y'), podSelector: podIs('a') }] }] })];
    check(policies, 80, 'TCP', (f, t) => !is(f, 'x', 'a') || is(t, 'y', 'a'));
  });

  test('a port entry with a protocol and no port allows every port of that protocol only', () => {
    const policies = [policy('x', 'allow-tcp', podIs('a'), { ingress: [{ ports: [{ protocol: 'TCP' }] }] })];
    check(policies, 80, 'TCP', everything);
    check(policies, 80, 'UDP', (_f, t) => !is(t, 'x', 'a'));
  });

  test('an allow-all ingress policy takes precedence over a port-80-only one', () => {
    const only80 = policy('x', 'allow-80', all, { ingress: [{ ports: [port(80)] }] });
    check([only80], 81, 'TCP', (_f, t) => !is(t, 'x'));
    check([only80, policy('x', 'allow-all', all, { ingress: [{}] })], 81, 'TCP', everything);
  });

  test('an allow-all egress policy takes precedence over a port-80-only one', () => {
    const only80 = policy('x', 'allow-egress-80', all, { egress: [{ ports: [port(80)] }] });
    check([only80], 81, 'TCP', (f) => !is(f, 'x'));
    check([only80, policy('x', 'allow-egress', all, { egress: [{}] })], 81, 'TCP', everything);
  });

  test('policies stop counting once deleted (and while being deleted)', () => {
    const denyAll = policy('x', 'deny-all', all, { ingress: [], egress: [] });
    check([denyAll], 80, 'TCP', (f, t) => !is(f, 'x') && !is(t, 'x'));
    check([], 80, 'TCP', everything);
    check([{ ...denyAll, metadata: { ...denyAll.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } }], 80, 'TCP', everything);
  });

  test('egress to a server in a CIDR block: x/a reaches y/b (its /32) and nothing else', () => {
    const policies = [policy('x', 'allow-cidr', podIs('a'), { egress: [{ peers: [{ ipBlock: { cidr: `${ipOf('y', 'b')}/32` } }] }] })];
    check(policies, 80, 'TCP', (f, t) => !is(f, 'x', 'a') || is(t, 'y', 'b'));
  });

  test('an except clause: x/a reaches the large block around x/b except x/b itself', () => {
    const policies = [policy('x', 'allow-cidr-except', podIs('a'), { egress: [{ peers: [{ ipBlock: { cidr: '10.0.0.0/16', except: [`${ipOf('x', 'b')}/32`] } }] }] })];
    check(policies, 80, 'TCP', (f, t) => !is(f, 'x', 'a') || !is(t, 'x', 'b'));
  });

  test('an address in both a CIDR and its except is allowed when another policy allows it', () => {
    const except = policy('x', 'allow-cidr-except', podIs('a'), { egress: [{ peers: [{ ipBlock: { cidr: '10.0.0.0/16', except: [`${ipOf('x', 'b')}/32`] } }] }] });
    const exact = policy('x', 'allow-x-b', podIs('a'), { egress: [{ peers: [{ ipBlock: { cidr: `${ipOf('x', 'b')}/32` } }] }] });
    check([except, exact], 80, 'TCP', everything);
  });

  test('ingress and egress are controlled independently: egress allowed, then ingress denied', () => {
    const egress = policy('x', 'allow-egress-a', podIs('a'), { egress: [{}] });
    check([egress], 80, 'TCP', everything);
    check([egress, policy('x', 'deny-ingress-a', podIs('a'), { ingress: [] })], 80, 'TCP', (_f, t) => !is(t, 'x', 'a'));
  });

  test("'protocol: SCTP' is never read as TCP", () => {
    const policies = [policy('x', 'deny-ingress', all, { ingress: [] }), policy('x', 'allow-sctp-81', podIs('a'), { ingress: [{ ports: [port(81, 'SCTP')] }] })];
    check(policies, 81, 'TCP', (_f, t) => !is(t, 'x'));
    check(policies, 81, 'SCTP', (_f, t) => !is(t, 'x') || is(t, 'x', 'a'));
  });

  test('a policy allowing only SCTP still isolates its pods for TCP', () => {
    check([policy('x', 'allow-sctp-80', podIs('a'), { ingress: [{ ports: [port(80, 'SCTP')] }] })], 81, 'TCP', (_f, t) => !is(t, 'x', 'a'));
  });

  test('a policy allowing only UDP does not allow TCP on the same port', () => {
    const policies = [policy('x', 'allow-udp-81', podIs('a'), { ingress: [{ ports: [port(81, 'UDP')] }] })];
    check(policies, 81, 'TCP', (_f, t) => !is(t, 'x', 'a'));
    check(policies, 81, 'UDP', everything);
  });

  test("the namespace-name label is known for every namespace, even one whose labels are not (matchLabels)", () => {
    const policies = [policy('x', 'allow-y', podIs('a'), { ingress: [{ peers: [{ namespaceSelector: nsIs('y') }] }] })];
    const m = model();
    table({ policies, pods: m.pods }, 80, 'TCP', (f, t) => !is(t, 'x', 'a') || is(f, 'y'));
  });

  test('NotIn on the namespace-name label in an egress rule: x/a reaches every namespace but y', () => {
    const notY: LabelSelector = { matchExpressions: [{ key: NAMESPACE_NAME_LABEL, operator: 'NotIn', values: ['y'] }] };
    check([policy('x', 'egress-not-y', podIs('a'), { egress: [{ peers: [{ namespaceSelector: notY }] }] })], 80, 'TCP', (f, t) => !is(f, 'x', 'a') || !is(t, 'y'));
  });

  for (const protocol of ['UDP', 'SCTP'] as const) {
    test(`${protocol}: default-deny-ingress in x`, () => {
      check([policy('x', 'deny-all', all, { ingress: [] })], 80, protocol, (_f, t) => !is(t, 'x'));
    });
    test(`${protocol}: port 81 from y only`, () => {
      const policies = [policy('x', 'allow-81', podIs('a'), { ingress: [{ peers: [{ namespaceSelector: nsIs('y') }], ports: [port(81, protocol)] }] })];
      check(policies, 81, protocol, (f, t) => !is(t, 'x', 'a') || is(f, 'y'));
      check(policies, 81, 'TCP', (_f, t) => !is(t, 'x', 'a'));
    });
    test(`${protocol}: only y/a, by namespace and pod selector`, () => {
      const policies = [policy('x', 'allow-y-a', podIs('a'), { ingress: [{ peers: [{ namespaceSelector: nsIs('y'), podSelector: podIs('a') }] }] })];
      check(policies, 80, protocol, (f, t) => !is(t, 'x', 'a') || is(f, 'y', 'a'));
    });
  }
});

// ----- the rest of the semantics, one fact per case

describe('ports', () => {
  const range = policy('x', 'range', podIs('a'), { ingress: [{ ports: [port(8000, 'TCP', 8080)] }] });
  const ev = new PolicyEvaluator({ policies: [range] });
  const xa = modelPod('x', 'a');
  const yb = modelPod('y', 'b');
  const cases: [string, number, Protocol, 'yes' | 'no'][] = [
    ['endPort: the first port of the range', 8000, 'TCP', 'yes'],
    ['endPort: the last port of the range (inclusive)', 8080, 'TCP', 'yes'],
    ['endPort: a port inside the range', 8042, 'TCP', 'yes'],
    ['endPort: the port after the range', 8081, 'TCP', 'no'],
    ['endPort: the port before the range', 7999, 'TCP', 'no'],
    ['endPort: a port of the range over another protocol', 8042, 'UDP', 'no'],
  ];
  for (const [name, p, protocol, want] of cases) {
    test(name, () => assert.equal(ev.evaluate({ from: { pod: yb }, to: { pod: xa }, port: p, protocol }).allowed, want));
  }

  test('an empty ports list allows every port, as an absent one does', () => {
    const e = new PolicyEvaluator({ policies: [policy('x', 'empty-ports', podIs('a'), { ingress: [{ ports: [] }] })] });
    assert.equal(e.evaluate({ from: { pod: yb }, to: { pod: xa }, port: 12345, protocol: 'UDP' }).allowed, 'yes');
  });

  test('a named egress port never matches an address outside the cluster (it has no container ports)', () => {
    const e = new PolicyEvaluator({ policies: [policy('x', 'egress-by-name', podIs('a'), { egress: [{ ports: [port('serve-80-tcp')] }] })] });
    assert.equal(e.evaluate({ from: { pod: xa }, to: { address: '203.0.113.9' }, port: 80, protocol: 'TCP' }).allowed, 'no');
    assert.equal(e.evaluate({ from: { pod: xa }, to: { pod: yb }, port: 80, protocol: 'TCP' }).allowed, 'yes');
  });

  test('a named port matches by name and protocol: serve-80-tcp does not open 80/UDP, and a pod without the name is not opened', () => {
    const e = new PolicyEvaluator({ policies: [policy('x', 'by-name', all, { ingress: [{ ports: [port('serve-80-tcp', 'UDP')] }] })] });
    assert.equal(e.evaluate({ from: { pod: yb }, to: { pod: xa }, port: 80, protocol: 'UDP' }).allowed, 'no');
    const bare: PodFacts = { ...modelPod('x', 'b'), ports: [{ port: 80, protocol: 'TCP' }] };
    const tcp = new PolicyEvaluator({ policies: [policy('x', 'by-name', all, { ingress: [{ ports: [port('serve-80-tcp')] }] })] });
    assert.equal(tcp.evaluate({ from: { pod: yb }, to: { pod: bare }, port: 80, protocol: 'TCP' }).allowed, 'no');
  });
});

describe('policyTypes, defaulted as the API server does', () => {
  const xa = modelPod('x', 'a');
  const yb = modelPod('y', 'b');
  test('unset with egress rules: Ingress and Egress', () => {
    const np = policy('x', 'p', all, { egress: [{ ports: [port(53, 'UDP')] }], types: [] });
    assert.deepEqual(policyTypesOf(np), ['Ingress', 'Egress']);
    const ev = new PolicyEvaluator({ policies: [np] });
    assert.equal(ev.evaluate({ from: { pod: xa }, to: { pod: yb }, port: 80, protocol: 'TCP' }).egress.isolated, 'yes');
    assert.equal(ev.evaluate({ from: { pod: yb }, to: { pod: xa }, port: 80, protocol: 'TCP' }).ingress.isolated, 'yes');
  });
  test('unset without egress rules: Ingress only (egress stays open)', () => {
    const np = policy('x', 'p', all, { types: [] });
    assert.deepEqual(policyTypesOf(np), ['Ingress']);
    const ev = new PolicyEvaluator({ policies: [np] });
    assert.equal(ev.evaluate({ from: { pod: xa }, to: { pod: yb }, port: 80, protocol: 'TCP' }).allowed, 'yes');
    assert.equal(ev.evaluate({ from: { pod: yb }, to: { pod: xa }, port: 80, protocol: 'TCP' }).allowed, 'no');
  });
  test('[Egress] alone leaves ingress open even with ingress rules written', () => {
    const np = policy('x', 'p', all, { ingress: [], egress: [], types: ['Egress'] });
    const ev = new PolicyEvaluator({ policies: [np] });
    assert.equal(ev.evaluate({ from: { pod: yb }, to: { pod: xa }, port: 80, protocol: 'TCP' }).allowed, 'yes');
    assert.equal(ev.evaluate({ from: { pod: xa }, to: { pod: yb }, port: 80, protocol: 'TCP' }).allowed, 'no');
  });
});

describe('selectors', () => {
  const plain = modelPod('x', 'a');
  const quarantined = modelPod('x', 'b', { quarantine: 'true' });
  const yb = modelPod('y', 'b');
  const isolatedBy = (sel: LabelSelector, pod: PodFacts) => new PolicyEvaluator({ policies: [policy('x', 'p', sel, { ingress: [] })] }).isolation(pod, 'Ingress').isolated;

  test('matchExpressions DoesNotExist isolates the pods without the key (the issue: it was read as isolating nothing)', () => {
    const sel: LabelSelector = { matchExpressions: [{ key: 'quarantine', operator: 'DoesNotExist' }] };
    assert.equal(isolatedBy(sel, plain), 'yes');
    assert.equal(isolatedBy(sel, quarantined), 'no');
  });
  test('NotIn selects a pod that lacks the key altogether', () => {
    assert.equal(isolatedBy({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['web'] }] }, plain), 'yes');
    assert.equal(isolatedBy({ matchExpressions: [{ key: 'pod', operator: 'NotIn', values: ['a'] }] }, plain), 'no');
  });
  test('Exists needs the key, In needs the key with a listed value', () => {
    assert.equal(isolatedBy({ matchExpressions: [{ key: 'quarantine', operator: 'Exists' }] }, plain), 'no');
    assert.equal(isolatedBy({ matchExpressions: [{ key: 'quarantine', operator: 'Exists' }] }, quarantined), 'yes');
    assert.equal(isolatedBy({ matchExpressions: [{ key: 'pod', operator: 'In', values: ['c', 'a'] }] }, plain), 'yes');
  });
  test('matchLabels and matchExpressions are ANDed', () => {
    const sel: LabelSelector = { matchLabels: { pod: 'b' }, matchExpressions: [{ key: 'quarantine', operator: 'Exists' }] };
    assert.equal(isolatedBy(sel, quarantined), 'yes');
    assert.equal(isolatedBy(sel, modelPod('x', 'b')), 'no');
  });
  test('an unknown operator selects nothing', () => {
    assert.equal(isolatedBy({ matchExpressions: [{ key: 'pod', operator: 'Like', values: ['a'] }] }, plain), 'no');
  });
  test('a policy selects pods of its own namespace only', () => {
    assert.equal(new PolicyEvaluator({ policies: [policy('x', 'p', all, { ingress: [] })] }).isolation(yb, 'Ingress').isolated, 'no');
  });
});

describe('addresses outside the cluster', () => {
  const xa = modelPod('x', 'a');
  const ingressFrom = (peers: NetworkPolicyPeer[]) => new PolicyEvaluator({ policies: [policy('x', 'p', podIs('a'), { ingress: [{ peers }] })] });
  test('an address is let in by an ipBlock holding it, not by a selector peer', () => {
    assert.equal(ingressFrom([{ ipBlock: { cidr: '203.0.113.0/24' } }]).evaluate({ from: { address: '203.0.113.7' }, to: { pod: xa }, port: 80, protocol: 'TCP' }).allowed, 'yes');
    assert.equal(ingressFrom([{ namespaceSelector: all }]).evaluate({ from: { address: '203.0.113.7' }, to: { pod: xa }, port: 80, protocol: 'TCP' }).allowed, 'no');
    assert.equal(ingressFrom([{ ipBlock: { cidr: '203.0.113.0/24', except: ['203.0.113.0/29'] } }]).evaluate({ from: { address: '203.0.113.7' }, to: { pod: xa }, port: 80, protocol: 'TCP' }).allowed, 'no');
  });
  test('IPv6 ipBlock with except', () => {
    const ev = ingressFrom([{ ipBlock: { cidr: '2001:db8::/32', except: ['2001:db8:bad::/48'] } }]);
    assert.equal(ev.evaluate({ from: { address: '2001:db8:1::7' }, to: { pod: xa }, port: 80, protocol: 'TCP' }).allowed, 'yes');
    assert.equal(ev.evaluate({ from: { address: '2001:db8:bad::7' }, to: { pod: xa }, port: 80, protocol: 'TCP' }).allowed, 'no');
    assert.equal(ev.evaluate({ from: { address: '203.0.113.7' }, to: { pod: xa }, port: 80, protocol: 'TCP' }).allowed, 'no', 'an IPv4 address is in no IPv6 block');
  });
  test('an address outside has no policy of its own: only the pod side decides', () => {
    const v = new PolicyEvaluator({ policies: [] }).evaluate({ from: { pod: xa }, to: { address: '198.51.100.1' }, port: 443, protocol: 'TCP' });
    assert.equal(v.allowed, 'yes');
    assert.equal(v.ingress.pod, undefined);
  });
  test('a CIDR against a pod is answered as the fewest pieces with one verdict each', () => {
    const ev = ingressFrom([{ ipBlock: { cidr: '203.0.113.0/25', except: ['203.0.113.8/29'] } }]);
    const pieces = ev.evaluateRange(parseCidr('203.0.113.0/24')!, xa, 'to', 80, 'TCP').map((p) => `${p.range.first & 0xffn}-${p.range.last & 0xffn}:${p.verdict.allowed}`);
    assert.deepEqual(pieces, ['0-7:yes', '8-15:no', '16-127:yes', '128-255:no']);
  });
});

describe('explanations', () => {
  const xa = modelPod('x', 'a');
  const yb = modelPod('y', 'b');
  test('a blocked flow names every policy that isolates each side and that no rule allows it', () => {
    const policies = [policy('y', 'deny-egress', all, { egress: [] }), policy('x', 'deny', all, { ingress: [] }), policy('x', 'web', podIs('a'), { ingress: [{ ports: [port(443)] }] })];
    const v = new PolicyEvaluator({ policies }).evaluate({ from: { pod: yb }, to: { pod: xa }, port: 80, protocol: 'TCP' });
    assert.equal(v.allowed, 'no');
    assert.deepEqual(v.egress.isolatedBy, [{ namespace: 'y', name: 'deny-egress' }]);
    assert.deepEqual(v.ingress.isolatedBy, [{ namespace: 'x', name: 'deny' }, { namespace: 'x', name: 'web' }]);
    assert.deepEqual([v.egress.allowedBy, v.ingress.allowedBy], [[], []]);
  });
  test('an allowed flow names each rule that allows it', () => {
    const policies = [policy('x', 'web', podIs('a'), { ingress: [{ ports: [port(443)] }, { peers: [{ namespaceSelector: nsIs('y') }] }] })];
    const v = new PolicyEvaluator({ policies }).evaluate({ from: { pod: yb }, to: { pod: xa }, port: 443, protocol: 'TCP' });
    assert.deepEqual(v.ingress.allowedBy, [
      { namespace: 'x', name: 'web', direction: 'Ingress', rule: 0 },
      { namespace: 'x', name: 'web', direction: 'Ingress', rule: 1 },
    ]);
  });
});

describe('what the reader may not read is named, never guessed', () => {
  const xa = modelPod('x', 'a');
  const yb = modelPod('y', 'b');
  const byTeam = [policy('x', 'from-team', podIs('a'), { ingress: [{ peers: [{ namespaceSelector: { matchLabels: { team: 'blue' } } }] }] })];
  test('a namespaceSelector on a label of a namespace whose labels are unknown: unknown, naming the namespace', () => {
    const v = new PolicyEvaluator({ policies: byTeam }).evaluate({ from: { pod: yb }, to: { pod: xa }, port: 80, protocol: 'TCP' });
    assert.equal(v.allowed, 'unknown');
    assert.deepEqual(v.ingress.unknown, ['the labels of namespace y']);
    assert.deepEqual(v.ingress.undecidedBy.map((r) => r.name), ['from-team']);
  });
  test('the same with the labels known is decided', () => {
    const ns = (team: string) => [{ name: 'y', labels: { team } }];
    assert.equal(new PolicyEvaluator({ policies: byTeam, namespaces: ns('blue') }).evaluate({ from: { pod: yb }, to: { pod: xa }, port: 80, protocol: 'TCP' }).allowed, 'yes');
    assert.equal(new PolicyEvaluator({ policies: byTeam, namespaces: ns('red') }).evaluate({ from: { pod: yb }, to: { pod: xa }, port: 80, protocol: 'TCP' }).allowed, 'no');
  });
  test('a selector the unknown labels cannot change is decided anyway (the pod part fails)', () => {
    const policies = [policy('x', 'p', podIs('a'), { ingress: [{ peers: [{ namespaceSelector: { matchLabels: { team: 'blue' } }, podSelector: podIs('zzz') }] }] })];
    assert.equal(new PolicyEvaluator({ policies }).evaluate({ from: { pod: yb }, to: { pod: xa }, port: 80, protocol: 'TCP' }).allowed, 'no');
  });
  test("unreadable policies leave a side unknown, unless the other side is known to block", () => {
    const hidden = new PolicyEvaluator({ policies: [], unreadablePolicies: ['x'] });
    const v = hidden.evaluate({ from: { pod: yb }, to: { pod: xa }, port: 80, protocol: 'TCP' });
    assert.equal(v.allowed, 'unknown');
    assert.equal(v.ingress.isolated, 'unknown');
    assert.deepEqual(v.ingress.unknown, ['the NetworkPolicies of namespace x']);
    const blocking = new PolicyEvaluator({ policies: [policy('y', 'deny-egress', all, { egress: [] })], unreadablePolicies: ['x'] });
    assert.equal(blocking.evaluate({ from: { pod: yb }, to: { pod: xa }, port: 80, protocol: 'TCP' }).allowed, 'no');
  });
});

describe("a Service's pods and what a grant would isolate for the first time (the controller's question)", () => {
  const pod = (name: string, labels: Record<string, string>): PodFacts => ({ namespace: 'db', name, labels, ips: [], ports: [] });
  const pods = [pod('db-0', { app: 'db' }), pod('db-1', { app: 'db', quarantine: 'true' }), pod('web-0', { app: 'web' })];
  const np = (podSelector: LabelSelector, types: ('Ingress' | 'Egress')[] = ['Ingress']): NetworkPolicy => ({ metadata: { namespace: 'db', name: 'np' }, spec: { podSelector, policyTypes: types } });
  const quarantine: LabelSelector = { matchExpressions: [{ key: 'quarantine', operator: 'DoesNotExist' }] };

  test('with the pods: a DoesNotExist policy isolates the pods without the key, and the rest are named', () => {
    assert.deepEqual(serviceIsolation({ policies: [np(quarantine)], namespace: 'db', selector: { app: 'db' }, direction: 'Ingress', pods }), {
      everyIsolated: false,
      pods: { isolated: ['db-0'], notIsolated: ['db-1'] },
    });
  });
  test('with the pods: a policy covering every pod of the Service', () => {
    const r = serviceIsolation({ policies: [np(quarantine)], namespace: 'db', selector: { app: 'db' }, direction: 'Ingress', pods: pods.filter((p) => p.name !== 'db-1') });
    assert.deepEqual(r, { everyIsolated: true, pods: { isolated: ['db-0'], notIsolated: [] } });
  });
  test('only the direction asked counts', () => {
    assert.equal(serviceIsolation({ policies: [np({}, ['Ingress'])], namespace: 'db', selector: { app: 'db' }, direction: 'Egress', pods }).everyIsolated, false);
  });
  test('policies the caller ignores (its own grants) do not count', () => {
    assert.equal(serviceIsolation({ policies: [np({})], namespace: 'db', selector: { app: 'db' }, direction: 'Ingress', pods, ignore: () => true }).everyIsolated, false);
  });

  // Without the pods, only what the Service selector proves about every pod it may select.
  const proofs: [string, LabelSelector, boolean][] = [
    ['an empty selector covers every pod', {}, true],
    ['matching matchLabels cover the pods', { matchLabels: { app: 'db' } }, true],
    ['a label the Service selector does not pin is not proven', { matchLabels: { tier: 'x' } }, false],
    ['In with the pinned value covers', { matchExpressions: [{ key: 'app', operator: 'In', values: ['db', 'x'] }] }, true],
    ['NotIn with another value covers', { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['x'] }] }, true],
    ['NotIn on a key the selector does not pin is not proven (the pods may carry it)', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['x'] }] }, false],
    ['Exists on a pinned key covers', { matchExpressions: [{ key: 'app', operator: 'Exists' }] }, true],
    ['DoesNotExist on an unpinned key is not proven', { matchExpressions: [{ key: 'quarantine', operator: 'DoesNotExist' }] }, false],
    ['DoesNotExist on a pinned key selects none', { matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, false],
  ];
  for (const [name, sel, expected] of proofs) {
    test(`without pods: ${name}`, () => assert.equal(serviceIsolation({ policies: [np(sel)], namespace: 'db', selector: { app: 'db' }, direction: 'Ingress' }).everyIsolated, expected));
  }
  test('with pods given but none selected yet, the selector proof answers', () => {
    assert.deepEqual(serviceIsolation({ policies: [np({})], namespace: 'db', selector: { app: 'cache' }, direction: 'Ingress', pods }), { everyIsolated: true });
  });
});

describe('pod facts from a Pod object', () => {
  test('addresses from podIPs (or podIP), container ports with TCP by default', () => {
    const pod: Pod = {
      metadata: { namespace: 'x', name: 'a', labels: { pod: 'a' } },
      spec: { containers: [{ name: 'c', ports: [{ name: 'web', containerPort: 8080 }, { containerPort: 53, protocol: 'UDP' }] }] },
      status: { podIP: '10.0.0.1', podIPs: [{ ip: '10.0.0.1' }, { ip: 'fd00::1' }] },
    };
    assert.deepEqual(podFactsOf(pod), {
      namespace: 'x',
      name: 'a',
      labels: { pod: 'a' },
      ips: ['10.0.0.1', 'fd00::1'],
      ports: [{ name: 'web', port: 8080, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }],
    });
    assert.deepEqual(podFactsOf({ metadata: { name: 'b' }, status: { podIP: '10.0.0.2' } }).ips, ['10.0.0.2']);
  });
});
