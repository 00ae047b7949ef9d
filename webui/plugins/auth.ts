// Who is asking: the OIDC sign-in (login, callback, logout) and, for every route not marked public, the viewer
// resolved from the session cookie or, on the JSON API only, the automation token. A route without a viewer never
// runs; each viewer reaches the API server as itself (`req.userKube()`). A signed-out session is refused by every
// replica (webui/revocations.ts), and while a replica cannot tell which sessions were signed out it refuses all.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { WebUiConfig } from '../config.ts';
import { identityFromClaims, impersonable, type Identity } from '../identity.ts';
import type { Actor, KubeGateway, UserKube } from '../kube.ts';
import type { OidcPort } from '../oidc.ts';
import { newSessionId, type SessionRevocations } from '../revocations.ts';
import { httpError, sendHtml, wantsHtml } from '../respond.ts';
import { CallbackQuery, CsrfOnlyBody, NoQuery } from '../schemas.ts';
import * as views from '../views.ts';
import { appWide } from './app-wide.ts';
import { CALLBACK_PATH, sessionUser, type SessionUser } from './session.ts';

export interface Viewer {
  identity: Identity;
  actor: Actor;
  /** Absent for the automation token. */
  session?: SessionUser;
}

declare module 'fastify' {
  interface FastifyRequest {
    viewer: Viewer | null;
    /** The API server as this request's viewer; only on routes that are not public. */
    userKube(): UserKube;
  }
  interface FastifyContextConfig {
    /** Served without a viewer. */
    public?: boolean;
    /** Part of the JSON API: the automation token is accepted too. */
    api?: boolean;
  }
}

