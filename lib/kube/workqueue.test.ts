import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WorkQueue } from './workqueue.ts';

describe('WorkQueue', () => {
  it('a key added twice before processing is handed out once', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('a');
    assert.equal(q.depth, 1);
    assert.equal(await q.get(), 'a');
  });

  it('a key changed while processing is handed out again after done, never concurrently', async () => {
    const q = new WorkQueue();
    q.add('a');
    const k = await q.get();
    q.add('a');
    assert.equal(q.depth, 0);
    q.done(k!);
    assert.equal(q.depth, 1);
  });

  it('a waiting worker gets a key as soon as it is added', async () => {
    const q = new WorkQueue();
    const p = q.get();
    q.add('b');
    assert.equal(await p, 'b');
  });

  it('a delayed add keeps the earliest wake-up', async () => {
    const q = new WorkQueue();
    q.addAfter('a', 10_000);
    q.addAfter('a', 5);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(q.depth, 1);
  });

  it('failures back off exponentially and forget resets', async () => {
    const q = new WorkQueue({ baseDelayMs: 5 });
    q.addRateLimited('a');
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(await q.get(), 'a');
    q.done('a');
    q.forget('a');
    q.addRateLimited('a');
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(q.depth, 1);
  });

  it('shutting down releases waiting workers', async () => {
    const q = new WorkQueue();
    const p = q.get();
    q.shutDown();
    assert.equal(await p, undefined);
  });
});
