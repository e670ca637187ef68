/** A new secret through the SecretSink; the old ones keep working until retired (the activities are in rotate.ts). */
import { z } from 'zod';
import { namesOf, stepLocate } from '../locate';
import { createRotatedSecret, validateRotateInput, verifyNewSecret, type RotateSecretInput, type RotateSecretResult, type StoredRotateSecretInput } from '../rotate';
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
  async run(rt) {
    const names = namesOf(rt.input);
    const loc = await stepLocate(rt, names);
    const secret = await createRotatedSecret(rt, loc, names);
    const verify = await verifyNewSecret(rt, loc);
    if (secret.previous.length) {
      rt.note(`The old secret${secret.previous.length === 1 ? '' : 's'} keep working until ${secret.overlapEndsAt}. Put the new secret into Opter, then retire the old one${secret.previous.length === 1 ? '' : 's'} ("retire old secrets"); they are retired automatically when the overlap ends.`);
    }
    return {
      kind: 'rotate-secret',
      appId: loc.appId,
      appObjectId: loc.appObjectId,
      keyId: secret.keyId,
      endDateTime: secret.endDateTime,
      clamped: secret.clamped,
      previous: secret.previous,
      overlapEndsAt: secret.overlapEndsAt,
      checks: verify.checks,
      notes: [...rt.notes],
    };
  },
};
