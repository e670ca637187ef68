/**
 * The AES-256 key that seals one-time secrets at rest. From `SECRET_ENCRYPTION_KEY` (32 bytes as base64, base64url
 * or hex) when set — the production path, so the key never sits next to the database — else, in local mode, a
 * random key generated once into `${dataDir}/secret.key` with mode 0600 and reused after.
 */
import { randomBytes, createHmac, hkdfSync } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const KEY_BYTES = 32;
export const KEY_FILE_NAME = 'secret.key';

/** Parses a 32-byte key. Errors never echo the input (it is key material). */
export function parseEncryptionKey(text: string, source = 'SECRET_ENCRYPTION_KEY'): Buffer {
  const t = text.trim();
  let key: Buffer | null = null;
  if (/^[0-9a-fA-F]{64}$/.test(t)) key = Buffer.from(t, 'hex');
  else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(t)) key = Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (!key || key.length !== KEY_BYTES) {
    throw new Error(`${source} must be ${KEY_BYTES} random bytes encoded as base64 or 64 hex characters (e.g. \`openssl rand -base64 32\`)`);
  }
  return key;
}

export interface LoadKeyOptions {
  /** Environment to read SECRET_ENCRYPTION_KEY from; default process.env. */
  env?: Record<string, string | undefined>;
  /** May a key file be generated when none exists? Default true (local mode); pass false where the key must be configured. */
  allowCreate?: boolean;
}

export function loadOrCreateEncryptionKey(dataDir: string, options: LoadKeyOptions = {}): Buffer {
  const env = options.env ?? process.env;
  const configured = env.SECRET_ENCRYPTION_KEY;
  if (configured !== undefined && configured.trim() !== '') return parseEncryptionKey(configured);

  const file = join(dataDir, KEY_FILE_NAME);
  const existing = readKeyFile(file);
  if (existing) return existing;
  if (options.allowCreate === false) {
    throw new Error(`SECRET_ENCRYPTION_KEY is not set and ${file} does not exist`);
  }

  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // Write a private temp file, then link() it into place: link fails if the name exists, so two processes starting
  // at once agree on one key, and nobody ever reads a half-written file.
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(tmp, `${randomBytes(KEY_BYTES).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(tmp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    unlinkSync(tmp);
  }
  const key = readKeyFile(file);
  if (!key) throw new Error(`could not create ${file}`);
  return key;
}

function readKeyFile(file: string): Buffer | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  // A key file others can read is tightened rather than refused: refusing would strand the sealed secrets.
  if (process.platform !== 'win32' && (statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  return parseEncryptionKey(text, file);
}

/** A short, non-reversible label of a key, stored with each ciphertext so a wrong key is named, not guessed. */
export function keyFingerprint(key: Buffer): string {
  return createHmac('sha256', key).update('opter-mail secret key fingerprint v1').digest('hex').slice(0, 16);
}

/**
 * The key of the audit chain's HMAC, derived from the secret-sealing key with HKDF-SHA256 and a label of its own: one
 * key to configure, yet the AES key and the chain key are independent, and neither is ever stored in the database.
 */
export function deriveAuditChainKey(key: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'opter-mail audit chain hmac v1', KEY_BYTES));
}
