// Who a logged-in browser user is toward the API server, derived from ID token claims with the same rules as the
// API server's --oidc-username-claim/--oidc-username-prefix/--oidc-groups-claim/--oidc-groups-prefix flags, so
// that "the requester" the webhook stamps and the user the web UI shows are the same string.

export interface ClaimMapping {
  issuerUrl: string;
  usernameClaim: string;
  /** As the API server flag: undefined = the API server default, '-' = no prefix. */
  usernamePrefix?: string | undefined;
  groupsClaim?: string | undefined;
  groupsPrefix?: string | undefined;
}

export interface Identity {
  username: string;
  groups: string[];
}

export type IdentityResult = { ok: true; identity: Identity } | { ok: false; reason: string };

export function effectiveUsernamePrefix(m: ClaimMapping): string {
  if (m.usernamePrefix === '-') return '';
  if (m.usernamePrefix !== undefined) return m.usernamePrefix;
  // The API server's default: no prefix for email, the issuer URL and '#' for every other claim.
  return m.usernameClaim === 'email' ? '' : `${m.issuerUrl}#`;
}

export function identityFromClaims(claims: Record<string, unknown>, m: ClaimMapping): IdentityResult {
  const raw = claims[m.usernameClaim];
  if (typeof raw !== 'string' || raw === '') return { ok: false, reason: `the ID token has no "${m.usernameClaim}" claim` };
  // The API server rejects an email username unless email_verified is true; refusing here too avoids a session
  // whose every API call would fail, and never lets an unverified address act as anyone.
  if (m.usernameClaim === 'email' && claims['email_verified'] !== true) {
    return { ok: false, reason: 'the email address is not verified' };
  }
  const username = effectiveUsernamePrefix(m) + raw;
  const groups: string[] = [];
  if (m.groupsClaim) {
    const g = claims[m.groupsClaim];
    const list = typeof g === 'string' ? [g] : Array.isArray(g) ? g : [];
    for (const item of list) {
      if (typeof item === 'string' && item !== '') groups.push((m.groupsPrefix ?? '') + item);
    }
  }
  return { ok: true, identity: { username, groups } };
}

// What may be impersonated (never a `system:` user or group) is the transport's rule, enforced on every call.
export { impersonable } from '../lib/kube/transport.ts';
