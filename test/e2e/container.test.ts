// The image, for real: built from Containerfile with podman (on a Debian base made here with debootstrap: the test
// machines have no image registry) and run as the Deployments of manifests/default run it: their user, read-only
// root filesystem, dropped capabilities, no privilege escalation, memory limit, args, environment and volumes.
// The servers run against one real control plane for the whole file (etcd + kube-apiserver on loopback, reached
// from the host network), with the in-cluster configuration a Pod gets: KUBERNETES_SERVICE_HOST/PORT and the
// ServiceAccount mount holding its identity's token, the control plane's CA and the namespace.
// Slow (a minute or two, plus about one the first time on a machine for the base), hence end to end.
//
// Podman, runc and debootstrap are required (.ci/run installs them): without them this suite fails and says so.
// NETWATCH_SKIP_CONTAINER=1 skips it, for developers whose machine cannot run podman.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { freePort, startControlPlane, type ControlPlane } from '../../scripts/controlplane.ts';
import { SERVER_ENTRIES, type ServerName } from '../../scripts/build-dist.ts';
import { applyControllerRbac } from '../support/controller.ts';
import { applyNotifierRbac } from '../support/notifier.ts';
import { applyWebhookRbac, registerWebhook, unregisterWebhook, waitUntilLive } from '../support/webhook.ts';
import { installWebUiRbac } from '../support/webui.ts';
import { REPO, find, render, type Container, type Deployment, type Manifest } from '../support/manifests.ts';
import {
  PodmanRun,
  buildImages,
  changedPaths,
  containerOf,
  imageConfig,
  imageHistory,
  logsOf,
  podmanUnusable,
  removeContainer,
  runPod,
  startPod,
  terminate,
  SERVICE_ACCOUNT_DIR,
  type Images,
  type PodRun,
} from '../support/podman.ts';
import { waitFor } from '../support/wait.ts';

const SKIP = process.env.NETWATCH_SKIP_CONTAINER === '1' ? 'NETWATCH_SKIP_CONTAINER=1 (podman is required everywhere else, CI included)' : false;
const COMPONENTS = Object.keys(SERVER_ENTRIES) as ServerName[];
/** Never listened on: the web UI reaches the identity provider on demand only (at a sign-in). */
const UNREACHABLE_IDP = 'https://127.0.0.1:9/';

