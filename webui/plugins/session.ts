// Sessions are encrypted cookies (@fastify/secure-session): no server keeps them, so any replica that has the key
// serves any user. Two cookies: the session itself, and the short-lived login transaction between /login and
// the IdP's redirect back.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifySecureSession, { type Session } from '@fastify/secure-session';
import type { LoginTransaction } from '../oidc.ts';
import { appWide } from './app-wide.ts';

export interface SessionUser {
  /** Random, one per sign-in: what a sign-out revokes (webui/revocations.ts). */
  sid: string;
  username: string;
  groups: string[];
  idToken?: string;
  /** Seconds since the epoch. */
  exp: number;
}

declare module '@fastify/secure-session' {
  interface SessionData {
    user: SessionUser;
    tx: LoginTransaction;
    _csrf: string;
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    loginTx: Session;
  }
}

/** Where the IdP sends the browser back; the login transaction cookie is sent to this path only. */
export const CALLBACK_PATH = '/auth/callback';
const LOGIN_TX_SECONDS = 600;

export interface SessionOptions {
  /** 32 bytes. */
  key: Buffer;
  ttlSeconds: number;
  secure: boolean;
}

const sessionPlugin: FastifyPluginAsync<SessionOptions> = async (app, opts) => {
  await app.register(fastifyCookie);
  await app.register(fastifySecureSession, [
    {
      sessionName: 'session',
      cookieName: 'netwatch_session',
      key: opts.key,
      expiry: opts.ttlSeconds,
      cookie: { path: '/', httpOnly: true, secure: opts.secure, sameSite: 'strict', maxAge: opts.ttlSeconds },
    },
    {
      // Lax, because the callback is a top-level navigation that comes from the IdP's site; state, nonce and the
      // PKCE verifier stay encrypted in it.
      sessionName: 'loginTx',
      cookieName: 'netwatch_login',
      key: opts.key,
      expiry: LOGIN_TX_SECONDS,
      cookie: { path: CALLBACK_PATH, httpOnly: true, secure: opts.secure, sameSite: 'lax', maxAge: LOGIN_TX_SECONDS },
    },
  ]);
};

export const session = appWide('netwatch-session', sessionPlugin);

/**
 * The signed-in user of this request's session cookie, or undefined: no session, or an expired one, or one from
 * before sessions had an id, which no sign-out could end (either is cleared).
 */
export function sessionUser(req: FastifyRequest, now: Date): SessionUser | undefined {
  const u = req.session.get('user');
  if (!u) return undefined;
  if (u.exp * 1000 <= now.getTime() || typeof u.sid !== 'string' || u.sid === '') {
    req.session.delete();
    return undefined;
  }
  return u;
}
