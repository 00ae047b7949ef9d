// Real local receivers for notifications, on loopback: an HTTP(S) server that records every POST (a Slack incoming
// webhook or a CloudEvents endpoint stand-in) and an SMTP server (smtp-server) that records every mail, each able to
// fail on demand. The notifier's end-to-end tests deliver to them; the sandbox can start them to show a new user what
// netwatch sends without any account anywhere. TLS uses a throw-away CA made here (its PEM is handed out), so the
// notifier's real TLS paths (caFile, STARTTLS) are what is exercised.
import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerAuthentication, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { makeServingCertificates, type ServingCertificates } from './certs.ts';
import { inert } from '../lib/text/inert.ts';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The status the receiver answered. */
  status: number;
  at: number;
}

export interface HttpReceiver {
  /** Base address, e.g. https://127.0.0.1:34567; sinks post to paths under it. */
  url: string;
  /** The CA of its certificate (TLS receivers): a sink's caFile. */
  caPem?: string;
  /** Every request, answered 2xx or not, in arrival order. */
  readonly requests: ReceivedRequest[];
  /** The requests answered 2xx: what was delivered. */
  delivered(pathPrefix?: string): ReceivedRequest[];
  /** The next `count` requests to paths under `pathPrefix` are answered `status` (Infinity: all of them). */
  fail(pathPrefix: string, count: number, status?: number): void;
  close(): Promise<void>;
}

export interface ReceiverOptions {
  /** Serve HTTPS with a throw-away CA (default true). */
  tls?: boolean;
  port?: number;
  /** Called for each delivered request or mail (the sandbox prints them). */
  onDelivered?: (what: ReceivedRequest | ReceivedMail) => void;
  /** The certificates to serve with; made on the spot otherwise (shared by both receivers in the sandbox). */
  certificates?: ServingCertificates;
}

