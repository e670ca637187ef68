/** RS256 access tokens, signed and verified with node:crypto only. */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { base64url } from './ids';
import { publishOnce } from './tls';

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

const KEY_FILE = 'token-signing-key.pem';

/**
 * The token signing key lives next to the TLS certificate so that tokens a client cached survive a simulator
 * restart (the real service rotates keys rarely; a client would otherwise see 401s for up to an hour).
 */
export function loadOrCreateSigningKey(dir: string): SigningKey {
  const path = join(dir, KEY_FILE);
  let privateKey: KeyObject | null = null;
  const existedBefore = existsSync(path);
  if (existedBefore) {
    try {
      privateKey = createPrivateKey(readFileSync(path, 'utf8'));
    } catch {
      privateKey = null;
    }
  }
  if (!privateKey) {
    const fresh = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    mkdirSync(dir, { recursive: true });
    // Concurrent starters (parallel test workers) must agree on one key: first publisher wins, all read it back.
    publishOnce(path, fresh.export({ type: 'pkcs8', format: 'pem' }).toString(), existedBefore);
    privateKey = createPrivateKey(readFileSync(path, 'utf8'));
  }
  const publicKey = createPublicKey(privateKey);
  const kid = base64url(createHash('sha1').update(publicKey.export({ type: 'spki', format: 'der' })).digest());
  return { kid, privateKey, publicKey };
}

export function signJwt(key: SigningKey, claims: Record<string, unknown>): string {
  const header = { typ: 'JWT', alg: 'RS256', x5t: key.kid, kid: key.kid };
  const enc = (o: unknown) => base64url(Buffer.from(JSON.stringify(o)));
  const data = `${enc(header)}.${enc(claims)}`;
  return `${data}.${base64url(sign('sha256', Buffer.from(data), key.privateKey))}`;
}

export type VerifyResult = { ok: true; claims: Record<string, unknown> } | { ok: false; reason: 'malformed' | 'signature' | 'expired' | 'notYetValid' };

export function verifyJwt(key: SigningKey, token: string, nowMs = Date.now()): VerifyResult {
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, reason: 'malformed' };
  let header: { alg?: string };
  let claims: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (header.alg !== 'RS256') return { ok: false, reason: 'signature' };
  const good = verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), key.publicKey, Buffer.from(parts[2]!, 'base64url'));
  if (!good) return { ok: false, reason: 'signature' };
  const now = Math.floor(nowMs / 1000);
  // No clock-skew allowance: issuer and validator share one clock, and tests need expiry to be exact.
  if (typeof claims.exp !== 'number' || claims.exp <= now) return { ok: false, reason: 'expired' };
  if (typeof claims.nbf === 'number' && claims.nbf > now) return { ok: false, reason: 'notYetValid' };
  return { ok: true, claims };
}

export function publicJwk(key: SigningKey): Record<string, unknown> {
  const jwk = key.publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
  return { kty: 'RSA', use: 'sig', kid: key.kid, x5t: key.kid, n: jwk.n, e: jwk.e };
}
