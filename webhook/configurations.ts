// The Mutating- and ValidatingWebhookConfiguration objects. manifests/webhook/webhooks.yaml is the cluster form
// (a Service reference, caBundle injected by cert-manager); tests register the same rules with a loopback URL.
// configurations.test.ts fails when the two drift apart.
import { GROUP, PLURAL, VERSION } from '../lib/api/accessrequest.ts';
import { ADMISSION_PATHS } from './app.ts';

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
      ],
    },
  ];
}
