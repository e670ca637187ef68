/**
 * openStore: one SQLite file (`${dataDir}/opter-mail.sqlite`), migrated on open, with a repository per concern.
 * Every repository is synchronous (better-sqlite3); `transaction(fn)` groups writes across repositories, e.g. an
 * audit entry and its outbox post, so both happen or neither does.
 */
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { systemClock, type Clock } from '../core/ports';
import { AuditLog, auditOutboxItem } from './audit';
import { CardRepository } from './cards';
import { openDatabase } from './db';
import { SqliteJournal } from './journal';
import { deriveAuditChainKey } from './key';
import { KeyValueStore } from './kv';
import { migrate, MIGRATIONS, schemaVersion } from './migrations';
import { Outbox } from './outbox';
import { RequestRepository, type PayloadDecoder } from './requests';
import { SecretVault } from './secrets';

export interface StoreOptions {
  /** Directory of the database file; default './data'. Ignored with `memory`. */
  dataDir?: string;
  /** An in-memory database (tests, the CLI without DATA_DIR). */
  memory?: boolean;
  /**
   * 32-byte AES key for one-time secrets (see loadOrCreateEncryptionKey); the audit chain's HMAC key is derived from
   * it. Without it, a file store refuses secret operations and cannot append to or verify the audit chain; a memory
   * store uses a random per-process key (it cannot outlive the process anyway).
   */
  encryptionKey?: Buffer;
  clock?: Clock;
  busyTimeoutMs?: number;
  synchronous?: 'FULL' | 'NORMAL';
  /** How a request's payload read back is decoded (the bot: its actions' schemas). Default: the JSON as stored. */
  decodePayload?: PayloadDecoder;
}

export interface Store {
  /** File path, or ':memory:'. */
  readonly path: string;
  readonly clock: Clock;
  readonly journal: SqliteJournal;
  readonly requests: RequestRepository;
  readonly cards: CardRepository;
  readonly secrets: SecretVault;
  readonly audit: AuditLog;
  readonly outbox: Outbox;
  readonly kv: KeyValueStore;
  /**
   * Runs `fn` in one IMMEDIATE transaction (write lock taken up front, so it cannot fail half-way on a lock
   * upgrade). Nested calls become savepoints. `fn` must be synchronous: a returned promise is refused.
   */
  transaction<T>(fn: () => T): T;
  schemaVersion(): number;
  /** Folds the WAL into the main file (best effort; readers in other processes may hold frames back). */
  checkpoint(mode?: 'PASSIVE' | 'TRUNCATE'): void;
  readonly open: boolean;
  close(): void;
}

export function openStore(options: StoreOptions = {}): Store {
  const clock = options.clock ?? systemClock;
  const { db, path } = openDatabase(options);
  try {
    migrate(db, MIGRATIONS, () => clock.now());
  } catch (e) {
    db.close();
    throw e;
  }
  const encryptionKey = options.encryptionKey ?? (options.memory ? randomBytes(32) : null);
  const checkpoint = (mode: 'PASSIVE' | 'TRUNCATE' = 'PASSIVE') => {
    if (options.memory || !db.open) return;
    db.pragma(`wal_checkpoint(${mode})`);
  };
  // After a ciphertext is destroyed, copy the page without it into the main file now rather than at some later
  // automatic checkpoint. PASSIVE never waits, so it cannot slow a reveal down.
  const afterSecretDestroyed = () => {
    try {
      checkpoint('PASSIVE');
    } catch {
      // best effort; the automatic checkpoint will follow
    }
  };

  const store = buildStore(db, path, clock, encryptionKey, checkpoint, afterSecretDestroyed, options.decodePayload);
  try {
    // A chain from before keying is closed by one keyed entry at the first open that has the key; it is posted too.
    store.transaction(() => {
      const anchor = store.audit.anchorLegacyChain();
      if (anchor) store.outbox.enqueue(auditOutboxItem(anchor.seq, null));
    });
  } catch (e) {
    db.close();
    throw e;
  }
  return store;
}

function buildStore(
  db: Database.Database,
  path: string,
  clock: Clock,
  encryptionKey: Buffer | null,
  checkpoint: (mode?: 'PASSIVE' | 'TRUNCATE') => void,
  afterSecretDestroyed: () => void,
  decodePayload?: PayloadDecoder,
): Store {
  return {
    path,
    clock,
    journal: new SqliteJournal(db, clock),
    requests: new RequestRepository(db, clock, decodePayload),
    cards: new CardRepository(db, clock),
    secrets: new SecretVault(db, clock, encryptionKey, afterSecretDestroyed),
    audit: new AuditLog(db, clock, encryptionKey ? deriveAuditChainKey(encryptionKey) : null),
    outbox: new Outbox(db, clock),
    kv: new KeyValueStore(db, clock),
    transaction: <T>(fn: () => T): T => db.transaction(fn).immediate(),
    schemaVersion: () => schemaVersion(db),
    checkpoint,
    get open() {
      return db.open;
    },
    close: () => {
      if (db.open) db.close();
    },
  };
}
