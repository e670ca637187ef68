/**
 * Delegated (user) tokens: Teams SSO token → On-Behalf-Of → Graph and Exchange, authorized by scope ∩ the user's
 * directory roles (docs/simulator.md, "Delegated (user) tokens"). Real clients over real HTTPS.
 */
import { OnBehalfOfCredential } from '@azure/identity';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { DIRECTORY_ROLES, EXCHANGE_MANAGE_SCOPE, MAIL_SEND_ROLE_ID, TEAMS_CLIENT_IDS, type Simulator } from '../../src/sim';
import { decodeJwt, graphClient, invoke, startTestSimulator } from './helpers';

let sim: Simulator;
let bot: { clientId: string; clientSecret: string };
const LIFETIME = 4200;

beforeAll(async () => {
  sim = await startTestSimulator({ delegatedTokenLifetimeSeconds: LIFETIME });
});
afterAll(async () => {
  await sim.close();
});

const upn = (name: string) => `${name}@${sim.domain}`;

beforeEach(() => {
  sim.reset();
  bot = sim.registerClientApp({ displayName: 'Opter bot (test)' });
  sim.grantDelegatedConsent({ clientAppId: bot.clientId, resource: 'graph', scopes: ['Application.ReadWrite.All', 'AppRoleAssignment.ReadWrite.All'] });
  sim.grantDelegatedConsent({ clientAppId: bot.clientId, resource: 'exchange', scopes: [EXCHANGE_MANAGE_SCOPE] });
  sim.addUser({ userPrincipalName: upn('appadmin'), displayName: 'App Admin', roles: [DIRECTORY_ROLES['Application Administrator']] });
  sim.addUser({ userPrincipalName: upn('global'), displayName: 'Global Admin', roles: [DIRECTORY_ROLES['Global Administrator']] });
  sim.addUser({ userPrincipalName: upn('exoadmin'), displayName: 'Exchange Admin', roles: [DIRECTORY_ROLES['Exchange Administrator']] });
  sim.addUser({ userPrincipalName: upn('reader'), displayName: 'Reader', roles: [DIRECTORY_ROLES['Global Reader']] });
});

async function obo(form: Record<string, string>): Promise<{ status: number; body: any }> {
  const res = await fetch(`${sim.authorityHost}/${sim.tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      client_id: bot.clientId,
      client_secret: bot.clientSecret,
      requested_token_use: 'on_behalf_of',
      scope: `${sim.graphEndpoint}/.default`,
      ...form,
    }).toString(),
  });
  return { status: res.status, body: await res.json() };
}

function oboCredential(user: string): OnBehalfOfCredential {
  // disableInstanceDiscovery is honoured at run time but missing from OnBehalfOfCredential's option types.
  const options = {
    tenantId: sim.tenantId,
    clientId: bot.clientId,
    clientSecret: bot.clientSecret,
    userAssertionToken: sim.teamsSsoToken(user, { botAppId: bot.clientId }),
    authorityHost: sim.authorityHost,
    disableInstanceDiscovery: true,
  };
  return new OnBehalfOfCredential(options);
}

describe('Teams SSO token', () => {
  test('aud api://botid-<bot>, scp access_as_user, azp a Teams client, the user’s oid/tid/upn', () => {
    const c = decodeJwt(sim.teamsSsoToken(upn('appadmin'), { botAppId: bot.clientId, client: 'web', expiresInSec: 120 }));
    expect(c).toMatchObject({ aud: `api://botid-${bot.clientId}`, scp: 'access_as_user', azp: TEAMS_CLIENT_IDS.web, tid: sim.tenantId, upn: upn('appadmin') });
    expect(c.exp as number).toBeLessThanOrEqual(Date.now() / 1000 + 121);
    expect(decodeJwt(sim.teamsSsoToken(upn('appadmin'), { botAppId: bot.clientId, audience: 'id' })).aud).toBe(bot.clientId);
  });
});

