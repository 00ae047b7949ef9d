// The image recipe, run outside a container (no container engine here or in CI): this reads Containerfile and
// .containerignore, replays each stage's WORKDIR/COPY/RUN in a folder of its own, then starts the three
// components from the runtime stage's layout with its ENTRYPOINT, ENV and (when the tests run as root) USER.
// A COPY of a path that is missing or ignored, a build that needs a file the recipe leaves out, a bundle that
// imports a dev dependency, or web UI static files that are not where the bundle looks, all fail here.
//
// One substitution, for time: the build stage's full `npm ci` (every dev dependency) is replaced by a link to
// this checkout's node_modules, installed from the same package-lock.json. The production-only `npm ci` of the
// runtime dependencies runs for real (from the npm cache when it has the packages).
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, cp, lstat, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, posix, relative } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { freePort } from './controlplane.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));

// ---------------------------------------------------------------------------------------------------------
// Containerfile

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  name: string;
  base: string;
  instructions: Instruction[];
}

/** Instructions of each stage; continuation lines joined, comments and parser directives dropped. */
function parseContainerfile(text: string): { globalArgs: Instruction[]; stages: Stage[] } {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (pending === '' && (line.trim() === '' || line.trimStart().startsWith('#'))) continue;
    if (line.endsWith('\\')) {
      pending += line.slice(0, -1) + ' ';
      continue;
    }
    logical.push((pending + line).trim());
    pending = '';
  }
  const globalArgs: Instruction[] = [];
  const stages: Stage[] = [];
  for (const l of logical) {
    const m = /^(\w+)\s+(.*)$/.exec(l);
    if (!m) throw new Error(`Containerfile: cannot read ${JSON.stringify(l)}`);
    const op = m[1]!.toUpperCase();
    const args = m[2]!;
    if (op === 'FROM') {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!f) throw new Error(`Containerfile: FROM ${args}`);
      stages.push({ base: f[1]!, name: f[2] ?? String(stages.length), instructions: [] });
    } else if (stages.length === 0) {
      if (op !== 'ARG') throw new Error(`Containerfile: ${op} before the first FROM`);
      globalArgs.push({ op, args });
    } else stages.at(-1)!.instructions.push({ op, args });
  }
  return { globalArgs, stages };
}

/** `k=v` pairs as ENV, ARG and LABEL write them (values optionally double-quoted). */
function pairs(args: string): [string, string | undefined][] {
  const out: [string, string | undefined][] = [];
  for (const m of args.matchAll(/([\w.-]+)(?:=("(?:[^"\\]|\\.)*"|\S*))?/g)) {
    const raw = m[2];
    out.push([m[1]!, raw === undefined ? undefined : raw.startsWith('"') ? (JSON.parse(raw) as string) : raw]);
  }
  return out;
}

const substitute = (s: string, vars: Record<string, string>) => s.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string | undefined, b: string | undefined) => vars[(a ?? b)!] ?? '');

// ---------------------------------------------------------------------------------------------------------
// .containerignore (the .dockerignore syntax: paths from the context root, * ? **, ! re-includes, last match
// wins, and a matching directory excludes everything under it)

function ignoreMatcher(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = posix.normalize((negate ? l.slice(1) : l).replace(/^\/+/, '')).replace(/\/+$/, '');
      let re = '';
      for (let i = 0; i < pattern.length; i++) {
        const c = pattern[i]!;
        if (c === '*' && pattern[i + 1] === '*') {
          // `**/` matches zero or more directories.
          re += pattern[i + 2] === '/' ? '(?:.*/)?' : '.*';
          i += pattern[i + 2] === '/' ? 2 : 1;
        } else if (c === '*') re += '[^/]*';
        else if (c === '?') re += '[^/]';
        else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
      }
      return { negate, re: new RegExp(`^${re}$`) };
    });
  return (path: string) => {
    const parts = path.split('/');
    const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let ignored = false;
    for (const r of rules) if (prefixes.some((p) => r.re.test(p))) ignored = !r.negate;
    return ignored;
  };
}

