import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AccessRequest, AccessRequestSpec } from '../api/accessrequest.ts';
import { MAXTAC_OWNER_LABELS } from '../api/markers.ts';
import { KubeError } from '../kube/errors.ts';
import type { NetworkPolicy, Pod, Service, ServicePort } from '../kube/types.ts';
import { objectName } from './names.ts';
import { cidrClasses, gatherPreviewFacts, previewLines, previewOf, previewSummary, type PreviewFacts, type Unreadable } from './preview.ts';
import { externalSpec, serviceSpec } from '../../test/support/builders.ts';

const UID = '11111111-2222-3333-4444-555555555555';

function request(spec: AccessRequestSpec, status: AccessRequest['status'] = undefined): AccessRequest {
  return { apiVersion: 'netwatch.vtk.io/v1alpha1', kind: 'AccessRequest', metadata: { name: 'ar-1', uid: UID }, spec, ...(status ? { status } : {}) };
}

function service(namespace: string, name: string, selector: Record<string, string>, ports: ServicePort[]): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace, name }, spec: { selector, ports } };
}

function pod(namespace: string, name: string, labels: Record<string, string>, phase = 'Running'): Pod {
  return { metadata: { namespace, name, labels }, status: { phase, podIP: '10.1.0.1' } };
}

function policy(namespace: string, name: string, spec: NetworkPolicy['spec'], labels?: Record<string, string>): NetworkPolicy {
  return { metadata: { namespace, name, ...(labels ? { labels } : {}) }, spec };
}

const denyAll = (ns: string, types: ('Ingress' | 'Egress')[] = ['Ingress', 'Egress']) => policy(ns, 'default-deny', { podSelector: {}, policyTypes: types });

const PROM = service('monitoring', 'prometheus', { app: 'prometheus' }, [{ name: 'web', port: 9090, protocol: 'TCP', targetPort: 9090 }]);
const DB = service('default', 'database', { app: 'database' }, [
  { name: 'pg', port: 5432, protocol: 'TCP', targetPort: 15432 },
  { name: 'metrics', port: 9187, protocol: 'TCP', targetPort: 9187 },
]);
const FRONT = service('shop', 'frontend', { app: 'frontend' }, [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 'https' }]);

const promPods = [pod('monitoring', 'prometheus-1', { app: 'prometheus' }), pod('monitoring', 'prometheus-0', { app: 'prometheus' }), pod('monitoring', 'grafana', { app: 'grafana' })];
const dbPods = [pod('default', 'database-0', { app: 'database' }), pod('default', 'database-old', { app: 'database' }, 'Succeeded')];

function facts(over: Partial<Omit<PreviewFacts, 'request'>> & { request: AccessRequest }): PreviewFacts {
  return {
    services: new Map<string, Service | null | Unreadable>([
      ['monitoring/prometheus', PROM],
      ['default/database', DB],
      ['shop/frontend', FRONT],
    ]),
    pods: new Map([
      ['monitoring', promPods],
      ['default', dbPods],
      ['shop', [pod('shop', 'frontend-a', { app: 'frontend' })]],
    ]),
    policies: new Map([
      ['monitoring', [denyAll('monitoring')]],
      ['default', [denyAll('default')]],
      ['shop', [denyAll('shop')]],
    ]),
    ...over,
  };
}

