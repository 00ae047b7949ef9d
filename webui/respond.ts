// How routes answer: HTML pages with the page context of the viewer, and the errors every route shares.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { KubeError } from './kube.ts';
import type { PageContext } from './views.ts';

export function httpError(statusCode: number, message: string): Error {
  return Object.assign(new Error(message), { statusCode });
}

/** Pages for browsers; JSON for the API, the event stream and clients that ask for something else. */
export function wantsHtml(req: FastifyRequest): boolean {
  if (req.url.startsWith('/api/') || req.url.startsWith('/events')) return false;
  const accept = req.headers.accept ?? '';
  return accept === '' || accept.includes('text/html') || accept.includes('*/*');
}

export function sendHtml(reply: FastifyReply, body: string, status = 200): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').header('Cache-Control', 'no-store').send(body);
}

/** Who is signed in, for the page header, and a CSRF token for the page's forms (not on error pages). */
export function pageContext(req: FastifyRequest, reply: FastifyReply, withCsrf = true): PageContext {
  const ctx: PageContext = {};
  if (req.viewer?.session) {
    ctx.user = req.viewer.identity;
    if (withCsrf) ctx.csrfToken = reply.generateCsrf();
  }
  return ctx;
}

/** The API server's refusal of something the user asked (4xx), to show them; null for anything else. */
export function apiRefusal(err: unknown): { status: number; message: string } | null {
  if (err instanceof KubeError && err.status >= 400 && err.status < 500) return { status: err.status, message: err.message };
  return null;
}
