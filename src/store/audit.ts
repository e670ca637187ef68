/**
 * Append-only, hash-chained audit log. Each entry's hash is SHA-256 over the canonical JSON of the entry including
 * the previous entry's hash, so editing, deleting or reordering any entry breaks the chain from that entry on.
 * (Truncating the newest entries is only detectable against a copy of a later head hash — e.g. the audit channel,
 * whose posts carry seq and hash.)
 */
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Clock } from '../core/ports';
import { canonicalJson, fromJson, toIso, toJson } from './json';
import { redact, redactString } from './redact';

export const GENESIS_HASH = '0'.repeat(64);

export interface AuditActor {
  /** 'user' for a person (Teams/Entra identity), 'system' for the bot itself (expiry sweeps, the engine). */
  kind: 'user' | 'system';
  aadObjectId?: string | null;
  name: string;
}

export type AuditResult = 'success' | 'failure' | 'refused' | 'info' | (string & {});

export interface AuditInput {
  actor: AuditActor;
  /** e.g. 'request.created', 'request.approved', 'step.succeeded', 'secret.revealed'. */
  action: string;
  requestId?: string | null;
  /** Object ids involved: appId, spObjectId, groupSmtp, keyId… */
  objects?: Record<string, string>;
  result: AuditResult;
  detail?: string | null;
  /** Default: the store's clock. */
  at?: Date;
}

export interface AuditEntry {
  seq: number;
  at: string;
  actor: AuditActor;
  action: string;
  requestId: string | null;
  objects: Record<string, string>;
  result: string;
  detail: string | null;
  prevHash: string;
  hash: string;
}

export type AuditVerifyResult =
  | { ok: true; count: number; headSeq: number; headHash: string }
  | { ok: false; count: number; brokenSeq: number; reason: 'hash-mismatch' | 'prev-hash-mismatch' | 'seq-gap' | 'unreadable' };

interface AuditRow {
  seq: number;
  at: string;
  actor: string;
  action: string;
  request_id: string | null;
  objects: string;
  result: string;
  detail: string | null;
  prev_hash: string;
  hash: string;
}

/** The hash of an entry: everything but the hash itself, canonically serialised. */
export function auditEntryHash(e: Omit<AuditEntry, 'hash'>): string {
  const body = canonicalJson({
    v: 1,
    seq: e.seq,
    at: e.at,
    actor: e.actor,
    action: e.action,
    requestId: e.requestId,
    objects: e.objects,
    result: e.result,
    detail: e.detail,
    prevHash: e.prevHash,
  });
  return createHash('sha256').update(body, 'utf8').digest('hex');
}

function fromRow(r: AuditRow): AuditEntry {
  return {
    seq: r.seq,
    at: r.at,
    actor: fromJson<AuditActor>(r.actor)!,
    action: r.action,
    requestId: r.request_id,
    objects: fromJson<Record<string, string>>(r.objects) ?? {},
    result: r.result,
    detail: r.detail,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

function normaliseActor(a: AuditActor): AuditActor {
  const actor: AuditActor = { kind: a.kind, name: String(a.name) };
  if (a.aadObjectId) actor.aadObjectId = String(a.aadObjectId);
  return actor;
}

export class AuditLog {
  private readonly q;

  constructor(
    private readonly db: Database.Database,
    private readonly clock: Clock,
  ) {
    this.q = {
      head: db.prepare<[], AuditRow>('SELECT * FROM audit_log ORDER BY seq DESC LIMIT 1'),
      insert: db.prepare(
        `INSERT INTO audit_log (seq, at, actor, action, request_id, objects, result, detail, prev_hash, hash)
         VALUES (@seq, @at, @actor, @action, @requestId, @objects, @result, @detail, @prevHash, @hash)`,
      ),
      bySeq: db.prepare<[number], AuditRow>('SELECT * FROM audit_log WHERE seq = ?'),
      page: db.prepare<{ after: number; limit: number }, AuditRow>('SELECT * FROM audit_log WHERE seq > @after ORDER BY seq LIMIT @limit'),
      forRequest: db.prepare<[string], AuditRow>('SELECT * FROM audit_log WHERE request_id = ? ORDER BY seq'),
      all: db.prepare<[], AuditRow>('SELECT * FROM audit_log ORDER BY seq'),
    };
  }

  /**
   * Appends one entry under the write lock (so concurrent appenders, even in other processes, chain correctly).
   * Object values and the detail are passed through shape-based redaction as a last line of defence; keeping
   * secrets out is still the caller's job.
   */
  append(input: AuditInput): AuditEntry {
    const objects: Record<string, string> = {};
    for (const [k, v] of Object.entries(redact(input.objects ?? {}))) objects[k] = String(v);
    const base = {
      at: toIso(input.at ?? this.clock.now()),
      actor: redact(normaliseActor(input.actor)),
      action: input.action,
      requestId: input.requestId ?? null,
      objects,
      result: input.result,
      detail: input.detail == null ? null : redactString(input.detail),
    };
    return this.db
      .transaction((): AuditEntry => {
        const head = this.q.head.get();
        const entry: Omit<AuditEntry, 'hash'> = { seq: head ? head.seq + 1 : 1, prevHash: head ? head.hash : GENESIS_HASH, ...base };
        const hash = auditEntryHash(entry);
        this.q.insert.run({
          ...entry,
          actor: toJson(entry.actor),
          objects: toJson(entry.objects),
          hash,
        });
        return { ...entry, hash };
      })
      .immediate();
  }

  get(seq: number): AuditEntry | null {
    const row = this.q.bySeq.get(seq);
    return row ? fromRow(row) : null;
  }

  head(): AuditEntry | null {
    const row = this.q.head.get();
    return row ? fromRow(row) : null;
  }

  /** Entries after `afterSeq`, oldest first. */
  list(options: { afterSeq?: number; limit?: number } = {}): AuditEntry[] {
    return this.q.page.all({ after: options.afterSeq ?? 0, limit: options.limit ?? 1000 }).map(fromRow);
  }

  listForRequest(requestId: string): AuditEntry[] {
    return this.q.forRequest.all(requestId).map(fromRow);
  }

  /** Walks the whole chain from seq 1 and reports the first entry that does not verify. */
  verify(): AuditVerifyResult {
    let prevHash = GENESIS_HASH;
    let expectedSeq = 1;
    let count = 0;
    for (const row of this.q.all.iterate()) {
      if (row.seq !== expectedSeq) return { ok: false, count, brokenSeq: expectedSeq, reason: 'seq-gap' };
      let entry: AuditEntry;
      try {
        entry = fromRow(row);
      } catch {
        return { ok: false, count, brokenSeq: row.seq, reason: 'unreadable' };
      }
      if (entry.prevHash !== prevHash) return { ok: false, count, brokenSeq: row.seq, reason: 'prev-hash-mismatch' };
      if (auditEntryHash(entry) !== entry.hash) return { ok: false, count, brokenSeq: row.seq, reason: 'hash-mismatch' };
      prevHash = entry.hash;
      expectedSeq += 1;
      count += 1;
    }
    return { ok: true, count, headSeq: expectedSeq - 1, headHash: prevHash };
  }
}
