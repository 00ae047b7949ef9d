// The one NetworkPolicy evaluator: whether a flow (a pod or an address → a pod or an address, on a port and
// protocol) is let through by the NetworkPolicies in force, with Kubernetes' semantics, and why. Pure: facts in,
// verdict out. `kubectl netwatch why` and the controller's isolation check both ask it.
//
// The rules it applies (networking.k8s.io/v1):
// - A policy selects pods of its own namespace (spec.podSelector; empty = all). A pod is isolated for ingress
//   (egress) when any policy selecting it lists Ingress (Egress) in policyTypes; policyTypes unset defaults as the
//   API server does: Ingress always, Egress when egress rules exist. A pod nothing isolates in a direction has
//   everything allowed in it; an isolated one only what some rule of a policy selecting it allows. Policies add up.
// - A flow goes through when the egress side of its source (if isolated) AND the ingress side of its destination
//   (if isolated) allow it. An address outside the cluster has no side of its own.
// - A rule allows a flow when one of its ports matches (none listed = every port) and one of its peers matches (no
//   `from`/`to`, or an empty list = every source/destination).
// - A port: protocol (default TCP) must be the flow's; no port = every port of that protocol; a number, or the range
//   port..endPort; a name is looked up among the destination pod's container ports (name and protocol), so it
//   never matches an address outside the cluster.
// - A peer: ipBlock matches addresses (a pod's too) inside `cidr` and outside every `except`; podSelector alone,
//   pods of the policy's namespace; namespaceSelector alone, every pod of the namespaces it selects; both, the pods
//   podSelector selects in those namespaces. Selector peers never match an address outside the cluster. Namespaces
//   carry `kubernetes.io/metadata.name` (set by the API server), so that label is known for every namespace.
// What the reader could not read (a namespace's policies, a namespace's labels) makes an answer `unknown`, naming
// what was missing, unless something known decides it anyway (a side that is known to block blocks).
import type { NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort, Pod } from '../../kube/types.ts';
import { formatAddress, parseAddress, parseCidr, type AddressRange, type IpFamily } from '../cidr.ts';
import { allOf, selects, type Truth } from './selector.ts';

export type { Truth } from './selector.ts';
export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export type PolicyDirection = 'Ingress' | 'Egress';

export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

export interface NamedPort {
  name?: string;
  port: number;
  protocol: Protocol;
}

export interface PodFacts {
  namespace: string;
  name: string;
  labels: Readonly<Record<string, string>>;
  /** Its addresses (status.podIPs); none before it has one. A pod counts as matching an ipBlock by any of them. */
  ips: readonly string[];
  /** Its containers' ports: a policy's named port is resolved against those of the destination pod. */
  ports: readonly NamedPort[];
}

export interface NamespaceFacts {
  name: string;
  labels: Readonly<Record<string, string>>;
}

export interface ClusterFacts {
  policies: readonly NetworkPolicy[];
  /** Namespaces whose labels are known; of any other only the name is known. */
  namespaces?: readonly NamespaceFacts[];
  /** Namespaces whose NetworkPolicies could not be read: whether their pods are isolated is unknown. */
  unreadablePolicies?: readonly string[];
}

/** One end of a flow: a pod, or an address outside the cluster. */
export type Endpoint = { pod: PodFacts } | { address: string };

export interface Flow {
  from: Endpoint;
  to: Endpoint;
  /** The destination's own port (a pod's container port, not a Service's port). */
  port: number;
  protocol: Protocol;
}

export interface PolicyRef {
  namespace: string;
  name: string;
}

export interface RuleRef extends PolicyRef {
  direction: PolicyDirection;
  /** Index of the rule in spec.ingress or spec.egress. */
  rule: number;
}

export interface SideVerdict {
  direction: PolicyDirection;
  /** `namespace/name` of the pod whose policies decide this side; absent for an address outside the cluster. */
  pod?: string;
  isolated: Truth;
  /** Every policy that selects the pod with this direction in its policyTypes. */
  isolatedBy: PolicyRef[];
  /** Every rule of those policies that allows the flow. */
  allowedBy: RuleRef[];
  /** Rules that may allow it, undecided for lack of what `unknown` names. */
  undecidedBy: RuleRef[];
  allowed: Truth;
  /** What could not be read and leaves this side open (empty when it is decided). */
  unknown: string[];
}

export interface Verdict {
  allowed: Truth;
  egress: SideVerdict;
  ingress: SideVerdict;
}

const PROTOCOLS: readonly string[] = ['TCP', 'UDP', 'SCTP'];

