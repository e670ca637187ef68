/**
 * Versioned schema migrations. Each migration runs once, inside one IMMEDIATE transaction together with its
 * `schema_migrations` row, so a crash or an error leaves the database at the previous version, and two processes
 * opening the same file at once cannot both apply it. A migration, once released, is never edited: its checksum is
 * recorded and a mismatch refuses to open (fix forward with a new migration instead).
 */
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'journal',
    sql: `
      CREATE TABLE jobs (
        id              TEXT PRIMARY KEY,
        kind            TEXT NOT NULL,
        status          TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
        input           TEXT NOT NULL CHECK (json_valid(input)),
        idempotency_key TEXT UNIQUE,
        last_error      TEXT CHECK (last_error IS NULL OR json_valid(last_error)),
        created_at      TEXT NOT NULL,
        updated_at      TEXT NOT NULL
      ) STRICT;
      CREATE INDEX jobs_by_status_kind ON jobs (status, kind);

      CREATE TABLE steps (
        job_id      TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        step        TEXT NOT NULL,
        status      TEXT NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed')),
        attempts    INTEGER NOT NULL DEFAULT 0,
        outputs     TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(outputs)),
        last_error  TEXT CHECK (last_error IS NULL OR json_valid(last_error)),
        started_at  TEXT,
        finished_at TEXT,
        PRIMARY KEY (job_id, step)
      ) STRICT;
    `,
  },
  {
    version: 2,
    name: 'bot: requests, cards, conversation references, one-time secrets, audit chain, outbox, kv',
    sql: `
      CREATE TABLE requests (
        id                       TEXT PRIMARY KEY,
        kind                     TEXT NOT NULL,
        status                   TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'expired',
                                   'provisioning', 'succeeded', 'failed', 'cancelled')),
        tenant_id                TEXT NOT NULL,
        requester_aad_object_id  TEXT NOT NULL,
        requester_name           TEXT,
        requester_mri            TEXT,
        app_name                 TEXT,
        payload                  TEXT NOT NULL CHECK (json_valid(payload)),
        dedupe_key               TEXT UNIQUE,
        created_at               TEXT NOT NULL,
        updated_at               TEXT NOT NULL,
        expires_at               TEXT NOT NULL,
        decision                 TEXT CHECK (decision IS NULL OR decision IN ('approved', 'rejected')),
        decided_by_aad_object_id TEXT,
        decided_by_name          TEXT,
        decided_at               TEXT,
        decision_reason          TEXT,
        job_id                   TEXT,
        result                   TEXT CHECK (result IS NULL OR json_valid(result)),
        last_error               TEXT CHECK (last_error IS NULL OR json_valid(last_error))
      ) STRICT;
      CREATE INDEX requests_by_status_expiry ON requests (status, expires_at);
      CREATE INDEX requests_by_requester ON requests (requester_aad_object_id, created_at);
      CREATE INDEX requests_by_app_name ON requests (app_name COLLATE NOCASE, created_at);
      CREATE INDEX requests_by_job ON requests (job_id);

      -- Every card the bot posted, so each copy (e.g. the approval card in several chats) can be updated later.
      CREATE TABLE card_activities (
        id              INTEGER PRIMARY KEY,
        request_id      TEXT NOT NULL,
        role            TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        activity_id     TEXT NOT NULL,
        service_url     TEXT NOT NULL,
        reference       TEXT NOT NULL CHECK (json_valid(reference)),
        created_at      TEXT NOT NULL,
        updated_at      TEXT NOT NULL,
        UNIQUE (conversation_id, activity_id)
      ) STRICT;
      CREATE INDEX card_activities_by_request ON card_activities (request_id, role);

      CREATE TABLE conversation_refs (
        name            TEXT PRIMARY KEY,
        conversation_id TEXT NOT NULL,
        service_url     TEXT NOT NULL,
        tenant_id       TEXT,
        reference       TEXT NOT NULL CHECK (json_valid(reference)),
        updated_at      TEXT NOT NULL,
        updated_by      TEXT
      ) STRICT;

      -- One-time secrets. The ciphertext columns are present exactly while the secret is sealed (neither revealed
      -- nor expired); claim and expiry NULL them in the same transaction that records the state change.
      CREATE TABLE secrets (
        request_id               TEXT PRIMARY KEY,
        job_id                   TEXT NOT NULL,
        app_id                   TEXT NOT NULL,
        app_object_id            TEXT NOT NULL,
        key_id                   TEXT NOT NULL,
        owner_aad_object_id      TEXT NOT NULL,
        credential_end_date_time TEXT,
        ciphertext               BLOB,
        iv                       BLOB,
        auth_tag                 BLOB,
        key_fingerprint          TEXT NOT NULL,
        created_at               TEXT NOT NULL,
        expires_at               TEXT NOT NULL,
        revealed_at              TEXT,
        revealed_by_aad_object_id TEXT,
        revealed_by_name         TEXT,
        expired_at               TEXT,
        credential_removed_at    TEXT,
        CHECK ((ciphertext IS NOT NULL AND iv IS NOT NULL AND auth_tag IS NOT NULL)
               = (revealed_at IS NULL AND expired_at IS NULL)),
        CHECK (revealed_at IS NULL OR expired_at IS NULL)
      ) STRICT;
      CREATE INDEX secrets_sealed_by_expiry ON secrets (expires_at) WHERE ciphertext IS NOT NULL;
      CREATE INDEX secrets_by_job_key ON secrets (job_id, key_id);

      -- Append-only, hash-chained. seq is assigned by the appender (not AUTOINCREMENT) because it is hashed.
      CREATE TABLE audit_log (
        seq        INTEGER PRIMARY KEY,
        at         TEXT NOT NULL,
        actor      TEXT NOT NULL CHECK (json_valid(actor)),
        action     TEXT NOT NULL,
        request_id TEXT,
        objects    TEXT NOT NULL CHECK (json_valid(objects)),
        result     TEXT NOT NULL,
        detail     TEXT,
        prev_hash  TEXT NOT NULL,
        hash       TEXT NOT NULL
      ) STRICT;
      CREATE INDEX audit_log_by_request ON audit_log (request_id, seq);
      -- Guards against accidental rewrites by our own code; a deliberate tamperer can drop these, which the hash
      -- chain then exposes.
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
      CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

      CREATE TABLE outbox (
        id               INTEGER PRIMARY KEY,
        kind             TEXT NOT NULL,
        target           TEXT NOT NULL CHECK (json_valid(target)),
        payload          TEXT NOT NULL CHECK (json_valid(payload)),
        dedupe_key       TEXT NOT NULL UNIQUE,
        status           TEXT NOT NULL CHECK (status IN ('pending', 'leased', 'sent', 'dead')),
        attempts         INTEGER NOT NULL DEFAULT 0,
        next_attempt_at  TEXT NOT NULL,
        lease_owner      TEXT,
        lease_expires_at TEXT,
        last_error       TEXT,
        created_at       TEXT NOT NULL,
        updated_at       TEXT NOT NULL,
        sent_at          TEXT
      ) STRICT;
      CREATE INDEX outbox_pending_due ON outbox (next_attempt_at) WHERE status = 'pending';
      CREATE INDEX outbox_leased_expiry ON outbox (lease_expires_at) WHERE status = 'leased';

      CREATE TABLE kv (
        key        TEXT PRIMARY KEY,
        value      TEXT NOT NULL CHECK (json_valid(value)),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 3,
    name: 'audit: keyed chain (HMAC), deliveries to the audit channel, one thread per request',
    sql: `
      -- 1 = SHA-256 (entries written before this version), 2 = HMAC-SHA256 with a key that is not in this database.
      ALTER TABLE audit_log ADD COLUMN chain_version INTEGER NOT NULL DEFAULT 1;

      -- An existing chain is closed by one keyed entry (audit.chain-keyed) at the first start that has the key; until
      -- then this marker says one is due. Verification accepts unkeyed entries only before that entry.
      INSERT INTO kv (key, value, created_at, updated_at)
        SELECT 'audit:legacy-anchor-due', json_object('legacyHeadSeq', MAX(seq)),
               strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
        FROM audit_log HAVING COUNT(*) > 0;

      -- The thread an entry belongs to: the first entry of its request (or job) is the thread's root post.
      CREATE TABLE audit_threads (
        thread_key TEXT PRIMARY KEY,
        root_seq   INTEGER NOT NULL
      ) STRICT;

      -- Every post of an entry to the audit channel: where it landed and which top-level message it replied to.
      CREATE TABLE audit_deliveries (
        seq                INTEGER NOT NULL,
        conversation_id    TEXT NOT NULL,
        activity_id        TEXT NOT NULL,
        thread_root_seq    INTEGER,
        thread_activity_id TEXT NOT NULL,
        posted_at          TEXT NOT NULL,
        PRIMARY KEY (seq, conversation_id)
      ) STRICT;
      CREATE INDEX audit_deliveries_by_thread ON audit_deliveries (thread_root_seq, conversation_id);
    `,
  },
  {
    version: 4,
    name: 'journal: a waiting job status with resume_after, and the typed result of a finished job',
    // SQLite cannot change a CHECK constraint in place, so jobs is rebuilt. steps is set aside first: dropping jobs
    // would otherwise cascade-delete every step (foreign keys are on, and cannot be turned off inside the
    // migration's transaction).
    sql: `
      CREATE TABLE steps_v3 AS SELECT rowid AS old_rowid, * FROM steps;
      DROP TABLE steps;

      CREATE TABLE jobs_v4 (
        id              TEXT PRIMARY KEY,
        kind            TEXT NOT NULL,
        status          TEXT NOT NULL CHECK (status IN ('running', 'waiting', 'succeeded', 'failed')),
        input           TEXT NOT NULL CHECK (json_valid(input)),
        idempotency_key TEXT UNIQUE,
        last_error      TEXT CHECK (last_error IS NULL OR json_valid(last_error)),
        resume_after    TEXT,
        result          TEXT CHECK (result IS NULL OR json_valid(result)),
        created_at      TEXT NOT NULL,
        updated_at      TEXT NOT NULL
      ) STRICT;
      INSERT INTO jobs_v4 (rowid, id, kind, status, input, idempotency_key, last_error, created_at, updated_at)
        SELECT rowid, id, kind, status, input, idempotency_key, last_error, created_at, updated_at FROM jobs ORDER BY rowid;
      DROP TABLE jobs;
      ALTER TABLE jobs_v4 RENAME TO jobs;
      CREATE INDEX jobs_by_status_kind ON jobs (status, kind);

      CREATE TABLE steps (
        job_id      TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        step        TEXT NOT NULL,
        status      TEXT NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed')),
        attempts    INTEGER NOT NULL DEFAULT 0,
        outputs     TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(outputs)),
        last_error  TEXT CHECK (last_error IS NULL OR json_valid(last_error)),
        started_at  TEXT,
        finished_at TEXT,
        PRIMARY KEY (job_id, step)
      ) STRICT;
      INSERT INTO steps (rowid, job_id, step, status, attempts, outputs, last_error, started_at, finished_at)
        SELECT old_rowid, job_id, step, status, attempts, outputs, last_error, started_at, finished_at FROM steps_v3 ORDER BY old_rowid;
      DROP TABLE steps_v3;

      -- Before this version a wait was a failed job with E_JOB_UNFINISHED and the time on its failed step.
      UPDATE jobs SET status = 'waiting',
        resume_after = (SELECT json_extract(s.outputs, '$.resumeAfter') FROM steps s
                        WHERE s.job_id = jobs.id AND s.status = 'failed' AND json_type(s.outputs, '$.resumeAfter') = 'text'
                        ORDER BY s.rowid LIMIT 1)
        WHERE status = 'failed' AND json_extract(last_error, '$.code') = 'E_JOB_UNFINISHED';
    `,
  },
];

export interface AppliedMigration {
  version: number;
  name: string;
  checksum: string;
  appliedAt: string;
}

export function migrationChecksum(m: Migration): string {
  return createHash('sha256').update(m.sql).digest('hex');
}

function ensureMigrationsTable(db: Database.Database): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    checksum   TEXT NOT NULL,
    applied_at TEXT NOT NULL
  ) STRICT`);
}

