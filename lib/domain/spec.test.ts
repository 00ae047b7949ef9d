import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AccessRequestSpec } from '../api/accessrequest.ts';
import { externalSpec, serviceSpec } from '../../test/support/builders.ts';
import { webhookConfig } from '../../webhook/config.ts';
import { serviceKey, validateServices, validateSpec, validateSpecSyntax, type ServiceFacts } from './spec.ts';
import type { FieldError } from './field-error.ts';

const fields = (errors: FieldError[]) => errors.map((e) => e.field);

describe('validateSpec', () => {
  const config = webhookConfig();
  const cases: { name: string; spec: unknown; config?: Partial<typeof config>; fields: string[]; message?: RegExp }[] = [
    { name: 'a service-to-service request within policy is valid', spec: serviceSpec(), fields: [] },
    { name: 'an external request within policy is valid', spec: externalSpec(), fields: [] },
    { name: 'ports may be left out (every port of the target)', spec: serviceSpec({ ports: undefined }), fields: [] },
    { name: 'a missing spec is reported on spec', spec: undefined, fields: ['spec'] },
    { name: 'an unknown type is reported on spec.type', spec: { ...serviceSpec(), type: 'Pod' }, fields: ['spec.type'] },
    {
      name: 'type Cluster is reported on spec.type with the types that exist',
      spec: { ...externalSpec(), type: 'Cluster' },
      fields: ['spec.type'],
      message: /^must be Service or External$/,
    },
    {
      name: 'a Service request without a target names spec.target',
      spec: serviceSpec({ target: undefined }),
      fields: ['spec.target'],
    },
    {
      name: 'a bad namespace and Service name are reported on their own fields',
      spec: serviceSpec({ source: { namespace: 'Bad_NS', service: '9lives' } }),
      fields: ['spec.source.namespace', 'spec.source.service'],
    },
    {
      name: 'a request from a Service to itself is refused',
      spec: serviceSpec({ target: { namespace: 'monitoring', service: 'prometheus' } }),
      fields: ['spec.target'],
    },
    {
      name: 'external fields on a Service request are refused',
      spec: serviceSpec({ cidrs: ['203.0.113.7/32'], direction: 'ingress' }),
      fields: ['spec.cidrs', 'spec.direction'],
    },
    {
      name: 'a bare IP is refused with an example of a CIDR',
      spec: externalSpec({ cidrs: ['203.0.113.7'] }),
      fields: ['spec.cidrs[0]'],
      message: /must be a CIDR with a prefix, e\.g\. 203\.0\.113\.7\/32/,
    },
    {
      name: 'a CIDR with host bits set is refused with its canonical form',
      spec: externalSpec({ cidrs: ['203.0.113.0/32', '10.1.2.3/16'] }),
      fields: ['spec.cidrs[1]'],
      message: /10\.1\.0\.0\/16/,
    },
    {
      name: 'a non-canonical IPv6 spelling is refused with its canonical form',
      spec: externalSpec({ cidrs: ['2001:DB8::/32'] }),
      fields: ['spec.cidrs[0]'],
      message: /2001:db8::\/32/,
    },
    {
      name: 'the whole IPv4 Internet is refused by default',
      spec: externalSpec({ cidrs: ['0.0.0.0/0'] }),
      fields: ['spec.cidrs[0]'],
      message: /refused by the cluster's CIDR policy/,
    },
    {
      name: 'the whole IPv6 Internet is refused by default',
      spec: externalSpec({ cidrs: ['203.0.113.7/32', '::/0'] }),
      fields: ['spec.cidrs[1]'],
    },
    {
      name: 'a range covering a denied address is refused',
      spec: externalSpec({ cidrs: ['169.254.0.0/16'] }),
      config: { cidrDenyList: ['169.254.169.254/32'] },
      fields: ['spec.cidrs[0]'],
      message: /covers 169\.254\.169\.254\/32/,
    },
    {
      name: 'the deny lists and the size limit can be lifted by an administrator',
      spec: externalSpec({ cidrs: ['0.0.0.0/0'] }),
      // The whole Internet also overlaps the special-purpose defaults and exceeds the default size limit.
      config: { defaultCidrDeny: false, cidrDenyList: [], defaultCidrDenyOverlapping: false, cidrMaxAddressesIPv4: '/0' },
      fields: [],
    },
    {
      name: 'an added deny entry keeps the whole Internet refused',
      spec: externalSpec({ cidrs: ['0.0.0.0/0'] }),
      config: { cidrDenyList: ['169.254.169.254/32'] },
      // Refused as 0.0.0.0/0 itself and as a range that covers the added entry.
      fields: ['spec.cidrs[0]', 'spec.cidrs[0]'],
      message: /refused by the cluster's CIDR policy/,
    },
    {
      name: 'a CIDR inside a range denied for overlap is refused',
      spec: externalSpec({ cidrs: ['10.1.2.3/32'] }),
      config: { cidrDenyOverlapping: ['10.0.0.0/8'] },
      fields: ['spec.cidrs[0]'],
      message: /overlaps 10\.0\.0\.0\/8/,
    },
    {
      name: 'a duplicated CIDR is refused',
      spec: externalSpec({ cidrs: ['203.0.113.7/32', '203.0.113.7/32'] }),
      fields: ['spec.cidrs[1]'],
    },
    { name: 'an external request without CIDRs names spec.cidrs', spec: externalSpec({ cidrs: [] }), fields: ['spec.cidrs'] },
    {
      name: 'an unknown direction is refused',
      spec: { ...externalSpec(), direction: 'all' },
      fields: ['spec.direction'],
      message: /ingress, egress or both/,
    },
    {
      name: 'a port out of range and an unknown protocol are named',
      spec: { ...serviceSpec(), ports: [{ port: 70000, protocol: 'TCP' }, { port: 53, protocol: 'ICMP' }] },
      fields: ['spec.ports[0].port', 'spec.ports[1].protocol'],
    },
    {
      name: 'a duplicated port is refused',
      spec: serviceSpec({ ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'UDP' }] }),
      fields: ['spec.ports[1]'],
    },
    {
      name: 'a duration above the maximum is refused with the maximum',
      spec: serviceSpec({ duration: '25h' }),
      fields: ['spec.duration'],
      message: /at most 24h/,
    },
    { name: 'a configured maximum is honoured', spec: serviceSpec({ duration: '2h' }), config: { maxDuration: '1h' }, fields: ['spec.duration'] },
    { name: 'a zero duration is refused', spec: serviceSpec({ duration: '0s' }), fields: ['spec.duration'] },
    { name: 'a duration in days is refused', spec: serviceSpec({ duration: '1d' }), fields: ['spec.duration'] },
    {
      name: 'unlimited is refused unless an administrator allows it',
      spec: serviceSpec({ duration: 'unlimited' }),
      fields: ['spec.duration'],
      message: /not allowed on this cluster/,
    },
    { name: 'unlimited is accepted when allowed', spec: serviceSpec({ duration: 'unlimited' }), config: { allowUnlimited: true }, fields: [] },
    { name: 'a blank reason is refused', spec: serviceSpec({ reason: '   ' }), fields: ['spec.reason'] },
    { name: 'a reason above 512 characters is refused', spec: serviceSpec({ reason: 'x'.repeat(513) }), fields: ['spec.reason'] },
    // The CRD's maxLength counts code points; an emoji is one, though two UTF-16 units.
    { name: 'a reason of 512 emoji is accepted, as the CRD accepts it', spec: serviceSpec({ reason: '🔥'.repeat(512) }), fields: [] },
    {
      name: 'a reason of 513 emoji is refused',
      spec: serviceSpec({ reason: '🔥'.repeat(513) }),
      fields: ['spec.reason'],
      message: /at most 512 characters/,
    },
    {
      name: 'the metadata address is refused by default, naming the range and the setting',
      spec: externalSpec({ cidrs: ['169.254.169.254/32'] }),
      fields: ['spec.cidrs[0]'],
      message: /^169\.254\.169\.254\/32 overlaps 169\.254\.0\.0\/16 \(IPv4 link-local.*--no-default-cidr-deny-overlapping/,
    },
    {
      name: 'two halves of the IPv4 Internet are refused together, on spec.cidrs',
      spec: externalSpec({ cidrs: ['0.0.0.0/1', '128.0.0.0/1'] }),
      fields: ['spec.cidrs'],
      message: /^spec\.cidrs\[0\] 0\.0\.0\.0\/1 and spec\.cidrs\[1\] 128\.0\.0\.0\/1 together cover 0\.0\.0\.0\/0 \(the whole IPv4 Internet\)/,
    },
    {
      name: 'a network larger than the limit is refused with the limit and its flag',
      spec: externalSpec({ cidrs: ['10.0.0.0/8'] }),
      fields: ['spec.cidrs[0]'],
      message: /more than the 65536 IPv4 addresses \(a \/16\) .*--cidr-max-addresses-ipv4/,
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const errors = validateSpec(c.spec, webhookConfig(c.config));
      assert.deepEqual(fields(errors), c.fields, JSON.stringify(errors));
      if (c.message) assert.match(errors[0]?.message ?? '', c.message);
    });
  }
  test('the syntax-only check leaves policy to the webhook: no maximum, unlimited allowed, any network', () => {
    for (const spec of [serviceSpec({ duration: '9000h' }), serviceSpec({ duration: 'unlimited' }), externalSpec({ cidrs: ['0.0.0.0/1', '128.0.0.0/1', '169.254.169.254/32'] })]) {
      assert.deepEqual(validateSpecSyntax(spec), [], JSON.stringify(spec));
    }
    assert.deepEqual(fields(validateSpecSyntax(externalSpec({ cidrs: ['10.1.2.3/16'], duration: '1d', type: 'Cluster' as 'External' }))), ['spec.type', 'spec.duration']);
    assert.deepEqual(fields(validateSpecSyntax(externalSpec({ cidrs: ['10.1.2.3/16'] }))), ['spec.cidrs[0]']);
    assert.match(validateSpecSyntax(serviceSpec({ duration: '1d' }))[0]?.message ?? '', /^must be a duration such as 30m, 2h or 1h30m \(hours, minutes, seconds\)$/);
  });
  test('is usable as-you-type: a half-filled form reports every missing field', () => {
    assert.deepEqual(fields(validateSpec({ type: 'External' }, config)), [
      'spec.service',
      'spec.cidrs',
      'spec.direction',
      'spec.duration',
      'spec.reason',
    ]);
  });
});

