// The web UI process: the only place that reads the environment and opens a socket.
import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { build } from './app.ts';
import { settingsFromEnv } from './config.ts';
import { kubeGateway } from './kube.ts';
import { openIdClient } from './oidc.ts';
import { configMapRevocations } from './revocations-configmap.ts';

async function main(): Promise<void> {
  const settings = settingsFromEnv(process.env, (p) => readFileSync(p, 'utf8'));
  const kc = new KubeConfig();
  if (settings.server.kubeconfig) kc.loadFromFile(settings.server.kubeconfig);
  else kc.loadFromCluster();
  const app = await build(settings.app, {
    oidc: openIdClient(settings.oidc),
    kube: kubeGateway(kc),
    // Sign-outs are kept with the web UI's own identity (its ServiceAccount, or the kubeconfig's user).
    revocations: configMapRevocations(kc),
    logger: { level: settings.server.logLevel },
    https: settings.server.tls,
  });
  const shutdown = () => {
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  await app.listen({ host: settings.server.host, port: settings.server.port });
}

main().catch((err: unknown) => {
  console.error(`netwatch web UI: ${(err as Error).message}`);
  process.exit(1);
});
