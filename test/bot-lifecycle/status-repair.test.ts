/**
 * Issue 6 capabilities 5 and 6 through the bot: "status" / "list" from the registry (managed and script-made
 * registrations, senders, scoping, expiry, last verification, drift); drift made the way it happens in real tenants
 * (a member added and the access policy removed directly with Exchange cmdlets) shown on the card and repaired
 * through approval; "remove sender" proven by a Denied check; a script-made registration adopted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TenantAdapters } from '../../src/adapters';
import type { Simulator } from '../../src/sim';
import {
  adaptersFor,
  approve,
  bodyOf,
  cardOf,
  click,
  dataOf,
  errorCodeOf,
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
  type Registration,
  type TestBot,
} from './helpers';
import { GRAPH_APP_ID, MAIL_SEND_ROLE_ID } from '../../src/sim';

let sim: Simulator;
let t: TestBot;
let reg: Registration;
let adapters: TenantAdapters;

beforeAll(async () => {
  sim = await startTestSimulator();
  t = await startTestBot({ sim });
  adapters = adaptersFor(sim);
  await greet(t, t.personas.approver);
  reg = await setUpRegistration(t, sim, { appName: 'Opter Drift', senders: [sim.mailboxes.info, sim.mailboxes.faktura] });
});
afterAll(async () => {
  await t?.close();
  await sim?.close();
});

const members = () => sim.snapshot().groups.find((g) => g.primarySmtpAddress === reg.groupSmtp)!.members.map((m) => m.toLowerCase()).sort();
const policies = (appId: string) => sim.snapshot().accessPolicies.filter((p) => p.appId === appId);

async function status() {
  const msg = await say(t, 'status', (c) => textOf(c).includes('Opter email status'));
  return { msg, text: textOf(cardOf(msg)) };
}

/** Clicks a registration button on the status card and approves the request it made; returns the request id. */
async function clickAndApprove(msg: Awaited<ReturnType<typeof status>>['msg'], verb: 'repair' | 'adopt', kind: string, registrationId: string): Promise<{ requestId: string; approvalText: string }> {
  const res = bodyOf(await click(t, t.personas.requester, msg, verb, {}, { data: { registrationId } }));
  expect(textOf(res.value)).toContain('Sent for approval');
  const request = latestRequest(t, kind);
  const approvalText = await approve(t, request.id);
  await progressCardIn(t, personalId(t, t.personas.requester), request.id, /Finished and verified/);
  return { requestId: request.id, approvalText };
}

describe('status, drift and repair', () => {
  it('shows a healthy registration with its senders, scoping, secret expiry and last verification', async () => {
    const { text, msg } = await status();
    expect(text).toContain('All 1 registration look healthy');
    expect(text).toMatch(/Opter Drift\nClient ID\n[\s\S]*Scoping\nApplication Access Policy\nGroup SMTP\nopter-drift-mailsend-allowed@exempel\.se\nSenders\ninfo@exempel\.se, faktura@exempel\.se\nSecret\n✅ Expires/);
    expect(text).toMatch(/Last verification\n✅ .*: 4 of 4 checks passed/);
    expect(dataOf(cardOf(msg), 'rotate-secret')).toEqual({ registrationId: reg.appId });
  });

  it('finds a member added and the policy removed directly in Exchange, and repairs both through approval', async () => {
    // What an admin does by hand in Exchange Online PowerShell.
    await adapters.exchange.addDistributionGroupMember(reg.groupSmtp, sim.mailboxes.shared);
    for (const p of policies(reg.appId)) await adapters.exchange.removeApplicationAccessPolicy(p.identity);
    expect(await trySend(adapters, reg.appId, reg.secret, sim.mailboxes.outside)).toBe('sent'); // the damage is real

    const drifted = await status();
    expect(drifted.text).toContain('1 of 1 registration need attention');
    expect(drifted.text).toContain(`Drift found\n- Added to the group outside the bot: ${sim.mailboxes.shared}.`);
    expect(drifted.text).toContain('No Application Access Policy limits the app to its group: it can send as ANY mailbox.');
    expect(dataOf(cardOf(drifted.msg), 'repair')).toEqual({ registrationId: reg.appId });
    // Only admins may ask.
    expect(errorCodeOf(await click(t, t.personas.nonAdmin, drifted.msg, 'repair', {}, { data: { registrationId: reg.appId } }))).toBe('E_NOT_ADMIN');

    // First Repair: the ensure steps put the policy back (the stranger is not silently approved).
    const first = await clickAndApprove(drifted.msg, 'repair', 'repair', reg.appId);
    expect(first.approvalText).toContain('Approval needed: Repair Opter email setup');
    expect(first.approvalText).toContain('No Application Access Policy limits the app to its group');
    expect(policies(reg.appId)).toHaveLength(1);
    expect(await trySend(adapters, reg.appId, reg.secret, sim.mailboxes.outside)).toBe(403);
    await waitForCard(t, personalId(t, t.personas.requester), (c) => textOf(c).includes('Opter Drift was repaired'));

    // Second Repair: the member added outside the bot is removed (approve it with "add sender" to keep it).
    const half = await status();
    expect(half.text).toContain(`Added to the group outside the bot: ${sim.mailboxes.shared}.`);
    expect(half.text).not.toContain('No Application Access Policy');
    const second = await clickAndApprove(half.msg, 'repair', 'remove-sender', reg.appId);
    expect(second.approvalText).toContain(`− ${sim.mailboxes.shared}`);
    expect(second.approvalText).toContain('Approval needed: Remove sender from Opter email');
    expect(members()).toEqual([sim.mailboxes.faktura, sim.mailboxes.info].sort());
    expect(await adapters.exchange.testApplicationAccessPolicy(reg.appId, sim.mailboxes.shared)).toBe('Denied');
    const result = await waitForCard(t, personalId(t, t.personas.requester), (c) => textOf(c).includes(`${sim.mailboxes.shared} can no longer send through Opter Drift`));
    expect(textOf(cardOf(result))).toContain(`✅ May not send as ${sim.mailboxes.shared}`);

    const healthy = await status();
    expect(healthy.text).toContain('All 1 registration look healthy');
    const actions = t.bot.store.audit.list().map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['registration.repaired', 'sender.removed']));
  });

  it('"remove sender x@…": approval, removal, a Denied check, the requester told, audited', async () => {
    await say(t, `remove sender ${sim.mailboxes.faktura.toUpperCase()}`, (c) => textOf(c).includes('Sent for approval'));
    const request = latestRequest(t, 'remove-sender');
    const approvalText = await approve(t, request.id);
    expect(approvalText).toContain('Remove sender from Opter email');
    expect(approvalText).toMatch(/Before\ninfo@exempel\.se, faktura@exempel\.se\nAfter\ninfo@exempel\.se\nRemoved\n− faktura@exempel\.se/);
    await progressCardIn(t, personalId(t, t.personas.requester), request.id, /Finished and verified/);
    await waitForCard(t, personalId(t, t.personas.requester), (c) => textOf(c).includes('faktura@exempel.se can no longer send through Opter Drift'));
    expect(members()).toEqual([sim.mailboxes.info]);
    expect(await adapters.exchange.testApplicationAccessPolicy(reg.appId, sim.mailboxes.faktura)).toBe('Denied');
    const removed = t.bot.store.audit.listForRequest(request.id).find((e) => e.action === 'sender.removed')!;
    expect(removed.objects).toMatchObject({ sender: sim.mailboxes.faktura, appId: reg.appId });
    expect((await status()).text).toContain('All 1 registration look healthy');

    // Not a sender: refused with the list of senders.
    const refused = await say(t, `remove sender ${sim.mailboxes.shared} from Opter Drift`, (c) => textOf(c).includes('E_INPUT_INVALID'));
    expect(textOf(cardOf(refused))).toContain(`${sim.mailboxes.shared} is not a sender of Opter Drift (senders: info@exempel.se)`);
  });
});

