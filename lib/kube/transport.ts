// The one way netwatch talks to the Kubernetes API: JSON requests and watch streams over a keep-alive agent with
// bounded sockets, from a KubeConfig (@kubernetes/client-node is the single source of the server, the TLS material
// and the credentials: tokens, token files, client certificates, exec and auth-provider plugins, proxy-url).
//
// Why not the generated client-node API classes: 2.0 builds a new undici dispatcher (and re-reads the CA and client
// certificate files) for every request, so each call pays a TCP + TLS handshake and ~1 ms of CPU, and loading them
// costs tens of megabytes and, in the plugin, most of its start-up.
//
// Credentials are re-read every `refreshMs`, at once when a file they come from changed (a rotated client
// certificate, CA or projected ServiceAccount token: checked at most every `fileCheckMs`), and after a 401. When
// the TLS material changed, the next request goes through a new agent; the old one's idle sockets close, busy ones
// finish what they carry.
//
// Each call acts one of three ways: with the kubeconfig's own identity, with a bearer token given for that call
// (over a connection that presents no client certificate, or the API server would authenticate the certificate
// instead), or impersonating a user (own credentials plus Impersonate-User/Impersonate-Group; never `system:`).
import https from 'node:https';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeError, NO_ANSWER, kubeErrorOf, kubeErrorOfEvent } from './errors.ts';
import { eachJsonLine } from './json-lines.ts';

/** Who a call acts as. */
export type Acting =
  | { kind: 'self' }
  /** A bearer token of the user's own, e.g. an OIDC ID token the API server trusts. */
  | { kind: 'token'; token: string }
  | { kind: 'impersonate'; identity: ImpersonatedUser };

export interface ImpersonatedUser {
  username: string;
  groups: readonly string[];
}

export interface TransportOptions {
  /** Upper bound of concurrent sockets to the API server, per way of connecting (default 64). */
  maxSockets?: number;
  /** How long a request may take, from asking for a socket to the last byte of the answer; for a watch, until its
   *  answer starts (default 30 s). */
  timeoutMs?: number;
  userAgent?: string;
  /** Credentials are re-read at least this often (default 60 s, as client-go re-reads token files). */
  refreshMs?: number;
  /** The files of the TLS material and token are looked at (stat) at most this often (default 1 s). */
  fileCheckMs?: number;
}

export interface CallOptions {
  as?: Acting;
  body?: unknown;
  /** Of the body (default application/json). */
  contentType?: string;
  timeoutMs?: number;
}

export interface WatchEvent<T = unknown> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';
  object: T;
}

export interface Watch {
  /** Ends the watch; `onEnd` is called without an error. */
  stop(): void;
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

type Headers = Record<string, string | string[]>;
/** Whether the agent presents the kubeconfig's client certificate (`own`) or none, and what it carries. */
type AgentKind = `${'own' | 'anonymous'} ${'request' | 'watch'}`;
type AnyAgent = http.Agent | https.Agent;

interface Tls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized?: boolean;
  servername?: string;
}

/** What the kubeconfig gave at one moment: headers of its own identity and TLS material. */
interface Material {
  headers: Headers;
  tls: Tls;
  /** Files the material came from, and their stat stamp when read. */
  files: string[];
  stamp: string;
  loadedAt: number;
  checkedAt: number;
}

const SELF: Acting = { kind: 'self' };

/**
 * What may be impersonated: never a `system:` user or group (that would let an IdP claim become a node, a
 * ServiceAccount or system:masters). Returns null when the user itself must not be impersonated.
 */
export function impersonable(identity: ImpersonatedUser): { username: string; groups: string[] } | null {
  if (identity.username.startsWith('system:')) return null;
  return { username: identity.username, groups: identity.groups.filter((g) => !g.startsWith('system:')) };
}

export class KubeTransport {
  readonly server: URL;
  private readonly base: string;
  private readonly web: typeof http | typeof https;
  private readonly timeoutMs: number;
  private material: Material | undefined;
  private refreshing: Promise<Material> | undefined;
  /** Agents for the current TLS material, by AgentKind. */
  private agents: { tls?: Tls; made: Map<AgentKind, Promise<AnyAgent>> } = { made: new Map() };
  private closed = false;

