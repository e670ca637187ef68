/**
 * The four-eyes rules, enforced from the store and never from card data: self-approval, non-approvers, a card whose
 * data names another request, a repeated (or concurrent) approve, reject (reason required), expiry, non-admins, the
 * approvals channel with per-user refresh views.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/sim';
import {
  HOUR,
  approvalCopy,
  bodyOf,
  cardOf,
  channelFor,
  chooseChannel,
  click,
  conversationOf,
  dataOf,
  errorCodeOf,
  expectAllCardsValid,
  greet,
  hasVerb,
  personalId,
  progressCardIn,
  startTestBot,
  startTestSimulator,
  submitSetup,
  textOf,
  waitForCard,
  type TestBot,
} from './helpers';

let sim: Simulator;
let t: TestBot;

beforeAll(async () => {
  sim = await startTestSimulator();
  t = await startTestBot({ sim, env: { APPROVAL_TTL_HOURS: '24' } });
});
afterAll(async () => {
  await t?.close();
  await sim?.close();
});

function snapshotStore() {
  const s = t.bot.store;
  return JSON.stringify({
    requests: s.requests.list(),
    kv: s.kv.list(''),
    refs: s.cards.listConversations(''),
    audit: s.audit.list().length,
    outbox: s.outbox.list().length,
  });
}

describe('who may decide', () => {
  it('refuses self-approval when the only copy is in the requester’s own chat, and changes nothing', async () => {
    const { requester } = t.personas;
    const { requestId } = await submitSetup(t, { appName: 'Opter Self', senders: [sim.mailboxes.info] });
    // No approver has talked to the bot yet, so the approval card lands where the request was made.
    const copy = await approvalCopy(t, requestId, personalId(t, requester));
    const res = await click(t, requester, copy, 'approve');
    expect(errorCodeOf(res)).toBe('E_SELF_APPROVAL');
    expect(t.bot.store.requests.get(requestId)!.status).toBe('pending');
    expect(t.bot.store.audit.listForRequest(requestId).map((e) => e.action)).toContain('request.approve-refused');
  });

  it('tells a requester who presses Reject on their own request that they cannot reject it (not "approve")', async () => {
    const { requester } = t.personas;
    const { requestId } = await submitSetup(t, { appName: 'Opter Self Reject', senders: [sim.mailboxes.info] });
    const copy = await approvalCopy(t, requestId, personalId(t, requester));
    const res = bodyOf(await click(t, requester, copy, 'reject', { reason: 'changed my mind' }));
    expect(res.statusCode).toBe(403);
    expect(res.value).toMatchObject({ code: 'E_SELF_REJECTION', message: expect.stringMatching(/^You cannot reject your own request\. Another approver must decide/) });
    expect(JSON.stringify(res.value)).not.toContain('approve your own');
    expect(t.bot.store.requests.get(requestId)!.status).toBe('pending');
    expect(t.bot.store.audit.listForRequest(requestId).map((e) => e.action)).toContain('request.reject-refused');
  });

  it('refuses people who are not approvers, even with a well-formed invoke on the real card', async () => {
    const { nonAdmin } = t.personas;
    const { requestId } = await submitSetup(t, { appName: 'Opter NonApprover', senders: [sim.mailboxes.info] });
    const copy = await approvalCopy(t, requestId, personalId(t, t.personas.requester));
    const res = await click(t, nonAdmin, copy, 'approve');
    expect(errorCodeOf(res)).toBe('E_NOT_APPROVER');
    expect(bodyOf(res).statusCode).toBe(403);
    expect(t.bot.store.requests.get(requestId)!.status).toBe('pending');
  });

  it('refuses a click whose data names another request than the card it came from', async () => {
    const { approver } = t.personas;
    await greet(t, approver);
    const a = await submitSetup(t, { appName: 'Opter CardA', senders: [sim.mailboxes.info] });
    const b = await submitSetup(t, { appName: 'Opter CardB', senders: [sim.mailboxes.faktura] });
    const copyA = await approvalCopy(t, a.requestId, personalId(t, approver));
    const res = await click(t, approver, copyA, 'approve', {}, { data: { requestId: b.requestId } });
    expect(errorCodeOf(res)).toBe('E_REQUEST_NOT_FOUND');
    expect(t.bot.store.requests.get(b.requestId)!.status).toBe('pending');
    expect(t.bot.store.requests.get(a.requestId)!.status).toBe('pending');
    // A card the bot never sent is refused the same way.
    const forged = await t.teams.invoke(approver, { conversation: { conversationType: 'personal', tenantId: approver.tenantId, id: personalId(t, approver) }, replyToId: '999', verb: 'approve', data: { requestId: b.requestId } });
    expect(errorCodeOf(forged)).toBe('E_REQUEST_NOT_FOUND');

    // Clean up: reject both so they do not hold their names.
    for (const r of [a, b]) {
      const copy = await approvalCopy(t, r.requestId, personalId(t, approver));
      expect(bodyOf(await click(t, approver, copy, 'reject', { reason: 'test over' })).type).toBe('application/vnd.microsoft.card.adaptive');
    }
  });
});

describe('deciding', () => {
  it('treats a repeated approve (and a concurrent one) as the same single decision', async () => {
    const { approver, requester } = t.personas;
    await greet(t, approver);
    const { requestId } = await submitSetup(t, { appName: 'Opter Twice', senders: [sim.mailboxes.info] });
    const copy = await approvalCopy(t, requestId, personalId(t, approver));
    const data = dataOf(cardOf(copy), 'approve');
    const [first, concurrent] = await Promise.all([click(t, approver, copy, 'approve', {}, { data }), click(t, approver, copy, 'approve', {}, { data })]);
    const again = await click(t, approver, copy, 'approve', {}, { data });
    for (const res of [first, concurrent, again]) {
      expect(bodyOf(res).type).toBe('application/vnd.microsoft.card.adaptive');
      expect(textOf(bodyOf(res).value)).toContain(`Approved by ${approver.name}`);
    }
    const actions = t.bot.store.audit.listForRequest(requestId).map((e) => e.action);
    expect(actions.filter((a) => a === 'request.approved')).toHaveLength(1);
    await progressCardIn(t, personalId(t, requester), requestId, /Finished and verified/);
    expect(t.bot.store.journal.listJobs({ kind: 'provision' }).filter((j) => j.idempotencyKey === requestId)).toHaveLength(1);
    expect(sim.snapshot().applications.filter((a) => a.displayName === 'Opter Twice')).toHaveLength(1);
  });

  it('a refresh (trigger "automatic") decides nothing and says so; the click still works afterwards', async () => {
    const { approver } = t.personas;
    await greet(t, approver);
    const { requestId } = await submitSetup(t, { appName: 'Opter Refreshed', senders: [sim.mailboxes.info] });
    const copy = await approvalCopy(t, requestId, personalId(t, approver));
    const auditBefore = t.bot.store.audit.listForRequest(requestId).length;
    for (const [verb, inputs] of [['approve', {}], ['reject', { reason: 'auto' }]] as const) {
      const res = bodyOf(await click(t, approver, copy, verb, inputs, { trigger: 'automatic' }));
      expect(res.type).toBe('application/vnd.microsoft.error');
      expect(res.value).toMatchObject({ code: 'E_ACTION_NOT_CLICKED', message: expect.stringContaining('never reveals a secret or decides a request') });
    }
    expect(t.bot.store.requests.get(requestId)!.status).toBe('pending');
    expect(t.bot.store.audit.listForRequest(requestId)).toHaveLength(auditBefore);
    expect(textOf(bodyOf(await click(t, approver, copy, 'reject', { reason: 'test over' })).value)).toContain(`Rejected by ${approver.name}`);
  });

  it('a crafted start-setup naming the approval card\'s message cannot take the card over', async () => {
    const { approver } = t.personas;
    await greet(t, approver);
    const { requestId } = await submitSetup(t, { appName: 'Opter Hijack', senders: [sim.mailboxes.info] });
    const copy = await approvalCopy(t, requestId, personalId(t, approver));
    const kvBefore = t.bot.store.kv.list('').length;
    const hijack = await t.teams.invoke(approver, { conversation: conversationOf(t, copy), replyToId: copy.id, verb: 'start-setup', data: {} });
    expect(bodyOf(hijack).value).toMatchObject({ code: 'E_REQUEST_NOT_FOUND', message: expect.stringContaining('different request') });
    expect(t.bot.store.cards.findCard(copy.conversationId, copy.id)).toMatchObject({ requestId, role: 'approval' });
    expect(t.bot.store.kv.list('')).toHaveLength(kvBefore);
    // The approval card still works.
    expect(textOf(bodyOf(await click(t, approver, copy, 'reject', { reason: 'test over' })).value)).toContain(`Rejected by ${approver.name}`);
  });

  it('needs a reason to reject, then tells the requester and updates every copy', async () => {
    const { approver, requester } = t.personas;
    await greet(t, approver);
    const { requestId } = await submitSetup(t, { appName: 'Opter Rejected', senders: [sim.mailboxes.info] });
    const copy = await approvalCopy(t, requestId, personalId(t, approver));

    const noReason = bodyOf(await click(t, approver, copy, 'reject', { reason: '   ' }));
    expect(noReason.type).toBe('application/vnd.microsoft.card.adaptive');
    expect(textOf(noReason.value)).toContain('Give a reason');
    expect(t.bot.store.requests.get(requestId)!.status).toBe('pending');

    const rejected = bodyOf(await click(t, approver, copy, 'reject', { reason: 'Use the invoice mailbox only' }));
    expect(textOf(rejected.value)).toContain(`Rejected by ${approver.name}`);
    expect(textOf(rejected.value)).toContain('Use the invoice mailbox only');
    const request = t.bot.store.requests.get(requestId)!;
    expect(request.status).toBe('rejected');
    expect(request.decision?.reason).toBe('Use the invoice mailbox only');
    expect(request.jobId).toBeNull();

    await waitForCard(t, personalId(t, approver), (c, m) => m.id === copy.id && textOf(c).includes('Rejected by'));
    await waitForCard(t, personalId(t, requester), (c) => textOf(c).includes('Use the invoice mailbox only') && textOf(c).includes(requestId));
    // Approving after the rejection is refused.
    expect(errorCodeOf(await click(t, approver, copy, 'approve', {}, { data: { requestId } }))).toBe('E_REQUEST_NOT_PENDING');
    expect(sim.snapshot().applications.some((a) => a.displayName === 'Opter Rejected')).toBe(false);
  });

  it('expires undecided requests: the sweep updates the cards and tells the requester; a late approve is refused', async () => {
    const { approver, requester } = t.personas;
    await greet(t, approver);
    const { requestId } = await submitSetup(t, { appName: 'Opter Expiring', senders: [sim.mailboxes.info] });
    const copy = await approvalCopy(t, requestId, personalId(t, approver));

    const data = dataOf(cardOf(copy), 'approve');
    t.clock.advance(25 * HOUR);
    // Clicked whether or not the sweep ran yet: refused as expired, and the expiry is recorded.
    expect(errorCodeOf(await click(t, approver, copy, 'approve', {}, { data }))).toBe('E_REQUEST_EXPIRED');
    await t.bot.tick();
    expect(t.bot.store.requests.get(requestId)!.status).toBe('expired');
    await waitForCard(t, personalId(t, approver), (c, m) => m.id === copy.id && textOf(c).includes('Expired without a decision'));
    expect(hasVerb(cardOf(t.connector.message(copy.conversationId, copy.id)), 'approve')).toBe(false);
    await waitForCard(t, personalId(t, requester), (c) => textOf(c).includes('Your request expired') && textOf(c).includes(requestId));
    expect(errorCodeOf(await click(t, approver, copy, 'approve', {}, { data }))).toBe('E_REQUEST_EXPIRED');
    expect(t.bot.store.audit.listForRequest(requestId).map((e) => e.action).filter((a) => a === 'request.expired')).toHaveLength(1);
  });
});

describe('who may ask', () => {
  it('answers a non-admin with E_NOT_ADMIN and changes nothing in the store', async () => {
    const { nonAdmin } = t.personas;
    await t.bot.idle();
    await t.bot.tick();
    const before = snapshotStore();
    for (const text of ['set up Opter email', 'add sender faktura@exempel.se', 'help', 'what?']) await t.teams.message(nonAdmin, text);
    const errors = await t.connector.waitFor(() => {
      const list = t.connector.messages(personalId(t, nonAdmin)).filter((m) => textOf(cardOf(m)).includes('E_NOT_ADMIN'));
      return list.length === 2 ? list : undefined;
    });
    expect(errors).toHaveLength(2);
    await waitForCard(t, personalId(t, nonAdmin), (c) => textOf(c).includes('you cannot make requests'));
    await t.connector.waitFor(() => t.connector.messages(personalId(t, nonAdmin)).find((m) => String(m.activity.text ?? '').includes('did not understand')));
    expect(snapshotStore()).toBe(before);
  });

  it('ignores activities from other tenants entirely', async () => {
    await t.bot.tick();
    const before = snapshotStore();
    const res = await t.teams.message(t.personas.foreigner, 'set up Opter email');
    expect(res.status).toBe(200);
    expect(snapshotStore()).toBe(before);
  });
});

describe('approvals channel', () => {
  it('posts approval cards in the chosen channel with per-user refresh views, and an approver decides there', async () => {
    const { requester, approver, nonAdmin } = t.personas;
    const channel = channelFor(requester.tenantId, 'approvals');
    t.teams.addChannel(channel, [requester, approver, nonAdmin]);
    await t.teams.mention(nonAdmin, channel, 'use this channel for approvals');
    await waitForCard(t, channel.channelId, (c) => textOf(c).includes('E_NOT_ADMIN'));
    await chooseChannel(t, 'approvals', channel, { by: approver, approver: requester });

    const { requestId } = await submitSetup(t, { appName: 'Opter Channel', senders: [sim.mailboxes.faktura] });
    const copy = await approvalCopy(t, requestId, channel.channelId);
    const card = cardOf(copy)!;
    const refresh = card.refresh as { userIds: string[]; action: { verb: string } };
    expect(refresh.action.verb).toBe('refresh-approval');
    expect(refresh.userIds).toEqual(expect.arrayContaining([requester.mri, approver.mri]));

    // Refresh views: the requester gets no buttons, an observer none either, the approver the decision buttons.
    const mine = bodyOf(await click(t, requester, copy, 'refresh-approval', {}, { trigger: 'automatic', channel }));
    expect(hasVerb(mine.value, 'approve')).toBe(false);
    expect(textOf(mine.value)).toContain('You cannot approve your own request');
    expect((mine.value as Record<string, unknown>).refresh).toBeUndefined();
    const theirs = bodyOf(await click(t, approver, copy, 'refresh-approval', {}, { trigger: 'automatic', channel }));
    expect(hasVerb(theirs.value, 'approve')).toBe(true);
    const observer = bodyOf(await click(t, nonAdmin, copy, 'refresh-approval', {}, { trigger: 'automatic', channel }));
    expect(textOf(observer.value)).toContain('Only the configured approvers can decide');
    expect(t.bot.store.requests.get(requestId)!.status).toBe('pending');

    const approved = bodyOf(await click(t, approver, copy, 'approve', {}, { channel }));
    expect(textOf(approved.value)).toContain(`Approved by ${approver.name}`);
    await waitForCard(t, channel.channelId, (c, m) => m.id === copy.id && textOf(c).includes('Approved by') && !c.refresh);
    await progressCardIn(t, personalId(t, requester), requestId, /Finished and verified/);
    expect(await expectAllCardsValid(t)).toBeGreaterThan(0);
  });
});
