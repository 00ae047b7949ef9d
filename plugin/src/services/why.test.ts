import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { run } from '../cli.ts';
import type { NetworkPolicy, Pod, Service } from '../../../lib/kube/types.ts';
import { FakePort, type FakeOptions } from '../../../test/support/fake-plugin-port.ts';
import { captured } from '../../../test/support/streams.ts';
import type { WhyResult } from './why.ts';

// ----- a small cluster: monitoring/prometheus (one pod) → payments/database (two pods, 5432 → targetPort 15432,
// 9187 → the container port named `metrics`), and shop/frontend (443 → 8443) for addresses outside.

function pod(namespace: string, name: string, labels: Record<string, string>, ip: string, ports: { name?: string; containerPort: number }[]): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace, name, labels },
    spec: { containers: [{ name: 'main', ports }] },
    status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] },
  };
}

function service(namespace: string, name: string, ports: { port: number; targetPort?: number | string }[]): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace, name }, spec: { selector: { app: name }, ports: ports.map((p) => ({ ...p, protocol: 'TCP' as const })) } };
}

function np(namespace: string, name: string, spec: NetworkPolicy['spec']): { kind: 'networkpolicies'; namespace: string; object: NetworkPolicy } {
  return { kind: 'networkpolicies', namespace, object: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace, name }, spec } };
}

const denyAll = (namespace: string) => np(namespace, 'default-deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] });

const PODS = [
  pod('monitoring', 'prometheus-0', { app: 'prometheus' }, '10.1.0.1', [{ name: 'web', containerPort: 9090 }]),
  pod('payments', 'database-0', { app: 'database' }, '10.2.0.1', [{ name: 'pg', containerPort: 15432 }, { name: 'metrics', containerPort: 9187 }]),
  pod('payments', 'database-1', { app: 'database', tier: 'replica' }, '10.2.0.2', [{ name: 'pg', containerPort: 15432 }]),
  pod('shop', 'frontend-0', { app: 'frontend' }, '10.3.0.1', [{ containerPort: 8443 }]),
];
const SERVICES = [
  service('monitoring', 'prometheus', [{ port: 9090 }]),
  service('payments', 'database', [{ port: 5432, targetPort: 15432 }, { port: 9187, targetPort: 'metrics' }]),
  service('shop', 'frontend', [{ port: 443, targetPort: 8443 }]),
];

const egressToDatabase = np('monitoring', 'prometheus-egress', {
  podSelector: { matchLabels: { app: 'prometheus' } },
  policyTypes: ['Egress'],
  egress: [{ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'payments' } }, podSelector: { matchLabels: { app: 'database' } } }], ports: [{ port: 15432 }] }],
});
const ingressFromMonitoring = np('payments', 'from-monitoring', {
  podSelector: { matchLabels: { app: 'database' } },
  policyTypes: ['Ingress'],
  ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'observability' } } }], ports: [{ port: 'pg' }] }],
});

function cluster(over: FakeOptions = {}): FakePort {
  return new FakePort({
    services: SERVICES,
    pods: PODS,
    namespaceLabels: { monitoring: { team: 'observability' }, payments: {}, shop: {} },
    objects: [denyAll('monitoring'), denyAll('payments'), denyAll('shop')],
    ...over,
  });
}

async function cli(argv: string[], port: FakePort): Promise<{ code: number; out: string; err: string }> {
  const io = captured();
  const code = await run(argv, { stdout: io.stdout, stderr: io.stderr, stdin: new PassThrough(), makePort: () => port, interrupted: Promise.resolve() });
  return { code, out: io.out(), err: io.err() };
}

async function json(argv: string[], port: FakePort): Promise<WhyResult> {
  const r = await cli([...argv, '-o', 'json'], port);
  assert.equal(r.code, 0, r.err);
  return JSON.parse(r.out) as WhyResult;
}

const PROM_TO_DB = ['why', '--from', 'monitoring/prometheus', '--to', 'payments/database', '--port', '5432'];

