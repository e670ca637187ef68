/**
 * Audit delivery through the outbox: AUDIT_CHANNEL_ID as the target, a compact card per chained entry, retried with
 * backoff while Teams answers 503, and still delivered after the bot restarts with undelivered entries. With
 * AUDIT_CHANNEL_ID / APPROVALS_CHANNEL_ID set, "use this channel for …" is refused: configuration is the only way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/sim';
import { startFakeConnector, type FakeConnector } from '../harness/fake-connector';
import { APPROVALS_CHANNEL, AUDIT_CHANNEL } from '../../src/store';
import { approvalCopy, cardOf, channelFor, click, formInputs, openForm, startTestBot, startTestSimulator, submitSetup, textOf, waitForCard, type TestBot } from './helpers';
import { DEFAULT_TENANT_ID } from '../harness/teams-client';

const channel = channelFor(DEFAULT_TENANT_ID, 'audit-env');
const approvals = channelFor(DEFAULT_TENANT_ID, 'approvals-env');
const elsewhere = channelFor(DEFAULT_TENANT_ID, 'elsewhere');
let sim: Simulator;
let connector: FakeConnector;
let t: TestBot;

beforeAll(async () => {
  sim = await startTestSimulator();
  connector = await startFakeConnector();
  t = await startTestBot({ sim, connector, env: { AUDIT_CHANNEL_ID: channel.channelId, APPROVALS_CHANNEL_ID: approvals.channelId } });
  for (const c of [channel, approvals, elsewhere]) t.teams.addChannel(c, [t.personas.requester, t.personas.approver]);
});
afterAll(async () => {
  await t?.close();
  await connector?.close();
  await sim?.close();
});

const isAuditPost = (r: { method: string; path: string }) => r.method === 'POST' && r.path.startsWith(`/v3/conversations/${channel.channelId}`);

function auditPosts(): string[] {
  return connector.channelMessages(channel.channelId).map((m) => textOf(cardOf(m)));
}

describe('audit channel delivery', () => {
  it('retries a post Teams refused with 503 until it lands, as a compact card with seq and hash', async () => {
    // botbuilder's own client retries 3 times; the 4th failure reaches the outbox, which schedules the next attempt.
    connector.failNext(4, { status: 503, retryAfterSeconds: 0, match: isAuditPost });
    const form = await openForm(t);
    await click(t, t.personas.requester, form, 'submit-request', formInputs({ appName: 'Opter Audit Retry', senders: [sim.mailboxes.info] }));
    const entry = t.bot.store.audit.list().find((e) => e.action === 'request.created')!;

    const post = await connector.waitFor(() => auditPosts().find((text) => text.includes('request.created')), 15_000);
    expect(post).toContain(`#${entry.seq} · ${entry.hash.slice(0, 12)}`);
    expect(post).toContain(entry.requestId!);
    expect(post).toContain(t.personas.requester.name);

    const faults = connector.requests.filter((r) => r.fault && isAuditPost(r));
    expect(faults.length).toBeGreaterThanOrEqual(4);
    const item = await connector.waitFor(() => {
      const it = t.bot.store.outbox.getByDedupeKey(`audit:${entry.seq}`)!;
      return it.status === 'sent' ? it : undefined;
    });
    expect(item.attempts).toBeGreaterThanOrEqual(2);
    expect(t.logLines.some((l) => /outbox audit #\d+ attempt 1 failed .*503.*retrying/.test(l))).toBe(true);
  });

  it('keeps undelivered entries across a restart and delivers them from the new process', async () => {
    connector.failShare(1, { status: 503, retryAfterSeconds: 0, match: isAuditPost });
    const form = await openForm(t);
    await click(t, t.personas.requester, form, 'submit-request', formInputs({ appName: 'Opter Audit Restart', senders: [sim.mailboxes.faktura] }));
    const entry = t.bot.store.audit.list().at(-1)!;
    await connector.waitFor(() => connector.requests.filter((r) => r.fault && isAuditPost(r)).length >= 8, 10_000);
    expect(auditPosts().some((text) => text.includes(`#${entry.seq} ·`))).toBe(false);

    await t.restart();
    connector.clearFaults();
    await t.bot.tick();
    const post = await connector.waitFor(() => auditPosts().find((text) => text.includes(`#${entry.seq} ·`)), 15_000);
    expect(post).toContain('request.created');
    expect(t.bot.store.audit.verify().ok).toBe(true);
    // Every entry reached the channel exactly once or more (at-least-once), none is lost.
    await connector.waitFor(() => t.bot.store.audit.list().every((e) => auditPosts().some((text) => text.includes(`#${e.seq} ·`))), 15_000);
  });
});

describe('channels fixed by configuration', () => {
  it('refuses "use this channel for audit|approvals" with E_CHANNEL_PINNED, audits the attempt, and changes nothing', async () => {
    const { requester } = t.personas;
    const requestsBefore = t.bot.store.requests.list().length;
    for (const [purpose, setting] of [['audit', 'AUDIT_CHANNEL_ID'], ['approvals', 'APPROVALS_CHANNEL_ID']] as const) {
      await t.teams.mention(requester, elsewhere, `use this channel for ${purpose}`);
      const refused = await waitForCard(t, elsewhere.channelId, (c) => textOf(c).includes('E_CHANNEL_PINNED') && textOf(c).includes(setting));
      expect(textOf(cardOf(refused))).toContain('fixed by the bot’s configuration');
      const entry = t.bot.store.audit.list().filter((e) => e.action === `config.${purpose}-channel-refused`).at(-1)!;
      expect(entry).toMatchObject({ result: 'refused', actor: { aadObjectId: requester.aadObjectId }, objects: { channelId: elsewhere.channelId } });
    }
    expect(t.bot.store.requests.list()).toHaveLength(requestsBefore);
    expect(t.bot.store.cards.getConversation(AUDIT_CHANNEL)).toBeNull();
    expect(t.bot.store.cards.getConversation(APPROVALS_CHANNEL)).toBeNull();
    expect(connector.channelMessages(elsewhere.channelId).filter((m) => /#\d+ ·/.test(textOf(cardOf(m))))).toEqual([]);
  });

  it('a channel chosen in Teams before the variable was set no longer counts: the configured channels win', async () => {
    // As a store from before AUDIT_CHANNEL_ID / APPROVALS_CHANNEL_ID were set would have it.
    const reference = { channelId: 'msteams', serviceUrl: connector.url, bot: t.teams.bot, conversation: { id: elsewhere.channelId, isGroup: true, conversationType: 'channel' } };
    for (const name of [AUDIT_CHANNEL, APPROVALS_CHANNEL]) {
      t.bot.store.cards.setConversation(name, { conversationId: elsewhere.channelId, serviceUrl: connector.url, reference });
    }
    try {
      const { requestId } = await submitSetup(t, { appName: 'Opter Pinned Wins', senders: [sim.mailboxes.info] });
      const created = t.bot.store.audit.listForRequest(requestId)[0]!;
      await connector.waitFor(() => auditPosts().some((text) => text.includes(`#${created.seq} ·`)), 15_000);
      await approvalCopy(t, requestId, approvals.channelId);
      await t.bot.tick();
      expect(connector.channelMessages(elsewhere.channelId).filter((m) => textOf(cardOf(m)).includes(requestId))).toEqual([]);
    } finally {
      for (const name of [AUDIT_CHANNEL, APPROVALS_CHANNEL]) t.bot.store.cards.removeConversation(name);
    }
  });
});
