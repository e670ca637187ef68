/**
 * A new action, written the way README.md in src/actions says: this one folder, nothing else. "verify <app>"
 * re-checks a registration with its own job kind and its own workflow (workflow.ts: find it, verify it, change
 * nothing) and audits the checks. new-action.test.ts adds it to the registry with one line and drives it from a typed
 * message (its request stage) through approval, the runner and the engine.
 */
import { z } from 'zod';
import { lifecycleBasePlan, lifecyclePayload, lifecycleRequestResult, lifecycleResultCardOf, lifecycleTarget, checkLines } from '../../../src/actions/common';
import { registrationFor, targetOf } from '../../../src/actions/requests';
import { appName } from '../../../src/actions/text';
import { defineAction } from '../../../src/actions/types';
import { VERIFY_STEPS, verifyWorkflow, type VerifyInput } from './workflow';

export const verifyRegistration = defineAction({
  kind: 'verify-registration',
  label: 'Verify a registration',
  command: {
    words: ['verify'],
    parse({ phrase }) {
      const m = /^verify\s+(.+)$/i.exec(phrase);
      return m ? ({ kind: 'verify-registration', app: appName(m[1]) } as const) : null;
    },
  },
  // Typed "verify <app>": the registration it names, read fresh from the tenant; the request carries its target.
  request: {
    async fromCommand(ctx, command) {
      const picked = await registrationFor(ctx, { app: command.app, example: (n) => `verify ${n}` });
      if ('error' in picked) return picked;
      return { payload: { ...targetOf(picked.registration) }, facts: [{ title: 'App', value: picked.registration.appDisplayName }] };
    },
  },
  help: { command: 'verify', example: 'verify OpterMessageProxy', what: 'Check a registration again, changing nothing.', who: 'admin' },
  payload: lifecyclePayload.and(z.looseObject({ reason: z.string().optional() })),
  approval: { variant: 'repair', plan: (p) => ({ ...lifecycleBasePlan(p), drift: [] }) },
  // Locates and verifies: it writes nothing in the tenant.
  roleNeeds: [],
  progress: {
    title: (r) => `Verifying ${r.payload.appName}`,
    steps: () => VERIFY_STEPS,
    // Its own words for a step (the others keep the card's titles).
    stepTitles: { verify: 'Check who may send, changing nothing' },
  },
  workflow: verifyWorkflow,
  job: {
    input: (p): VerifyInput => lifecycleTarget(p),
    start: (engine, input, key) => engine.createJob('verify-registration', input, key),
  },
  settlement: {
    resultFields: (ctx) => lifecycleRequestResult(ctx),
    settle({ request, result, audit, post }) {
      audit({ action: 'registration.verified', objects: { appId: result.clientId }, detail: checkLines(result.checks) || null });
      post('result-post', `result-post:${request.id}`);
    },
    resultCard: (request) =>
      lifecycleResultCardOf(request, (model) => {
        model.title = `${request.payload.appName} was verified`;
        model.summary = 'Nothing was changed.';
      }),
  },
  runsBesideAWaitingMigration: true,
  cli: { lines: () => ['Verified.'] },
  audit: { what: (p) => `verify ${p.appName}` },
});
