// The process entry of kubectl-netwatch: the only place that touches process.argv, the exit code and signals.
// `list -o json`, what scripts run most, takes a short path (fast-path.ts); everything else goes through the CLI.
// Both are loaded on demand, so neither pays for the other: in the bundle they are separate files (build.ts), and
// a command reads only the one it runs, through a code cache kept for it (code-cache.ts).
import { cliVariant, codeCacheDir, configureCodeCache } from './code-cache.ts';
import { fastListOptions } from './fast-path.ts';
import { parts } from './parts.ts';

const argv = process.argv.slice(2);
// stdin and stderr are opened on first use: merely touching process.stdin loads readline and stream machinery
// that a scripted `list -o json` never needs.
const io = {
  stdout: process.stdout,
  get stderr() {
    return process.stderr;
  },
  get stdin() {
    return process.stdin;
  },
};
// A reader that stops early (`| head`) closes the pipe: stop quietly, as kubectl does, rather than crash on EPIPE.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(process.exitCode ?? 0);
});
const fast = fastListOptions(argv);
configureCodeCache({ dir: codeCacheDir(process.env), variant: cliVariant(argv) });
let code: number | 'cli' = 'cli';
if (fast) {
  const { runListJson } = await parts.list();
  code = await runListJson(fast, io);
  // Printed and flushed (writeOut waits until the stream has taken the list): exit now. Letting the process end by
  // itself first tears the environment and heap down, ~7 ms for a command that is over (scripts/bench/plugin.ts).
  if (code === 0) process.exit(0);
}
if (code === 'cli') {
  const interrupted = new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  const { run } = await parts.cli();
  code = await run(argv, Object.assign(io, { interrupted, env: process.env })); // assign, not spread: spreading reads the getters
}
// Let pending stdout writes drain (a piped `list -o json` can be large) instead of process.exit() cutting them.
process.exitCode = code;
// A finished command must not linger on open handles (watch sockets, stdin in raw mode after the TUI).
setTimeout(() => process.exit(code), 50).unref();
