// The two release channels of kubectl-netwatch, used the way a user would, outside the repository (so nothing
// can come from the checkout's node_modules): the npm tarball installed with `npm install -g`, and the krew
// archive extracted and linked the way krew does it. Both run --help, completion, `list -o json` against a
// fake API server on loopback and, where `script` gives a terminal, the lazily loaded Ink TUI.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, constants, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, delimiter, dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { parse } from 'yaml';
import { BUNDLE_FILES } from './build.ts';
import { buildKrewRelease } from './krew/build.ts';
import { PACKAGE_FILES, packPlugin, pluginManifest } from './pack.ts';
import { startSocksProxy, type TestProxy } from '../test/support/proxies.ts';

const REPO_VERSION = (JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

let work: string;
let server: Server;
let kubeconfig: string;
let execKubeconfig: string;
const apiCalls: string[] = [];
const authorizations: string[] = [];
let socks: TestProxy;
let socksKubeconfig: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'netwatch-release-'));
  // A stand-in API server: every AccessRequest list or watch gets an empty list, which is all the plugin needs
  // to prove it loads its kube client and talks HTTP from the installed bundle.
  server = createServer((req, res) => {
    apiCalls.push(`${req.method} ${req.url}`);
    authorizations.push(req.headers.authorization ?? '');
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ apiVersion: 'netwatch.vtk.io/v1alpha1', kind: 'AccessRequestList', metadata: { resourceVersion: '1' }, items: [] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  kubeconfig = join(work, 'kubeconfig');
  await writeFile(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      // Plain HTTP on loopback: the kube client allows it only with TLS verification off.
      `clusters: [{name: fake, cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]`,
      'users: [{name: tester, user: {token: not-a-secret}}]',
      'contexts: [{name: fake, context: {cluster: fake, user: tester, namespace: default}}]',
      'current-context: fake',
      '',
    ].join('\n'),
  );
  // The same server, with the token from an exec credential plugin (how EKS, GKE and kubelogin users sign in).
  const plugin = join(work, 'credential-plugin');
  await writeFile(plugin, `#!/bin/sh\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"from-exec-plugin"}}'\n`, { mode: 0o755 });
  execKubeconfig = join(work, 'kubeconfig-exec');
  await writeFile(
    execKubeconfig,
    (await readFile(kubeconfig, 'utf8')).replace(
      'users: [{name: tester, user: {token: not-a-secret}}]',
      `users: [{name: tester, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: "${plugin}", interactiveMode: Never}}}]`,
    ),
  );
  // A SOCKS5 proxy in front of the stand-in API server.
  socks = await startSocksProxy();
  socksKubeconfig = join(work, 'kubeconfig-socks');
  await writeFile(
    socksKubeconfig,
    (await readFile(kubeconfig, 'utf8')).replace('insecure-skip-tls-verify: true', `insecure-skip-tls-verify: true, proxy-url: "${socks.url}"`),
  );
});

after(async () => {
  await socks.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(work, { recursive: true, force: true });
});

/**
 * The environment of a user shell whose PATH has `binDir` and this test's Node (the bins start with
 * `#!/usr/bin/env node`), and whose kubeconfig is the fake one: never the developer's real cluster. npm's
 * own variables of an enclosing `npm run` are dropped, so the nested npm decides its prefix by itself.
 */