interface PackageJson {
  version: string;
  license: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

describe('the container image, built from Containerfile and run with podman as the Deployments run it', { skip: SKIP }, () => {
  const runInfo = new PodmanRun(`${process.pid}-${randomBytes(3).toString('hex')}`);
  const revision = randomBytes(20).toString('hex');
  let images: Images;
  let work: string;
  let objects: Manifest[];
  let pkg: PackageJson;
  /** Host folders standing for the Pods' volumes, by volume name. */
  let volumes: Record<string, string>;
  /** The CA of the serving certificates (certs/dev-certs.sh) the webhook and the web UI present. */
  let devCaPem: string;
  let controlPlane: Promise<ControlPlane> | undefined;
  let cp: ControlPlane;
  /** Per ServiceAccount name, the folder the kubelet would mount for it: token, ca.crt, namespace. */
  const serviceAccountMounts: Record<string, string> = {};

  before(
    async () => {
      const unusable = await podmanUnusable();
      if (unusable) {
        assert.fail(
          `podman cannot build and run the image here: ${unusable}. Install podman, runc and debootstrap as root ` +
            '(apt-get install podman runc debootstrap; .ci/run does), or set NETWATCH_SKIP_CONTAINER=1 to skip this suite on a development machine.',
        );
      }
      work = await mkdtemp(join(tmpdir(), 'netwatch-container-'));
      // The user the containers run as must read what the volumes hold, as with a Secret's default mode 0644.
      await chmod(work, 0o755);
      [objects, pkg] = await Promise.all([render(join(REPO, 'manifests/default')), readFile(join(REPO, 'package.json'), 'utf8').then((t) => JSON.parse(t) as PackageJson)]);
      ({ volumes, devCaPem } = await podVolumes(work));
      // The notifier's configuration as the manifests ship it (no sinks), and its optional Secret, absent: empty.
      const notifierConfig = find<Manifest & { data: Record<string, string> }>(objects, 'ConfigMap', 'netwatch-notifier').data;
      volumes.config = await folder(work, 'notifier-config', notifierConfig);
      volumes.secrets = await folder(work, 'notifier-secrets', {});
      // The control plane starts while the image builds: the build waits on npm and podman much of the time.
      const started = Date.now();
      controlPlane = startControlPlane({ maxtac: false });
      const log = (line: string) => process.stderr.write(`[container test] ${line}\n`);
      [cp, images] = await Promise.all([controlPlane.then((c) => (log(`control plane started (${Date.now() - started} ms)`), c)), buildImages(runInfo, revision, log)]);
      // Each component's identity with exactly its RBAC of manifests/, and the web UI's sessions ConfigMap.
      await applyWebhookRbac(cp);
      await applyControllerRbac(cp);
      await applyNotifierRbac(cp);
      await installWebUiRbac(cp);
      for (const c of COMPONENTS) {
        const sa = serviceAccountOf(c);
        const namespace = sa.metadata.namespace ?? 'default';
        const user = cp.users[sa.metadata.name];
        assert.equal(user?.name, `system:serviceaccount:${namespace}:${sa.metadata.name}`, `the control plane has no token for ServiceAccount ${sa.metadata.name}`);
        serviceAccountMounts[sa.metadata.name] = await folder(work, `serviceaccount-${sa.metadata.name}`, { token: user.token, 'ca.crt': cp.caPem, namespace });
      }
    },
    { timeout: 30 * 60_000 },
  );

  after(async () => {
    const problems = await runInfo.cleanup();
    // Started even when the build failed, and stopped whether or not it came up.
    await controlPlane?.then(
      (c) => c.stop(),
      () => undefined,
    );
    if (work) await rm(work, { recursive: true, force: true });
    assert.deepEqual(problems, [], 'podman objects of this run were left behind');
  });

  const deploymentOf = (c: ServerName) => find<Deployment>(objects, 'Deployment', `netwatch-${c}`);
  const serviceAccountOf = (c: ServerName) => find(objects, 'ServiceAccount', deploymentOf(c).spec.template.spec.serviceAccountName ?? 'default');
  let runs = 0;
  /** The component's Pod as its Deployment has it, with the changes a test asks for. */
  const pod = (c: ServerName, change: Partial<PodRun> = {}): PodRun => {
    const serviceAccount = serviceAccountOf(c);
    const serviceAccountToken = serviceAccountMounts[serviceAccount.metadata.name];
    assert.ok(serviceAccountToken, `no ServiceAccount mount for ${serviceAccount.metadata.name}`);
    const apiServer = { host: '127.0.0.1', port: Number(new URL(cp.server).port) };
    return { deployment: deploymentOf(c), serviceAccount, volumes, serviceAccountToken, apiServer, network: 'none', name: runInfo.containerName(`${c}-${++runs}`), ...change };
  };
  const deploymentArgs = (c: ServerName) => containerOf(deploymentOf(c)).args ?? [];

  test('the image is labelled, runs as a numeric non-root user, has an exec-form node entrypoint and no RUN step in its last stage', async () => {
    const config = await imageConfig(images.image);
    // runAsNonRoot admits an image only when its USER is a number, and not 0.
    assert.match(config.User ?? '', /^[1-9]\d*(:\d+)?$/, `USER ${config.User}`);
    assert.deepEqual(config.Entrypoint, ['node', '--enable-source-maps']);
    assert.equal(config.WorkingDir, '/app');
    assert.ok(config.Env?.includes('NODE_ENV=production'), String(config.Env));
    assert.ok(COMPONENTS.some((c) => config.Cmd?.[0] === `dist/${c}.mjs`), `CMD ${String(config.Cmd)}`);

    const labels = config.Labels ?? {};
    for (const l of ['title', 'description', 'licenses', 'source', 'version', 'revision']) assert.ok(labels[`org.opencontainers.image.${l}`], `label ${l}`);
    // Built without --build-arg VERSION: the Containerfile's default must be the package's version.
    assert.equal(labels['org.opencontainers.image.version'], pkg.version);
    assert.equal(labels['org.opencontainers.image.licenses'], pkg.license);
    assert.equal(labels['org.opencontainers.image.revision'], revision);

    // This run's image has the pinned Node (the node devDependency); a real build takes NODE_IMAGE's default,
    // which must be the same major version.
    const nodeImage = /^ARG NODE_IMAGE=\S*:(\d+)[-.\w]*$/m.exec(await readFile(join(REPO, 'Containerfile'), 'utf8'))?.[1];
    assert.equal(nodeImage, /^\D*(\d+)/.exec(pkg.devDependencies.node ?? '')?.[1], "Containerfile's default NODE_IMAGE and the node devDependency differ in major version");

    // The last stage's own layers are what the image adds to NODE_IMAGE; a RUN among them would need a shell.
    const base = await imageHistory(images.nodeImage);
    const own = (await imageHistory(images.image)).slice(base.length);
    assert.ok(own.length > 0);
    assert.deepEqual(
      own.filter((step) => !step.includes('#(nop)')),
      [],
      'RUN steps in the runtime stage',
    );
  });

  test('the image holds the bundles with their source maps, the web UI static files and the production packages of the lockfile, nothing else', async () => {
    const r = await runPod(pod('controller', { args: ['-e', LIST_APP] }), images.image, runInfo.label);
    assert.equal(r.code, 0, r.stderr);
    const app = JSON.parse(r.stdout) as { top: string[]; dist: Record<string, string>; modules: string[] };

    assert.deepEqual(app.top, ['dist', 'node_modules', 'package.json']);

    // Of our code only the bundles (each with its map: the entrypoint enables source maps) and the static files.
    const expected = [...COMPONENTS.flatMap((c) => [`${c}.mjs`, `${c}.mjs.map`]), 'static/app.css', 'static/live.js'].sort();
    assert.deepEqual(Object.keys(app.dist).sort(), expected);
    for (const file of ['app.css', 'live.js']) assert.equal(app.dist[`static/${file}`], sha256(await readFile(join(REPO, 'webui/static', file))), `static/${file} differs from webui/static/${file}`);

    // Exactly the production packages `npm ci --omit=dev` installs from package-lock.json: every one of them, no
    // development package, nothing the lockfile does not name.
    const lock = JSON.parse(await readFile(join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; optional?: boolean; devOptional?: boolean }> };
    const locked = Object.entries(lock.packages).filter(([path]) => path.startsWith('node_modules/'));
    const production = locked.filter(([, p]) => !p.dev && !p.devOptional).map(([path]) => path);
    const installed = new Set(app.modules);
    assert.deepEqual(
      production.filter((p) => !installed.has(p) && !lock.packages[p]?.optional),
      [],
      'production packages missing from the image',
    );
    const known = new Set(production);
    assert.deepEqual(
      app.modules.filter((m) => !known.has(m)),
      [],
      'packages in the image that are development-only or not in the lockfile',
    );
    for (const dep of Object.keys(pkg.dependencies)) assert.ok(installed.has(`node_modules/${dep}`), dep);
    // A development dependency that a production package also needs (@types/node) is rightly there; the build
    // and test tools are not.
    for (const dev of ['esbuild', 'tsx', 'typescript', 'eslint', 'playwright-core', 'oidc-provider', 'node']) {
      assert.ok(dev in pkg.devDependencies, `${dev} is not a development dependency any more: update this list`);
      assert.ok(!installed.has(`node_modules/${dev}`), `${dev} is a development dependency and must not be in the image`);
    }
  });

  test('Node is v24 and the Deployment runs it as uid 65532 with no capabilities and no privilege escalation', async () => {
    const identity = async (run: PodRun) => {
      const r = await runPod(run, images.image, runInfo.label);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as { version: string; uid: number; gid: number; capEff: string; noNewPrivs: string };
    };
    const deployed = await identity(pod('webhook', { args: ['-e', IDENTITY] }));
    assert.match(deployed.version, /^v24\./);
    const runAsUser = deploymentOf('webhook').spec.template.spec.securityContext?.runAsUser;
    assert.equal(runAsUser, 65532);
    assert.equal(deployed.uid, runAsUser);
    assert.equal(deployed.capEff, '0000000000000000');
    assert.equal(deployed.noNewPrivs, '1');

    // Without the Deployment's runAsUser (docker run, a Pod that leaves it out), the image's own USER applies.
    const plain = await runPod({ ...pod('webhook', { args: ['-e', IDENTITY] }), deployment: withoutRunAsUser(deploymentOf('webhook')) }, images.image, runInfo.label);
    assert.equal(plain.code, 0, plain.stderr);
    const own = JSON.parse(plain.stdout) as { uid: number; gid: number };
    assert.deepEqual([own.uid, own.gid], [65532, 65532]);
  });

  test("each Deployment's command exists; each component prints its usage for --help", async () => {
    for (const c of COMPONENTS) assert.equal(deploymentArgs(c)[0], `dist/${c}.mjs`);
    for (const [c, flag] of [
      ['webhook', '--tls-cert-file'],
      ['controller', '--leader-elect'],
      ['notifier', '--pending-reminder'],
      ['webui', '--public-url'],
    ] as const) {
      const r = await runPod(pod(c, { args: [deploymentArgs(c)[0]!, '--help'] }), images.image, runInfo.label);
      assert.equal(r.code, 0, `${c} --help: exit ${r.code}\n${r.stderr}`);
      assert.match(r.stdout, new RegExp(flag), `${c} --help`);
    }
  });

  test('a crash points at the TypeScript source: the source maps in the image are used', async () => {
    for (const c of ['webhook', 'controller', 'notifier'] as const) {
      // A kubeconfig that is not there makes main.ts throw from its top level: Node prints the stack and exits.
      const r = await runPod(pod(c, { args: [...deploymentArgs(c), '--kubeconfig=/no/such/kubeconfig'] }), images.image, runInfo.label);
      assert.notEqual(r.code, 0);
      const frame = new RegExp(`\\(/app/${c}/main\\.ts:(\\d+):\\d+\\)`).exec(r.stderr);
      assert.ok(frame, `${c}: no stack frame in ${c}/main.ts:\n${r.stderr}`);
      const line = (await readFile(join(REPO, c, 'main.ts'), 'utf8')).split('\n')[Number(frame[1]) - 1] ?? '';
      assert.match(line, /loadKubeConfig\(/, `${c}/main.ts:${frame[1]} is not where the kubeconfig is read`);
      // …and the frame above it, in the shared start-up, is the line that reads the file.
      const shared = /\(\/app\/lib\/cli\/main\.ts:(\d+):\d+\)/.exec(r.stderr);
      assert.ok(shared, `${c}: no stack frame in lib/cli/main.ts:\n${r.stderr}`);
      const sharedLine = (await readFile(join(REPO, 'lib/cli/main.ts'), 'utf8')).split('\n')[Number(shared[1]) - 1] ?? '';
      assert.match(sharedLine, /loadFromFile/, `lib/cli/main.ts:${shared[1]} is not where the kubeconfig is read`);
    }
  });

  for (const c of COMPONENTS) {
    test(`the ${c}, run as its Deployment against the API server, passes its probes, serves and exits 0 on SIGTERM`, async () => {
      await serveAndStop(c, false);
    });
  }

  test('nothing is written to the root filesystem: with it writable, every component leaves it unchanged', async () => {
    for (const c of COMPONENTS) {
      const name = await serveAndStop(c, true);
      // podman itself makes the volumes' mount points and /etc's mounted files (hosts, resolv.conf, hostname);
      // it reports them under /run, which Debian's /var/run links to.
      const mountPoints = (containerOf(deploymentOf(c)).volumeMounts ?? []).map((m) => m.mountPath).concat(SERVICE_ACCOUNT_DIR);
      const madeByPodman = (path: string) => path === '/etc' || mountPoints.some((m) => isAncestorOrSelf(path, m.replace(/^\/var\/run\//, '/run/')));
      const changed = (await changedPaths(name)).filter(([, path]) => !madeByPodman(path));
      await removeContainer(name);
      assert.deepEqual(changed, [], `${c} wrote to its root filesystem`);
    }
  });

  /**
   * Starts the component as its Deployment does, its ports moved to free ones on the host's loopback; waits until
   * the Deployment's liveness and readiness probes pass (each read from the Deployment: path, port, scheme); checks
   * what it serves, at the ports its Services send clients to (admission as the API server calls it, the Lease it
   * holds, static files, metrics); sends SIGTERM and expects exit code 0. Returns the container's name; the
   * container is kept when `writableRoot` (for `podman diff`).
   */
  async function serveAndStop(c: ServerName, writableRoot: boolean): Promise<string> {
    const container = containerOf(deploymentOf(c));
    const hostPorts = new Map<number, number>();
    for (const p of container.ports ?? []) hostPorts.set(p.containerPort, await freePort());
    const hostPort = (port: string | number | undefined) => {
      const containerPort = typeof port === 'number' ? port : container.ports?.find((p) => p.name === port)?.containerPort;
      const mapped = containerPort === undefined ? undefined : hostPorts.get(containerPort);
      assert.ok(mapped, `${c}: port ${String(port)} is not a port of the container`);
      return mapped;
    };
    // Where a Service of the manifests sends its clients: the API server's admission calls and the browsers (through
    // an ingress) to netwatch-<component>, Prometheus to netwatch-<component>-metrics.
    const serviceUrl = (name: string, scheme: 'https' | 'http') => `${scheme}://127.0.0.1:${hostPort(find<Service>(objects, 'Service', name).spec.ports[0]?.targetPort)}`;
    const metrics = async () => {
      const r = await fetchText(`${serviceUrl(`netwatch-${c}-metrics`, 'http')}/metrics`, devCaPem);
      assert.equal(r.status, 200, `${c} /metrics`);
      return r.body;
    };

    const run = pod(c, { network: 'host', writableRoot, ...listeningOnLoopback(c, container, hostPorts) });
    if (c === 'webui') run.env = { ...run.env, NETWATCH_WEBUI_PUBLIC_URL: serviceUrl(`netwatch-${c}`, 'https'), NETWATCH_WEBUI_OIDC_ISSUER_URL: UNREACHABLE_IDP };
    const leases = cp.admin.makeApiClient(CoordinationV1Api);
    const lease = () => ({ namespace: flagOf(container, '--lease-namespace'), name: flagOf(container, '--lease-name') });

    await startPod(run, images.image, runInfo.label);
    const withLogs = async (e: unknown) => {
      throw new Error(`${(e as Error).message}\n${await logsOf(run.name)}`);
    };
    try {
      for (const probe of [container.livenessProbe, container.readinessProbe]) {
        const get = probe?.httpGet;
        assert.ok(get?.path, `${c}: probe without httpGet path`);
        const url = `${(get.scheme ?? 'HTTP').toLowerCase()}://127.0.0.1:${hostPort(get.port)}${get.path}`;
        await waitFor(`${c} ${url}`, async () => (await fetchText(url, devCaPem)).status === 200, 60_000, 250).catch(withLogs);
      }

      if (c === 'webhook') {
        // The API server calls the webhook over HTTPS, trusting the dev CA; the webhook answers with its own
        // identity's reviews and reads (the probe request's Services "do not exist").
        try {
          await registerWebhook(cp, serviceUrl(`netwatch-${c}`, 'https'), devCaPem);
          await waitUntilLive(cp).catch(withLogs);
        } finally {
          await unregisterWebhook(cp);
        }
        assert.match(await metrics(), /^netwatch_webhook_admission_requests_total\{[^}]*\} [1-9]/m, 'the admission requests are not counted');
      }
      if (c === 'controller' || c === 'notifier') {
        // Ready as the leader: it holds the Lease its flags name, as this Pod.
        await waitFor(`${c} holding its Lease`, async () => (await leases.readNamespacedLease(lease())).spec?.holderIdentity === run.name, 60_000, 250).catch(withLogs);
        assert.match(await metrics(), new RegExp(`^netwatch_${c}_is_leader 1$`, 'm'));
      }
      if (c === 'webui') {
        for (const file of ['app.css', 'live.js']) {
          const r = await fetchText(`${serviceUrl(`netwatch-${c}`, 'https')}/static/${file}`, devCaPem);
          assert.equal(r.status, 200);
          assert.equal(r.body, await readFile(join(REPO, 'webui/static', file), 'utf8'));
        }
      }

      const code = await terminate(run.name);
      assert.equal(code, 0, `${c} did not stop cleanly on SIGTERM:\n${await logsOf(run.name)}`);
      if (c === 'controller' || c === 'notifier') {
        // It let go of the Lease on its way out, so a standby replica takes over at once.
        assert.ok(!(await leases.readNamespacedLease(lease())).spec?.holderIdentity, `${c} kept the Lease after SIGTERM:\n${await logsOf(run.name)}`);
      }
    } finally {
      if (!writableRoot) await removeContainer(run.name);
    }
    return run.name;
  }
});

// ---------------------------------------------------------------------------------------------------------------

/**
 * Folders standing for every volume of the three Pods: the webhook's and web UI's serving certificate from
 * certs/dev-certs.sh (for 127.0.0.1), the web UI's OIDC client secret and session key.
 */
async function podVolumes(work: string): Promise<{ volumes: Record<string, string>; devCaPem: string }> {
  const tls = join(work, 'tls');
  execFileSync('bash', [join(REPO, 'certs/dev-certs.sh'), '-o', tls, '--san', 'IP:127.0.0.1'], { stdio: 'ignore' });
  await rm(join(tls, 'ca.key'));
  const devCaPem = await readFile(join(tls, 'ca.crt'), 'utf8');
  for (const f of ['tls.crt', 'tls.key']) await chmod(join(tls, f), 0o644);
  await chmod(tls, 0o755);
  return {
    volumes: {
      tls,
      oidc: await folder(work, 'oidc', { 'client-secret': randomBytes(16).toString('hex') }),
      session: await folder(work, 'session', { key: randomBytes(32).toString('base64') }),
    },
    devCaPem,
  };
}

/** A folder of `work` holding `files`, readable by the containers' user as a Secret volume's files are. */
async function folder(work: string, name: string, files: Record<string, string>): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir, { recursive: true });
  for (const [file, content] of Object.entries(files)) await writeFile(join(dir, file), content, { mode: 0o644 });
  return dir;
}

/**
 * How each component is told to listen on loopback where its port settings do not say the address (the
 * Deployments listen on every address; here the containers share the host's network).
 */
const LOOPBACK: Record<ServerName, { args?: string[]; env?: Record<string, string> }> = {
  webhook: { args: ['--host=127.0.0.1'] },
  controller: {},
  notifier: {},
  webui: { env: { NETWATCH_WEBUI_HOST: '127.0.0.1' } },
};

/**
 * The container's args and environment with each port it declares moved to its host port, on loopback: a
 * `--flag=PORT` or `--flag=ADDRESS:PORT` argument, or a `NAME=PORT` variable, naming a declared containerPort. Each
 * declared port must be set exactly once, so that the probes (which name the declared ports) reach what the
 * Deployment makes the process listen on.
 */
function listeningOnLoopback(c: ServerName, container: Container, hostPorts: Map<number, number>): { args: string[]; env: Record<string, string> } {
  const set = new Map<number, string[]>();
  const moved = (value: string, where: string) => {
    const m = /^(?:(.+):)?(\d+)$/.exec(value);
    const hostPort = m ? hostPorts.get(Number(m[2])) : undefined;
    if (!m || hostPort === undefined) return value;
    set.set(Number(m[2]), [...(set.get(Number(m[2])) ?? []), where]);
    return m[1] === undefined ? String(hostPort) : `127.0.0.1:${hostPort}`;
  };
  const args = (container.args ?? []).map((a) => {
    const m = /^(--[\w-]+)=(.*)$/.exec(a);
    return m ? `${m[1]}=${moved(m[2] ?? '', m[1] ?? '')}` : a;
  });
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    if (e.value === undefined) continue;
    const value = moved(e.value, e.name);
    if (value !== e.value) env[e.name] = value;
  }
  for (const port of hostPorts.keys()) {
    assert.equal((set.get(port) ?? []).length, 1, `${c}: containerPort ${port} is set by ${JSON.stringify(set.get(port) ?? [])} of the Deployment's args and env; expected exactly one`);
  }
  return { args: [...args, ...(LOOPBACK[c].args ?? [])], env: { ...env, ...LOOPBACK[c].env } };
}

/** The value of the container's `--name=value` argument. */
function flagOf(container: Container, name: string): string {
  const value = container.args?.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
  assert.ok(value, `the container has no ${name}=`);
  return value;
}

interface Service extends Manifest {
  spec: { ports: { name?: string; port: number; targetPort?: string | number }[] };
}

function withoutRunAsUser(d: Deployment): Deployment {
  const copy = structuredClone(d);
  delete copy.spec.template.spec.securityContext?.runAsUser;
  for (const c of copy.spec.template.spec.containers) delete c.securityContext?.runAsUser;
  return copy;
}

const isAncestorOrSelf = (path: string, of: string) => of === path || of.startsWith(`${path}/`);

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

function fetchText(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = (url.startsWith('https:') ? httpsRequest : httpRequest)(url, { ca, timeout: 5_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: no answer in 5 s`)));
    req.on('error', reject);
    req.end();
  });
}

// Scripts run by the image's own Node (`node --enable-source-maps -e SCRIPT`), printing JSON.

/** /app's entries, every file under dist/ with its sha256, and every package folder under node_modules/. */
const LIST_APP = `
const fs = require('node:fs'), path = require('node:path'), crypto = require('node:crypto');
const files = (dir) => fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]);
const dist = {};
for (const f of files('/app/dist')) dist[path.relative('/app/dist', f)] = crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');
const modules = [];
const scan = (dir, prefix) => {
  for (const name of fs.readdirSync(dir)) {
    if (name.startsWith('.')) continue;
    const names = name.startsWith('@') ? fs.readdirSync(path.join(dir, name)).map((s) => name + '/' + s) : [name];
    for (const n of names) {
      modules.push(prefix + n);
      const nested = path.join(dir, n, 'node_modules');
      if (fs.existsSync(nested)) scan(nested, prefix + n + '/node_modules/');
    }
  }
};
scan('/app/node_modules', 'node_modules/');
console.log(JSON.stringify({ top: fs.readdirSync('/app').sort(), dist, modules }));
`;

/** The process's Node version, ids, effective capabilities and no_new_privs flag. */
const IDENTITY = `
const status = require('node:fs').readFileSync('/proc/self/status', 'utf8');
const field = (name) => new RegExp('^' + name + ':\\\\s*(\\\\S+)', 'm').exec(status)?.[1];
console.log(JSON.stringify({ version: process.version, uid: process.getuid(), gid: process.getgid(), capEff: field('CapEff'), noNewPrivs: field('NoNewPrivs') }));
`;
