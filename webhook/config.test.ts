import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_CIDR_DENY_OVERLAPPING } from '../lib/domain/cidr-policy.ts';
import { DEFAULT_WEBHOOK_CONFIG, webhookConfig } from './config.ts';

describe('webhookConfig', () => {
  test('refuses 0.0.0.0/0 and ::/0, allows no unlimited and bounds duration by default', () => {
    assert.deepEqual(webhookConfig(), { ...DEFAULT_WEBHOOK_CONFIG });
    assert.deepEqual(DEFAULT_WEBHOOK_CONFIG.cidrDenyList, ['0.0.0.0/0', '::/0']);
    assert.equal(DEFAULT_WEBHOOK_CONFIG.allowUnlimited, false);
  });
  test('ignores overrides that are undefined', () => {
    assert.equal(webhookConfig({ maxDuration: undefined }).maxDuration, '24h');
  });
  test('throws on an invalid maximum or deny-list entry, naming the field', () => {
    assert.throws(() => webhookConfig({ maxDuration: '1 day' }), /maxDuration/);
    assert.throws(() => webhookConfig({ cidrDenyList: ['10.0.0.0'] }), /cidrDenyList\[0\]/);
    assert.throws(() => webhookConfig({ cidrDenyList: ['10.0.0.0/8', 'nope'] }), /cidrDenyList\[1\]: must be a CIDR/);
  });
  test('deny-list entries are added to the defaults, not put in their place', () => {
    assert.deepEqual(webhookConfig({ cidrDenyList: ['169.254.169.254/32'] }).cidrDenyList, ['0.0.0.0/0', '::/0', '169.254.169.254/32']);
    assert.deepEqual(webhookConfig({ cidrDenyList: [] }).cidrDenyList, ['0.0.0.0/0', '::/0']);
  });
  test('defaultCidrDeny: false drops the defaults and keeps the additions', () => {
    const config = webhookConfig({ defaultCidrDeny: false, cidrDenyList: ['10.0.0.0/8'] });
    assert.deepEqual(config.cidrDenyList, ['10.0.0.0/8']);
    assert.equal(config.defaultCidrDeny, false);
    assert.deepEqual(webhookConfig({ defaultCidrDeny: false }).cidrDenyList, []);
  });
  test('the same network twice is kept once, and a configuration fed back in is unchanged', () => {
    const config = webhookConfig({ cidrDenyList: ['0.0.0.0/0', '10.1.2.3/16', '10.1.0.0/16'], cidrDenyOverlapping: ['10.0.0.0/8', '10.0.0.0/8'] });
    assert.deepEqual(config.cidrDenyList, ['0.0.0.0/0', '::/0', '10.1.2.3/16']);
    // The overlap list holds its defaults too, as cidrDenyList does.
    assert.deepEqual(config.cidrDenyOverlapping, [...DEFAULT_CIDR_DENY_OVERLAPPING, '10.0.0.0/8']);
    assert.deepEqual(webhookConfig(config), config);
    const open = webhookConfig({ defaultCidrDeny: false, cidrDenyList: ['10.0.0.0/8'] });
    assert.deepEqual(webhookConfig(open), open);
    const cluster = webhookConfig({ defaultCidrDenyOverlapping: false, cidrDenyOverlapping: ['fd00::/8'], clusterCidrs: ['10.96.0.0/12', '10.96.0.0/12'] });
    assert.deepEqual(cluster.clusterCidrs, ['10.96.0.0/12']);
    assert.deepEqual(webhookConfig(cluster), cluster);
  });
  test('the overlap defaults are link-local, metadata, NAT64 and IPv4-mapped ranges; additions and cluster ranges come on top', () => {
    assert.deepEqual(webhookConfig().cidrDenyOverlapping, [...DEFAULT_CIDR_DENY_OVERLAPPING]);
    assert.ok(DEFAULT_CIDR_DENY_OVERLAPPING.includes('169.254.0.0/16'));
    const config = webhookConfig({ cidrDenyOverlapping: ['10.0.0.0/8'], clusterCidrs: ['10.96.0.0/12'] });
    assert.deepEqual(config.cidrDenyOverlapping, [...DEFAULT_CIDR_DENY_OVERLAPPING, '10.0.0.0/8']);
    assert.deepEqual(config.clusterCidrs, ['10.96.0.0/12']);
  });
  test('defaultCidrDenyOverlapping: false drops only the overlap defaults; defaultCidrDeny: false only the whole Internet', () => {
    assert.deepEqual(webhookConfig({ defaultCidrDenyOverlapping: false }).cidrDenyOverlapping, []);
    assert.deepEqual(webhookConfig({ defaultCidrDenyOverlapping: false }).cidrDenyList, ['0.0.0.0/0', '::/0']);
    assert.deepEqual(webhookConfig({ defaultCidrDeny: false }).cidrDenyOverlapping, [...DEFAULT_CIDR_DENY_OVERLAPPING]);
  });
  test('size limits default to a /16 and a /48, and take a count or a prefix length', () => {
    assert.equal(webhookConfig().cidrMaxAddressesIPv4, '/16');
    assert.equal(webhookConfig().cidrMaxAddressesIPv6, '/48');
    assert.equal(webhookConfig({ cidrMaxAddressesIPv4: '1024' }).cidrMaxAddressesIPv4, '1024');
    assert.throws(() => webhookConfig({ cidrMaxAddressesIPv4: '/33' }), /cidrMaxAddressesIPv4: must be a number of addresses \(at least 1\) or a prefix length such as \/16 \(from \/0 to \/32\)/);
    assert.throws(() => webhookConfig({ cidrMaxAddressesIPv6: '0' }), /cidrMaxAddressesIPv6: .*such as \/48 \(from \/0 to \/128\)/);
  });
  test('throws on a cluster range that is not a CIDR, naming it', () => {
    assert.throws(() => webhookConfig({ clusterCidrs: ['10.96.0.0'] }), /clusterCidrs\[0\]: must be a CIDR/);
  });
});
