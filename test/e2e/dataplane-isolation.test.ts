// Nothing unrelated breaks (issue 15): a grant must not cut traffic it was not asked to touch. A NetworkPolicy
// isolates the pods it selects, so a grant on pods that no policy isolated yet would cut their other traffic in its
// direction (DNS included, for egress); the controller's --isolation setting decides what happens then: `skip` the
// part, `refuse` the request, or `allow` it. Packets decide here, against the real engine (kube-router enforcing what
// maxtac writes, scripts/dataplane.ts), in two namespaces: `guarded` (default-deny both ways, an allow-DNS policy and
// a policy letting one pair of pods talk, as production namespaces are) and `open` (no policy at all: everything
// talks), with a resolver in kube-system answering UDP and TCP 53 and an unrelated pair of pods talking in each.
// Under each setting three requests are made one after another (inside `guarded`, inside `open`, and from `guarded`
// to `open`), each probed as a whole truth table before, during and after: every connection that worked before
// works during and after, except, under `allow`, exactly what the grant newly isolates, which the request's status
// must say. Then drift: in a third namespace, `drifting` (deny-ingress and deny-egress), the owner deletes
// deny-ingress while a grant is Active, so the grant's own ingress policy becomes the one isolating the server;
// the status and a Warning Event must name it, and under `skip` the direction is withdrawn, as packets show.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startControlPlane, type ControlPlane } from '../../scripts/controlplane.ts';
import { dataplaneUnavailable, startDataplane, type Dataplane, type DataplanePort, type Endpoint } from '../../scripts/dataplane.ts';
import { assertReachability, cellsOf, flowsWhere, type Cell, type Flow } from '../../scripts/reachability.ts';
import { installWebhook, type InstalledWebhook } from '../support/webhook.ts';
import { installController, type InstalledController } from '../support/controller.ts';
import type { IsolationPolicy } from '../../lib/domain/plan.ts';
import type { AccessRequest, AccessRequestSpec } from '../../lib/api/accessrequest.ts';
import { LABEL_REQUEST_ID, MAXTAC_OWNER_LABELS } from '../../lib/api/markers.ts';
import { objectName } from '../../lib/domain/names.ts';
import type { CoreEvent, KubeObject, NetworkPolicy } from '../../lib/kube/types.ts';
import { waitFor } from '../support/wait.ts';
import { Users } from '../support/users.ts';

let cp: ControlPlane | undefined;
let dp: Dataplane | undefined;
let webhook: InstalledWebhook | undefined;
let controller: InstalledController | undefined;
let users: Users;

const tcp = (port: number): DataplanePort => ({ port, protocol: 'TCP' });
const udp = (port: number): DataplanePort => ({ port, protocol: 'UDP' });

let dns: Endpoint;
let gClient: Endpoint;
let gServer: Endpoint;
let gChatA: Endpoint;
let gChatB: Endpoint;
let oClient: Endpoint;
let oServer: Endpoint;
let oChatA: Endpoint;
let oChatB: Endpoint;
let guardedPods: Set<Endpoint>;
let cells: Cell[];
let dClient: Endpoint;
let dServer: Endpoint;
let driftCells: Cell[];

const FIXTURE_POLICIES = new Set(['default-deny', 'allow-dns', 'chat-a-egress', 'chat-b-ingress', 'deny-ingress', 'deny-egress']);
const DENY_INGRESS = () => policy('drifting', 'deny-ingress', { podSelector: {}, policyTypes: ['Ingress'] });

function service(namespace: string, name: string, app: string, ports: { name: string; port: number; protocol: 'TCP' | 'UDP' }[]): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace, labels: { app } }, spec: { selector: { app }, ports: ports.map((p) => ({ ...p, targetPort: p.port })) } } as KubeObject;
}

function policy(namespace: string, name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace }, spec } as KubeObject;
}

const serverPorts = [
  { name: 'tcp', port: 9000, protocol: 'TCP' as const },
  { name: 'udp', port: 9001, protocol: 'UDP' as const },
];

/**
 * What talks before any grant: pods of `guarded` only reach the resolver and, for the chat pair, each other;
 * nothing reaches them except that pair; everything else (open, the resolver) talks freely.
 */
