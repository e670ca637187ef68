/**
 * Retire the old secrets of a rotation: when the admin confirms that Opter uses the new secret ("Opter updated"),
 * or when the overlap ends (`opter-mail retire-old-secrets` in the CLI). It is part of a new-secret request that
 * was approved already, so it has no approval, no command words and no request of its own: the rotation card
 * shows it (rotation.ts in the bot).
 */
import { z } from 'zod';
import { RETIRE_STEPS, retireSecretsWorkflow } from '../../provisioning';
import type { NameOverrides } from '../../provisioning';
import { defineAction } from '../types';

/** What starts a retirement: the app, the rotation it finishes (default: the latest unfinished one), the trigger. */
export interface RetireSecretsPayload {
  [key: string]: unknown;
  appName: string;
  overrides?: NameOverrides;
  rotateJobId?: string;
  confirmed: boolean;
}

const retirePayload: z.ZodType<RetireSecretsPayload> = z.looseObject({
  appName: z.string(),
  overrides: z.looseObject({ secretDisplayName: z.string().optional(), groupName: z.string().optional(), groupAlias: z.string().optional() }).optional(),
  rotateJobId: z.string().optional(),
  confirmed: z.boolean(),
});

export const retireSecrets = defineAction({
  kind: 'retire-secrets',
  label: 'Retire old secrets',
  command: null,
  help: null,
  payload: retirePayload,
  approval: null,
  // Removes the app's old secrets (the "Opter updated" click, or the end of the overlap).
  roleNeeds: ['applications'],
  progress: { title: (r) => `Retiring the old secrets of ${r.payload.appName}`, steps: () => RETIRE_STEPS },
  workflow: retireSecretsWorkflow,
  job: {
    input: (p) => ({ appDisplayName: p.appName, ...(p.overrides ? { overrides: p.overrides } : {}), ...(p.rotateJobId ? { rotateJobId: p.rotateJobId } : {}), confirmed: p.confirmed }),
    // One retire job per rotation and trigger (the engine's own key): a repeated click or timer tick finds the same job.
    start: (engine, input) => engine.createJob('retire-secrets', input),
  },
  settlement: {
    resultFields: ({ tenantId, result: r }) => ({ tenantId, clientId: r.appId, appObjectId: r.appObjectId, spObjectId: '', groupSmtp: '', senders: [], membersAdded: [], keyId: null, credentialEndDateTime: null, checks: [] }),
    // The rotation's request records the retirement and its audit entries (rotation.ts in the bot).
    settle: () => undefined,
  },
  runsBesideAWaitingMigration: true,
  cli: {
    lines({ result: r }) {
      return [`Retired ${r.removedKeyIds.length} old secret${r.removedKeyIds.length === 1 ? '' : 's'} of ${r.appId}${r.removedKeyIds.length ? ` (${r.removedKeyIds.join(', ')})` : ''}; the new secret ${r.keptKeyId} stays.`];
    },
  },
  audit: { what: (p) => `retire the old secrets of ${p.appName}` },
});
