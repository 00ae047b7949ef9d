// The Mutating- and ValidatingWebhookConfiguration objects. manifests/webhook/webhooks.yaml is the cluster form
// (a Service reference, caBundle injected by cert-manager); tests register the same rules with a loopback URL.
// configurations.test.ts fails when the two drift apart.
import { GROUP, PLURAL, VERSION } from '../lib/api/accessrequest.ts';
import { ADMISSION_PATHS } from './app.ts';
import { LABEL_MANAGED_BY, MANAGED_BY, MARKER_PREFIX } from '../lib/api/markers.ts';
import { RESERVED_NAME } from './markers.ts';

export const WEBHOOK_CONFIGURATION_NAME = 'netwatch-webhook';
export const TIMEOUT_SECONDS = 10;

export type ClientConfig =
  | { url: string; caBundle?: string }
  | { service: { namespace: string; name: string; path: string; port?: number }; caBundle?: string };

function rules(operations: string[]) {
  return [
    {
      apiGroups: [GROUP],
      apiVersions: [VERSION],
      operations,
      resources: [PLURAL, `${PLURAL}/status`],
      scope: 'Cluster',
    },
  ];
}

const common = {
  admissionReviewVersions: ['v1'],
  // Fail closed: when the webhook is down, no AccessRequest is created, approved or decided.
  failurePolicy: 'Fail',
  sideEffects: 'None',
  matchPolicy: 'Equivalent',
  timeoutSeconds: TIMEOUT_SECONDS,
};

export const MUTATING_RULES = rules(['CREATE', 'UPDATE']);
export const VALIDATING_RULES = rules(['CREATE', 'UPDATE', 'DELETE']);

/** Services and maxtac's namespaced objects: the kinds netwatch materializes. Main resources only (see markers.ts). */
export const MARKER_RULES = [
  { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE', 'DELETE'], resources: ['services'], scope: 'Namespaced' },
  { apiGroups: ['maxtac.vtk.io'], apiVersions: ['v1alpha1'], operations: ['CREATE', 'UPDATE', 'DELETE'], resources: ['accesses', 'externalaccesses'], scope: 'Namespaced' },
];

/**
 * Only writes of objects that carry a netwatch marker or a reserved name, before (oldObject: an update that removes
 * the marker, a delete) or after (object: a create, an update that adds it), reach the webhook; every other Service
 * write in the cluster is decided by the API server alone. An objectSelector cannot say this: it matches labels
 * only, one selector at a time, and no prefix of keys. `object` is null for a DELETE and `oldObject` for a CREATE.
 */
export const MARKER_MATCH_CONDITION = {
  name: 'carries-netwatch-markers',
  expression: [
    '[object, oldObject].exists(o, o != null && (',
    `(has(o.metadata.labels) && o.metadata.labels.exists(k, k.startsWith('${MARKER_PREFIX}') || (k == '${LABEL_MANAGED_BY}' && o.metadata.labels[k] == '${MANAGED_BY}'))) ||`,
    ` (has(o.metadata.annotations) && o.metadata.annotations.exists(k, k.startsWith('${MARKER_PREFIX}'))) ||`,
    ` (has(o.metadata.name) && o.metadata.name.matches('${RESERVED_NAME.source}'))))`,
  ].join(''),
};

/** Both configurations; `clientConfigFor(path)` says where the API server reaches the webhook. */
export function webhookConfigurations(clientConfigFor: (path: string) => ClientConfig) {
  return [
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: WEBHOOK_CONFIGURATION_NAME },
      webhooks: [
        {
          name: `mutate.${PLURAL}.${GROUP}`,
          clientConfig: clientConfigFor(ADMISSION_PATHS.mutate),
          rules: MUTATING_RULES,
          reinvocationPolicy: 'Never',
          ...common,
        },
      ],
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: WEBHOOK_CONFIGURATION_NAME },
      webhooks: [
        {
          name: `validate.${PLURAL}.${GROUP}`,
          clientConfig: clientConfigFor(ADMISSION_PATHS.validate),
          rules: VALIDATING_RULES,
          ...common,
        },
        {
          name: `markers.${GROUP}`,
          clientConfig: clientConfigFor(ADMISSION_PATHS.markers),
          rules: MARKER_RULES,
          matchConditions: [MARKER_MATCH_CONDITION],
          ...common,
        },
      ],
    },
  ];
}
