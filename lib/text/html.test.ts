import { test } from 'node:test';
import assert from 'node:assert/strict';
import { html, escapeHtml, SafeHtml } from './html.ts';

const cases: { name: string; value: unknown; want: string }[] = [
  { name: 'a script tag becomes text', value: '<script>alert(1)</script>', want: '<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>' },
  { name: 'quotes cannot break out of an attribute', value: '" onmouseover="x', want: '<p>&quot; onmouseover=&quot;x</p>' },
  { name: 'single quotes and backticks are escaped', value: "'`", want: '<p>&#39;&#96;</p>' },
  { name: 'ampersands are escaped once', value: '&amp;', want: '<p>&amp;amp;</p>' },
  { name: 'numbers render as text', value: 42, want: '<p>42</p>' },
  { name: 'null, undefined and false render nothing', value: null, want: '<p></p>' },
  { name: 'lists are joined and each item escaped', value: ['<a>', html`<b>ok</b>`], want: '<p>&lt;a&gt;<b>ok</b></p>' },
  { name: 'nested html is kept as markup', value: html`<i>${'<x>'}</i>`, want: '<p><i>&lt;x&gt;</i></p>' },
];

for (const c of cases) {
  test(c.name, () => {
    assert.equal(html`<p>${c.value as string}</p>`.toString(), c.want);
  });
}

test('an object pretending to be SafeHtml is escaped like any other text', () => {
  const fake = { toString: () => '<img src=x onerror=alert(1)>' };
  assert.equal(html`${fake as unknown as string}`.toString(), '&lt;img src=x onerror=alert(1)&gt;');
});

test('html returns SafeHtml and escapeHtml escapes every special character', () => {
  assert.ok(html`x` instanceof SafeHtml);
  assert.equal(escapeHtml(`<>&"'\``), '&lt;&gt;&amp;&quot;&#39;&#96;');
});
