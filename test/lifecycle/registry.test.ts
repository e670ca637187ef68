/**
 * Remove sender, status/list with drift, repair and adopt — against the simulator through the real adapters, with
 * the drift produced the way it happens in real tenants: someone changes Exchange or Entra by hand.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { listRegistrations, type RegistrationSummary } from '../../src/provisioning/registry';
import { GRAPH_APP_ID, MAIL_SEND_ROLE_ID, type Simulator } from '../../src/sim';
import { openStore, type Store } from '../../src/store';
import { startTestSimulator } from '../adapters/helpers';
import { engineFor, FAST, hasGraphMailSend, mustSucceed, policiesOf, trySend, type Harness } from './helpers';

let sim: Simulator;
let store: Store;
let h: Harness;

beforeAll(async () => {
  sim = await startTestSimulator();
});
afterAll(async () => {
  store?.close();
  await sim?.close();
});
beforeEach(() => {
  sim.reset();
  store?.close();
  store = openStore({ memory: true });
  h = engineFor(sim, store);
});

const list = () => listRegistrations({ directory: h.adapters.directory, exchange: h.adapters.exchange, journal: store.journal }, new Date());
const find = async (name: string): Promise<RegistrationSummary> => {
  const regs = await list();
  const r = regs.find((x) => x.appDisplayName === name);
  if (!r) throw new Error(`${name} not listed (listed: ${regs.map((x) => x.appDisplayName).join(', ')})`);
  return r;
};
const kinds = (r: RegistrationSummary) => r.drift.map((d) => d.kind).sort();

async function provision(name: string, senders = [sim.mailboxes.info, sim.mailboxes.faktura], scoping: 'access-policy' | 'rbac' = 'access-policy') {
  const out = await mustSucceed(h.engine.run(h.engine.createJob('provision', { appDisplayName: name, senders, scoping }).id));
  return { appId: out.result!.clientId, spId: out.result!.spObjectId, groupSmtp: out.result!.groupSmtp, secret: h.sink.secretOf(out.job.id) };
}

/** What regmsgraph.ps1 leaves behind, made with plain calls (no uniqueName, nothing in our journal). */
async function scriptMade(name: string, senders: string[]) {
  const { directory, exchange } = h.adapters;
  const app = await directory.upsertApplicationByUniqueName(`script-${Date.now()}`, { displayName: name, signInAudience: 'AzureADMyOrg' });
  if (!app.created) throw new Error('expected a new app');
  // The script creates apps without a uniqueName; clear it so the app looks exactly like its output.
  await directory.client.api(`/applications/${app.value.id}`).patch({ uniqueName: null }).catch(() => undefined);
  const sp = await directory.upsertServicePrincipal(app.value.appId);
  if (!sp.created) throw new Error('expected a new service principal');
  const graph = (await directory.getServicePrincipalByAppId(GRAPH_APP_ID))!;
  await directory.assignAppRole({ principalId: sp.value.id, resourceId: graph.id, appRoleId: MAIL_SEND_ROLE_ID });
  const alias = name.toLowerCase().replace(/\s+/g, '-');
  const group = await exchange.newDistributionGroup({ name: `${name} - MailSend Allowed`, alias: `${alias}-mailsend-allowed`, members: senders });
  await exchange.newApplicationAccessPolicy({ appId: app.value.appId, policyScopeGroupId: group.primarySmtpAddress, accessRight: 'RestrictAccess', description: 'Restrict app to group' });
  await directory.addPassword(app.value.id, { displayName: `${alias}-secret`, endDateTime: new Date(Date.now() + 365 * 86_400_000).toISOString() });
  return { appId: app.value.appId, groupSmtp: group.primarySmtpAddress };
}