// ---------------------------------------------------------------------------------------------------------
// Replaying the stages

let work: string;
const nodeBin = dirname(process.execPath);

function run(cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; uid?: number; gid?: number; timeout?: number }) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(cmd, args, { ...opts, timeout: opts.timeout ?? 300_000, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** A clean environment for build steps: this Node first (the image's is Node 24 too), no enclosing npm run. */
function buildEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('npm_')) env[k] = v;
  return { ...env, ...vars, PATH: [nodeBin, process.env.PATH].filter(Boolean).join(delimiter), npm_config_prefer_offline: 'true' };
}

interface Built {
  root: string;
  workdir: string;
  env: Record<string, string>;
  user?: string;
  entrypoint: string[];
  cmd: string[];
  labels: Record<string, string>;
  instructions: Instruction[];
}

async function copyFromContext(src: string, dest: string, ignored: (p: string) => boolean): Promise<void> {
  if (/[*?[]/.test(src)) throw new Error(`COPY ${src}: wildcards are not replayed by this test`);
  const rel = posix.normalize(src).replace(/^\.\/?/, '');
  if (rel.startsWith('..')) throw new Error(`COPY ${src}: outside the context`);
  if (ignored(rel)) throw new Error(`COPY ${src}: excluded by .containerignore`);
  const from = join(REPO, rel);
  await stat(from).catch(() => {
    throw new Error(`COPY ${src}: not in the repository`);
  });
  await cp(from, dest, {
    recursive: true,
    filter: (f) => {
      const r = relative(REPO, f).split('\\').join('/');
      return r === '' || !ignored(r);
    },
  });
}

/**
 * Hard links where GNU cp makes them: the production node_modules is some 10,000 files, which a real copy takes
 * seconds for, and no stage is written to once a later one copies from it.
 */
async function copyBetweenStages(from: string, to: string): Promise<void> {
  const exists = await stat(to).then(
    () => true,
    () => false,
  );
  if (!exists && process.platform === 'linux') {
    const r = await run('cp', ['-al', from, to], { cwd: work, env: process.env });
    if (r.code === 0) return;
    await rm(to, { recursive: true, force: true });
  }
  await cp(from, to, { recursive: true, verbatimSymlinks: true });
}

async function replay(): Promise<{ stages: Map<string, Built>; runtime: Built }> {
  const { globalArgs, stages } = parseContainerfile(await readFile(join(REPO, 'Containerfile'), 'utf8'));
  const ignored = ignoreMatcher(await readFile(join(REPO, '.containerignore'), 'utf8').catch(() => ''));
  const globals: Record<string, string> = {};
  for (const a of globalArgs) for (const [k, v] of pairs(a.args)) globals[k] = v ?? '';
  const built = new Map<string, Built>();
  let last: Built | undefined;

  for (const [i, stage] of stages.entries()) {
    const root = join(work, `stage-${i}-${stage.name}`);
    await mkdir(root, { recursive: true });
    const b: Built = { root, workdir: '/', env: {}, entrypoint: [], cmd: [], labels: {}, instructions: stage.instructions };
    const args: Record<string, string> = {};
    const vars = () => ({ ...globals, ...args, ...b.env });
    const inRoot = (p: string) => join(root, posix.resolve(b.workdir, p));
    for (const ins of stage.instructions) {
      const a = substitute(ins.args, vars());
      switch (ins.op) {
        case 'ARG':
          for (const [k, v] of pairs(ins.args)) args[k] = v ?? '';
          break;
        case 'ENV':
          for (const [k, v] of pairs(a)) b.env[k] = v ?? '';
          break;
        case 'LABEL':
          for (const [k, v] of pairs(a)) b.labels[k] = v ?? '';
          break;
        case 'WORKDIR':
          b.workdir = posix.resolve(b.workdir, a);
          await mkdir(inRoot('.'), { recursive: true });
          break;
        case 'USER':
          b.user = a;
          break;
        case 'ENTRYPOINT':
        case 'CMD': {
          const form = JSON.parse(a) as unknown;
          assert.ok(Array.isArray(form), `${ins.op} must be in exec form (JSON), for an image that needs no shell`);
          if (ins.op === 'ENTRYPOINT') b.entrypoint = form as string[];
          else b.cmd = form as string[];
          break;
        }
        case 'COPY': {
          const words = a.split(/\s+/);
          const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
          const unknownFlag = words.find((w) => w.startsWith('--') && !w.startsWith('--from='));
          if (unknownFlag) throw new Error(`COPY ${unknownFlag}: not replayed by this test`);
          const paths = words.filter((w) => !w.startsWith('--'));
          const dest = paths.pop()!;
          const intoDir = dest.endsWith('/') || paths.length > 1;
          for (const src of paths) {
            const target = intoDir ? join(inRoot(dest), posix.basename(src)) : inRoot(dest);
            await mkdir(dirname(target), { recursive: true });
            if (from === undefined) await copyFromContext(src, target, ignored);
            else {
              const source = built.get(from);
              if (!source) throw new Error(`COPY --from=${from}: no such earlier stage`);
              if (!isAbsolute(src)) throw new Error(`COPY --from=${from} ${src}: give the absolute path`);
              await copyBetweenStages(join(source.root, src), target);
            }
          }
          break;
        }
        case 'RUN': {
          // The one substitution (see the top of the file).
          if (/^npm ci\b/.test(a) && !/--omit[= ]dev/.test(a)) {
            await symlink(join(REPO, 'node_modules'), inRoot('node_modules'), 'dir');
            break;
          }
          const r = await run('sh', ['-c', a], { cwd: inRoot('.'), env: buildEnv(b.env) });
          assert.equal(r.code, 0, `stage ${stage.name}: RUN ${a} failed:\n${r.stdout}\n${r.stderr}`);
          break;
        }
        default:
          throw new Error(`Containerfile: ${ins.op} is not replayed by this test; teach scripts/container.test.ts`);
      }
    }
    built.set(stage.name, b);
    last = b;
  }
  return { stages: built, runtime: last! };
}

// ---------------------------------------------------------------------------------------------------------

let image: Built;
let asUser: { uid: number; gid: number } | undefined;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'netwatch-image-'));
  image = (await replay()).runtime;
  // Run the components as the image's USER where we can switch to it (root, as in CI): they must need nothing
  // writable and nothing readable only by the builder.
  const [uid, gid] = (image.user ?? '').split(':').map(Number);
  if (process.getuid?.() === 0 && Number.isInteger(uid)) {
    asUser = { uid: uid!, gid: Number.isInteger(gid) ? gid! : uid! };
    // mkdtemp made the work folder private to us; the image's own folders are world-readable.
    await chmod(work, 0o755);
    await chmod(image.root, 0o755);
  }
});

