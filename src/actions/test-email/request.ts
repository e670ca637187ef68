/** "test email to me from x@… [via <app>]": only ever to the person asking. */
import { OpterError } from '../../core/errors';
import { isValidAddress } from '../../provisioning';
import { registrationFor, targetOf, type RequestStage } from '../requests';

const lower = (s: string) => s.toLowerCase();

export const testEmailRequest: RequestStage<{ to: string; from: string | null; app: string | null }> = {
  async fromCommand(ctx, command) {
    if (!command.from) return { ask: 'Which sender should the test come from? For example: **test email to me from faktura@contoso.com**.' };
    if (command.to !== 'me') {
      return { error: new OpterError('E_INPUT_INVALID', { detail: 'I send test messages only to you, the person asking: write “test email to me from …”.' }) };
    }
    const to = await ctx.requesterAddress();
    if (!to) return { error: new OpterError('E_INPUT_INVALID', { detail: 'Teams did not tell me your email address, so I cannot send you a test message.' }) };
    const from = command.from;
    const picked = await registrationFor(ctx, { app: command.app, sender: from, example: (n) => `test email to me from ${from} via ${n}` });
    if ('error' in picked) return picked;
    const r = picked.registration;
    if (!isValidAddress(from)) return { error: new OpterError('E_SENDER_INVALID', { detail: `"${from}" is not a valid sender address.` }) };
    const primary = await ctx.primaryOf(from);
    const isSender = r.senders.some((s) => lower(s) === lower(primary));
    return {
      payload: { ...targetOf(r), from: primary, to },
      facts: [
        { title: 'From', value: `${primary}${isSender ? '' : ' (not a sender of this registration: the test shows it is refused)'}` },
        { title: 'To', value: to },
      ],
    };
  },
};
