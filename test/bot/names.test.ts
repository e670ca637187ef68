/**
 * Names a reviewer can trust, over HTTP through the real bot: a name with an invisible character is refused next to
 * its field and nothing is requested; a name mixing scripts reaches the approver with a plain-words warning; a name
 * full of markdown is shown exactly as typed on every card of its life (form, approval, progress, secret, status),
 * and a reject reason with markdown reaches the requester as typed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { warningBoxes } from '../../src/cards/card-check';
import { unintendedFormatting, visibleTexts } from '../../src/cards/render-check';
import type { Simulator } from '../../src/sim';
import {
  approvalCopy,
  bodyOf,
  cardOf,
  click,
  expectAllCardsValid,
  formInputs,
  greet,
  openForm,
  personalId,
  progressCardIn,
  secretCardIn,
  startTestBot,
  startTestSimulator,
  submitSetup,
  textOf,
  waitForCard,
  type Card,
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

/** The text of the element right after the input with this id (where the form puts the field's message). */
function afterInput(card: unknown, id: string): string {
  let next: unknown;
  const visit = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      const i = node.findIndex((e) => (e as { id?: unknown })?.id === id);
      if (i >= 0) next = node[i + 1];
    }
    for (const v of Object.values(node)) visit(v);
  };
  visit(card);
  expect(next, `nothing after input ${id}`).toBeDefined();
  return textOf(next);
}

/** The card shows `name` literally and no formatting it did not write itself. */
function expectShownLiterally(card: Card | undefined, name: string): void {
  const shown = visibleTexts(card).shown.join('\n');
  expect(shown, shown).toContain(name);
  expect(unintendedFormatting(card)).toEqual([]);
}

describe('typed names', () => {
  it('refuses a default-ignorable character next to the app name field, and requests nothing', async () => {
    const form = await openForm(t);
    const body = bodyOf(await click(t, t.personas.requester, form, 'submit-request', formInputs({ appName: 'Opter\u3164Mail', senders: [sim.mailboxes.info] })));
    expect(body.type).toBe('application/vnd.microsoft.card.adaptive');
    expect(afterInput(body.value, 'appDisplayName')).toBe(
      '⚠ The app display name contains invisible, control or text-direction characters (\\u3164); type it again without them.',
    );
    expect(textOf(body.value)).not.toContain('Sent for approval');
    expect(t.bot.store.requests.list().map((r) => r.appName)).not.toContain('Opter\u3164Mail');
  });

  it('refuses a tag character in the group name override next to that field', async () => {
    const form = await openForm(t);
    const inputs = { ...formInputs({ appName: 'Opter Tags', senders: [sim.mailboxes.info] }), groupName: 'Opter Tags\u{e0041}' };
    const body = bodyOf(await click(t, t.personas.requester, form, 'submit-request', inputs));
    expect(afterInput(body.value, 'groupName')).toContain(
      'The group name contains invisible, control or text-direction characters (\\u{e0041})',
    );
    expect(t.bot.store.requests.list().map((r) => r.appName)).not.toContain('Opter Tags');
  });

  it('warns the approver, in plain words, about a name that mixes scripts (and the requester at Check)', async () => {
    const appName = 'Opter Mail Pr\u043exy';
    const warning = '⚠ The app display name contains Cyrillic letters: \u043e (U+043E), mixed with Latin letters. Look-alike letters can make it read as another name.';
    const form = await openForm(t);
    const checked = bodyOf(await click(t, t.personas.requester, form, 'check-request', formInputs({ appName, senders: [sim.mailboxes.info] })));
    expect(warningBoxes(checked.value).map((b) => textOf(b))).toEqual([warning]);

    const { requestId } = await submitSetup(t, { appName, senders: [sim.mailboxes.info] });
    const approval = await approvalCopy(t, requestId, personalId(t, t.personas.approver));
    expect(warningBoxes(cardOf(approval)).map((b) => textOf(b))).toEqual([warning]);
    await click(t, t.personas.approver, approval, 'reject', { reason: 'test of the warning' });
  });

  it('shows a name full of markdown exactly as typed on every card, from the form to the secret and the status', async () => {
    const { requester, approver } = t.personas;
    const appName = '*Opter* _Mail_ `x` {{DATE(2026-03-02T14:00:00Z)}}';
    const form = await openForm(t);
    const checked = bodyOf(await click(t, requester, form, 'check-request', formInputs({ appName, senders: [sim.mailboxes.info] })));
    expect(textOf(checked.value)).toContain('Names that will be used');
    expectShownLiterally(checked.value as Card, appName);

    const { requestId, res } = await submitSetup(t, { appName, senders: [sim.mailboxes.info] });
    expectShownLiterally(bodyOf(res).value as Card, appName);
    const approval = await approvalCopy(t, requestId, personalId(t, approver));
    expectShownLiterally(cardOf(approval), `${appName} (new, single tenant)`);
    expect(warningBoxes(cardOf(approval))).toEqual([]);

    expect(bodyOf(await click(t, approver, approval, 'approve')).type).toBe('application/vnd.microsoft.card.adaptive');
    const progress = await progressCardIn(t, personalId(t, requester), requestId, /Finished and verified/);
    expectShownLiterally(cardOf(progress), appName);
    const secret = await secretCardIn(t, personalId(t, requester), requestId);
    expectShownLiterally(cardOf(secret), `Opter email is ready: ${appName}`);
    // The app really carries the name as typed.
    expect(sim.snapshot().applications.map((a) => a.displayName)).toContain(appName);

    await t.teams.message(requester, 'status');
    const status = await waitForCard(t, personalId(t, requester), (c) => textOf(c).includes('Opter email status'));
    expectShownLiterally(cardOf(status), appName);
    expect(await expectAllCardsValid(t)).toBeGreaterThan(0);
  });

  it('brings a reject reason with markdown to the requester as typed', async () => {
    const reason = 'Use [the nordics name](https://evil.example) *now*';
    const { requestId } = await submitSetup(t, { appName: 'Opter Rejected Name', senders: [sim.mailboxes.faktura] });
    const approval = await approvalCopy(t, requestId, personalId(t, t.personas.approver));
    await click(t, t.personas.approver, approval, 'reject', { reason });
    const notice = await waitForCard(t, personalId(t, t.personas.requester), (c) => textOf(c).includes(`Request ${requestId} (Opter Rejected Name) was rejected`));
    expectShownLiterally(cardOf(notice), `Reason: ${reason}`);
  });
});
