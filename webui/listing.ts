// What the hub and the detail page need besides the requests themselves: the viewer's permissions per part (one
// SelfSubjectAccessReview round per distinct namespace and kind, as the user) and the hub's order.
import type { AccessRequest } from '../lib/api/accessrequest.ts';
import { partsOf } from '../lib/domain/parts.ts';
import type { Identity } from './identity.ts';
import type { UserKube } from './kube.ts';
import { checksFor, mayApproveByKey, viewOf, type RequestView } from './model.ts';

const OPEN_PHASES = ['Pending', 'PartiallyApproved', 'Active'];

/** The view of each request for this viewer; permissions are asked only for requests that are still open. */
export async function requestViews(kube: UserKube, viewer: Identity, reqs: AccessRequest[]): Promise<RequestView[]> {
  const open = reqs.filter((r) => !r.status?.phase || OPEN_PHASES.includes(r.status.phase));
  const checks = checksFor(open.flatMap((r) => partsOf(r.spec)));
  const answers = await Promise.all(checks.map((c) => kube.canI(c.checks)));
  const may = mayApproveByKey(checks, answers);
  return reqs.map((r) => viewOf(r, viewer, may));
}

export function byNewest(a: AccessRequest, b: AccessRequest): number {
  return (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '');
}