export function appliedMigrations(db: Database.Database): AppliedMigration[] {
  ensureMigrationsTable(db);
  return (
    db.prepare('SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version').all() as {
      version: number;
      name: string;
      checksum: string;
      applied_at: string;
    }[]
  ).map((r) => ({ version: r.version, name: r.name, checksum: r.checksum, appliedAt: r.applied_at }));
}

/**
 * Brings the database up to the newest of `migrations`. Returns the versions applied by this call.
 * Refuses a database written by a newer build (unknown version) or whose applied migration text differs.
 */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS, now: () => Date = () => new Date()): number[] {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  sorted.forEach((m, i) => {
    if (!Number.isInteger(m.version) || m.version < 1) throw new Error(`migration version must be a positive integer: ${m.version}`);
    if (i > 0 && sorted[i - 1].version === m.version) throw new Error(`duplicate migration version ${m.version}`);
  });
  const known = new Map(sorted.map((m) => [m.version, m]));
  const applied: number[] = [];

  ensureMigrationsTable(db);
  const check = () => {
    for (const row of appliedMigrations(db)) {
      const m = known.get(row.version);
      if (!m) {
        throw new Error(
          `database schema version ${row.version} (${row.name}) is unknown to this build; refusing to open a database written by a newer version`,
        );
      }
      if (migrationChecksum(m) !== row.checksum) {
        throw new Error(`migration ${row.version} (${row.name}) was changed after it was applied; add a new migration instead`);
      }
    }
  };
  check();

  const isApplied = db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').pluck();
  const record = db.prepare('INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)');
  for (const m of sorted) {
    // IMMEDIATE: take the write lock before re-checking, so a concurrent opener waits and then sees it applied.
    db.transaction(() => {
      if (isApplied.get(m.version)) return;
      db.exec(m.sql);
      record.run(m.version, m.name, migrationChecksum(m), now().toISOString());
      applied.push(m.version);
    }).immediate();
  }
  return applied;
}

export function schemaVersion(db: Database.Database): number {
  ensureMigrationsTable(db);
  return (db.prepare('SELECT COALESCE(MAX(version), 0) FROM schema_migrations').pluck().get() as number) ?? 0;
}
