// What the web UI app is built from: options.ts makes it from flags and variables, app.ts builds on it, and the
// plugins read it; a file of its own so that none of them imports another for its type.
import type { ClaimMapping, Identity } from './identity.ts';

export type ActAs = 'token' | 'impersonate';

export interface WebUiConfig {
  /** The URL browsers use, e.g. https://netwatch.example.com; its origin is the only one allowed to POST. */
  publicUrl: string;
  /** 32 bytes; encrypts the session cookies. */
  sessionKey: Buffer;
  sessionTtlSeconds: number;
  /** Secure cookies and HSTS; only ever false for plain-HTTP development. */
  secureCookies: boolean;
  /**
   * token: the user's ID token is the bearer token toward the API server (the cluster trusts the same IdP).
   * impersonate: the web UI's own credentials plus Impersonate-User/Group (never `system:` groups).
   */
  actAs: ActAs;
  claims: ClaimMapping;
  /** Optional token for automation (read-only JSON API), acting as `identity` by impersonation. */
  apiToken?: { token: string; identity: Identity } | undefined;
  /** Durations offered by the forms (the cluster's maximum is enforced by the webhook). */
  durations: string[];
  /** The cluster's own pod and Service ranges: the preview classes a requested CIDR inside one as `cluster`. */
  clusterCidrs?: readonly string[] | undefined;
  rateLimitPerMinute: number;
  trustProxy?: boolean;
}
