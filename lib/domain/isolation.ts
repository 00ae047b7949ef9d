// What NetworkPolicies already do to a Service's pods, in maxtac's terms. A policy isolates the pods it selects in
// its direction, so a grant on pods nothing isolated yet would cut their other traffic: the planner skips, refuses
// or allows such a half from these answers. And the proof that a grant is in force, or not yet closed: maxtac's own
// policy.
import { MAXTAC_OWNER_LABELS } from '../api/markers.ts';
import type { LabelSelector, MaxtacDirection, MaxtacKind, MaxtacObject, NetworkPolicy } from '../kube/types.ts';

export type PolicyDirection = 'Ingress' | 'Egress';

/**
 * Whether a label selector provably selects every pod that carries `podLabels` (a Service selector: the pods
 * may carry more labels, which we cannot see). Anything undecidable counts as "not proven".
 */
export function selectorCovers(selector: LabelSelector | undefined, podLabels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (podLabels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const value = podLabels[e.key];
    switch (e.operator) {
      case 'In':
        if (value === undefined || !(e.values ?? []).includes(value)) return false;
        break;
      case 'NotIn':
        if (value === undefined || (e.values ?? []).includes(value)) return false;
        break;
      case 'Exists':
        if (value === undefined) return false;
        break;
      default:
        // DoesNotExist (pods may carry the key) and unknown operators cannot be proven from a Service selector.
        return false;
    }
  }
  return true;
}

export function policyTypesOf(np: NetworkPolicy): PolicyDirection[] {
  if (np.spec?.policyTypes && np.spec.policyTypes.length > 0) return np.spec.policyTypes;
  // The API server's defaulting: Ingress always, Egress when egress rules exist.
  return (np.spec?.egress?.length ?? 0) > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
}

/** True when some NetworkPolicy other than `ignore`'s already isolates those pods in that direction. */
export function alreadyIsolated(
  policies: NetworkPolicy[],
  namespace: string,
  podLabels: Record<string, string>,
  direction: PolicyDirection,
  ignore: (np: NetworkPolicy) => boolean,
): boolean {
  return policies.some(
    (np) =>
      np.metadata.namespace === namespace &&
      !np.metadata.deletionTimestamp &&
      !ignore(np) &&
      policyTypesOf(np).includes(direction) &&
      selectorCovers(np.spec?.podSelector, podLabels),
  );
}

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
