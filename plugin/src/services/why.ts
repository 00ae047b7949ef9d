// `kubectl netwatch why`: is FROM → TO on PORT let through by the NetworkPolicies in force, and why? A static
// answer from what the user may read (the Services, their pods, the NetworkPolicies and the labels of the
// namespaces involved), computed by the one evaluator (lib/domain/netpol/evaluate.ts) for every pod pair behind the
// two Services, or every address of a CIDR against the target's pods. What the user may not read is named, never
// guessed: the answer is then `unknown` unless what is known decides it anyway.
import type { Port, Protocol } from '../../../lib/api/accessrequest.ts';
import { formatNetwork, networksOfRange, parseAddress, parseCidr, type Network } from '../../../lib/domain/cidr.ts';
import {
  PolicyEvaluator,
  isRunning,
  podFactsOf,
  podsOfService,
  type NamespaceFacts,
  type PodFacts,
  type RuleRef,
  type SideVerdict,
  type Truth,
  type Verdict,
} from '../../../lib/domain/netpol/evaluate.ts';
import { isForbidden } from '../../../lib/kube/errors.ts';
import type { NetworkPolicy, Service } from '../../../lib/kube/types.ts';
import { UserError, explain } from '../errors.ts';
import { inert } from '../../../lib/text/inert.ts';
import type { ClusterPort } from './port.ts';
import { parsePort, parseServiceRef } from './requests.ts';

export type End = { service: { namespace: string; name: string } } | { cidr: Network };

export interface WhyQuery {
  from: End;
  to: { service: { namespace: string; name: string } };
  /** The target Service's port (or, when it has no such port, the pods' own). */
  port: Port & { protocol: Protocol };
}

/** What the user typed: `--from NS/SVC|CIDR --to NS/SVC --port P[/PROTO]`. */
export function whyQuery(input: { from: string; to: string; port: string }, defaultNamespace: string): WhyQuery {
  const from = endOf(input.from, defaultNamespace);
  const to = parseServiceRef(input.to, defaultNamespace, '--to');
  const port = parsePort(input.port, '--port', '--port 5432/TCP');
  return { from, to: { service: { namespace: to.namespace, name: to.service } }, port: { port: port.port, protocol: port.protocol ?? 'TCP' } };
}

function endOf(text: string, defaultNamespace: string): End {
  const network = parseCidr(text) ?? hostNetwork(text);
  if (network) return { cidr: network };
  // Digits and dots (or a colon) are meant as an address: say what is wrong with it rather than call it a Service.
  if (/^[\d.]+(\/.*)?$/.test(text) || text.includes(':')) {
    throw new UserError(`--from "${inert(text)}" is not an address or CIDR`, 'e.g. --from 203.0.113.7/32 or --from 2001:db8::/64 (or --from NAMESPACE/SERVICE)');
  }
  const ref = parseServiceRef(text, defaultNamespace, '--from');
  return { service: { namespace: ref.namespace, name: ref.service } };
}

function hostNetwork(text: string): Network | null {
  const a = parseAddress(text);
  return a ? parseCidr(`${text}/${a.family === 4 ? 32 : 128}`) : null;
}

// ---------------------------------------------------------------------------------------------------------------
// The answer

export type Answer = 'allowed' | 'blocked' | 'partly allowed' | 'unknown';

export interface SideSummary {
  direction: 'egress' | 'ingress';
  /** The Service whose pods this side is about. */
  of: string;
  /** Whether its pods could be listed (else `pods` is 0 and nothing below is known). */
  podsKnown: boolean;
  pods: number;
  /** How many of them are isolated in this direction ('unknown' ones are counted apart). */
  isolatedPods: number;
  unknownPods: number;
  isolatedBy: string[];
  allowedBy: string[];
  unknown: string[];
}

export interface PairResult {
  /** A pod (`namespace/name`) or a piece of the CIDR. */
  from: string;
  to: string;
  /** The destination pod's port the flow reaches, when it has one. */
  port?: number;
  allowed: Truth;
  /** Why this pair was not evaluated (the pod does not serve the port). */
  note?: string;
  egress?: SideVerdict;
  ingress?: SideVerdict;
}

