// The attacks of an outside review (issue 13), replayed against the sandbox's setup: the real API server with the
// webhook registered as a cluster would have it (mutual TLS, the markers webhook), the real controller and the
// real maxtac. Each attack must be refused with the message a user sees, or be without effect; after all of
// them, the NetworkPolicies maxtac wrote for netwatch's objects select only what the approved requests named.
// Case 6 (a session replayed after logout) needs the web UI, a browser and an identity provider: it is replayed
// in test/e2e/webui-browser.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { randomBytes } from 'node:crypto';
import { applyObjects, roleBinding, startControlPlane, type ControlPlane } from '../../scripts/controlplane.ts';
import { installDemo } from '../../scripts/demo.ts';
import { installWebhook, type InstalledWebhook } from '../support/webhook.ts';
import { installController, type InstalledController } from '../support/controller.ts';
import { HttpKube } from '../../lib/kube/http.ts';
import { KubeError } from '../../lib/kube/port.ts';
import { API_VERSION, KIND, type AccessRequest, type AccessRequestSpec, type PartName } from '../../lib/api/accessrequest.ts';
import { LABEL_MANAGED_BY, LABEL_REQUEST_ID, LABEL_ROLE, MANAGED_BY } from '../../lib/api/markers.ts';
import { objectName } from '../../lib/domain/names.ts';
import { externalSpec, serviceSpec } from '../support/builders.ts';
import { POLICY_API_VERSION, POLICY_KIND, type AccessPolicy } from '../../lib/api/accesspolicy.ts';
import type { KubeObject, MaxtacObject, NetworkPolicy, Service } from '../../lib/kube/types.ts';
import { waitFor } from '../support/wait.ts';
import { Users } from '../support/users.ts';

const CONTROLLER = 'system:serviceaccount:netwatch-system:netwatch-controller';

let cp: ControlPlane;
let webhook: InstalledWebhook;
let controller: InstalledController;
let users: Users;
const as = (user: string): HttpKube => users.as(user);
const createRequest = (user: string, spec: AccessRequestSpec, extra: Partial<AccessRequest['metadata']> = {}): Promise<AccessRequest> =>
  users.createRequest(user, spec, { generateName: 'attack-', ...extra });
const writeStatus = (user: string, name: string, change: (ar: AccessRequest) => AccessRequest['status']): Promise<void> => users.writeStatus(user, name, change);
const approve = (user: string, name: string, part: PartName, namespace: string): Promise<void> => users.approve(user, name, part, namespace);

/** The message the API server answers a refused write with (what kubectl prints after "Error from server"). */
async function refused(what: Promise<unknown>): Promise<string> {
  try {
    await what;
  } catch (err) {
    if (err instanceof KubeError) return err.message;
    throw err;
  }
  assert.fail('the API server accepted a write that must be refused');
}

async function phaseOf(name: string, phase: string): Promise<AccessRequest> {
  return waitFor(`${name} to be ${phase}`, async () => {
    const ar = await as('admin').get<AccessRequest>('accessrequests', '', name);
    return ar?.status?.phase === phase && ar.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? ar : undefined;
  });
}

const service = (namespace: string, name: string, meta: Partial<Service['metadata']> = {}, selector: Record<string, string> = { app: 'payments-api' }): Service => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace, ...meta },
  spec: { selector, ports: [{ port: 80, protocol: 'TCP', targetPort: 8080 }] },
});

/** Number of SubjectAccessReviews the webhook has created so far, from the API server's audit log. */
function reviewsByWebhook(): number {
  return cp.auditEvents().filter((e) => e.objectRef?.resource === 'subjectaccessreviews' && e.user.username === 'system:serviceaccount:netwatch-system:netwatch-webhook').length;
}

const serviceToDatabase: AccessRequestSpec = serviceSpec({ target: { namespace: 'payments', service: 'database' }, reason: 'dashboards' });

/** The sandbox's shop/frontend, reached from one partner address. */
const internetToFrontend: AccessRequestSpec = externalSpec();

