// What the commands and the TUI do with AccessRequests, written against ClusterPort. Client-side checks here
// only make messages better and pick sensible defaults; every decision is enforced by the admission webhook.
import {
  API_VERSION,
  KIND,
  UNLIMITED_DURATION,
  type AccessRequest,
  type AccessRequestSpec,
  type DecisionType,
  type Direction,
  type PartName,
  type Phase,
  type Port,
  type Protocol,
  type ServiceRef,
} from '../../../lib/api/accessrequest.ts';
import { describePermission, partsOf, permissionFor, type Part } from '../../../lib/domain/parts.ts';
import {
  allowedActions,
  approvalOf,
  askPermissions,
  extensionProgress,
  isRequester as isRequesterOf,
  mayApproveExtension,
  mayExtend,
  pendingExtension,
  type ExtensionProgress,
  phaseOf,
  policySummary,
  questionKey,
  stageOf,
} from '../../../lib/domain/actions.ts';
import {
  validateServices,
  validateSpecSyntax,
  type ServiceFacts,
} from '../../../lib/domain/spec.ts';
import { formatFieldErrors, type FieldError } from '../../../lib/domain/field-error.ts';
import type { KubeObject, Service } from '../../../lib/kube/types.ts';
import { LABEL_REQUEST_ID } from '../../../lib/api/markers.ts';
import { isDns1035Label, isDns1123Label } from '../../../lib/api/names.ts';
import { UserError, explain } from '../errors.ts';
import { inert } from '../../../lib/text/inert.ts';
import { describeApprovers, describeClusterAdmins, isApprovable } from '../../../lib/domain/approvers.ts';
import { KubeError, isForbidden } from '../../../lib/kube/errors.ts';
import type { ClusterPort, DetailKind, Identity } from './port.ts';


/** `ns/svc` or `svc` (in the default namespace). */
export function parseServiceRef(text: string, defaultNamespace: string, flag: string): ServiceRef {
  const parts = text.split('/');
  const [ns, svc] = parts.length === 2 ? parts : parts.length === 1 ? [defaultNamespace, parts[0]] : [];
  if (!ns || !svc || !isDns1123Label(ns) || !isDns1035Label(svc)) {
    throw new UserError(`${flag} "${inert(text)}" is not NAMESPACE/SERVICE`, `e.g. ${flag} monitoring/prometheus`);
  }
  return { namespace: ns, service: svc };
}

/** `5432/TCP`, `53/udp` or `8080` (protocol defaults to TCP), given as `what`. */
export function parsePort(item: string, what: string, example: string): Port {
  const m = /^\s*(\d{1,5})(?:\/(tcp|udp|sctp))?\s*$/i.exec(item);
  const port = m ? Number(m[1]) : NaN;
  if (!m || port < 1 || port > 65535) {
    throw new UserError(`${what} "${inert(item)}" is not PORT[/PROTOCOL]`, `e.g. ${example} (ports 1-65535; TCP, UDP or SCTP)`);
  }
  return { port, protocol: (m[2] ?? 'TCP').toUpperCase() as Protocol };
}

/** `5432/TCP,53/UDP,8080` (protocol defaults to TCP). */
export function parsePorts(text: string | undefined): Port[] | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  return text.split(',').map((item) => parsePort(item, '--ports item', '--ports 5432/TCP,53/UDP'));
}

export interface ServiceRequestInput {
  from: string;
  to: string;
  ports?: string | undefined;
  duration: string;
  reason: string;
}

export interface ExternalRequestInput {
  cidrs: string[];
  to: string;
  direction: string;
  ports?: string | undefined;
  duration: string;
  reason: string;
}

export function serviceSpec(input: ServiceRequestInput, defaultNamespace: string): AccessRequestSpec {
  const ports = parsePorts(input.ports);
  return {
    type: 'Service',
    source: parseServiceRef(input.from, defaultNamespace, '--from'),
    target: parseServiceRef(input.to, defaultNamespace, '--to'),
    ...(ports ? { ports } : {}),
    duration: input.duration,
    reason: input.reason,
  };
}

export function externalSpec(input: ExternalRequestInput, defaultNamespace: string): AccessRequestSpec {
  const ports = parsePorts(input.ports);
  const ref = parseServiceRef(input.to, defaultNamespace, '--to');
  return {
    type: 'External',
    service: { namespace: ref.namespace, name: ref.service },
    cidrs: input.cidrs.flatMap((c) => c.split(',')).map((c) => c.trim()).filter(Boolean),
    direction: input.direction as Direction,
    ...(ports ? { ports } : {}),
    duration: input.duration,
    reason: input.reason,
  };
}

