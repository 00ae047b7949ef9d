// maxtac's directions in NetworkPolicy terms, and the proof that a grant is in force: maxtac's own policy. Whether
// pods are isolated already (so that a grant would cut their other traffic) is the evaluator's answer
// (netpol/evaluate.ts, serviceIsolation).
import type { MaxtacDirection, MaxtacObject, NetworkPolicy } from '../kube/types.ts';
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
