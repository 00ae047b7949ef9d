// The HTTP shell of the admission webhook: decode the AdmissionReview, gather the facts the pure admission
// functions ask for, call them, encode the answer. Fails closed: anything that throws becomes allowed: false with
// a message, and the request's uid is always echoed.
import type { Http2SecureServer } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import Fastify, { LogController, type FastifyHttp2SecureOptions, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Logger } from 'pino';
import type { AccessRequest } from '../lib/api/accessrequest.ts';
import { serviceKey, type ServiceFacts } from '../lib/domain/spec.ts';
import type { WebhookConfig } from './config.ts';
import { approvableParts, type AccessReviewer } from '../lib/kube/access-review.ts';
import { KubeError } from '../lib/kube/errors.ts';
import {
  factsNeeded,
  isAccessRequestResource,
  mutate,
  validate,
  type AdmissionOperation,
  type AdmissionResult,
  type UserInfo,
} from './admission.ts';
import type { ServiceReader } from './kube.ts';
import type { Part } from '../lib/domain/parts.ts';
import type { PartApprovers } from '../lib/domain/approvers.ts';
import { NO_POLICIES, type PolicyReader } from './policies.ts';
import { serviceReferencesOf } from '../lib/domain/spec.ts';
import { admitMarked, MARKED_RESOURCES, type MarkedObject } from './markers.ts';
import { webhookMetrics, type AdmissionOutcome, type WebhookKind, type WebhookMetrics } from './metrics.ts';

/** Who may approve a part, read from RBAC (lib/kube/rbac.ts ApproverIndex over the webhook's informers; a SubjectAccessReview
 * checks one subject and cannot list them); throws while it cannot tell. */
export interface ApproverLookup {
  approversOf(part: Part): PartApprovers;
}

/** How many open AccessRequests a user has (an informer-fed index); throws while it cannot tell. */
export interface OpenRequestCounter {
  openRequestsOf(username: string): number;
}

export interface WebhookDeps {
  config: WebhookConfig;
  reviewer: AccessReviewer;
  services: ServiceReader;
  requests: OpenRequestCounter;
  /** Who may approve a part, from RBAC (an informer-fed index); throws while it cannot tell. Needed unless --unapprovable=allow. */
  approvers?: ApproverLookup;
  /** The AccessPolicies in force (main.ts: an informer cache); none given: no policies. */
  policies?: PolicyReader;
  /** A pino logger (main.ts makes one); none logs nothing. */
  logger?: Logger;
  metrics?: WebhookMetrics;
  now?: () => Date;
  /**
   * Serve HTTPS with this key pair (the API server only calls webhooks over TLS); plain HTTP without it. With
   * `clientCa`, an admission request is answered only over a connection that presented a certificate signed by it
   * (the API server's, configured through its AdmissionConfiguration): anyone else gets 401 and costs nothing.
   */
  tls?: { key: string; cert: string; clientCa?: string | undefined };
  /** Readiness beyond "the server answers" (e.g. certificates loaded). */
  isReady?: () => boolean;
}

export const ADMISSION_PATHS = { mutate: '/mutate', validate: '/validate', markers: '/validate-markers' } as const;

interface AdmissionRequest<T = AccessRequest> {
  uid: string;
  kind?: { group?: string; version?: string; kind?: string };
  resource?: { group?: string; version?: string; resource?: string };
  subResource?: string;
  name?: string;
  namespace?: string;
  operation: AdmissionOperation;
  userInfo?: UserInfo;
  object?: T | null;
  oldObject?: T | null;
  dryRun?: boolean;
}

interface AdmissionReviewBody<T = AccessRequest> {
  apiVersion?: string;
  kind?: string;
  request: AdmissionRequest<T>;
}

