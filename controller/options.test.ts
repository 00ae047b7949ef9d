import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError, parseControllerArgs, type ControllerOptions, type Env } from './options.ts';

function options(args: string[], env: Env = {}): ControllerOptions {
  const parsed = parseControllerArgs(args, env);
  assert.equal(parsed.kind, 'run');
  return parsed.options;
}

function refused(args: string[], message: RegExp, env: Env = {}): void {
  assert.throws(
    () => parseControllerArgs(args, env),
    (err: unknown) => {
      assert.ok(err instanceof UsageError, String(err));
      assert.match(err.message, message);
      return true;
    },
  );
}

test('the defaults are those of the manifests and the documentation', () => {
  assert.deepEqual(options([]), {
    kubeconfig: undefined,
    listen: { host: '0.0.0.0', port: 8080 },
    isolation: 'skip',
    pendingTtlSeconds: 168 * 3600,
    retentionSeconds: 720 * 3600,
    lingerWarningSeconds: 120,
    workers: 16,
    leaderElect: true,
    leaseNamespace: 'netwatch-system',
    leaseName: 'netwatch-controller',
    leaseDurationSeconds: 15,
    identity: undefined,
    eventNamespace: 'default',
    sweepIntervalSeconds: 300,
    logLevel: 'info',
  });
});

describe('--workers', () => {
  for (const n of ['1', '64']) test(`${n} is accepted`, () => assert.equal(options([`--workers=${n}`]).workers, Number(n)));
  for (const bad of ['0', '-3', '1.5', 'abc', '']) {
    test(`${JSON.stringify(bad)} is refused, naming the flag and what it takes`, () =>
      refused([`--workers=${bad}`], new RegExp(`^--workers: must be an integer of at least 1; "${bad.replace('.', '\\.')}" is not$`)));
  }
});

describe('--sweep-interval', () => {
  test('a positive duration is accepted', () => assert.equal(options(['--sweep-interval=10s']).sweepIntervalSeconds, 10));
  test('0s (a continuous sweep) is refused', () => refused(['--sweep-interval=0s'], /^--sweep-interval: must be a duration of at least 1s.*"0s" is too short$/));
  test('never and unlimited are refused instead of silently becoming 5m', () => {
    refused(['--sweep-interval=never'], /^--sweep-interval: .*"never" is not allowed here/);
    refused(['--sweep-interval=unlimited'], /^--sweep-interval: .*"unlimited" is not allowed here/);
  });
  test("longer than Node's timers can wait (they would fire every millisecond) is refused", () =>
    refused(['--sweep-interval=600h'], /^--sweep-interval: must be a duration of at least 1s and at most 596h31m23s.*"600h" is too long$/));
});

describe('--pending-ttl', () => {
  test('a positive duration, never or forever is accepted', () => {
    assert.equal(options(['--pending-ttl=2h']).pendingTtlSeconds, 7200);
    assert.equal(options(['--pending-ttl=never']).pendingTtlSeconds, null);
    assert.equal(options(['--pending-ttl=forever']).pendingTtlSeconds, null);
  });
  test('0s (every pending request expires at once) is refused', () => refused(['--pending-ttl=0s'], /^--pending-ttl: .*, or never; "0s" is too short$/));
  test('unlimited is refused instead of silently meaning never', () => refused(['--pending-ttl=unlimited'], /^--pending-ttl: .*"unlimited" means nothing here: write never$/));
  test('days are refused with the hours to write instead', () => refused(['--pending-ttl=7d'], /"7d" has days, which are not supported: write 168h$/));
});

describe('--retention', () => {
  test('a duration (0s included), never or forever is accepted', () => {
    assert.equal(options(['--retention=24h']).retentionSeconds, 86400);
    assert.equal(options(['--retention=0s']).retentionSeconds, 0);
    assert.equal(options(['--retention=never']).retentionSeconds, null);
  });
  test('unlimited and other words are refused', () => {
    refused(['--retention=unlimited'], /^--retention: must be a duration such as .*, or never; "unlimited" means nothing here: write never$/);
    refused(['--retention=a month'], /^--retention: .*"a month" is not one$/);
  });
});

describe('--linger-warning', () => {
  test('a positive duration or never is accepted', () => {
    assert.equal(options(['--linger-warning=30s']).lingerWarningSeconds, 30);
    assert.equal(options(['--linger-warning=never']).lingerWarningSeconds, null);
  });
  test('0s (a warning about every request that ends) and unlimited are refused', () => {
    refused(['--linger-warning=0s'], /^--linger-warning: must be a duration of at least 1s .*, or never; "0s" is too short$/);
    refused(['--linger-warning=unlimited'], /^--linger-warning: .*"unlimited" means nothing here: write never$/);
  });
});

describe('--lease-duration', () => {
  test('4s is accepted', () => assert.equal(options(['--lease-duration=4s']).leaseDurationSeconds, 4));
  test('never is refused instead of silently becoming 15s', () => refused(['--lease-duration=never'], /^--lease-duration: .*"never" is not allowed here/));
  test('1s is refused: the renew deadline would not be below it', () => refused(['--lease-duration=1s'], /^--lease-duration: must be a duration of at least 2s.*"1s" is too short$/));
});

