/**
 * The one-time secret vault. A client secret is sealed with AES-256-GCM (fresh 12-byte IV each, AAD binds the
 * ciphertext to its request and keyId so rows cannot be swapped), revealed at most once by an atomic claim that
 * destroys the ciphertext in the same transaction, and purged unrevealed when it expires. The plaintext exists only
 * in the argument of `put` and the return value of a winning `claim`.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Clock } from '../core/ports';
import { toIso } from './json';
import { keyFingerprint, KEY_BYTES } from './key';
import type { Person } from './requests';

const IV_BYTES = 12;
const TAG_BYTES = 16;

export type SecretState = 'sealed' | 'revealed' | 'expired';

export interface SecretMetadata {
  requestId: string;
  jobId: string;
  appId: string;
  appObjectId: string;
  keyId: string;
  /** The only person allowed to reveal it (the requester). */
  ownerAadObjectId: string;
  /** When the credential itself stops working in Entra (endDateTime), if known. */
  credentialEndDateTime: string | null;
  state: SecretState;
  createdAt: string;
  /** When an unrevealed secret is purged (and its credential should be removed from the app). */
  expiresAt: string;
  revealedAt: string | null;
  revealedBy: Person | null;
  expiredAt: string | null;
  /** Set by the caller once `removePassword` succeeded for an expired secret. */
  credentialRemovedAt: string | null;
}

export interface PutSecretInput {
  requestId: string;
  jobId: string;
  appId: string;
  appObjectId: string;
  keyId: string;
  secretText: string;
  ownerAadObjectId: string;
  expiresAt: Date | string;
  credentialEndDateTime?: string | null;
  now?: Date;
}

export interface PutSecretResult {
  secret: SecretMetadata;
  /**
   * A still-sealed secret with a *different* keyId that this put replaced (a request has one secret). Its
   * credential is now unreachable: the caller must remove it from the app (`removePassword`).
   */
  replaced: SecretMetadata | null;
}

export type ClaimResult =
  | ({ ok: true; secretText: string } & SecretMetadata)
  | { ok: false; reason: 'not-found' }
  | { ok: false; reason: 'not-owner'; secret: SecretMetadata }
  | { ok: false; reason: 'already-revealed'; revealedAt: string; revealedBy: Person; secret: SecretMetadata }
  | { ok: false; reason: 'expired'; expiresAt: string; secret: SecretMetadata };

export interface Claimant {
  aadObjectId: string;
  name?: string | null;
}

interface SecretRow {
  request_id: string;
  job_id: string;
  app_id: string;
  app_object_id: string;
  key_id: string;
  owner_aad_object_id: string;
  credential_end_date_time: string | null;
  ciphertext: Buffer | null;
  iv: Buffer | null;
  auth_tag: Buffer | null;
  key_fingerprint: string;
  created_at: string;
  expires_at: string;
  revealed_at: string | null;
  revealed_by_aad_object_id: string | null;
  revealed_by_name: string | null;
  expired_at: string | null;
  credential_removed_at: string | null;
}

const METADATA_COLUMNS = `request_id, job_id, app_id, app_object_id, key_id, owner_aad_object_id, credential_end_date_time,
  key_fingerprint, created_at, expires_at, revealed_at, revealed_by_aad_object_id, revealed_by_name, expired_at,
  credential_removed_at, ciphertext IS NOT NULL AS sealed`;

type MetadataRow = Omit<SecretRow, 'ciphertext' | 'iv' | 'auth_tag'> & { sealed: number };

function metaFromRow(r: MetadataRow): SecretMetadata {
  return {
    requestId: r.request_id,
    jobId: r.job_id,
    appId: r.app_id,
    appObjectId: r.app_object_id,
    keyId: r.key_id,
    ownerAadObjectId: r.owner_aad_object_id,
    credentialEndDateTime: r.credential_end_date_time,
    state: r.revealed_at ? 'revealed' : r.expired_at ? 'expired' : 'sealed',
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    revealedAt: r.revealed_at,
    revealedBy: r.revealed_by_aad_object_id ? { aadObjectId: r.revealed_by_aad_object_id, name: r.revealed_by_name } : null,
    expiredAt: r.expired_at,
    credentialRemovedAt: r.credential_removed_at,
  };
}

/** AAD: binds a ciphertext to its row identity, so copying ciphertext into another row fails authentication. */
function additionalData(requestId: string, keyId: string): Buffer {
  return Buffer.from(JSON.stringify(['opter-mail/secret/v1', requestId, keyId]), 'utf8');
}

export class SecretVault {
  private readonly q;
  private readonly fingerprint: string | null;