describe('On-Behalf-Of grant', () => {
  test('OnBehalfOfCredential gets a delegated Graph token: scp, idtyp user, oid/tid/upn, wids, no roles', async () => {
    const t = await oboCredential(upn('appadmin')).getToken(`${sim.graphEndpoint}/.default`);
    const c = decodeJwt(t.token);
    const user = sim.snapshot().users.find((u) => u.userPrincipalName === upn('appadmin'))!;
    expect(c).toMatchObject({ aud: sim.graphEndpoint, appid: bot.clientId, idtyp: 'user', oid: user.id, tid: sim.tenantId, upn: upn('appadmin') });
    expect(String(c.scp).split(' ').sort()).toEqual(['AppRoleAssignment.ReadWrite.All', 'Application.ReadWrite.All']);
    expect(c.wids).toEqual([DIRECTORY_ROLES['Application Administrator']]);
    expect(c.roles).toBeUndefined();
    expect((c.exp as number) - (c.iat as number)).toBe(LIFETIME);
  });

  test('the assertion may also name the bot by its app id; no refresh token without offline_access', async () => {
    const r = await obo({ assertion: sim.teamsSsoToken(upn('appadmin'), { botAppId: bot.clientId, audience: 'id' }) });
    expect(r.status).toBe(200);
    expect(r.body.refresh_token).toBeUndefined();
    const withOffline = await obo({ assertion: sim.teamsSsoToken(upn('appadmin'), { botAppId: bot.clientId }), scope: `${sim.graphEndpoint}/.default offline_access` });
    expect(withOffline.body.refresh_token).toBeTypeOf('string');
  });

  test('expired assertion → 400 invalid_grant AADSTS500133', async () => {
    const r = await obo({ assertion: sim.teamsSsoToken(upn('appadmin'), { botAppId: bot.clientId, expiresInSec: -10 }) });
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('invalid_grant');
    expect(r.body.error_codes).toEqual([500133]);
  });

  test('assertion for another audience → 400 invalid_grant AADSTS50013; a forged signature too', async () => {
    const r = await obo({ assertion: sim.teamsSsoToken(upn('appadmin'), { botAppId: '11111111-2222-4333-8444-555555555555' }) });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: 'invalid_grant', error_codes: [50013] });
    expect(r.body.error_description).toMatch(/Assertion audience does not match/);
    const [h, p] = sim.teamsSsoToken(upn('appadmin'), { botAppId: bot.clientId }).split('.');
    const forged = await obo({ assertion: `${h}.${p}.${Buffer.from('nope').toString('base64url')}` });
    expect(forged.body).toMatchObject({ error: 'invalid_grant', error_codes: [50013] });
  });

  test('no consent for the client on the resource → 400 invalid_grant AADSTS65001', async () => {
    const other = sim.registerClientApp({ displayName: 'unconsented' });
    const r = await obo({ client_id: other.clientId, client_secret: other.clientSecret, assertion: sim.teamsSsoToken(upn('appadmin'), { botAppId: other.clientId }) });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: 'invalid_grant', error_codes: [65001] });
    // A named scope beyond the consent is refused the same way.
    const named = await obo({ assertion: sim.teamsSsoToken(upn('appadmin'), { botAppId: bot.clientId }), scope: `${sim.graphEndpoint}/Directory.ReadWrite.All` });
    expect(named.body.error_codes).toEqual([65001]);
  });

  test('a wrong client secret is refused as in client credentials', async () => {
    const r = await obo({ client_secret: 'wrong', assertion: sim.teamsSsoToken(upn('appadmin'), { botAppId: bot.clientId }) });
    expect(r.status).toBe(401);
    expect(r.body.error_codes).toEqual([7000215]);
  });
});

