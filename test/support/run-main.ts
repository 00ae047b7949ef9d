// A server's real entry point run as a process from the sources (tsx), for the start-up tests of its main.ts.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface MainResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `entry` (a path from the repository root, e.g. `controller/main.ts`) with `args` until it exits. */
export function runMain(entry: string, args: string[]): Promise<MainResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}