export interface WhyResult {
  from: { service: string; pods: string[] } | { cidr: string };
  to: { service: string; pods: string[] };
  port: number;
  protocol: Protocol;
  answer: Answer;
  /** The source pods' egress side (absent for addresses outside the cluster, which no policy governs). */
  egress?: SideSummary;
  ingress: SideSummary;
  pairs: PairResult[];
  /** What the user may not read, each naming the read refused. */
  notReadable: string[];
  notes: string[];
  /** The command that would open the flow, when it is not allowed. */
  open?: string;
}

interface Facts {
  services: Map<string, Service | null>;
  pods: Map<string, PodFacts[]>;
  policies: Map<string, NetworkPolicy[]>;
  namespaces: NamespaceFacts[];
  notReadable: string[];
}

const key = (s: { namespace: string; name: string }) => `${s.namespace}/${s.name}`;

/** Reads what the query needs, as the user; a refused read is recorded, never an error. */
async function gather(port: ClusterPort, q: WhyQuery): Promise<Facts> {
  const facts: Facts = { services: new Map(), pods: new Map(), policies: new Map(), namespaces: [], notReadable: [] };
  const read = async <T>(what: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (err) {
      if (isForbidden(err)) {
        facts.notReadable.push(what);
        return undefined;
      }
      throw explain(err, `reading ${what}`);
    }
  };
  const services = 'service' in q.from ? [q.from.service, q.to.service] : [q.to.service];
  const namespaces = [...new Set(services.map((s) => s.namespace))];
  await Promise.all([
    ...services.map(async (s) => {
      const svc = await read(`Service ${key(s)} (get services in ${s.namespace})`, () => port.getService(s.namespace, s.name));
      if (svc !== undefined) facts.services.set(key(s), svc);
    }),
    ...namespaces.map(async (ns) => {
      const pods = await read(`the pods of namespace ${ns} (list pods in ${ns})`, () => port.listPods(ns));
      if (pods) facts.pods.set(ns, pods.filter(isRunning).map(podFactsOf));
      const policies = await read(`the NetworkPolicies of namespace ${ns} (list networkpolicies in ${ns})`, () => port.listLabelled('networkpolicies', ns, ''));
      if (policies) facts.policies.set(ns, policies);
      // The labels matter only to namespaceSelectors that look past the name; the evaluator names them if they do.
      const namespace = await read(`the labels of namespace ${ns} (get namespaces ${ns})`, () => port.getNamespace(ns));
      if (namespace) facts.namespaces.push({ name: ns, labels: namespace.metadata.labels ?? {} });
    }),
  ]);
  for (const s of services) {
    if (facts.services.get(key(s)) === null) throw new UserError(`Service ${inert(key(s))} does not exist`, `list Services with: kubectl get services -n ${inert(s.namespace)}`);
  }
  return facts;
}

/** Which of the Service's pods we can name, or why not. */
function podsOf(facts: Facts, s: { namespace: string; name: string }): { pods: PodFacts[] } | { missing: string } {
  const svc = facts.services.get(key(s));
  if (!svc) return { missing: `the pods of Service ${key(s)}: its selector could not be read` };
  const selector = svc.spec?.selector ?? {};
  if (Object.keys(selector).length === 0) return { missing: `the pods of Service ${key(s)}: it has no selector, so NetworkPolicies see no pods behind it` };
  const all = facts.pods.get(s.namespace);
  if (!all) return { missing: `the pods of Service ${key(s)}: the pods of namespace ${s.namespace} could not be read` };
  return { pods: podsOfService(selector, s.namespace, all) };
}

