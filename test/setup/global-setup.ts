/**
 * Runs once in the vitest main process, before any worker is forked. NODE_EXTRA_CA_CERTS is read only when a
 * Node process starts, so the simulator's certificate must exist and be exported here for the forked workers to
 * trust it (test/sim/trust.test.ts proves they do).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_TEST_TLS_DIR, ensureSimCertificate } from '../../src/sim/tls';

export default function setup(): void {
  const { certPath, certPem } = ensureSimCertificate(DEFAULT_TEST_TLS_DIR);
  const existing = process.env.NODE_EXTRA_CA_CERTS;
  if (existing && existing !== certPath && existsSync(existing)) {
    // Node takes a single extra-CA file; keep the caller's CAs by bundling them with ours.
    const bundle = join(DEFAULT_TEST_TLS_DIR, 'ca-bundle.pem');
    writeFileSync(bundle, `${readFileSync(existing, 'utf8').trimEnd()}\n${certPem}`);
    process.env.NODE_EXTRA_CA_CERTS = bundle;
    return;
  }
  process.env.NODE_EXTRA_CA_CERTS = certPath;
}
