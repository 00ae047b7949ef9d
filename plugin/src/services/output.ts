// Rendering requests as text: the list table (plain and wide) and describe. Every string from a request passes
// through `cell` (format.ts) or `inert` (lib/text/inert.ts) because it may have been written by another user.
import type { AccessRequest, PartName } from '../../../lib/api/accessrequest.ts';
import { isMaterialized, previewLines, type RequestPreview } from '../../../lib/domain/preview.ts';
import { approvalProgress, describeExtensionRequirement, extensionsOf, policyStampOf } from '../../../lib/domain/actions.ts';
import { describeApproval } from '../../../lib/domain/access-policy.ts';
import { inert } from '../../../lib/text/inert.ts';
import { age, cell, countdown, fromText, portsText, table, toText } from './format.ts';
import type { Materialized, RequestView } from './requests.ts';
import { phase } from './requests.ts';

export const TABLE_HEADER = ['NAME', 'TYPE', 'FROM', 'TO', 'PORTS', 'PHASE', 'REQUESTER', 'EXPIRES', 'AGE'];
export const WIDE_HEADER = [...TABLE_HEADER, 'APPROVALS', 'REASON'];

export function tableRow(r: AccessRequest, now: number, wide = false): string[] {
  const row = [
    cell(r.metadata.name, 63),
    r.spec.type === 'Service' ? 'Service' : 'External',
    cell(r.status?.from ?? fromText(r), 50),
    cell(r.status?.to ?? toText(r), 50),
    cell(r.status?.portsSummary ?? portsText(r.spec.ports), 30),
    cell(phase(r), 20),
    cell(r.spec.requester?.username ?? '<unknown>', 40),
    r.status?.expiresAt ? countdown(r.status.expiresAt, now) : '-',
    age(r.metadata.creationTimestamp, now),
  ];
  if (!wide) return row;
  const approvals = (r.status?.approvals ?? []).map((a) => `${a.part}:${cell(a.by ?? '?', 30)}`).join(',') || '-';
  return [...row, approvals, cell(r.spec.reason, 80)];
}

export function renderTable(requests: readonly AccessRequest[], now: number, opts: { wide?: boolean; noHeaders?: boolean } = {}): string {
  const header = opts.wide ? WIDE_HEADER : TABLE_HEADER;
  const rows = requests.map((r) => tableRow(r, now, opts.wide));
  const out = table(header, rows);
  return opts.noHeaders ? out.split('\n').slice(1).join('\n') : out;
}

export interface DescribeInput {
  request: AccessRequest;
  view?: RequestView | undefined;
  materialized?: Materialized | undefined;
  /** What the grant reaches and changes (lib/domain/preview.ts); undefined when it could not be computed. */
  preview?: RequestPreview | undefined;
  now: number;
}

/** What the AccessPolicies say about a part: the rule that sets its approval, approvals so far, what is missing. */
export function policyLines(r: AccessRequest, part: PartName): string[] {
  const stamp = policyStampOf(r, part);
  const progress = approvalProgress(r, part);
  if (!stamp && progress.requirement.kind === 'default') return [];
  const lines = [`    policy: ${inert(describeApproval(progress.requirement))}`];
  if (progress.requirement.kind === 'count') {
    const so = progress.approvers.length > 0 ? progress.approvers.map((a) => inert(a)).join(', ') : 'none yet';
    lines.push(`    approvals: ${progress.approvers.length} of ${progress.requirement.count} (${so}); ${progress.missing === 0 ? 'none missing' : `${progress.missing} missing`}`);
  }
  const limits = [stamp?.maxDuration ? `max duration ${stamp.maxDuration}` : '', stamp?.maxTotalDuration ? `max total ${stamp.maxTotalDuration}` : ''].filter(Boolean);
  if (limits.length > 0) lines.push(`    limits: ${inert(limits.join(', '))}`);
  if (progress.rules.length > 0) lines.push(`    rules matched: ${progress.rules.map((x) => inert(x)).join(', ')}`);
  return lines;
}

/** The preview as indented text lines, every string inert; risks marked with `!`. */
export function renderPreview(preview: RequestPreview, materialized: boolean, indent = '  '): string[] {
  return previewLines(preview, { materialized }).map((l) => `${indent}${'  '.repeat(l.depth)}${l.warn ? '! ' : ''}${inert(l.text)}`);
}

