import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { DIRECTORY_ROLES, type Simulator } from '../../src/sim';
import { credential, exchangeErrorDetail, exchangeToken, graphClient, invoke, startTestSimulator } from './helpers';

let sim: Simulator;
let token: string;
beforeAll(async () => {
  sim = await startTestSimulator();
  token = await exchangeToken(sim);
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => sim.reset());

const APP_ID = '5e5e5e5e-1234-4321-abcd-0123456789ab';

async function newSecurityGroup(name = 'Opter Mail Senders', alias = 'opter-mail-senders', members: string[] = []) {
  const r = await invoke(sim, token, 'New-DistributionGroup', { Name: name, Alias: alias, Type: 'Security', Members: members });
  expect(r.status).toBe(200);
  return r.json.value[0];
}

describe('envelope and paging', () => {
  test('success envelope: @odata.context, warnings annotation, value with collection annotations', async () => {
    const r = await invoke(sim, token, 'Get-AcceptedDomain');
    expect(r.status).toBe(200);
    expect(r.json['@odata.context']).toBe(`${sim.exchangeEndpoint}/adminapi/beta/${sim.tenantId}/$metadata#Collection(Exchange.GenericHashTable)`);
    expect(r.json['adminapi.warnings@odata.type']).toBe('#Collection(String)');
    expect(r.json['@adminapi.warnings']).toEqual([]);
    expect(r.json.value).toEqual([
      expect.objectContaining({ DomainName: sim.domain, Default: true, InitialDomain: false }),
      expect.objectContaining({ DomainName: sim.onMicrosoftDomain, Default: false, InitialDomain: true }),
    ]);
    const mbx = await invoke(sim, token, 'Get-Mailbox', { Identity: sim.mailboxes.info });
    expect(mbx.json.value[0]['EmailAddresses@odata.type']).toBe('#Collection(String)');
    expect(mbx.json.value[0]).toMatchObject({ PrimarySmtpAddress: sim.mailboxes.info, RecipientTypeDetails: 'UserMailbox' });
  });

  test('the onmicrosoft.com domain works in the URL as well as the tenant GUID', async () => {
    const r = await invoke(sim, token, 'Get-AcceptedDomain', {}, { url: `${sim.exchangeEndpoint}/adminapi/beta/${sim.onMicrosoftDomain}/InvokeCommand` });
    expect(r.status).toBe(200);
  });

  test('Prefer: odata.maxpagesize pages the output; re-POSTing the same body to @odata.nextLink walks every page', async () => {
    const all = await invoke(sim, token, 'Get-Recipient');
    const total = all.json.value.length;
    expect(total).toBeGreaterThanOrEqual(7);
    expect(all.json['@odata.nextLink']).toBeUndefined();

    const seen: string[] = [];
    let r = await invoke(sim, token, 'Get-Recipient', {}, { maxPageSize: 3 });
    expect(r.headers.get('preference-applied')).toBe('odata.maxpagesize=3');
    let pages = 1;
    seen.push(...r.json.value.map((x: { Guid: string }) => x.Guid));
    while (r.json['@odata.nextLink']) {
      expect(r.json.value).toHaveLength(3);
      r = await invoke(sim, token, 'Get-Recipient', {}, { url: r.json['@odata.nextLink'], maxPageSize: 3 });
      expect(r.status).toBe(200);
      seen.push(...r.json.value.map((x: { Guid: string }) => x.Guid));
      pages++;
    }
    expect(pages).toBe(Math.ceil(total / 3));
    expect(new Set(seen).size).toBe(total);
  });

  test('a nextLink only fits the body it was issued for', async () => {
    const r = await invoke(sim, token, 'Get-Recipient', {}, { maxPageSize: 2 });
    const other = await invoke(sim, token, 'Get-Mailbox', {}, { url: r.json['@odata.nextLink'], maxPageSize: 2 });
    expect(other.status).toBe(400);
  });
});

describe('errors', () => {
  test('not found uses the "ExXXXXXX|Type|text" detail format with HTTP 404', async () => {
    const r = await invoke(sim, token, 'Get-DistributionGroup', { Identity: 'no-such-group' });
    expect(r.status).toBe(404);
    expect(r.json.error.code).toBe('NotFound');
    expect(r.json.error.message).toBe('Error executing cmdlet');
    expect(r.json.error.details[0].code).toBe('Client');
    expect(r.json.error.details[0].message).toMatch(
      /^Ex6F9304\|Microsoft\.Exchange\.Configuration\.Tasks\.ManagementObjectNotFoundException\|The operation couldn't be performed because object 'no-such-group' couldn't be found on '.+'\.$/,
    );
    expect(exchangeErrorDetail(r.json)).toMatchObject({ format: 'ex', type: 'Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException' });
  });

  test('already exists uses the JSON-string detail format with HTTP 400', async () => {
    await newSecurityGroup();
    const r = await invoke(sim, token, 'New-DistributionGroup', { Name: 'Opter Mail Senders', Alias: 'other-alias', Type: 'Security' });
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('BadRequest');
    expect(r.json.error.details[0].code).toBe('Context');
    const detail = JSON.parse(r.json.error.details[0].message);
    expect(detail).toEqual({
      Message: expect.stringMatching(/^The object 'CN=Opter Mail Senders,OU=exempel\.onmicrosoft\.com,.*' already exists\.$/),
      TypeName: 'Microsoft.Exchange.Data.Directory.ADObjectAlreadyExistsException',
      StackTrace: null,
      InnerError: null,
    });
  });

  test('an alias or address already in use is ProxyAddressExistsException', async () => {
    const r = await invoke(sim, token, 'New-DistributionGroup', { Name: 'Another info', Alias: 'info', Type: 'Security' });
    expect(r.status).toBe(400);
    expect(exchangeErrorDetail(r.json)).toMatchObject({ type: 'Microsoft.Exchange.Data.Directory.ProxyAddressExistsException' });
    expect(exchangeErrorDetail(r.json).message).toContain(`"SMTP:${sim.mailboxes.info}" is already being used`);
  });

  test('an unknown cmdlet is 403 with an unreadable gzip-labelled body', async () => {
    const res = await fetch(`${sim.exchangeEndpoint}/adminapi/beta/${sim.tenantId}/InvokeCommand`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ CmdletInput: { CmdletName: 'Get-Nonsense', Parameters: {} } }),
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('content-encoding')).toBe('gzip');
    await expect(res.text()).rejects.toThrow();
  });

  test('an unknown parameter is a ParameterBindingException', async () => {
    const r = await invoke(sim, token, 'Get-Mailbox', { Identity: sim.mailboxes.info, Frobnicate: true });
    expect(r.status).toBe(400);
    expect(exchangeErrorDetail(r.json).message).toBe("A parameter cannot be found that matches parameter name 'Frobnicate'.");
  });

  test('InvokeCommand exists under beta only (v1.0 → 405); no token → 401', async () => {
    const v1 = await invoke(sim, token, 'Get-AcceptedDomain', {}, { url: `${sim.exchangeEndpoint}/adminapi/v1.0/${sim.tenantId}/InvokeCommand` });
    expect(v1.status).toBe(405);
    const anon = await fetch(`${sim.exchangeEndpoint}/adminapi/beta/${sim.tenantId}/InvokeCommand`, { method: 'POST', body: '{}' });
    expect(anon.status).toBe(401);
    expect(anon.headers.get('www-authenticate')).toMatch(/^Bearer /);
    const graphToken = (await credential(sim).getToken(`${sim.graphEndpoint}/.default`)).token;
    expect((await invoke(sim, graphToken, 'Get-AcceptedDomain')).status).toBe(401);
  });

  test('without Exchange.ManageAsApp, or without the Exchange Administrator role, calls are 403', async () => {
    sim.setFaults({ revokedPermissions: ['Exchange.ManageAsApp'] });
    const a = await invoke(sim, token, 'Get-AcceptedDomain');
    expect(a.status).toBe(403);
    expect(a.json.error.message).toBe('User is not allowed to call Get-AcceptedDomain');
    sim.setFaults({ revokedPermissions: ['Exchange Administrator'] });
    expect((await invoke(sim, token, 'Get-AcceptedDomain')).status).toBe(403);
    sim.setFaults({ revokedPermissions: [] });
    expect((await invoke(sim, token, 'Get-AcceptedDomain')).status).toBe(200);
  });

  test('without the Role Management role, its cmdlets are hidden like unknown ones; the script\'s cmdlets still run', async () => {
    sim.setFaults({ revokedPermissions: ['Role Management'] });
    for (const cmdlet of ['Get-ServicePrincipal', 'Get-ManagementRoleAssignment', 'Test-ServicePrincipalAuthorization']) {
      const hidden = await invoke(sim, token, cmdlet);
      expect(hidden.status, cmdlet).toBe(403);
      expect(hidden.unreadable, cmdlet).toBe(true);
    }
    expect((await invoke(sim, token, 'Get-ApplicationAccessPolicy')).status).toBe(200);
    expect((await invoke(sim, token, 'Get-DistributionGroup')).status).toBe(200);
    sim.setFaults({ revokedPermissions: [] });
    expect((await invoke(sim, token, 'Get-ServicePrincipal')).status).toBe(200);
  });
});

