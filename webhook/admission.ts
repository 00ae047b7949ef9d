// The admission decisions for AccessRequests, as pure functions of (operation, subresource, userInfo, oldObject,
// object, facts, config, now). The HTTP shell (app.ts) only decodes the AdmissionReview, gathers the facts these
// functions ask for (factsNeeded), calls them and encodes the answer. Every rejection names the field and says
// what is allowed.
import { isDeepStrictEqual } from 'node:util';
import jsonpatch, { type Operation as PatchOperation } from 'fast-json-patch';
import {
  GROUP,
  PLURAL,
  type AccessRequest,
  type AccessRequestStatus,
  type Approval,
  type DecisionType,
  type Extension,
  type ExtensionApproval,
  type PartName,
  type Requester,
  type Review,
} from '../lib/api/accessrequest.ts';
import type { AccessPolicy } from '../lib/api/accesspolicy.ts';
import { evaluateParts, policyErrors, ruleId, type PartPolicy } from '../lib/domain/access-policy.ts';
import {
  approvalOf,
  approversOf,
  closedBecause,
  isRequester,
  mayApproveAny,
  mayApprovePart,
  mayApproveExtension,
  mayDecide,
  mayDelete,
  mayExtend,
  policyStamp,
  stageOf,
  stampedApprovals,
  type Actor,
  type Verdict,
} from '../lib/domain/actions.ts';
import { MAXTAC_GROUP, describePermission, partsOf, permissionFor, type Part } from '../lib/domain/parts.ts';
import { bindApproverHint, describeSubject, isApprovable, type PartApprovers } from '../lib/domain/approvers.ts';
import {
  serviceKey,
  serviceReferencesOf,
  validateServices,
  validateSpec,
  type ServiceFacts,
  type ServiceReference,
} from '../lib/domain/spec.ts';
import { formatFieldErrors, type FieldError } from '../lib/domain/field-error.ts';
import type { WebhookConfig } from './config.ts';

import { isUser, type UserInfo } from './identity.ts';

export type { UserInfo };
export type AdmissionOperation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

/** What the cluster says, gathered by the shell before deciding (see factsNeeded). */
export interface AdmissionFacts {
  /** Whether the user may approve each part of the request; a part left out counts as "may not". */
  mayApprove: Partial<Record<PartName, boolean>>;
  /** Referenced Services by `namespace/name`; null when the Service does not exist. */
  services: ReadonlyMap<string, ServiceFacts | null>;
  /** How many open (not ended) AccessRequests the user has, when the per-requester limit applies. */
  openRequests?: number;
  /**
   * Who may approve the parts factsNeeded asked about (at create, those the requester cannot approve), read from RBAC;
   * a part left out is not judged.
   */
  approvers?: ReadonlyMap<PartName, Pick<PartApprovers, 'approvers' | 'clusterAdmins'>>;
  /** The AccessPolicies of the namespaces in policyNamespaces (see FactsNeeded); none given: none. */
  policies?: readonly AccessPolicy[];
}

export interface AdmissionInput {
  operation: AdmissionOperation;
  /** `''` for the main resource, `'status'` for the status subresource. */
  subResource: string;
  userInfo: UserInfo;
  oldObject: AccessRequest | null;
  object: AccessRequest | null;
  facts: AdmissionFacts;
  config: WebhookConfig;
  now: Date;
}

export interface AdmissionResult {
  allowed: boolean;
  /** HTTP-style status code of a rejection: 403 not permitted, 422 invalid, 400 malformed. */
  code?: number;
  message?: string;
  patch?: PatchOperation[];
  /** Admission warnings (kubectl prints them; the API server returns them in the Warning header). */
  warnings?: string[];
}

export type FactsQuery = Pick<AdmissionInput, 'operation' | 'subResource' | 'userInfo' | 'oldObject' | 'object' | 'config'>;

/** What the shell must look up before calling mutate/validate: the parts to review and the Services to read. */
export interface FactsNeeded {
  parts: Part[];
  services: ServiceReference[];
  /** Count this user's open AccessRequests (the per-requester limit). */
  openRequestsOf?: string;
  /** Look up who may approve these parts (the unapprovable check). */
  approversOf?: Part[];
  /**
   * Namespaces whose AccessPolicies decide this admission. Where there are some, the shell also reads the request's
   * Services (rules may select them by label).
   */
  policyNamespaces?: string[];
}

export const NETWATCH_FINALIZER_PREFIX = `${GROUP}/`;

const allow = (patch?: PatchOperation[]): AdmissionResult => (patch && patch.length > 0 ? { allowed: true, patch } : { allowed: true });
const deny = (code: number, message: string): AdmissionResult => ({ allowed: false, code, message });
const denyFields = (code: number, errors: FieldError[]): AdmissionResult => deny(code, formatFieldErrors(errors));

