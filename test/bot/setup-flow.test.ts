/**
 * Issue 4's main path over HTTP: "set up Opter email" in the 1:1 chat → form (server-side validation and the
 * derived-names preview) → approval card in the other admin's 1:1 → approve → live progress to "verified" → the
 * one-time secret card in the requester's 1:1 → reveal once → hide. The simulated tenant then holds the app, its
 * service principal, the Mail.Send grant, the group with the senders, the access policy and a working secret; the
 * audit channel has the story, and no captured request body or log line contains the secret.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/sim';
import { GRAPH_APP_ID, MAIL_SEND_ROLE_ID } from '../../src/sim';
import { createTenantAdapters } from '../../src/adapters';
import {
  approvalCopy,
  bodyOf,
  cardOf,
  channelFor,
  chooseChannel,
  click,
  dataOf,
  expectAllCardsValid,
  formInputs,
  greet,
  hasVerb,
  openForm,
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
let t: TestBot;

beforeAll(async () => {
  sim = await startTestSimulator();
  t = await startTestBot({ sim, settings: { progressMinIntervalMs: 300 } });
});
afterAll(async () => {
  await t?.close();
  await sim?.close();
});

describe('set up Opter email, end to end', () => {
  it('goes from the request to a verified registration and a secret revealed exactly once', async () => {
    const { requester, approver } = t.personas;
    const audit = channelFor(requester.tenantId, 'audit');
    t.teams.addChannel(audit, [requester, approver]);
    await chooseChannel(t, 'audit', audit);
    await greet(t, approver);

    // The form, checked first: a foreign domain and a non-mailbox get field-level messages.
    const form = await openForm(t);
    const requestId = String(dataOf(cardOf(form), 'submit-request').requestId);
    const bad = bodyOf(await click(t, requester, form, 'check-request', formInputs({ appName: 'Opter Flow', senders: ['nobody@exempel.se', 'x@fabrikam.example'] })));
    expect(bad.type).toBe('application/vnd.microsoft.card.adaptive');
    expect(textOf(bad.value)).toMatch(/nobody@exempel\.se is not an existing mailbox/);
    expect(textOf(bad.value)).toMatch(/x@fabrikam\.example is not in an accepted domain/);

    const senders = [sim.mailboxes.info, sim.mailboxes.faktura];
    const checked = bodyOf(await click(t, requester, form, 'check-request', formInputs({ appName: 'Opter Flow', senders })));
    expect(textOf(checked.value)).toContain('Names that will be used');
    expect(textOf(checked.value)).toContain('Opter Flow - MailSend Allowed');
    expect(textOf(checked.value)).toContain('opter-flow-mailsend-allowed@exempel.se');

    const submitted = bodyOf(await click(t, requester, form, 'submit-request', formInputs({ appName: 'Opter Flow', senders })));
    expect(textOf(submitted.value)).toContain('Sent for approval');
    // Submitting the same form again (a double click, a Teams retry) makes no second request.
    const again = bodyOf(await click(t, requester, form, 'submit-request', {}, { data: { requestId, ...formInputs({ appName: 'Opter Flow', senders }) } }));
    expect(textOf(again.value)).toContain('Sent for approval');
    expect(t.bot.store.requests.list({ kind: 'provision' })).toHaveLength(1);

    // The approval card reached the other admin's 1:1 chat, once, with the plan and the permissions it grants.
    const copy = await approvalCopy(t, requestId, personalId(t, approver));
    expect(textOf(cardOf(copy))).toMatch(/Mail\.Send/);
    await t.bot.tick();
    expect(t.bot.store.cards.listCards(requestId, 'approval')).toHaveLength(1);

    const approved = bodyOf(await click(t, approver, copy, 'approve'));
    expect(textOf(approved.value)).toContain(`Approved by ${approver.name}`);
    expect(hasVerb(approved.value, 'approve')).toBe(false);
    // Every copy is edited for everyone.
    await waitForCard(t, personalId(t, approver), (c, m) => m.id === copy.id && textOf(c).includes(`Approved by ${approver.name}`));

    const done = await progressCardIn(t, personalId(t, requester), requestId, /Finished and verified/);
    const progressText = textOf(cardOf(done));
    expect(progressText).toMatch(/Test-ApplicationAccessPolicy/);
    // Edits of the progress card were coalesced: started at least 300 ms apart (measured here on arrival, so with
    // some slack for a loaded machine), fewer edits than engine events, and the last one is the final state.
    const edits = t.connector.requests.filter((r) => r.method === 'PUT' && r.path.endsWith(`/activities/${done.id}`)).map((r) => r.at);
    expect(edits.length).toBeGreaterThan(0);
    for (let i = 1; i < edits.length; i++) expect(edits[i]! - edits[i - 1]!).toBeGreaterThanOrEqual(200);
    const events = t.bot.store.audit.listForRequest(requestId).filter((e) => e.action.startsWith('step.') || e.action === 'verify.check').length;
    expect(done.versions.length).toBeLessThan(events + 2);

    const secretMsg = await secretCardIn(t, personalId(t, requester), requestId);
    const secretCard = cardOf(secretMsg)!;
    expect(hasVerb(secretCard, 'reveal')).toBe(true);
    expect(secretCard.refresh).toBeUndefined();

    const revealed = bodyOf(await click(t, requester, secretMsg, 'reveal'));
    expect(revealed.type).toBe('application/vnd.microsoft.card.adaptive');
    const revealedText = textOf(revealed.value);
    const secret = /^Ms Graph Client Secret\s+: (\S+)$/m.exec(revealedText)![1]!;
    expect(secret.length).toBeGreaterThan(20);
    expect(hasVerb(revealed.value, 'hide-secret')).toBe(true);

    const second = bodyOf(await click(t, requester, secretMsg, 'reveal'));
    expect(second.type).toBe('application/vnd.microsoft.error');
    expect((second.value as { code: string }).code).toBe('E_SECRET_ALREADY_REVEALED');
    expect((second.value as { message: string }).message).toMatch(/revealed at/);

    // Not replaced for everyone yet (the requester may still be copying) …
    expect(textOf(cardOf(t.connector.message(secretMsg.conversationId, secretMsg.id)))).not.toMatch(/Secret revealed/);
    // … until they say they are done.
    const hidden = bodyOf(await click(t, requester, secretMsg, 'hide-secret', {}, { data: dataOf(revealed.value, 'hide-secret') }));
    expect(textOf(hidden.value)).toMatch(/Secret revealed .* by Rita Requester/);
    expect(textOf(cardOf(t.connector.message(secretMsg.conversationId, secretMsg.id)))).toMatch(/Secret revealed/);

    // The tenant: app, service principal, Mail.Send grant, group with both senders, RestrictAccess policy.
    const snap = sim.snapshot();
    const app = snap.applications.find((a) => a.displayName === 'Opter Flow')!;
    expect(app).toBeDefined();
    const sp = snap.servicePrincipals.find((s) => s.appId === app.appId)!;
    expect(sp).toBeDefined();
    const graphSp = snap.servicePrincipals.find((s) => s.appId === GRAPH_APP_ID)!;
    expect(snap.appRoleAssignments.some((a) => a.principalId === sp.id && a.resourceId === graphSp.id && a.appRoleId === MAIL_SEND_ROLE_ID)).toBe(true);
    const group = snap.groups.find((g) => g.name === 'Opter Flow - MailSend Allowed')!;
    expect(group.recipientTypeDetails).toBe('MailUniversalSecurityGroup');
    expect(group.members.map((m) => m.toLowerCase()).sort()).toEqual(senders.map((s) => s.toLowerCase()).sort());
    expect(snap.accessPolicies.filter((p) => p.appId === app.appId && p.accessRight === 'RestrictAccess')).toHaveLength(1);
    const credentials = app.passwordCredentials as Array<{ keyId: string }>;
    expect(credentials).toHaveLength(1);

    // The revealed secret works: the new app signs in and gets Mail.Send.
    const adapters = createTenantAdapters({
      tenantId: sim.tenantId,
      clientId: sim.provisioning.clientId,
      clientSecret: sim.provisioning.clientSecret,
      authorityHost: sim.authorityHost,
      graphEndpoint: sim.graphEndpoint,
      exchangeEndpoint: sim.exchangeEndpoint,
    });
    const token = await adapters.appSignIn.acquireGraphToken(String(app.appId), secret);
    expect(token.roles).toContain('Mail.Send');

    // Audit: the chain verifies, and the channel got the story (request, decision, steps, checks, secret events).
    await t.bot.tick();
    expect(t.bot.store.audit.verify().ok).toBe(true);
    const actions = t.bot.store.audit.list().map((e) => e.action);
    for (const a of ['request.created', 'request.approved', 'step.app.succeeded', 'verify.check', 'request.succeeded', 'secret.stored', 'secret.revealed']) {
      expect(actions).toContain(a);
    }
    const entries = t.bot.store.audit.list().length;
    const auditPosts = await t.connector.waitFor(() => {
      const posts = t.connector.channelMessages(audit.channelId).filter((m) => textOf(cardOf(m)).includes('Chain'));
      return posts.length >= entries ? posts : undefined;
    }, 10_000);
    expect(auditPosts.length).toBe(entries);
    expect(auditPosts.some((m) => textOf(cardOf(m)).includes(String(app.appId)))).toBe(true);

    // One thread per request: the setup's first entry is the only top-level post, every later one replies to it.
    const setupEntries = t.bot.store.audit.listForRequest(requestId);
    expect(setupEntries.length).toBeGreaterThan(15);
    const postOf = (seq: number) => auditPosts.find((m) => textOf(cardOf(m)).includes(`#${seq} ·`))!;
    const root = postOf(setupEntries[0]!.seq);
    expect(setupEntries[0]!.action).toBe('request.created');
    expect(root.conversationId).toBe(audit.channelId);
    for (const e of setupEntries.slice(1)) {
      const reply = postOf(e.seq);
      expect(reply.conversationId, e.action).toBe(`${audit.channelId};messageid=${root.id}`);
      expect(t.connector.threadRootOf(reply)).toBe(root.id);
    }
    const topLevel = t.connector.messages(audit.channelId).filter((m) => textOf(cardOf(m)).includes('Chain'));
    expect(topLevel.filter((m) => textOf(cardOf(m)).includes(requestId))).toEqual([root]);

    // The secret is nowhere but the one invoke answer: not in any request the bot made, not in any log line.
    for (const r of t.connector.requests) expect(JSON.stringify(r.body ?? '')).not.toContain(secret);
    for (const line of t.logLines) expect(line).not.toContain(secret);
    expect(t.invokeBodies.filter((b) => JSON.stringify(b).includes(secret))).toHaveLength(1);

    expect(await expectAllCardsValid(t)).toBeGreaterThan(10);
  });
});
