import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CIDR_POLICY_FLAGS, DEFAULT_CIDR_DENY_OVERLAPPING } from '../lib/domain/cidr-policy.ts';
import { UsageError, parseWebhookArgs, type Env, type WebhookOptions } from './options.ts';

const TLS = ['--tls-cert-file=/tls/tls.crt', '--tls-key-file=/tls/tls.key'];

function run(args: string[] = [], env: Env = {}): { options: WebhookOptions; warnings: string[] } {
  const parsed = parseWebhookArgs([...TLS, ...args], env);
  assert.equal(parsed.kind, 'run');
  return parsed;
}

function refused(args: string[], env: Env, message: RegExp): void {
  assert.throws(
    () => parseWebhookArgs([...TLS, ...args], env),
    (err: unknown) => {
      assert.ok(err instanceof UsageError, String(err));
      assert.match(err.message, message);
      return true;
    },
  );
}

describe('--port', () => {
  for (const port of ['1', '8443', '65535']) {
    test(`${port} is accepted`, () => assert.equal(run([`--port=${port}`]).options.port, Number(port)));
  }
  for (const port of ['0', '65536', '-1', '8443.5', 'abc', '']) {
    test(`${JSON.stringify(port)} on the command line stops the webhook, naming the flag and the range`, () =>
      refused([`--port=${port}`], {}, new RegExp(`^--port: must be an integer from 1 to 65535, not "${port.replace('.', '\\.')}"$`)));
  }
  test('an invalid NETWATCH_WEBHOOK_PORT is reported under its own name', () =>
    refused([], { NETWATCH_WEBHOOK_PORT: '99999' }, /^NETWATCH_WEBHOOK_PORT: must be an integer from 1 to 65535, not "99999"$/));
  test('NETWATCH_WEBHOOK_PORT is read, and the flag wins over it', () => {
    assert.equal(run([], { NETWATCH_WEBHOOK_PORT: '9443' }).options.port, 9443);
    assert.equal(run(['--port=10443'], { NETWATCH_WEBHOOK_PORT: '9443' }).options.port, 10443);
  });
  test('given twice it is refused rather than read as a list', () => refused(['--port=1', '--port=2'], {}, /--port: given more than once/));
});

describe('array flags from the environment', () => {
  for (const [name, value] of [
    ['spaces', '169.254.169.254/32 10.0.0.0/8'],
    ['commas', '169.254.169.254/32,10.0.0.0/8'],
    ['commas and spaces', ' 169.254.169.254/32, 10.0.0.0/8 '],
  ] as const) {
    test(`NETWATCH_WEBHOOK_CIDR_DENY separated by ${name} gives one entry per network`, () => {
      const { config } = run([], { NETWATCH_WEBHOOK_CIDR_DENY: value }).options;
      assert.deepEqual(config.cidrDenyList, ['0.0.0.0/0', '::/0', '169.254.169.254/32', '10.0.0.0/8']);
    });
  }
  test('NETWATCH_WEBHOOK_CIDR_DENY_OVERLAPPING is split too', () => {
    const { config } = run([], { NETWATCH_WEBHOOK_CIDR_DENY_OVERLAPPING: '10.0.0.0/8 fd00::/8' }).options;
    // After the overlap defaults, which the list now holds as cidrDenyList holds its own.
    assert.deepEqual(config.cidrDenyOverlapping, [...DEFAULT_CIDR_DENY_OVERLAPPING, '10.0.0.0/8', 'fd00::/8']);
  });
  test('repeated flags replace the variable instead of adding to it', () => {
    const { config } = run(['--cidr-deny=192.0.2.0/24', '--cidr-deny=198.51.100.0/24'], { NETWATCH_WEBHOOK_CIDR_DENY: '10.0.0.0/8' }).options;
    assert.deepEqual(config.cidrDenyList, ['0.0.0.0/0', '::/0', '192.0.2.0/24', '198.51.100.0/24']);
  });
  test('an entry that is not a CIDR is named with the variable it came from', () =>
    refused([], { NETWATCH_WEBHOOK_CIDR_DENY: '10.0.0.0/8 192.168.0.0' }, /^NETWATCH_WEBHOOK_CIDR_DENY: "192\.168\.0\.0" is not a CIDR with a prefix/));
  test('an entry that is not a CIDR is named with the flag it came from', () =>
    refused(['--cidr-deny-overlapping=10.0.0.0'], {}, /^--cidr-deny-overlapping: "10\.0\.0\.0" is not a CIDR with a prefix/));
});