  constructor(
    private readonly db: Database.Database,
    private readonly clock: Clock,
    private readonly key: Buffer | null,
    private readonly afterDestroy: () => void = () => {},
  ) {
    if (key && key.length !== KEY_BYTES) throw new Error(`encryption key must be ${KEY_BYTES} bytes`);
    this.fingerprint = key ? keyFingerprint(key) : null;
    this.q = {
      rowForUpdate: db.prepare<[string], SecretRow>('SELECT * FROM secrets WHERE request_id = ?'),
      meta: db.prepare<[string], MetadataRow>(`SELECT ${METADATA_COLUMNS} FROM secrets WHERE request_id = ?`),
      metaByKey: db.prepare<[string, string], MetadataRow>(`SELECT ${METADATA_COLUMNS} FROM secrets WHERE job_id = ? AND key_id = ?`),
      upsert: db.prepare(
        `INSERT INTO secrets (request_id, job_id, app_id, app_object_id, key_id, owner_aad_object_id, credential_end_date_time,
           ciphertext, iv, auth_tag, key_fingerprint, created_at, expires_at)
         VALUES (@requestId, @jobId, @appId, @appObjectId, @keyId, @owner, @credentialEnd, @ciphertext, @iv, @tag,
           @fingerprint, @now, @expiresAt)
         ON CONFLICT (request_id) DO UPDATE SET job_id = excluded.job_id, app_id = excluded.app_id,
           app_object_id = excluded.app_object_id, key_id = excluded.key_id, owner_aad_object_id = excluded.owner_aad_object_id,
           credential_end_date_time = excluded.credential_end_date_time, ciphertext = excluded.ciphertext, iv = excluded.iv,
           auth_tag = excluded.auth_tag, key_fingerprint = excluded.key_fingerprint, created_at = excluded.created_at,
           expires_at = excluded.expires_at`,
      ),
      reveal: db.prepare(
        `UPDATE secrets SET revealed_at = @now, revealed_by_aad_object_id = @aad, revealed_by_name = @name,
           ciphertext = NULL, iv = NULL, auth_tag = NULL
         WHERE request_id = @requestId AND ciphertext IS NOT NULL`,
      ),
      expireDue: db.prepare<{ now: string }, MetadataRow>(
        `UPDATE secrets SET expired_at = @now, ciphertext = NULL, iv = NULL, auth_tag = NULL
         WHERE ciphertext IS NOT NULL AND expires_at <= @now
         RETURNING ${METADATA_COLUMNS}`,
      ),
      awaitingRemoval: db.prepare<[], MetadataRow>(
        `SELECT ${METADATA_COLUMNS} FROM secrets WHERE expired_at IS NOT NULL AND credential_removed_at IS NULL ORDER BY expired_at`,
      ),
      markRemoved: db.prepare(
        `UPDATE secrets SET credential_removed_at = @now WHERE request_id = @requestId AND credential_removed_at IS NULL
           AND ciphertext IS NULL`,
      ),
      list: db.prepare<{ state: string | null }, MetadataRow>(
        `SELECT ${METADATA_COLUMNS} FROM secrets WHERE @state IS NULL
           OR (@state = 'sealed' AND ciphertext IS NOT NULL)
           OR (@state = 'revealed' AND revealed_at IS NOT NULL)
           OR (@state = 'expired' AND expired_at IS NOT NULL)
         ORDER BY created_at, rowid`,
      ),
    };
  }

  /** Seals a new secret for a request (see PutSecretResult.replaced). Refuses once the request's secret was revealed or expired. */
  put(input: PutSecretInput): PutSecretResult {
    const key = this.requireKey();
    const now = toIso(input.now ?? this.clock.now());
    const expiresAt = toIso(input.expiresAt);
    if (typeof input.secretText !== 'string' || input.secretText === '') throw new Error('secretText must be a non-empty string');

    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(additionalData(input.requestId, input.keyId));
    const plain = Buffer.from(input.secretText, 'utf8');
    const ciphertext = Buffer.concat([cipher.update(plain), cipher.final()]);
    plain.fill(0);
    const tag = cipher.getAuthTag();

    return this.db
      .transaction((): PutSecretResult => {
        const before = this.q.meta.get(input.requestId);
        if (before && !before.sealed) {
          throw new Error(`the one-time secret of request ${input.requestId} was already ${before.revealed_at ? 'revealed' : 'expired'}; a new secret needs a new request`);
        }
        const replaced = before && before.key_id !== input.keyId ? metaFromRow(before) : null;
        this.q.upsert.run({
          requestId: input.requestId,
          jobId: input.jobId,
          appId: input.appId,
          appObjectId: input.appObjectId,
          keyId: input.keyId,
          owner: input.ownerAadObjectId,
          credentialEnd: input.credentialEndDateTime ?? null,
          ciphertext,
          iv,
          tag,
          fingerprint: this.fingerprint,
          now,
          expiresAt,
        });
        return { secret: metaFromRow(this.q.meta.get(input.requestId)!), replaced };
      })
      .immediate();
  }

