import type { TurnContext } from 'botbuilder';
import { describe, expect, it } from 'vitest';
import { cardMessage, originOf } from '../turn-port';
import { turnPortOf } from './turn';

function contextOf(activity: Record<string, unknown>) {
  const sent: unknown[] = [];
  const updated: unknown[] = [];
  const context = {
    activity,
    sendActivity: async (a: unknown) => (sent.push(a), { id: 'new-1' }),
    updateActivity: async (a: unknown) => void updated.push(a),
  };
  return { context: context as unknown as TurnContext, sent, updated };
}

const channelInvoke = {
  type: 'invoke',
  id: 'act-9',
  serviceUrl: 'https://smba.example/',
  channelId: 'msteams',
  from: { id: '29:rita', aadObjectId: 'AAD-Rita', name: 'Rita' },
  recipient: { id: '28:bot', name: 'Opter Bot' },
  conversation: { id: '19:c@thread.tacv2;messageid=111', conversationType: 'channel', tenantId: 'tenant-1', isGroup: true },
  channelData: { tenant: { id: 'tenant-1' }, channel: { id: '19:c@thread.tacv2', name: ' Audit ' } },
  replyToId: 'msg-5',
  value: { trigger: 'manual', action: { verb: 'approve', data: { requestId: 'r1' } } },
};

describe('turnPortOf', () => {
  it('reads who acts, where, and the clicked message from the activity envelope', () => {
    const turn = turnPortOf(contextOf(channelInvoke).context, { requestId: 'r1' });
    expect(turn.actor).toEqual({ aadObjectId: 'aad-rita', name: 'Rita', mri: '29:rita', tenantId: 'tenant-1' });
    expect(turn.activityId).toBe('act-9');
    expect(turn.conversation).toEqual({ id: '19:c@thread.tacv2;messageid=111', isChannel: true, isPersonal: false, teamsChannel: { id: '19:c@thread.tacv2', name: 'Audit' } });
    expect(turn.bot).toEqual({ id: '28:bot', name: 'Opter Bot' });
    expect(turn.actionData).toEqual({ requestId: 'r1' });
    expect(turn.invokedMessage).toBe('msg-5');
    expect(turn.isAutomaticRefresh).toBe(false);
    // The reference is where the conversation is, not this activity.
    expect(turn.reference).not.toHaveProperty('activityId');
    expect(turn.reference.conversation?.id).toBe('19:c@thread.tacv2;messageid=111');
    expect(originOf(turn, 'tenant-1')).toEqual({ reference: turn.reference, isChannel: true, serviceUrl: 'https://smba.example/', bot: turn.bot, tenantId: 'tenant-1' });
  });

  it('only trigger "automatic" is a refresh; no identity, no actor; a channel without channelData falls back to the conversation id', () => {
    const refresh = turnPortOf(contextOf({ ...channelInvoke, value: { trigger: 'automatic' } }).context);
    expect(refresh.isAutomaticRefresh).toBe(true);
    expect(turnPortOf(contextOf({ ...channelInvoke, value: {} }).context).isAutomaticRefresh).toBe(false);
    const bare = turnPortOf(contextOf({ ...channelInvoke, from: { id: '29:x' }, channelData: {}, replyToId: '' }).context);
    expect(bare.actor).toBeNull();
    expect(bare.invokedMessage).toBeNull();
    expect(bare.conversation.teamsChannel).toEqual({ id: '19:c@thread.tacv2', name: null });
    const personal = turnPortOf(contextOf({ ...channelInvoke, conversation: { id: 'a:1', conversationType: 'personal' } }).context);
    expect(personal.conversation).toMatchObject({ isPersonal: true, isChannel: false, teamsChannel: null });
  });

  it('sends and updates as Bot Framework message activities', async () => {
    const { context, sent, updated } = contextOf(channelInvoke);
    const turn = turnPortOf(context);
    const card = { type: 'AdaptiveCard', version: '1.5', body: [] } as never;
    expect(await turn.send(cardMessage(card))).toBe('new-1');
    expect(await turn.send('plain text')).toBe('new-1');
    await turn.update('msg-5', cardMessage(card, 'with text'));
    expect(sent).toEqual([{ type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: card }] }, 'plain text']);
    expect(updated).toEqual([{ type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: card }], text: 'with text', id: 'msg-5' }]);
  });
});
