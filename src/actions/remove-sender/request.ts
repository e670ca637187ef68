/** "remove sender x@… [from <app>]", and Repair of members added outside the bot: who leaves the group. */
import { OpterError } from '../../core/errors';
import { checkSenderSyntax, problemsToError, type RegistrationSummary } from '../../provisioning';
import { registrationFor, targetOf, type RequestContext, type RequestPlan, type RequestStage } from '../requests';

const lower = (s: string) => s.toLowerCase();

export async function planRemoveSender(ctx: RequestContext, r: RegistrationSummary, addresses: string[], repairOf?: 'member-outside-bot'): Promise<RequestPlan> {
  const syntax = checkSenderSyntax(addresses);
  if (syntax.length) return { error: problemsToError(syntax) };
  const remove: string[] = [];
  for (const a of addresses) {
    // The address typed may be a secondary one: compare by the mailbox's primary address.
    const primary = await ctx.primaryOf(a);
    const member = r.senders.find((s) => lower(s) === lower(primary));
    if (!member) return { error: new OpterError('E_INPUT_INVALID', { detail: `${a} is not a sender of ${r.appDisplayName} (senders: ${r.senders.join(', ') || 'none'}).`, field: 'senders' }) };
    if (!remove.some((x) => lower(x) === lower(member))) remove.push(member);
  }
  const after = r.senders.filter((s) => !remove.some((x) => lower(x) === lower(s)));
  return {
    kind: 'remove-sender',
    payload: { ...targetOf(r), remove, membersAfter: after, ...(repairOf ? { repairOf } : {}) },
    facts: [
      { title: 'Senders now', value: r.senders.join(', ') },
      { title: 'After approval', value: after.join(', ') || '(none: nothing can send)' },
    ],
  };
}

export const removeSenderRequest: RequestStage<{ addresses: string[]; app: string | null }> = {
  async fromCommand(ctx, command) {
    if (command.addresses.length === 0) {
      return { ask: 'Which mailbox should no longer send? For example: **remove sender old@contoso.com** (add **from <app name>** when there are several registrations).' };
    }
    const picked = await registrationFor(ctx, { app: command.app, sender: command.addresses[0], example: (n) => `remove sender ${command.addresses[0]} from ${n}` });
    if ('error' in picked) return picked;
    return planRemoveSender(ctx, picked.registration, command.addresses);
  },
};
