// A throw-away CA and a serving certificate for the webhook, made with the openssl CLI (node:crypto cannot
// issue X.509 certificates). For tests and local runs; clusters use cert-manager (certs/README.md).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ServingCertificates {
  caPem: string;
  certPem: string;
  keyPem: string;
}

export interface CertificateRequest {
  commonName?: string;
  ips?: string[];
  dnsNames?: string[];
  days?: number;
  /** What the leaf certificate is for: serving (default) or presenting as a client (mutual TLS). */
  usage?: 'server' | 'client';
}

function openssl(cwd: string, args: string[]): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.error) throw new Error(`cannot run openssl: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`openssl ${args[0] ?? ''} failed: ${r.stderr.trim()}`);
}

export function makeServingCertificates(req: CertificateRequest = {}): ServingCertificates {
  const ips = req.ips ?? ['127.0.0.1'];
  const dnsNames = req.dnsNames ?? ['localhost'];
  const days = String(req.days ?? 2);
  const dir = mkdtempSync(join(tmpdir(), 'netwatch-webhook-certs-'));
  try {
    openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt',
      '-days', days, '-subj', '/CN=netwatch-webhook-ca', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    const san = [...ips.map((ip) => `IP:${ip}`), ...dnsNames.map((d) => `DNS:${d}`)].join(',');
    const eku = req.usage === 'client' ? 'clientAuth' : 'serverAuth';
    writeFileSync(join(dir, 'server.ext'), `subjectAltName=${san}\nextendedKeyUsage=${eku}\nkeyUsage=critical,digitalSignature,keyEncipherment\n`);
    openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'server.key', '-out', 'server.csr',
      '-subj', `/CN=${req.commonName ?? 'netwatch-webhook'}`]);
    openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt',
      '-days', days, '-extfile', 'server.ext']);
    return {
      caPem: readFileSync(join(dir, 'ca.crt'), 'utf8'),
      certPem: readFileSync(join(dir, 'server.crt'), 'utf8'),
      keyPem: readFileSync(join(dir, 'server.key'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
