// The one rule book of who may do what to an AccessRequest. The admission webhook enforces it; the controller
// counts approvals by it; the plugin and the web UI offer exactly the actions it allows (and the webhook would
// refuse the rest anyway). Pure: the caller says who the actor is and which parts the actor may approve.
import {
  EXTENSIONS_MAX,
  TERMINAL_PHASES,
  type AccessRequest,
  type Approval,
  type DecisionType,
  type Extension,
  type PartName,
  type PartPolicyStamp,
  type Phase,
  type Review,
} from '../api/accessrequest.ts';
import { describeApproval, describeRule, parseRuleId, type ApprovalRequirement, type PartPolicy } from './access-policy.ts';
export type { ApprovalRequirement };
import { describePermission, mayApprove, partsOf, permissionFor, type Part, type ResourceCheck } from './parts.ts';
import { closingOf } from './phase.ts';
import { formatDuration, parseDuration } from './duration.ts';

/** Before the controller's first reconcile there is no phase yet: the request waits like any pending one. */
export function phaseOf(request: AccessRequest): Phase {
  return request.status?.phase ?? 'Pending';
}

/**
 * Where a request stands for the people acting on it: `waiting` for approvals, `active`, or `closed` (a terminal
 * phase, a decision the controller has not turned into a phase yet, being deleted, or closing: ended by the
 * controller, which waits for maxtac's NetworkPolicies to go before it records the terminal phase). A closed request
 * accepts no approval and no decision.
 */
export type Stage = 'waiting' | 'active' | 'closed';

export function stageOf(request: AccessRequest): Stage {
  const phase = phaseOf(request);
  if (TERMINAL_PHASES.includes(phase) || request.status?.decision || request.metadata.deletionTimestamp || closingOf(request.status)) return 'closed';
  return phase === 'Active' ? 'active' : 'waiting';
}

/** Why a request is closed, in the words a refusal uses. */
export function closedBecause(request: AccessRequest): string {
  if (request.status?.decision) return request.status.decision.type;
  if (request.metadata.deletionTimestamp && !TERMINAL_PHASES.includes(phaseOf(request))) return 'being deleted';
  const closing = closingOf(request.status);
  if (closing) return `${closing.phase} (closing: a NetworkPolicy of its grant remains)`;
  return phaseOf(request);
}

/** `by` of an approval an AccessPolicy rule gave at creation (auto-approve): no human approved it. */
export const POLICY_APPROVER_PREFIX = 'AccessPolicy ';

/**
 * The approvals recorded in spec at creation: the parts the requester could approve (spec.requester.approvedParts,
 * by the requester) and the parts an AccessPolicy rule approved automatically (spec.policy, by `AccessPolicy
 * <rule>`). The controller mirrors them into status, and may mirror nothing else.
 */
export function stampedApprovals(request: AccessRequest): Approval[] {
  const parts = partsOf(request.spec);
  const out: Approval[] = [];
  const at = request.metadata.creationTimestamp;
  const add = (name: PartName, by: string | undefined) => {
    const part = parts.find((p) => p.name === name);
    if (!part || out.some((a) => a.part === name)) return;
    out.push({ part: name, namespace: part.namespace, ...(by ? { by } : {}), ...(at ? { at } : {}) });
  };
  const requester = request.spec.requester;
  for (const name of requester?.approvedParts ?? []) add(name, requester?.username);
  for (const stamp of request.spec.policy ?? []) {
    if (stamp.approval === 'Auto' && stamp.namespace === parts.find((p) => p.name === stamp.part)?.namespace) {
      add(stamp.part, `${POLICY_APPROVER_PREFIX}${stamp.approvalRule ?? ''}`);
    }
  }
  return out;
}

/**
 * The approvals that count, one per part: those recorded in status, plus those recorded in spec at creation
 * (stampedApprovals, mirrored into status by the controller later). An approval naming a part the request does
 * not have, or the wrong namespace, does not count. A part that needs several approvers (status.reviews) has its
 * entry here only once the webhook recorded the approval that completed it.
 */
