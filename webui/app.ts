// The web UI as a Fastify app. `build` wires plugins, hooks and routes; it opens no socket and reads no
// environment (main.ts does), so tests drive it with `app.inject`.
import { createHash, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type preHandlerHookHandler } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import fastifyHelmet from '@fastify/helmet';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySecureSession from '@fastify/secure-session';
import type { AccessRequest, DecisionType, PartName } from '../lib/api/accessrequest.ts';
import { describePermission, mayApprove, partsOf, permissionFor } from '../lib/domain/parts.ts';
import { identityFromClaims, impersonable, type ClaimMapping, type Identity } from './identity.ts';
import { KubeError, type Actor, type KubeGateway, type UserKube } from './kube.ts';
import { LiveHub } from './live.ts';
import { checksFor, mayApproveByKey, viewOf, type RequestView } from './model.ts';
import type { LoginTransaction, OidcPort } from './oidc.ts';
import { parseExternalForm, parseServiceForm, type FieldErrors, type FormValues } from './forms.ts';
import * as views from './views.ts';

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
  rateLimitPerMinute: number;
  trustProxy?: boolean;
}

export interface WebUiDeps {
  oidc: OidcPort;
  kube: KubeGateway;
  /** Log level, or false for no logging. */
  logger?: { level: string } | false;
  now?: () => Date;
  /** Serve HTTPS with this certificate (main.ts; tests use inject and leave it unset). */
  https?: { cert: string; key: string } | undefined;
}

interface SessionUser {
  username: string;
  groups: string[];
  idToken?: string;
  /** Seconds since the epoch. */
  exp: number;
}

interface Viewer {
  identity: Identity;
  actor: Actor;
  user?: SessionUser;
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
    viewer?: Viewer;
    loginTx: import('@fastify/secure-session').Session;
  }
  interface FastifyContextConfig {
    public?: boolean;
    api?: boolean;
  }
}

// Beside this file: webui/static/ from source, dist/static/ for the bundle (scripts/build-dist.ts copies it; the
// image ships only dist/). `../webui/static/` serves a bundle in a checkout's dist/ built without that copy.
const STATIC_DIR = [new URL('./static/', import.meta.url), new URL('../webui/static/', import.meta.url)].find((u) =>
  existsSync(new URL('app.css', u)),
);
const NAME_PATTERN = '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$';
const nameParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', maxLength: 253, pattern: NAME_PATTERN } },
} as const;
const csrfField = { _csrf: { type: 'string', maxLength: 200 } } as const;
const str = (max: number) => ({ type: 'string', maxLength: max }) as const;