/** RFC 3339 with second precision, the way Kubernetes writes times. */
export function rfc3339(now: Date): string {
  return now.toISOString().replace(/\.\d+Z$/, 'Z');
}

function isController(input: Pick<AdmissionInput, 'userInfo' | 'config'>): boolean {
  return isUser(input.userInfo, input.config.controllerUsername);
}

function safeParts(request: AccessRequest | null): Part[] {
  const spec = request?.spec;
  if (!spec || typeof spec !== 'object') return [];
  try {
    return partsOf(spec);
  } catch {
    return [];
  }
}

/** Outcomes of a spec the API server has not validated yet: a malformed one has none (it is refused elsewhere). */
function safeOutcomes(request: AccessRequest, facts: AdmissionFacts): PartPolicy[] {
  try {
    return policyOutcomes(request, facts);
  } catch {
    return [];
  }
}

function netwatchFinalizers(request: AccessRequest | null): string[] {
  return (request?.metadata?.finalizers ?? []).filter((f) => f.startsWith(NETWATCH_FINALIZER_PREFIX)).sort();
}

export function factsNeeded(kind: 'mutate' | 'validate', q: FactsQuery): FactsNeeded {
  const none: FactsNeeded = { parts: [], services: [] };
  const { operation, subResource } = q;
  const namespaces = (r: AccessRequest | null) => [...new Set(safeParts(r).map((p) => p.namespace))];
  const policed = (r: AccessRequest | null): Pick<FactsNeeded, 'policyNamespaces'> => (namespaces(r).length > 0 ? { policyNamespaces: namespaces(r) } : {});
  if (kind === 'mutate') {
    if (operation === 'CREATE' && subResource === '') return { parts: safeParts(q.object), services: [], ...policed(q.object) };
    if (operation === 'UPDATE' && subResource === 'status' && !isController(q)) return { ...none, ...policed(q.oldObject) };
    return none;
  }
  if (operation === 'CREATE') {
    const spec = q.object?.spec;
    // An invalid spec is refused on its own: garbage input costs no API calls.
    if (!spec || validateSpec(spec, q.config).length > 0) return none;
    // Only the parts the request claims were approved need confirming: claiming fewer grants nothing.
    const claimed = spec.requester?.approvedParts ?? [];
    const limited = q.config.maxOpenRequests > 0 && !isController(q) && q.userInfo.username;
    // The parts left to approvers: someone besides cluster admins must be able to (unless --unapprovable=allow).
    const pending = q.config.unapprovable === 'allow' || isController(q) ? [] : safeParts(q.object).filter((p) => !claimed.includes(p.name));
    return {
      parts: safeParts(q.object).filter((p) => claimed.includes(p.name)),
      services: serviceReferencesOf(spec),
      ...policed(q.object),
      ...(limited ? { openRequestsOf: q.userInfo.username } : {}),
      ...(pending.length > 0 ? { approversOf: pending } : {}),
    };
  }
  if (isController(q)) return none;
  if (operation === 'DELETE') return q.oldObject && isRequester(q.oldObject, q.userInfo.username) ? none : { parts: safeParts(q.oldObject), services: [] };
  if (operation === 'UPDATE' && subResource === 'status') return { parts: safeParts(q.oldObject), services: [], ...policed(q.oldObject) };
  if (operation === 'UPDATE' && !isDeepStrictEqual(netwatchFinalizers(q.oldObject), netwatchFinalizers(q.object))) {
    return { parts: safeParts(q.oldObject), services: [] };
  }
  return none;
}

// ---------------------------------------------------------------------------------------------------------------
// Mutating

/** What the AccessPolicies in the facts say about each part of `request` (a part no rule matches: today's rules). */
export function policyOutcomes(request: Pick<AccessRequest, 'spec'>, facts: AdmissionFacts): PartPolicy[] {
  const policies = facts.policies ?? [];
  if (policies.length === 0) return evaluateParts(request.spec, [], () => undefined);
  return evaluateParts(request.spec, policies, (namespace, name) => facts.services.get(serviceKey(namespace, name))?.labels);
}

function requirementOf(outcomes: readonly PartPolicy[], part: PartName): PartPolicy['approval'] {
  return outcomes.find((o) => o.part === part)?.approval ?? { kind: 'default' };
}

/**
 * The requester as the webhook stamps it: identity from userInfo, and the parts the user may approve now, except
 * parts an AccessPolicy gives to several approvers (the requester never counts among them).
 */
