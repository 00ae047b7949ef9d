import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadAllYaml } from '@kubernetes/client-node';
import { webhookConfigurations } from './configurations.ts';

const manifest = (file: string) =>
  // Plain JSON: loadAllYaml returns typed model instances, which deepEqual would tell apart from literals.
  JSON.parse(JSON.stringify(loadAllYaml(readFileSync(fileURLToPath(new URL(`../manifests/webhook/${file}`, import.meta.url)), 'utf8')))) as Record<string, unknown>[];

interface Hook {
  name: string;
  clientConfig: { service?: { path: string }; url?: string; caBundle?: string };
  [key: string]: unknown;
}

test('the cluster webhook configurations register the same webhooks as the ones tests install', () => {
  const cluster = manifest('webhooks.yaml');
  const tested = webhookConfigurations((path) => ({ url: `https://127.0.0.1:1${path}` }));
  assert.deepEqual(cluster.map((o) => o.kind), tested.map((o) => o.kind));
  for (const [i, t] of tested.entries()) {
    const c = cluster[i] as { metadata: { name: string; annotations?: Record<string, string> }; webhooks: Hook[] };
    assert.equal(c.metadata.name, t.metadata.name);
    // The CA comes from an overlay (cert-manager's cainjector or the self-signed one), never from this base file.
    assert.equal(c.metadata.annotations?.['cert-manager.io/inject-ca-from'], undefined);
    assert.equal(c.webhooks.length, t.webhooks.length);
    for (const [j, th] of (t.webhooks as Hook[]).entries()) {
      const { clientConfig: cc, ...clusterRest } = c.webhooks[j] as Hook;
      const { clientConfig: tc, ...testedRest } = th;
      assert.deepEqual(clusterRest, testedRest, `${c.metadata.name} ${th.name}`);
      assert.equal(`https://127.0.0.1:1${cc.service?.path ?? ''}`, tc.url);
      assert.equal(cc.caBundle, undefined);
    }
  }
});

test('the webhooks fail closed, have no side effects and a timeout', () => {
  for (const o of manifest('webhooks.yaml') as { webhooks: Hook[] }[]) {
    for (const h of o.webhooks) {
      assert.equal(h.failurePolicy, 'Fail');
      assert.equal(h.sideEffects, 'None');
      assert.ok(typeof h.timeoutSeconds === 'number' && h.timeoutSeconds <= 15);
    }
  }
});

test("the webhook's ClusterRole grants exactly what it calls: create subjectaccessreviews, get services, list and watch accessrequests, accesspolicies and RBAC", () => {
  const role = manifest('rbac.yaml').find((o) => o.kind === 'ClusterRole') as { rules: unknown[] };
  assert.deepEqual(role.rules, [
    { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
    { apiGroups: [''], resources: ['services'], verbs: ['get'] },
    { apiGroups: ['netwatch.vtk.io'], resources: ['accessrequests', 'accesspolicies'], verbs: ['list', 'watch'] },
    { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'clusterroles', 'rolebindings', 'clusterrolebindings'], verbs: ['list', 'watch'] },
  ]);
  const binding = manifest('rbac.yaml').find((o) => o.kind === 'ClusterRoleBinding') as { subjects: unknown[] };
  assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'netwatch-webhook', namespace: 'netwatch-system' }]);
});
