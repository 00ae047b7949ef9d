// End-to-end harness of the web UI: its own RBAC and the sessions ConfigMap from manifests/webui, applied to a test
// control plane as a cluster gets them. Defined with the other components' in scripts/deploy.ts (the sandbox uses
// them too); end-to-end suites import them from here, beside the webhook's and the controller's harness.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ControlPlane } from '../../scripts/controlplane.ts';
import type { TestIdp, TestPki } from '../../scripts/idp.ts';
import { build } from '../../webui/app.ts';
import { kubeGateway } from '../../webui/kube.ts';
import { openIdClient } from '../../webui/oidc.ts';
import { configMapRevocations } from '../../webui/revocations-configmap.ts';

export { installWebUiRbac, webUiOwnObjects } from '../../scripts/deploy.ts';

export interface WebUiOptions {
  cp: ControlPlane;
  idp: TestIdp;
  pki: TestPki;
  clientId: string;
  port: number;
  actAs: 'token' | 'impersonate';
  /** A replica of another web UI passes that one's public URL and session key. */
  publicUrl?: string;
  sessionKey?: Buffer;
  /** The cluster's own ranges (--cluster-cidr), for the preview's `cluster` risk class. */
  clusterCidrs?: string[];
}

/**
 * The web UI over HTTPS on 127.0.0.1:`port`, signing in through the test IdP (usernames `oidc:` + email, groups
 * `oidc:` + groups) and acting with the identity of the netwatch-webui test user: in token mode only its server
 * address and CA (never its token), in impersonation mode its token plus Impersonate-User/Group.
 */
export async function startWebUi(o: WebUiOptions): Promise<FastifyInstance> {
  const publicUrl = o.publicUrl ?? `https://127.0.0.1:${o.port}`;
  const instance = await build(
    {
      publicUrl,
      sessionKey: o.sessionKey ?? randomBytes(32),
      sessionTtlSeconds: 3600,
      secureCookies: true,
      actAs: o.actAs,
      claims: { issuerUrl: o.idp.issuer, usernameClaim: 'email', usernamePrefix: 'oidc:', groupsClaim: 'groups', groupsPrefix: 'oidc:' },
      durations: ['30m', '2h', '8h'],
      ...(o.clusterCidrs ? { clusterCidrs: o.clusterCidrs } : {}),
      rateLimitPerMinute: 10_000,
    },
    {
      oidc: openIdClient({ issuerUrl: o.idp.issuer, clientId: o.clientId, redirectUri: `${publicUrl}/auth/callback`, scopes: ['openid', 'email', 'groups'], caPem: o.pki.caPem }),
      kube: kubeGateway(o.cp.kubeConfigFor('netwatch-webui')),
      // Sign-outs in the ConfigMap of manifests/webui, with the web UI's own identity and RBAC.
      revocations: configMapRevocations(o.cp.kubeConfigFor('netwatch-webui')),
      https: { cert: o.pki.certPem, key: o.pki.keyPem },
    },
  );
  await instance.listen({ host: '127.0.0.1', port: o.port });
  return instance;
}
