// Reachability truth tables, as Kubernetes' own network-policy e2e suite prints them: every (from, to, port) cell
// is probed for real, compared with what it should be, and on any difference the whole table is printed
// (expected, observed, and which cells differ), so a failure shows the shape of what went wrong, not one cell.
import type { DataplanePort, Endpoint, ProbeResult } from './dataplane.ts';

export interface Cell {
  from: Endpoint;
  to: Endpoint;
  port: DataplanePort;
}

/** A flow that should connect: `to`'s `port` from `from`. */
export interface Flow {
  from: Endpoint;
  to: Endpoint;
  port: DataplanePort;
}

export const portName = (p: DataplanePort): string => `${p.port}/${p.protocol}`;
const cellKey = (c: Cell): string => `${c.from.name}|${c.to.name}|${portName(c.port)}`;

/**
 * Every port of every `to` from every `from` except itself. Hosts (outside the cluster) are left out as pairs: no
 * policy is ever about traffic between two of them.
 */
export function cellsOf(from: readonly Endpoint[], to: readonly Endpoint[]): Cell[] {
  return from.flatMap((f) => to.filter((t) => t !== f && !(f.kind === 'host' && t.kind === 'host')).flatMap((t) => t.ports.map((port) => ({ from: f, to: t, port }))));
}

/** Whether a probe reached the listener of the cell's own endpoint (not merely "something answered"). */
export function connected(cell: Cell, result: ProbeResult): boolean {
  return result.outcome === 'open' && result.reply === cell.to.name;
}

export interface Table {
  title: string;
  cells: Cell[];
  expected: boolean[];
  observed: ProbeResult[];
}

/** Which cells differ (empty when the table holds). */
export function differences(t: Table): Cell[] {
  return t.cells.filter((c, i) => connected(c, t.observed[i] ?? { outcome: 'error', ms: 0 }) !== t.expected[i]);
}

function grid(cells: Cell[], value: (i: number) => string): string {
  const rows = [...new Set(cells.map((c) => c.from.name))];
  // Columns in the rows' order (a pod's column sits where its row does), then by port.
  const order = [...new Set(cells.flatMap((c) => [c.from.name, c.to.name]))];
  const columns = [...new Map(cells.map((c) => [`${c.to.name} ${portName(c.port)}`, c] as const)).entries()]
    .sort(([, x], [, y]) => order.indexOf(x.to.name) - order.indexOf(y.to.name))
    .map(([k]) => k);
  const index = new Map(cells.map((c, i) => [cellKey(c), i] as const));
  const rowWidth = Math.max(9, ...rows.map((r) => r.length));
  const widths = columns.map((c) => Math.max(...c.split(' ').map((w) => w.length), 3));
  const header = (part: 0 | 1) => ' '.repeat(rowWidth) + columns.map((c, j) => ' ' + (c.split(' ')[part] ?? '').padEnd(widths[j] ?? 3)).join('');
  const lines = [header(0), header(1)];
  for (const r of rows) {
    lines.push(
      r.padEnd(rowWidth) +
        columns
          .map((col, j) => {
            const [toName, port] = col.split(' ');
            const i = index.get(`${r}|${toName ?? ''}|${port ?? ''}`);
            return ' ' + (i === undefined ? '' : value(i)).padEnd(widths[j] ?? 3);
          })
          .join(''),
    );
  }
  return lines.join('\n');
}

/**
 * The three tables: expected and observed (`O` connects, `.` does not), then `X` where they differ. An observed
 * cell that did not connect says how: `.` refused (kube-router rejects a packet no policy allows, and every probed
 * port has a listener), `t` timed out, `u` unreachable, `e` another error, `w` a different endpoint answered.
 */
