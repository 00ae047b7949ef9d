import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linearRegExp } from './linear-regexp.ts';

const compiled = (pattern: string): RegExp => {
  const r = linearRegExp(pattern);
  assert.ok(r.ok, `${pattern}: ${r.ok ? '' : r.why}`);
  return r.regexp;
};

test('patterns that make a backtracking engine take exponential or high-degree polynomial time answer at once', () => {
  // Each would run for years with a backtracking engine on these inputs; the test would time out, not pass.
  assert.equal(compiled('^((a+))+$').test(`${'a'.repeat(64)}!`), false);
  assert.equal(compiled('^(a|aa)*$').test(`${'a'.repeat(64)}!`), false);
  assert.equal(compiled(`^${'a*'.repeat(40)}$`).test(`${'a'.repeat(1024)}b`), false);
  assert.equal(compiled('^(x*)*y').test('x'.repeat(1024)), false);
});

test('ordinary patterns match as JavaScript does', () => {
  assert.equal(compiled('^(INC|CHG)-[0-9]+').test('INC-4711 replication lag'), true);
  assert.equal(compiled('^(INC|CHG)-[0-9]+').test('see INC-4711'), false);
  assert.equal(compiled('^JIRA-[0-9]{1,6}\\b').test('JIRA-12 x'), true);
  assert.equal(compiled('metrics|dashboards').test('grafana dashboards'), true);
});

test('what the engine cannot run, and what is no pattern, is refused with the reason', () => {
  for (const p of ['(.)\\1', '(?<x>a)\\k<x>', '(?=a)a', 'a(?!b)']) {
    const r = linearRegExp(p);
    assert.deepEqual(r.ok ? 'compiled' : r.why, 'it cannot run in linear time: back-references and lookahead are not allowed', p);
  }
  const broken = linearRegExp('[');
  assert.match(broken.ok ? 'compiled' : broken.why, /^not a regular expression \(\/\[\/l: Unterminated character class\)$/);
});
