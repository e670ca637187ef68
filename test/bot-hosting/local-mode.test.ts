/**
 * The real restify + TeamsAdapter host in local mode (no BOT_ID), driven over HTTP by the fake Teams client, with
 * the fake Bot Connector receiving everything the bot sends.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Application, type AdaptiveCard, type TurnState } from '@microsoft/teams-ai';
import { CardFactory, type TurnContext } from 'botbuilder';
import { BotConfigError, readBotConfig, type BotConfig } from '../../src/bot/host/config';
import { startBotServer, type BotLogger, type BotServer } from '../../src/bot/host/server';
import { conversationRefOf, stripMentions } from '../../src/bot/host/teams-context';
import { adaptiveCardsOf, startFakeConnector, type FakeConnector } from '../harness/fake-connector';
import { channelFor, makePersonas, personaEnv, TeamsClient } from '../harness/teams-client';

const personas = makePersonas();
const channel = channelFor(personas.requester.tenantId);

function card(text: string): AdaptiveCard {
  return { type: 'AdaptiveCard', $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', version: '1.5', body: [{ type: 'TextBlock', text, wrap: true }] };
}

class CapturingLogger implements BotLogger {
  lines: string[] = [];
  info = (m: string) => void this.lines.push(`info ${m}`);
  warn = (m: string) => void this.lines.push(`warn ${m}`);
  error = (m: string) => void this.lines.push(`error ${m}`);
}

let connector: FakeConnector;
let bot: BotServer;
let teams: TeamsClient;
let config: BotConfig;
const logger = new CapturingLogger();
const turns: TurnContext['activity'][] = [];
/** Per-test hook for the message handler, so each test can make the bot do something specific. */
let onMessage: ((ctx: TurnContext) => Promise<void>) | null = null;

// A real teams-ai Application behind the host, with one Action.Execute handler, as the conversation code will use.
const app = new Application<TurnState>({ startTypingTimer: false });
app.adaptiveCards.actionExecute('echo-verb', async (_ctx, _state, data: Record<string, unknown>) => card(`you sent ${JSON.stringify(data)}`));
app.activity('message', async (ctx) => {
  if (onMessage) return onMessage(ctx);
  await ctx.sendActivity(`echo: ${stripMentions(ctx.activity)}`);
});

beforeAll(async () => {
  connector = await startFakeConnector();
  config = readBotConfig({ ...personaEnv(personas), PORT: '0' });
  bot = await startBotServer({
    config,
    logger,
    onTurn: async (ctx) => {
      turns.push(ctx.activity);
      await app.run(ctx);
    },
  });
  teams = new TeamsClient({ botUrl: bot.url, connector });
  teams.addChannel(channel, [personas.requester, personas.approver, personas.nonAdmin]);
});

afterAll(async () => {
  await bot?.close();
  await connector?.close();
});

afterEach(() => {
  onMessage = null;
  turns.length = 0;
  connector.clearFaults();
  connector.clearRequests();
});