const admissionReviewSchema = {
  type: 'object',
  required: ['request'],
  properties: {
    apiVersion: { type: 'string', maxLength: 64 },
    kind: { type: 'string', maxLength: 64 },
    request: {
      type: 'object',
      required: ['uid', 'operation'],
      properties: {
        uid: { type: 'string', minLength: 1, maxLength: 128 },
        operation: { type: 'string', enum: ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'] },
        subResource: { type: 'string', maxLength: 64 },
        name: { type: 'string', maxLength: 253 },
        resource: { type: 'object' },
        userInfo: { type: 'object' },
        object: { type: ['object', 'null'] },
        oldObject: { type: ['object', 'null'] },
      },
    },
  },
} as const;

/** The Services a request references, for label-selecting rules; a malformed spec references none. */
function policyServiceRefs(request: AccessRequest | null): { namespace: string; name: string }[] {
  try {
    return request?.spec ? serviceReferencesOf(request.spec) : [];
  } catch {
    return [];
  }
}

/** Kubernetes API errors carry the whole response (headers included): keep only what helps a user. */
export function describeError(err: unknown): string {
  if (err instanceof KubeError) return err.status ? `the Kubernetes API answered ${err.status}: ${err.message.slice(0, 200)}` : err.message.slice(0, 300);
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'number') {
    const body = (err as { body?: unknown }).body;
    let reason = '';
    if (typeof body === 'string') {
      try {
        const message = (JSON.parse(body) as { message?: unknown }).message;
        reason = typeof message === 'string' ? message : '';
      } catch {
        reason = '';
      }
    }
    return `the Kubernetes API answered ${code}${reason ? `: ${reason.slice(0, 200)}` : ''}`;
  }
  return err instanceof Error ? err.message.slice(0, 300) : 'unknown error';
}

function encode(apiVersion: string | undefined, uid: string, result: AdmissionResult) {
  return {
    apiVersion: apiVersion ?? 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    response: {
      uid,
      allowed: result.allowed,
      ...(result.allowed
        ? {}
        : { status: { code: result.code ?? 403, reason: result.code === 422 ? 'Invalid' : 'Forbidden', message: result.message ?? 'denied' } }),
      ...(result.warnings && result.warnings.length > 0 ? { warnings: result.warnings } : {}),
      ...(result.patch && result.patch.length > 0
        ? { patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(result.patch)).toString('base64') }
        : {}),
    },
  };
}

