// The web UI process: the only file that reads flags/environment (options.ts parses and checks flags and
// NETWATCH_WEBUI_* variables), opens the listening socket or exits.
import { readFileSync } from 'node:fs';
import type { Server } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { hideBin } from 'yargs/helpers';
import { startup } from '../lib/cli/flags.ts';
import { readServingFiles, reloadWhenChanged } from '../lib/server/serving-certificate.ts';
import { build } from './app.ts';
import { kubeGateway } from './kube.ts';
import { openIdClient } from './oidc.ts';
import { parseWebUiArgs } from './options.ts';
import { configMapRevocations } from './revocations-configmap.ts';

const component = { component: 'netwatch-webui' };

const parsed = startup(() => parseWebUiArgs(hideBin(process.argv), process.env, (p) => readFileSync(p, 'utf8')));
if (parsed.kind === 'stop') {
  if (parsed.code === 0) process.stdout.write(parsed.print);
  else pino({ base: component }).fatal(parsed.fatal);
  process.exit(parsed.code);
}
const { settings, warnings } = parsed;

const logger = pino({ level: settings.server.logLevel, base: component });
for (const warning of warnings) logger.warn(warning);

function fail(message: string): never {
  logger.fatal(message);
  process.exit(1);
}

const kc = new KubeConfig();
if (settings.server.kubeconfig) kc.loadFromFile(settings.server.kubeconfig);
else kc.loadFromDefault();

const servingFiles = settings.server.tls;
let https: { cert: string; key: string } | undefined;
try {
  https = servingFiles && readServingFiles(servingFiles);
} catch (err) {
  fail(`cannot read the serving certificate: ${(err as Error).message}`);
}

const app = await build(settings.app, {
  oidc: openIdClient(settings.oidc),
  kube: kubeGateway(kc),
  // Sign-outs are kept with the web UI's own identity (its ServiceAccount, or the kubeconfig's user).
  revocations: configMapRevocations(kc),
  logger: { level: settings.server.logLevel },
  https,
});
// cert-manager rotates the Secret in place; pick the new pair up without a restart.
if (servingFiles) reloadWhenChanged(app.server as Server, servingFiles, logger);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    logger.info({ signal }, 'shutting down');
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}

try {
  await app.listen({ host: settings.server.host, port: settings.server.port });
} catch (err) {
  fail(`cannot listen: ${(err as Error).message}`);
}
