/**
 * What a lifecycle job (migrate, rotate, retire, remove sender, test email, repair, adopt) gets from the engine:
 * the journaled step runner, the ports, and helpers to report checks and notes. The engine builds one per run.
 */
import type {
  AppSignInPort,
  Clock,
  DirectoryPort,
  ExchangeLifecyclePort,
  ExchangePort,
  JobRecord,
  JournalPort,
  SecretSink,
  StepRecord,
} from '../core/ports';
import type { RetryPolicy } from './retry';

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

export interface JobRuntime {
  readonly job: JobRecord;
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
}
