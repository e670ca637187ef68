/** Take over a registration made by the script: record its baseline and verify it (registry.ts). */
import { z } from 'zod';
import { runAdopt, validateAdoptInput, type AdoptInput, type AdoptResult } from '../registry';
import { nameOverridesSchema, type Workflow } from './workflow';

const input: z.ZodType<AdoptInput> = z.looseObject({ appDisplayName: z.string(), overrides: nameOverridesSchema.optional() });

export const adoptWorkflow: Workflow<AdoptInput, AdoptResult> = {
  kind: 'adopt',
  input,
  prepare: (i) => ({ input: validateAdoptInput(i) }),
  run: runAdopt,
};
