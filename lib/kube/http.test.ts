import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { slimPod } from './http.ts';
import type { Pod } from './types.ts';

describe('slimPod: a cached Pod keeps what the NetworkPolicy evaluator reads', () => {
  it('keeps identity, labels, container ports, phase and addresses; drops the rest, in place', () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'db-0', namespace: 'db', uid: 'u1', resourceVersion: '7', labels: { app: 'db' }, annotations: { big: 'x'.repeat(1000) }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: 'u0' }] },
      spec: { containers: [{ name: 'pg', image: 'postgres', env: [{ name: 'A', value: 'b' }], ports: [{ name: 'pg', containerPort: 5432, protocol: 'TCP' }] }], volumes: [] },
      status: { phase: 'Running', podIP: '10.0.0.1', podIPs: [{ ip: '10.0.0.1' }], conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [] },
    } as unknown as Pod;
    const same = pod;
    slimPod(pod);
    assert.equal(pod, same);
    assert.deepEqual(pod, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'db-0', namespace: 'db', uid: 'u1', resourceVersion: '7', labels: { app: 'db' } },
      spec: { containers: [{ name: 'pg', ports: [{ name: 'pg', containerPort: 5432, protocol: 'TCP' }] }] },
      status: { phase: 'Running', podIP: '10.0.0.1', podIPs: [{ ip: '10.0.0.1' }] },
    });
  });

  it('keeps a deletionTimestamp, and a pod with no status yet stays without addresses', () => {
    const pod: Pod = { metadata: { name: 'x', namespace: 'n', deletionTimestamp: '2026-01-01T00:00:00Z' }, spec: { containers: [{ name: 'c' }] } };
    slimPod(pod);
    assert.deepEqual(pod, { metadata: { name: 'x', namespace: 'n', deletionTimestamp: '2026-01-01T00:00:00Z' }, spec: { containers: [{ name: 'c' }] }, status: {} });
  });
});