function worksBefore(c: Cell): boolean {
  const chat = c.from === gChatA && c.to === gChatB && c.port.port === 7000;
  if (guardedPods.has(c.from) && !(chat || c.to === dns)) return false;
  if (guardedPods.has(c.to) && !chat) return false;
  return true;
}

interface Expected {
  phase: 'Active' | 'Failed';
  /** The Ready condition's reason. */
  ready: 'InForce' | 'AlreadyAllowed' | 'WouldIsolate';
  /** Flows the grant opens (already open ones included: they must stay open). */
  opens: Flow[];
  /** Pods a grant newly isolates, by direction: every other flow of theirs in that direction is cut. */
  isolates?: { egress?: Endpoint[]; ingress?: Endpoint[] };
  /** The Services and directions the status must name: as skipped (`skip`), refused (`refuse`) or isolated (`allow`). */
  says: string[];
}

function during(e: Expected): Flow[] {
  const cut = (c: Cell) => Boolean(e.isolates?.egress?.includes(c.from) || e.isolates?.ingress?.includes(c.to));
  const opens = new Set(e.opens.map((f) => `${f.from.name}|${f.to.name}|${f.port.port}/${f.port.protocol}`));
  return flowsWhere(cells, (c) => opens.has(`${c.from.name}|${c.to.name}|${c.port.port}/${c.port.protocol}`) || (worksBefore(c) && !cut(c)));
}

const probe = (from: Endpoint, to: Endpoint, port: DataplanePort) => dp!.probe(from, to, port, 1000);

async function table(title: string, open: Flow[], settle: boolean, of: Cell[] = cells): Promise<void> {
  try {
    await assertReachability(title, of, open, probe, { withinMs: settle ? 5000 : 0 });
  } catch (err) {
    const rules = await dp!.rules().catch((e: unknown) => String(e));
    throw new Error(`${(err as Error).message}\n\nkube-router's rules:\n${rules}`, { cause: err });
  }
}

async function request(name: string): Promise<AccessRequest | undefined> {
  return users.as('admin').get<AccessRequest>('accessrequests', '', name);
}

/** Clones and maxtac objects of one request (by its id label), and every grant's policy. */
async function materialized(uid: string): Promise<string[]> {
  const admin = users.as('admin');
  const selector = `${LABEL_REQUEST_ID}=${uid}`;
  const marked: KubeObject[] = [];
  for (const resource of ['services', 'accesses', 'externalaccesses'] as const) marked.push(...(await admin.list(resource, '', selector)).items);
  // Requests run one at a time: any policy besides the fixture's is a grant's.
  const policies = (await admin.list<NetworkPolicy>('networkpolicies')).items.filter((np) => !FIXTURE_POLICIES.has(np.metadata.name ?? ''));
  return [...marked, ...policies].map((o) => `${o.kind ?? '?'} ${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`);
}

/**
 * Which of `pairs` ("namespace/service direction") the texts name: a text is split into its statements (the
 * controller joins several with "; "), and a statement names a pair when it holds both the Service and the direction.
 */
function named(texts: string[], pairs: string[]): string[] {
  const statements = texts.flatMap((t) => t.split(/;\s*/));
  return pairs.filter((pair) => {
    const [svc = '', direction = ''] = pair.split(' ');
    return statements.some((s) => s.includes(svc) && s.toLowerCase().includes(direction));
  });
}

/** Every Service × direction a request could be about: the universe `says` is checked against (exactly). */
function pairsOf(spec: AccessRequestSpec): string[] {
  const services = [spec.source, spec.target].flatMap((s) => (s ? [`${s.namespace}/${s.service}`] : []));
  return services.flatMap((s) => [`${s} egress`, `${s} ingress`]);
}

const partMessages = (ar: AccessRequest) => (ar.status?.parts ?? []).flatMap((p) => (p.message ? [p.message] : []));
const condition = (ar: AccessRequest, type: string) => ar.status?.conditions?.find((c) => c.type === type);

interface Scenario {
  spec: AccessRequestSpec;
  expected: Record<IsolationPolicy, Expected>;
}

