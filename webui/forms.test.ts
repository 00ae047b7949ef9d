import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExternalForm, parsePorts, parseServiceForm } from './forms.ts';

const durations = ['30m', '2h'];

test('ports parse with TCP as the default protocol and duplicates dropped', () => {
  assert.deepEqual(parsePorts('5432, 53/udp 5432/TCP'), { ports: [{ port: 5432, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }] });
});

test('a port out of range is refused with the offending text', () => {
  assert.deepEqual(parsePorts('70000'), { error: '"70000" is not a port such as 5432 or 53/UDP' });
});

test('a complete service form becomes a Service spec', () => {
  const r = parseServiceForm(
    { sourceNamespace: 'monitoring', sourceService: 'prometheus', targetNamespace: 'default', targetService: 'database', ports: '5432', duration: '2h', reason: ' metrics ' },
    durations,
  );
  assert.deepEqual(r, {
    ok: true,
    spec: {
      type: 'Service',
      source: { namespace: 'monitoring', service: 'prometheus' },
      target: { namespace: 'default', service: 'database' },
      duration: '2h',
      reason: 'metrics',
      ports: [{ port: 5432, protocol: 'TCP' }],
    },
  });
});

test('every bad field of a service form is named', () => {
  const r = parseServiceForm({ sourceNamespace: 'Bad_NS', duration: '99h', reason: '' }, durations);
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.deepEqual(Object.keys(r.errors).sort(), ['duration', 'reason', 'sourceNamespace', 'sourceService', 'targetNamespace', 'targetService']);
});

test('an external form needs CIDRs with a prefix and a known direction', () => {
  const r = parseExternalForm({ namespace: 'shop', service: 'frontend', cidrs: '203.0.113.7', direction: 'sideways', duration: '30m', reason: 'x' }, durations);
  assert.deepEqual(r, { ok: false, errors: { cidrs: '"203.0.113.7" is not a CIDR such as 203.0.113.7/32', direction: 'choose ingress, egress or both' } });
});

test('a complete external form becomes an External spec', () => {
  const r = parseExternalForm({ namespace: 'shop', service: 'frontend', cidrs: '203.0.113.7/32\n198.51.100.0/24', direction: 'ingress', duration: '30m', reason: 'x' }, durations);
  assert.equal(r.ok, true);
  if (r.ok) assert.deepEqual(r.spec.cidrs, ['203.0.113.7/32', '198.51.100.0/24']);
});

test('a CIDR with an impossible address is refused like the webhook would', () => {
  const r = parseExternalForm({ namespace: 'shop', service: 'frontend', cidrs: '300.1.2.3/32', direction: 'ingress', duration: '30m', reason: 'x' }, durations);
  assert.deepEqual(r, { ok: false, errors: { cidrs: '"300.1.2.3/32" is not a CIDR such as 203.0.113.7/32' } });
});

test('a reason is measured as the CRD measures it, in characters: 512 emoji pass, 513 do not', () => {
  const form = (reason: string) => ({ namespace: 'shop', service: 'frontend', cidrs: '203.0.113.7/32', direction: 'ingress', duration: '30m', reason });
  assert.equal(parseExternalForm(form('🔥'.repeat(512)), durations).ok, true);
  assert.deepEqual(parseExternalForm(form('🔥'.repeat(513)), durations), { ok: false, errors: { reason: 'at most 512 characters' } });
});
