// An in-memory ClusterPort for unit tests of services, commands and the TUI. It is not an API server: it
// stores what it is given, answers permission checks from a table, and records every write for assertions.
import type { AccessRequest } from '../../lib/api/accessrequest.ts';
import type { ResourceCheck } from '../../lib/domain/parts.ts';
import type { KubeObject, Namespace, Pod, Service } from '../../lib/kube/types.ts';
import { KubeError } from '../../lib/kube/errors.ts';
import type { ClusterPort, DetailKind, Identity, RequestList, WatchEvent } from '../../plugin/src/services/port.ts';

export interface FakeOptions {
  me?: Identity;
  requests?: AccessRequest[];
  services?: Service[];
  namespaces?: string[];
  /** `verb group/resource ns` keys that are allowed, e.g. `approve netwatch.vtk.io/accessrequests shop`. */
  allowed?: string[];
  objects?: { kind: DetailKind; namespace: string; object: KubeObject }[];
  pods?: Pod[];
  /** Labels of namespaces (a namespace listed here exists). */
  namespaceLabels?: Record<string, Record<string, string>>;
  /** Reads the API server refuses, as `verb resource namespace`: `list pods shop`, `get namespaces shop`. */
  forbidden?: string[];
  /** Make every call fail with this error. */
  failWith?: Error;
}

export function checkKey(c: ResourceCheck): string {
  return `${c.verb} ${c.group ? `${c.group}/` : ''}${c.resource} ${c.namespace}`;
}

export class FakePort implements ClusterPort {
  readonly info = { context: 'fake', server: 'https://fake', namespace: 'default' };
  readonly writes: { kind: 'create' | 'status'; name: string; body: unknown }[] = [];
  readonly checks: string[] = [];
  requests = new Map<string, AccessRequest>();
  private watchers = new Set<(e: WatchEvent) => void>();
  private rv = 1;
  private seq = 0;

  constructor(private readonly opts: FakeOptions = {}) {
    for (const r of opts.requests ?? []) this.requests.set(r.metadata.name ?? '', { ...r, metadata: { resourceVersion: String(this.rv++), ...r.metadata } });
  }

  private fail(read?: string): void {
    if (this.opts.failWith) throw this.opts.failWith;
    if (read && (this.opts.forbidden ?? []).includes(read)) {
      const [verb, resource, ns] = read.split(' ');
      throw new KubeError(403, 'Forbidden', `${resource ?? ''} is forbidden: User "alice" cannot ${verb ?? ''} resource "${resource ?? ''}" in the namespace "${ns ?? ''}"`);
    }
  }

  async whoAmI(): Promise<Identity> {
    this.fail();
    return this.opts.me ?? { username: 'alice', groups: ['developers'] };
  }

  async listRequests(): Promise<RequestList> {
    this.fail();
    return { items: [...this.requests.values()], resourceVersion: String(this.rv) };
  }

  async getRequest(name: string): Promise<AccessRequest> {
    this.fail();
    const r = this.requests.get(name);
    if (!r) throw new KubeError(404, 'NotFound', `accessrequests.netwatch.vtk.io "${name}" not found`);
    return structuredClone(r);
  }

  async createRequest(body: AccessRequest, opts: { dryRun?: boolean } = {}): Promise<AccessRequest> {
    this.fail();
    const name = body.metadata.name ?? `${body.metadata.generateName ?? 'ar-'}${String(++this.seq).padStart(5, '0')}`;
    const me = await this.whoAmI();
    const created: AccessRequest = {
      ...structuredClone(body),
      metadata: { ...body.metadata, name, uid: `uid-${name}`, resourceVersion: String(this.rv++), creationTimestamp: new Date(0).toISOString() },
      spec: { ...body.spec, requester: { username: me.username, groups: me.groups, approvedParts: [] } },
    };
    if (!opts.dryRun) {
      this.writes.push({ kind: 'create', name, body });
      this.requests.set(name, created);
      this.emit({ type: 'ADDED', object: created });
    }
    return created;
  }

