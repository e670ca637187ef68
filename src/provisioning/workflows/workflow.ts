/**
 * A workflow is one job kind's orchestration: pure sequencing of activities on the step runtime (runtime.ts), with
 * the input checks that run when the job is created and the schema that decodes its input from the journal.
 */
import { z } from 'zod';
import type { JournalPort } from '../../core/ports';
import type { NameOverrides } from '../names';
import type { JobRuntime, VerificationCheck } from '../runtime';

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

/**
 * `I`: the input as the journal holds it; `R`: what a successful run returns (stored as the job's result);
 * `C`: what a caller passes to create the job (defaults to `I`).
 */
export interface Workflow<I, R, C = I> {
  /** The job kind: a built-in JobKind, or the kind of an action that brings its own workflow. */
  readonly kind: string;
  /** Decodes the persisted input: the one place a job's JSON input becomes a typed value. */
  readonly input: z.ZodType<I>;
  /** Decodes the stored result (JobRecord.result) of a succeeded job: the one place it becomes a typed value. */
  readonly result: z.ZodType<R>;
  /**
   * Validates and normalises a caller's input before anything is called (throws input-category OpterErrors); may
   * name the idempotency key a job of this kind uses when the caller gives none.
   */
  prepare(input: C, journal: JournalPort): { input: I; idempotencyKey?: string };
  run(rt: JobRuntime<I>): Promise<R>;
}

export const nameOverridesSchema: z.ZodType<NameOverrides> = z.looseObject({
  secretDisplayName: z.string().optional(),
  groupName: z.string().optional(),
  groupAlias: z.string().optional(),
});

export const verificationCheckSchema: z.ZodType<VerificationCheck> = z.looseObject({
  name: z.string(),
  ok: z.boolean(),
  detail: z.string(),
  skipped: z.boolean().optional(),
  provesRestriction: z.boolean().optional(),
});

/** What every job kind's input has: the registration it is about. */
const registrationInputSchema = z.looseObject({
  appDisplayName: z.string(),
  overrides: nameOverridesSchema.optional(),
  /** provision only: the scoping model asked for. */
  scoping: z.enum(['access-policy', 'rbac']).optional(),
  /** retire-secrets only: the rotation it finishes. */
  rotateJobId: z.string().optional(),
});

export type RegistrationInput = z.infer<typeof registrationInputSchema>;

/** The registration a stored job input names, decoded (any kind); null when the input does not name one. */
export function registrationInputOf(job: { input: unknown }): RegistrationInput | null {
  const decoded = registrationInputSchema.safeParse(job.input);
  return decoded.success ? decoded.data : null;
}

const recordedChecksSchema = z.looseObject({ checks: z.array(verificationCheckSchema) });
const recordedLayersSchema = z.looseObject({ layers: z.array(z.looseObject({ layer: z.string(), ok: z.boolean(), detail: z.string() })) });

/**
 * The checks a verifying job recorded, decoded: its typed result's `checks` (a test email's `layers`, one check per
 * layer), else — for jobs stored before results were — its verify / testSend step output. Null when it recorded none.
 */
export function recordedChecksOf(
  job: { result?: unknown } | null,
  stepOutputs: (step: 'verify' | 'testSend') => unknown,
): { checks: VerificationCheck[]; testEmail: boolean } | null {
  const fromChecks = (value: unknown) => recordedChecksSchema.safeParse(value);
  const fromLayers = (value: unknown) => recordedLayersSchema.safeParse(value);
  const layersAsChecks = (layers: Array<{ layer: string; ok: boolean; detail: string }>) => layers.map((l) => ({ name: l.layer, ok: l.ok, detail: l.detail }));
  for (const [value, testEmail] of [
    [job?.result, false],
    [stepOutputs('verify'), false],
    [stepOutputs('testSend'), true],
  ] as const) {
    const checks = fromChecks(value);
    if (checks.success && checks.data.checks.length) return { checks: checks.data.checks, testEmail: testEmail || fromLayers(value).success };
    const layers = fromLayers(value);
    if (layers.success && layers.data.layers.length) return { checks: layersAsChecks(layers.data.layers), testEmail: true };
  }
  return null;
}
