import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoint, ProbeResult } from './dataplane.ts';
import { assertReachability, cellsOf, connected, differences, expectOnly, firstChange, flowsWhere, formatTable, type Cell } from './reachability.ts';

const pod = (name: string, ip: string, ports: Endpoint['ports']): Endpoint => ({ name, ip, netns: `ns-${ip}`, ports, kind: 'pod' });
const host = (name: string, ip: string, ports: Endpoint['ports'] = []): Endpoint => ({ name, ip, netns: `ns-${ip}`, ports, kind: 'host' });

const prometheus = pod('monitoring/prometheus-0', '198.18.1.2', [{ port: 9090, protocol: 'TCP' }]);
const database = pod('payments/database-0', '198.18.1.3', [
  { port: 5432, protocol: 'TCP' },
  { port: 9187, protocol: 'TCP' },
]);
const partner = host('partner', '198.19.0.7', [{ port: 443, protocol: 'TCP' }]);
const stranger = host('stranger', '198.19.0.8', [{ port: 443, protocol: 'TCP' }]);
const all = [prometheus, database, partner, stranger];

/** A fake network where exactly `open` connects (and answers with the endpoint's name). */
function network(open: (c: Cell) => boolean) {
  return async (from: Endpoint, to: Endpoint, port: Endpoint['ports'][number]): Promise<ProbeResult> =>
    open({ from, to, port }) ? { outcome: 'open', reply: to.name, ms: 1 } : { outcome: 'timeout', ms: 1000 };
}

const grant = { from: prometheus, to: database, port: { port: 5432, protocol: 'TCP' } } as const;
const isGrant = (c: Cell) => c.from === prometheus && c.to === database && c.port.port === 5432;

describe('reachability truth tables', () => {
  test('cells are every port of every other endpoint, without host-to-host pairs', () => {
    const cells = cellsOf(all, all);
    const names = cells.map((c) => `${c.from.name}>${c.to.name}:${c.port.port}`);
    assert.ok(names.includes('monitoring/prometheus-0>payments/database-0:9187'));
    assert.ok(names.includes('partner>payments/database-0:5432'));
    assert.ok(names.includes('payments/database-0>partner:443'));
    assert.ok(!names.some((n) => n.startsWith('partner>stranger') || n.startsWith('stranger>partner')));
    assert.ok(!names.some((n) => n.startsWith('payments/database-0>payments/database-0')));
    // prometheus: 2 + 1 + 1 (database's two ports, partner, stranger); database: 1 + 1 + 1; partner and stranger: 1 + 2 each
    assert.equal(cells.length, 4 + 3 + 3 + 3);
  });

  test('a table holds when exactly the granted cell connects', async () => {
    const table = await assertReachability('granted', cellsOf(all, all), [grant], network(isGrant));
    assert.equal(differences(table).length, 0);
  });

  test('flipping one expected cell fails, and the message prints the whole table', async () => {
    await assert.rejects(
      assertReachability('granted', cellsOf(all, all), [], network(isGrant)),
      (err: Error) => {
        assert.match(err.message, /^granted: 1 of 13 cells differ/);
        assert.match(err.message, /expected \(O connects/);
        assert.match(err.message, /observed/);
        assert.match(err.message, /differences \(X\)/);
        // every row is printed, not only the differing one
        for (const e of all) assert.ok(err.message.includes(e.name), e.name);
        return true;
      },
    );
    await assert.rejects(assertReachability('blocked', cellsOf(all, all), [grant], network(() => false)), /blocked: 1 of 13 cells differ/);
  });

  test('an answer from another endpoint is not a connection to this one', () => {
    const cell = { from: prometheus, to: database, port: { port: 5432, protocol: 'TCP' } } as const;
    assert.equal(connected(cell, { outcome: 'open', reply: database.name, ms: 1 }), true);
    assert.equal(connected(cell, { outcome: 'open', reply: 'someone-else', ms: 1 }), false);
    assert.equal(connected(cell, { outcome: 'refused', ms: 1 }), false);
    const table = { title: 't', cells: [cell], expected: [true], observed: [{ outcome: 'open', reply: 'someone-else', ms: 1 } as ProbeResult] };
    assert.match(formatTable(table), /\bw\b/);
  });

  test('an expected flow that is not a cell of the table is a mistake in the test', () => {
    assert.throws(() => expectOnly(cellsOf([prometheus], [database]), [{ from: database, to: prometheus, port: { port: 9090, protocol: 'TCP' } }]), /not a cell/);
  });

  test('the grid marks each differing cell once', () => {
    const cells = cellsOf([prometheus, database], [prometheus, database]);
    const table = { title: 't', cells, expected: expectOnly(cells, [grant]), observed: cells.map((c) => (isGrant(c) || c.port.port === 9090 ? { outcome: 'open', reply: c.to.name, ms: 1 } : { outcome: 'timeout', ms: 1 }) as ProbeResult) };
    const text = formatTable(table);
    const diffGrid = text.slice(text.indexOf('differences (X):'));
    assert.equal(diffGrid.split('X').length - 1 - 1, 1, text);
  });

  test('a table may be given time to settle: it holds once the network catches up, and fails with the last observation when it never does', async () => {
    const opensAt = performance.now() + 300;
    const late = network((c) => isGrant(c) && performance.now() >= opensAt);
    await assertReachability('late', cellsOf(all, all), [grant], late, { withinMs: 2000 });
    const started = performance.now();
    await assert.rejects(assertReachability('never', cellsOf(all, all), [grant], network(() => false), { withinMs: 500 }), /never: 1 of 13 cells differ/);
    assert.ok(performance.now() - started >= 500, 'kept probing until the deadline');
    const opensSoon = performance.now() + 300;
    const soon = network((c) => isGrant(c) && performance.now() >= opensSoon);
    await assert.rejects(assertReachability('once', cellsOf(all, all), [grant], soon), /once: 1 of 13 cells differ/, 'without withinMs, one observation');
  });

  test('expectations can be a rule over the cells', () => {
    const cells = cellsOf(all, all);
    assert.deepEqual(flowsWhere(cells, isGrant), cells.filter((c) => isGrant(c)));
  });

  test('the first change of a flow is timed from the probe that saw it, to within the probing interval', async () => {
    const since = performance.now();
    const opensAt = since + 200;
    const ms = await firstChange(network((c) => isGrant(c) && performance.now() >= opensAt), grant, true, since, { intervalMs: 20 });
    assert.ok(ms >= 200 && ms <= 260, `opened after ${ms} ms`);
    const closesAt = performance.now() + 100;
    const closed = await firstChange(network((c) => isGrant(c) && performance.now() < closesAt), grant, false, closesAt - 100, { intervalMs: 20 });
    assert.ok(closed >= 100 && closed <= 160, `closed after ${closed} ms`);
    await assert.rejects(firstChange(network(() => false), grant, true, performance.now(), { timeoutMs: 200 }), /did not open within 200 ms/);
  });
});
