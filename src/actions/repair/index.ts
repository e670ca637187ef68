/**
 * The status card's Repair (and `opter-mail repair`): re-run the ensure steps of the registration's scoping model,
 * putting back what drifted from the approved state (never a secret). Members added outside the bot are removed by a
 * remove-sender request instead (lifecycle-requests.ts in the bot).
 */
import { PROVISION_RBAC_STEPS, REPAIR_STEPS, repairWorkflow, type RepairInput } from '../../provisioning';
import { checkLines, provisionRequestResult, type LifecycleRequestResult, lifecycleBasePlan, lifecyclePayload, lifecycleResultCardOf, lifecycleTarget } from '../common';
import { defineAction } from '../types';
import { repairRequest } from './request';

export const repair = defineAction({
  kind: 'repair',
  label: 'Repair',
  command: null,
  help: null,
  request: repairRequest,
  payload: lifecyclePayload,
  approval: { variant: 'repair', plan: (p) => ({ ...lifecycleBasePlan(p), drift: p.drift ?? [] }) },
  // The same ensure steps as setup (no secret): app, service principal, the Graph grant (or its removal with RBAC), group, members, scoping.
  roleNeeds: ['applications', 'graph-grant', 'exchange'],
  progress: {
    title: (r) => `Repairing ${r.payload.appName}`,
    // Repair re-runs the ensure steps of the registration's model (never a secret).
    steps: (r) => (r.payload.scoping === 'rbac' ? ['locate', ...PROVISION_RBAC_STEPS.filter((s) => s !== 'secret')] : REPAIR_STEPS),
  },
  workflow: repairWorkflow,
  job: {
    input: (p): RepairInput => lifecycleTarget(p),
    start: (engine, input, key) => engine.createJob('repair', input, key),
  },
  settlement: {
    // A repair runs the provision chain: its result is a ProvisionResult, told as a lifecycle request's.
    resultFields: ({ request, tenantId, result: r }): LifecycleRequestResult => ({ ...provisionRequestResult({ tenantId, result: r }), kind: request.kind, keyId: null, credentialEndDateTime: null, notes: r.notes }),
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
    lines({ result: r, notice }) {
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