let serviceGrant: AccessRequest;
let externalGrant: AccessRequest;

describe('attacks on grant integrity (issue 13), against the real control plane', () => {
  before(async () => {
    cp = await startControlPlane({
      maxtac: true,
      audit: true,
      // Someone who got a token named like the controller, without being its ServiceAccount.
      extraUsers: [{ key: 'impostor', name: CONTROLLER, token: randomBytes(24).toString('hex'), groups: ['developers'] }],
    });
    users = new Users(cp);
    await installDemo(cp);
    // What Kubernetes' `edit` role allows on Services (these test clusters run no role aggregation, so `edit` is
    // empty here and this is written out).
    const serviceEditor = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'attack-service-editor' },
      rules: [{ apiGroups: [''], resources: ['services'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] }],
    };
    await applyObjects(cp.admin, [
      // mallory may edit Services in payments and shop and approves nothing; erin and the impostor are ordinary
      // netwatch users.
      serviceEditor,
      roleBinding('mallory-edit', 'attack-service-editor', { kind: 'User', name: 'mallory' }, 'payments'),
      roleBinding('mallory-edit', 'attack-service-editor', { kind: 'User', name: 'mallory' }, 'shop'),
      roleBinding('netwatch-users-mallory', 'netwatch-user', { kind: 'User', name: 'mallory' }),
      roleBinding('netwatch-users-erin', 'netwatch-user', { kind: 'User', name: 'erin' }),
      roleBinding('netwatch-users-impostor', 'netwatch-user', { kind: 'User', name: CONTROLLER }),
      roleBinding('impostor-edit', 'attack-service-editor', { kind: 'User', name: CONTROLLER }, 'payments'),
    ]);
    webhook = await installWebhook(cp);
    controller = await installController(cp, { workers: 4 });

    serviceGrant = await createRequest('alice', serviceToDatabase);
    await approve('bob', serviceGrant.metadata.name ?? '', 'target', 'payments');
    await approve('carol', serviceGrant.metadata.name ?? '', 'source', 'monitoring');
    serviceGrant = await phaseOf(serviceGrant.metadata.name ?? '', 'Active');
    externalGrant = await createRequest('alice', internetToFrontend);
    await approve('carol', externalGrant.metadata.name ?? '', 'target', 'shop');
    externalGrant = await phaseOf(externalGrant.metadata.name ?? '', 'Active');
  });

  after(async () => {
    await controller?.stop();
    await webhook?.close();
    await users?.close();
    await cp?.stop();
  });

  describe('1. piggyback: a Service labelled with a request id joins the grant', () => {
    test('a Service of mallory\'s labelled as the target clone of an active request is refused, naming the labels', async () => {
      const uid = serviceGrant.metadata.uid ?? '';
      const message = await refused(
        as('mallory').create('services', service('payments', 'sneaky', { labels: { [LABEL_REQUEST_ID]: uid, [LABEL_ROLE]: 'target' } })),
      );
      assert.match(message, /admission webhook "markers\.netwatch\.vtk\.io" denied the request: metadata\.labels\[netwatch\.vtk\.io\/request-id\], metadata\.labels\[netwatch\.vtk\.io\/role\]: user "mallory" may not create Service payments\/sneaky: only the netwatch controller may write objects that carry netwatch markers/);
    });

    test('the same with maxtac\'s external targets annotation (0.0.0.0/0 both ways) is refused', async () => {
      const uid = externalGrant.metadata.uid ?? '';
      const message = await refused(
        as('mallory').create(
          'services',
          service('shop', 'everything', {
            labels: { [LABEL_REQUEST_ID]: uid, [LABEL_ROLE]: 'target' },
            annotations: { 'maxtac.vtk.io.externalaccess/targets': '0.0.0.0-0', 'maxtac.vtk.io.externalaccess/direction': 'all' },
          }),
        ),
      );
      assert.match(message, /metadata\.annotations\[maxtac\.vtk\.io\.externalaccess\/direction\], metadata\.annotations\[maxtac\.vtk\.io\.externalaccess\/targets\]: not allowed on Service shop\/everything, a netwatch clone/);
    });

    test('the same with maxtac\'s service targets annotation (another Service to shop/frontend) is refused', async () => {
      const uid = serviceGrant.metadata.uid ?? '';
      const message = await refused(
        as('mallory').create(
          'services',
          service('payments', 'to-shop', {
            labels: { [LABEL_REQUEST_ID]: uid, [LABEL_ROLE]: 'target' },
            annotations: { 'maxtac.vtk.io.access/targets': 'frontend,shop', 'maxtac.vtk.io.access/direction': 'egress' },
          }),
        ),
      );
      assert.match(message, /maxtac\.vtk\.io\.access\/targets.*not allowed on Service payments\/to-shop, a netwatch clone/);
    });

    test('netwatch\'s own clone cannot be given those annotations, a wider selector, or be deleted by mallory', async () => {
      const cloneName = objectName(serviceGrant.metadata.uid ?? '', 'targetClone');
      const clone = await as('mallory').get<Service>('services', 'payments', cloneName);
      assert.ok(clone, 'mallory may read the clone');
      const annotated = structuredClone(clone);
      annotated.metadata.annotations = { ...annotated.metadata.annotations, 'maxtac.vtk.io.access/targets': 'frontend,shop' };
      assert.match(await refused(as('mallory').replace('services', annotated)), /maxtac\.vtk\.io\.access\/targets.*a netwatch clone/);
      const widened = structuredClone(clone);
      widened.spec = { ...widened.spec, selector: { tier: 'backend' } };
      assert.match(await refused(as('mallory').replace('services', widened)), /spec: user "mallory" may not change Service payments\/nwt-/);
      assert.match(await refused(as('mallory').delete('services', 'payments', cloneName)), /may not delete it; to end a grant, revoke its AccessRequest/);
      const after = await as('admin').get<Service>('services', 'payments', cloneName);
      assert.deepEqual(after?.spec?.selector, clone.spec?.selector);
      assert.equal(after?.metadata.uid, clone.metadata.uid);
    });
  });

  describe('2. adoption: a look-alike clone made before approval', () => {
    test('the deterministic clone name is refused with or without the labels, and approval materializes netwatch\'s own clone', async () => {
      const pending = await createRequest('alice', { ...serviceToDatabase, reason: 'adoption attempt' });
      const uid = pending.metadata.uid ?? '';
      const name = objectName(uid, 'targetClone');
      const labelled = await refused(
        as('mallory').create('services', service('payments', name, { labels: { [LABEL_REQUEST_ID]: uid, [LABEL_ROLE]: 'target', [LABEL_MANAGED_BY]: MANAGED_BY } })),
      );
      assert.match(labelled, /may not create Service payments\/nwt-/);
      const bare = await refused(as('mallory').create('services', service('payments', name)));
      assert.match(bare, /metadata\.name: user "mallory" may not create Service payments\/nwt-.*has the form of a netwatch name/);

      await approve('bob', pending.metadata.name ?? '', 'target', 'payments');
      await approve('carol', pending.metadata.name ?? '', 'source', 'monitoring');
      const active = await phaseOf(pending.metadata.name ?? '', 'Active');
      const clone = await as('admin').get<Service>('services', 'payments', name);
      assert.deepEqual(clone?.spec?.selector, { app: 'postgres' }, 'the clone selects the database, as the request named');
      const recorded = active.status?.objects?.find((o) => o.kind === 'Service' && o.name === name);
      assert.equal(recorded?.uid, clone?.metadata.uid);
      const managers = ((clone?.metadata as { managedFields?: { manager?: string }[] } | undefined)?.managedFields ?? []).map((f) => f.manager);
      assert.ok(!managers.includes('mallory'), `managers: ${managers.join(', ')}`);
    });
  });

  describe('3. CIDRs: judged together, and the special-purpose ranges', () => {
    const external = (cidrs: string[]) => createRequest('alice', externalSpec({ cidrs, reason: 'cidr attack' }));
    test('the two halves of the IPv4 Internet in one request are refused as the whole Internet', async () => {
      const message = await refused(external(['0.0.0.0/1', '128.0.0.0/1']));
      assert.match(message, /spec\.cidrs: spec\.cidrs\[0\] 0\.0\.0\.0\/1 and spec\.cidrs\[1\] 128\.0\.0\.0\/1 together cover 0\.0\.0\.0\/0 \(the whole IPv4 Internet\), which the cluster's CIDR policy refuses/);
    });
    test('link-local (the cloud metadata address), AWS IPv6 metadata and NAT64 are refused, each naming the setting that lifts it', async () => {
      for (const [cidr, what] of [
        ['169.254.169.254/32', /169\.254\.0\.0\/16 \(IPv4 link-local/],
        ['fd00:ec2::254/128', /fd00:ec2::254\/128/],
        ['64:ff9b::cb00:7107/128', /64:ff9b::\/96/],
      ] as const) {
        const message = await refused(external([cidr]));
        assert.match(message, what, cidr);
        assert.match(message, /lifted by --no-default-cidr-deny-overlapping/, cidr);
      }
    });
    test('more addresses than the limit, spread over adjacent networks, are refused', async () => {
      const message = await refused(external(['10.0.0.0/16', '10.1.0.0/24']));
      assert.match(message, /--cidr-max-addresses-ipv4/);
    });
  });

  describe('4. confused deputy: objects netwatch did not make', () => {
    test('a Service labelled managed-by netwatch for a request that does not exist is refused', async () => {
      const message = await refused(
        as('mallory').create('services', service('payments', 'orphan-bait', { labels: { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_REQUEST_ID]: '00000000-0000-0000-0000-000000000000' } })),
      );
      assert.match(message, /metadata\.labels\[app\.kubernetes\.io\/managed-by\], metadata\.labels\[netwatch\.vtk\.io\/request-id\]: user "mallory" may not create Service payments\/orphan-bait/);
    });

    test('a Service labelled with an active request\'s uid in an unrelated namespace is refused', async () => {
      const message = await refused(as('mallory').create('services', service('shop', 'bait', { labels: { [LABEL_REQUEST_ID]: serviceGrant.metadata.uid ?? '' } })));
      assert.match(message, /may not create Service shop\/bait/);
    });

    test('an unmarked Service keeps working as usual for mallory (the webhook is never asked)', async () => {
      const before = reviewsByWebhook();
      const created = await as('mallory').create<Service>('services', service('payments', 'ordinary', { labels: { app: 'ordinary' } }));
      created.metadata.labels = { ...created.metadata.labels, tier: 'web' };
      await as('mallory').replace('services', created);
      await as('mallory').delete('services', 'payments', 'ordinary');
      assert.equal(reviewsByWebhook(), before);
    });
  });

  describe('5. the webhook as an oracle', () => {
    test('a caller without the API server\'s client certificate gets 401, and no SubjectAccessReview is made', async () => {
      const before = reviewsByWebhook();
      const review = {
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        request: {
          uid: 'probe',
          operation: 'CREATE',
          resource: { group: 'netwatch.vtk.io', version: 'v1alpha1', resource: 'accessrequests' },
          userInfo: { username: 'bob', groups: ['developers'] },
          object: { apiVersion: API_VERSION, kind: KIND, metadata: { name: 'probe' }, spec: serviceToDatabase },
        },
      };
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpsRequest(`${webhook.url}/mutate`, { method: 'POST', rejectUnauthorized: false, headers: { 'content-type': 'application/json' } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end(JSON.stringify(review));
      });
      assert.equal(status, 401);
      // Give a review, had one been made, the time to reach the audit log.
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(reviewsByWebhook(), before);
    });
  });

  describe('7. smaller findings', () => {
    test('a foreign finalizer at create is refused', async () => {
      const message = await refused(createRequest('alice', { ...serviceToDatabase, reason: 'finalizer' }, { finalizers: ['example.com/never-done'] }));
      assert.match(message, /metadata\.finalizers: must be empty when an AccessRequest is created \(got example\.com\/never-done\); the netwatch controller adds its own/);
    });

    test('one user may have at most 20 open requests; an aborted one frees a place', async () => {
      const names: string[] = [];
      for (let i = 0; i < 20; i++) names.push((await createRequest('erin', { ...serviceToDatabase, reason: `request ${i}` })).metadata.name ?? '');
      // The webhook counts stored requests from its informer (webhook/open-requests.ts): wait until it has all 20, as
      // a dry run shows, before the create that must be refused (a slow machine delivers the last one late).
      const probe = { ...serviceToDatabase, reason: 'probe' };
      await waitFor('the webhook to count 20 open requests', async () => (await users.dryRunRequest('erin', probe).then(() => undefined, () => true)), 15_000, 100);
      const message = await refused(createRequest('erin', { ...serviceToDatabase, reason: 'one too many' }));
      assert.match(message, /spec\.requester: user "erin" already has 20 open AccessRequests \(Pending, PartiallyApproved or Active\) and the limit is 20 \(webhook setting --max-open-requests\)/);
      await writeStatus('erin', names[0] ?? '', (ar) => ({ ...ar.status, decision: { type: 'Aborted' } }));
      await waitFor('a place to free up', async () => (await createRequest('erin', { ...serviceToDatabase, reason: 'after abort' }).catch(() => undefined)) ?? undefined, 15_000, 200);
    });

    test('an unknown spec.type gets the API server\'s field error (the webhook no longer crashes on it)', async () => {
      const message = await refused(createRequest('alice', { ...serviceToDatabase, type: 'Cluster' as 'Service' }));
      assert.match(message, /spec\.type: Unsupported value: "Cluster": supported values: "Service", "External"/);
      assert.doesNotMatch(message, /could not decide/);
    });

    test('a reason of 300 emoji (300 characters, 600 UTF-16 units) is accepted as the CRD accepts it', async () => {
      const created = await createRequest('alice', { ...serviceToDatabase, reason: '\u{1F512}'.repeat(300) });
      assert.equal([...created.spec.reason].length, 300);
      await writeStatus('alice', created.metadata.name ?? '', (ar) => ({ ...ar.status, decision: { type: 'Aborted' } }));
    });

    test('a user with the controller\'s name but not its ServiceAccount is not the controller', async () => {
      const name = serviceGrant.metadata.name ?? '';
      const message = await refused(writeStatus('impostor', name, (ar) => ({ ...ar.status, phase: 'Expired' })));
      assert.match(message, /status\.phase: is written only by the netwatch controller/);
      const clone = await refused(as('impostor').create('services', service('payments', 'fake-clone', { labels: { [LABEL_REQUEST_ID]: serviceGrant.metadata.uid ?? '' } })));
      assert.match(clone, new RegExp(`user "${CONTROLLER}" may not create Service payments/fake-clone`));
    });
  });

  describe('8. owners\' rules and review lists, as a user with edit in one namespace', () => {
    const policy = (namespace: string, name: string, rules: AccessPolicy['spec']['rules']): AccessPolicy => ({
      apiVersion: POLICY_API_VERSION,
      kind: POLICY_KIND,
      metadata: { name, namespace },
      spec: { rules },
    });
    /** Waits until the webhook's informer holds a policy: a dry-run create shows what it does. */
    const webhookSees = (user: string, spec: AccessRequestSpec, sees: (message: string | undefined) => boolean): Promise<true> =>
      waitFor('the webhook to see the policy', async () => {
        try {
          await users.dryRunRequest(user, spec);
          return sees(undefined) || undefined;
        } catch (err) {
          return (err instanceof KubeError && sees(err.message)) || undefined;
        }
      });

    before(async () => {
      // What Kubernetes' `edit` aggregates from netwatch: AccessPolicies in payments only.
      await applyObjects(cp.admin, [roleBinding('mallory-policies', 'netwatch-policy-editor', { kind: 'User', name: 'mallory' }, 'payments')]);
      // The API server's authorizer learns of a RoleBinding from its own watch: ask it until it says yes.
      const review = { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb: 'create', group: 'netwatch.vtk.io', resource: 'accesspolicies', namespace: 'payments' } } };
      await waitFor('mallory\'s policy rights to reach the authorizer', async () =>
        (await as('mallory').call<{ status?: { allowed?: boolean } }>('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', review)).status?.allowed || undefined,
      );
    });

    test('a policy of mallory\'s in payments approves the payments part only: the monitoring part still waits for its approver', async (t) => {
      await as('mallory').create('accesspolicies', policy('payments', 'everything', [{ name: 'anything-goes', autoApprove: true }]));
      t.after(() => as('mallory').delete('accesspolicies', 'payments', 'everything'));
      const spec = { ...serviceToDatabase, reason: 'my own rule' };
      await webhookSees('mallory', spec, (m) => m === undefined);
      const created = await createRequest('mallory', spec);
      const name = created.metadata.name ?? '';
      // Only the payments part has a matching rule; monitoring's part keeps today's rule (one approver there).
      assert.deepEqual(created.spec.policy?.map((p) => [p.part, p.approval]), [['target', 'Auto']]);
      const partial = await waitFor(`${name} to be PartiallyApproved`, async () => {
        const ar = await as('admin').get<AccessRequest>('accessrequests', '', name);
        return ar?.status?.phase === 'PartiallyApproved' ? ar : undefined;
      });
      assert.deepEqual(partial.status?.approvals?.map((a) => a.part), ['target']);
      assert.equal((await as('admin').list<MaxtacObject>('accesses')).items.some((m) => m.metadata.labels?.[LABEL_REQUEST_ID] === created.metadata.uid), false, 'nothing is materialized');
      await writeStatus('mallory', name, (ar) => ({ ...ar.status, decision: { type: 'Aborted' } }));
    });

    test('mallory may not write a policy where she has no rights', async () => {
      const message = await refused(as('mallory').create('accesspolicies', policy('monitoring', 'everything', [{ name: 'anything-goes', autoApprove: true }])));
      assert.match(message, /accesspolicies\.netwatch\.vtk\.io is forbidden: User "mallory" cannot create resource "accesspolicies" in API group "netwatch\.vtk\.io" in the namespace "monitoring"/);
    });

    test('a catastrophic reasonPattern of mallory\'s cannot stall the webhook: the reason is judged at once and the webhook keeps answering', async (t) => {
      await as('mallory').create('accesspolicies', policy('payments', 'slow', [{ name: 'nested', reasonPattern: '^((a+))+$' }]));
      t.after(() => as('mallory').delete('accesspolicies', 'payments', 'slow'));
      // With a backtracking engine this reason takes years; the webhook would stop answering every create and
      // decision in the cluster (it fails closed).
      const evil = { ...serviceToDatabase, reason: `${'a'.repeat(64)}!` };
      await webhookSees('mallory', evil, (m) => m !== undefined && /spec\.reason: must match/.test(m));
      const message = await refused(createRequest('mallory', evil));
      assert.match(message, /spec\.reason: must match \/\^\(\(a\+\)\)\+\$\/ for the target part \(namespace payments\) under AccessPolicy payments\/slow, rule "nested"/);
      const fine = await createRequest('mallory', { ...internetToFrontend, reason: 'the webhook still answers' });
      await writeStatus('mallory', fine.metadata.name ?? '', (ar) => ({ ...ar.status, decision: { type: 'Aborted' } }));
    });

    test('a client-sent policy stamp and requester are overwritten: alice\'s rule does not auto-approve mallory\'s request', async (t) => {
      await as('admin').create('accesspolicies', policy('shop', 'alice-only', [{ name: 'alice', match: { requesters: { users: ['alice'] } }, autoApprove: true }]));
      t.after(() => as('admin').delete('accesspolicies', 'shop', 'alice-only'));
      await webhookSees('alice', { ...internetToFrontend, reason: 'probe' }, (m) => m === undefined);
      const created = await createRequest('mallory', {
        ...internetToFrontend,
        reason: 'I am alice',
        requester: { username: 'alice', groups: ['system:masters'] },
        policy: [{ part: 'target', namespace: 'shop', rules: ['shop/alice-only/alice'], approval: 'Auto', approvalRule: 'shop/alice-only/alice' }],
      });
      assert.equal(created.spec.requester?.username, 'mallory');
      assert.deepEqual(created.spec.policy ?? [], [], 'no rule matches mallory');
      await new Promise((r) => setTimeout(r, 1000));
      const stored = await as('admin').get<AccessRequest>('accessrequests', '', created.metadata.name ?? '');
      assert.deepEqual(stored?.status?.approvals ?? [], []);
      await writeStatus('mallory', created.metadata.name ?? '', (ar) => ({ ...ar.status, decision: { type: 'Aborted' } }));
    });

    test('reviews and the approvers list cannot be forged: another user\'s name, a part one may not approve, controller fields', async () => {
      const spec = { ...serviceToDatabase, reason: 'forged reviews' };
      await webhookSees('alice', spec, (m) => m === undefined); // the slow rule above is gone
      const created = await createRequest('alice', spec);
      const name = created.metadata.name ?? '';
      const forged = await refused(writeStatus('erin', name, (ar) => ({ ...ar.status, reviews: [{ part: 'target', namespace: 'payments', by: 'bob', at: new Date().toISOString() }] })));
      assert.match(forged, /status\.reviews/);
      const own = await refused(writeStatus('alice', name, (ar) => ({ ...ar.status, reviews: [{ part: 'target', namespace: 'payments' }] })));
      assert.match(own, /status\.reviews/);
      await waitFor('the controller to record who can approve', async () => ((await as('admin').get<AccessRequest>('accessrequests', '', name))?.status?.parts?.length ?? 0) > 0 || undefined);
      const listed = await refused(
        writeStatus('erin', name, (ar) => ({
          ...ar.status,
          parts: (ar.status?.parts ?? []).map((p) => ({ ...p, approvers: { approvers: [{ kind: 'User' as const, name: 'erin', via: 'approve' as const }], clusterAdmins: [] } })),
        })),
      );
      assert.match(listed, /status\.parts: is written only by the netwatch controller/);
      const stored = await as('admin').get<AccessRequest>('accessrequests', '', name);
      assert.deepEqual(stored?.status?.reviews ?? [], []);
      assert.deepEqual(stored?.status?.approvals ?? [], []);
      await writeStatus('alice', name, (ar) => ({ ...ar.status, decision: { type: 'Aborted' } }));
    });
  });

  describe('9. extensions, as an ordinary user and as the requester', () => {
    test('mallory may not extend alice\'s grant; alice\'s extension is stamped as hers; nobody forges an approval of it', async () => {
      const name = serviceGrant.metadata.name ?? '';
      const before = (await as('admin').get<AccessRequest>('accessrequests', '', name))?.status?.expiresAt;
      const stranger = await refused(writeStatus('mallory', name, (ar) => ({ ...ar.status, extensions: [...(ar.status?.extensions ?? []), { duration: '8h' }] })));
      assert.match(stranger, /status\.extensions: user "mallory" may not extend this access: only its requester or a user allowed to approve one of its parts/);

      // alice claims bob asked for it: the webhook writes who really did.
      await writeStatus('alice', name, (ar) => ({ ...ar.status, extensions: [...(ar.status?.extensions ?? []), { duration: '1h', requestedBy: 'bob', at: '2020-01-01T00:00:00Z' }] }));
      let stored = await as('admin').get<AccessRequest>('accessrequests', '', name);
      assert.equal(stored?.status?.extensions?.[0]?.requestedBy, 'alice');
      assert.notEqual(stored?.status?.extensions?.[0]?.at, '2020-01-01T00:00:00Z');

      // No policy covers 5432 in payments: both parts must approve again, and nobody may do it in another's name.
      const forged = await refused(
        writeStatus('mallory', name, (ar) => ({ ...ar.status, extensionApprovals: [...(ar.status?.extensionApprovals ?? []), { extension: 0, part: 'target', namespace: 'payments', by: 'bob' }] })),
      );
      assert.match(forged, /status\.extensionApprovals\[0\]: user "mallory" may not approve the target part/);
      const own = await refused(
        writeStatus('alice', name, (ar) => ({ ...ar.status, extensionApprovals: [...(ar.status?.extensionApprovals ?? []), { extension: 0, part: 'target', namespace: 'payments', by: 'bob' }] })),
      );
      assert.match(own, /status\.extensionApprovals\[0\]: user "alice" may not approve the target part/);
      const rewrite = await refused(writeStatus('alice', name, (ar) => ({ ...ar.status, extensions: [{ duration: '12h' }] })));
      assert.match(rewrite, /status\.extensions/);
      stored = await as('admin').get<AccessRequest>('accessrequests', '', name);
      assert.equal(stored?.status?.expiresAt, before, 'expiresAt does not move without the approvals');
      assert.deepEqual(stored?.status?.extensionApprovals ?? [], []);
    });
  });

  describe('after every attack', () => {
    test('maxtac\'s policies for netwatch\'s objects select only the clones\' pods and only the requested CIDRs; nothing of anyone else\'s was recorded', async () => {
      const requests = (await as('admin').list<AccessRequest>('accessrequests')).items;
      const byUid = new Map(requests.map((r) => [r.metadata.uid ?? '', r]));
      const maxtac = [...(await as('admin').list<MaxtacObject>('accesses')).items, ...(await as('admin').list<MaxtacObject>('externalaccesses')).items];
      const services = (await as('admin').list<Service>('services')).items;
      const policies = (await as('admin').list<NetworkPolicy>('networkpolicies')).items;
      let checked = 0;
      for (const np of policies) {
        const owner = maxtac.find((m) => np.metadata.ownerReferences?.some((o) => o.uid === m.metadata.uid));
        if (!owner) continue;
        const request = byUid.get(owner.metadata.labels?.[LABEL_REQUEST_ID] ?? '');
        assert.ok(request, `${np.metadata.name} belongs to a request`);
        const clone = services.find((s) => s.metadata.namespace === owner.metadata.namespace && s.metadata.labels?.[LABEL_REQUEST_ID] === request.metadata.uid && s.metadata.labels?.[LABEL_ROLE] === owner.metadata.labels?.[LABEL_ROLE]);
        assert.deepEqual(np.spec?.podSelector, { matchLabels: clone?.spec?.selector }, `${np.metadata.name} selects the clone's pods only`);
        const blocks = [...(np.spec?.ingress ?? []).flatMap((r) => r.from ?? []), ...(np.spec?.egress ?? []).flatMap((r) => r.to ?? [])].flatMap((p) => (p.ipBlock ? [p.ipBlock.cidr] : []));
        for (const cidr of blocks) assert.ok(request.spec.cidrs?.includes(cidr), `${np.metadata.name}: ${cidr} is one of the request's CIDRs`);
        checked++;
      }
      assert.ok(checked >= 3, `policies checked: ${checked}`);
      for (const r of requests) {
        for (const ref of r.status?.objects ?? []) {
          const live: KubeObject | undefined = [...services, ...maxtac].find((o) => o.metadata.uid === ref.uid);
          if (live) assert.equal(live.metadata.labels?.[LABEL_REQUEST_ID], r.metadata.uid, `${ref.kind} ${ref.name} recorded by ${r.metadata.name} is its own`);
        }
      }
      for (const name of ['sneaky', 'everything', 'to-shop', 'orphan-bait', 'bait', 'fake-clone']) {
        assert.equal(services.some((s) => s.metadata.name === name), false, `${name} was never created`);
      }
    });
  });
});
