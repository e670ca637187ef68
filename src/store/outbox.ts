/**
 * Durable delivery queue for Teams posts (audit cards, card updates, notifications). At-least-once: an item is
 * leased to one worker at a time (the lease is taken by a single UPDATE, so two workers — even in two processes —
 * never hold the same item), retried with the caller's backoff until Teams accepts it, and survives restarts
 * (an expired lease makes the item due again).
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Clock } from '../core/ports';
import { fromJson, toIso, toJson } from './json';

export type OutboxKind = 'audit' | 'card-update' | 'card-send' | 'message' | (string & {});
export type OutboxStatus = 'pending' | 'leased' | 'sent' | 'dead';

export interface OutboxItem<T = unknown, P = unknown> {
  id: number;
  kind: OutboxKind;
  /** Where to deliver, e.g. { conversation: 'audit-channel' } or { conversationId, activityId }. */
  target: T;
  payload: P;
  dedupeKey: string;
  status: OutboxStatus;
  /** Delivery attempts started (counted when leased, so a crash mid-send counts too). */
  attempts: number;
  nextAttemptAt: string;
  leaseOwner: string | null;
  leaseExpiresAt: string | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
  sentAt: string | null;
}

export interface EnqueueInput {
  kind: OutboxKind;
  target: unknown;
  payload: unknown;
  /** Same key twice → one item (the first). Omit only for messages that may legitimately repeat. */
  dedupeKey?: string;
  /** Earliest delivery; default now. */
  notBefore?: Date;
  now?: Date;
}

export interface ClaimOptions {
  /** Default 60 s: long enough for a Teams call with retries, short enough that a crash delays delivery little. */
  leaseMs?: number;
  /** Lease holder id; default this outbox instance's workerId. */
  owner?: string;
}

interface OutboxRow {
  id: number;
  kind: string;
  target: string;
  payload: string;
  dedupe_key: string;
  status: OutboxStatus;
  attempts: number;
  next_attempt_at: string;
  lease_owner: string | null;
  lease_expires_at: string | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  sent_at: string | null;
}

function fromRow<T, P>(r: OutboxRow): OutboxItem<T, P> {
  return {
    id: r.id,
    kind: r.kind,
    target: fromJson<T>(r.target) as T,
    payload: fromJson<P>(r.payload) as P,
    dedupeKey: r.dedupe_key,
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    leaseOwner: r.lease_owner,
    leaseExpiresAt: r.lease_expires_at,
    lastError: r.last_error,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    sentAt: r.sent_at,
  };
}

const MAX_ERROR_LENGTH = 2000;

export class Outbox {
  /** Identifies this process's leases. */
  readonly workerId = `worker-${process.pid}-${randomUUID().slice(0, 8)}`;
  private readonly q;

  constructor(
    db: Database.Database,
    private readonly clock: Clock,
  ) {
    this.q = {
      insert: db.prepare<Record<string, unknown>, OutboxRow>(
        `INSERT INTO outbox (kind, target, payload, dedupe_key, status, attempts, next_attempt_at, created_at, updated_at)
         VALUES (@kind, @target, @payload, @dedupeKey, 'pending', 0, @notBefore, @now, @now)
         ON CONFLICT (dedupe_key) DO NOTHING
         RETURNING *`,
      ),
      byDedupe: db.prepare<[string], OutboxRow>('SELECT * FROM outbox WHERE dedupe_key = ?'),
      byId: db.prepare<[number], OutboxRow>('SELECT * FROM outbox WHERE id = ?'),
      // One statement picks and leases: SQLite runs it under the write lock, so no other worker can pick the same rows.
      claim: db.prepare<{ now: string; limit: number; owner: string; leaseUntil: string }, OutboxRow>(
        `UPDATE outbox SET status = 'leased', lease_owner = @owner, lease_expires_at = @leaseUntil,
           attempts = attempts + 1, updated_at = @now
         WHERE id IN (
           SELECT id FROM outbox
           WHERE (status = 'pending' AND next_attempt_at <= @now) OR (status = 'leased' AND lease_expires_at <= @now)
           ORDER BY next_attempt_at, id
           LIMIT @limit)
         RETURNING *`,
      ),
      sent: db.prepare(
        `UPDATE outbox SET status = 'sent', sent_at = @now, updated_at = @now, lease_owner = NULL, lease_expires_at = NULL
         WHERE id = @id AND status IN ('pending', 'leased')`,
      ),
      failed: db.prepare(
        `UPDATE outbox SET status = CASE WHEN @dead THEN 'dead' ELSE 'pending' END, last_error = @error,
           next_attempt_at = @next, updated_at = @now, lease_owner = NULL, lease_expires_at = NULL
         WHERE id = @id AND status = 'leased' AND lease_owner = @owner`,
      ),
      nextDue: db.prepare<[], string>(
        `SELECT MIN(t) FROM (
           SELECT MIN(next_attempt_at) AS t FROM outbox WHERE status = 'pending'
           UNION ALL SELECT MIN(lease_expires_at) FROM outbox WHERE status = 'leased')`,
      ).pluck(),
      list: db.prepare<{ status: string | null; kind: string | null; limit: number }, OutboxRow>(
        `SELECT * FROM outbox WHERE (@status IS NULL OR status = @status) AND (@kind IS NULL OR kind = @kind) ORDER BY id LIMIT @limit`,
      ),
      counts: db.prepare<[], { status: OutboxStatus; n: number }>('SELECT status, COUNT(*) AS n FROM outbox GROUP BY status'),
      purge: db.prepare(`DELETE FROM outbox WHERE status = 'sent' AND sent_at < ?`),
      revive: db.prepare(
        `UPDATE outbox SET status = 'pending', next_attempt_at = @now, updated_at = @now WHERE id = @id AND status = 'dead'`,
      ),
      release: db.prepare(
        `UPDATE outbox SET status = 'pending', next_attempt_at = @now, updated_at = @now, lease_owner = NULL, lease_expires_at = NULL
         WHERE status = 'leased' AND lease_owner IS NOT @owner`,
      ),
    };
  }