/**
 * Syntax errors of a (possibly partial) spec, each naming its field; the forms show them as you type. The client
 * does not know the cluster's policy (maximum duration, CIDR rules): the webhook applies it, and its message names
 * the field.
 */
export function specErrors(spec: unknown): FieldError[] {
  return validateSpecSyntax(spec);
}

export function newRequest(spec: AccessRequestSpec): AccessRequest {
  const base = spec.type === 'Service' ? spec.target?.service : spec.service?.name;
  const prefix = `${(base ?? 'access').slice(0, 40)}-`;
  return { apiVersion: API_VERSION, kind: KIND, metadata: { generateName: prefix }, spec };
}

function factsOf(svc: Service): ServiceFacts {
  return {
    type: svc.spec?.type ?? 'ClusterIP',
    hasSelector: Object.keys(svc.spec?.selector ?? {}).length > 0,
    ports: (svc.spec?.ports ?? []).map((p) => ({ port: p.port, protocol: p.protocol ?? 'TCP', ...(p.name ? { name: p.name } : {}) })),
  };
}

/**
 * Checks the spec, then the Services it references (when the user may read them: a user who cannot read a
 * namespace's Services may still ask for access to it; the webhook checks those).
 */
export async function checkRequest(port: ClusterPort, spec: AccessRequestSpec): Promise<void> {
  const errors = specErrors(spec);
  if (errors.length > 0) throw new UserError(`invalid request: ${inert(formatFieldErrors(errors))}`, 'fix the flag for the field named above');
  const facts = new Map<string, ServiceFacts | null>();
  const refs =
    spec.type === 'Service'
      ? [spec.source, spec.target].filter((r): r is ServiceRef => !!r)
      : spec.service
        ? [{ namespace: spec.service.namespace, service: spec.service.name }]
        : [];
  for (const ref of refs) {
    try {
      const svc = await port.getService(ref.namespace, ref.service);
      facts.set(`${ref.namespace}/${ref.service}`, svc ? factsOf(svc) : null);
    } catch (err) {
      if (isForbidden(err)) return;
      throw explain(err);
    }
  }
  const serviceErrors = validateServices(spec, facts);
  if (serviceErrors.length > 0) {
    throw new UserError(`invalid request: ${inert(formatFieldErrors(serviceErrors))}`, 'list Services with: kubectl get services -n NAMESPACE');
  }
}

// -------------------------------------------------------------------------------------------------------------
// Parts, permissions and the actions a user may take

export interface PartView {
  part: PartName;
  namespace: string;
  /** Human text of the permission the part needs. */
  needs: string;
  approved: boolean;
  approvedBy?: string | undefined;
  /** Whether the current user satisfies the permission (SelfSubjectAccessReview). */
  youMayApprove: boolean;
  /** A pending part: who may approve it and the cluster admins (apart), as the controller recorded them from RBAC. */
  whoCanApprove?: { approvers: string; clusterAdmins: string; nobody: boolean } | undefined;
  /** The AccessPolicy rule for this part, approvals so far and missing (absent: no rule applies). */
  policy?: string;
}

export type Action = 'approve' | 'deny' | 'abort' | 'revoke';

export interface RequestView {
  parts: PartView[];
  /** Parts the current user may approve now. */
  approvable: PartName[];
  actions: Action[];
  /** Whether you may extend the grant now (`extend`; the duration is checked when asked). */
  mayExtend: boolean;
  /** The extension waiting for approval, if any, and the parts of it you may approve. */
  pendingExtension?: ExtensionProgress;
  approvableExtension: PartName[];
}

export function phase(r: AccessRequest): Phase {
  return phaseOf(r);
}

/** Closed to approvals and decisions: ended, decided, or being deleted (the rule book's `closed`). */
export function isTerminal(r: AccessRequest): boolean {
  return stageOf(r) === 'closed';
}

export { approvalOf };

export function isRequester(r: AccessRequest, me: Identity | undefined): boolean {
  return isRequesterOf(r, me?.username);
}

const ACTIONS: readonly Action[] = ['approve', 'deny', 'abort', 'revoke'];