describe('remove sender', () => {
  it('removes the member with the manager-check bypass, and the address tests as Denied and is refused by sendMail', async () => {
    const reg = await provision('Remove From Me');
    sim.clearRequests();
    const out = await mustSucceed(h.engine.run(h.engine.createJob('remove-sender', { appDisplayName: 'Remove From Me', senders: [sim.mailboxes.faktura.toUpperCase(), sim.mailboxes.shared] }).id));
    const r = out.lifecycle!;
    if (r.kind !== 'remove-sender') throw new Error('unexpected result');
    expect(r.removed).toEqual([sim.mailboxes.faktura]);
    expect(r.notMembers).toEqual([sim.mailboxes.shared]);
    expect(r.members).toEqual([sim.mailboxes.info]);
    expect(r.checks.map((c) => [c.name, c.ok])).toEqual([
      [`May not send as ${sim.mailboxes.faktura}`, true],
      [`May not send as ${sim.mailboxes.shared}`, true],
    ]);
    expect(r.checks[0]!.detail).toContain('Graph Mail.Send + access policy: Denied');
    expect(sim.requests().filter((x) => x.cmdlet === 'Remove-DistributionGroupMember')).toHaveLength(1);
    expect(await trySend(h.adapters, reg.appId, reg.secret, sim.mailboxes.faktura)).toBe(403);
    expect(await trySend(h.adapters, reg.appId, reg.secret, sim.mailboxes.info)).toBe('sent');
    // The new member list is the baseline: no drift.
    expect(kinds(await find('Remove From Me'))).toEqual([]);
  });

  it('on an RBAC registration the removed address is no longer InScope', async () => {
    const reg = await provision('Remove Rbac', undefined, 'rbac');
    const out = await mustSucceed(h.engine.run(h.engine.createJob('remove-sender', { appDisplayName: 'Remove Rbac', senders: [sim.mailboxes.info] }).id));
    const r = out.lifecycle as { checks: { ok: boolean; detail: string }[] };
    expect(r.checks[0]).toMatchObject({ ok: true });
    expect(r.checks[0]!.detail).toContain('RBAC: not in scope');
    expect(await trySend(h.adapters, reg.appId, reg.secret, sim.mailboxes.info)).toBe(403);
  });

  it('fails verification when a tenant-wide grant would still let the app send as the removed address', async () => {
    const reg = await provision('Still Allowed', undefined, 'rbac');
    // Someone granted Graph Mail.Send by hand: with no access policy it reaches every mailbox.
    const graph = (await h.adapters.directory.getServicePrincipalByAppId(GRAPH_APP_ID))!;
    await h.adapters.directory.assignAppRole({ principalId: reg.spId, resourceId: graph.id, appRoleId: MAIL_SEND_ROLE_ID });
    const { engine } = engineFor(sim, store, { verifyRetry: { baseDelayMs: 20, maxDelayMs: 50, maxTotalWaitMs: 200 } });
    const out = await engine.run(engine.createJob('remove-sender', { appDisplayName: 'Still Allowed', senders: [sim.mailboxes.info] }).id);
    expect(out.error?.code).toBe('E_VERIFY_FAILED');
    expect(out.error?.detail).toContain('Graph Mail.Send + access policy: Granted');
  });
});