export function effectiveApprovals(request: AccessRequest): Approval[] {
  const parts = partsOf(request.spec);
  const out: Approval[] = [];
  for (const a of request.status?.approvals ?? []) {
    if (parts.some((p) => p.name === a.part && p.namespace === a.namespace) && !out.some((b) => b.part === a.part)) out.push(a);
  }
  for (const a of stampedApprovals(request)) if (!out.some((b) => b.part === a.part)) out.push(a);
  return out;
}

/** What spec.policy recorded for a part at creation. */
export function policyStampOf(request: Pick<AccessRequest, 'spec'>, part: PartName): PartPolicyStamp | undefined {
  return (request.spec.policy ?? []).find((s) => s.part === part);
}

/** The approval requirement of a part as stamped at creation (the UIs' view; the webhook decides by the current one). */
export function stampedRequirement(request: Pick<AccessRequest, 'spec'>, part: PartName): ApprovalRequirement {
  const stamp = policyStampOf(request, part);
  const rule = stamp?.approvalRule ? parseRuleId(stamp.approvalRule) : undefined;
  if (!stamp || !rule) return { kind: 'default' };
  if (stamp.approval === 'Auto') return { kind: 'auto', rule };
  if (stamp.approval === 'Approvers') return { kind: 'count', count: stamp.approvals ?? 1, ...(stamp.approverGroups ? { groups: stamp.approverGroups } : {}), rule };
  return { kind: 'default' };
}

/** The spec.policy entries for the outcomes of evaluateParts: only parts some rule matched. */
export function policyStamp(outcomes: readonly PartPolicy[]): PartPolicyStamp[] {
  return outcomes
    .filter((o) => o.matched.length > 0)
    .map((o) => {
      const a = o.approval;
      return {
        part: o.part,
        namespace: o.namespace,
        // The CRD keeps at most 64 (the rules that decide are named on their own below).
        rules: o.matched.slice(0, 64).map((r) => `${r.namespace}/${r.policy}/${r.rule}`),
        approval: a.kind === 'auto' ? 'Auto' : a.kind === 'count' ? 'Approvers' : 'Default',
        ...(a.kind === 'count' ? { approvals: a.count, ...(a.groups ? { approverGroups: [...a.groups] } : {}) } : {}),
        ...(a.kind === 'default' ? {} : { approvalRule: `${a.rule.namespace}/${a.rule.policy}/${a.rule.rule}` }),
        ...(o.maxDuration ? { maxDuration: o.maxDuration.text } : {}),
        ...(o.maxTotalDuration ? { maxTotalDuration: o.maxTotalDuration.text } : {}),
      } satisfies PartPolicyStamp;
    });
}

/** The reviews (one approver each) recorded for a part. */
export function reviewsOf(request: AccessRequest, part: PartName): Review[] {
  return (request.status?.reviews ?? []).filter((r) => r.part === part);
}

/** The distinct users whose approval of `part` counts: each once, the requester never. */
export function approversOf(request: AccessRequest, part: PartName): string[] {
  const out: string[] = [];
  for (const r of reviewsOf(request, part)) {
    if (r.by && !isRequester(request, r.by) && !out.includes(r.by)) out.push(r.by);
  }
  return out;
}

export function approvalOf(request: AccessRequest, part: PartName): Approval | undefined {
  return effectiveApprovals(request).find((a) => a.part === part);
}

export function pendingParts(request: AccessRequest): Part[] {
  const approved = new Set(effectiveApprovals(request).map((a) => a.part));
  return partsOf(request.spec).filter((p) => !approved.has(p.name));
}

export function isRequester(request: AccessRequest, username: string | undefined): boolean {
  // Tolerates a malformed object: the webhook asks this of whatever the API server sends.
  const requester = (request.spec as AccessRequest['spec'] | undefined)?.requester?.username;
  return !!username && !!requester && requester === username;
}

