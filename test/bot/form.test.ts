/**
 * The request form's server-side validation, field by field, and the name-conflict choice: reuse the existing
 * registration (the engine then reuses everything and adds the new senders) or type a new name.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/sim';
import {
  approvalCopy,
  bodyOf,
  cardOf,
  click,
  dataOf,
  formInputs,
  greet,
  hasVerb,
  openForm,
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

async function check(inputs: Record<string, string>, verb: 'check-request' | 'submit-request' = 'check-request') {
  const form = await openForm(t);
  const body = bodyOf(await click(t, t.personas.requester, form, verb, inputs));
  expect(body.type).toBe('application/vnd.microsoft.card.adaptive');
  return { text: textOf(body.value), card: body.value, form };
}

describe('form validation', () => {
  it('puts each problem next to its field and creates nothing', async () => {
    const noAlias = await check({ ...formInputs({ appName: '!!!', senders: [sim.mailboxes.info] }) }, 'submit-request');
    expect(noAlias.text).toMatch(/at least one Latin letter or digit/);
    expect(noAlias.text).toContain('Please correct the fields marked below.');

    const badAddress = await check(formInputs({ appName: 'Opter Fields', senders: ['not-an-address'] }));
    expect(badAddress.text).toMatch(/"not-an-address" is not a valid email address/);

    const years = await check({ ...formInputs({ appName: 'Opter Fields', senders: [sim.mailboxes.info] }), secretValidYears: '99' });
    expect(years.text).toMatch(/whole number of years from 1 to 10/);

    // RBAC for Applications is a valid choice (issue 6): checked like the default, no field message.
    const rbac = await check({ ...formInputs({ appName: 'Opter Fields', senders: [sim.mailboxes.info] }), scoping: 'rbac' });
    expect(rbac.text).toContain('Names that will be used');
    expect(rbac.text).not.toContain('Please correct the fields marked below.');

    // A group alias that belongs to another recipient would stop the setup half-way: refused up front.
    const dl = sim.snapshot().groups.find((g) => g.recipientTypeDetails !== 'MailUniversalSecurityGroup')!;
    expect(dl).toBeDefined();
    const alias = await check({ ...formInputs({ appName: 'Opter Fields', senders: [sim.mailboxes.info] }), groupAlias: dl.alias }, 'submit-request');
    expect(alias.text).toMatch(/Choose another group name\/alias/);
    expect(t.bot.store.requests.list()).toHaveLength(0);
  });

  it('refuses up front when the tenant forbids client secrets, saying which exemption the admin must add', async () => {
    sim.setFaults({ blockPasswordAddition: {} });
    try {
      sim.clearRequests();
      const r = await check(formInputs({ appName: 'Opter No Secrets', senders: [sim.mailboxes.info] }), 'submit-request');
      expect(r.text).toContain('The tenant’s app-management policy forbids client secrets for this app');
      expect(r.text).toContain('tenant default app management policy restricts passwordAddition');
      expect(r.text).toMatch(/assign it to the app registration \(an assigned policy replaces the tenant default\)/);
      expect(t.bot.store.requests.list().filter((q) => q.appName === 'Opter No Secrets')).toHaveLength(0);
      // Only reads: nothing was created in the tenant.
      expect(sim.requests().filter((q) => q.family === 'graph' && q.method !== 'GET')).toEqual([]);
      // A restriction for apps created in the future does not cover a new app made now.
      sim.setFaults({ blockPasswordAddition: { restrictForAppsCreatedAfterDateTime: '2999-01-01T00:00:00Z' } });
      const later = await check(formInputs({ appName: 'Opter No Secrets', senders: [sim.mailboxes.info] }));
      expect(later.text).not.toContain('forbids client secrets');
    } finally {
      sim.setFaults({ blockPasswordAddition: null });
    }
  });

  it('60 senders that are not mailboxes are one line with a count next to the senders field', async () => {
    const senders = Array.from({ length: 60 }, (_, i) => `saknas${i + 1}@${sim.domain}`);
    const many = await check(formInputs({ appName: 'Opter Many', senders }));
    expect(many.text).toContain(`60 senders are not mailboxes in this tenant: saknas1@${sim.domain}, saknas2@${sim.domain}, saknas3@${sim.domain} and 57 more.`);
    expect(many.text).not.toContain('is not an existing mailbox');
    expect(t.bot.store.requests.list()).toHaveLength(0);
  });

  it('refuses a second request for a name that is already waiting for approval', async () => {
    const first = await submitSetup(t, { appName: 'Opter Busy', senders: [sim.mailboxes.info] });
    expect(textOf(bodyOf(first.res).value)).toContain('Sent for approval');
    const second = await check(formInputs({ appName: 'opter busy', senders: [sim.mailboxes.info] }), 'submit-request');
    expect(second.text).toMatch(/A request for “opter busy” is already pending/);
    const copy = await approvalCopy(t, first.requestId, personalId(t, t.personas.approver));
    await click(t, t.personas.approver, copy, 'reject', { reason: 'duplicate test' });
  });

  it('offers reuse or a new name when the name is taken, and reuse keeps the app and its secret', async () => {
    const { requester, approver } = t.personas;
    const original = await submitSetup(t, { appName: 'Opter Reuse', senders: [sim.mailboxes.info] });
    await click(t, approver, await approvalCopy(t, original.requestId, personalId(t, approver)), 'approve');
    await progressCardIn(t, personalId(t, requester), original.requestId, /Finished and verified/);
    await secretCardIn(t, personalId(t, requester), original.requestId);
    const appId = sim.snapshot().applications.find((a) => a.displayName === 'Opter Reuse')!.appId as string;

    const form = await openForm(t);
    const formData = dataOf(cardOf(form), 'submit-request');
    const inputs = formInputs({ appName: 'Opter Reuse', senders: [sim.mailboxes.faktura] });
    const conflict = bodyOf(await click(t, requester, form, 'check-request', inputs));
    const conflictText = textOf(conflict.value);
    expect(conflictText).toContain('“Opter Reuse” is already used by another registration');
    expect(conflictText).toContain(appId);
    expect(conflictText).toContain('Existing Opter registrations: Opter Reuse');
    expect(hasVerb(conflict.value, 'submit-request')).toBe(true);

    const newName = bodyOf(await click(t, requester, form, 'submit-request', {}, { data: { ...formData, ...inputs, nameChoice: 'new' } }));
    expect(textOf(newName.value)).toMatch(/is taken\. Type a different app name/);
    expect(t.bot.store.requests.get(String(formData.requestId))).toBeNull();

    const reused = bodyOf(await click(t, requester, form, 'submit-request', {}, { data: { ...formData, ...inputs, nameChoice: 'reuse' } }));
    expect(textOf(reused.value)).toContain('Sent for approval');
    const requestId = String(formData.requestId);
    const copy = await approvalCopy(t, requestId, personalId(t, approver));
    const plan = textOf(cardOf(copy));
    expect(plan).toContain('Opter Reuse (existing)');
    expect(plan).not.toContain('Client secret');
    await click(t, approver, copy, 'approve');
    await progressCardIn(t, personalId(t, requester), requestId, /Finished and verified/);
    await waitForCard(t, personalId(t, requester), (c) => textOf(c).includes('already had a valid client secret'));

    const snap = sim.snapshot();
    expect(snap.applications.filter((a) => a.displayName === 'Opter Reuse')).toHaveLength(1);
    expect(snap.applications.find((a) => a.displayName === 'Opter Reuse')!.passwordCredentials as unknown[]).toHaveLength(1);
    expect(snap.groups.find((g) => g.name === 'Opter Reuse - MailSend Allowed')!.members.map((m) => m.toLowerCase()).sort()).toEqual(['faktura@exempel.se', 'info@exempel.se']);
    expect(t.bot.store.secrets.get(requestId)).toBeNull();
  });

  it('lets the requester cancel a draft; nobody else can use it', async () => {
    const form = await openForm(t);
    const other = await click(t, t.personas.approver, form, 'submit-request', formInputs({ appName: 'Opter Stolen', senders: [sim.mailboxes.info] }));
    expect((bodyOf(other).value as { code: string }).code).toBe('E_NOT_REQUESTER');
    const cancelled = bodyOf(await click(t, t.personas.requester, form, 'cancel-request'));
    expect(textOf(cancelled.value)).toContain('Cancelled');
    await waitForCard(t, form.conversationId, (c, m) => m.id === form.id && textOf(c).includes('Cancelled'));
    expect(t.bot.store.requests.list({ appName: 'Opter Stolen' })).toHaveLength(0);
  });

  it('opens the form from the help card button for admins', async () => {
    await t.teams.message(t.personas.requester, 'help');
    const help = await waitForCard(t, personalId(t, t.personas.requester), (c) => hasVerb(c, 'start-setup'));
    const res = bodyOf(await click(t, t.personas.requester, help, 'start-setup'));
    expect(hasVerb(res.value, 'submit-request')).toBe(true);
    const requestId = String(dataOf(res.value, 'submit-request').requestId);
    // The help message now carries this draft's form: its buttons are bound to it.
    const submit = bodyOf(await click(t, t.personas.requester, help, 'check-request', {}, { data: { requestId, ...formInputs({ appName: 'Opter From Help', senders: [sim.mailboxes.info] }) } }));
    expect(textOf(submit.value)).toContain('Names that will be used');
  });
});

describe('a group belongs to exactly one registration (form and approval)', () => {
  const owner = 'Opter Message Proxy';
  const ownerGroup = { name: 'Opter Message Proxy - MailSend Allowed', alias: 'opter-message-proxy-mailsend-allowed' };
  const membersOf = (alias: string) => (sim.snapshot().groups.find((g) => g.alias === alias)?.members as string[] | undefined)?.map((m) => m.toLowerCase()).sort();

  /** A registration set up the ordinary way: form, approval, finished job. */
  async function provisionDirectly(appName: string, senders: string[]) {
    const { requester, approver } = t.personas;
    const { requestId } = await submitSetup(t, { appName, senders });
    await click(t, approver, await approvalCopy(t, requestId, personalId(t, approver)), 'approve');
    await progressCardIn(t, personalId(t, requester), requestId, /Finished and verified/);
    const app = sim.snapshot().applications.find((a) => a.displayName === appName)!;
    return { clientId: app.appId as string, appObjectId: app.id as string };
  }

  it('refuses every colliding name and the overrides on submit, naming the owner and a free name; nothing is requested', async () => {
    const { clientId } = await provisionDirectly(owner, [sim.mailboxes.faktura]);
    const attempts: [Record<string, string>, string][] = [
      ...['Opter Message Proxy.', 'Opter  Message   Proxy', 'Opter Message Proxy!!!', 'Opter_Message_Proxy', 'Opter Message Proxy\u0301'].map(
        (appName): [Record<string, string>, string] => [formInputs({ appName, senders: [sim.mailboxes.info] }), 'use the group name "Opter Message Proxy 2 - MailSend Allowed" and alias "opter-message-proxy-2-mailsend-allowed"'],
      ),
      [{ ...formInputs({ appName: 'Opter Other Team', senders: [sim.mailboxes.info] }), groupName: ownerGroup.name, groupAlias: ownerGroup.alias }, 'use the group name "Opter Other Team - MailSend Allowed" and alias "opter-other-team-mailsend-allowed"'],
    ];
    for (const [inputs, instead] of attempts) {
      const r = await check(inputs, 'submit-request');
      expect(r.text, inputs.appDisplayName).toContain('Please correct the fields marked below.');
      expect(r.text).toContain(`belongs to the registration "${owner}" (client id ${clientId})`);
      expect(r.text).toContain(instead);
      expect(hasVerb(r.card, 'submit-request')).toBe(true);
      expect(t.bot.store.requests.list({ appName: inputs.appDisplayName })).toHaveLength(0);
    }
    expect(membersOf(ownerGroup.alias)).toEqual([sim.mailboxes.faktura]);
  });

  it('the engine re-checks after approval: a group that appeared meanwhile stops the job with the refusal', async () => {
    const { requester, approver } = t.personas;
    const late = await submitSetup(t, { appName: 'Opter Late.', senders: [sim.mailboxes.info] });
    expect(textOf(bodyOf(late.res).value)).toContain('Sent for approval');
    await provisionDirectly('Opter Late', [sim.mailboxes.faktura]);
    await click(t, approver, await approvalCopy(t, late.requestId, personalId(t, approver)), 'approve');
    const stopped = textOf(cardOf(await progressCardIn(t, personalId(t, requester), late.requestId, /Stopped: a step failed/)));
    expect(stopped).toContain('E_GROUP_OTHER_REGISTRATION');
    expect(stopped).toContain('belongs to the registration "Opter Late"');
    expect(membersOf('opter-late-mailsend-allowed')).toEqual([sim.mailboxes.faktura]);
    expect(sim.snapshot().applications.filter((a) => a.displayName === 'Opter Late.')).toHaveLength(0);
  });

  it('an existing group of this registration is shown as existing, with its current members, never as new', async () => {
    const { requester, approver } = t.personas;
    // The app registration is gone (deleted by hand); the group it had stays this registration's by our journal.
    const lost = await provisionDirectly('Opter Lost App', [sim.mailboxes.faktura, sim.mailboxes.shared]);
    await t.bot.tenant.adapters.directory.deleteApplication(lost.appObjectId);
    const { requestId, res } = await submitSetup(t, { appName: 'Opter Lost App', senders: [sim.mailboxes.info] });
    expect(textOf(bodyOf(res).value)).toContain('Sent for approval');
    const plan = textOf(cardOf(await approvalCopy(t, requestId, personalId(t, approver))));
    expect(plan).toContain(`Opter Lost App - MailSend Allowed (alias opter-lost-app-mailsend-allowed), existing group, 2 members: ${sim.mailboxes.faktura}, ${sim.mailboxes.shared}`);
    expect(plan).not.toMatch(/\(alias opter-lost-app-mailsend-allowed\), new/);
    expect(plan).toContain(`+ ${sim.mailboxes.info}`);
    await click(t, approver, await approvalCopy(t, requestId, personalId(t, approver)), 'reject', { reason: 'test only' });
    void requester;
  });
});
