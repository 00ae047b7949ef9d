import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { comparisonRows, evaluate, formatComparison, formatNumber, formatTable, formatTarget, missed, tableRows, type Comparison, type Figure } from './table.ts';
import { parseBenchArgs } from './options.ts';
import { counterBy, histogramBuckets, quantileBound, subtractBuckets, subtractCounters } from './prom.ts';

describe('bench table', () => {
  it('a ratio target compares measured / baseline with the bound, inclusive', () => {
    assert.deepEqual(evaluate({ metric: 'm', measured: 13, baseline: 10, unit: 's', maxRatio: 1.3 }).met, true);
    const over = evaluate({ metric: 'm', measured: 13.1, baseline: 10, unit: 's', maxRatio: 1.3 });
    assert.equal(over.met, false);
    assert.ok(Math.abs((over.ratio ?? 0) - 1.31) < 1e-9);
  });

  it('a value target ignores the baseline; a figure without target is reported only', () => {
    assert.equal(evaluate({ metric: 'rss', measured: 150, baseline: 60, unit: 'MB', maxValue: 200 }).met, true);
    assert.equal(evaluate({ metric: 'rss', measured: 201, unit: 'MB', maxValue: 200 }).met, false);
    assert.deepEqual(evaluate({ metric: 'p99', measured: 900, baseline: 300, unit: 'ms' }), { ratio: 3, met: undefined });
  });

  it('a failed measurement (NaN) never meets its target', () => {
    assert.equal(evaluate({ metric: 'm', measured: NaN, baseline: 10, unit: 'ms', maxRatio: 1.5 }).met, false);
    assert.equal(evaluate({ metric: 'm', measured: 10, baseline: 0, unit: 'ms', maxRatio: 1.5 }).met, false);
    assert.equal(evaluate({ metric: 'm', measured: NaN, unit: 'ms', maxValue: 100 }).met, false);
  });

  it('formats numbers to about three significant digits', () => {
    assert.equal(formatNumber(1234.56), '1235');
    assert.equal(formatNumber(12.345), '12.3');
    assert.equal(formatNumber(0.5), '0.50');
    assert.equal(formatNumber(NaN), 'n/a');
  });

  it('renders rows with units, ratio, target and verdict', () => {
    const figures: Figure[] = [
      { metric: 'materialize', measured: 12.5, baseline: 10, unit: 's', maxRatio: 1.3 },
      { metric: 'approval→Active p50', measured: 42, unit: 'ms', maxValue: 100 },
      { metric: 'p99', measured: 950, baseline: 400, unit: 'ms' },
    ];
    assert.deepEqual(tableRows(figures), [
      ['materialize', '12.5 s', '10.0 s', '1.25×', '≤ 1.3×', 'yes'],
      ['approval→Active p50', '42.0 ms', '—', '—', '≤ 100 ms', 'yes'],
      ['p99', '950 ms', '400 ms', '2.38×', '—', '—'],
    ]);
    assert.equal(formatTarget({ metric: 'x', measured: 1, unit: 'MB', maxRatio: 2, maxValue: 200 }), '≤ 2×, ≤ 200 MB');
    assert.deepEqual(missed([...figures, { metric: 'slow', measured: 2, baseline: 1, unit: 's', maxRatio: 1.5 }]).map((f) => f.metric), ['slow']);
  });

  it('aligns columns: text left, numbers right, a rule under the header', () => {
    const out = formatTable([
      { metric: 'a', measured: 1234, baseline: 5, unit: 'ms', maxRatio: 1.5 },
      { metric: 'a longer metric', measured: 1, baseline: 1, unit: 'ms', maxRatio: 1.5 },
    ]).split('\n');
    assert.equal(out.length, 4);
    assert.match(out[0] ?? '', /^metric\s+measured\s+baseline\s+ratio\s+target\s+met$/);
    assert.match(out[1] ?? '', /^-+( +-+){5}$/);
    // The measured column ends at the same position on every row (right-aligned).
    const end = (line: string, cell: string) => line.indexOf(cell) + cell.length;
    assert.equal(end(out[2] ?? '', '1234 ms'), end(out[3] ?? '', '1.00 ms'));
    assert.equal(end(out[0] ?? '', 'measured'), end(out[2] ?? '', '1234 ms'));
    assert.ok((out[2] ?? '').endsWith('no'));
    assert.ok((out[3] ?? '').endsWith('yes'));
  });
});

