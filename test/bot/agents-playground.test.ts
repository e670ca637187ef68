/**
 * Microsoft 365 Agents Playground (0.2.28) as a client of the real bot, replayed over HTTP with the shapes it sends
 * (docs/playground.md): an `adaptiveCard/action` invoke whose value is only `{ action: { type, verb, data } }` — no
 * `trigger`, no action id —, the installationUpdate + conversationUpdate pair it sends on every page load, and the
 * `HEAD /api/messages` probe. The Agents Playground itself is not run here (it needs network access at start).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/sim';
import { buildChannelMention, buildPersonalMessage, channelFor, type Activity, type Persona } from '../harness/teams-client';
import {
  approvalCopy,
  bodyOf,
  cardOf,
  click,
  errorCodeOf,
  greet,
  hasVerb,
  messagesWithCard,
  personalId,
  progressCardIn,
  secretCardIn,
  startTestBot,
  startTestSimulator,
  submitSetup,
  textOf,
  type TestBot,
} from './helpers';

let sim: Simulator;
let t: TestBot;

beforeAll(async () => {
  sim = await startTestSimulator();
  t = await startTestBot({ sim });
});
afterAll(async () => {
  await t?.close();
  await sim?.close();
});

const PLAINTEXT = /^Ms Graph Client Secret\s+: (\S+)$/m;

/** An Action.Execute click exactly as the Agents Playground sends it: no trigger, no action id. */
function playgroundClick(who: Persona, message: { id: string; conversationId: string }, verb: string, data: Record<string, unknown>) {
  return t.teams.invoke(who, { conversation: { conversationType: 'personal', tenantId: who.tenantId, id: message.conversationId }, replyToId: message.id, verb, data }, (a) => {
    a.value = { action: { type: 'Action.Execute', verb, data } };
  });
}

/** One page load of the Agents Playground: installationUpdate (add), then conversationUpdate with the bot added. */
async function pageLoad(who: Persona, action: 'add' | 'remove' = 'add'): Promise<void> {
  const envelope = { from: who, bot: t.teams.bot, serviceUrl: t.connector.url };
  const install = buildPersonalMessage(envelope, '') as Activity & Record<string, unknown>;
  delete install.text;
  install.type = 'installationUpdate';
  install.action = action;
  expect((await t.teams.send(install, who)).status).toBe(200);
  if (action === 'remove') return;
  const update = buildPersonalMessage(envelope, '') as Activity & Record<string, unknown>;
  delete update.text;
  update.type = 'conversationUpdate';
  update.membersAdded = [{ id: t.teams.bot.id, name: t.teams.bot.name }];
  expect((await t.teams.send(update, who)).status).toBe(200);
}

function helpCards(who: Persona) {
  return messagesWithCard(t.connector, personalId(t, who), (c) => hasVerb(c, 'start-setup') || hasVerb(c, 'status'));
}

describe('welcome', () => {
  it('says hello once per install, however often the page is loaded; a new install after an uninstall is welcomed again', async () => {
    const who = t.personas.requester;
    for (let load = 0; load < 3; load++) await pageLoad(who);
    await t.connector.waitFor(() => (helpCards(who).length >= 1 ? true : undefined));
    await t.bot.idle();
    expect(helpCards(who)).toHaveLength(1);

    await pageLoad(who, 'remove');
    await pageLoad(who);
    await pageLoad(who);
    await t.connector.waitFor(() => (helpCards(who).length >= 2 ? true : undefined));
    expect(helpCards(who)).toHaveLength(2);
    // "help" typed by the person still answers every time.
    await t.teams.message(who, 'help');
    await t.connector.waitFor(() => (helpCards(who).length >= 3 ? true : undefined));
    expect(helpCards(who)).toHaveLength(3);
  });

  it('welcomes each person in their own chat, and never in a channel', async () => {
    const who = t.personas.nonAdmin;
    await pageLoad(who);
    await pageLoad(who);
    await t.connector.waitFor(() => (helpCards(who).length >= 1 ? true : undefined));
    expect(helpCards(who)).toHaveLength(1);
    expect(textOf(cardOf(helpCards(who)[0]))).toMatch(/cannot make requests/);

    // Installed in a team: nothing is posted into the channel.
    const channel = channelFor(who.tenantId, 'playground-team');
    t.teams.addChannel(channel, [who]);
    const seen = t.connector.allMessages().length;
    const update = buildChannelMention({ from: who, bot: t.teams.bot, serviceUrl: t.connector.url }, channel, '') as Activity & Record<string, unknown>;
    delete update.text;
    delete update.entities;
    update.type = 'conversationUpdate';
    update.membersAdded = [{ id: t.teams.bot.id }];
    expect((await t.teams.send(update, who)).status).toBe(200);
    await t.bot.idle();
    expect(t.connector.allMessages().slice(seen)).toEqual([]);
  });
});

describe('the HTTP endpoint', () => {
  it('answers the HEAD /api/messages probe without an error, and processes nothing', async () => {
    const res = await fetch(`${t.bot.url}/api/messages`, { method: 'HEAD', signal: AbortSignal.timeout(5_000) });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
  });
});

describe('Reveal secret without a trigger', () => {
  it('reveals to the requester, once; someone else is refused; a refresh ("automatic") still never reveals', async () => {
    const { requester, approver } = t.personas;
    await greet(t, approver);
    const { requestId } = await submitSetup(t, { appName: 'Opter Agents Playground', senders: [sim.mailboxes.info] });
    const copy = await approvalCopy(t, requestId, personalId(t, approver));
    // The Agents Playground's Approve click has no trigger either.
    const approved = bodyOf(await playgroundClick(approver, copy, 'approve', { requestId }));
    expect(textOf(approved.value)).toContain(`Approved by ${approver.name}`);
    await progressCardIn(t, personalId(t, requester), requestId, /Finished and verified/);
    const secretMsg = await secretCardIn(t, personalId(t, requester), requestId);

    const refresh = await click(t, requester, secretMsg, 'reveal', {}, { trigger: 'automatic' });
    expect(errorCodeOf(refresh)).toBe('E_ACTION_NOT_CLICKED');
    expect(errorCodeOf(await playgroundClick(approver, secretMsg, 'reveal', { requestId }))).toBe('E_NOT_REQUESTER');
    expect(t.bot.store.secrets.get(requestId)!.state).toBe('sealed');

    const revealed = bodyOf(await playgroundClick(requester, secretMsg, 'reveal', { requestId }));
    expect(revealed.type).toBe('application/vnd.microsoft.card.adaptive');
    expect(textOf(revealed.value)).toMatch(PLAINTEXT);
    expect(t.bot.store.secrets.get(requestId)!.state).toBe('revealed');
    const again = bodyOf(await playgroundClick(requester, secretMsg, 'reveal', { requestId }));
    expect(again.value).toMatchObject({ code: 'E_SECRET_ALREADY_REVEALED' });
  });
});
