/**
 * The identities every simulated tenant is seeded with for delegated mode (docs/simulator.md, "Seeded identities"):
 * the read-only standing identity (reads everything the product reads, writes nothing) and the bot's own app (Teams
 * SSO token → On-Behalf-Of → Graph and Exchange tokens that write as far as the signed-in user's roles reach).
 * Real clients over real HTTPS.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OnBehalfOfCredential } from '@azure/identity';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { DIRECTORY_ROLES, EXCHANGE_MANAGE_SCOPE, GRAPH_APP_ID, MAIL_SEND_ROLE_ID, type Simulator } from '../../src/sim';
import { credential, decodeJwt, exchangeToken, graphClient, invoke, startTestSimulator } from './helpers';

let sim: Simulator;
const dir = mkdtempSync(join(tmpdir(), 'sim-seeded-'));

beforeAll(async () => {
  sim = await startTestSimulator();
});
afterAll(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => sim.reset());

const readOnly = () => credential(sim, sim.readOnly.clientId, sim.readOnly.clientSecret);
const graphSpId = () => String(sim.snapshot().servicePrincipals.find((s) => s.appId === GRAPH_APP_ID)!.id);
type GraphFailure = { statusCode: number; code: string; message: string };
const failure = (p: Promise<unknown>) => p.then(() => null, (e: GraphFailure) => ({ statusCode: e.statusCode, code: e.code, message: e.message }));
const DENIED = { statusCode: 403, code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' };

/** An app + service principal made by the provisioning identity, for the read-only identity to read and fail to change. */
async function provisionedApp() {
  const g = graphClient(sim);
  const app = await g.api('/applications').post({ displayName: 'Opter sender' });
  const sp = await g.api('/servicePrincipals').post({ appId: app.appId });
  const pw = await g.api(`/applications/${app.id}/addPassword`).post({ passwordCredential: { displayName: 'x' } });
  const grant = await g.api(`/servicePrincipals/${graphSpId()}/appRoleAssignedTo`).post({ principalId: sp.id, resourceId: graphSpId(), appRoleId: MAIL_SEND_ROLE_ID });
  return { app, sp, pw, grant };
}

