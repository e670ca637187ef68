/**
 * What the security tests assert after every hostile input: nothing was written to the tenant and nothing changed in
 * the bot's store — except, where the product deliberately records it, an audit entry with result "refused" (who
 * tried to approve or reveal what they may not) and that entry's audit-channel post.
 *
 * The store is read through a second, read-only SQLite connection (WAL lets it see every committed write of the
 * bot's connection), so the check looks at the bytes the bot really committed, not at the repositories' views.
 */
import Database from 'better-sqlite3';
import type { RequestLogEntry } from '../../src/sim';

/** Every table the bot keeps, with the columns that identify a row. */
export const STORE_TABLES: Readonly<Record<string, readonly string[]>> = {
  jobs: ['id'],
  steps: ['job_id', 'step'],
  requests: ['id'],
  card_activities: ['id'],
  conversation_refs: ['name'],
  secrets: ['request_id'],
  audit_log: ['seq'],
  audit_threads: ['thread_key'],
  audit_deliveries: ['seq', 'conversation_id'],
  outbox: ['id'],
  kv: ['key'],
};

export type StoreRow = Record<string, unknown>;
export type StoreDump = Record<string, Map<string, StoreRow>>;

function plain(row: Record<string, unknown>): StoreRow {
  const out: StoreRow = {};
  for (const [k, v] of Object.entries(row)) out[k] = Buffer.isBuffer(v) ? `blob:${v.toString('hex')}` : v;
  return out;
}

/** Every row of every table, keyed by primary key. */
export function dumpStore(dbPath: string): StoreDump {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const dump: StoreDump = {};
    for (const [table, keys] of Object.entries(STORE_TABLES)) {
      const rows = db.prepare(`SELECT * FROM ${table}`).all() as Record<string, unknown>[];
      dump[table] = new Map(rows.map((r) => [keys.map((k) => String(r[k])).join('|'), plain(r)]));
    }
    return dump;
  } finally {
    db.close();
  }
}

export interface StoreChange {
  table: string;
  key: string;
  kind: 'added' | 'removed' | 'changed';
  before?: StoreRow;
  after?: StoreRow;
}

export function storeChanges(before: StoreDump, after: StoreDump): StoreChange[] {
  const changes: StoreChange[] = [];
  for (const table of Object.keys(STORE_TABLES)) {
    const a = before[table] ?? new Map();
    const b = after[table] ?? new Map();
    for (const [key, row] of b) {
      const old = a.get(key);
      if (!old) changes.push({ table, key, kind: 'added', after: row });
      else if (JSON.stringify(old) !== JSON.stringify(row)) changes.push({ table, key, kind: 'changed', before: old, after: row });
    }
    for (const [key, row] of a) if (!b.has(key)) changes.push({ table, key, kind: 'removed', before: row });
  }
  return changes;
}

/**
 * Splits changes into the allowed "refused" audit entries (+ their outbox posts and the record of those posts) and
 * everything else. The product
 * records refusals of approvals/rejections and of reveals, so probing is visible in the audit channel; any other
 * change is a defect for hostile input.
 */
export function classifyChanges(changes: StoreChange[]): { refusals: StoreRow[]; unexplained: StoreChange[] } {
  const refusals = changes.filter((c) => c.table === 'audit_log' && c.kind === 'added' && c.after!.result === 'refused').map((c) => c.after!);
  const refusedSeqs = new Set(refusals.map((r) => Number(r.seq)));
  const unexplained = changes.filter((c) => {
    if (c.table === 'audit_log' && c.kind === 'added' && c.after!.result === 'refused') return false;
    if (c.table === 'outbox' && c.kind === 'added' && c.after!.kind === 'audit') {
      const payload = JSON.parse(String(c.after!.payload)) as { seq?: number };
      if (payload.seq !== undefined && refusedSeqs.has(payload.seq)) return false;
    }
    if (c.table === 'audit_deliveries' && c.kind !== 'removed' && refusedSeqs.has(Number(c.after!.seq))) return false;
    return true;
  });
  return { refusals, unexplained };
}

export function describeChanges(changes: StoreChange[]): string {
  return changes
    .map((c) => `${c.kind} ${c.table}[${c.key}]: ${JSON.stringify(c.after ?? c.before).slice(0, 300)}`)
    .join('\n');
}

const EXCHANGE_WRITE = /^(New|Add|Remove|Set|Enable|Disable|Update|Grant|Revoke|Install|Uninstall)-/i;

/** Calls that change the tenant: any Graph call but GET, any Exchange cmdlet that is not a read. */
export function tenantWrites(log: RequestLogEntry[]): RequestLogEntry[] {
  return log.filter((e) => (e.family === 'graph' && e.method.toUpperCase() !== 'GET') || (e.family === 'exchange' && EXCHANGE_WRITE.test(e.cmdlet ?? '')));
}

export function describeCalls(log: RequestLogEntry[]): string {
  return log.map((e) => `${e.family} ${e.method} ${e.cmdlet ?? decodeURIComponent(e.path).slice(0, 160)} → ${e.status}`).join('\n');
}

// -------------------------------------------------------------------------------------------------------------------
// Corpus values: JSON cannot hold a 10 000-character string or 1 000 addresses readably, so the data files describe
// those with small generators that expand here.
// -------------------------------------------------------------------------------------------------------------------

export type CorpusValue = unknown;

/**
 * Expands the generators of test/hostile/README.md anywhere in a value: `{ "$repeat": s, "times": n }`,
 * `{ "$concat": [..] }`, `{ "$range": "user{i}@exempel.se", "count": n, "from"?: 0, "join"?: "\n", "json"?: true }`
 * `{ "$nest": n }` and `{ "$keys": n }`; everything else is returned as is.
 */
export function expand(value: CorpusValue): unknown {
  if (Array.isArray(value)) return value.map(expand);
  if (!value || typeof value !== 'object') return value;
  const v = value as Record<string, unknown>;
  if (typeof v.$repeat === 'string') return v.$repeat.repeat(Number(v.times));
  if (Array.isArray(v.$concat)) return v.$concat.map((p) => String(expand(p))).join('');
  if (typeof v.$range === 'string') {
    const from = Number(v.from ?? 0);
    const list = Array.from({ length: Number(v.count) }, (_, i) => (v.$range as string).replaceAll('{i}', String(from + i)));
    if (v.json === true) return list.map((item) => JSON.parse(item) as unknown);
    return typeof v.join === 'string' ? list.join(v.join) : list;
  }
  if (typeof v.$keys === 'number') return Object.fromEntries(Array.from({ length: v.$keys }, (_, i) => [`k${i}`, 'v']));
  if (typeof v.$nest === 'number') {
    let nested: Record<string, unknown> = {};
    for (let i = 0; i < v.$nest; i++) nested = { a: nested };
    return nested;
  }
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, expand(x)]));
}

/** Turns a corpus regex string (optionally "/…/flags") into a RegExp. */
export function pattern(source: string): RegExp {
  const m = /^\/(.*)\/([a-z]*)$/s.exec(source);
  return m ? new RegExp(m[1]!, m[2]) : new RegExp(source.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
}
