/**
 * The provisioning engine: regmsgraph.ps1 as idempotent "ensure X" activities, orchestrated from a durable journal.
 *
 * Orchestration is deterministic: a step that the journal says succeeded is never run again (its recorded outputs
 * are reused), so a job killed at any point converges when it is run again. Every tenant write is preceded by a
 * journal record of intent (e.g. the uniqueName before the app upsert, `pendingSince` before addPassword).
 *
 * The Graph chain (app → service principal → Mail.Send grant) and the Exchange chain (validate → group + members)
 * are independent and run concurrently; they meet at the access policy. The secret is created last so a failed run
 * never leaves a secret behind; verification runs after it.
 *
 * With `scoping: 'rbac'` the access policy and the Graph grant are replaced by RBAC for Applications (rbac.ts).
 * The lifecycle jobs (migrate, rotate/retire secrets, remove sender, test email, repair, adopt) run on the same
 * journal and step runner through a JobRuntime; each lives in its own module.
 */
import { randomUUID } from 'node:crypto';
import { OpterError, toOpterError, type ErrorCode } from '../core/errors';
import type {
  AppSignInPort,
  Clock,
  DirectoryPort,
  DistributionGroup,
  ExchangeLifecyclePort,
  ExchangePort,
  JobRecord,
  JournalPort,
  ProgressEvent,
  ProgressListener,
  SecretSink,
  StepRecord,
} from '../core/ports';
import { assertOurGroup, findOrphanSecrets, newObjectRead } from './activities';
import { GRAPH_APP_ID, SIGN_IN_AUDIENCE, uniqueNameFor } from './identity';
import { secretLifetime } from './lifetime';
import { assertSecretAllowed, governingMaxLifetime } from './secret-policy';
import { deriveNames, formatRoundTripUtc, typedNameProblem, type DerivedNames, type NameOverrides, DEFAULT_SECRET_VALID_YEARS } from './names';
import { DEFAULT_RETRY_POLICY, withRetry, type RetryPolicy } from './retry';
import { checkSenderSyntax, checkSendersInTenant, problemsToError } from './senders';
import { controlMailboxProblem, expectControlRefused, expectSend, restrictionNotTested, skippedCheck, verdict } from './checks';
import { locatedFrom } from './locate';
import { assertGroupIsOurs, registrationKey, sendersOfOtherRegistrations } from './ownership';
import { runMigrate, validateMigrateInput, type MigrateInput, type MigrateResult } from './migrate';
import {
  RBAC_PROPAGATION_NOTE,
  stepExchangeServicePrincipal,
  stepOrganization,
  stepRemoveGraphGrant,
  stepRoleAssignment,
  stepVerifyRbac,
  type RbacTarget,
  type SignInProof,
} from './rbac';
import { readRegistration } from './registration';
import { baselineFor, indexJournal, runAdopt, validateAdoptInput, type AdoptInput, type AdoptResult } from './registry';
import { runRemoveSenders, validateRemoveSendersInput, type RemoveSendersInput, type RemoveSendersResult } from './remove-sender';
import {
  pendingRotation,
  runRetireSecrets,
  runRotateSecret,
  validateRotateInput,
  type RetireSecretsInput,
  type RetireSecretsResult,
  type RotateSecretInput,
  type RotateSecretResult,
} from './rotate';
import { SCOPING_MODELS, type JobRuntime, type ScopingModel } from './runtime';
import { runTestEmail, validateTestEmailInput, type TestEmailInput, type TestEmailResult } from './test-email';

export { GRAPH_APP_ID, SIGN_IN_AUDIENCE, uniqueNameFor } from './identity';

export interface ProvisionInput {
  appDisplayName: string;
  senders: string[];
  secretValidYears?: number;
  overrides?: NameOverrides;
  /** Create a secret even when the app already has a live one (the script always made one; re-runs don't). */
  newSecret?: boolean;
  /** How the app is limited to the sender group: `access-policy` (the script's, default) or `rbac`. */
  scoping?: ScopingModel;
}

/** Repair re-runs the ensure steps for an existing registration (senders and scoping come from the journal). */
export interface RepairInput {
  appDisplayName: string;
  overrides?: NameOverrides;
}

export interface AddSendersInput {
  appDisplayName: string;
  senders: string[];
  overrides?: NameOverrides;
}

export type JobKind =
  | 'provision'
  | 'add-sender'
  | 'repair'
  | 'remove-sender'
  | 'migrate-rbac'
  | 'rotate-secret'
  | 'retire-secrets'
  | 'test-email'
  | 'adopt';

/** What a lifecycle job returns (JobOutcome.lifecycle), discriminated by `kind`. */
export type LifecycleResult = MigrateResult | RotateSecretResult | RetireSecretsResult | RemoveSendersResult | TestEmailResult | AdoptResult;

import type { VerificationCheck } from './runtime';
export type { VerificationCheck } from './runtime';

export interface ProvisionResult {
  jobId: string;
  tenantId: string;
  names: DerivedNames;
  appObjectId: string;
  clientId: string;
  spObjectId: string;
  groupSmtp: string;
  groupObjectId: string | null;
  senders: string[];
  created: { app: boolean; servicePrincipal: boolean; grant: boolean; group: boolean; policy: boolean };
  membersAdded: string[];
  secret: { keyId: string; endDateTime: string; clamped: boolean; maxLifetime: string | null; displayName: string } | null;
  checks: VerificationCheck[];
  notes: string[];
  /** The scoping model set up (absent on results of jobs from before RBAC existed: access-policy). */
  scoping?: ScopingModel;
  /** What the job could not check because the provisioning identity may not run the read (least privilege). */
  unchecked?: string[];
  /** RBAC for Applications objects (scoping 'rbac' only). */
  rbac?: { exchangeServicePrincipalCreated: boolean; roleAssignmentName: string; roleAssignmentCreated: boolean; graphGrantRemoved: boolean; organizationCustomized: boolean };
}

export interface JobOutcome {
  job: JobRecord;
  /** provision, add-sender and repair. */
  result?: ProvisionResult;
  /** The lifecycle kinds (migrate-rbac, rotate-secret, retire-secrets, remove-sender, test-email, adopt). */
  lifecycle?: LifecycleResult;
  error?: OpterError;
  /** E_JOB_UNFINISHED on purpose (a wait for Microsoft or an overlap): run the job again after this time. */
  resumeAfter?: string;
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
  /** Longest wait a job sleeps in-process (e.g. for the RBAC permission cache); longer waits end it as unfinished. Default 10 min. */
  maxInlineWaitMs?: number;
}

export const STEP_TITLES: Record<string, string> = {
  validate: 'Check sender mailboxes and the group’s owner',
  app: 'App registration',
  servicePrincipal: 'Enterprise app (service principal)',
  grant: 'Microsoft Graph Mail.Send (application) permission',
  group: 'Mail-enabled security group and members',
  policy: 'Application Access Policy (RestrictAccess)',
  secret: 'Client secret',
  verify: 'Verification',
  locate: 'Find the registration and its group',
  members: 'Change the group members',
  organization: 'Exchange organization customization',
  exchangeServicePrincipal: 'Exchange service principal pointer',
  roleAssignment: 'RBAC role assignment (Application Mail.Send, group scope)',
  removeGraphGrant: 'Remove the tenant-wide Graph Mail.Send grant',
  verifyRbac: 'Verify the RBAC scope',
  settle: 'Wait for Exchange’s permission cache',
  removePolicy: 'Remove the Application Access Policy',
  retire: 'Retire the old secrets',
  testSend: 'Test email (temporary secret, token, scope, send)',
  baseline: 'Record the baseline',
};