describe('sim.readOnly: the read-only standing identity', () => {
  test('its tokens carry Application.Read.All + Policy.Read.All for Graph, Exchange.ManageAsApp and Global Reader for Exchange', async () => {
    const graph = decodeJwt((await readOnly().getToken(`${sim.graphEndpoint}/.default`)).token);
    expect((graph.roles as string[]).sort()).toEqual(['Application.Read.All', 'Policy.Read.All']);
    expect(graph.wids).toEqual([DIRECTORY_ROLES['Global Reader']]);
    const exo = decodeJwt(await exchangeToken(sim, readOnly()));
    expect(exo.roles).toEqual(['Exchange.ManageAsApp']);
    expect(exo.wids).toEqual([DIRECTORY_ROLES['Global Reader']]);
    expect(sim.readOnly.clientId).not.toBe(sim.provisioning.clientId);
  });

  test('reads applications, service principals, app role assignments and the default app management policy', async () => {
    const { app, sp, grant } = await provisionedApp();
    const g = graphClient(sim, readOnly());
    expect((await g.api('/applications').filter(`appId eq '${app.appId}'`).get()).value).toHaveLength(1);
    expect((await g.api(`/applications/${app.id}`).get()).passwordCredentials).toHaveLength(1);
    expect((await g.api('/servicePrincipals').filter(`appId eq '${app.appId}'`).get()).value[0].id).toBe(sp.id);
    expect((await g.api(`/servicePrincipals/${sp.id}/appRoleAssignments`).get()).value.map((a: { id: string }) => a.id)).toEqual([grant.id]);
    expect((await g.api(`/servicePrincipals/${graphSpId()}/appRoleAssignedTo`).get()).value.some((a: { id: string }) => a.id === grant.id)).toBe(true);
    expect(await g.api('/policies/defaultAppManagementPolicy').get()).toHaveProperty('isEnabled');
  });

  test('every Graph write is refused with 403 Authorization_RequestDenied and changes nothing', async () => {
    const { app, sp, pw, grant } = await provisionedApp();
    const before = sim.snapshot();
    const g = graphClient(sim, readOnly());
    const writes: Array<[string, () => Promise<unknown>]> = [
      ['POST /applications', () => g.api('/applications').post({ displayName: 'nope' })],
      ['PATCH /applications/{id}', () => g.api(`/applications/${app.id}`).patch({ displayName: 'renamed' })],
      ['DELETE /applications/{id}', () => g.api(`/applications/${app.id}`).delete()],
      ['addPassword', () => g.api(`/applications/${app.id}/addPassword`).post({ passwordCredential: { displayName: 'nope' } })],
      ['removePassword', () => g.api(`/applications/${app.id}/removePassword`).post({ keyId: pw.keyId })],
      ['POST /servicePrincipals', () => g.api('/servicePrincipals').post({ appId: app.appId })],
      ['DELETE /servicePrincipals/{id}', () => g.api(`/servicePrincipals/${sp.id}`).delete()],
      ['POST appRoleAssignedTo', () => g.api(`/servicePrincipals/${graphSpId()}/appRoleAssignedTo`).post({ principalId: sp.id, resourceId: graphSpId(), appRoleId: MAIL_SEND_ROLE_ID })],
      ['DELETE appRoleAssignedTo/{id}', () => g.api(`/servicePrincipals/${graphSpId()}/appRoleAssignedTo/${grant.id}`).delete()],
      ['PATCH defaultAppManagementPolicy', () => g.api('/policies/defaultAppManagementPolicy').patch({ isEnabled: true })],
    ];
    for (const [name, write] of writes) expect(await failure(write()), name).toEqual(DENIED);
    const after = sim.snapshot();
    expect([after.applications, after.servicePrincipals, after.appRoleAssignments]).toEqual([before.applications, before.servicePrincipals, before.appRoleAssignments]);
  });

  test('runs the Exchange Get-* cmdlets and the Test-* checks', async () => {
    const { app, sp } = await provisionedApp();
    const admin = await exchangeToken(sim);
    expect((await invoke(sim, admin, 'New-ServicePrincipal', { AppId: app.appId, ObjectId: sp.id, DisplayName: 'Opter sender' })).status).toBe(200);
    const token = await exchangeToken(sim, readOnly());
    const reads: Array<[string, Record<string, unknown>]> = [
      ['Get-AcceptedDomain', {}],
      ['Get-Recipient', { Identity: sim.mailboxes.info }],
      ['Get-Mailbox', { Identity: sim.mailboxes.info }],
      ['Get-DistributionGroup', {}],
      ['Get-DistributionGroupMember', { Identity: sim.mailboxes.distributionList }],
      ['Get-ApplicationAccessPolicy', {}],
      ['Get-OrganizationConfig', {}],
      ['Get-ServicePrincipal', {}],
      ['Get-ManagementScope', {}],
      ['Get-ManagementRoleAssignment', {}],
      ['Test-ApplicationAccessPolicy', { Identity: sim.mailboxes.info, AppId: app.appId }],
      ['Test-ServicePrincipalAuthorization', { Identity: sp.id, Resource: sim.mailboxes.info }],
    ];
    for (const [cmdlet, params] of reads) expect((await invoke(sim, token, cmdlet, params)).status, cmdlet).toBe(200);
    const check = await invoke(sim, token, 'Test-ApplicationAccessPolicy', { Identity: sim.mailboxes.info, AppId: app.appId });
    expect(check.json.value[0].AccessCheckResult).toBe('Granted');
  });

  test('every Exchange write is hidden from it (the out-of-role 403) and changes nothing', async () => {
    const { app, sp } = await provisionedApp();
    const admin = await exchangeToken(sim);
    const group = await invoke(sim, admin, 'New-DistributionGroup', { Name: 'Opter senders', Alias: 'opter-senders', Type: 'Security' });
    expect(group.status).toBe(200);
    const before = sim.snapshot();
    const token = await exchangeToken(sim, readOnly());
    const writes: Array<[string, Record<string, unknown>]> = [
      ['New-DistributionGroup', { Name: 'Nope', Type: 'Security' }],
      ['Set-DistributionGroup', { Identity: 'opter-senders', DisplayName: 'x' }],
      ['Remove-DistributionGroup', { Identity: 'opter-senders' }],
      ['Add-DistributionGroupMember', { Identity: 'opter-senders', Member: sim.mailboxes.info, BypassSecurityGroupManagerCheck: true }],
      ['Remove-DistributionGroupMember', { Identity: 'opter-senders', Member: sim.mailboxes.info, BypassSecurityGroupManagerCheck: true }],
      ['New-ApplicationAccessPolicy', { AppId: app.appId, PolicyScopeGroupId: 'opter-senders', AccessRight: 'RestrictAccess', Description: 'x' }],
      ['Remove-ApplicationAccessPolicy', { Identity: 'x' }],
      ['Enable-OrganizationCustomization', {}],
      ['New-ServicePrincipal', { AppId: app.appId, ObjectId: sp.id }],
      ['New-ManagementScope', { Name: 'x', RecipientRestrictionFilter: "Alias -eq 'info'" }],
      ['New-ManagementRoleAssignment', { App: app.appId, Role: 'Application Mail.Send', RecipientGroupScope: 'opter-senders' }],
      ['Remove-ManagementRoleAssignment', { Identity: 'x' }],
    ];
    for (const [cmdlet, params] of writes) {
      const r = await invoke(sim, token, cmdlet, params);
      expect([r.status, r.unreadable], cmdlet).toEqual([403, true]);
    }
    const after = sim.snapshot();
    expect([after.groups, after.accessPolicies, after.exchangeServicePrincipals, after.roleAssignments]).toEqual([before.groups, before.accessPolicies, before.exchangeServicePrincipals, before.roleAssignments]);
  });
});

