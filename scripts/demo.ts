// Demo data for the sandbox: namespaces with Services that are already isolated by default-deny policies (as
// in a production cluster, so granting access never newly isolates anything), and the people who use them.
import type { KubernetesObject } from '@kubernetes/client-node';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyObjects, loadYamlFile, roleBinding, type ControlPlane } from './controlplane.ts';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface DemoPerson {
  user: string;
  role: string;
}

/** Who is who in the sandbox (token-file users of the control plane; the same names log in to the web UI). */
export const DEMO_PEOPLE: DemoPerson[] = [
  { user: 'alice', role: 'developer (may request; approves nothing)' },
  { user: 'bob', role: 'approver of namespace payments' },
  { user: 'carol', role: 'approver of namespaces monitoring and shop' },
  { user: 'admin', role: 'cluster admin (system:masters)' },
];

const SERVICES: { namespace: string; name: string; app: string; ports: { port: number; targetPort: number; protocol: string; name: string }[] }[] = [
  { namespace: 'monitoring', name: 'prometheus', app: 'prometheus', ports: [{ name: 'web', port: 9090, targetPort: 9090, protocol: 'TCP' }] },
  {
    namespace: 'payments',
    name: 'database',
    app: 'postgres',
    ports: [
      { name: 'postgres', port: 5432, targetPort: 5432, protocol: 'TCP' },
      { name: 'metrics', port: 9187, targetPort: 9187, protocol: 'TCP' },
    ],
  },
  { namespace: 'payments', name: 'api', app: 'payments-api', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
  {
    namespace: 'shop',
    name: 'frontend',
    app: 'frontend',
    ports: [
      { name: 'https', port: 443, targetPort: 8443, protocol: 'TCP' },
      { name: 'quic', port: 443, targetPort: 8443, protocol: 'UDP' },
    ],
  },
];

export function demoObjects(): KubernetesObject[] {
  const namespaces = [...new Set(SERVICES.map((s) => s.namespace))];
  const objects: KubernetesObject[] = [];
  for (const name of namespaces) objects.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  for (const s of SERVICES) {
    objects.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: s.name, namespace: s.namespace, labels: { app: s.app } },
      spec: { selector: { app: s.app }, ports: s.ports },
    } as KubernetesObject);
  }
  for (const namespace of namespaces) {
    objects.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'default-deny', namespace },
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    } as KubernetesObject);
  }
  objects.push(...loadYamlFile(join(REPO_ROOT, 'manifests/rbac/user-roles.yaml')));
  objects.push(roleBinding('netwatch-users', 'netwatch-user', { kind: 'User', name: 'alice' }));
  objects.push(roleBinding('netwatch-users-bob', 'netwatch-user', { kind: 'User', name: 'bob' }));
  objects.push(roleBinding('netwatch-users-carol', 'netwatch-user', { kind: 'User', name: 'carol' }));
  objects.push(roleBinding('netwatch-approver-bob', 'netwatch-approver', { kind: 'User', name: 'bob' }, 'payments'));
  objects.push(roleBinding('netwatch-approver-carol', 'netwatch-approver', { kind: 'User', name: 'carol' }, 'monitoring'));
  objects.push(roleBinding('netwatch-approver-carol', 'netwatch-approver', { kind: 'User', name: 'carol' }, 'shop'));
  return objects;
}

export async function installDemo(cp: ControlPlane): Promise<void> {
  await applyObjects(cp.admin, demoObjects());
}