  /** Adds an item; with a dedupeKey already queued (in any state) nothing is added and `created` is false. */
  enqueue<T = unknown, P = unknown>(input: EnqueueInput): { created: boolean; item: OutboxItem<T, P> } {
    const now = toIso(input.now ?? this.clock.now());
    const dedupeKey = input.dedupeKey ?? `${input.kind}:${randomUUID()}`;
    const row = this.q.insert.get({
      kind: input.kind,
      target: toJson(input.target),
      payload: toJson(input.payload),
      dedupeKey,
      notBefore: input.notBefore ? toIso(input.notBefore) : now,
      now,
    });
    if (row) return { created: true, item: fromRow<T, P>(row) };
    return { created: false, item: fromRow<T, P>(this.q.byDedupe.get(dedupeKey)!) };
  }

  /** Leases up to `limit` due items (pending and due, or leased with an expired lease), oldest due first. */
  claimDue<T = unknown, P = unknown>(now: Date = this.clock.now(), limit = 10, options: ClaimOptions = {}): OutboxItem<T, P>[] {
    const leaseMs = options.leaseMs ?? 60_000;
    const rows = this.q.claim.all({
      now: toIso(now),
      limit: Math.max(0, Math.floor(limit)),
      owner: options.owner ?? this.workerId,
      leaseUntil: toIso(new Date(now.getTime() + leaseMs)),
    });
    return rows
      .map((r) => fromRow<T, P>(r))
      .sort((a, b) => (a.nextAttemptAt < b.nextAttemptAt ? -1 : a.nextAttemptAt > b.nextAttemptAt ? 1 : a.id - b.id));
  }

  /** Delivered. Accepted from any worker: the post happened, even if the lease had run out meanwhile. */
  markSent(id: number, now: Date = this.clock.now()): boolean {
    return this.q.sent.run({ id, now: toIso(now) }).changes > 0;
  }

  /**
   * Delivery failed: release the lease and retry at `nextAttemptAt` — or give up ('dead') once `attempts` reached
   * `maxAttempts`. Only the current lease holder may do this (a worker whose lease expired must not reschedule an
   * item someone else now holds). `error` must already be free of secrets; it is cut to 2000 characters.
   */
  markFailed(
    id: number,
    error: string,
    nextAttemptAt: Date,
    options: { owner?: string; maxAttempts?: number; now?: Date } = {},
  ): boolean {
    const item = this.q.byId.get(id);
    if (!item) return false;
    const dead = options.maxAttempts !== undefined && item.attempts >= options.maxAttempts;
    return (
      this.q.failed.run({
        id,
        owner: options.owner ?? this.workerId,
        error: String(error).slice(0, MAX_ERROR_LENGTH),
        next: toIso(nextAttemptAt),
        now: toIso(options.now ?? this.clock.now()),
        dead: dead ? 1 : 0,
      }).changes > 0
    );
  }

  /**
   * Makes every item leased by another worker due now. Only for a process that knows those workers are gone — the
   * bot at start-up, which is the only bot on its DATA_DIR: a killed process's leases would otherwise hold its
   * deliveries (an audit post, a card update) back until they expire. The attempt each of them counted stays counted.
   */
  releaseOtherLeases(now: Date = this.clock.now()): number {
    return this.q.release.run({ now: toIso(now), owner: this.workerId }).changes;
  }

  /** Puts a dead item back in the queue (an operator's "retry now"). */
  revive(id: number, now: Date = this.clock.now()): boolean {
    return this.q.revive.run({ id, now: toIso(now) }).changes > 0;
  }

  get<T = unknown, P = unknown>(id: number): OutboxItem<T, P> | null {
    const row = this.q.byId.get(id);
    return row ? fromRow<T, P>(row) : null;
  }

  getByDedupeKey<T = unknown, P = unknown>(dedupeKey: string): OutboxItem<T, P> | null {
    const row = this.q.byDedupe.get(dedupeKey);
    return row ? fromRow<T, P>(row) : null;
  }

  /** When the next item becomes due (pending retry or expiring lease), so a worker can sleep until then. */
  nextDueAt(): Date | null {
    const t = this.q.nextDue.get();
    return t ? new Date(t) : null;
  }

  list<T = unknown, P = unknown>(filter: { status?: OutboxStatus; kind?: OutboxKind; limit?: number } = {}): OutboxItem<T, P>[] {
    return this.q.list
      .all({ status: filter.status ?? null, kind: filter.kind ?? null, limit: filter.limit ?? 1000 })
      .map((r) => fromRow<T, P>(r));
  }

  counts(): Record<OutboxStatus, number> {
    const out: Record<OutboxStatus, number> = { pending: 0, leased: 0, sent: 0, dead: 0 };
    for (const r of this.q.counts.all()) out[r.status] = r.n;
    return out;
  }

  /** Deletes delivered items sent before `olderThan` (their dedupe keys are then forgotten). */
  purgeSent(olderThan: Date): number {
    return this.q.purge.run(toIso(olderThan)).changes;
  }
}
