// New requests: the two forms, "check my permissions" (which parts the user could approve, nothing created) and
// the submit. Field errors are shown next to their inputs without calling the API server; the API server's
// refusal (CRD schema, webhook) is shown on the form.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { askPermissions, mayApproveParts } from '../../lib/domain/actions.ts';
import { describePermission, partsOf, permissionFor } from '../../lib/domain/parts.ts';
import { parseExternalForm, parseServiceForm, type FieldErrors, type FormValues } from '../forms.ts';
import { apiRefusal, pageContext, sendHtml } from '../respond.ts';
import { NoQuery, RequestFormBody, type RequestForm } from '../schemas.ts';
import * as views from '../views.ts';

export interface FormRoutesOptions {
  /** The durations the forms offer (and accept). */
  durations: string[];
}

export const formRoutes: FastifyPluginAsyncTypebox<FormRoutesOptions> = async (app, { durations }) => {
  const csrf = app.csrfProtection.bind(app);
  async function formData(req: FastifyRequest, values: FormValues, errors: FieldErrors = {}, error?: string): Promise<views.FormData> {
    const services = await req
      .userKube()
      .listServices()
      .catch(() => null);
    return { values, errors, durations, services, error };
  }

  const pageFor = (body: RequestForm) => (body.type === 'Service' ? views.serviceFormPage : views.externalFormPage);
  const parse = (body: RequestForm) => (body.type === 'Service' ? parseServiceForm(body, durations) : parseExternalForm(body, durations));
  const defaults: FormValues = { duration: durations.includes('2h') ? '2h' : durations[0], direction: 'ingress' };

  app.get('/new/service', { schema: { querystring: NoQuery } }, async (req, reply) =>
    sendHtml(reply, views.serviceFormPage(pageContext(req, reply), await formData(req, defaults))),
  );
  app.get('/new/external', { schema: { querystring: NoQuery } }, async (req, reply) =>
    sendHtml(reply, views.externalFormPage(pageContext(req, reply), await formData(req, defaults))),
  );

  app.post('/requests/preview', { preHandler: csrf, schema: { body: RequestFormBody } }, async (req, reply) => {
    const page = pageFor(req.body);
    const parsed = parse(req.body);
    if (!parsed.ok) return sendHtml(reply, page(pageContext(req, reply), await formData(req, req.body, parsed.errors)), 422);
    const kube = req.userKube();
    const parts = partsOf(parsed.spec);
    const may = mayApproveParts({ spec: parsed.spec }, await askPermissions(parts, (checks) => kube.canI([...checks])));
    const preview = parts.map((p) => ({ part: p.name, namespace: p.namespace, permission: describePermission(permissionFor(p)), satisfied: may.get(p.name) === true }));
    return sendHtml(reply, page(pageContext(req, reply), { ...(await formData(req, req.body)), preview }));
  });

  app.post('/requests', { preHandler: csrf, schema: { body: RequestFormBody } }, async (req, reply) => {
    const page = pageFor(req.body);
    const parsed = parse(req.body);
    if (!parsed.ok) return sendHtml(reply, page(pageContext(req, reply), await formData(req, req.body, parsed.errors)), 422);
    try {
      const created = await req.userKube().createRequest(parsed.spec);
      return reply.redirect(`/requests/${encodeURIComponent(created.metadata.name ?? '')}?notice=created`, 303);
    } catch (err) {
      const m = apiRefusal(err);
      if (!m) throw err;
      return sendHtml(reply, page(pageContext(req, reply), await formData(req, req.body, {}, `The request was refused: ${m.message}`)), m.status === 409 ? 409 : 422);
    }
  });
};
