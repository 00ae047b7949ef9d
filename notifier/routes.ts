// Who hears of a notice, and through which sink. A route is a list of items, each a sink name (`platform-slack`)
// or an email sink with an address (`mail:leads@example.com`). The approvers of a part are reached through the
// route the AccessPolicy rules that matched it name, else the route its Namespace names in an annotation, else the
// cluster default (approverRoute); the requester through the requester route, where an email sink without an
// address means the requester's own address (from the username).
//
// Approvers are people with verb `approve` in the namespace, but RBAC knows no addresses: the namespace's owners
// say where its approvals go. Sink definitions (and their secrets) stay with the administrator: an annotation or a
// policy can only name a sink, never define one.
import type { AccessPolicy } from '../lib/api/accesspolicy.ts';
import { parseRuleId } from '../lib/domain/access-policy.ts';
import type { Audience } from './notices.ts';

/** The annotation on a Namespace: the route of approval notices about parts in that namespace. */
export const ANNOTATION_NOTIFY_APPROVERS = 'netwatch.vtk.io/notify-approvers';

export const SINK_TYPES = ['slack', 'cloudevents', 'email'] as const;
export type SinkType = (typeof SINK_TYPES)[number];

export interface RouteItem {
  sink: string;
  /** Email sinks: the address. Absent on the requester route: the requester's own. */
  address?: string;
}

/** Where one notice goes: a sink, and for email the recipient. `key` names it in the ledger and the logs. */
export interface Destination {
  sink: string;
  type: SinkType;
  address?: string;
  key: string;
}

export interface RequesterAddressRule {
  /** Stripped from the username first (the API server's --oidc-username-prefix, e.g. `oidc:`). */
  stripPrefix?: string;
  /** Appended to usernames without an `@`; unset: only usernames that are addresses are reached. */
  domain?: string;
}

export interface Routing {
  /** Name → type of every configured sink. */
  sinks: ReadonlyMap<string, { type: SinkType; allowedDomains?: readonly string[] }>;
  /** Approvers of namespaces without the annotation. */
  approvers: readonly RouteItem[];
  requester: readonly RouteItem[];
  requesterAddress: RequesterAddressRule;
}

const SINK_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const DOMAIN = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
// A plain addr-spec: no display name, quotes, comments, spaces or line breaks, so an address can never carry a
// second header or recipient into a message.
const LOCAL_PART = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}$/;

export function isSinkName(name: string): boolean {
  return SINK_NAME.test(name);
}

export function isDomain(text: string): boolean {
  return DOMAIN.test(text);
}

export function isAddress(text: string): boolean {
  if (text.length > 254) return false;
  const at = text.lastIndexOf('@');
  if (at <= 0) return false;
  const local = text.slice(0, at);
  return LOCAL_PART.test(local) && !local.startsWith('.') && !local.endsWith('.') && !local.includes('..') && DOMAIN.test(text.slice(at + 1));
}

/**
 * Parses a route: items separated by commas or white space. Problems name the item and what is allowed; valid
 * items are kept either way (a namespace whose annotation has one typo still reaches the sinks it names right).
 * `requester`: an email sink may come without an address.
 */
export function parseRoute(text: string, routing: Pick<Routing, 'sinks'>, opts: { requester: boolean }): { items: RouteItem[]; problems: string[] } {
  const items: RouteItem[] = [];
  const problems: string[] = [];
  for (const raw of text.split(/[\s,]+/).filter(Boolean)) {
    const colon = raw.indexOf(':');
    const sink = colon < 0 ? raw : raw.slice(0, colon);
    const address = colon < 0 ? undefined : raw.slice(colon + 1);
    const def = routing.sinks.get(sink);
    if (!def) {
      const known = [...routing.sinks.keys()].join(', ') || 'none are configured';
      problems.push(`${JSON.stringify(raw)}: no sink named ${JSON.stringify(sink)} (configured: ${known})`);
      continue;
    }
    if (def.type !== 'email' && address !== undefined) {
      problems.push(`${JSON.stringify(raw)}: sink ${sink} is of type ${def.type} and takes no address; write ${sink}`);
      continue;
    }
    if (def.type === 'email' && address === undefined && !opts.requester) {
      problems.push(`${JSON.stringify(raw)}: email sink ${sink} needs an address here, e.g. ${sink}:approvers@example.com`);
      continue;
    }
    if (address !== undefined && !isAddress(address)) {
      problems.push(`${JSON.stringify(raw)}: ${JSON.stringify(address)} is not an email address (local-part@domain, nothing else)`);
      continue;
    }
    if (items.some((i) => i.sink === sink && i.address === address)) continue;
    items.push(address === undefined ? { sink } : { sink, address });
  }
  return { items, problems };
}

/** Where an approver route came from: the matching rules' AccessPolicies, the Namespace annotation, the cluster default. */
export type ApproverRouteSource = 'policy' | 'namespace' | 'default';

/** A route item that cannot be used, and the field that names it (`AccessPolicy payments/database, rule "postgres", notify.approvers`). */
export interface RouteProblem {
  source: Exclude<ApproverRouteSource, 'default'>;
  field: string;
  problem: string;
}

export interface ApproverRoute {
  items: RouteItem[];
  source: ApproverRouteSource;
  /** The fields the items came from (for the logs); empty for the cluster default. */
  from: string[];
  problems: RouteProblem[];
}

/** What decides where one part's approval notices go. */
export interface ApproverRouteInput {
  /** The part's namespace. */
  namespace: string;
  /** The rules that matched the part when the request was created (its `spec.policy` stamp), as namespace/policy/rule. */
  rules: readonly string[];
  /** The AccessPolicies of the namespace as they are now (the informer's). */
  policies: readonly AccessPolicy[];
  /** The Namespace's `netwatch.vtk.io/notify-approvers` annotation; undefined when it has none. */
  annotation: string | undefined;
}

