/**
 * The fake Bot Connector must speak the protocol botbuilder's own clients speak, or tests built on it prove
 * nothing. Roster calls go through botbuilder's TeamsInfo inside a real turn; the rest is checked at the HTTP level.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TeamsInfo, type TurnContext } from 'botbuilder';
import { readBotConfig } from '../../src/bot/host/config';
import { startBotServer, type BotServer } from '../../src/bot/host/server';
import { conversationRefOf } from '../../src/bot/host/teams-context';
import { personalConversationIdFor, startFakeConnector, type FakeConnector } from '../harness/fake-connector';
import { channelFor, makePersonas, memberOf, personaEnv, TeamsClient } from '../harness/teams-client';

const personas = makePersonas();
const channel = channelFor(personas.requester.tenantId, 'approvals');

let connector: FakeConnector;
let bot: BotServer;
let teams: TeamsClient;
let onTurn: (ctx: TurnContext) => Promise<void> = async () => {};
const quietLogger = { info() {}, warn() {}, error() {} };

beforeAll(async () => {
  connector = await startFakeConnector();
  bot = await startBotServer({ config: readBotConfig({ ...personaEnv(personas), PORT: '0' }), logger: quietLogger, onTurn: (ctx) => onTurn(ctx) });
  teams = new TeamsClient({ botUrl: bot.url, connector });
  teams.addChannel(channel, [personas.requester, personas.approver, personas.nonAdmin]);
});

afterAll(async () => {
  await bot?.close();
  await connector?.close();
});

afterEach(() => {
  onTurn = async () => {};
  connector.clearFaults();
  connector.clearRequests();
});

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${connector.url}${path.replace(/^\//, '')}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json().catch(() => null), headers: res.headers };
}

describe('rosters and team info through botbuilder TeamsInfo', () => {
  it('lists members, pages them and finds one member — or 404s a stranger', async () => {
    let results: Record<string, any> = {};
    onTurn = async (ctx) => {
      const members = await TeamsInfo.getMembers(ctx);
      const page1 = await TeamsInfo.getPagedMembers(ctx, 2);
      const page2 = await TeamsInfo.getPagedMembers(ctx, 2, page1.continuationToken);
      const one = await TeamsInfo.getMember(ctx, personas.approver.mri);
      const byUpn = await TeamsInfo.getMember(ctx, personas.nonAdmin.upn);
      const stranger = await TeamsInfo.getMember(ctx, '29:1nobody').catch((err: { statusCode?: number }) => err.statusCode);
      results = { members, page1, page2, one, byUpn, stranger };
    };
    await teams.mention(personas.requester, channel, 'who is here');
    // getMembers copies the wire's objectId into aadObjectId …
    expect(results.members.map((m: { aadObjectId: string }) => m.aadObjectId)).toEqual(
      [personas.requester, personas.approver, personas.nonAdmin].map((p) => p.aadObjectId),
    );
    expect(results.page1.members).toHaveLength(2);
    expect(results.page1.continuationToken).toBeTruthy();
    expect(results.page2.members).toHaveLength(1);
    expect(results.page2.continuationToken).toBeUndefined();
    // … but getPagedMembers and getMember hand back the wire shape: the object id is only in `objectId`.
    expect(results.page1.members[0].objectId).toBe(personas.requester.aadObjectId);
    expect(results.page1.members[0].aadObjectId).toBeUndefined();
    expect(results.one).toMatchObject({ id: personas.approver.mri, objectId: personas.approver.aadObjectId, name: personas.approver.name, userRole: 'user' });
    expect(results.one.aadObjectId).toBeUndefined();
    expect(results.byUpn.id).toBe(personas.nonAdmin.mri);
    expect(results.stranger).toBe(404);
    // In a team, botbuilder asks for the roster under the team id, percent-encoded as Teams expects.
    const rosterCalls = connector.requests.filter((r) => r.method === 'GET');
    expect(rosterCalls).toHaveLength(6);
    for (const r of rosterCalls) expect(r.rawPath).toMatch(/^\/v3\/conversations\/19%3Ateam-approvals%40thread\.tacv2\/(pagedmembers|members)/);
  });

  it('answers team details and the channel list (General first, named null)', async () => {
    let results: Record<string, any> = {};
    onTurn = async (ctx) => {
      results = { details: await TeamsInfo.getTeamDetails(ctx), channels: await TeamsInfo.getTeamChannels(ctx) };
    };
    await teams.mention(personas.requester, channel, 'which team is this');
    expect(results.details).toMatchObject({ id: channel.teamId, name: channel.teamName });
    expect(results.channels).toEqual([
      { id: channel.teamId, name: null },
      { id: channel.channelId, name: channel.channelName },
    ]);
  });
});

describe('creating conversations', () => {
  it('starts a new thread in a channel (approvals channel) and returns its id and root activity id', async () => {
    const ref = await new Promise<ReturnType<typeof conversationRefOf>>((resolve) => {
      onTurn = async (ctx) => resolve(conversationRefOf(ctx.activity));
      void teams.mention(personas.requester, channel, 'hi');
    });
    let created: { conversationId?: string } = {};
    await bot.adapter.createConversationAsync(
      bot.botAppId,
      'msteams',
      ref.serviceUrl!,
      'https://api.botframework.com',
      {
        isGroup: true,
        bot: ref.bot,
        channelData: { channel: { id: channel.channelId }, tenant: { id: channel.tenantId } },
        activity: { type: 'message', text: 'New request needs approval' },
      } as never,
      async (ctx) => {
        created = { conversationId: ctx.activity.conversation.id };
      },
    );
    expect(created.conversationId).toMatch(new RegExp(`^${channel.channelId.replace(/[.]/g, '\\.')};messageid=\\d+$`));
    const thread = connector.conversation(created.conversationId!)!;
    expect(thread.kind).toBe('channel');
    expect(thread.messages[0]!.activity.text).toBe('New request needs approval');
    expect(created.conversationId).toBe(`${channel.channelId};messageid=${thread.messages[0]!.id}`);
  });

  it('returns the same 1:1 conversation for the same user, as Teams does', async () => {
    const body = { isGroup: false, bot: teams.bot, members: [{ id: personas.nonAdmin.mri }], tenantId: personas.nonAdmin.tenantId };
    const first = await call('POST', '/v3/conversations', body);
    const second = await call('POST', '/v3/conversations', body);
    expect(first.status).toBe(201);
    expect(first.body.id).toBe(second.body.id);
    expect(first.body.id).toBe(personalConversationIdFor(personas.nonAdmin.tenantId, teams.bot.id, personas.nonAdmin.mri));
    expect(first.body.id).toBe(teams.personalConversationId(personas.nonAdmin));
  });

  it('rejects create parameters Teams rejects', async () => {
    expect((await call('POST', '/v3/conversations', { isGroup: false, members: [{ id: '29:1' }], tenantId: 't' })).status).toBe(400);
    expect((await call('POST', '/v3/conversations', { bot: teams.bot, members: [], tenantId: 't' })).status).toBe(400);
    expect((await call('POST', '/v3/conversations', { bot: teams.bot, members: [{ id: '29:1' }] })).body).toEqual({
      error: { code: 'BadSyntax', message: 'Incorrect conversation creation parameters: tenant id is required' },
    });
  });
});

describe('strictness, decoding and errors', () => {
  it('404s unknown conversations with the connector error shape, and decodes percent-encoded ids', async () => {
    const unknown = await call('POST', `/v3/conversations/${encodeURIComponent('a:1unknown')}/activities`, { type: 'message', text: 'x' });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ error: { code: 'ConversationNotFound', message: 'Conversation not found: a:1unknown' } });
    connector.ensureConversation({ id: 'a:1known', kind: 'personal', tenantId: personas.requester.tenantId, members: [memberOf(personas.requester)] });
    const ok = await call('POST', `/v3/conversations/${encodeURIComponent('a:1known')}/activities`, { type: 'message', text: 'x' });
    expect(ok.status).toBe(201);
    expect(connector.message('a:1known', ok.body.id)!.activity.text).toBe('x');
    expect(connector.requests.at(-1)!.path).toBe('/v3/conversations/a:1known/activities');
    expect(connector.requests.at(-1)!.rawPath).toBe('/v3/conversations/a%3A1known/activities');
  });

  it('keeps replies to a channel post in its thread (`<channel>;messageid=<root>`), and lists the channel with its threads', async () => {
    const root = await call('POST', `/v3/conversations/${encodeURIComponent(channel.channelId)}/activities`, { type: 'message', text: 'root' });
    expect(root.status).toBe(201);
    const threadId = `${channel.channelId};messageid=${root.body.id}`;
    const reply = await call('POST', `/v3/conversations/${encodeURIComponent(threadId)}/activities`, { type: 'message', text: 'reply' });
    expect(reply.status).toBe(201);
    expect(connector.requests.at(-1)!.rawPath).toBe(`/v3/conversations/${encodeURIComponent(threadId)}/activities`);
    const other = await call('POST', `/v3/conversations/${encodeURIComponent(channel.channelId)}/activities`, { type: 'message', text: 'another root' });

    expect(connector.messages(channel.channelId).map((m) => m.activity.text)).toEqual(expect.arrayContaining(['root', 'another root']));
    expect(connector.messages(channel.channelId).map((m) => m.activity.text)).not.toContain('reply');
    expect(connector.messages(threadId).map((m) => m.activity.text)).toEqual(['reply']);
    const listed = connector.channelMessages(channel.channelId).map((m) => m.activity.text);
    expect(listed.slice(listed.indexOf('root'))).toEqual(['root', 'reply', 'another root']);
    const replyMessage = connector.message(threadId, reply.body.id)!;
    expect(connector.threadRootOf(replyMessage)).toBe(root.body.id);
    expect(connector.threadRootOf(connector.message(channel.channelId, other.body.id)!)).toBe(other.body.id);
    // A reply naming a message that is not in the channel is recorded, but belongs to no known thread.
    await call('POST', `/v3/conversations/${encodeURIComponent(`${channel.channelId};messageid=999`)}/activities`, { type: 'message', text: 'orphan' });
    expect(connector.threadRootOf(connector.messages(`${channel.channelId};messageid=999`)[0]!)).toBeNull();
  });

  it('keeps typing indicators out of the conversation', async () => {
    connector.ensureConversation({ id: 'a:1typing', kind: 'personal', tenantId: personas.requester.tenantId });
    const res = await call('POST', '/v3/conversations/a%3A1typing/activities', { type: 'typing' });
    expect(res.status).toBe(201);
    expect(connector.messages('a:1typing')).toHaveLength(0);
  });

  it('demands a token when told to', async () => {
    const guarded = await startFakeConnector({ authorize: (h) => h === 'Bearer good' });
    try {
      guarded.ensureConversation({ id: 'a:1g', kind: 'personal', tenantId: null });
      const denied = await fetch(`${guarded.url}v3/conversations/a%3A1g/activities`, { method: 'POST', body: JSON.stringify({ type: 'message' }) });
      expect(denied.status).toBe(401);
      const allowed = await fetch(`${guarded.url}v3/conversations/a%3A1g/activities`, {
        method: 'POST',
        headers: { authorization: 'Bearer good' },
        body: JSON.stringify({ type: 'message' }),
      });
      expect(allowed.status).toBe(201);
    } finally {
      await guarded.close();
    }
  });

  it('answers injected faults with Retry-After and the connector error shape', async () => {
    connector.ensureConversation({ id: 'a:1f', kind: 'personal', tenantId: null });
    connector.failNext(1, { status: 429, retryAfterSeconds: 7 });
    const throttled = await call('POST', '/v3/conversations/a%3A1f/activities', { type: 'message' });
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('7');
    expect(throttled.body.error.code).toBe('TooManyRequests');
    expect((await call('POST', '/v3/conversations/a%3A1f/activities', { type: 'message' })).status).toBe(201);
    expect(connector.successfulRequests()).toHaveLength(1);
  });

  it('waitFor gives up after its timeout with the last requests in the message', async () => {
    await expect(connector.waitFor(() => false, 100)).rejects.toThrow(/not met within 100 ms/);
  });
});