describe('adopt', () => {
  it('lists a registration the script made as adoptable, and Adopt makes it managed after approval', async () => {
    // What regmsgraph.ps1 leaves behind, made with plain calls (nothing in the bot's store or journal).
    const { directory, exchange } = adapters;
    const app = await directory.upsertApplicationByUniqueName(`script-${Date.now()}`, { displayName: 'Opter Gamla', signInAudience: 'AzureADMyOrg' });
    if (!app.created) throw new Error('expected a new app');
    const sp = await directory.upsertServicePrincipal(app.value.appId);
    if (!sp.created) throw new Error('expected a new service principal');
    await directory.assignAppRole({ principalId: sp.value.id, resourceId: (await directory.getServicePrincipalByAppId(GRAPH_APP_ID))!.id, appRoleId: MAIL_SEND_ROLE_ID });
    const group = await exchange.newDistributionGroup({ name: 'Opter Gamla - MailSend Allowed', alias: 'opter-gamla-mailsend-allowed', members: [sim.mailboxes.info] });
    await exchange.newApplicationAccessPolicy({ appId: app.value.appId, policyScopeGroupId: group.primarySmtpAddress, accessRight: 'RestrictAccess', description: 'Restrict app to group' });
    await directory.addPassword(app.value.id, { displayName: 'opter-gamla-secret', endDateTime: new Date(Date.now() + 365 * 86_400_000).toISOString() });

    const before = await status();
    expect(before.text).toContain('Opter Gamla (not managed by the bot yet)');
    expect(dataOf(cardOf(before.msg), 'adopt')).toEqual({ registrationId: app.value.appId });
    const { approvalText } = await clickAndApprove(before.msg, 'adopt', 'adopt', app.value.appId);
    expect(approvalText).toContain('Adopt an Opter registration made by the script');
    expect(approvalText).toContain('Nothing in the tenant changes');
    await waitForCard(t, personalId(t, t.personas.requester), (c) => textOf(c).includes('Opter Gamla is now managed by the bot'));
    expect(hasGraphMailSend(sim, app.value.appId)).toBe(true); // adopting changed nothing

    const after = await status();
    expect(after.text).not.toContain('not managed by the bot yet');
    expect(after.text).toMatch(/Opter Gamla\nClient ID/);
    expect(t.bot.store.audit.list().map((e) => e.action)).toContain('registration.adopted');
    expect(await expectAllCardsValid(t)).toBeGreaterThan(10);
    expectNoSecretLeaked(t, [reg.secret]);
  });
});
