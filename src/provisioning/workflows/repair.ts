/**
 * The repair workflow: re-run the ensure activities of an existing registration (never creates a secret), with its
 * senders and scoping model taken from the journal (activities/registration.ts planRepair).
 */
import { z } from 'zod';
import { OpterError } from '../../core/errors';
import { planRepair } from '../activities/registration';
import { deriveNames, type NameOverrides } from '../names';
import { provisionRegistration, type ProvisionResult } from './provision';
import { nameOverridesSchema, type Workflow } from './workflow';

/** Repair re-runs the ensure steps for an existing registration (senders and scoping come from the journal). */
export interface RepairInput {
  appDisplayName: string;
  overrides?: NameOverrides;
}

export const REPAIR_STEPS = ['locate', 'validate', 'app', 'servicePrincipal', 'grant', 'group', 'policy', 'verify'] as const;

const repairInput: z.ZodType<RepairInput> = z.looseObject({ appDisplayName: z.string(), overrides: nameOverridesSchema.optional() });

export const repairWorkflow: Workflow<RepairInput, ProvisionResult> = {
  kind: 'repair',
  input: repairInput,
  prepare: (input) => {
    const appDisplayName = (input.appDisplayName ?? '').trim();
    if (!appDisplayName) throw new OpterError('E_INPUT_INVALID', { detail: 'The app display name is empty.', field: 'appName' });
    deriveNames(appDisplayName, input.overrides);
    return { input: { appDisplayName, ...(input.overrides ? { overrides: input.overrides } : {}) } };
  },
  async run(rt) {
    const names = deriveNames(rt.input.appDisplayName, rt.input.overrides);
    const plan = await planRepair(rt, names);
    return provisionRegistration(rt, { names, senders: plan.senders, scoping: plan.intendedScoping, secret: null });
  },
};
