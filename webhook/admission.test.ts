import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import jsonpatch from 'fast-json-patch';
import type { AccessRequest, AccessRequestStatus, PartName } from '../lib/api/accessrequest.ts';
import { accessRequest, serviceSpec as spec } from '../test/support/builders.ts';
import { serviceKey, type ServiceFacts } from '../lib/domain/spec.ts';
import { webhookConfig } from './config.ts';
import type { AccessPolicy, PolicyRule } from '../lib/api/accesspolicy.ts';
import { effectiveApprovals } from '../lib/domain/actions.ts';
import { changedPaths, factsNeeded, mutate, validate, type AdmissionFacts, type AdmissionInput, type UserInfo } from './admission.ts';

const NOW = new Date('2026-11-23T10:00:00.123Z');
const CONTROLLER = 'system:serviceaccount:netwatch-system:netwatch-controller';
const config = webhookConfig();

const alice: UserInfo = { username: 'alice', uid: 'u-alice', groups: ['developers', 'system:authenticated'] };
const bob: UserInfo = { username: 'bob', uid: 'u-bob', groups: ['developers'] };
const mallory: UserInfo = { username: 'mallory', groups: ['developers'] };
const controller: UserInfo = { username: CONTROLLER, groups: ['system:serviceaccounts', 'system:serviceaccounts:netwatch-system', 'system:authenticated'] };
/** A token-file or OIDC user who took the controller's name: the API server would not give it the SA group. */
const impostor: UserInfo = { username: CONTROLLER, groups: ['developers', 'system:authenticated'] };

const goodService: ServiceFacts = { type: 'ClusterIP', hasSelector: true, ports: [{ port: 5432, protocol: 'TCP' }] };
const allServices = new Map<string, ServiceFacts | null>([
  [serviceKey('monitoring', 'prometheus'), goodService],
  [serviceKey('default', 'database'), goodService],
]);

/** A stored request by alice, who could approve `approvedParts` at creation. */
function request(status?: AccessRequestStatus, approvedParts: PartName[] = ['source']): AccessRequest {
  return accessRequest({
    metadata: { uid: 'uid-1', creationTimestamp: '2026-11-23T09:00:00Z' },
    requester: { username: 'alice', uid: 'u-alice', groups: ['developers', 'system:authenticated'], approvedParts },
    ...(status ? { status } : {}),
  });
}

function withStatus(base: AccessRequest, change: (s: AccessRequestStatus) => void): AccessRequest {
  const copy = structuredClone(base);
  copy.status ??= {};
  change(copy.status);
  return copy;
}

function facts(may: Partial<Record<PartName, boolean>> = {}, services = allServices): AdmissionFacts {
  return { mayApprove: may, services };
}

function input(partial: Partial<AdmissionInput>): AdmissionInput {
  return {
    operation: 'CREATE',
    subResource: '',
    userInfo: alice,
    oldObject: null,
    object: null,
    facts: facts(),
    config,
    now: NOW,
    ...partial,
  };
}

/** Applies the mutating patch, as the API server does, and returns the result. */
function mutated(i: AdmissionInput): AccessRequest {
  const r = mutate(i);
  assert.equal(r.allowed, true, r.message);
  return jsonpatch.applyPatch(structuredClone(i.object), r.patch ?? []).newDocument as AccessRequest;
}

