// The web UI's flags and NETWATCH_WEBUI_* environment variables, parsed and range-checked as a pure function of
// (arguments, environment, file reader) on the components' one configuration path (lib/cli/flags.ts): main.ts
// passes process.argv, process.env and readFileSync and acts on the result. The unprefixed variables of v0.1
// (OIDC_*, TLS_*_FILE, HOST, PORT, LOG_LEVEL) are still read, each with a warning naming its replacement.
import { LOG_LEVELS, UsageError, readCommandLine, type Command, type Env, type FlagOption, type LogLevel, type Parsed, type Source } from '../lib/cli/flags.ts';
import { parseDuration } from '../lib/domain/duration.ts';
import { isValidCidr } from '../lib/domain/cidr.ts';
import { uniqueCidrs } from '../lib/domain/cidr-policy.ts';
import type { ActAs, WebUiConfig } from './config.ts';
import type { OidcSettings } from './oidc.ts';

export const ENV_PREFIX = 'NETWATCH_WEBUI_';

export const DEFAULT_DURATIONS = ['15m', '30m', '1h', '2h', '4h', '8h', '24h'];
const ACT_AS = ['token', 'impersonate'] as const satisfies readonly ActAs[];

const OPTIONS = {
  'public-url': {
    type: 'string',
    demandOption: true,
    describe:
      'the URL browsers use, e.g. https://netwatch.example.com: absolute https (http only with --insecure-cookies), no path, query or fragment; its origin is the only one allowed to POST, <origin>/auth/callback the OIDC redirect URI',
  },
  'act-as': {
    type: 'string',
    choices: ACT_AS,
    default: 'token',
    describe: "token: the user's ID token is the bearer token toward the API server; impersonate: the web UI's own identity impersonates the user",
  },
  'oidc-issuer-url': {
    type: 'string',
    demandOption: true,
    deprecatedEnv: ['OIDC_ISSUER_URL'],
    describe: "the IdP's issuer, an https URL; in token mode equal to the API server's --oidc-issuer-url",
  },
  'oidc-client-id': { type: 'string', demandOption: true, deprecatedEnv: ['OIDC_CLIENT_ID'], describe: "in token mode equal to the API server's --oidc-client-id" },
  'oidc-client-secret-file': {
    type: 'string',
    inlineEnv: true,
    deprecatedEnv: ['OIDC_CLIENT_SECRET_FILE'],
    deprecatedInlineEnv: ['OIDC_CLIENT_SECRET'],
    describe: 'file holding the client secret (unset: a public client, PKCE only)',
  },
  'oidc-ca-file': { type: 'string', deprecatedEnv: ['OIDC_CA_FILE'], describe: "CA bundle (PEM) to trust for the IdP (unset: Node's built-in list)" },
  'oidc-scopes': { type: 'string', default: 'openid email profile groups', deprecatedEnv: ['OIDC_SCOPES'], describe: 'scopes, separated by spaces or commas; openid among them' },
  'oidc-username-claim': {
    type: 'string',
    default: 'email',
    deprecatedEnv: ['OIDC_USERNAME_CLAIM'],
    describe: "ID token claim that becomes the username; equal to the API server's --oidc-username-claim",
  },
  'oidc-username-prefix': {
    type: 'string',
    deprecatedEnv: ['OIDC_USERNAME_PREFIX'],
    describe: "prefix of the username, as the API server's --oidc-username-prefix (unset: its default; -: none)",
  },
  'oidc-groups-claim': {
    type: 'string',
    default: 'groups',
    deprecatedEnv: ['OIDC_GROUPS_CLAIM'],
    describe: "claim holding the groups (empty: no groups); equal to the API server's --oidc-groups-claim",
  },
  'oidc-groups-prefix': { type: 'string', deprecatedEnv: ['OIDC_GROUPS_PREFIX'], describe: "prefix of each group, as the API server's --oidc-groups-prefix" },
  'session-key-file': {
    type: 'string',
    inlineEnv: true,
    describe: 'file holding the session key, 32 random bytes in base64 (openssl rand -base64 32); required, the same on every replica',
  },
  'session-ttl-seconds': { type: 'number', default: 8 * 3600, describe: 'session lifetime in seconds, a positive integer' },
  durations: { type: 'string', default: DEFAULT_DURATIONS.join(','), describe: 'comma-separated durations the forms offer (30m, 2h, 1h30m, unlimited)' },
  'cluster-cidr': {
    type: 'string',
    array: true,
    default: [] as string[],
    describe: `the cluster's pod and Service ranges: the preview classes a requested CIDR inside one as "cluster" (repeatable; in ${ENV_PREFIX}CLUSTER_CIDR separate them with spaces or commas)`,
  },
  'rate-limit-per-minute': { type: 'number', default: 300, describe: 'requests per minute per client address, a positive integer' },
  'trust-proxy': { type: 'boolean', default: false, describe: 'take the client address from X-Forwarded-For (behind an ingress or load balancer)' },
  'insecure-cookies': { type: 'boolean', default: false, describe: 'no Secure cookie flag and no HSTS: only for plain-HTTP development' },
  'api-token-file': {
    type: 'string',
    inlineEnv: true,
    describe: 'file holding a bearer token (at least 32 characters) for automation: read-only JSON API; needs --act-as=impersonate',
  },
  'api-token-user': { type: 'string', default: 'netwatch:automation', describe: 'the username the API token acts as, by impersonation' },
  'api-token-groups': { type: 'string', describe: 'comma-separated groups of that identity' },
  'tls-cert-file': { type: 'string', deprecatedEnv: ['TLS_CERT_FILE'], describe: 'serving certificate (PEM), with --tls-key-file (unset: plain HTTP); reloaded when it changes' },
  'tls-key-file': { type: 'string', deprecatedEnv: ['TLS_KEY_FILE'], describe: 'serving key (PEM); reloaded when it changes' },
  host: { type: 'string', default: '0.0.0.0', deprecatedEnv: ['HOST'], describe: 'address to listen on' },
  port: { type: 'number', default: 8443, deprecatedEnv: ['PORT'], describe: 'port to listen on, an integer from 1 to 65535' },
  kubeconfig: {
    type: 'string',
    describe: "the web UI's own connection to the API server (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster ServiceAccount)",
  },
  'log-level': { type: 'string', choices: LOG_LEVELS, default: 'info', deprecatedEnv: ['LOG_LEVEL'], describe: 'JSON log lines (pino) at this level and above' },
} as const satisfies Record<string, FlagOption>;

