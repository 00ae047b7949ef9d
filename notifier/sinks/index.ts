// The sinks the configuration defines, as objects that deliver one message to one destination. Secrets and CA
// files are read at every delivery (a rotated Secret counts at once); their contents never reach a log, an Event
// or the ledger: a failure says what failed in safe words (DeliveryError).
import { readFile } from 'node:fs/promises';
import type { SinkConfig } from '../config.ts';
import type { Message } from '../messages.ts';
import type { Destination, SinkType } from '../routes.ts';
import { structuredRequest } from './cloudevents.ts';
import { mailContent, sendMail } from './email.ts';
import { DeliveryError, post } from './http.ts';
import { slackPayload } from './slack.ts';

export { DeliveryError };

export interface Sink {
  readonly name: string;
  readonly type: SinkType;
  /** Delivers or throws (a DeliveryError's message is safe to log). */
  send(message: Message, destination: Destination, timeoutMs: number): Promise<void>;
}

export type ReadSecret = (path: string) => Promise<Buffer>;

async function secret(read: ReadSecret, path: string, what: string): Promise<string> {
  try {
    return (await read(path)).toString('utf8').trim();
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    throw new DeliveryError(`cannot read the ${what} file${typeof code === 'string' ? ` (${code})` : ''}`);
  }
}

async function endpoint(read: ReadSecret, path: string, plainHttp: boolean): Promise<URL> {
  const text = await secret(read, path, 'URL');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new DeliveryError('the URL file does not hold a URL');
  }
  if (url.protocol !== 'https:' && !(plainHttp && url.protocol === 'http:')) {
    throw new DeliveryError(`the URL file holds a ${url.protocol} URL; https is required${plainHttp ? '' : ' (plainHttp allows http)'}`);
  }
  return url;
}

async function optionalCa(read: ReadSecret, path: string | undefined): Promise<Buffer | undefined> {
  return path ? Buffer.from(await secret(read, path, 'CA')) : undefined;
}

/** One POST to an HTTPS sink: its URL and CA are read from their files at each delivery (they may rotate). */
async function postTo(read: ReadSecret, config: { urlFile: string; plainHttp: boolean; caFile?: string | undefined }, request: { headers: Record<string, string>; body: string }, timeoutMs: number): Promise<void> {
  const url = await endpoint(read, config.urlFile, config.plainHttp);
  const ca = await optionalCa(read, config.caFile);
  await post(url, { ...request, timeoutMs, ...(ca ? { ca } : {}) });
}

export function createSink(config: SinkConfig, read: ReadSecret = readFile): Sink {
  switch (config.type) {
    case 'slack':
      return {
        name: config.name,
        type: 'slack',
        async send(m, _d, timeoutMs) {
          await postTo(read, config, { headers: { 'content-type': 'application/json; charset=utf-8', 'idempotency-key': m.key }, body: JSON.stringify(slackPayload(m)) }, timeoutMs);
        },
      };
    case 'cloudevents':
      return {
        name: config.name,
        type: 'cloudevents',
        async send(m, _d, timeoutMs) {
          const authorization = config.authorizationFile ? await secret(read, config.authorizationFile, 'authorization') : undefined;
          const { headers, body } = structuredRequest(m);
          await postTo(read, config, { headers: { ...headers, 'idempotency-key': m.key, ...(authorization ? { authorization } : {}) }, body }, timeoutMs);
        },
      };
    case 'email':
      return {
        name: config.name,
        type: 'email',
        async send(m, d, timeoutMs) {
          if (!d.address) throw new DeliveryError('no recipient address');
          const ca = await optionalCa(read, config.caFile);
          const username = config.usernameFile ? await secret(read, config.usernameFile, 'username') : undefined;
          const password = config.passwordFile ? await secret(read, config.passwordFile, 'password') : undefined;
          try {
            await sendMail(
              {
                host: config.host,
                port: config.port,
                tls: config.tls,
                from: config.from,
                ...(username !== undefined ? { username } : {}),
                ...(password !== undefined ? { password } : {}),
                ...(ca ? { ca } : {}),
              },
              d.address,
              mailContent(m),
              timeoutMs,
            );
          } catch (e) {
            throw new DeliveryError((e as Error).message);
          }
        },
      };
  }
}

export function createSinks(configs: readonly SinkConfig[], read?: ReadSecret): Map<string, Sink> {
  return new Map(configs.map((c) => [c.name, createSink(c, read)]));
}
