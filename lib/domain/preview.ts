// The approver's preview of a request: what a grant would reach and what it would change, computed from what the
// viewer may read, never guessed. Per half (one clone and one maxtac object, desired.ts): the pods its Service
// selects now, the ports it resolves to, the direction; for External requests the addresses and their risk class;
// per side and direction whether NetworkPolicies isolate those pods already (the one evaluator's serviceIsolation,
// as the controller asks it) and what each `--isolation` setting does then; the NetworkPolicies maxtac would write
// (derived from the planned maxtac objects and clones) and, once materialized, the real ones (policiesOwnedBy).
//
// The controller's `--isolation` setting is not published to users (it is a flag of the controller's Deployment),
// so the preview states what each setting does, default first; what the controller did is in status.parts.
//
// previewOf is pure. gatherPreviewFacts reads what it needs through an injected reader, the plugin's port or the
// web UI's, so the three views (describe and request --dry-run, the TUI, the web UI) show the same thing.
import type { AccessRequest, PartName } from '../api/accessrequest.ts';
import { MAXTAC_OWNER_LABELS } from '../api/markers.ts';
import { isForbidden, isNotFound } from '../kube/errors.ts';
import type { NetworkPolicy, Pod, Service, ServicePort } from '../kube/types.ts';
import { addressCount, parseCidr, rangesOverlap, unionCovers, type AddressRange, type IpFamily } from './cidr.ts';
import { formatAddressCount } from './cidr-policy.ts';
import { desiredMaxtac, halvesOf, key, resolvePorts, type Half } from './desired.ts';
import { directionsOf, policiesOwnedBy, type PolicyOwner } from './isolation.ts';
import { isRunning, podFactsOf, podsOfService, policyTypesOf, serviceIsolation, type PolicyDirection } from './netpol/evaluate.ts';
import { selects } from './netpol/selector.ts';
import { phaseOf } from './actions.ts';
import type { IsolationPolicy } from './plan.ts';

/** Something the viewer could not read, and the sentence that says so. */
export interface Unreadable {
  unreadable: string;
}

const isUnreadable = (v: unknown): v is Unreadable => typeof v === 'object' && v !== null && 'unreadable' in v;

export interface PreviewFacts {
  request: AccessRequest;
  /** The Services the spec names, keyed `namespace/name`: the object, null when it does not exist, or unreadable. */
  services: ReadonlyMap<string, Service | null | Unreadable>;
  /** Pods per namespace of a half. */
  pods: ReadonlyMap<string, readonly Pod[] | Unreadable>;
  /** NetworkPolicies per namespace of a half. */
  policies: ReadonlyMap<string, readonly NetworkPolicy[] | Unreadable>;
  /** The cluster's own pod and Service ranges, when the viewer's tool is told them. */
  clusterCidrs?: readonly string[];
}

/** How many pods a half's Service selects now, and the first few of them. */
export type PodsPreview = { count: number; names: string[] } | Unreadable;

export interface PortPreview {
  port: number;
  protocol: string;
  /** The pods' port the NetworkPolicy names (a number, or a container port's name). */
  targetPort: number | string;
}

export type IsolationState = 'isolated' | 'would-isolate' | 'unknown';

export interface SideIsolation {
  direction: PolicyDirection;
  state: IsolationState;
  /** What is known: which pods are (not) isolated and by what, or what could not be read. */
  detail: string;
  /** What the controller does with this direction under each `--isolation` setting. */
  outcomes: Record<IsolationPolicy, string>;
  /** The traffic a grant in this direction would cut (under `allow`); empty when it cuts nothing. */
  cut: string;
}

export interface HalfPreview {
  role: Half['role'];
  part: PartName;
  namespace: string;
  /** `namespace/name` of the user's Service this half clones. */
  service: string;
  directions: PolicyDirection[];
  /** The other end, in words: `db/database` or `203.0.113.7/32`. */
  peer: string;
  pods: PodsPreview;
  ports: PortPreview[] | Unreadable;
  isolation: SideIsolation[];
}

export type CidrClass = 'public' | 'private' | 'link-local/metadata' | 'cluster' | 'special';

export interface CidrPreview {
  cidr: string;
  /** `1 IPv4 address (a /32)`. */
  addresses: string;
  classes: CidrClass[];
}

