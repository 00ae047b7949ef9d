// The cluster's policy on the external networks a request may name, judged on the union of the request's
// `spec.cidrs`, never on each CIDR alone: `0.0.0.0/1` plus `128.0.0.0/1` is the whole IPv4 Internet, and seventeen
// /20s hold more addresses than one /16. Three rules:
// - cover: refused when the union covers a network of the deny list (the whole Internet by default);
// - overlap: refused when any requested address lies inside a network of the overlap list (by default link-local
//   and the clouds' instance metadata addresses, NAT64 and IPv4-mapped prefixes, plus the cluster's own ranges);
// - size: refused when the union holds more addresses of a family than the configured maximum.
// Every message names the field, the networks involved and the webhook setting that refuses (or would allow) it.
import {
  addressCount,
  canonicalCidr,
  countForPrefix,
  formatNetwork,
  parseCidr,
  parsePrefixLength,
  prefixForCount,
  rangeContains,
  rangesOverlap,
  unionCovers,
  type IpFamily,
  type Network,
} from './cidr.ts';
import type { FieldError } from './field-error.ts';

export interface CidrPolicy {
  /** Refused when the union of a request's CIDRs covers one of these: the defaults (unless off) and the additions. */
  cidrDenyList: string[];
  /** Whether DEFAULT_CIDR_DENY_LIST is part of cidrDenyList (it names the setting in messages). */
  defaultCidrDeny: boolean;
  /** Refused when a requested address lies in one of these: the defaults (unless off) and the additions. */
  cidrDenyOverlapping: string[];
  /** Whether DEFAULT_CIDR_DENY_OVERLAPPING is part of cidrDenyOverlapping. */
  defaultCidrDenyOverlapping: boolean;
  /** The cluster's own pod and Service ranges: refused like cidrDenyOverlapping, named as such in messages. */
  clusterCidrs: string[];
  /** Most IPv4 addresses one request may name: a count (`65536`) or a prefix length (`/16`). */
  cidrMaxAddressesIPv4: string;
  /** Most IPv6 addresses one request may name: a count or a prefix length (`/48`). */
  cidrMaxAddressesIPv6: string;
}

/** A network refused by default, with what it is (messages say it). */
interface DefaultEntry {
  cidr: string;
  what: string;
}

const WHOLE_INTERNET: readonly DefaultEntry[] = [
  { cidr: '0.0.0.0/0', what: 'the whole IPv4 Internet' },
  { cidr: '::/0', what: 'the whole IPv6 Internet' },
];

// Addresses a self-service grant must never reach. Metadata endpoints hand out the node's cloud credentials; a
// link-local range holds them on most clouds (AWS, GCP, Azure, OpenStack: 169.254.169.254). NAT64 prefixes and
// IPv4-mapped addresses are IPv4 written as IPv6: a grant there would reach the IPv4 addresses the IPv4 rules refuse.
const SPECIAL_PURPOSE: readonly DefaultEntry[] = [
  { cidr: '169.254.0.0/16', what: 'IPv4 link-local, where clouds serve instance metadata at 169.254.169.254' },
  { cidr: '100.100.100.200/32', what: 'the Alibaba Cloud instance metadata address' },
  { cidr: 'fe80::/10', what: 'IPv6 link-local' },
  { cidr: 'fd00:ec2::254/128', what: 'the AWS instance metadata address over IPv6' },
  { cidr: '64:ff9b::/96', what: 'the NAT64 prefix, which reaches any IPv4 address' },
  { cidr: '64:ff9b:1::/48', what: 'the local-use NAT64 prefix, which reaches IPv4 addresses' },
  { cidr: '::ffff:0:0/96', what: 'IPv4-mapped IPv6 addresses, IPv4 addresses written as IPv6' },
];

/** Refused when covered, unless an administrator turns defaultCidrDeny off: a grant to or from any address at all. */
export const DEFAULT_CIDR_DENY_LIST: readonly string[] = Object.freeze(WHOLE_INTERNET.map((e) => e.cidr));

/** Refused when overlapped, unless an administrator turns defaultCidrDenyOverlapping off. */
export const DEFAULT_CIDR_DENY_OVERLAPPING: readonly string[] = Object.freeze(SPECIAL_PURPOSE.map((e) => e.cidr));

/** As many addresses as a /16 (IPv4) or a /48 (IPv6): one site's worth, far below a provider's or a country's. */
export const DEFAULT_CIDR_MAX_ADDRESSES = Object.freeze({ ipv4: '/16', ipv6: '/48' });

