/**
 * Migrate an access-policy registration to RBAC for Applications without mail ever stopping (migrate.ts explains the
 * order and holds the activities): add and verify RBAC, wait for the permission cache, then remove the Graph grant
 * and the access policy, and verify again.
 */
import { z } from 'zod';
import { OpterError } from '../../core/errors';
import { groupOf, namesOf, stepLocate } from '../locate';
import { removeAccessPolicy, settlePermissionCache, validateMigrateInput, verifyMigrated, verifyRbacAdded, type MigrateInput, type MigrateResult, type StoredMigrateInput } from '../migrate';
import { RBAC_PROPAGATION_NOTE, stepExchangeServicePrincipal, stepOrganization, stepRemoveGraphGrant, stepRoleAssignment, type RbacTarget } from '../rbac';
import { nameOverridesSchema, type Workflow } from './workflow';

const input: z.ZodType<StoredMigrateInput> = z.looseObject({ appDisplayName: z.string(), overrides: nameOverridesSchema.optional(), settleMinutes: z.number() });

export const migrateWorkflow: Workflow<StoredMigrateInput, MigrateResult, MigrateInput> = {
  kind: 'migrate-rbac',
  input,
  prepare: (i) => ({ input: validateMigrateInput(i) }),
  async run(rt) {
    const names = namesOf(rt.input);
    const loc = await stepLocate(rt, names, { requireGroup: true });
    if (!loc.spObjectId) throw new OpterError('E_NOT_FOUND', { detail: 'the app has no service principal (enterprise app) — run repair first.' });
    const target: RbacTarget = { names, appId: loc.appId, appDisplayName: loc.appDisplayName, spObjectId: loc.spObjectId, spIsNew: false, group: groupOf(loc)!, groupIsNew: false };

    await stepOrganization(rt);
    const exoSp = await stepExchangeServicePrincipal(rt, target);
    const assignment = await stepRoleAssignment(rt, target, exoSp.exoSpObjectId, exoSp.created);
    await verifyRbacAdded(rt, loc, exoSp.exoSpObjectId);
    await settlePermissionCache(rt, assignment);
    const removedGrant = await stepRemoveGraphGrant(rt, loc.spObjectId);
    const removedPolicies = await removeAccessPolicy(rt, loc, target);
    const verify = await verifyMigrated(rt, loc, exoSp.exoSpObjectId, target);

    rt.note(RBAC_PROPAGATION_NOTE);
    return {
      kind: 'migrate-rbac',
      appId: loc.appId,
      groupSmtp: target.group.smtp,
      roleAssignmentName: assignment.name,
      removedGraphGrant: removedGrant.removedAssignmentIds.length > 0,
      removedPolicies: removedPolicies.removedPolicies,
      checks: verify.checks,
      notes: [...rt.notes],
    };
  },
};
