import { test } from 'node:test';
import assert from 'node:assert/strict';
import { identityFromClaims, impersonable, type ClaimMapping } from './identity.ts';

const issuerUrl = 'https://idp.example';
const email: ClaimMapping = { issuerUrl, usernameClaim: 'email', groupsClaim: 'groups', groupsPrefix: 'oidc:' };

const cases: { name: string; claims: Record<string, unknown>; mapping: ClaimMapping; want: unknown }[] = [
  {
    name: 'a verified email becomes the username and groups get the prefix',
    claims: { email: 'a@x.test', email_verified: true, groups: ['dev', 'ops'] },
    mapping: email,
    want: { ok: true, identity: { username: 'a@x.test', groups: ['oidc:dev', 'oidc:ops'] } },
  },
  {
    name: 'an unverified email is refused',
    claims: { email: 'a@x.test', email_verified: false },
    mapping: email,
    want: { ok: false, reason: 'the email address is not verified' },
  },
  {
    name: 'an email without email_verified is refused',
    claims: { email: 'a@x.test' },
    mapping: email,
    want: { ok: false, reason: 'the email address is not verified' },
  },
  {
    name: 'a missing username claim is refused',
    claims: { sub: 'x' },
    mapping: email,
    want: { ok: false, reason: 'the ID token has no "email" claim' },
  },
  {
    name: 'a non-email claim gets the issuer prefix by default, as the API server does',
    claims: { sub: 'u1' },
    mapping: { issuerUrl, usernameClaim: 'sub' },
    want: { ok: true, identity: { username: 'https://idp.example#u1', groups: [] } },
  },
  {
    name: 'a dash prefix means no prefix',
    claims: { sub: 'u1' },
    mapping: { issuerUrl, usernameClaim: 'sub', usernamePrefix: '-' },
    want: { ok: true, identity: { username: 'u1', groups: [] } },
  },
  {
    name: 'a configured prefix is applied and a single-string groups claim is accepted',
    claims: { email: 'a@x.test', email_verified: true, groups: 'dev' },
    mapping: { ...email, usernamePrefix: 'oidc:' },
    want: { ok: true, identity: { username: 'oidc:a@x.test', groups: ['oidc:dev'] } },
  },
];

for (const c of cases) {
  test(c.name, () => assert.deepEqual(identityFromClaims(c.claims, c.mapping), c.want));
}

test('system: groups are never impersonated and a system: user not at all', () => {
  assert.deepEqual(impersonable({ username: 'a', groups: ['system:masters', 'dev'] }), { username: 'a', groups: ['dev'] });
  assert.equal(impersonable({ username: 'system:admin', groups: [] }), null);
});