export function stampedRequester(user: UserInfo, parts: Part[], facts: AdmissionFacts, outcomes: readonly PartPolicy[] = []): Requester {
  return {
    username: user.username ?? '',
    ...(user.uid ? { uid: user.uid } : {}),
    groups: [...(user.groups ?? [])],
    approvedParts: parts.filter((p) => facts.mayApprove[p.name] === true && requirementOf(outcomes, p.name).kind !== 'count').map((p) => p.name),
  };
}

/**
 * A user's approval of a part that needs several approvers becomes a review (status.reviews, stamped with the rule
 * in force now); the approval itself stays only when this review brings the part's distinct approvers to the
 * number the rule asks for. A review a client wrote directly is stamped the same way.
 */
function recordReviews(input: AdmissionInput, mutated: AccessRequest, by: string, at: string): void {
  const old = input.oldObject;
  const status = mutated.status;
  if (!old || !status) return;
  const outcomes = policyOutcomes(old, input.facts);
  const oldReviews = old.status?.reviews ?? [];
  const reviews: Review[] = [...(status.reviews ?? [])];
  const before = new Set((old.status?.approvals ?? []).map((a) => a.part));
  const touched = new Set<PartName>();
  for (const approval of status.approvals ?? []) {
    if (before.has(approval.part) || requirementOf(outcomes, approval.part).kind !== 'count') continue;
    touched.add(approval.part);
    if (!reviews.slice(oldReviews.length).some((r) => r.part === approval.part)) reviews.push({ part: approval.part, namespace: approval.namespace });
  }
  for (const review of reviews.slice(oldReviews.length)) {
    const requirement = requirementOf(outcomes, review.part);
    Object.assign(review, { by, at }, requirement.kind === 'count' ? { rule: ruleId(requirement.rule), required: requirement.count } : {});
    touched.add(review.part);
  }
  if (reviews.length > oldReviews.length) status.reviews = reviews;
  for (const part of touched) {
    const requirement = requirementOf(outcomes, part);
    if (requirement.kind !== 'count') continue;
    const approvers = new Set(approversOf(old, part));
    if (!isRequester(old, by)) approvers.add(by);
    const complete = approvers.size >= requirement.count;
    const approvals = status.approvals ?? [];
    const index = approvals.findIndex((a) => a.part === part && !before.has(a.part));
    const namespace = safeParts(old).find((p) => p.name === part)?.namespace ?? '';
    if (complete && index < 0) status.approvals = [...approvals, { part, namespace, by, at }];
    if (!complete && index >= 0) status.approvals = approvals.filter((_, i) => i !== index);
  }
}

export function mutate(input: AdmissionInput): AdmissionResult {
  const { operation, subResource, object } = input;
  if (operation === 'CREATE' && subResource === '') {
    if (!object?.spec || typeof object.spec !== 'object') return deny(400, 'spec: is required');
    const mutated = structuredClone(object);
    delete mutated.spec.policy;
    mutated.spec.requester = stampedRequester(input.userInfo, [], input.facts);
    // Rules may match on the requester: evaluated with the identity just stamped.
    const outcomes = safeOutcomes(mutated, input.facts);
    mutated.spec.requester = stampedRequester(input.userInfo, safeParts(object), input.facts, outcomes);
    const stamp = policyStamp(outcomes);
    if (stamp.length > 0) mutated.spec.policy = stamp;
    // The API server drops status at CREATE for a CRD with a status subresource; dropping it here as well keeps a
    // client from smuggling approvals in should that ever change.
    delete mutated.status;
    return allow(jsonpatch.compare(object, mutated));
  }
  if (operation === 'UPDATE' && subResource === 'status' && object && !isController(input)) {
    // Stamp who/when on what this write adds; validation then checks it adds one thing the user is entitled to.
    const mutated = structuredClone(object);
    const by = input.userInfo.username ?? '';
    const at = rfc3339(input.now);
    const before = new Set((input.oldObject?.status?.approvals ?? []).map((a) => a.part));
    for (const approval of mutated.status?.approvals ?? []) {
      if (!before.has(approval.part)) Object.assign(approval, { by, at });
    }
    if (mutated.status?.decision && !input.oldObject?.status?.decision) Object.assign(mutated.status.decision, { by, at });
    // Entries appended to the append-only lists get who and when; validation refuses any change to older ones.
    const oldExtensions = input.oldObject?.status?.extensions?.length ?? 0;
    for (const e of (mutated.status?.extensions ?? []).slice(oldExtensions)) Object.assign(e, { requestedBy: by, at });
    const oldExtensionApprovals = input.oldObject?.status?.extensionApprovals?.length ?? 0;
    for (const e of (mutated.status?.extensionApprovals ?? []).slice(oldExtensionApprovals)) Object.assign(e, { by, at });
    recordReviews(input, mutated, by, at);
    return allow(jsonpatch.compare(object, mutated));
  }
  return allow();
}

