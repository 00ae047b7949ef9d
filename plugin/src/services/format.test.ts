import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cell, countdown, shortDuration, table, truncate } from './format.ts';

describe('truncate and cell', () => {
  test('a very long reason is cut with an ellipsis at the limit', () => {
    const out = cell('x'.repeat(10_000), 60);
    assert.equal([...out].length, 60);
    assert.ok(out.endsWith('…'));
  });
  test('truncation counts code points, so an emoji is never split', () => {
    assert.equal(truncate('🚀🚀🚀', 2), '🚀…');
  });
  test('an escape is made inert before truncation, so a cut cannot leave half an escape', () => {
    const out = cell('\x1b[31m' + 'a'.repeat(100), 10);
    assert.ok(!out.includes('\x1b'));
  });
});

describe('countdown and durations', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  const cases: [string, string | undefined, string][] = [
    ['two hours left shows hours, minutes and seconds', '2026-01-01T02:00:00Z', '2h00m00s'],
    ['ninety seconds left shows minutes and seconds', '2026-01-01T00:01:30Z', '1m30s'],
    ['a few seconds left shows seconds', '2026-01-01T00:00:05Z', '5s'],
    ['a past expiry shows expired', '2025-12-31T23:59:00Z', 'expired'],
    ['no expiry shows a dash', undefined, '-'],
  ];
  for (const [name, at, want] of cases) test(name, () => assert.equal(countdown(at, now), want));
  test('ages read like kubectl', () => {
    assert.equal(shortDuration(45_000), '45s');
    assert.equal(shortDuration(3 * 3600_000), '3h');
    assert.equal(shortDuration(5 * 86400_000), '5d');
  });
});

describe('table', () => {
  test('columns are aligned with three spaces and no trailing blanks', () => {
    assert.equal(table(['A', 'BB'], [['xyz', '1'], ['q', '22']]), 'A     BB\nxyz   1\nq     22\n');
  });
});
