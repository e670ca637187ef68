/**
 * The provisioning engine: creates jobs and runs them. Split the way Temporal splits a worker:
 * - the step runtime (runtime.ts): a durable journal of steps, retries of transient errors, progress events;
 * - workflows (workflows/): one per job kind, pure orchestration of activities; the engine is given its table
 *   (EngineDeps.workflows: the registry's in the product, whose actions each name theirs), default WORKFLOWS;
 * - activities (activities/, rbac.ts and the lifecycle modules): idempotent look-then-create functions over the ports.
 *
 * Orchestration is deterministic: a step that the journal says succeeded is never run again (its recorded outputs
 * are reused), so a job killed at any point converges when it is run again. Every tenant write is preceded by a
 * journal record of intent (e.g. the uniqueName before the app upsert, `pendingSince` before addPassword).
 *
 * A run ends in one of three states: succeeded (the workflow's typed result is stored on the job), waiting (it
 * stopped on purpose until `resumeAfter`: a permission cache, a secret overlap), or failed.
 */
import { randomUUID } from 'node:crypto';
import { OpterError, toOpterError, type ErrorCode } from '../core/errors';
import type {
  AppSignInPort,
  Clock,
  DirectoryPort,
  ExchangeLifecyclePort,
  ExchangePort,
  JobRecord,
  JournalPort,
  ProgressEvent,
  ProgressListener,
  SecretSink,
} from '../core/ports';
import type { MigrateResult } from './migrate';
import type { AdoptResult } from './registry';
import type { RemoveSendersResult } from './remove-sender';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry';
import type { RetireSecretsResult, RotateSecretResult } from './rotate';
import { createJobRuntime, type RuntimeOptions } from './runtime';
import { routeWrites, type WriteAccess } from './write-access';
import type { TestEmailResult } from './test-email';
import { isJobKind, WORKFLOWS, type AnyWorkflow, type JobKind, type JobTypes, type WorkflowTable } from './workflows';
import { provisionResultSchema, type ProvisionResult } from './workflows/provision';

export { GRAPH_APP_ID, SIGN_IN_AUDIENCE, uniqueNameFor } from './identity';
export type { VerificationCheck } from './runtime';
export type { AnyWorkflow, JobKind, JobTypes, WorkflowTable } from './workflows';
export { PROVISION_STEPS, PROVISION_RBAC_STEPS, validateProvisionInput, type ProvisionInput, type ProvisionResult } from './workflows/provision';
export { ADD_SENDER_STEPS, type AddSendersInput } from './workflows/add-sender';
export { REPAIR_STEPS, type RepairInput } from './workflows/repair';
export { MIGRATE_STEPS } from './migrate';
export { ROTATE_STEPS, RETIRE_STEPS } from './rotate';
export { REMOVE_SENDER_STEPS } from './remove-sender';
export { TEST_EMAIL_STEPS } from './test-email';
export { ADOPT_STEPS } from './registry';

/** What a lifecycle job returns (JobOutcome.lifecycle), discriminated by `kind`. */
export type LifecycleResult = MigrateResult | RotateSecretResult | RetireSecretsResult | RemoveSendersResult | TestEmailResult | AdoptResult;

/** The kinds whose result is a ProvisionResult (JobOutcome.result); every other kind's is a LifecycleResult. */
const PROVISION_KINDS: ReadonlySet<JobKind> = new Set(['provision', 'add-sender', 'repair']);

export interface JobOutcome {
  job: JobRecord;
  /** provision, add-sender and repair. */
  result?: ProvisionResult;
  /** The lifecycle kinds (migrate-rbac, rotate-secret, retire-secrets, remove-sender, test-email, adopt). */
  lifecycle?: LifecycleResult;
  /** The workflow's typed result, of any kind (also a kind an action brought; the same value as `result`/`lifecycle`). */
  value?: unknown;
  /** Why the job failed, or (E_JOB_UNFINISHED, job status `waiting`) why it waits. */
  error?: OpterError;
  /** A waiting job: run it again after this time. */
  resumeAfter?: string;
}

export interface CreateJobOptions {
  /** Same key → same job (e.g. a request id). */
  idempotencyKey?: string;
  jobId?: string;
}

