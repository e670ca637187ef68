/**
 * Retire the old secrets of a rotation (the activities are in rotate.ts): at once when the admin confirms that Opter uses the new secret,
 * otherwise once the overlap has passed (the job waits until then).
 */
import { z } from 'zod';
import { OpterError } from '../../core/errors';
import type { NameOverrides } from '../names';
import { pendingRotation, retireOldSecrets, rotationToRetire, type RetireSecretsInput, type RetireSecretsResult } from '../rotate';
import { nameOverridesSchema, type Workflow } from './workflow';

/** Without `rotateJobId`, the latest unfinished rotation of the app is used (E_INPUT_INVALID when there is none). */
export interface RetireSecretsRequest {
  appDisplayName: string;
  overrides?: NameOverrides;
  rotateJobId?: string;
  confirmed: boolean;
}

const input: z.ZodType<RetireSecretsInput> = z.looseObject({
  appDisplayName: z.string(),
  overrides: nameOverridesSchema.optional(),
  rotateJobId: z.string(),
  confirmed: z.boolean(),
});

export const retireSecretsWorkflow: Workflow<RetireSecretsInput, RetireSecretsResult, RetireSecretsRequest> = {
  kind: 'retire-secrets',
  input,
  prepare: (request, journal) => {
    const appDisplayName = (request.appDisplayName ?? '').trim();
    if (!appDisplayName) throw new OpterError('E_INPUT_INVALID', { detail: 'The app display name is empty.', field: 'appName' });
    const rotateJobId = request.rotateJobId ?? pendingRotation(journal, appDisplayName)?.job.id;
    if (!rotateJobId) throw new OpterError('E_INPUT_INVALID', { detail: `no secret rotation of "${appDisplayName}" is waiting for its old secrets to be retired.`, field: 'appName' });
    const job: RetireSecretsInput = { appDisplayName, rotateJobId, confirmed: !!request.confirmed, ...(request.overrides ? { overrides: request.overrides } : {}) };
    // One retire job per rotation and trigger: a repeated click or timer tick finds the same job.
    return { input: job, idempotencyKey: `retire-secrets:${rotateJobId}:${job.confirmed ? 'confirmed' : 'overlap'}` };
  },
  async run(rt) {
    const where = await rotationToRetire(rt);
    const retired = await retireOldSecrets(rt, where);
    return { kind: 'retire-secrets', appId: where.appId, rotateJobId: rt.input.rotateJobId, removedKeyIds: retired.removedKeyIds, keptKeyId: where.keyId, notes: [...rt.notes] };
  },
};
