// AccessPolicies against the real control plane: the CRD as the API server validates it, the webhook enforcing the
// rules from its informer (refuse, max duration, reason pattern, auto-approve, N-of-M with the requester and repeats
// not counted, a policy edited while a request waits), the controller and maxtac turning the outcome into Active,
// and `kubectl netwatch describe` / Events naming the rule.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { parseAllDocuments } from 'yaml';
import type { KubernetesObject } from '@kubernetes/client-node';
import { applyObjects, roleBinding, startControlPlane, type ControlPlane } from '../../scripts/controlplane.ts';
import type { AccessRequest, AccessRequestSpec } from '../../lib/api/accessrequest.ts';
import type { AccessPolicy } from '../../lib/api/accesspolicy.ts';
import { KubeError } from '../../lib/kube/errors.ts';
import { installWebhook, type InstalledWebhook } from '../support/webhook.ts';
import { installController, type InstalledController } from '../support/controller.ts';
import { Users } from '../support/users.ts';
import { Admin, waitFor, waitForPhase } from '../support/admin.ts';
import { run } from '../../plugin/src/cli.ts';
import { captured } from '../support/streams.ts';
import { serviceSpec } from '../support/builders.ts';

const REPO = new URL('../..', import.meta.url).pathname;
const DBAS = ['dba1', 'dba2', 'dba3'];

let cp: ControlPlane;
let webhook: InstalledWebhook;
let controller: InstalledController;
let admin: Admin;
let users: Users;

const examples = (parseAllDocuments(readFileSync(`${REPO}docs/examples/access-policies.yaml`, 'utf8')) as { toJS(): unknown }[]).map((d) => d.toJS() as AccessPolicy);

/** prometheus → payments/database on 5432/TCP, with a reason the postgres rule accepts. */
const spec = (overrides: Partial<AccessRequestSpec> = {}): AccessRequestSpec =>
  serviceSpec({ target: { namespace: 'payments', service: 'database' }, reason: 'INC-4711 replication lag', ...overrides });

async function refusal(what: Promise<unknown>): Promise<{ status: number; message: string }> {
  try {
    await what;
  } catch (err) {
    if (err instanceof KubeError) return { status: err.status ?? 0, message: err.message };
    throw err;
  }
  assert.fail('the API server accepted a write that must be refused');
}

async function get(name: string): Promise<AccessRequest> {
  const ar = await admin.get(name);
  assert.ok(ar, `${name} exists`);
  return ar;
}

/** Replaces the payments/database policy's postgres rule (as its owners would with kubectl apply). */
async function setPostgresRule(rule: AccessPolicy['spec']['rules'][number]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const live = await admin.kube.get<AccessPolicy & KubernetesObject & { metadata: { name: string } }>('accesspolicies', 'payments', 'database');
    assert.ok(live);
    live.spec.rules = live.spec.rules.map((r) => (r.name === 'postgres' ? rule : r));
    try {
      await admin.kube.replace('accesspolicies', live as never);
      return;
    } catch (err) {
      if (!(err instanceof KubeError && err.status === 409) || attempt > 5) throw err;
    }
  }
}

/** Waits until the webhook's informer has the edit: a dry-run create through both webhooks shows the new rule. */
async function webhookSees(duration: string, refusedNow: boolean): Promise<void> {
  await waitFor(`the webhook to ${refusedNow ? 'refuse' : 'accept'} ${duration}`, async () => {
    try {
      await users.dryRunRequest('alice', spec({ duration }));
      return !refusedNow;
    } catch (err) {
      return refusedNow && err instanceof KubeError && /spec\.duration/.test(err.message);
    }
  });
}

async function describeAs(user: string, name: string): Promise<string> {
  const io = captured();
  const code = await run(['describe', name, '--kubeconfig', cp.kubeconfigPathFor(user)], { stdout: io.stdout, stderr: io.stderr, stdin: new PassThrough() });
  assert.equal(code, 0, io.err());
  return io.out();
}

