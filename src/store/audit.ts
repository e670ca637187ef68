/**
 * Append-only, keyed audit chain. Each entry's hash is HMAC-SHA256 over the canonical JSON of the entry including the
 * previous entry's hash, with a key derived from SECRET_ENCRYPTION_KEY (deriveAuditChainKey) that never sits in the
 * database: editing, deleting, reordering or re-hashing any entry breaks the chain, even for someone who can write
 * the SQLite file. Dropping the newest entries is caught against the deliveries recorded here and, for a guarantee,
 * against the audit channel, whose posts carry each entry's seq and hash prefix (`verify({ lastPostedSeq })`).
 *
 * Entries written before the chain was keyed (chain_version 1, plain SHA-256) are verified as legacy: they must form
 * the start of the chain and be closed by one keyed `audit.chain-keyed` entry naming the last of them (written by
 * `anchorLegacyChain` at the first keyed open after the upgrade). See docs/security.md.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Clock } from '../core/ports';
import { OpterError } from '../core/errors';
import { canonicalJson, fromJson, toIso, toJson } from './json';
import { redact, redactString } from './redact';

export const GENESIS_HASH = '0'.repeat(64);

export interface AuditActor {
  /**
   * 'user' for a person in Teams (Entra identity), 'cli' for a person at a terminal running `opter-mail` (OS user),
   * 'system' for the bot itself (expiry sweeps, the engine).
   */
  kind: 'user' | 'cli' | 'system';
  aadObjectId?: string | null;
  name: string;
  /** cli: the client id of the provisioning identity the command signed in as. */
  identity?: string;
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

/** 1: SHA-256, written before the chain was keyed. 2: HMAC-SHA256 with the chain key. */
export type ChainVersion = 1 | 2;

export interface AuditEntry {
  seq: number;
  chainVersion: ChainVersion;
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

/** Why a chain does not verify (stable words: the CLI prints them and tests match them). */
export type AuditBreak =
  /** No chain key: the store was opened without SECRET_ENCRYPTION_KEY / secret.key. */
  | 'no-key'
  | 'unreadable'
  /** A seq is missing: an entry in the middle was deleted. */
  | 'seq-gap'
  | 'prev-hash-mismatch'
  /** The entry's HMAC is wrong: it was edited, or the chain was re-hashed without the key. */
  | 'hash-mismatch'
  /** An unkeyed entry after keyed ones, or unkeyed entries not closed by the keyed anchor entry. */
  | 'legacy-after-keyed'
  | 'legacy-unanchored'
  /** The chain ends before the last entry known to have been posted to the audit channel. */
  | 'tail-missing'
  /** The entry at the posted seq does not have the hash the channel shows. */
  | 'posted-hash-mismatch';

export type AuditVerifyResult =
  | {
      ok: true;
      count: number;
      headSeq: number;
      headHash: string;
      /** Entries from before the chain was keyed (verified with SHA-256 only). */
      legacyCount: number;
      /** The highest seq the chain was checked against (recorded deliveries or the caller's), if any. */
      postedSeq: number | null;
    }
  | { ok: false; count: number; brokenSeq: number; reason: AuditBreak };

export interface AuditVerifyOptions {
  /** The newest seq the audit channel shows (read from its last post): the chain must reach at least that far. */
  lastPostedSeq?: number;
  /** The hash prefix that post shows: the entry at `lastPostedSeq` must have it. */
  lastPostedHash?: string;
}

/** One post of an entry to the audit channel. */
export interface AuditDelivery {
  seq: number;
  /** The channel id (without any `;messageid=` suffix). */
  conversationId: string;
  activityId: string;
  /** The seq of the thread's first entry, or null for an entry posted on its own. */
  threadRootSeq: number | null;
  /** The top-level message this post is in (its own id for a top-level post). */
  threadActivityId: string;
}

/** The outbox item that posts an entry to the audit channel (the bot's worker delivers it; see src/bot/worker.ts). */
export function auditOutboxItem(seq: number, threadRootSeq: number | null) {
  return {
    kind: 'audit',
    target: { conversation: 'audit-channel' },
    payload: { kind: 'audit' as const, seq, ...(threadRootSeq !== null ? { threadRootSeq } : {}) },
    dedupeKey: `audit:${seq}`,
  };
}

export const LEGACY_ANCHOR_DUE_KEY = 'audit:legacy-anchor-due';
export const LEGACY_ANCHOR_ACTION = 'audit.chain-keyed';

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
  chain_version: number;
}

type HashedFields = Omit<AuditEntry, 'hash' | 'chainVersion'>;