// ---------------------------------------------------------------------------------------------------------------
// Validating

export function validate(input: AdmissionInput): AdmissionResult {
  switch (input.operation) {
    case 'CREATE':
      return validateCreate(input);
    case 'UPDATE':
      return input.subResource === 'status' ? validateStatusUpdate(input) : validateUpdate(input);
    case 'DELETE':
      return validateDelete(input);
    case 'CONNECT':
      return allow();
  }
}

function validateCreate(input: AdmissionInput): AdmissionResult {
  const { object, userInfo, facts, config } = input;
  if (input.subResource !== '') return deny(400, `${input.subResource}: cannot be created`);
  if (!object?.spec) return deny(422, 'spec: is required');
  if (!userInfo.username) return deny(403, 'userInfo.username: the API server sent no user; refusing an anonymous request');
  // A finalizer the controller does not know would keep the request (and the audit of it) from ever being deleted;
  // the controller adds its own after admission.
  if ((object.metadata?.finalizers ?? []).length > 0 && !isController(input)) {
    return deny(403, `metadata.finalizers: must be empty when an AccessRequest is created (got ${object.metadata.finalizers?.join(', ')}); the netwatch controller adds its own`);
  }
  const specErrors = validateSpec(object.spec, config);
  if (specErrors.length > 0) return denyFields(422, specErrors);

  const actual = object.spec.requester;
  const identity = (r: { username?: string; uid?: string; groups?: string[] }) => ({ username: r.username ?? '', uid: r.uid ?? '', groups: r.groups ?? [] });
  if (!actual || !isDeepStrictEqual(identity(actual), identity(userInfo))) {
    // Only reachable when the mutating webhook did not run (or another one rewrote its work): fail closed.
    return deny(
      403,
      `spec.requester: must be the requesting user (${userInfo.username}) as stamped by the netwatch mutating webhook; is the MutatingWebhookConfiguration installed?`,
    );
  }
  const parts = safeParts(object);
  const outcomes = policyOutcomes(object, facts);
  const policyRefusals = policyErrors(object.spec, outcomes);
  if (policyRefusals.length > 0) return denyFields(outcomes.some((o) => o.refuse) ? 403 : 422, policyRefusals);
  if (!isDeepStrictEqual(object.spec.policy ?? [], policyStamp(outcomes))) {
    return deny(
      403,
      'spec.policy: must be what the AccessPolicies in force say, as stamped by the netwatch mutating webhook (if a policy changed during this request, retry)',
    );
  }
  const claimed = actual.approvedParts ?? [];
  for (const [i, name] of claimed.entries()) {
    const part = parts.find((p) => p.name === name);
    if (part && requirementOf(outcomes, name).kind === 'count') {
      return deny(403, `spec.requester.approvedParts[${i}]: the ${name} part needs approvers other than the requester (${describeRequirement(outcomes, name)})`);
    }
    if (!part || claimed.indexOf(name) !== i || facts.mayApprove[name] !== true) {
      return deny(
        403,
        `spec.requester.approvedParts[${i}]: ${name} is not a part user "${userInfo.username}" may approve${part ? `: that needs ${describePermission(permissionFor(part))}` : ''}; approvedParts is stamped by the netwatch mutating webhook`,
      );
    }
  }
  const serviceErrors = validateServices(object.spec, facts.services);
  if (serviceErrors.length > 0) return denyFields(422, serviceErrors);
  if (config.maxOpenRequests > 0 && !isController(input) && (facts.openRequests ?? 0) >= config.maxOpenRequests) {
    return deny(
      403,
      `spec.requester: user "${userInfo.username}" already has ${facts.openRequests} open AccessRequests (Pending, PartiallyApproved or Active) and the limit is ${config.maxOpenRequests} (webhook setting --max-open-requests); abort or revoke one you no longer need`,
    );
  }
  return unapprovableCheck(object, parts.filter((p) => !claimed.includes(p.name)), facts, config);
}

/** The spec field that names a part's namespace. */
function namespaceField(request: AccessRequest, part: Part): string {
  if (request.spec.type === 'External') return 'spec.service.namespace';
  return part.name === 'source' ? 'spec.source.namespace' : 'spec.target.namespace';
}

/**
 * A pending part that nobody but cluster admins may approve would wait until its pending TTL: refused (naming the
 * namespace and how its owners name approvers), accepted with a warning, or accepted, as configured.
 */
