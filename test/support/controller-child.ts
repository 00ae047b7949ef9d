// The controller as a separate process (controller/main.ts from source, as the netwatch-controller identity), for
// suites that kill it: a SIGKILL gives it no chance to finish a write or release its Lease, as a node failure would.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ControlPlane } from '../../scripts/controlplane.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NODE = `${ROOT}node_modules/.bin/node`;

/** The last `max` characters a process wrote, across restarts: what a failure message shows. */
export class OutputTail {
  private value = '';
  constructor(private readonly max = 20_000) {}
  add(chunk: Buffer): void {
    this.value = (this.value + chunk.toString()).slice(-this.max);
  }
  text(last = this.max): string {
    return this.value.slice(-last);
  }
}

/** Starts the controller with `args` after its kubeconfig (the controller's RBAC must be applied already). */
export function spawnController(cp: ControlPlane, args: string[], output?: OutputTail): ChildProcess {
  const child = spawn(NODE, ['--import', 'tsx', 'controller/main.ts', '--kubeconfig', cp.kubeconfigPathFor('netwatch-controller'), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (b: Buffer) => output?.add(b);
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return child;
}

/** Sends `signal` and resolves once the process is gone (at once if it already is). */
export async function kill(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await exited;
}