after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** argv of the image's process for a component: ENTRYPOINT + the args the Deployment gives. */
function start(args: string[], env: Record<string, string> = {}, timeout = 60_000) {
  const [cmd, ...rest] = image.entrypoint;
  assert.ok(cmd, 'the runtime stage has an ENTRYPOINT');
  return run(cmd === 'node' ? process.execPath : cmd, [...rest, ...args], {
    cwd: join(image.root, image.workdir),
    // What a container gets: the image's ENV and little else (HOME is / for a user without a passwd entry).
    env: { PATH: [nodeBin, '/usr/local/bin', '/usr/bin', '/bin'].join(delimiter), HOME: '/', ...image.env, ...env },
    timeout,
    ...asUser,
  });
}

test('the runtime stage is non-root, shell-free, labelled, and carries production packages only', async () => {
  assert.ok(image.user && !/^(0|root)(:|$)/.test(image.user), `USER ${image.user}`);
  assert.ok(!image.instructions.some((i) => i.op === 'RUN'), 'no RUN in the runtime stage');
  for (const l of ['title', 'description', 'licenses', 'source', 'version', 'revision']) assert.ok(image.labels[`org.opencontainers.image.${l}`], `label ${l}`);
  const rootPkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { version: string; license: string; dependencies: Record<string, string>; devDependencies: Record<string, string> };
  assert.equal(image.labels['org.opencontainers.image.version'], rootPkg.version);
  assert.equal(image.labels['org.opencontainers.image.licenses'], rootPkg.license);

  const modules = join(image.root, image.workdir, 'node_modules');
  assert.ok(!(await lstat(modules)).isSymbolicLink(), 'node_modules comes from the production npm ci, not the build stage');
  for (const dep of Object.keys(rootPkg.dependencies)) await stat(join(modules, dep));
  for (const dev of ['esbuild', 'tsx', 'typescript', 'eslint', 'playwright-core', 'oidc-provider']) {
    assert.ok(dev in rootPkg.devDependencies);
    await assert.rejects(stat(join(modules, dev)), `${dev} is a dev dependency and must not be in the image`);
  }
  // Of our code, only the bundles (and their maps and the web UI's static files): no sources, no tests.
  const app = (await readdir(join(image.root, image.workdir))).sort();
  assert.deepEqual(app, ['dist', 'node_modules', 'package.json']);
});

