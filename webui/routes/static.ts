// The stylesheet and the live-update script: the only files served, read once at start-up, public.
import { existsSync, readFileSync } from 'node:fs';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { NoQuery } from '../schemas.ts';

// dist/static/ beside the bundle (scripts/build-dist.ts copies it; the image ships only dist/), webui/static/
// from source, and `../webui/static/` for a bundle in a checkout's dist/ built without that copy.
const STATIC_DIR = [new URL('./static/', import.meta.url), new URL('../static/', import.meta.url), new URL('../webui/static/', import.meta.url)].find((u) =>
  existsSync(new URL('app.css', u)),
);

const FILES = [
  { path: '/static/app.css', file: 'app.css', type: 'text/css; charset=utf-8' },
  { path: '/static/live.js', file: 'live.js', type: 'text/javascript; charset=utf-8' },
];

export const staticRoutes: FastifyPluginAsyncTypebox = async (app) => {
  if (!STATIC_DIR) throw new Error('webui/static (app.css, live.js) not found');
  for (const { path, file, type } of FILES) {
    const body = readFileSync(new URL(file, STATIC_DIR));
    app.get(path, { config: { public: true }, schema: { querystring: NoQuery } }, async (_req, reply) =>
      reply.type(type).header('Cache-Control', 'public, max-age=300').send(body),
    );
  }
};