describe('Graph authorizes user tokens by scope ∩ the user’s roles', () => {
  test('an Application Administrator creates an application and its SP but may not grant Graph Mail.Send; a Global Administrator may', async () => {
    const g = graphClient(sim, oboCredential(upn('appadmin')));
    const app = await g.api('/applications').post({ displayName: 'Opter sender' });
    const sp = await g.api('/servicePrincipals').post({ appId: app.appId });
    const pw = await g.api(`/applications/${app.id}/addPassword`).post({ passwordCredential: { displayName: 'x' } });
    await g.api(`/applications/${app.id}/removePassword`).post({ keyId: pw.keyId });
    const graphSp = sim.snapshot().servicePrincipals.find((s) => s.appId === '00000003-0000-0000-c000-000000000000')!;
    const grant = { principalId: sp.id, resourceId: graphSp.id, appRoleId: MAIL_SEND_ROLE_ID };
    const refused = await g.api(`/servicePrincipals/${graphSp.id}/appRoleAssignedTo`).post(grant).catch((e: { statusCode: number; code: string; message: string }) => e);
    expect(refused).toMatchObject({ statusCode: 403, code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' });
    const ga = graphClient(sim, oboCredential(upn('global')));
    const ok = await ga.api(`/servicePrincipals/${graphSp.id}/appRoleAssignedTo`).post(grant);
    expect(ok.appRoleId).toBe(MAIL_SEND_ROLE_ID);
    const removal = await g.api(`/servicePrincipals/${graphSp.id}/appRoleAssignedTo/${ok.id}`).delete().catch((e: { statusCode: number }) => e);
    expect(removal).toMatchObject({ statusCode: 403 });
    await ga.api(`/servicePrincipals/${graphSp.id}/appRoleAssignedTo/${ok.id}`).delete();
  });

  test('a Privileged Role Administrator alone may grant Graph Mail.Send (and read the principals) but not create applications', async () => {
    sim.addUser({ userPrincipalName: upn('pra'), roles: [DIRECTORY_ROLES['Privileged Role Administrator']] });
    const app = await graphClient(sim).api('/applications').post({ displayName: 'made app-only' });
    const sp = await graphClient(sim).api('/servicePrincipals').post({ appId: app.appId });
    const graphSp = sim.snapshot().servicePrincipals.find((s) => s.appId === '00000003-0000-0000-c000-000000000000')!;
    const g = graphClient(sim, oboCredential(upn('pra')));
    const ok = await g.api(`/servicePrincipals/${graphSp.id}/appRoleAssignedTo`).post({ principalId: sp.id, resourceId: graphSp.id, appRoleId: MAIL_SEND_ROLE_ID });
    expect(ok.principalId).toBe(sp.id);
    expect((await g.api(`/servicePrincipals/${sp.id}`).get()).appId).toBe(app.appId);
    const e = await g.api('/applications').post({ displayName: 'x' }).catch((x: { statusCode: number }) => x);
    expect(e).toMatchObject({ statusCode: 403 });
  });

  test('a user without an application role is refused application create although the scope is consented', async () => {
    const g = graphClient(sim, oboCredential(upn('exoadmin')));
    const e = await g.api('/applications').post({ displayName: 'x' }).catch((x: { statusCode: number; code: string }) => x);
    expect(e).toMatchObject({ statusCode: 403, code: 'Authorization_RequestDenied' });
  });

  test('the request log names user tokens and app tokens', async () => {
    sim.clearRequests();
    await graphClient(sim, oboCredential(upn('appadmin'))).api('/applications').post({ displayName: 'logged' });
    await graphClient(sim).api('/applications').post({ displayName: 'app-only' });
    const writes = sim.requests().filter((r) => r.family === 'graph' && r.method === 'POST');
    expect(writes.map((w) => [w.token, w.principal])).toEqual([
      ['user', upn('appadmin')],
      ['app', sim.provisioning.clientId],
    ]);
  });
});

describe('Exchange authorizes user tokens by Exchange.Manage ∩ the user’s roles', () => {
  const exo = async (user: string) => (await oboCredential(user).getToken(`${sim.exchangeEndpoint}/.default`)).token;

  test('an Exchange Administrator creates a distribution group; a Global Reader may only read', async () => {
    const admin = await invoke(sim, await exo(upn('exoadmin')), 'New-DistributionGroup', { Name: 'Opter senders', Type: 'Security' });
    expect(admin.status).toBe(200);
    const reader = await exo(upn('reader'));
    const refused = await invoke(sim, reader, 'New-DistributionGroup', { Name: 'Nope' });
    expect(refused.status).toBe(403);
    expect(refused.unreadable).toBe(true);
    expect((await invoke(sim, reader, 'Get-DistributionGroup')).status).toBe(200);
    expect(sim.requests().filter((r) => r.family === 'exchange').every((r) => r.token === 'user')).toBe(true);
  });

  test('a signed-in Recipient Administrator manages groups only: access policies and RBAC cmdlets are hidden', async () => {
    sim.addUser({ userPrincipalName: upn('recipients'), roles: [DIRECTORY_ROLES['Exchange Recipient Administrator']] });
    const token = await exo(upn('recipients'));
    expect((await invoke(sim, token, 'New-DistributionGroup', { Name: 'Grupp', Type: 'Security' })).status).toBe(200);
    for (const cmdlet of ['New-ApplicationAccessPolicy', 'New-ManagementRoleAssignment', 'Test-ServicePrincipalAuthorization']) {
      const hidden = await invoke(sim, token, cmdlet);
      expect([hidden.status, hidden.unreadable], cmdlet).toEqual([403, true]);
    }
  });

  test('without the Exchange.Manage consent the token has no scope for Exchange → 65001', async () => {
    sim.grantDelegatedConsent({ clientAppId: bot.clientId, resource: 'exchange', scopes: [] });
    await expect(exo(upn('exoadmin'))).rejects.toThrow(/AADSTS65001/);
  });

  test('a user without any Exchange role is refused with the readable 403', async () => {
    const r = await invoke(sim, await exo(upn('appadmin')), 'Get-Mailbox');
    expect(r.status).toBe(403);
    expect(r.json.error.message).toMatch(/User is not allowed to call Get-Mailbox/);
  });
});

describe('admin surface', () => {
  test('POST /_sim/users, /_sim/consents and /_sim/teams-sso-token configure the same things', async () => {
    const post = (path: string, body: unknown) => fetch(`${sim.graphEndpoint}${path}`, { method: 'POST', body: JSON.stringify(body) });
    const added = await (await post('/_sim/users', { userPrincipalName: upn('viaadmin'), roles: [DIRECTORY_ROLES['Exchange Administrator']] })).json();
    expect(added).toMatchObject({ userPrincipalName: upn('viaadmin'), roles: [DIRECTORY_ROLES['Exchange Administrator']] });
    expect((await post('/_sim/consents', { clientAppId: bot.clientId, resource: 'exchange', scopes: [EXCHANGE_MANAGE_SCOPE] })).status).toBe(204);
    const { token } = await (await post('/_sim/teams-sso-token', { user: upn('viaadmin'), botAppId: bot.clientId })).json();
    const r = await obo({ assertion: token, scope: `${sim.exchangeEndpoint}/.default` });
    expect(decodeJwt(r.body.access_token)).toMatchObject({ upn: upn('viaadmin'), scp: EXCHANGE_MANAGE_SCOPE, wids: [DIRECTORY_ROLES['Exchange Administrator']] });
    expect((await post('/_sim/users', { userPrincipalName: 'not-a-upn' })).status).toBe(400);
  });

  test('users and consents given as options survive reset()', async () => {
    const s2 = await startTestSimulator({ users: [{ userPrincipalName: 'opt@exempel.se', roles: [DIRECTORY_ROLES['Global Administrator']] }], delegatedConsents: [{ clientAppId: 'c0ffee00-0000-4000-8000-000000000001', resource: 'graph', scopes: ['Application.ReadWrite.All'] }] });
    try {
      s2.reset();
      expect(s2.snapshot().users.some((u) => u.userPrincipalName === 'opt@exempel.se')).toBe(true);
      expect(() => s2.teamsSsoToken('opt@exempel.se', { botAppId: 'c0ffee00-0000-4000-8000-000000000001' })).not.toThrow();
    } finally {
      await s2.close();
    }
  });
});

describe('app-only tokens are unchanged', () => {
  test('client-credentials tokens carry roles and no scp, and still run cmdlets', async () => {
    const g = graphClient(sim);
    const app = await g.api('/applications').post({ displayName: 'app-only' });
    expect(app.appId).toBeTypeOf('string');
    const { credential, exchangeToken } = await import('./helpers');
    const token = await exchangeToken(sim, credential(sim));
    const c = decodeJwt(token);
    expect(c.scp).toBeUndefined();
    expect(c.roles).toEqual(['Exchange.ManageAsApp']);
    expect((await invoke(sim, token, 'Get-AcceptedDomain')).status).toBe(200);
  });
});