export function renderDescribe({ request: r, view, materialized, preview, now }: DescribeInput): string {
  const lines: string[] = [];
  const field = (k: string, v: string) => lines.push(`${(k + ':').padEnd(14)}${v}`);
  field('Name', inert(r.metadata.name));
  field('Type', r.spec.type);
  field('Phase', inert(phase(r)));
  field('Requester', inert(r.spec.requester?.username ?? '<unknown>'));
  field('Created', `${inert(r.metadata.creationTimestamp ?? '')} (${age(r.metadata.creationTimestamp, now)} ago)`);
  field('From', inert(r.status?.from ?? fromText(r)));
  field('To', inert(r.status?.to ?? toText(r)));
  if (r.spec.type === 'External') field('Direction', inert(r.spec.direction));
  field('Ports', inert(r.status?.portsSummary ?? portsText(r.spec.ports)));
  field('Duration', inert(r.spec.duration));
  // A reason may be long and multi-line; it is shown whole but inert (newlines as \n), never interpreted.
  field('Reason', inert(r.spec.reason));
  if (r.status?.approvedAt) field('Approved at', inert(r.status.approvedAt));
  if (r.status?.expiresAt) field('Expires', `${inert(r.status.expiresAt)} (${countdown(r.status.expiresAt, now)})`);
  if (r.status?.decision) {
    const d = r.status.decision;
    field('Decision', `${inert(d.type)} by ${inert(d.by ?? '?')}${d.at ? ` at ${inert(d.at)}` : ''}${d.reason ? `: ${inert(d.reason)}` : ''}`);
  }
  const extensions = extensionsOf(r);
  if (extensions.length > 0) {
    lines.push('Extensions:');
    for (const e of extensions) {
      const x = e.extension;
      const state = e.granted ? 'approved' : `pending, waiting for ${e.waitingFor.map((w) => `${w} (${inert(e.parts.find((p) => p.part === w)?.namespace ?? '')})`).join(', ')}`;
      lines.push(`  ${e.index + 1}. +${inert(x.duration)} by ${inert(x.requestedBy ?? '?')}${x.at ? ` at ${inert(x.at)}` : ''}: ${state}${x.reason ? ` (${inert(x.reason)})` : ''}`);
      for (const p of e.parts) {
        const who = p.approvers.length > 0 ? `approved by ${p.approvers.map(inert).join(', ')}` : p.requirement.kind === 'auto' ? 'approved' : 'not approved';
        lines.push(`     ${p.part}: ${who}${p.missing > 0 ? `, ${p.missing} missing` : ''}; ${inert(describeExtensionRequirement(p.requirement))}`);
      }
    }
  }
  lines.push('Parts:');
  for (const p of view?.parts ?? []) {
    const state = p.approved ? `approved by ${inert(p.approvedBy ?? '?')}` : 'pending';
    const mark = p.youMayApprove ? '✔ you may approve' : '✘ you may not approve';
    lines.push(`  ${p.part} (${inert(p.namespace)}): ${state}`);
    lines.push(...policyLines(r, p.part));
    lines.push(`    needs: ${inert(p.needs)}   ${mark}`);
    if (p.whoCanApprove) {
      lines.push(`    who can approve: ${inert(p.whoCanApprove.approvers)}`);
      if (p.whoCanApprove.clusterAdmins) lines.push(`    cluster admins (not counted): ${inert(p.whoCanApprove.clusterAdmins)}`);
    }
  }
  for (const ps of r.status?.parts ?? []) {
    if (ps.message) lines.push(`  ${ps.part}: ${inert(ps.state)}: ${inert(ps.message)}`);
  }
  if (view) lines.push(`You may:      ${view.actions.length > 0 ? view.actions.join(', ') : 'nothing'}`);
  if (preview) {
    const active = isMaterialized(r);
    lines.push(active ? 'Preview (as granted now, from what you may read):' : 'Preview (what approving would do, from what you may read):');
    lines.push(...renderPreview(preview, active));
  }
  if (r.status?.conditions?.length) {
    lines.push('Conditions:');
    for (const c of r.status.conditions) lines.push(`  ${inert(c.type)}=${inert(c.status)} ${inert(c.reason)}: ${cell(c.message, 200)}`);
  }
  if (materialized) {
    lines.push('Objects:');
    if (materialized.objects.length === 0) lines.push('  <none>');
    for (const o of materialized.objects) lines.push(`  ${o.kind} ${inert(o.namespace)}/${inert(o.name)}${o.note ? `  ${inert(o.note)}` : ''}`);
    for (const h of materialized.hidden) lines.push(`  (you may not list ${inert(h)})`);
  } else if (r.status?.objects?.length) {
    lines.push('Objects:');
    for (const o of r.status.objects) lines.push(`  ${inert(o.kind)} ${inert(o.namespace)}/${inert(o.name)}`);
  }
  return lines.join('\n') + '\n';
}
