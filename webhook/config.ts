// The webhook's configuration: the cluster's policy on what a request may ask for (lib/domain/spec.ts applies it)
// and who the controller is. options.ts builds it from flags and the environment; tests build it directly.
import { isValidCidr } from '../lib/domain/cidr.ts';
import {
  DEFAULT_CIDR_DENY_LIST,
  DEFAULT_CIDR_DENY_OVERLAPPING,
  DEFAULT_CIDR_MAX_ADDRESSES,
  parseAddressLimit,
  uniqueCidrs,
} from '../lib/domain/cidr-policy.ts';
import { parseDuration } from '../lib/domain/duration.ts';
import type { SpecPolicy } from '../lib/domain/spec.ts';
import { formatFieldErrors, type FieldError } from '../lib/domain/field-error.ts';

/** The cluster-wide admission policy and the controller's identity. */
export interface WebhookConfig extends SpecPolicy {
  /**
   * The controller's identity: the only user that may write controller-owned status fields and netwatch's markers.
   * A ServiceAccount username must come with that namespace's ServiceAccount group, as the API server sends it.
   */
  controllerUsername: string;
  /** Open (not ended) AccessRequests one user may have at once; 0: no limit. */
  maxOpenRequests: number;
  /** Who besides the controller may delete objects carrying netwatch's markers (maxtac at expiry, Kubernetes' cleanup). */
  markerDeleters: string[];
  /** Groups whose members may delete such objects too (cluster administrators cleaning up by hand). */
  markerDeleterGroups: string[];
  /**
   * A request created with a part that nobody but cluster admins may approve (read from RBAC, lib/domain/approvers.ts):
   * refused, accepted with an admission warning, or accepted silently.
   */
  unapprovable: UnapprovablePolicy;
}

export const UNAPPROVABLE_POLICIES = ['refuse', 'warn', 'allow'] as const;
export type UnapprovablePolicy = (typeof UNAPPROVABLE_POLICIES)[number];

export const DEFAULT_CONTROLLER_USERNAME = 'system:serviceaccount:netwatch-system:netwatch-controller';

/**
 * The identities that delete what netwatch made besides the controller itself: maxtac's ServiceAccount as its
 * manifests install it (it deletes its own objects at expiry), and kube-controller-manager's garbage collector and
 * namespace controller, with and without --use-service-account-credentials.
 */
export const DEFAULT_MARKER_DELETERS: readonly string[] = Object.freeze([
  'system:serviceaccount:maxtac-system:maxtac-controller-manager',
  'system:serviceaccount:kube-system:generic-garbage-collector',
  'system:serviceaccount:kube-system:namespace-controller',
  'system:kube-controller-manager',
]);

export const DEFAULT_WEBHOOK_CONFIG: Readonly<WebhookConfig> = Object.freeze({
  maxDuration: '24h',
  allowUnlimited: false,
  defaultCidrDeny: true,
  cidrDenyList: [...DEFAULT_CIDR_DENY_LIST],
  defaultCidrDenyOverlapping: true,
  cidrDenyOverlapping: [...DEFAULT_CIDR_DENY_OVERLAPPING],
  clusterCidrs: [],
  cidrMaxAddressesIPv4: DEFAULT_CIDR_MAX_ADDRESSES.ipv4,
  cidrMaxAddressesIPv6: DEFAULT_CIDR_MAX_ADDRESSES.ipv6,
  controllerUsername: DEFAULT_CONTROLLER_USERNAME,
  maxOpenRequests: 20,
  markerDeleters: [...DEFAULT_MARKER_DELETERS],
  markerDeleterGroups: ['system:masters'],
  unapprovable: 'refuse',
});

/**
 * The defaults with `overrides` applied; throws when the configuration itself is invalid. Deny-list entries are
 * added to the defaults (DEFAULT_CIDR_DENY_LIST, DEFAULT_CIDR_DENY_OVERLAPPING), never put in their place: a list
 * that replaced them would let one extra entry silently allow the whole Internet or the metadata endpoints. Only
 * `defaultCidrDeny: false` / `defaultCidrDenyOverlapping: false` drop them. The result's lists are complete
 * (defaults first, duplicates dropped), so feeding a result back in gives it again.
 */
export function webhookConfig(overrides: Partial<WebhookConfig> = {}): WebhookConfig {
  const config: WebhookConfig = {
    ...DEFAULT_WEBHOOK_CONFIG,
    cidrDenyList: [],
    cidrDenyOverlapping: [],
    clusterCidrs: [],
    markerDeleters: [...DEFAULT_WEBHOOK_CONFIG.markerDeleters],
    markerDeleterGroups: [...DEFAULT_WEBHOOK_CONFIG.markerDeleterGroups],
    ...stripUndefined(overrides),
  };
  // Checked before the defaults are added, so that `cidrDenyList[i]` names the caller's own entry.
  const problems = validateConfig(config);
  if (problems.length > 0) throw new Error(`invalid webhook configuration: ${formatFieldErrors(problems)}`);
  config.cidrDenyList = uniqueCidrs([...(config.defaultCidrDeny ? DEFAULT_CIDR_DENY_LIST : []), ...config.cidrDenyList]);
  config.cidrDenyOverlapping = uniqueCidrs([
    ...(config.defaultCidrDenyOverlapping ? DEFAULT_CIDR_DENY_OVERLAPPING : []),
    ...config.cidrDenyOverlapping,
  ]);
  config.clusterCidrs = uniqueCidrs(config.clusterCidrs);
  return config;
}

export function validateConfig(config: WebhookConfig): FieldError[] {
  const errors: FieldError[] = [];
  const max = parseDuration(config.maxDuration);
  if (typeof max !== 'number' || max <= 0) {
    errors.push({ field: 'maxDuration', message: 'must be a positive duration such as 24h or 90m' });
  }
  const lists = [
    ['cidrDenyList', config.cidrDenyList],
    ['cidrDenyOverlapping', config.cidrDenyOverlapping],
    ['clusterCidrs', config.clusterCidrs],
  ] as const;
  for (const [key, list] of lists) {
    list.forEach((cidr, i) => {
      if (!isValidCidr(cidr)) errors.push({ field: `${key}[${i}]`, message: 'must be a CIDR with a prefix, e.g. 10.0.0.0/8' });
    });
  }
  for (const key of ['defaultCidrDeny', 'defaultCidrDenyOverlapping', 'allowUnlimited'] as const) {
    if (typeof config[key] !== 'boolean') errors.push({ field: key, message: 'must be true or false' });
  }
  for (const [key, family] of [['cidrMaxAddressesIPv4', 4], ['cidrMaxAddressesIPv6', 6]] as const) {
    if (parseAddressLimit(config[key], family) === null) {
      errors.push({
        field: key,
        message: `must be a number of addresses (at least 1) or a prefix length such as ${DEFAULT_CIDR_MAX_ADDRESSES[family === 4 ? 'ipv4' : 'ipv6']} (from /0 to /${family === 4 ? 32 : 128})`,
      });
    }
  }
  if (!config.controllerUsername) errors.push({ field: 'controllerUsername', message: 'must not be empty' });
  if (!(UNAPPROVABLE_POLICIES as readonly string[]).includes(config.unapprovable)) {
    errors.push({ field: 'unapprovable', message: `must be one of ${UNAPPROVABLE_POLICIES.join(', ')}` });
  }
  if (!Number.isInteger(config.maxOpenRequests) || config.maxOpenRequests < 0) {
    errors.push({ field: 'maxOpenRequests', message: 'must be a whole number, 0 for no limit' });
  }
  return errors;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