export interface PlannedPolicy {
  namespace: string;
  /** The pods it selects: the Service selector in words, or why it is not known. */
  pods: string;
  policyTypes: PolicyDirection[];
  /** Per direction, the peers it allows, in words. */
  peers: string;
  ports: string;
  /** Directions the default setting (`skip`) would leave out, because no policy isolates those pods in them yet. */
  leftOutBySkip: PolicyDirection[];
}

export interface RealPolicy {
  namespace: string;
  name: string;
  policyTypes: PolicyDirection[];
  /** `Access/name` of the maxtac object that owns it. */
  owner: string;
}

export interface RequestPreview {
  halves: HalfPreview[];
  cidrs?: { items: CidrPreview[]; total: string[] };
  /** Before materialization: what maxtac would write. */
  planned: PlannedPolicy[];
  /** Once netwatch made maxtac objects: the policies maxtac wrote for them, per namespace (or unreadable). */
  real?: { namespace: string; items: RealPolicy[] | Unreadable }[];
}

const MAX_NAMES = 5;
export const ISOLATION_SETTINGS: readonly IsolationPolicy[] = ['skip', 'refuse', 'allow'];

// ---------------------------------------------------------------------------------------------------------------
// CIDR risk classes

const PRIVATE = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'];
const LINK_LOCAL = ['169.254.0.0/16', 'fe80::/10', 'fd00:ec2::254/128', '100.100.100.200/32'];
// Neither public nor private: this host, loopback, shared (carrier-grade NAT), multicast, reserved, and IPv4 written
// as IPv6 (NAT64, mapped), which reaches IPv4 addresses of any class.
const SPECIAL = ['0.0.0.0/8', '127.0.0.0/8', '100.64.0.0/10', '224.0.0.0/4', '240.0.0.0/4', '::/128', '::1/128', 'ff00::/8', '64:ff9b::/96', '64:ff9b:1::/48', '::ffff:0:0/96'];

const ranges = (cidrs: readonly string[]): AddressRange[] => cidrs.map(parseCidr).filter((n) => n !== null);

/** The classes of address a network holds: every class it overlaps, `public` when some address is in none. */
export function cidrClasses(cidr: string, clusterCidrs: readonly string[] = []): CidrClass[] {
  const network = parseCidr(cidr);
  if (!network) return [];
  const lists: [CidrClass, AddressRange[]][] = [
    ['cluster', ranges(clusterCidrs)],
    ['link-local/metadata', ranges(LINK_LOCAL)],
    ['private', ranges(PRIVATE)],
    ['special', ranges(SPECIAL)],
  ];
  const out: CidrClass[] = lists.filter(([, rs]) => rs.some((r) => rangesOverlap(r, network))).map(([c]) => c);
  if (!unionCovers(lists.flatMap(([, rs]) => rs), network)) out.unshift('public');
  return out;
}

function cidrPreview(cidrs: readonly string[], clusterCidrs: readonly string[]): { items: CidrPreview[]; total: string[] } {
  const items = cidrs.map((cidr) => {
    const network = parseCidr(cidr);
    return {
      cidr,
      addresses: network ? formatAddressCount(network.last - network.first + 1n, network.family) : 'not a CIDR',
      classes: cidrClasses(cidr, clusterCidrs),
    };
  });
  const all = ranges(cidrs);
  const total = ([4, 6] as IpFamily[]).filter((f) => all.some((r) => r.family === f)).map((f) => formatAddressCount(addressCount(all, f), f));
  return { items, total };
}

// ---------------------------------------------------------------------------------------------------------------
// The preview

function selectorText(selector: Readonly<Record<string, string>> | undefined): string {
  const pairs = Object.entries(selector ?? {});
  return pairs.length === 0 ? '(no selector)' : pairs.map(([k, v]) => `${k}=${v}`).join(',');
}

function portText(ports: readonly PortPreview[]): string {
  return ports.map((p) => (String(p.targetPort) === String(p.port) ? `${p.port}/${p.protocol}` : `${p.port}/${p.protocol} (pods' ${p.targetPort})`)).join(', ');
}

function serviceOf(facts: PreviewFacts, where: string): Service | null | Unreadable {
  return facts.services.has(where) ? (facts.services.get(where) ?? null) : { unreadable: `Service ${where} was not read` };
}

