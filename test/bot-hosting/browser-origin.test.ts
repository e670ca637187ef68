import { afterAll, beforeAll, expect, it } from 'vitest';
import { startBotHarness, type BotHarness } from '../harness/bot-harness';

let h: BotHarness;
let turns = 0;
beforeAll(async () => {
  h = await startBotHarness({ onTurn: async () => void turns++ });
});
afterAll(async () => {
  await h?.close();
});

it('local mode refuses requests a web page in the admin’s browser could send, and still serves Teams-shaped posts', async () => {
  const activity = (await h.teams.message(h.personas.requester, 'first')).activity;
  const before = turns;
  const browserHeaders: Record<string, string>[] = [{ origin: 'https://evil.example' }, { 'sec-fetch-site': 'cross-site' }, { origin: 'null' }];
  for (const headers of browserHeaders) {
    const res = await fetch(`${h.bot.url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ ...activity, id: `x-${Math.random()}` }),
    });
    expect(res.status).toBe(403);
  }
  expect(turns).toBe(before);
  const ok = await fetch(`${h.bot.url}/api/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...activity, id: 'plain' }),
  });
  expect(ok.status).toBe(200);
  expect(turns).toBe(before + 1);
});
