/**
 * Opening the SQLite file: pragmas chosen for a small, crash-safe, multi-process store.
 */
import Database from 'better-sqlite3';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';

export const DB_FILE_NAME = 'opter-mail.sqlite';

export interface OpenDatabaseOptions {
  dataDir?: string;
  memory?: boolean;
  /** How long a writer waits for another connection's lock before SQLITE_BUSY. Default 5000 ms. */
  busyTimeoutMs?: number;
  /**
   * FULL (default) fsyncs every commit, so a journal record written before a tenant call survives a power cut,
   * not just a killed process. NORMAL is faster and still safe against process crashes.
   */
  synchronous?: 'FULL' | 'NORMAL';
}

export function openDatabase(options: OpenDatabaseOptions): { db: Database.Database; path: string } {
  let path: string;
  if (options.memory) {
    path = ':memory:';
  } else {
    const dataDir = options.dataDir ?? './data';
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    path = join(dataDir, DB_FILE_NAME);
    // Create the file private before SQLite does: SQLite gives -wal/-shm the main file's permissions.
    closeSync(openSync(path, 'a', 0o600));
  }
  const db = new Database(path);
  try {
    if (!options.memory) db.pragma('journal_mode = WAL');
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
    db.pragma('foreign_keys = ON');
    db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
    // Deleted and overwritten content (purged ciphertext) is zeroed on the page instead of lingering in free space.
    db.pragma('secure_delete = ON');
    db.pragma('temp_store = MEMORY');
  } catch (e) {
    db.close();
    throw e;
  }
  return { db, path };
}