/** Who acts, and which parts of this request they may approve (from SubjectAccessReviews, or their own). */
export interface Actor {
  username: string;
  /** The actor's groups (an AccessPolicy may ask for approvers from named groups); none known: none. */
  groups?: readonly string[];
  mayApprove: ReadonlyMap<PartName, boolean> | Partial<Record<PartName, boolean>>;
}

function may(actor: Actor, part: PartName): boolean {
  const m = actor.mayApprove;
  return (m instanceof Map ? m.get(part) : (m as Partial<Record<PartName, boolean>>)[part]) === true;
}

export function mayApproveAny(request: AccessRequest, actor: Actor): boolean {
  return partsOf(request.spec).some((p) => may(actor, p.name));
}

/** Allowed, or refused with the field at fault and what is allowed instead (the webhook's words). */
export type Verdict = { allowed: true } | { allowed: false; field: string; message: string };

const yes: Verdict = { allowed: true };
const no = (field: string, message: string): Verdict => ({ allowed: false, field, message });

function needs(parts: readonly Part[], withName = false): string {
  return parts.map((p) => (withName ? `${p.name}: ` : '') + describePermission(permissionFor(p))).join(withName ? '; ' : '; or ');
}

function closed(request: AccessRequest, field: string): Verdict | undefined {
  if (stageOf(request) !== 'closed') return undefined;
  return no(field, `the request is already ${closedBecause(request)}; it accepts no further approvals or decisions`);
}

/**
 * Approving one part: it exists, it is pending, the request still waits, and the actor may approve it. Under a rule
 * that asks for several approvers (`requirement`: the one in force now, by default the one stamped at creation) the
 * actor must also not be the requester, must be in one of the rule's groups if it names some, and must not have
 * approved the part already.
 */
export function mayApprovePart(request: AccessRequest, actor: Actor, partName: PartName, requirement: ApprovalRequirement = stampedRequirement(request, partName)): Verdict {
  const field = 'status.approvals';
  const parts = partsOf(request.spec);
  const part = parts.find((p) => p.name === partName);
  if (!part) return no(`${field}.part`, `must be one of this request's parts: ${parts.map((p) => p.name).join(', ')}`);
  const refusal = closed(request, field);
  if (refusal) return refusal;
  if (approvalOf(request, partName)) return no(field, `the ${partName} part is already approved`);
  if (!may(actor, partName)) return no(field, `user "${actor.username}" may not approve the ${partName} part: that needs ${needs([part])}`);
  if (requirement.kind !== 'count') return yes;
  const rule = describeRule(requirement.rule);
  const approvers = approversOf(request, partName);
  const sofar = `${approvers.length} of ${requirement.count} so far`;
  if (isRequester(request, actor.username)) {
    return no(field, `the requester never counts as an approver: ${rule} needs ${requirement.count} distinct approvers of the ${partName} part other than "${actor.username}" (${sofar})`);
  }
  if (requirement.groups && !(actor.groups ?? []).some((g) => requirement.groups?.includes(g))) {
    return no(field, `user "${actor.username}" is not in ${requirement.groups.map((g) => `"${g}"`).join(' or ')}, whose members approve the ${partName} part under ${rule}`);
  }
  if (approvers.includes(actor.username)) {
    return no(field, `user "${actor.username}" already approved the ${partName} part; ${rule} needs ${requirement.count} distinct approvers (${sofar})`);
  }
  return yes;
}

