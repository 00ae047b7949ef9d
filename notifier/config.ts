// The notifier's configuration file (JSON, mounted from a ConfigMap): the sinks, the cluster-wide routes and how a
// requester's address is found. Secrets are never in it: each is a path to a file (mounted from a Secret), read at
// each delivery so a rotated Secret counts without a restart. Parsing is pure and strict: an unknown field, a
// missing one or a bad value is refused with its JSON path and what is allowed.
import { isAbsolute } from 'node:path';
import { type EmailTls } from './sinks/email.ts';
import {
  type RequesterAddressRule,
  type RouteItem,
  type Routing,
  type SinkType,
  SINK_TYPES,
  isAddress,
  isDomain,
  isSinkName,
  parseRoute,
} from './routes.ts';

interface SinkBase {
  name: string;
}

export interface SlackSinkConfig extends SinkBase {
  type: 'slack';
  urlFile: string;
  caFile?: string;
  plainHttp: boolean;
}

export interface CloudEventsSinkConfig extends SinkBase {
  type: 'cloudevents';
  urlFile: string;
  /** The whole Authorization header value (`Bearer …`), from a file. */
  authorizationFile?: string;
  caFile?: string;
  plainHttp: boolean;
}

export interface EmailSinkConfig extends SinkBase {
  type: 'email';
  host: string;
  port: number;
  tls: EmailTls;
  from: { name: string; address: string };
  usernameFile?: string;
  passwordFile?: string;
  caFile?: string;
  /** When set, mail goes only to addresses in these domains (exactly, case-insensitive). */
  allowedDomains?: string[];
}

export type SinkConfig = SlackSinkConfig | CloudEventsSinkConfig | EmailSinkConfig;

export interface NotifierConfig {
  sinks: SinkConfig[];
  routing: Routing;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export const EMPTY_CONFIG: NotifierConfig = {
  sinks: [],
  routing: { sinks: new Map(), approvers: [], requester: [], requesterAddress: {} },
};

const EMAIL_TLS: readonly EmailTls[] = ['starttls', 'implicit', 'none'];
const HOST = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9.:-]*[A-Za-z0-9])?$/;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

class Checker {
  readonly problems: string[] = [];
  refuse(path: string, message: string): undefined {
    this.problems.push(`${path}: ${message}`);
    return undefined;
  }
  only(obj: Json, path: string, allowed: readonly string[]): void {
    for (const key of Object.keys(obj)) if (!allowed.includes(key)) this.refuse(`${path}.${key}`, `unknown field; allowed here: ${allowed.join(', ')}`);
  }
  string(obj: Json, path: string, key: string, required: boolean): string | undefined {
    const v = obj[key];
    if (v === undefined) return required ? this.refuse(`${path}.${key}`, 'is required') : undefined;
    if (typeof v !== 'string' || v === '') return this.refuse(`${path}.${key}`, 'must be a non-empty string');
    return v;
  }
  file(obj: Json, path: string, key: string, required: boolean): string | undefined {
    const v = this.string(obj, path, key, required);
    if (v !== undefined && !isAbsolute(v)) return this.refuse(`${path}.${key}`, `must be an absolute path to a mounted file; ${JSON.stringify(v)} is not`);
    return v;
  }
  boolean(obj: Json, path: string, key: string): boolean {
    const v = obj[key];
    if (v === undefined) return false;
    if (typeof v !== 'boolean') return this.refuse(`${path}.${key}`, 'must be true or false') ?? false;
    return v;
  }
}

