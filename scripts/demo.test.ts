// The sandbox's notification wiring, checked by the notifier's own parsers: the configuration the sandbox writes is
// valid, and each demo namespace's annotation routes its approvals to the chat stand-in and its approver's mailbox,
// both deliverable (the address is in the mail sink's allowed domain); the requester is reached by mail too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parseConfig } from '../notifier/config.ts';
import { ANNOTATION_NOTIFY_APPROVERS, destinationsOf, parseRoute } from '../notifier/routes.ts';
import { demoNotifierConfig, demoObjects } from './demo.ts';
import type { AccessPolicy } from '../lib/api/accesspolicy.ts';
import type { AccessRequestSpec } from '../lib/api/accessrequest.ts';
import { evaluateParts, policyErrors } from '../lib/domain/access-policy.ts';

const config = parseConfig(
  JSON.stringify(
    demoNotifierConfig({
      chatUrlFile: '/sandbox/notifier/team-chat-url',
      eventsUrlFile: '/sandbox/notifier/audit-events-url',
      caFile: '/sandbox/notifier/ca.crt',
      smtp: { host: '127.0.0.1', port: 2525, usernameFile: '/sandbox/notifier/smtp-username', passwordFile: '/sandbox/notifier/smtp-password' },
    }),
  ),
  'the sandbox configuration',
);

const approversOf = (namespace: string) => {
  const ns = demoObjects().find((o: KubernetesObject) => o.kind === 'Namespace' && o.metadata?.name === namespace);
  const route = ns?.metadata?.annotations?.[ANNOTATION_NOTIFY_APPROVERS] ?? assert.fail(`${namespace} has no route`);
  const { items, problems } = parseRoute(route, config.routing, { requester: false });
  assert.deepEqual(problems, [], route);
  const { destinations, unroutable } = destinationsOf({ kind: 'approvers', part: 'target', namespace }, items, config.routing, 'alice');
  assert.deepEqual(unroutable, []);
  return destinations.map((d) => d.key);
};

test("each demo namespace's approvals go to the chat stand-in and to the person RBAC makes its approver", () => {
  assert.deepEqual(approversOf('payments'), ['team-chat', 'mail:bob@example.test']);
  assert.deepEqual(approversOf('monitoring'), ['team-chat', 'mail:carol@example.test']);
  assert.deepEqual(approversOf('shop'), ['team-chat', 'mail:carol@example.test']);
  const bindings = demoObjects().filter((o) => o.kind === 'RoleBinding' && (o as { roleRef?: { name?: string } }).roleRef?.name === 'netwatch-approver');
  assert.deepEqual(
    bindings.map((b) => `${b.metadata?.namespace}:${(b as { subjects?: { name: string }[] }).subjects?.[0]?.name}`).sort(),
    ['monitoring:carol', 'payments:bob', 'shop:carol'],
  );
});

test('the requester hears by mail at their demo address and on the audit endpoint', () => {
  const { destinations, unroutable } = destinationsOf({ kind: 'requester' }, config.routing.requester, config.routing, 'alice');
  assert.deepEqual(unroutable, []);
  assert.deepEqual(destinations.map((d) => d.key), ['mail:alice@example.test', 'audit-events']);
});

test("the sandbox's AccessPolicy auto-approves prometheus on the database's metrics port, and nothing else", () => {
  const policies = demoObjects().filter((o) => o.kind === 'AccessPolicy') as unknown as AccessPolicy[];
  assert.equal(policies.length, 1);
  const request = (port: number, duration = '1h'): AccessRequestSpec => ({
    type: 'Service',
    source: { namespace: 'monitoring', service: 'prometheus' },
    target: { namespace: 'payments', service: 'database' },
    ports: [{ port, protocol: 'TCP' }],
    duration,
    reason: 'dashboards',
  });
  const approval = (spec: AccessRequestSpec) => evaluateParts(spec, policies, () => undefined).map((p) => [p.part, p.approval.kind]);
  assert.deepEqual(approval(request(9187)), [['source', 'default'], ['target', 'auto']]);
  assert.deepEqual(approval(request(5432)), [['source', 'default'], ['target', 'default']]);
  const long = request(9187, '9h');
  assert.match(policyErrors(long, evaluateParts(long, policies, () => undefined))[0]?.message ?? '', /at most 8h/);
});
