// Helpers of the controller end-to-end suites: the admin acts through the real API server; without the webhook
// the admin writes spec.requester and status.approvals itself (the admin is not restricted then).
import { randomBytes } from 'node:crypto';
import type { ControlPlane } from '../../scripts/controlplane.ts';
import { HttpKube } from '../../lib/kube/http.ts';
import type { AccessRequest, AccessRequestSpec, Approval, Decision } from '../../lib/api/accessrequest.ts';
import type { KubeObject, MaxtacObject, NetworkPolicy, Service } from '../../lib/kube/types.ts';
import { LABEL_REQUEST_ID } from '../../lib/api/markers.ts';
import { requestHash, requestHashOfMaxtacName } from '../../lib/domain/names.ts';
import type { Resource } from '../../lib/kube/port.ts';
import { resourcePath } from '../../lib/kube/http.ts';

export function suffix(): string {
  return randomBytes(3).toString('hex');
}

export class Admin {
  readonly kube: HttpKube;
  constructor(cp: ControlPlane) {
    this.kube = new HttpKube(cp.admin, { maxSockets: 16, cached: [] });
  }

  async namespace(name: string, opts: { denyAll?: boolean } = {}): Promise<string> {
    await this.kube.call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    if (opts.denyAll ?? true) {
      // An existing default-deny policy: the pods are isolated already, so netwatch's grants do not cut anything.
      await this.kube.create('networkpolicies', { metadata: { name: 'default-deny', namespace: name }, spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } });
    }
    return name;
  }

  async service(namespace: string, name: string, ports: Service['spec'] extends infer S ? (S extends { ports?: infer P } ? P : never) : never = [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }], extra: Partial<NonNullable<Service['spec']>> = {}): Promise<Service> {
    return this.kube.create<Service>('services', { metadata: { name, namespace }, spec: { selector: { app: name }, ports, ...extra } });
  }

  async request(spec: Omit<AccessRequestSpec, 'reason' | 'requester'> & { reason?: string }, approvals: Approval['part'][] = [], name = `ar-${suffix()}`): Promise<AccessRequest> {
    const created = await this.kube.create<AccessRequest>('accessrequests', requestBody({ reason: 'e2e test', ...spec, requester: { username: 'alice', groups: ['developers'] } }, { name }));
    if (approvals.length > 0) return this.approve(name, approvals);
    return created;
  }

  /** Adds approvals through the status subresource, as the webhook would record them. */
  async approve(name: string, parts: Approval['part'][]): Promise<AccessRequest> {
    return this.retryStatus(name, (ar) => {
      const approvals = [...(ar.status?.approvals ?? [])];
      for (const part of parts) {
        if (approvals.some((a) => a.part === part)) continue;
        const namespace = part === 'source' ? ar.spec.source?.namespace : (ar.spec.target?.namespace ?? ar.spec.service?.namespace);
        approvals.push({ part, namespace: namespace ?? '', by: 'bob', at: new Date().toISOString() });
      }
      return { ...ar, status: { ...(ar.status ?? {}), approvals } };
    });
  }

  async decide(name: string, type: Decision['type']): Promise<AccessRequest> {
    return this.retryStatus(name, (ar) => ({ ...ar, status: { ...(ar.status ?? {}), decision: { type, by: 'bob', at: new Date().toISOString(), reason: 'e2e' } } }));
  }

  private async retryStatus(name: string, change: (ar: AccessRequest) => AccessRequest): Promise<AccessRequest> {
    for (let i = 0; ; i++) {
      const ar = await this.kube.get<AccessRequest>('accessrequests', '', name);
      if (!ar) throw new Error(`AccessRequest ${name} not found`);
      try {
        return await this.kube.replaceStatus<AccessRequest>('accessrequests', change(ar));
      } catch (e) {
        if (i > 20) throw e;
      }
    }
  }

  async get(name: string): Promise<AccessRequest | undefined> {
    return this.kube.get<AccessRequest>('accessrequests', '', name);
  }

  async list<T extends KubeObject>(resource: Resource, labelSelector?: string): Promise<T[]> {
    return (await this.kube.list<T>(resource, '', labelSelector)).items;
  }

  /**
   * Everything netwatch materialized for a request, and the NetworkPolicies maxtac wrote for it. `policies` are
   * those whose owner (our maxtac object) still exists; `orphanPolicies` lost their owner: the garbage collector
   * deletes them through their ownerReference (in a cluster, and in these test clusters unless started without it).
   */
  async materialized(uid: string): Promise<{ clones: Service[]; maxtac: MaxtacObject[]; policies: NetworkPolicy[]; orphanPolicies: NetworkPolicy[] }> {
    const sel = `${LABEL_REQUEST_ID}=${uid}`;
    const clones = await this.list<Service>('services', sel);
    const maxtac = [...(await this.list<MaxtacObject>('accesses', sel)), ...(await this.list<MaxtacObject>('externalaccesses', sel))];
    // Every generation's maxtac names (an extension makes new ones): each carries the request's hash.
    const hash = requestHash(uid);
    const uids = new Set(maxtac.map((m) => m.metadata.uid));
    const all = (await this.list<NetworkPolicy>('networkpolicies')).filter(
      (np) => requestHashOfMaxtacName(np.metadata.labels?.['maxtac.vtk.io.access/owner'] ?? np.metadata.labels?.['maxtac.vtk.io.externalaccess/owner'] ?? '') === hash,
    );
    const owned = (np: NetworkPolicy) => (np.metadata.ownerReferences ?? []).some((o) => uids.has(o.uid));
    return { clones, maxtac, policies: all.filter(owned), orphanPolicies: all.filter((np) => !owned(np)) };
  }

  async events(name: string): Promise<{ reason: string; message: string; type: string }[]> {
    const list = await this.kube.call<{ items: { reason: string; message: string; type: string; involvedObject: { name: string }; firstTimestamp?: string }[] }>('GET', resourcePath('events', 'default'));
    return list.items.filter((e) => e.involvedObject.name === name);
  }

  async close(): Promise<void> {
    await this.kube.stop();
  }
}

export { waitFor } from './wait.ts';
import { waitFor } from './wait.ts';
import { requestBody } from './builders.ts';

export async function waitForPhase(admin: Admin, name: string, phase: string, timeoutMs = 30_000): Promise<AccessRequest> {
  let seen: string | undefined;
  try {
    return await waitFor(`${name} to be ${phase}`, async () => {
      const ar = await admin.get(name);
      seen = ar?.status?.phase;
      return ar?.status?.phase === phase ? ar : undefined;
    }, timeoutMs);
  } catch (e) {
    const ar = await admin.get(name);
    throw new Error(`${(e as Error).message} (last phase ${String(seen)}; status ${JSON.stringify(ar?.status)})`, { cause: e });
  }
}

export async function waitForReady(admin: Admin, name: string, timeoutMs = 30_000): Promise<AccessRequest> {
  return waitFor(`${name} to be Ready`, async () => {
    const ar = await admin.get(name);
    return ar?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? ar : undefined;
  }, timeoutMs);
}
