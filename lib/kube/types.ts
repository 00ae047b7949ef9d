// The minimal shapes of the Kubernetes objects netwatch reads and writes. Only the fields used are typed; the
// objects on the wire carry more, which is why every interface stays open to extra fields through `metadata`.
import type { ObjectMeta } from '../api/accessrequest.ts';

export type { ObjectMeta };

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface NamespacedMeta extends ObjectMeta {
  name?: string;
  namespace?: string;
  ownerReferences?: OwnerReference[];
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: NamespacedMeta;
}

export interface ServicePort {
  name?: string;
  port: number;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  targetPort?: number | string;
  appProtocol?: string;
  nodePort?: number;
}

export interface Service extends KubeObject {
  spec?: {
    type?: string;
    clusterIP?: string;
    clusterIPs?: string[];
    selector?: Record<string, string>;
    ports?: ServicePort[];
    externalName?: string;
  };
}

export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
}

export interface Pod extends KubeObject {
  spec?: { containers?: { name: string; ports?: ContainerPort[] }[] };
  status?: { phase?: string; podIP?: string; podIPs?: { ip: string }[] };
}

export type Namespace = KubeObject;

export interface LabelSelectorRequirement {
  key: string;
  /** In, NotIn, Exists or DoesNotExist. */
  operator: string;
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface NetworkPolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}

export interface NetworkPolicyPort {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}

export interface NetworkPolicy extends KubeObject {
  spec?: {
    podSelector?: LabelSelector;
    policyTypes?: ('Ingress' | 'Egress')[];
    ingress?: { from?: NetworkPolicyPeer[]; ports?: NetworkPolicyPort[] }[];
    egress?: { to?: NetworkPolicyPeer[]; ports?: NetworkPolicyPort[] }[];
  };
}

export const MAXTAC_API_VERSION = 'maxtac.vtk.io/v1alpha1';
export type MaxtacKind = 'Access' | 'ExternalAccess';
export type MaxtacDirection = 'ingress' | 'egress' | 'all';

export interface MaxtacSpec {
  serviceSelector: LabelSelector;
  targets?: { serviceName: string; namespace: string }[];
  targetCIDRs?: string[];
  direction: MaxtacDirection;
  duration?: string;
}

export interface MaxtacObject extends KubeObject {
  apiVersion: typeof MAXTAC_API_VERSION;
  kind: MaxtacKind;
  spec: MaxtacSpec;
}

export interface Lease extends KubeObject {
  spec?: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number;
    acquireTime?: string | null;
    renewTime?: string | null;
    leaseTransitions?: number;
  };
}

export interface CoreEvent extends KubeObject {
  involvedObject: { apiVersion: string; kind: string; name: string; uid?: string; namespace?: string; resourceVersion?: string };
  reason: string;
  message: string;
  type: 'Normal' | 'Warning';
  source?: { component: string };
  reportingComponent?: string;
  reportingInstance?: string;
  firstTimestamp?: string;
  lastTimestamp?: string;
  eventTime?: string | null;
  count?: number;
  action?: string;
}

/** One rule of a Role or ClusterRole (rbac.authorization.k8s.io/v1). */
export interface PolicyRule {
  verbs?: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

/** A Role (namespaced) or ClusterRole; a ClusterRole's aggregated rules are already in `rules` (the API server's). */
export interface RbacRole extends KubeObject {
  rules?: PolicyRule[] | null;
}

export interface RbacSubject {
  kind: string;
  name: string;
  namespace?: string;
  apiGroup?: string;
}

/** A RoleBinding (namespaced) or ClusterRoleBinding. */
export interface RbacBinding extends KubeObject {
  roleRef: { apiGroup?: string; kind: string; name: string };
  subjects?: RbacSubject[] | null;
}
