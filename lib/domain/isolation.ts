// What NetworkPolicies already do to a Service's pods, in maxtac's terms. A policy isolates the pods it selects in
// its direction, so a grant on pods nothing isolated yet would cut their other traffic: the planner skips, refuses
// or allows such a half from these answers. And the proof that a grant is in force: maxtac's own policy.
import type { LabelSelector, MaxtacDirection, MaxtacObject, NetworkPolicy } from '../kube/types.ts';

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
