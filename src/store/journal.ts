/**
 * The engine's durable job/step journal (JournalPort from src/core/ports.ts) on SQLite.
 */
import type Database from 'better-sqlite3';
import type { Clock, JobRecord, JobStatus, JournalPort, RecordedError, StepRecord, StepStatus } from '../core/ports';
import { fromJson, toJson } from './json';
import { findSecretKeys } from './redact';

interface JobRow {
  id: string;
  kind: string;
  status: JobStatus;
  input: string;
  idempotency_key: string | null;
  last_error: string | null;
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
    lastError: fromJson<RecordedError>(r.last_error),
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
    outputs: fromJson<Record<string, unknown>>(r.outputs) ?? {},
    lastError: fromJson<RecordedError>(r.last_error),
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
           last_error = CASE WHEN @keepError THEN last_error ELSE @lastError END
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