describe('validateServices', () => {
  const plain = (ports: [number, 'TCP' | 'UDP'][] = [[5432, 'TCP']]): ServiceFacts => ({
    type: 'ClusterIP',
    hasSelector: true,
    ports: ports.map(([port, protocol]) => ({ port, protocol })),
  });
  const cases: { name: string; spec: AccessRequestSpec; services: [string, ServiceFacts | null][]; fields: string[]; message?: RegExp }[] = [
    {
      name: 'existing selector Services with the requested port are accepted',
      spec: serviceSpec(),
      services: [
        [serviceKey('monitoring', 'prometheus'), plain([[9090, 'TCP']])],
        [serviceKey('default', 'database'), plain()],
      ],
      fields: [],
    },
    {
      name: 'a missing target names spec.target.service',
      spec: serviceSpec(),
      services: [[serviceKey('monitoring', 'prometheus'), plain()], [serviceKey('default', 'database'), null]],
      fields: ['spec.target.service'],
      message: /does not exist/,
    },
    {
      name: 'a NodePort source is refused',
      spec: serviceSpec(),
      services: [
        [serviceKey('monitoring', 'prometheus'), { ...plain(), type: 'NodePort' }],
        [serviceKey('default', 'database'), plain()],
      ],
      fields: ['spec.source.service'],
      message: /type NodePort; only ClusterIP/,
    },
    {
      name: 'a selector-less target is refused',
      spec: serviceSpec(),
      services: [
        [serviceKey('monitoring', 'prometheus'), plain()],
        [serviceKey('default', 'database'), { ...plain(), hasSelector: false }],
      ],
      fields: ['spec.target.service'],
      message: /no selector/,
    },
    {
      name: 'an ExternalName Service behind an external request is refused',
      spec: externalSpec(),
      services: [[serviceKey('shop', 'frontend'), { type: 'ExternalName', hasSelector: false, ports: [{ port: 443, protocol: 'TCP' }] }]],
      fields: ['spec.service.name'],
    },
    {
      name: 'a requested port the target does not have is named with the ports it has',
      spec: serviceSpec({ ports: [{ port: 5432, protocol: 'TCP' }, { port: 5432, protocol: 'UDP' }] }),
      services: [
        [serviceKey('monitoring', 'prometheus'), plain([[9090, 'TCP']])],
        [serviceKey('default', 'database'), plain()],
      ],
      fields: ['spec.ports[1]'],
      message: /5432\/UDP is not a port of Service default\/database; it has: 5432\/TCP/,
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const errors = validateServices(c.spec, new Map(c.services));
      assert.deepEqual(fields(errors), c.fields, JSON.stringify(errors));
      if (c.message) assert.match(errors[0]?.message ?? '', c.message);
    });
  }
});