describe('unknown NETWATCH_WEBHOOK_* variables', () => {
  test('a typo is a warning that names the variable, suggests the setting and lists the known ones', () => {
    const { options, warnings } = run([], { NETWATCH_WEBHOOK_MAXDURATION: '8h' });
    assert.equal(options.config.maxDuration, '24h');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /^ignoring environment variable NETWATCH_WEBHOOK_MAXDURATION: not a webhook setting \(did you mean NETWATCH_WEBHOOK_MAX_DURATION\?\)/);
    for (const known of ['NETWATCH_WEBHOOK_PORT', 'NETWATCH_WEBHOOK_CIDR_DENY', 'NETWATCH_WEBHOOK_DEFAULT_CIDR_DENY', 'NETWATCH_WEBHOOK_LOG_LEVEL']) {
      assert.ok(warnings[0]!.includes(known), known);
    }
  });
  test('the variables the kubelet adds for the netwatch-webhook Service are ignored without a warning', () => {
    const { options, warnings } = run([], {
      NETWATCH_WEBHOOK_SERVICE_HOST: '10.96.0.7',
      NETWATCH_WEBHOOK_SERVICE_PORT: '443',
      NETWATCH_WEBHOOK_SERVICE_PORT_HTTPS: '443',
      NETWATCH_WEBHOOK_PORT: 'tcp://10.96.0.7:443',
      NETWATCH_WEBHOOK_PORT_443_TCP: 'tcp://10.96.0.7:443',
      NETWATCH_WEBHOOK_PORT_443_TCP_PROTO: 'tcp',
      NETWATCH_WEBHOOK_PORT_443_TCP_PORT: '443',
      NETWATCH_WEBHOOK_PORT_443_TCP_ADDR: '10.96.0.7',
      // and for netwatch-webhook-metrics, whose NETWATCH_WEBHOOK_METRICS_PORT would otherwise be --metrics-port
      NETWATCH_WEBHOOK_METRICS_SERVICE_HOST: '10.96.0.9',
      NETWATCH_WEBHOOK_METRICS_SERVICE_PORT_HTTP_METRICS: '8080',
      NETWATCH_WEBHOOK_METRICS_PORT: 'tcp://10.96.0.9:8080',
      NETWATCH_WEBHOOK_METRICS_PORT_8080_TCP_PORT: '8080',
    });
    assert.deepEqual(warnings, []);
    assert.equal(options.port, 8443);
    assert.equal(options.metricsPort, 8080);
  });
  test('variables of other programs are not looked at', () => assert.deepEqual(run([], { NETWATCH_WEBUI_PORT: 'x', PATH: '/bin' }).warnings, []));
  test('an unknown flag on the command line is still refused', () => refused(['--max-durration=8h'], {}, /^Unknown arguments?: max-durration/));
  test('an empty known variable counts as unset', () => assert.equal(run([], { NETWATCH_WEBHOOK_PORT: '', NETWATCH_WEBHOOK_CIDR_DENY: '' }).options.port, 8443));
});

