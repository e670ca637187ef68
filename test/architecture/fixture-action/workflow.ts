/**
 * The fixture action's own workflow (job kind `verify-registration`), written only with what src/provisioning
 * exports: find the registration, then run the verification checks of the paths it has. Nothing is changed.
 */
import { z } from 'zod';
import { OpterError } from '../../../src/core/errors';
import {
  locatedFacts,
  locatedFactsSchema,
  nameOverridesSchema,
  namesOf,
  stepLocate,
  verificationCheckSchema,
  verifyEitherPath,
  type LocatedFacts,
  type NameOverrides,
  type VerificationCheck,
  type Workflow,
} from '../../../src/provisioning';

export interface VerifyInput {
  appDisplayName: string;
  overrides?: NameOverrides;
}

export interface VerifyResult {
  kind: 'verify-registration';
  located: LocatedFacts;
  checks: VerificationCheck[];
  notes: string[];
}

export const VERIFY_STEPS = ['locate', 'verify'] as const;

export const verifyWorkflow: Workflow<VerifyInput, VerifyResult> = {
  kind: 'verify-registration',
  input: z.looseObject({ appDisplayName: z.string(), overrides: nameOverridesSchema.optional() }),
  result: z.looseObject({ kind: z.literal('verify-registration'), located: locatedFactsSchema, checks: z.array(verificationCheckSchema), notes: z.array(z.string()) }),
  prepare(input) {
    const appDisplayName = (input.appDisplayName ?? '').trim();
    if (!appDisplayName) throw new OpterError('E_INPUT_INVALID', { detail: 'The app display name is empty.', field: 'appName' });
    return { input: { appDisplayName, ...(input.overrides ? { overrides: input.overrides } : {}) } };
  },
  async run(rt) {
    const loc = await stepLocate(rt, namesOf(rt.input), { requireGroup: true });
    const verify = await verifyEitherPath(rt, loc, loc.senders, loc.senders);
    return { kind: 'verify-registration', located: locatedFacts(loc), checks: verify.checks, notes: [...rt.notes] };
  },
};
