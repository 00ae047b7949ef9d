// The webhook's configuration: the cluster's policy on what a request may ask for (lib/domain/spec.ts applies it)
// and who the controller is. options.ts builds it from flags and the environment; tests build it directly.
import { isValidCidr } from '../lib/domain/cidr.ts';
import { DEFAULT_CIDR_DENY_LIST, uniqueCidrs } from '../lib/domain/cidr-policy.ts';
import { parseDuration } from '../lib/domain/duration.ts';
import { formatFieldErrors, type FieldError, type SpecPolicy } from '../lib/domain/spec.ts';

/** The cluster-wide admission policy and the controller's identity. */
export interface WebhookConfig extends SpecPolicy {
  /** The controller's identity: the only user that may write controller-owned status fields. */
  controllerUsername: string;
}

export const DEFAULT_CONTROLLER_USERNAME = 'system:serviceaccount:netwatch-system:netwatch-controller';

export const DEFAULT_WEBHOOK_CONFIG: Readonly<WebhookConfig> = Object.freeze({
  maxDuration: '24h',
  allowUnlimited: false,
  defaultCidrDeny: true,
  cidrDenyList: [...DEFAULT_CIDR_DENY_LIST],
  cidrDenyOverlapping: [],
  controllerUsername: DEFAULT_CONTROLLER_USERNAME,
});

/**
 * The defaults with `overrides` applied; throws when the configuration itself is invalid. `cidrDenyList` entries
 * are added to DEFAULT_CIDR_DENY_LIST, never instead of it: a list that replaced the defaults would let one
 * extra entry silently allow the whole Internet. Only `defaultCidrDeny: false` drops the defaults. The result's
 * cidrDenyList is the complete list (defaults first, duplicates dropped), so feeding a result back in gives it
 * again.
 */
export function webhookConfig(overrides: Partial<WebhookConfig> = {}): WebhookConfig {
  const config: WebhookConfig = {
    ...DEFAULT_WEBHOOK_CONFIG,
    cidrDenyList: [],
    cidrDenyOverlapping: [],
    ...stripUndefined(overrides),
  };
  // Checked before the defaults are added, so that `cidrDenyList[i]` names the caller's own entry.
  const problems = validateConfig(config);
  if (problems.length > 0) throw new Error(`invalid webhook configuration: ${formatFieldErrors(problems)}`);
  config.cidrDenyList = uniqueCidrs([...(config.defaultCidrDeny ? DEFAULT_CIDR_DENY_LIST : []), ...config.cidrDenyList]);
  config.cidrDenyOverlapping = uniqueCidrs(config.cidrDenyOverlapping);
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
  ] as const;
  for (const [key, list] of lists) {
    list.forEach((cidr, i) => {
      if (!isValidCidr(cidr)) errors.push({ field: `${key}[${i}]`, message: 'must be a CIDR with a prefix, e.g. 10.0.0.0/8' });
    });
  }
  if (typeof config.defaultCidrDeny !== 'boolean') errors.push({ field: 'defaultCidrDeny', message: 'must be true or false' });
  if (!config.controllerUsername) errors.push({ field: 'controllerUsername', message: 'must not be empty' });
  return errors;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