/** A scenario is built once the fixture's endpoints exist; its title and what each setting does are known before. */
interface ScenarioDef {
  title: string;
  does: Record<IsolationPolicy, string>;
  make: () => Scenario;
}

const inForce = (opens: Flow[]): Expected => ({ phase: 'Active', ready: 'InForce', opens, says: [] });

const SCENARIOS: ScenarioDef[] = [
  {
    title: 'inside guarded, client → server 9000/TCP (both ends isolated already)',
    does: { skip: 'opens exactly the grant', refuse: 'opens exactly the grant', allow: 'opens exactly the grant' },
    make: () => {
      const grant: Flow = { from: gClient, to: gServer, port: tcp(9000) };
      return {
        spec: { type: 'Service', source: { namespace: 'guarded', service: 'client' }, target: { namespace: 'guarded', service: 'server' }, ports: [{ port: 9000, protocol: 'TCP' }], duration: '1h', reason: 'isolation e2e' },
        expected: { skip: inForce([grant]), refuse: inForce([grant]), allow: inForce([grant]) },
      };
    },
  },
  {
    title: 'inside open, client → server on every port (neither end isolated)',
    does: {
      skip: 'skips both halves (already allowed) and the status says so; nothing moves',
      refuse: 'refuses the request (WouldIsolate, naming both halves); nothing moves',
      allow: "cuts the client's other egress (DNS included) and the server's other ingress while it lasts, and nothing else",
    },
    make: () => {
      const both: Flow[] = [
        { from: oClient, to: oServer, port: tcp(9000) },
        { from: oClient, to: oServer, port: udp(9001) },
      ];
      const halves = ['open/client egress', 'open/server ingress'];
      return {
        spec: { type: 'Service', source: { namespace: 'open', service: 'client' }, target: { namespace: 'open', service: 'server' }, duration: '1h', reason: 'isolation e2e' },
        expected: {
          skip: { phase: 'Active', ready: 'AlreadyAllowed', opens: both, says: halves },
          refuse: { phase: 'Failed', ready: 'WouldIsolate', opens: [], says: halves },
          // The client may then only reach the server's two ports; the server only hears the client on them.
          allow: { phase: 'Active', ready: 'InForce', opens: both, isolates: { egress: [oClient], ingress: [oServer] }, says: halves },
        },
      };
    },
  },
  {
    title: 'from guarded to open, client → server 9001/UDP (the source isolated already, the target not)',
    does: {
      skip: 'skips the target half and the status says so; the grant works all the same, nothing else moves',
      refuse: 'refuses the request (WouldIsolate, naming the target); nothing moves',
      allow: "cuts the server's other ingress while it lasts, and nothing else",
    },
    make: () => {
      const grant: Flow = { from: gClient, to: oServer, port: udp(9001) };
      return {
        spec: { type: 'Service', source: { namespace: 'guarded', service: 'client' }, target: { namespace: 'open', service: 'server' }, ports: [{ port: 9001, protocol: 'UDP' }], duration: '1h', reason: 'isolation e2e' },
        expected: {
          // Nothing isolates the server's ingress, so the source half's egress grant is all it takes.
          skip: { phase: 'Active', ready: 'InForce', opens: [grant], says: ['open/server ingress'] },
          refuse: { phase: 'Failed', ready: 'WouldIsolate', opens: [], says: ['open/server ingress'] },
          allow: { phase: 'Active', ready: 'InForce', opens: [grant], isolates: { ingress: [oServer] }, says: ['open/server ingress'] },
        },
      };
    },
  },
];

/** The statuses the `allow` requests had while in force, for the check of what they say. */
const allowStatuses: { title: string; scenario: Scenario; ar: AccessRequest }[] = [];

