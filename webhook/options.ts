// The webhook's flags and NETWATCH_WEBHOOK_* environment variables, parsed and checked as a pure function of
// (arguments, environment) on the components' one configuration path (lib/cli/flags.ts): main.ts passes
// process.argv and process.env and acts on the result.
import { LOG_LEVELS, UsageError, readCommandLine, type Command, type Env, type FlagOption, type LogLevel, type Parsed } from '../lib/cli/flags.ts';
import { isValidCidr } from '../lib/domain/cidr.ts';
import { DEFAULT_CIDR_DENY_LIST, DEFAULT_CIDR_DENY_OVERLAPPING, parseAddressLimit } from '../lib/domain/cidr-policy.ts';
import { parseDuration } from '../lib/domain/duration.ts';
import { DEFAULT_WEBHOOK_CONFIG, UNAPPROVABLE_POLICIES, webhookConfig, type UnapprovablePolicy, type WebhookConfig } from './config.ts';

export const ENV_PREFIX = 'NETWATCH_WEBHOOK_';

const OPTIONS = {
  port: { type: 'number', default: 8443, describe: 'HTTPS port of the admission endpoints, an integer from 1 to 65535' },
  'metrics-port': {
    type: 'number',
    default: 8080,
    describe: 'plain-HTTP port of /metrics, /healthz and /readyz, an integer from 1 to 65535 (0: none)',
  },
  host: { type: 'string', default: '0.0.0.0', describe: 'address to listen on' },
  'tls-cert-file': { type: 'string', demandOption: true, describe: 'serving certificate (PEM); reloaded when it changes' },
  'tls-key-file': { type: 'string', demandOption: true, describe: 'serving key (PEM); reloaded when it changes' },
  'client-ca-file': {
    type: 'string',
    describe:
      "CA bundle (PEM) of the API server's client certificate for webhooks (its AdmissionConfiguration kubeConfigFile): when set, admission requests over a connection without a certificate it signed get 401; reloaded when it changes",
  },
  kubeconfig: {
    type: 'string',
    describe: 'kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster ServiceAccount)',
  },
  'max-duration': { type: 'string', default: DEFAULT_WEBHOOK_CONFIG.maxDuration, describe: 'longest duration a request may ask for' },
  'allow-unlimited': { type: 'boolean', default: false, describe: 'accept duration "unlimited"' },
  'cidr-deny': {
    type: 'string',
    array: true,
    default: [] as string[],
    describe: `also refuse a request whose CIDRs together cover one of these, in addition to ${DEFAULT_CIDR_DENY_LIST.join(' and ')} (repeatable; in ${ENV_PREFIX}CIDR_DENY separate them with spaces or commas)`,
  },
  'default-cidr-deny': {
    type: 'boolean',
    default: true,
    describe: `refuse a request whose CIDRs together cover ${DEFAULT_CIDR_DENY_LIST.join(' or ')} (the whole Internet); --no-default-cidr-deny allows them and keeps every other CIDR rule`,
  },
  'cidr-deny-overlapping': {
    type: 'string',
    array: true,
    default: [] as string[],
    describe: `also refuse requested CIDRs that overlap one of these (repeatable; in ${ENV_PREFIX}CIDR_DENY_OVERLAPPING separate them with spaces or commas)`,
  },
  'default-cidr-deny-overlapping': {
    type: 'boolean',
    default: true,
    describe: `refuse requested CIDRs that overlap link-local, cloud metadata, NAT64 or IPv4-mapped ranges (${DEFAULT_CIDR_DENY_OVERLAPPING.join(', ')}); --no-default-cidr-deny-overlapping allows them`,
  },
  'cluster-cidr': {
    type: 'string',
    array: true,
    default: [] as string[],
    describe: `the cluster's pod and Service ranges: requested CIDRs that overlap one are refused (repeatable; in ${ENV_PREFIX}CLUSTER_CIDR separate them with spaces or commas)`,
  },
  'cidr-max-addresses-ipv4': {
    type: 'string',
    default: DEFAULT_WEBHOOK_CONFIG.cidrMaxAddressesIPv4,
    describe: 'most IPv4 addresses the CIDRs of one request may hold together: a count (65536) or a prefix length (/16); /0 for no limit',
  },
  'cidr-max-addresses-ipv6': {
    type: 'string',
    default: DEFAULT_WEBHOOK_CONFIG.cidrMaxAddressesIPv6,
    describe: 'most IPv6 addresses the CIDRs of one request may hold together: a count or a prefix length (/48); /0 for no limit',
  },
  'controller-username': {
    type: 'string',
    default: DEFAULT_WEBHOOK_CONFIG.controllerUsername,
    describe: "the controller's identity (a ServiceAccount must also carry its namespace's ServiceAccount group)",
  },
  'max-open-requests': {
    type: 'number',
    default: DEFAULT_WEBHOOK_CONFIG.maxOpenRequests,
    describe: 'open (not ended) AccessRequests one user may have at once; 0 for no limit',
  },
  'marker-deleter-group': {
    type: 'string',
    array: true,
    default: [...DEFAULT_WEBHOOK_CONFIG.markerDeleterGroups],
    describe: `groups whose members may delete objects carrying netwatch's markers (repeatable; replaces the default, system:masters; in ${ENV_PREFIX}MARKER_DELETER_GROUP separate them with spaces or commas)`,
  },
  'marker-deleter': {
    type: 'string',
    array: true,
    default: [...DEFAULT_WEBHOOK_CONFIG.markerDeleters],
    describe: `users besides the controller that may delete objects carrying netwatch's markers (repeatable; replaces the default: maxtac's ServiceAccount and kube-controller-manager's garbage collector and namespace controller; in ${ENV_PREFIX}MARKER_DELETER separate them with spaces or commas)`,
  },
  unapprovable: {
    type: 'string',
    default: DEFAULT_WEBHOOK_CONFIG.unapprovable,
    choices: [...UNAPPROVABLE_POLICIES],
    describe:
      "a new request with a part that nobody but cluster admins may approve (read from RBAC in the part's namespace): refuse it, accept it with a warning (warn), or accept it (allow; the webhook then does not watch RBAC)",
  },
  'answer-ttl': {
    type: 'string',
    default: '2s',
    describe:
      'how long an answer of the API server (a SubjectAccessReview, a Service read) is reused for the next admissions: a duration up to 1m, 0s to ask every time',
  },
  'log-level': { type: 'string', default: 'info', choices: LOG_LEVELS, describe: 'JSON log lines (pino) at this level and above' },
} as const satisfies Record<string, FlagOption>;