function unapprovableCheck(request: AccessRequest, pending: Part[], facts: AdmissionFacts, config: WebhookConfig): AdmissionResult {
  if (config.unapprovable === 'allow') return allow();
  const nobody = pending.filter((p) => {
    const known = facts.approvers?.get(p.name);
    return known !== undefined && !isApprovable(known);
  });
  if (nobody.length === 0) return allow();
  if (config.unapprovable === 'warn') {
    return {
      allowed: true,
      warnings: nobody.map(
        (p) =>
          `the ${p.name} part (namespace ${p.namespace}) has no approver but cluster admins; its owners can bind one: kubectl -n ${p.namespace} create rolebinding netwatch-approver --clusterrole=netwatch-approver --group=<group>`,
      ),
    };
  }
  return denyFields(
    403,
    nobody.map((p) => {
      const admins = facts.approvers?.get(p.name)?.clusterAdmins ?? [];
      return {
        field: namespaceField(request, p),
        message:
          `nobody but cluster admins may approve the ${p.name} part in namespace "${p.namespace}": no RoleBinding there grants approve on accessrequests.${GROUP} (or create on services and ${p.maxtacResource}.${MAXTAC_GROUP}), so the request would only wait until it expires; ` +
          `${bindApproverHint(p.namespace)}` +
          (admins.length > 0 ? ` (cluster admins: ${admins.slice(0, 3).map(describeSubject).join(', ')}${admins.length > 3 ? ', …' : ''})` : '') +
          '; webhook setting --unapprovable=refuse (warn or allow accept such requests)',
      };
    }),
  );
}

function describeRequirement(outcomes: readonly PartPolicy[], part: PartName): string {
  const r = requirementOf(outcomes, part);
  return r.kind === 'count' ? `${r.count} distinct approvers under ${ruleId(r.rule)}` : r.kind;
}

/** Field paths where two JSON values differ (`spec.ports[0].port`), outermost first, at most `limit`. */
export function changedPaths(before: unknown, after: unknown, path: string, limit = 5): string[] {
  if (isDeepStrictEqual(before, after)) return [];
  const bothObjects =
    typeof before === 'object' && before !== null && typeof after === 'object' && after !== null && Array.isArray(before) === Array.isArray(after);
  if (!bothObjects) return [path];
  const out: string[] = [];
  if (Array.isArray(before) && Array.isArray(after)) {
    if (before.length !== after.length) return [path];
    for (let i = 0; i < before.length && out.length < limit; i++) out.push(...changedPaths(before[i], after[i], `${path}[${i}]`, limit - out.length));
    return out;
  }
  const b = before as Record<string, unknown>;
  const a = after as Record<string, unknown>;
  for (const key of [...new Set([...Object.keys(b), ...Object.keys(a)])].sort()) {
    if (out.length >= limit) break;
    out.push(...changedPaths(b[key], a[key], `${path}.${key}`, limit - out.length));
  }
  return out;
}

function specImmutability(input: AdmissionInput): FieldError[] {
  return changedPaths(input.oldObject?.spec, input.object?.spec, 'spec').map((field) =>
    field === 'spec.requester' || field.startsWith('spec.requester.') || field === 'spec.policy' || field.startsWith('spec.policy')
      ? { field, message: 'is stamped by the admission webhook at creation and cannot be changed' }
      : { field, message: 'is immutable after creation; create a new AccessRequest instead' },
  );
}

function validateUpdate(input: AdmissionInput): AdmissionResult {
  const immutability = specImmutability(input);
  if (immutability.length > 0) return denyFields(403, immutability);
  if (isController(input)) return allow();
  // Removing the teardown finalizer from a request being deleted would leave its grants in force with nobody to
  // clean them up, so only the controller or someone who could approve the request may touch it.
  if (!isDeepStrictEqual(netwatchFinalizers(input.oldObject), netwatchFinalizers(input.object))) {
    if (!input.oldObject?.spec || !mayApproveAny(input.oldObject, actorOf(input))) {
      return deny(
        403,
        `metadata.finalizers: ${NETWATCH_FINALIZER_PREFIX}* finalizers may only be changed by the netwatch controller or an approver of the request`,
      );
    }
  }
  return allow();
}

// Who may delete: the rule book's (lib/domain/actions.ts), and the controller (retention). Cluster administrators
// need no rule of their own: `approve` granted cluster-wide (or system:masters) passes the approval review in every
// namespace, so they approve every part.
function validateDelete(input: AdmissionInput): AdmissionResult {
  const old = input.oldObject;
  if (isController(input)) return allow();
  if (!old?.spec) return deny(400, 'oldObject: the AccessRequest being deleted is required');
  return fromVerdict(mayDelete(old, actorOf(input)));
}

