import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addressCount,
  canonicalCidr,
  cidrCovers,
  cidrsOverlap,
  formatNetwork,
  isValidCidr,
  networksOfRange,
  parseAddress,
  parseCidr,
  prefixForCount,
  unionCovers,
  unionOf,
  type AddressRange,
} from './cidr.ts';

describe('CIDRs', () => {
  const valid: [string, string][] = [
    ['203.0.113.7/32', '203.0.113.7/32'],
    ['10.1.2.3/16', '10.1.0.0/16'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['2001:db8::/64', '2001:db8::/64'],
    ['2001:DB8:0:0::1/64', '2001:db8::/64'],
    ['2001:db8:0:0:1:0:0:1/128', '2001:db8::1:0:0:1/128'],
    ['::/0', '::/0'],
    ['::1/128', '::1/128'],
    ['fe80:0:0:0:0:0:0:0/10', 'fe80::/10'],
    ['::ffff:192.0.2.1/128', '::ffff:c000:201/128'],
    ['2001:0db8:0000:0000:0000:0000:0000:0000/32', '2001:db8::/32'],
  ];
  for (const [text, canonical] of valid) {
    test(`${text} is a CIDR whose canonical form is ${canonical}`, () => {
      assert.equal(isValidCidr(text), true);
      assert.equal(canonicalCidr(text), canonical);
    });
  }
  const invalid = [
    '203.0.113.7',
    '203.0.113.7/33',
    '256.0.0.1/32',
    '010.0.0.1/32',
    '10.0.0/8',
    '10.0.0.0/08',
    '10.0.0.0/',
    '/8',
    '2001:db8::/129',
    '2001:db8::1::/64',
    'fe80::1%eth0/64',
    'example.com/32',
    '10.0.0.0/8/8',
    '',
  ];
  for (const text of invalid) {
    test(`${JSON.stringify(text)} is not a CIDR`, () => {
      assert.equal(isValidCidr(text), false);
      assert.equal(canonicalCidr(text), null);
    });
  }
  const relations: [string, string, boolean, boolean][] = [
    ['0.0.0.0/0', '203.0.113.7/32', true, true],
    ['203.0.113.7/32', '0.0.0.0/0', false, true],
    ['10.0.0.0/8', '10.9.0.0/16', true, true],
    ['10.0.0.0/16', '10.1.0.0/16', false, false],
    ['::/0', '10.0.0.0/8', false, false],
    ['2001:db8::/32', '2001:db8:1::/48', true, true],
  ];
  for (const [a, b, covers, overlaps] of relations) {
    test(`${a} ${covers ? 'covers' : 'does not cover'} ${b} and ${overlaps ? 'overlaps' : 'does not overlap'} it`, () => {
      assert.equal(cidrCovers(a, b), covers);
      assert.equal(cidrsOverlap(a, b), overlaps);
    });
  }
});

describe('what is refused that ipaddr.js alone would read', () => {
  // Each of these parses with ipaddr.js's own parse(); Go's net/netip (maxtac, the API server) refuses it, or reads a
  // different address.
  const refused: [string, string][] = [
    ['010.0.0.1/32', 'an octet with a leading zero (ipaddr.js: octal, 8.0.0.1)'],
    ['1.2.3.04/32', 'a last octet with a leading zero'],
    ['10.1/16', 'two-part IPv4'],
    ['10.0.0/24', 'three-part IPv4'],
    ['167772161/32', 'IPv4 as one number'],
    ['0x0a.0.0.1/32', 'a hexadecimal octet'],
    ['::ffff:010.0.0.1/128', 'an IPv4 tail with a leading zero'],
    ['fe80::1%eth0/64', 'a zone'],
    ['fe80::1%1/64', 'a numeric zone'],
    ['10.0.0.0/08', 'a prefix with a leading zero'],
    ['10.0.0.0/+8', 'a signed prefix'],
    [' 10.0.0.0/8', 'surrounding space'],
  ];
  for (const [text, why] of refused) test(`${JSON.stringify(text)} is not a CIDR: ${why}`, () => assert.equal(parseCidr(text), null));

  test('an IPv4 tail is read as Go reads it: ::1.2.3.4 is ::102:304, not ::ffff:1.2.3.4', () => {
    assert.equal(canonicalCidr('::1.2.3.4/128'), '::102:304/128');
    assert.equal(canonicalCidr('::ffff:1.2.3.4/128'), '::ffff:102:304/128');
    assert.equal(canonicalCidr('1:2:3:4:5:6:1.2.3.4/128'), '1:2:3:4:5:6:102:304/128');
    assert.equal(parseCidr('1:2:3:4:5:6:7:1.2.3.4/128'), null);
  });
  test('addresses keep their family and value', () => {
    assert.deepEqual(parseAddress('10.0.0.1'), { family: 4, value: 0x0a000001n });
    assert.deepEqual(parseAddress('::1'), { family: 6, value: 1n });
    assert.equal(parseAddress('10.0.0.1 '), null);
  });
  test('RFC 5952: one zero group is not shortened, the first of two equal runs is', () => {
    assert.equal(canonicalCidr('2001:db8:0:1:1:1:1:1/128'), '2001:db8:0:1:1:1:1:1/128');
    assert.equal(canonicalCidr('2001:0:0:1:0:0:1:1/128'), '2001::1:0:0:1:1/128');
  });
});

const net = (cidr: string): AddressRange => parseCidr(cidr) ?? assert.fail(cidr);

describe('unions', () => {
  const cases: { name: string; cidrs: string[]; union: string[] }[] = [
    { name: 'adjacent halves merge into their parent', cidrs: ['0.0.0.0/1', '128.0.0.0/1'], union: ['0.0.0.0/0'] },
    { name: 'adjacent ranges of different sizes merge', cidrs: ['10.0.0.0/25', '10.0.0.128/26', '10.0.0.192/26'], union: ['10.0.0.0/24'] },
    { name: 'a contained network adds nothing', cidrs: ['10.0.0.0/16', '10.0.5.0/24'], union: ['10.0.0.0/16'] },
    { name: 'duplicates count once', cidrs: ['10.0.0.0/24', '10.0.0.0/24'], union: ['10.0.0.0/24'] },
    { name: 'a gap keeps two ranges, in order', cidrs: ['10.0.2.0/24', '10.0.0.0/24'], union: ['10.0.0.0/24', '10.0.2.0/24'] },
    { name: 'families never merge, IPv4 first', cidrs: ['::/1', '0.0.0.0/1', '8000::/1'], union: ['0.0.0.0/1', '::/0'] },
    { name: 'the last IPv4 address does not run into IPv6', cidrs: ['255.255.255.255/32', '::/128'], union: ['255.255.255.255/32', '::/128'] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.deepEqual(unionOf(c.cidrs.map(net)), c.union.map(net).map(({ family, first, last }) => ({ family, first, last })));
    });
  }
  test('a union covers what no member covers alone', () => {
    const halves = ['0.0.0.0/1', '128.0.0.0/1'].map(net);
    assert.equal(unionCovers(halves, net('0.0.0.0/0')), true);
    assert.equal(unionCovers(halves.slice(0, 1), net('0.0.0.0/0')), false);
    assert.equal(unionCovers(['10.0.0.0/24', '10.0.2.0/24'].map(net), net('10.0.0.0/22')), false);
    assert.equal(unionCovers(['0.0.0.0/0'].map(net), net('::/0')), false);
  });
  test('counts addresses once per family', () => {
    const ranges = ['10.0.0.0/24', '10.0.0.0/25', '10.0.1.0/24', '2001:db8::/126'].map(net);
    assert.equal(addressCount(ranges, 4), 512n);
    assert.equal(addressCount(ranges, 6), 4n);
    assert.equal(addressCount([], 6), 0n);
    assert.equal(addressCount([net('::/0')], 6), 1n << 128n);
  });
  test('a count is a prefix only when it is a power of two within the family', () => {
    assert.equal(prefixForCount(65536n, 4), 16);
    assert.equal(prefixForCount(1n, 6), 128);
    assert.equal(prefixForCount(1n << 80n, 6), 48);
    assert.equal(prefixForCount(65537n, 4), undefined);
    assert.equal(prefixForCount(1n << 33n, 4), undefined);
    assert.equal(prefixForCount(0n, 4), undefined);
  });
  test('a range as the fewest networks', () => {
    const of = (first: string, last: string) => {
      const a = parseAddress(first)!;
      return networksOfRange({ family: a.family, first: a.value, last: parseAddress(last)!.value }).map(formatNetwork);
    };
    assert.deepEqual(of('10.0.0.1', '10.0.0.6'), ['10.0.0.1/32', '10.0.0.2/31', '10.0.0.4/31', '10.0.0.6/32']);
    assert.deepEqual(of('203.0.113.16', '203.0.113.127'), ['203.0.113.16/28', '203.0.113.32/27', '203.0.113.64/26']);
    assert.deepEqual(of('0.0.0.0', '255.255.255.255'), ['0.0.0.0/0']);
    assert.deepEqual(of('::', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'), ['::/0']);
    assert.deepEqual(of('2001:db8::', '2001:db8::1'), ['2001:db8::/127']);
  });
});
