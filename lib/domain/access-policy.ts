// What AccessPolicies say about the parts of a request: which rules match each part, and the one outcome per part
// when several do (strictest wins, setting by setting). Pure: the caller gives the policies and the labels of the
// Services involved. The webhook enforces the outcome (webhook/admission.ts), the rule book counts approvals by it
// (actions.ts), `kubectl netwatch policy test` prints it offline. The combination rule is stated in
// docs/access-policies.md and tabled in access-policy.test.ts.
import type { AccessRequestSpec, PartName, Port } from '../api/accessrequest.ts';
import type { AccessPolicy, PolicyMatch, PolicyRule, PolicyServices } from '../api/accesspolicy.ts';
import { parseCidr, unionCovers, type AddressRange } from './cidr.ts';
import { parseDuration } from './duration.ts';
import type { FieldError } from './field-error.ts';
import { partsOf } from './parts.ts';
import { linearRegExp } from '../text/linear-regexp.ts';

/** A rule of a policy, named as users see it everywhere: `namespace/policy/rule`. */
export interface RuleRef {
  namespace: string;
  policy: string;
  rule: string;
}

export function ruleId(r: RuleRef): string {
  return `${r.namespace}/${r.policy}/${r.rule}`;
}

/** The inverse of ruleId (names are DNS labels: no slash). */
export function parseRuleId(id: string): RuleRef | undefined {
  const [namespace, policy, rule, ...rest] = id.split('/');
  if (!namespace || !policy || !rule || rest.length > 0) return undefined;
  return { namespace, policy, rule };
}

/** `AccessPolicy payments/db-owners, rule "two-dbas"`: how messages name a rule. */
export function describeRule(r: RuleRef): string {
  return `AccessPolicy ${r.namespace}/${r.policy}, rule "${r.rule}"`;
}

/**
 * How a part gets approved: `default` (no rule says: today's behaviour, one approver, and the requester's own
 * rights count at creation), `auto` (at creation, no human), or `count` distinct approvers (optionally members of
 * `groups`), the requester never among them.
 */
export type ApprovalRequirement =
  | { kind: 'default' }
  | { kind: 'auto'; rule: RuleRef }
  | { kind: 'count'; count: number; groups?: string[]; rule: RuleRef };

export interface Limit {
  text: string;
  ms: number;
  rule: RuleRef;
}

/** The outcome for one part: every matching rule (in order), and the strictest value of each setting. */
export interface PartPolicy {
  part: PartName;
  namespace: string;
  matched: RuleRef[];
  refuse?: { rule: RuleRef; message: string };
  approval: ApprovalRequirement;
  maxDuration?: Limit;
  maxTotalDuration?: Limit;
  reasonPatterns: { pattern: string; rule: RuleRef }[];
}

/** Labels of a Service (`undefined` when it does not exist or is unknown: a label condition then does not match). */
export type ServiceLabels = (namespace: string, name: string) => Readonly<Record<string, string>> | undefined;

type Peer = { kind: 'service'; namespace: string; name: string } | { kind: 'cidrs'; cidrs: string[] };

/** One way to look at a part from its namespace: the local Service, the other end, and the directions seen. */
interface Perspective {
  local: { namespace: string; name: string };
  peer: Peer;
  directions: ('ingress' | 'egress')[];
}

function perspectivesOf(spec: AccessRequestSpec, part: PartName): Perspective[] {
  if (spec.type === 'External') {
    if (!spec.service) return [];
    const directions: Perspective['directions'] = spec.direction === 'both' ? ['ingress', 'egress'] : spec.direction === 'egress' ? ['egress'] : ['ingress'];
    return [{ local: spec.service, peer: { kind: 'cidrs', cidrs: spec.cidrs ?? [] }, directions }];
  }
  const source = spec.source;
  const target = spec.target;
  if (!source || !target) return [];
  const asTarget: Perspective = {
    local: { namespace: target.namespace, name: target.service },
    peer: { kind: 'service', namespace: source.namespace, name: source.service },
    directions: ['ingress'],
  };
  const asSource: Perspective = {
    local: { namespace: source.namespace, name: source.service },
    peer: { kind: 'service', namespace: target.namespace, name: target.service },
    directions: ['egress'],
  };
  // One namespace for both ends: its single part consents as the target and as the source.
  if (source.namespace === target.namespace) return [asTarget, asSource];
  return part === 'source' ? [asSource] : [asTarget];
}