describe('preview of a Service request', () => {
  test('each half names the pods its Service selects now, running ones only, sorted, and the resolved ports', () => {
    const p = previewOf(facts({ request: request(serviceSpec()) }));
    const [source, target] = p.halves;
    assert.equal(source?.service, 'monitoring/prometheus');
    assert.deepEqual(source?.directions, ['Egress']);
    assert.equal(source?.peer, 'default/database');
    assert.deepEqual(source?.pods, { count: 2, names: ['prometheus-0', 'prometheus-1'] });
    assert.deepEqual(target?.pods, { count: 1, names: ['database-0'] });
    assert.deepEqual(target?.directions, ['Ingress']);
    // Both clones carry the target's requested ports: the pods see its targetPort.
    assert.deepEqual(source?.ports, [{ port: 5432, protocol: 'TCP', targetPort: 15432 }]);
    assert.deepEqual(target?.ports, source?.ports);
  });

  test('empty ports resolve to every port of the target Service', () => {
    const p = previewOf(facts({ request: request(serviceSpec({ ports: [] })) }));
    assert.deepEqual(
      p.halves[0]?.ports,
      [
        { port: 5432, protocol: 'TCP', targetPort: 15432 },
        { port: 9187, protocol: 'TCP', targetPort: 9187 },
      ],
    );
  });

  test('a port the target does not have is named as not resolved', () => {
    const p = previewOf(facts({ request: request(serviceSpec({ ports: [{ port: 1, protocol: 'UDP' }] })) }));
    assert.match((p.halves[0]?.ports as Unreadable).unreadable, /port 1\/UDP is not a port of Service default\/database/);
  });

  test('pods the viewer may not list are said to be not readable, never counted', () => {
    const p = previewOf(facts({ request: request(serviceSpec()), pods: new Map([['monitoring', { unreadable: 'you may not read pods in monitoring' }]]) }));
    assert.match((p.halves[0]?.pods as Unreadable).unreadable, /^not readable by you \(you may not read pods in monitoring\)/);
    assert.match(previewLines(p).map((l) => l.text).join('\n'), /pods: not readable by you/);
  });

  test('a Service the viewer may not read leaves its pods, ports and isolation unknown', () => {
    const p = previewOf(
      facts({
        request: request(serviceSpec()),
        services: new Map<string, Service | null | Unreadable>([
          ['monitoring/prometheus', PROM],
          ['default/database', { unreadable: 'you may not read Service default/database' }],
        ]),
      }),
    );
    const target = p.halves[1];
    assert.match((target?.pods as Unreadable).unreadable, /not readable by you/);
    assert.match((target?.ports as Unreadable).unreadable, /^as requested \(5432\/TCP\); not resolved/);
    assert.equal(target?.isolation[0]?.state, 'unknown');
    assert.match(p.planned[1]?.pods ?? '', /Service not readable by you/);
  });

  test('a Service that does not exist is said so', () => {
    const p = previewOf(facts({ request: request(serviceSpec()), services: new Map<string, Service | null | Unreadable>([['monitoring/prometheus', PROM], ['default/database', null]]) }));
    assert.match((p.halves[1]?.ports as Unreadable).unreadable, /Service default\/database does not exist/);
    assert.match(p.halves[1]?.isolation[0]?.detail ?? '', /does not exist/);
  });
});