describe('mutate', () => {
  test('at create, stamps the requester from userInfo over anything the client sent', () => {
    const object = request(undefined, ['source', 'target']);
    object.spec.requester = { username: 'bob', groups: ['system:masters'], approvedParts: ['source', 'target'] };
    const out = mutated(input({ object, facts: facts({ source: true, target: false }) }));
    assert.deepEqual(out.spec.requester, { username: 'alice', uid: 'u-alice', groups: ['developers', 'system:authenticated'], approvedParts: ['source'] });
  });

  test('at create, records no approved part for a user who may approve none', () => {
    const object = { ...request(), spec: spec() };
    const out = mutated(input({ userInfo: mallory, object }));
    assert.deepEqual(out.spec.requester, { username: 'mallory', groups: ['developers'], approvedParts: [] });
  });

  test('at create, drops client-sent status', () => {
    const object = request({ phase: 'Active', approvals: [{ part: 'target', namespace: 'default', by: 'bob' }] });
    assert.equal(mutated(input({ object })).status, undefined);
  });

  test('at a status update, stamps by and at on a newly added approval, overwriting client values', () => {
    const old = request();
    const object = withStatus(old, (s) => (s.approvals = [{ part: 'target', namespace: 'default', by: 'mallory', at: '2000-01-01T00:00:00Z' }]));
    const out = mutated(input({ operation: 'UPDATE', subResource: 'status', userInfo: bob, oldObject: old, object }));
    assert.deepEqual(out.status?.approvals, [{ part: 'target', namespace: 'default', by: 'bob', at: '2026-11-23T10:00:00Z' }]);
  });

  test('at a status update, leaves existing approvals untouched and stamps a new decision', () => {
    const old = request({ approvals: [{ part: 'source', namespace: 'monitoring', by: 'alice', at: '2026-11-23T09:00:00Z' }] });
    const object = withStatus(old, (s) => (s.decision = { type: 'Denied', by: 'alice', reason: 'no' }));
    const out = mutated(input({ operation: 'UPDATE', subResource: 'status', userInfo: bob, oldObject: old, object }));
    assert.deepEqual(out.status?.approvals, old.status?.approvals);
    assert.deepEqual(out.status?.decision, { type: 'Denied', by: 'bob', at: '2026-11-23T10:00:00Z', reason: 'no' });
  });

  test("does not stamp the controller's status writes (it mirrors approvals by the requester)", () => {
    const old = request();
    const object = withStatus(old, (s) => (s.approvals = [{ part: 'source', namespace: 'monitoring', by: 'alice', at: '2026-11-23T09:00:00Z' }]));
    assert.equal(mutate(input({ operation: 'UPDATE', subResource: 'status', userInfo: controller, oldObject: old, object })).patch, undefined);
  });

  test('at create, an unknown type (the API server checks the schema after mutation) is stamped with no part, not a crash', () => {
    const object = { ...request(), spec: { ...spec(), type: 'Cluster' } } as unknown as AccessRequest;
    assert.deepEqual(factsNeeded('mutate', input({ object })), { parts: [], services: [] });
    assert.deepEqual(mutated(input({ object, facts: facts({ source: true, target: true }) })).spec.requester?.approvedParts, []);
    const refusal = validate(input({ object: mutated(input({ object })) }));
    assert.equal(refusal.allowed, false);
    assert.equal(refusal.message, 'spec.type: must be Service or External');
  });

  test('patches nothing on a main-resource update or a delete', () => {
    const old = request();
    assert.deepEqual(mutate(input({ operation: 'UPDATE', oldObject: old, object: old })), { allowed: true });
    assert.deepEqual(mutate(input({ operation: 'DELETE', oldObject: old })), { allowed: true });
  });
});