function labelsMatch(want: Readonly<Record<string, string>> | undefined, have: Readonly<Record<string, string>> | undefined): boolean {
  if (!want) return true;
  if (!have) return false;
  return Object.entries(want).every(([k, v]) => have[k] === v);
}

function servicesMatch(want: PolicyServices | undefined, svc: { namespace: string; name: string }, labels: ServiceLabels): boolean {
  if (!want) return true;
  if (want.names && !want.names.includes(svc.name)) return false;
  return !want.labels || labelsMatch(want.labels, labels(svc.namespace, svc.name));
}

function ranges(cidrs: readonly string[]): AddressRange[] | undefined {
  const out: AddressRange[] = [];
  for (const c of cidrs) {
    const n = parseCidr(c);
    if (!n) return undefined;
    out.push(n);
  }
  return out;
}

function peerMatches(want: PolicyMatch['peers'], peer: Peer, labels: ServiceLabels): boolean {
  if (!want) return true;
  if (peer.kind === 'cidrs') {
    if (want.namespaces || want.services) return false;
    const asked = ranges(peer.cidrs);
    if (!asked || asked.length === 0) return false;
    const inside = (cidrs: readonly string[]) => {
      const union = ranges(cidrs);
      return !!union && asked.every((r) => unionCovers(union, r));
    };
    if (want.cidrs && !inside(want.cidrs)) return false;
    return !want.exceptCidrs || !inside(want.exceptCidrs);
  }
  if (want.cidrs || want.exceptCidrs) return false;
  if (want.namespaces && !want.namespaces.includes(peer.namespace)) return false;
  return servicesMatch(want.services, peer, labels);
}

function portsMatch(want: PolicyMatch['ports'], asked: readonly Port[] | undefined): boolean {
  if (!want) return true;
  // No ports asked means every port of the Service: never inside a list of ports.
  if (!asked || asked.length === 0) return false;
  return asked.every((p) => want.some((w) => w.port === p.port && (w.protocol === undefined || w.protocol === (p.protocol ?? 'TCP'))));
}

function requesterMatches(want: PolicyMatch['requesters'], spec: AccessRequestSpec): boolean {
  if (!want) return true;
  const username = spec.requester?.username;
  const groups = spec.requester?.groups ?? [];
  return (!!username && (want.users ?? []).includes(username)) || groups.some((g) => (want.groups ?? []).includes(g));
}

function ruleMatches(rule: PolicyRule, spec: AccessRequestSpec, view: Perspective, labels: ServiceLabels): boolean {
  const m = rule.match ?? {};
  return (
    servicesMatch(m.services, view.local, labels) &&
    peerMatches(m.peers, view.peer, labels) &&
    portsMatch(m.ports, spec.ports) &&
    (!m.directions || view.directions.every((d) => m.directions?.includes(d))) &&
    requesterMatches(m.requesters, spec)
  );
}

/** How strict an approval setting is: auto < 1 approver < 1 from named groups < 2 approvers < … */
function approvalRank(a: ApprovalRequirement): number {
  switch (a.kind) {
    case 'default':
      return -1;
    case 'auto':
      return 0;
    case 'count':
      return a.count * 2 + (a.groups ? 1 : 0);
  }
}

/** The policies of `namespace` in evaluation order: by name, then each one's rules as listed. */
function rulesIn(policies: readonly AccessPolicy[], namespace: string): { ref: RuleRef; rule: PolicyRule }[] {
  return policies
    .filter((p) => p.metadata.namespace === namespace && !p.metadata.deletionTimestamp)
    .sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : (a.metadata.name ?? '') > (b.metadata.name ?? '') ? 1 : 0))
    .flatMap((p) => (Array.isArray(p.spec?.rules) ? p.spec.rules : []).map((rule) => ({ ref: { namespace, policy: p.metadata.name ?? '', rule: rule.name }, rule })));
}

function stricterLimit(current: Limit | undefined, text: string | undefined, rule: RuleRef): Limit | undefined {
  if (text === undefined) return current;
  const ms = parseDuration(text);
  if (typeof ms !== 'number') return current;
  return !current || ms < current.ms ? { text, ms, rule } : current;
}

/**
 * The outcome per part of `spec` under `policies` (any namespaces; each part reads its own namespace's). Several
 * matching rules combine setting by setting, in evaluation order (policies by name, rules as listed):
 * refuse — the first refusing rule refuses; approvals — the strictest (auto < one approver < one from named
 * groups < two approvers < …; the first on a tie); maxDuration and maxTotalDuration — the shortest (the first on
 * a tie); reasonPattern — every pattern must match. A setting no matching rule sets keeps today's behaviour.
 */