async function run(isolation: IsolationPolicy, def: ScenarioDef): Promise<void> {
  const scenario = def.make();
  const e = scenario.expected[isolation];
  const at = (step: string) => `--isolation ${isolation}, ${def.title}: ${step}`;
  const name = (await users.createRequest('admin', scenario.spec)).metadata.name ?? '';
  // The admin may approve every part: the request is fully approved at creation.
  const ar = await waitFor(`${name} ${e.phase} (${e.ready})`, async () => {
    const now = await request(name);
    if (now?.status?.phase !== e.phase) return undefined;
    return condition(now, 'Ready')?.reason === e.ready ? now : undefined;
  });
  const pairs = pairsOf(scenario.spec);
  const uid = ar.metadata.uid ?? '';
  if (isolation === 'skip') assert.deepEqual(named(partMessages(ar), pairs), e.says, `the parts say what was skipped: ${JSON.stringify(ar.status?.parts)}`);
  if (e.phase === 'Failed') {
    const message = condition(ar, 'Ready')?.message ?? '';
    assert.deepEqual(named([message], pairs), e.says, `the condition says what would be isolated: ${message}`);
  }
  if (isolation === 'allow') allowStatuses.push({ title: def.title, scenario, ar });
  // Nothing the engine could still be applying: no maxtac object (so no policy) exists.
  if (e.ready !== 'InForce') assert.deepEqual(await materialized(uid), [], 'nothing materialized');
  await table(at('during'), during(e), true);

  if (e.phase === 'Active') await users.decide('admin', name, 'Revoked', 'isolation e2e');
  else await users.as('admin').delete('accessrequests', '', name);
  await waitFor(`${name} closed`, async () => {
    const now = await request(name);
    return (!now || now.status?.phase === 'Revoked') && (await materialized(uid)).length === 0;
  });
  await table(at('after'), flowsWhere(cells, worksBefore), true);
}

/** What the Isolating condition says once the owner's deny-ingress is gone, and whether the server then hears others. */
const DRIFT: Record<IsolationPolicy, { reason: string; does: string; withdrawn: boolean }> = {
  skip: { reason: 'DirectionWithdrawn', does: 'the ingress half is withdrawn (deleted, not edited): the server hears everyone again, the grant still works', withdrawn: true },
  refuse: { reason: 'IsolationDrift', does: 'the grant is kept and the drift reported: only the client reaches the server', withdrawn: false },
  allow: { reason: 'IsolatesPods', does: 'the grant is kept and the status states what it now isolates: only the client reaches the server', withdrawn: false },
};

/**
 * A grant inside `drifting` (client → server 9000/TCP), in force while deny-ingress and deny-egress isolate both pods;
 * then the owner deletes deny-ingress. The grant's ingress policy on the server is now the first to isolate it.
 */
