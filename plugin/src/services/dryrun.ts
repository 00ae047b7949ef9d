// `request --dry-run`: what would be created. The AccessRequest itself, and the clones and maxtac objects the
// controller would materialize once every part is approved, built by the controller's own builders
// (lib/domain/desired.ts) so the preview cannot drift from what really happens.
import type { AccessRequest } from '../../../lib/api/accessrequest.ts';
import { clonePorts, desiredClone, desiredMaxtac, halvesOf, key } from '../../../lib/domain/desired.ts';
import { durationSeconds } from '../../../lib/domain/duration.ts';
import type { Service } from '../../../lib/kube/types.ts';
import type { ClusterPort } from './port.ts';
import { KubeError } from '../../../lib/kube/errors.ts';
import type { RequestPreview } from '../../../lib/domain/preview.ts';
import { previewFor, type PreviewOptions } from './preview.ts';

/** Object names derive from the request's UID, which the API server assigns at creation. */
export const PLACEHOLDER_UID = '00000000-0000-0000-0000-000000000000';

export interface DryRunPlan {
  objects: unknown[];
  note?: string;
  /** What approving would do, from what the user may read; absent without a cluster to read. */
  preview?: RequestPreview;
}

export async function dryRunPlan(request: AccessRequest, port?: ClusterPort, previewOptions: PreviewOptions = {}): Promise<DryRunPlan> {
  const preview: AccessRequest = { ...request, metadata: { ...request.metadata, name: request.metadata.name ?? `${request.metadata.generateName ?? ''}xxxxx`, uid: PLACEHOLDER_UID } };
  const halves = halvesOf(preview);
  const originals = new Map<string, Service | null>();
  const unreadable: string[] = [];
  if (port) {
    for (const h of halves) {
      const k = key(h.original.namespace, h.original.name);
      try {
        originals.set(k, await port.getService(h.original.namespace, h.original.name));
      } catch (err) {
        // Refused or not found: shown as unreadable. No answer at all fails the command.
        if (!(err instanceof KubeError) || err.status === 0) throw err;
        unreadable.push(k);
      }
    }
  }
  let seconds: number | null;
  try {
    seconds = durationSeconds(request.spec.duration);
  } catch {
    seconds = null;
  }
  const objects: unknown[] = [];
  const ports = clonePorts(preview, halves, originals);
  for (const h of halves) {
    const original = originals.get(key(h.original.namespace, h.original.name));
    if (original && 'ports' in ports) objects.push(desiredClone(preview, h, original, ports.ports));
    objects.push(desiredMaxtac(preview, h, h.direction, seconds));
  }
  const notes = [`object names and labels derive from the request's UID, assigned at creation (shown as ${PLACEHOLDER_UID})`];
  if (unreadable.length > 0) notes.push(`clones not shown: you may not read Service ${unreadable.join(', ')}`);
  notes.push('a direction in which no NetworkPolicy isolates the pods yet is left out, refused or granted by the controller as its --isolation setting says (see the preview)');
  const plan: DryRunPlan = { objects, note: notes.join('; ') };
  if (port) plan.preview = await previewFor(port, preview, previewOptions);
  return plan;
}