describe('bench options', () => {
  it('defaults to the design sizes and every benchmark', () => {
    const o = parseBenchArgs([]);
    assert.deepEqual(o.only, ['webhook', 'controller', 'plugin', 'why', 'dataplane', 'memory']);
    assert.equal(o.whyPolicies, 1000);
    assert.equal(o.dataplaneSamples, 50);
    assert.equal(o.concurrency, 200);
    assert.equal(o.requests, 1000);
    assert.equal(o.memoryRequests, 10_000);
  });

  it('keeps the canonical order and rejects unknown names and bad sizes', () => {
    assert.deepEqual(parseBenchArgs(['--only', 'memory,webhook']).only, ['webhook', 'memory']);
    assert.deepEqual(parseBenchArgs(['--only', 'memory,dataplane']).only, ['dataplane', 'memory']);
    assert.equal(parseBenchArgs(['--requests', '50', '--memory-requests=200']).memoryRequests, 200);
    assert.throws(() => parseBenchArgs(['--only', 'webui']), /unknown benchmark webui/);
    assert.throws(() => parseBenchArgs(['--requests', '0']), /positive integer/);
    assert.throws(() => parseBenchArgs(['--nope']));
  });

  it('--compare takes a revision, and runs only what it can compare unless --only says otherwise', () => {
    assert.equal(parseBenchArgs([]).compare, undefined);
    const o = parseBenchArgs(['--compare', 'HEAD~5']);
    assert.equal(o.compare, 'HEAD~5');
    assert.deepEqual(o.only, ['webhook', 'plugin']);
    assert.deepEqual(parseBenchArgs(['--compare=ad9fc5b', '--only', 'plugin,webhook']).only, ['webhook', 'plugin']);
    assert.throws(() => parseBenchArgs(['--compare', 'HEAD~1', '--only', 'controller,memory']), /--compare: none of --only controller,memory can run another revision; choose from webhook, plugin/);
    for (const bad of ['', ' ', 'HEAD ~5', '-x']) assert.throws(() => parseBenchArgs([`--compare=${bad}`]), /--compare: expected a git revision/);
  });
});

describe('bench comparison table', () => {
  const rows: Comparison[] = [
    { metric: 'create p50', baseline: 80, revision: 160, head: 120, unit: 'ms', maxRatio: 1.5 },
    { metric: 'CPU s of webhook', revision: 2, head: 1, unit: 's' },
  ];

  it("puts the revision's and this tree's figures side by side, with ratios to the baseline and HEAD / REV", () => {
    assert.deepEqual(comparisonRows(rows), [
      ['create p50', '80.0 ms', '160 ms', '2.00×', '120 ms', '1.50×', '0.75×', '≤ 1.5×'],
      ['CPU s of webhook', '—', '2.00 s', '—', '1.00 s', '—', '0.50×', '—'],
    ]);
    assert.equal(comparisonRows([{ metric: 'x', baseline: 1, revision: NaN, head: 1, unit: 'ms' }])[0]?.[6], 'n/a');
  });

  it('names the revision in the header and right-aligns the numbers', () => {
    const out = formatComparison(rows, 'REV ad9fc5b').split('\n');
    assert.match(out[0] ?? '', /^metric\s+baseline\s+REV ad9fc5b\s+\/base\s+HEAD\s+\/base\s+HEAD\/REV\s+target$/);
    assert.equal(out.length, 4);
    const end = (line: string, cell: string) => line.indexOf(cell) + cell.length;
    assert.equal(end(out[2] ?? '', '160 ms'), end(out[3] ?? '', '2.00 s'));
  });
});

describe('bench histograms', () => {
  const scrape = (a: number, b: number, inf: number) =>
    [
      '# TYPE netwatch_webhook_admission_duration_seconds histogram',
      `netwatch_webhook_admission_duration_seconds_bucket{le="0.01",webhook="mutate",operation="CREATE",result="allowed"} ${a}`,
      `netwatch_webhook_admission_duration_seconds_bucket{le="0.1",webhook="mutate",operation="CREATE",result="allowed"} ${b}`,
      `netwatch_webhook_admission_duration_seconds_bucket{le="+Inf",webhook="mutate",operation="CREATE",result="allowed"} ${inf}`,
      `netwatch_webhook_admission_duration_seconds_bucket{le="0.01",webhook="validate",operation="CREATE",result="allowed"} 7`,
    ].join('\n');

  it('reads matching buckets and bounds a quantile from the difference of two scrapes', () => {
    const before = histogramBuckets(scrape(10, 10, 10), 'netwatch_webhook_admission_duration_seconds', { webhook: 'mutate' });
    const after = histogramBuckets(scrape(60, 109, 110), 'netwatch_webhook_admission_duration_seconds', { webhook: 'mutate' });
    const delta = subtractBuckets(after, before);
    assert.deepEqual([...delta], [[0.01, 50], [0.1, 99], [Infinity, 100]]);
    assert.deepEqual(quantileBound(delta, 0.5), { bound: 0.01, count: 100 });
    assert.deepEqual(quantileBound(delta, 0.99), { bound: 0.1, count: 100 });
    assert.deepEqual(quantileBound(delta, 1), { bound: Infinity, count: 100 });
    assert.ok(Number.isNaN(quantileBound(new Map(), 0.99).bound));
  });
});

describe('bench counters', () => {
  it('sums a counter by labels and keeps what grew between two scrapes', () => {
    const scrape = (sar: number, get: number) =>
      [
        '# HELP apiserver_request_total Counter',
        `apiserver_request_total{code="201",resource="subjectaccessreviews",verb="POST"} ${sar}`,
        `apiserver_request_total{code="200",resource="services",verb="GET"} ${get}`,
        `apiserver_request_total{code="404",resource="services",verb="GET"} 1`,
        'apiserver_request_total_other{resource="services",verb="GET"} 1000',
      ].join('\n');
    const before = counterBy(scrape(10, 5), 'apiserver_request_total', ['verb', 'resource']);
    assert.deepEqual([...before], [['POST subjectaccessreviews', 10], ['GET services', 6]]);
    const after = counterBy(scrape(25, 5), 'apiserver_request_total', ['verb', 'resource']);
    assert.deepEqual([...subtractCounters(after, before)], [['POST subjectaccessreviews', 15]]);
  });
});
