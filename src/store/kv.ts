/**
 * A small durable key/value table for schedules and once-only markers, e.g.
 * `reminder:<appId>:<keyId>:30d` so an expiry reminder fires once per threshold across restarts and processes.
 */
import type Database from 'better-sqlite3';
import type { Clock } from '../core/ports';
import { fromJson, toIso, toJson } from './json';

export interface KvEntry<T = unknown> {
  key: string;
  value: T;
  createdAt: string;
  updatedAt: string;
}

interface KvRow {
  key: string;
  value: string;
  created_at: string;
  updated_at: string;
}

function fromRow<T>(r: KvRow): KvEntry<T> {
  return { key: r.key, value: fromJson<T>(r.value) as T, createdAt: r.created_at, updatedAt: r.updated_at };
}

export class KeyValueStore {
  private readonly q;

  constructor(
    db: Database.Database,
    private readonly clock: Clock,
  ) {
    this.q = {
      insertOnce: db.prepare('INSERT INTO kv (key, value, created_at, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO NOTHING'),
      upsert: db.prepare(
        `INSERT INTO kv (key, value, created_at, updated_at) VALUES (@key, @value, @now, @now)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      ),
      get: db.prepare<[string], KvRow>('SELECT * FROM kv WHERE key = ?'),
      del: db.prepare('DELETE FROM kv WHERE key = ?'),
      range: db.prepare<[string, string], KvRow>('SELECT * FROM kv WHERE key >= ? AND key < ? ORDER BY key'),
      delRange: db.prepare('DELETE FROM kv WHERE key >= ? AND key < ?'),
    };
  }

  /**
   * True exactly once per key, ever (until deleted): the first caller — in any process — wins, later calls are
   * false. Use it to guard side effects that must not repeat; the value records what/when for inspection.
   */
  markOnce(key: string, value: unknown = true, now: Date = this.clock.now()): boolean {
    const at = toIso(now);
    return this.q.insertOnce.run(key, toJson(value), at, at).changes === 1;
  }

  has(key: string): boolean {
    return this.q.get.get(key) !== undefined;
  }

  get<T = unknown>(key: string): KvEntry<T> | null {
    const row = this.q.get.get(key);
    return row ? fromRow<T>(row) : null;
  }

  set(key: string, value: unknown, now: Date = this.clock.now()): void {
    this.q.upsert.run({ key, value: toJson(value), now: toIso(now) });
  }

  delete(key: string): boolean {
    return this.q.del.run(key).changes > 0;
  }

  list<T = unknown>(prefix: string): KvEntry<T>[] {
    return this.q.range.all(prefix, `${prefix}\u{10FFFF}`).map((r) => fromRow<T>(r));
  }

  deletePrefix(prefix: string): number {
    return this.q.delRange.run(prefix, `${prefix}\u{10FFFF}`).changes;
  }
}