function podsOf(facts: PreviewFacts, half: Half, service: Service | null | Unreadable): { preview: PodsPreview; names?: string[]; pods?: ReturnType<typeof podFactsOf>[] } {
  if (service === null) return { preview: { unreadable: `Service ${key(half.original.namespace, half.original.name)} does not exist` } };
  if (isUnreadable(service)) return { preview: { unreadable: `not readable by you (${service.unreadable})` } };
  const pods = facts.pods.get(half.namespace);
  if (!pods || isUnreadable(pods)) return { preview: { unreadable: `not readable by you (${pods ? pods.unreadable : `pods in ${half.namespace} were not read`})` } };
  const all = pods.filter(isRunning).map(podFactsOf);
  const selected = podsOfService(service.spec?.selector, half.namespace, all)
    .map((p) => p.name)
    .sort();
  return { preview: { count: selected.length, names: selected.slice(0, MAX_NAMES) }, names: selected, pods: all };
}

function namesText(names: readonly string[]): string {
  return names.length <= MAX_NAMES ? names.join(', ') : `${names.slice(0, MAX_NAMES).join(', ')}, …`;
}

function sideIsolation(
  facts: PreviewFacts,
  half: Half,
  direction: PolicyDirection,
  service: Service | null | Unreadable,
  pods: ReturnType<typeof podFactsOf>[] | undefined,
  peer: string,
  ports: string,
  isOwn: (np: NetworkPolicy) => boolean,
): SideIsolation {
  const where = key(half.original.namespace, half.original.name);
  const dir = direction.toLowerCase();
  const policies = facts.policies.get(half.namespace);
  const unknownOutcomes = {
    skip: `granted only if the controller sees a NetworkPolicy isolating those pods in ${dir} already; otherwise ${dir} is left out`,
    refuse: `granted only if a NetworkPolicy isolates those pods in ${dir} already; otherwise the request fails (WouldIsolate)`,
    allow: `granted; if nothing isolated those pods in ${dir}, it cuts their other ${dir} traffic`,
  };
  const unknown = (detail: string): SideIsolation => ({ direction, state: 'unknown', detail, outcomes: unknownOutcomes, cut: '' });
  if (service === null) return unknown(`Service ${where} does not exist`);
  if (isUnreadable(service)) return unknown(`not known: ${service.unreadable}`);
  if (!policies || isUnreadable(policies)) return unknown(`not known: ${policies ? policies.unreadable : `NetworkPolicies in ${half.namespace} were not read`}`);
  const selector = service.spec?.selector;
  const answer = serviceIsolation({ policies, namespace: half.namespace, selector, direction, pods, ignore: isOwn });
  // The policies that isolate (some of) those pods, by name: from the pods when known, else from the selector's proof.
  const selectedPods = pods ? podsOfService(selector, half.namespace, pods) : [];
  const isolating = policies.filter(
    (np) =>
      !isOwn(np) &&
      !np.metadata.deletionTimestamp &&
      np.metadata.namespace === half.namespace &&
      policyTypesOf(np).includes(direction) &&
      (selectedPods.length > 0 ? selectedPods.some((p) => selects(np.spec?.podSelector, p.labels) === 'yes') : selects(np.spec?.podSelector, selector ?? {}, false) === 'yes'),
  );
  const by = isolating.map((np) => np.metadata.name ?? '').sort();
  if (answer.everyIsolated) {
    const detail = answer.pods
      ? `every pod (${answer.pods.isolated.length}) is isolated in ${dir} already, by ${by.join(', ')}`
      : `isolated in ${dir} already, by ${by.join(', ')}`;
    const added = `granted; adds an allow rule, cuts nothing`;
    return { direction, state: 'isolated', detail, outcomes: { skip: added, refuse: added, allow: added }, cut: '' };
  }
  const notIsolated = answer.pods?.notIsolated ?? [];
  const total = answer.pods ? answer.pods.isolated.length + notIsolated.length : 0;
  const detail = answer.pods
    ? `no NetworkPolicy isolates ${notIsolated.length} of ${total} pods in ${dir} yet (${namesText([...notIsolated].sort())})${by.length > 0 ? `; the others by ${by.join(', ')}` : ''}`
    : `no NetworkPolicy is known to isolate the pods of ${where} in ${dir} yet${pods ? ' (it selects no pod now)' : ' (pods not readable by you: judged by its selector)'}`;
  const cut =
    direction === 'Egress'
      ? `every other egress of those pods, DNS included: anything but ${peer} on ${ports}`
      : `every other ingress to those pods: anything but ${peer} on ${ports}`;
  return {
    direction,
    state: 'would-isolate',
    detail,
    outcomes: {
      skip: `${dir} is left out (nothing is cut; the traffic is not blocked on this side now)`,
      refuse: 'the request fails (WouldIsolate); nothing is created',
      allow: `granted; cuts ${cut}`,
    },
    cut,
  };
}

