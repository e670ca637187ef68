/**
 * A new action, written the way README.md in src/actions says: this one folder, nothing else. "verify <app>"
 * re-checks a registration (the engine's repair job, which changes nothing on a healthy one) and audits the checks.
 * new-action.test.ts adds it to the registry with one line and drives it through parsing, help, approval and the runner.
 */
import { z } from 'zod';
import { lifecycleBasePlan, lifecyclePayload, lifecycleResultCardOf, lifecycleResultFromSteps, lifecycleTarget, checkLines } from '../../../src/actions/common';
import { appName } from '../../../src/actions/text';
import { defineAction } from '../../../src/actions/types';
import { REPAIR_STEPS, type RepairInput } from '../../../src/provisioning/engine';

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
  help: { command: 'verify', example: 'verify OpterMessageProxy', what: 'Check a registration again, changing nothing.', who: 'admin' },
  payload: lifecyclePayload.and(z.looseObject({ reason: z.string().optional() })),
  approval: { variant: 'repair', plan: (p) => ({ ...lifecycleBasePlan(p), drift: [] }) },
  progress: { title: (r) => `Verifying ${r.payload.appName}`, steps: () => REPAIR_STEPS },
  job: {
    input: (p): RepairInput => lifecycleTarget(p),
    start: (engine, input, key) => engine.createRepairJob(input, key),
  },
  settlement: {
    resultFields: (ctx) => lifecycleResultFromSteps(ctx),
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
