// What the web UI shows for one request and one viewer: the parts with the permission each needs, and the actions
// the rule book (lib/domain/actions.ts) allows this viewer, which the webhook enforces. Pure.
import type { AccessRequest, PartName, Phase } from '../lib/api/accessrequest.ts';
import { allowedActions, approvalOf, approvalProgress, isRequester, mayApproveParts, phaseOf, policySummary, type PermissionAnswers } from '../lib/domain/actions.ts';
import { describePermission, partsOf, permissionFor } from '../lib/domain/parts.ts';
import type { Identity } from './identity.ts';

export interface PartView {
  part: PartName;
  namespace: string;
  permission: string;
  viewerMayApprove: boolean;
  /** The AccessPolicy rule for this part, approvals so far and missing (absent: no rule applies). */
  policy?: string;
  /** Distinct approvers counted so far towards the rule's count (N-of-M parts). */
  approvedSoFarBy?: string[];
  approval?: { by?: string | undefined; at?: string | undefined } | undefined;
}

export interface Actions {
  approve: PartName[];
  /** Parts of the waiting extension the viewer may approve. */
  approveExtension: PartName[];
  /** Whether the viewer may extend the grant now (the duration is checked when asked). */
  extend: boolean;
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

export function viewOf(req: AccessRequest, viewer: Identity, answers: PermissionAnswers): RequestView {
  const may = mayApproveParts(req, answers);
  const parts: PartView[] = partsOf(req.spec).map((p) => {
    const approval = approvalOf(req, p.name);
    const view: PartView = {
      part: p.name,
      namespace: p.namespace,
      permission: describePermission(permissionFor(p)),
      viewerMayApprove: may.get(p.name) === true,
    };
    if (approval) view.approval = { by: approval.by, at: approval.at };
    const policy = policySummary(req, p.name);
    if (policy) view.policy = policy;
    const progress = approvalProgress(req, p.name);
    if (policy && progress.requirement.kind === 'count' && progress.approvers.length > 0) view.approvedSoFarBy = progress.approvers;
    return view;
  });
  const { approve, approveExtension, extend, deny, abort, revoke } = allowedActions(req, { username: viewer.username, groups: viewer.groups, mayApprove: may });
  return { name: req.metadata.name ?? '', phase: phaseOf(req), isRequester: isRequester(req, viewer.username), parts, actions: { approve, approveExtension, extend, deny, abort, revoke } };
}
