// The CLI's ClusterPort: the list path's KubePort plus the reads only `why` makes. A subclass in a file of its own,
// because every method of KubePort is bundled into the list path (build.ts), which must not grow for them.
import { isNotFound } from '../../../lib/kube/errors.ts';
import type { Namespace, Pod } from '../../../lib/kube/types.ts';
import { KubePort, loadKubeConfig, type KubeOptions } from './kube.ts';
import type { ClusterPort } from './port.ts';

export class CliKubePort extends KubePort implements ClusterPort {
  static override fromOptions(opts: KubeOptions): CliKubePort {
    return new CliKubePort(loadKubeConfig(opts), opts.namespace);
  }

  async listPods(namespace: string): Promise<Pod[]> {
    const list = await this.call<{ items?: Pod[] }>('GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`);
    return list.items ?? [];
  }

  async getNamespace(name: string): Promise<Namespace | null> {
    try {
      return await this.call<Namespace>('GET', `/api/v1/namespaces/${encodeURIComponent(name)}`);
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }
}