function userEnv(binDir?: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('npm_')) env[k] = v;
  // No empty entry: an empty PATH element means the current directory.
  const path = [binDir, dirname(process.execPath), process.env.PATH].filter(Boolean).join(delimiter);
  return { ...env, PATH: path, KUBECONFIG: kubeconfig, NO_COLOR: '1' };
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function sh(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: work, env, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** The checks both channels must pass, with `kubectl-netwatch` found on PATH in `binDir`. */
async function exercise(binDir: string, completionHelper: string): Promise<void> {
  const env = userEnv(binDir);

  const help = await sh('kubectl-netwatch', ['--help'], env);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /^kubectl netwatch: time-bound, approval-gated network access/);
  for (const cmd of ['request', 'list', 'approve', 'deny', 'revoke', 'completion']) assert.match(help.stdout, new RegExp(`kubectl netwatch ${cmd}\\b`));

  // kubectl (1.26+) runs the helper with the words after `netwatch`; cobra reads the last line as a directive.
  const completion = await sh(completionHelper, ['de'], env);
  assert.equal(completion.code, 0, completion.stderr);
  const lines = completion.stdout.trim().split('\n');
  assert.ok(lines.includes('describe'), completion.stdout);
  assert.equal(lines.at(-1), ':4');

  const before = apiCalls.length;
  const list = await sh('kubectl-netwatch', ['list', '-o', 'json', '--kubeconfig', kubeconfig], env);
  assert.equal(list.code, 0, list.stderr);
  assert.deepEqual((JSON.parse(list.stdout) as { items: unknown[] }).items, []);
  assert.ok(apiCalls.slice(before).some((c) => c.startsWith('GET /apis/netwatch.vtk.io/v1alpha1/accessrequests')), apiCalls.join('\n'));

  // The bundle defers loading child_process until an exec credential plugin runs (build.ts): it must still run.
  const viaExec = await sh('kubectl-netwatch', ['list', '-o', 'json', '--kubeconfig', execKubeconfig], env);
  assert.equal(viaExec.code, 0, viaExec.stderr);
  assert.equal(authorizations.at(-1), 'Bearer from-exec-plugin');

  // A SOCKS proxy-url is the full CLI's (the list path leaves the SOCKS client out): the same list goes through it.
  const viaSocks = await sh('kubectl-netwatch', ['list', '-o', 'json', '--kubeconfig', socksKubeconfig], env);
  assert.equal(viaSocks.code, 0, viaSocks.stderr);
  assert.deepEqual((JSON.parse(viaSocks.stdout) as { items: unknown[] }).items, []);
  assert.ok(socks.connects.length > 0, 'the request went through the SOCKS proxy');
  socks.connects.length = 0;

  await tuiStarts(env);
}

/**
 * Ink, React and yoga (WebAssembly) sit behind a dynamic import in the bundle: only the TUI loads them. It
 * needs a terminal; util-linux `script` provides one (elsewhere, this part is skipped: the TUI's own tests
 * cover its behaviour, this only proves the packaged bundle can load it).
 */
