// Demo data for the sandbox: namespaces with Services that are already isolated by default-deny policies (as
// in a production cluster, so granting access never newly isolates anything), the people who use them, and where
// the notifier tells them what happens (each namespace names its approvers' destinations, as a cluster's would).
import { POLICY_API_VERSION, POLICY_KIND, type AccessPolicy } from '../lib/api/accesspolicy.ts';
import type { KubernetesObject } from '@kubernetes/client-node';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ANNOTATION_NOTIFY_APPROVERS } from '../notifier/routes.ts';
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

/** The demo people's mail domain: `alice` is alice@example.test (a reserved name: nothing leaves the machine). */
export const DEMO_MAIL_DOMAIN = 'example.test';

/** Who approves each demo namespace: their RoleBinding there, and where the notifier tells them. */
const APPROVERS: Record<string, string> = { payments: 'bob', monitoring: 'carol', shop: 'carol' };

/** The demo's notification sinks, by name: the namespaces' annotations name them, the sandbox defines them. */
export const DEMO_SINKS = { chat: 'team-chat', events: 'audit-events', mail: 'mail' } as const;

/** A namespace's route: the team's chat channel and its approver's mailbox. */
export function demoApproverRoute(namespace: string): string {
  const approver = APPROVERS[namespace];
  return [DEMO_SINKS.chat, ...(approver ? [`${DEMO_SINKS.mail}:${approver}@${DEMO_MAIL_DOMAIN}`] : [])].join(', ');
}

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

/** One pod of a demo Service when the sandbox runs a dataplane: its labels and the ports its listeners answer on. */
export interface DemoPod {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  ports: { port: number; protocol: 'TCP' | 'UDP'; name: string }[];
}

/** A pod behind each demo Service (`<service>-0`), listening on the Service's target ports. */
export function demoPods(): DemoPod[] {
  return SERVICES.map((s) => ({
    namespace: s.namespace,
    name: `${s.name}-0`,
    labels: { app: s.app },
    ports: s.ports.map((p) => ({ port: p.targetPort, protocol: p.protocol as 'TCP' | 'UDP', name: p.name })),
  }));
}

/**
 * The sandbox's AccessPolicy: payments lets prometheus read the database's metrics port for up to 8 h without
 * asking (the first rule of docs/examples/access-policies.yaml). Every other flow keeps the usual approvals.
 */
export function demoAccessPolicy(): AccessPolicy {
  return {
    apiVersion: POLICY_API_VERSION,
    kind: POLICY_KIND,
    metadata: { name: 'database', namespace: 'payments' },
    spec: {
      rules: [
        {
          name: 'prometheus-metrics',
          match: {
            services: { names: ['database'] },
            peers: { namespaces: ['monitoring'], services: { names: ['prometheus'] } },
            ports: [{ port: 9187, protocol: 'TCP' }],
            directions: ['ingress'],
          },
          autoApprove: true,
          maxDuration: '8h',
        },
      ],
    },
  };
}

export function demoObjects(): KubernetesObject[] {
  const namespaces = [...new Set(SERVICES.map((s) => s.namespace))];
  const objects: KubernetesObject[] = [];
  for (const name of namespaces) {
    objects.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, annotations: { [ANNOTATION_NOTIFY_APPROVERS]: demoApproverRoute(name) } } });
  }
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
  for (const [namespace, user] of Object.entries(APPROVERS)) {
    objects.push(roleBinding(`netwatch-approver-${user}`, 'netwatch-approver', { kind: 'User', name: user }, namespace));
  }
  objects.push(demoAccessPolicy() as KubernetesObject);
  return objects;
}

/** Where the sandbox's receivers (scripts/receivers.ts) listen, and the files that name and open them. */
export interface DemoReceivers {
  /** Files holding the URLs of the Slack stand-in and the CloudEvents endpoint (sink URLs are secrets: files). */
  chatUrlFile: string;
  eventsUrlFile: string;
  /** The CA of the receivers' certificate. */
  caFile: string;
  smtp: { host: string; port: number; usernameFile: string; passwordFile: string };
}

/**
 * The notifier's configuration (notifier/config.ts) for the sandbox: a Slack-compatible chat, a CloudEvents
 * endpoint and an SMTP server, all local. Approvals go where each namespace's annotation says; the requester hears
 * by mail at <username>@example.test and on the audit endpoint. Mail goes to the demo domain only.
 */
export function demoNotifierConfig(r: DemoReceivers): Record<string, unknown> {
  return {
    sinks: [
      { name: DEMO_SINKS.chat, type: 'slack', urlFile: r.chatUrlFile, caFile: r.caFile },
      { name: DEMO_SINKS.events, type: 'cloudevents', urlFile: r.eventsUrlFile, caFile: r.caFile },
      {
        name: DEMO_SINKS.mail,
        type: 'email',
        host: r.smtp.host,
        port: r.smtp.port,
        tls: 'starttls',
        from: `netwatch sandbox <netwatch@${DEMO_MAIL_DOMAIN}>`,
        usernameFile: r.smtp.usernameFile,
        passwordFile: r.smtp.passwordFile,
        caFile: r.caFile,
        allowedDomains: [DEMO_MAIL_DOMAIN],
      },
    ],
    routes: { approvers: [], requester: [DEMO_SINKS.mail, DEMO_SINKS.events] },
    requesterAddress: { domain: DEMO_MAIL_DOMAIN },
  };
}

export async function installDemo(cp: ControlPlane): Promise<void> {
  await applyObjects(cp.admin, demoObjects());
}
