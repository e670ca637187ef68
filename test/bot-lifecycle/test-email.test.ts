/**
 * Issue 6 capability 7 through the bot: "test email to me from faktura@…" asks nobody for a secret; after approval
 * the job creates a short-lived secret, signs in, checks the scope, sends through Graph, and removes the secret —
 * also when the send is refused. The requester gets the result per layer with Microsoft's propagation caveat.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/sim';
import {
  approve,
  cardOf,
  credentialsOf,
  expectAllCardsValid,
  expectNoSecretLeaked,
  greet,
  latestRequest,
  personalId,
  progressCardIn,
  say,
  setUpRegistration,
  startTestBot,
  startTestSimulator,
  textOf,
  type Registration,
  type TestBot,
} from './helpers';

let sim: Simulator;
let t: TestBot;
let reg: Registration;

beforeAll(async () => {
  sim = await startTestSimulator();
  t = await startTestBot({ sim });
  await greet(t, t.personas.approver);
  reg = await setUpRegistration(t, sim, { appName: 'Opter Test Mail', senders: [sim.mailboxes.info] });
});
afterAll(async () => {
  await t?.close();
  await sim?.close();
});

/** Only the registration's own secret is left (no "-test" credential). */
function expectOnlyTheRealSecret(): void {
  const creds = credentialsOf(sim, reg.appId);
  expect(creds.map((c) => c.displayName)).toEqual(['opter-test-mail-secret']);
}

async function runTest(command: string, expectTitle: RegExp): Promise<{ text: string; requestId: string }> {
  const { requester } = t.personas;
  const submitted = await say(t, command, (c) => textOf(c).includes('Sent for approval'));
  expect(textOf(cardOf(submitted))).toMatch(/a test email from .* to rita@contoso\.example through Opter Test Mail/);
  const request = latestRequest(t, 'test-email');
  const approval = await approve(t, request.id);
  expect(approval).toContain('Approval needed: Test email through Opter’s registration');
  expect(approval).toMatch(/Temporary \(60 minutes\), created for the test and removed right after it/);
  expect(approval).toContain('No permission changes.');
  await progressCardIn(t, personalId(t, requester), request.id, /Finished and verified/);
  const result = await t.connector.waitFor(() => {
    const m = t.connector.messages(personalId(t, requester)).filter((x) => cardOf(x) && expectTitle.test(textOf(cardOf(x)))).at(-1);
    return m;
  });
  return { text: textOf(cardOf(result)), requestId: request.id };
}

describe('test email', () => {
  it('sends as a sender to the requester, reports token, scope and send, and removes its temporary secret', async () => {
    const sentBefore = sim.snapshot().sentMail.length;
    const { text, requestId } = await runTest(`test email to me from ${sim.mailboxes.info}`, /Test email sent from info@exempel\.se/);
    expect(text).toMatch(/Result per layer\n✅ Token \(sign-in as the app\)\n.*Mail\.Send/);
    expect(text).toMatch(/✅ Scope \(may send as this mailbox\)\ninfo@exempel\.se is allowed/);
    expect(text).toMatch(/✅ Send accepted by Microsoft Graph\nMicrosoft Graph accepted the message \(202\)/);
    expect(text).toMatch(/The temporary secret was removed again; no secret was shown to anyone/);
    expect(text).toMatch(/Microsoft applies permission changes to Graph with a delay/);
    const sent = sim.snapshot().sentMail.slice(sentBefore);
    expect(sent).toEqual([expect.objectContaining({ appId: reg.appId, from: sim.mailboxes.info, to: ['rita@contoso.example'] })]);
    expectOnlyTheRealSecret();
    const audit = t.bot.store.audit.listForRequest(requestId).find((e) => e.action === 'test-email.finished')!;
    expect(audit).toMatchObject({ result: 'success' });
    expect(audit.detail).toContain('temporary secret removed');
  });

  it('when the send is refused, says which layer failed — and the temporary secret is removed all the same', async () => {
    const sentBefore = sim.snapshot().sentMail.length;
    const { text, requestId } = await runTest(`test email to me from ${sim.mailboxes.outside}`, /Test email from .* did not go through/);
    expect(text).toMatch(/✅ Token/);
    expect(text).toMatch(/❌ Scope \(may send as this mailbox\)\n.*is NOT allowed/);
    expect(text).toMatch(/❌ Send accepted by Microsoft Graph\nrefused/);
    expect(text).toMatch(/The temporary secret was removed again/);
    expect(sim.snapshot().sentMail.length).toBe(sentBefore);
    expectOnlyTheRealSecret();
    expect(t.bot.store.audit.listForRequest(requestId).find((e) => e.action === 'test-email.finished')).toMatchObject({ result: 'failure' });
  });

  it('sends only to the requester, and asks for a sender when none was given', async () => {
    const other = await say(t, `test email to boss@exempel.se from ${sim.mailboxes.info}`, (c) => textOf(c).includes('E_INPUT_INVALID'));
    expect(textOf(cardOf(other))).toContain('only to you');
    await t.teams.message(t.personas.requester, 'test email');
    await t.connector.waitFor(() => t.connector.messages(personalId(t, t.personas.requester)).find((m) => String(m.activity.text ?? '').includes('Which sender should the test come from')));
    expect(t.bot.store.requests.list({ kind: 'test-email' })).toHaveLength(2);
    expect(await expectAllCardsValid(t)).toBeGreaterThan(5);
    expectNoSecretLeaked(t, [reg.secret]);
  });
});
