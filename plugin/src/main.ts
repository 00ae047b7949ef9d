// The process entry of kubectl-netwatch: the only place that touches process.argv, the exit code and signals.
import { run } from './cli.ts';

const interrupted = new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
// stdin and stderr are opened on first use: merely touching process.stdin loads readline and stream machinery
// that a scripted `list -o json` never needs.
const code = await run(process.argv.slice(2), {
  stdout: process.stdout,
  get stderr() {
    return process.stderr;
  },
  get stdin() {
    return process.stdin;
  },
  interrupted,
});
// Let pending stdout writes drain (a piped `list -o json` can be large) instead of process.exit() cutting them.
process.exitCode = code;
// A finished command must not linger on open handles (watch sockets, stdin in raw mode after the TUI).
setTimeout(() => process.exit(code), 50).unref();