export interface EngineDeps {
  directory: DirectoryPort;
  /** Exchange Online: the script's cmdlets plus the RBAC/inventory ones (the InvokeCommand adapter has both). */
  exchange: ExchangePort & ExchangeLifecyclePort;
  journal: JournalPort;
  clock: Clock;
  secretSink: SecretSink;
  /** Signs in as the new app to prove its secret works; optional (checks are then reported as not run). */
  appSignIn?: AppSignInPort;
  retry?: Partial<RetryPolicy>;
  /** Budget for waiting on verification to converge (Exchange policy evaluation, secret activation). */
  verifyRetry?: Partial<RetryPolicy>;
  random?: () => number;
  /** A mailbox outside every sender group that must test as Denied (e.g. a normal user mailbox). */
  controlMailbox?: string | null;
  /**
   * Job kind → the workflow that runs it. Default: the built-in WORKFLOWS. The product passes its registry's
   * (src/actions), so an action that brings its own workflow runs without an engine change.
   */
  workflows?: WorkflowTable;
  /** Longest wait a job sleeps in-process (e.g. for the RBAC permission cache); longer waits end it as waiting. Default 10 min. */
  maxInlineWaitMs?: number;
  /**
   * Who writes to the tenant. `standing` (default): the directory and exchange ports above. `delegated`: those ports
   * only read; each run's writes go through the approver's WriteAccess given to run(), and a run without one stops
   * at its first write as waiting for the approver (write-access.ts).
   */
  writes?: 'standing' | 'delegated';
}

export interface RunOptions {
  listener?: ProgressListener;
  /** Delegated mode: the approver's adapters for this run's writes (held in memory by the caller, never stored). */
  writes?: WriteAccess | null;
}

export class ProvisioningEngine {
  private readonly policy: RetryPolicy;
  private readonly verifyPolicy: RetryPolicy;
  private readonly listeners = new Set<ProgressListener>();
  private readonly running = new Map<string, Promise<JobOutcome>>();
  private readonly workflows: WorkflowTable;

  constructor(private readonly deps: EngineDeps) {
    this.workflows = deps.workflows ?? WORKFLOWS;
    this.policy = { ...DEFAULT_RETRY_POLICY, ...deps.retry };
    this.verifyPolicy = { ...DEFAULT_RETRY_POLICY, maxTotalWaitMs: 3 * 60_000, ...deps.verifyRetry };
  }

