// Deterministic names of everything netwatch materializes for a request, derived from the request UID only, so a
// retried (or crashed and restarted) reconcile always computes the same names and never creates duplicates.
import { createHash } from 'node:crypto';

/** The four objects a request can materialize. `source`/`target` are the two ends of the traffic. */
export type ObjectRole = 'sourceClone' | 'targetClone' | 'sourceMaxtac' | 'targetMaxtac';

// Short, letter-first prefixes: names must be DNS-1035 labels (a letter first), and maxtac embeds the Access name,
// both clone names and both namespaces in each NetworkPolicy name (at most 253 characters), so every character
// saved here leaves room for longer namespace names.
const PREFIX: Record<ObjectRole, string> = {
  sourceClone: 'nws-',
  targetClone: 'nwt-',
  sourceMaxtac: 'nwas-',
  targetMaxtac: 'nwat-',
};

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** RFC 4648 base32, lower case, no padding: 32 bytes give 52 characters that carry all 256 bits. */
export function base32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31];
  return out;
}

/** The full-entropy hash of a request UID (sha256, base32): 52 lower-case characters. */
export function requestHash(requestUid: string): string {
  if (!requestUid) throw new Error('a request UID is required to name its objects');
  return base32(createHash('sha256').update(requestUid, 'utf8').digest());
}

/**
 * The name of one object of a request. `generation` counts the extensions granted (lib/domain/actions.ts
 * grantedExtensions): maxtac counts a grant's duration from its object's creation and its duration is never edited,
 * so each extension makes a new generation of clones and maxtac objects (`-1`, `-2`, …) before the previous one goes.
 * Generation 0 keeps the names netwatch always gave.
 */
export function objectName(requestUid: string, role: ObjectRole, generation = 0): string {
  return PREFIX[role] + requestHash(requestUid) + (generation > 0 ? `-${generation}` : '');
}

/**
 * The request hash inside the name of one of netwatch's maxtac objects (`nwas-`/`nwat-` + 52 characters), or
 * undefined for any other name. maxtac names the owner in each NetworkPolicy it writes, and a policy outlives its
 * owner: this leads from such a policy back to its request when the owner is gone.
 */
export function requestHashOfMaxtacName(name: string): string | undefined {
  for (const role of ['sourceMaxtac', 'targetMaxtac'] as const) {
    const prefix = PREFIX[role];
    if (!name.startsWith(prefix)) continue;
    const hash = name.slice(prefix.length).replace(/-[1-9][0-9]?$/, '');
    return /^[a-z2-7]{52}$/.test(hash) ? hash : undefined;
  }
  return undefined;
}
