/**
 * What the bot (and any other front door) calls. Jobs: create with `engine.createXJob(input)` (input validated, nothing
 * called yet; pass `{ idempotencyKey: requestId }`), then `engine.run(jobId)`; a crashed or waiting job is run again
 * with the same call. Pure helpers plan and decide without touching the tenant.
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
  validateProvisionInput,
  type AddSendersInput,
  type EngineDeps,
  type JobKind,
  type JobOutcome,
  type LifecycleResult,
  type ProvisionInput,
  type ProvisionResult,
  type RepairInput,
} from './engine';
export { SCOPING_MODELS, type ScopingModel, type VerificationCheck } from './runtime';

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
