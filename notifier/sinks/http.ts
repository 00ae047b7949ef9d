// One HTTP POST to a sink: TLS checked against the system's roots or the sink's own CA file, a timeout for the
// whole exchange, no redirects followed, any status but 2xx a failure. A failure's text says what went wrong in
// words that are safe to log and to store in the ledger: the status or an error code, never the URL (an incoming
// webhook's URL is its secret) and never the response body.
import http from 'node:http';
import https from 'node:https';

export class DeliveryError extends Error {
  constructor(
    message: string,
    /** From a Retry-After header (429, 503), in ms. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

export interface PostOptions {
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  ca?: Buffer;
}

/** The error codes Node reports for network and TLS failures are safe to show; anything else becomes generic. */
export function safeErrorText(e: unknown, timeoutMs: number): string {
  const err = e as { name?: string; code?: unknown };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return `no answer within ${timeoutMs / 1000}s`;
  if (typeof err?.code === 'string' && /^[A-Z0-9_]+$/.test(err.code)) return `connection failed (${err.code})`;
  return 'connection failed';
}

function retryAfter(value: string | string[] | undefined): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  const seconds = Number(text);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(text);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

export function post(url: URL, opts: PostOptions): Promise<void> {
  const client = url.protocol === 'https:' ? https : http;
  const body = Buffer.from(opts.body, 'utf8');
  return new Promise<void>((resolve, reject) => {
    const req = client.request(
      url,
      {
        method: 'POST',
        headers: { ...opts.headers, 'content-length': String(body.length), 'user-agent': 'netwatch-notifier' },
        signal: AbortSignal.timeout(opts.timeoutMs),
        // A fresh connection per delivery: deliveries are rare, and a new agent is how a changed CA file counts.
        agent: false,
        ...(url.protocol === 'https:' && opts.ca ? { ca: opts.ca } : {}),
      },
      (res) => {
        // The body is read to the end (and dropped) so the socket is released; its content is never looked at.
        res.resume();
        res.on('error', () => undefined);
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) {
          res.on('end', () => resolve());
          return;
        }
        const why = status >= 300 && status < 400 ? `HTTP ${status} (redirects are not followed)` : `HTTP ${status}`;
        reject(new DeliveryError(why, status === 429 || status === 503 ? retryAfter(res.headers['retry-after']) : undefined));
      },
    );
    req.on('error', (e) => reject(new DeliveryError(safeErrorText(e, opts.timeoutMs))));
    req.end(body);
  });
}