export function formatTable(t: Table): string {
  const observed = (i: number) => {
    const cell = t.cells[i];
    const r = t.observed[i];
    if (!cell || !r) return '?';
    if (connected(cell, r)) return 'O';
    if (r.outcome === 'open') return 'w';
    return { timeout: 't', refused: '.', unreachable: 'u', error: 'e', open: 'O' }[r.outcome];
  };
  const diff = new Set(differences(t).map(cellKey));
  return [
    `${t.title}: ${diff.size} of ${t.cells.length} cells differ`,
    'expected (O connects, . does not):',
    grid(t.cells, (i) => (t.expected[i] ? 'O' : '.')),
    'observed (O connects; . refused, t timed out, u unreachable, e error, w another endpoint answered):',
    grid(t.cells, observed),
    'differences (X):',
    grid(t.cells, (i) => (t.cells[i] && diff.has(cellKey(t.cells[i])) ? 'X' : '.')),
  ].join('\n');
}

/** Expected values: the cells of `open` connect, every other cell does not. */
export function expectOnly(cells: Cell[], open: readonly Flow[]): boolean[] {
  const wanted = new Set(open.map((f) => cellKey(f)));
  for (const f of open) if (!cells.some((c) => cellKey(c) === cellKey(f))) throw new Error(`${cellKey(f)} is not a cell of this table`);
  return cells.map((c) => wanted.has(cellKey(c)));
}

export type Prober = (from: Endpoint, to: Endpoint, port: DataplanePort) => Promise<ProbeResult>;

/** Probes every cell at once (a blocked cell costs the probe's timeout, so a table costs about one). */
export async function observe(cells: Cell[], probe: Prober): Promise<ProbeResult[]> {
  return Promise.all(cells.map((c) => probe(c.from, c.to, c.port)));
}

export interface AssertOptions {
  /**
   * How long the engine may take to apply what the API already says (kube-router writes its rules a few hundred ms
   * after a NetworkPolicy changes, and the policies of one grant need not arrive together): the table is probed
   * again until it holds or this time has passed, and the last observation is the one reported. 0: probed once.
   */
  withinMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Probes the table and throws with all three tables printed when any cell differs from `open`. */
export async function assertReachability(title: string, cells: Cell[], open: readonly Flow[], probe: Prober, opts: AssertOptions = {}): Promise<Table> {
  const expected = expectOnly(cells, open);
  const deadline = performance.now() + (opts.withinMs ?? 0);
  for (;;) {
    const table: Table = { title, cells, expected, observed: await observe(cells, probe) };
    if (differences(table).length === 0) return table;
    if (performance.now() >= deadline) throw new Error(formatTable(table));
    await sleep(200);
  }
}

/** The cells for which `open` holds, as flows (for expectations written as a rule rather than a list). */
export function flowsWhere(cells: readonly Cell[], open: (c: Cell) => boolean): Flow[] {
  return cells.filter(open);
}

export interface ChangeOptions {
  /** Give up (throw) this long after `since`. */
  timeoutMs?: number;
  /** A new probe starts this often; the resolution of the answer. */
  intervalMs?: number;
}

/**
 * When `flow` first connects (or, `open` false, first fails) after `since` (a performance.now() time): probes
 * overlap, one started every `intervalMs`, and the earliest one that saw the change bounds when the path changed
 * (a probe's fate is decided by its first packet, sent as it starts, so the prober's own deadline must be shorter
 * than TCP's first SYN retransmission, one second). Returns ms after `since`.
 */
export async function firstChange(probe: Prober, flow: Flow, open: boolean, since: number, opts: ChangeOptions = {}): Promise<number> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const intervalMs = opts.intervalMs ?? 50;
  let found: number | undefined;
  const pending: Promise<void>[] = [];
  while (found === undefined) {
    if (performance.now() - since > timeoutMs) {
      await Promise.all(pending);
      if (found !== undefined) break;
      throw new Error(`${flow.from.name} → ${flow.to.name} ${portName(flow.port)} did not ${open ? 'open' : 'close'} within ${timeoutMs} ms`);
    }
    const started = performance.now();
    pending.push(
      probe(flow.from, flow.to, flow.port).then((r) => {
        if (connected(flow, r) === open && (found === undefined || started < found)) found = started;
      }),
    );
    await sleep(intervalMs);
  }
  await Promise.all(pending);
  return Math.round(found - since);
}
