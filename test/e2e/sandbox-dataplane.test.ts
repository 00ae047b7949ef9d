// `npm start -- --dataplane` (startSandbox with the dataplane): the demo Services' pods come up as network
// namespaces behind kube-router, and each demo flow's printed command is blocked until the printed request, made as
// alice with the real plugin, is approved by the printed approvers; then the same command connects. The banner's
// commands are run exactly as a user would copy them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataplaneUnavailable } from '../../scripts/dataplane.ts';
import { startSandbox, type Sandbox } from '../../scripts/sandbox.ts';
import { waitFor } from '../support/wait.ts';

const unavailable = dataplaneUnavailable();
let sandbox: Sandbox | undefined;
let stateDir: string;

function sh(command: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('bash', ['-c', command], { env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${command}: ${stderr || err.message}`)) : resolve(stdout.trim()),
    );
  });
}

/** The banner's `kubectl netwatch …` as one of the demo people, through the sandbox's own plugin bundle. */
function asPerson(person: string, command: string): Promise<string> {
  const s = sandbox!;
  return sh(command.replace(/^kubectl netwatch /, 'kubectl-netwatch '), { KUBECONFIG: s.kubeconfigs[person] ?? '', PATH: `${s.binDir}:${process.env.PATH ?? ''}` });
}

describe('the sandbox with a dataplane', { skip: unavailable }, () => {
  before(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'netwatch-sandbox-dp-'));
    sandbox = await startSandbox({ port: 0, stateDir: join(stateDir, 'state'), dataplane: true, log: () => undefined });
  });

  after(async () => {
    await sandbox?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('prints two flows; each is blocked until its request is approved, then connects', async () => {
    const d = sandbox!.dataplane;
    assert.ok(d && 'flows' in d, `no dataplane: ${JSON.stringify(d)}`);
    assert.equal(d.flows.length, 2);
    for (const flow of d.flows) {
      assert.equal(await sh(flow.probe), 'blocked', `${flow.title} before any request`);
      const created = await asPerson('alice', flow.request);
      const name = /^accessrequest\.netwatch\.vtk\.io\/(\S+) created/m.exec(created)?.[1];
      assert.ok(name, created);
      assert.equal(await sh(flow.probe), 'blocked', `${flow.title} while pending`);
      for (const approver of flow.approvers) await asPerson(approver.split(' ')[0] ?? '', `kubectl netwatch approve ${name}`);
      await waitFor(`${flow.title} to connect`, async () => (await sh(flow.probe)) === 'connected', 30_000, 250);
      await asPerson('alice', `kubectl netwatch revoke ${name}`);
      await waitFor(`${flow.title} to be blocked again`, async () => (await sh(flow.probe)) === 'blocked', 30_000, 250);
    }
  });
});
