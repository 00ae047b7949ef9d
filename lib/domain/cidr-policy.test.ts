import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCidr } from './cidr.ts';
import {
  DEFAULT_CIDR_DENY_LIST,
  DEFAULT_CIDR_DENY_OVERLAPPING,
  cidrPolicyErrors,
  formatAddressCount,
  parseAddressLimit,
  type CidrPolicy,
  type RequestedCidr,
} from './cidr-policy.ts';

/** The policy of a webhook started without CIDR flags. */
const DEFAULTS: CidrPolicy = {
  cidrDenyList: [...DEFAULT_CIDR_DENY_LIST],
  defaultCidrDeny: true,
  cidrDenyOverlapping: [...DEFAULT_CIDR_DENY_OVERLAPPING],
  defaultCidrDenyOverlapping: true,
  clusterCidrs: [],
  cidrMaxAddressesIPv4: '/16',
  cidrMaxAddressesIPv6: '/48',
};

function requested(cidrs: string[]): RequestedCidr[] {
  return cidrs.map((cidr, index) => ({ index, cidr, network: parseCidr(cidr) ?? assert.fail(cidr) }));
}

describe('the CIDR policy on the union of a request', () => {
  const cases: { name: string; cidrs: string[]; policy?: Partial<CidrPolicy>; errors: [field: string, message: RegExp][] }[] = [
    // Split networks: each half passes a per-CIDR check, their union is what is refused.
    {
      name: 'the two halves of the IPv4 Internet are the IPv4 Internet',
      cidrs: ['0.0.0.0/1', '128.0.0.0/1'],
      errors: [
        [
          'spec.cidrs',
          /^spec\.cidrs\[0\] 0\.0\.0\.0\/1 and spec\.cidrs\[1\] 128\.0\.0\.0\/1 together cover 0\.0\.0\.0\/0 \(the whole IPv4 Internet\), which the cluster's CIDR policy refuses \(a webhook default, lifted by --no-default-cidr-deny\); request networks that leave part of it out$/,
        ],
      ],
    },
    {
      name: 'the two halves of the IPv6 Internet are the IPv6 Internet',
      cidrs: ['::/1', '8000::/1'],
      errors: [['spec.cidrs', /together cover ::\/0 \(the whole IPv6 Internet\)/]],
    },
    {
      name: 'four quarters, in any order, are named together',
      cidrs: ['192.0.0.0/2', '0.0.0.0/2', '128.0.0.0/2', '64.0.0.0/2'],
      errors: [['spec.cidrs', /^spec\.cidrs\[0\] 192\.0\.0\.0\/2, spec\.cidrs\[1\] 0\.0\.0\.0\/2, spec\.cidrs\[2\] 128\.0\.0\.0\/2 and spec\.cidrs\[3\] 64\.0\.0\.0\/2 together cover 0\.0\.0\.0\/0/]],
    },
    {
      name: 'one CIDR that is a denied network is named alone',
      cidrs: ['203.0.113.7/32', '0.0.0.0/0'],
      errors: [['spec.cidrs[1]', /^0\.0\.0\.0\/0 is refused by the cluster's CIDR policy: it is the whole IPv4 Internet \(a webhook default, lifted by --no-default-cidr-deny\); request a narrower network$/]],
    },
    {
      name: 'halves of an administrator-denied network are refused together, naming --cidr-deny',
      cidrs: ['192.0.2.0/25', '192.0.2.128/25'],
      policy: { cidrDenyList: [...DEFAULT_CIDR_DENY_LIST, '192.0.2.0/24'] },
      errors: [['spec.cidrs', /together cover 192\.0\.2\.0\/24, which the cluster's CIDR policy refuses \(webhook setting --cidr-deny\)/]],
    },
    {
      name: 'one half of an administrator-denied network is not the network',
      cidrs: ['192.0.2.0/25'],
      policy: { cidrDenyList: [...DEFAULT_CIDR_DENY_LIST, '192.0.2.0/24'] },
      errors: [],
    },
    {
      name: 'one half of the IPv4 Internet is too large and overlaps the Alibaba metadata address',
      cidrs: ['0.0.0.0/1'],
      errors: [
        ['spec.cidrs[0]', /^0\.0\.0\.0\/1 overlaps 100\.100\.100\.200\/32 \(the Alibaba Cloud instance metadata address\)/],
        ['spec.cidrs[0]', /^0\.0\.0\.0\/1 holds 2147483648 IPv4 addresses \(a \/1\), more than the 65536 IPv4 addresses \(a \/16\) the cluster allows in one request \(webhook setting --cidr-max-addresses-ipv4\); request fewer addresses$/],
      ],
    },

    // Size: the union, per family.
    { name: 'adjacent halves of a /16 are exactly the limit', cidrs: ['10.0.0.0/17', '10.0.128.0/17'], errors: [] },
    {
      name: 'one address beyond the limit is refused on spec.cidrs with every IPv4 CIDR named',
      cidrs: ['10.0.0.0/17', '10.0.128.0/17', '10.1.0.0/32'],
      errors: [['spec.cidrs', /^spec\.cidrs\[0\] 10\.0\.0\.0\/17, spec\.cidrs\[1\] 10\.0\.128\.0\/17 and spec\.cidrs\[2\] 10\.1\.0\.0\/32 together hold 65537 IPv4 addresses, more than the 65536 IPv4 addresses \(a \/16\)/]],
    },
    { name: 'overlapping and duplicate networks count once', cidrs: ['10.0.0.0/16', '10.0.0.0/17', '10.0.128.0/24'], errors: [] },
    {
      name: 'many small networks add up',
      cidrs: Array.from({ length: 17 }, (_, i) => `10.${i}.0.0/20`),
      errors: [['spec.cidrs', /together hold 69632 IPv4 addresses, more than the 65536/]],
    },
    { name: 'IPv4 and IPv6 each have their own limit', cidrs: ['10.0.0.0/16', '2001:db8::/48'], errors: [] },
    {
      name: 'in a mixed request only the family above its limit is refused, on its own CIDR',
      cidrs: ['10.0.0.0/16', '2001:db8::/47'],
      errors: [['spec.cidrs[1]', /^2001:db8::\/47 holds 2\^81 IPv6 addresses \(a \/47\), more than the 2\^80 IPv6 addresses \(a \/48\) .*--cidr-max-addresses-ipv6/]],
    },
    {
      name: 'a limit given as a count',
      cidrs: ['10.0.0.0/23'],
      policy: { cidrMaxAddressesIPv4: '300' },
      errors: [['spec.cidrs[0]', /holds 512 IPv4 addresses \(a \/23\), more than the 300 IPv4 addresses the cluster allows/]],
    },
    { name: 'a limit of /0 is no limit', cidrs: ['10.0.0.0/8'], policy: { cidrMaxAddressesIPv4: '/0' }, errors: [] },

    // Special-purpose defaults: any address inside is refused.
    {
      name: 'the cloud metadata address',
      cidrs: ['203.0.113.7/32', '169.254.169.254/32'],
      errors: [
        [
          'spec.cidrs[1]',
          /^169\.254\.169\.254\/32 overlaps 169\.254\.0\.0\/16 \(IPv4 link-local, where clouds serve instance metadata at 169\.254\.169\.254\), which the cluster's CIDR policy refuses \(a webhook default, lifted by --no-default-cidr-deny-overlapping\); request addresses outside it$/,
        ],
      ],
    },
    { name: 'a range around the metadata address', cidrs: ['169.254.0.0/24'], errors: [['spec.cidrs[0]', /overlaps 169\.254\.0\.0\/16/]] },
    {
      name: 'the AWS IPv6 metadata address, which is a refused network itself',
      cidrs: ['fd00:ec2::254/128'],
      errors: [
        [
          'spec.cidrs[0]',
          /^fd00:ec2::254\/128 is refused by the cluster's CIDR policy: it is the AWS instance metadata address over IPv6 \(a webhook default, lifted by --no-default-cidr-deny-overlapping\); request other addresses$/,
        ],
      ],
    },
    { name: 'a range around the AWS IPv6 metadata address', cidrs: ['fd00:ec2::/64'], errors: [['spec.cidrs[0]', /overlaps fd00:ec2::254\/128/]] },
    { name: 'the Alibaba metadata address', cidrs: ['100.100.100.200/32'], errors: [['spec.cidrs[0]', /^100\.100\.100\.200\/32 is refused .*: it is the Alibaba Cloud instance metadata address/]] },
    { name: 'IPv6 link-local', cidrs: ['fe80::1/128'], errors: [['spec.cidrs[0]', /overlaps fe80::\/10 \(IPv6 link-local\)/]] },
    { name: 'the metadata address through NAT64', cidrs: ['64:ff9b::a9fe:a9fe/128'], errors: [['spec.cidrs[0]', /overlaps 64:ff9b::\/96 \(the NAT64 prefix/]] },
    { name: 'local-use NAT64', cidrs: ['64:ff9b:1:2::/64'], errors: [['spec.cidrs[0]', /overlaps 64:ff9b:1::\/48/]] },
    { name: 'the metadata address as IPv4-mapped IPv6', cidrs: ['::ffff:a9fe:a9fe/128'], errors: [['spec.cidrs[0]', /overlaps ::ffff:0:0\/96 \(IPv4-mapped/]] },
    {
      name: 'a CIDR touching two refused networks gets one message naming both',
      cidrs: ['169.254.0.0/23'],
      policy: { cidrDenyOverlapping: [...DEFAULT_CIDR_DENY_OVERLAPPING, '169.254.1.0/24'] },
      errors: [
        [
          'spec.cidrs[0]',
          /^169\.254\.0\.0\/23 overlaps 169\.254\.0\.0\/16 \(IPv4 link-local[^)]*\) and 169\.254\.1\.0\/24, which the cluster's CIDR policy refuses \(a webhook default, lifted by --no-default-cidr-deny-overlapping; webhook setting --cidr-deny-overlapping\); request addresses outside them$/,
        ],
      ],
    },
    { name: 'addresses next to the refused ranges are fine', cidrs: ['169.255.0.0/17', '169.253.255.255/32', 'fd00:ec2::253/128', '64:ff9b:0:0:0:1::/96'], errors: [] },
    {
      name: '--no-default-cidr-deny keeps the special-purpose ranges refused',
      cidrs: ['169.254.169.254/32'],
      policy: { cidrDenyList: [], defaultCidrDeny: false },
      errors: [['spec.cidrs[0]', /overlaps 169\.254\.0\.0\/16/]],
    },
    {
      name: '--no-default-cidr-deny-overlapping allows them',
      cidrs: ['169.254.169.254/32', 'fd00:ec2::254/128'],
      policy: { cidrDenyOverlapping: [], defaultCidrDenyOverlapping: false },
      errors: [],
    },
    {
      name: 'an administrator addition to the overlap list is named by its flag',
      cidrs: ['10.1.2.3/32'],
      policy: { cidrDenyOverlapping: [...DEFAULT_CIDR_DENY_OVERLAPPING, '10.0.0.0/8'] },
      errors: [['spec.cidrs[0]', /^10\.1\.2\.3\/32 overlaps 10\.0\.0\.0\/8, which the cluster's CIDR policy refuses \(webhook setting --cidr-deny-overlapping\)/]],
    },
    {
      name: "the cluster's own ranges are refused and named as such",
      cidrs: ['203.0.113.0/24', '10.100.0.0/24', 'fd10::/64'],
      policy: { clusterCidrs: ['10.96.0.0/12', 'fd10::/56'] },
      errors: [
        ['spec.cidrs[1]', /^10\.100\.0\.0\/24 overlaps 10\.96\.0\.0\/12 \(the cluster's own pod or Service range\), which the cluster's CIDR policy refuses \(webhook setting --cluster-cidr\)/],
        ['spec.cidrs[2]', /overlaps fd10::\/56 \(the cluster's own pod or Service range/],
      ],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const errors = cidrPolicyErrors(requested(c.cidrs), { ...DEFAULTS, ...c.policy });
      assert.deepEqual(
        errors.map((e) => e.field),
        c.errors.map(([field]) => field),
        JSON.stringify(errors, null, 1),
      );
      c.errors.forEach(([, message], i) => assert.match(errors[i]?.message ?? '', message));
    });
  }
  test('a default entry an administrator turned off is named as an addition when added back', () => {
    const [error] = cidrPolicyErrors(requested(['0.0.0.0/0']), { ...DEFAULTS, defaultCidrDeny: false, cidrDenyList: ['0.0.0.0/0'] });
    assert.match(error?.message ?? '', /\(webhook setting --cidr-deny\)/);
  });
});

describe('address limits', () => {
  const cases: [text: string, family: 4 | 6, limit: bigint | null][] = [
    ['/16', 4, 65536n],
    ['/32', 4, 1n],
    ['/0', 4, 1n << 32n],
    ['/48', 6, 1n << 80n],
    ['/128', 6, 1n],
    ['65536', 4, 65536n],
    ['1', 6, 1n],
    ['4294967296', 4, 1n << 32n],
    ['340282366920938463463374607431768211456', 6, 1n << 128n],
    ['/33', 4, null],
    ['/129', 6, null],
    ['4294967297', 4, null],
    ['0', 4, null],
    ['-1', 4, null],
    ['1e3', 4, null],
    ['/08', 4, null],
    ['016', 4, null],
    ['16', 4, 16n],
    ['', 4, null],
    ['/', 4, null],
    [' /16', 4, null],
  ];
  for (const [text, family, limit] of cases) {
    test(`${JSON.stringify(text)} for IPv${family} is ${limit === null ? 'refused' : String(limit)}`, () => assert.equal(parseAddressLimit(text, family), limit));
  }
  test('counts are shown so that a prefix can be compared', () => {
    assert.equal(formatAddressCount(65536n, 4), '65536 IPv4 addresses (a /16)');
    assert.equal(formatAddressCount(300n, 4), '300 IPv4 addresses');
    assert.equal(formatAddressCount(1n, 4), '1 IPv4 address (a /32)');
    assert.equal(formatAddressCount(1n << 80n, 6), '2^80 IPv6 addresses (a /48)');
    assert.equal(formatAddressCount((1n << 80n) + 1n, 6), 'more than 2^80 IPv6 addresses');
  });
});

describe('the defaults', () => {
  test('refuse the whole Internet by cover, and link-local, metadata, NAT64 and IPv4-mapped ranges by overlap', () => {
    assert.deepEqual(DEFAULT_CIDR_DENY_LIST, ['0.0.0.0/0', '::/0']);
    assert.deepEqual(DEFAULT_CIDR_DENY_OVERLAPPING, [
      '169.254.0.0/16',
      '100.100.100.200/32',
      'fe80::/10',
      'fd00:ec2::254/128',
      '64:ff9b::/96',
      '64:ff9b:1::/48',
      '::ffff:0:0/96',
    ]);
  });
});