/** One decision: Denied (an approver of a pending part), Aborted (the requester, before Active), Revoked (Active). */
export function mayDecide(request: AccessRequest, actor: Actor, type: DecisionType): Verdict {
  const refusal = closed(request, 'status.decision');
  if (refusal) return refusal;
  const stage = stageOf(request);
  const requester = isRequester(request, actor.username);
  switch (type) {
    case 'Denied': {
      const pending = pendingParts(request);
      if (pending.length === 0) {
        return no('status.decision.type', `Denied needs a part pending approval and none is; ${stage === 'active' ? 'use Revoked to end an active access' : 'use Aborted or Revoked'}`);
      }
      if (pending.some((p) => may(actor, p.name))) return yes;
      return no('status.decision', `user "${actor.username}" may not deny this request: denying needs the right to approve a pending part (${needs(pending, true)})`);
    }
    case 'Aborted':
      if (!requester) {
        return no('status.decision', `only the requester (${request.spec.requester?.username ?? 'unknown'}) may abort a request; an approver may deny it instead`);
      }
      if (stage === 'active') return no('status.decision.type', 'an Active access cannot be aborted; use Revoked to end it');
      return yes;
    case 'Revoked':
      if (stage !== 'active') {
        return no('status.decision.type', `only an Active access can be revoked and this request is ${phaseOf(request)}; ${requester ? 'use Aborted' : 'use Denied'}`);
      }
      if (requester || mayApproveAny(request, actor)) return yes;
      return no(
        'status.decision',
        `user "${actor.username}" may not revoke this access: only its requester or a user allowed to approve one of its parts (${needs(partsOf(request.spec))}) may`,
      );
  }
}

/**
 * Deleting: its requester or anyone allowed to approve one of its parts (RBAC `delete` alone is usually granted on
 * every AccessRequest at once, and would let any developer erase someone else's audit trail). The controller
 * deletes at the end of retention; the webhook lets it through before asking this.
 */
export function mayDelete(request: AccessRequest, actor: Actor): Verdict {
  if (isRequester(request, actor.username) || mayApproveAny(request, actor)) return yes;
  const requester = request.spec.requester?.username;
  return no(
    'metadata.name',
    `user "${actor.username}" may not delete AccessRequest ${request.metadata.name ?? ''}: only its requester${requester ? ` (${requester})` : ''}, a user allowed to approve one of its parts (${needs(partsOf(request.spec)) || 'none'}) or the netwatch controller may delete it`,
  );
}

export interface AllowedActions {
  /** Parts the actor may approve now. */
  approve: PartName[];
  /** Parts of the pending extension the actor may approve now. */
  approveExtension: PartName[];
  /** Whether the actor may extend the grant now (the duration is checked when one is asked for). */
  extend: boolean;
  deny: boolean;
  abort: boolean;
  revoke: boolean;
  delete: boolean;
}

