/** Send a test message as the app with a temporary secret that is always removed again (activities: test-email.ts). */
import { z } from 'zod';
import { OpterError } from '../../core/errors';
import { locatedFacts, locatedFactsSchema, namesOf, stepLocate } from '../locate';
import { PROPAGATION_CAVEAT, sendTestMessage, validateTestEmailInput, type TestEmailInput, type TestEmailResult } from '../test-email';
import { nameOverridesSchema, type Workflow } from './workflow';

const input: z.ZodType<TestEmailInput> = z.looseObject({
  appDisplayName: z.string(),
  overrides: nameOverridesSchema.optional(),
  from: z.string(),
  to: z.string(),
  subject: z.string().optional(),
});

const result: z.ZodType<TestEmailResult> = z.looseObject({
  kind: z.literal('test-email'),
  appId: z.string(),
  located: locatedFactsSchema,
  from: z.string(),
  to: z.string(),
  ok: z.boolean(),
  layers: z.array(z.looseObject({ layer: z.enum(['token', 'scope', 'send']), ok: z.boolean(), detail: z.string() })),
  temporaryKeyRemoved: z.boolean(),
  notes: z.array(z.string()),
});

export const testEmailWorkflow: Workflow<TestEmailInput, TestEmailResult> = {
  kind: 'test-email',
  input,
  result,
  prepare: (i) => ({ input: validateTestEmailInput(i) }),
  async run(rt) {
    const names = namesOf(rt.input);
    if (!rt.ports.appSignIn) throw new OpterError('E_INTERNAL', { detail: 'the test email needs app sign-in (AppSignInPort), which is not configured.' });
    const loc = await stepLocate(rt, names);
    const out = await sendTestMessage(rt, loc, names);
    rt.note(PROPAGATION_CAVEAT);
    return { kind: 'test-email', appId: loc.appId, located: locatedFacts(loc), from: rt.input.from, to: rt.input.to, ok: out.ok, layers: out.layers, temporaryKeyRemoved: out.temporaryKeyRemoved, notes: [...rt.notes] };
  },
};
