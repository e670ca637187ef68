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

const KEY_HOWTO = `${KEY_BYTES} random bytes encoded as base64 or 64 hex characters (e.g. \`openssl rand -base64 32\`)`;

/**
 * Why a 32-byte key cannot have come from a random generator, or null. Each test fails for random bytes with
 * probability below 1e-13 (32 bytes from 256 values: fewer than 16 distinct values, a repeating pattern, a constant
 * step or only printable ASCII), so a real key is never refused — but zeros, "0123…", a repeated word or a typed
 * passphrase are: they give the secrets at rest no protection.
 */
export function degenerateKeyReason(key: Buffer): string | null {
  if (new Set(key).size < 16) return 'it repeats too few byte values (e.g. all zeros)';
  for (let period = 1; period <= KEY_BYTES / 2; period++) {
    if (key.every((b, i) => i < period || b === key[i - period])) return 'it is a repeating pattern';
  }
  const step = (key[1]! - key[0]! + 256) % 256;
  if (key.every((b, i) => i === 0 || (b - key[i - 1]! + 256) % 256 === step)) return 'it is a counting sequence';
  if (key.every((b) => b >= 0x20 && b <= 0x7e)) return 'it is printable text (a passphrase), not random bytes';
  return null;
}

/** Parses a 32-byte key and refuses a degenerate one. Errors never echo the input (it is key material). */
export function parseEncryptionKey(text: string, source = 'SECRET_ENCRYPTION_KEY'): Buffer {
  const t = text.trim();
  let key: Buffer | null = null;
  if (/^[0-9a-fA-F]{64}$/.test(t)) key = Buffer.from(t, 'hex');
  else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(t)) key = Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (!key || key.length !== KEY_BYTES) throw new Error(`${source} must be ${KEY_HOWTO}`);
  const degenerate = degenerateKeyReason(key);
  if (degenerate) throw new Error(`${source} is not a usable key: ${degenerate}. It must be ${KEY_HOWTO}`);
  return key;
}

export interface LoadKeyOptions {
  /** Environment to read SECRET_ENCRYPTION_KEY from; default process.env. */
  env?: Record<string, string | undefined>;
  /** May a key file be generated when none exists? Default true (local mode); pass false where the key must be configured. */
  allowCreate?: boolean;
}

/** The key and where it came from: the variable, an existing `DATA_DIR/secret.key`, or a file generated just now. */
export interface ResolvedKey {
  key: Buffer;
  source: 'env' | 'file' | 'created';
  /** The key file, for `file` and `created`. */
  file: string | null;
}

export function loadOrCreateEncryptionKey(dataDir: string, options: LoadKeyOptions = {}): Buffer {
  return resolveEncryptionKey(dataDir, options).key;
}

export function resolveEncryptionKey(dataDir: string, options: LoadKeyOptions = {}): ResolvedKey {
  const env = options.env ?? process.env;
  const configured = env.SECRET_ENCRYPTION_KEY;
  if (configured !== undefined && configured.trim() !== '') return { key: parseEncryptionKey(configured), source: 'env', file: null };

  const file = join(dataDir, KEY_FILE_NAME);
  const existing = readKeyFile(file);
  if (existing) return { key: existing, source: 'file', file };
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
  return { key, source: 'created', file };
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
