import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { policedRequest, serviceRequest } from '../../../test/support/builders.ts';
import type { WhyResult } from '../services/why.ts';
import {
  availableActions,
  extendError,
  extendOutcome,
  extensionKeys,
  fieldWarnings,
  formSpec,
  initialState,
  previewKey,
  previewOfRequest,
  previewsToLoad,
  reduce,
  requestView,
  selectedRequest,
  servicesToLoad,
  suggestions,
  visible,
  whyFormQuery,
  type KeyPress,
  type State,
  type UiAction,
} from './state.ts';

const base = () => initialState({ now: Date.parse('2026-01-01T01:00:00Z'), width: 160, height: 40, defaultNamespace: 'default' });
const apply = (s: State, ...actions: UiAction[]) => actions.reduce(reduce, s);
const key = (input: string, extra: Partial<KeyPress> = {}): UiAction => ({ type: 'key', key: { input, ...extra } });
const type = (text: string): UiAction => key(text);

function loaded(): State {
  return apply(
    base(),
    { type: 'me', me: { username: 'bob', groups: [] } },
    { type: 'loaded', items: [serviceRequest('pending-1'), serviceRequest('active-1', { phase: 'Active', expiresAt: '2026-01-01T02:00:00Z' }), serviceRequest('mine-1', { by: 'bob' })] },
  );
}

