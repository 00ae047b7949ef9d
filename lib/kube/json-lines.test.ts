import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { eachJsonLine } from './json-lines.ts';

function feed(chunks: string[], stopAt?: number): Promise<{ values: unknown[]; errors: string[]; destroyed: boolean }> {
  const stream = new PassThrough();
  const values: unknown[] = [];
  const errors: string[] = [];
  eachJsonLine(
    stream,
    (v) => {
      values.push(v);
      return stopAt === undefined || values.length < stopAt;
    },
    (e) => errors.push(e.message),
  );
  for (const c of chunks) if (!stream.destroyed) stream.write(c);
  return new Promise((resolve) => setImmediate(() => resolve({ values, errors, destroyed: stream.destroyed })));
}

describe('eachJsonLine', () => {
  it('joins lines split across chunks and skips blank lines', async () => {
    const r = await feed(['{"type":"ADD', 'ED","n":1}\n\n{"type":', '"MODIFIED"}\n{"partial":']);
    assert.deepEqual(r.values, [{ type: 'ADDED', n: 1 }, { type: 'MODIFIED' }]);
    assert.deepEqual(r.errors, []);
  });

  it('several lines in one chunk', async () => {
    const r = await feed(['{"a":1}\n{"a":2}\r\n{"a":3}\n']);
    assert.deepEqual(r.values, [{ a: 1 }, { a: 2 }, { a: 3 }]);
  });

  it('stops when the callback says so, and reads nothing after', async () => {
    const r = await feed(['{"a":1}\n{"a":2}\n{"a":3}\n'], 2);
    assert.deepEqual(r.values, [{ a: 1 }, { a: 2 }]);
    assert.equal(r.destroyed, true);
  });

  it('a line that is not JSON is an error and ends the stream', async () => {
    const r = await feed(['{"a":1}\n<html>oops</html>\n{"a":2}\n']);
    assert.deepEqual(r.values, [{ a: 1 }]);
    assert.match(r.errors[0] ?? '', /not JSON/);
    assert.equal(r.destroyed, true);
  });

  it('an exception from the consumer is an error, not a crash', async () => {
    const stream = new PassThrough();
    const errors: string[] = [];
    eachJsonLine(stream, () => { throw new Error('boom'); }, (e) => errors.push(e.message));
    stream.write('{"a":1}\n{"a":2}\n');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(errors, ['boom']);
    assert.equal(stream.destroyed, true);
  });
});
