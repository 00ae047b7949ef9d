import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { FakeKube } from '../test/support/fake-kube.ts';
import { KubeError } from '../lib/kube/port.ts';
import { configMapWriter, SESSIONS_CONFIGMAP } from './revocations-configmap.ts';
import { CLOCK_SKEW_MS, entriesInForce, newSessionId, revocationKey, withRevocation } from './revocations.ts';
import { MemoryRevocationList } from '../test/support/fake-revocations.ts';

const log = pino({ level: 'silent' });
const T0 = new Date('2026-03-01T12:00:00Z');
const later = (ms: number) => new Date(T0.getTime() + ms);
/** The in-memory list prunes by the real clock. */
const inAnHour = () => new Date(Date.now() + 3600_000);

test('a sign-out lists a digest of the session id with the session expiry, and drops entries no replica needs', () => {
  const data = {
    stale: later(-CLOCK_SKEW_MS - 1).toISOString(),
    withinSkew: later(-CLOCK_SKEW_MS + 1000).toISOString(),
    future: later(3600_000).toISOString(),
    handEdited: 'tomorrow',
  };
  const sid = newSessionId();
  const out = withRevocation(data, revocationKey(sid), later(7200_000), T0);
  assert.deepEqual(Object.keys(out).sort(), [revocationKey(sid), 'future', 'handEdited', 'withinSkew'].sort());
  assert.equal(out[revocationKey(sid)], '2026-03-01T14:00:00.000Z');
  assert.ok(!JSON.stringify(out).includes(sid), 'the session id itself is not stored');
  assert.match(revocationKey(sid), /^[-_A-Za-z0-9]{43}$/, 'a valid ConfigMap key');
  assert.equal(entriesInForce(data, T0.getTime()).get('handEdited'), Number.POSITIVE_INFINITY, 'an unreadable time keeps refusing');
});

test('the replica that signs a session out refuses it at once, even when the shared list cannot be written', async () => {
  const list = new MemoryRevocationList();
  const a = list.replica();
  const b = list.replica();
  a.start(log);
  b.start(log);
  list.failWrites = new Error('connection refused');
  const sid = newSessionId();
  await assert.rejects(a.revoke(sid, inAnHour()), /connection refused/);
  assert.equal(a.isRevoked(sid), true);
  assert.equal(b.isRevoked(sid), false, 'the other replica could not learn of it');

  list.failWrites = undefined;
  const other = newSessionId();
  const heard: string[] = [];
  b.onRevoked(other, () => heard.push('b'));
  await a.revoke(other, inAnHour());
  assert.deepEqual([a.isRevoked(other), b.isRevoked(other), heard], [true, true, ['b']]);
  assert.equal(a.isRevoked(newSessionId()), false);
});

test('a sign-out waits for the shared list only so long; the late write still reaches the others', async () => {
  const list = new MemoryRevocationList();
  const a = list.replica({ writeTimeoutMs: 20 });
  const b = list.replica();
  a.start(log);
  b.start(log);
  list.writeDelayMs = 100;
  const sid = newSessionId();
  await assert.rejects(a.revoke(sid, inAnHour()), /not written within 20 ms/);
  assert.equal(a.isRevoked(sid), true);
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(b.isRevoked(sid), true);
});

test('a replica is current only while it follows the list: starting, current, unavailable, current again', () => {
  const list = new MemoryRevocationList();
  const r = list.replica();
  assert.equal(r.state, 'starting');
  r.start(log);
  assert.equal(r.state, 'current');
  list.breakFeeds();
  assert.equal(r.state, 'unavailable');
  list.restoreFeeds();
  assert.equal(r.state, 'current');
});

test('the ConfigMap write is a read-modify-write guarded by resourceVersion, again after a conflict', async () => {
  const kube = new FakeKube();
  const ref = { namespace: 'netwatch-system', name: SESSIONS_CONFIGMAP };
  await kube.create('configmaps', { metadata: { ...ref }, data: { old: later(-CLOCK_SKEW_MS - 1).toISOString(), kept: later(60_000).toISOString() } });
  const writer = configMapWriter(kube, ref, () => T0);
  kube.injectFault((c) => c.verb === 'replace', new KubeError(409, 'Conflict', 'the object has been modified'));
  await writer.record('k1', later(3600_000));
  const [cm] = kube.all<{ metadata: object; data?: Record<string, string> }>('configmaps');
  assert.deepEqual(cm?.data, { kept: later(60_000).toISOString(), k1: later(3600_000).toISOString() });
  assert.deepEqual(
    kube.calls.filter((c) => c.resource === 'configmaps').map((c) => c.verb),
    ['create', 'get', 'replace', 'get', 'replace'],
    'read again after the conflict',
  );
});

test('the ConfigMap write gives up after repeated conflicts, and names a missing ConfigMap', async () => {
  const kube = new FakeKube();
  const ref = { namespace: 'netwatch-system', name: SESSIONS_CONFIGMAP };
  await assert.rejects(configMapWriter(kube, ref).record('k', later(1000)), /ConfigMap netwatch-system\/netwatch-webui-sessions does not exist/);
  await kube.create('configmaps', { metadata: { ...ref } });
  for (let i = 0; i < 5; i++) kube.injectFault((c) => c.verb === 'replace', new KubeError(409, 'Conflict', 'modified'));
  await assert.rejects(configMapWriter(kube, ref).record('k', later(1000)), /modified/);
  const forbidden = new KubeError(403, 'Forbidden', 'configmaps "netwatch-webui-sessions" is forbidden');
  kube.injectFault((c) => c.verb === 'replace', forbidden);
  await assert.rejects(configMapWriter(kube, ref).record('k', later(1000)), /forbidden/, 'no retry for other errors');
});
