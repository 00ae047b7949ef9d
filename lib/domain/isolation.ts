// maxtac's directions in NetworkPolicy terms, and the proof that a grant is in force, or not yet closed: maxtac's
// own policy. Whether pods are isolated already (so that a grant would cut their other traffic) is the evaluator's
// answer (netpol/evaluate.ts, serviceIsolation).
import { MAXTAC_OWNER_LABELS } from '../api/markers.ts';
import type { MaxtacDirection, MaxtacKind, MaxtacObject, NetworkPolicy } from '../kube/types.ts';
import type { PolicyDirection } from './netpol/evaluate.ts';

export type { PolicyDirection } from './netpol/evaluate.ts';

const POLICY_DIRECTIONS: Record<MaxtacDirection, PolicyDirection[]> = {
  ingress: ['Ingress'],
  egress: ['Egress'],
  all: ['Ingress', 'Egress'],
};

/** The policy directions a maxtac direction grants; anything maxtac does not know reads as egress, as before. */
export function directionsOf(d: MaxtacDirection): PolicyDirection[] {
  return POLICY_DIRECTIONS[d] ?? ['Egress'];
}

/** The maxtac direction granting exactly these policy directions; undefined for none. */
export function maxtacDirectionOf(dirs: PolicyDirection[]): MaxtacDirection | undefined {
  const ingress = dirs.includes('Ingress');
  const egress = dirs.includes('Egress');
  if (ingress && egress) return 'all';
  if (ingress) return 'ingress';
  if (egress) return 'egress';
  return undefined;
}

/** The NetworkPolicy maxtac wrote for a maxtac object: same namespace, ownerReference to that uid. */
export function inForce(policies: NetworkPolicy[], obj: MaxtacObject): boolean {
  const uid = obj.metadata.uid;
  return (
    uid !== undefined &&
    policies.some((np) => np.metadata.namespace === obj.metadata.namespace && (np.metadata.ownerReferences ?? []).some((o) => o.uid === uid))
  );
}

/** A maxtac object a request made or would make (existing or not): where it is, and every uid it had. */
export interface PolicyOwner {
  kind: MaxtacKind;
  namespace: string;
  name: string;
  uids: ReadonlySet<string>;
}

/**
 * The NetworkPolicies maxtac wrote for any incarnation of these maxtac objects, whether the object still exists or
 * not: in its namespace, with an ownerReference to one of its uids or to its kind and name, or maxtac's owner label
 * naming it. Deliberately wider than inForce: a grant counts as closed only when none of these is left, so any sign
 * of maxtac's authorship counts (the names are netwatch's, reserved at admission).
 */
export function policiesOwnedBy(policies: readonly NetworkPolicy[], owners: readonly PolicyOwner[]): { policy: NetworkPolicy; owner: PolicyOwner }[] {
  const found: { policy: NetworkPolicy; owner: PolicyOwner }[] = [];
  for (const policy of policies) {
    const owner = owners.find(
      (o) =>
        policy.metadata.namespace === o.namespace &&
        ((policy.metadata.ownerReferences ?? []).some((r) => o.uids.has(r.uid) || (r.kind === o.kind && r.name === o.name)) ||
          policy.metadata.labels?.[MAXTAC_OWNER_LABELS[o.kind]] === o.name),
    );
    if (owner) found.push({ policy, owner });
  }
  return found;
}
