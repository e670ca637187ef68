/** What someone with write access to the SQLite file (but not the chain key) can do to the audit log, for tests. */
import type Database from 'better-sqlite3';
import { GENESIS_HASH, type AuditEntry } from '../audit';

/** Rewrites entries from `fromSeq` on (through `edit`) and re-chains them with `hash`, as a tamperer with the file would. */
export function rehashFrom(raw: Database.Database, fromSeq: number, edit: (e: AuditEntry) => AuditEntry, hash: (e: AuditEntry) => string): void {
  const rows = raw.prepare('SELECT * FROM audit_log ORDER BY seq').all() as Array<Record<string, unknown>>;
  let prevHash = GENESIS_HASH;
  for (const r of rows) {
    const e: AuditEntry = {
      seq: r.seq as number,
      chainVersion: r.chain_version === 1 ? 1 : 2,
      at: r.at as string,
      actor: JSON.parse(r.actor as string),
      action: r.action as string,
      requestId: r.request_id as string | null,
      objects: JSON.parse(r.objects as string),
      result: r.result as string,
      detail: r.detail as string | null,
      prevHash: r.prev_hash as string,
      hash: r.hash as string,
    };
    if (e.seq >= fromSeq) {
      const forged = { ...edit(e), prevHash };
      forged.hash = hash(forged);
      raw.prepare('UPDATE audit_log SET result = ?, prev_hash = ?, hash = ? WHERE seq = ?').run(forged.result, forged.prevHash, forged.hash, e.seq);
      prevHash = forged.hash;
    } else prevHash = e.hash;
  }
}