async function tuiStarts(env: NodeJS.ProcessEnv): Promise<void> {
  const hasScript = process.platform === 'linux' && (await sh('script', ['--version'], env)).code === 0;
  if (!hasScript) return;
  const before = apiCalls.length;
  const child = spawn('script', ['-qfec', `kubectl-netwatch tui --kubeconfig '${kubeconfig}'`, '/dev/null'], {
    cwd: work,
    env: { ...env, TERM: 'xterm-256color', COLUMNS: '120', LINES: '40' },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  let screen = '';
  child.stdout.on('data', (d: Buffer) => (screen += d.toString()));
  child.stderr.on('data', (d: Buffer) => (screen += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    // On the alternate screen, and the React app mounted far enough to start listing from the API server.
    const deadline = Date.now() + 20_000;
    while (!(screen.includes('\x1b[?1049h') && apiCalls.length > before)) {
      if (Date.now() > deadline || child.exitCode !== null) assert.fail(`the TUI did not start:\n${screen}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    child.stdin.write('q');
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), 10_000)))]);
    clearTimeout(timer);
    assert.equal(code, 0, `q did not quit the TUI cleanly:\n${screen}`);
    assert.doesNotMatch(screen, /ERR_MODULE_NOT_FOUND|Cannot find (module|package)/);
  } finally {
    if (child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGKILL');
    // Release our ends of its pipes, whatever happened.
    child.stdin.destroy();
    child.stdout.destroy();
    child.stderr.destroy();
  }
}

test('npm package: builds, packs only the bundle and bin scripts, installs offline and runs', async () => {
  const manifest = await pluginManifest();
  assert.equal(manifest.version, REPO_VERSION, 'plugin/package.json and package.json are released together');

  const packed = await packPlugin(join(work, 'npm-out'));
  assert.equal(basename(packed.tarball), `kubectl-netwatch-${REPO_VERSION}.tgz`);
  // Exactly the bundle, the two bin scripts and the metadata: no sources, tests, source maps or node_modules.
  assert.deepEqual(packed.files, [...PACKAGE_FILES].sort());

  const prefix = join(work, 'npm-global');
  const install = await sh('npm', ['install', '--global', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', packed.tarball], userEnv());
  assert.equal(install.code, 0, install.stderr);
  const pkgDir = join(prefix, 'lib', 'node_modules', 'kubectl-netwatch');
  // Self-contained: nothing was installed beside the package itself.
  assert.deepEqual((await readdir(join(prefix, 'lib', 'node_modules'))).filter((f) => !f.startsWith('.')), ['kubectl-netwatch']);
  await assert.rejects(access(join(pkgDir, 'node_modules')));
  const installed = JSON.parse(await readFile(join(pkgDir, 'package.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(installed.dependencies, undefined);
  assert.equal(installed.scripts, undefined);

  await exercise(join(prefix, 'bin'), 'kubectl_complete-netwatch');

  // An installation without its bundle, or with part of it, says what is wrong instead of looking for tsx.
  await rm(join(pkgDir, 'dist', BUNDLE_FILES.cli));
  const partial = await sh('kubectl-netwatch', ['--help'], userEnv(join(prefix, 'bin')));
  assert.equal(partial.code, 1);
  assert.match(partial.stderr, /this installation is incomplete: .*kubectl-netwatch-cli\.js is missing/);
  await rm(join(pkgDir, 'dist'), { recursive: true });
  const broken = await sh('kubectl-netwatch', ['--help'], userEnv(join(prefix, 'bin')));
  assert.equal(broken.code, 1);
  assert.match(broken.stderr, /this installation is incomplete: .*kubectl-netwatch\.mjs is missing/);
});

test('krew: the archive matches the manifest sha256, holds the plugin files and runs when linked like krew does', async () => {
  const out = join(work, 'krew-out');
  const release = await buildKrewRelease({ outDir: out, repository: 'example/netwatch' });
  const archiveBytes = await readFile(release.archive);
  assert.equal(createHash('sha256').update(archiveBytes).digest('hex'), release.sha256);

  const text = await readFile(release.manifest, 'utf8');
  assert.doesNotMatch(text, /\{\{/);
  const m = parse(text) as {
    apiVersion: string;
    kind: string;
    metadata: { name: string };
    spec: { version: string; homepage: string; shortDescription: string; caveats: string; platforms: { selector: unknown; uri: string; sha256: string; bin: string }[] };
  };
  assert.equal(m.apiVersion, 'krew.googlecontainertools.github.com/v1alpha2');
  assert.equal(m.kind, 'Plugin');
  assert.equal(m.metadata.name, 'netwatch');
  assert.equal(m.spec.version, `v${REPO_VERSION}`);
  assert.equal(m.spec.homepage, 'https://github.com/example/netwatch');
  assert.match(m.spec.caveats, /Node\.js 22 or later/);
  assert.ok(m.spec.platforms.length > 0);
  for (const p of m.spec.platforms) {
    assert.equal(p.sha256, release.sha256);
    assert.equal(p.uri, `https://github.com/example/netwatch/releases/download/v${REPO_VERSION}/${basename(release.archive)}`);
    assert.ok(release.entries.includes(p.bin), `bin ${p.bin} is in the archive`);
  }
  assert.deepEqual(release.entries.filter((e) => !e.endsWith('/')).sort(), [...PACKAGE_FILES].sort());

  // Built again, byte for byte the same archive: a rebuild cannot invalidate a published manifest.
  const again = await buildKrewRelease({ outDir: join(work, 'krew-again'), repository: 'example/netwatch' });
  assert.equal(again.sha256, release.sha256);

  // krew extracts into store/<name>/<version>/ and links bin/kubectl-<name> to the manifest's `bin`.
  const store = join(work, 'krew', 'store', 'netwatch', m.spec.version);
  const krewBin = join(work, 'krew', 'bin');
  await mkdir(store, { recursive: true });
  await mkdir(krewBin, { recursive: true });
  const untar = await sh('tar', ['-xzf', release.archive, '-C', store], userEnv());
  assert.equal(untar.code, 0, untar.stderr);
  await access(join(store, m.spec.platforms[0]!.bin), constants.X_OK);
  await symlink(join(store, m.spec.platforms[0]!.bin), join(krewBin, 'kubectl-netwatch'));

  await exercise(krewBin, join(store, 'bin', 'kubectl_complete-netwatch'));

  // And through kubectl's own plugin lookup, where kubectl is installed.
  const env = userEnv(krewBin);
  if ((await sh('kubectl', ['version', '--client'], env)).code === 0) {
    const viaKubectl = await sh('kubectl', ['netwatch', '--help'], env);
    assert.equal(viaKubectl.code, 0, viaKubectl.stderr);
    assert.match(viaKubectl.stdout, /^kubectl netwatch: time-bound/);
  }
});