describe('isolation risk per side', () => {
  const cases: {
    name: string;
    policies: NetworkPolicy[] | Unreadable;
    pods?: Pod[] | Unreadable;
    state: 'isolated' | 'would-isolate' | 'unknown';
    detail: RegExp;
  }[] = [
    { name: 'a default-deny of both directions isolates', policies: [denyAll('monitoring')], state: 'isolated', detail: /every pod \(2\) is isolated in egress already, by default-deny/ },
    { name: 'no policy at all: a grant would isolate', policies: [], state: 'would-isolate', detail: /no NetworkPolicy isolates 2 of 2 pods in egress yet \(prometheus-0, prometheus-1\)/ },
    { name: 'an ingress-only default-deny leaves egress open', policies: [denyAll('monitoring', ['Ingress'])], state: 'would-isolate', detail: /2 of 2 pods in egress/ },
    {
      name: 'a policy selecting only some pods names the rest',
      policies: [policy('monitoring', 'only-0', { podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['prometheus'] }] }, policyTypes: ['Egress'] }), policy('monitoring', 'other', { podSelector: { matchLabels: { app: 'grafana' } }, policyTypes: ['Egress'] })],
      pods: [pod('monitoring', 'prometheus-0', { app: 'prometheus' }), pod('monitoring', 'prometheus-1', { app: 'prometheus', quarantine: 'yes' })],
      state: 'isolated',
      detail: /every pod \(2\)/,
    },
    {
      name: 'DoesNotExist on another key isolates the pods without that key, and says which are not',
      policies: [policy('monitoring', 'not-quarantined', { podSelector: { matchExpressions: [{ key: 'quarantine', operator: 'DoesNotExist' }] }, policyTypes: ['Egress'] })],
      pods: [pod('monitoring', 'prometheus-0', { app: 'prometheus' }), pod('monitoring', 'prometheus-1', { app: 'prometheus', quarantine: 'yes' })],
      state: 'would-isolate',
      detail: /1 of 2 pods in egress yet \(prometheus-1\); the others by not-quarantined/,
    },
    {
      name: 'without the pods, the selector proof alone: a DoesNotExist on another key is not proven',
      policies: [policy('monitoring', 'not-quarantined', { podSelector: { matchExpressions: [{ key: 'quarantine', operator: 'DoesNotExist' }] }, policyTypes: ['Egress'] })],
      pods: { unreadable: 'you may not read pods in monitoring' },
      state: 'would-isolate',
      detail: /judged by its selector/,
    },
    {
      name: 'without the pods, a policy selecting the Service labels proves isolation',
      policies: [policy('monitoring', 'prom', { podSelector: { matchLabels: { app: 'prometheus' } }, policyTypes: ['Egress'] })],
      pods: { unreadable: 'you may not read pods in monitoring' },
      state: 'isolated',
      detail: /isolated in egress already, by prom/,
    },
    {
      name: "netwatch's own policy for this request does not count (once Active it would)",
      policies: [policy('monitoring', 'maxtac-own', { podSelector: {}, policyTypes: ['Egress'] }, { [MAXTAC_OWNER_LABELS.Access]: objectName(UID, 'sourceMaxtac') })],
      state: 'would-isolate',
      detail: /2 of 2 pods/,
    },
    {
      name: 'a policy being deleted does not count',
      policies: [{ ...denyAll('monitoring'), metadata: { namespace: 'monitoring', name: 'going', deletionTimestamp: '2026-01-01T00:00:00Z' } }],
      state: 'would-isolate',
      detail: /2 of 2 pods/,
    },
    { name: 'policies the viewer may not read: unknown, named', policies: { unreadable: 'you may not read NetworkPolicies in monitoring' }, state: 'unknown', detail: /not known: you may not read NetworkPolicies in monitoring/ },
    { name: 'a Service that selects no pod now is judged by its selector', policies: [], pods: [], state: 'would-isolate', detail: /it selects no pod now/ },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const p = previewOf(
        facts({
          request: request(serviceSpec()),
          policies: new Map([['monitoring', c.policies], ['default', [denyAll('default')]]]),
          ...(c.pods ? { pods: new Map([['monitoring', c.pods], ['default', dbPods]]) } : {}),
        }),
      );
      const side = p.halves[0]?.isolation[0];
      assert.equal(side?.direction, 'Egress');
      assert.equal(side?.state, c.state, side?.detail);
      assert.match(side?.detail ?? '', c.detail);
    });
  }

  test('a side that would be isolated says what each --isolation setting does and what allow cuts', () => {
    const p = previewOf(facts({ request: request(serviceSpec()), policies: new Map([['monitoring', []], ['default', [denyAll('default')]]]) }));
    const side = p.halves[0]?.isolation[0];
    assert.match(side?.outcomes.skip ?? '', /egress is left out/);
    assert.match(side?.outcomes.refuse ?? '', /WouldIsolate/);
    assert.match(side?.outcomes.allow ?? '', /cuts every other egress of those pods, DNS included: anything but default\/database on 5432\/TCP/);
    assert.deepEqual(p.planned[0]?.leftOutBySkip, ['Egress']);
    assert.deepEqual(p.planned[1]?.leftOutBySkip, []);
    const text = previewLines(p).map((l) => l.text).join('\n');
    assert.match(text, /--isolation=skip \(default\): egress is left out/);
    assert.match(text, /under --isolation=skip without Egress/);
    assert.match(previewSummary(p)[0] ?? '', /monitoring\/prometheus: 2 pods, egress 5432\/TCP \(pods' 15432\); not isolated in egress yet/);
    assert.match(previewSummary(p)[1] ?? '', /default\/database: 1 pod, ingress .*already isolated, cuts nothing/);
  });

  test('an isolated side says a grant adds a rule and cuts nothing, under every setting', () => {
    const side = previewOf(facts({ request: request(serviceSpec()) })).halves[1]?.isolation[0];
    assert.equal(side?.state, 'isolated');
    assert.deepEqual(new Set(Object.values(side?.outcomes ?? {})), new Set(['granted; adds an allow rule, cuts nothing']));
    assert.equal(side?.cut, '');
  });
});

