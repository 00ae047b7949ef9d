// The request hub: everything the viewer may list, waiting, active and past, with the actions they may take.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { StringEnum } from '../../lib/api/accessrequest.ts';
import { byNewest, requestViews } from '../listing.ts';
import type { RequestView } from '../model.ts';
import { viewerOf } from '../plugins/auth.ts';
import { apiRefusal, pageContext, sendHtml } from '../respond.ts';
import * as views from '../views.ts';

const HubQuery = Type.Object({ notice: Type.Optional(StringEnum(['decided'])) });

export const hubRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/', { schema: { querystring: HubQuery } }, async (req, reply) => {
    const viewer = viewerOf(req);
    const kube = req.userKube();
    let list;
    try {
      list = (await kube.listRequests()).items.sort(byNewest);
    } catch (err) {
      const m = apiRefusal(err);
      if (!m) throw err;
      return sendHtml(reply, views.errorPage(m.status, `You may not list access requests: ${m.message}`, pageContext(req, reply)), m.status);
    }
    const vs = await requestViews(kube, viewer.identity, list);
    const rows = list.map((r, i) => ({ req: r, view: vs[i] as RequestView }));
    return sendHtml(reply, views.hubPage(pageContext(req, reply), rows));
  });
};
