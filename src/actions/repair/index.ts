/**
 * The status card's Repair (and `opter-mail repair`): re-run the ensure steps of the registration's scoping model,
 * putting back what drifted from the approved state (never a secret). Members added outside the bot are removed by a
 * remove-sender request instead (lifecycle-requests.ts in the bot).
 */
import { PROVISION_RBAC_STEPS, REPAIR_STEPS, type ProvisionResult, type RepairInput } from '../../provisioning';
import { checkLines, lifecycleBasePlan, lifecyclePayload, lifecycleResultCardOf, lifecycleResultFromSteps, lifecycleTarget } from '../common';
import { defineAction } from '../types';

export const repair = defineAction({
  kind: 'repair',
  label: 'Repair',
  command: null,
  help: null,
  payload: lifecyclePayload,
  approval: { variant: 'repair', plan: (p) => ({ ...lifecycleBasePlan(p), drift: p.drift ?? [] }) },
  progress: {
    title: (r) => `Repairing ${r.payload.appName}`,
    // Repair re-runs the ensure steps of the registration's model (never a secret).
    steps: (r) => (r.payload.scoping === 'rbac' ? ['locate', ...PROVISION_RBAC_STEPS.filter((s) => s !== 'secret')] : REPAIR_STEPS),
  },
  job: {
    input: (p): RepairInput => lifecycleTarget(p),
    start: (engine, input, key) => engine.createRepairJob(input, key),
  },
  settlement: {
    resultFields: (ctx) => lifecycleResultFromSteps(ctx),
    settle({ request, result, audit, post }) {
      audit({ action: 'registration.repaired', objects: { appId: result.clientId, groupSmtp: result.groupSmtp }, detail: checkLines(result.checks) || null });
      post('result-post', `result-post:${request.id}`);
    },
    resultCard: (request) =>
      lifecycleResultCardOf(request, (model, _r, notice) => {
        model.title = `${request.payload.appName} was repaired`;
        model.summary = notice ? 'Everything that was approved before is in place again.' : 'Everything that was approved before is in place again and verified.';
      }),
  },
  // While a migration is unfinished, repair keeps the access-policy objects (the migration removes those itself,
  // after the wait) and puts back the group, its members and the service principal; it never touches RBAC objects.
  runsBesideAWaitingMigration: true,
  cli: {
    lines({ result, notice }) {
      const r = result as ProvisionResult;
      return [`Repaired ${r.names.appDisplayName} (${r.scoping === 'rbac' ? 'RBAC for Applications' : 'Application Access Policy'}): senders ${r.senders.join(', ') || '(none)'} in ${r.groupSmtp}; ${notice ? 'not every check ran' : 'all checks passed'}.`];
    },
    registrationLines(r) {
      const lines = r.drift.map((d) => `  ! ${d.kind}: ${d.description}`);
      if (r.drift.length) lines.push(`  → opter-mail repair --app-name "${r.appDisplayName}"`);
      return lines;
    },
  },
  audit: { what: (p) => `repair ${p.appName}` },
});
