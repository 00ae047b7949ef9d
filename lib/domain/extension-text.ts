// The extensions of a grant as people read them, one headline per extension and one line per part, shown the same
// by the TUI's detail view and the web UI's request page. Pure: the progress comes from the rule book (actions.ts).
import type { AccessRequest } from '../api/accessrequest.ts';
import { describeExtensionRequirement, extensionProgress, extensionsOf, type ExtensionPartProgress, type ExtensionProgress } from './actions.ts';

export interface ExtensionText {
  progress: ExtensionProgress;
  /** `extension 1: +1h by alice, "reason": waiting for the target part` (or `: granted`). */
  headline: string;
  /** Per part: `target (payments): <requirement>; 1 of 2 so far (dba1), 1 missing`. */
  parts: string[];
}

function partLine(p: ExtensionPartProgress): string {
  const r = p.requirement;
  const by = p.approvers.join(', ');
  let state = '';
  if (r.kind === 'count') state = `; ${p.approvers.length} of ${r.count} so far${by ? ` (${by})` : ''}${p.missing > 0 ? `, ${p.missing} missing` : ''}`;
  else if (r.kind === 'default') state = p.missing > 0 ? '; waiting for one approver' : `; approved by ${by}`;
  return `${p.part} (${p.namespace}): ${describeExtensionRequirement(r)}${state}`;
}

/** What each part would need to approve one more extension by `duration` (before it is asked for). */
export function proposedExtension(request: AccessRequest, duration: string): ExtensionPartProgress[] {
  const extensions = [...(request.status?.extensions ?? []), { duration }];
  return extensionProgress({ ...request, status: { ...request.status, extensions } }, extensions.length - 1)?.parts ?? [];
}

/** One line per part of a proposed extension: `target (payments): <requirement>`. */
export function proposedExtensionLines(request: AccessRequest, duration: string, mayApprove: (part: ExtensionPartProgress) => boolean = () => false): string[] {
  return proposedExtension(request, duration).map((p) => {
    const mine = p.requirement.kind !== 'auto' && mayApprove(p) ? ' (you may approve it: approved with this)' : '';
    return `${p.part} (${p.namespace}): ${describeExtensionRequirement(p.requirement)}${mine}`;
  });
}

export function extensionTexts(request: AccessRequest): ExtensionText[] {
  return extensionsOf(request).map((progress) => {
    const e = progress.extension;
    const waiting = progress.waitingFor;
    const outcome = progress.granted ? 'granted' : `waiting for the ${waiting.join(' and ')} part${waiting.length === 1 ? '' : 's'}`;
    return {
      progress,
      headline: `extension ${progress.index + 1}: +${e.duration} by ${e.requestedBy ?? '?'}${e.reason ? `, "${e.reason}"` : ''}: ${outcome}`,
      parts: progress.parts.map(partLine),
    };
  });
}
