/**
 * The step runtime every workflow runs on: a durable journal of steps (a step the journal says succeeded is never
 * run again; its recorded outputs are reused), retries of transient errors, and progress events. Workflows
 * (workflows/) orchestrate activities (activities/) through it; the engine builds one runtime per run of a job.
 */
import { toOpterError } from '../core/errors';
import type {
  AppSignInPort,
  Clock,
  DirectoryPort,
  ExchangeLifecyclePort,
  ExchangePort,
  JobRecord,
  JournalPort,
  ProgressEvent,
  SecretSink,
  StepRecord,
} from '../core/ports';
import { withRetry, type RetryPolicy } from './retry';

/** How the app is limited to the sender group: the script's Application Access Policy, or RBAC for Applications. */
export type ScopingModel = 'access-policy' | 'rbac';
export const SCOPING_MODELS: readonly ScopingModel[] = ['access-policy', 'rbac'];

export interface VerificationCheck {
  name: string;
  /** Passed. False when it failed and when it did not run (`skipped`): a check that did not run is not a pass. */
  ok: boolean;
  detail: string;
  /** Did not run (nothing to test with, or not possible in this run); neither passed nor failed (check-results.ts). */
  skipped?: boolean;
  /** Tested a mailbox outside the sender group and expected it refused: when it passes, the restriction is shown. */
  provesRestriction?: boolean;
}

export interface LifecyclePorts {
  directory: DirectoryPort;
  exchange: ExchangePort & ExchangeLifecyclePort;
  journal: JournalPort;
  clock: Clock;
  secretSink: SecretSink;
  appSignIn?: AppSignInPort;
  controlMailbox?: string | null;
}

export type StepOut = Record<string, unknown>;

export interface JobRuntime<I = unknown> {
  readonly job: JobRecord;
  /** The job's input, decoded from the journal by its workflow's schema. */
  readonly input: I;
  readonly ports: LifecyclePorts;
  /** Notes collected in this run (shown with the result). */
  readonly notes: string[];
  /** Longest wait a job may sleep in-process (e.g. for a permission cache); longer waits end the run as unfinished. */
  readonly maxInlineWaitMs: number;
  /** Runs a journaled step: skipped when the journal says it succeeded, retried while it throws transient errors. */
  step<T extends StepOut>(name: string, fn: (attempt: number, record: StepRecord) => Promise<{ out: T; summary: string }>): Promise<T>;
  /** Reports one verification check (progress event) and returns it. */
  check(c: VerificationCheck): VerificationCheck;
  note(message: string): void;
  /** Retries fn under the verification budget while it throws transient errors (waiting for Microsoft to converge). */
  converge<T>(fn: () => Promise<T>): Promise<T>;
  readonly verifyPolicy: RetryPolicy;
  /** The plaintext of a secret created in THIS process run, for the sign-in check only. Never persisted. */
  secretText?: string;
}

export interface RuntimeOptions {
  ports: LifecyclePorts;
  /** Retries of a step's transient errors. */
  policy: RetryPolicy;
  /** Budget for waiting on verification to converge. */
  verifyPolicy: RetryPolicy;
  random?: () => number;
  maxInlineWaitMs: number;
  emit: (e: ProgressEvent) => void;
}

export function checkEvent(jobId: string, c: VerificationCheck, at: Date): ProgressEvent {
  return { type: 'check', jobId, name: c.name, ok: c.ok, detail: c.detail, ...(c.skipped ? { skipped: true } : {}), at: at.toISOString() };
}

/** The runtime for one run of `job`. Progress events carry the step id; their titles are the cards' business. */
export function createJobRuntime<I>(job: JobRecord, input: I, o: RuntimeOptions): JobRuntime<I> {
  const { journal, clock } = o.ports;
  const jobId = job.id;
  const at = () => clock.now().toISOString();
  const notes: string[] = [];

  async function step<T extends StepOut>(name: string, fn: (attempt: number, record: StepRecord) => Promise<{ out: T; summary: string }>): Promise<T> {
    const done = journal.getStep(jobId, name);
    if (done?.status === 'succeeded') {
      o.emit({ type: 'step-skipped', jobId, step: name, summary: String(done.outputs.summary ?? 'done earlier'), at: at() });
      // The outputs this step recorded when it succeeded (the journal stores what `fn` returned).
      return done.outputs as T;
    }
    const record = journal.recordStepStart(jobId, name);
    o.emit({ type: 'step-started', jobId, step: name, at: at() });
    try {
      const { out, summary } = await withRetry((attempt) => fn(attempt, journal.getStep(jobId, name) ?? record), o.policy, {
        clock,
        random: o.random,
        onRetry: ({ attempt, waitMs, error }) =>
          o.emit({ type: 'step-retrying', jobId, step: name, attempt, waitMs, reason: error.retryReason ?? `${error.code}: ${error.detail ?? error.message}`, at: at() }),
      });
      journal.recordStepSuccess(jobId, name, { ...out, summary });
      o.emit({ type: 'step-succeeded', jobId, step: name, summary, at: at() });
      return out;
    } catch (e) {
      const err = toOpterError(e);
      journal.recordStepFailure(jobId, name, { code: err.code, message: err.message });
      o.emit({ type: 'step-failed', jobId, step: name, code: err.code, message: err.summary, action: err.action, detail: err.detail, at: at() });
      throw err;
    }
  }

  return {
    job,
    input,
    ports: o.ports,
    notes,
    maxInlineWaitMs: o.maxInlineWaitMs,
    verifyPolicy: o.verifyPolicy,
    step,
    check: (c) => {
      o.emit(checkEvent(jobId, c, clock.now()));
      return c;
    },
    note: (message) => {
      if (!notes.includes(message)) notes.push(message);
    },
    converge: (fn) => withRetry(fn, o.verifyPolicy, { clock, random: o.random }),
  };
}
