/** Remove sender(s) from the group, then prove each is refused (the activities are in remove-sender.ts). */
import { z } from 'zod';
import { namesOf, stepLocate } from '../locate';
import { removeMembers, validateRemoveSendersInput, verifyRefused, type RemoveSendersInput, type RemoveSendersResult } from '../remove-sender';
import { nameOverridesSchema, type Workflow } from './workflow';

const input: z.ZodType<RemoveSendersInput> = z.looseObject({ appDisplayName: z.string(), senders: z.array(z.string()), overrides: nameOverridesSchema.optional() });

export const removeSenderWorkflow: Workflow<RemoveSendersInput, RemoveSendersResult> = {
  kind: 'remove-sender',
  input,
  prepare: (i) => ({ input: validateRemoveSendersInput(i) }),
  async run(rt) {
    const loc = await stepLocate(rt, namesOf(rt.input), { requireGroup: true });
    const members = await removeMembers(rt, loc, rt.input.senders);
    const verify = await verifyRefused(rt, loc, members.addresses);
    rt.note('Removal takes effect in Graph with a delay: access-policy changes can take longer than 1 hour, RBAC changes 30 minutes to 2 hours.');
    return {
      kind: 'remove-sender',
      appId: loc.appId,
      groupSmtp: loc.groupSmtp!,
      removed: members.removed,
      notMembers: members.notMembers,
      members: members.members,
      checks: verify.checks,
      notes: [...rt.notes],
    };
  },
};
