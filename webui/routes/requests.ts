// One request: its detail page (parts, objects, maxtac's policies for it) and the actions on it. Approving and
// deciding are status writes as the user, guarded by the resourceVersion read just before; the webhook stamps who
// did it and decides whether they may.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { StringEnum, type AccessRequest } from '../../lib/api/accessrequest.ts';
import { partsOf } from '../../lib/domain/parts.ts';
import { KubeError } from '../kube.ts';
import { requestViews } from '../listing.ts';
import type { RequestView } from '../model.ts';
import { viewerOf } from '../plugins/auth.ts';
import { apiRefusal, pageContext, sendHtml } from '../respond.ts';
import { ApproveBody, ConfirmQuery, DecisionBody, RequestNameParams } from '../schemas.ts';
import { gatherPreviewFacts, previewOf, type RequestPreview } from '../../lib/domain/preview.ts';
import type { UserKube } from '../kube.ts';
import * as views from '../views.ts';

const NOTICES = { created: 'Request submitted.', approved: 'Approval recorded.', decided: 'Decision recorded.' } as const;
type Notice = keyof typeof NOTICES;
const DetailQuery = Type.Object({ notice: Type.Optional(StringEnum(Object.keys(NOTICES) as Notice[])) });

/** Builds a status patch from the request as read, or says why the action does not apply to it. */
type StatusChange = (r: AccessRequest) => Record<string, unknown> | string;

export interface RequestRoutesOptions {
  /** The cluster's own ranges (--cluster-cidr), for the preview's `cluster` risk class. */
  clusterCidrs: readonly string[];
}

/** The request's preview as the user reads it; null when the API server gave no answer (the page still shows). */
async function previewFor(req: FastifyRequest, kube: UserKube, r: AccessRequest, clusterCidrs: readonly string[]): Promise<RequestPreview | null> {
  try {
    return previewOf(await gatherPreviewFacts(kube.previewReader(), r, { clusterCidrs }));
  } catch (err) {
    req.log.warn({ err }, 'the preview of a request could not be read');
    return null;
  }
}

export const requestRoutes: FastifyPluginAsyncTypebox<RequestRoutesOptions> = async (app, { clusterCidrs }) => {
  const csrf = app.csrfProtection.bind(app);
  /** The request as the viewer may read it; undefined when it is missing or refused to them (the same to them). */
  async function readRequest(kube: ReturnType<FastifyRequest['userKube']>, name: string): Promise<AccessRequest | undefined> {
    try {
      return await kube.getRequest(name);
    } catch (err) {
      if (!apiRefusal(err)) throw err;
      return undefined;
    }
  }
  // Not found and forbidden look the same: a user learns nothing about requests they may not read.
  const notFound = (req: FastifyRequest, reply: FastifyReply) => sendHtml(reply, views.errorPage(404, 'No such request, or you may not see it.', pageContext(req, reply)), 404);

  async function renderDetail(req: FastifyRequest, reply: FastifyReply, name: string, extra: { error?: string; notice?: string; status?: number } = {}) {
    const viewer = viewerOf(req);
    const kube = req.userKube();
    const r = await readRequest(kube, name);
    if (!r) return notFound(req, reply);
    const [view] = await requestViews(kube, viewer.identity, [r]);
    const preview = await previewFor(req, kube, r, clusterCidrs);
    const body = views.detailPage(pageContext(req, reply), { req: r, view: view as RequestView, preview, error: extra.error, notice: extra.notice });
    return sendHtml(reply, body, extra.status ?? 200);
  }

  /** The confirmation of an action: the preview's summary and the POST that does it. */
  app.get('/requests/:name/confirm', { schema: { params: RequestNameParams, querystring: ConfirmQuery } }, async (req, reply) => {
    const { action, part } = req.query;
    const name = req.params.name;
    const kube = req.userKube();
    const r = await readRequest(kube, name);
    if (!r) return notFound(req, reply);
    const [view] = (await requestViews(kube, viewerOf(req).identity, [r])) as [RequestView];
    const allowed = action === 'approve' ? part !== undefined && view.actions.approve.includes(part) : view.actions[action];
    if (!allowed) {
      const what = action === 'approve' ? `approve the ${part ?? '(no part named)'} part of` : action;
      return renderDetail(req, reply, name, { error: `You may not ${what} this request now.`, status: 409 });
    }
    const preview = await previewFor(req, kube, r, clusterCidrs);
    return sendHtml(reply, views.confirmPage(pageContext(req, reply), { req: r, view, action, part, preview }));
  });

  /** Reads the request, lets `change` build a status patch, writes it; retries once on a conflicting write. */
  async function writeStatus(req: FastifyRequest, name: string, change: StatusChange): Promise<string | null> {
    const kube = req.userKube();
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

  async function act(req: FastifyRequest, reply: FastifyReply, name: string, notice: Notice, change: StatusChange) {
    try {
      const refused = await writeStatus(req, name, change);
      if (refused) return renderDetail(req, reply, name, { error: refused, status: 409 });
      return reply.redirect(`/requests/${encodeURIComponent(name)}?notice=${notice}`, 303);
    } catch (err) {
      const m = apiRefusal(err);
      if (!m) throw err;
      return renderDetail(req, reply, name, { error: `Refused: ${m.message}`, status: m.status });
    }
  }

  app.get('/requests/:name', { schema: { params: RequestNameParams, querystring: DetailQuery } }, async (req, reply) => {
    const { notice } = req.query;
    return renderDetail(req, reply, req.params.name, notice ? { notice: NOTICES[notice] } : {});
  });

  app.post('/requests/:name/approve', { preHandler: csrf, schema: { params: RequestNameParams, body: ApproveBody } }, async (req, reply) => {
    const { part } = req.body;
    return act(req, reply, req.params.name, 'approved', (r) => {
      const p = partsOf(r.spec).find((x) => x.name === part);
      if (!p) return `This request has no ${part} part.`;
      const approvals = r.status?.approvals ?? [];
      if (approvals.some((a) => a.part === part)) return `The ${part} part is already approved.`;
      return { approvals: [...approvals, { part, namespace: p.namespace }] };
    });
  });

  app.post('/requests/:name/decision', { preHandler: csrf, schema: { params: RequestNameParams, body: DecisionBody } }, async (req, reply) => {
    const { type, reason } = req.body;
    return act(req, reply, req.params.name, 'decided', (r) => {
      if (r.status?.decision) return `This request was already ${r.status.decision.type.toLowerCase()}.`;
      const decision: Record<string, string> = { type };
      if (reason?.trim()) decision['reason'] = reason.trim();
      return { decision };
    });
  });
};
