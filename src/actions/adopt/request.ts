/** Adopt from the status card: take a registration made by Opter's script under the bot's management. */
import { OpterError } from '../../core/errors';
import type { RegistrationSummary } from '../../provisioning';
import { targetOf, type RequestPlan, type RequestStage } from '../requests';

export async function planAdopt(r: RegistrationSummary): Promise<RequestPlan> {
  if (r.managed) return { error: new OpterError('E_INPUT_INVALID', { detail: `${r.appDisplayName} is already managed by the bot.` }) };
  if (!r.adoptable) return { error: new OpterError('E_INPUT_INVALID', { detail: `${r.appDisplayName} does not look like a registration made by Opter’s script (derived group and a scope on it).` }) };
  return {
    payload: { ...targetOf(r) },
    facts: [
      { title: 'App', value: r.appDisplayName },
      { title: 'Senders', value: r.senders.join(', ') || '(none)' },
    ],
  };
}

export const adoptRequest: RequestStage = { fromRegistration: (_ctx, r) => planAdopt(r) };
