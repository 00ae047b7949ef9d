import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from '../../scripts/controlplane.ts';
import { API_VERSION, GROUP, KIND, PLURAL, VERSION } from '../../lib/api/accessrequest.ts';
import { serviceSpec } from '../support/builders.ts';

const base = serviceSpec({ reason: 'debug replication lag' });

function body(name: string, spec: object) {
  return { apiVersion: API_VERSION, kind: KIND, metadata: { name }, spec };
}

describe('the AccessRequest CRD on a real API server', () => {
  let cp: ControlPlane;
  let api: CustomObjectsApi;
  before(async () => {
    cp = await startControlPlane({ maxtac: false });
    api = cp.admin.makeApiClient(CustomObjectsApi);
  });
  after(async () => {
    await cp?.stop();
  });

  const create = (name: string, spec: object) =>
    api.createClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, body: body(name, spec) });

  test('accepts a valid Service request and an External one, defaulting the protocol', async () => {
    await create('valid-service', base);
    const created = (await create('valid-external', {
      type: 'External',
      service: { namespace: 'shop', name: 'frontend' },
      // Short canonical IPv6 networks are valid too.
      cidrs: ['203.0.113.7/32', '2001:db8::/64', '2::/16', '::1/128'],
      direction: 'ingress',
      ports: [{ port: 443 }],
      duration: '30m',
      reason: 'partner test',
    })) as { spec: { ports: { protocol: string }[] } };
    assert.equal(created.spec.ports[0]?.protocol, 'TCP');
  });

  const invalid: [string, Record<string, unknown>, RegExp][] = [
    ['a port above 65535', { ...base, ports: [{ port: 70000, protocol: 'TCP' }] }, /spec\.ports\[0\]\.port/],
    ['an unknown protocol', { ...base, ports: [{ port: 53, protocol: 'ICMP' }] }, /spec\.ports\[0\]\.protocol.*supported values/i],
    ['a duration that is not a duration', { ...base, duration: 'forever' }, /spec\.duration/],
    ['a reason longer than 512 characters', { ...base, reason: 'x'.repeat(513) }, /spec\.reason/],
    ['a namespace that is not a DNS label', { ...base, source: { namespace: 'Bad_NS', service: 'x' } }, /spec\.source\.namespace/],
    ['a Service request without a target', { ...base, target: undefined }, /type Service requires spec\.source and spec\.target/],
    ['a Service request with CIDRs', { ...base, cidrs: ['10.0.0.0/8'] }, /does not allow spec\.service, spec\.cidrs/],
    [
      'a bare IP where a CIDR is required',
      { type: 'External', service: { namespace: 'a', name: 'b' }, cidrs: ['203.0.113.7'], direction: 'ingress', duration: '1h', reason: 'r' },
      /spec\.cidrs\[0\]/,
    ],
    [
      'a CIDR with host bits set',
      { type: 'External', service: { namespace: 'a', name: 'b' }, cidrs: ['10.1.2.3/16'], direction: 'egress', duration: '1h', reason: 'r' },
      /no host bits/,
    ],
    [
      'an unknown direction',
      { type: 'External', service: { namespace: 'a', name: 'b' }, cidrs: ['10.1.0.0/16'], direction: 'sideways', duration: '1h', reason: 'r' },
      /spec\.direction/,
    ],
    ['duplicate ports', { ...base, ports: [{ port: 1, protocol: 'TCP' }, { port: 1, protocol: 'TCP' }] }, /spec\.ports\[1\].*Duplicate/i],
  ];
  for (const [what, spec, message] of invalid) {
    test(`rejects ${what}, naming the field`, async () => {
      await assert.rejects(create(`invalid-${Math.random().toString(36).slice(2, 8)}`, spec), (err: { code?: number; body?: string }) => {
        assert.equal(err.code, 422);
        assert.match(String(err.body), message);
        return true;
      });
    });
  }

  test('refuses any change to spec after create', async () => {
    await create('immutable', base);
    await assert.rejects(
      api.patchClusterCustomObject({
        group: GROUP,
        version: VERSION,
        plural: PLURAL,
        name: 'immutable',
        body: [{ op: 'replace', path: '/spec/duration', value: '9h' }],
      }),
      (err: { code?: number; body?: string }) => err.code === 422 && /spec is immutable/.test(String(err.body)),
    );
  });
});
