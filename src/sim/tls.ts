/**
 * The simulator's TLS identity. Clients trust it either in-process (a connection's `trustedCa`, as `npm start` and
 * the CLI do for the embedded simulator) or through NODE_EXTRA_CA_CERTS, which Node reads only at process start — so
 * the certificate must exist *before* such a client process starts and must be reused afterwards: it is created
 * once per directory and then read back on every start.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSelfSignedCertificate } from './x509';

export interface SimCertificate {
  certPath: string;
  keyPath: string;
  certPem: string;
  keyPem: string;
}

/** The nearest folder with a package.json above this module: src/sim from source, dist/ (or a chunk in it) when built. */
function projectRoot(): string | null {
  try {
    for (let dir = dirname(fileURLToPath(import.meta.url)), depth = 0; depth < 4; dir = dirname(dir), depth++) {
      if (existsSync(join(dir, 'package.json'))) return dir;
    }
    return null;
  } catch {
    return null;
  }
}

/**
 * Shared by vitest's globalSetup (which exports NODE_EXTRA_CA_CERTS for the workers) and every test simulator.
 * Under node_modules/.cache so that `npm ci` on a clean clone starts from nothing.
 */
export const DEFAULT_TEST_TLS_DIR: string = (() => {
  const root = projectRoot();
  return root ? join(root, 'node_modules', '.cache', 'opter-sim-tls') : join(tmpdir(), 'opter-sim-tls');
})();

const CERT_FILE = 'sim-cert.pem';
const KEY_FILE = 'sim-key.pem';
const RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;

function usable(dir: string): SimCertificate | null {
  const certPath = join(dir, CERT_FILE);
  const keyPath = join(dir, KEY_FILE);
  if (!existsSync(certPath) || !existsSync(keyPath)) return null;
  try {
    const certPem = readFileSync(certPath, 'utf8');
    const keyPem = readFileSync(keyPath, 'utf8');
    const cert = new X509Certificate(certPem);
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return null;
    if (new Date(cert.validTo).getTime() - Date.now() < RENEW_BEFORE_MS) return null;
    if (!cert.checkIP('127.0.0.1') || !cert.checkHost('localhost')) return null;
    return { certPath, keyPath, certPem, keyPem };
  } catch {
    return null;
  }
}

/**
 * Returns the certificate in `dir`, creating it if it is missing, broken or close to expiry.
 * Safe when several processes race (parallel test workers): a complete pair is prepared in a sibling directory
 * and renamed into place, so a reader never sees a key from one run next to a certificate from another.
 */