/** The destination pod's port for the target Service's port: its targetPort, by number or by container port name. */
function podPortOf(svc: Service | undefined, q: WhyQuery, notes: string[]): (pod: PodFacts) => number | undefined {
  const sp = svc?.spec?.ports?.find((p) => p.port === q.port.port && (p.protocol ?? 'TCP') === q.port.protocol);
  if (!sp) {
    if (svc) notes.push(`${q.port.port}/${q.port.protocol} is not a port of Service ${key(q.to.service)}: evaluated as the pods' own port`);
    return () => q.port.port;
  }
  const target = sp.targetPort ?? sp.port;
  if (typeof target === 'number') return () => target;
  if (/^\d+$/.test(target)) return () => Number(target);
  return (pod) => pod.ports.find((p) => p.name === target && p.protocol === q.port.protocol)?.port;
}

const policyName = (r: { namespace: string; name: string }) => `${r.namespace}/${r.name}`;
const ruleName = (r: RuleRef) => `${policyName(r)} ${r.direction.toLowerCase()} rule ${r.rule + 1}`;

function summarize(direction: 'egress' | 'ingress', of: string, pods: PodFacts[] | undefined, ev: PolicyEvaluator, pairs: PairResult[]): SideSummary {
  const dir = direction === 'egress' ? 'Egress' : 'Ingress';
  const isolation = (pods ?? []).map((p) => ev.isolation(p, dir));
  const verdicts = pairs.map((p) => p[direction]).filter((v): v is SideVerdict => !!v);
  const unique = (xs: string[]) => [...new Set(xs)];
  return {
    direction,
    of,
    podsKnown: pods !== undefined,
    pods: pods?.length ?? 0,
    isolatedPods: isolation.filter((i) => i.isolated === 'yes').length,
    unknownPods: isolation.filter((i) => i.isolated === 'unknown').length,
    isolatedBy: unique(isolation.flatMap((i) => i.by.map(policyName))),
    allowedBy: unique(verdicts.flatMap((v) => v.allowedBy.map(ruleName))),
    unknown: unique(verdicts.flatMap((v) => v.unknown)),
  };
}

function answerOf(pairs: PairResult[]): Answer {
  const values = pairs.map((p) => p.allowed);
  if (values.length === 0 || values.includes('unknown')) return 'unknown';
  if (values.every((v) => v === 'yes')) return 'allowed';
  if (values.every((v) => v === 'no')) return 'blocked';
  return 'partly allowed';
}

/** The request that would open the flow of `q`: the one `why` prints as a command and the TUI fills its form with. */
export type OpeningRequest =
  | { type: 'Service'; from: { namespace: string; name: string }; to: { namespace: string; name: string }; port: Port & { protocol: Protocol } }
  | { type: 'External'; cidr: string; to: { namespace: string; name: string }; direction: 'ingress'; port: Port & { protocol: Protocol } };

export function openingRequest(q: WhyQuery): OpeningRequest {
  if ('cidr' in q.from) return { type: 'External', cidr: formatNetwork(q.from.cidr), to: q.to.service, direction: 'ingress', port: q.port };
  return { type: 'Service', from: q.from.service, to: q.to.service, port: q.port };
}

/** A request names ports of the target Service: the flow can be asked for only on one of them. */
function requestable(q: WhyQuery, target: Service | undefined): boolean {
  return !!target?.spec?.ports?.some((p) => p.port === q.port.port && (p.protocol ?? 'TCP') === q.port.protocol);
}

function requestCommand(o: OpeningRequest): string {
  const rest = `--ports ${o.port.port}/${o.port.protocol} --duration 1h --reason "<why you need it>"`;
  const to = key(o.to);
  if (o.type === 'External') return `kubectl netwatch request external --cidr ${o.cidr} --to ${to} --direction ${o.direction} ${rest}`;
  return `kubectl netwatch request service --from ${key(o.from)} --to ${to} ${rest}`;
}

