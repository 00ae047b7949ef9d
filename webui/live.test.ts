import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { FastifyBaseLogger } from 'fastify';
import type { AccessRequest } from '../lib/api/accessrequest.ts';
import { KubeError, type Actor, type KubeGateway, type UserKube, type WatchEvent } from './kube.ts';
import { LiveHub, type Listener } from './live.ts';

interface FakeWatch {
  actor: Actor;
  onEvent: (e: WatchEvent) => void;
  onEnd: (err?: Error) => void;
  stopped: boolean;
}

class FakeGateway implements KubeGateway {
  watches: FakeWatch[] = [];
  forActor(actor: Actor): UserKube {
    const fail = () => Promise.reject(new Error('not used'));
    return {
      listRequests: async () => ({ items: [], resourceVersion: '5' }),
      getRequest: fail,
      createRequest: fail,
      patchStatus: fail,
      canI: fail,
      listServices: fail,
      previewReader: () => ({ getService: fail, listPods: fail, listNetworkPolicies: fail }),
      watchRequests: (_rv, onEvent, onEnd) => {
        const w: FakeWatch = { actor, onEvent, onEnd, stopped: false };
        this.watches.push(w);
        return { stop: () => (w.stopped = true) };
      },
    };
  }
}

const log = pino({ level: 'silent' }) as unknown as FastifyBaseLogger;
const tick = () => new Promise((r) => setImmediate(r));
const alice = { username: 'alice', groups: ['dev'] };
const bob = { username: 'bob', groups: [] };
const token = (t: string): Actor => ({ kind: 'token', token: t });
function modified(name: string, phase: 'Active' | 'Pending'): WatchEvent {
  return { type: 'MODIFIED', object: { metadata: { name }, status: { phase } } as unknown as AccessRequest };
}

test('pages of one user share one watch made as that user, and each gets every event', async () => {
  const kube = new FakeGateway();
  const hub = new LiveHub(kube, log);
  const got: string[] = [];
  const listener = (tag: string): Listener => (e) => got.push(`${tag}:${e.type === 'change' ? e.name : e.reason}`);
  const offA1 = hub.subscribe(alice, token('a1'), listener('a1'));
  const offA2 = hub.subscribe(alice, token('a2'), listener('a2'));
  hub.subscribe(bob, token('b'), listener('b'));
  await tick();
  assert.equal(kube.watches.length, 2, 'one watch per user');
  assert.deepEqual(kube.watches.map((w) => w.actor), [token('a1'), token('b')]);
  kube.watches[0]?.onEvent(modified('ar-1', 'Active'));
  assert.deepEqual(got, ['a1:ar-1', 'a2:ar-1'], "alice's watch reaches only alice's pages");
  offA1();
  assert.equal(kube.watches[0]?.stopped, false, 'the watch stays while a page listens');
  offA2();
  assert.equal(kube.watches[0]?.stopped, true, 'the last page closes the watch');
  hub.close();
});

test('a user who may not watch gets a closed event and no retry', async () => {
  const kube = new FakeGateway();
  const hub = new LiveHub(kube, log);
  const got: unknown[] = [];
  hub.subscribe(alice, token('a'), (e) => got.push(e));
  await tick();
  kube.watches[0]?.onEnd(new KubeError(403, 'Forbidden', 'forbidden'));
  assert.deepEqual(got, [{ type: 'closed', reason: 'not allowed to watch requests' }]);
  assert.equal(hub.feedCount, 0);
});

test('a watch that ends for another reason is restarted and the pages are told to refresh', async () => {
  const kube = new FakeGateway();
  const hub = new LiveHub(kube, log);
  const got: unknown[] = [];
  hub.subscribe(alice, token('a'), (e) => got.push(e));
  await tick();
  kube.watches[0]?.onEnd();
  await new Promise((r) => setTimeout(r, 700));
  assert.equal(kube.watches.length, 2, 'a new watch was started');
  assert.deepEqual(got, [{ type: 'change', name: '' }]);
  hub.close();
});