type Flag = keyof typeof OPTIONS;

/** The webhook's flags and variables: the docs test (docs/configuration.test.ts) and the sandbox read them too. */
export const WEBHOOK_COMMAND: Command<Flag> = { name: 'netwatch-webhook', what: 'webhook', envPrefix: ENV_PREFIX, options: OPTIONS };

export interface WebhookOptions {
  port: number;
  /** 0: no separate listener for metrics and probes. */
  metricsPort: number;
  host: string;
  tlsCertFile: string;
  tlsKeyFile: string;
  clientCaFile: string | undefined;
  /** How long an API answer is reused, in ms (0: never). */
  answerTtlMs: number;
  kubeconfig: string | undefined;
  logLevel: LogLevel;
  config: WebhookConfig;
}

/** Start the webhook (logging each warning first), or print help/version. */
export type WebhookArgs = Parsed<{ options: WebhookOptions; warnings: string[] }>;

export { UsageError, type Env };

/** Parses and checks everything; throws UsageError with a message that names the flag or variable at fault. */
export function parseWebhookArgs(args: readonly string[], env: Env): WebhookArgs {
  const read = readCommandLine(WEBHOOK_COMMAND, args, env);
  if (read.kind === 'print') return read;
  const { argv, source: given } = read;
  const problems: string[] = [];

  const port = argv.port as number;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    const { name, raw } = given('port');
    problems.push(`${name}: must be an integer from 1 to 65535, not ${JSON.stringify(raw ?? String(port))}`);
  }
  const metricsPort = argv['metrics-port'] as number;
  if (!Number.isInteger(metricsPort) || metricsPort < 0 || metricsPort > 65535 || (metricsPort !== 0 && metricsPort === port)) {
    const { name, raw } = given('metrics-port');
    problems.push(`${name}: must be an integer from 1 to 65535 other than --port, or 0 for no metrics listener, not ${JSON.stringify(raw ?? String(metricsPort))}`);
  }
  const answerTtl = argv['answer-ttl'] as string;
  const answerTtlMs = parseDuration(answerTtl);
  // More than a minute would let a removed Role keep counting for too long; 0s disables the reuse.
  if (typeof answerTtlMs !== 'number' || answerTtlMs > 60_000) {
    const { name, raw } = given('answer-ttl');
    problems.push(`${name}: must be a duration from 0s to 1m in whole seconds, such as 2s (0s: ask every time), not ${JSON.stringify(raw ?? answerTtl)}`);
  }
  const maxDuration = argv['max-duration'] as string;
  const maxMs = parseDuration(maxDuration);
  if (typeof maxMs !== 'number' || maxMs <= 0) {
    problems.push(
      `${given('max-duration').name}: must be a positive duration such as 24h, 90m or 1h30m (hours, minutes, seconds), not ${JSON.stringify(maxDuration)}` +
        (maxMs === 'unlimited' ? '; to accept unlimited requests use --allow-unlimited' : ''),
    );
  }
  const lists: Record<'cidr-deny' | 'cidr-deny-overlapping' | 'cluster-cidr', string[]> = { 'cidr-deny': [], 'cidr-deny-overlapping': [], 'cluster-cidr': [] };
  for (const flag of ['cidr-deny', 'cidr-deny-overlapping', 'cluster-cidr'] as const) {
    lists[flag] = (argv[flag] as unknown[]).map(String);
    for (const cidr of lists[flag]) {
      if (!isValidCidr(cidr)) problems.push(`${given(flag).name}: ${JSON.stringify(cidr)} is not a CIDR with a prefix, e.g. 10.0.0.0/8 or 2001:db8::/32`);
    }
  }
  const limits = { 'cidr-max-addresses-ipv4': 4, 'cidr-max-addresses-ipv6': 6 } as const;
  for (const [flag, family] of Object.entries(limits) as [keyof typeof limits, 4 | 6][]) {
    const text = argv[flag] as string;
    if (parseAddressLimit(text, family) === null) {
      problems.push(
        `${given(flag).name}: must be a number of addresses (at least 1) or a prefix length from /0 to /${family === 4 ? 32 : 128}, e.g. ${DEFAULT_WEBHOOK_CONFIG[family === 4 ? 'cidrMaxAddressesIPv4' : 'cidrMaxAddressesIPv6']}; /0 means no limit; not ${JSON.stringify(text)}`,
      );
    }
  }
  const controllerUsername = argv['controller-username'] as string;
  if (!controllerUsername) problems.push(`${given('controller-username').name}: must not be empty`);
  const maxOpenRequests = argv['max-open-requests'] as number;
  if (!Number.isInteger(maxOpenRequests) || maxOpenRequests < 0) {
    const { name, raw } = given('max-open-requests');
    problems.push(`${name}: must be a whole number (0 for no limit), not ${JSON.stringify(raw ?? String(maxOpenRequests))}`);
  }
  const markerDeleters = (argv['marker-deleter'] as unknown[]).map(String).filter((u) => u !== '');
  const markerDeleterGroups = (argv['marker-deleter-group'] as unknown[]).map(String).filter((g) => g !== '');
  if (problems.length > 0) throw new UsageError(problems.join('; '));

  let config: WebhookConfig;
  try {
    config = webhookConfig({
      maxDuration,
      allowUnlimited: argv['allow-unlimited'] as boolean,
      defaultCidrDeny: argv['default-cidr-deny'] as boolean,
      cidrDenyList: lists['cidr-deny'],
      defaultCidrDenyOverlapping: argv['default-cidr-deny-overlapping'] as boolean,
      cidrDenyOverlapping: lists['cidr-deny-overlapping'],
      clusterCidrs: lists['cluster-cidr'],
      cidrMaxAddressesIPv4: argv['cidr-max-addresses-ipv4'] as string,
      cidrMaxAddressesIPv6: argv['cidr-max-addresses-ipv6'] as string,
      controllerUsername,
      maxOpenRequests,
      markerDeleters,
      markerDeleterGroups,
      unapprovable: argv.unapprovable as UnapprovablePolicy,
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return {
    kind: 'run',
    warnings: read.warnings,
    options: {
      port,
      metricsPort,
      host: argv.host as string,
      tlsCertFile: argv['tls-cert-file'] as string,
      tlsKeyFile: argv['tls-key-file'] as string,
      clientCaFile: (argv['client-ca-file'] as string | undefined) || undefined,
      answerTtlMs: typeof answerTtlMs === 'number' ? answerTtlMs : 0,
      kubeconfig: (argv.kubeconfig as string | undefined) || undefined,
      logLevel: argv['log-level'] as LogLevel,
      config,
    },
  };
}
