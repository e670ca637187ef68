/** Send a test message as the app with a temporary secret that is always removed again (activities: test-email.ts). */
import { z } from 'zod';
import { OpterError } from '../../core/errors';
import { namesOf, stepLocate } from '../locate';
import { PROPAGATION_CAVEAT, sendTestMessage, validateTestEmailInput, type TestEmailInput, type TestEmailResult } from '../test-email';
import { nameOverridesSchema, type Workflow } from './workflow';

const input: z.ZodType<TestEmailInput> = z.looseObject({
  appDisplayName: z.string(),
  overrides: nameOverridesSchema.optional(),
  from: z.string(),
  to: z.string(),
  subject: z.string().optional(),
});

export const testEmailWorkflow: Workflow<TestEmailInput, TestEmailResult> = {
  kind: 'test-email',
  input,
  prepare: (i) => ({ input: validateTestEmailInput(i) }),
  async run(rt) {
    const names = namesOf(rt.input);
    if (!rt.ports.appSignIn) throw new OpterError('E_INTERNAL', { detail: 'the test email needs app sign-in (AppSignInPort), which is not configured.' });
    const loc = await stepLocate(rt, names);
    const out = await sendTestMessage(rt, loc, names);
    rt.note(PROPAGATION_CAVEAT);
    return { kind: 'test-email', appId: loc.appId, from: rt.input.from, to: rt.input.to, ok: out.ok, layers: out.layers, temporaryKeyRemoved: out.temporaryKeyRemoved, notes: [...rt.notes] };
  },
};
