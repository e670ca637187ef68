/**
 * The one-time secret: always in the requester's 1:1 chat (opened proactively when the request came from a
 * channel), revealed only by the requester's explicit click, exactly once even under 20 concurrent clicks, never by a
 * refresh, and purged — with its credential removed from the app — when nobody reveals it in time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/sim';
import type { FakeMessage } from '../harness/fake-connector';
import {
  HOUR,
  approvalCopy,
  bodyOf,
  cardOf,
  channelFor,
  click,
  dataOf,
  errorCodeOf,
  expectAllCardsValid,
  greet,
  hasVerb,
  personalId,
  progressCardIn,
  secretCardIn,
  startTestBot,
  startTestSimulator,
  submitSetup,
  textOf,
  waitForCard,
  type SetupInput,
  type TestBot,
} from './helpers';

let sim: Simulator;
let t: TestBot;

beforeAll(async () => {
  sim = await startTestSimulator();
  t = await startTestBot({ sim, env: { SECRET_REVEAL_TTL_HOURS: '24' } });
});
afterAll(async () => {
  await t?.close();
  await sim?.close();
});

async function provisionToSecret(input: SetupInput, progressIn?: string): Promise<{ requestId: string; secretMsg: FakeMessage }> {
  const { approver, requester } = t.personas;
  const { requestId } = await submitSetup(t, input);
  const copy = await approvalCopy(t, requestId, personalId(t, approver));
  expect(bodyOf(await click(t, approver, copy, 'approve')).type).toBe('application/vnd.microsoft.card.adaptive');
  await progressCardIn(t, progressIn ?? personalId(t, requester), requestId, /Finished and verified/);
  const secretMsg = await secretCardIn(t, personalId(t, requester), requestId);
  return { requestId, secretMsg };
}

const PLAINTEXT = /^Ms Graph Client Secret\s+: (\S+)$/m;

describe('the secret card', () => {
  it('goes to the requester’s 1:1 chat, opened proactively, when the request came from a channel', async () => {
    const { requester, approver } = t.personas;
    const channel = channelFor(requester.tenantId, 'ops');
    t.teams.addChannel(channel, [requester, approver]);
    await greet(t, approver);
    expect(t.bot.store.cards.getUserConversation(requester.aadObjectId)).toBeNull();

    const form = await (async () => {
      const res = await t.teams.mention(requester, channel, 'Set up Opter e-mail');
      return waitForCard(t, `${channel.channelId};messageid=${res.activity.id}`, (c) => hasVerb(c, 'submit-request'));
    })();
    const requestId = String(dataOf(cardOf(form), 'submit-request').requestId);
    const submitted = bodyOf(await click(t, requester, form, 'submit-request', { appDisplayName: 'Opter Channel Req', senders: sim.mailboxes.info, secretValidYears: '1', scoping: 'access-policy' }, { channel }));
    expect(textOf(submitted.value)).toContain('Sent for approval');
    // The channel sees the submitted state too (the form was replaced for everyone).
    await waitForCard(t, form.conversationId, (c, m) => m.id === form.id && textOf(c).includes('Sent for approval'));

    const copy = await approvalCopy(t, requestId, personalId(t, approver));
    await click(t, approver, copy, 'approve');
    const progress = await progressCardIn(t, form.conversationId, requestId, /Finished and verified/);
    expect(textOf(cardOf(progress))).toContain('1:1 chat with me');

    const secretMsg = await secretCardIn(t, personalId(t, requester), requestId);
    const created = t.connector.createdConversations().find((c) => c.id === personalId(t, requester));
    expect(created).toBeDefined();
    expect(secretMsg.conversationId).toBe(personalId(t, requester));
    // Nothing about the secret in the channel.
    expect(t.connector.allMessages().filter((m) => m.conversationId.startsWith(channel.channelId) && hasVerb(cardOf(m), 'reveal'))).toHaveLength(0);
    // The opened chat is remembered for later posts (recorded right after Teams answered the post).
    await t.connector.waitFor(() => t.bot.store.cards.getUserConversation(requester.aadObjectId)?.conversationId === personalId(t, requester));
  });

  it('reveals only to the requester, never on a refresh (and says so), and exactly once among 20 concurrent clicks', async () => {
    const { requester, approver, nonAdmin } = t.personas;
    const { requestId, secretMsg } = await provisionToSecret({ appName: 'Opter Reveal Race', senders: [sim.mailboxes.faktura] });

    for (const other of [approver, nonAdmin]) {
      const res = await click(t, other, secretMsg, 'reveal');
      expect(errorCodeOf(res)).toBe('E_NOT_REQUESTER');
      expect(JSON.stringify(res.body)).not.toMatch(/Client Secret\s+:/);
    }
    // A refresh (automatic) from the requester claims nothing and says why instead of answering the same card.
    const refreshed = bodyOf(await click(t, requester, secretMsg, 'reveal', {}, { trigger: 'automatic' }));
    expect(refreshed.type).toBe('application/vnd.microsoft.error');
    expect(refreshed.value).toMatchObject({ code: 'E_ACTION_NOT_CLICKED', message: expect.stringContaining('card refresh, not a click') });
    expect(JSON.stringify(refreshed)).not.toMatch(/Client Secret\s+:/);
    // An invoke without any trigger is a click (Agents Playground sends none): from anyone else it is refused as such.
    const noTrigger = await t.teams.invoke(
      approver,
      { conversation: { conversationType: 'personal', tenantId: requester.tenantId, id: secretMsg.conversationId }, replyToId: secretMsg.id, verb: 'reveal', data: { requestId } },
      (a) => void delete (a.value as Record<string, unknown>).trigger,
    );
    expect(errorCodeOf(noTrigger)).toBe('E_NOT_REQUESTER');
    expect(t.bot.store.secrets.get(requestId)!.state).toBe('sealed');
    expect(t.bot.store.audit.listForRequest(requestId).filter((e) => e.action === 'secret.reveal-refused')).toHaveLength(3);

    const results = await Promise.all(Array.from({ length: 20 }, () => click(t, requester, secretMsg, 'reveal')));
    const plaintexts = results.map((r) => PLAINTEXT.exec(textOf(bodyOf(r).value))?.[1]).filter(Boolean);
    expect(plaintexts).toHaveLength(1);
    expect(results.filter((r) => errorCodeOf(r) === 'E_SECRET_ALREADY_REVEALED')).toHaveLength(19);
    expect(t.bot.store.secrets.get(requestId)!.state).toBe('revealed');
    expect(t.bot.store.audit.listForRequest(requestId).filter((e) => e.action === 'secret.revealed')).toHaveLength(1);

    // The base card switches to "revealed" for everyone only after the grace period (or on "Done, hide it").
    expect(textOf(cardOf(t.connector.message(secretMsg.conversationId, secretMsg.id)))).not.toMatch(/Secret revealed/);
    t.clock.advance(16 * 60_000);
    await t.bot.tick();
    await waitForCard(t, secretMsg.conversationId, (c, m) => m.id === secretMsg.id && /Secret revealed/.test(textOf(c)));

    for (const r of t.connector.requests) expect(JSON.stringify(r.body ?? '')).not.toContain(plaintexts[0]);
    for (const line of t.logLines) expect(line).not.toContain(plaintexts[0]);
  });

  it('expires unrevealed: ciphertext purged, credential removed from the app, requester told, reveal refused', async () => {
    const { requester } = t.personas;
    const { requestId, secretMsg } = await provisionToSecret({ appName: 'Opter Expire Secret', senders: [sim.mailboxes.info] });
    const meta = t.bot.store.secrets.get(requestId)!;
    const appBefore = sim.snapshot().applications.find((a) => a.displayName === 'Opter Expire Secret')!;
    expect((appBefore.passwordCredentials as Array<{ keyId: string }>).map((c) => c.keyId)).toContain(meta.keyId);

    t.clock.advance(25 * HOUR);
    await t.bot.tick();
    const after = t.bot.store.secrets.get(requestId)!;
    expect(after.state).toBe('expired');
    expect(after.credentialRemovedAt).not.toBeNull();
    const appAfter = sim.snapshot().applications.find((a) => a.displayName === 'Opter Expire Secret')!;
    expect((appAfter.passwordCredentials as Array<{ keyId: string }>).map((c) => c.keyId)).not.toContain(meta.keyId);

    await waitForCard(t, secretMsg.conversationId, (c, m) => m.id === secretMsg.id && textOf(c).includes('never revealed and has expired'));
    expect(hasVerb(cardOf(t.connector.message(secretMsg.conversationId, secretMsg.id)), 'reveal')).toBe(false);
    await waitForCard(t, personalId(t, requester), (c) => textOf(c).includes('expired unrevealed') && textOf(c).includes(requestId));
    const actions = t.bot.store.audit.listForRequest(requestId).map((e) => e.action);
    expect(actions).toContain('secret.expired');
    expect(actions).toContain('secret.credential-removed');
    expect(errorCodeOf(await click(t, requester, secretMsg, 'reveal', {}, { data: { requestId } }))).toBe('E_SECRET_EXPIRED');
    expect(await expectAllCardsValid(t)).toBeGreaterThan(0);
  });
});
