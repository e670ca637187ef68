import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { playgroundBot, playgroundTeam } from './team';
import { TeamsWorld, mriFor, personalConversationId, threadConversationId, type WorldEvent, type WorldUser } from './world';

const TENANT = '5d1f7a52-3b9e-4c41-9a0e-2f6c1b7d8e90';
const user = (id: string, name: string): WorldUser => ({ aadObjectId: id, mri: mriFor(id), name, upn: `${name.split(' ')[0]!.toLowerCase()}@exempel.se`, tenantId: TENANT });
const rita = user('11111111-aaaa-4aaa-8aaa-000000000001', 'Rita Requester');
const arne = user('22222222-bbbb-4bbb-8bbb-000000000002', 'Arne Approver');
const bot = playgroundBot();
const team = playgroundTeam(TENANT);
const requests = team.channels.find((c) => c.key === 'requests')!;

function world(stateFile?: string): TeamsWorld {
  return new TeamsWorld({ tenantId: TENANT, bot, team, users: [rita, arne], stateFile });
}

const v3 = (...rest: string[]) => ['v3', 'conversations', ...rest];
const reply = (text: string) => ({ type: 'message', text, from: { id: bot.id }, recipient: { id: rita.mri } });

describe('TeamsWorld as the Bot Connector', () => {
  let dir: string | null = null;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = null;
  });

  it('keeps a channel post and the bot’s answers in one thread; a post to the bare channel id starts a new thread', () => {
    const w = world();
    const post = w.userMessageInChannel(rita, 'requests', '@Opter Mail help', null);
    expect(post.conversationId).toBe(threadConversationId(requests.id, post.id));
    expect(post.threadRootId).toBe(post.id);

    // botbuilder replies into the thread conversation id with replyToId = the post.
    const a = w.handleConnector('POST', v3(post.conversationId, 'activities', post.id), reply('In the thread'), {});
    expect(a.status).toBe(201);
    const answer = w.message((a.body as { id: string }).id)!;
    expect(answer).toMatchObject({ threadRootId: post.id, conversationId: post.conversationId, replyToId: post.id, from: { isBot: true } });

    // Proactive continueConversation to the channel with a made-up activity id → a new thread.
    const b = w.handleConnector('POST', v3(requests.id, 'activities', 'f:7c0c0c0c'), reply('New thread'), {});
    const fresh = w.message((b.body as { id: string }).id)!;
    expect(fresh.threadRootId).toBe(fresh.id);
    expect(fresh.conversationId).toBe(threadConversationId(requests.id, fresh.id));

    // …but naming an existing thread root replies in it.
    const c = w.handleConnector('POST', v3(requests.id, 'activities', post.id), reply('Back in the first thread'), {});
    expect(w.message((c.body as { id: string }).id)!.threadRootId).toBe(post.id);

    // A thread id whose root does not exist is not a conversation.
    expect(w.handleConnector('POST', v3(`${requests.id};messageid=1`, 'activities'), reply('x'), {})).toMatchObject({ status: 404, body: { error: { code: 'ConversationNotFound' } } });
  });

  it('updates replace a bot message for everyone (version + edited time); people’s messages cannot be edited by the bot', () => {
    const w = world();
    const events: WorldEvent[] = [];
    w.on('event', (e: WorldEvent) => events.push(e));
    const chat = w.personalConversationOf(rita).id;
    const sent = w.handleConnector('POST', v3(chat, 'activities'), reply('v1'), {});
    const id = (sent.body as { id: string }).id;

    const put = w.handleConnector('PUT', v3(chat, 'activities', id), { type: 'message', id, text: 'v2', attachments: [] }, {});
    expect(put).toEqual({ status: 200, body: { id } });
    expect(w.message(id)).toMatchObject({ version: 2, activity: { text: 'v2' } });
    expect(w.message(id)!.updatedAt).not.toBeNull();
    expect(events.map((e) => e.type)).toEqual(['message', 'update']);

    const mine = w.userMessageInChat(rita, 'hello');
    expect(w.handleConnector('PUT', v3(chat, 'activities', mine.id), { type: 'message', text: 'edited by bot' }, {}).status).toBe(403);
    expect(w.handleConnector('PUT', v3(chat, 'activities', '42'), { type: 'message', text: 'x' }, {})).toMatchObject({ status: 404, body: { error: { code: 'ActivityNotFoundInConversation' } } });
    // An activity id from another conversation is not found here either.
    const arneChat = w.personalConversationOf(arne).id;
    expect(w.handleConnector('PUT', v3(arneChat, 'activities', id), { type: 'message', text: 'x' }, {}).status).toBe(404);

    expect(w.handleConnector('DELETE', v3(chat, 'activities', id), null, {}).status).toBe(200);
    expect(w.message(id)!.deleted).toBe(true);
    expect(w.handleConnector('PUT', v3(chat, 'activities', id), { type: 'message', text: 'x' }, {}).status).toBe(404);
  });

  it('typing indicators are announced but never become messages', () => {
    const w = world();
    const events: WorldEvent[] = [];
    w.on('event', (e: WorldEvent) => events.push(e));
    const chat = w.personalConversationOf(rita).id;
    expect(w.handleConnector('POST', v3(chat, 'activities'), { type: 'typing' }, {}).status).toBe(201);
    expect(w.messagesIn(chat)).toEqual([]);
    expect(events).toEqual([{ type: 'typing', conversationId: chat, from: bot.name }]);
  });

  it('create conversation: one 1:1 chat per person (the same id every time), new channel threads, never group chats or other tenants', () => {
    const w = world();
    const params = { isGroup: false, bot: { id: bot.id }, members: [{ id: arne.mri }], tenantId: TENANT, channelData: { tenant: { id: TENANT } }, activity: reply('Hi Arne') };
    const first = w.handleConnector('POST', v3(), params, {});
    const second = w.handleConnector('POST', v3(), { ...params, activity: undefined }, {});
    const expected = personalConversationId(TENANT, bot.id, arne.mri);
    expect(first).toMatchObject({ status: 201, body: { id: expected } });
    expect(second).toEqual({ status: 201, body: { id: expected } });
    expect(w.personalConversationOf(arne).id).toBe(expected);
    expect(w.messagesIn(expected).map((m) => m.activity.text)).toEqual(['Hi Arne']);

    // The members array may name the person by Entra object id, as the Teams API allows.
    expect(w.handleConnector('POST', v3(), { ...params, members: [{ id: arne.aadObjectId }], activity: undefined }, {}).body).toEqual({ id: expected });
    expect(w.handleConnector('POST', v3(), { ...params, members: [{ id: '29:1nobody' }] }, {}).status).toBe(404);
    expect(w.handleConnector('POST', v3(), { ...params, members: [{ id: rita.mri }, { id: arne.mri }] }, {}).status).toBe(400);
    expect(w.handleConnector('POST', v3(), { ...params, tenantId: '0f0f0f0f-1111-4222-8333-444455556666', channelData: {} }, {}).status).toBe(403);

    const thread = w.handleConnector('POST', v3(), { isGroup: true, bot: { id: bot.id }, channelData: { channel: { id: requests.id }, tenant: { id: TENANT } }, activity: reply('Approval needed') }, {});
    const { id, activityId } = thread.body as { id: string; activityId: string };
    expect(id).toBe(threadConversationId(requests.id, activityId));
    expect(w.message(activityId)).toMatchObject({ threadRootId: activityId, activity: { text: 'Approval needed' } });
    expect(w.handleConnector('POST', v3(), { isGroup: true, bot: { id: bot.id }, members: [{ id: rita.mri }, { id: arne.mri }], tenantId: TENANT }, {}).status).toBe(400);
  });

  it('answers roster and team calls the way Teams does (objectId, look-up by MRI, object id or UPN, paging, General without a name)', () => {
    const w = world();
    const members = w.handleConnector('GET', v3(requests.id, 'members'), null, {});
    expect(members.body).toEqual([
      expect.objectContaining({ id: rita.mri, objectId: rita.aadObjectId, userPrincipalName: rita.upn, name: 'Rita Requester', givenName: 'Rita', surname: 'Requester' }),
      expect.objectContaining({ id: arne.mri, objectId: arne.aadObjectId }),
    ]);
    for (const key of [arne.mri, arne.aadObjectId.toUpperCase(), arne.upn]) {
      expect(w.handleConnector('GET', v3(team.id, 'members', key), null, {}).body).toMatchObject({ id: arne.mri });
    }
    expect(w.handleConnector('GET', v3(team.id, 'members', 'someone@else'), null, {}).status).toBe(404);
    const page1 = w.handleConnector('GET', v3(team.id, 'pagedmembers'), null, { pageSize: '1' }).body as { members: unknown[]; continuationToken: string };
    expect(page1.members).toHaveLength(1);
    const page2 = w.handleConnector('GET', v3(team.id, 'pagedmembers'), null, { pageSize: '1', continuationToken: page1.continuationToken }).body as Record<string, unknown>;
    expect(page2).toEqual({ members: [expect.objectContaining({ id: arne.mri })] });

    expect(w.handleConnector('GET', ['v3', 'teams', team.id], null, {}).body).toEqual({ id: team.id, name: 'Opter admins', aadGroupId: team.aadGroupId });
    expect(w.handleConnector('GET', ['v3', 'teams', team.id, 'conversations'], null, {}).body).toEqual({
      conversations: [
        { id: team.id, name: null },
        { id: requests.id, name: 'Requests' },
        { id: team.channels[2]!.id, name: 'Audit' },
      ],
    });
    expect(w.handleConnector('GET', ['v3', 'teams', '19:other@thread.tacv2'], null, {}).status).toBe(404);
  });

  it('persists the chats (mode 0600) for the same tenant and ignores a file from another tenant', () => {
    dir = mkdtempSync(join(tmpdir(), 'world-'));
    const file = join(dir, 'chats.json');
    const w1 = world(file);
    const post = w1.userMessageInChannel(arne, 'requests', 'hello', null);
    w1.handleConnector('POST', v3(post.conversationId, 'activities', post.id), reply('hi'), {});
    w1.markInstalled();
    w1.flush();
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const w2 = world(file);
    expect(w2.installed).toBe(true);
    expect(w2.messagesIn(requests.id).map((m) => m.activity.text)).toEqual(['hello', 'hi']);
    // New ids keep increasing after a restart, so they never collide with stored ones.
    const next = w2.userMessageInChat(rita, 'later');
    expect(BigInt(next.id)).toBeGreaterThan(BigInt(post.id));

    const other = new TeamsWorld({ tenantId: '0f0f0f0f-1111-4222-8333-444455556666', bot, team, users: [rita], stateFile: file });
    expect(other.allMessages()).toEqual([]);
    expect(other.installed).toBe(false);
  });
});
