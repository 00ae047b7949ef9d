// Helpers of the manifest suites: render the kustomize tree with the kubectl on PATH (its built-in kustomize), run
// kubectl against a test control plane, and the checks every rendered Deployment and webhook must pass. The checks
// are pure functions returning problems (empty = fine), so a test can also show that they catch a broken manifest.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export interface KubectlResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs kubectl (asynchronously: in-process servers of the calling test keep answering meanwhile). */
export function kubectl(args: string[], opts: { kubeconfig?: string; input?: string } = {}): Promise<KubectlResult> {
  const full = opts.kubeconfig ? ['--kubeconfig', opts.kubeconfig, ...args] : args;
  return new Promise((resolve, reject) => {
    const child = spawn('kubectl', full, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
    child.stdin.end(opts.input ?? '');
  });
}

export function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((d) => d.toJSON() as Manifest | null)
    .filter((o): o is Manifest => o !== null);
}

/** `kubectl kustomize DIR`, parsed; throws with kustomize's message when the tree does not build. */
export async function render(dir: string): Promise<Manifest[]> {
  const r = await kubectl(['kustomize', dir]);
  if (r.status !== 0) throw new Error(`kubectl kustomize ${dir} failed:\n${r.stderr}`);
  return parseManifests(r.stdout);
}

/**
 * A private copy of manifests/ and crds/ (the tree references ../../crds) in a temporary folder, so a test can
 * write certificates into an overlay's git-ignored folder or add a kustomization without touching the checkout
 * that other runs may be using. Generated certificates of the checkout are not copied.
 */
export function copyManifestTree(): string {
  const root = mkdtempSync(join(tmpdir(), 'netwatch-manifests-'));
  const certs = join(REPO, 'manifests', 'overlays', 'self-signed', 'certs') + sep;
  for (const dir of ['manifests', 'crds']) {
    cpSync(join(REPO, dir), join(root, dir), {
      recursive: true,
      filter: (src) => !(src.startsWith(certs) && relative(certs, src) !== '.gitignore'),
    });
  }
  return root;
}

export const ofKind = <T extends Manifest = Manifest>(objects: Manifest[], kind: string): T[] => objects.filter((o) => o.kind === kind) as T[];

