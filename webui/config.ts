// Configuration from environment variables, as a pure function of (env, file reader) so it is testable; only
// main.ts calls it with the real process environment.
import { parseDuration } from '../lib/domain/duration.ts';
import type { ActAs, WebUiConfig } from './app.ts';
import type { OidcSettings } from './oidc.ts';

export interface ServerSettings {
  host: string;
  port: number;
  tls?: { cert: string; key: string } | undefined;
  logLevel: string;
  /** Path of a kubeconfig for the web UI's own connection; in-cluster config when unset. */
  kubeconfig?: string | undefined;
}

export interface Settings {
  app: WebUiConfig;
  oidc: OidcSettings;
  server: ServerSettings;
}

export type Env = Record<string, string | undefined>;

export const DEFAULT_DURATIONS = ['15m', '30m', '1h', '2h', '4h', '8h', '24h'];

function need(env: Env, name: string): string {
  const v = env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
}

/** `NAME` or, preferred for secrets, `NAME_FILE` (a mounted Secret). */
function secret(env: Env, name: string, readFile: (p: string) => string): string | undefined {
  const file = env[`${name}_FILE`];
  if (file) return readFile(file).trim();
  return env[name] || undefined;
}

function int(env: Env, name: string, dflt: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer`);
  return n;
}

/**
 * The origin of NETWATCH_WEBUI_PUBLIC_URL (`https://netwatch.example.com`), or an error that says what is wrong.
 * The web UI serves from `/` and builds its redirect URI as `new URL('/auth/callback', publicUrl)`, which drops
 * any path: a URL with a path, query or fragment would register one address with the IdP and serve another.
 */
function publicUrlFrom(env: Env): string {
  const name = 'NETWATCH_WEBUI_PUBLIC_URL';
  const raw = need(env, name);
  const insecure = env['NETWATCH_WEBUI_INSECURE_COOKIES'] === 'true';
  const wanted = `an absolute https URL with no path, such as https://netwatch.example.com${insecure ? ' (http is allowed too, as NETWATCH_WEBUI_INSECURE_COOKIES=true)' : ''}`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`${name} must be ${wanted}; ${JSON.stringify(raw)} is not a URL`);
  }
  if (url.protocol === 'http:' && !insecure) {
    throw new Error(
      `${name} must be ${wanted}; ${JSON.stringify(raw)} is http, which only works with NETWATCH_WEBUI_INSECURE_COOKIES=true (the session cookie is Secure otherwise)`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`${name} must be ${wanted}; ${JSON.stringify(raw)} is ${url.protocol.slice(0, -1)}`);
  if (url.username || url.password) throw new Error(`${name} must be ${wanted}, without a user name or password`);
  if (url.pathname !== '/') {
    throw new Error(`${name} must be ${wanted}; ${JSON.stringify(raw)} has the path ${url.pathname}, but the web UI is served from / and its redirect URI would be ${new URL('/auth/callback', url).href}`);
  }
  if (raw.includes('?')) throw new Error(`${name} must be ${wanted}; ${JSON.stringify(raw)} has a query`);
  if (raw.includes('#')) throw new Error(`${name} must be ${wanted}; ${JSON.stringify(raw)} has a fragment`);
  return url.origin;
}

/** The durations the forms offer: each one a spec.duration the webhook's parser reads (unlimited included). */
function durationsFrom(env: Env): string[] {
  const name = 'NETWATCH_WEBUI_DURATIONS';
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return [...DEFAULT_DURATIONS];
  const durations = raw.split(',').map((d) => d.trim()).filter(Boolean);
  const problems: string[] = [];
  for (const d of durations) {
    const ms = parseDuration(d);
    if (ms === null) problems.push(`${JSON.stringify(d)} is not a duration such as 30m, 2h or 1h30m (hours, minutes, seconds; no days) or unlimited`);
    else if (ms === 0) problems.push(`${JSON.stringify(d)} is not longer than 0s`);
  }
  if (durations.length === 0) problems.push('it lists no duration');
  if (problems.length > 0) throw new Error(`${name} must be a comma-separated list of durations: ${problems.join('; ')}`);
  return durations;
}