describe('validate', () => {
  const stamped = (may: Partial<Record<PartName, boolean>>) => request(undefined, (['source', 'target'] as const).filter((p) => may[p]));
  const pendingTarget = request();
  const active = request({
    phase: 'Active',
    approvals: [
      { part: 'source', namespace: 'monitoring', by: 'alice', at: '2026-11-23T09:00:00Z' },
      { part: 'target', namespace: 'default', by: 'bob', at: '2026-11-23T09:10:00Z' },
    ],
  });
  const denied = request({ phase: 'Denied', decision: { type: 'Denied', by: 'bob', at: '2026-11-23T09:10:00Z' } });
  const expired = request({ phase: 'Expired' });
  const approve = (base: AccessRequest, by: string, part: PartName = 'target', namespace = 'default') =>
    withStatus(base, (s) => (s.approvals = [...(s.approvals ?? []), { part, namespace, by, at: '2026-11-23T10:00:00Z' }]));
  const decide = (base: AccessRequest, type: 'Denied' | 'Aborted' | 'Revoked', by: string) =>
    withStatus(base, (s) => (s.decision = { type, by, at: '2026-11-23T10:00:00Z' }));
  const statusUpdate = (userInfo: UserInfo, oldObject: AccessRequest, object: AccessRequest, may: Partial<Record<PartName, boolean>> = {}) =>
    input({ operation: 'UPDATE', subResource: 'status', userInfo, oldObject, object, facts: facts(may) });

  const cases: { name: string; in: AdmissionInput; allowed: boolean; message?: RegExp; code?: number }[] = [
    // CREATE
    { name: 'a valid create stamped by the mutating webhook is allowed', in: input({ object: stamped({ source: true }), facts: facts({ source: true }) }), allowed: true },
    {
      name: 'a create the mutating webhook did not stamp is refused (fail closed)',
      in: input({ object: { ...request(), spec: spec() } }),
      allowed: false,
      message: /^spec\.requester: must be the requesting user \(alice\) as stamped/,
    },
    {
      name: 'a create whose approvedParts claim more than the user may approve is refused',
      in: input({ object: stamped({ source: true, target: true }), facts: facts({ source: true }) }),
      allowed: false,
      message: /^spec\.requester\.approvedParts\[1\]: target is not a part user "alice" may approve: that needs approve/,
    },
    {
      name: 'a create claiming fewer approved parts than possible is allowed (it grants nothing)',
      in: input({ object: stamped({}), facts: facts({ source: true }) }),
      allowed: true,
    },
    {
      name: 'a create with a spec error names the field and is Invalid (422)',
      in: input({ object: { ...stamped({}), spec: { ...stamped({}).spec, duration: '48h' } } }),
      allowed: false,
      code: 422,
      message: /^spec\.duration: must be at most 24h/,
    },
    {
      name: 'a create referencing a missing Service names it',
      in: input({ object: stamped({}), facts: facts({}, new Map([[serviceKey('monitoring', 'prometheus'), goodService], [serviceKey('default', 'database'), null]])) }),
      allowed: false,
      message: /^spec\.target\.service: Service default\/database does not exist/,
    },
    { name: 'a create without a user is refused', in: input({ userInfo: {}, object: stamped({}) }), allowed: false, message: /userInfo\.username/ },
    {
      name: 'a create carrying a finalizer is refused: only the controller adds finalizers',
      in: input({ object: { ...stamped({}), metadata: { ...stamped({}).metadata, finalizers: ['example.com/never-done'] } } }),
      allowed: false,
      message: /^metadata\.finalizers: must be empty when an AccessRequest is created \(got example\.com\/never-done\)/,
    },
    {
      name: 'a create by a user at the open-request limit is refused',
      in: input({ object: stamped({}), facts: { ...facts({}), openRequests: 20 } }),
      allowed: false,
      message: /^spec\.requester: user "alice" already has 20 open AccessRequests .* the limit is 20 \(webhook setting --max-open-requests\)/,
    },
    {
      name: 'a create just under the open-request limit is allowed',
      in: input({ object: stamped({}), facts: { ...facts({}), openRequests: 19 } }),
      allowed: true,
    },
    {
      name: 'no limit when --max-open-requests is 0',
      in: input({ object: stamped({}), facts: { ...facts({}), openRequests: 500 }, config: webhookConfig({ maxOpenRequests: 0 }) }),
      allowed: true,
    },

    // UPDATE of the main resource
    { name: 'a metadata-only update (labels) is allowed', in: input({ operation: 'UPDATE', userInfo: mallory, oldObject: pendingTarget, object: { ...pendingTarget, metadata: { ...pendingTarget.metadata, labels: { team: 'a' } } } }), allowed: true },
    {
      name: 'a spec change is refused, naming the field',
      in: input({ operation: 'UPDATE', oldObject: pendingTarget, object: { ...pendingTarget, spec: { ...pendingTarget.spec, duration: '1h' } } }),
      allowed: false,
      message: /^spec\.duration: is immutable after creation/,
    },
    {
      name: 'a requester change is refused even by the requester',
      in: input({ operation: 'UPDATE', oldObject: pendingTarget, object: { ...pendingTarget, spec: { ...pendingTarget.spec, requester: { username: 'alice', approvedParts: ['source', 'target'] } } } }),
      allowed: false,
      message: /spec\.requester\.\w+: is stamped by the admission webhook/,
    },
    {
      name: 'a stranger cannot remove the netwatch finalizer',
      in: input({
        operation: 'UPDATE',
        userInfo: mallory,
        oldObject: { ...pendingTarget, metadata: { ...pendingTarget.metadata, finalizers: ['netwatch.vtk.io/teardown'] } },
        object: pendingTarget,
      }),
      allowed: false,
      message: /^metadata\.finalizers/,
    },
    {
      name: 'the controller may remove the netwatch finalizer',
      in: input({
        operation: 'UPDATE',
        userInfo: controller,
        oldObject: { ...pendingTarget, metadata: { ...pendingTarget.metadata, finalizers: ['netwatch.vtk.io/teardown'] } },
        object: pendingTarget,
      }),
      allowed: true,
    },
    {
      name: 'the controller cannot change the spec either',
      in: input({ operation: 'UPDATE', userInfo: controller, oldObject: pendingTarget, object: { ...pendingTarget, spec: { ...pendingTarget.spec, reason: 'x' } } }),
      allowed: false,
      message: /spec\.reason/,
    },

    // Approvals
    { name: 'an approver of the pending target part may approve it', in: statusUpdate(bob, pendingTarget, approve(pendingTarget, 'bob'), { target: true }), allowed: true },
    {
      name: 'a user without the right cannot approve, and is told what it needs',
      in: statusUpdate(mallory, pendingTarget, approve(pendingTarget, 'mallory')),
      allowed: false,
      code: 403,
      message: /^status\.approvals\[0\]: user "mallory" may not approve the target part: that needs approve accessrequests\.netwatch\.vtk\.io in default, or create services and accesses\.maxtac\.vtk\.io in default$/,
    },
    {
      name: 'a part approved at creation cannot be approved again',
      in: statusUpdate(bob, pendingTarget, approve(pendingTarget, 'bob', 'source', 'monitoring'), { source: true }),
      allowed: false,
      message: /the source part is already approved/,
    },
    {
      name: 'an approval for the wrong namespace is refused',
      in: statusUpdate(bob, pendingTarget, approve(pendingTarget, 'bob', 'target', 'kube-system'), { target: true }),
      allowed: false,
      message: /status\.approvals\[0\]\.namespace: must be "default"/,
    },
    {
      name: 'an approval whose by is not the user (webhook not stamping) is refused',
      in: statusUpdate(bob, pendingTarget, approve(pendingTarget, 'alice'), { target: true }),
      allowed: false,
      message: /status\.approvals\[0\]\.by/,
    },
    {
      name: 'existing approvals cannot be removed',
      in: statusUpdate(bob, active, withStatus(active, (s) => (s.approvals = s.approvals?.slice(0, 1))), { target: true }),
      allowed: false,
      message: /status\.approvals: the existing approval of the target part cannot be changed or removed/,
    },
    {
      name: 'an approval plus a decision in one write is refused',
      in: statusUpdate(bob, pendingTarget, decide(approve(pendingTarget, 'bob'), 'Denied', 'bob'), { target: true }),
      allowed: false,
      message: /may add exactly one thing/,
    },
    {
      name: 'a request being deleted accepts no approval (the controller is tearing it down)',
      in: statusUpdate(bob, { ...pendingTarget, metadata: { ...pendingTarget.metadata, deletionTimestamp: '2026-11-23T09:59:00Z' } }, approve({ ...pendingTarget, metadata: { ...pendingTarget.metadata, deletionTimestamp: '2026-11-23T09:59:00Z' } }, 'bob'), { target: true }),
      allowed: false,
      message: /^status\.approvals: the request is already being deleted; it accepts no further approvals or decisions/,
    },
    {
      name: 'a terminal request accepts no approval',
      in: statusUpdate(bob, expired, approve(expired, 'bob'), { target: true }),
      allowed: false,
      message: /^status\.approvals: the request is already Expired/,
    },
    {
      name: 'a user cannot set controller-owned fields',
      in: statusUpdate(bob, pendingTarget, withStatus(pendingTarget, (s) => (s.phase = 'Active')), { target: true }),
      allowed: false,
      message: /^status\.phase: is written only by the netwatch controller/,
    },
    { name: 'a no-op status write by a user is allowed', in: statusUpdate(mallory, active, active), allowed: true },

    // Decisions
    { name: 'an approver of a pending part may deny', in: statusUpdate(bob, pendingTarget, decide(pendingTarget, 'Denied', 'bob'), { target: true }), allowed: true },
    {
      name: 'an approver of an already-approved part only cannot deny',
      in: statusUpdate(alice, pendingTarget, decide(pendingTarget, 'Denied', 'alice'), { source: true }),
      allowed: false,
      message: /may not deny this request: denying needs the right to approve a pending part \(target: /,
    },
    {
      name: 'an active access cannot be denied',
      in: statusUpdate(bob, active, decide(active, 'Denied', 'bob'), { target: true }),
      allowed: false,
      message: /use Revoked/,
    },
    { name: 'the requester may abort a pending request', in: statusUpdate(alice, pendingTarget, decide(pendingTarget, 'Aborted', 'alice')), allowed: true },
    {
      name: 'someone else cannot abort',
      in: statusUpdate(bob, pendingTarget, decide(pendingTarget, 'Aborted', 'bob'), { target: true }),
      allowed: false,
      message: /only the requester \(alice\) may abort/,
    },
    { name: 'the requester cannot abort an active access', in: statusUpdate(alice, active, decide(active, 'Aborted', 'alice')), allowed: false, message: /use Revoked/ },
    { name: 'the requester may revoke an active access', in: statusUpdate(alice, active, decide(active, 'Revoked', 'alice')), allowed: true },
    { name: 'an approver of any part may revoke an active access', in: statusUpdate(bob, active, decide(active, 'Revoked', 'bob'), { target: true }), allowed: true },
    { name: 'a stranger cannot revoke', in: statusUpdate(mallory, active, decide(active, 'Revoked', 'mallory')), allowed: false, message: /may not revoke this access/ },
    { name: 'a pending request cannot be revoked', in: statusUpdate(alice, pendingTarget, decide(pendingTarget, 'Revoked', 'alice')), allowed: false, message: /only an Active access can be revoked/ },
    {
      name: 'a decided request accepts no further decision',
      in: statusUpdate(alice, denied, withStatus(denied, (s) => (s.decision = { type: 'Aborted', by: 'alice' }))),
      allowed: false,
      message: /^status\.decision: the request was already Denied/,
    },

    // The controller
    {
      name: 'the controller may write phase and mirror approvals recorded at creation',
      in: statusUpdate(controller, pendingTarget, withStatus(pendingTarget, (s) => {
        s.phase = 'PartiallyApproved';
        s.approvals = [{ part: 'source', namespace: 'monitoring', by: 'alice', at: '2026-11-23T09:00:00Z' }];
      })),
      allowed: true,
    },
    {
      name: 'the controller cannot invent an approval',
      in: statusUpdate(controller, pendingTarget, approve(pendingTarget, 'alice')),
      allowed: false,
      message: /status\.approvals\[0\]: the controller may only mirror approvals recorded at creation/,
    },
    {
      name: 'the controller cannot attribute a mirrored approval to someone else',
      in: statusUpdate(controller, pendingTarget, approve(pendingTarget, 'bob', 'source', 'monitoring')),
      allowed: false,
      message: /the controller may only mirror/,
    },
    {
      name: "a user with the controller's name but not its ServiceAccount group may not write controller fields",
      in: statusUpdate(impostor, pendingTarget, withStatus(pendingTarget, (s) => (s.phase = 'Active'))),
      allowed: false,
      message: /^status\.phase: is written only by the netwatch controller/,
    },
    {
      name: 'the controller cannot write a decision',
      in: statusUpdate(controller, active, decide(active, 'Revoked', 'alice')),
      allowed: false,
      message: /^status\.decision: is decided by users/,
    },

    // DELETE
    { name: 'the requester may delete her request', in: input({ operation: 'DELETE', oldObject: pendingTarget }), allowed: true },
    { name: 'an approver of a part may delete a request', in: input({ operation: 'DELETE', userInfo: bob, oldObject: pendingTarget, facts: facts({ target: true }) }), allowed: true },
    { name: 'the controller may delete a request (retention)', in: input({ operation: 'DELETE', userInfo: controller, oldObject: denied }), allowed: true },
    {
      name: "a stranger cannot delete someone else's request, and is told who can",
      in: input({ operation: 'DELETE', userInfo: mallory, oldObject: pendingTarget }),
      allowed: false,
      code: 403,
      message: /^metadata\.name: user "mallory" may not delete AccessRequest ar-1: only its requester \(alice\), a user allowed to approve one of its parts/,
    },
  ];

  for (const c of cases) {
    test(c.name, () => {
      const r = validate(c.in);
      assert.equal(r.allowed, c.allowed, r.message);
      if (c.message) assert.match(r.message ?? '', c.message);
      if (c.code) assert.equal(r.code, c.code);
      if (!r.allowed) assert.ok(r.message, 'every rejection has a message');
    });
  }
});

describe('factsNeeded', () => {
  const old = request();
  test('a create needs the claimed parts reviewed, its Services read and the requester\'s open requests counted', () => {
    const n = factsNeeded('validate', input({ object: old }));
    assert.equal(n.openRequestsOf, 'alice');
    assert.equal(factsNeeded('validate', input({ object: old, config: webhookConfig({ maxOpenRequests: 0 }) })).openRequestsOf, undefined);
    assert.deepEqual(n.parts.map((p) => p.name), ['source']);
    assert.deepEqual(n.services.map((s) => `${s.namespace}/${s.name}`), ['monitoring/prometheus', 'default/database']);
  });
  test('an invalid spec costs no API calls at all', () => {
    assert.deepEqual(factsNeeded('validate', input({ object: { ...old, spec: { ...old.spec, duration: 'forever' } } })), { parts: [], services: [] });
  });
  test('the mutating webhook needs the parts at create, and on status updates only the AccessPolicies of its namespaces', () => {
    assert.equal(factsNeeded('mutate', input({ object: old })).services.length, 0);
    assert.deepEqual(factsNeeded('mutate', input({ operation: 'UPDATE', subResource: 'status', oldObject: old, object: old })), {
      parts: [],
      services: [],
      policyNamespaces: ['monitoring', 'default'],
    });
  });
  test('the requester deleting and the controller writing need no review', () => {
    assert.equal(factsNeeded('validate', input({ operation: 'DELETE', oldObject: old })).parts.length, 0);
    assert.equal(factsNeeded('validate', input({ operation: 'UPDATE', subResource: 'status', userInfo: controller, oldObject: old, object: old })).parts.length, 0);
  });
  test('a stranger deleting needs the parts reviewed', () => {
    assert.equal(factsNeeded('validate', input({ operation: 'DELETE', userInfo: mallory, oldObject: old })).parts.length, 2);
  });
});

test('changedPaths names the innermost changed fields', () => {
  assert.deepEqual(changedPaths({ a: 1, b: { c: [1, 2] } }, { a: 1, b: { c: [1, 3] } }, 'spec'), ['spec.b.c[1]']);
  assert.deepEqual(changedPaths({ a: 1 }, { a: 1, d: 2 }, 'spec'), ['spec.d']);
  assert.deepEqual(changedPaths([1], [1, 2], 'spec.ports'), ['spec.ports']);
  assert.deepEqual(changedPaths({ a: 1 }, { a: 1 }, 'spec'), []);
});

describe('AccessPolicies at admission', () => {
  const carol: UserInfo = { username: 'carol', groups: ['dbas'] };
  const dave: UserInfo = { username: 'dave', groups: ['dbas'] };
  const policy = (...rules: PolicyRule[]): AccessPolicy => ({
    apiVersion: 'netwatch.vtk.io/v1alpha1',
    kind: 'AccessPolicy',
    metadata: { namespace: 'default', name: 'db' },
    spec: { rules },
  });
  const withPolicies = (may: Partial<Record<PartName, boolean>>, ...policies: AccessPolicy[]): AdmissionFacts => ({ ...facts(may), policies });
  const twoDbas = policy({ name: 'two', approvals: { count: 2, groups: ['dbas'] } });

  /** alice's create, through the mutating webhook, then the validating one. */
  function create(f: AdmissionFacts) {
    const object = mutated(input({ object: request(undefined, []), facts: f }));
    return { object, verdict: validate(input({ object, facts: f })) };
  }
  /** `user` approves `part` of `old` (the plugin's write), through both webhooks. */
  function approve(old: AccessRequest, user: UserInfo, part: PartName, f: AdmissionFacts) {
    const object = withStatus(old, (s) => (s.approvals = [...(s.approvals ?? []), { part, namespace: part === 'target' ? 'default' : 'monitoring' }]));
    const q = { operation: 'UPDATE' as const, subResource: 'status', userInfo: user, oldObject: old, facts: f };
    const after = mutated(input({ ...q, object }));
    return { after, verdict: validate(input({ ...q, object: after })) };
  }

  test('a refusing rule refuses the create, naming the part and the rule', () => {
    const { verdict } = create(withPolicies({}, policy({ name: 'closed', refuse: 'the database takes no new clients' })));
    assert.equal(verdict.allowed, false);
    assert.equal(verdict.code, 403);
    assert.equal(verdict.message, 'spec: the target part (namespace default) is refused by AccessPolicy default/db, rule "closed": the database takes no new clients');
  });

  test('a duration above the rule\'s maxDuration is refused, naming the field and the rule', () => {
    const { verdict } = create(withPolicies({}, policy({ name: 'short', maxDuration: '1h' })));
    assert.equal(verdict.code, 422);
    assert.equal(verdict.message, 'spec.duration: must be at most 1h for the target part (namespace default) under AccessPolicy default/db, rule "short" (asked for 2h)');
  });

  test('auto-approve: stamped in spec.policy, counted as approved, and mirrored by the controller only as stamped', () => {
    const f = withPolicies({}, policy({ name: 'scrape', autoApprove: true, match: { peers: { namespaces: ['monitoring'] } } }));
    const { object, verdict } = create(f);
    assert.equal(verdict.allowed, true, verdict.message);
    assert.deepEqual(object.spec.policy, [{ part: 'target', namespace: 'default', rules: ['default/db/scrape'], approval: 'Auto', approvalRule: 'default/db/scrape' }]);
    const stored = { ...object, metadata: { ...object.metadata, creationTimestamp: '2026-11-23T09:00:00Z' } };
    assert.deepEqual(effectiveApprovals(stored), [{ part: 'target', namespace: 'default', by: 'AccessPolicy default/db/scrape', at: '2026-11-23T09:00:00Z' }]);
    const mirror = withStatus(stored, (s) => (s.approvals = effectiveApprovals(stored)));
    assert.equal(validate(input({ operation: 'UPDATE', subResource: 'status', userInfo: controller, oldObject: stored, object: mirror })).allowed, true);
    const forged = withStatus(stored, (s) => (s.approvals = [{ part: 'source', namespace: 'monitoring', by: 'AccessPolicy default/db/scrape' }]));
    assert.equal(validate(input({ operation: 'UPDATE', subResource: 'status', userInfo: controller, oldObject: stored, object: forged })).allowed, false);
  });

  test('a client cannot smuggle spec.policy: the webhook overwrites it, and refuses one it did not stamp', () => {
    const object = request(undefined, []);
    object.spec.policy = [{ part: 'target', namespace: 'default', rules: [], approval: 'Auto', approvalRule: 'default/x/y' }];
    assert.equal(mutated(input({ object })).spec.policy, undefined);
    assert.match(validate(input({ object: { ...object, spec: { ...object.spec, requester: { username: 'alice', uid: 'u-alice', groups: alice.groups ?? [], approvedParts: [] } } } })).message ?? '', /^spec\.policy: /);
  });

  test('N-of-M: the requester\'s own rights do not approve the part at create, and never count later', () => {
    const f = withPolicies({ source: true, target: true }, twoDbas);
    const { object, verdict } = create(f);
    assert.equal(verdict.allowed, true, verdict.message);
    assert.deepEqual(object.spec.requester?.approvedParts, ['source']);
    const own = approve(object, alice, 'target', f);
    assert.equal(own.verdict.allowed, false);
    assert.match(own.verdict.message ?? '', /^status\.reviews\[0\]: the requester never counts as an approver: AccessPolicy default\/db, rule "two" needs 2 distinct approvers/);
  });

  test('N-of-M: each approval is a review until the Nth distinct approver, a repeat and a non-member are refused', () => {
    const f = withPolicies({ target: true }, twoDbas);
    const stored = create(f).object;
    const first = approve(stored, carol, 'target', f);
    assert.equal(first.verdict.allowed, true, first.verdict.message);
    assert.deepEqual(first.after.status?.approvals ?? [], [], 'one of two: not approved yet');
    assert.deepEqual(first.after.status?.reviews, [{ part: 'target', namespace: 'default', by: 'carol', at: '2026-11-23T10:00:00Z', rule: 'default/db/two', required: 2 }]);

    const again = approve(first.after, carol, 'target', f);
    assert.equal(again.verdict.allowed, false);
    assert.match(again.verdict.message ?? '', /user "carol" already approved the target part; .* needs 2 distinct approvers \(1 of 2 so far\)/);
    assert.match(approve(first.after, bob, 'target', f).verdict.message ?? '', /user "bob" is not in "dbas"/);

    const second = approve(first.after, dave, 'target', f);
    assert.equal(second.verdict.allowed, true, second.verdict.message);
    assert.deepEqual(second.after.status?.approvals, [{ part: 'target', namespace: 'default', by: 'dave', at: '2026-11-23T10:00:00Z' }]);
    assert.deepEqual(second.after.status?.reviews?.map((r) => r.by), ['carol', 'dave']);
  });

  test('N-of-M: reviews are append-only and a user cannot add a completing approval early', () => {
    const f = withPolicies({ target: true }, twoDbas);
    const first = approve(create(f).object, carol, 'target', f).after;
    const erased = withStatus(first, (s) => (s.reviews = []));
    const q = { operation: 'UPDATE' as const, subResource: 'status', userInfo: dave, oldObject: first, facts: f };
    assert.match(validate(input({ ...q, object: erased })).message ?? '', /status\.reviews: is append-only/);
    const early = withStatus(create(f).object, (s) => {
      s.reviews = [{ part: 'target', namespace: 'default', by: 'dave', at: '2026-11-23T10:00:00Z', rule: 'default/db/two', required: 2 }];
      s.approvals = [{ part: 'target', namespace: 'default', by: 'dave', at: '2026-11-23T10:00:00Z' }];
    });
    assert.match(validate(input({ ...q, oldObject: create(f).object, object: early })).message ?? '', /needs 2 distinct approvers and has 1/);
  });

  test('a policy edited while a request is pending counts from the next decision', () => {
    const f2 = withPolicies({ target: true }, twoDbas);
    const f3 = withPolicies({ target: true }, policy({ name: 'three', approvals: { count: 3 } }));
    const first = approve(create(f2).object, carol, 'target', f2).after;
    const second = approve(first, dave, 'target', f3);
    assert.equal(second.verdict.allowed, true, second.verdict.message);
    assert.deepEqual(second.after.status?.approvals ?? [], [], 'the rule now asks for three');
    assert.deepEqual(second.after.status?.reviews?.map((r) => [r.by, r.rule, r.required]), [['carol', 'default/db/two', 2], ['dave', 'default/db/three', 3]]);
    const refusing = withPolicies({ target: true }, policy({ name: 'closed', refuse: 'frozen' }));
    assert.match(approve(first, dave, 'target', refusing).verdict.message ?? '', /AccessPolicies in force now refuse this request.*frozen/);
  });
});

describe('extensions at admission', () => {
  const activeStatus: AccessRequestStatus = {
    phase: 'Active',
    approvals: [
      { part: 'source', namespace: 'monitoring', by: 'alice', at: '2026-11-23T09:00:00Z' },
      { part: 'target', namespace: 'default', by: 'bob', at: '2026-11-23T09:00:00Z' },
    ],
  };
  const active = request(activeStatus);
  const withPolicy = (stamp: NonNullable<AccessRequest['spec']['policy']>): AccessRequest => ({ ...active, spec: { ...active.spec, policy: stamp } });
  /** `old` with one more extension as alice would write it, stamped by the mutating webhook as `user`. */
  const extended = (old: AccessRequest, duration: string, user: UserInfo = alice): AccessRequest => {
    const object = withStatus(old, (s) => (s.extensions = [...(s.extensions ?? []), { duration }]));
    return mutated(input({ operation: 'UPDATE', subResource: 'status', userInfo: user, oldObject: old, object }));
  };
  const approvedExtension = (old: AccessRequest, part: PartName, namespace: string, user: UserInfo, extension = (old.status?.extensions?.length ?? 1) - 1): AccessRequest => {
    const object = withStatus(old, (s) => (s.extensionApprovals = [...(s.extensionApprovals ?? []), { extension, part, namespace }]));
    return mutated(input({ operation: 'UPDATE', subResource: 'status', userInfo: user, oldObject: old, object }));
  };
  const check = (old: AccessRequest, object: AccessRequest, user: UserInfo = alice, may: Partial<Record<PartName, boolean>> = {}) =>
    validate(input({ operation: 'UPDATE', subResource: 'status', userInfo: user, oldObject: old, object, facts: facts(may) }));

  test('the mutating webhook stamps who extended and when over anything the client sent', () => {
    const object = withStatus(active, (s) => (s.extensions = [{ duration: '1h', requestedBy: 'bob', at: '2020-01-01T00:00:00Z' }]));
    const out = mutated(input({ operation: 'UPDATE', subResource: 'status', userInfo: alice, oldObject: active, object }));
    assert.deepEqual(out.status?.extensions, [{ duration: '1h', requestedBy: 'alice', at: '2026-11-23T10:00:00Z' }]);
  });

  const cases: { name: string; old: AccessRequest; object: () => AccessRequest; user?: UserInfo; may?: Partial<Record<PartName, boolean>>; want: RegExp | 'allowed' }[] = [
    { name: 'the requester may extend an Active access', old: active, object: () => extended(active, '1h'), want: 'allowed' },
    { name: 'an approver of a part may extend it', old: active, object: () => extended(active, '1h', bob), user: bob, may: { target: true }, want: 'allowed' },
    { name: 'anyone else is refused, naming who may', old: active, object: () => extended(active, '1h', mallory), user: mallory, want: /^status\.extensions: user "mallory" may not extend this access: only its requester/ },
    { name: 'a Pending request cannot be extended', old: request({ phase: 'Pending' }), object: () => extended(request({ phase: 'Pending' }), '1h'), want: /^status\.extensions: only an Active access can be extended and this request is Pending/ },
    { name: 'a revoked request cannot be extended', old: request({ ...activeStatus, decision: { type: 'Revoked', by: 'bob' } }), object: () => extended(request({ ...activeStatus, decision: { type: 'Revoked', by: 'bob' } }), '1h'), want: /^status\.extensions: the request is already Revoked; it accepts no further approvals or decisions and cannot be extended/ },
    { name: 'a zero duration is refused naming the field', old: active, object: () => extended(active, '0s'), want: /^status\.extensions\[0\]\.duration: must be a positive duration/ },
    { name: 'a duration over --max-duration is refused', old: active, object: () => extended(active, '25h'), want: /^status\.extensions\[0\]\.duration: must be at most 24h, .*--max-duration/ },
    {
      name: "a duration over a part's maxDuration is refused",
      old: withPolicy([{ part: 'target', namespace: 'default', rules: ['default/p/r'], approval: 'Default', maxDuration: '1h' }]),
      object: () => extended(withPolicy([{ part: 'target', namespace: 'default', rules: ['default/p/r'], approval: 'Default', maxDuration: '1h' }]), '2h'),
      want: /^status\.extensions\[0\]\.duration: must be at most 1h for the target part/,
    },
    {
      name: 'a second extension while one waits is refused',
      old: extended(active, '1h'),
      object: () => extended(extended(active, '1h'), '1h'),
      want: /^status\.extensions: extension 1 \(\+1h\) still waits for the source and target parts; one extension at a time/,
    },
    {
      name: 'an existing extension cannot be changed',
      old: extended(active, '1h'),
      object: () => withStatus(extended(active, '1h'), (s) => ((s.extensions ?? [])[0] = { duration: '5h', requestedBy: 'alice', at: '2026-11-23T10:00:00Z' })),
      want: /^status\.extensions: is append-only/,
    },
    {
      name: 'an extension and an approval in one write are refused',
      old: extended(active, '1h'),
      object: () => withStatus(extended(active, '2h'), (s) => (s.extensionApprovals = [{ extension: 0, part: 'target', namespace: 'default', by: 'alice', at: '2026-11-23T10:00:00Z' }])),
      want: /^status\.extensions: is append-only|^status: a status write may add exactly one thing/,
    },
    { name: 'an approver of the target approves its part of the waiting extension', old: extended(active, '1h'), object: () => approvedExtension(extended(active, '1h'), 'target', 'default', bob), user: bob, may: { target: true }, want: 'allowed' },
    { name: 'a user who may not approve the part is refused', old: extended(active, '1h'), object: () => approvedExtension(extended(active, '1h'), 'target', 'default', mallory), user: mallory, want: /^status\.extensionApprovals\[0\]: user "mallory" may not approve the target part/ },
    { name: 'approving when no extension waits is refused', old: active, object: () => approvedExtension(active, 'target', 'default', bob, 0), user: bob, may: { target: true }, want: /^status\.extensionApprovals\[0\]\.extension: must be the index of a waiting extension, and none waits/ },
    {
      name: 'a part within its maxTotalDuration needs no approval',
      old: extended(withPolicy([{ part: 'target', namespace: 'default', rules: ['default/p/r'], approval: 'Default', maxTotalDuration: '4h' }]), '1h'),
      object: () => approvedExtension(extended(withPolicy([{ part: 'target', namespace: 'default', rules: ['default/p/r'], approval: 'Default', maxTotalDuration: '4h' }]), '1h'), 'target', 'default', bob),
      user: bob,
      may: { target: true },
      want: /^status\.extensionApprovals\[0\]: the target part needs no more approval of extension 1 \(within its maxTotalDuration 4h\)/,
    },
    {
      name: 'under an Approvers rule the requester never counts',
      old: extended(withPolicy([{ part: 'target', namespace: 'default', rules: ['default/p/r'], approval: 'Approvers', approvals: 2, approvalRule: 'default/p/r' }]), '1h'),
      object: () => approvedExtension(extended(withPolicy([{ part: 'target', namespace: 'default', rules: ['default/p/r'], approval: 'Approvers', approvals: 2, approvalRule: 'default/p/r' }]), '1h'), 'target', 'default', alice),
      may: { target: true },
      want: /^status\.extensionApprovals\[0\]: the requester never counts as an approver/,
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const result = check(c.old, c.object(), c.user ?? alice, c.may ?? {});
      if (c.want === 'allowed') assert.equal(result.allowed, true, result.message);
      else {
        assert.equal(result.allowed, false);
        assert.match(result.message ?? '', c.want);
      }
    });
  }

  test('the controller may not add an extension', () => {
    const object = withStatus(active, (s) => (s.extensions = [{ duration: '1h', requestedBy: 'alice', at: '2026-11-23T10:00:00Z' }]));
    const result = check(active, object, controller);
    assert.equal(result.allowed, false);
    assert.match(result.message ?? '', /status\.extensions: records who extended, never written by the controller/);
  });
});
