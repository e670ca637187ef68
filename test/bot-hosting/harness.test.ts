import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBotHarness, type BotHarness } from '../harness/bot-harness';

describe.each([false, true])('startBotHarness (authenticated: %s)', (authenticated) => {
  let h: BotHarness;
  beforeAll(async () => {
    h = await startBotHarness({ authenticated, onTurn: async (ctx) => void (await ctx.sendActivity(`got ${ctx.activity.text}`)) });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('wires bot, connector and Teams client together in the requested mode', async () => {
    expect(h.config.mode).toBe(authenticated ? 'authenticated' : 'local');
    const res = await h.teams.message(h.personas.requester, 'ping');
    expect(res.status).toBe(200);
    const conversationId = h.teams.personalConversationId(h.personas.requester);
    await h.connector.waitFor(() => h.connector.messages(conversationId).find((m) => m.activity.text === 'got ping'));
    const post = h.connector.requests.find((r) => r.method === 'POST')!;
    if (authenticated) expect(h.identity!.isIssuedBotToken(post.headers.authorization as string)).toBe(true);
    else expect(post.headers.authorization).toBeUndefined();
  });

  it('rejects an unauthenticated post only in authenticated mode', async () => {
    const res = await fetch(`${h.bot.url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...(await h.teams.message(h.personas.requester, 'x')).activity, id: 'again' }),
    });
    expect(res.status).toBe(authenticated ? 401 : 200);
  });
});
