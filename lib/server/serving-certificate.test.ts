// A listener serving a certificate from files takes a renewed pair without a restart, and keeps the old one when
// the new files do not load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { makeServingCertificates } from '../../scripts/certs.ts';
import { readServingFiles, reloadWhenChanged } from './serving-certificate.ts';

/** The serial number of the certificate the server presents now. */
function presented(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const serial = new X509Certificate(socket.getPeerCertificate().raw).serialNumber;
      socket.end();
      resolve(serial);
    });
    socket.on('error', reject);
  });
}

const serialOf = (pem: string) => new X509Certificate(pem).serialNumber;

test('a renewed certificate is served without a restart; a broken pair is refused and the previous one kept', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'netwatch-serving-'));
  const files = { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') };
  const write = (c: { certPem: string; keyPem: string }) => {
    writeFileSync(files.certFile, c.certPem);
    writeFileSync(files.keyFile, c.keyPem);
  };
  const first = makeServingCertificates();
  write(first);
  const server: Server = createServer(readServingFiles(files), (_req, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const logged: string[] = [];
  const stop = reloadWhenChanged(server, files, { info: (m) => logged.push(m), error: (_o, m) => logged.push(m) }, { intervalMs: 20 });
  t.after(() => {
    stop();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const until = async (what: string, check: () => Promise<boolean>) => {
    for (const deadline = Date.now() + 10_000; !(await check()); ) {
      assert.ok(Date.now() < deadline, `timed out waiting for ${what}; log: ${logged.join(', ')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  assert.equal(await presented(port), serialOf(first.certPem));

  const second = makeServingCertificates();
  write(second);
  await until('the renewed certificate', async () => (await presented(port)) === serialOf(second.certPem));
  assert.ok(logged.includes('serving certificate reloaded'));

  // A key that does not belong to the certificate (a swap read half-way): refused, the working pair stays.
  const refusals = () => logged.filter((m) => m === 'could not reload the serving certificate; keeping the previous one').length;
  const before = refusals();
  writeFileSync(files.keyFile, makeServingCertificates().keyPem);
  await until('the refusal to be logged', async () => refusals() > before);
  assert.equal(await presented(port), serialOf(second.certPem));
});