describe('--listen', () => {
  test('HOST:PORT, :PORT, port 0 and a bracketed IPv6 address are accepted', () => {
    assert.deepEqual(options(['--listen=127.0.0.1:9090']).listen, { host: '127.0.0.1', port: 9090 });
    assert.deepEqual(options(['--listen=:9090']).listen, { host: '0.0.0.0', port: 9090 });
    assert.deepEqual(options(['--listen=127.0.0.1:0']).listen, { host: '127.0.0.1', port: 0 });
    assert.deepEqual(options(['--listen=[::1]:9090']).listen, { host: '::1', port: 9090 });
  });
  test('a bare port is refused instead of becoming host "808"', () => refused(['--listen=8080'], /^--listen: must be HOST:PORT with a port from 0 to 65535/));
  test('a port above 65535 is refused', () => refused(['--listen=:70000'], /^--listen: .*":70000" is not$/));
});

describe('names', () => {
  test('namespaces must be namespace names', () => {
    refused(['--lease-namespace=Netwatch'], /^--lease-namespace: must be a namespace name/);
    refused(['--event-namespace='], /^--event-namespace: must be a namespace name/);
  });
  test('the Lease name must be an object name', () => refused(['--lease-name=my lease'], /^--lease-name: must be an object name/));
  test('an empty --identity is refused', () => refused(['--identity='], /^--identity: must not be empty/));
});

test('every problem is reported at once', () =>
  refused(['--workers=0', '--retention=unlimited'], /^--workers: .*; --retention: /));

test('a flag given twice is refused rather than read as a list', () => refused(['--workers=2', '--workers=4'], /^--workers: given more than once/));

test('an unknown flag is refused', () => refused(['--worker=4'], /^Unknown argument: worker/));

test('--help is returned for printing, with the real kubeconfig order', () => {
  const parsed = parseControllerArgs(['--help'], {});
  assert.equal(parsed.kind, 'print');
  assert.match(parsed.text.replace(/\s+/g, ' '), /default: \$KUBECONFIG, then ~\/\.kube\/config, then the in-cluster ServiceAccount/);
  assert.match(parsed.text, /--leader-elect/);
  assert.match(parsed.text, /NETWATCH_CONTROLLER_/);
});

describe('NETWATCH_CONTROLLER_* variables', () => {
  test('every flag can be set by its variable, and the flag wins over it', () => {
    const env = { NETWATCH_CONTROLLER_ISOLATION: 'refuse', NETWATCH_CONTROLLER_WORKERS: '4', NETWATCH_CONTROLLER_LEADER_ELECT: 'false', NETWATCH_CONTROLLER_PENDING_TTL: 'never' };
    const o = options([], env);
    assert.deepEqual([o.isolation, o.workers, o.leaderElect, o.pendingTtlSeconds], ['refuse', 4, false, null]);
    assert.deepEqual([options(['--isolation=allow', '--workers=2'], env).isolation, options(['--workers=2'], env).workers], ['allow', 2]);
  });
  test('a bad value is refused under the name of the variable it came from', () => {
    refused([], /^NETWATCH_CONTROLLER_WORKERS: must be an integer of at least 1; "0" is not$/, { NETWATCH_CONTROLLER_WORKERS: '0' });
    refused([], /^NETWATCH_CONTROLLER_PENDING_TTL: must be a duration of at least 1s .*"7d" has days/, { NETWATCH_CONTROLLER_PENDING_TTL: '7d' });
    refused([], /^NETWATCH_CONTROLLER_LISTEN: must be HOST:PORT/, { NETWATCH_CONTROLLER_LISTEN: '8080' });
    refused([], /^NETWATCH_CONTROLLER_LEADER_ELECT: must be true or false, not "no"$/, { NETWATCH_CONTROLLER_LEADER_ELECT: 'no' });
    refused([], /Invalid values:[\s\S]*isolation/, { NETWATCH_CONTROLLER_ISOLATION: 'sometimes' });
  });
  test('a typo is a warning naming the likely variable, not a stop', () => {
    const parsed = parseControllerArgs([], { NETWATCH_CONTROLLER_PENDINGTTL: '1h' });
    assert.equal(parsed.kind, 'run');
    assert.equal(parsed.options.pendingTtlSeconds, 168 * 3600);
    assert.match(parsed.warnings.join('\n'), /^ignoring environment variable NETWATCH_CONTROLLER_PENDINGTTL: not a controller setting \(did you mean NETWATCH_CONTROLLER_PENDING_TTL\?\)/);
  });
  test("the kubelet's variables for the netwatch-controller-metrics Service are ignored without a warning", () => {
    const parsed = parseControllerArgs([], {
      NETWATCH_CONTROLLER_METRICS_SERVICE_HOST: '10.96.0.8',
      NETWATCH_CONTROLLER_METRICS_SERVICE_PORT_HTTP_METRICS: '8080',
      NETWATCH_CONTROLLER_METRICS_PORT: 'tcp://10.96.0.8:8080',
      NETWATCH_CONTROLLER_METRICS_PORT_8080_TCP_ADDR: '10.96.0.8',
    });
    assert.equal(parsed.kind, 'run');
    assert.deepEqual(parsed.warnings, []);
  });
});

describe('--leader-elect', () => {
  test('a value other than true or false is refused, not read as false', () => {
    for (const bad of ['yes', '1', 'True']) refused([`--leader-elect=${bad}`], new RegExp(`^--leader-elect: must be true or false \\(or --no-leader-elect\\), not "${bad}"$`));
  });
});
