import type Database from 'better-sqlite3';

/**
 * Small shared helpers: time normalisation, JSON-in-TEXT columns and canonical JSON for the audit hash chain.
 */

/** ISO-8601 UTC with milliseconds. Every timestamp column uses exactly this shape, so string order = time order. */
export function toIso(t: Date | string): string {
  const d = t instanceof Date ? t : new Date(t);
  const ms = d.getTime();
  if (Number.isNaN(ms)) throw new TypeError(`invalid timestamp: ${String(t).slice(0, 40)}`);
  return d.toISOString();
}

export function toJson(value: unknown): string {
  const text = JSON.stringify(value === undefined ? null : value);
  // JSON.stringify returns undefined for functions/symbols at top level.
  return text === undefined ? 'null' : text;
}

export function fromJson<T = unknown>(text: string | null | undefined): T | null {
  if (text === null || text === undefined) return null;
  return JSON.parse(text) as T;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Canonical JSON: object keys sorted by code point, no whitespace, `undefined` members dropped, non-finite numbers
 * rejected. Two logically equal entries always serialise to the same bytes, which is what a hash chain needs.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonicalJson: non-finite number');
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
      if (value instanceof Date) return JSON.stringify(value.toISOString());
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj)
        .filter((k) => obj[k] !== undefined)
        .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
    }
    default:
      throw new TypeError(`canonicalJson: unsupported type ${typeof value}`);
  }
}

/**
 * Prepared statements for queries whose SQL is assembled from a fixed vocabulary (optional filters). better-sqlite3
 * has no statement cache of its own; the shapes are few, and the cap keeps a bug from growing it without bound.
 */
export class StatementCache {
  private readonly cache = new Map<string, Database.Statement>();

  constructor(
    private readonly db: Database.Database,
    private readonly max = 128,
  ) {}

  get(sql: string): Database.Statement {
    let stmt = this.cache.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      if (this.cache.size >= this.max) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(sql, stmt);
    }
    return stmt;
  }
}