function hashedBody(v: ChainVersion, e: HashedFields): string {
  return canonicalJson({
    v,
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
}

/** The keyed hash of an entry: HMAC-SHA256 over everything but the hash itself, canonically serialised. */
export function auditEntryHash(e: HashedFields, chainKey: Buffer): string {
  return createHmac('sha256', chainKey).update(hashedBody(2, e), 'utf8').digest('hex');
}

/** The hash entries had before the chain was keyed: plain SHA-256 (anyone can recompute it). */
export function legacyAuditEntryHash(e: HashedFields): string {
  return createHash('sha256').update(hashedBody(1, e), 'utf8').digest('hex');
}

function sameHex(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

function fromRow(r: AuditRow): AuditEntry {
  return {
    seq: r.seq,
    chainVersion: r.chain_version === 1 ? 1 : 2,
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
  if (a.identity) actor.identity = String(a.identity);
  return actor;
}

export class AuditLog {
  private readonly q;

  constructor(
    private readonly db: Database.Database,
    private readonly clock: Clock,
    /** HMAC key of the chain (deriveAuditChainKey); without it nothing can be appended or verified. */
    private readonly chainKey: Buffer | null,
  ) {
    this.q = {
      head: db.prepare<[], AuditRow>('SELECT * FROM audit_log ORDER BY seq DESC LIMIT 1'),
      insert: db.prepare(
        `INSERT INTO audit_log (seq, at, actor, action, request_id, objects, result, detail, prev_hash, hash, chain_version)
         VALUES (@seq, @at, @actor, @action, @requestId, @objects, @result, @detail, @prevHash, @hash, 2)`,
      ),
      bySeq: db.prepare<[number], AuditRow>('SELECT * FROM audit_log WHERE seq = ?'),
      page: db.prepare<{ after: number; limit: number }, AuditRow>('SELECT * FROM audit_log WHERE seq > @after ORDER BY seq LIMIT @limit'),
      forRequest: db.prepare<[string], AuditRow>('SELECT * FROM audit_log WHERE request_id = ? ORDER BY seq'),
      all: db.prepare<[], AuditRow>('SELECT * FROM audit_log ORDER BY seq'),
      joinThread: db.prepare<{ key: string; seq: number }>('INSERT INTO audit_threads (thread_key, root_seq) VALUES (@key, @seq) ON CONFLICT (thread_key) DO NOTHING'),
      threadRoot: db.prepare<[string], number>('SELECT root_seq FROM audit_threads WHERE thread_key = ?').pluck(),
      recordDelivery: db.prepare(
        `INSERT INTO audit_deliveries (seq, conversation_id, activity_id, thread_root_seq, thread_activity_id, posted_at)
         VALUES (@seq, @conversationId, @activityId, @threadRootSeq, @threadActivityId, @now)
         ON CONFLICT (seq, conversation_id) DO UPDATE SET activity_id = excluded.activity_id,
           thread_activity_id = excluded.thread_activity_id, posted_at = excluded.posted_at`,
      ),
      threadPost: db.prepare<{ root: number; conversationId: string }, string>(
        `SELECT thread_activity_id FROM audit_deliveries WHERE thread_root_seq = @root AND conversation_id = @conversationId
         ORDER BY seq LIMIT 1`,
      ).pluck(),
      lastDelivered: db.prepare<[], number | null>('SELECT MAX(seq) FROM audit_deliveries').pluck(),
      anchorDue: db.prepare<[string], string>('SELECT value FROM kv WHERE key = ?').pluck(),
      anchorDone: db.prepare('DELETE FROM kv WHERE key = ?'),
    };
  }

  /** Whether this log can append and verify (it has the chain key). */
  get keyed(): boolean {
    return this.chainKey !== null;
  }

  private requireKey(): Buffer {
    if (!this.chainKey) throw new OpterError('E_AUDIT_KEY_MISSING');
    return this.chainKey;
  }

  /**
   * Appends one entry under the write lock (so concurrent appenders, even in other processes, chain correctly).
   * Object values and the detail are passed through shape-based redaction as a last line of defence; keeping
   * secrets out is still the caller's job.
   */
  append(input: AuditInput): AuditEntry {
    const key = this.requireKey();
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
        const fields: HashedFields = { seq: head ? head.seq + 1 : 1, prevHash: head ? head.hash : GENESIS_HASH, ...base };
        const hash = auditEntryHash(fields, key);
        this.q.insert.run({
          ...fields,
          actor: toJson(fields.actor),
          objects: toJson(fields.objects),
          hash,
        });
        return { ...fields, chainVersion: 2, hash };
      })
      .immediate();
  }

  /**
   * Closes a chain from before the chain was keyed with one keyed entry that names its last unkeyed entry, once
   * (the marker is set by the migration that introduced keying). Returns that entry, or null when none was due.
   * Call inside the transaction that also queues its post.
   */
  anchorLegacyChain(): AuditEntry | null {
    if (!this.chainKey) return null;
    return this.db
      .transaction((): AuditEntry | null => {
        if (this.q.anchorDue.get(LEGACY_ANCHOR_DUE_KEY) === undefined) return null;
        const head = this.q.head.get();
        this.q.anchorDone.run(LEGACY_ANCHOR_DUE_KEY);
        if (!head || head.chain_version !== 1) return null;
        return this.append({
          actor: { kind: 'system', name: 'Opter Mail bot' },
          action: LEGACY_ANCHOR_ACTION,
          objects: { legacyHeadSeq: String(head.seq), legacyHeadHash: head.hash },
          result: 'info',
          detail: `Entries #1–#${head.seq} were written before the audit chain was keyed and are verified with SHA-256 only; from #${head.seq + 1} on every entry carries an HMAC with a key that is not in the database.`,
        });
      })
      .immediate();
  }

  /**
   * Puts an entry in its thread: the entries of one request (or, without a request, of one job) form one thread in
   * the audit channel whose root post is their first entry. Returns the thread's root seq, or null for an entry that
   * belongs to no request or job (posted on its own).
   */
  joinThread(entry: Pick<AuditEntry, 'seq' | 'requestId' | 'objects'>): number | null {
    const key = entry.requestId ? `request:${entry.requestId}` : entry.objects.jobId ? `job:${entry.objects.jobId}` : null;
    if (!key) return null;
    this.q.joinThread.run({ key, seq: entry.seq });
    return this.q.threadRoot.get(key) ?? null;
  }

  /** Records that an entry reached the audit channel (at-least-once: a repeated post replaces the record). */
  recordDelivery(d: AuditDelivery, now: Date = this.clock.now()): void {
    this.q.recordDelivery.run({ ...d, now: toIso(now) });
  }

  /** The top-level message of a thread in a channel, once any post of that thread landed there. */
  threadPost(threadRootSeq: number, conversationId: string): string | null {
    return this.q.threadPost.get({ root: threadRootSeq, conversationId }) ?? null;
  }

  /** The highest seq recorded as posted to the audit channel. */
  lastDeliveredSeq(): number | null {
    return this.q.lastDelivered.get() ?? null;
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

  /**
   * Walks the whole chain from seq 1 and reports the first entry that does not verify; then checks that the chain
   * reaches the newest entry known to have been posted (recorded deliveries, and `options.lastPostedSeq` read from
   * the channel by whoever verifies: the recorded deliveries are in this file too, the channel is not).
   */
  verify(options: AuditVerifyOptions = {}): AuditVerifyResult {
    if (!this.chainKey) return { ok: false, count: 0, brokenSeq: 0, reason: 'no-key' };
    const key = this.chainKey;
    let prevHash = GENESIS_HASH;
    let expectedSeq = 1;
    let count = 0;
    let legacyCount = 0;
    let keyed = false;
    let postedEntry: AuditEntry | null = null;
    const broken = (brokenSeq: number, reason: AuditBreak): AuditVerifyResult => ({ ok: false, count, brokenSeq, reason });
    for (const row of this.q.all.iterate()) {
      if (row.seq !== expectedSeq) return broken(expectedSeq, 'seq-gap');
      let entry: AuditEntry;
      try {
        entry = fromRow(row);
      } catch {
        return broken(row.seq, 'unreadable');
      }
      if (entry.prevHash !== prevHash) return broken(row.seq, 'prev-hash-mismatch');
      if (entry.chainVersion === 1) {
        if (keyed) return broken(row.seq, 'legacy-after-keyed');
        if (!sameHex(legacyAuditEntryHash(entry), entry.hash)) return broken(row.seq, 'hash-mismatch');
        legacyCount += 1;
      } else {
        if (!sameHex(auditEntryHash(entry, key), entry.hash)) return broken(row.seq, 'hash-mismatch');
        // The first keyed entry after unkeyed ones must be the anchor naming the last of them (its HMAC covers that).
        if (!keyed && legacyCount > 0 && !isAnchorFor(entry, row.seq - 1, prevHash)) return broken(row.seq, 'legacy-unanchored');
        keyed = true;
      }
      if (entry.seq === options.lastPostedSeq) postedEntry = entry;
      prevHash = entry.hash;
      expectedSeq += 1;
      count += 1;
    }
    // Unkeyed entries with nothing keyed after them: only legitimate while the anchor is still due (never keyed-opened).
    if (legacyCount > 0 && !keyed && this.q.anchorDue.get(LEGACY_ANCHOR_DUE_KEY) === undefined) return broken(1, 'legacy-unanchored');
    const headSeq = expectedSeq - 1;
    const recorded = this.lastDeliveredSeq();
    const posted = Math.max(recorded ?? 0, options.lastPostedSeq ?? 0);
    if (posted > headSeq) return broken(headSeq + 1, 'tail-missing');
    if (options.lastPostedHash !== undefined && options.lastPostedSeq !== undefined) {
      const shown = options.lastPostedHash.trim().toLowerCase();
      if (!postedEntry || !shown || !postedEntry.hash.startsWith(shown)) return broken(options.lastPostedSeq, 'posted-hash-mismatch');
    }
    return { ok: true, count, headSeq, headHash: prevHash, legacyCount, postedSeq: posted > 0 ? posted : null };
  }
}

function isAnchorFor(entry: AuditEntry, legacyHeadSeq: number, legacyHeadHash: string): boolean {
  return entry.action === LEGACY_ANCHOR_ACTION && entry.objects.legacyHeadSeq === String(legacyHeadSeq) && entry.objects.legacyHeadHash === legacyHeadHash;
}
