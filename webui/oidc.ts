// OIDC login with openid-client 6: authorization code flow with PKCE (S256), state and nonce. The IdP may use a
// private CA, so requests to it go through node:https with that CA instead of the global fetch.
import https from 'node:https';
import * as client from 'openid-client';

export interface LoginTransaction {
  state: string;
  nonce: string;
  codeVerifier: string;
}

export interface LoginResult {
  claims: Record<string, unknown>;
  idToken: string;
  /** Seconds since the epoch when the ID token expires. */
  expiresAt: number;
}

export interface OidcPort {
  /** The authorization URL to send the browser to, and the secrets to keep until the callback. */
  start(): Promise<{ url: URL; tx: LoginTransaction }>;
  /** Exchanges the code of a callback URL, checking state, nonce and PKCE. Throws on any mismatch. */
  finish(callbackUrl: URL, tx: LoginTransaction): Promise<LoginResult>;
  /** The IdP's end-session URL when it offers one. */
  endSessionUrl(idTokenHint: string | undefined, postLogoutRedirectUri: string): Promise<URL | null>;
  /** Origin of the IdP, for the CSP form-action (logout posts end in a redirect there). */
  issuerOrigin(): string;
}

export interface OidcSettings {
  issuerUrl: string;
  clientId: string;
  clientSecret?: string | undefined;
  redirectUri: string;
  scopes: string[];
  /** PEM of extra CAs to trust for the IdP. */
  caPem?: string | undefined;
}

function httpsFetch(caPem: string): client.CustomFetch {
  return (url, options) =>
    new Promise<Response>((resolve, reject) => {
      const u = new URL(url);
      const raw: unknown = options.body;
      const body = typeof raw === 'string' ? raw : raw instanceof URLSearchParams ? raw.toString() : undefined;
      const req = https.request(
        {
          method: options.method,
          hostname: u.hostname,
          port: u.port,
          path: u.pathname + u.search,
          headers: options.headers,
          ca: caPem,
          signal: options.signal ?? undefined,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const headers = new Headers();
            for (const [k, v] of Object.entries(res.headers)) {
              if (v === undefined) continue;
              for (const item of Array.isArray(v) ? v : [v]) headers.append(k, item);
            }
            const status = res.statusCode ?? 500;
            const noBody = status === 204 || status === 304;
            resolve(new Response(noBody ? null : Buffer.concat(chunks), { status, headers }));
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
}

export function openIdClient(s: OidcSettings): OidcPort {
  let config: Promise<client.Configuration> | undefined;
  const customFetch = s.caPem ? httpsFetch(s.caPem) : undefined;

  function discovered(): Promise<client.Configuration> {
    if (!config) {
      const opts: client.DiscoveryRequestOptions = {};
      if (customFetch) opts[client.customFetch] = customFetch;
      const auth = s.clientSecret ? client.ClientSecretPost(s.clientSecret) : client.None();
      config = client.discovery(new URL(s.issuerUrl), s.clientId, s.clientSecret ?? undefined, auth, opts).then((c) => {
        if (customFetch) c[client.customFetch] = customFetch;
        return c;
      });
      // A failed discovery (IdP not up yet) is retried on the next login instead of being cached forever.
      config.catch(() => {
        config = undefined;
      });
    }
    return config;
  }

  return {
    async start() {
      const c = await discovered();
      const tx: LoginTransaction = {
        state: client.randomState(),
        nonce: client.randomNonce(),
        codeVerifier: client.randomPKCECodeVerifier(),
      };
      const url = client.buildAuthorizationUrl(c, {
        redirect_uri: s.redirectUri,
        scope: s.scopes.join(' '),
        response_type: 'code',
        code_challenge: await client.calculatePKCECodeChallenge(tx.codeVerifier),
        code_challenge_method: 'S256',
        state: tx.state,
        nonce: tx.nonce,
      });
      return { url, tx };
    },
    async finish(callbackUrl, tx) {
      const c = await discovered();
      const tokens = await client.authorizationCodeGrant(c, callbackUrl, {
        pkceCodeVerifier: tx.codeVerifier,
        expectedState: tx.state,
        expectedNonce: tx.nonce,
        idTokenExpected: true,
      });
      const claims = tokens.claims();
      if (!claims || !tokens.id_token) throw new Error('the IdP returned no ID token');
      return { claims: { ...claims }, idToken: tokens.id_token, expiresAt: claims.exp };
    },
    async endSessionUrl(idTokenHint, postLogoutRedirectUri) {
      const c = await discovered();
      if (!c.serverMetadata().end_session_endpoint) return null;
      const params: Record<string, string> = { post_logout_redirect_uri: postLogoutRedirectUri, client_id: s.clientId };
      if (idTokenHint) params['id_token_hint'] = idTokenHint;
      return client.buildEndSessionUrl(c, params);
    },
    issuerOrigin() {
      return new URL(s.issuerUrl).origin;
    },
  };
}