  /**
   * The one-time reveal. In ONE immediate (write-locked) transaction: check owner, unrevealed and unexpired,
   * decrypt, record who revealed it and when, and NULL the ciphertext. Exactly one of any number of concurrent
   * callers — in this process or another on the same file — gets `ok: true`. A decryption failure (wrong key,
   * tampered row) throws and leaves the secret sealed, so fixing the key makes it claimable again.
   */
  claim(requestId: string, claimant: Claimant, now: Date = this.clock.now()): ClaimResult {
    const key = this.requireKey();
    const at = toIso(now);
    const result = this.db
      .transaction((): ClaimResult => {
        const row = this.q.rowForUpdate.get(requestId);
        if (!row) return { ok: false, reason: 'not-found' };
        const meta = metaFromRow({ ...row, sealed: row.ciphertext ? 1 : 0 });
        if (row.owner_aad_object_id.toLowerCase() !== claimant.aadObjectId.toLowerCase()) {
          return { ok: false, reason: 'not-owner', secret: meta };
        }
        if (row.revealed_at && meta.revealedBy) {
          return { ok: false, reason: 'already-revealed', revealedAt: row.revealed_at, revealedBy: meta.revealedBy, secret: meta };
        }
        if (!row.ciphertext || !row.iv || !row.auth_tag || row.expires_at <= at) {
          return { ok: false, reason: 'expired', expiresAt: row.expires_at, secret: meta };
        }
        if (row.key_fingerprint !== this.fingerprint) {
          throw new Error(`the secret of request ${requestId} was sealed with a different SECRET_ENCRYPTION_KEY (fingerprint ${row.key_fingerprint})`);
        }
        const decipher = createDecipheriv('aes-256-gcm', key, row.iv, { authTagLength: TAG_BYTES });
        decipher.setAAD(additionalData(row.request_id, row.key_id));
        decipher.setAuthTag(row.auth_tag);
        let plain: Buffer;
        try {
          plain = Buffer.concat([decipher.update(row.ciphertext), decipher.final()]);
        } catch {
          throw new Error(`the secret of request ${requestId} failed authentication (corrupted or tampered row)`);
        }
        const secretText = plain.toString('utf8');
        plain.fill(0);
        const changed = this.q.reveal.run({ requestId, now: at, aad: claimant.aadObjectId, name: claimant.name ?? null }).changes;
        if (changed !== 1) throw new Error('secret claim lost its row inside the transaction'); // cannot happen under the write lock
        const revealed = metaFromRow(this.q.meta.get(requestId)!);
        return { ok: true, secretText, ...revealed };
      })
      .immediate();
    if (result.ok) this.afterDestroy();
    return result;
  }

  /** Expires every sealed secret past its expiresAt: purges the ciphertext and returns them (each exactly once). */
  expireDue(now: Date = this.clock.now()): SecretMetadata[] {
    const rows = this.q.expireDue.all({ now: toIso(now) });
    if (rows.length) this.afterDestroy();
    return rows.map(metaFromRow).sort((a, b) => (a.expiresAt < b.expiresAt ? -1 : a.expiresAt > b.expiresAt ? 1 : 0));
  }

  /**
   * Expired secrets whose credential has not been confirmed removed from the app — includes ones expired before a
   * crash, so a restart finishes the `removePassword` calls.
   */
  listAwaitingCredentialRemoval(): SecretMetadata[] {
    return this.q.awaitingRemoval.all().map(metaFromRow);
  }

  /** Records that the credential (keyId) was removed from the app. Only for secrets no longer sealed. */
  markCredentialRemoved(requestId: string, now: Date = this.clock.now()): boolean {
    return this.q.markRemoved.run({ requestId, now: toIso(now) }).changes > 0;
  }

  /** Metadata only — never the secret. */
  get(requestId: string): SecretMetadata | null {
    const row = this.q.meta.get(requestId);
    return row ? metaFromRow(row) : null;
  }

  findByKey(jobId: string, keyId: string): SecretMetadata | null {
    const row = this.q.metaByKey.get(jobId, keyId);
    return row ? metaFromRow(row) : null;
  }

  /** Whether the vault took this credential (in any state) — the engine's "was it delivered?" question after a crash. */
  holds(jobId: string, keyId: string): boolean {
    return this.q.metaByKey.get(jobId, keyId) !== undefined;
  }

  list(state?: SecretState): SecretMetadata[] {
    return this.q.list.all({ state: state ?? null }).map(metaFromRow);
  }

  private requireKey(): Buffer {
    if (!this.key) throw new Error('the one-time secret store has no encryption key (set SECRET_ENCRYPTION_KEY or pass encryptionKey)');
    return this.key;
  }
}