test('each Deployment command exists in the image; webhook and controller start and print their flags', async () => {
  for (const component of ['webhook', 'controller', 'webui']) {
    const doc = parse(await readFile(join(REPO, 'manifests', component, 'deployment.yaml'), 'utf8')) as {
      spec: { template: { spec: { containers: { args?: string[] }[] } } };
    };
    const script = doc.spec.template.spec.containers[0]?.args?.[0];
    assert.equal(script, `dist/${component}.mjs`);
    await stat(join(image.root, image.workdir, script));
  }
  const webhook = await start(['dist/webhook.mjs', '--help']);
  assert.equal(webhook.code, 0, webhook.stderr);
  assert.match(webhook.stdout, /--tls-cert-file/);
  const controller = await start(['dist/controller.mjs', '--help']);
  assert.equal(controller.code, 0, controller.stderr);
  assert.match(controller.stdout, /--leader-elect/);
});

test('the web UI starts from the image layout and serves its static files', async () => {
  const port = await freePort();
  const kubeconfig = join(work, 'kubeconfig');
  // Never contacted: the web UI connects to the API server and the identity provider on demand.
  await writeFile(
    kubeconfig,
    'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:9"}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n',
  );
  await chmod(kubeconfig, 0o644);
  const [cmd, ...rest] = image.entrypoint;
  const child = spawn(cmd === 'node' ? process.execPath : cmd!, [...rest, 'dist/webui.mjs'], {
    cwd: join(image.root, image.workdir),
    env: {
      PATH: [nodeBin, '/usr/bin', '/bin'].join(delimiter),
      HOME: '/',
      ...image.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      KUBECONFIG: kubeconfig,
      NETWATCH_WEBUI_PUBLIC_URL: `http://127.0.0.1:${port}`,
      NETWATCH_WEBUI_SESSION_KEY: randomBytes(32).toString('base64'),
      NETWATCH_WEBUI_INSECURE_COOKIES: 'true',
      OIDC_ISSUER_URL: 'https://127.0.0.1:9/',
      OIDC_CLIENT_ID: 'netwatch',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...asUser,
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    let css: Response | undefined;
    for (const deadline = Date.now() + 30_000; !css; ) {
      if (child.exitCode !== null) assert.fail(`the web UI exited (${child.exitCode}):\n${output}`);
      if (Date.now() > deadline) assert.fail(`the web UI did not answer:\n${output}`);
      css = await fetch(`http://127.0.0.1:${port}/static/app.css`).catch(() => undefined);
      if (!css) await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(css.status, 200, output);
    assert.equal(await css.text(), await readFile(join(REPO, 'webui/static/app.css'), 'utf8'));
    const js = await fetch(`http://127.0.0.1:${port}/static/live.js`);
    assert.equal(js.status, 200);
    assert.equal(await js.text(), await readFile(join(REPO, 'webui/static/live.js'), 'utf8'));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, `the web UI did not stop cleanly on SIGTERM:\n${output}`);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
