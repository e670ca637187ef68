/**
 * src/provisioning's public surface: code outside src/provisioning imports this file only (test/architecture
 * enforces it). Jobs: create with `engine.createJob(kind, input)` (the input typed by the kind's workflow;
 * validated, nothing called yet; pass `{ idempotencyKey: requestId }`), then `engine.run(jobId)`; a crashed or
 * waiting job is run again with the same call, and a succeeded one carries its typed result (`job.result`). Pure
 * helpers plan and decide without touching the tenant.
 */
export {
  ProvisioningEngine,
  PROVISION_STEPS,
  PROVISION_RBAC_STEPS,
  ADD_SENDER_STEPS,
  REPAIR_STEPS,
  MIGRATE_STEPS,
  ROTATE_STEPS,
  RETIRE_STEPS,
  REMOVE_SENDER_STEPS,
  TEST_EMAIL_STEPS,
  ADOPT_STEPS,
  storedProvisionResult,
  waitsForApprover,
  validateProvisionInput,
  type AddSendersInput,
  type CreateJobOptions,
  type EngineDeps,
  type JobTypes,
  type JobKind,
  type JobOutcome,
  type LifecycleResult,
  type ProvisionInput,
  type ProvisionResult,
  type RepairInput,
  type RunOptions,
} from './engine';
export { DIRECTORY_ACCESS, EXCHANGE_ACCESS, routeWrites, type ExchangeAccessPort, type WriteAccess } from './write-access';
export { SCOPING_MODELS, type ScopingModel, type VerificationCheck } from './runtime';

// The workflows of the built-in job kinds (each action names the one it runs) and what a new one is written with
export { jobInputOf, WORKFLOWS, type AnyWorkflow, type Workflow, type WorkflowTable } from './workflows';
export { provisionWorkflow } from './workflows/provision';
export { addSenderWorkflow } from './workflows/add-sender';
export { repairWorkflow } from './workflows/repair';
export { removeSenderWorkflow } from './workflows/remove-sender';
export { migrateWorkflow } from './workflows/migrate-rbac';
export { rotateSecretWorkflow } from './workflows/rotate-secret';
export { retireSecretsWorkflow } from './workflows/retire-secrets';
export { testEmailWorkflow } from './workflows/test-email';
export { adoptWorkflow } from './workflows/adopt';

// What a workflow outside the engine is written with (an action's own, see src/actions/README.md): the step runtime,
// the activities that find a registration and verify it (changing nothing), and the schemas of their results.
export { locatedFacts, locatedFactsSchema, namesOf, stepLocate, type LocatedFacts, type LocatedRegistration } from './locate';
export { verifyEitherPath } from './activities/verify';
export { nameOverridesSchema, recordedChecksOf, registrationInputOf, verificationCheckSchema } from './workflows/workflow';
export { type JobRuntime } from './runtime';

// Scoping and RBAC for Applications
export { DIRECT_MEMBERS_NOTE, GRAPH_GRANT_REMOVAL_REASON, RBAC_PROPAGATION_NOTE } from './rbac';
export { readRegistration, type RegistrationFacts, type ScopingState } from './registration';

// Migration: the plan (pure) and the read that feeds it
export { DEFAULT_SETTLE_MINUTES, inspectMigration, migrationStateFrom, planMigration, type MigrateInput, type MigrateResult, type MigrationPlan, type MigrationPlanStep, type MigrationState } from './migrate';

// Secrets: rotation, retirement, expiry reminders
export {
  DEFAULT_OVERLAP_DAYS,
  findDueRetirements,
  pendingRotation,
  retirementAllowedAt,
  type DueRetirement,
  type PreviousSecret,
  type RetireSecretsInput,
  type RetireSecretsResult,
  type RotateSecretInput,
  type RotateSecretResult,
} from './rotate';
export {
  REMINDER_THRESHOLDS_DAYS,
  applicableThreshold,
  dueExpiryReminders,
  reminderKey,
  secretsExpiringWithin,
  type ExpiryReminder,
  type RegistrationForReminder,
} from './expiry';

// Senders, test email, status/list/drift, adopt
export { type RemoveSendersInput, type RemoveSendersResult } from './remove-sender';
export { PROPAGATION_CAVEAT, TEST_SECRET_LIFETIME_MS, type TestEmailInput, type TestEmailResult, type TestLayer } from './test-email';
export { baselineFor, detectDrift, indexJournal, listRegistrations, looksLikeScript, type AdoptInput, type AdoptResult, type Baseline, type DriftItem, type DriftKind, type LastVerification, type RegistrationSummary } from './registry';

// Names, senders, secrets, checks and output: the pure helpers the cards, the bot and the CLI use
export { CARD_MARK, checkDetail, checkLine, checkState, describeChecks, tallyChecks, unverifiedNotice } from './check-results';
export { inspectRegistration } from './inspect';
export { DEFAULT_APP_DISPLAY_NAME, DEFAULT_SECRET_VALID_YEARS, type DerivedNames, type NameOverrides, deriveNames, formatDerivedNames, formatRoundTripUtc, nameWarnings, typedTextProblem } from './names';
export { checkSenderSyntax, checkSendersInTenant, describeSenderProblems, isValidAddress, parseSenderList, problemsToError } from './senders';
export { type GroupOwnership, groupOwnership, ownershipRefusal } from './ownership';
export { secretLifetime } from './lifetime';
export { checkSecretPolicy, secretsBlockedError } from './secret-policy';
export { type RegistrationSurvey, surveyRegistrations } from './registry';
export { type RetryPolicy, retryPolicyFromEnv } from './retry';
export { OUTPUT_LABELS, formatOutputBlock, outputFields, testHints, type OutputFields } from './output';
