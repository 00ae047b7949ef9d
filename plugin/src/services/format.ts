// Text shown to the user. Requests carry strings written by OTHER users (reason, names in status, decision
// reasons): every such string goes through `inert` (lib/text/inert.ts) before it reaches a terminal, table or TUI
// alike.
import type { AccessRequest, Port } from '../../../lib/api/accessrequest.ts';
import { inert } from '../../../lib/text/inert.ts';

/** At most `max` characters (code points), an ellipsis marking the cut. */
export function truncate(text: string, max: number): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  if (max <= 1) return chars.slice(0, max).join('');
  return chars.slice(0, max - 1).join('') + '…';
}

/** inert + truncate: the one way another user's string is put in a cell. */
export function cell(text: unknown, max = 60): string {
  return truncate(inert(text), max);
}

export function portsText(ports: readonly Port[] | undefined): string {
  if (!ports || ports.length === 0) return 'all';
  return ports.map((p) => `${p.port}/${p.protocol ?? 'TCP'}`).join(',');
}

export function fromText(r: AccessRequest): string {
  if (r.spec.type === 'Service') return r.spec.source ? `${r.spec.source.namespace}/${r.spec.source.service}` : '';
  const cidrs = r.spec.cidrs ?? [];
  const svc = r.spec.service ? `${r.spec.service.namespace}/${r.spec.service.name}` : '';
  return r.spec.direction === 'egress' ? svc : cidrs.join(',');
}

export function toText(r: AccessRequest): string {
  if (r.spec.type === 'Service') return r.spec.target ? `${r.spec.target.namespace}/${r.spec.target.service}` : '';
  const cidrs = r.spec.cidrs ?? [];
  const svc = r.spec.service ? `${r.spec.service.namespace}/${r.spec.service.name}` : '';
  if (r.spec.direction === 'egress') return cidrs.join(',');
  if (r.spec.direction === 'both') return `${svc} (both ways)`;
  return svc;
}

export function phaseOf(r: AccessRequest): string {
  return r.status?.phase ?? 'Pending';
}

/** kubectl-style age: 45s, 12m, 3h, 5d. */
export function age(from: string | undefined, now: number): string {
  if (!from) return '<unknown>';
  const ms = now - Date.parse(from);
  if (!Number.isFinite(ms)) return '<unknown>';
  return shortDuration(Math.max(0, ms));
}

export function shortDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m}m${s % 60 && m < 10 ? `${s % 60}s` : ''}`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${m % 60 ? `${m % 60}m` : ''}`;
  return `${Math.floor(h / 24)}d`;
}

/** Countdown to expiry: `1h59m58s`, `expired`, or `-` when not active. */
export function countdown(expiresAt: string | undefined, now: number): string {
  if (!expiresAt) return '-';
  const ms = Date.parse(expiresAt) - now;
  if (!Number.isFinite(ms)) return '-';
  if (ms <= 0) return 'expired';
  let s = Math.ceil(ms / 1000);
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return `${h ? `${h}h` : ''}${h || m ? `${String(m).padStart(h ? 2 : 1, '0')}m` : ''}${String(s).padStart(h || m ? 2 : 1, '0')}s`;
}

/** Aligned columns, kubectl style (three spaces between columns, no borders). */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max([...h].length, ...rows.map((r) => [...(r[i] ?? '')].length)));
  const line = (cols: readonly string[]) =>
    cols
      .map((c, i) => (i === cols.length - 1 ? c : c + ' '.repeat((widths[i] ?? 0) - [...c].length)))
      .join('   ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}