export function settingsFromEnv(env: Env, readFile: (p: string) => string): Settings {
  const publicUrl = publicUrlFrom(env);
  const sessionKeyText = secret(env, 'NETWATCH_WEBUI_SESSION_KEY', readFile);
  if (!sessionKeyText) throw new Error('NETWATCH_WEBUI_SESSION_KEY (or _FILE) is required: 32 random bytes, base64');
  const sessionKey = Buffer.from(sessionKeyText, 'base64');
  if (sessionKey.length !== 32) throw new Error('NETWATCH_WEBUI_SESSION_KEY must decode to exactly 32 bytes');
  const actAs = (env['NETWATCH_WEBUI_ACT_AS'] ?? 'token') as ActAs;
  if (actAs !== 'token' && actAs !== 'impersonate') throw new Error('NETWATCH_WEBUI_ACT_AS must be token or impersonate');
  const issuerUrl = need(env, 'OIDC_ISSUER_URL');
  const apiTokenValue = secret(env, 'NETWATCH_WEBUI_API_TOKEN', readFile);
  const caFile = env['OIDC_CA_FILE'];
  const tlsCert = env['TLS_CERT_FILE'];
  const tlsKey = env['TLS_KEY_FILE'];
  if (Boolean(tlsCert) !== Boolean(tlsKey)) throw new Error('TLS_CERT_FILE and TLS_KEY_FILE go together');
  return {
    app: {
      publicUrl,
      sessionKey,
      sessionTtlSeconds: int(env, 'NETWATCH_WEBUI_SESSION_TTL_SECONDS', 8 * 3600),
      secureCookies: env['NETWATCH_WEBUI_INSECURE_COOKIES'] !== 'true',
      actAs,
      claims: {
        issuerUrl,
        usernameClaim: env['OIDC_USERNAME_CLAIM'] ?? 'email',
        usernamePrefix: env['OIDC_USERNAME_PREFIX'],
        groupsClaim: env['OIDC_GROUPS_CLAIM'] ?? 'groups',
        groupsPrefix: env['OIDC_GROUPS_PREFIX'],
      },
      apiToken: apiTokenValue
        ? {
            token: apiTokenValue,
            identity: {
              username: env['NETWATCH_WEBUI_API_TOKEN_USER'] ?? 'netwatch:automation',
              groups: (env['NETWATCH_WEBUI_API_TOKEN_GROUPS'] ?? '').split(',').map((g) => g.trim()).filter(Boolean),
            },
          }
        : undefined,
      durations: durationsFrom(env),
      rateLimitPerMinute: int(env, 'NETWATCH_WEBUI_RATE_LIMIT_PER_MINUTE', 300),
      trustProxy: env['NETWATCH_WEBUI_TRUST_PROXY'] === 'true',
    },
    oidc: {
      issuerUrl,
      clientId: need(env, 'OIDC_CLIENT_ID'),
      clientSecret: secret(env, 'OIDC_CLIENT_SECRET', readFile),
      redirectUri: new URL('/auth/callback', publicUrl).href,
      scopes: (env['OIDC_SCOPES'] ?? 'openid email profile groups').split(/[\s,]+/).filter(Boolean),
      caPem: caFile ? readFile(caFile) : undefined,
    },
    server: {
      host: env['HOST'] ?? '0.0.0.0',
      port: int(env, 'PORT', 8443),
      tls: tlsCert && tlsKey ? { cert: readFile(tlsCert), key: readFile(tlsKey) } : undefined,
      logLevel: env['LOG_LEVEL'] ?? 'info',
      kubeconfig: env['KUBECONFIG'] || undefined,
    },
  };
}