export function evaluateParts(spec: AccessRequestSpec, policies: readonly AccessPolicy[], labels: ServiceLabels): PartPolicy[] {
  return partsOf(spec).map((part) => {
    const views = perspectivesOf(spec, part.name);
    const out: PartPolicy = { part: part.name, namespace: part.namespace, matched: [], approval: { kind: 'default' }, reasonPatterns: [] };
    for (const { ref, rule } of rulesIn(policies, part.namespace)) {
      if (!views.some((v) => ruleMatches(rule, spec, v, labels))) continue;
      out.matched.push(ref);
      if (rule.refuse !== undefined && !out.refuse) out.refuse = { rule: ref, message: rule.refuse };
      const approval: ApprovalRequirement | undefined = rule.approvals
        ? { kind: 'count', count: rule.approvals.count, ...(rule.approvals.groups ? { groups: [...rule.approvals.groups] } : {}), rule: ref }
        : rule.autoApprove === true
          ? { kind: 'auto', rule: ref }
          : undefined;
      if (approval && approvalRank(approval) > approvalRank(out.approval)) out.approval = approval;
      const maxDuration = stricterLimit(out.maxDuration, rule.maxDuration, ref);
      if (maxDuration) out.maxDuration = maxDuration;
      const maxTotal = stricterLimit(out.maxTotalDuration, rule.maxTotalDuration, ref);
      if (maxTotal) out.maxTotalDuration = maxTotal;
      if (rule.reasonPattern !== undefined) out.reasonPatterns.push({ pattern: rule.reasonPattern, rule: ref });
    }
    return out;
  });
}

/**
 * Why a reason pattern is not used, or undefined when it is usable. Patterns written by a namespace's owners run in
 * the webhook against every governed request's reason, so they run only in the linear-time engine
 * (lib/text/linear-regexp.ts): what it cannot run is refused rather than run.
 */
export function unusablePattern(pattern: string): string | undefined {
  const compiled = linearRegExp(pattern);
  return compiled.ok ? undefined : compiled.why;
}

/**
 * What the outcomes forbid about a request as it is asked: refused parts (field `spec`), a duration longer than a
 * part's maxDuration (`spec.duration`), a reason that does not match (`spec.reason`). Each names the rule.
 */
export function policyErrors(spec: AccessRequestSpec, outcomes: readonly PartPolicy[]): FieldError[] {
  const errors: FieldError[] = [];
  for (const o of outcomes) {
    const where = `the ${o.part} part (namespace ${o.namespace})`;
    if (o.refuse) {
      errors.push({ field: 'spec', message: `${where} is refused by ${describeRule(o.refuse.rule)}: ${o.refuse.message}` });
      continue;
    }
    if (o.maxDuration) {
      const asked = parseDuration(spec.duration);
      if (asked === null || asked === 'unlimited' || asked > o.maxDuration.ms) {
        errors.push({
          field: 'spec.duration',
          message: `must be at most ${o.maxDuration.text} for ${where} under ${describeRule(o.maxDuration.rule)} (asked for ${spec.duration})`,
        });
      }
    }
    for (const { pattern, rule } of o.reasonPatterns) {
      const compiled = linearRegExp(pattern);
      if (!compiled.ok) {
        errors.push({ field: 'spec.reason', message: `cannot be checked: the reasonPattern of ${describeRule(rule)} is unusable (${compiled.why}); ask the owners of ${o.namespace} to fix it` });
      } else if (!compiled.regexp.test(spec.reason)) {
        errors.push({ field: 'spec.reason', message: `must match /${pattern}/ for ${where} under ${describeRule(rule)}` });
      }
    }
  }
  return errors;
}

/** A one-line summary of the approval requirement, as describe and `policy test` print it. */
export function describeApproval(a: ApprovalRequirement): string {
  switch (a.kind) {
    case 'default':
      return 'one approver (no rule sets approvals)';
    case 'auto':
      return `approved automatically (${ruleId(a.rule)})`;
    case 'count':
      return `${a.count} distinct approver${a.count === 1 ? '' : 's'}${a.groups ? ` from ${a.groups.join(', ')}` : ''}, the requester not counted (${ruleId(a.rule)})`;
  }
}
