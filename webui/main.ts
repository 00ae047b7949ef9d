// The web UI process: the only file that reads flags/environment (options.ts parses and checks flags and
// NETWATCH_WEBUI_* variables), opens the listening socket or exits.
import { readFileSync } from 'node:fs';
import type { Server } from 'node:https';
import { hideBin } from 'yargs/helpers';
import { beginMain, loadKubeConfig } from '../lib/cli/main.ts';
import { readServingFiles, reloadWhenChanged } from '../lib/server/serving-certificate.ts';
import { build } from './app.ts';
import { kubeGateway } from './kube.ts';
import { openIdClient } from './oidc.ts';
import { parseWebUiArgs } from './options.ts';
import { configMapRevocations } from './revocations-configmap.ts';

const { parsed, log: logger } = beginMain('netwatch-webui', () => parseWebUiArgs(hideBin(process.argv), process.env, (p) => readFileSync(p, 'utf8')), (p) => p.settings.server.logLevel);
const { settings } = parsed;

function fail(message: string): never {
  logger.fatal(message);
  process.exit(1);
}

const kc = loadKubeConfig(settings.server.kubeconfig);

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
