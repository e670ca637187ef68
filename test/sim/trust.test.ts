import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { DEFAULT_TEST_TLS_DIR, ensureSimCertificate } from '../../src/sim';
import { startTestSimulator } from './helpers';

const scratch = mkdtempSync(join(tmpdir(), 'sim-tls-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('TLS trust for forked test workers', () => {
  test('globalSetup exported NODE_EXTRA_CA_CERTS with the simulator certificate before this worker started', () => {
    const path = process.env.NODE_EXTRA_CA_CERTS;
    expect(path).toBeTruthy();
    const { certPem } = ensureSimCertificate(DEFAULT_TEST_TLS_DIR);
    expect(readFileSync(path!, 'utf8')).toContain(certPem.trim());
  });

  test('a plain fetch (no custom agent, no rejectUnauthorized=false) reaches the simulator over HTTPS', async () => {
    const sim = await startTestSimulator();
    try {
      const res = await fetch(`${sim.authorityHost}/${sim.tenantId}/v2.0/.well-known/openid-configuration`);
      expect(res.status).toBe(200);
      expect(sim.caCertPath).toBe(join(DEFAULT_TEST_TLS_DIR, 'sim-cert.pem'));
    } finally {
      await sim.close();
    }
  });
});

describe('ensureSimCertificate', () => {
  test('creates a self-signed certificate for 127.0.0.1 and localhost once, then reuses it', () => {
    const dir = join(scratch, 'a');
    const first = ensureSimCertificate(dir);
    const cert = new X509Certificate(first.certPem);
    expect(cert.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(cert.subjectAltName).toContain('DNS:localhost');
    expect(cert.issuer).toBe(cert.subject);
    expect(new Date(cert.validTo).getTime()).toBeGreaterThan(Date.now() + 5 * 365 * 86_400_000);
    expect(cert.verify(cert.publicKey)).toBe(true);
    const second = ensureSimCertificate(dir);
    expect(second.certPem).toBe(first.certPem);
    expect(second.keyPem).toBe(first.keyPem);
  });

  test('parallel processes creating the TLS material at once all end up with the same certificate and keys', async () => {
    const dir = join(scratch, 'race');
    const script = `
      const tls = await import(${JSON.stringify(new URL('../../src/sim/tls.ts', import.meta.url).pathname)});
      const jwt = await import(${JSON.stringify(new URL('../../src/sim/jwt.ts', import.meta.url).pathname)});
      const dir = ${JSON.stringify(dir)};
      const server = tls.ensureSimCertificate(dir + '/server');
      const client = tls.ensureClientCertificate(dir);
      const key = jwt.loadOrCreateSigningKey(dir);
      console.log(JSON.stringify({ server: server.certPem, client: client.thumbprint, kid: key.kid }));`;
    const run = () =>
      new Promise<string>((resolve, reject) =>
        execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 30_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout.trim()))),
      );
    const outputs = await Promise.all([run(), run(), run()]);
    expect(new Set(outputs).size).toBe(1);
    expect(JSON.parse(outputs[0]!).client).toMatch(/^[0-9A-F]{40}$/);
  });

  test('replaces a damaged certificate instead of serving it', () => {
    const dir = join(scratch, 'b');
    const first = ensureSimCertificate(dir);
    writeFileSync(first.certPath, 'not a certificate');
    const again = ensureSimCertificate(dir);
    expect(again.certPem).not.toBe(first.certPem);
    expect(() => new X509Certificate(again.certPem)).not.toThrow();
  });
});