type Flag = keyof typeof OPTIONS;

/** The web UI's flags and variables: the docs test (docs/configuration.test.ts) and the sandbox read them too. */
export const WEBUI_COMMAND: Command<Flag> = { name: 'netwatch-webui', what: 'web UI', envPrefix: ENV_PREFIX, options: OPTIONS };

export interface ServerSettings {
  host: string;
  port: number;
  /** Serving certificate and key files (read, and read again when they change, by main.ts); unset: plain HTTP. */
  tls?: { certFile: string; keyFile: string } | undefined;
  logLevel: LogLevel;
  /** Kubeconfig of the web UI's own connection; unset: $KUBECONFIG, ~/.kube/config, then in-cluster. */
  kubeconfig?: string | undefined;
}

export interface Settings {
  app: WebUiConfig;
  oidc: OidcSettings;
  server: ServerSettings;
}

/** Start the web UI (logging each warning first), or print help/version. */
export type WebUiArgs = Parsed<{ settings: Settings; warnings: string[] }>;

export { UsageError, type Env };

/**
 * The origin of --public-url (`https://netwatch.example.com`), or a problem that says what is wrong. The web UI
 * serves from `/` and builds its redirect URI as `new URL('/auth/callback', publicUrl)`, which drops any path: a
 * URL with a path, query or fragment would register one address with the IdP and serve another.
 */