describe('the NetworkPolicies maxtac would write, and the real ones', () => {
  test('planned: the Service selectors, the peer in its namespace, the pods target ports', () => {
    const p = previewOf(facts({ request: request(serviceSpec()) }));
    assert.deepEqual(
      p.planned.map((np) => [np.namespace, np.pods, np.policyTypes, np.peers, np.ports]),
      [
        ['monitoring', 'pods app=prometheus', ['Egress'], 'Egress to pods app=database in namespace default', '15432/TCP'],
        ['default', 'pods app=database', ['Ingress'], 'Ingress from pods app=prometheus in namespace monitoring', '15432/TCP'],
      ],
    );
    assert.equal(p.real, undefined);
    assert.match(previewLines(p).map((l) => l.text).join('\n'), /NetworkPolicies maxtac would write/);
  });

  test('once materialized: the policies owned by its maxtac objects, by uid, and nothing else', () => {
    const accessName = objectName(UID, 'targetMaxtac');
    const mine = policy('default', 'access-np', { podSelector: { matchLabels: { app: 'database' } }, policyTypes: ['Ingress'] });
    mine.metadata.ownerReferences = [{ apiVersion: 'maxtac.vtk.io/v1alpha1', kind: 'Access', name: 'renamed', uid: 'uid-t' }];
    const other = policy('default', 'someone-else', { podSelector: {}, policyTypes: ['Ingress'] });
    other.metadata.ownerReferences = [{ apiVersion: 'maxtac.vtk.io/v1alpha1', kind: 'Access', name: 'other', uid: 'uid-x' }];
    const r = request(serviceSpec(), {
      phase: 'Active',
      objects: [{ apiVersion: 'maxtac.vtk.io/v1alpha1', kind: 'Access', namespace: 'default', name: accessName, uid: 'uid-t', part: 'target' }],
    });
    const p = previewOf(facts({ request: r, policies: new Map([['monitoring', { unreadable: 'you may not read NetworkPolicies in monitoring' }], ['default', [denyAll('default'), mine, other]]]) }));
    assert.deepEqual(p.real, [
      { namespace: 'monitoring', items: { unreadable: 'you may not read NetworkPolicies in monitoring' } },
      { namespace: 'default', items: [{ namespace: 'default', name: 'access-np', policyTypes: ['Ingress'], owner: 'Access/renamed' }] },
    ]);
    const text = previewLines(p, { materialized: true }).map((l) => l.text).join('\n');
    assert.match(text, /NetworkPolicies in force/);
    assert.match(text, /default\/access-np \(Ingress\) by Access\/renamed/);
    assert.match(text, /monitoring: not readable by you/);
    assert.doesNotMatch(text, /--isolation=refuse/);
  });
});