export interface AuthOptions {
  config: WebUiConfig;
  oidc: OidcPort;
  kube: KubeGateway;
  revocations: SessionRevocations;
  now: () => Date;
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Compares digests, so neither the content nor the length of the configured token leaks through timing. */
export function tokenMatches(given: string, expected: string): boolean {
  return timingSafeEqual(sha256(given), sha256(expected));
}

/** The viewer of a route that is not public (the auth hook ran, so there is one). */
export function viewerOf(req: FastifyRequest): Viewer {
  if (!req.viewer) throw httpError(401, 'sign in first');
  return req.viewer;
}

const SIGN_IN_LIMIT = { max: 30, timeWindow: '1 minute' };

/** How long a browser waits before trying again while sessions cannot be checked. */
const RETRY_AFTER_SECONDS = 5;

const authPlugin: FastifyPluginAsyncTypebox<AuthOptions> = async (app, { config, oidc, kube, revocations, now }) => {
  const publicUrl = new URL(config.publicUrl);
  app.addHook('onReady', async () => revocations.start(app.log));
  app.addHook('onClose', async () => revocations.stop());
  const csrf = app.csrfProtection.bind(app);

  app.decorateRequest('viewer', null);
  app.decorateRequest('userKube', function userKube(this: FastifyRequest): UserKube {
    return kube.forActor(viewerOf(this).actor);
  });

  function actorFor(user: SessionUser): Actor {
    if (config.actAs === 'token') return { kind: 'token', token: user.idToken ?? '' };
    return { kind: 'impersonate', identity: { username: user.username, groups: user.groups } };
  }

  function signInFirst(req: FastifyRequest, reply: FastifyReply) {
    if (wantsHtml(req) && req.method === 'GET') return sendHtml(reply, views.signInPage(), 401);
    return reply.code(401).send({ statusCode: 401, message: 'sign in first' });
  }

  function sessionsUnavailable(req: FastifyRequest, reply: FastifyReply) {
    const message = 'netwatch cannot check sign-outs right now, so it accepts no session. Please try again in a moment.';
    reply.header('Retry-After', String(RETRY_AFTER_SECONDS));
    if (wantsHtml(req)) return sendHtml(reply, views.errorPage(503, message), 503);
    return reply.code(503).send({ statusCode: 503, message });
  }

  app.addHook('preHandler', async (req, reply) => {
    const cfg = req.routeOptions.config;
    if (cfg.public) return;
    const auth = req.headers.authorization;
    if (cfg.api && config.apiToken && auth?.startsWith('Bearer ')) {
      if (!tokenMatches(auth.slice('Bearer '.length), config.apiToken.token)) return reply.code(401).send({ statusCode: 401, message: 'invalid token' });
      req.viewer = { identity: config.apiToken.identity, actor: { kind: 'impersonate', identity: config.apiToken.identity } };
      return;
    }
    const user = sessionUser(req, now());
    if (!user) return signInFirst(req, reply);
    if (revocations.isRevoked(user.sid)) {
      req.session.delete();
      return signInFirst(req, reply);
    }
    // Not signed out as far as this replica knows, but its list may be stale: fail closed, keep the cookie.
    if (revocations.state !== 'current') return sessionsUnavailable(req, reply);
    req.viewer = { identity: { username: user.username, groups: user.groups }, actor: actorFor(user), session: user };
  });

  app.get('/login', { config: { public: true, rateLimit: SIGN_IN_LIMIT }, schema: { querystring: NoQuery } }, async (req, reply) => {
    const { url, tx } = await oidc.start();
    req.loginTx.set('tx', tx);
    return reply.redirect(url.href, 303);
  });

  app.get(CALLBACK_PATH, { config: { public: true, rateLimit: SIGN_IN_LIMIT }, schema: { querystring: CallbackQuery } }, async (req, reply) => {
    const q = req.query;
    const tx = req.loginTx.get('tx');
    req.loginTx.delete();
    if (q.error) return sendHtml(reply, views.signInPage(`The identity provider refused the sign-in: ${q.error_description ?? q.error}`), 401);
    if (!tx) return sendHtml(reply, views.signInPage('The sign-in took too long or was started elsewhere. Please sign in again.'), 400);
    const callbackUrl = new URL(CALLBACK_PATH, publicUrl);
    callbackUrl.search = req.url.slice(req.url.indexOf('?'));
    let result;
    try {
      result = await oidc.finish(callbackUrl, tx);
    } catch (err) {
      // The reason is logged without the URL (it holds the code); the user gets a generic message.
      req.log.warn({ reason: (err as Error).message }, 'OIDC callback rejected');
      return sendHtml(reply, views.signInPage('The sign-in could not be verified. Please sign in again.'), 401);
    }
    const id = identityFromClaims(result.claims, config.claims);
    if (!id.ok) return sendHtml(reply, views.signInPage(`You cannot sign in: ${id.reason}.`), 403);
    if (config.actAs === 'impersonate') {
      const who = impersonable(id.identity);
      if (!who) return sendHtml(reply, views.signInPage('This account cannot use netwatch.'), 403);
      id.identity = who;
    }
    const ttlExp = Math.floor(now().getTime() / 1000) + config.sessionTtlSeconds;
    // With the ID token as the API credential the session cannot outlive it.
    const exp = config.actAs === 'token' ? Math.min(ttlExp, result.expiresAt) : ttlExp;
    req.session.regenerate([]);
    const user: SessionUser = { sid: newSessionId(), username: id.identity.username, groups: id.identity.groups, idToken: result.idToken, exp };
    req.session.set('user', user);
    req.log.info({ user: user.username }, 'signed in');
    return sendHtml(reply, views.continuePage('/'));
  });

  app.post('/logout', { config: { public: true }, preHandler: csrf, schema: { body: CsrfOnlyBody } }, async (req, reply) => {
    const user = sessionUser(req, now());
    req.session.delete();
    let everywhere = true;
    if (user) {
      const expiresAt = new Date(user.exp * 1000);
      try {
        await revocations.revoke(user.sid, expiresAt);
      } catch (err) {
        everywhere = false;
        req.log.error(
          { user: user.username, until: expiresAt.toISOString(), reason: (err as Error).message },
          'sign-out not recorded for the other replicas: they accept a copy of this session cookie until it expires',
        );
      }
    }
    const back = new URL('/', publicUrl).href;
    const end = await oidc.endSessionUrl(user?.idToken, back).catch(() => null);
    if (!everywhere && user) return sendHtml(reply, views.signedOutHereOnlyPage(new Date(user.exp * 1000).toISOString(), end?.href), 503);
    return reply.redirect(end?.href ?? '/', 303);
  });
};

export const auth = appWide('netwatch-auth', authPlugin);