describe('recipients', () => {
  test('Get-Recipient and Get-Mailbox resolve by address, alias, name and GUID; non-mailboxes are not mailboxes', async () => {
    const byAddr = await invoke(sim, token, 'Get-Recipient', { Identity: sim.mailboxes.shared });
    expect(byAddr.json.value[0]).toMatchObject({ RecipientType: 'UserMailbox', RecipientTypeDetails: 'SharedMailbox' });
    const guid = byAddr.json.value[0].Guid;
    expect((await invoke(sim, token, 'Get-Mailbox', { Identity: guid })).json.value[0].PrimarySmtpAddress).toBe(sim.mailboxes.shared);
    expect((await invoke(sim, token, 'Get-Mailbox', { Identity: 'faktura' })).json.value[0].PrimarySmtpAddress).toBe(sim.mailboxes.faktura);

    const contact = await invoke(sim, token, 'Get-Recipient', { Identity: sim.mailboxes.contact });
    expect(contact.json.value[0].RecipientTypeDetails).toBe('MailContact');
    const notMailbox = await invoke(sim, token, 'Get-Mailbox', { Identity: sim.mailboxes.contact });
    expect(notMailbox.status).toBe(404);
    expect(notMailbox.json.error.details[0].message).toBe(
      `Ex41BAF5|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The specified mailbox Identity:"${sim.mailboxes.contact}" doesn't exist.`,
    );
    // A user without an Exchange licence is no recipient at all.
    expect((await invoke(sim, token, 'Get-Recipient', { Identity: sim.mailboxes.noMailbox })).status).toBe(404);
  });

  test("Get-Recipient -Filter evaluates OPATH equality with '' escaping, and -RecipientTypeDetails filters", async () => {
    const r = await invoke(sim, token, 'Get-Recipient', { Filter: `PrimarySmtpAddress -eq '${sim.mailboxes.faktura}'` });
    expect(r.json.value.map((x: { PrimarySmtpAddress: string }) => x.PrimarySmtpAddress)).toEqual([sim.mailboxes.faktura]);
    const shared = await invoke(sim, token, 'Get-Mailbox', { RecipientTypeDetails: 'SharedMailbox' });
    expect(shared.json.value.map((x: { PrimarySmtpAddress: string }) => x.PrimarySmtpAddress)).toEqual([sim.mailboxes.shared]);
  });
});

