// People acting through the real API server with their own tokens, as the plugin does: requests are created and
// decided by status writes that the webhook judges from the authenticated user.
import type { ControlPlane } from '../../scripts/controlplane.ts';
import { HttpKube } from '../../lib/kube/http.ts';
import { KubeError } from '../../lib/kube/port.ts';
import type { AccessRequest, AccessRequestSpec, DecisionType, PartName } from '../../lib/api/accessrequest.ts';
import { requestBody } from './builders.ts';

export class Users {
  private readonly clients = new Map<string, HttpKube>();

  constructor(private readonly cp: ControlPlane) {}

  /** A client with `user`'s own credentials (`admin` is the control plane's administrator). */
  as(user: string): HttpKube {
    let kube = this.clients.get(user);
    if (!kube) {
      kube = new HttpKube(user === 'admin' ? this.cp.admin : this.cp.kubeConfigFor(user), { cached: [], maxSockets: 4 });
      this.clients.set(user, kube);
    }
    return kube;
  }

  async createRequest(user: string, spec: AccessRequestSpec, metadata: Partial<AccessRequest['metadata']> = {}): Promise<AccessRequest> {
    return this.as(user).create<AccessRequest>('accessrequests', requestBody(spec, { generateName: 'e2e-', ...metadata }));
  }

  /**
   * What the webhooks would make of `spec` from `user` now (their stamps, or the refusal as a KubeError), nothing
   * stored: suites wait on it until the webhook's informers have caught up with a change.
   */
  async dryRunRequest(user: string, spec: AccessRequestSpec): Promise<AccessRequest> {
    return this.as(user).call<AccessRequest>('POST', '/apis/netwatch.vtk.io/v1alpha1/accessrequests?dryRun=All', requestBody(spec, { generateName: 'probe-' }));
  }

  /** Read-modify-write of the status, as the plugin does it: the controller writes status too, so retry a Conflict. */
  async writeStatus(user: string, name: string, change: (ar: AccessRequest) => AccessRequest['status']): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const ar = await this.as(user).get<AccessRequest>('accessrequests', '', name);
      if (!ar) throw new Error(`${name} is gone`);
      try {
        await this.as(user).replaceStatus('accessrequests', { ...ar, status: change(ar) });
        return;
      } catch (err) {
        if (!(err instanceof KubeError && err.status === 409 && err.reason === 'Conflict') || attempt > 10) throw err;
      }
    }
  }

  async approve(user: string, name: string, part: PartName, namespace: string): Promise<void> {
    await this.writeStatus(user, name, (ar) => ({ ...ar.status, approvals: [...(ar.status?.approvals ?? []), { part, namespace }] }));
  }

  /** Asks for `duration` more on an Active grant (status.extensions): the webhook stamps who and when. */
  async extend(user: string, name: string, duration: string, reason?: string): Promise<void> {
    await this.writeStatus(user, name, (ar) => ({ ...ar.status, extensions: [...(ar.status?.extensions ?? []), { duration, ...(reason ? { reason } : {}) }] }));
  }

  /** Approves one part of extension `extension` (status.extensionApprovals). */
  async approveExtension(user: string, name: string, extension: number, part: PartName, namespace: string): Promise<void> {
    await this.writeStatus(user, name, (ar) => ({ ...ar.status, extensionApprovals: [...(ar.status?.extensionApprovals ?? []), { extension, part, namespace }] }));
  }

  /** Deny, abort or revoke: the webhook stamps who and when. */
  async decide(user: string, name: string, type: DecisionType, reason?: string): Promise<void> {
    await this.writeStatus(user, name, (ar) => ({ ...ar.status, decision: { type, ...(reason ? { reason } : {}) } }));
  }

  async close(): Promise<void> {
    for (const c of this.clients.values()) await c.stop();
    this.clients.clear();
  }
}
