// IPv4 and IPv6 networks as netwatch accepts them, and the address-range arithmetic its CIDR policy needs (the
// union of a request's networks, what it covers, how many addresses it holds). Addresses are parsed by ipaddr.js;
// this module adds the strictness of the parsers behind maxtac and the API server (Go's net/netip), which
// ipaddr.js does not have on its own: see parseAddress.
import ipaddr from 'ipaddr.js';

export type IpFamily = 4 | 6;

/** A contiguous block of addresses of one family, as unsigned integers (32 or 128 bits), both ends included. */
export interface AddressRange {
  family: IpFamily;
  first: bigint;
  last: bigint;
}

/** A network: the range its prefix spans (host bits cleared), with that prefix. */
export interface Network extends AddressRange {
  prefix: number;
}

/** The longest text read: far beyond any spelling of a CIDR, so a huge string costs nothing. */
const MAX_TEXT_LENGTH = 64;
/** 0 to 128 without leading zeros or sign: Go's netip.ParsePrefix refuses `/08`, `/+8`. */
const PREFIX_RE = /^(0|[1-9]\d{0,2})$/;
const IPV6_HEX_RE = /^[0-9A-Fa-f:]+$/;

function bitsOf(family: IpFamily): number {
  return family === 4 ? 32 : 128;
}

function fromBytes(bytes: readonly number[]): bigint {
  let value = 0n;
  for (const b of bytes) value = (value << 8n) | BigInt(b);
  return value;
}

function toBytes(value: bigint, family: IpFamily): number[] {
  const out: number[] = [];
  for (let shift = BigInt(bitsOf(family) - 8); shift >= 0n; shift -= 8n) out.push(Number((value >> shift) & 0xffn));
  return out;
}

/**
 * An address as Go (maxtac) and the API server read it, or null. ipaddr.js on its own is more lenient than they
 * are, in ways that would make netwatch read a different address than the API server stores:
 * - IPv4 it also reads as `10.1`, `167772161`, hex `0x0a.0.0.1` and octal `010.0.0.1` (as 8.0.0.1): only four
 *   decimal octets without leading zeros are accepted (isValidFourPartDecimal);
 * - an IPv4 tail of an IPv6 address it reads with leading zeros, and `::1.2.3.4` as `::ffff:1.2.3.4` where Go
 *   reads `::102:304`: the tail is converted here, so ipaddr.js only ever parses hexadecimal groups;
 * - it accepts a zone (`fe80::1%eth0`), which no NetworkPolicy can express: refused by the character check.
 */
export function parseAddress(text: string): { family: IpFamily; value: bigint } | null {
  if (!text.includes(':')) {
    if (!ipaddr.IPv4.isValidFourPartDecimal(text)) return null;
    return { family: 4, value: fromBytes(ipaddr.IPv4.parse(text).toByteArray()) };
  }
  let hex = text;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    if (!ipaddr.IPv4.isValidFourPartDecimal(tail)) return null;
    const [a = 0, b = 0, c = 0, d = 0] = ipaddr.IPv4.parse(tail).octets;
    hex = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  if (!IPV6_HEX_RE.test(hex) || !ipaddr.IPv6.isValid(hex)) return null;
  return { family: 6, value: fromBytes(ipaddr.IPv6.parse(hex).toByteArray()) };
}

function hostMask(family: IpFamily, prefix: number): bigint {
  return (1n << BigInt(bitsOf(family) - prefix)) - 1n;
}

/** A prefix length as written after the `/` (`16`), or null when it is not one for `family`. */
export function parsePrefixLength(text: string, family: IpFamily): number | null {
  if (!PREFIX_RE.test(text)) return null;
  const prefix = Number(text);
  return prefix <= bitsOf(family) ? prefix : null;
}

/** Parses `203.0.113.7/32` or `2001:db8::/64` (the prefix is mandatory); host bits are cleared. */
export function parseCidr(text: string): Network | null {
  if (typeof text !== 'string' || text.length > MAX_TEXT_LENGTH) return null;
  const slash = text.indexOf('/');
  if (slash < 0) return null;
  const address = parseAddress(text.slice(0, slash));
  const prefix = address ? parsePrefixLength(text.slice(slash + 1), address.family) : null;
  if (!address || prefix === null) return null;
  const mask = hostMask(address.family, prefix);
  const first = address.value & ~mask;
  return { family: address.family, prefix, first, last: first | mask };
}