describe('sim.botApp: the bot’s SSO + On-Behalf-Of app', () => {
  const at = (alias: string) => `${alias}@${sim.domain}`;

  function obo(user: string): OnBehalfOfCredential {
    // disableInstanceDiscovery is honoured at run time but missing from OnBehalfOfCredential's option types.
    const options = {
      tenantId: sim.tenantId,
      clientId: sim.botApp.clientId,
      clientSecret: sim.botApp.clientSecret,
      userAssertionToken: sim.teamsSsoToken(user, { botAppId: sim.botApp.clientId }),
      authorityHost: sim.authorityHost,
      disableInstanceDiscovery: true,
    };
    return new OnBehalfOfCredential(options);
  }

  test('is registered with api://botid-<id> and admin consent for the delegated permissions', async () => {
    const app = sim.snapshot().applications.find((a) => a.appId === sim.botApp.clientId)!;
    expect(app.identifierUris).toEqual([`api://botid-${sim.botApp.clientId}`]);
    const graph = decodeJwt((await obo(at('vd')).getToken(`${sim.graphEndpoint}/.default`)).token);
    expect(String(graph.scp).split(' ').sort()).toEqual(['AppRoleAssignment.ReadWrite.All', 'Application.Read.All', 'Application.ReadWrite.All']);
    expect(graph).toMatchObject({ appid: sim.botApp.clientId, idtyp: 'user', upn: at('vd') });
    expect((graph.wids as string[]).sort()).toEqual(
      [DIRECTORY_ROLES['Privileged Role Administrator'], DIRECTORY_ROLES['Exchange Administrator'], DIRECTORY_ROLES['Cloud Application Administrator']].sort(),
    );
    expect(decodeJwt((await obo(at('vd')).getToken(`${sim.exchangeEndpoint}/.default`)).token).scp).toBe(EXCHANGE_MANAGE_SCOPE);
  });

  test('the seeded approver (vd@) writes everything a setup needs with their own tokens', async () => {
    const cred = obo(at('vd'));
    const g = graphClient(sim, cred);
    const app = await g.api('/applications').post({ displayName: 'Opter delegated' });
    const sp = await g.api('/servicePrincipals').post({ appId: app.appId });
    await g.api(`/applications/${app.id}/addPassword`).post({ passwordCredential: { displayName: 'x' } });
    const grant = await g.api(`/servicePrincipals/${graphSpId()}/appRoleAssignedTo`).post({ principalId: sp.id, resourceId: graphSpId(), appRoleId: MAIL_SEND_ROLE_ID });
    expect(grant.appRoleId).toBe(MAIL_SEND_ROLE_ID);
    const exo = await exchangeToken(sim, cred);
    expect((await invoke(sim, exo, 'New-DistributionGroup', { Name: 'Opter delegated senders', Alias: 'opter-delegated', Type: 'Security' })).status).toBe(200);
    expect((await invoke(sim, exo, 'Add-DistributionGroupMember', { Identity: 'opter-delegated', Member: sim.mailboxes.info, BypassSecurityGroupManagerCheck: true })).status).toBe(200);
    expect((await invoke(sim, exo, 'New-ApplicationAccessPolicy', { AppId: app.appId, PolicyScopeGroupId: 'opter-delegated', AccessRight: 'RestrictAccess', Description: 'x' })).status).toBe(200);
    const writes = sim.requests().filter((r) => r.method === 'POST' && r.status < 300 && r.family !== 'token');
    expect(writes.every((r) => r.token === 'user' && r.principal === at('vd'))).toBe(true);
  });

  test('the seeded requester (admin@, Global Reader) reads but every write is refused', async () => {
    const cred = obo(at('admin'));
    const g = graphClient(sim, cred);
    expect((await g.api('/applications').get()).value.length).toBeGreaterThan(0);
    expect(await failure(g.api('/applications').post({ displayName: 'nope' }))).toEqual(DENIED);
    const exo = await exchangeToken(sim, cred);
    expect((await invoke(sim, exo, 'Get-DistributionGroup')).status).toBe(200);
    const refused = await invoke(sim, exo, 'New-DistributionGroup', { Name: 'Nope', Type: 'Security' });
    expect([refused.status, refused.unreadable]).toEqual([403, true]);
  });

  test('a user without any role (ingenbrevlada@) is refused by Graph and by Exchange', async () => {
    const cred = obo(sim.mailboxes.noMailbox);
    expect(await failure(graphClient(sim, cred).api('/applications').post({ displayName: 'nope' }))).toEqual(DENIED);
    const r = await invoke(sim, await exchangeToken(sim, cred), 'New-DistributionGroup', { Name: 'Nope', Type: 'Security' });
    expect(r.status).toBe(403);
    expect(r.json.error.message).toMatch(/User is not allowed to call New-DistributionGroup/);
  });
});

