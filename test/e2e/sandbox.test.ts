// `npm start` end to end, in a real terminal (tmux): the sandbox comes up with the webhook, controller, notifier
// and web UI each in a process of its own running its main.ts bundle with its Deployment's flags and the flags
// passed after its name (`controller --isolation=refuse`, `webhook --max-duration=8h`, which both visibly take
// effect), opens the TUI as alice, a request made with the plugin as alice is announced to bob and carol (mail and
// the chat stand-in, through the notifier and the sandbox's local receivers, one output line per delivery), and
// approved by them goes Active (the TUI shows it live; alice hears of it), bob signs in to the web UI through the
// sandbox's IdP in a real Chromium and sees it, quitting the TUI leaves the sandbox running and prints the
// deliveries made meanwhile, and Ctrl-C stops everything: no process and no temporary folder is left behind.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { basename } from 'node:path';
import { connect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import type { SandboxState } from '../../scripts/sandbox.ts';
import { waitFor } from '../support/wait.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SOCKET = `netwatch-sandbox-${process.pid}`;
const SESSION = 'sandbox';


function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} ${args.join(' ')}: ${stderr || err.message}`)) : resolve({ stdout, stderr }),
    );
  });
}

const tmux = async (...args: string[]) => (await run('tmux', ['-L', SOCKET, ...args])).stdout;
const screen = () => tmux('capture-pane', '-p', '-t', SESSION);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** waitFor, with the terminal's content in the error: what the user would have seen. */
async function eventually<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  try {
    return await waitFor(what, fn, timeoutMs, 300);
  } catch (err) {
    const pane = await screen().catch(() => '(no pane)');
    throw new Error(`${(err as Error).message}\n--- terminal:\n${pane}`, { cause: err });
  }
}

const waitForScreen = (pattern: RegExp, timeoutMs = 60_000) => eventually(String(pattern), async () => pattern.exec(await screen()) ?? undefined, timeoutMs);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** base64 SHA-256 of the web UI's serving key, so Chromium trusts exactly that certificate. */
async function spkiOf(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), rejectUnauthorized: false }, () => {
      const cert = socket.getPeerCertificate();
      socket.end();
      const spki = new X509Certificate(cert.raw).publicKey.export({ type: 'spki', format: 'der' });
      resolve(createHash('sha256').update(spki).digest('base64'));
    });
    socket.on('error', reject);
  });
}

describe('npm start: the sandbox', () => {
  const stateDir = join(mkdtempSync(join(tmpdir(), 'netwatch-sandbox-test-')), 'state');
  let state: SandboxState;
  let browser: Browser | undefined;

  before(async () => {
    // `npm start` itself, in a 200x50 terminal, with the shell reporting the exit code afterwards. PATH is the
    // machine's, whose node may be older than the project's: npm runs the project's own.
    // The shell traps Ctrl-C so that it lives on to print the sandbox's exit code (its children still get it).
    // CI=true as on CI machines, where Ink would otherwise draw nothing until exit: the TUI must draw regardless.
    // Flags after a component's name go to that component.
    const command = `trap 'true' INT; CI=true npm start --silent -- --port 0 --state-dir '${stateDir}' controller --isolation=refuse webhook --max-duration 8h; echo "EXITED:$?"; sleep 600`;
    await tmux('new-session', '-d', '-s', SESSION, '-x', '200', '-y', '50', '-c', REPO, 'sh', '-c', command);
    await eventually('sandbox.json', async () => existsSync(join(stateDir, 'sandbox.json')), 180_000);
    state = JSON.parse(readFileSync(join(stateDir, 'sandbox.json'), 'utf8')) as SandboxState;
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    // If a test failed before Ctrl-C, stop the sandbox the same way, then drop the terminal.
    await tmux('send-keys', '-t', SESSION, 'C-c').catch(() => undefined);
    await sleep(3000);
    await tmux('kill-server').catch(() => undefined);
    rmSync(join(stateDir, '..'), { recursive: true, force: true });
  });

  it('runs each component as a process of its own: its main.ts, bundled, with the Deployment\'s flags and the ones passed', () => {
    assert.deepEqual(state.components.map((c) => c.name).sort(), ['controller', 'notifier', 'webhook', 'webui']);
    const pids = new Set<number>();
    for (const c of state.components) {
      assert.ok(alive(c.pid), `${c.name} (pid ${c.pid}) runs`);
      assert.notEqual(c.pid, state.sandboxPid);
      pids.add(c.pid);
      // What the kernel says the process runs, not only what the sandbox recorded.
      const argv = readFileSync(`/proc/${c.pid}/cmdline`, 'utf8').split('\0').slice(1, -1);
      assert.deepEqual(argv, c.argv);
      const bundle = argv.find((a) => a.endsWith('.mjs')) ?? assert.fail(`${c.name}: no bundle in ${argv.join(' ')}`);
      assert.equal(bundle, join(state.bundlesDir, `${c.name}.mjs`));
      // The bundle's entry is the component's main.ts (its source map names the sources it was built from).
      const sources = (JSON.parse(readFileSync(`${bundle}.map`, 'utf8')) as { sources: string[] }).sources.map((f) => f.replace(/^(\.\.\/)+/, ''));
      assert.ok(sources.includes(`${c.name}/main.ts`), `${basename(bundle)} is built from ${c.name}/main.ts`);
      assert.ok(argv.includes('--enable-source-maps'), "the image's Node flags");
    }
    assert.equal(pids.size, 4, 'four processes');
    const argvOf = (name: string) => state.components.find((c) => c.name === name)?.argv ?? [];
    // The Deployment's flags, with a passed flag in place of the Deployment's own value.
    assert.ok(argvOf('controller').includes('--pending-ttl=168h'), argvOf('controller').join(' '));
    assert.ok(argvOf('controller').includes('--isolation=refuse'));
    assert.ok(!argvOf('controller').includes('--isolation=skip'));
    assert.ok(argvOf('webhook').includes('--controller-username=system:serviceaccount:netwatch-system:netwatch-controller'));
    assert.deepEqual(argvOf('webhook').filter((a) => a.startsWith('--max-duration') || a === '8h'), ['--max-duration', '8h']);
    // The web UI's Deployment configures it with NETWATCH_WEBUI_* variables; the sandbox's own flags come on top.
    assert.ok(argvOf('webui').some((a) => a === `--public-url=${state.webUrl}`));
    // The notifier's Deployment flags, its configuration written by the sandbox, and links to the sandbox's web UI.
    assert.ok(argvOf('notifier').includes('--pending-reminder=4h'), argvOf('notifier').join(' '));
    assert.ok(argvOf('notifier').includes(`--web-url=${state.webUrl}`));
    assert.ok(argvOf('notifier').includes(`--config=${join(stateDir, 'notifier', 'config.json')}`));
  });

  it('--isolation=refuse reached the controller: a request whose policy would newly isolate pods fails, saying why', async () => {
    const admin = { KUBECONFIG: state.kubeconfigs['admin'], PATH: `${state.binDir}:/usr/bin:/bin` };
    // Namespaces without any NetworkPolicy: a grant there would cut the pods' other traffic.
    for (const ns of ['open-a', 'open-b']) await run('kubectl', ['create', 'namespace', ns], admin);
    await run('kubectl', ['-n', 'open-a', 'create', 'service', 'clusterip', 'api', '--tcp=80:8080'], admin);
    await run('kubectl', ['-n', 'open-b', 'create', 'service', 'clusterip', 'db', '--tcp=5432:5432'], admin);
    // The admin may approve both parts, so the request is fully approved at creation.
    const created = await run('kubectl', ['netwatch', 'request', 'service', '--from', 'open-a/api', '--to', 'open-b/db', '--ports', '5432/TCP', '--duration', '1h', '--reason', 'isolation', '-o', 'name'], admin);
    const arName = created.stdout.trim().split('/').pop() ?? assert.fail(created.stdout);
    const outcome = await eventually('the request to fail', async () => {
      const out = (await run('kubectl', ['get', 'accessrequest', arName, '-o', 'jsonpath={.status.phase} {.status.conditions[?(@.type=="Ready")].reason}'], admin)).stdout;
      return out.startsWith('Failed') ? out : undefined;
    });
    // With the Deployment's --isolation=skip the part would have been skipped instead.
    assert.equal(outcome, 'Failed WouldIsolate');
  });

  it('--max-duration 8h reached the webhook: a request for 9h is refused at admission', async () => {
    const alice = { KUBECONFIG: state.kubeconfigs['alice'], PATH: `${state.binDir}:/usr/bin:/bin` };
    const refused = await run('kubectl', ['netwatch', 'request', 'service', '--from', 'monitoring/prometheus', '--to', 'payments/database', '--ports', '5432/TCP', '--duration', '9h', '--reason', 'too long'], alice).then(
      () => assert.fail('a 9h request was created'),
      (err: Error) => err.message,
    );
    assert.match(refused, /spec\.duration: must be at most 8h on this cluster/);
  });

  it('opens the TUI as alice on the terminal', async () => {
    await waitForScreen(/● live/);
    const who = await run('kubectl', ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], { KUBECONFIG: state.kubeconfigs['alice'] });
    assert.equal(who.stdout, 'alice');
  });

  /** The deliveries so far, as the sandbox wrote them: one line each (sink, to whom, subject), after a time stamp. */
  const deliveries = () => readFileSync(state.notifications.log, 'utf8').split('\n').filter(Boolean).map((l) => l.slice(l.indexOf(' ') + 1));
  /** Waits until exactly one delivery line matches each pattern, and no second one turns up meanwhile. */
  const delivered = (patterns: RegExp[]) =>
    eventually(`one delivery each: ${patterns.join(', ')}`, async () => {
      const lines = deliveries();
      const counts = patterns.map((p) => lines.filter((l) => p.test(l)).length);
      assert.ok(counts.every((c) => c <= 1), `a notification was sent twice:\n${lines.join('\n')}`);
      if (counts.every((c) => c === 1)) return lines;
      throw new Error(`so far:\n${lines.join('\n')}`);
    });

  let name = '';
  it('a request made as alice is announced to bob and carol, and approved by them goes Active, live in the TUI; alice hears of it', async () => {
    // As the banner says: the sandbox's bin folder first on PATH (it has kubectl-netwatch and a new enough node).
    const env = (user: string) => ({ KUBECONFIG: state.kubeconfigs[user], PATH: `${state.binDir}:/usr/bin:/bin` });
    const created = await run('kubectl', ['netwatch', 'request', 'service', '--from', 'monitoring/prometheus', '--to', 'payments/database', '--ports', '5432/TCP', '--duration', '1h', '--reason', 'sandbox test'], env('alice'));
    name = /accessrequest\.netwatch\.vtk\.io\/(\S+) created/.exec(created.stdout)?.[1] ?? '';
    assert.ok(name, created.stdout);
    await waitForScreen(new RegExp(`${name}.*Pending`));
    // The notifier, through the sandbox's receivers: each part's approver by mail (the namespace's annotation names
    // them), and the team chat, each exactly once.
    await delivered([
      new RegExp(`^notification  mail \\(email\\) +to bob@example\\.test: \\[netwatch\\] ${name}: approval needed in payments$`),
      new RegExp(`^notification  mail \\(email\\) +to carol@example\\.test: \\[netwatch\\] ${name}: approval needed in monitoring$`),
      new RegExp(`^notification  team-chat \\(slack\\) +to /\\S+: netwatch: ${name}: approval needed in payments$`),
      new RegExp(`^notification  team-chat \\(slack\\) +to /\\S+: netwatch: ${name}: approval needed in monitoring$`),
    ]);
    assert.match((await run('kubectl', ['netwatch', 'approve', name], env('bob'))).stdout, /approved \(target\)/);
    assert.match((await run('kubectl', ['netwatch', 'approve', name], env('carol'))).stdout, /approved \(source\)/);
    await waitForScreen(new RegExp(`${name}.*Active`));
    const policies = await eventually('maxtac policy in payments', async () => {
      const out = (await run('kubectl', ['get', 'networkpolicies', '-n', 'payments', '-o', 'name'], { KUBECONFIG: state.kubeconfigs['admin'] })).stdout;
      return out.split('\n').filter((l) => l.includes('nwat-')).length > 0 ? out : undefined;
    });
    assert.match(policies, /networkpolicy\.networking\.k8s\.io\/nwat-/);
    // kubectl's printer columns: Expires shows the time (a `date` column would print <invalid> for the future).
    const row = (await run('kubectl', ['get', 'accessrequests', name, '--no-headers'], { KUBECONFIG: state.kubeconfigs['admin'] })).stdout;
    assert.match(row, /\bActive\s+alice\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
    assert.doesNotMatch(row, /<invalid>/);
    // The requester hears that access opened: by mail at the demo address, and on the CloudEvents endpoint.
    await delivered([
      new RegExp(`^notification  mail \\(email\\) +to alice@example\\.test: \\[netwatch\\] ${name}: access open$`),
      new RegExp(`^notification  audit-events \\(cloudevents\\) +to requester alice: ${name}: active$`),
    ]);
  });

  it('bob signs in to the web UI through the sandbox IdP and sees the request Active', async () => {
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', `--ignore-certificate-errors-spki-list=${await spkiOf(state.webUrl)}`],
    });
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${state.webUrl}/`);
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.locator('input[name=login]').fill('bob');
    await page.locator('input[name=password]').fill('any');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    await page.waitForURL((u) => u.href.startsWith(state.webUrl) || u.pathname.includes('/interaction/'));
    if (!page.url().startsWith(state.webUrl)) await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(`${state.webUrl}/`);
    // The OIDC subject is the Kubernetes username: the same bob as the token user the TUI uses.
    assert.equal(await page.getByTestId('username').textContent({ timeout: 20_000 }), 'bob');
    await page.goto(`${state.webUrl}/requests/${name}`);
    await page.getByText('Active').first().waitFor({ timeout: 20_000 });
  });

  it('quitting the TUI leaves the sandbox running; Ctrl-C stops everything and leaves nothing behind', async () => {
    await tmux('send-keys', '-t', SESSION, 'q');
    await waitForScreen(/The TUI closed; the sandbox is still running/);
    // What was delivered while the TUI owned the terminal is printed once it is closed, one line each.
    await waitForScreen(/While the TUI was open, netwatch sent \d+ notification\(s\):/);
    assert.match(await screen(), new RegExp(`notification  mail \\(email\\) +to bob@example\\.test: \\[netwatch\\] ${name}: approval needed in payments`));
    // Nothing was delivered twice (a second delivery of a notice is the same line again).
    const lines = deliveries();
    assert.deepEqual(lines.filter((l, i) => lines.indexOf(l) !== i), []);
    const livez = await run('kubectl', ['get', '--raw', '/livez'], { KUBECONFIG: state.kubeconfigs['admin'] });
    assert.equal(livez.stdout.trim(), 'ok', 'the API server still answers');
    await tmux('send-keys', '-t', SESSION, 'C-c');
    // npm reports an interrupted script as 130, like a shell; the sandbox itself exits 0 after its clean-up.
    await waitForScreen(/EXITED:(0|130)\b/, 60_000);
    const pane = await screen();
    assert.match(pane, /Stopped; nothing left behind/);
    assert.doesNotMatch(pane, /timed out after/, 'every part stopped in time (an open web UI tab included)');
    for (const pid of state.controlPlanePids) assert.equal(alive(pid), false, `control-plane process ${pid} is gone`);
    for (const c of state.components) assert.equal(alive(c.pid), false, `${c.name} process ${c.pid} is gone`);
    assert.equal(existsSync(state.controlPlaneDir), false, 'the control plane folder is removed');
    assert.equal(existsSync(state.bundlesDir), false, 'the bundles are removed');
    assert.equal(existsSync(stateDir), false, 'the state folder is removed');
  });
});
