/**
 * What the bot may claim after verification, over HTTP (real TeamsAdapter, simulator): a check that did not run is
 * shown as "⚪ skipped — not run" and the progress card then says "Finished, not everything verified" — when the
 * control mailbox is itself a sender (the restriction was not verified) and when a retried job cannot prove the
 * sign-in of a secret an earlier run made. An identity with only what the script needs adds a sender and is told
 * on the card what it could not check.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/sim';
import {
  approvalCopy,
  bodyOf,
  cardOf,
  click,
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
  type TestBot,
} from './helpers';

let sim: Simulator;
let t: TestBot;

beforeAll(async () => {
  sim = await startTestSimulator();
  t = await startTestBot({ sim });
  await greet(t, t.personas.approver);
});
afterAll(async () => {
  await t?.close();
  await sim?.close();
});

async function approve(requestId: string): Promise<void> {
  await click(t, t.personas.approver, await approvalCopy(t, requestId, personalId(t, t.personas.approver)), 'approve');
}

describe('verification states on the cards', () => {
  it('the control mailbox is a sender: the card says the restriction was not verified and shows the check as skipped', async () => {
    const { requester } = t.personas;
    const { requestId } = await submitSetup(t, { appName: 'Opter Unproven', senders: [sim.mailboxes.info, sim.mailboxes.outside] });
    await approve(requestId);
    const done = await progressCardIn(t, personalId(t, requester), requestId, /Finished, not everything verified/);
    const text = textOf(cardOf(done));
    expect(text).not.toContain('Finished and verified');
    expect(text).toContain(`The restriction to the sender group was not verified: the control mailbox ${sim.mailboxes.outside} is itself a sender.`);
    expect(text).toContain(`Refused for a mailbox outside the group\n⚪ skipped — not run: the control mailbox ${sim.mailboxes.outside} is itself a sender`);
    expect(text).toMatch(/Token as the new app\n✅ signed in with the new secret/);
    // The secret is still delivered: nothing failed.
    await secretCardIn(t, personalId(t, requester), requestId);
    const audit = t.bot.store.audit.listForRequest(requestId);
    expect(audit.find((e) => e.action === 'verify.check' && e.detail?.startsWith('Refused for a mailbox outside the group'))).toMatchObject({ result: 'info' });
    expect(audit.find((e) => e.action === 'step.verify.succeeded')?.detail).toMatch(/^3 of 4 checks passed; the restriction was not verified/);
  });

  it('Retry after verification stopped: the sign-in proof of the secret made before is shown as skipped, not ✓', async () => {
    const { requester } = t.personas;
    const { requestId } = await submitSetup(t, { appName: 'Opter Proof Retry', senders: [sim.mailboxes.info] });
    // Exchange stops answering right after the secret is made: the verification of this run stops (its reads of
    // other registrations' scopes are refused).
    const off = t.bot.engine.onProgress((e) => {
      if (e.type === 'step-succeeded' && e.step === 'secret') sim.setFaults({ revokedPermissions: ['Exchange.ManageAsApp'] });
    });
    try {
      await approve(requestId);
      const failed = await progressCardIn(t, personalId(t, requester), requestId, /Stopped: a step failed/);
      expect(textOf(cardOf(failed))).toContain('E_EXCHANGE_PERMISSION');
      sim.setFaults({ revokedPermissions: [] });
      await click(t, requester, failed, 'resume');
      await waitForCard(t, failed.conversationId, (c, m) => m.id === failed.id && !/Stopped: a step failed/.test(textOf(c)));
    } finally {
      off();
      sim.setFaults({ revokedPermissions: [] });
    }
    const done = await progressCardIn(t, personalId(t, requester), requestId, /Finished, not everything verified/);
    const text = textOf(cardOf(done));
    expect(text).toMatch(/Token as the new app\n⚪ skipped — not run: the secret was created by an earlier run of this job/);
    expect(text).not.toMatch(/Token as the new app\n✅/);
    expect(text).toContain('Not verified (did not run): Token as the new app');
    await secretCardIn(t, personalId(t, requester), requestId);
  });
});

describe('least-privilege identity (no Role Management, no Policy.Read.All)', () => {
  it('adds a sender to an access-policy registration and says on the card that RBAC was not checked', async () => {
    const { requester } = t.personas;
    sim.setFaults({ revokedPermissions: ['Policy.Read.All', 'Role Management'] });
    try {
      const { requestId } = await submitSetup(t, { appName: 'Opter Least', senders: [sim.mailboxes.info] });
      await approve(requestId);
      await progressCardIn(t, personalId(t, requester), requestId, /Finished and verified/);

      await t.teams.message(requester, `add sender ${sim.mailboxes.faktura}`);
      // With the other tests' registrations in this bot, it asks which one first.
      const asked = await waitForCard(t, personalId(t, requester), (c) => hasVerb(c, 'choose-registration') || (textOf(c).includes('Sent for approval') && textOf(c).includes(sim.mailboxes.faktura)));
      if (hasVerb(cardOf(asked), 'choose-registration')) {
        const registration = t.bot.store.requests.list({ kind: 'provision', status: 'succeeded' }).find((r) => r.appName === 'Opter Least')!.id;
        expect(textOf(bodyOf(await click(t, requester, asked, 'choose-registration', { registration })).value)).toContain('Sent for approval');
      }
      const request = t.bot.store.requests.list({ kind: 'add-sender' }).find((r) => r.appName === 'Opter Least')!;
      await approve(request.id);
      const done = await progressCardIn(t, personalId(t, requester), request.id, /Finished and verified/);
      expect(textOf(cardOf(done))).toMatch(/Notes[\s\S]*RBAC for Applications was not checked: the provisioning identity may not run Get-ServicePrincipal/);
      const told = await waitForCard(t, personalId(t, requester), (c) => textOf(c).includes('Senders added') && textOf(c).includes('Opter Least'));
      expect(textOf(cardOf(told))).toMatch(/Verified: faktura@exempel\.se → Granted[\s\S]*Not checked: RBAC for Applications was not checked/);
      expect(t.bot.store.requests.get(request.id)!.status).toBe('succeeded');
    } finally {
      sim.setFaults({ revokedPermissions: [] });
    }
  });
});
