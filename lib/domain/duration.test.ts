import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DURATION_PATTERN } from '../api/accessrequest.ts';
import { durationHint, durationSeconds, formatDuration, isNever, parseDuration } from './duration.ts';

describe('parseDuration', () => {
  const cases: [string, number | 'unlimited' | null][] = [
    ['30m', 30 * 60_000],
    ['2h', 2 * 3600_000],
    ['1h30m', 90 * 60_000],
    ['90s', 90_000],
    ['1h2m3s', 3723_000],
    ['0s', 0],
    ['unlimited', 'unlimited'],
    ['', null],
    ['2d', null],
    ['30', null],
    ['1m1h', null],
    ['1.5h', null],
    ['-1h', null],
    ['Unlimited', null],
    [' 2h', null],
    ['99999999999999999999h', null],
  ];
  for (const [text, expected] of cases) {
    test(`reads ${JSON.stringify(text)} as ${String(expected)}`, () => assert.equal(parseDuration(text), expected));
  }
  test('formatDuration is its inverse for whole seconds', () => {
    for (const text of ['30m', '2h', '1h30m', '90s', '1h2m3s']) {
      const ms = parseDuration(text);
      assert.equal(typeof ms, 'number');
      assert.equal(parseDuration(formatDuration(ms as number)), ms);
    }
    assert.equal(formatDuration(5_400_000), '1h30m');
  });
  test('reads exactly what the CRD pattern lets through (the empty text aside, which minLength refuses)', () => {
    const crd = new RegExp(DURATION_PATTERN);
    for (const text of ['30m', '1h30m', '90s', 'unlimited', '0s', '2d', '1m1h', '2H', 'never', '1h 30m']) {
      assert.equal(parseDuration(text) !== null, crd.test(text), text);
    }
  });
});

describe('durationSeconds', () => {
  const cases: [string, number | null][] = [['2h', 7200], ['30m', 1800], ['1h30m', 5400], ['45s', 45], ['1h2m3s', 3723], ['unlimited', null]];
  for (const [input, seconds] of cases) test(`${input} is ${seconds} seconds`, () => assert.equal(durationSeconds(input), seconds));
  for (const bad of ['', '1d', 'forever', '2H']) test(`${JSON.stringify(bad)} is refused`, () => assert.throws(() => durationSeconds(bad)));
});

describe('flag words', () => {
  test('never and forever mean no limit; unlimited is the spec word, not a flag word', () => {
    assert.equal(isNever('never'), true);
    assert.equal(isNever('forever'), true);
    assert.equal(isNever('unlimited'), false);
  });
  test('days get a hint in hours', () => {
    assert.equal(durationHint('7d'), 'has days, which are not supported: write 168h');
    assert.equal(durationHint('7x'), undefined);
  });
});
