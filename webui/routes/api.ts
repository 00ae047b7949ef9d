// The read-only JSON API, for scripts: the session's user, or the automation token's identity by impersonation.
// The API server's refusals keep their status; a request the caller may not read is Not Found, as on the pages.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { byNewest } from '../listing.ts';
import { apiRefusal, httpError } from '../respond.ts';
import { NoQuery, RequestNameParams } from '../schemas.ts';

export const apiRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/api/v1/requests', { config: { api: true }, schema: { querystring: NoQuery } }, async (req) => {
    const list = await req
      .userKube()
      .listRequests()
      .catch((err: unknown) => {
        const m = apiRefusal(err);
        throw m ? httpError(m.status, m.message) : err;
      });
    return { items: list.items.sort(byNewest) };
  });

  app.get('/api/v1/requests/:name', { config: { api: true }, schema: { params: RequestNameParams } }, async (req) =>
    req
      .userKube()
      .getRequest(req.params.name)
      .catch((err: unknown) => {
        const m = apiRefusal(err);
        if (!m) throw err;
        throw m.status === 403 ? httpError(404, 'Not Found') : httpError(m.status, m.message);
      }),
  );
};
