/**
 * The bot's requests and their approval. The decision is a single compare-and-set UPDATE, so two approvers clicking
 * at the same moment (even from two processes) produce exactly one decision, and a repeated click changes nothing.
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Clock, RecordedError } from '../core/ports';
import { fromJson, StatementCache, toIso, toJson } from './json';

/**
 * The kind of work a request asks for. The kinds are the bot's (its action registry): the store keeps the text and
 * knows none of them, so it never has to change for a new one.
 */
export type RequestKind = string;

/**
 * Turns a payload read back from the database into the caller's shape (the bot decodes with the action's schema).
 * Must not throw for a payload it does not know: reading a request never fails on its payload.
 */
export type PayloadDecoder = (kind: string, payload: unknown) => RequestPayload;

/** Without a decoder the payload is the parsed JSON as stored. */
export const decodePayloadAsStored: PayloadDecoder = (_kind, payload) => (payload ?? {}) as RequestPayload;
export type RequestStatus = 'pending' | 'approved' | 'rejected' | 'expired' | 'provisioning' | 'succeeded' | 'failed' | 'cancelled';
export const REQUEST_STATUSES: readonly RequestStatus[] = [
  'pending',
  'approved',
  'rejected',
  'expired',
  'provisioning',
  'succeeded',
  'failed',
  'cancelled',
];

export interface Requester {
  aadObjectId: string;
  name: string | null;
  /** Teams user id (`29:…`), needed to open a 1:1 chat proactively. */
  mri: string | null;
}

export interface Person {
  aadObjectId: string;
  name: string | null;
}

export interface RequestDecision {
  outcome: 'approved' | 'rejected';
  by: Person;
  at: string;
  reason: string | null;
}

export type RequestPayload = Record<string, unknown>;

export interface RequestRecord<P extends RequestPayload = RequestPayload> {
  id: string;
  kind: RequestKind;
  status: RequestStatus;
  tenantId: string;
  requester: Requester;
  /** App display name the request is about (indexed; case-insensitive look-ups). */
  appName: string | null;
  /** Everything else: senders, years, derived names… Never a secret. */
  payload: P;
  dedupeKey: string | null;
  createdAt: string;
  updatedAt: string;
  expiresAt: string;
  decision: RequestDecision | null;
  jobId: string | null;
  /** Outcome summary (client id, group SMTP, …) once finished. */
  result: unknown;
  lastError: RecordedError | null;
}

export interface NewRequest<P extends RequestPayload = RequestPayload> {
  id?: string;
  kind: RequestKind;
  tenantId: string;
  requester: { aadObjectId: string; name?: string | null; mri?: string | null };
  appName?: string | null;
  payload: P;
  expiresAt: Date | string;
  /** Same key twice (e.g. a form submit Teams delivered twice) → the first request is returned, nothing new made. */
  dedupeKey?: string | null;
  /** Default: the store's clock. */
  now?: Date;
}

export type DecideOutcome<P extends RequestPayload = RequestPayload> =
  /** This call made the decision. */
  | { won: true; request: RequestRecord<P> }
  /**
   * Nothing changed. `request` is the current row (null if unknown). `reason`: not-found; not-pending (already
   * decided or further on — see request.decision); expired (still pending but past expiresAt); self-decision (the
   * requester tried to approve or reject their own request — four-eyes rule, enforced here as a last line).
   */
  | { won: false; reason: 'not-found' | 'not-pending' | 'expired' | 'self-decision'; request: RequestRecord<P> | null };

export interface DecideInput {
  decision: 'approve' | 'reject';
  by: { aadObjectId: string; name?: string | null };
  reason?: string | null;
  now?: Date;
}

export interface RequestQuery {
  status?: RequestStatus | RequestStatus[];
  kind?: RequestKind | RequestKind[];
  requesterAadObjectId?: string;
  appName?: string;
  /** Newest first by default. */
  order?: 'newest' | 'oldest';
  limit?: number;
}

interface RequestRow {
  id: string;
  kind: string;
  status: RequestStatus;
  tenant_id: string;
  requester_aad_object_id: string;
  requester_name: string | null;
  requester_mri: string | null;
  app_name: string | null;
  payload: string;
  dedupe_key: string | null;
  created_at: string;
  updated_at: string;
  expires_at: string;
  decision: 'approved' | 'rejected' | null;
  decided_by_aad_object_id: string | null;
  decided_by_name: string | null;
  decided_at: string | null;
  decision_reason: string | null;
  job_id: string | null;
  result: string | null;
  last_error: string | null;
}

function fromRow<P extends RequestPayload>(r: RequestRow, decode: PayloadDecoder): RequestRecord<P> {
  return {
    id: r.id,
    kind: r.kind,
    status: r.status,
    tenantId: r.tenant_id,
    requester: { aadObjectId: r.requester_aad_object_id, name: r.requester_name, mri: r.requester_mri },
    appName: r.app_name,
    payload: decode(r.kind, fromJson(r.payload)) as P,
    dedupeKey: r.dedupe_key,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    expiresAt: r.expires_at,
    decision:
      r.decision && r.decided_at && r.decided_by_aad_object_id
        ? {
            outcome: r.decision,
            by: { aadObjectId: r.decided_by_aad_object_id, name: r.decided_by_name },
            at: r.decided_at,
            reason: r.decision_reason,
          }
        : null,
    jobId: r.job_id,
    result: fromJson(r.result),
    lastError: fromJson<RecordedError>(r.last_error),
  };
}