  async patchStatus(name: string, resourceVersion: string, status: Record<string, unknown>): Promise<AccessRequest> {
    this.fail();
    const r = this.requests.get(name);
    if (!r) throw new KubeError(404, 'NotFound', `accessrequests.netwatch.vtk.io "${name}" not found`);
    if (r.metadata.resourceVersion !== resourceVersion) throw new KubeError(409, 'Conflict', 'the object has been modified');
    this.writes.push({ kind: 'status', name, body: structuredClone(status) });
    const next: AccessRequest = { ...r, metadata: { ...r.metadata, resourceVersion: String(this.rv++) }, status: { ...r.status, ...structuredClone(status) } };
    // Entries appended to the extension lists get who and when, as the mutating webhook stamps them.
    const by = (await this.whoAmI()).username;
    const at = new Date(0).toISOString();
    for (const e of (next.status?.extensions ?? []).slice(r.status?.extensions?.length ?? 0)) Object.assign(e, { requestedBy: by, at });
    for (const e of (next.status?.extensionApprovals ?? []).slice(r.status?.extensionApprovals?.length ?? 0)) Object.assign(e, { by, at });
    this.requests.set(name, next);
    this.emit({ type: 'MODIFIED', object: next });
    return next;
  }

  /** Replaces a request as if another client (the controller, another user) changed it. */
  put(r: AccessRequest): void {
    const next = { ...r, metadata: { ...r.metadata, resourceVersion: String(this.rv++) } };
    const type = this.requests.has(r.metadata.name ?? '') ? 'MODIFIED' : 'ADDED';
    this.requests.set(r.metadata.name ?? '', next);
    this.emit({ type, object: next });
  }

  private emit(e: WatchEvent): void {
    for (const w of this.watchers) w(e);
  }

  watchRequests(_rv: string, onEvent: (e: WatchEvent) => void, onEnd: (err?: Error) => void) {
    this.watchers.add(onEvent);
    return {
      stop: () => {
        this.watchers.delete(onEvent);
        onEnd();
      },
    };
  }

  async canI(checks: readonly ResourceCheck[]): Promise<boolean[]> {
    this.fail();
    return checks.map((c) => {
      this.checks.push(checkKey(c));
      return (this.opts.allowed ?? []).includes(checkKey(c));
    });
  }

  async listNamespaces(): Promise<string[]> {
    this.fail();
    return this.opts.namespaces ?? [...new Set((this.opts.services ?? []).map((s) => s.metadata.namespace ?? ''))];
  }

  async listServices(namespace: string): Promise<Service[]> {
    this.fail();
    return (this.opts.services ?? []).filter((s) => s.metadata.namespace === namespace);
  }

  async getService(namespace: string, name: string): Promise<Service | null> {
    this.fail(`get services ${namespace}`);
    return (this.opts.services ?? []).find((s) => s.metadata.namespace === namespace && s.metadata.name === name) ?? null;
  }

  async listLabelled(kind: DetailKind, namespace: string, labelSelector: string): Promise<KubeObject[]> {
    this.fail(`list ${kind} ${namespace}`);
    const [k, v] = labelSelector.split('=');
    return (this.opts.objects ?? [])
      .filter((o) => o.kind === kind && o.namespace === namespace)
      .map((o) => o.object)
      .filter((o) => !k || o.metadata.labels?.[k] === v);
  }

  async listPods(namespace: string): Promise<Pod[]> {
    this.fail(`list pods ${namespace}`);
    return (this.opts.pods ?? []).filter((p) => p.metadata.namespace === namespace);
  }

  async getNamespace(name: string): Promise<Namespace | null> {
    this.fail(`get namespaces ${name}`);
    const labels = this.opts.namespaceLabels?.[name];
    if (labels) return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels } } };
    return (await this.listNamespaces()).includes(name) ? { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name } } } : null;
  }
}