async function drift(isolation: IsolationPolicy): Promise<void> {
  const at = (step: string) => `--isolation ${isolation}, drift: ${step}`;
  const admin = users.as('admin');
  const grant: Flow = { from: dClient, to: dServer, port: tcp(9000) };
  const spec: AccessRequestSpec = { type: 'Service', source: { namespace: 'drifting', service: 'client' }, target: { namespace: 'drifting', service: 'server' }, ports: [{ port: 9000, protocol: 'TCP' }], duration: '1h', reason: 'isolation e2e: drift' };
  // Nothing talks to or from the two pods before.
  await table(at('before'), [], true, driftCells);
  const name = (await users.createRequest('admin', spec)).metadata.name ?? '';
  const ar = await waitFor(`${name} in force`, async () => {
    const now = await request(name);
    return now?.status?.phase === 'Active' && condition(now, 'Ready')?.reason === 'InForce' ? now : undefined;
  });
  assert.equal(condition(ar, 'Isolating')?.reason, 'NoNewIsolation', JSON.stringify(ar.status?.conditions));
  const uid = ar.metadata.uid ?? '';
  await table(at('in force'), [grant], true, driftCells);

  await admin.delete('networkpolicies', 'drifting', 'deny-ingress');
  const expected = DRIFT[isolation];
  const targetAccess = objectName(uid, 'targetMaxtac');
  const drifted = await waitFor(`${name} Isolating ${expected.reason}`, async () => {
    const now = await request(name);
    if (!now || condition(now, 'Isolating')?.reason !== expected.reason) return undefined;
    if (!expected.withdrawn) return now;
    // Withdrawn: the target Access and every policy it owned are gone.
    const left = (await admin.list<NetworkPolicy>('networkpolicies', 'drifting')).items.filter((np) => np.metadata.labels?.[MAXTAC_OWNER_LABELS.Access] === targetAccess);
    return left.length === 0 && !(await admin.get('accesses', 'drifting', targetAccess)) ? now : undefined;
  });
  const message = condition(drifted, 'Isolating')?.message ?? '';
  assert.deepEqual(named([message], pairsOf(spec)), ['drifting/server ingress'], `the condition names the server's ingress: ${message}`);
  assert.match(message, /1 of 1 pods of drifting\/server \(server-0, in ingress\)/);
  const events = await waitFor('the Warning Event', async () => {
    const found = (await admin.list<CoreEvent>('events', 'default')).items.filter((e) => e.involvedObject.name === name && e.reason === expected.reason);
    return found.length > 0 ? found : undefined;
  });
  assert.deepEqual(events.map((e) => [e.type, named([e.message], pairsOf(spec))]), [['Warning', ['drifting/server ingress']]]);
  assert.equal(drifted.status?.phase, 'Active');
  // The client's ingress is no longer isolated by anything: anyone reaches it. The server's only when withdrawn.
  const others: Flow[] = [{ from: oChatA, to: dClient, port: tcp(8000) }, ...(expected.withdrawn ? [{ from: oChatA, to: dServer, port: tcp(9000) }] : [])];
  await table(at('after the owner deleted deny-ingress'), [grant, ...others], true, driftCells);

  await users.decide('admin', name, 'Revoked', 'isolation e2e');
  await waitFor(`${name} closed`, async () => (await request(name))?.status?.phase === 'Revoked' && (await materialized(uid)).length === 0);
  await table(at('revoked'), [{ from: oChatA, to: dClient, port: tcp(8000) }, { from: oChatA, to: dServer, port: tcp(9000) }], true, driftCells);
  await admin.create('networkpolicies', DENY_INGRESS());
  await table(at('deny-ingress restored'), [], true, driftCells);
}