describe('kubectl netwatch why', () => {
  test('blocked by default-deny on both sides: names each isolating policy, that no rule allows it, and the request that opens it', async () => {
    const { code, out } = await cli(PROM_TO_DB, cluster());
    assert.equal(code, 0);
    assert.equal(
      out,
      [
        'BLOCKED: monitoring/prometheus → payments/database on 5432/TCP (pod port 15432)',
        '',
        'egress of monitoring/prometheus (1 pod)',
        '  isolated by:  monitoring/default-deny',
        '  allowed by:   no rule of those policies',
        'ingress of payments/database (2 pods)',
        '  isolated by:  payments/default-deny',
        '  allowed by:   no rule of those policies',
        '',
        'To open it, ask for access:',
        '  kubectl netwatch request service --from monitoring/prometheus --to payments/database --ports 5432/TCP --duration 1h --reason "<why you need it>"',
        '',
      ].join('\n'),
    );
  });

  test('allowed: each side names the rule that allows it (named port resolved on the pods, namespace matched by label)', async () => {
    const r = await json(PROM_TO_DB, cluster({ objects: [denyAll('monitoring'), denyAll('payments'), egressToDatabase, ingressFromMonitoring] }));
    assert.equal(r.answer, 'allowed');
    assert.deepEqual(r.egress?.allowedBy, ['monitoring/prometheus-egress egress rule 1']);
    assert.deepEqual(r.ingress.allowedBy, ['payments/from-monitoring ingress rule 1']);
    assert.deepEqual(r.ingress.isolatedBy, ['payments/default-deny', 'payments/from-monitoring']);
    assert.deepEqual(r.pairs.map((p) => `${p.from} → ${p.to} :${p.port} ${p.allowed}`), [
      'monitoring/prometheus-0 → payments/database-0 :15432 yes',
      'monitoring/prometheus-0 → payments/database-1 :15432 yes',
    ]);
    assert.equal(r.open, undefined);
  });

  test('partly allowed when a policy opens only some of the target pods; the pairs say which', async () => {
    const onlyPrimary = np('payments', 'primary-only', {
      podSelector: { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ namespaceSelector: {} }] }],
    });
    const port = cluster({ objects: [denyAll('payments'), onlyPrimary] });
    const { out } = await cli(PROM_TO_DB, port);
    assert.match(out, /^PARTLY ALLOWED: /);
    assert.match(out, /isolated by: {2}nothing \(no NetworkPolicy selects its pods for egress: all egress is allowed\)/);
    assert.match(out, /monitoring\/prometheus-0 → payments\/database-0 :15432 {3}allowed \(ingress: payments\/primary-only ingress rule 1\)/);
    assert.match(out, /monitoring\/prometheus-0 → payments\/database-1 :15432 {3}blocked \(ingress: no rule allows it\)/);
    assert.match(out, /To open the rest, ask for access:\n {2}kubectl netwatch request service/);
  });

  test('a CIDR outside the cluster: its addresses in the fewest pieces with one answer each', async () => {
    const partner = np('shop', 'partner', {
      podSelector: {},
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ ipBlock: { cidr: '203.0.113.0/25', except: ['203.0.113.64/26'] } }], ports: [{ port: 8443, protocol: 'TCP' }] }],
    });
    const port = cluster({ objects: [denyAll('shop'), partner] });
    const r = await json(['why', '--from', '203.0.113.0/24', '--to', 'shop/frontend', '--port', '443/tcp'], port);
    assert.equal(r.answer, 'partly allowed');
    assert.equal(r.egress, undefined);
    assert.deepEqual(r.pairs.map((p) => `${p.from} ${p.allowed}`), ['203.0.113.0/26 yes', '203.0.113.64/26 no', '203.0.113.128/25 no']);
    assert.equal(r.open, 'kubectl netwatch request external --cidr 203.0.113.0/24 --to shop/frontend --direction ingress --ports 443/TCP --duration 1h --reason "<why you need it>"');
    const text = await cli(['why', '--from', '203.0.113.9', '--to', 'shop/frontend', '--port', '443'], port);
    assert.match(text.out, /^ALLOWED: 203\.0\.113\.9\/32 → shop\/frontend on 443\/TCP \(pod port 8443\)\n\n203\.0\.113\.9\/32 is outside the cluster/);
  });

  test('what the user may not read is named, and the answer is unknown rather than guessed', async () => {
    const port = cluster({ forbidden: ['list pods monitoring', 'list networkpolicies payments'] });
    const { out } = await cli(PROM_TO_DB, port);
    assert.match(out, /^UNKNOWN: /);
    assert.match(out, /not readable with your permissions \(nothing is assumed about them\):\n {2}the pods of namespace monitoring \(list pods in monitoring\)\n {2}the NetworkPolicies of namespace payments \(list networkpolicies in payments\)/);
    assert.match(out, /cannot list the pods of Service monitoring\/prometheus: the pods of namespace monitoring could not be read/);
    assert.match(out, /\negress of monitoring\/prometheus \(its pods could not be listed\)\ningress of payments\/database \(2 pods\)\n {2}isolated by: {2}unknown: the NetworkPolicies of its namespace could not be read\n/);
    assert.doesNotMatch(out, /To open it/);
  });

  test('a Service the user may not read leaves its side unknown, named as such', async () => {
    const r = await json(PROM_TO_DB, cluster({ forbidden: ['get services monitoring'] }));
    assert.equal(r.answer, 'unknown');
    assert.deepEqual(r.notReadable, ['Service monitoring/prometheus (get services in monitoring)']);
    assert.deepEqual(r.notes, ['cannot list the pods of Service monitoring/prometheus: its selector could not be read']);
    assert.deepEqual(r.pairs, []);
  });

  test("unreadable target policies do not matter when the source's egress is known to block", async () => {
    const r = await json(PROM_TO_DB, cluster({ forbidden: ['list networkpolicies payments'] }));
    assert.equal(r.answer, 'blocked');
    assert.equal(r.ingress.unknownPods, 2);
    assert.deepEqual(r.notReadable, ['the NetworkPolicies of namespace payments (list networkpolicies in payments)']);
  });

  test('a namespaceSelector on labels the user may not read leaves the flow undecided, naming the namespace', async () => {
    const port = cluster({ objects: [denyAll('payments'), ingressFromMonitoring], forbidden: ['get namespaces monitoring'] });
    const { out } = await cli(PROM_TO_DB, port);
    assert.match(out, /^UNKNOWN: /);
    assert.match(out, /undecided: depends on the labels of namespace monitoring/);
    assert.match(out, /the labels of namespace monitoring \(get namespaces monitoring\)/);
  });

  test("a named targetPort resolves per pod; a pod without that container port is said not to serve it", async () => {
    const r = await json(['why', '--from', 'monitoring/prometheus', '--to', 'payments/database', '--port', '9187'], cluster({ objects: [] }));
    assert.deepEqual(r.pairs.map((p) => [p.to, p.port, p.allowed, p.note]), [
      ['payments/database-0', 9187, 'yes', undefined],
      ['payments/database-1', undefined, 'no', 'payments/database-1 has no container port for 9187/TCP'],
    ]);
  });

  test('a port that is not a Service port is evaluated as the pods’ own, and no request is offered for it', async () => {
    const { out } = await cli(['why', '--from', 'monitoring/prometheus', '--to', 'payments/database', '--port', '15432'], cluster());
    assert.match(out, /^BLOCKED: /);
    assert.match(out, /15432\/TCP is not a port of Service payments\/database: evaluated as the pods' own port/);
    assert.match(out, /a request names ports of Service payments\/database, and 15432\/TCP is not one of them/);
    assert.doesNotMatch(out, /To open it/);
  });

  test('a pod behind both Services is not paired with itself, and the note says so', async () => {
    const r = await json(['why', '--from', 'payments/database', '--to', 'payments/database', '--port', '5432'], cluster({ objects: [] }));
    assert.deepEqual(r.pairs.map((p) => `${p.from} → ${p.to}`), ['payments/database-1 → payments/database-0', 'payments/database-0 → payments/database-1']);
    assert.deepEqual(r.notes, ['a pod behind both Services reaching itself is left out (NetworkPolicy engines differ there)']);
  });

  test('-o yaml prints the same answer as YAML', async () => {
    const { code, out } = await cli([...PROM_TO_DB, '-o', 'yaml'], cluster());
    assert.equal(code, 0);
    assert.match(out, /^from:\n {2}service: monitoring\/prometheus\n/);
    assert.match(out, /\nanswer: blocked\n/);
  });

  const refusals: [string, string[], RegExp][] = [
    ['a malformed address', ['--from', '10.0.0.300/8'], /error: --from "10\.0\.0\.300\/8" is not an address or CIDR/],
    ['a port that is not PORT[/PROTOCOL]', ['--port', '5432/ICMP'], /error: --port "5432\/ICMP" is not PORT\[\/PROTOCOL\]/],
    ['a target that is not NAMESPACE/SERVICE', ['--to', 'a/b/c'], /error: --to "a\/b\/c" is not NAMESPACE\/SERVICE/],
    ['a Service that does not exist', ['--to', 'payments/nope'], /error: Service payments\/nope does not exist\nhint: list Services with: kubectl get services -n payments/],
  ];
  for (const [name, override, message] of refusals) {
    test(`refuses ${name} with exit 1, naming the flag`, async () => {
      const args = { '--from': 'monitoring/prometheus', '--to': 'payments/database', '--port': '5432' } as Record<string, string>;
      for (let i = 0; i < override.length; i += 2) args[override[i] ?? ''] = override[i + 1] ?? '';
      const port = cluster();
      const { code, err } = await cli(['why', ...Object.entries(args).flat()], port);
      assert.equal(code, 1, err);
      assert.match(err, message);
    });
  }

  test('--port is required', async () => {
    const { code, err } = await cli(['why', '--from', 'monitoring/prometheus', '--to', 'payments/database'], cluster());
    assert.equal(code, 1);
    assert.match(err, /port/);
  });
});
