// The shared list of ended sessions as one ConfigMap, written and watched with the web UI's own ServiceAccount
// (never as a user: signing out must work for everyone). The manifests create the ConfigMap; the web UI may only
// read, watch and update that one object (manifests/webui/rbac.yaml), so a write is a read-modify-write with the
// resourceVersion as precondition, again on conflict when two replicas sign people out at once.
import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { HttpKube, resourcePath } from '../lib/kube/http.ts';
import { isConflict, type KubePort } from '../lib/kube/port.ts';
import type { KubeObject } from '../lib/kube/types.ts';
import { SessionRevocations, withRevocation, type RevocationFeed, type RevocationSink, type RevocationWriter } from './revocations.ts';

export const SESSIONS_CONFIGMAP = 'netwatch-webui-sessions';
/** Where the ConfigMap is when neither the ServiceAccount nor the kubeconfig says which namespace the web UI runs in. */
export const DEFAULT_NAMESPACE = 'netwatch-system';

const WRITE_ATTEMPTS = 5;
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 30_000;

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}
/** The same, as client-node's informer types it. */
type Watched = KubernetesObject & { data?: Record<string, string> };

export interface ConfigMapRef {
  namespace: string;
  name: string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function configMapWriter(kube: Pick<KubePort, 'get' | 'replace'>, ref: ConfigMapRef, now: () => Date = () => new Date()): RevocationWriter {
  return {
    async record(key, expiresAt) {
      for (let attempt = 1; ; attempt++) {
        const cm = await kube.get<ConfigMap>('configmaps', ref.namespace, ref.name);
        if (!cm) throw new Error(`ConfigMap ${ref.namespace}/${ref.name} does not exist (the manifests create it: manifests/webui/sessions.yaml)`);
        try {
          await kube.replace<ConfigMap>('configmaps', { ...cm, data: withRevocation(cm.data ?? {}, key, expiresAt, now()) });
          return;
        } catch (err) {
          if (!isConflict(err) || attempt >= WRITE_ATTEMPTS) throw err;
          // Another replica wrote in between: read again, after a pause that keeps both from colliding once more.
          await sleep(Math.random() * 50 * attempt);
        }
      }
    },
  };
}

/**
 * Lists and watches the one ConfigMap (a field selector on its name, which RBAC's resourceNames can authorize).
 * After any failure the list is read afresh by a new informer: only a successful list says the data is current.
 */
export function configMapFeed(kc: KubeConfig, kube: HttpKube, ref: ConfigMapRef): RevocationFeed {
  const path = resourcePath('configmaps', ref.namespace);
  const fieldSelector = `metadata.name=${ref.name}`;
  let informer: ListWatch<Watched> | undefined;
  let retry: NodeJS.Timeout | undefined;
  let stopped = false;
  let delay = RETRY_MIN_MS;

  function run(sink: RevocationSink): void {
    const list = async () => {
      const found = await kube.call<KubernetesListObject<Watched>>('GET', `${path}?fieldSelector=${encodeURIComponent(fieldSelector)}`);
      delay = RETRY_MIN_MS;
      // A missing ConfigMap is an empty list (nothing revoked yet, or an administrator deleted it).
      sink.list(found.items.find((cm) => cm.metadata?.name === ref.name)?.data ?? {});
      return found;
    };
    const lw = new ListWatch<Watched>(path, new Watch(kc), list, false, undefined, fieldSelector);
    const fail = (err: unknown) => {
      if (stopped || informer !== lw) return;
      informer = undefined;
      sink.failed(err);
      void lw.stop();
      retry = setTimeout(() => {
        if (!stopped) run(sink);
      }, delay);
      delay = Math.min(delay * 2, RETRY_MAX_MS);
    };
    const changed = (cm: Watched) => sink.list(cm.data ?? {});
    lw.on('add', changed);
    lw.on('update', changed);
    lw.on('delete', () => sink.list({}));
    lw.on('error', fail);
    informer = lw;
    lw.start().catch(fail);
  }

  return {
    start(sink) {
      stopped = false;
      run(sink);
    },
    async stop() {
      stopped = true;
      clearTimeout(retry);
      await informer?.stop();
      informer = undefined;
      await kube.stop();
    },
  };
}

/**
 * The revocation list of a web UI whose own connection is `kc`: the ConfigMap in the web UI's namespace (the
 * in-cluster ServiceAccount's, or the kubeconfig context's), else in netwatch-system.
 */
export function configMapRevocations(kc: KubeConfig, opts: { namespace?: string; now?: () => Date } = {}): SessionRevocations {
  const namespace = opts.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? DEFAULT_NAMESPACE;
  const ref = { namespace, name: SESSIONS_CONFIGMAP };
  const kube = new HttpKube(kc, { cached: [], maxSockets: 4 });
  return new SessionRevocations(configMapWriter(kube, ref, opts.now), configMapFeed(kc, kube, ref), { now: opts.now });
}
