// Live updates as server-sent events: the viewer's pages hear which request changed (name and phase only; the page
// then reloads what it shows, as the user). The stream ends with the session: when it expires, or when it is
// signed out, on any replica.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { KubeGateway } from '../kube.ts';
import { LiveHub } from '../live.ts';
import type { SessionRevocations } from '../revocations.ts';
import { viewerOf } from '../plugins/auth.ts';
import { NoQuery } from '../schemas.ts';

export interface EventRoutesOptions {
  kube: KubeGateway;
  revocations: SessionRevocations;
  now: () => Date;
}

const HEARTBEAT_MS = 25_000;
/** The longest setTimeout Node honours. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export const eventRoutes: FastifyPluginAsyncTypebox<EventRoutesOptions> = async (app, { kube, revocations, now }) => {
  const live = new LiveHub(kube, app.log);
  // Before the server stops accepting: open event streams end now, or close() would wait for every browser tab.
  app.addHook('preClose', async () => live.close());

  app.get('/events', { schema: { querystring: NoQuery } }, async (req, reply) => {
    const viewer = viewerOf(req);
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
    const close = (reason: string) => {
      send('closed', { reason });
      res.end();
    };
    const unsubscribe = live.subscribe(viewer.identity, viewer.actor, (e) => {
      if (e.type === 'closed') return close(e.reason);
      send('change', { name: e.name, phase: e.phase });
    });
    const heartbeat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS);
    // The browser then has to sign in again.
    const untilExpiry = viewer.session ? Math.max(0, viewer.session.exp * 1000 - now().getTime()) : 0;
    const expiry = setTimeout(() => close('session expired'), Math.min(untilExpiry, MAX_TIMER_MS));
    const signedOut = viewer.session ? revocations.onRevoked(viewer.session.sid, () => close('signed out')) : () => undefined;
    res.on('close', () => {
      clearInterval(heartbeat);
      clearTimeout(expiry);
      signedOut();
      unsubscribe();
    });
  });
};
