// ClusterPort over the Kubernetes transport (lib/kube/transport.ts) with the user's kubeconfig. Only KubeConfig is
// used from @kubernetes/client-node (to load the file, pick the context and apply its credentials, exec plugins
// included), which keeps `list -o json` from loading the generated API clients at all (see build.ts).
import { readFileSync } from 'node:fs';
import { delimiter, dirname } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { newClusters, newContexts, newUsers } from '@kubernetes/client-node/dist/config_types.js';
import { GROUP, PLURAL, VERSION, type AccessRequest } from '../../../lib/api/accessrequest.ts';
import type { ResourceCheck } from '../../../lib/domain/parts.ts';
import { isNotFound } from '../../../lib/kube/errors.ts';
import { KubeTransport, type CallOptions, type Method } from '../../../lib/kube/transport.ts';
import { MAXTAC_GROUP } from '../../../lib/domain/parts.ts';
import type { KubeObject, Service } from '../../../lib/kube/types.ts';
import { UserError } from '../errors.ts';
import type { ContextInfo, DetailKind, Identity, ListPort, RequestList, Watch, WatchEvent } from './port.ts';

export interface KubeOptions {
  kubeconfig?: string | undefined;
  context?: string | undefined;
  namespace?: string | undefined;
}

const AR_PATH = `/apis/${GROUP}/${VERSION}/${PLURAL}`;

/** Loads the user's kubeconfig the way kubectl does: --kubeconfig, else $KUBECONFIG, else ~/.kube/config. */
export function loadKubeConfig(opts: KubeOptions): KubeConfig {
  const kc = new KubeConfig();
  try {
    const single = opts.kubeconfig ?? singleDefaultFile();
    if (single) loadFile(kc, single);
    else kc.loadFromDefault();
  } catch (err) {
    throw new UserError(
      `cannot read kubeconfig${opts.kubeconfig ? ` ${opts.kubeconfig}` : ''}: ${(err as Error).message}`,
      'pass --kubeconfig PATH or set KUBECONFIG',
    );
  }
  if (opts.context) {
    if (!kc.getContexts().some((c) => c.name === opts.context)) {
      throw new UserError(`context "${opts.context}" does not exist in the kubeconfig`, 'list contexts with: kubectl config get-contexts');
    }
    kc.setCurrentContext(opts.context);
  }
  if (!kc.getCurrentCluster()) {
    throw new UserError('the kubeconfig has no current context or cluster', 'pick one with --context or: kubectl config use-context NAME');
  }
  return kc;
}

/** The one kubeconfig file loadFromDefault would read, when it is exactly one file (no KUBECONFIG merge list). */
function singleDefaultFile(): string | undefined {
  const env = process.env.KUBECONFIG;
  if (env) {
    const files = env.split(delimiter).filter(Boolean);
    return files.length === 1 ? files[0] : undefined;
  }
  return undefined;
}

// A kubeconfig written as JSON (valid YAML, and what many tools write) is parsed with JSON.parse: the YAML
// parser is slow on long double-quoted base64 strings, tens of milliseconds of every command's start-up.
function loadFile(kc: KubeConfig, file: string): void {
  const text = readFileSync(file, 'utf8');
  if (!/^\s*\{/.test(text)) return kc.loadFromFile(file);
  const obj = JSON.parse(text) as { clusters?: unknown; users?: unknown; contexts?: unknown; 'current-context'?: string };
  kc.loadFromOptions({
    clusters: newClusters(obj.clusters),
    users: newUsers(obj.users),
    contexts: newContexts(obj.contexts),
    currentContext: obj['current-context'],
  });
  kc.makePathsAbsolute(dirname(file));
}

/** The `exp` claim of a JWT (seconds since the epoch), or undefined when it is not a JWT with one. */
export function jwtExpiry(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp : undefined;
  } catch {
    return undefined;
  }
}

export class KubePort implements ListPort {
  readonly info: ContextInfo;
  private readonly transport: KubeTransport;

