import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
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
    assert.deepEqual(config.cidrDenyOverlapping, ['10.0.0.0/8']);
    assert.deepEqual(webhookConfig(config), config);
    const open = webhookConfig({ defaultCidrDeny: false, cidrDenyList: ['10.0.0.0/8'] });
    assert.deepEqual(webhookConfig(open), open);
  });
});
