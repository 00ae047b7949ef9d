// Email over SMTP with nodemailer: a plain-text part and an HTML part. In the HTML, every value is escaped by
// construction (`html` of lib/text/html.ts, with which the web UI builds its pages); in both, other users' strings go
// through `inert` first. The subject is made of names only. Credentials are read from their files at each delivery
// and never logged.
import nodemailer from 'nodemailer';
import { html, type SafeHtml } from '../../lib/text/html.ts';
import { inert } from '../../lib/text/inert.ts';
import type { Message } from '../messages.ts';
import { factsOf } from '../messages.ts';
import { headerText } from './text.ts';

export interface MailContent {
  subject: string;
  text: string;
  html: string;
  messageId: string;
}

export const MESSAGE_ID_DOMAIN = 'netwatch.vtk.io';

export function mailContent(m: Message): MailContent {
  const facts = factsOf(m);
  const text = [
    inert(m.headline),
    '',
    ...facts.map(([label, value]) => `${label}: ${inert(value)}`),
    `Reason given by ${inert(m.request.requester)}: ${inert(m.request.reason)}`,
    ...m.details.map(inert),
    '',
    'Act on it (this message has no button: approvals are yours to make):',
    ...m.commands.map((c) => `  ${c}`),
    ...(m.link ? ['', `Open in netwatch: ${m.link}`] : []),
    '',
    inert(m.audience),
    '',
  ].join('\n');
  const rows: SafeHtml[] = facts.map(([label, value]) => html`<tr><th align="left">${label}</th><td>${inert(value)}</td></tr>`);
  const body = html`<!doctype html>
<html><body>
<p><strong>${inert(m.headline)}</strong></p>
<table cellpadding="4">${rows}</table>
<p>Reason given by ${inert(m.request.requester)}:</p>
<blockquote>${inert(m.request.reason)}</blockquote>
${m.details.map((d) => html`<p>${inert(d)}</p>`)}
<p>Act on it (this message has no button: approvals are yours to make):</p>
<pre>${m.commands.join('\n')}</pre>
${m.link ? html`<p><a href="${m.link}">Open ${m.request.name} in netwatch</a></p>` : ''}
<p><small>${inert(m.audience)}</small></p>
</body></html>
`;
  return { subject: headerText(`[netwatch] ${m.subject}`), text, html: body.toString(), messageId: `<${m.key}@${MESSAGE_ID_DOMAIN}>` };
}

export type EmailTls = 'starttls' | 'implicit' | 'none';

export interface SmtpSettings {
  host: string;
  port: number;
  tls: EmailTls;
  from: { name: string; address: string };
  username?: string;
  password?: string;
  ca?: Buffer;
}

/** Sends one mail; throws with a reason that is safe to log (nodemailer's code and the SMTP reply code only). */
export async function sendMail(settings: SmtpSettings, to: string, content: MailContent, timeoutMs: number): Promise<void> {
  const transport = nodemailer.createTransport({
    host: settings.host,
    port: settings.port,
    secure: settings.tls === 'implicit',
    requireTLS: settings.tls === 'starttls',
    ignoreTLS: settings.tls === 'none',
    ...(settings.username !== undefined ? { auth: { user: settings.username, pass: settings.password ?? '' } } : {}),
    ...(settings.ca ? { tls: { ca: settings.ca } } : {}),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    // Content is strings only: nodemailer must never read a file or fetch a URL on our behalf.
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  try {
    await transport.sendMail({
      from: settings.from,
      to,
      subject: content.subject,
      text: content.text,
      html: content.html,
      messageId: content.messageId,
      textEncoding: 'base64',
    });
  } catch (e) {
    const err = e as { code?: unknown; responseCode?: unknown };
    const code = typeof err.code === 'string' && /^[A-Z0-9_]+$/.test(err.code) ? err.code : 'error';
    const reply = typeof err.responseCode === 'number' ? ` ${err.responseCode}` : '';
    // The cause stays attached for debugging; only this message is ever logged or stored.
    throw new Error(`SMTP ${code}${reply}`, { cause: e });
  } finally {
    transport.close();
  }
}
