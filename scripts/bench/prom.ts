// Just enough of the Prometheus text format to read a component's /metrics: one histogram's buckets (server-side
// latency of a round, from the difference of two scrapes) and counters summed by some labels (requests per kind).

export interface Sample {
  labels: Map<string, string>;
  value: number;
}

/** Every sample of the series `name` (exactly: `name{...}` or `name value`). */
export function samples(text: string, name: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
    const close = line[name.length] === '{' ? line.lastIndexOf('}') : name.length;
    const labels = new Map<string, string>();
    for (const m of line.slice(name.length + 1, close).matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels.set(m[1] ?? '', m[2] ?? '');
    out.push({ labels, value: Number(line.slice(close + 1).trim().split(' ')[0]) });
  }
  return out;
}

/** Cumulative bucket counts by upper bound (`le`, +Inf included), summed over the series whose labels match. */
export type Buckets = Map<number, number>;

export function histogramBuckets(text: string, name: string, labels: Record<string, string> = {}): Buckets {
  const out: Buckets = new Map();
  for (const s of samples(text, `${name}_bucket`)) {
    if (Object.entries(labels).some(([k, v]) => s.labels.get(k) !== v)) continue;
    const le = s.labels.get('le') === '+Inf' ? Infinity : Number(s.labels.get('le'));
    out.set(le, (out.get(le) ?? 0) + s.value);
  }
  return out;
}

export function subtractBuckets(after: Buckets, before: Buckets): Buckets {
  return new Map([...after].map(([le, n]) => [le, n - (before.get(le) ?? 0)]));
}

/** The smallest bucket bound under which at least `q` of the observations fall (an upper bound of the quantile). */
export function quantileBound(buckets: Buckets, q: number): { bound: number; count: number } {
  const sorted = [...buckets].sort(([a], [b]) => a - b);
  const count = sorted.at(-1)?.[1] ?? 0;
  if (count === 0) return { bound: NaN, count };
  const hit = sorted.find(([, n]) => n >= q * count);
  return { bound: hit?.[0] ?? Infinity, count };
}

/** A counter summed by the given labels, keyed by their values joined with a space. */
export function counterBy(text: string, name: string, by: string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of samples(text, name)) {
    const k = by.map((l) => s.labels.get(l) ?? '').join(' ');
    out.set(k, (out.get(k) ?? 0) + s.value);
  }
  return out;
}

export function subtractCounters(after: Map<string, number>, before: Map<string, number>): Map<string, number> {
  return new Map([...after].map(([k, n]) => [k, n - (before.get(k) ?? 0)] as [string, number]).filter(([, n]) => n > 0));
}
