/** Send a test message as the app with a temporary secret that is always removed again (test-email.ts). */
import { z } from 'zod';
import { runTestEmail, validateTestEmailInput, type TestEmailInput, type TestEmailResult } from '../test-email';
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
  run: runTestEmail,
};