describe('the CIDR deny list', () => {
  test('is 0.0.0.0/0 and ::/0 by default', () => assert.deepEqual(run().options.config.cidrDenyList, ['0.0.0.0/0', '::/0']));
  test('--cidr-deny adds to the defaults instead of replacing them', () => {
    const { config } = run(['--cidr-deny=169.254.169.254/32']).options;
    assert.deepEqual(config.cidrDenyList, ['0.0.0.0/0', '::/0', '169.254.169.254/32']);
    assert.equal(config.defaultCidrDeny, true);
  });
  test('--no-default-cidr-deny drops the defaults and keeps the additions', () => {
    const { config } = run(['--no-default-cidr-deny', '--cidr-deny=169.254.169.254/32']).options;
    assert.deepEqual(config.cidrDenyList, ['169.254.169.254/32']);
    assert.equal(config.defaultCidrDeny, false);
  });
  test('--default-cidr-deny=false and NETWATCH_WEBHOOK_DEFAULT_CIDR_DENY=false do the same', () => {
    assert.deepEqual(run(['--default-cidr-deny=false']).options.config.cidrDenyList, []);
    assert.deepEqual(run([], { NETWATCH_WEBHOOK_DEFAULT_CIDR_DENY: 'false' }).options.config.cidrDenyList, []);
  });
  test('a boolean variable that is neither true nor false is refused', () =>
    refused([], { NETWATCH_WEBHOOK_DEFAULT_CIDR_DENY: 'no' }, /^NETWATCH_WEBHOOK_DEFAULT_CIDR_DENY: must be true or false, not "no"$/));
  test('a boolean flag with a value other than true or false is refused, not read as false', () => {
    for (const value of ['yes', '1', 'True', '']) {
      refused([`--default-cidr-deny=${value}`], {}, new RegExp(`--default-cidr-deny: must be true or false \\(or --no-default-cidr-deny\\), not ${JSON.stringify(value)}`));
    }
    refused(['--allowUnlimited=yes'], {}, /--allow-unlimited: must be true or false/);
    assert.deepEqual(run(['--default-cidr-deny=true']).options.config.cidrDenyList, ['0.0.0.0/0', '::/0']);
  });
});

describe('the CIDR overlap defaults, cluster ranges and size limits', () => {
  test('link-local, metadata, NAT64 and IPv4-mapped ranges are refused by default', () => {
    const { config } = run().options;
    assert.deepEqual(config.cidrDenyOverlapping, [...DEFAULT_CIDR_DENY_OVERLAPPING]);
    assert.equal(config.defaultCidrDenyOverlapping, true);
  });
  test('--no-default-cidr-deny leaves them refused; --no-default-cidr-deny-overlapping drops them and keeps the additions', () => {
    assert.deepEqual(run(['--no-default-cidr-deny']).options.config.cidrDenyOverlapping, [...DEFAULT_CIDR_DENY_OVERLAPPING]);
    const { config } = run(['--no-default-cidr-deny-overlapping', '--cidr-deny-overlapping=10.0.0.0/8']).options;
    assert.deepEqual(config.cidrDenyOverlapping, ['10.0.0.0/8']);
    assert.deepEqual(config.cidrDenyList, ['0.0.0.0/0', '::/0']);
    assert.deepEqual(run([], { NETWATCH_WEBHOOK_DEFAULT_CIDR_DENY_OVERLAPPING: 'false' }).options.config.cidrDenyOverlapping, []);
  });
  test('--cluster-cidr is repeatable, and NETWATCH_WEBHOOK_CLUSTER_CIDR is split', () => {
    assert.deepEqual(run(['--cluster-cidr=10.244.0.0/16', '--cluster-cidr=10.96.0.0/12']).options.config.clusterCidrs, ['10.244.0.0/16', '10.96.0.0/12']);
    assert.deepEqual(run([], { NETWATCH_WEBHOOK_CLUSTER_CIDR: '10.244.0.0/16,fd00:10:244::/56' }).options.config.clusterCidrs, ['10.244.0.0/16', 'fd00:10:244::/56']);
    refused(['--cluster-cidr=10.244.0.0'], {}, /^--cluster-cidr: "10\.244\.0\.0" is not a CIDR with a prefix/);
  });
  test('the size limits default to /16 and /48 and take a count or a prefix length', () => {
    const { config } = run().options;
    assert.equal(config.cidrMaxAddressesIPv4, '/16');
    assert.equal(config.cidrMaxAddressesIPv6, '/48');
    assert.equal(run(['--cidr-max-addresses-ipv4=1024']).options.config.cidrMaxAddressesIPv4, '1024');
    assert.equal(run([], { NETWATCH_WEBHOOK_CIDR_MAX_ADDRESSES_IPV6: '/56' }).options.config.cidrMaxAddressesIPv6, '/56');
  });
  test('every flag a CIDR refusal names is a flag of the webhook', () => {
    const help = parseWebhookArgs(['--help'], {});
    assert.equal(help.kind, 'print');
    for (const flag of Object.values(CIDR_POLICY_FLAGS)) assert.match(help.text, new RegExp(`${flag}(?![-\\w])`), flag);
  });
  test('a size limit that is neither a count nor a prefix length stops the webhook, naming the flag', () => {
    refused(['--cidr-max-addresses-ipv4=/33'], {}, /^--cidr-max-addresses-ipv4: must be a number of addresses \(at least 1\) or a prefix length from \/0 to \/32, e\.g\. \/16; \/0 means no limit; not "\/33"$/);
    refused([], { NETWATCH_WEBHOOK_CIDR_MAX_ADDRESSES_IPV6: '0' }, /^NETWATCH_WEBHOOK_CIDR_MAX_ADDRESSES_IPV6: must be .* from \/0 to \/128, e\.g\. \/48/);
    refused(['--default-cidr-deny-overlapping=no'], {}, /--default-cidr-deny-overlapping: must be true or false/);
  });
});

