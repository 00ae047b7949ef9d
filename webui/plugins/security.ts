// What every response and every state change goes through: security headers with a strict CSP, a rate limit per
// client address, the Origin check and the CSRF token check that routes opt into.
import type { FastifyPluginAsync } from 'fastify';
import fastifyHelmet from '@fastify/helmet';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyRateLimit from '@fastify/rate-limit';
import { httpError } from '../respond.ts';
import { appWide } from './app-wide.ts';

export interface SecurityOptions {
  /** The only origin allowed to send state changes (the public URL's). */
  origin: string;
  /** The IdP's origin: sign-out posts here end in a redirect to its end-session endpoint. */
  idpOrigin: string;
  /** HTTPS only (HSTS, upgrade-insecure-requests); false only for plain-HTTP development. */
  secure: boolean;
  rateLimitPerMinute: number;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const securityPlugin: FastifyPluginAsync<SecurityOptions> = async (app, opts) => {
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        connectSrc: ["'self'"],
        formAction: ["'self'", opts.idpOrigin],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        ...(opts.secure ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    // Not no-referrer: with it Chromium sends `Origin: null` on form posts, which the Origin check must refuse.
    // same-origin still never tells another site a URL of ours (the callback URL holds the code).
    referrerPolicy: { policy: 'same-origin' },
    hsts: opts.secure ? { maxAge: 31536000 } : false,
  });
  await app.register(fastifyRateLimit, { max: opts.rateLimitPerMinute, timeWindow: '1 minute' });
  // The secret lives in the session cookie (registered by the session plugin); routes opt in with
  // `preHandler: app.csrfProtection`.
  await app.register(fastifyCsrf, { sessionPlugin: '@fastify/secure-session', sessionKey: '_csrf' });

  // Cross-site requests: every state change must come from a page of this origin, before anything else looks at
  // it (the CSRF token is checked after this, per route; the session cookie is also SameSite=Strict).
  app.addHook('preHandler', async (req) => {
    if (SAFE_METHODS.has(req.method)) return;
    const o = req.headers.origin;
    const sameOrigin = o !== undefined ? o === opts.origin : req.headers['sec-fetch-site'] === 'same-origin';
    if (!sameOrigin) throw httpError(403, 'cross-site request refused');
  });
};

export const security = appWide('netwatch-security', securityPlugin);
