// The cluster's policy on the external networks a request may name. Every message names the network refused and
// what to request instead.
import { canonicalCidr, cidrCovers, cidrsOverlap } from './cidr.ts';

export interface CidrPolicy {
  /**
   * A requested CIDR is refused when it covers (equals or contains) one of these networks: the defaults (unless
   * defaultCidrDeny is false) and the administrator's additions, e.g. `169.254.169.254/32` to refuse any range
   * that includes a metadata endpoint.
   */
  cidrDenyList: string[];
  /**
   * Whether DEFAULT_CIDR_DENY_LIST ("the whole Internet": `0.0.0.0/0`, `::/0`) is refused whatever else
   * cidrDenyList holds. Only a cluster that really wants to grant access to or from any address turns it off.
   */
  defaultCidrDeny: boolean;
  /** A requested CIDR is refused when it overlaps one of these networks at all (e.g. node or pod ranges). */
  cidrDenyOverlapping: string[];
}

/** Refused unless an administrator sets defaultCidrDeny to false: a grant to or from any address at all. */
export const DEFAULT_CIDR_DENY_LIST: readonly string[] = Object.freeze(['0.0.0.0/0', '::/0']);

/** Policy errors for one (valid, canonical) CIDR; empty when the policy allows it. */
export function cidrPolicyErrors(cidr: string, policy: Pick<CidrPolicy, 'cidrDenyList' | 'cidrDenyOverlapping'>): string[] {
  const out: string[] = [];
  for (const denied of policy.cidrDenyList) {
    if (cidrCovers(cidr, denied)) {
      out.push(
        denied === cidr
          ? `${cidr} is refused by the cluster's CIDR policy; request a narrower network`
          : `covers ${denied}, which the cluster's CIDR policy refuses; request a narrower network that excludes it`,
      );
    }
  }
  for (const denied of policy.cidrDenyOverlapping) {
    if (cidrsOverlap(cidr, denied)) {
      out.push(`overlaps ${denied}, which the cluster's CIDR policy refuses; request addresses outside it`);
    }
  }
  return out;
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