describe('the hub', () => {
  test('opens on the Pending tab when something is pending, newest first', () => {
    const s = loaded();
    assert.equal(s.tab, 'pending');
    assert.deepEqual(visible(s).map((r) => r.metadata.name).sort(), ['mine-1', 'pending-1']);
  });
  test('tabs switch with 1-4 and Tab, and the selection stays in range', () => {
    let s = apply(loaded(), key('2'));
    assert.deepEqual(visible(s).map((r) => r.metadata.name), ['active-1']);
    s = apply(s, key('', { downArrow: true }), key('', { downArrow: true }));
    assert.equal(s.selected, 0);
    s = apply(s, key('', { tab: true }));
    assert.equal(s.tab, 'mine');
  });
  test('a watch event adds, updates and removes requests live', () => {
    let s = apply(loaded(), key('4'));
    s = apply(s, { type: 'event', kind: 'ADDED', object: serviceRequest('new-1') });
    assert.equal(visible(s).length, 4);
    s = apply(s, { type: 'event', kind: 'MODIFIED', object: serviceRequest('new-1', { phase: 'Denied' }) });
    assert.equal(s.requests['new-1']?.status?.phase, 'Denied');
    s = apply(s, { type: 'event', kind: 'DELETED', object: serviceRequest('new-1') });
    assert.equal(visible(s).length, 3);
  });
  test('the selection stays on its request when a newer one arrives or one above it leaves', () => {
    let s = apply(loaded(), key('4'));
    s = apply(s, { type: 'move', delta: visible(s).findIndex((r) => r.metadata.name === 'pending-1') });
    const newer = serviceRequest('zz-newer');
    newer.metadata.creationTimestamp = '2026-01-01T00:30:00Z';
    s = apply(s, { type: 'event', kind: 'ADDED', object: newer });
    assert.equal(visible(s)[0]?.metadata.name, 'zz-newer');
    assert.equal(visible(s)[s.selected]?.metadata.name, 'pending-1');
    s = apply(s, { type: 'event', kind: 'DELETED', object: serviceRequest('active-1') });
    assert.equal(visible(s)[s.selected]?.metadata.name, 'pending-1');
    s = apply(s, { type: 'loaded', items: Object.values(s.requests).reverse() });
    assert.equal(visible(s)[s.selected]?.metadata.name, 'pending-1');
    // The selected request itself leaves: the selection stays at its place, within range.
    s = apply(s, { type: 'event', kind: 'DELETED', object: serviceRequest('pending-1') });
    assert.ok(s.selected < visible(s).length);
  });
  test('approve and deny keys exist only when the user may approve a pending part', () => {
    let s = loaded();
    const pendingIndex = visible(s).findIndex((r) => r.metadata.name === 'pending-1');
    s = apply(s, { type: 'move', delta: pendingIndex });
    assert.deepEqual(availableActions(s), []);
    assert.deepEqual(apply(s, key('a')).effects, [], 'pressing a does nothing without permission');
    s = apply(s, { type: 'perms', name: 'pending-1', perms: { target: true } });
    assert.deepEqual(availableActions(s), ['approve', 'deny']);
    // a asks first; only Enter approves.
    const asked = apply(s, key('a'));
    assert.deepEqual(asked.effects, []);
    assert.deepEqual(asked.prompt, { action: 'approve', name: 'pending-1', reason: '', required: false });
    assert.deepEqual(apply(asked, key('', { return: true })).effects, [{ type: 'approve', name: 'pending-1' }]);
  });
  test('the approve confirmation: Esc cancels, typed keys do nothing, the preview of that request is loaded', () => {
    let s = apply(loaded(), { type: 'perms', name: 'pending-1', perms: { target: true } });
    s = apply(s, { type: 'move', delta: visible(s).findIndex((r) => r.metadata.name === 'pending-1') }, key('a'));
    assert.deepEqual(previewsToLoad(s).map((r) => r.metadata.name), ['pending-1']);
    s = apply(s, key('a'), key('y'), key('d'));
    assert.equal(s.prompt?.action, 'approve', 'a key typed in the confirmation is no other action');
    assert.equal(s.prompt?.reason, '');
    assert.deepEqual(s.effects, []);
    s = apply(s, key('', { escape: true }));
    assert.equal(s.prompt, undefined);
    assert.deepEqual(s.effects, []);
  });
  test('previews are kept per request version, only while the request is on screen', () => {
    const preview = { halves: [], planned: [] };
    let s = apply(loaded(), { type: 'perms', name: 'pending-1', perms: { target: true } });
    s = apply(s, { type: 'move', delta: visible(s).findIndex((r) => r.metadata.name === 'pending-1') }, key('', { return: true }));
    const r = s.requests['pending-1'];
    assert.ok(r);
    assert.deepEqual(previewsToLoad(s), [r]);
    s = apply(s, { type: 'preview-loaded', key: previewKey(r), preview });
    assert.deepEqual(previewsToLoad(s), []);
    assert.equal(previewOfRequest(s, r), preview);
    // A new version (approved meanwhile, say) is previewed again.
    const changed = { ...r, metadata: { ...r.metadata, resourceVersion: '99' } };
    s = apply(s, { type: 'event', kind: 'MODIFIED', object: changed });
    assert.deepEqual(previewsToLoad(s), [changed]);
    // A late answer for a request no longer on screen is dropped.
    s = apply(s, { type: 'back' }, { type: 'preview-loaded', key: previewKey(changed), preview });
    assert.deepEqual(s.previews, {});
  });
  test('deny asks for a reason, refuses an empty one, then queues the decision', () => {
    let s = apply(loaded(), { type: 'perms', name: 'mine-1', perms: { target: true } }, { type: 'perms', name: 'pending-1', perms: { target: true } });
    s = apply(s, key('d'));
    assert.equal(s.prompt?.action, 'deny');
    s = apply(s, key('', { return: true }));
    assert.equal(s.message?.kind, 'error');
    assert.deepEqual(s.effects, []);
    s = apply(s, type('freeze week'), key('\x7f'), type('k'), key('', { return: true }));
    assert.equal(s.prompt, undefined);
    assert.equal(s.effects[0]?.type, 'decide');
    assert.equal((s.effects[0] as { reason: string }).reason, 'freeze week');
  });
  test('a decision reason stops at 512 characters as the CRD counts them, never inside an emoji', () => {
    let s = apply(loaded(), { type: 'perms', name: 'pending-1', perms: { target: true } });
    s = apply(s, { type: 'move', delta: visible(s).findIndex((r) => r.metadata.name === 'pending-1') - s.selected }, key('d'));
    s = apply(s, { type: 'prompt-input', text: '🔥'.repeat(600) });
    assert.equal([...(s.prompt?.reason ?? '')].length, 512);
    assert.equal(s.prompt?.reason, '🔥'.repeat(512));
  });
  test('the requester may abort their own pending request; a revoke key appears on active ones', () => {
    let s = loaded();
    const mine = visible(s).findIndex((r) => r.metadata.name === 'mine-1');
    s = apply(s, { type: 'move', delta: mine });
    assert.deepEqual(availableActions(s), ['abort']);
    s = apply(s, key('2'), { type: 'perms', name: 'active-1', perms: { source: true } });
    assert.deepEqual(availableActions(s), ['revoke']);
  });
  test('Enter opens the detail view and Esc returns', () => {
    let s = apply(loaded(), key('', { return: true }));
    assert.equal(s.screen, 'detail');
    s = apply(s, key('', { escape: true }));
    assert.equal(s.screen, 'hub');
  });
  test('q queues quit; ? toggles help', () => {
    assert.deepEqual(apply(loaded(), key('q')).effects, [{ type: 'quit' }]);
    assert.equal(apply(loaded(), key('?')).screen, 'help');
  });
});

