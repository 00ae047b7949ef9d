// The import graph of the whole tree, read from the sources: the product (lib/, webhook/, controller/, notifier/,
// webui/, plugin/) never imports test or development code; no module imports itself through others (a cycle makes
// evaluation order depend on which module loads first); and the top-level folders are layers: none reaches back
// into one that depends on it (scripts/sandbox.ts → webhook/testing.ts → scripts/controlplane.ts was such a loop).
// Test files (*.test.ts) import anything and are imported by nothing, so they are left out of the folder check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const SKIP = new Set(['node_modules', 'dist', '.tmp', '.git', 'coverage']);
const PRODUCT = ['lib/', 'webhook/', 'controller/', 'notifier/', 'webui/', 'plugin/'];

/** Test and development code: the harness trees, test files, and the fakes and builders tests share. */
export function isTestOrDevCode(path: string): boolean {
  return (
    /^(test|scripts|dev)\//.test(path) ||
    /\.test\.tsx?$/.test(path)
  );
}

function sources(dir = REPO): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (SKIP.has(e.name) || e.name === 'plugin/dist') return [];
    const path = join(dir, e.name);
    if (e.isDirectory()) return relative(REPO, path) === 'plugin/dist' ? [] : sources(path);
    return /\.(tsx?|mjs|js)$/.test(e.name) ? [relative(REPO, path)] : [];
  });
}

/** Relative specifiers a module loads when it runs (`import type` and `export type` are erased; the rest is not). */
function runtimeImports(file: string): string[] {
  const text = readFileSync(join(REPO, file), 'utf8');
  const out: string[] = [];
  const statement = /^\s*(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm;
  for (const m of text.matchAll(statement)) if (!m[2]) out.push(m[3]!);
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]!);
  return out.filter((s) => s.startsWith('.')).map((s) => relative(REPO, resolve(REPO, dirname(file), s)));
}

function graph(): Map<string, string[]> {
  const files = sources();
  const known = new Set(files);
  return new Map(files.map((f) => [f, runtimeImports(f).filter((t) => known.has(t))]));
}

/** Strongly connected components of more than one module, or a module importing itself (Tarjan). */
function cycles(edges: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (edges.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of edges.keys()) if (!idx.has(v)) visit(v);
  return found;
}

test('the classification: harness trees, test files, fakes and builders are test code; the rest of the product is not', () => {
  for (const p of ['test/support/webhook.ts', 'test/support/builders.ts', 'test/support/fake-kube.ts', 'scripts/controlplane.ts', 'webhook/app.test.ts']) {
    assert.ok(isTestOrDevCode(p), p);
  }
  for (const p of ['webhook/main.ts', 'notifier/main.ts', 'lib/kube/transport.ts', 'plugin/src/main.ts', 'webui/routes/static.ts']) assert.ok(!isTestOrDevCode(p), p);
});

test('test doubles and builders live in test/support, not beside the product', () => {
  const misplaced = [...graph().keys()].filter((p) => !isTestOrDevCode(p) && /(^|\/)(testing|fakes?|fixtures?|builders?)(\.tsx?$|\/)|(^|\/)fake-[^/]*\.tsx?$/.test(p));
  assert.deepEqual(misplaced, []);
});

/** Every `product module → test or development module` edge. */
function productImportsOfTestCode(edges: Map<string, string[]>): string[] {
  const product = (path: string) => PRODUCT.some((p) => path.startsWith(p)) && !isTestOrDevCode(path);
  return [...edges].filter(([from]) => product(from)).flatMap(([from, to]) => to.filter(isTestOrDevCode).map((t) => `${from} → ${t}`));
}

test('no product module imports test or development code', () => {
  const edges = graph();
  assert.ok(edges.size > 100, `read ${edges.size} modules`);
  assert.deepEqual(productImportsOfTestCode(edges), []);
});

/** The graph between top-level folders, test files left out: folder → folder, with one module edge as the example. */
function folderGraph(edges: Map<string, string[]>): Map<string, string[]> {
  const top = (path: string) => path.split('/')[0]!;
  const out = new Map<string, Set<string>>();
  for (const [from, to] of edges) {
    if (/\.test\.tsx?$/.test(from)) continue;
    for (const t of to) if (top(t) !== top(from)) (out.get(top(from)) ?? out.set(top(from), new Set()).get(top(from))!).add(top(t));
  }
  return new Map([...out].map(([k, v]) => [k, [...v]]));
}

test('no import cycles anywhere in the tree', () => {
  assert.deepEqual(cycles(graph()), []);
});

test('no cycle between top-level folders: scripts and test build on the product, never the other way round', () => {
  const edges = graph();
  const folders = folderGraph(edges);
  const loops = cycles(folders);
  // Name the module edges that make up each loop, to say what to move.
  const why = loops.map((loop) =>
    [...edges].flatMap(([from, to]) => to.filter((t) => loop.includes(from.split('/')[0]!) && loop.includes(t.split('/')[0]!) && from.split('/')[0] !== t.split('/')[0]).map((t) => `${from} → ${t}`)).filter((e) => !/\.test\.tsx? →/.test(e)),
  );
  assert.deepEqual(why, []);
  for (const product of PRODUCT.map((p) => p.slice(0, -1))) {
    assert.ok(!(folders.get(product) ?? []).some((f) => f === 'scripts' || f === 'test'), `${product} depends on ${(folders.get(product) ?? []).join(', ')}`);
  }
});

test('the checks can fail: the cycle and the product import of test code that this tree used to have are found', () => {
  const before = new Map([
    ['scripts/sandbox.ts', ['test/support/webhook.ts']],
    ['test/support/webhook.ts', ['scripts/controlplane.ts', 'webhook/app.ts']],
    ['scripts/controlplane.ts', []],
    ['webhook/app.ts', []],
    ['webhook/main.ts', ['webhook/app.ts']],
  ]);
  assert.deepEqual(productImportsOfTestCode(before), []);
  assert.deepEqual(cycles(folderGraph(before)), [['scripts', 'test']]);
  before.set('webhook/main.ts', ['test/support/webhook.ts']);
  assert.deepEqual(productImportsOfTestCode(before), ['webhook/main.ts → test/support/webhook.ts']);
  before.set('scripts/controlplane.ts', ['scripts/sandbox.ts']);
  assert.deepEqual(cycles(before), [['scripts/controlplane.ts', 'scripts/sandbox.ts', 'test/support/webhook.ts']]);
  assert.deepEqual(cycles(new Map([['a', ['a']]])), [['a']]);
});