function actorOf(input: AdmissionInput): Actor {
  return { username: input.userInfo.username ?? '', groups: input.userInfo.groups ?? [], mayApprove: input.facts.mayApprove };
}

function fromVerdict(v: Verdict, field?: string): AdmissionResult {
  return v.allowed ? allow() : deny(403, `${field ?? v.field}: ${v.message}`);
}

const USER_STATUS_FIELDS = new Set(['approvals', 'reviews', 'decision', 'extensions', 'extensionApprovals']);
const DECISION_TYPES: readonly string[] = ['Denied', 'Aborted', 'Revoked'] satisfies DecisionType[];

function validateStatusUpdate(input: AdmissionInput): AdmissionResult {
  const { oldObject: old, object } = input;
  if (!old || !object) return deny(400, 'object: oldObject and object are required for a status update');
  const immutability = specImmutability(input);
  if (immutability.length > 0) return denyFields(403, immutability);

  const oldStatus: AccessRequestStatus = old.status ?? {};
  const newStatus: AccessRequestStatus = object.status ?? {};
  const parts = safeParts(old);
  const errors: FieldError[] = [];

  // Existing approvals and reviews are history: nobody rewrites or removes them; reviews are only appended.
  const newApprovals = newStatus.approvals ?? [];
  for (const a of oldStatus.approvals ?? []) {
    const now = newApprovals.find((n) => n.part === a.part);
    if (!now || !isDeepStrictEqual(now, a)) {
      errors.push({ field: 'status.approvals', message: `the existing approval of the ${a.part} part cannot be changed or removed` });
    }
  }
  const oldReviews = oldStatus.reviews ?? [];
  const newReviews = newStatus.reviews ?? [];
  if (newReviews.length < oldReviews.length || !isDeepStrictEqual(newReviews.slice(0, oldReviews.length), oldReviews)) {
    errors.push({ field: 'status.reviews', message: 'is append-only: existing approvals cannot be changed, reordered or removed' });
  }
  const addedReviews = newReviews.slice(oldReviews.length).map((r, i) => ({ r, index: oldReviews.length + i }));
  const addedExtensions = appendedTo(oldStatus.extensions, newStatus.extensions, 'status.extensions', errors);
  const addedExtensionApprovals = appendedTo(oldStatus.extensionApprovals, newStatus.extensionApprovals, 'status.extensionApprovals', errors);
  const oldParts = new Set((oldStatus.approvals ?? []).map((a) => a.part));
  const added = newApprovals.map((a, index) => ({ a, index })).filter(({ a }) => !oldParts.has(a.part));

  if (isController(input)) {
    if (!isDeepStrictEqual(oldStatus.decision, newStatus.decision)) {
      errors.push({ field: 'status.decision', message: 'is decided by users (deny, abort, revoke), never written by the controller' });
    }
    if (addedReviews.length > 0) errors.push({ field: 'status.reviews', message: 'records approvers, never written by the controller' });
    if (addedExtensions.length > 0) errors.push({ field: 'status.extensions', message: 'records who extended, never written by the controller' });
    if (addedExtensionApprovals.length > 0) errors.push({ field: 'status.extensionApprovals', message: 'records approvers, never written by the controller' });
    const stamped = stampedApprovals(old);
    for (const { a, index } of added) {
      const expected = stamped.find((s) => s.part === a.part);
      if (!expected || a.namespace !== expected.namespace || a.by !== expected.by) {
        errors.push({
          field: `status.approvals[${index}]`,
          message: 'the controller may only mirror approvals recorded at creation (spec.requester.approvedParts by the requester, spec.policy auto-approvals)',
        });
      }
    }
    return errors.length > 0 ? denyFields(403, errors) : allow();
  }

  // A user: controller-owned fields stay as they are.
  for (const key of [...new Set([...Object.keys(oldStatus), ...Object.keys(newStatus)])].sort()) {
    if (USER_STATUS_FIELDS.has(key)) continue;
    const k = key as keyof AccessRequestStatus;
    if (!isDeepStrictEqual(oldStatus[k], newStatus[k])) {
      errors.push({
        field: `status.${key}`,
        message:
          'is written only by the netwatch controller; a user may only add one approval (status.approvals), one decision (status.decision), one extension (status.extensions) or one approval of an extension (status.extensionApprovals)',
      });
    }
  }
  const decisionAdded = !oldStatus.decision && !!newStatus.decision;
  if (oldStatus.decision && !isDeepStrictEqual(oldStatus.decision, newStatus.decision)) {
    errors.push({ field: 'status.decision', message: `the request was already ${oldStatus.decision.type}; a decision cannot be changed or removed` });
  }
  if (errors.length > 0) return denyFields(403, errors);

  // One approval: an entry in approvals, or a review (with the approval it completes, of the same part, by the same user).
  const review = addedReviews[0];
  const completes = review && added.length === 1 && added[0]?.a.part === review.r.part;
  const additions = addedReviews.length + (completes ? 0 : added.length) + (decisionAdded ? 1 : 0) + addedExtensions.length + addedExtensionApprovals.length;
  if (additions === 0) return allow();
  if (additions > 1) {
    return deny(
      403,
      'status: a status write may add exactly one thing: one approval (status.approvals), one decision (status.decision), one extension (status.extensions) or one approval of an extension (status.extensionApprovals)',
    );
  }
  const addedField = decisionAdded
    ? 'status.decision'
    : addedExtensions.length > 0
      ? 'status.extensions'
      : addedExtensionApprovals.length > 0
        ? 'status.extensionApprovals'
        : 'status.approvals';
  if (stageOf(old) === 'closed') {
    return deny(403, `${addedField}: the request is already ${closedBecause(old)}; it accepts no further approvals or decisions${addedField.startsWith('status.extension') ? ' and cannot be extended' : ''}`);
  }

  const username = input.userInfo.username ?? '';
  const extension = addedExtensions[0];
  if (extension) return validateExtension(input, extension.e, extension.index, username);
  const extensionApproval = addedExtensionApprovals[0];
  if (extensionApproval) return validateExtensionApproval(input, extensionApproval.e, extensionApproval.index, parts, username);
  if (review) return validateReview(input, review.r, review.index, completes ? added[0] : undefined, parts, username);
  const first = added[0];
  if (first) return validateApproval(input, first.a, first.index, parts, username);

  const decision = newStatus.decision;
  if (!decision) return allow();
  if (decision.by !== username) {
    return deny(403, 'status.decision.by: is stamped by the admission webhook with the deciding user');
  }
  if (!DECISION_TYPES.includes(decision.type)) return deny(422, 'status.decision.type: must be Denied, Aborted or Revoked');
  return fromVerdict(mayDecide(old, actorOf(input), decision.type));
}

