import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KubeError } from './errors.ts';
import { Informer, type ChangeType } from './informer.ts';
import type { WatchEvent } from './transport.ts';
import type { KubeObject } from './types.ts';

const obj = (name: string, rv: string): KubeObject => ({ metadata: { name, namespace: 'n', resourceVersion: rv } });

/** A stand-in for the transport's watch: each call waits for the test to feed and end it. */
function watches() {
  const opened: { path: string; emit: (e: WatchEvent<KubeObject>) => void; end: (err?: Error) => void; stopped: boolean }[] = [];
  const waiting: ((n: number) => void)[] = [];
  return {
    opened,
    transport: {
      watch<T>(path: string, onEvent: (e: WatchEvent<T>) => void, onEnd: (err?: Error) => void) {
        const w = { path, emit: onEvent as (e: WatchEvent<KubeObject>) => void, end: onEnd, stopped: false };
        opened.push(w);
        waiting.shift()?.(opened.length);
        return { stop: () => ((w.stopped = true), onEnd()) };
      },
    },
    /** Resolves once the n-th watch is open. */
    nth: (n: number) => (opened.length >= n ? Promise.resolve(opened[n - 1]!) : new Promise<(typeof opened)[number]>((r) => waiting.push(() => r(opened[n - 1]!)))),
  };
}

test('lists, then watches from the list and resumes from the last resourceVersion; a too old one lists again, reporting what vanished', async () => {
  const w = watches();
  const lists = [
    { items: [obj('a', '1'), obj('b', '1')], resourceVersion: '10' },
    { items: [obj('c', '13')], resourceVersion: '20' },
  ];
  const changes: string[] = [];
  const errors: unknown[] = [];
  const informer = new Informer<KubeObject>({
    transport: w.transport,
    path: '/apis/g/v1/things',
    labelSelector: 'app=x',
    list: async () => lists.shift() ?? { items: [], resourceVersion: '99' },
    onChange: (type: ChangeType, o) => changes.push(`${type} ${o.metadata.name}@${o.metadata.resourceVersion}`),
    onError: (err) => errors.push(err),
  });
  await informer.start();
  assert.deepEqual(changes.splice(0), ['add a@1', 'add b@1'], 'synced once the list is in');

  const first = await w.nth(1);
  const q = new URLSearchParams(first.path.split('?')[1]);
  assert.equal(first.path.split('?')[0], '/apis/g/v1/things');
  assert.deepEqual([q.get('watch'), q.get('resourceVersion'), q.get('allowWatchBookmarks'), q.get('labelSelector')], ['1', '10', 'true', 'app=x']);
  first.emit({ type: 'MODIFIED', object: obj('a', '11') });
  first.emit({ type: 'DELETED', object: obj('b', '12') });
  first.emit({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '15' } } });
  first.end();
  assert.deepEqual(changes.splice(0), ['update a@11', 'delete b@12']);

  // The API server ended the watch: the next starts where the last one stopped (the bookmark's resourceVersion).
  const second = await w.nth(2);
  assert.equal(new URLSearchParams(second.path.split('?')[1]).get('resourceVersion'), '15');
  second.end(new KubeError(410, 'Expired', 'too old resource version'));

  // A new list: a vanished while nobody watched, c appeared.
  const third = await w.nth(3);
  assert.deepEqual(changes.splice(0), ['delete a@11', 'add c@13']);
  assert.equal(new URLSearchParams(third.path.split('?')[1]).get('resourceVersion'), '20');
  assert.deepEqual(errors, [], 'an expired resourceVersion is no error');

  // Any other failure is reported, and the watch resumes after a delay from the same resourceVersion.
  third.end(new KubeError(500, 'InternalError', 'etcd is down'));
  const fourth = await w.nth(4);
  assert.equal(errors.length, 1);
  assert.equal(new URLSearchParams(fourth.path.split('?')[1]).get('resourceVersion'), '20');
  assert.equal(lists.length, 0);

  informer.stop();
  assert.ok(fourth.stopped);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(w.opened.length, 4, 'nothing is watched after stop');
});

test('start resolves only once a list succeeded: a failed first list is reported and tried again', async () => {
  const w = watches();
  let attempts = 0;
  const errors: unknown[] = [];
  const informer = new Informer<KubeObject>({
    transport: w.transport,
    path: '/api/v1/services',
    list: async () => {
      if (++attempts === 1) throw new KubeError(403, 'Forbidden', 'cannot list');
      return { items: [obj('s', '1')], resourceVersion: '2' };
    },
    onChange: () => undefined,
    onError: (err) => errors.push(err),
  });
  await informer.start();
  assert.equal(attempts, 2);
  assert.equal((errors[0] as KubeError).status, 403);
  informer.stop();
});
