// Prometheus metrics on the controller's own registry (never the global one: several controllers may share a
// process in tests).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ControllerMetrics {
  registry: Registry;
  reconciles: Counter<'kind' | 'result'>;
  errors: Counter<'kind'>;
  queueDepth: Gauge;
  activeAccesses: Gauge;
  approvalToActive: Histogram;
  reconcileDuration: Histogram<'kind'>;
  isLeader: Gauge;
  /** Read at scrape time; the controller installs its own. */
  sources: { queueDepth: () => number; activeAccesses: () => number };
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): ControllerMetrics {
  const registry = new Registry();
  const sources = { queueDepth: () => 0, activeAccesses: () => 0 };
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'netwatch_controller_' });
  return {
    registry,
    reconciles: new Counter({ name: 'netwatch_controller_reconciles_total', help: 'Reconciles by kind of key and result (success, requeue, error).', labelNames: ['kind', 'result'], registers: [registry] }),
    errors: new Counter({ name: 'netwatch_controller_reconcile_errors_total', help: 'Reconciles that failed with an unexpected error.', labelNames: ['kind'], registers: [registry] }),
    queueDepth: new Gauge({ name: 'netwatch_controller_queue_depth', help: 'Keys waiting in the work queue.', registers: [registry], collect() { this.set(sources.queueDepth()); } }),
    activeAccesses: new Gauge({ name: 'netwatch_controller_active_accesses', help: 'AccessRequests in phase Active.', registers: [registry], collect() { this.set(sources.activeAccesses()); } }),
    approvalToActive: new Histogram({
      name: 'netwatch_controller_approval_to_active_seconds',
      help: 'Time from full approval to the Active status being written.',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    reconcileDuration: new Histogram({ name: 'netwatch_controller_reconcile_duration_seconds', help: 'Reconcile duration.', labelNames: ['kind'], buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5], registers: [registry] }),
    isLeader: new Gauge({ name: 'netwatch_controller_is_leader', help: '1 while this replica holds the leader lease.', registers: [registry] }),
    sources,
  };
}
