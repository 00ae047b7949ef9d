// The web UI as a Fastify app, in Fastify's own layout: app-wide plugins (security, session, auth) and
// encapsulated route modules, each route with a TypeBox schema. `build` opens no socket and reads no environment
// (main.ts does), so tests drive it with `app.inject`.
import Fastify, { type FastifyInstance } from 'fastify';
import fastifyFormbody from '@fastify/formbody';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { WebUiConfig } from './config.ts';
import type { KubeGateway } from './kube.ts';
import type { OidcPort } from './oidc.ts';
import type { SessionRevocations } from './revocations.ts';
import { auth } from './plugins/auth.ts';
import { security } from './plugins/security.ts';
import { session } from './plugins/session.ts';
import { pageContext, sendHtml, wantsHtml } from './respond.ts';
import { apiRoutes } from './routes/api.ts';
import { eventRoutes } from './routes/events.ts';
import { formRoutes } from './routes/forms.ts';
import { healthRoutes } from './routes/health.ts';
import { hubRoutes } from './routes/hub.ts';
import { requestRoutes } from './routes/requests.ts';
import { staticRoutes } from './routes/static.ts';
import * as views from './views.ts';

export interface WebUiDeps {
  oidc: OidcPort;
  kube: KubeGateway;
  /**
   * The list of ended sessions this replica follows (configMapRevocations in a cluster). build() starts it when
   * the app is ready and stops it on close.
   */
  revocations: SessionRevocations;
  /** Log level, or false for no logging. */
  logger?: { level: string } | false;
  now?: () => Date;
  /** Serve HTTPS with this certificate (main.ts; tests use inject and leave it unset). */
  https?: { cert: string; key: string } | undefined;
}

function checkConfig(config: WebUiConfig): void {
  if (config.sessionKey.length !== 32) throw new Error('sessionKey must be 32 bytes');
  if (config.apiToken && config.actAs !== 'impersonate') {
    throw new Error('the API token needs impersonation mode: it acts as its configured identity');
  }
  if (config.apiToken && config.apiToken.token.length < 32) throw new Error('the API token must be at least 32 characters');
}

export async function build(config: WebUiConfig, deps: WebUiDeps): Promise<FastifyInstance> {
  checkConfig(config);
  const now = deps.now ?? (() => new Date());
  const origin = new URL(config.publicUrl).origin;

  const app = Fastify({
    ...(deps.https ? { https: deps.https } : {}),
    logger: deps.logger
      ? {
          level: deps.logger.level,
          // Only method and path: the OIDC callback's query string holds the authorization code, and headers
          // hold cookies and bearer tokens.
          serializers: {
            req: (req: { method?: string; url?: string }) => ({ method: req.method, path: (req.url ?? '').split('?')[0] }),
            res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
          },
        }
      : false,
    trustProxy: config.trustProxy ?? false,
    bodyLimit: 64 * 1024,
  }).withTypeProvider<TypeBoxTypeProvider>();

  // A schema on every route, static files and sign-in included: a route added without one stops the start.
  app.addHook('onRoute', (route) => {
    if (!route.schema) throw new Error(`${String(route.method)} ${route.url} has no schema`);
  });

  // One error handler: the message of a 4xx (validation, CSRF, refusals), never the details of a 5xx.
  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) req.log.error({ err: { message: err.message, stack: err.stack } }, 'request failed');
    const message = status < 500 ? err.message : 'Internal Server Error';
    if (wantsHtml(req)) return sendHtml(reply, views.errorPage(status, message, pageContext(req, reply, false)), status);
    return reply.code(status).send({ statusCode: status, message });
  });
  app.setNotFoundHandler((req, reply) => {
    if (wantsHtml(req)) return sendHtml(reply, views.errorPage(404, 'This page does not exist.'), 404);
    return reply.code(404).send({ statusCode: 404, message: 'Not Found' });
  });

  await app.register(security, { origin, idpOrigin: deps.oidc.issuerOrigin(), secure: config.secureCookies, rateLimitPerMinute: config.rateLimitPerMinute });
  await app.register(session, { key: config.sessionKey, ttlSeconds: config.sessionTtlSeconds, secure: config.secureCookies });
  await app.register(fastifyFormbody);
  await app.register(auth, { config, oidc: deps.oidc, kube: deps.kube, revocations: deps.revocations, now });

  await app.register(healthRoutes, { revocations: deps.revocations });
  await app.register(staticRoutes);
  await app.register(hubRoutes);
  await app.register(requestRoutes, { clusterCidrs: config.clusterCidrs ?? [] });
  await app.register(formRoutes, { durations: config.durations });
  await app.register(eventRoutes, { kube: deps.kube, revocations: deps.revocations, now });
  await app.register(apiRoutes);
  return app;
}
