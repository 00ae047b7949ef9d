// A generic HTTPS webhook receiving one CloudEvents 1.0 event per notice, in structured mode
// (application/cloudevents+json), built with the CloudEvents SDK. The event id is the notice's idempotency key:
// with `source` it is unique, and the same on every retry, so a receiver can drop duplicates.
import { CloudEvent, HTTP } from 'cloudevents';
import { API_VERSION, PLURAL } from '../../lib/api/accessrequest.ts';
import type { Message } from '../messages.ts';

export const EVENT_TYPE_PREFIX = 'io.vtk.netwatch.accessrequest.';

export interface CloudEventData {
  notice: { id: string; kind: string; audience: Message['notice']['audience']; approvedPart?: string; extension?: number };
  request: Message['request'];
  parts: Message['parts'];
  decision?: Message['decision'];
  extension?: Message['extension'];
  headline: string;
  details: string[];
  link?: string;
  commands: string[];
}

export function cloudEventOf(m: Message): CloudEvent<CloudEventData> {
  const data: CloudEventData = {
    notice: { id: m.notice.id, kind: m.notice.kind, audience: m.notice.audience, ...(m.notice.approvedPart ? { approvedPart: m.notice.approvedPart } : {}), ...(m.notice.extension !== undefined ? { extension: m.notice.extension } : {}) },
    request: m.request,
    parts: m.parts,
    ...(m.decision ? { decision: m.decision } : {}),
    ...(m.extension ? { extension: m.extension } : {}),
    headline: m.headline,
    details: m.details,
    ...(m.link ? { link: m.link } : {}),
    commands: m.commands,
  };
  return new CloudEvent<CloudEventData>({
    id: m.key,
    source: `/apis/${API_VERSION}/${PLURAL}/${m.request.name}`,
    type: `${EVENT_TYPE_PREFIX}${m.notice.kind}`,
    subject: m.notice.id,
    time: m.time,
    datacontenttype: 'application/json',
    data,
  });
}

/** The HTTP request of an event: headers and body in structured mode. JSON encoding is the escaping here. */
export function structuredRequest(m: Message): { headers: Record<string, string>; body: string } {
  const message = HTTP.structured(cloudEventOf(m));
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(message.headers)) if (typeof v === 'string') headers[k] = v;
  return { headers, body: typeof message.body === 'string' ? message.body : JSON.stringify(message.body) };
}
