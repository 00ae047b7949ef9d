import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import {
  CoreV1Api,
  CustomObjectsApi,
  NetworkingV1Api,
  RbacAuthorizationV1Api,
  type V1NetworkPolicy,
} from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from '../../scripts/controlplane.ts';

async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last instanceof Error ? last.message : JSON.stringify(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('the local control plane', () => {
  let cp: ControlPlane;
  before(async () => {
    cp = await startControlPlane();
  });
  after(async () => {
    await cp?.stop();
  });

  test('maxtac turns an Access created by the admin into a NetworkPolicy', async () => {
    const core = cp.admin.makeApiClient(CoreV1Api);
    const custom = cp.admin.makeApiClient(CustomObjectsApi);
    const net = cp.admin.makeApiClient(NetworkingV1Api);
    for (const name of ['smoke-a', 'smoke-b']) await core.createNamespace({ body: { metadata: { name } } });
    await core.createNamespacedService({
      namespace: 'smoke-a',
      body: {
        metadata: { name: 'client', labels: { smoke: 'client' } },
        spec: { selector: { app: 'client' }, ports: [{ port: 8080, protocol: 'TCP' }] },
      },
    });
    await core.createNamespacedService({
      namespace: 'smoke-b',
      body: { metadata: { name: 'db' }, spec: { selector: { app: 'db' }, ports: [{ port: 5432, targetPort: 15432, protocol: 'TCP' }] } },
    });
    const access = (await custom.createNamespacedCustomObject({
      group: 'maxtac.vtk.io',
      version: 'v1alpha1',
      namespace: 'smoke-a',
      plural: 'accesses',
      body: {
        apiVersion: 'maxtac.vtk.io/v1alpha1',
        kind: 'Access',
        metadata: { name: 'client-to-db' },
        spec: {
          serviceSelector: { matchLabels: { smoke: 'client' } },
          targets: [{ serviceName: 'db', namespace: 'smoke-b' }],
          direction: 'egress',
          duration: '3600s',
        },
      },
    })) as { metadata: { uid: string } };

    const policy = await eventually<V1NetworkPolicy>('maxtac to write a NetworkPolicy', async () => {
      const list = await net.listNamespacedNetworkPolicy({ namespace: 'smoke-a' });
      return list.items.find((p) => p.metadata?.ownerReferences?.some((o) => o.uid === access.metadata.uid));
    });
    assert.deepEqual(policy.spec?.podSelector?.matchLabels, { app: 'client' });
    assert.deepEqual(policy.spec?.policyTypes, ['Egress']);
    const to = policy.spec?.egress?.[0]?.to?.[0];
    assert.deepEqual(to?.podSelector?.matchLabels, { app: 'db' });
    assert.deepEqual(to?.namespaceSelector?.matchLabels, { 'kubernetes.io/metadata.name': 'smoke-b' });
    // maxtac takes ports from the selected Service (the client's 8080), not from the target.
    assert.deepEqual(policy.spec?.egress?.[0]?.ports?.map((p) => [p.port, p.protocol]), [[8080, 'TCP']]);
  });

  test('a token user without RBAC is forbidden, and kubectl works with the written kubeconfigs', () => {
    const denied = spawnSync('kubectl', ['--kubeconfig', cp.kubeconfigPathFor('mallory'), 'get', 'accessrequests'], { encoding: 'utf8' });
    assert.equal(denied.status, 1);
    assert.match(denied.stderr, /forbidden/i);
    assert.match(denied.stderr, /User "mallory"/);
    const allowed = spawnSync('kubectl', ['--kubeconfig', cp.adminKubeconfigPath, 'get', 'accessrequests', '-o', 'name'], { encoding: 'utf8' });
    assert.equal(allowed.status, 0, allowed.stderr);
  });

  test('a user with RBAC in one namespace only can act there and nowhere else', async () => {
    const core = cp.admin.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'smoke-c' } } });
    const rbac = { apiGroup: 'rbac.authorization.k8s.io' };
    const rbacApi = cp.admin.makeApiClient(RbacAuthorizationV1Api);
    // Not the built-in `view` ClusterRole: it is aggregated by kube-controller-manager's
    // clusterrole-aggregation controller, which does not run here (only its garbage collector does).
    await rbacApi.createNamespacedRole({
      namespace: 'smoke-c',
      body: { metadata: { name: 'service-reader' }, rules: [{ apiGroups: [''], resources: ['services'], verbs: ['list'] }] },
    });
    await rbacApi.createNamespacedRoleBinding({
      namespace: 'smoke-c',
      body: {
        metadata: { name: 'alice-service-reader' },
        roleRef: { ...rbac, kind: 'Role', name: 'service-reader' },
        subjects: [{ ...rbac, kind: 'User', name: 'alice' }],
      },
    });
    const alice = cp.kubeConfigFor('alice').makeApiClient(CoreV1Api);
    const list = await eventually('RBAC to allow alice', async () => (await alice.listNamespacedService({ namespace: 'smoke-c' })));
    assert.equal(list.items.length, 0);
    await assert.rejects(alice.listNamespacedService({ namespace: 'smoke-a' }), (err: { code?: number }) => err.code === 403);
  });
});

describe('tearing the control plane down', () => {
  test('stop() ends every process and removes the folder', async () => {
    const cp = await startControlPlane({ maxtac: true });
    const pids = cp.pids();
    // etcd, kube-apiserver, maxtac, kube-controller-manager (the garbage collector)
    assert.equal(pids.length, 4);
    await cp.stop();
    for (const pid of pids) assert.throws(() => process.kill(pid, 0), /ESRCH/, `process ${pid} still runs`);
    assert.equal(existsSync(cp.dir), false);
  });
});

describe('a test process that dies without stopping its control plane', () => {
  test('leaves no process and no folder behind', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, ['--import', 'tsx', new URL('../support/cp-child.ts', import.meta.url).pathname], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = await new Promise<string>((resolve, reject) => {
      let buf = '';
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        if (buf.includes('\n')) resolve(buf.split('\n')[0] ?? '');
      });
      child.on('exit', (code) => reject(new Error(`child exited early with ${String(code)}`)));
    });
    const { pids, dir } = JSON.parse(line) as { pids: number[]; dir: string };
    assert.equal(pids.length, 4);
    child.kill('SIGKILL');
    const gone = await eventually('the watchdog to clean up', async () => {
      const alive = pids.filter((pid) => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      });
      return alive.length === 0 && !existsSync(dir) ? true : undefined;
    });
    assert.equal(gone, true);
  });
});