const MAX_BODY = 1024 * 1024;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) req.destroy(new Error('body too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

export async function startHttpReceiver(opts: ReceiverOptions = {}): Promise<HttpReceiver> {
  const useTls = opts.tls ?? true;
  const certs = useTls ? (opts.certificates ?? makeServingCertificates({ ips: ['127.0.0.1'], dnsNames: ['localhost'] })) : undefined;
  const requests: ReceivedRequest[] = [];
  const failures: { prefix: string; left: number; status: number }[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    void readBody(req).then(
      (body) => {
        const path = (req.url ?? '/').split('?')[0] ?? '/';
        const failure = failures.find((f) => path.startsWith(f.prefix) && f.left > 0);
        if (failure) failure.left--;
        const status = failure ? failure.status : 200;
        const received: ReceivedRequest = { method: req.method ?? '', path, headers: req.headers, body, status, at: Date.now() };
        requests.push(received);
        if (status < 300) opts.onDelivered?.(received);
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'failing on purpose');
      },
      () => res.writeHead(400).end(),
    );
  };
  const server = certs ? createHttpsServer({ key: certs.keyPem, cert: certs.certPem }, handler) : createHttpServer(handler);
  const port = await listen(server, opts.port ?? 0);
  return {
    url: `${useTls ? 'https' : 'http'}://127.0.0.1:${port}`,
    ...(certs ? { caPem: certs.caPem } : {}),
    requests,
    delivered: (prefix = '/') => requests.filter((r) => r.status < 300 && r.path.startsWith(prefix)),
    fail(prefix, count, status = 500) {
      failures.push({ prefix, left: count, status });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// SMTP

export interface ReceivedMail {
  from: string;
  to: string[];
  /** Whether the session was encrypted (STARTTLS) and who authenticated, as the server saw it. */
  secure: boolean;
  user?: string;
  raw: string;
  headers: Record<string, string>;
  subject: string;
  messageId: string;
  text: string;
  html: string;
  at: number;
}

export interface SmtpReceiver {
  host: string;
  port: number;
  caPem?: string;
  readonly mails: ReceivedMail[];
  /** The next `count` mails are refused with a temporary failure (451), Infinity: all of them. */
  fail(count: number): void;
  close(): Promise<void>;
}

export interface SmtpReceiverOptions extends ReceiverOptions {
  /** STARTTLS offered and required before AUTH (default), or plain SMTP. */
  tls?: boolean;
  /** Require this user and password (default: no AUTH at all). */
  auth?: { username: string; password: string };
}

export async function startSmtpReceiver(opts: SmtpReceiverOptions = {}): Promise<SmtpReceiver> {
  const useTls = opts.tls ?? true;
  const certs = useTls ? (opts.certificates ?? makeServingCertificates({ ips: ['127.0.0.1'], dnsNames: ['localhost'] })) : undefined;
  const mails: ReceivedMail[] = [];
  let failing = 0;
  const disabled = [...(useTls ? [] : ['STARTTLS']), ...(opts.auth ? [] : ['AUTH'])];
  const server = new SMTPServer({
    ...(certs ? { key: certs.keyPem, cert: certs.certPem } : {}),
    secure: false,
    disabledCommands: disabled,
    authOptional: !opts.auth,
    logger: false,
    size: MAX_BODY,
    onAuth(auth: SMTPServerAuthentication, _session: SMTPServerSession, cb: (err: Error | null | undefined, response?: { user: string }) => void) {
      if (opts.auth && auth.username === opts.auth.username && auth.password === opts.auth.password) cb(null, { user: auth.username });
      else cb(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, cb: (err?: Error | null) => void) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (failing > 0) {
          failing--;
          cb(Object.assign(new Error('Try again later (failing on purpose)'), { responseCode: 451 }));
          return;
        }
        const raw = Buffer.concat(chunks).toString('utf8');
        const mail: ReceivedMail = {
          ...parseMail(raw),
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          secure: session.secure,
          ...(typeof session.user === 'string' ? { user: session.user } : {}),
          raw,
          at: Date.now(),
        };
        mails.push(mail);
        opts.onDelivered?.(mail);
        cb(null);
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve((server.server.address() as AddressInfo).port));
  });
  return {
    host: '127.0.0.1',
    port,
    ...(certs ? { caPem: certs.caPem } : {}),
    mails,
    fail(count) {
      failing = count;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// A small MIME reader: enough for what nodemailer writes (multipart/alternative of text and HTML, base64 or
// quoted-printable, UTF-8), so a test or the sandbox can read what was sent.

function splitHeaders(block: string): Record<string, string> {
  const headers: Record<string, string> = {};
  // Folded lines continue the previous header.
  for (const line of block.replace(/\r\n[ \t]+/g, ' ').split(/\r\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

function decodeBody(body: string, encoding: string | undefined): string {
  switch ((encoding ?? '').toLowerCase()) {
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    case 'quoted-printable': {
      const bytes = body.replace(/=\r?\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
      return Buffer.from(bytes, 'latin1').toString('utf8');
    }
    default:
      return body;
  }
}

/** Decodes RFC 2047 encoded words (`=?UTF-8?Q?…?=`, `=?UTF-8?B?…?=`) in a header value. */
function decodeWords(value: string): string {
  return value.replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=\s*/g, (_, _charset: string, kind: string, text: string) =>
    kind.toUpperCase() === 'B' ? Buffer.from(text, 'base64').toString('utf8') : decodeBody(text.replace(/_/g, ' '), 'quoted-printable'),
  );
}

export function parseMail(raw: string): Pick<ReceivedMail, 'headers' | 'subject' | 'messageId' | 'text' | 'html'> {
  const split = raw.indexOf('\r\n\r\n');
  const headers = splitHeaders(split < 0 ? raw : raw.slice(0, split));
  const body = split < 0 ? '' : raw.slice(split + 4);
  const out = { headers, subject: decodeWords(headers.subject ?? ''), messageId: headers['message-id'] ?? '', text: '', html: '' };
  const visit = (partHeaders: Record<string, string>, partBody: string) => {
    const type = partHeaders['content-type'] ?? 'text/plain';
    const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
    if (type.toLowerCase().startsWith('multipart/') && boundary) {
      for (const piece of partBody.split(`--${boundary}`).slice(1)) {
        if (piece.startsWith('--')) break;
        const p = piece.replace(/^\r\n/, '');
        const at = p.indexOf('\r\n\r\n');
        visit(splitHeaders(at < 0 ? p : p.slice(0, at)), at < 0 ? '' : p.slice(at + 4).replace(/\r\n$/, ''));
      }
      return;
    }
    const decoded = decodeBody(partBody, partHeaders['content-transfer-encoding']);
    if (type.toLowerCase().startsWith('text/html')) out.html += decoded;
    else if (type.toLowerCase().startsWith('text/plain')) out.text += decoded;
  };
  visit(headers, body);
  return out;
}

/** What a receiver got, as people watching it (the sandbox) want to read it: which kind of sink, to whom, what. */
export interface DeliverySummary {
  sink: 'slack' | 'cloudevents' | 'email' | 'http';
  /** The path it was POSTed to (HTTP receivers): what tells one configured sink from another. */
  path?: string;
  /** Mail: the recipients. Slack: the webhook's path (a Slack webhook URL names its channel). CloudEvents: the audience. */
  to: string;
  subject: string;
}

/**
 * The sink, the recipient and the subject of a delivery: the mail's recipients and subject, the Slack header, the
 * CloudEvent's audience and notice. Other users' strings are made inert for the terminal.
 */
export function summarizeDelivery(d: ReceivedRequest | ReceivedMail): DeliverySummary {
  if ('raw' in d) return { sink: 'email', to: inert(d.to.join(', ')), subject: inert(d.subject) };
  let parsed: unknown;
  try {
    parsed = JSON.parse(d.body);
  } catch {
    parsed = undefined;
  }
  const p = (parsed ?? {}) as {
    blocks?: { type?: string; text?: { text?: string } }[];
    specversion?: string;
    data?: { notice?: { id?: string; audience?: { kind?: string; namespace?: string } }; request?: { name?: string; requester?: string } };
  };
  const header = p.blocks?.find((b) => b.type === 'header')?.text?.text;
  if (header !== undefined) return { sink: 'slack', path: d.path, to: d.path, subject: inert(header) };
  if (p.specversion && p.data) {
    const audience = p.data.notice?.audience;
    const to = audience?.kind === 'approvers' ? `approvers of ${audience.namespace ?? '?'}` : `requester ${p.data.request?.requester ?? '?'}`;
    return { sink: 'cloudevents', path: d.path, to: inert(to), subject: inert(`${p.data.request?.name ?? '?'}: ${p.data.notice?.id ?? '?'}`) };
  }
  return { sink: 'http', path: d.path, to: d.path, subject: `${d.body.length} bytes` };
}

/** summarizeDelivery as one line: `email to bob@example.test: [netwatch] ar-x: approval needed in payments`. */
export function describeDelivery(d: ReceivedRequest | ReceivedMail): string {
  const { sink, to, subject } = summarizeDelivery(d);
  return `${sink} to ${to}: ${subject}`;
}