  onProgress(listener: ProgressListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get tenantId(): string {
    return this.deps.directory.tenantId;
  }

  /**
   * Records a job of `kind` (its workflow validates and normalises the input first; nothing is called). Same
   * idempotencyKey → same job; a kind may name a default key (retire-secrets: one job per rotation and trigger).
   */
  createJob<K extends string>(kind: K, input: K extends JobKind ? JobTypes[K]['create'] : unknown, opts: CreateJobOptions = {}): JobRecord {
    const prepared = this.workflowFor(kind).prepare(input, this.deps.journal);
    return this.deps.journal.createJob({ id: opts.jobId ?? randomUUID(), kind, input: prepared.input, idempotencyKey: opts.idempotencyKey ?? prepared.idempotencyKey ?? null });
  }

  /** Whether this engine runs jobs of `kind`. */
  runsKind(kind: string): boolean {
    return Object.hasOwn(this.workflows, kind);
  }

  private workflowFor(kind: string): AnyWorkflow {
    if (!this.runsKind(kind)) throw new OpterError('E_INTERNAL', { detail: `unknown job kind "${kind}"` });
    return this.workflows[kind]!;
  }

  /** Jobs that stopped on purpose to wait (the RBAC permission cache, a secret overlap), with when they may go on. */
  waitingJobs(): { job: JobRecord; resumeAfter: string | null }[] {
    return this.deps.journal.listJobs({ status: 'waiting' }).map((job) => ({ job, resumeAfter: job.resumeAfter }));
  }

  /** Whether writes need an approver's delegated access (EngineDeps.writes). */
  get delegatedWrites(): boolean {
    return this.deps.writes === 'delegated';
  }

  /** Runs (or resumes) a job to its end. Concurrent calls for the same job share one run. */
  run(jobId: string, opts: RunOptions = {}): Promise<JobOutcome> {
    const existing = this.running.get(jobId);
    if (existing) return existing;
    const p = this.runOnce(jobId, opts.listener, opts.writes ?? null).finally(() => this.running.delete(jobId));
    this.running.set(jobId, p);
    return p;
  }

  /** Jobs a crash left in 'running' state. */
  unfinishedJobs(): JobRecord[] {
    return this.deps.journal.listJobs({ status: 'running' });
  }

  async resumeUnfinished(listener?: ProgressListener): Promise<JobOutcome[]> {
    const out: JobOutcome[] = [];
    for (const job of this.unfinishedJobs()) out.push(await this.run(job.id, { listener }));
    return out;
  }

  private async runOnce(jobId: string, listener: ProgressListener | undefined, writes: WriteAccess | null): Promise<JobOutcome> {
    const { journal, clock } = this.deps;
    const job = journal.getJob(jobId);
    if (!job) throw new OpterError('E_REQUEST_NOT_FOUND', { detail: `No job ${jobId}.` });
    if (job.status === 'failed' || job.status === 'waiting') journal.setJobStatus(jobId, 'running', null);
    const emit = (e: ProgressEvent) => {
      listener?.(e);
      for (const l of this.listeners) l(e);
    };
    emit({ type: 'job-started', jobId, at: clock.now().toISOString() });
    try {
      const value = await runWorkflow(this.workflowFor(job.kind), job, {
        ports: this.delegatedWrites ? { ...this.deps, ...routeWrites(this.deps, writes) } : this.deps,
        policy: this.policy,
        verifyPolicy: this.verifyPolicy,
        random: this.deps.random,
        maxInlineWaitMs: this.deps.maxInlineWaitMs ?? 10 * 60_000,
        emit,
      });
      journal.finishJob(jobId, { status: 'succeeded', result: value });
      emit({ type: 'job-finished', jobId, status: 'succeeded', at: clock.now().toISOString() });
      const done = journal.getJob(jobId)!;
      // The built-in kinds' results keep their typed fields; a kind an action brought has its value only.
      if (!isJobKind(job.kind)) return { job: done, value };
      return PROVISION_KINDS.has(job.kind) ? { job: done, value, result: value as ProvisionResult } : { job: done, value, lifecycle: value as LifecycleResult };
    } catch (e) {
      const err = toOpterError(e);
      const lastError = { code: err.code, message: err.message };
      // Stopped on purpose: until a time (E_JOB_UNFINISHED), or until an approver continues it (E_APPROVER_NEEDED).
      if (err.code === 'E_JOB_UNFINISHED' || err.code === 'E_APPROVER_NEEDED') {
        const resumeAfter = err.resumeAfter ?? null;
        journal.finishJob(jobId, { status: 'waiting', resumeAfter, lastError });
        emit({ type: 'job-finished', jobId, status: 'waiting', ...(resumeAfter ? { resumeAfter } : {}), at: clock.now().toISOString() });
        return { job: journal.getJob(jobId)!, error: err, ...(resumeAfter ? { resumeAfter } : {}) };
      }
      journal.finishJob(jobId, { status: 'failed', lastError });
      emit({ type: 'job-finished', jobId, status: 'failed', at: clock.now().toISOString() });
      return { job: journal.getJob(jobId)!, error: err };
    }
  }
}

/** Decodes the job's persisted input with its workflow's schema, then runs the workflow on a fresh runtime. */
async function runWorkflow(workflow: AnyWorkflow, job: JobRecord, o: RuntimeOptions): Promise<unknown> {
  const input = workflow.input.safeParse(job.input);
  if (!input.success) {
    throw new OpterError('E_INTERNAL', { detail: `the journal holds a ${job.kind} input of an unexpected shape (${input.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ')})` });
  }
  return workflow.run(createJobRuntime(job, input.data, o));
}

/**
 * The typed result a provision, add-sender or repair job stored when it succeeded, decoded; null for other kinds,
 * for a job that has not succeeded, and for a job that succeeded before results were stored.
 */
export function storedProvisionResult(job: JobRecord): ProvisionResult | null {
  if (job.status !== 'succeeded' || job.result === null || !isJobKind(job.kind) || !PROVISION_KINDS.has(job.kind)) return null;
  const decoded = provisionResultSchema.safeParse(job.result);
  return decoded.success ? decoded.data : null;
}

/** A job that stopped at a write because no approver's access came with its run (delegated mode). */
export function waitsForApprover(job: JobRecord): boolean {
  return job.status === 'waiting' && job.lastError?.code === 'E_APPROVER_NEEDED';
}

export function isErrorCode(e: unknown, code: ErrorCode): boolean {
  return e instanceof OpterError && e.code === code;
}