/** The webhook flags behind each rule, as messages name them. */
export const CIDR_POLICY_FLAGS = Object.freeze({
  deny: '--cidr-deny',
  defaultDeny: '--default-cidr-deny',
  denyOverlapping: '--cidr-deny-overlapping',
  defaultDenyOverlapping: '--default-cidr-deny-overlapping',
  clusterCidr: '--cluster-cidr',
  maxAddressesIPv4: '--cidr-max-addresses-ipv4',
  maxAddressesIPv6: '--cidr-max-addresses-ipv6',
});

const WHAT = new Map([...WHOLE_INTERNET, ...SPECIAL_PURPOSE].map((e) => [e.cidr, e.what]));

/**
 * The most addresses of `family` a limit allows: `/N` is as many as a network of that prefix holds, a plain
 * number is a count (at least 1); null when the text is neither.
 */
export function parseAddressLimit(text: string, family: IpFamily): bigint | null {
  if (typeof text !== 'string') return null;
  if (text.startsWith('/')) {
    const prefix = parsePrefixLength(text.slice(1), family);
    return prefix === null ? null : countForPrefix(prefix, family);
  }
  if (!/^[1-9]\d{0,39}$/.test(text)) return null;
  const count = BigInt(text);
  return count <= countForPrefix(0, family) ? count : null;
}

/**
 * `65536 IPv4 addresses (a /16)`, `2^80 IPv6 addresses (a /48)`, `more than 2^81 IPv6 addresses`: counts a user can
 * compare with a prefix (IPv6 counts have up to 39 digits).
 */
export function formatAddressCount(count: bigint, family: IpFamily): string {
  const prefix = prefixForCount(count, family);
  const power = count.toString(2).length - 1;
  const amount = count < 1n << 32n ? String(count) : prefix === undefined ? `more than 2^${power}` : `2^${power}`;
  return `${amount} IPv${family} address${count === 1n ? '' : 'es'}${prefix === undefined ? '' : ` (a /${prefix})`}`;
}

/** A requested CIDR that passed the syntax checks, with its index in spec.cidrs. */
export interface RequestedCidr {
  index: number;
  cidr: string;
  network: Network;
}

const label = (r: RequestedCidr) => `spec.cidrs[${r.index}] ${r.cidr}`;

function listed(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1) ?? ''}`;
}

/** A refused network as messages show it: what it is, and the webhook setting that refuses it. */
interface Refused {
  cidr: string;
  network: Network;
  what: string | undefined;
  setting: string;
}

const setting = (flag: string) => `webhook setting ${flag}`;
const byDefault = (flag: string) => `a webhook default, lifted by --no-${flag.slice(2)}`;

interface RefusedLists {
  cover: Refused[];
  overlap: Refused[];
}

// A policy is read-only once built (webhookConfig makes a new one per start-up), and the webhook judges every
// External request against the same one: its networks are parsed once, not per request.
const parsedPolicies = new WeakMap<CidrPolicy, RefusedLists>();

/** The deny list's networks (cover) and the overlap list's and the cluster's (overlap), each with its setting. */
function refusedLists(policy: CidrPolicy): RefusedLists {
  const cached = parsedPolicies.get(policy);
  if (cached) return cached;
  const lists: RefusedLists = {
    cover: refusedOf(policy.cidrDenyList, (cidr) =>
      policy.defaultCidrDeny && DEFAULT_CIDR_DENY_LIST.includes(cidr) ? byDefault(CIDR_POLICY_FLAGS.defaultDeny) : setting(CIDR_POLICY_FLAGS.deny),
    ),
    overlap: [
      ...refusedOf(policy.cidrDenyOverlapping, (cidr) =>
        policy.defaultCidrDenyOverlapping && DEFAULT_CIDR_DENY_OVERLAPPING.includes(cidr)
          ? byDefault(CIDR_POLICY_FLAGS.defaultDenyOverlapping)
          : setting(CIDR_POLICY_FLAGS.denyOverlapping),
      ),
      ...refusedOf(policy.clusterCidrs, () => setting(CIDR_POLICY_FLAGS.clusterCidr), "the cluster's own pod or Service range"),
    ],
  };
  parsedPolicies.set(policy, lists);
  return lists;
}

function refusedOf(list: readonly string[], settingOf: (cidr: string) => string, what?: string): Refused[] {
  return list.flatMap((text) => {
    const network = parseCidr(text);
    if (!network) return [];
    const cidr = formatNetwork(network);
    return [{ cidr, network, what: what ?? WHAT.get(cidr), setting: settingOf(cidr) }];
  });
}

/** `0.0.0.0/0 (the whole IPv4 Internet)` for a network with a known meaning, the CIDR alone otherwise. */
function named(r: Refused): string {
  return r.what ? `${r.cidr} (${r.what})` : r.cidr;
}

/** `, which the cluster's CIDR policy refuses (<settings>)`, each setting once. */
function refusedBy(refused: readonly Refused[]): string {
  return `, which the cluster's CIDR policy refuses (${[...new Set(refused.map((r) => r.setting))].join('; ')})`;
}