/** Pure: what a user may do to a request (the rule book, lib/domain/actions.ts), given whether they pass each part's permission. */
export function viewOf(r: AccessRequest, me: Identity | undefined, mayApprovePart: ReadonlyMap<PartName, boolean>): RequestView {
  const parts: PartView[] = partsOf(r.spec).map((p) => {
    const approval = approvalOf(r, p.name);
    const who = approval ? undefined : r.status?.parts?.find((ps) => ps.part === p.name && ps.namespace === p.namespace)?.approvers;
    const policy = policySummary(r, p.name);
    return {
      ...(policy === undefined ? {} : { policy }),
      part: p.name,
      namespace: p.namespace,
      needs: describePermission(permissionFor(p)),
      approved: !!approval,
      approvedBy: approval?.by,
      youMayApprove: mayApprovePart.get(p.name) === true,
      ...(who ? { whoCanApprove: { approvers: describeApprovers(who), clusterAdmins: describeClusterAdmins(who), nobody: !isApprovable(who) } } : {}),
    };
  });
  const allowed = allowedActions(r, { username: me?.username ?? '', groups: me?.groups ?? [], mayApprove: mayApprovePart });
  const actions = ACTIONS.filter((a) => (a === 'approve' ? allowed.approve.length > 0 : allowed[a]));
  const pending = pendingExtension(r);
  return { parts, approvable: allowed.approve, actions, mayExtend: allowed.extend, ...(pending ? { pendingExtension: pending } : {}), approvableExtension: allowed.approveExtension };
}

/** Asks the API server (SelfSubjectAccessReview) which of these parts the user may approve. */
export async function partPermissions(port: ClusterPort, parts: readonly Part[]): Promise<Map<PartName, boolean>> {
  const answers = await askPermissions(parts, (checks) => port.canI(checks));
  return new Map(parts.map((p) => [p.name, answers.get(questionKey(p)) === true]));
}

/** Permission answers for many requests, asking once per distinct question (namespace and maxtac kind). */
export class PermissionCache {
  private readonly cache = new Map<string, Promise<boolean>>();
  constructor(private readonly port: ClusterPort) {}

  async forRequest(r: AccessRequest): Promise<Map<PartName, boolean>> {
    const out = new Map<PartName, boolean>();
    await Promise.all(
      partsOf(r.spec).map(async (p) => {
        const key = questionKey(p);
        let answer = this.cache.get(key);
        if (!answer) {
          answer = partPermissions(this.port, [p]).then((m) => m.get(p.name) === true);
          this.cache.set(key, answer);
          answer.catch(() => this.cache.delete(key));
        }
        out.set(p.name, await answer);
      }),
    );
    return out;
  }
}

// -------------------------------------------------------------------------------------------------------------
// Writes

async function fetchRequest(port: ClusterPort, name: string): Promise<AccessRequest> {
  try {
    return await port.getRequest(name);
  } catch (err) {
    throw explain(err, `accessrequest "${inert(name)}"`);
  }
}

/**
 * Adds one approval per part approved, each its own /status write (the webhook accepts one new entry a write). On an
 * Active request with an extension waiting, approves that extension's parts instead (approveExtension); `extension`
 * is then its index.
 */
export async function approve(port: ClusterPort, name: string, onlyPart?: PartName): Promise<{ request: AccessRequest; approved: PartName[]; extension?: ExtensionProgress }> {
  let r = await fetchRequest(port, name);
  if (isTerminal(r)) throw new UserError(`accessrequest "${inert(name)}" is ${phase(r)}; nothing to approve`, 'create a new request instead');
  if (phase(r) === 'Active' && pendingExtension(r)) return approveExtension(port, name, onlyPart, r);
  const parts = partsOf(r.spec);
  const pending = parts.filter((p) => !approvalOf(r, p.name));
  if (pending.length === 0) throw new UserError(`accessrequest "${inert(name)}" is already fully approved`, `see it with: kubectl netwatch describe ${name}`);
  let chosen: Part[];
  if (onlyPart) {
    const part = parts.find((p) => p.name === onlyPart);
    if (!part) throw new UserError(`accessrequest "${inert(name)}" has no ${onlyPart} part`, `its parts: ${parts.map((p) => p.name).join(', ')}`);
    if (approvalOf(r, onlyPart)) throw new UserError(`the ${onlyPart} part of "${inert(name)}" is already approved`, `see it with: kubectl netwatch describe ${name}`);
    chosen = [part];
  } else {
    const perms = await partPermissions(port, pending).catch((err: unknown) => {
      throw explain(err, 'checking your permissions');
    });
    chosen = pending.filter((p) => perms.get(p.name));
    if (chosen.length === 0) {
      const needs = pending.map((p) => `${p.name} part: ${describePermission(permissionFor(p))}`).join('; ');
      throw new UserError(`you may not approve any pending part of "${inert(name)}" (${needs})`, 'ask an approver of that namespace; check with: kubectl netwatch can-i');
    }
  }
  const approved: PartName[] = [];
  for (const part of chosen) {
    try {
      r = await withConflictRetry(port, name, r, async (current) => {
        if (current.status?.approvals?.some((a) => a.part === part.name)) return current;
        const approvals = [...(current.status?.approvals ?? []), { part: part.name, namespace: part.namespace }];
        return port.patchStatus(name, current.metadata.resourceVersion ?? '', { approvals });
      });
    } catch (err) {
      throw explain(err, `approving the ${part.name} part of "${inert(name)}"`);
    }
    approved.push(part.name);
  }
  return { request: r, approved };
}