/** The facts the evaluator needs from a Pod object. */
export function podFactsOf(pod: Pod): PodFacts {
  const ips = (pod.status?.podIPs ?? []).map((p) => p.ip).filter(Boolean);
  if (ips.length === 0 && pod.status?.podIP) ips.push(pod.status.podIP);
  const ports: NamedPort[] = [];
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) ports.push({ ...(p.name ? { name: p.name } : {}), port: p.containerPort, protocol: p.protocol ?? 'TCP' });
  }
  return { namespace: pod.metadata.namespace ?? '', name: pod.metadata.name ?? '', labels: pod.metadata.labels ?? {}, ips, ports };
}

/** A pod that has ended (Succeeded, Failed) keeps its object but takes no traffic. */
export function isRunning(pod: Pod): boolean {
  return pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';
}

/** policyTypes as the API server defaults them: Ingress always, Egress when there are egress rules. */
export function policyTypesOf(np: NetworkPolicy): PolicyDirection[] {
  if (np.spec?.policyTypes && np.spec.policyTypes.length > 0) return np.spec.policyTypes;
  return (np.spec?.egress?.length ?? 0) > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
}

/** A policy being deleted is on its way out: it no longer counts (nor did it for the controller's check before). */
function inEffect(np: NetworkPolicy): boolean {
  return !np.metadata.deletionTimestamp;
}

/** The policies that isolate `pod` in `direction`: those of its namespace selecting it with that policy type. */
export function isolatingPolicies(policies: readonly NetworkPolicy[], pod: Pick<PodFacts, 'namespace' | 'labels'>, direction: PolicyDirection): NetworkPolicy[] {
  return policies.filter(
    (np) => np.metadata.namespace === pod.namespace && inEffect(np) && policyTypesOf(np).includes(direction) && selects(np.spec?.podSelector, pod.labels) === 'yes',
  );
}

function refOf(np: NetworkPolicy): PolicyRef {
  return { namespace: np.metadata.namespace ?? '', name: np.metadata.name ?? '' };
}

type IpBlock = NonNullable<NetworkPolicyPeer['ipBlock']>;
type Address = { family: IpFamily; value: bigint };

function inRange(r: AddressRange, a: Address): boolean {
  return r.family === a.family && r.first <= a.value && a.value <= r.last;
}

function portMatches(entries: readonly NetworkPolicyPort[] | undefined, port: number, protocol: Protocol, destination: PodFacts | undefined): boolean {
  if (!entries || entries.length === 0) return true;
  return entries.some((e) => {
    const proto = e.protocol ?? 'TCP';
    if (proto !== protocol) return false;
    if (e.port === undefined || e.port === null) return true;
    if (typeof e.port === 'number') return e.endPort !== undefined && e.endPort !== null ? e.port <= port && port <= e.endPort : port === e.port;
    const name = e.port;
    return (destination?.ports ?? []).some((p) => p.name === name && p.protocol === proto && p.port === port);
  });
}

const outside = (direction: PolicyDirection): SideVerdict => ({
  direction,
  isolated: 'no',
  isolatedBy: [],
  allowedBy: [],
  undecidedBy: [],
  allowed: 'yes',
  unknown: [],
});

/** The facts indexed once; every question is then answered from them without further input. */
export class PolicyEvaluator {
  private readonly policiesByNamespace = new Map<string, NetworkPolicy[]>();
  private readonly namespaceLabels = new Map<string, Readonly<Record<string, string>>>();
  private readonly unreadable: ReadonlySet<string>;
  // Every pair with a pod asks the same questions again (why evaluates pods × pods): a pod's isolating policies, an
  // ipBlock's networks and an address are worked out once.
  private readonly isolatingCache = new WeakMap<PodFacts, Partial<Record<PolicyDirection, NetworkPolicy[]>>>();
  private readonly blocks = new WeakMap<IpBlock, { cidr: AddressRange | null; excepts: AddressRange[] }>();
  private readonly addresses = new Map<string, Address | null>();

  constructor(facts: ClusterFacts) {
    for (const np of facts.policies) {
      if (!inEffect(np)) continue;
      const ns = np.metadata.namespace ?? '';
      const list = this.policiesByNamespace.get(ns) ?? [];
      list.push(np);
      this.policiesByNamespace.set(ns, list);
    }
    for (const ns of facts.namespaces ?? []) this.namespaceLabels.set(ns.name, { ...ns.labels, [NAMESPACE_NAME_LABEL]: ns.name });
    this.unreadable = new Set(facts.unreadablePolicies ?? []);
  }

  evaluate(flow: Flow): Verdict {
    if (!PROTOCOLS.includes(flow.protocol)) throw new Error(`protocol ${String(flow.protocol)} is not TCP, UDP or SCTP`);
    const destination = 'pod' in flow.to ? flow.to.pod : undefined;
    const egress = 'pod' in flow.from ? this.side('Egress', flow.from.pod, flow.to, flow, destination) : outside('Egress');
    const ingress = destination ? this.side('Ingress', destination, flow.from, flow, destination) : outside('Ingress');
    return { allowed: allOf([egress.allowed, ingress.allowed]), egress, ingress };
  }

