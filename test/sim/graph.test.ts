import type { GraphError } from '@microsoft/microsoft-graph-client';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { EXCHANGE_APP_ID, GRAPH_APP_ID, MAIL_SEND_ROLE_ID, type Simulator } from '../../src/sim';
import { credential, graphClient, startTestSimulator } from './helpers';

let sim: Simulator;
beforeAll(async () => {
  sim = await startTestSimulator();
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => sim.reset());

async function graphFailure(p: Promise<unknown>): Promise<GraphError> {
  try {
    await p;
  } catch (e) {
    return e as GraphError;
  }
  throw new Error('expected the Graph call to fail');
}

/** Raw fetch with the provisioning identity's Graph token, to see status codes and bodies the SDK hides. */
async function raw(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const token = (await credential(sim).getToken(`${sim.graphEndpoint}/.default`)).token;
  const res = await fetch(`${sim.graphEndpoint}/v1.0${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: text ? JSON.parse(text) : null };
}

describe('applications', () => {
  test('POST creates (201) with ids and an empty passwordCredentials list; two POSTs make two apps', async () => {
    const g = graphClient(sim);
    const a = await g.api('/applications').post({ displayName: 'Twin', signInAudience: 'AzureADMyOrg' });
    const b = await g.api('/applications').post({ displayName: 'Twin', signInAudience: 'AzureADMyOrg' });
    expect(a.id).not.toBe(b.id);
    expect(a).toMatchObject({ displayName: 'Twin', signInAudience: 'AzureADMyOrg', passwordCredentials: [], publisherDomain: sim.domain });
    const list = await g.api('/applications').filter("displayName eq 'Twin'").get();
    expect(list.value).toHaveLength(2);
  });

  test('upsert by uniqueName: 201 with the object, then 204 without a body; without Prefer a missing app is 404', async () => {
    const first = await raw('PATCH', "/applications(uniqueName='opter-mail')", { displayName: 'Opter', signInAudience: 'AzureADMyOrg' }, { prefer: 'create-if-missing' });
    expect(first.status).toBe(201);
    expect(first.json).toMatchObject({ uniqueName: 'opter-mail', displayName: 'Opter' });
    expect(first.json.id).toMatch(/^[0-9a-f-]{36}$/);
    const second = await raw('PATCH', "/applications(uniqueName='opter-mail')", { displayName: 'Opter', signInAudience: 'AzureADMyOrg' }, { prefer: 'create-if-missing' });
    expect(second.status).toBe(204);
    expect(second.text).toBe('');
    const missing = await raw('PATCH', "/applications(uniqueName='never-made')", { displayName: 'X' });
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe('Request_ResourceNotFound');
    expect(sim.snapshot().applications.filter((a) => a.uniqueName === 'opter-mail')).toHaveLength(1);
  });

  test('the upsert through the Graph SDK returns the body on create and nothing on update', async () => {
    const g = graphClient(sim);
    const created = await g.api("/applications(uniqueName='sdk-upsert')").header('Prefer', 'create-if-missing').patch({ displayName: 'SDK upsert' });
    expect(created.appId).toMatch(/^[0-9a-f-]{36}$/);
    const updated = await g.api("/applications(uniqueName='sdk-upsert')").header('Prefer', 'create-if-missing').patch({ displayName: 'SDK upsert' });
    expect(updated).toBeFalsy();
  });

  test('the upsert body must carry displayName to create, and uniqueName is immutable once set', async () => {
    const noName = await raw('PATCH', "/applications(uniqueName='nameless')", { signInAudience: 'AzureADMyOrg' }, { prefer: 'create-if-missing' });
    expect(noName.status).toBe(400);
    const g = graphClient(sim);
    const app = await g.api('/applications').post({ displayName: 'Has key', uniqueName: 'first-key' });
    const change = await raw('PATCH', `/applications/${app.id}`, { uniqueName: 'second-key' });
    expect(change.status).toBe(400);
    const dup = await raw('POST', '/applications', { displayName: 'Dup key', uniqueName: 'first-key' });
    expect(dup.status).toBe(400);
    expect(dup.json.error.message).toBe('Another object with the same value for property uniqueName already exists.');
  });

  test('GET by object id, (appId=…) and (uniqueName=…); /applications/{appId} is not a valid address', async () => {
    const g = graphClient(sim);
    const app = await g.api("/applications(uniqueName='lookup')").header('Prefer', 'create-if-missing').patch({ displayName: 'Lookup' });
    expect((await g.api(`/applications/${app.id}`).get()).appId).toBe(app.appId);
    expect((await g.api(`/applications(appId='${app.appId}')`).select('id,displayName').get())).toEqual({
      '@odata.context': expect.any(String),
      id: app.id,
      displayName: 'Lookup',
    });
    expect((await g.api("/applications(uniqueName='lookup')").get()).id).toBe(app.id);
    const wrong = await graphFailure(g.api(`/applications/${app.appId}`).get());
    expect(wrong.statusCode).toBe(404);
    expect(wrong.message).toBe(`Resource '${app.appId}' does not exist or one of its queried reference-property objects are not present.`);
  });

  test("$filter doubles single quotes and is percent-decoded: displayName eq 'O''Neil & Co'", async () => {
    const g = graphClient(sim);
    await g.api('/applications').post({ displayName: "O'Neil & Co" });
    await g.api('/applications').post({ displayName: 'ONeil & Co' });
    const escaped = encodeURIComponent("displayName eq 'O''Neil & Co'");
    const found = await g.api(`/applications?$filter=${escaped}`).get();
    expect(found.value.map((a: { displayName: string }) => a.displayName)).toEqual(["O'Neil & Co"]);
    const byAppId = await g.api(`/applications?$filter=${encodeURIComponent(`appId eq '${found.value[0].appId}'`)}`).get();
    expect(byAppId.value).toHaveLength(1);
    const unterminated = await raw('GET', `/applications?$filter=${encodeURIComponent("displayName eq 'O'Neil'")}`);
    expect(unterminated.status).toBe(400);
    const unsupported = await raw('GET', `/applications?$filter=${encodeURIComponent("notes eq 'x'")}`);
    expect(unsupported.json.error.code).toBe('Request_UnsupportedQuery');
  });

  test('collections page with $top and @odata.nextLink', async () => {
    const g = graphClient(sim);
    for (let i = 0; i < 5; i++) await g.api('/applications').post({ displayName: `Paged ${i}` });
    const first = await g.api('/applications').top(2).get();
    expect(first.value).toHaveLength(2);
    const names: string[] = [...first.value.map((a: { displayName: string }) => a.displayName)];
    let next: string | undefined = first['@odata.nextLink'];
    while (next) {
      const page = await g.api(next).get();
      names.push(...page.value.map((a: { displayName: string }) => a.displayName));
      next = page['@odata.nextLink'];
    }
    expect(names.filter((n) => n.startsWith('Paged'))).toHaveLength(5);
  });

  test('addPassword: 200 with secretText once, hint = first 3 chars; later reads carry metadata only; removePassword 204', async () => {
    const g = graphClient(sim);
    const app = await g.api('/applications').post({ displayName: 'Secrets' });
    const res = await raw('POST', `/applications/${app.id}/addPassword`, { passwordCredential: { displayName: 'opter', endDateTime: '2030-01-01T00:00:00Z' } });
    expect(res.status).toBe(200);
    const pw = res.json;
    expect(pw.secretText.length).toBeGreaterThanOrEqual(16);
    expect(pw.secretText.length).toBeLessThanOrEqual(64);
    expect(pw.hint).toBe(pw.secretText.slice(0, 3));
    expect(pw).toMatchObject({ displayName: 'opter', endDateTime: '2030-01-01T00:00:00Z', customKeyIdentifier: null });

    const read = await g.api(`/applications/${app.id}`).get();
    expect(read.passwordCredentials).toEqual([
      { customKeyIdentifier: null, displayName: 'opter', endDateTime: '2030-01-01T00:00:00Z', hint: pw.hint, keyId: pw.keyId, secretText: null, startDateTime: pw.startDateTime },
    ]);
    expect(JSON.stringify(sim.snapshot())).not.toContain(pw.secretText);
    expect(JSON.stringify(await g.api(`/applications(appId='${app.appId}')`).get())).not.toContain(pw.secretText);

    const removed = await raw('POST', `/applications/${app.id}/removePassword`, { keyId: pw.keyId });
    expect(removed.status).toBe(204);
    expect((await g.api(`/applications/${app.id}`).get()).passwordCredentials).toEqual([]);
  });

  test('addPassword defaults to a two-year lifetime starting now', async () => {
    const g = graphClient(sim);
    const app = await g.api('/applications').post({ displayName: 'Defaults' });
    const pw = await g.api(`/applications(appId='${app.appId}')/addPassword`).post({});
    const days = (Date.parse(pw.endDateTime) - Date.parse(pw.startDateTime)) / 86_400_000;
    expect(days).toBeCloseTo(730, 0);
    expect(Math.abs(Date.parse(pw.startDateTime) - Date.now())).toBeLessThan(5000);
  });

  test('defaultAppManagementPolicy exposes the max lifetime, and addPassword beyond it fails with the policy error', async () => {
    const g = graphClient(sim);
    const off = await g.api('/policies/defaultAppManagementPolicy').get();
    expect(off).toMatchObject({ isEnabled: false, applicationRestrictions: { passwordCredentials: [] } });

    sim.setFaults({ maxPasswordLifetime: 'P180D' });
    const on = await g.api('/policies/defaultAppManagementPolicy').get();
    expect(on.isEnabled).toBe(true);
    expect(on.applicationRestrictions.passwordCredentials[0]).toMatchObject({ restrictionType: 'passwordLifetime', maxLifetime: 'P180D' });

    const app = await g.api('/applications').post({ displayName: 'Policy bound' });
    const tooLong = await raw('POST', `/applications/${app.id}/addPassword`, { passwordCredential: { endDateTime: new Date(Date.now() + 200 * 86_400_000).toISOString() } });
    expect(tooLong.status).toBe(400);
    expect(tooLong.json.error.code).toBe('CredentialInvalidLifetimeAsPerAppPolicy');
    expect(tooLong.json.error.message).toMatch(/^Credential lifetime exceeds the max value allowed as per assigned policy/);
    expect(tooLong.json.error.details[0]).toMatchObject({ code: 'InvalidKeyEndDate', target: 'EndDate' });
    const fits = await raw('POST', `/applications/${app.id}/addPassword`, { passwordCredential: { endDateTime: new Date(Date.now() + 170 * 86_400_000).toISOString() } });
    expect(fits.status).toBe(200);
  });

  test('DELETE removes the app, its service principal and that principal’s grants', async () => {
    const g = graphClient(sim);
    const app = await g.api('/applications').post({ displayName: 'Doomed' });
    const sp = await g.api('/servicePrincipals').post({ appId: app.appId });
    const graphSp = await g.api(`/servicePrincipals(appId='${GRAPH_APP_ID}')`).get();
    await g.api(`/servicePrincipals/${graphSp.id}/appRoleAssignedTo`).post({ principalId: sp.id, resourceId: graphSp.id, appRoleId: MAIL_SEND_ROLE_ID });
    const del = await raw('DELETE', `/applications/${app.id}`);
    expect(del.status).toBe(204);
    const snap = sim.snapshot();
    expect(snap.applications.some((a) => a.id === app.id)).toBe(false);
    expect(snap.servicePrincipals.some((s) => s.id === sp.id)).toBe(false);
    expect(snap.appRoleAssignments.some((a) => a.principalId === sp.id)).toBe(false);
    expect((await raw('GET', `/applications/${app.id}`)).status).toBe(404);
  });
});

describe('app management policies: the tenant default and an app’s own policy', () => {
  /** The provisioning identity gets Policy.ReadWrite.ApplicationConfiguration, as an admin would grant it. */
  async function grantPolicyWrite() {
    const graphSp = (await raw('GET', `/servicePrincipals(appId='${GRAPH_APP_ID}')`)).json;
    const me = (await raw('GET', `/servicePrincipals(appId='${sim.provisioning.clientId}')`)).json;
    const role = graphSp.appRoles.find((r: { value: string }) => r.value === 'Policy.ReadWrite.ApplicationConfiguration');
    expect((await raw('POST', `/servicePrincipals/${graphSp.id}/appRoleAssignedTo`, { principalId: me.id, resourceId: graphSp.id, appRoleId: role.id })).status).toBe(201);
  }
  const addPassword = (appId: string) => raw('POST', `/applications/${appId}/addPassword`, { passwordCredential: { displayName: 'x' } });

  test('passwordAddition blocks secrets with CredentialTypeNotAllowedAsPerAppPolicy, for apps created on or after its date', async () => {
    // The seeded provisioning app was made long ago; a new app is made now (createdDateTime has whole seconds).
    const old = sim.snapshot().applications.find((a) => a.appId === sim.provisioning.clientId)!;
    const fresh = (await raw('POST', '/applications', { displayName: 'Made after' })).json;
    const cutoff = new Date(Date.parse(fresh.createdDateTime) - 86_400_000).toISOString();
    expect(Date.parse(String(old.createdDateTime))).toBeLessThan(Date.parse(cutoff));
    sim.setFaults({ blockPasswordAddition: { restrictForAppsCreatedAfterDateTime: cutoff } });
    const policy = (await raw('GET', '/policies/defaultAppManagementPolicy')).json;
    expect(policy.isEnabled).toBe(true);
    expect(policy.applicationRestrictions.passwordCredentials).toEqual([{ restrictionType: 'passwordAddition', state: 'enabled', maxLifetime: null, restrictForAppsCreatedAfterDateTime: cutoff }]);
    const refused = await addPassword(fresh.id);
    expect(refused.status).toBe(400);
    expect(refused.json.error).toMatchObject({ code: 'CredentialTypeNotAllowedAsPerAppPolicy', message: "Credential type not allowed as per assigned policy '00000000-0000-0000-0000-000000000000'." });
    expect((await addPassword(String(old.id))).status).toBe(200);
    sim.setFaults({ appPolicyRefusalStatus: 403 });
    expect((await addPassword(fresh.id)).status).toBe(403);
  });

  test('an assigned policy replaces the tenant default (exempting the app); one policy per app; PATCH stores the default', async () => {
    await grantPolicyWrite();
    const patched = await raw('PATCH', '/policies/defaultAppManagementPolicy', {
      isEnabled: true,
      applicationRestrictions: { passwordCredentials: [{ restrictionType: 'passwordAddition', maxLifetime: null, restrictForAppsCreatedAfterDateTime: '2019-01-01T00:00:00Z' }] },
    });
    expect(patched.status).toBe(204);
    const app = (await raw('POST', '/applications', { displayName: 'Exempted' })).json;
    expect((await addPassword(app.id)).json.error.code).toBe('CredentialTypeNotAllowedAsPerAppPolicy');

    const created = await raw('POST', '/policies/appManagementPolicies', {
      displayName: 'Secrets up to 90 days',
      description: 'exemption',
      restrictions: { passwordCredentials: [{ restrictionType: 'passwordLifetime', maxLifetime: 'P90D' }] },
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ displayName: 'Secrets up to 90 days', isEnabled: true, restrictions: { passwordCredentials: [{ restrictionType: 'passwordLifetime', state: 'enabled', maxLifetime: 'P90D' }] } });
    expect((await raw('GET', `/applications/${app.id}/appManagementPolicies`)).json.value).toEqual([]);
    const ref = { '@odata.id': `${sim.graphEndpoint}/v1.0/policies/appManagementPolicies/${created.json.id}` };
    expect((await raw('POST', `/applications/${app.id}/appManagementPolicies/$ref`, ref)).status).toBe(204);
    expect((await raw('GET', `/applications/${app.id}/appManagementPolicies`)).json.value.map((p: { id: string }) => p.id)).toEqual([created.json.id]);

    // The app follows its own policy only: secrets allowed, capped at 90 days (refused beyond, naming that policy).
    const long = await raw('POST', `/applications/${app.id}/addPassword`, { passwordCredential: { endDateTime: new Date(Date.now() + 100 * 86_400_000).toISOString() } });
    expect(long.json.error).toMatchObject({ code: 'CredentialInvalidLifetimeAsPerAppPolicy', message: `Credential lifetime exceeds the max value allowed as per assigned policy '${created.json.id}'.` });
    expect((await raw('POST', `/applications/${app.id}/addPassword`, { passwordCredential: { endDateTime: new Date(Date.now() + 80 * 86_400_000).toISOString() } })).status).toBe(200);

    const second = (await raw('POST', '/policies/appManagementPolicies', { displayName: 'Other', description: 'x' })).json;
    const twice = await raw('POST', `/applications/${app.id}/appManagementPolicies/$ref`, { '@odata.id': `${sim.graphEndpoint}/v1.0/policies/appManagementPolicies/${second.id}` });
    expect(twice.status).toBe(400);
    expect((await raw('POST', '/policies/appManagementPolicies', { displayName: 'Bad', description: 'x', restrictions: { passwordCredentials: [{ restrictionType: 'nonsense' }] } })).status).toBe(400);
  });

  test('without Policy.ReadWrite.ApplicationConfiguration policies cannot be written, only read', async () => {
    expect((await raw('POST', '/policies/appManagementPolicies', { displayName: 'x', description: 'x' })).status).toBe(403);
    expect((await raw('GET', '/policies/appManagementPolicies')).status).toBe(200);
  });
});

describe('service principals and the first-party resources', () => {
  test('Microsoft Graph and Exchange Online service principals carry their real application roles', async () => {
    const g = graphClient(sim);
    const graphSp = await g.api(`/servicePrincipals(appId='${GRAPH_APP_ID}')`).select('id,appId,appRoles').get();
    const mailSend = graphSp.appRoles.find((r: { value: string }) => r.value === 'Mail.Send');
    expect(mailSend).toMatchObject({ id: MAIL_SEND_ROLE_ID, allowedMemberTypes: ['Application'], isEnabled: true });
    expect(graphSp.appRoles.map((r: { value: string }) => r.value)).toEqual(expect.arrayContaining(['User.Read.All', 'Application.ReadWrite.All']));
    const exo = await g.api('/servicePrincipals').filter(`appId eq '${EXCHANGE_APP_ID}'`).get();
    expect(exo.value[0].displayName).toBe('Office 365 Exchange Online');
    expect(exo.value[0].appRoles.find((r: { value: string }) => r.value === 'Exchange.ManageAsApp').id).toBe('dc50a0fb-09a3-484d-be87-e023b12c6440');
  });

  test('PATCH servicePrincipals(appId=…) upserts: 201 then 204; POST twice is a conflict', async () => {
    const g = graphClient(sim);
    const app = await g.api('/applications').post({ displayName: 'SP upsert' });
    const first = await raw('PATCH', `/servicePrincipals(appId='${app.appId}')`, { displayName: 'SP upsert' }, { prefer: 'create-if-missing' });
    expect(first.status).toBe(201);
    expect(first.json).toMatchObject({ appId: app.appId, servicePrincipalNames: [app.appId], appOwnerOrganizationId: sim.tenantId });
    const again = await raw('PATCH', `/servicePrincipals(appId='${app.appId}')`, { displayName: 'SP upsert' }, { prefer: 'create-if-missing' });
    expect(again.status).toBe(204);
    const dup = await raw('POST', '/servicePrincipals', { appId: app.appId });
    expect(dup.status).toBe(400);
    expect((await g.api(`/servicePrincipals/${first.json.id}`).get()).appId).toBe(app.appId);
    expect((await g.api('/servicePrincipals').filter(`appId eq '${app.appId}'`).get()).value).toHaveLength(1);
  });

  test('POST /servicePrincipals for an appId with no application is 400 NoBackingApplicationObject', async () => {
    const r = await raw('POST', '/servicePrincipals', { appId: '0f0f0f0f-1111-2222-3333-444444444444' });
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('Request_BadRequest');
    expect(r.json.error.details[0].code).toBe('NoBackingApplicationObject');
  });
});

describe('app role assignments', () => {
  async function appWithSp(name: string) {
    const g = graphClient(sim);
    const app = await g.api('/applications').post({ displayName: name });
    const sp = await g.api('/servicePrincipals').post({ appId: app.appId });
    const graphSp = await g.api(`/servicePrincipals(appId='${GRAPH_APP_ID}')`).get();
    return { g, app, sp, graphSp };
  }

  test('appRoleAssignedTo: 201 with the documented shape, visible from both sides, duplicate → 400 text, DELETE 204', async () => {
    const { g, sp, graphSp } = await appWithSp('Grantee');
    const body = { principalId: sp.id, resourceId: graphSp.id, appRoleId: MAIL_SEND_ROLE_ID };
    const created = await raw('POST', `/servicePrincipals/${graphSp.id}/appRoleAssignedTo`, body);
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      appRoleId: MAIL_SEND_ROLE_ID,
      principalId: sp.id,
      principalType: 'ServicePrincipal',
      principalDisplayName: 'Grantee',
      resourceId: graphSp.id,
      resourceDisplayName: 'Microsoft Graph',
      deletedDateTime: null,
    });
    expect(created.json.id).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const dup = await graphFailure(g.api(`/servicePrincipals/${graphSp.id}/appRoleAssignedTo`).post(body));
    expect(dup.statusCode).toBe(400);
    expect(dup.code).toBe('Request_BadRequest');
    expect(dup.message).toBe('Permission being assigned already exists on the object.');

    const mine = await g.api(`/servicePrincipals/${sp.id}/appRoleAssignments`).get();
    expect(mine.value.map((a: { id: string }) => a.id)).toEqual([created.json.id]);
    const viaAppId = await g.api(`/servicePrincipals(appId='${GRAPH_APP_ID}')/appRoleAssignedTo`).get();
    expect(viaAppId.value.some((a: { id: string }) => a.id === created.json.id)).toBe(true);

    const del = await raw('DELETE', `/servicePrincipals/${sp.id}/appRoleAssignments/${created.json.id}`);
    expect(del.status).toBe(204);
    expect((await g.api(`/servicePrincipals/${sp.id}/appRoleAssignments`).get()).value).toEqual([]);
  });

  test('the principal-side POST /appRoleAssignments works too, and an unknown role id is refused', async () => {
    const { g, sp, graphSp } = await appWithSp('Principal side');
    const a = await g.api(`/servicePrincipals/${sp.id}/appRoleAssignments`).post({ principalId: sp.id, resourceId: graphSp.id, appRoleId: MAIL_SEND_ROLE_ID });
    expect(a.resourceId).toBe(graphSp.id);
    const bad = await graphFailure(
      g.api(`/servicePrincipals/${graphSp.id}/appRoleAssignedTo`).post({ principalId: sp.id, resourceId: graphSp.id, appRoleId: '12345678-1234-1234-1234-123456789012' }),
    );
    expect(bad.statusCode).toBe(400);
  });
});

describe('authorization', () => {
  test('no token → 401 InvalidAuthenticationToken; an Exchange-audience token → 401 invalid audience', async () => {
    const none = await fetch(`${sim.graphEndpoint}/v1.0/applications`);
    expect(none.status).toBe(401);
    const body = await none.json();
    expect(body.error).toMatchObject({ code: 'InvalidAuthenticationToken', message: 'Access token is empty.' });
    expect(body.error.innerError['request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const exoToken = (await credential(sim).getToken(`${sim.exchangeEndpoint}/.default`)).token;
    const wrongAud = await fetch(`${sim.graphEndpoint}/v1.0/applications`, { headers: { authorization: `Bearer ${exoToken}` } });
    expect(wrongAud.status).toBe(401);
    expect((await wrongAud.json()).error.message).toBe('Access token validation failure. Invalid audience.');
  });

  test('an expired token → 401 "Lifetime validation failed"', async () => {
    const shortLived = await startTestSimulator({ tokenLifetimeSeconds: 1 });
    try {
      const t = (await credential(shortLived).getToken(`${shortLived.graphEndpoint}/.default`)).token;
      await new Promise((r) => setTimeout(r, 1100));
      const res = await fetch(`${shortLived.graphEndpoint}/v1.0/applications`, { headers: { authorization: `Bearer ${t}` } });
      expect(res.status).toBe(401);
      expect((await res.json()).error.message).toBe('Lifetime validation failed, the token is expired.');
    } finally {
      await shortLived.close();
    }
  });

  test('a revoked permission → 403 Authorization_RequestDenied, immediately, for the provisioning identity', async () => {
    const g = graphClient(sim);
    const app = await g.api('/applications').post({ displayName: 'Before revoke' });
    const sp = await g.api('/servicePrincipals').post({ appId: app.appId });
    const graphSp = await g.api(`/servicePrincipals(appId='${GRAPH_APP_ID}')`).get();

    sim.setFaults({ revokedPermissions: ['AppRoleAssignment.ReadWrite.All'] });
    const denied = await graphFailure(g.api(`/servicePrincipals/${graphSp.id}/appRoleAssignedTo`).post({ principalId: sp.id, resourceId: graphSp.id, appRoleId: MAIL_SEND_ROLE_ID }));
    expect(denied.statusCode).toBe(403);
    expect(denied.code).toBe('Authorization_RequestDenied');
    expect(denied.message).toBe('Insufficient privileges to complete the operation.');

    sim.setFaults({ revokedPermissions: ['Application.ReadWrite.All'] });
    expect((await graphFailure(g.api('/applications').post({ displayName: 'After revoke' }))).statusCode).toBe(403);
    sim.setFaults({ revokedPermissions: [] });
    expect((await g.api('/applications').post({ displayName: 'Restored' })).id).toBeTruthy();
  });

  test('an app with no Graph grants cannot read applications', async () => {
    const g = graphClient(sim);
    const app = await g.api('/applications').post({ displayName: 'Powerless' });
    await g.api('/servicePrincipals').post({ appId: app.appId });
    const pw = await g.api(`/applications/${app.id}/addPassword`).post({});
    const weak = graphClient(sim, credential(sim, app.appId, pw.secretText));
    expect((await graphFailure(weak.api('/applications').get())).statusCode).toBe(403);
  });
});
