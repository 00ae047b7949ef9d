// The first lines of every server's main.ts: parse the flags and variables, or print --help and exit 0, or stop with
// one fatal line naming each problem; then the component's logger, with the parser's warnings logged through it.
import { KubeConfig } from '@kubernetes/client-node';
import { pino, type Logger } from 'pino';
import { startup, type Parsed } from './flags.ts';

/** Exits the process unless the flags parse; returns what the parser gave and a logger at `logLevel(parsed)`. */
export function beginMain<T extends { warnings: string[] }>(component: string, parse: () => Parsed<T>, logLevel: (parsed: T) => string): { parsed: T; log: Logger } {
  const base = { component };
  const started = startup(parse);
  if (started.kind === 'stop') {
    if (started.code === 0) process.stdout.write(started.print);
    else pino({ base }).fatal(started.fatal);
    process.exit(started.code);
  }
  const parsed = started as T;
  const log = pino({ level: logLevel(parsed), base });
  for (const warning of parsed.warnings) log.warn(warning);
  return { parsed, log };
}

/** The kubeconfig a --kubeconfig flag names, or the default chain ($KUBECONFIG, ~/.kube/config, in-cluster). */
export function loadKubeConfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}