describe('distribution groups', () => {
  test('New-DistributionGroup -Type Security makes a MailUniversalSecurityGroup at alias@default domain with its members', async () => {
    const g = await newSecurityGroup('Opter Mail Senders', 'opter-mail-senders', [sim.mailboxes.info]);
    expect(g).toMatchObject({
      Name: 'Opter Mail Senders',
      Alias: 'opter-mail-senders',
      PrimarySmtpAddress: `opter-mail-senders@${sim.domain}`,
      RecipientTypeDetails: 'MailUniversalSecurityGroup',
      GroupType: 'Universal, SecurityEnabled',
    });
    expect(g.ExternalDirectoryObjectId).toMatch(/^[0-9a-f-]{36}$/);
    const members = await invoke(sim, token, 'Get-DistributionGroupMember', { Identity: g.PrimarySmtpAddress });
    expect(members.json.value.map((m: { PrimarySmtpAddress: string }) => m.PrimarySmtpAddress)).toEqual([sim.mailboxes.info]);
    expect(sim.snapshot().groups.find((x) => x.alias === 'opter-mail-senders')?.members).toEqual([sim.mailboxes.info]);
  });

  test('without -Type the group is a plain distribution group; an alias is derived from the name', async () => {
    const r = await invoke(sim, token, 'New-DistributionGroup', { Name: 'Fakturor Åäö' });
    expect(r.json.value[0]).toMatchObject({ RecipientTypeDetails: 'MailUniversalDistributionGroup', Alias: 'FakturorÅäö', PrimarySmtpAddress: `FakturorAao@${sim.domain}` });
  });

  test('an invalid alias is refused with the Exchange alias rule', async () => {
    const r = await invoke(sim, token, 'New-DistributionGroup', { Name: 'Bad alias', Alias: 'has space', Type: 'Security' });
    expect(r.status).toBe(400);
    expect(exchangeErrorDetail(r.json).message).toMatch(/^Property expression "has space" isn't valid\. Valid values are: Strings formed with characters from A to Z/);
  });

  test('Add-/Remove-DistributionGroupMember need BypassSecurityGroupManagerCheck; duplicate → MemberAlreadyExistsException', async () => {
    const g = await newSecurityGroup();
    const noBypass = await invoke(sim, token, 'Add-DistributionGroupMember', { Identity: g.Alias, Member: sim.mailboxes.faktura });
    expect(noBypass.status).toBe(400);
    expect(exchangeErrorDetail(noBypass.json).type).toBe('Microsoft.Exchange.Management.Tasks.OperationRequiresGroupManagerException');

    const add = await invoke(sim, token, 'Add-DistributionGroupMember', { Identity: g.Alias, Member: sim.mailboxes.faktura, BypassSecurityGroupManagerCheck: true });
    expect(add.status).toBe(200);
    expect(add.json.value).toEqual([]);
    const dup = await invoke(sim, token, 'Add-DistributionGroupMember', { Identity: g.Alias, Member: sim.mailboxes.faktura, BypassSecurityGroupManagerCheck: true });
    expect(dup.status).toBe(400);
    expect(dup.json.error.details[0].message).toContain('Microsoft.Exchange.Management.Tasks.MemberAlreadyExistsException');

    const unknown = await invoke(sim, token, 'Add-DistributionGroupMember', { Identity: g.Alias, Member: 'ghost@exempel.se', BypassSecurityGroupManagerCheck: true });
    expect(unknown.status).toBe(404);

    const remove = await invoke(sim, token, 'Remove-DistributionGroupMember', { Identity: g.Alias, Member: sim.mailboxes.faktura, BypassSecurityGroupManagerCheck: true, Confirm: false });
    expect(remove.status).toBe(200);
    const again = await invoke(sim, token, 'Remove-DistributionGroupMember', { Identity: g.Alias, Member: sim.mailboxes.faktura, BypassSecurityGroupManagerCheck: true, Confirm: false });
    expect(exchangeErrorDetail(again.json).type).toBe('Microsoft.Exchange.Management.Tasks.MemberNotFoundException');
  });
});

describe('application access policies', () => {
  test('New- takes AppId as an array, Get- lists it, Remove- deletes it', async () => {
    const g = await newSecurityGroup();
    const created = await invoke(sim, token, 'New-ApplicationAccessPolicy', {
      AppId: [APP_ID],
      PolicyScopeGroupId: g.PrimarySmtpAddress,
      AccessRight: 'RestrictAccess',
      Description: 'Opter may send only as the group members',
    });
    expect(created.status).toBe(200);
    const p = created.json.value[0];
    expect(p).toMatchObject({ AppId: APP_ID, ScopeName: 'Opter Mail Senders', AccessRight: 'RestrictAccess', IsValid: true });
    expect(p.Identity).toBe(`${sim.tenantId}\\${APP_ID}:${p.ScopeIdentityRaw}`);

    const listed = await invoke(sim, token, 'Get-ApplicationAccessPolicy');
    expect(listed.json.value.map((x: { Identity: string }) => x.Identity)).toEqual([p.Identity]);
    const dup = await invoke(sim, token, 'New-ApplicationAccessPolicy', { AppId: [APP_ID], PolicyScopeGroupId: g.PrimarySmtpAddress, AccessRight: 'RestrictAccess' });
    expect(dup.status).toBe(400);
    expect(exchangeErrorDetail(dup.json).format).toBe('json');

    expect((await invoke(sim, token, 'Remove-ApplicationAccessPolicy', { Identity: p.Identity, Confirm: false })).status).toBe(200);
    expect((await invoke(sim, token, 'Get-ApplicationAccessPolicy')).json.value).toEqual([]);
    expect((await invoke(sim, token, 'Remove-ApplicationAccessPolicy', { Identity: p.Identity, Confirm: false })).status).toBe(404);
  });

  test('the scope must be a mail-enabled security group or a mailbox user, not a distribution group or shared mailbox', async () => {
    for (const scope of [sim.mailboxes.distributionList, sim.mailboxes.shared]) {
      const r = await invoke(sim, token, 'New-ApplicationAccessPolicy', { AppId: [APP_ID], PolicyScopeGroupId: scope, AccessRight: 'RestrictAccess' });
      expect(r.status).toBe(400);
    }
    const single = await invoke(sim, token, 'New-ApplicationAccessPolicy', { AppId: [APP_ID], PolicyScopeGroupId: sim.mailboxes.info, AccessRight: 'RestrictAccess' });
    expect(single.status).toBe(200);
  });

  test('Test-ApplicationAccessPolicy: Granted without policy, Restrict limits to members, Deny beats Restrict', async () => {
    const test = async (mailbox: string) => (await invoke(sim, token, 'Test-ApplicationAccessPolicy', { Identity: mailbox, AppId: APP_ID })).json.value[0].AccessCheckResult;
    expect(await test(sim.mailboxes.outside)).toBe('Granted');

    const g = await newSecurityGroup('Senders', 'senders', [sim.mailboxes.info, sim.mailboxes.faktura]);
    await invoke(sim, token, 'New-ApplicationAccessPolicy', { AppId: [APP_ID], PolicyScopeGroupId: g.PrimarySmtpAddress, AccessRight: 'RestrictAccess' });
    expect(await test(sim.mailboxes.info)).toBe('Granted');
    expect(await test(sim.mailboxes.outside)).toBe('Denied');

    // Membership changes show up immediately in the test result.
    await invoke(sim, token, 'Remove-DistributionGroupMember', { Identity: 'senders', Member: sim.mailboxes.faktura, BypassSecurityGroupManagerCheck: true, Confirm: false });
    expect(await test(sim.mailboxes.faktura)).toBe('Denied');

    const blocked = await newSecurityGroup('Blocked', 'blocked', [sim.mailboxes.info]);
    await invoke(sim, token, 'New-ApplicationAccessPolicy', { AppId: [APP_ID], PolicyScopeGroupId: blocked.PrimarySmtpAddress, AccessRight: 'DenyAccess' });
    expect(await test(sim.mailboxes.info)).toBe('Denied');

    const row = (await invoke(sim, token, 'Test-ApplicationAccessPolicy', { Identity: sim.mailboxes.info, AppId: APP_ID })).json.value[0];
    expect(row).toMatchObject({ AppId: APP_ID, Mailbox: 'info' });
    expect(row.MailboxId).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('an Exchange Recipient Administrator manages groups, but the access-policy cmdlets are hidden from it (403 like unknown)', async () => {
    // Build a second admin app the way a tenant admin would: Exchange.ManageAsApp + an Entra directory role.
    const g = graphClient(sim);
    const graphSp = await g.api(`/servicePrincipals(appId='00000003-0000-0000-c000-000000000000')`).get();
    const exoSp = await g.api(`/servicePrincipals(appId='00000002-0000-0ff1-ce00-000000000000')`).get();
    const self = await g.api(`/servicePrincipals(appId='${sim.provisioning.clientId}')`).get();
    const roleMgmt = graphSp.appRoles.find((r: { value: string }) => r.value === 'RoleManagement.ReadWrite.Directory').id;
    // AppRoleAssignment.ReadWrite.All lets an app grant itself more — the reason Microsoft calls it privileged.
    await g.api(`/servicePrincipals/${graphSp.id}/appRoleAssignedTo`).post({ principalId: self.id, resourceId: graphSp.id, appRoleId: roleMgmt });
    const g2 = graphClient(sim, credential(sim));

    const app = await g2.api('/applications').post({ displayName: 'Recipient admin app' });
    const sp = await g2.api('/servicePrincipals').post({ appId: app.appId });
    const pw = await g2.api(`/applications/${app.id}/addPassword`).post({});
    await g2.api(`/servicePrincipals/${exoSp.id}/appRoleAssignedTo`).post({ principalId: sp.id, resourceId: exoSp.id, appRoleId: 'dc50a0fb-09a3-484d-be87-e023b12c6440' });
    const ra = await g2.api('/roleManagement/directory/roleAssignments').post({
      '@odata.type': '#microsoft.graph.unifiedRoleAssignment',
      roleDefinitionId: DIRECTORY_ROLES['Exchange Recipient Administrator'],
      principalId: sp.id,
      directoryScopeId: '/',
    });
    expect(ra).toMatchObject({ principalId: sp.id, directoryScopeId: '/' });
    const listed = await g2.api('/roleManagement/directory/roleAssignments').filter(`principalId eq '${sp.id}'`).get();
    expect(listed.value).toHaveLength(1);

    const recipientAdmin = await exchangeToken(sim, credential(sim, app.appId, pw.secretText));
    expect((await invoke(sim, recipientAdmin, 'New-DistributionGroup', { Name: 'Made by recipient admin', Alias: 'rcpt-admin', Type: 'Security' })).status).toBe(200);
    const hidden = await invoke(sim, recipientAdmin, 'New-ApplicationAccessPolicy', { AppId: [APP_ID], PolicyScopeGroupId: 'rcpt-admin', AccessRight: 'RestrictAccess' });
    expect(hidden.status).toBe(403);
    expect(hidden.unreadable).toBe(true);
  });
});

// RBAC for Applications: real Exchange names the assignee's identity (the Entra service principal object id) in
// RoleAssignee and the pointer's DisplayName in RoleAssigneeName; roleAssigneeShape switches to the other shapes
// public scripts assume (docs/simulator.md).
/** An Entra app + service principal, its Exchange pointer named "Opter Pointer", and a group-scoped Mail.Send. */
async function assigned(): Promise<{ spId: string; appId: string; name: string }> {
  const g = graphClient(sim);
  const app = await g.api('/applications').post({ displayName: 'RBAC shape' });
  const sp = await g.api('/servicePrincipals').post({ appId: app.appId });
  const group = await invoke(sim, token, 'New-DistributionGroup', { Name: 'Shape Senders', Alias: 'shape-senders', Type: 'Security', Members: [sim.mailboxes.info] });
  expect(group.status).toBe(200);
  expect((await invoke(sim, token, 'New-ServicePrincipal', { AppId: app.appId, ObjectId: sp.id, DisplayName: 'Opter Pointer' })).status).toBe(200);
  const ra = await invoke(sim, token, 'New-ManagementRoleAssignment', { Name: 'shape-mail-send', App: sp.id, Role: 'Application Mail.Send', RecipientGroupScope: 'shape-senders' });
  expect(ra.status).toBe(200);
  return { spId: sp.id, appId: app.appId, name: 'shape-mail-send' };
}

describe('Get-ManagementRoleAssignment for an app', () => {
  test('by default RoleAssignee is the service principal object id and RoleAssigneeName the pointer name', async () => {
    const { spId, name } = await assigned();
    const r = await invoke(sim, token, 'Get-ManagementRoleAssignment', { Identity: name });
    expect(r.json.value[0]).toMatchObject({ Name: name, Role: 'Application Mail.Send', RoleAssigneeType: 'ServicePrincipal', RoleAssignee: spId, RoleAssigneeName: 'Opter Pointer' });
    // -RoleAssignee takes the pointer's object id, as Microsoft's Migrate-AppAccessPolicies.ps1 passes it.
    const byAssignee = await invoke(sim, token, 'Get-ManagementRoleAssignment', { RoleAssignee: spId });
    expect(byAssignee.json.value.map((x: { Name: string }) => x.Name)).toEqual([name]);
  });

  test('roleAssigneeShape switches to the other shapes public scripts assume', async () => {
    const { spId, name } = await assigned();
    const row = async () => (await invoke(sim, token, 'Get-ManagementRoleAssignment', { Identity: name })).json.value[0];
    sim.setFaults({ roleAssigneeShape: 'object-id' });
    expect(await row()).toMatchObject({ RoleAssignee: spId, RoleAssigneeName: spId });
    sim.setFaults({ roleAssigneeShape: 'name-only' });
    expect(await row()).toMatchObject({ RoleAssignee: 'Opter Pointer', RoleAssigneeName: 'Opter Pointer' });
    expect(() => sim.setFaults({ roleAssigneeShape: 'guess' as never })).toThrow(/roleAssigneeShape must be one of/);
  });
});