describe('list, drift and repair', () => {
  it('lists a managed registration with senders, scoping, secret expiry, last verification and no drift', async () => {
    const reg = await provision('Listed');
    const r = await find('Listed');
    expect(r).toMatchObject({ appId: reg.appId, managed: true, origin: 'bot', adoptable: false, scoping: 'access-policy', intendedScoping: 'access-policy', groupSmtp: reg.groupSmtp });
    expect(r.senders.sort()).toEqual([sim.mailboxes.info, sim.mailboxes.faktura].sort());
    expect(r.secretExpiresAt).toMatch(/^20\d\d-/);
    expect(r.lastVerification).toMatchObject({ ok: true });
    expect(r.drift).toEqual([]);
  });

  it('detects a member added outside the bot, a missing grant and a missing policy — and repair restores grant and policy but keeps the stranger flagged', async () => {
    const reg = await provision('Drifting', [sim.mailboxes.info, sim.mailboxes.faktura]);
    const { directory, exchange } = h.adapters;
    await exchange.addDistributionGroupMember(reg.groupSmtp, sim.mailboxes.shared);
    await exchange.removeDistributionGroupMember(reg.groupSmtp, sim.mailboxes.faktura);
    const held = await directory.listAppRoleAssignments(reg.spId);
    for (const a of held) await directory.removeAppRoleAssignment(reg.spId, a.id);
    for (const p of policiesOf(sim, reg.appId)) await exchange.removeApplicationAccessPolicy(p.identity);

    const drifted = await find('Drifting');
    expect(kinds(drifted)).toEqual(['grant-missing', 'member-missing', 'member-outside-bot', 'policy-missing']);
    expect(drifted.drift.find((d) => d.kind === 'member-outside-bot')!.description).toContain(sim.mailboxes.shared);
    expect(drifted.drift.find((d) => d.kind === 'member-missing')!.description).toContain(sim.mailboxes.faktura);

    const out = await mustSucceed(h.engine.run(h.engine.createJob('repair', { appDisplayName: 'Drifting' }).id));
    expect(out.result!.secret).toBeNull(); // repair never makes a secret
    expect(out.result!.notes.join(' ')).toContain(`Left in the group (added outside the bot): ${sim.mailboxes.shared}`);
    expect(hasGraphMailSend(sim, reg.appId)).toBe(true);
    expect(policiesOf(sim, reg.appId)).toHaveLength(1);
    const group = sim.snapshot().groups.find((g) => g.primarySmtpAddress === reg.groupSmtp)!;
    expect(group.members.sort()).toEqual([sim.mailboxes.info, sim.mailboxes.faktura, sim.mailboxes.shared].sort());
    expect(await trySend(h.adapters, reg.appId, reg.secret, sim.mailboxes.faktura)).toBe('sent');
    expect(kinds(await find('Drifting'))).toEqual(['member-outside-bot']);

    // Approving the stranger with add-sender makes it part of the baseline.
    await mustSucceed(h.engine.run(h.engine.createJob('add-sender', { appDisplayName: 'Drifting', senders: [sim.mailboxes.shared] }).id));
    expect(kinds(await find('Drifting'))).toEqual([]);
  });

  it('flags a tenant-wide Graph grant next to an RBAC scope, and repair removes it', async () => {
    const reg = await provision('Rbac Drift', [sim.mailboxes.info], 'rbac');
    const graph = (await h.adapters.directory.getServicePrincipalByAppId(GRAPH_APP_ID))!;
    await h.adapters.directory.assignAppRole({ principalId: reg.spId, resourceId: graph.id, appRoleId: MAIL_SEND_ROLE_ID });
    expect(await trySend(h.adapters, reg.appId, reg.secret, sim.mailboxes.outside)).toBe('sent');
    const drifted = await find('Rbac Drift');
    expect(drifted.scoping).toBe('rbac');
    expect(kinds(drifted)).toEqual(['tenant-wide-grant']);
    await mustSucceed(h.engine.run(h.engine.createJob('repair', { appDisplayName: 'Rbac Drift' }).id));
    expect(hasGraphMailSend(sim, reg.appId)).toBe(false);
    expect(await trySend(h.adapters, reg.appId, reg.secret, sim.mailboxes.outside)).toBe(403);
    expect(kinds(await find('Rbac Drift'))).toEqual([]);
  });

  it('finds its own RBAC assignment by name even where a -RoleAssignee look-up returns nothing', async () => {
    await provision('Rbac By Name', [sim.mailboxes.info], 'rbac');
    const exchange = new Proxy(h.adapters.exchange, {
      get(target, prop, receiver) {
        if (prop === 'getManagementRoleAssignments') {
          return (f: { roleAssignee?: string } = {}) => (f.roleAssignee ? Promise.resolve([]) : target.getManagementRoleAssignments(f));
        }
        return Reflect.get(target, prop, receiver);
      },
    });
    const regs = await listRegistrations({ directory: h.adapters.directory, exchange, journal: store.journal }, new Date());
    const r = regs.find((x) => x.appDisplayName === 'Rbac By Name')!;
    expect(r.scoping).toBe('rbac');
    expect(r.drift).toEqual([]);
  });

  it('flags a missing RBAC assignment and repair recreates it', async () => {
    const reg = await provision('Rbac Lost', [sim.mailboxes.info], 'rbac');
    const [a] = sim.snapshot().roleAssignments.filter((x) => x.appId === reg.appId);
    await h.adapters.exchange.removeManagementRoleAssignment(a!.name);
    expect(kinds(await find('Rbac Lost'))).toEqual(['rbac-assignment-missing']);
    expect(await trySend(h.adapters, reg.appId, reg.secret, sim.mailboxes.info)).toBe(403);
    await mustSucceed(h.engine.run(h.engine.createJob('repair', { appDisplayName: 'Rbac Lost' }).id));
    expect(await trySend(h.adapters, reg.appId, reg.secret, sim.mailboxes.info)).toBe('sent');
    expect(kinds(await find('Rbac Lost'))).toEqual([]);
  });

  it('lists a registration the script made as adoptable; adopt takes it over; an unrelated app with a policy is not listed', async () => {
    const seed = await scriptMade('Opter Gamla', [sim.mailboxes.info]);
    // An app that is not Opter's: a policy, but none of the script's naming.
    const other = await h.adapters.directory.upsertApplicationByUniqueName(`other-${Date.now()}`, { displayName: 'CRM Connector', signInAudience: 'AzureADMyOrg' });
    if (!other.created) throw new Error('expected a new app');
    await h.adapters.exchange.newApplicationAccessPolicy({ appId: other.value.appId, policyScopeGroupId: sim.mailboxes.info, accessRight: 'RestrictAccess', description: ' ' });

    const regs = await list();
    expect(regs.map((r) => r.appDisplayName)).toEqual(['Opter Gamla']);
    expect(regs[0]).toMatchObject({ appId: seed.appId, managed: false, origin: 'script', adoptable: true, scoping: 'access-policy', groupSmtp: seed.groupSmtp, lastVerification: null });
    expect(regs[0]!.drift).toEqual([]);

    const out = await mustSucceed(h.engine.run(h.engine.createJob('adopt', { appDisplayName: 'Opter Gamla' }).id));
    expect(out.lifecycle).toMatchObject({ kind: 'adopt', scoping: 'access-policy', members: [sim.mailboxes.info] });
    const adopted = await find('Opter Gamla');
    expect(adopted).toMatchObject({ managed: true, origin: 'adopted', adoptable: false, lastVerification: { ok: true } });
    // From now on its members are tracked.
    await h.adapters.exchange.addDistributionGroupMember(seed.groupSmtp, sim.mailboxes.faktura);
    expect(kinds(await find('Opter Gamla'))).toEqual(['member-outside-bot']);
  });

  it('reports a migration waiting for Exchange as a planned wait with its time, not as grant, policy or migration drift', async () => {
    await provision('Waiting Migration', [sim.mailboxes.info]);
    const { engine } = engineFor(sim, store, { maxInlineWaitMs: 0, retry: FAST });
    const out = await engine.run(engine.createJob('migrate-rbac', { appDisplayName: 'Waiting Migration', settleMinutes: 60 }).id);
    expect(out.error?.code).toBe('E_JOB_UNFINISHED');
    const r = await find('Waiting Migration');
    expect(r.scoping).toBe('mixed');
    expect(kinds(r)).toEqual([]);
    expect(r.migration).toEqual({ jobId: out.job.id, state: 'waiting', until: out.resumeAfter, error: null });
  });
});