function publicOrigin(given: Source, raw: string, insecure: Source | undefined, problems: string[]): string {
  const name = given.name;
  const wanted = `an absolute https URL with no path, such as https://netwatch.example.com${insecure ? ` (http is allowed too, as ${insecure.name} is true)` : ''}`;
  const refuse = (why: string) => {
    problems.push(`${name}: must be ${wanted}; ${why}`);
    return 'https://invalid.invalid';
  };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return refuse(`${JSON.stringify(raw)} is not a URL`);
  }
  if (url.protocol === 'http:' && !insecure) {
    return refuse(`${JSON.stringify(raw)} is http, which only works with --insecure-cookies (the session cookie is Secure otherwise)`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return refuse(`${JSON.stringify(raw)} is ${url.protocol.slice(0, -1)}`);
  if (url.username || url.password) return refuse(`${JSON.stringify(raw)} has a user name or password`);
  if (url.pathname !== '/') {
    return refuse(`${JSON.stringify(raw)} has the path ${url.pathname}, but the web UI is served from / and its redirect URI would be ${new URL('/auth/callback', url).href}`);
  }
  if (raw.includes('?')) return refuse(`${JSON.stringify(raw)} has a query`);
  if (raw.includes('#')) return refuse(`${JSON.stringify(raw)} has a fragment`);
  return url.origin;
}

/** The durations the forms offer: each one a spec.duration the webhook's parser reads (unlimited included). */
function durationList(given: Source, raw: string, problems: string[]): string[] {
  const durations = raw.split(',').map((d) => d.trim()).filter(Boolean);
  const wrong: string[] = [];
  for (const d of durations) {
    const ms = parseDuration(d);
    if (ms === null) wrong.push(`${JSON.stringify(d)} is not a duration such as 30m, 2h or 1h30m (hours, minutes, seconds; no days) or unlimited`);
    else if (ms === 0) wrong.push(`${JSON.stringify(d)} is not longer than 0s`);
  }
  if (durations.length === 0) wrong.push('it lists no duration');
  if (wrong.length > 0) problems.push(`${given.name}: must be a comma-separated list of durations: ${wrong.join('; ')}`);
  return durations;
}

function positiveInteger(given: Source, value: number, what: string, problems: string[]): number {
  if (!Number.isSafeInteger(value) || value < 1) problems.push(`${given.name}: must be ${what}, not ${JSON.stringify(given.raw ?? String(value))}`);
  return value;
}

/** Parses and checks everything; throws UsageError with one message per problem, each naming its flag or variable. */
export function parseWebUiArgs(args: readonly string[], env: Env, readFile: (path: string) => string): WebUiArgs {
  const read = readCommandLine(WEBUI_COMMAND, args, env);
  if (read.kind === 'print') return read;
  const { argv, source: given } = read;
  const problems: string[] = [];
  const text = (flag: Flag) => argv[flag] as string | undefined;
  // A secret's file that cannot be read is one more problem to report with the others; null: it was named but unread.
  const secret = (flag: Flag) => {
    try {
      return read.secret(flag, readFile);
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      problems.push(err.message);
      return null;
    }
  };

  const insecure = argv['insecure-cookies'] === true ? given('insecure-cookies') : undefined;
  const publicUrl = publicOrigin(given('public-url'), text('public-url') ?? '', insecure, problems);

  const sessionKeySecret = secret('session-key-file');
  let sessionKey = Buffer.alloc(32);
  if (sessionKeySecret === undefined) {
    problems.push(`--session-key-file (or ${ENV_PREFIX}SESSION_KEY_FILE, or ${ENV_PREFIX}SESSION_KEY) is required: 32 random bytes, base64 (openssl rand -base64 32)`);
  } else if (sessionKeySecret) {
    sessionKey = Buffer.from(sessionKeySecret.value, 'base64');
    if (sessionKey.length !== 32) problems.push(`${sessionKeySecret.name}: must be 32 random bytes in base64 (openssl rand -base64 32); it decodes to ${sessionKey.length} bytes`);
  }

  const actAs = argv['act-as'] as ActAs;
  const issuerUrl = text('oidc-issuer-url') ?? '';
  const issuer = URL.canParse(issuerUrl) ? new URL(issuerUrl) : undefined;
  if (issuer?.protocol !== 'https:') {
    problems.push(`${given('oidc-issuer-url').name}: must be the IdP's issuer, an absolute https URL such as https://idp.example.com/realms/main; ${JSON.stringify(issuerUrl)} is not`);
  }
  const clientId = text('oidc-client-id') ?? '';
  if (clientId === '') problems.push(`${given('oidc-client-id').name}: must not be empty`);
  const clientSecret = secret('oidc-client-secret-file')?.value;
  const caFile = text('oidc-ca-file');
  let caPem: string | undefined;
  if (caFile) {
    try {
      caPem = readFile(caFile);
    } catch (err) {
      problems.push(`${given('oidc-ca-file').name}: cannot read ${caFile}: ${(err as Error).message}`);
    }
  }
  const scopes = (text('oidc-scopes') ?? '').split(/[\s,]+/).filter(Boolean);
  if (!scopes.includes('openid')) problems.push(`${given('oidc-scopes').name}: must include openid (an OpenID Connect sign-in), not ${JSON.stringify(text('oidc-scopes'))}`);
  const usernameClaim = text('oidc-username-claim') ?? '';
  if (usernameClaim === '') problems.push(`${given('oidc-username-claim').name}: must not be empty`);

  const sessionTtlSeconds = positiveInteger(given('session-ttl-seconds'), argv['session-ttl-seconds'] as number, 'a positive whole number of seconds', problems);
  const durations = durationList(given('durations'), text('durations') ?? '', problems);
  const clusterCidrs = (argv['cluster-cidr'] as unknown[]).map(String);
  for (const cidr of clusterCidrs) {
    if (!isValidCidr(cidr)) problems.push(`${given('cluster-cidr').name}: ${JSON.stringify(cidr)} is not a CIDR with a prefix, e.g. 10.244.0.0/16 or fd00:10:244::/56`);
  }
  const rateLimitPerMinute = positiveInteger(given('rate-limit-per-minute'), argv['rate-limit-per-minute'] as number, 'a positive whole number', problems);

  const apiTokenSecret = secret('api-token-file');
  if (apiTokenSecret && apiTokenSecret.value.length < 32) problems.push(`${apiTokenSecret.name}: must be at least 32 characters; it has ${apiTokenSecret.value.length}`);
  // The token acts as its configured identity, which only impersonation can do.
  if (apiTokenSecret && actAs !== 'impersonate') problems.push(`${apiTokenSecret.name}: needs --act-as=impersonate (the token acts as --api-token-user by impersonation)`);
  const apiTokenUser = text('api-token-user') ?? '';
  if (apiTokenSecret && apiTokenUser === '') problems.push(`${given('api-token-user').name}: must not be empty`);

  const certFile = text('tls-cert-file') || undefined;
  const keyFile = text('tls-key-file') || undefined;
  if (Boolean(certFile) !== Boolean(keyFile)) {
    const [set, unset] = certFile ? (['tls-cert-file', 'tls-key-file'] as const) : (['tls-key-file', 'tls-cert-file'] as const);
    problems.push(`${given(set).name}: --tls-cert-file and --tls-key-file go together; --${unset} is not set`);
  }
  const host = text('host') ?? '';
  if (host === '') problems.push(`${given('host').name}: must not be empty`);
  const port = argv.port as number;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    const { name, raw } = given('port');
    problems.push(`${name}: must be an integer from 1 to 65535, not ${JSON.stringify(raw ?? String(port))}`);
  }
  if (problems.length > 0) throw new UsageError(problems.join('; '));

  const claims = {
    issuerUrl,
    usernameClaim,
    usernamePrefix: text('oidc-username-prefix'),
    groupsClaim: text('oidc-groups-claim'),
    groupsPrefix: text('oidc-groups-prefix'),
  };
  return {
    kind: 'run',
    warnings: read.warnings,
    settings: {
      app: {
        publicUrl,
        sessionKey,
        sessionTtlSeconds,
        secureCookies: !insecure,
        actAs,
        claims,
        apiToken: apiTokenSecret
          ? {
              token: apiTokenSecret.value,
              identity: { username: apiTokenUser, groups: (text('api-token-groups') ?? '').split(',').map((g) => g.trim()).filter(Boolean) },
            }
          : undefined,
        durations,
        clusterCidrs: uniqueCidrs(clusterCidrs),
        rateLimitPerMinute,
        trustProxy: argv['trust-proxy'] as boolean,
      },
      oidc: { issuerUrl, clientId, clientSecret, redirectUri: new URL('/auth/callback', publicUrl).href, scopes, caPem },
      server: {
        host,
        port,
        tls: certFile && keyFile ? { certFile, keyFile } : undefined,
        logLevel: argv['log-level'] as LogLevel,
        kubeconfig: text('kubeconfig') || undefined,
      },
    },
  };
}