function parseFrom(c: Checker, path: string, text: string | undefined): { name: string; address: string } | undefined {
  if (text === undefined) return undefined;
  const m = /^([^<>"\\\r\n]*)<([^<>\s]+)>$/.exec(text.trim());
  const name = m ? (m[1] ?? '').trim() : '';
  const address = m ? (m[2] ?? '') : text.trim();
  // eslint-disable-next-line no-control-regex
  if (!isAddress(address) || /[\u0000-\u001f\u007f]/.test(name)) {
    return c.refuse(path, `must be an address or "Display Name <address>"; ${JSON.stringify(text)} is not`);
  }
  return { name, address };
}

function parseSink(c: Checker, raw: unknown, path: string): SinkConfig | undefined {
  if (!isObject(raw)) return c.refuse(path, 'must be an object with name and type');
  const name = c.string(raw, path, 'name', true);
  if (name !== undefined && !isSinkName(name)) c.refuse(`${path}.name`, `must be lower-case letters, digits and "-" (at most 63); ${JSON.stringify(name)} is not`);
  const type = raw.type;
  if (typeof type !== 'string' || !(SINK_TYPES as readonly string[]).includes(type)) {
    return c.refuse(`${path}.type`, `must be one of ${SINK_TYPES.join(', ')}; ${JSON.stringify(type)} is not`);
  }
  switch (type as SinkType) {
    case 'slack':
    case 'cloudevents': {
      const fields = type === 'slack' ? ['name', 'type', 'urlFile', 'caFile', 'plainHttp'] : ['name', 'type', 'urlFile', 'authorizationFile', 'caFile', 'plainHttp'];
      c.only(raw, path, fields);
      const urlFile = c.file(raw, path, 'urlFile', true);
      const caFile = c.file(raw, path, 'caFile', false);
      const plainHttp = c.boolean(raw, path, 'plainHttp');
      if (name === undefined || urlFile === undefined) return undefined;
      const common = { name, urlFile, plainHttp, ...(caFile ? { caFile } : {}) };
      if (type === 'slack') return { ...common, type: 'slack' };
      const authorizationFile = c.file(raw, path, 'authorizationFile', false);
      return { ...common, type: 'cloudevents', ...(authorizationFile ? { authorizationFile } : {}) };
    }
    case 'email': {
      c.only(raw, path, ['name', 'type', 'host', 'port', 'tls', 'from', 'usernameFile', 'passwordFile', 'caFile', 'allowedDomains']);
      const host = c.string(raw, path, 'host', true);
      if (host !== undefined && !HOST.test(host)) c.refuse(`${path}.host`, `must be a host name or address; ${JSON.stringify(host)} is not`);
      const port = raw.port ?? 587;
      if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) c.refuse(`${path}.port`, 'must be an integer from 1 to 65535 (default 587)');
      const tls = raw.tls ?? 'starttls';
      if (typeof tls !== 'string' || !(EMAIL_TLS as readonly string[]).includes(tls)) {
        c.refuse(`${path}.tls`, `must be one of ${EMAIL_TLS.join(', ')} (default starttls); ${JSON.stringify(tls)} is not`);
      }
      const from = parseFrom(c, `${path}.from`, c.string(raw, path, 'from', true));
      const usernameFile = c.file(raw, path, 'usernameFile', false);
      const passwordFile = c.file(raw, path, 'passwordFile', false);
      if ((usernameFile === undefined) !== (passwordFile === undefined)) c.refuse(path, 'usernameFile and passwordFile go together: give both or neither');
      const caFile = c.file(raw, path, 'caFile', false);
      let allowedDomains: string[] | undefined;
      if (raw.allowedDomains !== undefined) {
        if (!Array.isArray(raw.allowedDomains) || raw.allowedDomains.some((d) => typeof d !== 'string' || !isDomain(d))) {
          c.refuse(`${path}.allowedDomains`, 'must be a list of domain names, e.g. ["example.com"]');
        } else {
          allowedDomains = raw.allowedDomains as string[];
        }
      }
      if (name === undefined || host === undefined || from === undefined) return undefined;
      return {
        name,
        type: 'email',
        host,
        port: port as number,
        tls: tls as EmailTls,
        from,
        ...(usernameFile ? { usernameFile } : {}),
        ...(passwordFile ? { passwordFile } : {}),
        ...(caFile ? { caFile } : {}),
        ...(allowedDomains ? { allowedDomains } : {}),
      };
    }
  }
}

function routeOf(c: Checker, raw: unknown, path: string, routing: Pick<Routing, 'sinks'>, requester: boolean): RouteItem[] {
  if (raw === undefined) return [];
  const list = typeof raw === 'string' ? [raw] : raw;
  if (!Array.isArray(list) || list.some((i) => typeof i !== 'string')) {
    c.refuse(path, 'must be a list of route items: sink names, or email-sink:address');
    return [];
  }
  const { items, problems } = parseRoute((list as string[]).join(','), routing, { requester });
  for (const p of problems) c.refuse(path, p);
  return items;
}

/** Parses the configuration file's text; `source` names it in the error. */
export function parseConfig(text: string, source: string): NotifierConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${source}: not valid JSON (${(e as Error).message})`);
  }
  const c = new Checker();
  if (!isObject(raw)) throw new ConfigError(`${source}: must be a JSON object with sinks, routes and requesterAddress`);
  c.only(raw, '', ['sinks', 'routes', 'requesterAddress']);
  const sinks: SinkConfig[] = [];
  if (raw.sinks !== undefined && !Array.isArray(raw.sinks)) c.refuse('sinks', 'must be a list');
  for (const [i, s] of (Array.isArray(raw.sinks) ? raw.sinks : []).entries()) {
    const sink = parseSink(c, s, `sinks[${i}]`);
    if (!sink) continue;
    if (sinks.some((o) => o.name === sink.name)) c.refuse(`sinks[${i}].name`, `${sink.name} is defined twice`);
    else sinks.push(sink);
  }
  const defs: Routing['sinks'] = new Map(sinks.map((s) => [s.name, s.type === 'email' && s.allowedDomains ? { type: s.type, allowedDomains: s.allowedDomains } : { type: s.type }]));
  const routes = raw.routes ?? {};
  let approvers: RouteItem[] = [];
  let requester: RouteItem[] = [];
  if (!isObject(routes)) {
    c.refuse('routes', 'must be an object with approvers and requester');
  } else {
    c.only(routes, 'routes', ['approvers', 'requester']);
    approvers = routeOf(c, routes.approvers, 'routes.approvers', { sinks: defs }, false);
    requester = routeOf(c, routes.requester, 'routes.requester', { sinks: defs }, true);
  }
  const rule: RequesterAddressRule = {};
  const ra = raw.requesterAddress ?? {};
  if (!isObject(ra)) {
    c.refuse('requesterAddress', 'must be an object with domain and stripPrefix');
  } else {
    c.only(ra, 'requesterAddress', ['domain', 'stripPrefix']);
    const domain = c.string(ra, 'requesterAddress', 'domain', false);
    if (domain !== undefined && !isDomain(domain)) c.refuse('requesterAddress.domain', `must be a domain name; ${JSON.stringify(domain)} is not`);
    else if (domain) rule.domain = domain;
    const strip = c.string(ra, 'requesterAddress', 'stripPrefix', false);
    if (strip) rule.stripPrefix = strip;
  }
  if (c.problems.length > 0) throw new ConfigError(`${source}: ${c.problems.join('; ')}`);
  return { sinks, routing: { sinks: defs, approvers, requester, requesterAddress: rule } };
}

/** Every secret or CA file the configuration names, with the field that names it (start-up checks them). */
export function filesOf(config: NotifierConfig): { path: string; field: string }[] {
  const out: { path: string; field: string }[] = [];
  for (const [i, s] of config.sinks.entries()) {
    const files: [string, string | undefined][] =
      s.type === 'email'
        ? [['usernameFile', s.usernameFile], ['passwordFile', s.passwordFile], ['caFile', s.caFile]]
        : [['urlFile', s.urlFile], ['caFile', s.caFile], ...(s.type === 'cloudevents' ? ([['authorizationFile', s.authorizationFile]] as [string, string | undefined][]) : [])];
    for (const [field, path] of files) if (path) out.push({ path, field: `sinks[${i}].${field} (${s.name})` });
  }
  return out;
}
