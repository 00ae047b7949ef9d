// Probes. Liveness: the process serves HTTP. Readiness: it also follows the list of ended sessions, without which
// it refuses every session; the Service then sends browsers to a replica that does.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { SessionRevocations } from '../revocations.ts';
import { NoQuery, TextResponse } from '../schemas.ts';

export interface HealthRoutesOptions {
  revocations: SessionRevocations;
}

export const healthRoutes: FastifyPluginAsyncTypebox<HealthRoutesOptions> = async (app, { revocations }) => {
  const schema = { querystring: NoQuery, response: { 200: TextResponse, 503: TextResponse } };
  app.get('/healthz', { config: { public: true }, schema }, async () => 'ok');
  app.get('/readyz', { config: { public: true }, schema }, async (_req, reply) => {
    if (revocations.state === 'current') return 'ok';
    return reply.code(503).send(`the list of ended sessions is ${revocations.state === 'starting' ? 'not read yet' : 'out of reach'}`);
  });
};
