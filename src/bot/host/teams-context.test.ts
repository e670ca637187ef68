import { describe, expect, it } from 'vitest';
import { actorOf, conversationRefOf, isChannel, isPersonal, mentionsBot, stripMentions, tenantOf } from './teams-context';

const TENANT = '6babcaad-604b-40ac-a9d7-9fd97c0b779f';
const BOT = { id: '28:9a1b2c3d-0000-4000-8000-00000000b07a', name: 'Opter Mail' };

const channelMessage = {
  type: 'message',
  id: '1700000000001',
  channelId: 'msteams',
  serviceUrl: 'https://smba.trafficmanager.net/emea/',
  from: { id: '29:1abc', name: 'Rita Requester', aadObjectId: '11111111-AAAA-4aaa-8aaa-000000000001' },
  recipient: BOT,
  conversation: { id: '19:ops@thread.tacv2;messageid=1700000000001', conversationType: 'channel', isGroup: true, tenantId: TENANT },
  channelData: { tenant: { id: TENANT.toUpperCase() }, channel: { id: '19:ops@thread.tacv2' } },
  text: '<at>Opter Mail</at> add sender faktura@contoso.com',
  entities: [{ type: 'mention', mentioned: BOT, text: '<at>Opter Mail</at>' }],
};

describe('actorOf', () => {
  it('takes identity from the envelope, lower-casing the object id', () => {
    expect(actorOf(channelMessage)).toEqual({
      aadObjectId: '11111111-aaaa-4aaa-8aaa-000000000001',
      mri: '29:1abc',
      name: 'Rita Requester',
      tenantId: TENANT,
    });
  });

  it('is null without an Entra object id or a user id', () => {
    expect(actorOf({ ...channelMessage, from: { id: '29:1abc', name: 'x' } })).toBeNull();
    expect(actorOf({ ...channelMessage, from: { id: '', aadObjectId: 'a' } })).toBeNull();
    expect(actorOf({ ...channelMessage, from: undefined })).toBeNull();
    expect(actorOf({ ...channelMessage, from: { id: '29:1', aadObjectId: '   ' } as never })).toBeNull();
  });

  it('falls back to the MRI as a name', () => {
    expect(actorOf({ ...channelMessage, from: { id: '29:1', aadObjectId: 'a' } })?.name).toBe('29:1');
  });
});

describe('tenantOf', () => {
  it('prefers channelData.tenant.id and falls back to conversation.tenantId', () => {
    expect(tenantOf(channelMessage)).toBe(TENANT);
    expect(tenantOf({ ...channelMessage, channelData: {} })).toBe(TENANT);
    expect(tenantOf({ ...channelMessage, channelData: { tenant: { id: 42 } } })).toBe(TENANT);
    expect(tenantOf({ conversation: { id: 'a' } as never })).toBeNull();
  });
});

describe('conversation kinds', () => {
  it('tells channels and 1:1 chats apart', () => {
    expect(isChannel(channelMessage)).toBe(true);
    expect(isPersonal(channelMessage)).toBe(false);
    const personal = { ...channelMessage, conversation: { id: 'a:1x', conversationType: 'personal', tenantId: TENANT } };
    expect(isChannel(personal)).toBe(false);
    expect(isPersonal(personal)).toBe(true);
    expect(isChannel({})).toBe(false);
  });
});

describe('conversationRefOf', () => {
  it('keeps what a proactive send needs', () => {
    const ref = conversationRefOf(channelMessage as never);
    expect(ref).toMatchObject({
      activityId: '1700000000001',
      bot: BOT,
      user: channelMessage.from,
      conversation: channelMessage.conversation,
      channelId: 'msteams',
      serviceUrl: 'https://smba.trafficmanager.net/emea/',
    });
  });
});

describe('stripMentions / mentionsBot', () => {
  it('removes the bot mention', () => {
    expect(stripMentions(channelMessage)).toBe('add sender faktura@contoso.com');
    expect(mentionsBot(channelMessage)).toBe(true);
  });

  it('keeps other people as plain names and drops stray tags, entities and odd whitespace', () => {
    const text = '<at>Opter Mail</at>&nbsp; help\u00a0<at>Arne</at>  &amp; <at>Ghost</at>';
    const activity = {
      ...channelMessage,
      text,
      entities: [...channelMessage.entities, { type: 'mention', mentioned: { id: '29:2', name: 'Arne' }, text: '<at>Arne</at>' }],
    };
    expect(stripMentions(activity)).toBe('help Arne & Ghost');
  });

  it('is harmless when teams-ai already stripped the mention, or there is no text', () => {
    expect(stripMentions({ ...channelMessage, text: 'add sender faktura@contoso.com' })).toBe('add sender faktura@contoso.com');
    expect(stripMentions({ ...channelMessage, text: undefined })).toBe('');
    expect(mentionsBot({ ...channelMessage, entities: [] })).toBe(false);
  });
});