  /** Whether `pod` is isolated in `direction`, and by which policies. */
  isolation(pod: PodFacts, direction: PolicyDirection): { isolated: Truth; by: PolicyRef[] } {
    if (this.unreadable.has(pod.namespace)) return { isolated: 'unknown', by: [] };
    const by = this.isolating(pod, direction).map(refOf);
    return { isolated: by.length > 0 ? 'yes' : 'no', by };
  }

  private isolating(pod: PodFacts, direction: PolicyDirection): NetworkPolicy[] {
    const cached = this.isolatingCache.get(pod) ?? {};
    this.isolatingCache.set(pod, cached);
    return (cached[direction] ??= isolatingPolicies(this.policiesByNamespace.get(pod.namespace) ?? [], pod, direction));
  }

  /**
   * The verdicts for every address of `range` as one end of a flow with `pod` as the other, as the fewest
   * sub-ranges, in order, whose verdicts are equal. Only the ipBlocks of the pod's namespace can tell two addresses
   * apart, so the range is cut at their edges and one address of each piece decides for all of it.
   */
  evaluateRange(range: AddressRange, pod: PodFacts, podIs: 'from' | 'to', port: number, protocol: Protocol): { range: AddressRange; verdict: Verdict }[] {
    const cuts = new Set<bigint>();
    for (const np of this.policiesByNamespace.get(pod.namespace) ?? []) {
      for (const rule of [...(np.spec?.ingress ?? []).map((r) => r.from), ...(np.spec?.egress ?? []).map((r) => r.to)]) {
        for (const peer of rule ?? []) {
          if (!peer.ipBlock) continue;
          for (const text of [peer.ipBlock.cidr, ...(peer.ipBlock.except ?? [])]) {
            const n = parseCidr(text);
            if (!n || n.family !== range.family) continue;
            if (n.first > range.first && n.first <= range.last) cuts.add(n.first);
            if (n.last >= range.first && n.last < range.last) cuts.add(n.last + 1n);
          }
        }
      }
    }
    const starts = [range.first, ...[...cuts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))];
    const out: { range: AddressRange; verdict: Verdict }[] = [];
    starts.forEach((first, i) => {
      const last = i + 1 < starts.length ? (starts[i + 1] as bigint) - 1n : range.last;
      const address: Endpoint = { address: formatAddress(first, range.family) };
      const verdict = this.evaluate(podIs === 'to' ? { from: address, to: { pod }, port, protocol } : { from: { pod }, to: address, port, protocol });
      const previous = out.at(-1);
      if (previous && JSON.stringify(previous.verdict) === JSON.stringify(verdict)) previous.range = { ...previous.range, last };
      else out.push({ range: { family: range.family, first, last }, verdict });
    });
    return out;
  }

  private side(direction: PolicyDirection, pod: PodFacts, peer: Endpoint, flow: Flow, destination: PodFacts | undefined): SideVerdict {
    const verdict: SideVerdict = { direction, pod: `${pod.namespace}/${pod.name}`, isolated: 'no', isolatedBy: [], allowedBy: [], undecidedBy: [], allowed: 'yes', unknown: [] };
    if (this.unreadable.has(pod.namespace)) {
      return { ...verdict, isolated: 'unknown', allowed: 'unknown', unknown: [`the NetworkPolicies of namespace ${pod.namespace}`] };
    }
    const isolating = this.isolating(pod, direction);
    if (isolating.length === 0) return verdict;
    verdict.isolated = 'yes';
    verdict.isolatedBy = isolating.map(refOf);
    const unknown = new Set<string>();
    for (const np of isolating) {
      const rules: readonly { ports?: NetworkPolicyPort[]; from?: NetworkPolicyPeer[]; to?: NetworkPolicyPeer[] }[] = (direction === 'Ingress' ? np.spec?.ingress : np.spec?.egress) ?? [];
      for (let index = 0; index < rules.length; index++) {
        const rule = rules[index];
        if (!rule || !portMatches(rule.ports, flow.port, flow.protocol, destination)) continue;
        const peers = direction === 'Ingress' ? rule.from : rule.to;
        let truth: Truth = !peers || peers.length === 0 ? 'yes' : 'no';
        const missing: string[] = [];
        for (const p of peers ?? []) {
          const answer = this.peerMatches(np.metadata.namespace ?? '', p, peer);
          if (answer.truth === 'yes') {
            truth = 'yes';
            break;
          }
          if (answer.truth === 'unknown') {
            truth = 'unknown';
            if (answer.missing) missing.push(answer.missing);
          }
        }
        if (truth === 'no') continue;
        const ref: RuleRef = { ...refOf(np), direction, rule: index };
        if (truth === 'yes') verdict.allowedBy.push(ref);
        else {
          verdict.undecidedBy.push(ref);
          for (const m of missing) unknown.add(m);
        }
      }
    }
    verdict.allowed = verdict.allowedBy.length > 0 ? 'yes' : verdict.undecidedBy.length > 0 ? 'unknown' : 'no';
    if (verdict.allowed === 'unknown') verdict.unknown = [...unknown];
    return verdict;
  }

  private ipBlockMatches(block: IpBlock, addresses: readonly string[]): boolean {
    let parsed = this.blocks.get(block);
    if (!parsed) {
      parsed = { cidr: parseCidr(block.cidr), excepts: (block.except ?? []).map(parseCidr).filter((n) => n !== null) };
      this.blocks.set(block, parsed);
    }
    const { cidr, excepts } = parsed;
    if (!cidr) return false;
    return addresses.some((text) => {
      let a = this.addresses.get(text);
      if (a === undefined) {
        a = parseAddress(text);
        this.addresses.set(text, a);
      }
      return !!a && inRange(cidr, a) && !excepts.some((e) => inRange(e, a));
    });
  }

  private peerMatches(policyNamespace: string, peer: NetworkPolicyPeer, other: Endpoint): { truth: Truth; missing?: string } {
    if (peer.ipBlock) return { truth: this.ipBlockMatches(peer.ipBlock, 'pod' in other ? other.pod.ips : [other.address]) ? 'yes' : 'no' };
    // A peer naming neither is refused by the API server; a selector peer never matches an address outside.
    if ((!peer.podSelector && !peer.namespaceSelector) || !('pod' in other)) return { truth: 'no' };
    const pod = other.pod;
    const podTruth = selects(peer.podSelector, pod.labels);
    if (!peer.namespaceSelector) return { truth: allOf([podTruth, pod.namespace === policyNamespace ? 'yes' : 'no']) };
    const known = this.namespaceLabels.get(pod.namespace);
    const nsTruth = known ? selects(peer.namespaceSelector, known) : selects(peer.namespaceSelector, { [NAMESPACE_NAME_LABEL]: pod.namespace }, false);
    const truth = allOf([podTruth, nsTruth]);
    return truth === 'unknown' ? { truth, missing: `the labels of namespace ${pod.namespace}` } : { truth };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The controller's question: what a grant on a Service's pods would isolate for the first time.

/** The pods a Service selector selects in its namespace (a Service without a selector selects none). */
export function podsOfService(selector: Readonly<Record<string, string>> | undefined, namespace: string, pods: readonly PodFacts[]): PodFacts[] {
  const pinned = Object.entries(selector ?? {});
  if (pinned.length === 0) return [];
  return pods.filter((p) => p.namespace === namespace && pinned.every(([k, v]) => p.labels[k] === v));
}

export interface ServiceIsolation {
  /** Whether every pod of the Service is isolated in the direction already. */
  everyIsolated: boolean;
  /** Per pod, when the pods were given and the selector selects some; otherwise the answer is the selector's proof. */
  pods?: { isolated: string[]; notIsolated: string[] };
}

/**
 * Which pods of a Service NetworkPolicies (other than those `ignore` names) already isolate in `direction`. Given the
 * pods, per pod; without them (or when the selector selects none yet) only what the selector proves: a policy whose
 * podSelector selects every pod carrying the Service selector's labels, whatever other labels it has. A requirement
 * on another key (DoesNotExist included) is then not proven, so a pod it may leave out counts as not isolated.
 */
export function serviceIsolation(input: {
  policies: readonly NetworkPolicy[];
  namespace: string;
  selector: Readonly<Record<string, string>> | undefined;
  direction: PolicyDirection;
  pods?: readonly PodFacts[] | undefined;
  ignore?: (np: NetworkPolicy) => boolean;
}): ServiceIsolation {
  const policies = input.policies.filter((np) => !input.ignore?.(np));
  const pods = input.pods ? podsOfService(input.selector, input.namespace, input.pods) : [];
  if (pods.length > 0) {
    const isolated: string[] = [];
    const notIsolated: string[] = [];
    for (const pod of pods) (isolatingPolicies(policies, pod, input.direction).length > 0 ? isolated : notIsolated).push(pod.name);
    return { everyIsolated: notIsolated.length === 0, pods: { isolated, notIsolated } };
  }
  const labels = input.selector ?? {};
  const proven = policies.some(
    (np) =>
      np.metadata.namespace === input.namespace && inEffect(np) && policyTypesOf(np).includes(input.direction) && selects(np.spec?.podSelector, labels, false) === 'yes',
  );
  return { everyIsolated: proven };
}
