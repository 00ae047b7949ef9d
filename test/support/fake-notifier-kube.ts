// The notifier's kube port over the in-memory fake API server (fake-kube.ts), for unit tests of its logic
// (never for end-to-end tests). The ledger write keeps the API server's precondition: Conflict when the request is
// no longer at the resourceVersion given.
import type { AccessRequest } from '../../lib/api/accessrequest.ts';
import type { FakeKube } from './fake-kube.ts';
import { KubeError } from '../../lib/kube/errors.ts';
import type { KubeObject } from '../../lib/kube/types.ts';
import type { NotifierKube } from '../../notifier/kube.ts';
import { ANNOTATION_LEDGER } from '../../notifier/ledger.ts';

export function fakeNotifierKube(fake: FakeKube): NotifierKube {
  return {
    cache: fake.cache,
    start: () => fake.start(),
    stop: async () => undefined,
    getRequest: (name) => fake.get<AccessRequest & KubeObject>('accessrequests', '', name),
    async namespaceAnnotations(name) {
      const ns = await fake.get('namespaces', '', name);
      return ns ? (ns.metadata.annotations ?? {}) : undefined;
    },
    async writeLedger(name, resourceVersion, value) {
      const current = await fake.get<AccessRequest & KubeObject>('accessrequests', '', name);
      if (!current) throw new KubeError(404, 'NotFound', `accessrequests "${name}" not found`);
      const next = structuredClone(current);
      next.metadata = { ...next.metadata, resourceVersion, annotations: { ...next.metadata.annotations, [ANNOTATION_LEDGER]: value } };
      return fake.replace('accessrequests', next);
    },
    async createEvent(event) {
      await fake.create('events', event);
    },
  };
}