/** The entries appended to an append-only list; a change to the entries before them is an error naming the field. */
function appendedTo<T>(before: readonly T[] | undefined, after: readonly T[] | undefined, field: string, errors: FieldError[]): { e: T; index: number }[] {
  const old = before ?? [];
  const now = after ?? [];
  if (now.length < old.length || !isDeepStrictEqual(now.slice(0, old.length), old)) {
    errors.push({ field, message: 'is append-only: existing entries cannot be changed, reordered or removed' });
    return [];
  }
  return now.slice(old.length).map((e, i) => ({ e, index: old.length + i }));
}

/** One extension: stamped by the mutating webhook, and allowed by the rule book (mayExtend). */
function validateExtension(input: AdmissionInput, extension: Extension, index: number, username: string): AdmissionResult {
  const old = input.oldObject;
  const field = `status.extensions[${index}]`;
  if (!old) return deny(400, 'oldObject: is required for a status update');
  if (extension.requestedBy !== username || !extension.at) return deny(403, `${field}.requestedBy: is stamped by the admission webhook with the extending user`);
  const verdict = mayExtend(old, actorOf(input), extension.duration, { maxDuration: input.config.maxDuration });
  return verdict.allowed ? allow() : deny(verdict.field.endsWith('.duration') ? 422 : 403, `${verdict.field}: ${verdict.message}`);
}

/** One approval of one part of the waiting extension, by a user the rule book allows (mayApproveExtension). */
function validateExtensionApproval(input: AdmissionInput, approval: ExtensionApproval, index: number, parts: Part[], username: string): AdmissionResult {
  const old = input.oldObject;
  const field = `status.extensionApprovals[${index}]`;
  if (!old) return deny(400, 'oldObject: is required for a status update');
  const part = parts.find((p) => p.name === approval.part);
  if (!part) return deny(422, `${field}.part: must be one of this request's parts: ${parts.map((p) => p.name).join(', ')}`);
  if (approval.namespace !== part.namespace) return deny(422, `${field}.namespace: must be "${part.namespace}", the namespace of the ${part.name} part`);
  if (approval.by !== username || !approval.at) return deny(403, `${field}.by: is stamped by the admission webhook with the approving user`);
  const pending = (old.status?.extensions ?? []).length - 1;
  if (approval.extension !== pending) {
    return deny(403, `${field}.extension: must be ${pending < 0 ? 'the index of a waiting extension, and none waits' : `${pending}, the index of the latest extension`}`);
  }
  return fromVerdict(mayApproveExtension(old, actorOf(input), part.name), field);
}