/** The answer for `q`, from what the user may read through `port`. */
export async function why(port: ClusterPort, q: WhyQuery): Promise<WhyResult> {
  const facts = await gather(port, q);
  const notes: string[] = [];
  const ev = new PolicyEvaluator({
    policies: [...facts.policies.values()].flat(),
    namespaces: facts.namespaces,
    unreadablePolicies: [...new Set([...('service' in q.from ? [q.from.service.namespace] : []), q.to.service.namespace])].filter((ns) => !facts.policies.has(ns)),
  });
  const targetSvc = facts.services.get(key(q.to.service)) ?? undefined;
  const podPort = podPortOf(targetSvc, q, notes);
  const targets = podsOf(facts, q.to.service);
  const sources = 'service' in q.from ? podsOf(facts, q.from.service) : undefined;
  const notReadable = [...facts.notReadable];
  for (const side of [sources, targets]) if (side && 'missing' in side) notes.push(`cannot list ${side.missing}`);
  const targetPods = 'pods' in targets ? targets.pods : [];
  const sourcePods = sources && 'pods' in sources ? sources.pods : [];
  if ('pods' in targets && targetPods.length === 0) notes.push(`Service ${key(q.to.service)} selects no running pod`);
  if (sources && 'pods' in sources && sourcePods.length === 0 && 'service' in q.from) notes.push(`Service ${key(q.from.service)} selects no running pod`);

  const pairs: PairResult[] = [];
  const flowFor = (to: PodFacts): { port: number } | { note: string } => {
    const p = podPort(to);
    return p === undefined ? { note: `${to.namespace}/${to.name} has no container port for ${q.port.port}/${q.port.protocol}` } : { port: p };
  };
  for (const to of targetPods) {
    const f = flowFor(to);
    const toName = `${to.namespace}/${to.name}`;
    if ('cidr' in q.from) {
      if ('note' in f) {
        pairs.push({ from: formatNetwork(q.from.cidr), to: toName, allowed: 'no', note: f.note });
        continue;
      }
      for (const piece of ev.evaluateRange(q.from.cidr, to, 'to', f.port, q.port.protocol)) {
        for (const n of networksOfRange(piece.range)) pairs.push(pairOf(formatNetwork(n), toName, f.port, piece.verdict));
      }
      continue;
    }
    for (const from of sourcePods) {
      const fromName = `${from.namespace}/${from.name}`;
      // A pod reaching itself is left out, as Kubernetes' own suite leaves it out: engines differ there.
      if (fromName === toName) continue;
      if ('note' in f) pairs.push({ from: fromName, to: toName, allowed: 'no', note: f.note });
      else pairs.push(pairOf(fromName, toName, f.port, ev.evaluate({ from: { pod: from }, to: { pod: to }, port: f.port, protocol: q.port.protocol })));
    }
  }
  if (sourcePods.some((s) => targetPods.includes(s))) notes.push('a pod behind both Services reaching itself is left out (NetworkPolicy engines differ there)');

  const answer = sources && 'missing' in sources ? 'unknown' : 'missing' in targets ? 'unknown' : answerOf(pairs);
  const result: WhyResult = {
    from: 'cidr' in q.from ? { cidr: formatNetwork(q.from.cidr) } : { service: key(q.from.service), pods: sourcePods.map((p) => p.name) },
    to: { service: key(q.to.service), pods: targetPods.map((p) => p.name) },
    port: q.port.port,
    protocol: q.port.protocol,
    answer,
    ingress: summarize('ingress', key(q.to.service), 'pods' in targets ? targetPods : undefined, ev, pairs),
    pairs,
    notReadable,
    notes,
  };
  if ('service' in q.from) result.egress = summarize('egress', key(q.from.service), sources && 'pods' in sources ? sourcePods : undefined, ev, pairs);
  if (answer === 'blocked' || answer === 'partly allowed') {
    if (requestable(q, targetSvc)) result.open = requestCommand(openingRequest(q));
    else notes.push(`a request names ports of Service ${key(q.to.service)}, and ${q.port.port}/${q.port.protocol} is not one of them`);
  }
  return result;
}

function pairOf(from: string, to: string, port: number, v: Verdict): PairResult {
  return { from, to, port, allowed: v.allowed, egress: v.egress, ingress: v.ingress };
}

// ---------------------------------------------------------------------------------------------------------------
// Text

const MAX_PAIRS = 20;