describe('nothing unrelated breaks: DNS, default-deny and open namespaces, a pair already talking, under each --isolation', () => {
  before(async () => {
    const unavailable = dataplaneUnavailable();
    if (unavailable) throw new Error(`cannot run the dataplane here: ${unavailable}`);
    cp = await startControlPlane();
    webhook = await installWebhook(cp);
    users = new Users(cp);
    const admin = users.as('admin');
    for (const ns of ['guarded', 'open', 'drifting']) await admin.call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    for (const ns of ['guarded', 'open']) {
      const p = ns[0];
      await admin.create('services', service(ns, 'client', `${p}-client`, [{ name: 'http', port: 8000, protocol: 'TCP' }]));
      await admin.create('services', service(ns, 'server', `${p}-server`, serverPorts));
    }
    const dnsPeer = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { app: 'kube-dns' } } };
    for (const np of [
      policy('guarded', 'default-deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }),
      policy('guarded', 'allow-dns', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [dnsPeer], ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }] }] }),
      policy('guarded', 'chat-a-egress', { podSelector: { matchLabels: { app: 'g-chat-a' } }, policyTypes: ['Egress'], egress: [{ to: [{ podSelector: { matchLabels: { app: 'g-chat-b' } } }], ports: [{ port: 7000, protocol: 'TCP' }] }] }),
      policy('guarded', 'chat-b-ingress', { podSelector: { matchLabels: { app: 'g-chat-b' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: { matchLabels: { app: 'g-chat-a' } } }], ports: [{ port: 7000, protocol: 'TCP' }] }] }),
    ]) {
      await admin.create('networkpolicies', np);
    }
    await admin.create('services', service('drifting', 'client', 'd-client', [{ name: 'http', port: 8000, protocol: 'TCP' }]));
    await admin.create('services', service('drifting', 'server', 'd-server', [{ name: 'tcp', port: 9000, protocol: 'TCP' }]));
    await admin.create('networkpolicies', DENY_INGRESS());
    await admin.create('networkpolicies', policy('drifting', 'deny-egress', { podSelector: {}, policyTypes: ['Egress'] }));

    dp = await startDataplane(cp);
    dns = await dp.addPod({ namespace: 'kube-system', name: 'resolver-0', labels: { app: 'kube-dns' }, ports: [udp(53), tcp(53)] });
    const pod = (namespace: string, name: string, app: string, ports: DataplanePort[]) => dp!.addPod({ namespace, name, labels: { app }, ports });
    gClient = await pod('guarded', 'client-0', 'g-client', [tcp(8000)]);
    gServer = await pod('guarded', 'server-0', 'g-server', [tcp(9000), udp(9001)]);
    gChatA = await pod('guarded', 'chat-a', 'g-chat-a', [tcp(7000)]);
    gChatB = await pod('guarded', 'chat-b', 'g-chat-b', [tcp(7000)]);
    oClient = await pod('open', 'client-0', 'o-client', [tcp(8000)]);
    oServer = await pod('open', 'server-0', 'o-server', [tcp(9000), udp(9001)]);
    oChatA = await pod('open', 'chat-a', 'o-chat-a', [tcp(7000)]);
    oChatB = await pod('open', 'chat-b', 'o-chat-b', [tcp(7000)]);
    dClient = await pod('drifting', 'client-0', 'd-client', [tcp(8000)]);
    dServer = await pod('drifting', 'server-0', 'd-server', [tcp(9000)]);
    guardedPods = new Set([gClient, gServer, gChatA, gChatB]);
    const everyone = [dns, gClient, gServer, gChatA, gChatB, oClient, oServer, oChatA, oChatB];
    cells = cellsOf(everyone, everyone);
    // The drift scenario's own table: its two pods and one from `open` that nothing isolates.
    driftCells = cellsOf([dClient, dServer, oChatA], [dClient, dServer, oChatA]);
    await dp.waitForPods();
  });

  after(async () => {
    await dp?.stop();
    await controller?.stop();
    await webhook?.close();
    await users?.close();
    await cp?.stop();
  });

  test('before any request: the guarded pods reach only the resolver (and the chat pair each other), the open ones everything but guarded', async () => {
    // The fixture's policies may still be on their way to kube-router.
    await table('before any request', flowsWhere(cells, worksBefore), true);
    // Not vacuous: both pairs talk, and DNS answers over UDP and TCP.
    for (const f of [
      { from: gChatA, to: gChatB, port: tcp(7000) },
      { from: oChatA, to: oChatB, port: tcp(7000) },
      { from: gClient, to: dns, port: udp(53) },
      { from: oClient, to: dns, port: tcp(53) },
    ]) {
      assert.ok(worksBefore(f), `${f.from.name} → ${f.to.name}`);
    }
  });

  for (const isolation of ['skip', 'refuse', 'allow'] as const) {
    describe(`--isolation ${isolation}`, () => {
      before(async () => {
        await controller?.stop();
        controller = await installController(cp!, { workers: 4, isolation });
      });

      for (const def of SCENARIOS) test(`${def.title}: ${def.does[isolation]}`, () => run(isolation, def));

      if (isolation === 'allow') {
        test('the status of each request names exactly what its grant newly isolated (the cells cut above)', () => {
          assert.equal(allowStatuses.length, 3, 'the three allow requests ran');
          for (const { title, scenario, ar } of allowStatuses) {
            const texts = [...partMessages(ar), ...(ar.status?.conditions ?? []).map((c) => c.message)];
            assert.deepEqual(named(texts, pairsOf(scenario.spec)), scenario.expected.allow.says, `${title}: ${JSON.stringify(ar.status)}`);
            // The Isolating condition alone says it too, and is True exactly when something is isolated.
            const isolating = condition(ar, 'Isolating');
            assert.deepEqual(named([isolating?.message ?? ''], pairsOf(scenario.spec)), scenario.expected.allow.says, `${title}: ${JSON.stringify(isolating)}`);
            assert.equal(isolating?.reason, scenario.expected.allow.says.length > 0 ? 'IsolatesPods' : 'NoNewIsolation');
          }
        });
      }

      test(`drift, the owner deletes their deny-ingress while a grant is Active: ${DRIFT[isolation].does}`, () => drift(isolation));
    });
  }
});
