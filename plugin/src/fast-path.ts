// Which command lines may skip the command-line parser: `list -o json` (or its aliases ls, get) with at most
// --kubeconfig, --context and -A/--all-namespaces, each in a form yargs reads the same way. Anything else (another
// flag, a repeated one, -n, --help, an unusual spelling) returns undefined and goes through the full CLI, which is
// always correct; this only has to be right about what it accepts. Pure and dependency-free: main.ts loads it for
// every command.
import type { KubeOptions } from './services/kube.ts';

const VALUED = new Set(['--kubeconfig', '--context', '--output', '-o']);

export function fastListOptions(argv: readonly string[]): KubeOptions | undefined {
  const seen = new Map<string, string>();
  let command = false;
  let all = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if ((arg === 'list' || arg === 'ls' || arg === 'get') && !command) {
      command = true;
      continue;
    }
    if ((arg === '-A' || arg === '--all-namespaces') && !all) {
      all = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    if (!VALUED.has(flag)) return undefined;
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    const key = flag === '-o' ? '--output' : flag;
    if (value === undefined || value === '' || value.startsWith('-') || seen.has(key)) return undefined;
    seen.set(key, value);
  }
  if (!command || seen.get('--output') !== 'json') return undefined;
  const opts: KubeOptions = {};
  const kubeconfig = seen.get('--kubeconfig');
  const context = seen.get('--context');
  if (kubeconfig !== undefined) opts.kubeconfig = kubeconfig;
  if (context !== undefined) opts.context = context;
  return opts;
}