describe('local mode start-up', () => {
  it('binds to loopback and says loudly that authentication is off', async () => {
    expect(bot.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(config.mode).toBe('local');
    expect(bot.botAppId).toBe('');
    expect(logger.lines.some((l) => l.startsWith('warn') && l.includes('AUTHENTICATION IS OFF'))).toBe(true);
    const health = await fetch(`${bot.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', mode: 'local' });
  });

  it('refuses a non-loopback HOST, both when reading the config and when handed one directly', async () => {
    expect(() => readBotConfig({ ...personaEnv(personas), HOST: '0.0.0.0' })).toThrow(BotConfigError);
    expect(() => readBotConfig({ ...personaEnv(personas), HOST: '192.168.1.10' })).toThrow(/not allowed in local mode/);
    const handMade: BotConfig = { ...config, host: '0.0.0.0', port: 0 };
    let onTurnCalled = false;
    await expect(
      startBotServer({ config: handMade, logger: new CapturingLogger(), onTurn: async () => void (onTurnCalled = true) }),
    ).rejects.toThrow(/Refusing to listen on 0\.0\.0\.0 in local mode/);
    expect(onTurnCalled).toBe(false);
  });

  it('accepts localhost as loopback', async () => {
    const local = await startBotServer({ config: { ...config, host: 'localhost', port: 0 }, logger: new CapturingLogger(), onTurn: async () => {} });
    try {
      expect(['127.0.0.1', '::1'].some((h) => local.url.includes(h))).toBe(true);
    } finally {
      await local.close();
    }
  });
});

describe('messages', () => {
  it('a 1:1 message gets its reply delivered to the connector as a reply to that activity, ids URL-encoded', async () => {
    const res = await teams.message(personas.requester, 'hello bot');
    expect(res.status).toBe(200);
    const conversationId = teams.personalConversationId(personas.requester);
    const reply = await connector.waitFor(() => connector.messages(conversationId).find((m) => m.activity.text === 'echo: hello bot'));
    expect(reply.replyToId).toBe(res.activity.id);
    const request = connector.requests.find((r) => r.method === 'POST' && r.path === `/v3/conversations/${conversationId}/activities/${res.activity.id}`);
    expect(request).toBeDefined();
    expect(request!.rawPath).toContain(encodeURIComponent(conversationId));
    expect(request!.rawPath).toContain('a%3A1');
    const body = request!.body as Record<string, any>;
    expect(body.from.id).toBe(teams.bot.id);
    expect(body.recipient.id).toBe(personas.requester.mri);
    expect(body.replyToId).toBe(res.activity.id);
    // Local mode sends no token.
    expect(request!.headers.authorization).toBeUndefined();
  });

  it('a channel @mention reaches the bot without the mention and the reply lands in that thread', async () => {
    const res = await teams.mention(personas.requester, channel, 'set up Opter email');
    expect(res.status).toBe(200);
    expect(turns[0]?.text).toBe('set up Opter email'); // teams-ai stripped the recipient mention
    const threadId = `${channel.channelId};messageid=${res.activity.id}`;
    const reply = await connector.waitFor(() => connector.messages(threadId)[0]);
    expect(reply.activity.text).toBe('echo: set up Opter email');
    const request = connector.requests.find((r) => r.method === 'POST' && r.path.startsWith(`/v3/conversations/${threadId}/activities`));
    expect(request!.rawPath).toContain('19%3Aops-channel%40thread.tacv2%3Bmessageid%3D');
  });

  it('an update replaces the card the connector holds and a delete marks it deleted', async () => {
    onMessage = async (ctx) => {
      const sent = await ctx.sendActivity({ attachments: [CardFactory.adaptiveCard(card('version 1'))] });
      await ctx.updateActivity({ id: sent!.id, type: 'message', attachments: [CardFactory.adaptiveCard(card('version 2'))] });
      const second = await ctx.sendActivity('temporary');
      await ctx.deleteActivity(second!.id);
    };
    await teams.message(personas.requester, 'card please');
    const conversationId = teams.personalConversationId(personas.requester);
    const updated = await connector.waitFor(() => connector.messages(conversationId).find((m) => m.versions.length === 2));
    expect(adaptiveCardsOf(updated.activity)[0]!.body).toEqual([{ type: 'TextBlock', text: 'version 2', wrap: true }]);
    expect(adaptiveCardsOf(updated.versions[0])[0]!.body).toEqual([{ type: 'TextBlock', text: 'version 1', wrap: true }]);
    const put = connector.requests.find((r) => r.method === 'PUT');
    expect(put!.path).toBe(`/v3/conversations/${conversationId}/activities/${updated.id}`);
    const deleted = await connector.waitFor(() => connector.messages(conversationId).find((m) => m.activity.text === 'temporary' && m.deleted));
    expect(deleted.deleted).toBe(true);
  });

  it('answers 404 from the connector for an activity that does not exist (the fake is strict)', async () => {
    let failure: unknown = null;
    onMessage = async (ctx) => {
      try {
        await ctx.updateActivity({ id: '999', type: 'message', text: 'nope' });
      } catch (err) {
        failure = err;
      }
    };
    await teams.message(personas.requester, 'update a ghost');
    expect(failure).toBeTruthy();
    expect(connector.requests.at(-1)!.status).toBe(404);
  });
});

describe('card actions (invoke)', () => {
  it('returns the invoke body as the HTTP response and sends nothing to the connector', async () => {
    const conversationId = teams.personalConversationId(personas.requester);
    const res = await teams.invoke(personas.requester, {
      conversation: { id: conversationId, conversationType: 'personal', tenantId: personas.requester.tenantId },
      replyToId: '1700000000000',
      verb: 'echo-verb',
      data: { requestId: 'r-1' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ statusCode: 200, type: 'application/vnd.microsoft.card.adaptive', value: card('you sent {"requestId":"r-1"}') });
    expect(turns[0]?.type).toBe('invoke');
    expect((turns[0]?.value as any).trigger).toBe('manual');
    expect(turns[0]?.replyToId).toBe('1700000000000');
    expect(connector.requests).toHaveLength(0);
  });

  it('an unhandled verb is 501, as botbuilder answers it', async () => {
    const res = await teams.invoke(personas.requester, {
      conversation: { id: teams.personalConversationId(personas.requester), conversationType: 'personal', tenantId: personas.requester.tenantId },
      replyToId: '1',
      verb: 'no-such-verb',
    });
    expect(res.status).toBe(501);
  });
});

describe('tenant allow-list', () => {
  it('drops a message from another tenant before the conversation code and sends nothing', async () => {
    const res = await teams.message(personas.foreigner, 'hello from elsewhere');
    expect(res.status).toBe(200);
    expect(turns).toHaveLength(0);
    expect(connector.requests).toHaveLength(0);
    expect(logger.lines.some((l) => l.includes(`refused message from tenant ${personas.foreigner.tenantId}`))).toBe(true);
  });

  it('answers an invoke from another tenant with an error body, without processing it', async () => {
    const res = await teams.invoke(personas.foreigner, {
      conversation: { id: 'a:1x', conversationType: 'personal', tenantId: personas.foreigner.tenantId },
      replyToId: '1',
      verb: 'echo-verb',
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      statusCode: 403,
      type: 'application/vnd.microsoft.error',
      value: { code: 'E_TENANT_NOT_ALLOWED', message: 'This tenant may not use the bot.' },
    });
    expect(turns).toHaveLength(0);
    expect(connector.requests).toHaveLength(0);
  });

  it('refuses an activity whose two tenant fields disagree, or that has none', async () => {
    await teams.message(personas.requester, 'forged', (a) => {
      (a.conversation as Record<string, unknown>).tenantId = personas.foreigner.tenantId;
    });
    await teams.message(personas.requester, 'no tenant', (a) => {
      delete (a.channelData as Record<string, unknown>).tenant;
      delete (a.conversation as Record<string, unknown>).tenantId;
    });
    expect(turns).toHaveLength(0);
    expect(connector.requests).toHaveLength(0);
  });
});

describe('hostile HTTP', () => {
  it('rejects oversized, non-JSON and typeless bodies before any turn runs', async () => {
    const big = await teams.post({ ...(await teams.message(personas.requester, 'x')).activity, text: 'a'.repeat(300 * 1024) });
    expect(big.status).toBe(413);
    const notJson = await fetch(`${bot.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
    expect(notJson.status).toBe(400);
    const typeless = await teams.post({ id: '1', channelId: 'msteams' });
    expect(typeless.status).toBe(400);
    expect(typeless.body).toEqual({ code: 'BadRequest', message: 'The activity has no type.' });
    const array = await teams.post([{ type: 'message' }]);
    expect(array.status).toBe(400);
    const getMessages = await fetch(`${bot.url}/api/messages`);
    expect(getMessages.status).toBe(405);
    expect(turns.map((t) => t.text)).toEqual(['x']);
  });
});

describe('proactive', () => {
  it('continueConversationAsync on the adapter reaches the connector', async () => {
    const res = await teams.message(personas.requester, 'remember me');
    const reference = conversationRefOf(turns[0]!);
    connector.clearRequests();
    await bot.adapter.continueConversationAsync(bot.botAppId, reference, async (ctx) => {
      await ctx.sendActivity('proactive via adapter');
    });
    const conversationId = teams.personalConversationId(personas.requester);
    const message = await connector.waitFor(() => connector.messages(conversationId).find((m) => m.activity.text === 'proactive via adapter'));
    expect(message.conversationId).toBe(conversationId);
    expect(res.status).toBe(200);
  });

  it('proactive.continueConversation posts into a stored channel thread and rethrows a failure of the logic', async () => {
    const res = await teams.mention(personas.requester, channel, 'use this channel for audit');
    const reference = conversationRefOf(turns[0]!);
    await bot.proactive.continueConversation(reference, async (ctx) => {
      await ctx.sendActivity('audit: something happened');
    });
    const threadId = `${channel.channelId};messageid=${res.activity.id}`;
    await connector.waitFor(() => connector.messages(threadId).find((m) => m.activity.text === 'audit: something happened'));

    // teams-ai's app.error() sets onTurnError, which would swallow the error; the sender must still report it.
    bot.adapter.onTurnError = async () => {};
    try {
      connector.failNext(4, { status: 503, retryAfterSeconds: 0 });
      await expect(
        bot.proactive.continueConversation(reference, async (ctx) => {
          await ctx.sendActivity('will fail');
        }),
      ).rejects.toThrow();
    } finally {
      bot.adapter.onTurnError = undefined as never;
    }
  });

  it('createConversationAsync and proactive.createPersonalConversation open the 1:1 chat Teams already has with that user', async () => {
    await teams.mention(personas.approver, channel, 'hello');
    const channelRef = conversationRefOf(turns[0]!);
    const expectedId = teams.personalConversationId(personas.approver);

    const reference = await bot.proactive.createPersonalConversation(
      {
        serviceUrl: channelRef.serviceUrl!,
        tenantId: personas.approver.tenantId,
        user: { id: personas.approver.mri, name: personas.approver.name },
        bot: channelRef.bot as { id: string; name: string },
      },
      async (ctx) => {
        await ctx.sendActivity('here is your secret card');
      },
    );
    expect(reference.conversation?.id).toBe(expectedId);
    expect(reference.user?.id).toBe(personas.approver.mri);
    const create = connector.requests.find((r) => r.method === 'POST' && r.path === '/v3/conversations');
    expect(create!.body).toMatchObject({
      isGroup: false,
      bot: { id: teams.bot.id },
      members: [{ id: personas.approver.mri }],
      tenantId: personas.approver.tenantId,
      channelData: { tenant: { id: personas.approver.tenantId } },
    });
    const message = await connector.waitFor(() => connector.messages(expectedId).find((m) => m.activity.text === 'here is your secret card'));
    // botbuilder gives the create-conversation turn the conversation id as activity id, so the first send is a
    // "reply" to the conversation itself (POST …/activities/{conversationId}).
    expect(message.replyToId).toBe(expectedId);

    // The returned reference works for later proactive sends (e.g. "your secret expired").
    await bot.proactive.continueConversation(reference, async (ctx) => {
      await ctx.sendActivity('later, in the same chat');
    });
    const later = await connector.waitFor(() => connector.messages(expectedId).find((m) => m.activity.text === 'later, in the same chat'));
    expect((later.activity.recipient as { id: string }).id).toBe(personas.approver.mri);

    // The raw adapter API works the same way.
    await bot.adapter.createConversationAsync(
      bot.botAppId,
      'msteams',
      channelRef.serviceUrl!,
      'https://api.botframework.com',
      { isGroup: false, bot: channelRef.bot, members: [{ id: personas.nonAdmin.mri, name: personas.nonAdmin.name }], tenantId: personas.nonAdmin.tenantId } as never,
      async (ctx) => {
        await ctx.sendActivity('raw create');
      },
    );
    const rawId = teams.personalConversationId(personas.nonAdmin);
    await connector.waitFor(() => connector.messages(rawId).find((m) => m.activity.text === 'raw create'));
  });
});

describe('connector faults (botbuilder\'s connector client retries 3 times, honouring Retry-After)', () => {
  it('a single 503 is retried and the message is delivered', async () => {
    connector.failNext(1, { status: 503, retryAfterSeconds: 0 });
    await teams.message(personas.requester, 'send under a blip');
    const posts = connector.requests.filter((r) => r.method === 'POST');
    expect(posts.map((r) => r.status)).toEqual([503, 201]);
    expect(connector.messages(teams.personalConversationId(personas.requester)).at(-1)!.activity.text).toBe('echo: send under a blip');
  });

  it('four 503s in a row surface to the turn as an error carrying the status', async () => {
    let failure: { statusCode?: number } | null = null;
    onMessage = async (ctx) => {
      try {
        await ctx.sendActivity('first try');
      } catch (err) {
        failure = err as { statusCode?: number };
      }
    };
    connector.failNext(4, { status: 503, retryAfterSeconds: 0 });
    await teams.message(personas.requester, 'send under outage');
    expect(failure).not.toBeNull();
    expect(failure!.statusCode).toBe(503);
    expect(connector.requests.filter((r) => r.method === 'POST').map((r) => r.status)).toEqual([503, 503, 503, 503]);
  });

  it('a 429 is retried after the Retry-After the connector asked for', async () => {
    connector.failNext(1, { status: 429, retryAfterSeconds: 1 });
    await teams.message(personas.requester, 'send while throttled');
    const posts = connector.requests.filter((r) => r.method === 'POST');
    expect(posts.map((r) => r.status)).toEqual([429, 201]);
    expect(posts[0]!.fault).toBe(true);
    expect(posts[1]!.at - posts[0]!.at).toBeGreaterThanOrEqual(900);
  });

  it('failNext can target only some calls (here: updates)', async () => {
    let updateError: { statusCode?: number } | null = null;
    onMessage = async (ctx) => {
      const sent = await ctx.sendActivity('to be edited');
      try {
        await ctx.updateActivity({ id: sent!.id, type: 'message', text: 'edited' });
      } catch (err) {
        updateError = err as { statusCode?: number };
      }
    };
    connector.failNext(4, { status: 503, retryAfterSeconds: 0, match: (r) => r.method === 'PUT' });
    await teams.message(personas.requester, 'edit under outage');
    expect(updateError!.statusCode).toBe(503);
    expect(connector.requests.filter((r) => r.method === 'POST').map((r) => r.status)).toEqual([201]);
  });

  it('failShare answers a share of calls with the fault', async () => {
    let failed = 0;
    onMessage = async (ctx) => {
      for (let i = 0; i < 20; i++) await ctx.sendActivity(`n${i}`).catch(() => void (failed += 1));
    };
    connector.failShare(0.3, { status: 503, retryAfterSeconds: 0 });
    await teams.message(personas.requester, 'many');
    connector.clearFaults();
    const posts = connector.requests.filter((r) => r.method === 'POST');
    const faults = posts.filter((r) => r.fault).length;
    expect(faults).toBeGreaterThan(0);
    expect(faults / posts.length).toBeGreaterThan(0.1);
    expect(faults / posts.length).toBeLessThan(0.5);
    const delivered = connector.messages(teams.personalConversationId(personas.requester)).filter((m) => /^n\d+$/.test(String(m.activity.text)));
    expect(delivered.length + failed).toBe(20);
  });
});