  constructor(private readonly kc: KubeConfig, namespace?: string) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new UserError('the kubeconfig has no current cluster', 'pick one with --context');
    this.transport = new KubeTransport(kc, { userAgent: 'kubectl-netwatch' });
    const ctx = kc.getContextObject(kc.getCurrentContext());
    this.info = { context: kc.getCurrentContext(), server: cluster.server.replace(/\/+$/, ''), namespace: namespace || ctx?.namespace || 'default' };
  }

  static fromOptions(opts: KubeOptions): KubePort {
    return new KubePort(loadKubeConfig(opts), opts.namespace);
  }

  /**
   * Whether the current context needs client-node's rarely used parts: the legacy `oidc` auth-provider
   * (openid-client) or a SOCKS `proxy-url` (socks). The list path's bundle leaves them out (build.ts), so for
   * such a kubeconfig it hands the command to the full CLI.
   */
  usesRareClientParts(): boolean {
    return this.authProvider()?.name === 'oidc' || /^socks/i.test(this.kc.getCurrentCluster()?.proxyUrl ?? '');
  }

  /** The current user's legacy auth-provider entry, if it has one (client-node types it loosely). */
  private authProvider(): { name?: string; config?: Record<string, unknown> } | undefined {
    return this.kc.getCurrentUser()?.authProvider as { name?: string; config?: Record<string, unknown> } | undefined;
  }

  /**
   * The legacy `oidc` auth-provider's ID token when it cannot be used as it is: missing, or expired. client-node
   * would refresh it, but cannot write the new tokens back to the kubeconfig as kubectl does (and its refresh fails
   * with openid-client 6); with rotating refresh tokens, a refresh that is not saved also spends the one kubectl
   * holds. So the plugin leaves refreshing to kubectl, which saves what it gets, and says so.
   */
  private unusableOidcToken(): string | undefined {
    const provider = this.authProvider();
    if (provider?.name !== 'oidc') return undefined;
    const token = provider.config?.['id-token'];
    if (typeof token !== 'string' || token === '') return 'the kubeconfig has no ID token for its oidc auth-provider yet';
    const exp = jwtExpiry(token);
    return exp !== undefined && exp * 1000 <= Date.now() ? `the ID token of the kubeconfig's oidc auth-provider expired at ${new Date(exp * 1000).toISOString()}` : undefined;
  }

  /** Refuses, before anything is sent, a legacy oidc token that cannot work (unusableOidcToken). */
  private checkOidc(): void {
    const problem = this.unusableOidcToken();
    if (problem) throw new UserError(problem, 'kubectl refreshes and saves it: run any kubectl command (kubectl get --raw /version), then retry');
  }

  protected async call<T>(method: Method, path: string, body?: unknown, contentType?: string): Promise<T> {
    this.checkOidc();
    const opts: CallOptions = { body };
    if (contentType) opts.contentType = contentType;
    return this.transport.request<T>(method, path, opts);
  }

  async whoAmI(): Promise<Identity> {
    const review = await this.call<{ status?: { userInfo?: { username?: string; uid?: string; groups?: string[] } } }>(
      'POST',
      '/apis/authentication.k8s.io/v1/selfsubjectreviews',
      { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
    );
    const u = review.status?.userInfo ?? {};
    return { username: u.username ?? '', ...(u.uid ? { uid: u.uid } : {}), groups: u.groups ?? [] };
  }

  async listRequests(): Promise<RequestList> {
    const list = await this.call<{ items?: AccessRequest[]; metadata?: { resourceVersion?: string } }>('GET', AR_PATH);
    return { items: list.items ?? [], resourceVersion: list.metadata?.resourceVersion ?? '' };
  }

  /** The API server's list, byte for byte: `list -o json` prints this without a parse/serialize round trip cost. */
  async listRequestsRaw(): Promise<string> {
    this.checkOidc();
    return this.transport.text('GET', AR_PATH);
  }

  getRequest(name: string): Promise<AccessRequest> {
    return this.call('GET', `${AR_PATH}/${encodeURIComponent(name)}`);
  }

  createRequest(body: AccessRequest, opts: { dryRun?: boolean } = {}): Promise<AccessRequest> {
    return this.call('POST', `${AR_PATH}?fieldManager=kubectl-netwatch${opts.dryRun ? '&dryRun=All' : ''}`, body);
  }

  patchStatus(name: string, resourceVersion: string, status: Record<string, unknown>): Promise<AccessRequest> {
    return this.call(
      'PATCH',
      `${AR_PATH}/${encodeURIComponent(name)}/status?fieldManager=kubectl-netwatch`,
      { metadata: { resourceVersion }, status },
      'application/merge-patch+json',
    );
  }

  watchRequests(resourceVersion: string, onEvent: (e: WatchEvent) => void, onEnd: (err?: Error) => void): Watch {
    const path = `${AR_PATH}?watch=1&allowWatchBookmarks=true&resourceVersion=${encodeURIComponent(resourceVersion)}`;
    try {
      this.checkOidc();
    } catch (err) {
      // As every other end of a watch: after watchRequests returned.
      queueMicrotask(() => onEnd(err as Error));
      return { stop: () => undefined };
    }
    return this.transport.watch<AccessRequest>(
      path,
      (e) => {
        if (e.type !== 'BOOKMARK') onEvent({ type: e.type, object: e.object });
      },
      onEnd,
    );
  }

  async canI(checks: readonly ResourceCheck[]): Promise<boolean[]> {
    return Promise.all(
      checks.map(async (c) => {
        const review = await this.call<{ status?: { allowed?: boolean } }>('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: { resourceAttributes: { verb: c.verb, group: c.group, resource: c.resource, namespace: c.namespace } },
        });
        return review.status?.allowed === true;
      }),
    );
  }

  async listNamespaces(): Promise<string[]> {
    const list = await this.call<{ items?: KubeObject[] }>('GET', '/api/v1/namespaces');
    return (list.items ?? []).map((n) => n.metadata.name ?? '').filter(Boolean);
  }

  async listServices(namespace: string): Promise<Service[]> {
    const list = await this.call<{ items?: Service[] }>('GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}/services`);
    return list.items ?? [];
  }

  async getService(namespace: string, name: string): Promise<Service | null> {
    try {
      return await this.call<Service>('GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(name)}`);
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async listLabelled(kind: DetailKind, namespace: string, labelSelector: string): Promise<KubeObject[]> {
    const base = {
      services: '/api/v1',
      networkpolicies: '/apis/networking.k8s.io/v1',
      accesses: `/apis/${MAXTAC_GROUP}/v1alpha1`,
      externalaccesses: `/apis/${MAXTAC_GROUP}/v1alpha1`,
    }[kind];
    const selector = labelSelector ? `?labelSelector=${encodeURIComponent(labelSelector)}` : '';
    const list = await this.call<{ items?: KubeObject[] }>('GET', `${base}/namespaces/${encodeURIComponent(namespace)}/${kind}${selector}`);
    return list.items ?? [];
  }
}