describe('other checks', () => {
  test('--answer-ttl: 2s by default, 0s to ask every time, at most a minute', () => {
    assert.equal(run([]).options.answerTtlMs, 2000);
    assert.equal(run(['--answer-ttl=0s']).options.answerTtlMs, 0);
    assert.equal(run([], { NETWATCH_WEBHOOK_ANSWER_TTL: '30s' }).options.answerTtlMs, 30_000);
    refused(['--answer-ttl=2m'], {}, /^--answer-ttl: must be a duration from 0s to 1m in whole seconds, such as 2s \(0s: ask every time\), not "2m"$/);
    refused([], { NETWATCH_WEBHOOK_ANSWER_TTL: 'soon' }, /^NETWATCH_WEBHOOK_ANSWER_TTL: must be a duration/);
  });
  test('--max-duration must be a positive duration', () => {
    refused(['--max-duration=0s'], {}, /^--max-duration: must be a positive duration/);
    refused([], { NETWATCH_WEBHOOK_MAX_DURATION: '1d' }, /^NETWATCH_WEBHOOK_MAX_DURATION: must be a positive duration/);
    refused(['--max-duration=unlimited'], {}, /use --allow-unlimited/);
    assert.equal(run([], { NETWATCH_WEBHOOK_MAX_DURATION: '8h' }).options.config.maxDuration, '8h');
  });
  test('the serving certificate and key may come from the environment', () => {
    const parsed = parseWebhookArgs([], { NETWATCH_WEBHOOK_TLS_CERT_FILE: '/tls/a.crt', NETWATCH_WEBHOOK_TLS_KEY_FILE: '/tls/a.key', NETWATCH_WEBHOOK_ALLOW_UNLIMITED: 'true' });
    assert.equal(parsed.kind, 'run');
    assert.equal(parsed.options.tlsCertFile, '/tls/a.crt');
    assert.equal(parsed.options.tlsKeyFile, '/tls/a.key');
    assert.equal(parsed.options.config.allowUnlimited, true);
  });
  test('the serving certificate and key are required', () =>
    assert.throws(() => parseWebhookArgs([], {}), /Missing required arguments: tls-cert-file, tls-key-file/));
  test('--help is returned for printing, with the real kubeconfig order and the new flag', () => {
    const parsed = parseWebhookArgs(['--help'], {});
    assert.equal(parsed.kind, 'print');
    assert.match(parsed.text.replace(/\s+/g, ' '), /default: \$KUBECONFIG, then ~\/\.kube\/config, then the in-cluster ServiceAccount/);
    assert.doesNotMatch(parsed.text, /in-cluster, then \$KUBECONFIG/);
    assert.match(parsed.text, /--default-cidr-deny/);
  });
});

describe('--unapprovable', () => {
  test('refuse by default', () => assert.equal(run().options.config.unapprovable, 'refuse'));
  for (const value of ['refuse', 'warn', 'allow'] as const) {
    test(`${value} is accepted, also from NETWATCH_WEBHOOK_UNAPPROVABLE`, () => {
      assert.equal(run([`--unapprovable=${value}`]).options.config.unapprovable, value);
      assert.equal(run([], { NETWATCH_WEBHOOK_UNAPPROVABLE: value }).options.config.unapprovable, value);
    });
  }
  test('anything else stops the webhook, naming the flag and the choices', () => refused(['--unapprovable=maybe'], {}, /unapprovable.*maybe.*refuse.*warn.*allow|unapprovable.*refuse, warn, allow/s));
});
