import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { loadAllYaml, type KubernetesObject } from '@kubernetes/client-node';

const dir = new URL('../manifests/webui/', import.meta.url);
const load = (path: string) =>
  JSON.parse(JSON.stringify(loadAllYaml(readFileSync(new URL(path, dir), 'utf8')))) as (KubernetesObject & Record<string, unknown>)[];

test('in ID-token mode the web UI may only read, watch and update the sessions ConfigMap, which the manifests create', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
  const objects = files.flatMap((f) => load(f));
  const roles = objects.filter((o) => /Role$/.test(o.kind ?? '')) as unknown as { kind: string; metadata: { name: string; namespace?: string }; rules: unknown[] }[];
  assert.deepEqual(
    roles.map((r) => [r.kind, r.metadata.namespace, r.rules]),
    [['Role', 'netwatch-system', [{ apiGroups: [''], resources: ['configmaps'], resourceNames: ['netwatch-webui-sessions'], verbs: ['get', 'list', 'watch', 'update'] }]]],
  );
  const binding = objects.find((o) => o.kind === 'RoleBinding') as { roleRef: { name: string }; subjects: unknown[] } | undefined;
  assert.equal(binding?.roleRef.name, roles[0]?.metadata.name);
  assert.deepEqual(binding?.subjects, [{ kind: 'ServiceAccount', name: 'netwatch-webui', namespace: 'netwatch-system' }]);
  assert.deepEqual(objects.filter((o) => o.kind?.startsWith('ClusterRole')), [], 'nothing cluster-wide');
  const configMap = objects.find((o) => o.kind === 'ConfigMap');
  assert.deepEqual([configMap?.metadata?.name, configMap?.metadata?.namespace, configMap?.['data']], ['netwatch-webui-sessions', 'netwatch-system', undefined], 'no data: applying again keeps the entries');
  // The token is needed for those calls in both modes.
  assert.equal(load('serviceaccount.yaml')[0]?.['automountServiceAccountToken'], true);
});

test('in impersonation mode the web UI may impersonate users and groups and nothing else', () => {
  const objects = load('impersonation/rbac.yaml');
  const role = objects.find((o) => o.kind === 'ClusterRole') as { rules: unknown[] } | undefined;
  assert.deepEqual(role?.rules, [{ apiGroups: [''], resources: ['users', 'groups'], verbs: ['impersonate'] }]);
  const binding = objects.find((o) => o.kind === 'ClusterRoleBinding') as { subjects: unknown[] } | undefined;
  assert.deepEqual(binding?.subjects, [{ kind: 'ServiceAccount', name: 'netwatch-webui', namespace: 'netwatch-system' }]);
});

test('the deployment runs the web UI bundle as non-root with a read-only root filesystem', () => {
  const deployment = load('deployment.yaml')[0] as unknown as {
    spec: { template: { spec: { containers: { args: string[]; securityContext: { readOnlyRootFilesystem: boolean; allowPrivilegeEscalation: boolean } }[]; securityContext: { runAsNonRoot: boolean } } } };
  };
  const pod = deployment.spec.template.spec;
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.deepEqual(pod.containers[0]?.args, ['dist/webui.mjs']);
  assert.equal(pod.containers[0]?.securityContext.readOnlyRootFilesystem, true);
  assert.equal(pod.containers[0]?.securityContext.allowPrivilegeEscalation, false);
});

test('the deployment is ready only while the web UI follows the sign-outs, alive as long as it serves', () => {
  type Probe = { httpGet: { path: string } };
  const deployment = load('deployment.yaml')[0] as unknown as { spec: { template: { spec: { containers: { readinessProbe: Probe; livenessProbe: Probe }[] } } } };
  const c = deployment.spec.template.spec.containers[0];
  assert.deepEqual([c?.readinessProbe.httpGet.path, c?.livenessProbe.httpGet.path], ['/readyz', '/healthz']);
});