export const PROVISION_STEPS = ['validate', 'app', 'servicePrincipal', 'grant', 'group', 'policy', 'secret', 'verify'] as const;
export const PROVISION_RBAC_STEPS = ['validate', 'app', 'servicePrincipal', 'group', 'organization', 'exchangeServicePrincipal', 'roleAssignment', 'removeGraphGrant', 'secret', 'verify'] as const;
export const ADD_SENDER_STEPS = ['validate', 'locate', 'members', 'verify'] as const;
export const REPAIR_STEPS = ['locate', 'validate', 'app', 'servicePrincipal', 'grant', 'group', 'policy', 'verify'] as const;
export { MIGRATE_STEPS } from './migrate';
export { ROTATE_STEPS, RETIRE_STEPS } from './rotate';
export { REMOVE_SENDER_STEPS } from './remove-sender';
export { TEST_EMAIL_STEPS } from './test-email';
export { ADOPT_STEPS } from './registry';

type LifecycleKind = Exclude<JobKind, 'provision' | 'add-sender' | 'repair'>;
const LIFECYCLE_RUNNERS: Record<LifecycleKind, (rt: JobRuntime) => Promise<LifecycleResult>> = {
  'migrate-rbac': runMigrate,
  'rotate-secret': runRotateSecret,
  'retire-secrets': runRetireSecrets,
  'remove-sender': runRemoveSenders,
  'test-email': runTestEmail,
  adopt: runAdopt,
};

const ENFORCEMENT_NOTE =
  'Microsoft notes that access-policy changes can take longer than 1 hour to take effect for Graph calls, even when Test-ApplicationAccessPolicy already shows the expected result.';

type StepOut = Record<string, unknown>;

