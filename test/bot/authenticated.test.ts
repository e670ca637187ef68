/**
 * The same conversations with authentication on (BOT_ID set): inbound activities carry channel tokens, and every
 * call the bot makes to the connector — replies, proactive approval copies, card edits, the new 1:1 chat for the
 * secret — must carry a bot token, or the fake connector answers 401 like the real one.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/sim';
import { startFakeBotIdentity, type FakeBotIdentity } from '../harness/fake-bot-identity';
import { startFakeConnector, type FakeConnector } from '../harness/fake-connector';
import { DEFAULT_BOT_APP_ID } from '../harness/teams-client';
import {
  TEST_BOT_PASSWORD,
  approvalCopy,
  bodyOf,
  channelFor,
  click,
  dataOf,
  cardOf,
  greet,
  hasVerb,
  personalId,
  progressCardIn,
  secretCardIn,
  startTestBot,
  startTestSimulator,
  textOf,
  waitForCard,
  type TestBot,
} from './helpers';

let sim: Simulator;
let identity: FakeBotIdentity;
let connector: FakeConnector;
let t: TestBot;

beforeAll(async () => {
  sim = await startTestSimulator();
  identity = await startFakeBotIdentity({ appId: DEFAULT_BOT_APP_ID, appPassword: TEST_BOT_PASSWORD });
  connector = await startFakeConnector({ authorize: (header) => identity.isIssuedBotToken(header) });
  // Authenticated deployments must configure the key (no key file is generated outside local mode).
  t = await startTestBot({ sim, connector, identity, env: { SECRET_ENCRYPTION_KEY: randomBytes(32).toString('base64') } });
});
afterAll(async () => {
  await t?.close();
  await connector?.close();
  await identity?.close();
  await sim?.close();
});

describe('authenticated mode', () => {
  it('runs a channel request to the revealed secret with a bot token on every connector call', async () => {
    expect(t.bot.config.mode).toBe('authenticated');
    expect(existsSync(join(t.dataDir, 'secret.key'))).toBe(false);
    const { requester, approver } = t.personas;
    const channel = channelFor(requester.tenantId, 'auth');
    t.teams.addChannel(channel, [requester, approver]);
    await greet(t, approver);

    const res = await t.teams.mention(requester, channel, 'set up opter mail');
    const form = await waitForCard(t, `${channel.channelId};messageid=${res.activity.id}`, (c) => hasVerb(c, 'submit-request'));
    const requestId = String(dataOf(cardOf(form), 'submit-request').requestId);
    await click(t, requester, form, 'submit-request', { appDisplayName: 'Opter Authenticated', senders: sim.mailboxes.info, secretValidYears: '1', scoping: 'access-policy' }, { channel });
    await click(t, approver, await approvalCopy(t, requestId, personalId(t, approver)), 'approve');
    await progressCardIn(t, form.conversationId, requestId, /Finished and verified/);
    const secretMsg = await secretCardIn(t, personalId(t, requester), requestId);
    const revealClick = await click(t, requester, secretMsg, 'reveal');
    const revealed = bodyOf(revealClick);
    expect(textOf(revealed.value)).toMatch(/^Ms Graph Client Secret\s+: \S+$/m);

    // The same click without a channel token is refused before the bot sees it.
    const unsigned = await fetch(`${t.bot.url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...revealClick.activity, id: 'f:unsigned' }),
    });
    expect(unsigned.status).toBe(401);

    const calls = connector.requests.filter((r) => r.path.startsWith('/v3/'));
    expect(calls.length).toBeGreaterThan(5);
    expect(calls.filter((r) => r.status === 401)).toHaveLength(0);
    for (const r of calls) expect(identity.isIssuedBotToken(r.headers.authorization as string)).toBe(true);
    expect(connector.createdConversations().some((c) => c.id === personalId(t, requester))).toBe(true);
  });
});
