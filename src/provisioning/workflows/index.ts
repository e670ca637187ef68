/**
 * One workflow per built-in job kind. The engine runs a job by looking its kind up in the table it was given: this
 * one by default; in the product the registry's (src/actions), in which each action names its workflow, these for
 * the built-in actions.
 */
import type { z } from 'zod';
import type { AddSendersInput } from './add-sender';
import { addSenderWorkflow } from './add-sender';
import { adoptWorkflow } from './adopt';
import { migrateWorkflow } from './migrate-rbac';
import { provisionWorkflow, type ProvisionInput, type ProvisionResult, type StoredProvisionInput } from './provision';
import { removeSenderWorkflow } from './remove-sender';
import { repairWorkflow, type RepairInput } from './repair';
import { retireSecretsWorkflow, type RetireSecretsRequest } from './retire-secrets';
import { rotateSecretWorkflow } from './rotate-secret';
import { testEmailWorkflow } from './test-email';
import type { JobKind, Workflow } from './workflow';
import type { AdoptInput, AdoptResult } from '../registry';
import type { MigrateInput, MigrateResult, StoredMigrateInput } from '../migrate';
import type { RemoveSendersInput, RemoveSendersResult } from '../remove-sender';
import type { RetireSecretsInput, RetireSecretsResult, RotateSecretInput, RotateSecretResult, StoredRotateSecretInput } from '../rotate';
import type { TestEmailInput, TestEmailResult } from '../test-email';

/** Per kind: what a caller passes to create the job, the input the journal holds, and the result of a run. */
export interface JobTypes {
  provision: { create: ProvisionInput; input: StoredProvisionInput; result: ProvisionResult };
  'add-sender': { create: AddSendersInput; input: AddSendersInput; result: ProvisionResult };
  repair: { create: RepairInput; input: RepairInput; result: ProvisionResult };
  'remove-sender': { create: RemoveSendersInput; input: RemoveSendersInput; result: RemoveSendersResult };
  'migrate-rbac': { create: MigrateInput; input: StoredMigrateInput; result: MigrateResult };
  'rotate-secret': { create: RotateSecretInput; input: StoredRotateSecretInput; result: RotateSecretResult };
  'retire-secrets': { create: RetireSecretsRequest; input: RetireSecretsInput; result: RetireSecretsResult };
  'test-email': { create: TestEmailInput; input: TestEmailInput; result: TestEmailResult };
  adopt: { create: AdoptInput; input: AdoptInput; result: AdoptResult };
}

export type WorkflowOf<K extends JobKind> = Workflow<JobTypes[K]['input'], JobTypes[K]['result'], JobTypes[K]['create']>;

export const WORKFLOWS: { readonly [K in JobKind]: WorkflowOf<K> } = {
  provision: provisionWorkflow,
  'add-sender': addSenderWorkflow,
  repair: repairWorkflow,
  'remove-sender': removeSenderWorkflow,
  'migrate-rbac': migrateWorkflow,
  'rotate-secret': rotateSecretWorkflow,
  'retire-secrets': retireSecretsWorkflow,
  'test-email': testEmailWorkflow,
  adopt: adoptWorkflow,
};

/** A workflow of any kind, as a table holds it. */
export type AnyWorkflow = Workflow<unknown, unknown, unknown>;

/** Job kind → its workflow (EngineDeps.workflows). */
export type WorkflowTable = Readonly<Record<string, AnyWorkflow>>;

/** A built-in kind (typed by JobTypes); a kind an action brings is a string the engine's table knows. */
/** A stored job's input decoded with its kind's workflow schema; null when it is another kind's or does not decode. */
export function jobInputOf<K extends JobKind>(job: { kind: string; input: unknown }, kind: K): JobTypes[K]['input'] | null {
  if (job.kind !== kind) return null;
  const decoded = (WORKFLOWS[kind].input as z.ZodType<JobTypes[K]['input']>).safeParse(job.input);
  return decoded.success ? decoded.data : null;
}

export const isJobKind = (kind: string): kind is JobKind => Object.hasOwn(WORKFLOWS, kind);

export type { JobKind, Workflow } from './workflow';