describe('the service form', () => {
  const withCluster = (s: State) =>
    apply(
      s,
      { type: 'namespaces', namespaces: ['default', 'monitoring', 'shop'] },
      { type: 'services', namespace: 'monitoring', services: [{ name: 'prometheus', ports: ['9090/TCP'] }] },
      { type: 'services', namespace: 'shop', services: [{ name: 'database', ports: ['5432/TCP', '9187/TCP'] }] },
    );
  test('type-ahead offers namespaces and the chosen namespace’s services; Tab completes', () => {
    let s = withCluster(apply(loaded(), key('s')));
    assert.equal(s.screen, 'service');
    s = apply(s, key('', { upArrow: true }), key('\x7f\x7f\x7f\x7f\x7f\x7f\x7f'), type('mon'));
    assert.deepEqual(suggestions(s, s.form!), ['monitoring']);
    s = apply(s, key('', { tab: true }), key('', { downArrow: true }), type('p'));
    assert.deepEqual(suggestions(s, s.form!), ['prometheus']);
    s = apply(s, key('', { tab: true }));
    assert.equal(s.form?.fields[1]?.value, 'prometheus');
  });
  test('the ports field suggests the target service’s ports', () => {
    let s = withCluster(apply(loaded(), key('s')));
    s = apply(s, type('prometheus'), key('', { downArrow: true }), key('\x7f'.repeat(7)), type('shop'), key('', { downArrow: true }), type('database'), key('', { downArrow: true }));
    assert.deepEqual(suggestions(s, s.form!), ['5432/TCP,9187/TCP']);
  });
  test('errors come from the shared validation and name the field; submit is refused until fixed', () => {
    let s = withCluster(apply(loaded(), key('s')));
    s = apply(s, type('prometheus'), key('', { downArrow: true }), key('\x7f'.repeat(7)), type('shop'), key('', { downArrow: true }), type('nope'));
    assert.match(fieldWarnings(s, s.form!).toSvc ?? '', /no Service nope in shop/);
    assert.match(fieldWarnings(s, s.form!).fromSvc ?? '', /^$/, 'default has not been loaded: no warning yet');
    for (let i = 0; i < 5; i++) s = apply(s, key('', { downArrow: true }));
    s = apply(s, key('', { return: true }));
    assert.match(s.message?.text ?? '', /^Reason: /);
    assert.deepEqual(s.effects, []);
  });
  test('a complete form queues a create with the spec', () => {
    let s = withCluster(apply(loaded(), key('s')));
    s = apply(s, key('', { upArrow: true }), key('\x7f'.repeat(7)), type('monitoring'), key('', { downArrow: true }), type('prometheus'));
    s = apply(s, key('', { downArrow: true }), key('\x7f'.repeat(7)), type('shop'), key('', { downArrow: true }), type('database'));
    s = apply(s, key('', { downArrow: true }), type('5432'), key('', { downArrow: true }), key('', { downArrow: true }), type('debug lag'), key('', { downArrow: true }), key('', { return: true }));
    assert.equal(s.effects.length, 1);
    const eff = s.effects[0] as { type: string; spec: { source: unknown; target: unknown; ports: unknown; reason: string } };
    assert.equal(eff.type, 'create');
    assert.deepEqual(eff.spec.source, { namespace: 'monitoring', service: 'prometheus' });
    assert.deepEqual(eff.spec.target, { namespace: 'shop', service: 'database' });
    assert.deepEqual(eff.spec.ports, [{ port: 5432, protocol: 'TCP' }]);
    assert.equal(s.form?.busy, true);
  });
  test('typed control characters never reach a field', () => {
    let s = apply(loaded(), key('s'));
    s = apply(s, type('ab\x1b[31mc\x07'));
    assert.equal(s.form?.fields[1]?.value, 'ab[31mc');
  });
  test('services are loaded for namespaces the form names', () => {
    const s = apply(loaded(), key('s'));
    assert.deepEqual(servicesToLoad(s), ['default']);
  });
});

