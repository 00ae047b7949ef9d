import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseNotifierArgs, UsageError, type Env } from './options.ts';

function run(args: string[], env: Env = {}) {
  const r = parseNotifierArgs(args, env);
  assert.equal(r.kind, 'run');
  return r.options;
}

describe('notifier flags', () => {
  it('defaults', () => {
    const o = run([]);
    assert.equal(o.configFile, '/etc/netwatch-notifier/config/config.json');
    assert.deepEqual(o.listen, { host: '0.0.0.0', port: 8080 });
    assert.deepEqual(o.settings.timings, { pendingReminderMs: 4 * 3600_000, expiryWarningMs: 600_000, activeGraceMs: 60_000 });
    assert.deepEqual(o.settings.retry, { initialMs: 5000, maxMs: 600_000, maxAttempts: 8 });
    assert.equal(o.settings.maxNoticeAgeMs, 3600_000);
    assert.equal(o.settings.webUrl, undefined);
    assert.equal(o.leaderElect, true);
    assert.equal(o.leaseName, 'netwatch-notifier');
  });

  it('reminders can be switched off; the web UI address loses its trailing slash', () => {
    const o = run(['--pending-reminder=never', '--expiry-warning', 'never', '--web-url=https://netwatch.example.com/']);
    assert.equal(o.settings.timings.pendingReminderMs, null);
    assert.equal(o.settings.timings.expiryWarningMs, null);
    assert.equal(o.settings.webUrl, 'https://netwatch.example.com');
  });

  it('refuses each bad flag by name, all at once', () => {
    assert.throws(
      () => parseNotifierArgs(['--web-url=javascript:alert(1)', '--max-attempts=0', '--retry-initial=1m', '--retry-max=30s', '--send-timeout=1h', '--max-notice-age=never', '--lease-name=Bad'], {}),
      (e: unknown) => {
        assert.ok(e instanceof UsageError);
        for (const flag of ['--web-url', '--max-attempts', '--retry-max: must be at least --retry-initial (1m)', '--send-timeout', '--max-notice-age', '--lease-name']) assert.ok(e.message.includes(flag), `${flag} in ${e.message}`);
        return true;
      },
    );
    assert.throws(() => parseNotifierArgs(['--web-url=https://x.example/?a=<b>'], {}), /--web-url: must be the web UI's base address/);
  });

  it('--help prints, with the variable of each flag', () => {
    const r = parseNotifierArgs(['--help'], {});
    assert.equal(r.kind, 'print');
    assert.match(r.kind === 'print' ? r.text : '', /--pending-reminder/);
    assert.match(r.kind === 'print' ? r.text : '', /NETWATCH_NOTIFIER_LOG_LEVEL/);
  });
});

describe('notifier variables (NETWATCH_NOTIFIER_*)', () => {
  it('each flag is also a variable; the flag wins over it', () => {
    const o = run([], { NETWATCH_NOTIFIER_EXPIRY_WARNING: '5m', NETWATCH_NOTIFIER_LEADER_ELECT: 'false', NETWATCH_NOTIFIER_WEB_URL: 'https://netwatch.example.com', NETWATCH_NOTIFIER_CONFIG: '/etc/n/c.json' });
    assert.equal(o.settings.timings.expiryWarningMs, 300_000);
    assert.equal(o.leaderElect, false);
    assert.equal(o.settings.webUrl, 'https://netwatch.example.com');
    assert.equal(o.configFile, '/etc/n/c.json');
    assert.equal(o.configFrom, 'NETWATCH_NOTIFIER_CONFIG');
    assert.equal(run(['--expiry-warning=1m'], { NETWATCH_NOTIFIER_EXPIRY_WARNING: '5m' }).settings.timings.expiryWarningMs, 60_000);
    assert.equal(run([]).configFrom, '--config');
  });

  it('a bad variable is refused by its name, not the flag\'s', () => {
    assert.throws(() => parseNotifierArgs([], { NETWATCH_NOTIFIER_MAX_ATTEMPTS: '0' }), /^UsageError: NETWATCH_NOTIFIER_MAX_ATTEMPTS: must be an integer of at least 1; "0" is not$/);
    assert.throws(() => parseNotifierArgs([], { NETWATCH_NOTIFIER_PENDING_REMINDER: '7d' }), /^UsageError: NETWATCH_NOTIFIER_PENDING_REMINDER: .*"7d" has days/);
  });

  it('an unknown variable of the prefix is a warning naming the likely one, not a stop', () => {
    const r = parseNotifierArgs([], { NETWATCH_NOTIFIER_EXPIRYWARNING: '5m', NETWATCH_NOTIFIER_METRICS_PORT: 'tcp://10.96.0.9:8080' });
    assert.equal(r.kind, 'run');
    assert.deepEqual(r.kind === 'run' ? r.warnings.map((w) => /did you mean (\S+)\?/.exec(w)?.[1]) : [], ['NETWATCH_NOTIFIER_EXPIRY_WARNING']);
  });
});
