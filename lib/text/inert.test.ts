import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { inert } from './inert.ts';

describe('inert', () => {
  const cases: [string, string, string][] = [
    ['an ANSI colour escape is shown, not interpreted', 'a\x1b[31mred\x1b[0m', 'a\\x1b[31mred\\x1b[0m'],
    ['a cursor movement that would overwrite the line is shown', 'ok\x1b[2K\x1b[1Gapproved', 'ok\\x1b[2K\\x1b[1Gapproved'],
    ['an OSC hyperlink or title sequence is shown', '\x1b]0;pwned\x07', '\\x1b]0;pwned\\x07'],
    ['newlines and tabs become visible escapes', 'a\nb\tc\rd', 'a\\nb\\tc\\rd'],
    ['C1 controls (8-bit CSI) are shown', 'x\u009b31my', 'x\\x9b31my'],
    ['bidi overrides that reorder text are shown', 'abc\u202edcba', 'abc\\u202edcba'],
    ['zero-width characters that hide text are shown', 'ad\u200bmin', 'ad\\u200bmin'],
    ['ordinary text, accents and emoji pass unchanged', 'Grüße 🚀 ok', 'Grüße 🚀 ok'],
  ];
  for (const [name, input, want] of cases) test(name, () => assert.equal(inert(input), want));

  test('non-strings are printed as text and undefined as empty', () => {
    assert.equal(inert(undefined), '');
    assert.equal(inert(42), '42');
  });
});
