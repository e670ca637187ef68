/**
 * The playground server over real HTTP with botbuilder's own ConnectorClient on the other side (the bot host from
 * src/bot/server.ts): percent-encoded ids, per-person views, invoke pass-through, the simulated tenant panel without
 * secret values, fault knobs, and the guards that keep other web pages and other host names out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CardFactory, MessageFactory } from 'botbuilder';
import { readBotConfig } from '../bot/host/config';
import { startBotServer, type BotServer } from '../bot/host/server';
import { DEFAULT_TEST_TLS_DIR, startSimulator, type Simulator } from '../sim';
import { simulatorPersonas, type Persona } from './personas';
import { startPlayground, type Playground, type PersonaView } from './server';

describe('playground server', () => {
  let sim: Simulator;
  let bot: BotServer;
  let pg: Playground;
  let personas: Persona[];
  const seen: Array<{ type: string; conversation: string; text?: string; trigger?: string }> = [];

  beforeAll(async () => {
    sim = await startSimulator({ tlsDir: DEFAULT_TEST_TLS_DIR });
    personas = simulatorPersonas(sim.snapshot().users, sim.tenantId, sim.domain);
    const [requester, approver] = personas;
    bot = await startBotServer({
      config: readBotConfig({ AZURE_TENANT_ID: sim.tenantId, ADMINS: `${requester!.aadObjectId},${approver!.aadObjectId}`, PORT: '0' }),
      logger: { info: () => {}, warn: () => {}, error: () => {} },
      onTurn: async (ctx) => {
        const a = ctx.activity;
        seen.push({ type: a.type, conversation: a.conversation.id, text: a.text, trigger: (a.value as { trigger?: string } | undefined)?.trigger });
        if (a.type === 'message') {
          const sent = await ctx.sendActivity(
            MessageFactory.attachment(
              CardFactory.adaptiveCard({ type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock', text: `echo ${a.text}` }], actions: [{ type: 'Action.Execute', verb: 'go', title: 'Go' }] }),
            ),
          );
          await ctx.updateActivity({ id: sent!.id, type: 'message', text: `edited echo of ${a.text}` });
        }
        if (a.type === 'invoke') {
          await ctx.sendActivity({ type: 'invokeResponse', value: { status: 200, body: { statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: `clicked ${(a.value as { action: { verb: string } }).action.verb}` } } });
        }
      },
    });
    pg = await startPlayground({ botUrl: bot.url, tenantId: sim.tenantId, personas, simulator: sim, port: 0, logger: { info: () => {}, warn: () => {} } });
  });

  afterAll(async () => {
    await pg?.close();
    await bot?.close();
    await sim?.close();
  });

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${pg.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const view = async (persona: string) => (await (await fetch(`${pg.url}/api/view?persona=${persona}`)).json()) as PersonaView;

  it('plays the real seeded users of the simulated tenant', () => {
    expect(personas.map((p) => [p.key, p.upn])).toEqual([
      ['requester', `admin@${sim.domain}`],
      ['approver', `vd@${sim.domain}`],
      ['nonAdmin', `ingenbrevlada@${sim.domain}`],
    ]);
    const users = sim.snapshot().users;
    for (const p of personas) expect(users.find((u) => u.userPrincipalName === p.upn)!.id).toBe(p.aadObjectId);
  });

  it('told the bot on first start that it was installed in the team and in each personal scope', () => {
    const updates = seen.filter((s) => s.type === 'conversationUpdate').map((s) => s.conversation);
    expect(updates).toEqual([pg.world.team.id, ...personas.map((p) => pg.world.personalConversationOf(p).id)]);
  });

  it('delivers a 1:1 message, takes botbuilder’s URL-encoded replies and edits, and shows each person only their own chat', async () => {
    const res = await post('/api/send', { persona: 'requester', text: 'hello bot' });
    expect(await res.json()).toMatchObject({ delivered: true });
    const chatId = pg.world.personalConversationOf(personas[0]!).id;
    await expect.poll(async () => (await view('requester')).chat.messages.map((m) => m.text)).toEqual(['hello bot', 'edited echo of hello bot']);
    const mine = await view('requester');
    expect(mine.chat.id).toBe(chatId);
    expect(mine.chat.messages[1]).toMatchObject({ from: { isBot: true, isMe: false }, version: 2 });
    expect(mine.chat.messages[0]).toMatchObject({ from: { isMe: true } });
    expect((await view('approver')).chat.messages).toEqual([]);
  });

  it('delivers a channel post only with an @mention, as a thread the bot answers in', async () => {
    expect(await (await post('/api/send', { persona: 'approver', channel: 'requests', text: 'no mention here' })).json()).toMatchObject({ delivered: false });
    const sent = (await (await post('/api/send', { persona: 'approver', channel: 'requests', text: '@Opter Mail status please' })).json()) as { id: string; delivered: boolean };
    expect(sent.delivered).toBe(true);
    await expect.poll(async () => (await view('nonAdmin')).channels.find((c) => c.key === 'requests')!.threads.find((t) => t.root.id === sent.id)?.replies.length).toBe(1);
    const delivered = seen.filter((s) => s.type === 'message' && s.conversation.includes(';messageid='));
    expect(delivered.map((d) => d.text)).toEqual(['<at>Opter Mail</at> status please']);
  });

  it('passes a card click to the bot as the clicking person and hands back the invoke response with the message version', async () => {
    const card = (await view('requester')).chat.messages[1]!;
    const res = await post('/api/invoke', { persona: 'requester', messageId: card.id, action: { verb: 'go', data: { x: '1' } }, trigger: 'manual' });
    expect(await res.json()).toMatchObject({ status: 200, version: 2, body: { type: 'application/vnd.microsoft.activity.message', value: 'clicked go' } });
    expect(seen.at(-1)).toMatchObject({ type: 'invoke', trigger: 'manual' });
    // Someone who cannot see the message cannot click it.
    expect((await post('/api/invoke', { persona: 'approver', messageId: card.id, action: { verb: 'go' } })).status).toBe(404);
  });

  it('shows the simulated tenant without any secret value or hint, and marks what is new', async () => {
    const res = await fetch(`${pg.url}/api/tenant`);
    const text = await res.text();
    const panel = JSON.parse(text);
    expect(panel).toMatchObject({ simulated: true, tenantId: sim.tenantId });
    const provisioning = panel.apps.find((a: { displayName: string }) => a.displayName === 'Opter provisioning (simulator)');
    expect(provisioning.secrets).toEqual([{ keyId: expect.any(String), displayName: 'simulator provisioning secret', startDateTime: expect.any(String), endDateTime: '2099-12-31T00:00:00Z' }]);
    expect(provisioning.isNew).toBe(false);
    expect(text).not.toContain(sim.provisioning.clientSecret);
    expect(text).not.toMatch(/"hint"|secretText/);
    expect(panel.grants).toContainEqual(expect.objectContaining({ resource: 'Office 365 Exchange Online', permission: 'Exchange.ManageAsApp' }));
    expect(panel.groups).toContainEqual(expect.objectContaining({ primarySmtpAddress: `alla@${sim.domain}`, members: [`info@${sim.domain}`, `faktura@${sim.domain}`, `vd@${sim.domain}`] }));
    // The mailboxes that exist, so a person knows what to type as a sender (not the contact, not the user without one).
    expect(panel.mailboxes).toEqual(
      ['admin', 'faktura', 'info', 'kundtjanst', 'vd'].map((alias) => ({ address: `${alias}@${sim.domain}`, displayName: expect.any(String), type: alias === 'kundtjanst' ? 'SharedMailbox' : 'UserMailbox' })),
    );
    expect(panel.mailboxes.find((m: { address: string }) => m.address === `kundtjanst@${sim.domain}`).displayName).toBe('Kundtjänst');
  });

  it('turns the fault knobs of the simulator and refuses nonsense', async () => {
    const res = await post('/api/faults', { latencyMs: 25, replicationDelayMs: 1500, throttleShare: 0.2 });
    expect(await res.json()).toEqual({ latencyMs: 25, replicationDelayMs: 1500, throttleShare: 0.2 });
    expect(sim.faults()).toMatchObject({ latencyMs: 25, replicationDelayMs: 1500, throttle: { share: 0.2, retryAfterSeconds: 1 } });
    expect((await post('/api/faults', { throttleShare: 2 })).status).toBe(400);
    await post('/api/faults', { latencyMs: 0, replicationDelayMs: 0, throttleShare: 0 });
    expect(sim.faults()).toMatchObject({ latencyMs: 0, replicationDelayMs: 0, throttle: null });
  });

  it('keeps other web pages and other host names out', async () => {
    expect((await post('/api/send', { persona: 'requester', text: 'x' }, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await fetch(`${pg.url}/api/send`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' })).status).toBe(415);
    // fetch refuses to set Host; a raw request shows what a DNS-rebinding page would send.
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${pg.url}/api/bootstrap`, { headers: { host: `attacker.example:${pg.port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(421);
    expect((await post('/api/send', { persona: 'mallory', text: 'x' })).status).toBe(400);
    // A web page cannot post into the chats through the connector either (browsers send Origin on such writes).
    const chat = pg.world.personalConversationOf(personas[0]!).id;
    const forged = await fetch(`${pg.serviceUrl}v3/conversations/${encodeURIComponent(chat)}/activities`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', origin: 'https://evil.example' },
      body: JSON.stringify({ type: 'message', text: 'Click here to approve' }),
    });
    expect(forged.status).toBe(403);
    expect(pg.world.messagesIn(chat).some((m) => m.activity.text === 'Click here to approve')).toBe(false);
  });

  it('serves the page with a strict CSP and the official Adaptive Cards renderer', async () => {
    const page = await fetch(`${pg.url}/`);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('/vendor/adaptivecards.min.js');
    const renderer = await (await fetch(`${pg.url}/vendor/adaptivecards.min.js`)).text();
    expect(renderer).toContain('AdaptiveCards');
  });
});
