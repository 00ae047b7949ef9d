// What the hub and the detail page need besides the requests themselves: the viewer's permissions per part (one
// SelfSubjectAccessReview round per distinct namespace and kind, as the user) and the hub's order.
import type { AccessRequest } from '../lib/api/accessrequest.ts';
import { askPermissions, stageOf } from '../lib/domain/actions.ts';
import { partsOf } from '../lib/domain/parts.ts';
import type { Identity } from './identity.ts';
import type { UserKube } from './kube.ts';
import { viewOf, type RequestView } from './model.ts';

/** The view of each request for this viewer; permissions are asked only for requests that are still open. */
export async function requestViews(kube: UserKube, viewer: Identity, reqs: AccessRequest[]): Promise<RequestView[]> {
  const open = reqs.filter((r) => stageOf(r) !== 'closed');
  const answers = await askPermissions(open.flatMap((r) => partsOf(r.spec)), (checks) => kube.canI([...checks]));
  return reqs.map((r) => viewOf(r, viewer, answers));
}

export function byNewest(a: AccessRequest, b: AccessRequest): number {
  return (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '');
}
