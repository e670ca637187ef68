/**
 * "migrate <app> to RBAC": from the Application Access Policy to RBAC for Applications, in an order that keeps mail
 * flowing; the job waits on purpose for Exchange's permission cache before it removes the old grant and policy.
 */
import { checkLine } from '../../provisioning';
import { MIGRATE_STEPS, migrateWorkflow } from '../../provisioning';
import type { MigrateInput } from '../../provisioning';
import { checkLines, lifecycleBasePlan, lifecyclePayload, lifecycleResultCardOf, lifecycleRequestResult, lifecycleTarget, migrationView } from '../common';
import { appName } from '../text';
import { defineAction } from '../types';
import { migrateRequest } from './request';

export const migrateRbac = defineAction({
  kind: 'migrate-rbac',
  label: 'Migrate to RBAC for Applications',
  command: {
    words: ['migrate to rbac'],
    parse({ phrase }) {
      const migrate = /^migrate(?:\s+(.+?))?\s+to\s+rbac(?:\s+for\s+applications)?$/i.exec(phrase);
      return migrate ? ({ kind: 'migrate', app: appName(migrate[1]) } as const) : null;
    },
  },
  help: {
    command: 'migrate to RBAC',
    example: 'migrate OpterMessageProxy to RBAC',
    what: 'Move a registration from the Application Access Policy to RBAC for Applications, with a plan that keeps mail flowing.',
    who: 'admin',
  },
  request: migrateRequest,
  payload: lifecyclePayload,
  approval: { variant: 'migrate-rbac', plan: (p) => ({ ...lifecycleBasePlan(p), ...(p.plan ? { migration: migrationView(p.plan) } : {}) }) },
  // Organization customization, the Exchange service principal, the role assignment and the access policy's removal; then the Graph Mail.Send grant's removal.
  roleNeeds: ['exchange', 'graph-grant'],
  progress: { title: (r) => `Migrating ${r.payload.appName} to RBAC for Applications`, steps: () => MIGRATE_STEPS },
  workflow: migrateWorkflow,
  job: {
    input: (p, settings): MigrateInput => ({ ...lifecycleTarget(p), settleMinutes: p.settleMinutes ?? settings.migrationSettleMinutes }),
    start: (engine, input, key) => engine.createJob('migrate-rbac', input, key),
  },
  settlement: {
    resultFields: (ctx) => ({ ...lifecycleRequestResult(ctx, { scoping: 'rbac' }), removedGraphGrant: ctx.result.removedGraphGrant, removedPolicies: ctx.result.removedPolicies }),
    settle({ request, result, audit, post }) {
      audit({
        action: 'registration.migrated',
        objects: { appId: result.clientId, groupSmtp: result.groupSmtp },
        detail: `Now RBAC for Applications only: Graph grant ${result.removedGraphGrant ? 'removed' : 'was not there'}, ${result.removedPolicies?.length ?? 0} access polic${result.removedPolicies?.length === 1 ? 'y' : 'ies'} removed. ${checkLines(result.checks)}`,
      });
      post('result-post', `result-post:${request.id}`);
    },
    resultCard: (request) =>
      lifecycleResultCardOf(request, (model, r) => {
        model.title = `${request.payload.appName} now uses RBAC for Applications`;
        model.summary = `The Graph Mail.Send grant ${r.removedGraphGrant ? 'was removed' : 'was already gone'} and ${r.removedPolicies?.length ? 'the Application Access Policy was removed' : 'no access policy was left'}; the Exchange role assignment scoped to ${r.groupSmtp} carries the mail.`;
      }),
  },
  // A second migration, or anything else beside a waiting one, would work on the same objects as the first.
  runsBesideAWaitingMigration: false,
  cli: {
    lines({ result: r }) {
      return [
        `Migrated ${r.appId} to RBAC for Applications (role assignment "${r.roleAssignmentName}", scope ${r.groupSmtp}).`,
        `Graph Mail.Send grant removed: ${r.removedGraphGrant ? 'yes' : 'there was none'}; access policies removed: ${r.removedPolicies.length}.`,
        ...r.checks.map((c) => `  ${checkLine(c)}`),
      ];
    },
    registrationLines(r) {
      if (r.migration?.state === 'waiting') return [`  Migration    : to RBAC, waiting for Exchange's permission cache; continues after ${r.migration.until ?? 'the wait'} (run "opter-mail resume" then)`];
      if (r.migration?.state === 'running') return [`  Migration    : to RBAC, running (job ${r.migration.jobId})`];
      return [];
    },
  },
  audit: { what: (p) => `migrate ${p.appName} to RBAC for Applications` },
});
