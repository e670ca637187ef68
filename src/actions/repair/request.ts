/**
 * Repair from the status card: the ensure steps for drift the engine repairs; members added outside the bot are
 * removed (they never went through approval — "add sender" is the way to keep one); the rest is explained.
 */
import { OpterError } from '../../core/errors';
import type { RegistrationSummary } from '../../provisioning';
import { planRemoveSender } from '../remove-sender/request';
import { targetOf, type RequestContext, type RequestPlan, type RequestStage } from '../requests';

/** Drift the engine's repair job fixes (the rest needs another action, see planRepair). */
const REPAIRABLE = new Set(['member-missing', 'grant-missing', 'policy-missing', 'group-missing', 'service-principal-missing', 'rbac-assignment-missing', 'tenant-wide-grant']);

/** Whether the status card offers Repair for it: only when planRepair would make a request of it. */
export function canRepair(r: RegistrationSummary): boolean {
  return r.managed && r.drift.some((d) => REPAIRABLE.has(d.kind) || d.kind === 'member-outside-bot');
}

export async function planRepair(ctx: RequestContext, r: RegistrationSummary): Promise<RequestPlan> {
  if (!r.managed) return { error: new OpterError('E_INPUT_INVALID', { detail: `${r.appDisplayName} is not managed by the bot yet; adopt it first (the repair needs the approved state to go back to).` }) };
  const repairable = r.drift.filter((d) => REPAIRABLE.has(d.kind));
  if (repairable.length) {
    return {
      payload: { ...targetOf(r), drift: repairable.map((d) => d.description) },
      facts: [{ title: 'Drift', value: repairable.map((d) => d.description).join(' ') }],
    };
  }
  if (r.drift.some((d) => d.kind === 'member-outside-bot')) {
    const strangers = ctx.membersOutsideBot(r);
    if (strangers.length) return planRemoveSender(ctx, r, strangers, 'member-outside-bot');
  }
  if (r.drift.some((d) => d.kind === 'migration-unfinished')) {
    const request = r.migration ? ctx.requestOfJob(r.migration.jobId) : null;
    return {
      error: new OpterError('E_INPUT_INVALID', {
        detail: `the migration of ${r.appDisplayName} to RBAC stopped on an error; ${request ? `press Retry on its progress card (request ${request.id})` : 'run “opter-mail resume”'} to continue it. Mail keeps flowing meanwhile.`,
      }),
    };
  }
  if (r.migration?.state === 'waiting') {
    return {
      error: new OpterError('E_INPUT_INVALID', {
        detail: `${r.appDisplayName} shows no drift: its migration to RBAC waits for Exchange’s permission cache${r.migration.until ? ` until ${r.migration.until}` : ''} as planned and continues by itself.`,
      }),
    };
  }
  if (r.drift.some((d) => d.kind === 'no-live-secret')) {
    return { error: new OpterError('E_INPUT_INVALID', { detail: `${r.appDisplayName} has no valid secret: ask for a new one (“new secret for ${r.appDisplayName}”).` }) };
  }
  if (r.drift.length === 0) return { error: new OpterError('E_INPUT_INVALID', { detail: `${r.appDisplayName} shows no drift; there is nothing to repair.` }) };
  return { error: new OpterError('E_INPUT_INVALID', { detail: `this needs a manual fix in Entra ID or Exchange: ${r.drift.map((d) => d.description).join(' ')}` }) };
}

export const repairRequest: RequestStage = { fromRegistration: planRepair };