function httpError(statusCode: number, message: string): Error {
  return Object.assign(new Error(message), { statusCode });
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Compares digests, so neither the content nor the length of the configured token leaks through timing. */
export function tokenMatches(given: string, expected: string): boolean {
  return timingSafeEqual(sha256(given), sha256(expected));
}

function wantsHtml(req: FastifyRequest): boolean {
  if (req.url.startsWith('/api/') || req.url.startsWith('/events')) return false;
  const accept = req.headers.accept ?? '';
  return accept === '' || accept.includes('text/html') || accept.includes('*/*');
}

function byNewest(a: AccessRequest, b: AccessRequest): number {
  return (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '');
}

export async function build(config: WebUiConfig, deps: WebUiDeps): Promise<FastifyInstance> {
  if (config.sessionKey.length !== 32) throw new Error('sessionKey must be 32 bytes');
  if (config.apiToken && config.actAs !== 'impersonate') {
    throw new Error('the API token needs impersonation mode: it acts as its configured identity');
  }
  if (config.apiToken && config.apiToken.token.length < 32) throw new Error('the API token must be at least 32 characters');
  const now = deps.now ?? (() => new Date());
  const publicUrl = new URL(config.publicUrl);
  const origin = publicUrl.origin;
  const redirectPath = '/auth/callback';

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
  });

  if (!STATIC_DIR) throw new Error('webui/static (app.css, live.js) not found');
  const css = readFileSync(new URL('app.css', STATIC_DIR));
  const js = readFileSync(new URL('live.js', STATIC_DIR));
  const live = new LiveHub(deps.kube, app.log);
  // Before the server stops accepting: open event streams end now, or close() would wait for every browser tab.
  app.addHook('preClose', async () => live.close());

  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        connectSrc: ["'self'"],
        // Sign-out posts to this app, which redirects to the IdP's end-session endpoint.
        formAction: ["'self'", deps.oidc.issuerOrigin()],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        ...(config.secureCookies ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    // Not no-referrer: with it Chromium sends `Origin: null` on form posts, which the Origin check must refuse.
    // same-origin still never tells another site a URL of ours (the callback URL holds the code).
    referrerPolicy: { policy: 'same-origin' },
    hsts: config.secureCookies ? { maxAge: 31536000 } : false,
  });
  await app.register(fastifyRateLimit, { max: config.rateLimitPerMinute, timeWindow: '1 minute' });
  await app.register(fastifyCookie);
  await app.register(fastifyFormbody);
  await app.register(fastifySecureSession, [
    {
      sessionName: 'session',
      cookieName: 'netwatch_session',
      key: config.sessionKey,
      expiry: config.sessionTtlSeconds,
      cookie: { path: '/', httpOnly: true, secure: config.secureCookies, sameSite: 'strict', maxAge: config.sessionTtlSeconds },
    },
    {
      // Only lives between /login and the callback. Lax, because the callback is a top-level navigation that
      // comes from the IdP's site; state, nonce and the PKCE verifier stay encrypted in it.
      sessionName: 'loginTx',
      cookieName: 'netwatch_login',
      key: config.sessionKey,
      expiry: 600,
      cookie: { path: redirectPath, httpOnly: true, secure: config.secureCookies, sameSite: 'lax', maxAge: 600 },
    },
  ]);
  await app.register(fastifyCsrf, { sessionPlugin: '@fastify/secure-session', sessionKey: '_csrf' });

  const csrf: preHandlerHookHandler = (req, reply, done) => app.csrfProtection(req, reply, done);

  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) req.log.error({ err: { message: err.message, stack: err.stack } }, 'request failed');
    const message = status < 500 ? err.message : 'Internal Server Error';
    if (wantsHtml(req)) {
      return reply.code(status).type('text/html; charset=utf-8').send(views.errorPage(status, message, pageCtx(req, reply, false)));
    }
    return reply.code(status).send({ statusCode: status, message });
  });
  app.setNotFoundHandler((req, reply) => {
    if (wantsHtml(req)) return reply.code(404).type('text/html; charset=utf-8').send(views.errorPage(404, 'This page does not exist.'));
    return reply.code(404).send({ statusCode: 404, message: 'Not Found' });
  });

  function sessionUser(req: FastifyRequest): SessionUser | undefined {
    const u = req.session.get('user');
    if (!u) return undefined;
    if (u.exp * 1000 <= now().getTime()) {
      req.session.delete();
      return undefined;
    }
    return u;
  }

  function actorFor(user: SessionUser): Actor {
    if (config.actAs === 'token') return { kind: 'token', token: user.idToken ?? '' };
    return { kind: 'impersonate', identity: { username: user.username, groups: user.groups } };
  }

  function pageCtx(req: FastifyRequest, reply: FastifyReply, withCsrf = true): views.PageContext {
    const ctx: views.PageContext = {};
    if (req.viewer?.user) {
      ctx.user = req.viewer.identity;
      if (withCsrf) ctx.csrfToken = reply.generateCsrf();
    }
    return ctx;
  }

  // Authentication: every route not marked public needs a session, or (JSON API only) the static API token.
  app.addHook('preHandler', async (req, reply) => {
    const cfg = req.routeOptions.config;
    if (cfg.public) return;
    const auth = req.headers.authorization;
    if (cfg.api && config.apiToken && auth?.startsWith('Bearer ')) {
      if (tokenMatches(auth.slice('Bearer '.length), config.apiToken.token)) {
        req.viewer = { identity: config.apiToken.identity, actor: { kind: 'impersonate', identity: config.apiToken.identity } };
        return;
      }
      return reply.code(401).send({ statusCode: 401, message: 'invalid token' });
    }
    const user = sessionUser(req);
    if (user) {
      req.viewer = { identity: { username: user.username, groups: user.groups }, actor: actorFor(user), user };
      return;
    }
    if (wantsHtml(req) && req.method === 'GET') return reply.code(401).type('text/html; charset=utf-8').send(views.signInPage());
    return reply.code(401).send({ statusCode: 401, message: 'sign in first' });
  });

  // Cross-site requests: every state change must come from a page of this origin (the CSRF token is checked
  // after this, per route; the session cookie is also SameSite=Strict).
  app.addHook('preHandler', async (req) => {
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return;
    const o = req.headers.origin;
    const sameOrigin = o !== undefined ? o === origin : req.headers['sec-fetch-site'] === 'same-origin';
    if (!sameOrigin) throw httpError(403, 'cross-site request refused');
  });

  const kubeOf = (req: FastifyRequest): UserKube => deps.kube.forActor((req.viewer as Viewer).actor);

  async function views_(kube: UserKube, viewer: Identity, reqs: AccessRequest[]): Promise<RequestView[]> {
    const open = reqs.filter((r) => !r.status?.phase || ['Pending', 'PartiallyApproved', 'Active'].includes(r.status.phase));
    const checks = checksFor(open.flatMap((r) => partsOf(r.spec)));
    const answers = await Promise.all(checks.map((c) => kube.canI(c.checks)));
    const may = mayApproveByKey(checks, answers);
    return reqs.map((r) => viewOf(r, viewer, may));
  }

  function html(reply: FastifyReply, body: string, status = 200) {
    return reply.code(status).type('text/html; charset=utf-8').header('Cache-Control', 'no-store').send(body);
  }

  function apiMessage(err: unknown): { status: number; message: string } | null {
    if (err instanceof KubeError && err.status >= 400 && err.status < 500) return { status: err.status, message: err.message };
    return null;
  }

  // --- public routes -------------------------------------------------------------------------------------
  app.get('/healthz', { config: { public: true }, schema: { response: { 200: { type: 'string' } } } }, async () => 'ok');
  app.get('/static/app.css', { config: { public: true } }, async (_req, reply) =>
    reply.type('text/css; charset=utf-8').header('Cache-Control', 'public, max-age=300').send(css),
  );
  app.get('/static/live.js', { config: { public: true } }, async (_req, reply) =>
    reply.type('text/javascript; charset=utf-8').header('Cache-Control', 'public, max-age=300').send(js),
  );

  app.get(
    '/login',
    { config: { public: true, rateLimit: { max: 30, timeWindow: '1 minute' } } },
    async (req, reply) => {
      const { url, tx } = await deps.oidc.start();
      req.loginTx.set('tx', tx);
      return reply.redirect(url.href, 303);
    },
  );

  app.get(
    redirectPath,
    {
      config: { public: true, rateLimit: { max: 30, timeWindow: '1 minute' } },
      schema: {
        querystring: {
          type: 'object',
          properties: {
            code: str(4096),
            state: str(1024),
            iss: str(2048),
            error: str(256),
            error_description: str(1024),
            session_state: str(1024),
          },
        },
      },
    },
    async (req, reply) => {
      const q = req.query as Record<string, string | undefined>;
      const tx = req.loginTx.get('tx');
      req.loginTx.delete();
      if (q.error) return html(reply, views.signInPage(`The identity provider refused the sign-in: ${q.error_description ?? q.error}`), 401);
      if (!tx) return html(reply, views.signInPage('The sign-in took too long or was started elsewhere. Please sign in again.'), 400);
      const callbackUrl = new URL(redirectPath, publicUrl);
      callbackUrl.search = req.url.slice(req.url.indexOf('?'));
      let result;
      try {
        result = await deps.oidc.finish(callbackUrl, tx);
      } catch (err) {
        // The reason is logged without the URL (it holds the code); the user gets a generic message.
        req.log.warn({ reason: (err as Error).message }, 'OIDC callback rejected');
        return html(reply, views.signInPage('The sign-in could not be verified. Please sign in again.'), 401);
      }
      const id = identityFromClaims(result.claims, config.claims);
      if (!id.ok) return html(reply, views.signInPage(`You cannot sign in: ${id.reason}.`), 403);
      if (config.actAs === 'impersonate') {
        const who = impersonable(id.identity);
        if (!who) return html(reply, views.signInPage('This account cannot use netwatch.'), 403);
        id.identity = who;
      }
      const ttlExp = Math.floor(now().getTime() / 1000) + config.sessionTtlSeconds;
      // With the ID token as the API credential the session cannot outlive it.
      const exp = config.actAs === 'token' ? Math.min(ttlExp, result.expiresAt) : ttlExp;
      req.session.regenerate([]);
      const user: SessionUser = { username: id.identity.username, groups: id.identity.groups, idToken: result.idToken, exp };
      req.session.set('user', user);
      req.log.info({ user: user.username }, 'signed in');
      return html(reply, views.continuePage('/'));
    },
  );

  app.post(
    '/logout',
    {
      config: { public: true },
      preHandler: csrf,
      schema: { body: { type: 'object', properties: csrfField } },
    },
    async (req, reply) => {
      const user = sessionUser(req);
      req.session.delete();
      const back = new URL('/', publicUrl).href;
      const end = await deps.oidc.endSessionUrl(user?.idToken, back).catch(() => null);
      return reply.redirect(end?.href ?? '/', 303);
    },
  );

  // --- pages ---------------------------------------------------------------------------------------------
  app.get(
    '/',
    { schema: { querystring: { type: 'object', properties: { notice: { type: 'string', enum: ['decided'] } } } } },
    async (req, reply) => {
      const viewer = req.viewer as Viewer;
      const kube = kubeOf(req);
      let list: AccessRequest[];
      try {
        list = (await kube.listRequests()).items.sort(byNewest);
      } catch (err) {
        const m = apiMessage(err);
        if (!m) throw err;
        return html(reply, views.errorPage(m.status, `You may not list access requests: ${m.message}`, pageCtx(req, reply)), m.status);
      }
      const vs = await views_(kube, viewer.identity, list);
      const rows = list.map((r, i) => ({ req: r, view: vs[i] as RequestView }));
      return html(reply, views.hubPage(pageCtx(req, reply), rows));
    },
  );

  async function formData(req: FastifyRequest, values: FormValues, errors: FieldErrors = {}, error?: string): Promise<views.FormData> {
    const services = await kubeOf(req).listServices().catch(() => null);
    return { values, errors, durations: config.durations, services, error };
  }

  const defaults: FormValues = { duration: config.durations.includes('2h') ? '2h' : config.durations[0], direction: 'ingress' };
  app.get('/new/service', { schema: { querystring: { type: 'object', additionalProperties: false, properties: {} } } }, async (req, reply) =>
    html(reply, views.serviceFormPage(pageCtx(req, reply), await formData(req, defaults))),
  );
  app.get('/new/external', { schema: { querystring: { type: 'object', additionalProperties: false, properties: {} } } }, async (req, reply) =>
    html(reply, views.externalFormPage(pageCtx(req, reply), await formData(req, defaults))),
  );

  const requestFormBody = {
    type: 'object',
    required: ['type'],
    additionalProperties: false,
    properties: {
      ...csrfField,
      type: { type: 'string', enum: ['Service', 'External'] },
      sourceNamespace: str(253),
      sourceService: str(253),
      targetNamespace: str(253),
      targetService: str(253),
      namespace: str(253),
      service: str(253),
      cidrs: str(4096),
      direction: str(16),
      ports: str(1024),
      duration: str(32),
      reason: str(2048),
    },
  } as const;

  app.post('/requests/preview', { preHandler: csrf, schema: { body: requestFormBody } }, async (req, reply) => {
    const body = req.body as FormValues & { type: 'Service' | 'External' };
    const page = body.type === 'Service' ? views.serviceFormPage : views.externalFormPage;
    const parsed = body.type === 'Service' ? parseServiceForm(body, config.durations) : parseExternalForm(body, config.durations);
    if (!parsed.ok) return html(reply, page(pageCtx(req, reply), await formData(req, body, parsed.errors)), 422);
    const parts = partsOf(parsed.spec);
    const kube = kubeOf(req);
    const preview = await Promise.all(
      parts.map(async (p) => {
        const perm = permissionFor(p);
        const [approve, ...create] = await kube.canI([perm.approve, ...perm.create]);
        return { part: p.name, namespace: p.namespace, permission: describePermission(perm), satisfied: mayApprove({ approve: approve === true, create }) };
      }),
    );
    return html(reply, page(pageCtx(req, reply), { ...(await formData(req, body)), preview }));
  });

  app.post(
    '/requests',
    { preHandler: csrf, schema: { body: requestFormBody } },
    async (req, reply) => {
      const body = req.body as FormValues & { type: 'Service' | 'External' };
      const page = body.type === 'Service' ? views.serviceFormPage : views.externalFormPage;
      const parsed = body.type === 'Service' ? parseServiceForm(body, config.durations) : parseExternalForm(body, config.durations);
      if (!parsed.ok) return html(reply, page(pageCtx(req, reply), await formData(req, body, parsed.errors)), 422);
      try {
        const created = await kubeOf(req).createRequest(parsed.spec);
        return reply.redirect(`/requests/${encodeURIComponent(created.metadata.name ?? '')}?notice=created`, 303);
      } catch (err) {
        const m = apiMessage(err);
        if (!m) throw err;
        return html(reply, page(pageCtx(req, reply), await formData(req, body, {}, `The request was refused: ${m.message}`)), m.status === 409 ? 409 : 422);
      }
    },
  );

  const NOTICES: Record<string, string> = { created: 'Request submitted.', approved: 'Approval recorded.', decided: 'Decision recorded.' };

  async function renderDetail(req: FastifyRequest, reply: FastifyReply, name: string, extra: { error?: string; notice?: string; status?: number } = {}) {
    const viewer = req.viewer as Viewer;
    const kube = kubeOf(req);
    let r: AccessRequest;
    try {
      r = await kube.getRequest(name);
    } catch (err) {
      const m = apiMessage(err);
      if (!m) throw err;
      // Not found and forbidden look the same: a user learns nothing about requests they may not read.
      return html(reply, views.errorPage(404, 'No such request, or you may not see it.', pageCtx(req, reply)), 404);
    }
    const [view] = await views_(kube, viewer.identity, [r]);
    const maxtacNames = new Set((r.status?.objects ?? []).filter((o) => o.kind === 'Access' || o.kind === 'ExternalAccess').map((o) => o.name));
    const namespaces = [...new Set(partsOf(r.spec).map((p) => p.namespace))];
    // Only maxtac's policies for this request's own objects (owner = one of its Access/ExternalAccess).
    const policies = await Promise.all(
      (maxtacNames.size === 0 ? [] : namespaces).map(async (ns) => {
        const items = await kube.listNetworkPolicies(ns).catch(() => null);
        return { namespace: ns, items: items === null ? null : items.filter((p) => p.ownerName !== undefined && maxtacNames.has(p.ownerName)) };
      }),
    );
    const body = views.detailPage(pageCtx(req, reply), { req: r, view: view as RequestView, policies, error: extra.error, notice: extra.notice });
    return html(reply, body, extra.status ?? 200);
  }

  app.get(
    '/requests/:name',
    { schema: { params: nameParams, querystring: { type: 'object', properties: { notice: { type: 'string', enum: Object.keys(NOTICES) } } } } },
    async (req, reply) => {
      const { name } = req.params as { name: string };
      const { notice } = req.query as { notice?: string };
      return renderDetail(req, reply, name, notice ? { notice: NOTICES[notice] ?? '' } : {});
    },
  );

  /** Reads the request, lets `change` build a status patch, writes it; retries once on a conflicting write. */
  async function writeStatus(req: FastifyRequest, name: string, change: (r: AccessRequest) => Record<string, unknown> | string): Promise<string | null> {
    const kube = kubeOf(req);
    for (let attempt = 0; ; attempt++) {
      const r = await kube.getRequest(name);
      const patch = change(r);
      if (typeof patch === 'string') return patch;
      try {
        await kube.patchStatus(name, r.metadata.resourceVersion ?? '', patch);
        return null;
      } catch (err) {
        if (err instanceof KubeError && err.status === 409 && attempt === 0) continue;
        throw err;
      }
    }
  }

  async function act(req: FastifyRequest, reply: FastifyReply, name: string, notice: string, change: (r: AccessRequest) => Record<string, unknown> | string) {
    try {
      const refused = await writeStatus(req, name, change);
      if (refused) return renderDetail(req, reply, name, { error: refused, status: 409 });
      return reply.redirect(`/requests/${encodeURIComponent(name)}?notice=${notice}`, 303);
    } catch (err) {
      const m = apiMessage(err);
      if (!m) throw err;
      return renderDetail(req, reply, name, { error: `Refused: ${m.message}`, status: m.status === 404 ? 404 : m.status });
    }
  }

  app.post(
    '/requests/:name/approve',
    {
      preHandler: csrf,
      schema: {
        params: nameParams,
        body: { type: 'object', required: ['part'], additionalProperties: false, properties: { ...csrfField, part: { type: 'string', enum: ['source', 'target'] } } },
      },
    },
    async (req, reply) => {
      const { name } = req.params as { name: string };
      const { part } = req.body as { part: PartName };
      return act(req, reply, name, 'approved', (r) => {
        const p = partsOf(r.spec).find((x) => x.name === part);
        if (!p) return `This request has no ${part} part.`;
        const approvals = r.status?.approvals ?? [];
        if (approvals.some((a) => a.part === part)) return `The ${part} part is already approved.`;
        return { approvals: [...approvals, { part, namespace: p.namespace }] };
      });
    },
  );

  app.post(
    '/requests/:name/decision',
    {
      preHandler: csrf,
      schema: {
        params: nameParams,
        body: {
          type: 'object',
          required: ['type'],
          additionalProperties: false,
          properties: { ...csrfField, type: { type: 'string', enum: ['Denied', 'Aborted', 'Revoked'] }, reason: str(512) },
        },
      },
    },
    async (req, reply) => {
      const { name } = req.params as { name: string };
      const { type, reason } = req.body as { type: DecisionType; reason?: string };
      return act(req, reply, name, 'decided', (r) => {
        if (r.status?.decision) return `This request was already ${r.status.decision.type.toLowerCase()}.`;
        const decision: Record<string, string> = { type };
        if (reason?.trim()) decision['reason'] = reason.trim();
        return { decision };
      });
    },
  );

  // --- live updates --------------------------------------------------------------------------------------
  app.get('/events', { schema: { querystring: { type: 'object', additionalProperties: false, properties: {} } } }, async (req, reply) => {
    const viewer = req.viewer as Viewer;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      Connection: 'keep-alive',
    });
    res.write('retry: 3000\n\n');
    const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    const unsubscribe = live.subscribe(viewer.identity, viewer.actor, (e) => {
      if (e.type === 'closed') {
        send('closed', { reason: e.reason });
        res.end();
        return;
      }
      send('change', { name: e.name, phase: e.phase });
    });
    const heartbeat = setInterval(() => res.write(': ping\n\n'), 25_000);
    // The stream ends with the session; the browser then has to sign in again.
    const untilExpiry = viewer.user ? Math.max(0, viewer.user.exp * 1000 - now().getTime()) : 0;
    const expiry = setTimeout(() => {
      send('closed', { reason: 'session expired' });
      res.end();
    }, Math.min(untilExpiry, 2 ** 31 - 1));
    res.on('close', () => {
      clearInterval(heartbeat);
      clearTimeout(expiry);
      unsubscribe();
    });
  });

  // --- JSON API (session or API token) -------------------------------------------------------------------
  app.get('/api/v1/requests', { config: { api: true }, schema: { querystring: { type: 'object', additionalProperties: false, properties: {} } } }, async (req) => {
    const list = await kubeOf(req).listRequests().catch((err: unknown) => {
      const m = apiMessage(err);
      if (m) throw httpError(m.status, m.message);
      throw err;
    });
    return { items: list.items.sort(byNewest) };
  });
  app.get('/api/v1/requests/:name', { config: { api: true }, schema: { params: nameParams } }, async (req) => {
    const { name } = req.params as { name: string };
    return kubeOf(req)
      .getRequest(name)
      .catch((err: unknown) => {
        const m = apiMessage(err);
        if (m) throw m.status === 403 ? httpError(404, 'Not Found') : httpError(m.status, m.message);
        throw err;
      });
  });

  return app;
}
