import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from './db';
import { DB_FILE_NAME, openStore } from './index';
import { tempDataDir } from './testing/helpers';
import Database from 'better-sqlite3';

describe('openStore', () => {
  let data: ReturnType<typeof tempDataDir>;
  beforeEach(() => (data = tempDataDir('open')));
  afterEach(() => data.cleanup());

  it('creates ${dataDir}/opter-mail.sqlite (and its WAL) private to the user, in WAL mode', () => {
    const dir = join(data.dir, 'fresh');
    const store = openStore({ dataDir: dir });
    expect(store.path).toBe(join(dir, DB_FILE_NAME));
    expect(statSync(store.path).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    store.kv.set('first-write', true);
    expect(statSync(`${store.path}-wal`).mode & 0o777).toBe(0o600);
    store.close();
    const raw = new Database(store.path, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();
  });

  it('sets busy timeout, foreign keys, secure delete, durable sync and in-memory temp storage on the connection', () => {
    const { db } = openDatabase({ dataDir: data.dir, busyTimeoutMs: 1234 });
    expect(db.pragma('busy_timeout', { simple: true })).toBe(1234);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('secure_delete', { simple: true })).toBe(1);
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    expect(db.pragma('temp_store', { simple: true })).toBe(2); // MEMORY
    db.close();
    const normal = openDatabase({ dataDir: data.dir, synchronous: 'NORMAL' });
    expect(normal.db.pragma('synchronous', { simple: true })).toBe(1);
    normal.db.close();
  });

  it('enforces foreign keys (a step cannot exist without its job)', () => {
    const store = openStore({ dataDir: data.dir });
    store.close();
    const raw = new Database(join(data.dir, DB_FILE_NAME));
    raw.pragma('foreign_keys = ON');
    expect(() => raw.prepare(`INSERT INTO steps (job_id, step, status) VALUES ('ghost', 's', 'pending')`).run()).toThrow(/FOREIGN KEY/);
    raw.close();
  });

  it('nested store.transaction calls roll back only the inner part when the inner one throws', () => {
    const store = openStore({ memory: true });
    store.transaction(() => {
      store.kv.set('outer', 1);
      try {
        store.transaction(() => {
          store.kv.set('inner', 2);
          throw new Error('inner failed');
        });
      } catch {
        // handled: the outer work continues
      }
    });
    expect(store.kv.get('outer')?.value).toBe(1);
    expect(store.kv.get('inner')).toBeNull();
    store.close();
    expect(store.open).toBe(false);
    store.close(); // idempotent
  });
});
