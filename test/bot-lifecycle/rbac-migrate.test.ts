/**
 * Issue 6 capabilities 1 and 2 through the bot, over HTTP against the simulator:
 *  - the form's RBAC choice reaches the engine: the approval card says which model and what it grants, and the
 *    tenant never holds a tenant-wide Graph Mail.Send grant for the app (snapshot), while the senders can send;
 *  - "migrate <app> to RBAC": a plan card (adds, removes, order), approval, the job that waits for Exchange's
 *    permission cache (the bot's clock, skipped forward), then the grant and the access policy are gone and the
 *    senders are InScope.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/sim';
import {
  HOUR,
  adaptersFor,
  approve,
  cardOf,
  expectAllCardsValid,
  expectNoSecretLeaked,
  greet,
  hasGraphMailSend,
  latestRequest,
  personalId,
  progressCardIn,
  say,
  setUpRegistration,
  startTestBot,
  startTestSimulator,
  textOf,
  trySend,
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

const roleAssignments = (appId: string) => sim.snapshot().roleAssignments.filter((a) => a.appId === appId);
const policies = (appId: string) => sim.snapshot().accessPolicies.filter((p) => p.appId === appId);

describe('scoping model chosen on the form', () => {
  it('rbac: the approval card says so, and the app never holds a tenant-wide Graph Mail.Send grant', async () => {
    const reg = await setUpRegistration(t, sim, { appName: 'Opter Rbac', senders: [sim.mailboxes.info], scoping: 'rbac' });
    expect(reg.approvalText).toMatch(/Scoping\nRBAC for Applications \(Exchange role, scoped to the group\)/);
    expect(reg.approvalText).toMatch(/role “Application Mail.Send” for the app, scoped to the direct members/);
    expect(reg.approvalText).toMatch(/No tenant-wide Microsoft Graph Mail.Send permission/);

    expect(hasGraphMailSend(sim, reg.appId)).toBe(false);
    expect(roleAssignments(reg.appId)).toEqual([expect.objectContaining({ role: 'Application Mail.Send', scope: reg.groupSmtp })]);
    expect(policies(reg.appId)).toEqual([]);
    const adapters = adaptersFor(sim);
    expect(await trySend(adapters, reg.appId, reg.secret, sim.mailboxes.info)).toBe('sent');
    expect(await trySend(adapters, reg.appId, reg.secret, sim.mailboxes.outside)).toBe(403);
    // The progress card listed the RBAC steps, and the job recorded the model.
    const done = await progressCardIn(t, personalId(t, t.personas.requester), reg.requestId, /Finished and verified/);
    expect(textOf(cardOf(done))).toMatch(/RBAC role assignment \(Application Mail.Send, group scope\)/);
    expect(t.bot.store.journal.getJob(t.bot.store.requests.get(reg.requestId)!.jobId!)!.input).toMatchObject({ scoping: 'rbac' });

    // "add sender" on it: the approval card describes the RBAC grant, and the new sender is verified in scope.
    await say(t, `add sender ${sim.mailboxes.faktura}`, (c) => textOf(c).includes('Sent for approval'));
    const add = latestRequest(t, 'add-sender');
    const addApproval = await approve(t, add.id);
    expect(addApproval).toMatch(/Scoping\nRBAC for Applications/);
    expect(addApproval).not.toMatch(/Graph \*\*Mail\.Send\*\* as an application permission/);
    await waitForCard(t, personalId(t, t.personas.requester), (c) => textOf(c).includes('Senders added') && textOf(c).includes(`${sim.mailboxes.faktura} → InScope True`));
    expect(await trySend(adapters, reg.appId, reg.secret, sim.mailboxes.faktura)).toBe('sent');
    expect(hasGraphMailSend(sim, reg.appId)).toBe(false);
    expectNoSecretLeaked(t, [reg.secret]);
  });

  it('access-policy stays the default and is what the approval card describes', async () => {
    const reg = await setUpRegistration(t, sim, { appName: 'Opter Default', senders: [sim.mailboxes.info, sim.mailboxes.faktura] });
    expect(reg.approvalText).toMatch(/Application Access Policy \(RestrictAccess, scoped to the group\)/);
    expect(hasGraphMailSend(sim, reg.appId)).toBe(true);
    expect(policies(reg.appId)).toHaveLength(1);
  });
});

describe('migrate <app> to RBAC', () => {
  it('shows the plan, waits for approval and for the permission cache, then leaves only the RBAC scope', async () => {
    const { requester } = t.personas;
    const adapters = adaptersFor(sim);
    const reg = await setUpRegistration(t, sim, { appName: 'Opter Move', senders: [sim.mailboxes.info, sim.mailboxes.faktura] });

    // The plan: what is added, what is removed, in the order that keeps mail flowing.
    const planMsg = await say(t, 'migrate Opter Move to RBAC', (c) => textOf(c).includes('Migration plan, in this order'));
    const card = textOf(cardOf(planMsg));
    expect(card).toMatch(/Adds\nExchange service principal pointer; Application Mail.Send scoped to the sender group/);
    expect(card).toMatch(/Removes\nRemove the Graph Mail.Send grant; Remove the Application Access Policy/);
    const plan = card.slice(card.indexOf('Migration plan, in this order'));
    const order = ['Exchange service principal pointer', 'Application Mail.Send scoped to the sender group', 'Verify the RBAC scope', 'Wait for Exchange', 'Remove the Graph Mail.Send grant', 'Remove the Application Access Policy', 'Verify again'].map(
      (s) => plan.indexOf(s),
    );
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(plan).toContain('Why this order keeps mail flowing');
    // Nothing changed before approval.
    expect(roleAssignments(reg.appId)).toEqual([]);

    const request = latestRequest(t, 'migrate-rbac');
    const approvalText = await approve(t, request.id);
    expect(approvalText).toContain('Approval needed: Migrate Opter email to RBAC for Applications');
    expect(approvalText).toContain('Application Access Policy → RBAC for Applications');
    expect(approvalText).toContain('Migration plan, in this order');

    // RBAC is added and verified; the job waits (120 min by default) before removing anything; mail keeps flowing.
    const waiting = await progressCardIn(t, personalId(t, requester), request.id, /Waiting/);
    expect(textOf(cardOf(waiting))).toMatch(/continues by itself after/);
    expect(t.bot.store.requests.get(request.id)!.status).toBe('provisioning');
    expect(roleAssignments(reg.appId)).toHaveLength(1);
    expect(hasGraphMailSend(sim, reg.appId)).toBe(true);
    expect(policies(reg.appId)).toHaveLength(1);
    expect(await trySend(adapters, reg.appId, reg.secret, sim.mailboxes.info)).toBe('sent');
    expect(await trySend(adapters, reg.appId, reg.secret, sim.mailboxes.outside)).toBe(403);

    // An hour later (and across a restart) nothing moves; after the wait the worker continues the job.
    t.clock.advance(HOUR);
    await t.restart();
    await t.bot.tick();
    await t.bot.idle();
    expect(hasGraphMailSend(sim, reg.appId)).toBe(true);
    expect(t.bot.store.requests.get(request.id)!.status).toBe('provisioning');
    await progressCardIn(t, personalId(t, requester), request.id, /Waiting/);
    t.clock.advance(HOUR + 5 * 60_000);
    await t.bot.tick();
    await t.bot.idle();
    await progressCardIn(t, personalId(t, requester), request.id, /Finished and verified/);

    expect(hasGraphMailSend(sim, reg.appId)).toBe(false);
    expect(policies(reg.appId)).toEqual([]);
    expect(roleAssignments(reg.appId)).toEqual([expect.objectContaining({ role: 'Application Mail.Send', scope: reg.groupSmtp })]);
    const exoSp = sim.snapshot().exchangeServicePrincipals.find((s) => s.appId === reg.appId)!;
    for (const sender of [sim.mailboxes.info, sim.mailboxes.faktura]) {
      const rows = await adapters.exchange.testServicePrincipalAuthorization(exoSp.objectId, sender);
      expect(rows.some((r) => r.inScope === true), sender).toBe(true);
    }
    expect(await trySend(adapters, reg.appId, reg.secret, sim.mailboxes.info)).toBe('sent');
    expect(await trySend(adapters, reg.appId, reg.secret, sim.mailboxes.outside)).toBe(403);

    // The requester gets the verification result; the audit log has the whole story.
    const result = await waitForCard(t, personalId(t, requester), (c) => textOf(c).includes('Opter Move now uses RBAC for Applications'));
    expect(textOf(cardOf(result))).toMatch(/✅ Test-ServicePrincipalAuthorization info@exempel\.se\nInScope True/);
    expect(textOf(cardOf(result))).toMatch(/✅ No tenant-wide Graph Mail.Send grant/);
    const actions = t.bot.store.audit.listForRequest(request.id).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['request.created', 'request.approved', 'step.settle.waiting', 'request.waiting', 'step.removeGraphGrant.succeeded', 'registration.migrated', 'request.succeeded']));
    expect(actions).not.toContain('request.failed');
    expect(t.bot.store.audit.verify().ok).toBe(true);

    // "status" now shows the RBAC model for it.
    const status = await say(t, 'status', (c) => textOf(c).includes('Opter email status'));
    expect(textOf(cardOf(status))).toMatch(/Opter Move\nClient ID[\s\S]*?Scoping\nRBAC for Applications/);

    expect(await expectAllCardsValid(t)).toBeGreaterThan(10);
    expectNoSecretLeaked(t, [reg.secret]);
  });

  it('refuses a registration that is RBAC already, with the reason', async () => {
    const msg = await say(t, 'migrate Opter Rbac to RBAC', (c) => textOf(c).includes('E_INPUT_INVALID'));
    expect(textOf(cardOf(msg))).toContain('already uses RBAC for Applications only');
  });
});