const asList = <T>(v: T | T[] | undefined): T[] | null => (v === undefined ? null : Array.isArray(v) ? v : [v]);

export class RequestRepository {
  private readonly q;
  private readonly statements: StatementCache;

  constructor(
    private readonly db: Database.Database,
    private readonly clock: Clock,
    private readonly decodePayload: PayloadDecoder = decodePayloadAsStored,
  ) {
    this.statements = new StatementCache(db);
    this.q = {
      insert: db.prepare(
        `INSERT INTO requests (id, kind, status, tenant_id, requester_aad_object_id, requester_name, requester_mri,
           app_name, payload, dedupe_key, created_at, updated_at, expires_at)
         VALUES (@id, @kind, 'pending', @tenantId, @aad, @name, @mri, @appName, @payload, @dedupeKey, @now, @now, @expiresAt)`,
      ),
      byId: db.prepare<[string], RequestRow>('SELECT * FROM requests WHERE id = ?'),
      byDedupe: db.prepare<[string], RequestRow>('SELECT * FROM requests WHERE dedupe_key = ?'),
      byJob: db.prepare<[string], RequestRow>('SELECT * FROM requests WHERE job_id = ? ORDER BY created_at DESC LIMIT 1'),
      decide: db.prepare<
        { id: string; status: string; aad: string; name: string | null; reason: string | null; now: string },
        RequestRow
      >(
        `UPDATE requests SET status = @status, decision = @status, decided_by_aad_object_id = @aad,
           decided_by_name = @name, decided_at = @now, decision_reason = @reason, updated_at = @now
         WHERE id = @id AND status = 'pending' AND expires_at > @now
           AND lower(requester_aad_object_id) <> lower(@aad)
         RETURNING *`,
      ),
      expireDue: db.prepare<{ now: string }, RequestRow>(
        `UPDATE requests SET status = 'expired', updated_at = @now
         WHERE status = 'pending' AND expires_at <= @now
         RETURNING *`,
      ),
      attachJob: db.prepare<{ id: string; jobId: string; now: string }, RequestRow>(
        `UPDATE requests SET job_id = @jobId, updated_at = @now
         WHERE id = @id AND (job_id IS NULL OR job_id = @jobId) RETURNING *`,
      ),
    };
  }

  /** Creates a pending request; with a dedupeKey already used, returns that request and `created: false`. */
  create<P extends RequestPayload>(input: NewRequest<P>): { created: boolean; request: RequestRecord<P> } {
    return this.db
      .transaction(() => {
        if (input.dedupeKey) {
          const existing = this.q.byDedupe.get(input.dedupeKey);
          if (existing) return { created: false, request: fromRow<P>(existing, this.decodePayload) };
        }
        const id = input.id ?? randomUUID();
        const appName =
          input.appName !== undefined ? input.appName : typeof input.payload.appName === 'string' ? input.payload.appName : null;
        this.q.insert.run({
          id,
          kind: input.kind,
          tenantId: input.tenantId,
          aad: input.requester.aadObjectId,
          name: input.requester.name ?? null,
          mri: input.requester.mri ?? null,
          appName,
          payload: toJson(input.payload),
          dedupeKey: input.dedupeKey ?? null,
          now: toIso(input.now ?? this.clock.now()),
          expiresAt: toIso(input.expiresAt),
        });
        return { created: true, request: fromRow<P>(this.q.byId.get(id)!, this.decodePayload) };
      })
      .immediate();
  }

  get<P extends RequestPayload = RequestPayload>(id: string): RequestRecord<P> | null {
    const row = this.q.byId.get(id);
    return row ? fromRow<P>(row, this.decodePayload) : null;
  }

  getByJobId<P extends RequestPayload = RequestPayload>(jobId: string): RequestRecord<P> | null {
    const row = this.q.byJob.get(jobId);
    return row ? fromRow<P>(row, this.decodePayload) : null;
  }

  /**
   * Atomic approve/reject: `UPDATE … WHERE id AND status='pending' AND expires_at > now AND requester <> decider`.
   * Exactly one concurrent caller gets `won: true`; everyone else gets the row as it now stands.
   */
  decide<P extends RequestPayload = RequestPayload>(id: string, input: DecideInput): DecideOutcome<P> {
    const now = toIso(input.now ?? this.clock.now());
    const row = this.q.decide.get({
      id,
      status: input.decision === 'approve' ? 'approved' : 'rejected',
      aad: input.by.aadObjectId,
      name: input.by.name ?? null,
      reason: input.reason ?? null,
      now,
    });
    if (row) return { won: true, request: fromRow<P>(row, this.decodePayload) };

    const current = this.get<P>(id);
    if (!current) return { won: false, reason: 'not-found', request: null };
    if (current.status !== 'pending') return { won: false, reason: 'not-pending', request: current };
    if (current.expiresAt <= now) return { won: false, reason: 'expired', request: current };
    if (current.requester.aadObjectId.toLowerCase() === input.by.aadObjectId.toLowerCase()) return { won: false, reason: 'self-decision', request: current };
    // Unreachable unless the row changed between the two statements; report it as decided by someone else.
    return { won: false, reason: 'not-pending', request: current };
  }