/** What to offer the actor: exactly what the webhook would accept. */
export function allowedActions(request: AccessRequest, actor: Actor): AllowedActions {
  return {
    approve: partsOf(request.spec)
      .filter((p) => mayApprovePart(request, actor, p.name).allowed)
      .map((p) => p.name),
    approveExtension: partsOf(request.spec)
      .filter((p) => mayApproveExtension(request, actor, p.name).allowed)
      .map((p) => p.name),
    extend: mayExtend(request, actor).allowed,
    deny: mayDecide(request, actor, 'Denied').allowed,
    abort: mayDecide(request, actor, 'Aborted').allowed,
    revoke: mayDecide(request, actor, 'Revoked').allowed,
    delete: mayDelete(request, actor).allowed,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The permission questions: "may this user approve that part?" asked of the authorizer

/**
 * One question per namespace and maxtac kind (parts of many requests often share them): `approve` there, or
 * `create` on both services and the maxtac kind ("you may approve what you could have created yourself").
 */
export interface PermissionQuestion {
  key: string;
  approve: ResourceCheck;
  create: ResourceCheck[];
}

export function questionKey(part: Pick<Part, 'namespace' | 'maxtacResource'>): string {
  return `${part.namespace}/${part.maxtacResource}`;
}

export function permissionQuestions(parts: readonly Part[]): PermissionQuestion[] {
  const out = new Map<string, PermissionQuestion>();
  for (const part of parts) {
    const key = questionKey(part);
    if (out.has(key)) continue;
    const perm = permissionFor(part);
    out.set(key, { key, approve: perm.approve, create: perm.create });
  }
  return [...out.values()];
}

/** Answers by question key. */
export type PermissionAnswers = ReadonlyMap<string, boolean>;

/**
 * Asks the questions of `parts` through `ask` (SubjectAccessReviews for someone else, SelfSubjectAccessReviews for
 * oneself; one boolean per check, in order), every check in one round, and folds the answers per question.
 */
export async function askPermissions(parts: readonly Part[], ask: (checks: readonly ResourceCheck[]) => Promise<boolean[]>): Promise<PermissionAnswers> {
  const questions = permissionQuestions(parts);
  const out = new Map<string, boolean>();
  if (questions.length === 0) return out;
  const answers = await ask(questions.flatMap((q) => [q.approve, ...q.create]));
  let i = 0;
  for (const q of questions) {
    const approve = answers[i++] === true;
    const create = q.create.map(() => answers[i++] === true);
    out.set(q.key, mayApprove({ approve, create }));
  }
  return out;
}

/** The answers for one request's parts, by part name. */
export function mayApproveParts(request: Pick<AccessRequest, 'spec'>, answers: PermissionAnswers): Map<PartName, boolean> {
  return new Map(partsOf(request.spec).map((p) => [p.name, answers.get(questionKey(p)) === true]));
}

// ---------------------------------------------------------------------------------------------------------------
// Approval progress under AccessPolicies, as the UIs show it

export interface ApprovalProgress {
  /** The requirement of the latest decision (the rule a review recorded), else the one stamped at creation. */
  requirement: ApprovalRequirement;
  /** Distinct approvers counted so far (N-of-M parts). */
  approvers: string[];
  /** Approvals still needed: 0 once the part is approved. */
  missing: number;
  /** Every rule that matched the part at creation, as namespace/policy/rule. */
  rules: string[];
}

export function approvalProgress(request: AccessRequest, part: PartName): ApprovalProgress {
  const stamped = stampedRequirement(request, part);
  const latest = reviewsOf(request, part).findLast((r) => r.rule && r.required);
  const latestRule = latest?.rule ? parseRuleId(latest.rule) : undefined;
  let requirement: ApprovalRequirement = stamped;
  if (latest?.required && latestRule) {
    const groups = stamped.kind === 'count' && latest.rule === `${stamped.rule.namespace}/${stamped.rule.policy}/${stamped.rule.rule}` ? stamped.groups : undefined;
    requirement = { kind: 'count', count: latest.required, ...(groups ? { groups } : {}), rule: latestRule };
  }
  const approvers = approversOf(request, part);
  const approved = !!approvalOf(request, part);
  const missing = approved ? 0 : requirement.kind === 'count' ? Math.max(1, requirement.count - approvers.length) : requirement.kind === 'auto' ? 0 : 1;
  return { requirement, approvers, missing, rules: policyStampOf(request, part)?.rules ?? [] };
}

/**
 * What the AccessPolicies say about one part in one line, as the UIs show it (undefined: no rule applies):
 * `2 distinct approvers from dbas, the requester not counted (payments/database/postgres); 1 of 2 so far, 1 missing`.
 */
export function policySummary(request: AccessRequest, part: PartName): string | undefined {
  const stamp = policyStampOf(request, part);
  const progress = approvalProgress(request, part);
  const r = progress.requirement;
  if (!stamp && r.kind === 'default') return undefined;
  const count = r.kind === 'count' ? `; ${progress.approvers.length} of ${r.count} so far${progress.missing > 0 ? `, ${progress.missing} missing` : ''}` : '';
  return `${describeApproval(r)}${count}${stamp?.maxDuration ? `; max duration ${stamp.maxDuration}` : ''}`;
}

/** The AccessPolicy rules that decide each part's approval, in one sentence for Events ("" without policies). */
export function describePolicies(request: AccessRequest): string {
  const out: string[] = [];
  for (const part of partsOf(request.spec)) {
    const progress = approvalProgress(request, part.name);
    if (progress.requirement.kind === 'default') continue;
    const so = progress.requirement.kind === 'count' ? `, ${progress.approvers.length} of ${progress.requirement.count} so far` : '';
    out.push(`${part.name} (${part.namespace}): ${describeApproval(progress.requirement)}${so}`);
  }
  return out.join('; ');
}

// ---------------------------------------------------------------------------------------------------------------
// Extensions: more time for an Active grant (status.extensions, status.extensionApprovals)

/**
 * How one part approves one extension. Decided by what spec.policy recorded at creation (the request's contract;
 * the AccessPolicies in force later do not change it): `auto` when the part's maxTotalDuration holds the whole grant
 * with this extension (spec.duration + the extensions before it + this one); otherwise the part's approval again —
 * `count` distinct approvers under an Approvers rule (the requester never counts), else `default`, one approver.
 * An Auto part beyond (or without) a maxTotalDuration needs one approver: no human ever looked at that grant, and
 * nothing else would bound how long it can be extended.
 */
export type ExtensionRequirement =
  | { kind: 'auto'; maxTotalDuration: string; totalMs: number }
  | { kind: 'default'; totalMs: number; maxTotalDuration?: string }
  | { kind: 'count'; count: number; groups?: string[]; rule: string; totalMs: number; maxTotalDuration?: string };

export interface ExtensionPartProgress {
  part: PartName;
  namespace: string;
  requirement: ExtensionRequirement;
  /** Users whose approval of this part of the extension counts (in order, each once). */
  approvers: string[];
  /** Approvals still needed: 0 once the part approved the extension. */
  missing: number;
}

export interface ExtensionProgress {
  index: number;
  extension: Extension;
  /** Every part approved it: the controller moved (or moves) expiresAt by its duration. */
  granted: boolean;
  parts: ExtensionPartProgress[];
  /** The parts still to approve it. */
  waitingFor: PartName[];
}

function extensionMs(e: Pick<Extension, 'duration'>): number {
  const ms = parseDuration(e.duration);
  return typeof ms === 'number' ? ms : 0;
}

/** The grant's length with the extensions up to and including `index` (ms); NaN when the spec's is not finite. */
function totalWith(request: AccessRequest, index: number): number {
  const base = parseDuration(request.spec.duration);
  if (typeof base !== 'number') return NaN;
  return (request.status?.extensions ?? []).slice(0, index + 1).reduce((sum, e) => sum + extensionMs(e), base);
}

export function extensionRequirement(request: AccessRequest, part: PartName, index: number): ExtensionRequirement {
  const stamp = policyStampOf(request, part);
  const totalMs = totalWith(request, index);
  const limit = stamp?.maxTotalDuration;
  const limitMs = limit === undefined ? null : parseDuration(limit);
  const within = typeof limitMs === 'number' && totalMs <= limitMs;
  if (within && limit !== undefined) return { kind: 'auto', maxTotalDuration: limit, totalMs };
  const over = limit === undefined ? {} : { maxTotalDuration: limit };
  if (stamp?.approval === 'Approvers' && stamp.approvalRule) {
    return { kind: 'count', count: stamp.approvals ?? 1, ...(stamp.approverGroups ? { groups: stamp.approverGroups } : {}), rule: stamp.approvalRule, totalMs, ...over };
  }
  return { kind: 'default', totalMs, ...over };
}

/** The users whose approval of `part` of extension `index` counts: each once; under `count`, never the requester. */
function extensionApproversOf(request: AccessRequest, part: PartName, index: number, requirement: ExtensionRequirement): string[] {
  const out: string[] = [];
  for (const a of request.status?.extensionApprovals ?? []) {
    if (a.extension !== index || a.part !== part || !a.by || out.includes(a.by)) continue;
    if (requirement.kind === 'count' && isRequester(request, a.by)) continue;
    out.push(a.by);
  }
  return out;
}

export function extensionProgress(request: AccessRequest, index: number): ExtensionProgress | undefined {
  const extension = request.status?.extensions?.[index];
  if (!extension) return undefined;
  const parts = partsOf(request.spec).map((p) => {
    const requirement = extensionRequirement(request, p.name, index);
    const approvers = extensionApproversOf(request, p.name, index, requirement);
    const needed = requirement.kind === 'auto' ? 0 : requirement.kind === 'count' ? requirement.count : 1;
    return { part: p.name, namespace: p.namespace, requirement, approvers, missing: Math.max(0, needed - approvers.length) };
  });
  const waitingFor = parts.filter((p) => p.missing > 0).map((p) => p.part);
  return { index, extension, granted: parts.length > 0 && waitingFor.length === 0, parts, waitingFor };
}

/** Every extension, in order. */
export function extensionsOf(request: AccessRequest): ExtensionProgress[] {
  return (request.status?.extensions ?? []).flatMap((_, i) => extensionProgress(request, i) ?? []);
}

/** The extensions granted, in order: those before the first one still waiting (only the last one can wait). */
export function grantedExtensions(request: AccessRequest): ExtensionProgress[] {
  const all = extensionsOf(request);
  const waiting = all.findIndex((e) => !e.granted);
  return waiting < 0 ? all : all.slice(0, waiting);
}

/** The extension waiting for approval, if any (at most one at a time). */
export function pendingExtension(request: AccessRequest): ExtensionProgress | undefined {
  return extensionsOf(request).find((e) => !e.granted);
}

/** How much longer than spec.duration the granted extensions make the grant (ms). */
export function extendedMs(request: AccessRequest): number {
  return grantedExtensions(request).reduce((sum, e) => sum + extensionMs(e.extension), 0);
}

/** When the grant ends with every extension granted so far (what the controller records as expiresAt), if known. */
export function extendedExpiry(request: AccessRequest): string | undefined {
  const approvedAt = request.status?.approvedAt;
  const base = parseDuration(request.spec.duration);
  if (!approvedAt || typeof base !== 'number') return request.status?.expiresAt;
  return new Date(Date.parse(approvedAt) + base + extendedMs(request)).toISOString();
}

/** Limits on one extension besides the AccessPolicies': the webhook's --max-duration (absent: none). */
export interface ExtensionLimits {
  maxDuration?: string;
}

/**
 * Extending an Active grant by `duration` (absent: only whether the actor may extend at all): its requester or a user
 * allowed to approve one of its parts; only while Active and not closing; not a grant without expiry; no other
 * extension waiting; a positive duration of at most each part's maxDuration (as recorded at creation) and the
 * webhook's --max-duration; at most EXTENSIONS_MAX extensions.
 */
export function mayExtend(request: AccessRequest, actor: Actor, duration?: string, limits: ExtensionLimits = {}): Verdict {
  const field = 'status.extensions';
  const refusal = closed(request, field);
  if (refusal) return refusal;
  if (stageOf(request) !== 'active') {
    return no(field, `only an Active access can be extended and this request is ${phaseOf(request)}; it gets its full duration once approved`);
  }
  if (!isRequester(request, actor.username) && !mayApproveAny(request, actor)) {
    return no(field, `user "${actor.username}" may not extend this access: only its requester or a user allowed to approve one of its parts (${needs(partsOf(request.spec))}) may`);
  }
  if (typeof parseDuration(request.spec.duration) !== 'number') return no(field, `the access never expires (duration ${request.spec.duration}); there is nothing to extend`);
  const pending = pendingExtension(request);
  if (pending) {
    return no(field, `extension ${pending.index + 1} (+${pending.extension.duration}) still waits for the ${pending.waitingFor.join(' and ')} part${pending.waitingFor.length === 1 ? '' : 's'}; one extension at a time`);
  }
  if ((request.status?.extensions ?? []).length >= EXTENSIONS_MAX) return no(field, `an access can be extended at most ${EXTENSIONS_MAX} times; create a new request instead`);
  if (duration === undefined) return yes;
  const dfield = `${field}[${(request.status?.extensions ?? []).length}].duration`;
  const ms = parseDuration(duration);
  if (typeof ms !== 'number' || ms <= 0) return no(dfield, `must be a positive duration such as 30m, 1h or 1h30m (got ${JSON.stringify(duration)})`);
  const webhookMax = limits.maxDuration === undefined ? null : parseDuration(limits.maxDuration);
  if (typeof webhookMax === 'number' && ms > webhookMax) return no(dfield, `must be at most ${limits.maxDuration}, the longest duration this cluster allows (webhook setting --max-duration; asked for ${duration})`);
  for (const stamp of request.spec.policy ?? []) {
    const max = stamp.maxDuration === undefined ? null : parseDuration(stamp.maxDuration);
    if (typeof max === 'number' && ms > max) {
      return no(dfield, `must be at most ${stamp.maxDuration} for the ${stamp.part} part (namespace ${stamp.namespace}) under its maxDuration (asked for ${duration})`);
    }
  }
  return yes;
}

/**
 * Approving one part of the waiting extension: there is one, the request is still Active, this part has not approved
 * it yet, and the actor may approve the part. Under `count` the requester never counts, the actor must be in the
 * rule's groups if it names some, and each approver counts once.
 */
export function mayApproveExtension(request: AccessRequest, actor: Actor, partName: PartName): Verdict {
  const field = 'status.extensionApprovals';
  const parts = partsOf(request.spec);
  const part = parts.find((p) => p.name === partName);
  if (!part) return no(`${field}.part`, `must be one of this request's parts: ${parts.map((p) => p.name).join(', ')}`);
  const refusal = closed(request, field);
  if (refusal) return refusal;
  const pending = pendingExtension(request);
  if (!pending || stageOf(request) !== 'active') return no(field, 'no extension of this request waits for approval');
  const progress = pending.parts.find((p) => p.part === partName);
  const r = progress?.requirement;
  if (!progress || !r || progress.missing === 0) {
    return no(field, `the ${partName} part needs no more approval of extension ${pending.index + 1}${r?.kind === 'auto' ? ` (within its maxTotalDuration ${r.maxTotalDuration})` : ''}`);
  }
  if (!may(actor, partName)) return no(field, `user "${actor.username}" may not approve the ${partName} part: that needs ${needs([part])}`);
  if (r.kind !== 'count') return yes;
  const sofar = `${progress.approvers.length} of ${r.count} so far`;
  if (isRequester(request, actor.username)) return no(field, `the requester never counts as an approver: rule ${r.rule} needs ${r.count} distinct approvers of the ${partName} part other than "${actor.username}" (${sofar})`);
  if (r.groups && !(actor.groups ?? []).some((g) => r.groups?.includes(g))) {
    return no(field, `user "${actor.username}" is not in ${r.groups.map((g) => `"${g}"`).join(' or ')}, whose members approve the ${partName} part under rule ${r.rule}`);
  }
  if (progress.approvers.includes(actor.username)) return no(field, `user "${actor.username}" already approved the ${partName} part of extension ${pending.index + 1} (${sofar})`);
  return yes;
}

/** One line per extension requirement, as describe and Events show it. */
export function describeExtensionRequirement(r: ExtensionRequirement): string {
  const total = `total ${formatDuration(r.totalMs)}`;
  switch (r.kind) {
    case 'auto':
      return `approved automatically (${total} within maxTotalDuration ${r.maxTotalDuration})`;
    case 'default':
      return `one approver (${total}${r.maxTotalDuration ? ` beyond maxTotalDuration ${r.maxTotalDuration}` : ', no maxTotalDuration'})`;
    case 'count':
      return `${r.count} distinct approver${r.count === 1 ? '' : 's'}${r.groups ? ` from ${r.groups.join(', ')}` : ''}, the requester not counted (${r.rule}; ${total}${r.maxTotalDuration ? ` beyond maxTotalDuration ${r.maxTotalDuration}` : ''})`;
  }
}