describe('AccessPolicies on a real API server', () => {
  before(async () => {
    cp = await startControlPlane({
      maxtac: true,
      extraUsers: DBAS.map((name) => ({ name, token: `token-${name}-${Date.now()}`, groups: ['developers', 'payments-dbas'] })),
    });
    admin = new Admin(cp);
    users = new Users(cp);
    for (const ns of ['monitoring', 'payments', 'shop']) await admin.namespace(ns);
    await admin.service('monitoring', 'prometheus', [{ name: 'web', port: 9090, protocol: 'TCP', targetPort: 9090 }]);
    await admin.service('payments', 'database', [
      { name: 'postgres', port: 5432, protocol: 'TCP', targetPort: 5432 },
      { name: 'metrics', port: 9187, protocol: 'TCP', targetPort: 9187 },
    ]);
    const userRef = (u: string) => ({ kind: 'User' as const, name: cp.users[u]?.name ?? u });
    const objects: KubernetesObject[] = [
      ...(parseAllDocuments(readFileSync(`${REPO}manifests/rbac/user-roles.yaml`, 'utf8')) as { toJS(): unknown }[]).map((d) => d.toJS() as KubernetesObject),
      roleBinding('e2e-users', 'netwatch-user', { kind: 'Group', name: 'developers' }),
      roleBinding('e2e-bob-approver', 'netwatch-approver', userRef('bob'), 'payments'),
      roleBinding('e2e-carol-approver', 'netwatch-approver', userRef('carol'), 'monitoring'),
      ...DBAS.map((u) => roleBinding(`e2e-${u}-approver`, 'netwatch-approver', userRef(u), 'payments')),
    ];
    await applyObjects(cp.admin, objects);
    webhook = await installWebhook(cp);
    controller = await installController(cp, { workers: 2 });
  });

  after(async () => {
    await controller?.stop();
    await webhook?.close();
    await users?.close();
    await admin?.close();
    await cp?.stop();
  });

  test('the CRD takes the example policies and refuses contradictory rules with the CEL message', async () => {
    await applyObjects(cp.admin, examples.filter((p) => p.metadata.namespace === 'payments') as KubernetesObject[]);
    const bad = (rule: object) =>
      refusal(admin.kube.create('accesspolicies', { apiVersion: 'netwatch.vtk.io/v1alpha1', kind: 'AccessPolicy', metadata: { name: 'bad', namespace: 'shop' }, spec: { rules: [{ name: 'r', ...rule }] } } as never));
    assert.match((await bad({ autoApprove: true, approvals: { count: 2 } })).message, /autoApprove and approvals exclude each other/);
    assert.match((await bad({ maxDuration: '8h', maxTotalDuration: '1h' })).message, /maxTotalDuration must be at least maxDuration/);
    assert.match((await bad({ refuse: 'no', maxDuration: '1h' })).message, /a rule that refuses sets nothing else/);
    assert.match((await bad({ refuse: 'no', notify: { approvers: ['team-chat'] } })).message, /a rule that refuses sets nothing else/);
    assert.match((await bad({ match: { peers: { namespaces: ['x'], cidrs: ['10.0.0.0/8'] } }, maxDuration: '1h' })).message, /either in-cluster .* or external/);
    // Users read policies (netwatch-user); they do not write them.
    assert.ok(await users.as('alice').get('accesspolicies', 'payments', 'database'));
    assert.equal((await refusal(users.as('alice').delete('accesspolicies', 'payments', 'database'))).status, 403);
    await webhookSees('8h', true);
  });

  test('auto-approve: prometheus reads the metrics port with no human, and the Event names the rule', async () => {
    await applyObjects(cp.admin, examples.filter((p) => p.metadata.namespace === 'monitoring') as KubernetesObject[]);
    // monitoring's rule auto-approves prometheus's egress; wait until the webhook has it.
    await waitFor('the monitoring policy in the webhook', async () => {
      try {
        await users.dryRunRequest('alice', spec({ ports: [{ port: 9187, protocol: 'TCP' }], duration: '9h', reason: 'probe' }));
        return false;
      } catch (err) {
        return err instanceof KubeError && /source part .* rule "prometheus-out"/.test(err.message);
      }
    });
    const created = await users.createRequest('alice', spec({ ports: [{ port: 9187, protocol: 'TCP' }], duration: '8h', reason: 'dashboards' }));
    assert.deepEqual(created.spec.policy?.map((p) => [p.part, p.approval, p.approvalRule]), [
      ['source', 'Auto', 'monitoring/egress/prometheus-out'],
      ['target', 'Auto', 'payments/database/prometheus-metrics'],
    ]);
    const name = created.metadata.name ?? '';
    const active = await waitForPhase(admin, name, 'Active');
    assert.deepEqual(active.status?.approvals?.map((a) => a.by).sort(), ['AccessPolicy monitoring/egress/prometheus-out', 'AccessPolicy payments/database/prometheus-metrics']);
    const activated = (await admin.events(name)).find((e) => e.reason === 'Activated');
    assert.match(activated?.message ?? '', /AccessPolicy: source \(monitoring\): approved automatically \(monitoring\/egress\/prometheus-out\); target \(payments\): approved automatically \(payments\/database\/prometheus-metrics\)/);
  });

  test('max duration and reason pattern are refused at create, naming the field and the rule', async () => {
    const long = await refusal(users.createRequest('alice', spec({ duration: '6h' })));
    assert.equal(long.status, 422);
    assert.match(long.message, /spec\.duration: must be at most 4h for the target part \(namespace payments\) under AccessPolicy payments\/database, rule "postgres" \(asked for 6h\)/);
    const vague = await refusal(users.createRequest('alice', spec({ reason: 'need it' })));
    assert.match(vague.message, /spec\.reason: must match \/\^\(INC\|CHG\)-\[0-9\]\+\/ for the target part .* rule "postgres"/);
  });

  test('2 of 3 DBAs: the requester never counts, a repeat and a non-member are refused, the second DBA opens it', async () => {
    // dba3 asks: dba3 may approve in payments, but never for its own request.
    const created = await users.createRequest('dba3', spec());
    const name = created.metadata.name ?? '';
    assert.deepEqual(created.spec.requester?.approvedParts, [], 'not even the requester\'s own approve right counts');
    await waitForPhase(admin, name, 'PartiallyApproved'); // monitoring's part: auto

    const own = await refusal(users.approve('dba3', name, 'target', 'payments'));
    assert.equal(own.status, 403);
    assert.match(own.message, /the requester never counts as an approver: AccessPolicy payments\/database, rule "postgres" needs 2 distinct approvers of the target part other than "dba3" \(0 of 2 so far\)/);
    assert.match((await refusal(users.approve('bob', name, 'target', 'payments'))).message, /user "bob" is not in "payments-dbas"/);

    await users.approve('dba1', name, 'target', 'payments');
    let stored = await get(name);
    assert.deepEqual(stored.status?.reviews?.map((r) => [r.by, r.rule, r.required]), [['dba1', 'payments/database/postgres', 2]]);
    assert.equal(stored.status?.approvals?.some((a) => a.part === 'target'), false, 'one of two: the part is not approved');
    const again = await refusal(users.approve('dba1', name, 'target', 'payments'));
    assert.match(again.message, /user "dba1" already approved the target part; .* needs 2 distinct approvers \(1 of 2 so far\)/);
    assert.match(await describeAs('alice', name), /target \(payments\): pending\n {4}policy: 2 distinct approvers from payments-dbas, the requester not counted \(payments\/database\/postgres\)\n {4}approvals: 1 of 2 \(dba1\); 1 missing/);
    // Nothing in between turned it Active.
    assert.equal((await get(name)).status?.phase, 'PartiallyApproved');

    await users.approve('dba2', name, 'target', 'payments');
    stored = await waitForPhase(admin, name, 'Active');
    assert.deepEqual(stored.status?.reviews?.map((r) => r.by), ['dba1', 'dba2']);
    assert.equal(stored.status?.approvals?.find((a) => a.part === 'target')?.by, 'dba2');
    // History stays: a user cannot erase a review.
    const erase = await refusal(users.writeStatus('dba1', name, (ar) => ({ ...ar.status, reviews: [] })));
    assert.match(erase.message, /status\.reviews: is append-only/);
  });

  test('a policy edited while a request is pending counts from the next decision', async () => {
    const created = await users.createRequest('alice', spec());
    const name = created.metadata.name ?? '';
    await users.approve('dba1', name, 'target', 'payments');

    // The owners now want three approvers (and shorten the maximum so we can tell when the webhook has the edit).
    await setPostgresRule({ name: 'postgres', match: { services: { names: ['database'] }, ports: [{ port: 5432 }] }, approvals: { count: 3, groups: ['payments-dbas'] }, maxDuration: '3h', reasonPattern: '^(INC|CHG)-[0-9]+' });
    await webhookSees('4h', true);
    await users.approve('dba2', name, 'target', 'payments');
    const two = await get(name);
    assert.deepEqual(two.status?.reviews?.map((r) => [r.by, r.required]), [['dba1', 2], ['dba2', 3]]);
    assert.equal(two.status?.approvals?.some((a) => a.part === 'target'), false, 'the rule in force asks for three');
    assert.match(await describeAs('bob', name), /approvals: 2 of 3 \(dba1, dba2\); 1 missing/);
    await users.approve('dba3', name, 'target', 'payments');
    await waitForPhase(admin, name, 'Active');

    // And back to two: a request that waits with one approval still needs the next decision to move.
    await setPostgresRule({ name: 'postgres', match: { services: { names: ['database'] }, ports: [{ port: 5432 }] }, approvals: { count: 2, groups: ['payments-dbas'] }, maxDuration: '4h', reasonPattern: '^(INC|CHG)-[0-9]+' });
    await webhookSees('4h', false);
  });
});