describe('External requests: addresses and their risk class', () => {
  test('one half in the Service namespace, with the CIDR as peer, and the address count', () => {
    const p = previewOf(facts({ request: request(externalSpec({ cidrs: ['203.0.113.7/32', '10.0.0.0/24'], direction: 'both' })) }));
    assert.equal(p.halves.length, 1);
    assert.deepEqual(p.halves[0]?.directions, ['Ingress', 'Egress']);
    assert.equal(p.halves[0]?.peer, '203.0.113.7/32, 10.0.0.0/24');
    assert.deepEqual(p.halves[0]?.ports, [{ port: 443, protocol: 'TCP', targetPort: 'https' }]);
    assert.deepEqual(p.cidrs?.items.map((c) => [c.cidr, c.addresses, c.classes]), [
      ['203.0.113.7/32', '1 IPv4 address (a /32)', ['public']],
      ['10.0.0.0/24', '256 IPv4 addresses (a /24)', ['private']],
    ]);
    assert.deepEqual(p.cidrs?.total, ['257 IPv4 addresses']);
    assert.equal(p.planned[0]?.peers, 'Ingress from 203.0.113.7/32, 10.0.0.0/24; Egress to 203.0.113.7/32, 10.0.0.0/24');
    assert.equal(p.planned[0]?.ports, 'https/TCP');
  });

  const classes: [string, string[], string[]][] = [
    ['8.8.8.8/32', [], ['public']],
    ['192.168.1.0/24', [], ['private']],
    ['172.16.0.0/12', [], ['private']],
    ['fd12:3456::/64', [], ['private']],
    ['169.254.169.254/32', [], ['link-local/metadata']],
    ['fe80::1/128', [], ['link-local/metadata']],
    ['fd00:ec2::254/128', [], ['link-local/metadata', 'private']],
    ['100.100.100.200/32', [], ['link-local/metadata', 'special']],
    ['10.244.1.0/24', ['10.244.0.0/16'], ['cluster', 'private']],
    ['127.0.0.1/32', [], ['special']],
    ['100.64.0.0/10', [], ['link-local/metadata', 'special']],
    ['64:ff9b::808:808/128', [], ['special']],
    ['10.0.0.0/7', [], ['public', 'private']],
    ['0.0.0.0/0', [], ['public', 'link-local/metadata', 'private', 'special']],
    ['2001:db8::/32', [], ['public']],
  ];
  for (const [cidr, cluster, want] of classes) {
    test(`${cidr}${cluster.length ? ` (cluster ${cluster.join()})` : ''} is ${want.join(' + ')}`, () => {
      assert.deepEqual(cidrClasses(cidr, cluster), want);
    });
  }
});

describe('gathering through the viewer', () => {
  test('refusals become named unreadables; the rest is read once per namespace', async () => {
    const calls: string[] = [];
    const reader = {
      getService: async (ns: string, name: string) => {
        calls.push(`svc ${ns}/${name}`);
        if (ns === 'default') throw new KubeError(403, 'Forbidden', 'no');
        return PROM;
      },
      listPods: async (ns: string) => {
        calls.push(`pods ${ns}`);
        return ns === 'monitoring' ? promPods : [];
      },
      listNetworkPolicies: async (ns: string) => {
        calls.push(`np ${ns}`);
        if (ns === 'monitoring') throw new KubeError(403, 'Forbidden', 'no');
        return [];
      },
    };
    const f = await gatherPreviewFacts(reader, request(serviceSpec()));
    assert.deepEqual(calls.sort(), ['np default', 'np monitoring', 'pods default', 'pods monitoring', 'svc default/database', 'svc monitoring/prometheus']);
    assert.deepEqual(f.services.get('default/database'), { unreadable: 'you may not read Service default/database' });
    assert.deepEqual(f.policies.get('monitoring'), { unreadable: 'you may not read NetworkPolicies in monitoring' });
    assert.equal((f.pods.get('monitoring') as Pod[]).length, 3);
  });

  test('no answer from the API server fails the preview', async () => {
    const reader = {
      getService: async () => {
        throw new KubeError(0, 'NoAnswer', 'connection refused');
      },
      listPods: async () => [],
      listNetworkPolicies: async () => [],
    };
    await assert.rejects(gatherPreviewFacts(reader, request(serviceSpec())), /connection refused/);
  });
});