  constructor(
    private readonly kc: KubeConfig,
    private readonly options: TransportOptions = {},
  ) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    this.server = new URL(cluster.server);
    this.base = this.server.pathname.replace(/\/+$/, '');
    // A proxy agent picks its protocol from the module that calls it: an http: server goes through node:http.
    this.web = this.server.protocol === 'http:' ? http : https;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** A JSON request; resolves with the parsed answer (undefined when it is empty). */
  async request<T>(method: Method, path: string, opts: CallOptions = {}): Promise<T> {
    const text = await this.text(method, path, opts);
    if (!text) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new Error(`the API server sent invalid JSON for ${method} ${path}`, { cause: err });
    }
  }

  /** A request whose answer is returned as the API server sent it. */
  async text(method: Method, path: string, opts: CallOptions = {}): Promise<string> {
    const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    const as = opts.as ?? SELF;
    for (let attempt = 0; ; attempt++) {
      const route = await this.route(as, 'request');
      const { status, text } = await this.exchange(method, path, route, payload, opts);
      if (status >= 200 && status < 300) return text;
      // Credentials may have expired since they were read (an exec plugin's token, a rotated file): read them
      // again, and ask once more if they changed. A 401 means nothing was done, so asking again is safe.
      if (status === 401 && attempt === 0 && as.kind !== 'token' && (await this.reloadChanged(route.material))) continue;
      throw kubeErrorOf(status, text);
    }
  }

  /**
   * Streams the events of a watch (`path` carries `watch=1` and its other parameters). `onEnd` is called once: with
   * no error when the API server closed the stream or `stop()` was called, else with the error (an ERROR event
   * becomes the KubeError of its Status).
   */
  watch<T = unknown>(path: string, onEvent: (e: WatchEvent<T>) => void, onEnd: (err?: Error) => void, opts: { as?: Acting; timeoutMs?: number } = {}): Watch {
    let req: http.ClientRequest | undefined;
    let ended = false;
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    // Until the answer starts; the stream itself lasts as long as the API server keeps it (its timeoutSeconds).
    const timer = setTimeout(() => end(new KubeError(0, NO_ANSWER.timeout, `the Kubernetes API did not answer the watch ${path} within ${timeoutMs} ms`)), timeoutMs);
    const end = (err?: Error) => {
      if (ended) return;
      ended = true;
      clearTimeout(timer);
      req?.destroy();
      onEnd(err);
    };
    const as = opts.as ?? SELF;
    this.route(as, 'watch').then(
      (route) => {
        if (ended) return;
        req = this.open('GET', path, route, undefined, {}, (err, res) => {
          clearTimeout(timer);
          if (err || !res) return end(err);
          if (res.statusCode !== 200) {
            if (res.statusCode === 401) this.invalidate(route.material);
            readAll(res).then(
              (text) => end(kubeErrorOf(res.statusCode ?? 0, text)),
              (e: Error) => end(this.unreachable(e)),
            );
            return;
          }
          eachJsonLine(
            res,
            (value) => {
              const e = value as { type?: string; object?: unknown };
              if (e.type === 'ERROR') {
                end(kubeErrorOfEvent(e.object));
                return false;
              }
              onEvent(e as WatchEvent<T>);
            },
            (e) => end(e),
          );
          res.on('end', () => end());
          res.on('error', (e) => end(this.unreachable(e)));
          // Without an end: the connection broke (the API server ends a watch it times out properly).
          res.on('close', () => end(res.complete ? undefined : this.unreachable(new Error('the watch connection closed'))));
        });
      },
      (err: Error) => end(err),
    );
    return { stop: () => end() };
  }

  /** Closes every connection; the transport is not used afterwards. */
  close(): void {
    this.closed = true;
    const { made } = this.agents;
    this.agents = { made: new Map() };
    for (const agent of made.values()) void agent.then((a) => a.destroy(), () => undefined);
  }

  private async route(as: Acting, use: 'request' | 'watch'): Promise<{ agent: AnyAgent; headers: Headers; material: Material }> {
    const material = await this.fresh();
    switch (as.kind) {
      case 'self':
        return { agent: await this.agentFor(material, `own ${use}`), headers: material.headers, material };
      case 'token':
        return { agent: await this.agentFor(material, `anonymous ${use}`), headers: { Authorization: `Bearer ${as.token}` }, material };
      case 'impersonate': {
        const who = impersonable(as.identity);
        if (!who) throw new KubeError(403, 'Forbidden', 'this user may not be impersonated');
        const headers: Headers = { ...material.headers, 'Impersonate-User': who.username };
        delete headers['Impersonate-Group'];
        if (who.groups.length > 0) headers['Impersonate-Group'] = who.groups;
        return { agent: await this.agentFor(material, `own ${use}`), headers, material };
      }
    }
  }

  private exchange(method: Method, path: string, route: { agent: AnyAgent; headers: Headers }, payload: Buffer | undefined, opts: CallOptions): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (err: KubeError | undefined, answer?: { status: number; text: string }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (answer) resolve(answer);
        else reject(err ?? this.unreachable(new Error('no answer')));
      };
      const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
      const timer = setTimeout(() => {
        const err = new KubeError(0, NO_ANSWER.timeout, `the Kubernetes API did not answer ${method} ${path} within ${timeoutMs} ms`);
        req.destroy(err);
        finish(err);
      }, timeoutMs);
      const req = this.open(method, path, route, payload, opts, (err, res) => {
        if (err || !res) return finish(err);
        readAll(res).then(
          (text) => finish(undefined, { status: res.statusCode ?? 0, text }),
          (e: Error) => finish(this.unreachable(e)),
        );
      });
    });
  }

  /** Sends one request; `done` gets the response once it starts, or the error (as a KubeError) if none came. */
  private open(
    method: Method,
    path: string,
    route: { agent: AnyAgent; headers: Headers },
    payload: Buffer | undefined,
    opts: CallOptions,
    done: (err: KubeError | undefined, res?: http.IncomingMessage) => void,
  ): http.ClientRequest {
    const headers: Headers = { ...route.headers, Accept: 'application/json' };
    if (this.options.userAgent) headers['User-Agent'] = this.options.userAgent;
    if (payload) {
      headers['Content-Type'] = opts.contentType ?? 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    const url = new URL(`${this.server.origin}${this.base}${path}`);
    const req = this.web.request(url, { method, agent: route.agent, headers }, (res) => done(undefined, res));
    req.on('error', (err) => done(err instanceof KubeError ? err : this.unreachable(err)));
    req.end(payload);
    return req;
  }

  private unreachable(err: Error): KubeError {
    return new KubeError(0, NO_ANSWER.unreachable, `cannot reach the API server ${this.server.origin}${this.base}: ${err.message}`, undefined, { cause: err });
  }

  /** The current material, read again when it is due or one of its files changed. */
  private fresh(): Promise<Material> {
    const m = this.material;
    const now = Date.now();
    const refreshMs = this.options.refreshMs ?? 60_000;
    const fileCheckMs = this.options.fileCheckMs ?? 1_000;
    if (m && now - m.loadedAt < refreshMs && (m.files.length === 0 || now - m.checkedAt < fileCheckMs)) return Promise.resolve(m);
    this.refreshing ??= (async () => {
      try {
        if (m && now - m.loadedAt < refreshMs) {
          const stamp = await stampOf(m.files);
          m.checkedAt = Date.now();
          if (stamp === m.stamp) return m;
        }
        return (this.material = await this.load());
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  /** Forgets the material `used` (after a 401); true when what is read now differs from it. */
  private async reloadChanged(used: Material): Promise<boolean> {
    this.invalidate(used);
    const now = await this.fresh();
    return now !== used && (!sameHeaders(now.headers, used.headers) || !sameTls(now.tls, used.tls));
  }

  private invalidate(used: Material): void {
    if (this.material === used) used.loadedAt = 0;
  }

  private async load(): Promise<Material> {
    const cluster = this.kc.getCurrentCluster();
    const user = this.kc.getCurrentUser();
    const tokenFile = (user?.authProvider as { config?: { tokenFile?: unknown } } | undefined)?.config?.tokenFile;
    const files = [cluster?.caFile, user?.certFile, user?.keyFile, typeof tokenFile === 'string' ? tokenFile : undefined].filter((f): f is string => !!f);
    // Stamped before reading: a file replaced in between is read again at the next check, never missed.
    const stamp = await stampOf(files);
    const opts: https.RequestOptions = {};
    let headers: Headers;
    try {
      await this.kc.applyToHTTPSOptions(opts);
      headers = {};
      for (const [k, v] of Object.entries(opts.headers ?? {})) if (v !== undefined) headers[k] = Array.isArray(v) ? v.map(String) : String(v);
      if (opts.auth) headers.Authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
      // client-node keeps a token file's content for a minute; a rotated token counts from the next request.
      if (typeof tokenFile === 'string') headers.Authorization = `Bearer ${readFileSync(tokenFile, 'utf8').trim()}`;
    } catch (err) {
      throw new KubeError(0, NO_ANSWER.credentials, `cannot authenticate with the kubeconfig: ${(err as Error).message}`, undefined, { cause: err });
    }
    const tls: Tls = {};
    if (user) {
      if (opts.ca) tls.ca = opts.ca as Buffer;
      if (opts.cert) tls.cert = opts.cert as Buffer;
      if (opts.key) tls.key = opts.key as Buffer;
      if (opts.rejectUnauthorized === false) tls.rejectUnauthorized = false;
      if (opts.servername) tls.servername = opts.servername;
    } else if (cluster) {
      // Without a user client-node applies no TLS settings at all; the cluster's still hold (token mode needs them).
      const ca = cluster.caFile ? readFileSync(cluster.caFile) : cluster.caData ? Buffer.from(cluster.caData, 'base64') : undefined;
      if (ca) tls.ca = ca;
      if (cluster.skipTLSVerify) tls.rejectUnauthorized = false;
      if (cluster.tlsServerName) tls.servername = cluster.tlsServerName;
    }
    const now = Date.now();
    return { headers, tls, files, stamp, loadedAt: now, checkedAt: now };
  }

  private agentFor(material: Material, kind: AgentKind): Promise<AnyAgent> {
    if (this.closed) return Promise.reject(new Error('the Kubernetes transport is closed'));
    if (!this.agents.tls || !sameTls(this.agents.tls, material.tls)) {
      for (const old of this.agents.made.values()) void old.then(retire, () => undefined);
      this.agents = { tls: material.tls, made: new Map() };
    }
    const { made } = this.agents;
    const agent = made.get(kind) ?? this.makeAgent(material.tls, kind);
    made.set(kind, agent);
    // A failed build is not kept: the next call tries again.
    agent.catch(() => {
      if (made.get(kind) === agent) made.delete(kind);
    });
    return agent;
  }

  private async makeAgent(tls: Tls, kind: AgentKind): Promise<AnyAgent> {
    const cluster = this.kc.getCurrentCluster();
    const options = { ...tls, ...(kind.startsWith('own') ? {} : { cert: undefined, key: undefined }) };
    if (cluster?.proxyUrl) {
      // client-node knows how to build proxy agents (HTTP CONNECT, SOCKS), but keeps the first one it built for a
      // kubeconfig forever; one built by a KubeConfig of this material alone carries the current material.
      const only = new KubeConfig();
      only.loadFromClusterAndUser(
        { ...cluster, caFile: undefined, ...(options.ca ? { caData: options.ca.toString('base64') } : {}) },
        { name: 'transport', ...(options.cert && options.key ? { certData: options.cert.toString('base64'), keyData: options.key.toString('base64') } : {}) },
      );
      const o: https.RequestOptions = {};
      await only.applyToHTTPSOptions(o);
      if (!o.agent || o.agent === true) throw new Error(`no agent for the proxy ${cluster.proxyUrl}`);
      return o.agent;
    }
    // Watches hold their socket for minutes: outside the bound, or a few of them would starve every request.
    const maxSockets = kind.endsWith('watch') ? Infinity : (this.options.maxSockets ?? 64);
    if (this.web === http) return new http.Agent({ keepAlive: true, maxSockets });
    return new https.Agent({ keepAlive: true, maxSockets, ...withoutUndefined(options) });
  }
}

/** The agent of replaced TLS material: idle sockets close now, busy ones once their request is done. */
function retire(agent: AnyAgent): void {
  // Node's agent keeps a freed socket only while its keepAlive is on (the typings leave the field out).
  (agent as AnyAgent & { keepAlive: boolean }).keepAlive = false;
  for (const sockets of Object.values(agent.freeSockets)) for (const s of sockets ?? []) s.destroy();
}

async function stampOf(files: readonly string[]): Promise<string> {
  if (files.length === 0) return '';
  const stamps = await Promise.all(files.map((f) => stat(f).then((s) => `${s.ino}:${s.size}:${s.mtimeMs}`, () => 'missing')));
  return stamps.join('|');
}

function readAll(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
    res.on('close', () => {
      if (!res.complete) reject(new Error('the connection closed before the answer was complete'));
    });
  });
}

function sameTls(a: Tls, b: Tls): boolean {
  const same = (x?: Buffer, y?: Buffer) => (x && y ? x.equals(y) : x === y);
  return same(a.ca, b.ca) && same(a.cert, b.cert) && same(a.key, b.key) && a.rejectUnauthorized === b.rejectUnauthorized && a.servername === b.servername;
}

function sameHeaders(a: Headers, b: Headers): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
