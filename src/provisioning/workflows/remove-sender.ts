/** Remove sender(s) from the group, then prove each is refused (remove-sender.ts). */
import { z } from 'zod';
import { runRemoveSenders, validateRemoveSendersInput, type RemoveSendersInput, type RemoveSendersResult } from '../remove-sender';
import { nameOverridesSchema, type Workflow } from './workflow';

const input: z.ZodType<RemoveSendersInput> = z.looseObject({ appDisplayName: z.string(), senders: z.array(z.string()), overrides: nameOverridesSchema.optional() });

export const removeSenderWorkflow: Workflow<RemoveSendersInput, RemoveSendersResult> = {
  kind: 'remove-sender',
  input,
  prepare: (i) => ({ input: validateRemoveSendersInput(i) }),
  run: runRemoveSenders,
};
