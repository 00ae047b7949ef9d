import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { loadAllYaml, type KubernetesObject } from '@kubernetes/client-node';

const dir = new URL('../manifests/webui/', import.meta.url);
const load = (path: string) =>
  JSON.parse(JSON.stringify(loadAllYaml(readFileSync(new URL(path, dir), 'utf8')))) as (KubernetesObject & Record<string, unknown>)[];

test('in ID-token mode the web UI gets no role and no ServiceAccount token', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
  const kinds = files.flatMap((f) => load(f).map((o) => o.kind));
  assert.deepEqual(kinds.filter((k) => /Role/.test(k ?? '')), []);
  const sa = load('serviceaccount.yaml')[0];
  assert.equal(sa?.['automountServiceAccountToken'], false);
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
