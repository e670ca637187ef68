/**
 * The engine's durable job/step journal (JournalPort from src/core/ports.ts) on SQLite.
 */
import type Database from 'better-sqlite3';
import { z } from 'zod';
import type { Clock, JobEnd, JobRecord, JobStatus, JournalPort, RecordedError, StepRecord, StepStatus } from '../core/ports';
import { fromJson, toJson } from './json';
import { findSecretKeys } from './redact';

// The JSON columns, decoded once here so that nothing above the store casts persisted JSON. Job input and result
// stay `unknown` at this layer: each job kind decodes its own with its workflow's schema (src/provisioning).
const recordedErrorSchema = z.object({ code: z.string(), message: z.string() });
const outputsSchema = z.record(z.string(), z.unknown());

function decodeJson<T>(what: string, text: string | null, schema: z.ZodType<T>): T | null {
  const value = fromJson(text);
  if (value === null) return null;
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new Error(`journal: the stored ${what} has an unexpected shape (${z.prettifyError(parsed.error)})`);
  return parsed.data;
}

interface JobRow {
  id: string;
  kind: string;
  status: JobStatus;
  input: string;
  idempotency_key: string | null;
  last_error: string | null;
  resume_after: string | null;
  result: string | null;
  created_at: string;
  updated_at: string;
}

interface StepRow {
  job_id: string;
  step: string;
  status: StepStatus;
  attempts: number;
  outputs: string;
  last_error: string | null;
  started_at: string | null;
  finished_at: string | null;
}

