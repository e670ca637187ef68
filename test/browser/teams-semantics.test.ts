/**
 * The playground behaves like Teams for any bot, pinned in a real browser with a small purpose-built bot (real
 * restify + TeamsAdapter host from src/bot/host/server.ts): client-side input validation, invoke responses replace the
 * card only for the clicker, message updates apply for everyone and re-trigger refresh, `refresh.userIds` makes
 * exactly the listed people's clients invoke automatically, channel posts reach the bot only with an @mention,
 * a proactive 1:1 lands in that person's chat, and a typed name full of markdown reads as typed on a real card.
 * docs/teams-facts.md §2 and §3.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CardFactory, MessageFactory, type TurnContext } from 'botbuilder';
import type { Browser, Page } from 'playwright-core';
import { readBotConfig } from '../../src/bot/host/config';
import { approvalCard } from '../../src/cards/approval';
import { sampleApproval } from '../../src/cards/gallery';
import { startBotServer, type BotServer } from '../../src/bot/host/server';
import type { Persona } from '../../src/playground/personas';
import { startPlayground, type Playground } from '../../src/playground/server';
import { mriFor } from '../../src/playground/world';
import { asPersona, botMessageWith, eventually, launchBrowser, openChannel, openChat, openPage, screenshot, type } from './browser';

const TENANT = randomUUID();
const person = (key: Persona['key'], id: string, name: string): Persona => ({
  key,
  role: key,
  aadObjectId: id,
  mri: mriFor(id),
  name,
  upn: `${key.toLowerCase()}@example.test`,
  tenantId: TENANT,
});
const requester = person('requester', randomUUID(), 'Rita Requester');
const approver = person('approver', randomUUID(), 'Arne Approver');
const nonAdmin = person('nonAdmin', randomUUID(), 'Nils Nobody');
const MARKDOWN_NAME = '*Opter* _Mail_ `x` {{DATE(2026-03-02T14:00:00Z)}} <b>z</b>';

interface SeenInvoke {
  verb: string;
  trigger: string;
  from: string;
  replyToId: string;
  data: Record<string, unknown>;
}

function card(title: string, opts: { refreshFor?: string[]; inputs?: boolean } = {}): Record<string, unknown> {
  const body: unknown[] = [{ type: 'TextBlock', text: title, weight: 'Bolder', wrap: true }];
  if (opts.inputs) {
    body.push({ type: 'Input.Text', id: 'word', label: 'A lower-case word', isRequired: true, regex: '^[a-z]+$', errorMessage: 'Only lower-case letters.' });
  }
  const json: Record<string, unknown> = {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: '1.5',
    body,
    actions: [
      { type: 'Action.Execute', title: 'Echo', verb: 'echo', associatedInputs: opts.inputs ? 'auto' : 'none', data: { n: 1 } },
      { type: 'Action.Execute', title: 'Bump', verb: 'bump', associatedInputs: 'none' },
      { type: 'Action.Execute', title: 'Settle', verb: 'settle', associatedInputs: 'none' },
    ],
  };
  if (opts.refreshFor) json.refresh = { action: { type: 'Action.Execute', verb: 'view', data: { n: 2 } }, userIds: opts.refreshFor };
  return json;
}

function invokeResponse(ctx: TurnContext, body: Record<string, unknown>): Promise<unknown> {
  return ctx.sendActivity({ type: 'invokeResponse', value: { status: 200, body } });
}

describe('playground: Teams semantics in a real browser', () => {
  let dataDir: string;
  let bot: BotServer;
  let playground: Playground;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  const invokes: SeenInvoke[] = [];
  const messagesSeen: string[] = [];
  let bumps = 0;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'playground-semantics-'));
    const config = readBotConfig({ AZURE_TENANT_ID: TENANT, ADMINS: `${requester.aadObjectId},${approver.aadObjectId}`, PORT: '0' });
    bot = await startBotServer({
      config,
      logger: { info: () => {}, warn: () => {}, error: () => {} },
      onTurn: async (ctx) => {
        const a = ctx.activity;
        if (a.type === 'message') {
          const text = (a.text ?? '').replace(/<at>[^<]*<\/at>/g, '').trim();
          messagesSeen.push(text);
          if (text === 'card') await ctx.sendActivity(MessageFactory.attachment(CardFactory.adaptiveCard(card('A card for you', { inputs: true }))));
          else if (text === 'poll') await ctx.sendActivity(MessageFactory.attachment(CardFactory.adaptiveCard(card('Shared view', { refreshFor: [approver.mri], inputs: true }))));
          else if (text === 'markdown name') {
            const plan = { ...sampleApproval.plan, appDisplayName: MARKDOWN_NAME };
            await ctx.sendActivity(MessageFactory.attachment(CardFactory.adaptiveCard(approvalCard({ ...sampleApproval, plan }))));
          } else if (text === 'dm approver') {
            await bot.proactive.createPersonalConversation(
              { serviceUrl: a.serviceUrl, tenantId: TENANT, user: { id: approver.mri, name: approver.name }, bot: { id: a.recipient.id, name: a.recipient.name } },
              async (proactive) => void (await proactive.sendActivity('Hello Arne, this came to you proactively.')),
            );
            await ctx.sendActivity('Sent.');
          } else await ctx.sendActivity(`You wrote: ${text}`);
          return;
        }
        if (a.type === 'invoke' && a.name === 'adaptiveCard/action') {
          const value = a.value as { action: { verb: string; data: Record<string, unknown> }; trigger: string };
          invokes.push({ verb: value.action.verb, trigger: value.trigger, from: a.from.id, replyToId: a.replyToId ?? '', data: value.action.data });
          if (value.action.verb === 'echo') {
            await invokeResponse(ctx, { statusCode: 200, type: 'application/vnd.microsoft.card.adaptive', value: card(`${a.from.name} said ${String(value.action.data.word ?? '(nothing)')}`) });
          } else if (value.action.verb === 'view') {
            await invokeResponse(ctx, { statusCode: 200, type: 'application/vnd.microsoft.card.adaptive', value: card(`Private view for ${a.from.name}`) });
          } else if (value.action.verb === 'bump') {
            bumps += 1;
            const updated = card(`Bumped ${bumps} by ${a.from.name}`, { refreshFor: [approver.mri] });
            await ctx.updateActivity({ type: 'message', id: a.replyToId, attachments: [CardFactory.adaptiveCard(updated)] });
            await invokeResponse(ctx, { statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: 'Bumped for everyone.' });
          } else if (value.action.verb === 'settle') {
            // teams-ai's REPLACE_FOR_ALL: edit for everyone, and answer the clicker with the very same card.
            const settled = card(`Settled by ${a.from.name}`);
            await ctx.updateActivity({ type: 'message', id: a.replyToId, attachments: [CardFactory.adaptiveCard(settled)] });
            await invokeResponse(ctx, { statusCode: 200, type: 'application/vnd.microsoft.card.adaptive', value: settled });
          }
        }
      },
    });
    playground = await startPlayground({ botUrl: bot.url, tenantId: TENANT, personas: [requester, approver, nonAdmin], simulator: null, port: 0, logger: { info: () => {}, warn: () => {} } });
    browser = await launchBrowser();
    page = await openPage(browser, playground.url, pageErrors);
  });

  afterAll(async () => {
    await browser?.close();
    await playground?.close();
    await bot?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('validates inputs in the page before anything reaches the bot, then sends them with the invoke', async () => {
    await asPersona(page, 'requester');
    await openChat(page);
    await type(page, 'card');
    const first = botMessageWith(page, 'A card for you');
    await first.waitFor();
    // Pin the message itself: its card text changes below.
    const message = page.locator(`#conversation [data-message-id="${await first.getAttribute('data-message-id')}"]`);

    await message.getByRole('button', { name: 'Echo' }).click();
    await expect.poll(() => message.getByText('Only lower-case letters.').isVisible()).toBe(true);
    await message.getByLabel('A lower-case word').fill('Hello1');
    await message.getByRole('button', { name: 'Echo' }).click();
    await expect.poll(() => message.getByText('Only lower-case letters.').isVisible()).toBe(true);
    expect(invokes).toHaveLength(0);

    await message.getByLabel('A lower-case word').fill('hello');
    await message.getByRole('button', { name: 'Echo' }).click();
    await message.getByText('Rita Requester said hello').waitFor();
    expect(invokes).toEqual([expect.objectContaining({ verb: 'echo', trigger: 'manual', from: requester.mri, data: { n: 1, word: 'hello' } })]);
    await expect.poll(() => message.getByTestId('private-note').isVisible()).toBe(true);
  });

  it('delivers channel posts only when they @mention the bot', async () => {
    await openChannel(page, 'requests');
    await type(page, 'just chatting');
    await page.getByTestId('composer-hint').getByText('only reads channel posts that @mention it').waitFor();
    expect(messagesSeen).not.toContain('just chatting');

    const input = page.locator('#conversation > .composer-area').getByTestId('composer-input');
    await input.fill('@Opt');
    await page.getByTestId('mention-option').click();
    await expect.poll(() => input.inputValue()).toBe('@Opter Mail ');
    await input.pressSequentially('poll');
    await input.press('Enter');
    await botMessageWith(page, 'Shared view').waitFor();
    expect(messagesSeen).toContain('poll');
    // The bot's answer lands in the thread the post started.
    const thread = page.getByTestId('thread').filter({ hasText: 'Shared view' });
    await expect.poll(() => thread.getByTestId('message').count()).toBe(2);
  });

  it('refresh.userIds: only the listed person’s client invokes automatically, and only they see the private view', async () => {
    const shared = botMessageWith(page, /Shared view|Private view|said|Bumped/);
    // The requester is not listed: no automatic invoke from them.
    await page.waitForTimeout(500);
    expect(invokes.filter((i) => i.trigger === 'automatic')).toHaveLength(0);
    await expect.poll(() => shared.getByTestId('card').getAttribute('data-card-view')).toBe('shared');

    await asPersona(page, 'approver');
    await openChannel(page, 'requests');
    await botMessageWith(page, 'Private view for Arne Approver').waitFor();
    const auto = invokes.filter((i) => i.trigger === 'automatic');
    expect(auto).toEqual([expect.objectContaining({ verb: 'view', from: approver.mri, data: { n: 2 } })]);
    await screenshot(page, 'semantics-approver-private-view');

    await asPersona(page, 'nonAdmin');
    await openChannel(page, 'requests');
    await botMessageWith(page, 'Shared view').waitFor();
    expect(invokes.filter((i) => i.trigger === 'automatic')).toHaveLength(1);
  });

  it('an invoke response replaces the card for the clicker only; a message update applies to everyone and re-triggers refresh', async () => {
    await asPersona(page, 'requester');
    await openChannel(page, 'requests');
    const message = botMessageWith(page, 'Shared view');
    await message.getByLabel('A lower-case word').fill('mine');
    await message.getByRole('button', { name: 'Echo' }).click();
    await botMessageWith(page, 'Rita Requester said mine').waitFor();

    await asPersona(page, 'nonAdmin');
    await openChannel(page, 'requests');
    const forNils = botMessageWith(page, 'Shared view');
    await forNils.waitFor();
    expect(await page.getByText('Rita Requester said mine').count()).toBe(0);

    // Nils bumps: the bot edits the message for everyone and answers Nils with a transient message.
    await forNils.getByRole('button', { name: 'Bump' }).click();
    await page.getByTestId('notice').getByText('Bumped for everyone.').waitFor();
    await botMessageWith(page, 'Bumped 1 by Nils Nobody').waitFor();

    await asPersona(page, 'requester');
    await openChannel(page, 'requests');
    // Rita's private view belonged to the old version of the message.
    await botMessageWith(page, 'Bumped 1 by Nils Nobody').waitFor();
    expect(await page.getByText('Rita Requester said mine').count()).toBe(0);
    await expect.poll(() => botMessageWith(page, 'Bumped 1').getByText('Edited').isVisible()).toBe(true);

    // Arne is listed in the updated card's refresh: looking again makes his client invoke again.
    await asPersona(page, 'approver');
    await openChannel(page, 'requests');
    await botMessageWith(page, 'Private view for Arne Approver').waitFor();
    await eventually('a second automatic invoke from the approver', () => invokes.filter((i) => i.trigger === 'automatic' && i.from === approver.mri).length === 2);
  });

  it('an invoke response identical to the edited message is not presented as a private view', async () => {
    await asPersona(page, 'requester');
    await openChat(page);
    const first = botMessageWith(page, /said hello/);
    const message = page.locator(`#conversation [data-message-id="${await first.getAttribute('data-message-id')}"]`);
    await message.getByRole('button', { name: 'Settle' }).click();
    await message.getByText('Settled by Rita Requester').waitFor();
    await expect.poll(() => message.getByTestId('card').getAttribute('data-card-view')).toBe('shared');
    expect(await message.getByTestId('private-note').count()).toBe(0);
  });

  it('a name full of markdown on the real approval card reads as typed: no emphasis, code, HTML or date made of it', async () => {
    await asPersona(page, 'requester');
    await openChat(page);
    await type(page, 'markdown name');
    const card = botMessageWith(page, 'Approval needed').getByTestId('card');
    await card.waitFor();
    expect(await card.innerText()).toContain(`${MARKDOWN_NAME} (new, single tenant)`);
    const html = await card.innerHTML();
    expect(html).not.toMatch(/<(em|code|a|del|b)\b/);
    // The card's own bold word is the only emphasis.
    expect([...html.matchAll(/<strong>(.*?)<\/strong>/g)].map((m) => m[1])).toEqual(['Mail.Send']);
  });

  it('a proactive 1:1 message opens (or reuses) the person’s own chat and shows as unread there', async () => {
    await asPersona(page, 'requester');
    await openChat(page);
    await type(page, 'dm approver');
    await botMessageWith(page, 'Sent.').waitFor();
    await asPersona(page, 'approver');
    await page.getByTestId('nav-chat').getByTestId('unread').waitFor();
    await openChat(page);
    await botMessageWith(page, 'this came to you proactively').waitFor();
    // The same 1:1 conversation Teams would reuse: the playground holds one per person.
    const chats = playground.world.allMessages().filter((m) => m.from.isBot && String(m.activity.text).includes('proactively'));
    expect(chats).toHaveLength(1);
    expect(chats[0]!.conversationId).toBe(playground.world.personalConversationOf(approver).id);
    expect(pageErrors).toEqual([]);
  });
});
