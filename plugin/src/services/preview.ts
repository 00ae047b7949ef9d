// The request preview (lib/domain/preview.ts) as the plugin reads it: through the user's own port, so RBAC decides
// what is shown and what is named as not readable. describe, request --dry-run and the TUI all ask here.
import type { AccessRequest } from '../../../lib/api/accessrequest.ts';
import { gatherPreviewFacts, previewOf, type PreviewReader, type RequestPreview } from '../../../lib/domain/preview.ts';
import type { ClusterPort } from './port.ts';

export function previewReaderOf(port: ClusterPort): PreviewReader {
  return {
    getService: (namespace, name) => port.getService(namespace, name),
    listPods: (namespace) => port.listPods(namespace),
    listNetworkPolicies: (namespace) => port.listLabelled('networkpolicies', namespace, ''),
  };
}

export interface PreviewOptions {
  /** The cluster's own pod and Service ranges (--cluster-cidr): a requested CIDR inside one is classed `cluster`. */
  clusterCidrs?: readonly string[] | undefined;
}

export async function previewFor(port: ClusterPort, request: AccessRequest, opts: PreviewOptions = {}): Promise<RequestPreview> {
  return previewOf(await gatherPreviewFacts(previewReaderOf(port), request, opts.clusterCidrs ? { clusterCidrs: opts.clusterCidrs } : {}));
}
