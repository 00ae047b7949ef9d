// The benchmark's final table: every figure is a measurement of this run, compared with a baseline measured in
// the same run (a ratio target) or with an absolute bound (a value target). Pure: formatting is unit-tested.

export type Unit = 'ms' | 's' | 'MB';

export interface Figure {
  metric: string;
  /** The measured value, in `unit`; NaN when the measurement failed. */
  measured: number;
  unit: Unit;
  /** The reference measured alongside (same process, same run), in `unit`. */
  baseline?: number;
  /** The design's bound on measured / baseline. */
  maxRatio?: number;
  /** The design's bound on the measured value itself, in `unit`. */
  maxValue?: number;
}

export interface Evaluated {
  ratio: number | undefined;
  /** undefined: no target (the figure is reported only). */
  met: boolean | undefined;
}

export function evaluate(f: Figure): Evaluated {
  const ratio = f.baseline === undefined ? undefined : f.measured / f.baseline;
  let met: boolean | undefined;
  if (f.maxRatio !== undefined) met = ratio !== undefined && Number.isFinite(ratio) && ratio <= f.maxRatio;
  if (f.maxValue !== undefined) met = (met ?? true) && Number.isFinite(f.measured) && f.measured <= f.maxValue;
  return { ratio, met };
}

/** Three significant digits at most, no exponent: 1234 → "1234", 12.345 → "12.3", 0.5 → "0.50". */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return 'n/a';
  const abs = Math.abs(n);
  if (abs >= 100) return n.toFixed(0);
  if (abs >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

export function formatValue(n: number | undefined, unit: Unit): string {
  if (n === undefined) return '—';
  const s = formatNumber(n);
  return s === 'n/a' ? s : `${s} ${unit}`;
}

export function formatRatio(r: number | undefined): string {
  if (r === undefined) return '—';
  return Number.isFinite(r) ? `${r.toFixed(2)}×` : 'n/a';
}

export function formatTarget(f: Figure): string {
  const parts: string[] = [];
  if (f.maxRatio !== undefined) parts.push(`≤ ${f.maxRatio}×`);
  if (f.maxValue !== undefined) parts.push(`≤ ${f.maxValue} ${f.unit}`);
  return parts.length > 0 ? parts.join(', ') : '—';
}

export const TABLE_HEADER = ['metric', 'measured', 'baseline', 'ratio', 'target', 'met'] as const;

export function tableRows(figures: readonly Figure[]): string[][] {
  return figures.map((f) => {
    const { ratio, met } = evaluate(f);
    return [f.metric, formatValue(f.measured, f.unit), formatValue(f.baseline, f.unit), formatRatio(ratio), formatTarget(f), met === undefined ? '—' : met ? 'yes' : 'no'];
  });
}

/** A plain-text table: text columns left-aligned, `rightAligned` (number) columns right-aligned, a rule under the header. */
function alignTable(header: readonly string[], body: readonly string[][], rightAligned: ReadonlySet<number>): string {
  const rows = [[...header], ...body];
  const widths = header.map((_, c) => Math.max(...rows.map((r) => [...(r[c] ?? '')].length)));
  const line = (r: readonly string[]) =>
    r
      .map((cell, c) => {
        const pad = ' '.repeat((widths[c] ?? 0) - [...cell].length);
        return rightAligned.has(c) ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export function formatTable(figures: readonly Figure[]): string {
  return alignTable(TABLE_HEADER, tableRows(figures), new Set([1, 2, 3]));
}

/**
 * One figure measured for two revisions of netwatch in the same run (`npm run bench -- --compare REV`): the
 * revision's, this tree's, and the baseline measured alongside (no netwatch at all), when there is one.
 */
export interface Comparison {
  metric: string;
  unit: Unit;
  baseline?: number;
  revision: number;
  head: number;
  /** The design's bound on head / baseline (and, for the revision's column, revision / baseline). */
  maxRatio?: number;
}

export function comparisonHeader(revisionLabel: string): string[] {
  return ['metric', 'baseline', revisionLabel, '/base', 'HEAD', '/base', 'HEAD/REV', 'target'];
}

export function comparisonRows(comparisons: readonly Comparison[]): string[][] {
  const ratio = (a: number, b: number | undefined) => (b === undefined ? undefined : a / b);
  return comparisons.map((c) => [
    c.metric,
    formatValue(c.baseline, c.unit),
    formatValue(c.revision, c.unit),
    formatRatio(ratio(c.revision, c.baseline)),
    formatValue(c.head, c.unit),
    formatRatio(ratio(c.head, c.baseline)),
    formatRatio(c.head / c.revision),
    c.maxRatio === undefined ? '—' : `≤ ${c.maxRatio}×`,
  ]);
}

/** The revision's and this tree's figures side by side, each with its ratio to the baseline, and HEAD / REV. */
export function formatComparison(comparisons: readonly Comparison[], revisionLabel: string): string {
  return alignTable(comparisonHeader(revisionLabel), comparisonRows(comparisons), new Set([1, 2, 3, 4, 5, 6]));
}

/** The figures that have a target and miss it. */
export function missed(figures: readonly Figure[]): Figure[] {
  return figures.filter((f) => evaluate(f).met === false);
}
