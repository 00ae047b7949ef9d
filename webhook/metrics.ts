// Prometheus metrics on a registry of the webhook's own: nothing is registered globally at import time, so tests
// can build many apps in one process.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type WebhookKind = 'mutate' | 'validate' | 'markers';
export type AdmissionOutcome = 'allowed' | 'denied' | 'error';

export interface WebhookMetrics {
  registry: Registry;
  observe(webhook: WebhookKind, operation: string, subresource: string, outcome: AdmissionOutcome, seconds: number): void;
}

export function webhookMetrics(opts: { registry?: Registry; defaultMetrics?: boolean } = {}): WebhookMetrics {
  const registry = opts.registry ?? new Registry();
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'netwatch_webhook_' });
  const requests = new Counter({
    name: 'netwatch_webhook_admission_requests_total',
    help: 'Admission requests answered, by webhook, operation, subresource and result.',
    labelNames: ['webhook', 'operation', 'subresource', 'result'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'netwatch_webhook_admission_duration_seconds',
    help: 'Time to answer an admission request (including SubjectAccessReviews and Service reads), by webhook, operation and result.',
    labelNames: ['webhook', 'operation', 'result'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return {
    registry,
    observe(webhook, operation, subresource, outcome, seconds) {
      requests.inc({ webhook, operation, subresource, result: outcome });
      duration.observe({ webhook, operation, result: outcome }, seconds);
    },
  };
}