export function find<T extends Manifest = Manifest>(objects: Manifest[], kind: string, name: string): T {
  const hit = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!hit) throw new Error(`no ${kind} ${name} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return hit as T;
}

// ---------------------------------------------------------------------------------------------------------------
// Deployments

export interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  privileged?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
  seccompProfile?: { type?: string };
}

export interface Probe {
  httpGet?: { path?: string; port?: string | number; scheme?: string };
  tcpSocket?: { port?: string | number };
  exec?: unknown;
}

export interface Container {
  name: string;
  image?: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: SecurityContext;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}

export interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  enableServiceLinks?: boolean;
  securityContext?: SecurityContext;
  containers: Container[];
  initContainers?: Container[];
  volumes?: { name: string; [source: string]: unknown }[];
}

export interface Deployment extends Manifest {
  spec: {
    replicas?: number;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
}

function probeProblems(where: string, which: string, probe: Probe | undefined, c: Container): string[] {
  if (!probe) return [`${where}: no ${which}`];
  const port = probe.httpGet?.port ?? probe.tcpSocket?.port;
  if (port === undefined) return probe.exec ? [] : [`${where}: ${which} has no port`];
  const known = (c.ports ?? []).some((p) => p.name === port || p.containerPort === port);
  return known ? [] : [`${where}: ${which} port ${String(port)} is not a container port`];
}

/**
 * What netwatch promises of every Deployment: its own ServiceAccount, no host namespaces, and per container the
 * restricted Pod Security Standard (non-root, no privilege escalation, drop ALL, RuntimeDefault seccomp) plus a
 * read-only root filesystem, both probes on a declared port, CPU/memory requests and a memory limit; and no
 * Service link variables in its environment.
 */
export function deploymentProblems(d: Deployment): string[] {
  const problems: string[] = [];
  const pod = d.spec.template.spec;
  const at = `Deployment ${d.metadata.name}`;
  if (!pod.serviceAccountName || pod.serviceAccountName === 'default') problems.push(`${at}: runs as the default ServiceAccount`);
  if (pod.hostNetwork || pod.hostPID || pod.hostIPC) problems.push(`${at}: uses a host namespace`);
  if (pod.enableServiceLinks !== false) problems.push(`${at}: enableServiceLinks is not false (link variables collide with NETWATCH_* settings)`);
  const podSc = pod.securityContext ?? {};
  for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
    const where = `${at} container ${c.name}`;
    const sc = c.securityContext ?? {};
    if ((sc.runAsNonRoot ?? podSc.runAsNonRoot) !== true) problems.push(`${where}: runAsNonRoot is not true`);
    if ((sc.runAsUser ?? podSc.runAsUser) === 0) problems.push(`${where}: runs as uid 0`);
    if (sc.readOnlyRootFilesystem !== true) problems.push(`${where}: readOnlyRootFilesystem is not true`);
    if (sc.allowPrivilegeEscalation !== false) problems.push(`${where}: allowPrivilegeEscalation is not false`);
    if (sc.privileged === true) problems.push(`${where}: privileged`);
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) problems.push(`${where}: capabilities do not drop ALL`);
    if ((sc.capabilities?.add ?? []).length > 0) problems.push(`${where}: adds capabilities ${String(sc.capabilities?.add)}`);
    if ((sc.seccompProfile ?? podSc.seccompProfile)?.type !== 'RuntimeDefault') problems.push(`${where}: seccompProfile is not RuntimeDefault`);
    if (pod.containers.includes(c)) {
      problems.push(...probeProblems(where, 'readinessProbe', c.readinessProbe, c), ...probeProblems(where, 'livenessProbe', c.livenessProbe, c));
    }
    for (const r of ['cpu', 'memory']) if (!c.resources?.requests?.[r]) problems.push(`${where}: no ${r} request`);
    if (!c.resources?.limits?.memory) problems.push(`${where}: no memory limit`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------------
// Webhook configurations

export interface Webhook {
  name: string;
  clientConfig: { service?: { namespace: string; name: string; path?: string; port?: number }; url?: string; caBundle?: string };
  failurePolicy?: string;
  sideEffects?: string;
  timeoutSeconds?: number;
  admissionReviewVersions?: string[];
}

export interface WebhookConfiguration extends Manifest {
  webhooks: Webhook[];
}

export const WEBHOOK_KINDS = ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'];

export function webhookConfigurationsOf(objects: Manifest[]): WebhookConfiguration[] {
  return objects.filter((o) => WEBHOOK_KINDS.includes(o.kind)) as WebhookConfiguration[];
}

/** Fail closed, no side effects (so dry runs call them), a timeout well below the API server's 30 s, and a Service that exists. */
export function webhookProblems(objects: Manifest[]): string[] {
  const problems: string[] = [];
  const services = new Set(ofKind(objects, 'Service').map((s) => `${s.metadata.namespace ?? ''}/${s.metadata.name}`));
  for (const config of webhookConfigurationsOf(objects)) {
    for (const h of config.webhooks) {
      const where = `${config.kind} ${config.metadata.name} webhook ${h.name}`;
      if (h.failurePolicy !== 'Fail') problems.push(`${where}: failurePolicy is ${String(h.failurePolicy)}, not Fail`);
      if (h.sideEffects !== 'None') problems.push(`${where}: sideEffects is ${String(h.sideEffects)}, not None`);
      if (typeof h.timeoutSeconds !== 'number' || h.timeoutSeconds < 1 || h.timeoutSeconds > 15) problems.push(`${where}: timeoutSeconds ${String(h.timeoutSeconds)} is not within 1..15`);
      if (!(h.admissionReviewVersions ?? []).includes('v1')) problems.push(`${where}: does not speak admission.k8s.io/v1`);
      const svc = h.clientConfig.service;
      if (!svc) problems.push(`${where}: no clientConfig.service`);
      else if (!services.has(`${svc.namespace}/${svc.name}`)) problems.push(`${where}: Service ${svc.namespace}/${svc.name} is not in the manifests`);
    }
  }
  return problems;
}
