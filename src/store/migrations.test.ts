import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appliedMigrations, DB_FILE_NAME, migrate, MIGRATIONS, openStore, schemaVersion } from './index';
import { tempDataDir } from './testing/helpers';

const tables = (db: Database.Database) =>
  (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).pluck().all() as string[]).filter((n) => !n.startsWith('sqlite_'));

describe('migrations', () => {
  let data: ReturnType<typeof tempDataDir>;
  const file = () => join(data.dir, DB_FILE_NAME);
  beforeEach(() => (data = tempDataDir('migrate')));
  afterEach(() => data.cleanup());

  it('versions are unique and ascending', () => {
    const versions = MIGRATIONS.map((m) => m.version);
    expect(versions).toEqual([...new Set(versions)].sort((a, b) => a - b));
    expect(versions[0]).toBe(1);
  });

  it('a fresh database gets every migration once; opening again applies nothing', () => {
    const db = new Database(':memory:');
    expect(migrate(db)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(migrate(db)).toEqual([]);
    expect(schemaVersion(db)).toBe(MIGRATIONS.at(-1)!.version);
    expect(appliedMigrations(db).map((m) => m.version)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(tables(db)).toEqual(['audit_deliveries', 'audit_log', 'audit_threads', 'card_activities', 'conversation_refs', 'jobs', 'kv', 'outbox', 'requests', 'schema_migrations', 'secrets', 'steps']);
    db.close();
  });

  it('upgrades a version-1 database (journal only) in place, keeping its jobs', () => {
    const old = new Database(file());
    migrate(old, MIGRATIONS.filter((m) => m.version === 1));
    expect(schemaVersion(old)).toBe(1);
    expect(tables(old)).toEqual(['jobs', 'schema_migrations', 'steps']);
    old.prepare(`INSERT INTO jobs (id, kind, status, input, created_at, updated_at) VALUES ('old-job', 'provision', 'running', '{"appName":"X"}', 't', 't')`).run();
    old.prepare(`INSERT INTO steps (job_id, step, status, attempts, outputs) VALUES ('old-job', 'app', 'succeeded', 2, '{"appObjectId":"o-1"}')`).run();
    old.close();

    const store = openStore({ dataDir: data.dir });
    expect(store.schemaVersion()).toBe(MIGRATIONS.at(-1)!.version);
    expect(store.journal.getJob('old-job')).toMatchObject({ kind: 'provision', input: { appName: 'X' } });
    expect(store.journal.getStep('old-job', 'app')).toMatchObject({ attempts: 2, outputs: { appObjectId: 'o-1' } });
    // The new tables work.
    expect(store.kv.markOnce('k')).toBe(true);
    store.close();
  });

  it('upgrades a version-3 journal: its steps survive the jobs rebuild and an old wait becomes a waiting job', () => {
    const old = new Database(file());
    migrate(old, MIGRATIONS.filter((m) => m.version <= 3));
    old.prepare(`INSERT INTO jobs (id, kind, status, input, last_error, created_at, updated_at) VALUES ('m', 'migrate-rbac', 'failed', '{}', '{"code":"E_JOB_UNFINISHED","message":"waits"}', 't', 't')`).run();
    old.prepare(`INSERT INTO jobs (id, kind, status, input, last_error, created_at, updated_at) VALUES ('f', 'provision', 'failed', '{}', '{"code":"E_THROTTLED","message":"slow"}', 't', 't')`).run();
    old.prepare(`INSERT INTO steps (job_id, step, status, attempts, outputs) VALUES ('m', 'locate', 'succeeded', 1, '{"appId":"a"}')`).run();
    old.prepare(`INSERT INTO steps (job_id, step, status, attempts, outputs) VALUES ('m', 'settle', 'failed', 1, '{"resumeAfter":"2026-05-01T02:00:00.000Z"}')`).run();
    old.close();

    const store = openStore({ dataDir: data.dir });
    expect(store.journal.getJob('m')).toMatchObject({ status: 'waiting', resumeAfter: '2026-05-01T02:00:00.000Z', result: null });
    expect(store.journal.getJob('f')).toMatchObject({ status: 'failed', resumeAfter: null });
    expect(store.journal.getSteps('m').map((s) => s.step)).toEqual(['locate', 'settle']);
    store.close();
  });

  it('a failing migration rolls back completely and is not recorded', () => {
    const db = new Database(':memory:');
    migrate(db);
    const broken = { version: 99, name: 'broken', sql: `CREATE TABLE half_done (x INTEGER); INSERT INTO nowhere VALUES (1);` };
    expect(() => migrate(db, [...MIGRATIONS, broken])).toThrow(/no such table: nowhere/);
    expect(tables(db)).not.toContain('half_done');
    expect(schemaVersion(db)).toBe(MIGRATIONS.at(-1)!.version);
    db.close();
  });

  it('refuses a database from a newer build and a migration edited after it was applied', () => {
    const db = new Database(file());
    migrate(db, [...MIGRATIONS, { version: 1000, name: 'from the future', sql: 'CREATE TABLE future (x INTEGER);' }]);
    db.close();
    expect(() => openStore({ dataDir: data.dir })).toThrow(/schema version 1000 .*newer version/);

    const db2 = new Database(':memory:');
    migrate(db2);
    const edited = MIGRATIONS.map((m) => (m.version === 1 ? { ...m, sql: `${m.sql}\n-- edited` } : m));
    expect(() => migrate(db2, edited)).toThrow(/migration 1 .*was changed after it was applied/);
    db2.close();
  });

  it('two stores opening a fresh file at the same time both succeed and apply each migration once', () => {
    const a = new Database(file());
    const b = new Database(file());
    a.pragma('journal_mode = WAL');
    a.pragma('busy_timeout = 5000');
    b.pragma('busy_timeout = 5000');
    expect(migrate(a).length + migrate(b).length).toBe(MIGRATIONS.length);
    expect(appliedMigrations(b).map((m) => m.version)).toEqual(MIGRATIONS.map((m) => m.version));
    a.close();
    b.close();
  });
});