export async function build(deps: WebhookDeps): Promise<FastifyInstance> {
  const now = deps.now ?? (() => new Date());
  const metrics = deps.metrics ?? webhookMetrics();
  const options: FastifyServerOptions = {
    // An AdmissionReview carries the object twice; AccessRequests are small, but stay above etcd's 1.5 MiB limit.
    bodyLimit: 4 * 1024 * 1024,
    // One line per admission is logged below; Fastify's own request lines would only repeat it.
    logController: new LogController({ disableRequestLogging: true }),
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
  };
  // Fastify's typings make the server type a generic parameter; the routes below do not depend on it.
  // HTTP/2 (with HTTP/1.1 still allowed): the API server then multiplexes all admission calls over one TLS
  // connection instead of opening (and handshaking) a new one whenever more than a few run concurrently.
  const app = (
    deps.tls
      ? Fastify({
          ...(options as FastifyHttp2SecureOptions<Http2SecureServer>),
          http2: true,
          https: {
            allowHTTP1: true,
            key: deps.tls.key,
            cert: deps.tls.cert,
            // The handshake succeeds without a certificate (probes and metrics need none); admission paths check.
            ...(deps.tls.clientCa ? { requestCert: true, rejectUnauthorized: false, ca: deps.tls.clientCa } : {}),
          },
        })
      : Fastify(options)
  ) as unknown as FastifyInstance;

  app.setErrorHandler((err: { statusCode?: number; message?: string }, request, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status >= 500) request.log.error({ err: describeError(err) }, 'request failed');
    void reply.code(status).send({ error: status >= 500 ? 'Internal Server Error' : (err.message ?? 'Bad Request') });
  });

  if (deps.tls?.clientCa) {
    const admissionPaths = new Set<string>(Object.values(ADMISSION_PATHS));
    app.addHook('onRequest', async (request, reply) => {
      if (!admissionPaths.has(request.url.split('?')[0] ?? '')) return;
      // Through HTTP/2's compatibility layer `socket` is a proxy of the session's TLS socket.
      const socket = request.raw.socket as TLSSocket | undefined;
      if (socket?.authorized === true) return;
      metrics.observe(request.url === ADMISSION_PATHS.mutate ? 'mutate' : request.url === ADMISSION_PATHS.markers ? 'markers' : 'validate', 'unknown', 'unauthenticated', 'denied', 0);
      request.log.warn({ path: request.url, reason: socket?.authorizationError }, 'admission request without a trusted client certificate');
      return reply.code(401).send({ error: 'a client certificate from the API server is required' });
    });
  }

  const readServices = async (refs: { namespace: string; name: string }[]) => {
    const unique = [...new Map(refs.map((r) => [serviceKey(r.namespace, r.name), r])).values()];
    const entries = await Promise.all(
      unique.map(async (r): Promise<[string, ServiceFacts | null]> => [serviceKey(r.namespace, r.name), await deps.services.get(r.namespace, r.name)]),
    );
    return new Map(entries);
  };

  const approversFacts = (parts: Part[]) => {
    if (!deps.approvers) throw new Error('no approver lookup is configured, so a part without approvers cannot be told apart (--unapprovable=allow skips the check)');
    const lookup = deps.approvers;
    return new Map(parts.map((p) => [p.name, lookup.approversOf(p)] as const));
  };

  async function decideMarked(req: AdmissionRequest<MarkedObject>): Promise<AdmissionResult> {
    const known = MARKED_RESOURCES.find((r) => r.group === (req.resource?.group ?? '') && r.resource === req.resource?.resource);
    if (!known || (req.subResource ?? '') !== '') {
      return {
        allowed: false,
        code: 400,
        message: `the netwatch markers webhook only handles ${MARKED_RESOURCES.map((r) => `${r.resource}${r.group ? `.${r.group}` : ''}`).join(', ')}, not ${req.resource?.resource ?? 'unknown'}${req.subResource ? `/${req.subResource}` : ''}: check the webhook configuration rules`,
      };
    }
    return admitMarked({
      operation: req.operation,
      userInfo: req.userInfo ?? {},
      kind: known.kind,
      oldObject: req.oldObject ?? null,
      object: req.object ?? null,
      config: deps.config,
    });
  }

  async function decide(kind: 'mutate' | 'validate', req: AdmissionRequest): Promise<AdmissionResult> {
    if (!isAccessRequestResource(req.resource)) {
      return {
        allowed: false,
        code: 400,
        message: `the netwatch webhook only handles accessrequests.netwatch.vtk.io, not ${req.resource?.resource ?? 'unknown'}.${req.resource?.group ?? ''}: check the webhook configuration rules`,
      };
    }
    const userInfo = req.userInfo ?? {};
    const query = {
      operation: req.operation,
      subResource: req.subResource ?? '',
      userInfo,
      oldObject: req.oldObject ?? null,
      object: req.object ?? null,
      config: deps.config,
    };
    const needed = factsNeeded(kind, query);
    const subject = {
      username: userInfo.username ?? '',
      ...(userInfo.uid ? { uid: userInfo.uid } : {}),
      ...(userInfo.groups ? { groups: userInfo.groups } : {}),
      ...(userInfo.extra ? { extra: userInfo.extra } : {}),
    };
    const policies = needed.policyNamespaces ? (deps.policies ?? NO_POLICIES).policiesIn(needed.policyNamespaces) : [];
    // Rules may select Services by label: with policies in play, the request's Services are read too.
    const serviceRefs = policies.length > 0 && needed.services.length === 0 ? policyServiceRefs(query.object ?? query.oldObject) : needed.services;
    const [mayApprove, services] = await Promise.all([
      needed.parts.length > 0 ? approvableParts(deps.reviewer, subject, needed.parts) : Promise.resolve({}),
      readServices(serviceRefs),
    ]);
    const approvers = needed.approversOf ? approversFacts(needed.approversOf) : undefined;
    const facts = {
      mayApprove,
      services,
      policies,
      ...(needed.openRequestsOf ? { openRequests: deps.requests.openRequestsOf(needed.openRequestsOf) } : {}),
      ...(approvers ? { approvers } : {}),
    };
    const input = { ...query, facts, now: now() };
    return kind === 'mutate' ? mutate(input) : validate(input);
  }

  const deciders: Record<WebhookKind, (req: AdmissionRequest<never>) => Promise<AdmissionResult>> = {
    mutate: (req) => decide('mutate', req),
    validate: (req) => decide('validate', req),
    markers: (req) => decideMarked(req),
  };
  for (const kind of ['mutate', 'validate', 'markers'] as const) {
    app.post<{ Body: AdmissionReviewBody<never> }>(ADMISSION_PATHS[kind], { schema: { body: admissionReviewSchema } }, async (request) => {
      const started = process.hrtime.bigint();
      const req = request.body.request;
      let result: AdmissionResult;
      let outcome: AdmissionOutcome;
      try {
        result = await deciders[kind](req);
        outcome = result.allowed ? 'allowed' : 'denied';
      } catch (err) {
        // Fail closed, with a message that says so; details (never bodies or tokens) go to the log.
        result = { allowed: false, code: 500, message: `netwatch admission webhook could not decide (${describeError(err)}); the request is refused, retry later` };
        outcome = 'error';
      }
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const subresource = req.subResource === 'status' ? 'status' : req.subResource ? 'other' : 'main';
      metrics.observe(kind, req.operation, subresource, outcome, seconds);
      request.log[outcome === 'error' ? 'error' : 'info'](
        {
          webhook: kind,
          uid: req.uid,
          operation: req.operation,
          subresource,
          name: req.name ?? (req.object as MarkedObject | null | undefined)?.metadata?.name ?? (req.oldObject as MarkedObject | null | undefined)?.metadata?.name,
          ...(req.namespace ? { namespace: req.namespace } : {}),
          user: req.userInfo?.username,
          dryRun: req.dryRun === true,
          allowed: result.allowed,
          ...(result.allowed ? { patchOps: result.patch?.length ?? 0 } : { code: result.code, message: result.message }),
          ms: Math.round(seconds * 1000),
        },
        'admission',
      );
      return encode(request.body.apiVersion, req.uid, result);
    });
  }

  // The probes are answered here too (a cluster whose admission port is the only one reachable keeps working);
  // the Deployment probes the separate plain-HTTP listener of buildProbes, which also serves /metrics.
  probeRoutes(app, deps.isReady, undefined);
  return app;
}

function probeRoutes(app: FastifyInstance, isReady: (() => boolean) | undefined, metrics: WebhookMetrics | undefined): void {
  app.get('/healthz', async () => 'ok');
  app.get('/readyz', async (_request, reply) => {
    if (isReady && !isReady()) return reply.code(503).send('not ready');
    return 'ok';
  });
  if (!metrics) return;
  app.get('/metrics', async (_request, reply) => {
    void reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}

/**
 * /healthz, /readyz and /metrics over plain HTTP on a port of their own: the admission port then serves what the API
 * server calls, and the NetworkPolicy can open metrics to scrapers only (manifests/networkpolicies).
 */
export async function buildProbes(deps: Pick<WebhookDeps, 'isReady' | 'metrics'> & { metrics: WebhookMetrics }): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  probeRoutes(app, deps.isReady, deps.metrics);
  return app;
}

