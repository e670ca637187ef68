/**
 * The status card's Adopt (and `opter-mail adopt`): take over a registration made by Opter's script — record its
 * current state as the approved baseline and verify it. From then on drift is reported and repair restores it.
 */
import { checkLine } from '../../provisioning';
import { ADOPT_STEPS, adoptWorkflow } from '../../provisioning';
import type { AdoptInput } from '../../provisioning';
import { checkLines, lifecycleBasePlan, lifecyclePayload, lifecycleResultCardOf, lifecycleRequestResult, lifecycleTarget } from '../common';
import { defineAction } from '../types';
import { adoptRequest } from './request';

export const adopt = defineAction({
  kind: 'adopt',
  label: 'Adopt',
  command: null,
  help: null,
  request: adoptRequest,
  payload: lifecyclePayload,
  approval: { variant: 'adopt', plan: (p) => ({ ...lifecycleBasePlan(p), adoption: { scoping: p.scoping, senders: p.senders } }) },
  // Reads only: it records a baseline in our journal and verifies.
  roleNeeds: [],
  progress: { title: (r) => `Adopting ${r.payload.appName}`, steps: () => ADOPT_STEPS },
  workflow: adoptWorkflow,
  job: {
    input: (p): AdoptInput => lifecycleTarget(p),
    start: (engine, input, key) => engine.createJob('adopt', input, key),
  },
  settlement: {
    resultFields: (ctx) => lifecycleRequestResult(ctx),
    settle({ request, result, audit, post }) {
      audit({
        action: 'registration.adopted',
        objects: { appId: result.clientId, groupSmtp: result.groupSmtp },
        detail: `Baseline: ${result.senders.join(', ') || 'no senders'} (${result.scoping === 'rbac' ? 'RBAC for Applications' : 'Application Access Policy'}). ${checkLines(result.checks)}`,
      });
      post('result-post', `result-post:${request.id}`);
    },
    resultCard: (request) =>
      lifecycleResultCardOf(request, (model, r) => {
        model.title = `${request.payload.appName} is now managed by the bot`;
        model.summary = `Baseline recorded: ${(r.senders ?? []).join(', ') || 'no senders'}. From now on “status” reports drift, expiring secrets are reminded, and repair restores this state.`;
      }),
  },
  // Adopting beside a waiting migration would work on the same objects as the migration.
  runsBesideAWaitingMigration: false,
  cli: {
    lines({ result: r }) {
      return [`Adopted ${r.appId}: ${r.members.length} sender${r.members.length === 1 ? '' : 's'} in ${r.groupSmtp}, scoping ${r.scoping}.`, ...r.checks.map((c) => `  ${checkLine(c)}`)];
    },
  },
  audit: { what: (p) => `adopt ${p.appName} (made by the script)` },
});
