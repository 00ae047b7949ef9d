import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseNotifierArgs, UsageError } from './options.ts';

function run(args: string[]) {
  const r = parseNotifierArgs(args);
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
      () => parseNotifierArgs(['--web-url=javascript:alert(1)', '--max-attempts=0', '--retry-initial=1m', '--retry-max=30s', '--send-timeout=1h', '--max-notice-age=never', '--lease-name=Bad']),
      (e: unknown) => {
        assert.ok(e instanceof UsageError);
        for (const flag of ['--web-url', '--max-attempts', '--retry-max: must be at least --retry-initial (1m)', '--send-timeout', '--max-notice-age', '--lease-name']) assert.ok(e.message.includes(flag), `${flag} in ${e.message}`);
        return true;
      },
    );
    assert.throws(() => parseNotifierArgs(['--web-url=https://x.example/?a=<b>']), /--web-url: must be the web UI's base address/);
  });

  it('--help prints', () => {
    const r = parseNotifierArgs(['--help']);
    assert.equal(r.kind, 'print');
    assert.match(r.kind === 'print' ? r.text : '', /--pending-reminder/);
  });
});