function peerOf(request: AccessRequest, half: Half): string {
  const spec = request.spec;
  if (half.kind === 'ExternalAccess') return (spec.cidrs ?? []).join(', ');
  const other = half.role === 'source' ? spec.target : spec.source;
  return other ? `${other.namespace}/${other.service}` : '';
}

function peerWords(request: AccessRequest, half: Half, facts: PreviewFacts): string {
  const maxtac = desiredMaxtac(request, half, half.direction, null);
  if (maxtac.spec.targetCIDRs) return maxtac.spec.targetCIDRs.join(', ');
  const other = halvesOf(request).find((h) => h.role !== half.role);
  if (!other) return '';
  const svc = serviceOf(facts, key(other.original.namespace, other.original.name));
  const pods = svc && !isUnreadable(svc) ? `pods ${selectorText(svc.spec?.selector)}` : `the pods of ${key(other.original.namespace, other.original.name)}`;
  return `${pods} in namespace ${other.namespace}`;
}

/** The maxtac objects the request made, by the uids status recorded (any incarnation counts, as for closing). */
function ownersOf(request: AccessRequest, halves: readonly Half[]): PolicyOwner[] {
  const refs = request.status?.objects ?? [];
  return halves.map((h) => ({
    kind: h.kind,
    namespace: h.namespace,
    name: h.maxtacName,
    // status.objects is written by the controller only: every maxtac object it recorded in the half's place counts.
    uids: new Set(refs.filter((r) => r.kind === h.kind && r.namespace === h.namespace && r.uid).map((r) => r.uid ?? '')),
  }));
}

/** The owner as the policy names it (the object's real name), else the half's deterministic name. */
function ownerText(policy: NetworkPolicy, owner: PolicyOwner): string {
  const ref = (policy.metadata.ownerReferences ?? []).find((r) => owner.uids.has(r.uid));
  return ref ? `${ref.kind}/${ref.name}` : `${owner.kind}/${owner.name}`;
}

/** Object names derive from the request's UID; one not created yet (a dry run) is named with a placeholder. */
const PLACEHOLDER_UID = '00000000-0000-0000-0000-000000000000';
function named(request: AccessRequest): AccessRequest {
  return request.metadata.uid ? request : { ...request, metadata: { ...request.metadata, uid: PLACEHOLDER_UID } };
}

