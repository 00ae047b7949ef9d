// Fixture builders for the notifier's unit tests (the product never imports this file; scripts/imports.test.ts
// checks that): AccessRequests as the controller leaves them in each phase.
import type { AccessRequest, AccessRequestStatus, Approval, Condition, Decision } from '../lib/api/accessrequest.ts';
import { serviceSpec } from '../lib/domain/testing.ts';

export const T0 = Date.parse('2030-01-01T10:00:00Z');

export interface RequestFixture {
  name?: string;
  phase?: AccessRequestStatus['phase'];
  /** Parts the requester could approve at creation. */
  approvedAtCreation?: Approval['part'][];
  /** Approvals given later: part and ms after T0. */
  approvals?: { part: Approval['part']; by: string; atMs: number }[];
  decision?: Decision;
  ready?: boolean;
  approvedAtMs?: number;
  expiresAtMs?: number;
  endedAtMs?: number;
  endedReason?: string;
  endedMessage?: string;
  reason?: string;
  username?: string;
  annotations?: Record<string, string>;
}

/** Times are ms after `t0`, the request's creation. A Service request monitoring/prometheus → default/database (two parts: source in monitoring, target in default). */
export function requestFixture(f: RequestFixture = {}, t0 = T0): AccessRequest {
  const at = (ms: number): string => new Date(t0 + ms).toISOString();
  const requester = f.username ?? 'alice@example.com';
  const approvals: Approval[] = [
    ...(f.approvedAtCreation ?? []).map((part) => ({ part, namespace: part === 'source' ? 'monitoring' : 'default', by: requester, at: at(0) })),
    ...(f.approvals ?? []).map((a) => ({ part: a.part, namespace: a.part === 'source' ? 'monitoring' : 'default', by: a.by, at: at(a.atMs) })),
  ];
  const conditions: Condition[] = [];
  if (f.ready !== undefined) conditions.push({ type: 'Ready', status: f.ready ? 'True' : 'False', reason: f.ready ? 'InForce' : 'Materializing', message: f.ready ? 'maxtac wrote the NetworkPolicy of every part.' : 'waiting for maxtac', lastTransitionTime: at(0) });
  if (f.endedAtMs !== undefined) conditions.push({ type: 'Ended', status: 'True', reason: f.endedReason ?? f.phase ?? 'Ended', message: f.endedMessage ?? '', lastTransitionTime: at(f.endedAtMs) });
  const status: AccessRequestStatus | undefined = f.phase
    ? {
        phase: f.phase,
        approvals,
        conditions,
        from: 'monitoring/prometheus',
        to: 'default/database',
        portsSummary: '5432/TCP',
        ...(f.decision ? { decision: f.decision } : {}),
        ...(f.approvedAtMs !== undefined ? { approvedAt: at(f.approvedAtMs) } : {}),
        ...(f.expiresAtMs !== undefined ? { expiresAt: at(f.expiresAtMs) } : {}),
      }
    : undefined;
  return {
    apiVersion: 'netwatch.vtk.io/v1alpha1',
    kind: 'AccessRequest',
    metadata: { name: f.name ?? 'ar-1', uid: 'uid-1', resourceVersion: '1', creationTimestamp: at(0), ...(f.annotations ? { annotations: f.annotations } : {}) },
    spec: { ...serviceSpec({ reason: f.reason ?? 'scrape metrics' }), requester: { username: requester, groups: ['developers'], approvedParts: f.approvedAtCreation ?? [] } },
    ...(status ? { status } : {}),
  };
}