function sideText(s: SideSummary): string[] {
  if (!s.podsKnown) return [`${s.direction} of ${inert(s.of)} (its pods could not be listed)`];
  const lines = [`${s.direction} of ${inert(s.of)} (${s.pods} pod${s.pods === 1 ? '' : 's'})`];
  let isolated: string;
  if (s.pods === 0) isolated = 'no pod to isolate';
  else if (s.unknownPods === s.pods) isolated = 'unknown: the NetworkPolicies of its namespace could not be read';
  else if (s.isolatedBy.length === 0) isolated = `nothing (no NetworkPolicy selects its pods for ${s.direction}: all ${s.direction} is allowed)`;
  else isolated = `${s.isolatedBy.map(inert).join(', ')}${s.isolatedPods < s.pods ? ` (${s.isolatedPods} of ${s.pods} pods isolated)` : ''}`;
  lines.push(`  isolated by:  ${isolated}`);
  if (s.isolatedPods > 0) lines.push(`  allowed by:   ${s.allowedBy.length > 0 ? s.allowedBy.map(inert).join(', ') : 'no rule of those policies'}`);
  for (const u of s.unknown) lines.push(`  undecided: depends on ${inert(u)}`);
  return lines;
}

function pairText(p: PairResult): string {
  const what = p.allowed === 'yes' ? 'allowed' : p.allowed === 'no' ? 'blocked' : 'unknown';
  const why: string[] = [];
  if (p.note) why.push(p.note);
  for (const side of [p.egress, p.ingress]) {
    if (!side || side.isolated === 'no') continue;
    const dir = side.direction.toLowerCase();
    if (side.allowed === 'yes') why.push(`${dir}: ${side.allowedBy.map(ruleName).join(', ')}`);
    else if (side.allowed === 'no') why.push(`${dir}: no rule allows it`);
    else why.push(`${dir}: depends on ${side.unknown.join(', ')}`);
  }
  return `  ${inert(p.from)} → ${inert(p.to)}${p.port !== undefined ? ` :${p.port}` : ''}   ${what}${why.length > 0 ? ` (${inert(why.join('; '))})` : ''}`;
}

export function renderWhy(r: WhyResult): string {
  const from = 'cidr' in r.from ? r.from.cidr : r.from.service;
  const podPorts = [...new Set(r.pairs.flatMap((p) => (p.port === undefined ? [] : [p.port])))];
  const through = podPorts.length === 1 && podPorts[0] !== r.port ? ` (pod port ${podPorts[0]})` : podPorts.length > 1 ? ` (pod ports ${podPorts.join(', ')})` : '';
  const lines = [`${r.answer.toUpperCase()}: ${inert(from)} → ${inert(r.to.service)} on ${r.port}/${r.protocol}${through}`, ''];
  if ('cidr' in r.from) lines.push(`${inert(r.from.cidr)} is outside the cluster: no NetworkPolicy governs its side`);
  if (r.egress) lines.push(...sideText(r.egress));
  lines.push(...sideText(r.ingress));
  const decided = new Set(r.pairs.map((p) => p.allowed));
  if (r.pairs.length > 0 && (decided.size > 1 || r.answer === 'unknown' || 'cidr' in r.from)) {
    lines.push('', 'pairs:');
    for (const p of r.pairs.slice(0, MAX_PAIRS)) lines.push(pairText(p));
    if (r.pairs.length > MAX_PAIRS) lines.push(`  … and ${r.pairs.length - MAX_PAIRS} more (-o json lists them all)`);
  }
  if (r.notReadable.length > 0) {
    lines.push('', 'not readable with your permissions (nothing is assumed about them):');
    for (const n of r.notReadable) lines.push(`  ${inert(n)}`);
  }
  if (r.notes.length > 0) {
    lines.push('', 'notes:');
    for (const n of r.notes) lines.push(`  ${inert(n)}`);
  }
  if (r.open) lines.push('', r.answer === 'partly allowed' ? 'To open the rest, ask for access:' : 'To open it, ask for access:', `  ${r.open}`);
  return lines.join('\n') + '\n';
}