/** An IPv4 or IPv6 network with an explicit prefix length (host bits may be set). */
export function isValidCidr(text: string): boolean {
  return parseCidr(text) !== null;
}

export function formatAddress(value: bigint, family: IpFamily): string {
  const address = ipaddr.fromByteArray(toBytes(value, family));
  return address.kind() === 'ipv6' ? (address as ipaddr.IPv6).toRFC5952String() : address.toString();
}

/** The canonical spelling of a network: host bits cleared, IPv6 in RFC 5952 form. */
export function formatNetwork(network: Network): string {
  return `${formatAddress(network.first, network.family)}/${network.prefix}`;
}

/**
 * The canonical spelling of a CIDR: host bits cleared, IPv6 in RFC 5952 form (`2001:DB8:0::1/64` →
 * `2001:db8::/64`); `null` when the text is not a CIDR.
 */
export function canonicalCidr(text: string): string | null {
  const network = parseCidr(text);
  return network ? formatNetwork(network) : null;
}

/** Whether range `outer` contains (or equals) range `inner`. */
export function rangeContains(outer: AddressRange, inner: AddressRange): boolean {
  return outer.family === inner.family && outer.first <= inner.first && inner.last <= outer.last;
}

export function rangesOverlap(a: AddressRange, b: AddressRange): boolean {
  return a.family === b.family && a.first <= b.last && b.first <= a.last;
}

/** Whether network `outer` contains (or equals) network `inner`; false when either is not a CIDR. */
export function cidrCovers(outer: string, inner: string): boolean {
  const a = parseCidr(outer);
  const b = parseCidr(inner);
  return !!a && !!b && rangeContains(a, b);
}

export function cidrsOverlap(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  return !!x && !!y && rangesOverlap(x, y);
}

/**
 * The union of some ranges as the fewest ranges: IPv4 before IPv6, ascending, disjoint, and never adjacent
 * (`10.0.0.0/25` and `10.0.0.128/25` become one range), so a network the union covers lies inside one of them.
 */
export function unionOf(ranges: readonly AddressRange[]): AddressRange[] {
  const sorted = [...ranges].sort((a, b) => a.family - b.family || (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const out: AddressRange[] = [];
  for (const r of sorted) {
    const last = out.at(-1);
    if (last && last.family === r.family && r.first <= last.last + 1n) {
      if (r.last > last.last) last.last = r.last;
    } else {
      out.push({ family: r.family, first: r.first, last: r.last });
    }
  }
  return out;
}

/** Whether the union of `ranges` contains every address of `inner`. */
export function unionCovers(ranges: readonly AddressRange[], inner: AddressRange): boolean {
  return unionOf(ranges).some((r) => rangeContains(r, inner));
}

/** How many addresses of `family` the union of `ranges` holds (overlaps counted once). */
export function addressCount(ranges: readonly AddressRange[], family: IpFamily): bigint {
  return unionOf(ranges.filter((r) => r.family === family)).reduce((n, r) => n + (r.last - r.first + 1n), 0n);
}

/** The prefix length of a network of exactly `count` addresses, or undefined when no network has that many. */
export function prefixForCount(count: bigint, family: IpFamily): number | undefined {
  if (count <= 0n || (count & (count - 1n)) !== 0n) return undefined;
  const prefix = bitsOf(family) - (count.toString(2).length - 1);
  return prefix >= 0 ? prefix : undefined;
}

/** How many addresses a `/prefix` of `family` holds. */
export function countForPrefix(prefix: number, family: IpFamily): bigint {
  return 1n << BigInt(bitsOf(family) - prefix);
}

/** The fewest networks that hold exactly the addresses of `range` (`10.0.0.1`–`10.0.0.6` is four of them). */
export function networksOfRange(range: AddressRange): Network[] {
  const bits = bitsOf(range.family);
  const out: Network[] = [];
  let first = range.first;
  while (first <= range.last) {
    // The largest block that starts at `first` (its alignment) and ends within the range.
    let size = first === 0n ? 1n << BigInt(bits) : first & -first;
    while (first + size - 1n > range.last) size >>= 1n;
    out.push({ family: range.family, prefix: bits - (size.toString(2).length - 1), first, last: first + size - 1n });
    first += size;
  }
  return out;
}
