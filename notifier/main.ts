// The notifier process: the only file that reads flags and the environment (options.ts parses and checks flags and
// NETWATCH_NOTIFIER_* variables), the kubeconfig and the configuration file (config.ts); it checks that every
// secret file the configuration names can be read, listens for probes and metrics, or exits. Runs until SIGTERM. A
// mistake in any of them stops it with one fatal line naming the flag, variable or field, before it sends anything.
import { access, constants, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { hideBin } from 'yargs/helpers';
import { beginMain, loadKubeConfig } from '../lib/cli/main.ts';
import { electionOf } from '../lib/cli/leader.ts';
import { runLeaderElected } from '../lib/kube/leader-elected.ts';
import { NotifierApp } from './app.ts';
import { ConfigError, filesOf, parseConfig, type NotifierConfig } from './config.ts';
import { createNotifierMetrics } from './metrics.ts';
import { parseNotifierArgs } from './options.ts';

const { parsed, log } = beginMain('netwatch-notifier', () => parseNotifierArgs(hideBin(process.argv), process.env), (p) => p.options.logLevel);
const { options } = parsed;
const kc = loadKubeConfig(options.kubeconfig);

async function loadConfig(path: string, from: string): Promise<NotifierConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`${from}: cannot read ${path} (${(e as { code?: string }).code ?? 'error'})`);
  }
  const config = parseConfig(text, path);
  // Only that each can be read: their contents are read again at every delivery and never printed.
  const unreadable: string[] = [];
  for (const f of filesOf(config)) {
    await access(f.path, constants.R_OK).catch((e: { code?: string }) => unreadable.push(`${f.field}: cannot read ${f.path} (${e.code ?? 'error'})`));
  }
  if (unreadable.length > 0) throw new ConfigError(`${path}: ${unreadable.join('; ')}`);
  return config;
}

let config: NotifierConfig;
try {
  config = await loadConfig(options.configFile, options.configFrom);
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  log.fatal(e.message);
  process.exit(1);
}
if (config.sinks.length === 0) log.warn({ config: options.configFile }, 'no sinks are configured: nothing will be sent');

const identity = options.identity ?? process.env.POD_NAME ?? hostname();
const app = new NotifierApp({
  kubeConfig: kc,
  config,
  log,
  metrics: createNotifierMetrics({ defaultMetrics: true }),
  settings: { ...options.settings, identity },
  leaderElection: electionOf(options),
});

await runLeaderElected(app, options.listen, log);