export interface ExtendResult {
  request: AccessRequest;
  /** The extension as it stands after this call: granted (the controller moves expiresAt), or waiting for parts. */
  extension: ExtensionProgress;
  /** Parts of it you approved yourself in the same call (you may approve them). */
  approved: PartName[];
}

/**
 * Extends an Active grant by `duration` (`1h`, `30m`): one /status write appending to status.extensions (the webhook
 * stamps who and when, and refuses what the rule book does not allow), then one approval write per part that still
 * needs approval and that you may approve, as `approve` would.
 */
export async function extend(port: ClusterPort, name: string, duration: string, reason?: string): Promise<ExtendResult> {
  if (typeof duration !== 'string' || duration === '') throw new UserError('--by is required: how much longer, e.g. 30m, 1h, 1h30m', `kubectl netwatch extend ${name} --by 1h`);
  const r = await fetchRequest(port, name);
  if (isTerminal(r) || phase(r) !== 'Active') {
    throw new UserError(`accessrequest "${inert(name)}" is ${isTerminal(r) ? closedWord(r) : phase(r)}; only an Active access can be extended`, `see it with: kubectl netwatch describe ${name}`);
  }
  const [me, perms] = await Promise.all([port.whoAmI(), partPermissions(port, partsOf(r.spec))]).catch((err: unknown) => {
    throw explain(err, 'checking your permissions');
  });
  const verdict = mayExtend(r, { username: me.username, groups: me.groups, mayApprove: perms }, duration);
  if (!verdict.allowed) throw new UserError(`cannot extend "${inert(name)}": ${inert(verdict.message)}`, `see it with: kubectl netwatch describe ${name}`);
  let current: AccessRequest;
  try {
    current = await withConflictRetry(port, name, r, (latest) => {
      const extensions = [...(latest.status?.extensions ?? []), { duration, ...(reason ? { reason } : {}) }];
      return port.patchStatus(name, latest.metadata.resourceVersion ?? '', { extensions });
    });
  } catch (err) {
    throw explain(err, `extending "${inert(name)}"`);
  }
  const index = (current.status?.extensions ?? []).length - 1;
  const approved: PartName[] = [];
  const actor = { username: me.username, groups: me.groups, mayApprove: perms };
  for (const part of partsOf(current.spec)) {
    if (!mayApproveExtension(current, actor, part.name).allowed) continue;
    current = await writeExtensionApproval(port, name, current, index, part);
    approved.push(part.name);
  }
  const extension = extensionProgress(current, index);
  if (!extension) throw new Error(`extension ${index} of ${name} vanished`);
  return { request: current, extension, approved };
}

function closedWord(r: AccessRequest): string {
  return r.status?.decision?.type ?? phase(r);
}

async function writeExtensionApproval(port: ClusterPort, name: string, r: AccessRequest, index: number, part: Part): Promise<AccessRequest> {
  try {
    return await withConflictRetry(port, name, r, (current) => {
      const extensionApprovals = [...(current.status?.extensionApprovals ?? []), { extension: index, part: part.name, namespace: part.namespace }];
      return port.patchStatus(name, current.metadata.resourceVersion ?? '', { extensionApprovals });
    });
  } catch (err) {
    throw explain(err, `approving the ${part.name} part of extension ${index + 1} of "${inert(name)}"`);
  }
}

