/**
 * Redaction: strip client secrets (and other credentials) out of anything before it is logged, audited or posted.
 * Three nets, because each catches what the others miss:
 *  1. known values — every secret this process has handled (registered by the caller), found anywhere in a string,
 *     also in its JSON-escaped and URL-encoded forms;
 *  2. keys — object members whose name says "this is a credential" (`secretText`, `clientSecret`, `password`, …);
 *  3. shapes — strings that look like an Entra client secret, a bearer token or a JWT.
 */

export const REDACTED = '[REDACTED]';

/**
 * Normalised (lower-case, alphanumerics only) key suffixes that mark a credential. Suffix match, so
 * `AZURE_CLIENT_SECRET`, `botPassword` and `x-access-token` are caught while `secretDisplayName`, `secretExpiresAt`
 * and `keyId` (metadata we must keep) are not.
 */
const SECRET_KEY_SUFFIXES = [
  'secret',
  'secrettext',
  'secretvalue',
  'clientsecret',
  'password',
  'passwd',
  'pwd',
  'passphrase',
  'accesstoken',
  'refreshtoken',
  'idtoken',
  'bearertoken',
  'authorization',
  'apikey',
  'privatekey',
  'encryptionkey',
  'ciphertext',
  'cookie',
  'setcookie',
];

export function isSecretKey(key: string): boolean {
  const k = key.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (!k) return false;
  return SECRET_KEY_SUFFIXES.some((s) => k === s || k.endsWith(s));
}

/**
 * Shapes of credentials that must never leave the process:
 * - Entra ID client secrets: 3 chars, a digit, `Q~`, then 31–34 chars (the current format; GitHub secret scanning
 *   uses the same pattern);
 * - `Bearer <token>` values;
 * - JWTs (three base64url segments, the first starting with `eyJ`).
 */
const SECRET_SHAPES: RegExp[] = [
  /[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34}/g,
  /\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/gi,
  /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g,
];

/** Secrets shorter than this are not searched for as substrings: they would shred ordinary text. */
const MIN_KNOWN_SECRET_LENGTH = 6;

function variantsOf(secret: string): string[] {
  const out = new Set<string>([secret]);
  out.add(JSON.stringify(secret).slice(1, -1));
  try {
    out.add(encodeURIComponent(secret));
  } catch {
    // lone surrogates cannot be URI-encoded; the raw form is still covered
  }
  return [...out].filter((v) => v.length >= MIN_KNOWN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
}

/** Under a credential-like key, strings and structures are hidden; flags and counts (`hasSecret: true`) are kept. */
function holdsCredential(x: unknown): boolean {
  return (typeof x === 'string' && x !== '') || (typeof x === 'object' && x !== null);
}

export function redactString(text: string, secrets: Iterable<string> = []): string {
  let out = text;
  for (const secret of secrets) {
    if (typeof secret !== 'string' || secret.length < MIN_KNOWN_SECRET_LENGTH) continue;
    for (const v of variantsOf(secret)) if (out.includes(v)) out = out.split(v).join(REDACTED);
  }
  for (const shape of SECRET_SHAPES) out = out.replace(shape, REDACTED);
  return out;
}

export interface RedactOptions {
  /** Secret values to remove wherever they occur. */
  secrets?: Iterable<string>;
  /** Deeper structures are cut off (logs do not need them, and it bounds the work). Default 12. */
  maxDepth?: number;
}

/**
 * Returns a redacted deep copy. Plain objects, arrays, Maps, Sets and Errors are walked; Dates and primitives are
 * kept; Buffers/typed arrays become a length note (their bytes may be key material); cycles become '[Circular]'.
 */
export function redact<T>(value: T, options: RedactOptions = {}): T {
  const secrets = [...(options.secrets ?? [])].filter((s) => typeof s === 'string' && s.length >= MIN_KNOWN_SECRET_LENGTH);
  const maxDepth = options.maxDepth ?? 12;
  const seen = new WeakSet<object>();

  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return redactString(v, secrets);
    if (v === null || typeof v !== 'object') return v;
    if (v instanceof Date) return v;
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return `[${v.byteLength} bytes]`;
    if (seen.has(v)) return '[Circular]';
    if (depth >= maxDepth) return '[Truncated]';
    seen.add(v);
    try {
      if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
      if (v instanceof Map) {
        return new Map([...v].map(([k, x]) => [k, typeof k === 'string' && isSecretKey(k) && holdsCredential(x) ? REDACTED : walk(x, depth + 1)]));
      }
      if (v instanceof Set) return new Set([...v].map((x) => walk(x, depth + 1)));
      const out: Record<string, unknown> = {};
      if (v instanceof Error) {
        out.name = v.name;
        out.message = redactString(v.message, secrets);
        if (v.stack) out.stack = redactString(v.stack, secrets);
        if ('cause' in v && v.cause !== undefined) out.cause = walk(v.cause, depth + 1);
      }
      for (const [k, x] of Object.entries(v)) {
        out[k] = isSecretKey(k) && holdsCredential(x) ? REDACTED : walk(x, depth + 1);
      }
      return out;
    } finally {
      seen.delete(v);
    }
  };
  return walk(value, 0) as T;
}

/**
 * A process-wide memory of secret values handled so far, for the logger and the audit writer: register a secret
 * the moment it is created, and every later redaction removes it even where no key name gives it away.
 * Values are kept only in memory and only as long as needed (forget them after the reveal window).
 */
export class SecretRegistry {
  private readonly values = new Set<string>();

  add(secret: string): void {
    if (typeof secret === 'string' && secret.length >= MIN_KNOWN_SECRET_LENGTH) this.values.add(secret);
  }

  forget(secret: string): void {
    this.values.delete(secret);
  }

  get size(): number {
    return this.values.size;
  }

  redact<T>(value: T): T {
    return redact(value, { secrets: this.values });
  }

  redactString(text: string): string {
    return redactString(text, this.values);
  }
}

/** Names of the keys that hold a credential, at any depth (for guards that refuse rather than strip). */
export function findSecretKeys(value: unknown, path = '', depth = 0, out: string[] = []): string[] {
  if (value === null || typeof value !== 'object' || depth > 12) return out;
  if (Array.isArray(value)) {
    value.forEach((v, i) => findSecretKeys(v, `${path}[${i}]`, depth + 1, out));
    return out;
  }
  for (const [k, v] of Object.entries(value)) {
    const p = path ? `${path}.${k}` : k;
    if (isSecretKey(k) && typeof v === 'string' && v !== '') out.push(p);
    else findSecretKeys(v, p, depth + 1, out);
  }
  return out;
}
