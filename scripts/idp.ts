// A development OIDC provider for the sandbox and the web UI end-to-end suites: a test CA and a loopback serving
// certificate made with the openssl CLI, and a real OIDC provider (`oidc-provider`) over HTTPS with its own login form.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Provider from 'oidc-provider';

export interface TestPki {
  dir: string;
  caFile: string;
  caPem: string;
  certPem: string;
  keyPem: string;
  /** base64 SHA-256 of the serving certificate's SubjectPublicKeyInfo, for --ignore-certificate-errors-spki-list. */
  spki: string;
  remove(): void;
}

function run(cwd: string, cmd: string, args: string[], input?: Buffer): Buffer {
  const r = spawnSync(cmd, args, { cwd, input });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr.toString()}`);
  return r.stdout;
}

/** A CA and one certificate for 127.0.0.1/localhost signed by it, used by both the IdP and the web UI. */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'netwatch-webui-pki-'));
  const o = (args: string[]) => run(dir, 'openssl', args);
  o(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=netwatch webui test CA']);
  writeFileSync(join(dir, 'leaf.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n');
  o(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=127.0.0.1']);
  o(['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'leaf.crt', '-days', '2', '-extfile', 'leaf.ext']);
  const pub = o(['x509', '-in', 'leaf.crt', '-pubkey', '-noout']);
  const der = run(dir, 'openssl', ['pkey', '-pubin', '-outform', 'der'], pub);
  const digest = run(dir, 'openssl', ['dgst', '-sha256', '-binary'], der);
  return {
    dir,
    caFile: join(dir, 'ca.crt'),
    caPem: readFileSync(join(dir, 'ca.crt'), 'utf8'),
    certPem: readFileSync(join(dir, 'leaf.crt'), 'utf8') + readFileSync(join(dir, 'ca.crt'), 'utf8'),
    keyPem: readFileSync(join(dir, 'leaf.key'), 'utf8'),
    spki: digest.toString('base64'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface DemoAccount {
  email: string;
  emailVerified?: boolean;
  groups: string[];
}

export interface TestIdp {
  issuer: string;
  close(): Promise<void>;
}

export async function startIdp(opts: {
  port: number;
  pki: TestPki;
  clientId: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  accounts: Record<string, DemoAccount>;
}): Promise<TestIdp> {
  const issuer = `https://127.0.0.1:${opts.port}`;
  // oidc-provider warns on the console (when it initializes parts, some lazily at the first request) that it
  // runs with its development defaults: in-memory storage, generated keys, its built-in login form. That is
  // exactly what a throw-away local IdP is, so while it runs those lines are dropped.
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].includes('oidc-provider WARNING')) return;
    warn(...args);
  };
  let provider: Provider;
  try {
    provider = new Provider(issuer, {
      clients: [
        {
          client_id: opts.clientId,
          token_endpoint_auth_method: 'none',
          redirect_uris: opts.redirectUris,
          post_logout_redirect_uris: opts.postLogoutRedirectUris,
          grant_types: ['authorization_code'],
          response_types: ['code'],
        },
      ],
      // The API server reads identity from the ID token only, so scope claims go there too.
      conformIdTokenClaims: false,
      claims: { openid: ['sub'], email: ['email', 'email_verified'], groups: ['groups'] },
      scopes: ['openid', 'email', 'groups', 'profile'],
      pkce: { required: () => true },
      features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
      // Fresh per start: a restarted IdP simply forgets its sessions.
      cookies: { keys: [randomBytes(32).toString('base64url')] },
      async findAccount(_ctx, id) {
        const account = opts.accounts[id];
        if (!account) return undefined;
        return {
          accountId: id,
          async claims() {
            return { sub: id, email: account.email, email_verified: account.emailVerified ?? true, groups: account.groups };
          },
        };
      },
    });
  } catch (err) {
    console.warn = warn;
    throw err;
  }
  // Quiet: the provider logs server errors (e.g. a refused login) through this event.
  provider.on('server_error', () => undefined);
  const server: Server = createServer({ cert: opts.pki.certPem, key: opts.pki.keyPem }, provider.callback());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', () => resolve());
  });
  return {
    issuer,
    close: () =>
      new Promise<void>((resolve) => {
        console.warn = warn;
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