/** Approves the waiting extension of an Active request: the parts you may approve (or only `onlyPart`), one write each. */
export async function approveExtension(
  port: ClusterPort,
  name: string,
  onlyPart?: PartName,
  fetched?: AccessRequest,
): Promise<{ request: AccessRequest; approved: PartName[]; extension: ExtensionProgress }> {
  let r = fetched ?? (await fetchRequest(port, name));
  const pending = pendingExtension(r);
  if (!pending || phase(r) !== 'Active' || isTerminal(r)) throw new UserError(`no extension of "${inert(name)}" waits for approval`, `see it with: kubectl netwatch describe ${name}`);
  const parts = partsOf(r.spec).filter((p) => pending.waitingFor.includes(p.name) && (!onlyPart || p.name === onlyPart));
  if (parts.length === 0) {
    throw new UserError(`the ${onlyPart ?? ''} part needs no approval of extension ${pending.index + 1} of "${inert(name)}"`, `it waits for: ${pending.waitingFor.join(', ')}`);
  }
  const [me, perms] = await Promise.all([port.whoAmI(), partPermissions(port, parts)]).catch((err: unknown) => {
    throw explain(err, 'checking your permissions');
  });
  const actor = { username: me.username, groups: me.groups, mayApprove: perms };
  const chosen = parts.filter((p) => mayApproveExtension(r, actor, p.name).allowed);
  if (chosen.length === 0) {
    const first = parts[0];
    const why = first ? mayApproveExtension(r, actor, first.name) : undefined;
    throw new UserError(`you may not approve extension ${pending.index + 1} of "${inert(name)}"${why && !why.allowed ? `: ${inert(why.message)}` : ''}`, 'ask an approver of that namespace; check with: kubectl netwatch can-i');
  }
  const approved: PartName[] = [];
  for (const part of chosen) {
    r = await writeExtensionApproval(port, name, r, pending.index, part);
    approved.push(part.name);
  }
  const extension = extensionProgress(r, pending.index) ?? pending;
  return { request: r, approved, extension };
}

/**
 * Runs a status write with the request's resourceVersion as precondition; on a conflict (the controller
 * mirrored approvals or moved the phase meanwhile) it reads the request again and retries a few times.
 */
async function withConflictRetry(
  port: ClusterPort,
  name: string,
  first: AccessRequest,
  write: (current: AccessRequest) => Promise<AccessRequest>,
): Promise<AccessRequest> {
  let current = first;
  for (let attempt = 1; ; attempt++) {
    try {
      return await write(current);
    } catch (err) {
      if (!(err instanceof KubeError && err.status === 409) || attempt >= 5) throw err;
      current = await port.getRequest(name);
    }
  }
}

export async function decide(port: ClusterPort, name: string, type: DecisionType, reason?: string): Promise<AccessRequest> {
  const r = await fetchRequest(port, name);
  if (isTerminal(r)) throw new UserError(`accessrequest "${inert(name)}" is already ${phase(r)}`, `see it with: kubectl netwatch describe ${name}`);
  const active = phase(r) === 'Active';
  if (type === 'Revoked' && !active) {
    throw new UserError(`accessrequest "${inert(name)}" is ${phase(r)}, not Active; only an active access can be revoked`, `use: kubectl netwatch ${isPendingLike(r) ? 'deny or abort' : 'describe'} ${name}`);
  }
  if (type !== 'Revoked' && active) {
    throw new UserError(`accessrequest "${inert(name)}" is already Active`, `end it with: kubectl netwatch revoke ${name}`);
  }
  const verb = { Denied: 'denying', Aborted: 'aborting', Revoked: 'revoking' }[type];
  try {
    return await withConflictRetry(port, name, r, (current) => {
      if (isTerminal(current)) throw new UserError(`accessrequest "${inert(name)}" became ${phase(current)} meanwhile`, `see it with: kubectl netwatch describe ${name}`);
      return port.patchStatus(name, current.metadata.resourceVersion ?? '', { decision: { type, ...(reason ? { reason } : {}) } });
    });
  } catch (err) {
    throw explain(err, `${verb} "${inert(name)}"`);
  }
}

function isPendingLike(r: AccessRequest): boolean {
  const p = phase(r);
  return p === 'Pending' || p === 'PartiallyApproved';
}

