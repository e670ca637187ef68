/**
 * Issue 6 capability 3 through the bot: "new secret for <app>" (and "I lost the secret") → approval → the new secret
 * on the one-time secret card → the old secret keeps working during the overlap → the requester's "Opter updated"
 * (only after revealing the new one) or the end of the overlap (the worker, with the bot's clock skipped forward)
 * → the old secret is removed → audit. Checked against the simulator: which keyIds exist and which secrets sign in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/sim';
import {
  DAY,
  adaptersFor,
  approvalCopy,
  approve,
  bodyOf,
  canSignIn,
  cardOf,
  click,
  credentialsOf,
  errorCodeOf,
  expectAllCardsValid,
  expectNoSecretLeaked,
  greet,
  hasVerb,
  latestRequest,
  personalId,
  progressCardIn,
  revealSecret,
  say,
  secretCardIn,
  setUpRegistration,
  startTestBot,
  startTestSimulator,
  textOf,
  waitForCard,
  type Registration,
  type TestBot,
} from './helpers';

let sim: Simulator;
let t: TestBot;
let reg: Registration;
const secrets: string[] = [];

beforeAll(async () => {
  sim = await startTestSimulator();
  t = await startTestBot({ sim, settings: { rotationOverlapDays: 7 } });
  await greet(t, t.personas.approver);
  reg = await setUpRegistration(t, sim, { appName: 'Opter Rotate', senders: [sim.mailboxes.info], years: 2 });
  secrets.push(reg.secret);
});
afterAll(async () => {
  await t?.close();
  await sim?.close();
});

const keyIds = () => credentialsOf(sim, reg.appId).map((c) => c.keyId).sort();

describe('new secret → overlap → "Opter updated" → old secret removed', () => {
  it('keeps the old secret working until the requester confirms, then removes exactly the old one', async () => {
    const { requester, approver } = t.personas;
    const adapters = adaptersFor(sim);
    const [oldKey] = keyIds();

    const submitted = await say(t, 'new secret for Opter Rotate', (c) => textOf(c).includes('Sent for approval'));
    expect(textOf(cardOf(submitted))).toMatch(/a new client secret for Opter Rotate/);
    const request = latestRequest(t, 'rotate-secret');
    expect(keyIds()).toEqual([oldKey]); // nothing before approval

    // Four eyes: the requester cannot approve their own new secret, even on the approver's copy.
    const copy = await approvalCopy(t, request.id, personalId(t, approver));
    expect(errorCodeOf(await click(t, requester, copy, 'approve'))).toBe('E_SELF_APPROVAL');
    expect(t.bot.store.requests.get(request.id)!.status).toBe('pending');
    const approvalText = await approve(t, request.id);
    expect(approvalText).toContain('Approval needed: New client secret for Opter email');
    expect(approvalText).toContain('The old secrets keep working for now');
    expect(approvalText).toContain(oldKey!);
    expect(approvalText).toMatch(/or 7 days after it was created/);

    await progressCardIn(t, personalId(t, requester), request.id, /Finished and verified/);
    // The new secret arrives on the one-time card; the rotation card offers "Opter updated".
    await secretCardIn(t, personalId(t, requester), request.id);
    const rotation = await waitForCard(t, personalId(t, requester), (c) => hasVerb(c, 'opter-updated'));
    expect(textOf(cardOf(rotation))).toContain(`${oldKey} (expires`);
    expect(keyIds()).toHaveLength(2);
    const newKey = keyIds().find((k) => k !== oldKey)!;

    // Before the new secret is revealed, Opter cannot have it: confirming is refused, the old secret stays.
    expect(errorCodeOf(await click(t, requester, rotation, 'opter-updated'))).toBe('E_INPUT_INVALID');
    // Somebody else cannot confirm for the requester.
    expect(errorCodeOf(await click(t, approver, rotation, 'opter-updated'))).toBe('E_NOT_REQUESTER');

    const newSecret = await revealSecret(t, request.id);
    secrets.push(newSecret);
    expect(newSecret).not.toBe(reg.secret);
    // The overlap: both secrets work.
    expect(await canSignIn(adapters, reg.appId, reg.secret)).toBe(true);
    expect(await canSignIn(adapters, reg.appId, newSecret)).toBe(true);

    const confirmed = bodyOf(await click(t, requester, rotation, 'opter-updated'));
    expect(textOf(confirmed.value)).toContain('Removing the old secret');
    await t.bot.idle();
    await waitForCard(t, personalId(t, requester), (c, m) => m.id === rotation.id && /Old secret removed/.test(textOf(c)));
    expect(keyIds()).toEqual([newKey]);
    expect(await canSignIn(adapters, reg.appId, reg.secret)).toBe(false);
    expect(await canSignIn(adapters, reg.appId, newSecret)).toBe(true);
    await waitForCard(t, personalId(t, requester), (c) => textOf(c).includes('The old secret was removed'));

    // A second click changes nothing (no second retirement).
    const again = bodyOf(await click(t, requester, rotation, 'opter-updated', {}, { data: { requestId: request.id } }));
    expect(textOf(again.value)).toMatch(/Old secret removed/);
    expect(t.bot.store.journal.listJobs({ kind: 'retire-secrets' })).toHaveLength(1);

    const actions = t.bot.store.audit.listForRequest(request.id).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['request.created', 'request.approved', 'secret.stored', 'secret.rotated', 'secret.revealed', 'secret.retire-started', 'step.retire.succeeded', 'secret.retired']));
    const retired = t.bot.store.audit.listForRequest(request.id).find((e) => e.action === 'secret.retired')!;
    expect(retired.objects.keyId).toBe(oldKey);
    expect(retired.detail).toContain('Opter confirmed updated');
  });

  it('"I lost the secret": without a confirmation the old secret is removed when the overlap ends', async () => {
    const { requester } = t.personas;
    const adapters = adaptersFor(sim);
    const [currentKey] = keyIds();
    await say(t, 'I lost the secret for Opter Rotate', (c) => textOf(c).includes('Sent for approval') && textOf(c).includes('the current one was lost'));
    const request = t.bot.store.requests.list({ kind: 'rotate-secret' }).find((r) => r.status === 'pending')!;
    await approve(t, request.id);
    await progressCardIn(t, personalId(t, requester), request.id, /Finished and verified/);
    const newest = await revealSecret(t, request.id);
    secrets.push(newest);
    const rotation = await waitForCard(t, personalId(t, requester), (c) => hasVerb(c, 'opter-updated') && textOf(c).includes(request.id));
    expect(keyIds()).toHaveLength(2);

    // Six days on, the overlap is still running: nothing is removed.
    t.clock.advance(6 * DAY);
    await t.bot.tick();
    await t.bot.idle();
    expect(keyIds()).toContain(currentKey);
    // Past the seventh day the worker retires the old one.
    t.clock.advance(1.5 * DAY);
    await t.bot.tick();
    await t.bot.idle();
    await waitForCard(t, personalId(t, requester), (c, m) => m.id === rotation.id && /Old secret removed[\s\S]*The overlap ended/.test(textOf(c)));
    expect(keyIds()).not.toContain(currentKey);
    expect(keyIds()).toHaveLength(1);
    expect(await canSignIn(adapters, reg.appId, newest)).toBe(true);
    const retired = t.bot.store.audit.listForRequest(request.id).find((e) => e.action === 'secret.retired')!;
    expect(retired.detail).toContain('overlap ended');
    expect(retired.objects.keyId).toBe(currentKey);

    // Nothing to press any more.
    expect(hasVerb(cardOf(t.connector.message(rotation.conversationId, rotation.id)), 'opter-updated')).toBe(false);
    expect(t.bot.store.audit.verify().ok).toBe(true);
    expect(await expectAllCardsValid(t)).toBeGreaterThan(10);
    expectNoSecretLeaked(t, secrets);
  });
});