  /** Marks every pending request past its expiry as expired and returns exactly those (each one once, ever). */
  expireDue<P extends RequestPayload = RequestPayload>(now: Date = this.clock.now()): RequestRecord<P>[] {
    const iso = toIso(now);
    return this.q.expireDue
      .all({ now: iso })
      .map((r) => fromRow<P>(r, this.decodePayload))
      .sort((a, b) => (a.expiresAt < b.expiresAt ? -1 : a.expiresAt > b.expiresAt ? 1 : 0));
  }

  /**
   * Moves a request to `status`. With `from`, only when it currently has one of those statuses (compare-and-set;
   * e.g. approved → provisioning happens once even if two workers try). Returns whether this call changed it.
   */
  setStatus<P extends RequestPayload = RequestPayload>(
    id: string,
    status: RequestStatus,
    options: { from?: RequestStatus | RequestStatus[]; result?: unknown; lastError?: RecordedError | null; now?: Date } = {},
  ): { changed: boolean; request: RequestRecord<P> | null } {
    const from = asList(options.from);
    const sets = ['status = @status', 'updated_at = @now'];
    if (options.result !== undefined) sets.push('result = @result');
    if (options.lastError !== undefined) sets.push('last_error = @lastError');
    const where = ['id = @id'];
    const params: Record<string, unknown> = {
      id,
      status,
      now: toIso(options.now ?? this.clock.now()),
      result: options.result === undefined ? null : toJson(options.result),
      lastError: options.lastError ? toJson({ code: options.lastError.code, message: options.lastError.message }) : null,
    };
    if (from) {
      where.push(`status IN (${from.map((_, i) => `@from${i}`).join(', ')})`);
      from.forEach((s, i) => (params[`from${i}`] = s));
    }
    // Built from a fixed vocabulary (no caller text in the SQL), so the few shapes are prepared once and cached.
    const row = this.statements.get(`UPDATE requests SET ${sets.join(', ')} WHERE ${where.join(' AND ')} RETURNING *`).get(params) as
      | RequestRow
      | undefined;
    if (row) return { changed: true, request: fromRow<P>(row, this.decodePayload) };
    return { changed: false, request: this.get<P>(id) };
  }

  /** Links the provisioning job. Idempotent for the same job; refuses (returns false) to replace a different one. */
  attachJob(id: string, jobId: string, now: Date = this.clock.now()): boolean {
    return this.q.attachJob.get({ id, jobId, now: toIso(now) }) !== undefined;
  }

  list<P extends RequestPayload = RequestPayload>(query: RequestQuery = {}): RequestRecord<P>[] {
    const where: string[] = [];
    const params: Record<string, unknown> = {};
    const statuses = asList(query.status);
    if (statuses) {
      if (statuses.length === 0) return [];
      where.push(`status IN (${statuses.map((_, i) => `@s${i}`).join(', ')})`);
      statuses.forEach((s, i) => (params[`s${i}`] = s));
    }
    const kinds = asList(query.kind);
    if (kinds) {
      if (kinds.length === 0) return [];
      where.push(`kind IN (${kinds.map((_, i) => `@k${i}`).join(', ')})`);
      kinds.forEach((k, i) => (params[`k${i}`] = k));
    }
    if (query.requesterAadObjectId !== undefined) {
      where.push('requester_aad_object_id = @aad');
      params.aad = query.requesterAadObjectId;
    }
    if (query.appName !== undefined) {
      where.push('app_name = @appName COLLATE NOCASE');
      params.appName = query.appName;
    }
    const order = query.order === 'oldest' ? 'ASC' : 'DESC';
    const limit = query.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(query.limit))}` : '';
    const sql = `SELECT * FROM requests ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at ${order}, rowid ${order}${limit}`;
    return (this.statements.get(sql).all(params) as RequestRow[]).map((r) => fromRow<P>(r, this.decodePayload));
  }

  listPending<P extends RequestPayload = RequestPayload>(): RequestRecord<P>[] {
    return this.list<P>({ status: 'pending', order: 'oldest' });
  }

  listByRequester<P extends RequestPayload = RequestPayload>(aadObjectId: string, query: Omit<RequestQuery, 'requesterAadObjectId'> = {}): RequestRecord<P>[] {
    return this.list<P>({ ...query, requesterAadObjectId: aadObjectId });
  }

  listByAppName<P extends RequestPayload = RequestPayload>(appName: string, query: Omit<RequestQuery, 'appName'> = {}): RequestRecord<P>[] {
    return this.list<P>({ ...query, appName });
  }
}
