// Prometheus metrics on the notifier's own registry (never the global one: tests run several notifiers in one
// process). Sinks are labelled by their configured name: a bounded set an administrator chose, never an address.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const OUTCOMES = ['sent', 'failed', 'dead'] as const;
export type DeliveryOutcome = (typeof OUTCOMES)[number];

export interface NotifierMetrics {
  registry: Registry;
  /** sent: delivered; failed: an attempt failed and will be retried; dead: given up (a Warning Event says so). */
  deliveries: Counter<'sink' | 'outcome'>;
  deliveryDuration: Histogram<'sink'>;
  /** Destinations a route names that cannot be reached (no requester address, a domain not allowed, a bad route). */
  unroutable: Counter<'reason'>;
  reconciles: Counter<'result'>;
  queueDepth: Gauge;
  isLeader: Gauge;
  sources: { queueDepth: () => number };
}

export function createNotifierMetrics(options: { defaultMetrics?: boolean } = {}): NotifierMetrics {
  const registry = new Registry();
  const sources = { queueDepth: () => 0 };
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'netwatch_notifier_' });
  return {
    registry,
    deliveries: new Counter({ name: 'netwatch_notifier_deliveries_total', help: 'Delivery attempts by sink and outcome (sent, failed, dead).', labelNames: ['sink', 'outcome'], registers: [registry] }),
    deliveryDuration: new Histogram({
      name: 'netwatch_notifier_delivery_duration_seconds',
      help: 'Duration of one delivery attempt, by sink.',
      labelNames: ['sink'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    unroutable: new Counter({ name: 'netwatch_notifier_unroutable_total', help: 'Route items that could not be delivered to, by reason.', labelNames: ['reason'], registers: [registry] }),
    reconciles: new Counter({ name: 'netwatch_notifier_reconciles_total', help: 'Reconciles by result (success, requeue, error).', labelNames: ['result'], registers: [registry] }),
    queueDepth: new Gauge({ name: 'netwatch_notifier_queue_depth', help: 'Requests waiting in the work queue.', registers: [registry], collect() { this.set(sources.queueDepth()); } }),
    isLeader: new Gauge({ name: 'netwatch_notifier_is_leader', help: '1 while this replica holds the leader lease.', registers: [registry] }),
    sources,
  };
}