/** Validates and normalises provisioning input before any call is made. Throws input-category OpterErrors. */
export function validateProvisionInput(input: ProvisionInput): Required<Pick<ProvisionInput, 'appDisplayName' | 'senders' | 'secretValidYears'>> & ProvisionInput {
  const appDisplayName = (input.appDisplayName ?? '').trim();
  if (!appDisplayName) throw new OpterError('E_INPUT_INVALID', { detail: 'The app display name is empty.', field: 'appName' });
  if (appDisplayName.length > 120) {
    throw new OpterError('E_INPUT_INVALID', { detail: `The app display name is ${appDisplayName.length} characters; use at most 120.`, field: 'appName' });
  }
  // Every typed name, by one rule (names.ts): no control, invisible or blank characters, no links.
  const typedNames: Array<[string, string, string | undefined]> = [
    ['app display name', 'appName', appDisplayName],
    ['group name', 'groupName', input.overrides?.groupName],
    ['group alias', 'groupAlias', input.overrides?.groupAlias],
    ['secret name', 'secretDisplayName', input.overrides?.secretDisplayName],
  ];
  for (const [label, field, value] of typedNames) {
    const problem = typedNameProblem(label, value ?? '');
    if (problem) throw new OpterError('E_INPUT_INVALID', { detail: problem, field });
  }
  const years = input.secretValidYears ?? DEFAULT_SECRET_VALID_YEARS;
  if (!Number.isInteger(years) || years < 1 || years > 100) {
    throw new OpterError('E_INPUT_INVALID', { detail: `Secret validity must be a whole number of years from 1 (got ${years}).`, field: 'secretValidYears' });
  }
  if (input.scoping !== undefined && !SCOPING_MODELS.includes(input.scoping)) {
    throw new OpterError('E_INPUT_INVALID', { detail: `Scoping must be one of ${SCOPING_MODELS.join(', ')} (got ${String(input.scoping)}).`, field: 'scoping' });
  }
  const names = deriveNames(appDisplayName, input.overrides); // throws E_ALIAS_EMPTY
  // Exchange limits Name and Alias to 64 characters (New-DistributionGroup); the script would fail there mid-way.
  if (names.groupName.length > 64) {
    throw new OpterError('E_INPUT_INVALID', {
      detail: `The derived group name "${names.groupName.slice(0, 40)}…" is ${names.groupName.length} characters; Exchange allows 64. Use a shorter app name or set a group name.`,
      field: 'groupName',
    });
  }
  if (input.overrides?.groupAlias !== undefined && input.overrides.groupAlias !== '' && !/^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+(\.[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+)*$/.test(input.overrides.groupAlias)) {
    throw new OpterError('E_INPUT_INVALID', { detail: 'The group alias may only contain letters, digits and -_ characters.', field: 'groupAlias' });
  }
  const senders = input.senders.map((s) => s.trim()).filter(Boolean);
  if (senders.length === 0) throw new OpterError('E_INPUT_INVALID', { detail: 'Give at least one sender address.', field: 'senders' });
  const problems = checkSenderSyntax(senders);
  if (problems.length) throw problemsToError(problems);
  return { ...input, appDisplayName, senders, secretValidYears: years };
}


interface JobContext {
  job: JobRecord;
  notes: string[];
  /** The plaintext secret created in THIS process run, for the token check only. Never persisted. */
  secretText?: string;
  emit: (e: ProgressEvent) => void;
}

export class ProvisioningEngine {
  private readonly policy: RetryPolicy;
  private readonly verifyPolicy: RetryPolicy;
  private readonly listeners = new Set<ProgressListener>();
  private readonly running = new Map<string, Promise<JobOutcome>>();

  constructor(private readonly deps: EngineDeps) {
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

  /** Records a provisioning job (input validated first; nothing is called). Same idempotencyKey → same job. */
  createProvisionJob(input: ProvisionInput, opts: { idempotencyKey?: string; jobId?: string } = {}): JobRecord {
    const valid = validateProvisionInput(input);
    return this.deps.journal.createJob({ id: opts.jobId ?? randomUUID(), kind: 'provision', input: valid, idempotencyKey: opts.idempotencyKey ?? null });
  }

  createAddSenderJob(input: AddSendersInput, opts: { idempotencyKey?: string; jobId?: string } = {}): JobRecord {
    const valid = validateProvisionInput({ appDisplayName: input.appDisplayName, senders: input.senders, overrides: input.overrides });
    const job: AddSendersInput = { appDisplayName: valid.appDisplayName, senders: valid.senders, overrides: input.overrides };
    return this.deps.journal.createJob({ id: opts.jobId ?? randomUUID(), kind: 'add-sender', input: job, idempotencyKey: opts.idempotencyKey ?? null });
  }

  /** Repair: re-run the ensure steps of an existing registration (never creates a secret). */
  createRepairJob(input: RepairInput, opts: { idempotencyKey?: string; jobId?: string } = {}): JobRecord {
    const appDisplayName = (input.appDisplayName ?? '').trim();
    if (!appDisplayName) throw new OpterError('E_INPUT_INVALID', { detail: 'The app display name is empty.', field: 'appName' });
    deriveNames(appDisplayName, input.overrides);
    const job: RepairInput = { appDisplayName, ...(input.overrides ? { overrides: input.overrides } : {}) };
    return this.deps.journal.createJob({ id: opts.jobId ?? randomUUID(), kind: 'repair', input: job, idempotencyKey: opts.idempotencyKey ?? null });
  }

  /** Remove sender(s) from the group, then prove each is refused. */
  createRemoveSenderJob(input: RemoveSendersInput, opts: { idempotencyKey?: string; jobId?: string } = {}): JobRecord {
    return this.deps.journal.createJob({ id: opts.jobId ?? randomUUID(), kind: 'remove-sender', input: validateRemoveSendersInput(input), idempotencyKey: opts.idempotencyKey ?? null });
  }

  /** Migrate an access-policy registration to RBAC for Applications (see planMigration for the order). */
  createMigrateJob(input: MigrateInput, opts: { idempotencyKey?: string; jobId?: string } = {}): JobRecord {
    return this.deps.journal.createJob({ id: opts.jobId ?? randomUUID(), kind: 'migrate-rbac', input: validateMigrateInput(input), idempotencyKey: opts.idempotencyKey ?? null });
  }

  /** New secret through the SecretSink; the old ones keep working until retired. */
  createRotateSecretJob(input: RotateSecretInput, opts: { idempotencyKey?: string; jobId?: string } = {}): JobRecord {
    return this.deps.journal.createJob({ id: opts.jobId ?? randomUUID(), kind: 'rotate-secret', input: validateRotateInput(input), idempotencyKey: opts.idempotencyKey ?? null });
  }

  /**
   * Retire the old secrets of a rotation: `confirmed` when the admin says Opter uses the new secret, otherwise it
   * completes only once the overlap has passed (E_JOB_UNFINISHED with resumeAfter before that). Without
   * `rotateJobId`, the latest unfinished rotation of the app is used (E_INPUT_INVALID when there is none).
   */
  createRetireSecretsJob(
    input: { appDisplayName: string; overrides?: NameOverrides; rotateJobId?: string; confirmed: boolean },
    opts: { idempotencyKey?: string; jobId?: string } = {},
  ): JobRecord {
    const appDisplayName = (input.appDisplayName ?? '').trim();
    if (!appDisplayName) throw new OpterError('E_INPUT_INVALID', { detail: 'The app display name is empty.', field: 'appName' });
    const rotateJobId = input.rotateJobId ?? pendingRotation(this.deps.journal, appDisplayName)?.job.id;
    if (!rotateJobId) throw new OpterError('E_INPUT_INVALID', { detail: `no secret rotation of "${appDisplayName}" is waiting for its old secrets to be retired.`, field: 'appName' });
    const job: RetireSecretsInput = { appDisplayName, rotateJobId, confirmed: !!input.confirmed, ...(input.overrides ? { overrides: input.overrides } : {}) };
    // One retire job per rotation and trigger: a repeated click or timer tick finds the same job.
    const key = opts.idempotencyKey ?? `retire-secrets:${rotateJobId}:${job.confirmed ? 'confirmed' : 'overlap'}`;
    return this.deps.journal.createJob({ id: opts.jobId ?? randomUUID(), kind: 'retire-secrets', input: job, idempotencyKey: key });
  }

  /** Send a test message as the app with a temporary secret that is always removed again. */
  createTestEmailJob(input: TestEmailInput, opts: { idempotencyKey?: string; jobId?: string } = {}): JobRecord {
    return this.deps.journal.createJob({ id: opts.jobId ?? randomUUID(), kind: 'test-email', input: validateTestEmailInput(input), idempotencyKey: opts.idempotencyKey ?? null });
  }

  /** Take over a registration made by the script: record its baseline and verify it. */
  createAdoptJob(input: AdoptInput, opts: { idempotencyKey?: string; jobId?: string } = {}): JobRecord {
    return this.deps.journal.createJob({ id: opts.jobId ?? randomUUID(), kind: 'adopt', input: validateAdoptInput(input), idempotencyKey: opts.idempotencyKey ?? null });
  }

  /**
   * Jobs that stopped on purpose to wait (E_JOB_UNFINISHED: the RBAC permission cache during a migration, a
   * secret overlap), with the time after which running them again can finish them.
   */
  waitingJobs(): { job: JobRecord; resumeAfter: string | null }[] {
    return this.deps.journal
      .listJobs({ status: 'failed' })
      .filter((j) => j.lastError?.code === 'E_JOB_UNFINISHED')
      .map((job) => ({ job, resumeAfter: this.resumeAfterOf(job.id) }));
  }

  private resumeAfterOf(jobId: string): string | null {
    for (const s of this.deps.journal.getSteps(jobId)) {
      if (s.status === 'failed' && typeof s.outputs.resumeAfter === 'string') return s.outputs.resumeAfter;
    }
    return null;
  }

  /** Runs (or resumes) a job to its end. Concurrent calls for the same job share one run. */
  run(jobId: string, opts: { listener?: ProgressListener } = {}): Promise<JobOutcome> {
    const existing = this.running.get(jobId);
    if (existing) return existing;
    const p = this.runOnce(jobId, opts.listener).finally(() => this.running.delete(jobId));
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

  private async runOnce(jobId: string, listener?: ProgressListener): Promise<JobOutcome> {
    const { journal, clock } = this.deps;
    const job = journal.getJob(jobId);
    if (!job) throw new OpterError('E_REQUEST_NOT_FOUND', { detail: `No job ${jobId}.` });
    if (job.status === 'failed') journal.setJobStatus(jobId, 'running', null);
    const ctx: JobContext = {
      job,
      notes: [],
      emit: (e) => {
        listener?.(e);
        for (const l of this.listeners) l(e);
      },
    };
    ctx.emit({ type: 'job-started', jobId, at: clock.now().toISOString() });
    try {
      let result: ProvisionResult | undefined;
      let lifecycle: LifecycleResult | undefined;
      if (job.kind === 'add-sender') result = await this.runAddSender(ctx);
      else if (job.kind === 'repair') result = await this.runRepair(ctx);
      else if (job.kind === 'provision') result = await this.runProvision(ctx);
      else {
        const runner = LIFECYCLE_RUNNERS[job.kind as LifecycleKind];
        if (!runner) throw new OpterError('E_INTERNAL', { detail: `unknown job kind "${job.kind}"` });
        lifecycle = await runner(this.runtimeFor(ctx));
      }
      journal.setJobStatus(jobId, 'succeeded', null);
      ctx.emit({ type: 'job-finished', jobId, status: 'succeeded', at: clock.now().toISOString() });
      return { job: journal.getJob(jobId)!, ...(result ? { result } : {}), ...(lifecycle ? { lifecycle } : {}) };
    } catch (e) {
      const err = toOpterError(e);
      journal.setJobStatus(jobId, 'failed', { code: err.code, message: err.message });
      ctx.emit({ type: 'job-finished', jobId, status: 'failed', at: clock.now().toISOString() });
      const resumeAfter = err.code === 'E_JOB_UNFINISHED' ? this.resumeAfterOf(jobId) : null;
      return { job: journal.getJob(jobId)!, error: err, ...(resumeAfter ? { resumeAfter } : {}) };
    }
  }

  // ------------------------------------------------------------------------------------------------------------
  // Step runner
  // ------------------------------------------------------------------------------------------------------------

  private async step<T extends StepOut>(
    ctx: JobContext,
    name: string,
    fn: (attempt: number, record: StepRecord) => Promise<{ out: T; summary: string }>,
  ): Promise<T> {
    const { journal, clock } = this.deps;
    const jobId = ctx.job.id;
    const title = STEP_TITLES[name] ?? name;
    const done = journal.getStep(jobId, name);
    if (done?.status === 'succeeded') {
      ctx.emit({ type: 'step-skipped', jobId, step: name, title, summary: String(done.outputs.summary ?? 'done earlier'), at: clock.now().toISOString() });
      return done.outputs as T;
    }
    const record = journal.recordStepStart(jobId, name);
    ctx.emit({ type: 'step-started', jobId, step: name, title, at: clock.now().toISOString() });
    try {
      const { out, summary } = await withRetry((attempt) => fn(attempt, journal.getStep(jobId, name) ?? record), this.policy, {
        clock,
        random: this.deps.random,
        onRetry: ({ attempt, waitMs, error }) =>
          ctx.emit({
            type: 'step-retrying',
            jobId,
            step: name,
            title,
            attempt,
            waitMs,
            reason: error.retryReason ?? `${error.code}: ${error.detail ?? error.message}`,
            at: clock.now().toISOString(),
          }),
      });
      journal.recordStepSuccess(jobId, name, { ...out, summary });
      ctx.emit({ type: 'step-succeeded', jobId, step: name, title, summary, at: clock.now().toISOString() });
      return out;
    } catch (e) {
      const err = toOpterError(e);
      journal.recordStepFailure(jobId, name, { code: err.code, message: err.message });
      ctx.emit({ type: 'step-failed', jobId, step: name, title, code: err.code, message: err.summary, action: err.action, detail: err.detail, at: clock.now().toISOString() });
      throw err;
    }
  }

  /** The step runner, ports and helpers as the lifecycle modules see them. */
  private runtimeFor(ctx: JobContext): JobRuntime {
    const { clock } = this.deps;
    return {
      job: ctx.job,
      ports: this.deps,
      notes: ctx.notes,
      maxInlineWaitMs: this.deps.maxInlineWaitMs ?? 10 * 60_000,
      verifyPolicy: this.verifyPolicy,
      step: (name, fn) => this.step(ctx, name, fn),
      check: (c) => {
        ctx.emit(checkEvent(ctx.job.id, c, clock.now()));
        return c;
      },
      note: (message) => {
        if (!ctx.notes.includes(message)) ctx.notes.push(message);
      },
      converge: (fn) => withRetry(fn, this.verifyPolicy, { clock, random: this.deps.random }),
    };
  }

  // ------------------------------------------------------------------------------------------------------------
  // Provision (the script, step for step)
  // ------------------------------------------------------------------------------------------------------------

  /**
   * `mode` is used by repair: senders and scoping come from the registration's journal instead of the input, and
   * no secret is created.
   */
  private async runProvision(ctx: JobContext, mode: { senders?: string[]; scoping?: ScopingModel; createSecret?: boolean } = {}): Promise<ProvisionResult> {
    const input = ctx.job.input as ProvisionInput & { secretValidYears: number };
    const names = deriveNames(input.appDisplayName, input.overrides);
    const createSecret = mode.createSecret !== false;
    // The group's owner (and, for a new secret, the tenant's secret policy) is checked with the senders, before
    // either chain writes anything.
    const validated = await this.stepValidate(ctx, mode.senders ?? input.senders, { groupFor: names, ...(createSecret ? { secret: { names, newSecret: input.newSecret } } : {}) });
    const senders = validated.senders as string[];
    if ((mode.scoping ?? input.scoping) === 'rbac') return this.runProvisionRbac(ctx, names, senders, input, createSecret);

    // The two chains only meet at the access policy; settle both so the journal is complete whichever fails.
    const [graph, group] = await settleBoth(
      (async () => {
        const app = await this.stepApp(ctx, names);
        const sp = await this.stepServicePrincipal(ctx, app.appId);
        const grant = await this.stepGrant(ctx, sp.spObjectId);
        return { app, sp, grant };
      })(),
      this.stepGroup(ctx, names, senders),
    );
    const policy = await this.stepPolicy(ctx, graph.app.appId, group);
    const secret = createSecret ? await this.stepSecret(ctx, names, graph.app, input) : {};
    const verify = await this.stepVerify(ctx, graph.app.appId, senders, createSecret ? this.signInProof(ctx, secret) : null, group.members ?? senders, { names, groupIdentity: group.groupIdentity });
    ctx.notes.push(ENFORCEMENT_NOTE);

    return {
      jobId: ctx.job.id,
      tenantId: this.deps.directory.tenantId,
      names,
      appObjectId: graph.app.appObjectId,
      clientId: graph.app.appId,
      spObjectId: graph.sp.spObjectId,
      groupSmtp: group.groupSmtp,
      groupObjectId: group.groupObjectId,
      senders,
      created: {
        app: !!graph.app.created,
        servicePrincipal: !!graph.sp.created,
        grant: !!graph.grant.created,
        group: !!group.created,
        policy: !!policy.created,
      },
      membersAdded: group.membersAdded,
      secret: secret.keyId
        ? {
            keyId: secret.keyId,
            endDateTime: secret.endDateTime!,
            clamped: !!secret.clamped,
            maxLifetime: secret.maxLifetime ?? null,
            displayName: names.secretDisplayName,
          }
        : null,
      checks: verify.checks,
      notes: [...new Set([...collectNotes(this.deps.journal.getSteps(ctx.job.id)), ...ctx.notes])],
      scoping: 'access-policy',
    };
  }

  /**
   * The script with RBAC for Applications instead of the Graph grant + access policy: app and service principal,
   * group (+ organization customization), Exchange pointer, scoped role assignment, THEN removal of any Graph
   * Mail.Send grant (after the assignment, so an existing registration keeps a path), secret, verification.
   */
  private async runProvisionRbac(ctx: JobContext, names: DerivedNames, senders: string[], input: ProvisionInput & { secretValidYears: number }, createSecret: boolean): Promise<ProvisionResult> {
    const rt = this.runtimeFor(ctx);
    const [graph, exo] = await settleBoth(
      (async () => {
        const app = await this.stepApp(ctx, names);
        const sp = await this.stepServicePrincipal(ctx, app.appId);
        return { app, sp };
      })(),
      (async () => {
        const group = await this.stepGroup(ctx, names, senders);
        const org = await stepOrganization(rt);
        return { group, org };
      })(),
    );
    const group = exo.group;
    const target: RbacTarget = {
      names,
      appId: graph.app.appId,
      appDisplayName: names.appDisplayName,
      spObjectId: graph.sp.spObjectId,
      spIsNew: !!graph.sp.created,
      group: {
        identity: group.groupIdentity,
        smtp: group.groupSmtp,
        name: group.groupName,
        alias: names.groupAlias,
        guid: typeof group.groupGuid === 'string' ? group.groupGuid : '',
        externalDirectoryObjectId: group.groupObjectId,
        recipientTypeDetails: 'MailUniversalSecurityGroup',
      },
      groupIsNew: !!group.created,
    };
    const exoSp = await stepExchangeServicePrincipal(rt, target);
    const assignment = await stepRoleAssignment(rt, target, exoSp.exoSpObjectId, exoSp.created);
    const removed = await stepRemoveGraphGrant(rt, graph.sp.spObjectId);
    if (removed.removedAssignmentIds.length && !graph.app.created) {
      rt.note('This registration had the Graph grant until now: its senders may get 403 for up to 2 hours while Exchange’s permission cache catches up. "migrate" switches a live registration without that gap.');
    }
    const policies = (await this.deps.exchange.getApplicationAccessPolicies()).filter((p) => p.appId.toLowerCase() === graph.app.appId.toLowerCase());
    if (policies.length) {
      rt.note(`The app still has ${policies.length} Application Access Polic${policies.length === 1 ? 'y' : 'ies'}; they only narrow the Graph grant, which RBAC scoping removed, so they no longer matter ("migrate" removes them).`);
    }
    const secret = createSecret ? await this.stepSecret(ctx, names, graph.app, input) : {};
    const verify = await stepVerifyRbac(rt, {
      exoSpIdentity: exoSp.exoSpObjectId,
      spObjectId: graph.sp.spObjectId,
      appId: graph.app.appId,
      senders,
      groupMembers: group.members ?? senders,
      signIn: createSecret ? this.signInProof(ctx, secret) : null,
      ownGroup: { names, groupIdentity: group.groupIdentity },
    });
    rt.note(RBAC_PROPAGATION_NOTE);
    return {
      jobId: ctx.job.id,
      tenantId: this.deps.directory.tenantId,
      names,
      appObjectId: graph.app.appObjectId,
      clientId: graph.app.appId,
      spObjectId: graph.sp.spObjectId,
      groupSmtp: group.groupSmtp,
      groupObjectId: group.groupObjectId,
      senders,
      created: { app: !!graph.app.created, servicePrincipal: !!graph.sp.created, grant: false, group: !!group.created, policy: false },
      membersAdded: group.membersAdded,
      secret: secret.keyId
        ? { keyId: secret.keyId, endDateTime: secret.endDateTime!, clamped: !!secret.clamped, maxLifetime: secret.maxLifetime ?? null, displayName: names.secretDisplayName }
        : null,
      checks: verify.checks,
      notes: [...new Set([...collectNotes(this.deps.journal.getSteps(ctx.job.id)), ...ctx.notes])],
      scoping: 'rbac',
      rbac: {
        exchangeServicePrincipalCreated: !!exoSp.created,
        roleAssignmentName: assignment.name,
        roleAssignmentCreated: !!assignment.created,
        graphGrantRemoved: removed.removedAssignmentIds.length > 0,
        organizationCustomized: !!exo.org.enabled,
      },
    };
  }

  /**
   * Repair: find the registration, take its senders from the last member list the journal recorded (else the
   * group's current members) and its scoping model, then re-run the ensure steps. Members added outside the bot
   * are left alone (they stay reported as drift); mailboxes that no longer exist are skipped with a note.
   */
  private async runRepair(ctx: JobContext): Promise<ProvisionResult> {
    const input = ctx.job.input as RepairInput;
    const names = deriveNames(input.appDisplayName, input.overrides);
    const plan = await this.step<{ senders: string[]; intendedScoping: ScopingModel; unexpectedMembers: string[]; appId: string }>(ctx, 'locate', async () => {
      const facts = await readRegistration(this.deps, names);
      if (!facts) throw new OpterError('E_NOT_FOUND', { detail: `no app registration named "${names.appDisplayName}" — set it up first.` });
      const baseline = baselineFor(indexJournal(this.deps.journal), facts.app.appId);
      // Half-way through a migration the access-policy objects must stay; the migration finishes the switch.
      const intendedScoping: ScopingModel = baseline.migrationJobId ? 'access-policy' : (baseline.scoping ?? (facts.scoping === 'rbac' ? 'rbac' : 'access-policy'));
      const wanted = baseline.members ?? facts.members.filter((m) => !facts.nestedGroups.includes(m));
      const unexpectedMembers = baseline.members ? facts.members.filter((m) => !baseline.members!.some((b) => b.toLowerCase() === m.toLowerCase())) : [];
      const check = await checkSendersInTenant(this.deps.exchange, wanted);
      const gone = new Set(check.problems.map((p) => p.address.toLowerCase()));
      for (const p of check.problems) ctx.notes.push(`${p.address} is not re-added: ${p.message}`);
      const senders = wanted.filter((w) => !gone.has(w.toLowerCase()));
      if (unexpectedMembers.length) ctx.notes.push(`Left in the group (added outside the bot): ${unexpectedMembers.join(', ')}. Approve them with "add sender" or remove them with "remove sender".`);
      ctx.notes.push(...facts.unchecked);
      return {
        out: { ...locatedFrom(facts), senders, intendedScoping, unexpectedMembers },
        summary: `Found ${facts.app.displayName} (client id ${facts.app.appId}); repairing as ${intendedScoping === 'rbac' ? 'RBAC for Applications' : 'Application Access Policy'} with ${senders.length} sender${senders.length === 1 ? '' : 's'}`,
      };
    });
    return this.runProvision(ctx, { senders: plan.senders, scoping: plan.intendedScoping, createSecret: false });
  }

  /**
   * `groupFor`: also refuse when the group those names lead to belongs to another registration.
   * `secret`: also refuse when the tenant's app management policy forbids the secret this job will add.
   */
  private stepValidate(ctx: JobContext, senders: string[], checks: { groupFor?: DerivedNames; secret?: { names: DerivedNames; newSecret?: boolean } } = {}) {
    const { groupFor, secret } = checks;
    return this.step(ctx, 'validate', async () => {
      const [check] = await Promise.all([checkSendersInTenant(this.deps.exchange, senders), groupFor ? assertGroupIsOurs(this.deps, groupFor) : null]);
      if (check.problems.length) throw problemsToError(check.problems);
      // Before any write: a tenant that forbids client secrets would otherwise stop us at the last step.
      if (secret) await assertSecretAllowed(this.deps.directory, secret.names, this.deps.clock.now(), { newSecret: secret.newSecret });
      // Add by primary SMTP address: the input may be a secondary proxy address of the mailbox.
      const resolved = senders.map((s) => check.recipients.get(s.toLowerCase())!.primarySmtpAddress);
      const uniq = [...new Map(resolved.map((r) => [r.toLowerCase(), r])).values()];
      return { out: { senders: uniq }, summary: `${uniq.length} mailbox${uniq.length === 1 ? '' : 'es'} checked: ${uniq.join(', ')}` };
    });
  }

  private stepApp(ctx: JobContext, names: DerivedNames) {
    const { directory, journal } = this.deps;
    return this.step<{ appObjectId: string; appId: string; created: boolean }>(ctx, 'app', async (_attempt, record) => {
      const uniqueName = uniqueNameFor(names);
      const found = await directory.findApplicationsByDisplayName(names.appDisplayName);
      const exact = found.filter((a) => a.displayName === names.appDisplayName);
      const ours = exact.find((a) => a.uniqueName === uniqueName);
      const createdEarlier = record.outputs.created === true;
      if (ours || exact.length === 1) {
        const a = ours ?? exact[0];
        return {
          out: { appObjectId: a.id, appId: a.appId, created: createdEarlier },
          summary: `${createdEarlier ? 'Created' : 'Reusing existing'} app registration "${a.displayName}" (client id ${a.appId})`,
        };
      }
      if (exact.length > 1) {
        throw new OpterError('E_APP_NAME_AMBIGUOUS', {
          detail: `${exact.length} registrations are named "${names.appDisplayName}" (client ids ${exact.map((a) => a.appId).join(', ')})`,
          field: 'appName',
        });
      }
      journal.recordStepOutputs(ctx.job.id, 'app', { uniqueName });
      const r = await directory.upsertApplicationByUniqueName(uniqueName, { displayName: names.appDisplayName, signInAudience: SIGN_IN_AUDIENCE });
      if (r.created) {
        // Trust the create response (docs/microsoft-facts.md §1.5): a read right after it may 404.
        journal.recordStepOutputs(ctx.job.id, 'app', { appObjectId: r.value.id, appId: r.value.appId, created: true });
        return {
          out: { appObjectId: r.value.id, appId: r.value.appId, created: true },
          summary: `Created app registration "${names.appDisplayName}" (client id ${r.value.appId}, single tenant)`,
        };
      }
      // 204: it exists under our uniqueName (an earlier attempt created it) but reads do not show it yet.
      throw new OpterError('E_NOT_FOUND', {
        transient: true,
        detail: 'the app registration exists but is not visible yet',
        retryReason: 'waiting for Microsoft to replicate the new app registration',
      });
    });
  }

  private stepServicePrincipal(ctx: JobContext, appId: string) {
    const { directory } = this.deps;
    return this.step<{ spObjectId: string; created: boolean }>(ctx, 'servicePrincipal', async (_a, record) => {
      const existing = await directory.getServicePrincipalByAppId(appId);
      if (existing) {
        const created = record.outputs.created === true;
        return { out: { spObjectId: existing.id, created }, summary: `${created ? 'Created' : 'Reusing'} service principal ${existing.id}` };
      }
      const r = await directory.upsertServicePrincipal(appId);
      if (r.created) {
        this.deps.journal.recordStepOutputs(ctx.job.id, 'servicePrincipal', { spObjectId: r.value.id, created: true });
        return { out: { spObjectId: r.value.id, created: true }, summary: `Created service principal ${r.value.id}` };
      }
      throw new OpterError('E_NOT_FOUND', {
        transient: true,
        detail: 'the service principal exists but is not visible yet',
        retryReason: 'waiting for Microsoft to replicate the new service principal',
      });
    });
  }

  private stepGrant(ctx: JobContext, spObjectId: string) {
    const { directory } = this.deps;
    return this.step<{ assignmentId: string | null; created: boolean; appRoleId: string; resourceId: string }>(ctx, 'grant', async () => {
      const graphSp = await directory.getServicePrincipalByAppId(GRAPH_APP_ID);
      if (!graphSp) throw new OpterError('E_INTERNAL', { detail: 'Microsoft Graph service principal not found in tenant.' });
      const role = graphSp.appRoles.find((r) => r.value === 'Mail.Send' && r.allowedMemberTypes.includes('Application'));
      if (!role) throw new OpterError('E_INTERNAL', { detail: "Could not find Microsoft Graph app role 'Mail.Send' (Application)." });
      const held = await directory.listAppRoleAssignments(spObjectId);
      const existing = held.find((a) => a.resourceId === graphSp.id && a.appRoleId === role.id);
      if (existing) {
        return { out: { assignmentId: existing.id, created: false, appRoleId: role.id, resourceId: graphSp.id }, summary: 'Mail.Send (Application) was already granted' };
      }
      const r = await directory.assignAppRole({ principalId: spObjectId, resourceId: graphSp.id, appRoleId: role.id });
      return {
        out: { assignmentId: r.created ? r.value.id : null, created: r.created, appRoleId: role.id, resourceId: graphSp.id },
        summary: r.created ? 'Granted: Mail.Send (Application)' : 'Mail.Send (Application) was already granted',
      };
    });
  }

  private stepGroup(ctx: JobContext, names: DerivedNames, senders: string[]) {
    const { exchange, journal } = this.deps;
    return this.step<{ groupIdentity: string; groupSmtp: string; groupObjectId: string | null; groupName: string; groupGuid?: string; created: boolean; membersAdded: string[]; members?: string[] }>(
      ctx,
      'group',
      async (attempt, record) => {
        let group = await exchange.getDistributionGroup(names.groupAlias);
        let created = record.outputs.created === true;
        if (group) {
          // Checked again at run time: the group may have appeared (or changed hands) since validation or approval.
          await assertGroupIsOurs(this.deps, names);
          // Our own create intent and no other owner: an earlier attempt made it and its answer was lost.
          created ||= record.outputs.createAttempted === true;
        } else {
          const triedBefore = attempt > 1 || record.outputs.createAttempted === true;
          // The ownership record, journaled before the group exists, so a crash mid-create still proves it is ours.
          journal.recordStepOutputs(ctx.job.id, 'group', { createAttempted: true, ownerKey: registrationKey(names), groupAlias: names.groupAlias, groupName: names.groupName });
          try {
            group = await exchange.newDistributionGroup({ name: names.groupName, alias: names.groupAlias, members: senders });
            created = true;
            journal.recordStepOutputs(ctx.job.id, 'group', { created: true, groupIdentity: group.identity, groupSmtp: group.primarySmtpAddress });
          } catch (e) {
            const err = toOpterError(e);
            // An earlier attempt may have created it on a domain controller this read did not reach yet.
            if (err.code === 'E_GROUP_CONFLICT' && triedBefore) {
              throw new OpterError('E_NOT_FOUND', {
                transient: true,
                detail: err.detail,
                retryReason: 'waiting for Exchange to replicate the new group',
              });
            }
            throw err;
          }
        }
        assertOurGroup(group, names);
        const { added: membersAdded, members } = await this.ensureMembers(group, senders, created);
        return {
          out: {
            groupIdentity: group.identity,
            groupSmtp: group.primarySmtpAddress,
            groupObjectId: group.externalDirectoryObjectId,
            groupName: group.name,
            groupGuid: group.guid,
            created,
            membersAdded,
            // The member list after this job: the baseline that drift detection compares against.
            members,
          },
          summary: `${created ? 'Created' : 'Reusing'} group ${group.primarySmtpAddress}${membersAdded.length ? `; added ${membersAdded.join(', ')}` : '; all senders are members'}`,
        };
      },
    );
  }

  /** Adds the senders that are not yet direct members; returns the ones added and the member list after. */
  private async ensureMembers(group: DistributionGroup, senders: string[], groupIsNew: boolean): Promise<{ added: string[]; members: string[] }> {
    const { exchange } = this.deps;
    const members = await newObjectRead(() => exchange.getDistributionGroupMembers(group.identity), groupIsNew, 'waiting for Exchange to replicate the new group');
    const have = new Set(members.map((m) => m.primarySmtpAddress.toLowerCase()));
    const after = members.map((m) => m.primarySmtpAddress);
    const added: string[] = [];
    for (const s of senders) {
      if (have.has(s.toLowerCase())) continue;
      const r = await newObjectRead(() => exchange.addDistributionGroupMember(group.identity, s), groupIsNew, 'waiting for Exchange to replicate the new group');
      if (r.created) added.push(s);
      // Already a member (a lost earlier response) or just added: either way it is in the group now.
      have.add(s.toLowerCase());
      after.push(s);
    }
    return { added, members: after };
  }

  private stepPolicy(ctx: JobContext, appId: string, group: { groupIdentity: string; groupSmtp: string; groupObjectId: string | null; groupName: string; created: boolean }) {
    const { exchange } = this.deps;
    return this.step<{ policyIdentity: string; created: boolean }>(ctx, 'policy', async () => {
      const policies = await exchange.getApplicationAccessPolicies();
      const forApp = policies.filter((p) => p.appId.toLowerCase() === appId.toLowerCase());
      const scopeKeys = new Set([group.groupIdentity, group.groupSmtp, group.groupName, group.groupObjectId ?? ''].filter(Boolean).map((s) => s.toLowerCase()));
      const match = forApp.find(
        (p) => p.accessRight === 'RestrictAccess' && (scopeKeys.has(p.scopeName.toLowerCase()) || scopeKeys.has(p.scopeIdentity.toLowerCase())),
      );
      const others = forApp.filter((p) => p !== match);
      if (others.length) {
        ctx.notes.push(`The app also has ${others.length} other access polic${others.length === 1 ? 'y' : 'ies'} (${others.map((p) => `${p.accessRight} ${p.scopeName}`).join(', ')}); a DenyAccess policy wins over RestrictAccess.`);
      }
      if (match) return { out: { policyIdentity: match.identity, created: false }, summary: `Access policy already restricts the app to ${group.groupSmtp}` };
      const created = await newObjectRead(
        () =>
          exchange.newApplicationAccessPolicy({
            appId,
            policyScopeGroupId: group.groupSmtp,
            accessRight: 'RestrictAccess',
            description: `Restrict app-only Graph mail access to members of ${group.groupSmtp}`,
          }),
        true, // the group or app may be new to this Exchange server even when an earlier job created them
        'waiting for Exchange to see the new group',
      );
      return { out: { policyIdentity: created.identity, created: true }, summary: `Application Access Policy created: RestrictAccess to ${group.groupSmtp}` };
    });
  }

  private stepSecret(ctx: JobContext, names: DerivedNames, app: { appObjectId: string; appId: string; created: boolean }, input: ProvisionInput & { secretValidYears: number }) {
    const { directory, journal, clock, secretSink } = this.deps;
    const jobId = ctx.job.id;
    return this.step<{ keyId?: string; endDateTime?: string; clamped?: boolean; maxLifetime?: string | null; delivered?: boolean; skipped?: boolean }>(
      ctx,
      'secret',
      async (_attempt, record) => {
        const current = await newObjectRead(() => directory.getApplication(app.appObjectId), app.created, 'waiting for Microsoft to replicate the new app registration');
        if (!current) throw new OpterError('E_NOT_FOUND', { transient: true, retryReason: 'waiting for Microsoft to replicate the new app registration' });

        // Crash recovery: a secret created by an earlier attempt whose plaintext never reached the sink is useless
        // (nobody can read it again) — remove it before making the one we will deliver.
        // Secrets that existed before this step's first addPassword are never orphans, however close their start
        // time is to ours (a re-run with newSecret right after an earlier setup).
        const existedBefore = new Set(Array.isArray(record.outputs.existingKeyIds) ? (record.outputs.existingKeyIds as string[]) : []);
        const orphans = findOrphanSecrets(record.outputs, current.passwordCredentials, names.secretDisplayName).filter(
          (keyId) => !secretSink.holds(jobId, keyId) && !existedBefore.has(keyId),
        );
        const deliveredEarlier = typeof record.outputs.keyId === 'string' && !orphans.includes(record.outputs.keyId) && secretSink.holds(jobId, record.outputs.keyId);
        if (deliveredEarlier) {
          // Killed after the sink took the secret but before the step was marked done: it is ours and delivered.
          const keyId = record.outputs.keyId as string;
          const endDateTime = String(record.outputs.endDateTime ?? '');
          return { out: { keyId, endDateTime, clamped: false, maxLifetime: null, delivered: true }, summary: `Secret created (expires ${endDateTime})` };
        }
        for (const keyId of orphans) {
          await directory.removePassword(app.appObjectId, keyId);
          ctx.notes.push(`Removed an undelivered secret (${keyId}) left by an interrupted run.`);
        }
        if (orphans.length) journal.recordStepOutputs(jobId, 'secret', { keyId: null, removedOrphans: orphans });

        const now = clock.now();
        const live = current.passwordCredentials.filter(
          (c) => c.displayName === names.secretDisplayName && new Date(c.endDateTime) > now && !orphans.includes(c.keyId),
        );
        if (live.length && !input.newSecret && !app.created) {
          const latest = live.sort((a, b) => b.endDateTime.localeCompare(a.endDateTime))[0];
          return {
            out: { skipped: true },
            summary: `Existing secret kept (expires ${latest.endDateTime}); ask for a new secret to create another`,
          };
        }

        const maxLifetime = await governingMaxLifetime(directory, current, now).catch((e: unknown) => {
          // Reading the policy needs Policy.Read.All; without it we still try, and addPassword reports a policy breach.
          if (e instanceof OpterError && e.code === 'E_GRAPH_PERMISSION') {
            ctx.notes.push('Could not read the tenant app-management policy (Policy.Read.All missing); the requested lifetime was used as is.');
            return null;
          }
          throw e;
        });
        const life = secretLifetime(now, input.secretValidYears, maxLifetime);
        const endDateTime = formatRoundTripUtc(life.endDateTime);
        if (!Array.isArray(record.outputs.existingKeyIds)) {
          journal.recordStepOutputs(jobId, 'secret', { existingKeyIds: current.passwordCredentials.map((c) => c.keyId).filter((k) => !orphans.includes(k)) });
        }
        journal.recordStepOutputs(jobId, 'secret', { pendingSince: now.toISOString(), keyId: null, delivered: false });
        const created = await newObjectRead(
          () => directory.addPassword(app.appObjectId, { displayName: names.secretDisplayName, endDateTime }),
          app.created,
          'waiting for Microsoft to replicate the new app registration',
        );
        // keyId first: if we die before the sink has it, the next run finds and removes this credential.
        journal.recordStepOutputs(jobId, 'secret', { keyId: created.keyId, endDateTime: created.endDateTime, delivered: false });
        await secretSink.deliver({ jobId, appId: app.appId, appObjectId: app.appObjectId, keyId: created.keyId, secretText: created.secretText, endDateTime: created.endDateTime });
        journal.recordStepOutputs(jobId, 'secret', { delivered: true });
        ctx.secretText = created.secretText;
        if (life.clamped) {
          ctx.notes.push(`The secret lifetime was shortened to the tenant policy maximum (${life.maxLifetime}): it expires ${endDateTime} instead of ${formatRoundTripUtc(life.requestedEnd)}.`);
        }
        return {
          out: { keyId: created.keyId, endDateTime, clamped: life.clamped, maxLifetime: life.maxLifetime, delivered: true },
          summary: `Secret created (expires ${endDateTime}${life.clamped ? ', shortened to the tenant policy' : ''})`,
        };
      },
    );
  }

  /**
   * The sign-in proof of the secret this job made: only the run that created it holds its value (it is never
   * persisted), so a resumed job cannot run it and says so. A job that kept the existing secret made none to prove.
   */
  private signInProof(ctx: JobContext, secret: { keyId?: string }): SignInProof {
    if (!secret.keyId) return null;
    if (!this.deps.appSignIn) return { notRunBecause: 'no app sign-in is configured' };
    return {
      secretText: ctx.secretText,
      notRunBecause: 'the secret was created by an earlier run of this job, which alone held its value (the job was resumed)',
    };
  }

  /**
   * `groupMembers`: everyone in the group after the job (the control mailbox must not be one of them). `own`: the
   * registration's group, so that senders of other registrations can be proven Denied for this app.
   */
  private async stepVerify(ctx: JobContext, appId: string, senders: string[], signIn: SignInProof, groupMembers: string[], own: { names: DerivedNames; groupIdentity: string }) {
    return this.step<{ checks: VerificationCheck[] }>(ctx, 'verify', async () => {
      const checks: VerificationCheck[] = [];
      const record = (c: VerificationCheck) => {
        checks.push(c);
        ctx.emit(checkEvent(ctx.job.id, c, this.deps.clock.now()));
      };
      for (const s of senders) record(await this.expectAccess(appId, s, 'Granted'));
      const problem = controlMailboxProblem(this.deps.controlMailbox, groupMembers);
      record(problem ? restrictionNotTested(problem) : await this.expectAccess(appId, this.deps.controlMailbox!, 'Denied'));
      // The other direction: this app may not send as another registration's senders (a group shared by mistake).
      const control = this.deps.controlMailbox;
      for (const f of await sendersOfOtherRegistrations(this.deps, { ...own, appId })) {
        if (f.mailbox.toLowerCase() !== control?.toLowerCase()) record(await this.expectAccess(appId, f.mailbox, 'Denied', ` (sender of "${f.owner}")`));
      }
      if (signIn?.secretText && this.deps.appSignIn) record(await this.checkSignIn(appId, signIn.secretText));
      else if (signIn) record(skippedCheck('Token as the new app', signIn.notRunBecause));
      return { out: { checks }, summary: verdict(checks) };
    });
  }

  private async expectAccess(appId: string, mailbox: string, expected: 'Granted' | 'Denied', label = ''): Promise<VerificationCheck> {
    const name = `Test-ApplicationAccessPolicy ${mailbox}${label}`;
    const refusal = expected === 'Denied' ? { provesRestriction: true } : {};
    try {
      const result = await withRetry(
        async () => {
          const r = await this.deps.exchange.testApplicationAccessPolicy(appId, mailbox);
          if (r !== expected) {
            throw new OpterError('E_VERIFY_FAILED', { transient: true, detail: `${r}, expected ${expected}`, retryReason: 'waiting for Exchange to apply the access policy' });
          }
          return r;
        },
        this.verifyPolicy,
        { clock: this.deps.clock, random: this.deps.random },
      );
      return { name, ok: true, detail: `${result} (expected ${expected})`, ...refusal };
    } catch (e) {
      const err = toOpterError(e);
      return { name, ok: false, detail: err.detail ?? err.message, ...refusal };
    }
  }

  private async checkSignIn(appId: string, secretText: string): Promise<VerificationCheck> {
    const name = 'Token as the new app';
    try {
      const { roles } = await withRetry(() => this.deps.appSignIn!.acquireGraphToken(appId, secretText), this.verifyPolicy, {
        clock: this.deps.clock,
        random: this.deps.random,
      });
      const ok = roles.includes('Mail.Send');
      return { name, ok, detail: ok ? 'signed in with the new secret; token carries Mail.Send' : `signed in, but the token lacks Mail.Send (roles: ${roles.join(', ') || 'none'})` };
    } catch (e) {
      const err = toOpterError(e);
      return { name, ok: false, detail: `${err.code}: ${err.detail ?? err.message}` };
    }
  }

  // ------------------------------------------------------------------------------------------------------------
  // Add sender(s) to an existing registration's group
  // ------------------------------------------------------------------------------------------------------------

  private async runAddSender(ctx: JobContext): Promise<ProvisionResult> {
    const input = ctx.job.input as AddSendersInput;
    const names = deriveNames(input.appDisplayName, input.overrides);
    const validated = await this.stepValidate(ctx, input.senders);
    const senders = validated.senders as string[];
    const where = await this.step<{
      appObjectId: string;
      appId: string;
      spObjectId: string;
      groupIdentity: string;
      groupSmtp: string;
      groupObjectId: string | null;
      scoping?: string;
      hasGraphMailSend?: boolean;
      exoSpObjectId?: string | null;
      unchecked?: string[];
    }>(
      ctx,
      'locate',
      async () => {
        const apps = (await this.deps.directory.findApplicationsByDisplayName(names.appDisplayName)).filter((a) => a.displayName === names.appDisplayName);
        if (apps.length === 0) throw new OpterError('E_NOT_FOUND', { detail: `no app registration named "${names.appDisplayName}" — set it up first.` });
        const app = apps.find((a) => a.uniqueName === uniqueNameFor(names)) ?? (apps.length === 1 ? apps[0] : undefined);
        if (!app) throw new OpterError('E_APP_NAME_AMBIGUOUS', { detail: `${apps.length} registrations are named "${names.appDisplayName}"` });
        const sp = await this.deps.directory.getServicePrincipalByAppId(app.appId);
        const group = await this.deps.exchange.getDistributionGroup(names.groupAlias);
        if (!group) throw new OpterError('E_NOT_FOUND', { detail: `the group ${names.groupAlias} does not exist — run set up again to repair it.` });
        // A new member can send through every app scoped to the group: it must be this registration's alone.
        await assertGroupIsOurs(this.deps, names);
        assertOurGroup(group, names);
        // The scoping model decides how the new senders are verified (access policy vs RBAC for Applications).
        const facts = await readRegistration(this.deps, names, { appId: app.appId });
        if (facts && !facts.rbacChecked && facts.scoping === 'unscoped') {
          // No access policy, and RBAC cannot be read: nothing tells how the senders are scoped, so nothing to verify.
          throw new OpterError('E_EXCHANGE_PERMISSION', {
            detail: `${names.appDisplayName} has no Application Access Policy, so it is scoped by RBAC for Applications (or not at all), and the provisioning identity may not read RBAC for Applications (Role Management role).`,
          });
        }
        return {
          out: {
            appObjectId: app.id,
            appId: app.appId,
            spObjectId: sp?.id ?? '',
            groupIdentity: group.identity,
            groupSmtp: group.primarySmtpAddress,
            groupObjectId: group.externalDirectoryObjectId,
            scoping: facts?.scoping ?? 'access-policy',
            hasGraphMailSend: !!facts?.graphMailSend,
            exoSpObjectId: facts?.exchangeServicePrincipal?.objectId ?? null,
            unchecked: facts?.unchecked ?? [],
          },
          summary: `Found ${app.displayName} (client id ${app.appId}) and group ${group.primarySmtpAddress}`,
        };
      },
    );
    const unchecked = where.unchecked ?? [];
    ctx.notes.push(...unchecked);
    const members = await this.step<{ membersAdded: string[]; members?: string[] }>(ctx, 'members', async () => {
      const group = await this.deps.exchange.getDistributionGroup(where.groupIdentity);
      if (!group) throw new OpterError('E_NOT_FOUND', { detail: `the group ${where.groupSmtp} disappeared` });
      const { added, members: after } = await this.ensureMembers(group, senders, false);
      return { out: { membersAdded: added, members: after }, summary: added.length ? `Added ${added.join(', ')}` : 'All senders were already members' };
    });
    // Earlier senders are in the group too: a control mailbox among them cannot show the restriction.
    const groupMembers = members.members ?? senders;
    let verify: { checks: VerificationCheck[] };
    if (where.scoping === 'rbac' && where.exoSpObjectId) {
      verify = await stepVerifyRbac(this.runtimeFor(ctx), {
        exoSpIdentity: where.exoSpObjectId,
        spObjectId: where.spObjectId,
        appId: where.appId,
        senders,
        groupMembers,
        signIn: null,
        ownGroup: { names, groupIdentity: where.groupIdentity },
      });
      ctx.notes.push(RBAC_PROPAGATION_NOTE);
    } else if (where.scoping === 'mixed') {
      // Half-way through a migration either path may carry the mail: check the union.
      const rt = this.runtimeFor(ctx);
      const loc = { appId: where.appId, hasGraphMailSend: !!where.hasGraphMailSend, scoping: 'mixed' as const, exoSpObjectId: where.exoSpObjectId ?? null };
      verify = await this.step<{ checks: VerificationCheck[] }>(ctx, 'verify', async () => {
        const checks: VerificationCheck[] = [];
        for (const s of senders) checks.push(await expectSend(rt, loc, s, true));
        checks.push(await expectControlRefused(rt, loc, groupMembers));
        return { out: { checks }, summary: verdict(checks) };
      });
      ctx.notes.push(ENFORCEMENT_NOTE, RBAC_PROPAGATION_NOTE);
    } else {
      verify = await this.stepVerify(ctx, where.appId, senders, null, groupMembers, { names, groupIdentity: where.groupIdentity });
      ctx.notes.push(ENFORCEMENT_NOTE);
    }
    return {
      jobId: ctx.job.id,
      tenantId: this.deps.directory.tenantId,
      names,
      appObjectId: where.appObjectId,
      clientId: where.appId,
      spObjectId: where.spObjectId,
      groupSmtp: where.groupSmtp,
      groupObjectId: where.groupObjectId,
      senders,
      created: { app: false, servicePrincipal: false, grant: false, group: false, policy: false },
      membersAdded: members.membersAdded,
      secret: null,
      checks: verify.checks.filter((c) => !c.name.startsWith('Token')),
      notes: [...new Set(ctx.notes)],
      scoping: where.scoping === 'rbac' ? 'rbac' : 'access-policy',
      ...(unchecked.length ? { unchecked } : {}),
    };
  }
}

// --------------------------------------------------------------------------------------------------------------
// helpers
// --------------------------------------------------------------------------------------------------------------

async function settleBoth<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [ra, rb] = await Promise.allSettled([a, b]);
  if (ra.status === 'rejected') throw ra.reason;
  if (rb.status === 'rejected') throw rb.reason;
  return [ra.value, rb.value];
}

function checkEvent(jobId: string, c: VerificationCheck, at: Date): ProgressEvent {
  return { type: 'check', jobId, name: c.name, ok: c.ok, detail: c.detail, ...(c.skipped ? { skipped: true } : {}), at: at.toISOString() };
}

function collectNotes(steps: StepRecord[]): string[] {
  return steps.flatMap((s) => (Array.isArray(s.outputs.notes) ? (s.outputs.notes as string[]) : []));
}

export function isErrorCode(e: unknown, code: ErrorCode): boolean {
  return e instanceof OpterError && e.code === code;
}