/** A policy change counts from the next decision: an approval is refused while the request breaks a rule in force. */
function policyRefusal(input: AdmissionInput, outcomes: readonly PartPolicy[], field: string): AdmissionResult | undefined {
  const old = input.oldObject;
  if (!old) return undefined;
  const errors = policyErrors(old.spec, outcomes);
  if (errors.length === 0) return undefined;
  return deny(403, `${field}: the AccessPolicies in force now refuse this request, so it cannot be approved (deny it, or ask again): ${formatFieldErrors(errors)}`);
}

function validateApproval(input: AdmissionInput, approval: Approval, index: number, parts: Part[], username: string): AdmissionResult {
  const field = `status.approvals[${index}]`;
  const part = parts.find((p) => p.name === approval.part);
  if (!part) return deny(422, `${field}.part: must be one of this request's parts: ${parts.map((p) => p.name).join(', ')}`);
  if (approval.namespace !== part.namespace) {
    return deny(422, `${field}.namespace: must be "${part.namespace}", the namespace of the ${part.name} part`);
  }
  if (input.oldObject && approvalOf(input.oldObject, part.name)) return deny(403, `${field}: the ${part.name} part is already approved`);
  if (approval.by !== username) return deny(403, `${field}.by: is stamped by the admission webhook with the approving user`);
  if (!input.oldObject) return allow();
  const outcomes = policyOutcomes(input.oldObject, input.facts);
  const requirement = requirementOf(outcomes, part.name);
  const verdict = mayApprovePart(input.oldObject, actorOf(input), part.name, requirement);
  if (!verdict.allowed) return fromVerdict(verdict, field);
  if (requirement.kind === 'count') {
    return deny(403, `${field}: the ${part.name} part needs ${describeRequirement(outcomes, part.name)}; each approval is recorded in status.reviews by the netwatch mutating webhook`);
  }
  return policyRefusal(input, outcomes, field) ?? allow();
}

/** One approver's review of a part that needs several; `approval` is the part's approval when this review completes it. */
function validateReview(
  input: AdmissionInput,
  review: Review,
  index: number,
  approval: { a: Approval; index: number } | undefined,
  parts: Part[],
  username: string,
): AdmissionResult {
  const old = input.oldObject;
  const field = `status.reviews[${index}]`;
  const part = parts.find((p) => p.name === review.part);
  if (!old) return deny(400, 'oldObject: is required for a status update');
  if (!part) return deny(422, `${field}.part: must be one of this request's parts: ${parts.map((p) => p.name).join(', ')}`);
  if (review.namespace !== part.namespace) return deny(422, `${field}.namespace: must be "${part.namespace}", the namespace of the ${part.name} part`);
  if (review.by !== username) return deny(403, `${field}.by: is stamped by the admission webhook with the approving user`);
  const outcomes = policyOutcomes(old, input.facts);
  const requirement = requirementOf(outcomes, part.name);
  const verdict = mayApprovePart(old, actorOf(input), part.name, requirement);
  if (!verdict.allowed) return fromVerdict(verdict, field);
  if (requirement.kind !== 'count') {
    return deny(403, `${field}: no AccessPolicy rule asks for several approvers of the ${part.name} part now; approve it with status.approvals`);
  }
  if (review.rule !== ruleId(requirement.rule) || review.required !== requirement.count) {
    return deny(403, `${field}: rule and required are stamped by the netwatch mutating webhook with the rule in force (${ruleId(requirement.rule)}, ${requirement.count})`);
  }
  const refusal = policyRefusal(input, outcomes, field);
  if (refusal) return refusal;
  const complete = approversOf(old, part.name).length + 1 >= requirement.count;
  if (complete && !approval) return deny(403, `status.approvals: this approval completes the ${part.name} part, whose approval must be recorded with it`);
  if (!complete && approval) {
    return deny(403, `status.approvals[${approval.index}]: the ${part.name} part needs ${requirement.count} distinct approvers and has ${approversOf(old, part.name).length + 1} with this one`);
  }
  if (approval && (approval.a.by !== username || approval.a.namespace !== part.namespace)) {
    return deny(403, `status.approvals[${approval.index}]: must be by "${username}" in namespace ${part.namespace}, stamped by the admission webhook`);
  }
  return allow();
}

/** The resource the webhook must be registered for; anything else is a configuration mistake and is refused. */
export function isAccessRequestResource(resource: { group?: string; resource?: string } | undefined): boolean {
  return resource?.group === GROUP && resource.resource === PLURAL;
}