// -------------------------------------------------------------------------------------------------------------
// Listing

export interface ListFilter {
  mine?: boolean;
  pending?: boolean;
  active?: boolean;
  /** Only requests with an end (or part) in this namespace; undefined = all namespaces. */
  namespace?: string | undefined;
}

export function namespacesOf(r: AccessRequest): string[] {
  const s = r.spec;
  return s.type === 'Service' ? [s.source?.namespace ?? '', s.target?.namespace ?? ''] : [s.service?.namespace ?? ''];
}

export function matches(r: AccessRequest, f: ListFilter, me: Identity | undefined): boolean {
  if (f.mine && !isRequester(r, me)) return false;
  if (f.pending && !isPendingLike(r)) return false;
  if (f.active && phase(r) !== 'Active') return false;
  if (f.namespace && !namespacesOf(r).includes(f.namespace)) return false;
  return true;
}

/** Newest first, then by name: the hub's and the table's order. */
export function byNewest(a: AccessRequest, b: AccessRequest): number {
  const t = codeUnitOrder(b.metadata.creationTimestamp ?? '', a.metadata.creationTimestamp ?? '');
  return t !== 0 ? t : codeUnitOrder(a.metadata.name ?? '', b.metadata.name ?? '');
}

// Not localeCompare: creation times are RFC 3339 in UTC and names are lowercase DNS labels, so plain order is right
// for both, and a collator's first use costs ~14 ms of a command's start (scripts/bench/plugin.ts).
function codeUnitOrder(x: string, y: string): number {
  return x < y ? -1 : x > y ? 1 : 0;
}

// -------------------------------------------------------------------------------------------------------------
// Materialized objects (the detail view and describe)

export interface MaterializedObject {
  kind: string;
  namespace: string;
  name: string;
  /** For NetworkPolicies: the maxtac object that owns it. For maxtac objects: their target. */
  note?: string;
}

export interface Materialized {
  objects: MaterializedObject[];
  /** Namespaces/kinds the user may not list. */
  hidden: string[];
}

/** The clones, maxtac objects and maxtac's NetworkPolicies of a request, as far as the user may see them. */
export async function materializedOf(port: ClusterPort, r: AccessRequest): Promise<Materialized> {
  const uid = r.metadata.uid;
  if (!uid) return { objects: [], hidden: [] };
  const selector = `${LABEL_REQUEST_ID}=${uid}`;
  const objects: MaterializedObject[] = [];
  const hidden: string[] = [];
  const list = async (kind: DetailKind, ns: string, sel: string): Promise<KubeObject[]> => {
    try {
      return await port.listLabelled(kind, ns, sel);
    } catch (err) {
      if (err instanceof KubeError && (err.status === 403 || err.status === 404)) {
        hidden.push(`${kind} in ${ns}`);
        return [];
      }
      throw err;
    }
  };
  for (const part of partsOf(r.spec)) {
    const [clones, maxtac] = await Promise.all([list('services', part.namespace, selector), list(part.maxtacResource, part.namespace, selector)]);
    for (const c of clones) objects.push({ kind: 'Service', namespace: part.namespace, name: c.metadata.name ?? '', note: `clone (${part.name})` });
    const uids = new Map<string, string>();
    for (const m of maxtac) {
      objects.push({ kind: part.maxtacKind, namespace: part.namespace, name: m.metadata.name ?? '' });
      if (m.metadata.uid) uids.set(m.metadata.uid, `${part.maxtacKind}/${m.metadata.name ?? ''}`);
    }
    if (uids.size > 0) {
      const policies = await list('networkpolicies', part.namespace, '');
      for (const np of policies) {
        const owner = np.metadata.ownerReferences?.find((o) => uids.has(o.uid));
        if (owner) objects.push({ kind: 'NetworkPolicy', namespace: part.namespace, name: np.metadata.name ?? '', note: `by ${uids.get(owner.uid) ?? ''}` });
      }
    }
  }
  // What the user may not list is still named from the refs the controller recorded in status.
  for (const ref of r.status?.objects ?? []) {
    if (objects.some((o) => o.kind === ref.kind && o.namespace === ref.namespace && o.name === ref.name)) continue;
    objects.push({ kind: ref.kind, namespace: ref.namespace, name: ref.name, note: 'recorded in status' });
  }
  return { objects, hidden };
}

export { UNLIMITED_DURATION };
