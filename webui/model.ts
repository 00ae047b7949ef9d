// What the web UI shows for one request and one viewer: pure, so the rules "Approve/Deny/Abort/Revoke only when
// allowed" are tested without a server. The webhook enforces the same rules; this only avoids offering buttons
// that would be refused.
import { TERMINAL_PHASES, type AccessRequest, type PartName, type Phase } from '../lib/api/accessrequest.ts';
import { describePermission, mayApprove, partsOf, permissionFor, type Part, type ResourceCheck } from '../lib/domain/parts.ts';
import type { Identity } from './identity.ts';

export interface PartView {
  part: PartName;
  namespace: string;
  permission: string;
  viewerMayApprove: boolean;
  approval?: { by?: string | undefined; at?: string | undefined } | undefined;
}

export interface Actions {
  approve: PartName[];
  deny: boolean;
  abort: boolean;
  revoke: boolean;
}

export interface RequestView {
  name: string;
  phase: Phase;
  isRequester: boolean;
  parts: PartView[];
  actions: Actions;
}

/** Key of the answer "may this viewer approve a part like this one". */
export function permissionKey(part: Part): string {
  return `${part.namespace}/${part.maxtacResource}`;
}

/** Every access check needed to decide the given parts, deduplicated, with the key each answers. */
export function checksFor(parts: Part[]): { key: string; checks: ResourceCheck[] }[] {
  const seen = new Map<string, ResourceCheck[]>();
  for (const p of parts) {
    const key = permissionKey(p);
    if (seen.has(key)) continue;
    const perm = permissionFor(p);
    seen.set(key, [perm.approve, ...perm.create]);
  }
  return [...seen].map(([key, checks]) => ({ key, checks }));
}

/** Folds the answers of `checksFor` (approve first, then the create checks) into may-approve per key. */
export function mayApproveByKey(checks: { key: string; checks: ResourceCheck[] }[], answers: boolean[][]): Map<string, boolean> {
  const out = new Map<string, boolean>();
  checks.forEach((c, i) => {
    const a = answers[i] ?? [];
    out.set(c.key, mayApprove({ approve: a[0] === true, create: a.slice(1) }));
  });
  return out;
}

export function phaseOf(req: AccessRequest): Phase {
  // Before the controller's first reconcile there is no phase yet: the request is waiting like any pending one.
  return req.status?.phase ?? 'Pending';
}

export function viewOf(req: AccessRequest, viewer: Identity, may: Map<string, boolean>): RequestView {
  const phase = phaseOf(req);
  const isRequester = req.spec.requester?.username === viewer.username;
  const approvedAtCreate = new Set(req.spec.requester?.approvedParts ?? []);
  const parts: PartView[] = partsOf(req.spec).map((p) => {
    const recorded = req.status?.approvals?.find((a) => a.part === p.name);
    const view: PartView = {
      part: p.name,
      namespace: p.namespace,
      permission: describePermission(permissionFor(p)),
      viewerMayApprove: may.get(permissionKey(p)) === true,
    };
    if (recorded) view.approval = { by: recorded.by, at: recorded.at };
    else if (approvedAtCreate.has(p.name)) view.approval = { by: req.spec.requester?.username, at: req.metadata.creationTimestamp };
    return view;
  });
  const decided = req.status?.decision !== undefined || req.metadata.deletionTimestamp !== undefined;
  const open = !decided && !TERMINAL_PHASES.includes(phase);
  const waiting = open && (phase === 'Pending' || phase === 'PartiallyApproved');
  const pendingTheViewerMayApprove = parts.filter((p) => !p.approval && p.viewerMayApprove).map((p) => p.part);
  return {
    name: req.metadata.name ?? '',
    phase,
    isRequester,
    parts,
    actions: {
      approve: waiting ? pendingTheViewerMayApprove : [],
      deny: waiting && pendingTheViewerMayApprove.length > 0,
      abort: waiting && isRequester,
      revoke: open && phase === 'Active' && (isRequester || parts.some((p) => p.viewerMayApprove)),
    },
  };
}