/**
 * The policy's refusals of a request's CIDRs (valid ones, with their indexes); empty when it allows them. A refusal
 * that concerns one CIDR is on `spec.cidrs[i]`, one that only the union explains is on `spec.cidrs` and lists the
 * CIDRs involved. A CIDR refused for covering a denied network gets no further refusal, and neither does its family's
 * size: the first already asks for fewer addresses, and the rest would only repeat it.
 */
export function cidrPolicyErrors(requested: readonly RequestedCidr[], policy: CidrPolicy): FieldError[] {
  const errors: FieldError[] = [];
  const networks = requested.map((r) => r.network);
  const coveredBy = new Set<number>();
  const familiesRefused = new Set<IpFamily>();

  const { cover, overlap } = refusedLists(policy);
  for (const denied of cover) {
    if (!unionCovers(networks, denied.network)) continue;
    familiesRefused.add(denied.network.family);
    const alone = requested.find((r) => rangeContains(r.network, denied.network));
    if (alone) {
      coveredBy.add(alone.index);
      errors.push({
        field: `spec.cidrs[${alone.index}]`,
        message:
          alone.cidr === denied.cidr
            ? `${alone.cidr} is refused by the cluster's CIDR policy${denied.what ? `: it is ${denied.what}` : ''} (${denied.setting}); request a narrower network`
            : `covers ${named(denied)}${refusedBy([denied])}; request a narrower network that excludes it`,
      });
      continue;
    }
    const involved = requested.filter((r) => rangesOverlap(r.network, denied.network));
    for (const r of involved) coveredBy.add(r.index);
    errors.push({
      field: 'spec.cidrs',
      message: `${listed(involved.map(label))} together cover ${named(denied)}${refusedBy([denied])}; request networks that leave part of it out`,
    });
  }

  for (const r of requested) {
    if (coveredBy.has(r.index)) continue;
    // One message per CIDR, naming every refused network it touches (each once: a cluster range may repeat one).
    const hits = [...new Map(overlap.filter((d) => rangesOverlap(r.network, d.network)).map((d) => [d.cidr, d])).values()];
    const [only] = hits;
    if (!only) continue;
    errors.push({
      field: `spec.cidrs[${r.index}]`,
      message:
        hits.length === 1 && only.cidr === r.cidr
          ? `${r.cidr} is refused by the cluster's CIDR policy${only.what ? `: it is ${only.what}` : ''} (${only.setting}); request other addresses`
          : `${r.cidr} overlaps ${listed(hits.map(named))}${refusedBy(hits)}; request addresses outside ${hits.length > 1 ? 'them' : 'it'}`,
    });
  }

  for (const family of [4, 6] as const) {
    if (familiesRefused.has(family)) continue;
    const flag = family === 4 ? CIDR_POLICY_FLAGS.maxAddressesIPv4 : CIDR_POLICY_FLAGS.maxAddressesIPv6;
    const limitText = family === 4 ? policy.cidrMaxAddressesIPv4 : policy.cidrMaxAddressesIPv6;
    const limit = parseAddressLimit(limitText, family);
    const ofFamily = requested.filter((r) => r.network.family === family);
    if (ofFamily.length === 0) continue;
    const count = addressCount(networks, family);
    if (limit !== null && count <= limit) continue;
    const alone = ofFamily.length === 1 ? ofFamily[0] : undefined;
    const field = alone ? `spec.cidrs[${alone.index}]` : 'spec.cidrs';
    const subject = alone ? `${alone.cidr} holds` : `${listed(ofFamily.map(label))} together hold`;
    if (limit === null) {
      // Only reachable by a caller that skipped the configuration's own check (webhookConfig does it at start-up):
      // with no readable limit, fail closed.
      errors.push({ field, message: `cannot be checked: ${setting(flag)} is ${JSON.stringify(limitText)}, not a number of addresses or a prefix length` });
      continue;
    }
    errors.push({
      field,
      message: `${subject} ${formatAddressCount(count, family)}, more than the ${formatAddressCount(limit, family)} the cluster allows in one request (${setting(flag)}); request fewer addresses`,
    });
  }
  return errors;
}

/** The networks of a deny list without repeats, by canonical form; the first spelling is kept. */
export function uniqueCidrs(cidrs: readonly string[]): string[] {
  const seen = new Set<string>();
  return cidrs.filter((cidr) => {
    const key = canonicalCidr(cidr) ?? cidr;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