/**
 * The route of one part's approval notices, by ordered checks:
 *  1. policy — each rule that matched the part at creation names its own `notify.approvers`, else its policy's
 *     `spec.notify.approvers`; the routes of all matching rules are joined (each item once). Which rules matched
 *     is the webhook's stamp, so routing agrees with the decision made at create; what they name is read now, so
 *     fixing a route needs no new request. A rule or policy deleted since names nothing.
 *  2. namespace — the Namespace annotation (an empty value routes nothing: the namespace opted out).
 *  3. default — the configuration's `routes.approvers`.
 * A policy route none of whose items can be used counts as unset (its problems are reported): a typo in a policy
 * does not silence the namespace's approvers. Bad items are reported with the field that names them.
 */
export function approverRoute(input: ApproverRouteInput, routing: Pick<Routing, 'sinks' | 'approvers'>): ApproverRoute {
  const problems: RouteProblem[] = [];
  const items: RouteItem[] = [];
  const from: string[] = [];
  for (const named of policyRoutes(input)) {
    if (from.includes(named.field)) continue;
    from.push(named.field);
    const parsed = parseRoute(named.items.join(','), routing, { requester: false });
    for (const problem of parsed.problems) problems.push({ source: 'policy', field: named.field, problem });
    for (const item of parsed.items) if (!items.some((i) => i.sink === item.sink && i.address === item.address)) items.push(item);
  }
  if (items.length > 0) return { items, source: 'policy', from, problems };
  if (input.annotation !== undefined) {
    const field = `Namespace ${input.namespace}, annotation ${ANNOTATION_NOTIFY_APPROVERS}`;
    const parsed = parseRoute(input.annotation, routing, { requester: false });
    for (const problem of parsed.problems) problems.push({ source: 'namespace', field, problem });
    return { items: parsed.items, source: 'namespace', from: [field], problems };
  }
  return { items: [...routing.approvers], source: 'default', from: [], problems };
}

/** The route each matching rule names (its own, else its policy's), with the field it is written in. */
function policyRoutes(input: ApproverRouteInput): { field: string; items: readonly string[] }[] {
  const out: { field: string; items: readonly string[] }[] = [];
  for (const id of input.rules) {
    const ref = parseRuleId(id);
    // The stamp only holds rules of the part's own namespace; anything else is not this namespace's to route.
    if (!ref || ref.namespace !== input.namespace) continue;
    const policy = input.policies.find((p) => p.metadata.namespace === ref.namespace && p.metadata.name === ref.policy && !p.metadata.deletionTimestamp);
    const rule = Array.isArray(policy?.spec?.rules) ? policy.spec.rules.find((r) => r.name === ref.rule) : undefined;
    if (!policy || !rule) continue;
    const own = rule.notify?.approvers;
    const inherited = policy.spec.notify?.approvers;
    if (Array.isArray(own)) out.push({ field: `AccessPolicy ${ref.namespace}/${ref.policy}, rule "${ref.rule}", notify.approvers`, items: own });
    else if (Array.isArray(inherited)) out.push({ field: `AccessPolicy ${ref.namespace}/${ref.policy}, spec.notify.approvers`, items: inherited });
  }
  return out;
}

/** The requester's address from the username, or undefined (a ServiceAccount, or no rule gives one). */
export function requesterAddress(username: string | undefined, rule: RequesterAddressRule): string | undefined {
  if (!username || username.startsWith('system:')) return undefined;
  const name = rule.stripPrefix && username.startsWith(rule.stripPrefix) ? username.slice(rule.stripPrefix.length) : username;
  if (name.includes('@')) return isAddress(name) ? name : undefined;
  if (!rule.domain) return undefined;
  const address = `${name}@${rule.domain}`;
  return isAddress(address) ? address : undefined;
}

export type Unroutable = 'no-address' | 'domain-not-allowed';

/**
 * The destinations of one audience's route items. Items that cannot be delivered (the requester has no address;
 * the address is outside the email sink's allowed domains) are reported, not silently dropped.
 */
export function destinationsOf(
  audience: Audience,
  items: readonly RouteItem[],
  routing: Pick<Routing, 'sinks' | 'requesterAddress'>,
  requester: string | undefined,
): { destinations: Destination[]; unroutable: { item: RouteItem; why: Unroutable }[] } {
  const destinations: Destination[] = [];
  const unroutable: { item: RouteItem; why: Unroutable }[] = [];
  for (const item of items) {
    const def = routing.sinks.get(item.sink);
    if (!def) continue;
    if (def.type !== 'email') {
      destinations.push({ sink: item.sink, type: def.type, key: item.sink });
      continue;
    }
    const address = item.address ?? (audience.kind === 'requester' ? requesterAddress(requester, routing.requesterAddress) : undefined);
    if (!address) {
      unroutable.push({ item, why: 'no-address' });
      continue;
    }
    const domain = address.slice(address.lastIndexOf('@') + 1).toLowerCase();
    if (def.allowedDomains && def.allowedDomains.length > 0 && !def.allowedDomains.some((d) => d.toLowerCase() === domain)) {
      unroutable.push({ item, why: 'domain-not-allowed' });
      continue;
    }
    const key = `${item.sink}:${address.toLowerCase()}`;
    if (!destinations.some((d) => d.key === key)) destinations.push({ sink: item.sink, type: 'email', address, key });
  }
  return { destinations, unroutable };
}
