import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, filesOf, parseConfig } from './config.ts';

const VALID = {
  sinks: [
    { name: 'platform-slack', type: 'slack', urlFile: '/etc/netwatch-notifier/secrets/slack-url' },
    { name: 'audit', type: 'cloudevents', urlFile: '/s/audit-url', authorizationFile: '/s/audit-token', caFile: '/s/ca.crt' },
    { name: 'mail', type: 'email', host: 'smtp.example.com', from: 'netwatch <netwatch@example.com>', usernameFile: '/s/user', passwordFile: '/s/pass', allowedDomains: ['example.com'] },
  ],
  routes: { approvers: ['platform-slack', 'mail:netwatch-admins@example.com'], requester: ['mail', 'audit'] },
  requesterAddress: { domain: 'example.com', stripPrefix: 'oidc:' },
};

function refusal(config: unknown): string {
  try {
    parseConfig(JSON.stringify(config), 'config.json');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    return e.message;
  }
  assert.fail('accepted');
}

describe('the configuration file', () => {
  it('reads sinks (with defaults), routes and the requester address rule', () => {
    const c = parseConfig(JSON.stringify(VALID), 'config.json');
    assert.deepEqual(c.sinks[2], {
      name: 'mail',
      type: 'email',
      host: 'smtp.example.com',
      port: 587,
      tls: 'starttls',
      from: { name: 'netwatch', address: 'netwatch@example.com' },
      usernameFile: '/s/user',
      passwordFile: '/s/pass',
      allowedDomains: ['example.com'],
    });
    assert.deepEqual(c.sinks[0], { name: 'platform-slack', type: 'slack', urlFile: '/etc/netwatch-notifier/secrets/slack-url', plainHttp: false });
    assert.deepEqual(c.routing.approvers, [{ sink: 'platform-slack' }, { sink: 'mail', address: 'netwatch-admins@example.com' }]);
    assert.deepEqual(c.routing.requester, [{ sink: 'mail' }, { sink: 'audit' }]);
    assert.deepEqual(c.routing.requesterAddress, { domain: 'example.com', stripPrefix: 'oidc:' });
    assert.deepEqual(filesOf(c).map((f) => f.field), [
      'sinks[0].urlFile (platform-slack)',
      'sinks[1].urlFile (audit)',
      'sinks[1].caFile (audit)',
      'sinks[1].authorizationFile (audit)',
      'sinks[2].usernameFile (mail)',
      'sinks[2].passwordFile (mail)',
    ]);
  });

  it('an empty object is a valid configuration that sends nothing', () => {
    const c = parseConfig('{}', 'config.json');
    assert.deepEqual(c.sinks, []);
    assert.deepEqual(c.routing.approvers, []);
  });

  it('every problem is named by its JSON path with what is allowed, all at once', () => {
    const msg = refusal({
      sinks: [
        { name: 'Bad_Name', type: 'slack', url: 'https://hooks.slack.com/services/SECRET', urlFile: 'relative' },
        { name: 'm', type: 'email', host: 'smtp.example.com', from: 'x <a@b.io>\r\nBcc: y@z.io', tls: 'ssl', port: 0, usernameFile: '/u' },
        { name: 'w', type: 'pigeon' },
      ],
      routes: { approvers: ['nope'] },
      extra: 1,
    });
    for (const part of [
      'config.json: ',
      '.extra: unknown field; allowed here: sinks, routes, requesterAddress',
      'sinks[0].name: must be lower-case letters, digits and "-" (at most 63); "Bad_Name" is not',
      'sinks[0].url: unknown field; allowed here: name, type, urlFile, caFile, plainHttp',
      'sinks[0].urlFile: must be an absolute path to a mounted file; "relative" is not',
      'sinks[1].port: must be an integer from 1 to 65535 (default 587)',
      'sinks[1].tls: must be one of starttls, implicit, none (default starttls); "ssl" is not',
      'sinks[1].from: must be an address or "Display Name <address>"',
      'sinks[1]: usernameFile and passwordFile go together: give both or neither',
      'sinks[2].type: must be one of slack, cloudevents, email; "pigeon" is not',
      'routes.approvers: "nope": no sink named "nope"',
    ]) {
      assert.ok(msg.includes(part), `${part}\nnot in\n${msg}`);
    }
    assert.ok(!msg.includes('SECRET'), 'a secret put in the wrong place is not echoed');
  });

  it('a sink name is defined once; JSON that does not parse is named', () => {
    assert.match(refusal({ sinks: [VALID.sinks[0], VALID.sinks[0]] }), /sinks\[1\]\.name: platform-slack is defined twice/);
    assert.throws(() => parseConfig('{sinks:', 'c.json'), /c\.json: not valid JSON/);
  });
});
