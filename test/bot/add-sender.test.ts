/**
 * "add sender …" end to end: validation against the tenant, the approval card with the members before → after,
 * the engine's add-sender job with Test-ApplicationAccessPolicy, the requester told, the audit entries; and the
 * chooser card when several registrations exist.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/sim';
import {
  approvalCopy,
  bodyOf,
  cardOf,
  click,
  dataOf,
  expectAllCardsValid,
  install,
  hasVerb,
  personalId,
  progressCardIn,
  secretCardIn,
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
  t = await startTestBot({ sim });
  // The approver never wrote to the bot: installing the app is enough for the bot to know their 1:1 chat.
  await install(t, t.personas.approver);
});
afterAll(async () => {
  await t?.close();
  await sim?.close();
});

async function setUp(appName: string, senders: string[]): Promise<string> {
  const { approver, requester } = t.personas;
  const { requestId } = await submitSetup(t, { appName, senders });
  await click(t, approver, await approvalCopy(t, requestId, personalId(t, approver)), 'approve');
  await progressCardIn(t, personalId(t, requester), requestId, /Finished and verified/);
  await secretCardIn(t, personalId(t, requester), requestId);
  return requestId;
}

function groupMembers(name: string): string[] {
  return sim.snapshot().groups.find((g) => g.name === name)!.members.map((m) => m.toLowerCase()).sort();
}

describe('add sender', () => {
  it('with one registration: validates, asks for approval with before → after, adds, verifies and tells the requester', async () => {
    const { requester, approver } = t.personas;
    await setUp('Opter Adder', [sim.mailboxes.info]);

    // Refusals first: not a mailbox, and an address that is already a sender.
    await t.teams.message(requester, `add sender ${sim.mailboxes.noMailbox}`);
    await waitForCard(t, personalId(t, requester), (c) => textOf(c).includes('E_SENDER_NOT_MAILBOX'));
    await t.teams.message(requester, `add sender ${sim.mailboxes.info}`);
    await waitForCard(t, personalId(t, requester), (c) => textOf(c).includes('may already send through Opter Adder'));
    await t.teams.message(requester, 'add sender');
    await t.connector.waitFor(() => t.connector.messages(personalId(t, requester)).find((m) => String(m.activity.text ?? '').includes('Which mailbox')));
    expect(t.bot.store.requests.list({ kind: 'add-sender' })).toHaveLength(0);

    await t.teams.message(requester, `add sender ${sim.mailboxes.faktura.toUpperCase()}`);
    await waitForCard(t, personalId(t, requester), (c) => textOf(c).includes('Sent for approval') && textOf(c).includes(sim.mailboxes.faktura));
    const request = t.bot.store.requests.list({ kind: 'add-sender' })[0]!;
    const copy = await approvalCopy(t, request.id, personalId(t, approver));
    const approvalText = textOf(cardOf(copy));
    expect(approvalText).toContain('Add sender to Opter email');
    expect(approvalText).toMatch(/Before[\s\S]*info@exempel\.se/);
    expect(approvalText).toMatch(/After[\s\S]*info@exempel\.se, faktura@exempel\.se/);
    expect(approvalText).toContain('+ faktura@exempel.se');

    await click(t, approver, copy, 'approve');
    const done = await progressCardIn(t, personalId(t, requester), request.id, /Finished and verified/);
    expect(textOf(cardOf(done))).toMatch(/Test-ApplicationAccessPolicy faktura@exempel\.se/);
    await waitForCard(t, personalId(t, requester), (c) => textOf(c).includes('Senders added') && textOf(c).includes('faktura@exempel.se → Granted'));

    expect(groupMembers('Opter Adder - MailSend Allowed')).toEqual(['faktura@exempel.se', 'info@exempel.se']);
    const actions = t.bot.store.audit.listForRequest(request.id).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['request.created', 'request.approved', 'step.members.succeeded', 'verify.check', 'sender.added', 'request.succeeded']));
    // No new secret for an add-sender.
    expect(t.bot.store.secrets.get(request.id)).toBeNull();
  });

  it('with several registrations: a chooser card first, then the same approval path', async () => {
    const { requester, approver } = t.personas;
    await setUp('Opter Second', [sim.mailboxes.faktura]);

    await t.teams.message(requester, `add sender ${sim.mailboxes.shared}`);
    const chooser = await waitForCard(t, personalId(t, requester), (c) => hasVerb(c, 'choose-registration'));
    const chooserText = textOf(cardOf(chooser));
    expect(chooserText).toContain('Opter Adder');
    expect(chooserText).toContain('Opter Second');
    const chooserRequestId = String(dataOf(cardOf(chooser), 'choose-registration').requestId);
    const registrationId = t.bot.store.requests.list({ kind: 'provision', status: 'succeeded' }).find((r) => r.appName === 'Opter Second')!.id;

    // Nothing chosen → the chooser again with a message; another admin cannot use this chooser.
    const none = bodyOf(await click(t, requester, chooser, 'choose-registration', {}));
    expect(textOf(none.value)).toContain('Choose one of the registrations');
    const other = await click(t, approver, chooser, 'choose-registration', { registration: registrationId });
    expect((bodyOf(other).value as { code: string }).code).toBe('E_NOT_REQUESTER');

    const chosen = bodyOf(await click(t, requester, chooser, 'choose-registration', { registration: registrationId }));
    expect(textOf(chosen.value)).toContain('Sent for approval');
    const request = t.bot.store.requests.list({ kind: 'add-sender' }).find((r) => r.appName === 'Opter Second')!;
    expect(request.id).toBe(chooserRequestId);
    await waitForCard(t, personalId(t, requester), (c, m) => m.id === chooser.id && textOf(c).includes('Sent for approval'));

    await click(t, approver, await approvalCopy(t, request.id, personalId(t, approver)), 'approve');
    await progressCardIn(t, personalId(t, requester), request.id, /Finished and verified/);
    expect(groupMembers('Opter Second - MailSend Allowed')).toEqual(['faktura@exempel.se', sim.mailboxes.shared.toLowerCase()].sort());
    expect(groupMembers('Opter Adder - MailSend Allowed')).toEqual(['faktura@exempel.se', 'info@exempel.se']);
    expect(await expectAllCardsValid(t)).toBeGreaterThan(0);
  });

  it('lists the registrations with their live senders on "status"', async () => {
    const { requester } = t.personas;
    await t.teams.message(requester, 'status');
    const status = await waitForCard(t, personalId(t, requester), (c) => textOf(c).includes('Opter email status'));
    const text = textOf(cardOf(status));
    expect(text).toContain('All 2 registrations look healthy');
    expect(text).toMatch(/Opter Adder[\s\S]*info@exempel\.se, faktura@exempel\.se/);
    expect(text).toContain('Opter Second');
    // The last verification is the latest run's (the add-sender's own Test-ApplicationAccessPolicy checks).
    expect(text.match(/✅ .*: (\d+) of \1 checks passed/g)).toHaveLength(2);
  });
});
