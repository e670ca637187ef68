/**
 * What a finished job leaves on its request: the action's `settlement.resultFields` over the job's typed result
 * (the result the engine stored on the job, decoded with the action's workflow's result schema). Only a job that
 * succeeded before results were stored is read from its step outputs instead (legacy-results.ts).
 */
import type { JobRecord } from '../core/ports';
import type { ActionRequest, RequestResult } from './common';
import { legacyRequestResult } from './legacy-results';
import type { AnyAction } from './types';

/** The job's typed result decoded with the action's workflow (the stored one; else the live run's value); null when neither decodes. */
export function typedResultOf(action: AnyAction, job: JobRecord, live?: unknown): unknown {
  for (const value of [job.result, live]) {
    if (value === null || value === undefined) continue;
    const decoded = action.workflow.result.safeParse(value);
    if (decoded.success) return decoded.data;
  }
  return null;
}

export function requestResultOf(
  action: AnyAction,
  ctx: { request: ActionRequest<unknown>; tenantId: string; job: JobRecord; live?: unknown; steps: () => ReadonlyMap<string, Record<string, unknown>> },
): RequestResult | null {
  const result = typedResultOf(action, ctx.job, ctx.live);
  if (result !== null) return action.settlement.resultFields({ request: ctx.request, tenantId: ctx.tenantId, result });
  return legacyRequestResult(ctx.request, ctx.tenantId, ctx.job, ctx.steps());
}
