import { createHash, randomBytes, randomUUID } from 'node:crypto';

/** A random GUID in Microsoft's lower-case 8-4-4-4-12 form. */
export function newGuid(): string {
  return randomUUID();
}

/**
 * A GUID derived from a namespace and a name (RFC 4122 v5 layout over SHA-1). Seeded objects use it so that
 * reset() and a restart from a state file give the same ids for the same tenant.
 */
export function derivedGuid(namespace: string, name: string): string {
  const h = createHash('sha1').update(`${namespace}\u0000${name}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isGuid(s: string): boolean {
  return GUID_RE.test(s);
}

export function base64url(buf: Buffer): string {
  return buf.toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** appRoleAssignment ids are 43-character base64url strings in Graph, not GUIDs [DOC G7 example response]. */
export function newAssignmentId(): string {
  return base64url(randomBytes(32));
}

/**
 * Client secret text: 40 characters like Entra's (`abc8Q~...`). G5 documents 16–64 characters; the `~` in the
 * fourth position matches what the portal and Graph hand out today.
 */
export function newSecretText(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.';
  const bytes = randomBytes(40);
  let s = '';
  for (let i = 0; i < 40; i++) s += alphabet[bytes[i]! % alphabet.length];
  return `${s.slice(0, 3)}8Q~${s.slice(6, 40)}`;
}

/** Deterministic PRNG (mulberry32) for share-based faults, so a seeded test always hits the same requests. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Salted SHA-256 of a secret; the simulator keeps only this, never the secret itself. */
export function hashSecret(secret: string, salt: string): string {
  return createHash('sha256').update(salt).update('\u0000').update(secret).digest('hex');
}

export function newSalt(): string {
  return randomBytes(16).toString('hex');
}
