/** A new secret through the SecretSink; the old ones keep working until retired (rotate.ts). */
import { z } from 'zod';
import { runRotateSecret, validateRotateInput, type RotateSecretInput, type RotateSecretResult, type StoredRotateSecretInput } from '../rotate';
import { nameOverridesSchema, type Workflow } from './workflow';

const input: z.ZodType<StoredRotateSecretInput> = z.looseObject({
  appDisplayName: z.string(),
  overrides: nameOverridesSchema.optional(),
  secretValidYears: z.number(),
  overlapDays: z.number(),
});

export const rotateSecretWorkflow: Workflow<StoredRotateSecretInput, RotateSecretResult, RotateSecretInput> = {
  kind: 'rotate-secret',
  input,
  prepare: (i) => ({ input: validateRotateInput(i) }),
  run: runRotateSecret,
};
