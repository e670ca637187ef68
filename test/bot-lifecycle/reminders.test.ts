/**
 * Issue 6 capability 4 through the bot: the worker's daily check (the bot's clock skipped forward, `tick()`) posts a
 * reminder at 30, 7 and 1 day(s) before a secret expires — to the owner's 1:1 chat and to the audit channel, with
 * "Rotate now" — exactly once per threshold, also across a bot restart on the same DATA_DIR; "Rotate now" starts a
 * new-secret request that goes through approval like a typed one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/sim';
import {
  DAY,
  bodyOf,
  cardOf,
  channelFor,
  chooseChannel,
  click,
  credentialsOf,
  expectAllCardsValid,
  expectNoSecretLeaked,
  greet,
  hasVerb,
  messagesWithCard,
  personalId,
  approvalCopy,
  setUpRegistration,
  startTestBot,
  startTestSimulator,
  textOf,
  type Registration,
  type TestBot,
} from './helpers';
import type { TeamsChannel } from '../harness/teams-client';

let sim: Simulator;
let t: TestBot;
let reg: Registration;
let audit: TeamsChannel;

beforeAll(async () => {
  sim = await startTestSimulator();
  t = await startTestBot({ sim });
  const { requester, approver } = t.personas;
  audit = channelFor(requester.tenantId, 'audit');
  t.teams.addChannel(audit, [requester, approver]);
  await chooseChannel(t, 'audit', audit);
  await greet(t, approver);
  reg = await setUpRegistration(t, sim, { appName: 'Opter Expiring', senders: [sim.mailboxes.info], years: 1 });
});
afterAll(async () => {
  await t?.close();
  await sim?.close();
});

const isReminder = (c: Record<string, unknown>) => hasVerb(c, 'rotate-secret') && /A client secret of Opter Expiring (expires|has expired)/.test(textOf(c));
const reminders = (conversationId: string) => messagesWithCard(t.connector, conversationId, (c) => isReminder(c));
const ownerReminders = () => reminders(personalId(t, t.personas.requester));
const auditReminders = () => reminders(audit.channelId);

/** Moves the bot's clock to `daysBefore` days before the secret expires, runs the worker, waits for deliveries. */
async function daysBeforeExpiry(daysBefore: number): Promise<void> {
  const end = new Date(credentialsOf(sim, reg.appId)[0]!.endDateTime).getTime();
  const target = end - daysBefore * DAY;
  const delta = target - t.clock.now().getTime();
  expect(delta).toBeGreaterThan(0);
  t.clock.advance(delta);
  await t.bot.tick();
  await t.bot.tick();
}

async function expectCounts(owner: number, auditChannel: number): Promise<void> {
  await t.connector.waitFor(() => (ownerReminders().length >= owner && auditReminders().length >= auditChannel ? true : undefined), 10_000);
  // A little longer for anything that should NOT arrive.
  await new Promise((r) => setTimeout(r, 300));
  await t.bot.tick();
  expect([ownerReminders().length, auditReminders().length]).toEqual([owner, auditChannel]);
}

describe('expiry reminders', () => {
  it('fire at 30, 7 and 1 day(s) before expiry, once each, to the owner and the audit channel, across restarts', async () => {
    expect(credentialsOf(sim, reg.appId)).toHaveLength(1);
    await t.bot.tick();
    await expectCounts(0, 0);

    await daysBeforeExpiry(29.5);
    await expectCounts(1, 1);
    const first = textOf(cardOf(ownerReminders()[0]));
    expect(first).toContain('A client secret of Opter Expiring expires in 29 days');
    expect(first).toContain('Reminder 30 days before expiry.');
    expect(textOf(cardOf(auditReminders()[0]))).toContain(credentialsOf(sim, reg.appId)[0]!.keyId);

    // The same day again, the next day, and after a restart on the same DATA_DIR: nothing new.
    await t.bot.tick();
    await daysBeforeExpiry(28);
    await t.restart();
    await t.bot.tick();
    await daysBeforeExpiry(20);
    await expectCounts(1, 1);

    await daysBeforeExpiry(6.5);
    await expectCounts(2, 2);
    expect(textOf(cardOf(ownerReminders()[1]))).toContain('Reminder 7 days before expiry.');
    await t.restart();
    await daysBeforeExpiry(5);
    await expectCounts(2, 2);

    await daysBeforeExpiry(0.5);
    await expectCounts(3, 3);
    expect(textOf(cardOf(ownerReminders()[2]))).toMatch(/expires in less than a day[\s\S]*Reminder 1 day before expiry/);
    await t.restart();
    await daysBeforeExpiry(0.2);
    await expectCounts(3, 3);

    const audited = t.bot.store.audit.list().filter((e) => e.action === 'secret.expiry-reminder');
    expect(audited).toHaveLength(3);
    expect(audited[0]!.detail).toContain('sent to Rita Requester and the audit channel');
    expect(t.bot.store.audit.verify().ok).toBe(true);
  });

  it('"Rotate now" on a reminder asks for a new secret, which goes to the approvers', async () => {
    const { requester, approver } = t.personas;
    const reminder = auditReminders().at(-1)!;
    const res = bodyOf(await click(t, requester, reminder, 'rotate-secret'));
    expect(textOf(res.value)).toMatch(/Sent for approval[\s\S]*a new client secret for Opter Expiring/);
    const request = t.bot.store.requests.list({ kind: 'rotate-secret' })[0]!;
    expect(request.status).toBe('pending');
    expect(request.requester.aadObjectId).toBe(requester.aadObjectId);
    const copy = await approvalCopy(t, request.id, personalId(t, approver));
    expect(textOf(cardOf(copy))).toContain('New client secret for Opter email');
    // A second click does not make a second request while the first is on its way.
    const twice = bodyOf(await click(t, requester, reminder, 'rotate-secret'));
    expect(textOf(twice.value)).toContain(`already pending (request ${request.id}`);
    expect(t.bot.store.requests.list({ kind: 'rotate-secret' })).toHaveLength(1);
    // Someone who is not an admin cannot ask.
    const nobody = await click(t, t.personas.nonAdmin, reminder, 'rotate-secret');
    expect((bodyOf(nobody).value as { code: string }).code).toBe('E_NOT_ADMIN');

    expect(await expectAllCardsValid(t)).toBeGreaterThan(5);
    expectNoSecretLeaked(t, [reg.secret]);
  });
});