describe('the external form', () => {
  test('the CIDR is validated as you type', () => {
    let s = apply(loaded(), key('e'));
    s = apply(s, type('203.0.113.7'));
    assert.match(formSpec(s.form!).errors.cidrs ?? '', /CIDR|prefix/i);
    s = apply(s, type('/32'));
    assert.equal(formSpec(s.form!).errors.cidrs, undefined);
  });
  test('direction cycles through its choices', () => {
    let s = apply(loaded(), key('e'), key('', { downArrow: true }));
    s = apply(s, key('', { rightArrow: true }));
    assert.equal(s.form?.fields[1]?.value, 'egress');
    s = apply(s, key('b'));
    assert.equal(s.form?.fields[1]?.value, 'both');
  });
});

describe('AccessPolicy progress', () => {
  const policyOf = (s: State, part: 'source' | 'target') => {
    const r = selectedRequest(s);
    assert.ok(r);
    return requestView(s, r).parts.find((p) => p.part === part)?.policy;
  };
  test('a part under a rule shows the rule and the approvals missing, and counts a review the watch brings', () => {
    let s = apply(base(), { type: 'me', me: { username: 'bob', groups: [] } }, { type: 'loaded', items: [policedRequest('pol-1', { groups: ['dbas'] })] });
    assert.equal(policyOf(s, 'source'), undefined, 'no rule applies to the source part');
    assert.equal(policyOf(s, 'target'), '2 distinct approvers from dbas, the requester not counted (shop/database/two); 0 of 2 so far, 2 missing');
    s = apply(s, { type: 'event', kind: 'MODIFIED', object: policedRequest('pol-1', { groups: ['dbas'], reviewers: ['dba1'] }) });
    assert.equal(policyOf(s, 'target'), '2 distinct approvers from dbas, the requester not counted (shop/database/two); 1 of 2 so far, 1 missing');
    s = apply(s, { type: 'event', kind: 'MODIFIED', object: policedRequest('pol-1', { groups: ['dbas'], reviewers: ['dba1', 'dba2'] }) });
    assert.equal(policyOf(s, 'target'), '2 distinct approvers from dbas, the requester not counted (shop/database/two); 2 of 2 so far');
  });
});

