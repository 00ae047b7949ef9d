// Probes: liveness answers while the process serves HTTP at all.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { NoQuery, TextResponse } from '../schemas.ts';

export const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/healthz', { config: { public: true }, schema: { querystring: NoQuery, response: { 200: TextResponse } } }, async () => 'ok');
};