describe('in every tenant, across reset and restart', () => {
  test('reset() keeps both identities with the same ids and secrets', async () => {
    const ids = [sim.readOnly.clientId, sim.botApp.clientId];
    sim.reset();
    const apps = sim.snapshot().applications.map((a) => a.appId);
    expect(apps).toEqual(expect.arrayContaining(ids));
    await expect(readOnly().getToken(`${sim.graphEndpoint}/.default`)).resolves.toBeTruthy();
  });

  test('a state file keeps stable ids, issues new secrets, never stores one, and restores identities an older file lacks', async () => {
    const stateFile = join(dir, 'sim-tenant.json');
    const first = await startTestSimulator({ stateFile });
    const old = { readOnly: { ...first.readOnly }, botApp: { ...first.botApp } };
    await first.close();
    const onDisk = readFileSync(stateFile, 'utf8');
    expect(onDisk).not.toContain(old.readOnly.clientSecret);
    expect(onDisk).not.toContain(old.botApp.clientSecret);

    // An older state file: no seeded identities, no consents, personas without roles.
    const state = JSON.parse(onDisk);
    const gone = new Set([old.readOnly.clientId, old.botApp.clientId]);
    const goneSps = new Set(state.servicePrincipals.filter((s: { appId: string }) => gone.has(s.appId)).map((s: { id: string }) => s.id));
    state.applications = state.applications.filter((a: { appId: string }) => !gone.has(a.appId));
    state.servicePrincipals = state.servicePrincipals.filter((s: { id: string }) => !goneSps.has(s.id));
    state.appRoleAssignments = state.appRoleAssignments.filter((a: { principalId: string }) => !goneSps.has(a.principalId));
    state.directoryRoleAssignments = state.directoryRoleAssignments.filter((a: { principalId: string }) => !goneSps.has(a.principalId));
    delete state.delegatedConsents;
    for (const u of state.users) delete u.directoryRoles;
    writeFileSync(stateFile, JSON.stringify(state));

    const second = await startTestSimulator({ stateFile });
    try {
      expect([second.readOnly.clientId, second.botApp.clientId]).toEqual([old.readOnly.clientId, old.botApp.clientId]);
      expect(second.readOnly.clientSecret).not.toBe(old.readOnly.clientSecret);
      expect(second.botApp.clientSecret).not.toBe(old.botApp.clientSecret);
      await expect(credential(second, old.readOnly.clientId, old.readOnly.clientSecret).getToken(`${second.graphEndpoint}/.default`)).rejects.toThrow(/AADSTS7000215/);
      const t = decodeJwt((await credential(second, second.readOnly.clientId, second.readOnly.clientSecret).getToken(`${second.graphEndpoint}/.default`)).token);
      expect((t.roles as string[]).sort()).toEqual(['Application.Read.All', 'Policy.Read.All']);
      const vd = second.snapshot().users.find((u) => u.userPrincipalName === second.mailboxes.outside)!;
      expect(vd.directoryRoles).toContain(DIRECTORY_ROLES['Exchange Administrator']);
      const options = {
        tenantId: second.tenantId,
        clientId: second.botApp.clientId,
        clientSecret: second.botApp.clientSecret,
        userAssertionToken: second.teamsSsoToken(second.mailboxes.outside, { botAppId: second.botApp.clientId }),
        authorityHost: second.authorityHost,
        disableInstanceDiscovery: true,
      };
      await expect(new OnBehalfOfCredential(options).getToken(`${second.exchangeEndpoint}/.default`)).resolves.toBeTruthy();
    } finally {
      await second.close();
    }
  });

  test('/_sim/info names both identities by id only', async () => {
    const info = await (await fetch(`${sim.graphEndpoint}/_sim/info`)).json();
    expect(info).toMatchObject({ readOnlyClientId: sim.readOnly.clientId, botAppClientId: sim.botApp.clientId });
    const text = JSON.stringify(info);
    expect(text).not.toContain(sim.readOnly.clientSecret);
    expect(text).not.toContain(sim.botApp.clientSecret);
  });
});