describe('extending an active access', () => {
  const active = (over: Partial<Parameters<typeof serviceRequest>[1]> = {}) => serviceRequest('live-1', { phase: 'Active', expiresAt: '2026-01-01T02:00:00Z', ...over });
  const as = (username: string, ...items: ReturnType<typeof serviceRequest>[]) =>
    apply(base(), { type: 'me', me: { username, groups: [] } }, { type: 'loaded', items }, key('4'));

  test('t asks for the duration, Enter checks it naming the field, then confirms with the reason and asks to extend', () => {
    let s = apply(as('alice', active()), key('t'));
    assert.deepEqual(s.prompt, { action: 'extend', name: 'live-1', reason: '', required: false, duration: '', editing: 'duration' });
    s = apply(s, key('', { return: true }));
    assert.equal(s.message?.text, 'Duration: type how much longer, e.g. 30m, 1h or 1h30m');
    s = apply(s, type('9x'), key('', { return: true }));
    assert.equal(s.prompt?.editing, 'duration', 'a bad duration stays on the duration step');
    assert.match(s.message?.text ?? '', /^Duration: must be a positive duration such as 30m, 1h or 1h30m \(got "9x"\)$/);
    s = apply(s, type('\x7f\x7f1h'), key('', { return: true }));
    assert.deepEqual(s.prompt, { action: 'extend', name: 'live-1', reason: '', required: false, duration: '1h' });
    assert.equal(s.message, undefined);
    assert.deepEqual(s.effects, [], 'nothing is written before the confirmation');
    s = apply(s, type('incident runs long'), key('', { return: true }));
    assert.deepEqual(s.effects, [{ type: 'extend', name: 'live-1', duration: '1h', reason: 'incident runs long' }]);
    assert.equal(s.prompt, undefined);
  });

  test('Esc cancels at either step and nothing is asked of the cluster', () => {
    let s = apply(as('alice', active()), key('t'), type('1h'), key('', { escape: true }));
    assert.equal(s.prompt, undefined);
    s = apply(s, key('t'), type('1h'), key('', { return: true }), key('', { escape: true }));
    assert.equal(s.prompt, undefined);
    assert.deepEqual(s.effects, []);
  });

  test('t does nothing on a pending request, or for a user who neither asked for it nor may approve a part', () => {
    assert.equal(apply(as('alice', serviceRequest('p-1')), key('t')).prompt, undefined);
    assert.equal(apply(as('mallory', active()), key('t')).prompt, undefined);
    const approver = apply(as('bob', active()), { type: 'perms', name: 'live-1', perms: { target: true } }, key('t'));
    assert.equal(approver.prompt?.action, 'extend', 'an approver of a part may extend');
  });

  test("a part's maxDuration is checked before the confirmation, naming the part", () => {
    const r = active();
    r.spec.policy = [{ part: 'target', namespace: 'shop', rules: ['shop/database/short'], approval: 'Default', maxDuration: '30m' }];
    const s = apply(as('alice', r), key('t'), type('1h'), key('', { return: true }));
    assert.equal(s.prompt?.editing, 'duration');
    assert.equal(s.message?.text, 'Duration: must be at most 30m for the target part (namespace shop) under its maxDuration (asked for 1h)');
  });

  test('the confirmation says what each part needs, and marks the parts you approve with it', () => {
    const r = policedRequest('live-1', { groups: ['dbas'], reviewers: ['dba1', 'dba2'] });
    r.status = { ...r.status, phase: 'Active', approvals: [...(r.status?.approvals ?? []), { part: 'source', namespace: 'monitoring', by: 'carol' }], expiresAt: '2026-01-01T02:00:00Z' };
    const s = apply(as('alice', r), { type: 'perms', name: 'live-1', perms: { source: true } });
    assert.deepEqual(extendOutcome(s, 'live-1', '1h'), [
      'source (monitoring): one approver (total 3h, no maxTotalDuration) (you may approve it: approved with this)',
      'target (shop): 2 distinct approvers from dbas, the requester not counted (shop/database/two; total 3h)',
    ]);
  });

  test('a waiting extension: a approves it for an approver of a part it waits for, and t is closed until it is decided', () => {
    const r = active();
    r.status = { ...r.status, extensions: [{ duration: '1h', requestedBy: 'alice', at: '2026-01-01T01:00:00Z' }] };
    let s = apply(as('bob', r), { type: 'perms', name: 'live-1', perms: { target: true } });
    assert.deepEqual(extensionKeys(s), { extend: false, approveExtension: true });
    s = apply(s, key('a'));
    assert.equal(s.prompt?.action, 'approve');
    s = apply(s, key('', { return: true }));
    assert.deepEqual(s.effects, [{ type: 'approve', name: 'live-1' }]);
    assert.match(extendError(s, 'live-1', '1h') ?? '', /extension 1 \(\+1h\) still waits for the source and target parts; one extension at a time/);
  });
});