export function previewOf(facts: PreviewFacts): RequestPreview {
  const request = named(facts.request);
  const halves = halvesOf(request);
  // The request's own policies (once materialized) do not count: isolation is judged as before the grant.
  const owners = ownersOf(request, halves);
  const ownNames = new Set(halves.map((h) => h.maxtacName));
  const isOwn = (np: NetworkPolicy) =>
    Object.values(MAXTAC_OWNER_LABELS).some((label) => ownNames.has(np.metadata.labels?.[label] ?? '')) || policiesOwnedBy([np], owners).length > 0;
  const target = halves.find((h) => h.role === 'target');
  const targetKey = target ? key(target.original.namespace, target.original.name) : '';
  const targetService = target ? serviceOf(facts, targetKey) : null;
  // Both clones carry the target Service's requested ports (maxtac takes a policy's ports from its own clone).
  let ports: PortPreview[] | Unreadable;
  if (targetService === null) ports = { unreadable: `Service ${targetKey} does not exist` };
  else if (isUnreadable(targetService)) ports = { unreadable: `as requested (${(request.spec.ports ?? []).map((p) => `${p.port}/${p.protocol ?? 'TCP'}`).join(', ') || 'every port'}); not resolved: ${targetService.unreadable}` };
  else {
    const resolved = resolvePorts(targetService, request.spec.ports);
    ports = 'error' in resolved ? { unreadable: resolved.error } : resolved.ports.map((p: ServicePort) => ({ port: p.port, protocol: p.protocol ?? 'TCP', targetPort: p.targetPort ?? p.port }));
  }
  const portsWords = isUnreadable(ports) ? 'the requested ports' : portText(ports);
  const out: HalfPreview[] = [];
  const planned: PlannedPolicy[] = [];
  for (const h of halves) {
    const where = key(h.original.namespace, h.original.name);
    const service = serviceOf(facts, where);
    const pods = podsOf(facts, h, service);
    const directions = directionsOf(h.direction);
    const peer = peerOf(request, h);
    const isolation = directions.map((d) => sideIsolation(facts, h, d, service, pods.pods, peer, portsWords, isOwn));
    out.push({ role: h.role, part: h.part, namespace: h.namespace, service: where, directions, peer, pods: pods.preview, ports, isolation });
    planned.push({
      namespace: h.namespace,
      pods: service && !isUnreadable(service) ? `pods ${selectorText(service.spec?.selector)}` : `the pods of ${where} (${service === null ? 'it does not exist' : 'Service not readable by you'})`,
      policyTypes: directions,
      peers: directions.map((d) => `${d} ${d === 'Egress' ? 'to' : 'from'} ${peerWords(request, h, facts)}`).join('; '),
      ports: isUnreadable(ports) ? portsWords : ports.map((p) => `${p.targetPort}/${p.protocol}`).join(', '),
      leftOutBySkip: isolation.filter((s) => s.state === 'would-isolate').map((s) => s.direction),
    });
  }
  const preview: RequestPreview = { halves: out, planned };
  if (request.spec.type === 'External') preview.cidrs = cidrPreview(request.spec.cidrs ?? [], facts.clusterCidrs ?? []);
  if ((request.status?.objects ?? []).some((o) => o.kind === 'Access' || o.kind === 'ExternalAccess')) {
    preview.real = [...new Set(halves.map((h) => h.namespace))].map((namespace) => {
      const policies = facts.policies.get(namespace);
      if (!policies || isUnreadable(policies)) return { namespace, items: policies ?? { unreadable: `NetworkPolicies in ${namespace} were not read` } };
      const items = policiesOwnedBy(policies, owners).map(({ policy, owner }) => ({
        namespace,
        name: policy.metadata.name ?? '',
        policyTypes: policyTypesOf(policy),
        owner: ownerText(policy, owner),
      }));
      return { namespace, items };
    });
  }
  return preview;
}

// ---------------------------------------------------------------------------------------------------------------
// Words: the same lines in describe, --dry-run, the TUI and the web UI (each escapes them its own way).

export interface PreviewLine {
  depth: number;
  text: string;
  /** A line that names a risk: traffic a grant may cut, addresses outside the usual, something unknown. */
  warn?: boolean;
}

function podsLine(p: PodsPreview): string {
  if (isUnreadable(p)) return `pods: ${p.unreadable}`;
  if (p.count === 0) return 'pods: none selected now';
  return `pods: ${p.count} now (${p.names.join(', ')}${p.count > p.names.length ? ', …' : ''})`;
}

function portsLine(p: PortPreview[] | Unreadable): string {
  return isUnreadable(p) ? `ports: ${p.unreadable}` : `ports: ${portText(p)}`;
}

const SETTING_LABEL: Record<IsolationPolicy, string> = { skip: '--isolation=skip (default)', refuse: '--isolation=refuse', allow: '--isolation=allow' };

export function previewLines(p: RequestPreview, opts: { materialized?: boolean } = {}): PreviewLine[] {
  const lines: PreviewLine[] = [];
  const add = (depth: number, text: string, warn = false) => lines.push(warn ? { depth, text, warn } : { depth, text });
  for (const h of p.halves) {
    const verbs = h.directions.map((d) => (d === 'Egress' ? `egress to ${h.peer}` : `ingress from ${h.peer}`)).join(' and ');
    add(0, `${h.role} ${h.service} (${h.part} part): ${verbs}`);
    add(1, podsLine(h.pods), isUnreadable(h.pods));
    add(1, portsLine(h.ports), isUnreadable(h.ports));
    for (const s of h.isolation) {
      add(1, `${s.direction.toLowerCase()} isolation: ${s.detail}`, s.state !== 'isolated');
      if (s.state === 'isolated' || opts.materialized) continue;
      for (const setting of ISOLATION_SETTINGS) add(2, `${SETTING_LABEL[setting]}: ${s.outcomes[setting]}`, setting === 'allow' && s.cut !== '');
    }
  }
  if (p.cidrs) {
    add(0, `addresses: ${p.cidrs.total.join(' and ') || 'none'}`);
    for (const c of p.cidrs.items) add(1, `${c.cidr}: ${c.addresses}, ${c.classes.join(' + ') || 'unknown'}`, c.classes.some((k) => k !== 'public' && k !== 'private'));
  }
  if (p.real) {
    add(0, 'NetworkPolicies in force (written by maxtac for this request):');
    for (const r of p.real) {
      if (isUnreadable(r.items)) add(1, `${r.namespace}: not readable by you (${r.items.unreadable})`, true);
      else if (r.items.length === 0) add(1, `${r.namespace}: none`);
      else for (const np of r.items) add(1, `${np.namespace}/${np.name} (${np.policyTypes.join(', ')}) by ${np.owner}`);
    }
  } else {
    add(0, 'NetworkPolicies maxtac would write (named by maxtac):');
    for (const np of p.planned) {
      add(1, `in ${np.namespace}: ${np.pods}; ${np.peers}; ports ${np.ports}`);
      if (np.leftOutBySkip.length > 0) add(2, `under --isolation=skip without ${np.leftOutBySkip.join(', ')} (see isolation above)`, true);
    }
  }
  return lines;
}

