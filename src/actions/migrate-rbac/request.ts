/** "migrate <app> to RBAC": the migration plan the approvers see, or why it cannot run yet. */
import { OpterError } from '../../core/errors';
import { inspectMigration } from '../../provisioning';
import { registrationFor, targetOf, type RequestStage } from '../requests';

export const migrateRequest: RequestStage<{ app: string | null }> = {
  async fromCommand(ctx, command) {
    const picked = await registrationFor(ctx, { app: command.app, example: (n) => `migrate ${n} to RBAC` });
    if ('error' in picked) return picked;
    const r = picked.registration;
    const settleMinutes = ctx.settings.migrationSettleMinutes;
    const { plan } = await inspectMigration({ directory: ctx.directory, exchange: ctx.exchange }, { appDisplayName: r.appDisplayName, overrides: r.overrides, settleMinutes });
    if (plan.blockers.length) return { error: new OpterError('E_INPUT_INVALID', { detail: `${r.appDisplayName} cannot be migrated yet: ${plan.blockers.join(' ')}` }) };
    if (plan.nothingToDo) return { error: new OpterError('E_INPUT_INVALID', { detail: `${r.appDisplayName} already uses RBAC for Applications only; there is nothing to migrate.` }) };
    return {
      payload: { ...targetOf(r), plan, settleMinutes },
      facts: [
        { title: 'App', value: r.appDisplayName },
        { title: 'Adds', value: plan.adds.join('; ') || 'nothing (already in place)' },
        { title: 'Removes', value: plan.removes.join('; ') || 'nothing' },
      ],
    };
  },
};