describe('why is FROM → TO on PORT blocked?', () => {
  const withCluster = (s: State) =>
    apply(
      s,
      { type: 'namespaces', namespaces: ['default', 'monitoring', 'shop'] },
      { type: 'services', namespace: 'monitoring', services: [{ name: 'prometheus', ports: ['9090/TCP'] }] },
      { type: 'services', namespace: 'shop', services: [{ name: 'database', ports: ['5432/TCP', '9187/TCP'] }] },
    );
  const down = key('', { downArrow: true });
  const enter = key('', { return: true });
  /** The why form filled in, as typed, and submitted. */
  const ask = (s: State, from: string, toNs: string, toSvc: string, port: string) =>
    apply(s, key('w'), type(from), down, key('\x7f'.repeat(7)), type(toNs), down, type(toSvc), down, type(port), down, enter);
  const answer = (over: Partial<WhyResult>): WhyResult => ({
    from: { service: 'monitoring/prometheus', pods: ['prometheus-0'] },
    to: { service: 'shop/database', pods: ['database-0'] },
    port: 5432,
    protocol: 'TCP',
    answer: 'blocked',
    ingress: { direction: 'ingress', of: 'shop/database', podsKnown: true, pods: 1, isolatedPods: 1, unknownPods: 0, isolatedBy: ['shop/default-deny'], allowedBy: [], unknown: [] },
    pairs: [],
    notReadable: [],
    notes: [],
    ...over,
  });

  test('w opens the query form; From completes a namespace, then a Service of it; Port the target\'s ports', () => {
    let s = withCluster(apply(loaded(), key('w')));
    assert.equal(s.screen, 'why');
    assert.deepEqual(s.form?.fields.map((f) => f.key), ['from', 'toNs', 'toSvc', 'port']);
    s = apply(s, type('mon'));
    assert.deepEqual(suggestions(s, s.form!), ['monitoring/']);
    s = apply(s, key('', { tab: true }));
    assert.equal(s.form?.fields[0]?.value, 'monitoring/');
    assert.deepEqual(suggestions(s, s.form), ['monitoring/prometheus']);
    s = apply(s, key('', { tab: true }), down, key('\x7f'.repeat(7)), type('shop'), down, type('database'), down);
    assert.deepEqual(suggestions(s, s.form!), ['5432/TCP', '9187/TCP']);
    s = apply(s, type('9'));
    assert.deepEqual(suggestions(s, s.form!), ['9187/TCP']);
  });
  test("the Services of From's namespace and the target's are loaded", () => {
    const s = apply(loaded(), key('w'), type('monitoring/p'), down, key('\x7f'.repeat(7)), type('shop'));
    assert.deepEqual(servicesToLoad(s).sort(), ['monitoring', 'shop']);
  });
  test('the query is parsed by the CLI\'s parser: a mistake names the field, and nothing is asked until it is fixed', () => {
    const s = ask(loaded(), 'monitoring/prometheus', 'shop', 'database', 'http');
    assert.equal(s.screen, 'why');
    assert.deepEqual(s.effects, []);
    assert.match(s.message?.text ?? '', /^Port: "http" is not PORT\[\/PROTOCOL\] \(e\.g\. 5432\/TCP/);
    assert.equal(s.form?.submitted, true, 'every field now shows its problem');
    const bad = whyFormQuery(apply(loaded(), key('w'), type('10.0.0.300')).form!, 'default').errors;
    assert.match(bad.from ?? '', /^"10\.0\.0\.300" is not an address or CIDR/);
    assert.equal(bad.toSvc, 'required');
    assert.equal(bad.port, 'required');
  });
  test('a complete query asks why with the query the CLI would make, shows it loading, then the answer', () => {
    let s = ask(loaded(), 'monitoring/prometheus', 'shop', 'database', '5432');
    assert.equal(s.screen, 'why-result');
    const query = { from: { service: { namespace: 'monitoring', name: 'prometheus' } }, to: { service: { namespace: 'shop', name: 'database' } }, port: { port: 5432, protocol: 'TCP' } };
    assert.deepEqual(s.effects, [{ type: 'why', query }]);
    assert.equal(s.why?.result, undefined);
    const asked = s.why!.query;
    s = apply(s, { type: 'why-answered', query: asked, result: answer({}) });
    assert.equal(s.why?.result?.answer, 'blocked');
    // An answer to an earlier query is dropped.
    s = apply(s, { type: 'why-answered', query: { ...asked }, result: answer({ answer: 'allowed' }) });
    assert.equal(s.why?.result?.answer, 'blocked');
  });
  test('n on a blocked answer opens the request form filled with the request why offers, at its reason', () => {
    let s = ask(loaded(), 'monitoring/prometheus', 'shop', 'database', '5432');
    s = apply(s, { type: 'why-answered', query: s.why!.query, result: answer({ open: 'kubectl netwatch request service …' }) }, key('n'));
    assert.equal(s.screen, 'service');
    const values = Object.fromEntries(s.form!.fields.map((f) => [f.key, f.value]));
    assert.deepEqual(values, { fromNs: 'monitoring', fromSvc: 'prometheus', toNs: 'shop', toSvc: 'database', ports: '5432/TCP', duration: '1h', reason: '' });
    assert.equal(s.form!.fields[s.form!.focus]?.key, 'reason');
    s = apply(s, type('dashboards'), down, enter);
    assert.equal(s.effects.at(-1)?.type, 'create');
  });
  test('a blocked CIDR opens the external form: ingress to the target on the port', () => {
    let s = ask(loaded(), '203.0.113.7', 'shop', 'database', '443/tcp');
    s = apply(s, { type: 'why-answered', query: s.why!.query, result: answer({ from: { cidr: '203.0.113.7/32' }, open: 'kubectl netwatch request external …' }) }, key('n'));
    assert.equal(s.screen, 'external');
    const values = Object.fromEntries(s.form!.fields.map((f) => [f.key, f.value]));
    assert.deepEqual(values, { cidrs: '203.0.113.7/32', direction: 'ingress', ns: 'shop', svc: 'database', ports: '443/TCP', duration: '1h', reason: '' });
  });
  test('n does nothing when nothing is offered (allowed, or the port is not the Service\'s); w asks again with the query kept', () => {
    let s = ask(loaded(), 'monitoring/prometheus', 'shop', 'database', '5432');
    s = apply(s, { type: 'why-answered', query: s.why!.query, result: answer({ answer: 'allowed' }) }, key('n'));
    assert.equal(s.screen, 'why-result');
    s = apply(s, key('', { escape: true }));
    assert.equal(s.screen, 'hub');
    s = apply(s, key('w'));
    assert.equal(s.screen, 'why');
    assert.deepEqual(s.form?.fields.map((f) => f.value), ['monitoring/prometheus', 'shop', 'database', '5432']);
  });
  test('request keys do nothing on the answer screen', () => {
    let s = apply(loaded(), { type: 'perms', name: 'pending-1', perms: { target: true } });
    s = ask(s, 'monitoring/prometheus', 'shop', 'database', '5432');
    s = apply(s, key('a'), key('d'));
    assert.equal(s.prompt, undefined);
  });
});