/** A few lines for a confirmation: per half its pods, direction and ports, and the risk. */
export function previewSummary(p: RequestPreview): string[] {
  const out = p.halves.map((h) => {
    const pods = isUnreadable(h.pods) ? 'pods not readable by you' : `${h.pods.count} pod${h.pods.count === 1 ? '' : 's'}`;
    const dirs = h.directions.map((d) => d.toLowerCase()).join('+');
    const ports = isUnreadable(h.ports) ? 'ports not resolved' : portText(h.ports);
    const risks = h.isolation.filter((s) => s.state !== 'isolated');
    const risk =
      risks.length === 0
        ? 'already isolated, cuts nothing'
        : risks.map((s) => (s.state === 'unknown' ? `${s.direction.toLowerCase()} isolation unknown` : `not isolated in ${s.direction.toLowerCase()} yet: skip leaves it out, allow would cut other traffic`)).join('; ');
    return `${h.service}: ${pods}, ${dirs} ${ports}; ${risk}`;
  });
  if (p.cidrs) out.push(`addresses: ${p.cidrs.total.join(' and ')} (${[...new Set(p.cidrs.items.flatMap((c) => c.classes))].join(', ')})`);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Gathering, through the viewer's own reads

export interface PreviewReader {
  getService(namespace: string, name: string): Promise<Service | null>;
  listPods(namespace: string): Promise<Pod[]>;
  listNetworkPolicies(namespace: string): Promise<NetworkPolicy[]>;
}

/** Refusals become Unreadable, named; anything else (no answer) fails the preview. */
async function readable<T>(read: () => Promise<T>, what: string): Promise<T | Unreadable> {
  try {
    return await read();
  } catch (err) {
    if (isForbidden(err)) return { unreadable: `you may not read ${what}` };
    if (isNotFound(err)) return { unreadable: `${what}: not found` };
    throw err;
  }
}

/** Reads what the preview needs as the viewer: the spec's Services, and the pods and policies of each half's namespace. */
export async function gatherPreviewFacts(reader: PreviewReader, request: AccessRequest, opts: { clusterCidrs?: readonly string[] } = {}): Promise<PreviewFacts> {
  const halves = halvesOf(named(request));
  const serviceKeys = [...new Map(halves.map((h) => [key(h.original.namespace, h.original.name), h.original])).values()];
  const namespaces = [...new Set(halves.map((h) => h.namespace))];
  const [services, pods, policies] = await Promise.all([
    Promise.all(serviceKeys.map(async (s) => [key(s.namespace, s.name), await readable(() => reader.getService(s.namespace, s.name), `Service ${key(s.namespace, s.name)}`)] as const)),
    Promise.all(namespaces.map(async (ns) => [ns, await readable(() => reader.listPods(ns), `pods in ${ns}`)] as const)),
    Promise.all(namespaces.map(async (ns) => [ns, await readable(() => reader.listNetworkPolicies(ns), `NetworkPolicies in ${ns}`)] as const)),
  ]);
  return {
    request,
    services: new Map(services),
    pods: new Map(pods),
    policies: new Map(policies),
    ...(opts.clusterCidrs ? { clusterCidrs: opts.clusterCidrs } : {}),
  };
}

/** Whether the request has reached the point where the real policies are the answer (netwatch made maxtac objects). */
export function isMaterialized(request: AccessRequest): boolean {
  return phaseOf(request) === 'Active' || (request.status?.objects ?? []).some((o) => o.kind === 'Access' || o.kind === 'ExternalAccess');
}

