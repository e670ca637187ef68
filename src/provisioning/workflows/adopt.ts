/** Take over a registration made by the script: record its baseline and verify it (activities: registry.ts, activities/verify.ts). */
import { z } from 'zod';
import { verifyEitherPath } from '../activities/verify';
import { namesOf, stepLocate } from '../locate';
import { recordBaseline, validateAdoptInput, type AdoptInput, type AdoptResult } from '../registry';
import { nameOverridesSchema, type Workflow } from './workflow';

const input: z.ZodType<AdoptInput> = z.looseObject({ appDisplayName: z.string(), overrides: nameOverridesSchema.optional() });

export const adoptWorkflow: Workflow<AdoptInput, AdoptResult> = {
  kind: 'adopt',
  input,
  prepare: (i) => ({ input: validateAdoptInput(i) }),
  async run(rt) {
    const loc = await stepLocate(rt, namesOf(rt.input), { requireGroup: true, adopting: true });
    const base = await recordBaseline(rt, loc);
    // The senders Granted on the paths the registration has, and the control mailbox refused.
    const verify = await verifyEitherPath(rt, loc, loc.senders, loc.senders);
    return { kind: 'adopt', appId: loc.appId, groupSmtp: loc.groupSmtp!, scoping: base.intendedScoping, members: base.members, checks: verify.checks, notes: [...rt.notes] };
  },
};