function jobFromRow(r: JobRow): JobRecord {
  return {
    id: r.id,
    kind: r.kind,
    status: r.status,
    input: fromJson(r.input),
    idempotencyKey: r.idempotency_key,
    lastError: decodeJson('job error', r.last_error, recordedErrorSchema),
    resumeAfter: r.resume_after,
    result: fromJson(r.result),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function stepFromRow(r: StepRow): StepRecord {
  return {
    jobId: r.job_id,
    step: r.step,
    status: r.status,
    attempts: r.attempts,
    outputs: decodeJson('step outputs', r.outputs, outputsSchema) ?? {},
    lastError: decodeJson('step error', r.last_error, recordedErrorSchema),
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

/** The journal must never hold a secret: refuse (without echoing the value) rather than store one. */
function assertNoSecrets(what: string, value: unknown): void {
  const keys = findSecretKeys(value);
  if (keys.length) throw new Error(`${what} must not contain secrets (found key ${keys.join(', ')})`);
}

function errorJson(e: RecordedError | null | undefined): string | null {
  return e ? toJson({ code: String(e.code), message: String(e.message) }) : null;
}

export class SqliteJournal implements JournalPort {
  private readonly q;

  constructor(
    private readonly db: Database.Database,
    private readonly clock: Clock,
  ) {
    this.q = {
      insertJob: db.prepare(
        `INSERT INTO jobs (id, kind, status, input, idempotency_key, last_error, created_at, updated_at)
         VALUES (@id, @kind, 'running', @input, @idempotencyKey, NULL, @now, @now)
         ON CONFLICT DO NOTHING`,
      ),
      jobById: db.prepare<[string], JobRow>('SELECT * FROM jobs WHERE id = ?'),
      jobByKey: db.prepare<[string], JobRow>('SELECT * FROM jobs WHERE idempotency_key = ?'),
      listJobs: db.prepare<{ status: string | null; kind: string | null }, JobRow>(
        `SELECT * FROM jobs WHERE (@status IS NULL OR status = @status) AND (@kind IS NULL OR kind = @kind)
         ORDER BY created_at, rowid`,
      ),
      setJobStatus: db.prepare(
        `UPDATE jobs SET status = @status, updated_at = @now,
           last_error = CASE WHEN @keepError THEN last_error ELSE @lastError END,
           resume_after = CASE WHEN @status = 'waiting' THEN resume_after ELSE NULL END
         WHERE id = @id`,
      ),
      finishJob: db.prepare(
        `UPDATE jobs SET status = @status, updated_at = @now, last_error = @lastError, resume_after = @resumeAfter, result = @result
         WHERE id = @id`,
      ),
      touchJob: db.prepare('UPDATE jobs SET updated_at = ? WHERE id = ?'),
      steps: db.prepare<[string], StepRow>('SELECT * FROM steps WHERE job_id = ? ORDER BY rowid'),
      step: db.prepare<[string, string], StepRow>('SELECT * FROM steps WHERE job_id = ? AND step = ?'),
      start: db.prepare<{ jobId: string; step: string; now: string }, StepRow>(
        `INSERT INTO steps (job_id, step, status, attempts, outputs, started_at)
         VALUES (@jobId, @step, 'running', 1, '{}', @now)
         ON CONFLICT (job_id, step) DO UPDATE SET
           status = 'running', attempts = attempts + 1, started_at = excluded.started_at, finished_at = NULL
         RETURNING *`,
      ),
      ensureStep: db.prepare(
        `INSERT INTO steps (job_id, step, status, attempts, outputs) VALUES (?, ?, 'pending', 0, '{}')
         ON CONFLICT (job_id, step) DO NOTHING`,
      ),
      writeOutputs: db.prepare('UPDATE steps SET outputs = ? WHERE job_id = ? AND step = ?'),
      finish: db.prepare(
        `UPDATE steps SET status = @status, finished_at = @now,
           last_error = CASE WHEN @lastError IS NULL THEN last_error ELSE @lastError END
         WHERE job_id = @jobId AND step = @step`,
      ),
    };
  }

  createJob(job: { id: string; kind: string; input: unknown; idempotencyKey?: string | null }): JobRecord {
    assertNoSecrets('job input', job.input);
    return this.db
      .transaction(() => {
        const key = job.idempotencyKey ?? null;
        if (key !== null) {
          const existing = this.q.jobByKey.get(key);
          if (existing) return jobFromRow(existing);
        }
        const now = this.now();
        this.q.insertJob.run({ id: job.id, kind: job.kind, input: toJson(job.input), idempotencyKey: key, now });
        const row = this.q.jobById.get(job.id)!;
        if (key !== null && row.idempotency_key !== key) {
          throw new Error(`job id ${job.id} already exists with a different idempotency key`);
        }
        return jobFromRow(row);
      })
      .immediate();
  }

  getJob(id: string): JobRecord | null {
    const row = this.q.jobById.get(id);
    return row ? jobFromRow(row) : null;
  }

  /** The job created for an idempotency key (e.g. a request id), if any. */
  getJobByIdempotencyKey(key: string): JobRecord | null {
    const row = this.q.jobByKey.get(key);
    return row ? jobFromRow(row) : null;
  }

  listJobs(filter: { status?: JobStatus; kind?: string } = {}): JobRecord[] {
    return this.q.listJobs.all({ status: filter.status ?? null, kind: filter.kind ?? null }).map(jobFromRow);
  }

  /** `lastError` undefined keeps the recorded error; null clears it. */
  setJobStatus(id: string, status: JobStatus, lastError?: RecordedError | null): void {
    const r = this.q.setJobStatus.run({
      id,
      status,
      now: this.now(),
      keepError: lastError === undefined ? 1 : 0,
      lastError: errorJson(lastError),
    });
    if (r.changes === 0) throw new Error(`journal: no job ${id}`);
  }

  finishJob(id: string, end: JobEnd): void {
    if (end.status === 'succeeded') assertNoSecrets('job result', end.result);
    const r = this.q.finishJob.run({
      id,
      status: end.status,
      now: this.now(),
      lastError: end.status === 'succeeded' ? null : errorJson(end.lastError),
      resumeAfter: end.status === 'waiting' ? end.resumeAfter : null,
      result: end.status === 'succeeded' && end.result !== undefined ? toJson(end.result) : null,
    });
    if (r.changes === 0) throw new Error(`journal: no job ${id}`);
  }

  getSteps(jobId: string): StepRecord[] {
    return this.q.steps.all(jobId).map(stepFromRow);
  }

  getStep(jobId: string, step: string): StepRecord | null {
    const row = this.q.step.get(jobId, step);
    return row ? stepFromRow(row) : null;
  }

  recordStepStart(jobId: string, step: string): StepRecord {
    return this.db
      .transaction(() => {
        this.requireJob(jobId);
        const now = this.now();
        const row = this.q.start.get({ jobId, step, now })!;
        this.q.touchJob.run(now, jobId);
        return stepFromRow(row);
      })
      .immediate();
  }

  recordStepOutputs(jobId: string, step: string, outputs: Record<string, unknown>): void {
    this.mergeOutputs(jobId, step, outputs);
  }

  recordStepSuccess(jobId: string, step: string, outputs: Record<string, unknown> = {}): void {
    this.db
      .transaction(() => {
        this.mergeOutputs(jobId, step, outputs);
        this.q.finish.run({ jobId, step, status: 'succeeded', now: this.now(), lastError: null });
      })
      .immediate();
  }

  /** The step's previous lastError is kept on success, so a resumed step still shows why it failed before. */
  recordStepFailure(jobId: string, step: string, error: RecordedError): void {
    this.db
      .transaction(() => {
        this.requireJob(jobId);
        this.q.ensureStep.run(jobId, step);
        this.q.finish.run({ jobId, step, status: 'failed', now: this.now(), lastError: errorJson(error) });
        this.q.touchJob.run(this.now(), jobId);
      })
      .immediate();
  }

  /** Shallow merge, read-modify-write under the write lock so concurrent writers cannot lose each other's keys. */
  private mergeOutputs(jobId: string, step: string, outputs: Record<string, unknown>): void {
    assertNoSecrets('step outputs', outputs);
    this.db
      .transaction(() => {
        this.requireJob(jobId);
        this.q.ensureStep.run(jobId, step);
        const row = this.q.step.get(jobId, step)!;
        const merged = { ...(fromJson<Record<string, unknown>>(row.outputs) ?? {}), ...outputs };
        this.q.writeOutputs.run(toJson(merged), jobId, step);
        this.q.touchJob.run(this.now(), jobId);
      })
      .immediate();
  }

  private requireJob(jobId: string): void {
    if (!this.q.jobById.get(jobId)) throw new Error(`journal: no job ${jobId}`);
  }

  private now(): string {
    return this.clock.now().toISOString();
  }
}
