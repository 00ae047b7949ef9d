// Spec fixtures for the tests of the domain core and of the webhook that applies it: a valid request of each type,
// with any field overridden.
import type { AccessRequestSpec } from '../api/accessrequest.ts';

export function serviceSpec(overrides: Partial<AccessRequestSpec> = {}): AccessRequestSpec {
  return {
    type: 'Service',
    source: { namespace: 'monitoring', service: 'prometheus' },
    target: { namespace: 'default', service: 'database' },
    ports: [{ port: 5432, protocol: 'TCP' }],
    duration: '2h',
    reason: 'scrape metrics',
    ...overrides,
  };
}

export function externalSpec(overrides: Partial<AccessRequestSpec> = {}): AccessRequestSpec {
  return {
    type: 'External',
    service: { namespace: 'shop', name: 'frontend' },
    cidrs: ['203.0.113.7/32'],
    direction: 'ingress',
    ports: [{ port: 443, protocol: 'TCP' }],
    duration: '30m',
    reason: 'partner integration test',
    ...overrides,
  };
}