export function ensureSimCertificate(dir: string): SimCertificate {
  const target = resolve(dir);
  const existing = usable(target);
  if (existing) return existing;

  const now = Date.now();
  const made = createSelfSignedCertificate({
    commonName: 'opter-sim 127.0.0.1',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    notBefore: new Date(now - 24 * 3600 * 1000),
    notAfter: new Date(now + 10 * 365 * 24 * 3600 * 1000),
  });
  mkdirSync(dirname(target), { recursive: true });
  const staging = `${target}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  mkdirSync(staging, { recursive: true });
  writeFileSync(join(staging, KEY_FILE), made.keyPem, { mode: 0o600 });
  writeFileSync(join(staging, CERT_FILE), made.certPem);
  try {
    // rename(2) onto a missing or empty directory is atomic; onto a populated one it fails (ENOTEMPTY/EEXIST).
    renameSync(staging, target);
  } catch {
    rmSync(staging, { recursive: true, force: true });
    const winner = usable(target);
    if (winner) return winner;
    // The directory holds other files (or a stale pair): replace just our two files, key first.
    mkdirSync(target, { recursive: true });
    const keyTmp = join(target, `${KEY_FILE}.${process.pid}.tmp`);
    const certTmp = join(target, `${CERT_FILE}.${process.pid}.tmp`);
    writeFileSync(keyTmp, made.keyPem, { mode: 0o600 });
    writeFileSync(certTmp, made.certPem);
    renameSync(keyTmp, join(target, KEY_FILE));
    renameSync(certTmp, join(target, CERT_FILE));
  }
  const result = usable(target);
  if (!result) throw new Error(`Could not create a usable simulator certificate in ${target}`);
  return result;
}

/**
 * The NODE_EXTRA_CA_CERTS value for a *child* process that must trust the simulator certificate in `dir`: the
 * certificate itself, or — when the caller already has an extra-CA file (`existing`) — a bundle of both, because
 * Node takes a single file and the caller's CAs must be kept.
 */
export function extraCaCertsWithSimulator(dir: string, existing: string | undefined = process.env.NODE_EXTRA_CA_CERTS): string {
  const { certPath, certPem } = ensureSimCertificate(dir);
  if (!existing || existing === certPath || !existsSync(existing)) return certPath;
  const current = readFileSync(existing, 'utf8');
  if (current.includes(certPem.trim())) return existing;
  const bundle = join(resolve(dir), 'ca-bundle.pem');
  publishOnce(bundle, `${current.trimEnd()}\n${certPem}`, true);
  return bundle;
}

/**
 * Puts `content` at `path` atomically. A new file is published with link(2), which fails if another process got
 * there first — so concurrent test workers all end up using the same file. `replace` overwrites a broken one.
 */
export function publishOnce(path: string, content: string, replace: boolean): void {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  try {
    if (replace) renameSync(tmp, path);
    else linkSync(tmp, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    rmSync(tmp, { force: true });
  }
}

export interface ClientCertificate {
  /** One PEM file holding the private key and the certificate, as ClientCertificateCredential accepts it. */
  path: string;
  certPem: string;
  /** Base64 DER of the certificate. */
  certDer: string;
  /** Upper-case hex SHA-1 thumbprint. */
  thumbprint: string;
  notBefore: string;
  notAfter: string;
}

const CLIENT_CERT_FILE = 'provisioning-client.pem';

/**
 * The provisioning identity's sign-in certificate (for AZURE_CLIENT_CERTIFICATE_PATH). Created once per directory,
 * then reused, so the key registered on the seeded app stays the same across restarts.
 */
export function ensureClientCertificate(dir: string): ClientCertificate {
  const path = join(resolve(dir), CLIENT_CERT_FILE);
  const read = (): ClientCertificate | null => {
    if (!existsSync(path)) return null;
    try {
      const pem = readFileSync(path, 'utf8');
      const certPem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
      if (!certPem) return null;
      const cert = new X509Certificate(certPem);
      if (!cert.checkPrivateKey(createPrivateKey(pem))) return null;
      if (new Date(cert.validTo).getTime() - Date.now() < RENEW_BEFORE_MS) return null;
      return {
        path,
        certPem: `${certPem}\n`,
        certDer: cert.raw.toString('base64'),
        thumbprint: cert.fingerprint.replace(/:/g, '').toUpperCase(),
        notBefore: new Date(cert.validFrom).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        notAfter: new Date(cert.validTo).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      };
    } catch {
      return null;
    }
  };
  const existing = read();
  if (existing) return existing;
  // Decided before the (slow) key generation: only a file that was already there and broken gets replaced.
  const brokenBefore = existsSync(path);
  const now = Date.now();
  const made = createSelfSignedCertificate({
    commonName: 'opter-sim provisioning',
    dnsNames: [],
    ipAddresses: [],
    notBefore: new Date(now - 24 * 3600 * 1000),
    notAfter: new Date(now + 10 * 365 * 24 * 3600 * 1000),
    purpose: 'client',
  });
  mkdirSync(dirname(path), { recursive: true });
  publishOnce(path, `${made.keyPem}${made.certPem}`, brokenBefore);
  const result = read();
  if (!result) throw new Error(`Could not create a usable client certificate at ${path}`);
  return result;
}
