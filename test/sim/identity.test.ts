import { ClientCertificateCredential } from '@azure/identity';
import { X509Certificate, createHash, createPrivateKey, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { DIRECTORY_ROLES, MAIL_SEND_ROLE_ID, type Simulator } from '../../src/sim';
import { ensureClientCertificate } from '../../src/sim/tls';
import { credential, decodeJwt, graphClient, startTestSimulator } from './helpers';

let sim: Simulator;
const scratch = mkdtempSync(join(tmpdir(), 'sim-identity-test-'));
beforeAll(async () => {
  sim = await startTestSimulator();
});
afterAll(async () => {
  await sim.close();
  rmSync(scratch, { recursive: true, force: true });
});
beforeEach(() => sim.reset());

async function tokenRequest(form: Record<string, string>, tenant = sim.tenantId): Promise<{ status: number; body: any }> {
  const res = await fetch(`${sim.authorityHost}/${tenant}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, body: await res.json() };
}

const provisioningForm = () => ({
  grant_type: 'client_credentials',
  client_id: sim.provisioning.clientId,
  client_secret: sim.provisioning.clientSecret,
  scope: `${sim.graphEndpoint}/.default`,
});

/** Creates app + SP + secret as the provisioning identity; returns the new app's credentials. */
async function newApp(displayName: string): Promise<{ appId: string; id: string; spId: string; secret: string }> {
  const g = graphClient(sim);
  const app = await g.api('/applications').post({ displayName, signInAudience: 'AzureADMyOrg' });
  const sp = await g.api('/servicePrincipals').post({ appId: app.appId });
  const pw = await g.api(`/applications/${app.id}/addPassword`).post({ passwordCredential: { displayName: 'test' } });
  return { appId: app.appId, id: app.id, spId: sp.id, secret: pw.secretText };
}

describe('OpenID discovery', () => {
  test('serves the metadata MSAL needs for the tenant GUID and for the domain names', async () => {
    for (const t of [sim.tenantId, sim.domain, sim.onMicrosoftDomain]) {
      const res = await fetch(`${sim.authorityHost}/${t}/v2.0/.well-known/openid-configuration`);
      expect(res.status).toBe(200);
      const cfg = await res.json();
      expect(cfg.token_endpoint).toBe(`${sim.authorityHost}/${sim.tenantId}/oauth2/v2.0/token`);
      expect(cfg.issuer).toBe(`${sim.authorityHost}/${sim.tenantId}/v2.0`);
      expect(cfg.authorization_endpoint).toBeTypeOf('string');
      const keys = await (await fetch(cfg.jwks_uri)).json();
      expect(keys.keys[0]).toMatchObject({ kty: 'RSA', use: 'sig' });
    }
  });

  test('an unknown tenant is AADSTS90002', async () => {
    const res = await fetch(`${sim.authorityHost}/contoso.example/v2.0/.well-known/openid-configuration`);
    expect(res.status).toBe(400);
    expect((await res.json()).error_description).toMatch(/^AADSTS90002: Tenant 'contoso.example' not found/);
  });
});

describe('client credentials tokens', () => {
  test('Graph token: RS256, aud = the Graph origin, tid/appid/oid, roles = Graph grants only, wids = directory roles', async () => {
    const t = await credential(sim).getToken(`${sim.graphEndpoint}/.default`);
    const [header] = t.token.split('.');
    expect(JSON.parse(Buffer.from(header!, 'base64url').toString()).alg).toBe('RS256');
    const c = decodeJwt(t.token);
    expect(c.aud).toBe(sim.graphEndpoint);
    expect(c.tid).toBe(sim.tenantId);
    expect(c.appid).toBe(sim.provisioning.clientId);
    expect(c.iss).toBe(`https://sts.windows.net/${sim.tenantId}/`);
    expect(c.exp).toBeGreaterThan(Date.now() / 1000 + 3000);
    expect((c.roles as string[]).sort()).toEqual(['AppRoleAssignment.ReadWrite.All', 'Application.ReadWrite.All', 'Policy.Read.All']);
    expect(c.wids).toEqual([DIRECTORY_ROLES['Exchange Administrator']]);
  });

  test('Exchange token: aud = the Exchange origin and roles = Exchange.ManageAsApp only', async () => {
    const t = await credential(sim).getToken(`${sim.exchangeEndpoint}/.default`);
    const c = decodeJwt(t.token);
    expect(c.aud).toBe(sim.exchangeEndpoint);
    expect(c.roles).toEqual(['Exchange.ManageAsApp']);
  });

  test('a wrong secret fails in @azure/identity with AADSTS7000215, and the raw body has the real shape', async () => {
    await expect(credential(sim, sim.provisioning.clientId, 'not-the-secret').getToken(`${sim.graphEndpoint}/.default`)).rejects.toThrow(/AADSTS7000215/);
    const r = await tokenRequest({ ...provisioningForm(), client_secret: 'wrong' });
    expect(r.status).toBe(401);
    expect(r.body.error).toBe('invalid_client');
    expect(r.body.error_codes).toEqual([7000215]);
    expect(r.body.error_description).toMatch(/^AADSTS7000215: Invalid client secret provided\. .*\r\nTrace ID: [0-9a-f-]{36}\r\nCorrelation ID: .*\r\nTimestamp: /s);
    expect(r.body).toHaveProperty('trace_id');
    expect(r.body).toHaveProperty('correlation_id');
  });

  test('an unknown client id is AADSTS700016', async () => {
    const r = await tokenRequest({ ...provisioningForm(), client_id: '11111111-2222-3333-4444-555555555555' });
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('unauthorized_client');
    expect(r.body.error_description).toMatch(/^AADSTS700016: Application with identifier '11111111-2222-3333-4444-555555555555' was not found in the directory/);
  });

  test('only "<resource>/.default" scopes are accepted; an unknown resource is AADSTS500011', async () => {
    const bad = await tokenRequest({ ...provisioningForm(), scope: `${sim.graphEndpoint}/Mail.Send` });
    expect(bad.body.error_codes).toEqual([1002012]);
    const unknown = await tokenRequest({ ...provisioningForm(), scope: 'https://vault.azure.net/.default' });
    expect(unknown.body.error_codes).toEqual([500011]);
  });

  test('an app without a service principal is AADSTS7000229', async () => {
    const g = graphClient(sim);
    const app = await g.api('/applications').post({ displayName: 'No SP yet' });
    const pw = await g.api(`/applications/${app.id}/addPassword`).post({});
    const r = await tokenRequest({ ...provisioningForm(), client_id: app.appId, client_secret: pw.secretText });
    expect(r.status).toBe(401);
    expect(r.body.error_description).toMatch(/^AADSTS7000229: The client application .* is missing service principal in the tenant/);
  });

  test('a secret whose endDateTime has passed is AADSTS7000222', async () => {
    const g = graphClient(sim);
    const app = await g.api('/applications').post({ displayName: 'Short-lived' });
    await g.api('/servicePrincipals').post({ appId: app.appId });
    const end = new Date(Date.now() + 1500).toISOString();
    const pw = await g.api(`/applications/${app.id}/addPassword`).post({ passwordCredential: { displayName: 'brief', endDateTime: end } });
    const ok = await tokenRequest({ ...provisioningForm(), client_id: app.appId, client_secret: pw.secretText });
    expect(ok.status).toBe(200);
    await new Promise((r) => setTimeout(r, 1600));
    const expired = await tokenRequest({ ...provisioningForm(), client_id: app.appId, client_secret: pw.secretText });
    expect(expired.status).toBe(401);
    expect(expired.body.error_description).toMatch(/^AADSTS7000222: The provided client secret keys for app '.*' are expired\./);
  });

  test('a new secret is rejected with AADSTS7000215 for secretActivationDelayMs, then works', async () => {
    sim.setFaults({ secretActivationDelayMs: 700 });
    const created = await newApp('Activation delay');
    const early = await tokenRequest({ ...provisioningForm(), client_id: created.appId, client_secret: created.secret });
    expect(early.status).toBe(401);
    expect(early.body.error_codes).toEqual([7000215]);
    await new Promise((r) => setTimeout(r, 750));
    const later = await tokenRequest({ ...provisioningForm(), client_id: created.appId, client_secret: created.secret });
    expect(later.status).toBe(200);
  });

  test('token roles reflect the grants the service principal actually holds, per resource', async () => {
    const created = await newApp('Roles follow grants');
    const before = decodeJwt((await credential(sim, created.appId, created.secret).getToken(`${sim.graphEndpoint}/.default`)).token);
    expect(before.roles).toBeUndefined();

    const g = graphClient(sim);
    const graphSp = await g.api(`/servicePrincipals(appId='00000003-0000-0000-c000-000000000000')`).get();
    await g.api(`/servicePrincipals/${graphSp.id}/appRoleAssignedTo`).post({ principalId: created.spId, resourceId: graphSp.id, appRoleId: MAIL_SEND_ROLE_ID });

    // A new token is needed after a grant [docs/microsoft-facts.md §1.1]; a fresh credential has an empty cache.
    const after = decodeJwt((await credential(sim, created.appId, created.secret).getToken(`${sim.graphEndpoint}/.default`)).token);
    expect(after.roles).toEqual(['Mail.Send']);
    const exo = decodeJwt((await credential(sim, created.appId, created.secret).getToken(`${sim.exchangeEndpoint}/.default`)).token);
    expect(exo.roles).toBeUndefined();
  });

  test('revoked permissions are left out of new provisioning tokens', async () => {
    sim.setFaults({ revokedPermissions: ['AppRoleAssignment.ReadWrite.All', 'Exchange Administrator'] });
    const c = decodeJwt((await credential(sim).getToken(`${sim.graphEndpoint}/.default`)).token);
    expect(c.roles).toEqual(['Application.ReadWrite.All', 'Policy.Read.All']);
    expect(c.wids).toBeUndefined();
  });

  test('certificate sign-in: ClientCertificateCredential with the provisioning certificate gets a token', async () => {
    const cred = new ClientCertificateCredential(sim.tenantId, sim.provisioning.clientId, { certificatePath: sim.provisioning.certificatePath }, {
      authorityHost: sim.authorityHost,
      disableInstanceDiscovery: true,
    });
    const c = decodeJwt((await cred.getToken(`${sim.exchangeEndpoint}/.default`)).token);
    expect(c.appid).toBe(sim.provisioning.clientId);
    expect(c.roles).toEqual(['Exchange.ManageAsApp']);
    const app = sim.snapshot().applications.find((a) => a.appId === sim.provisioning.clientId)!;
    expect((app.keyCredentials as Array<{ type: string; key: unknown }>)[0]).toMatchObject({ type: 'AsymmetricX509Cert', usage: 'Verify', key: null });
  });

  test('a certificate registered through Graph keyCredentials signs in; an unregistered one is AADSTS700027', async () => {
    const other = ensureClientCertificate(scratch);
    const stranger = new ClientCertificateCredential(sim.tenantId, sim.provisioning.clientId, { certificatePath: other.path }, {
      authorityHost: sim.authorityHost,
      disableInstanceDiscovery: true,
    });
    await expect(stranger.getToken(`${sim.graphEndpoint}/.default`)).rejects.toThrow(/AADSTS700027/);

    const g = graphClient(sim);
    const app = await g.api('/applications').post({ displayName: 'Cert app', keyCredentials: [{ type: 'AsymmetricX509Cert', usage: 'Verify', key: other.certDer, displayName: 'CN=test' }] });
    expect(app.keyCredentials[0].customKeyIdentifier).toBe(other.thumbprint);
    await g.api('/servicePrincipals').post({ appId: app.appId });
    const cred = new ClientCertificateCredential(sim.tenantId, app.appId, { certificatePath: other.path }, { authorityHost: sim.authorityHost, disableInstanceDiscovery: true });
    expect(decodeJwt((await cred.getToken(`${sim.graphEndpoint}/.default`)).token).appid).toBe(app.appId);
  });

  test('hand-made RS256 assertions (x5t = SHA-1 thumbprint): valid → token; bad signature, audience or expiry → refused', async () => {
    const pem = readFileSync(sim.provisioning.certificatePath, 'utf8');
    const der = new X509Certificate(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)![0]).raw;
    const endpoint = `${sim.authorityHost}/${sim.tenantId}/oauth2/v2.0/token`;
    const make = (claims: Record<string, unknown>, tamper = false) => {
      const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const data = `${enc({ alg: 'RS256', typ: 'JWT', x5t: createHash('sha1').update(der).digest('base64url') })}.${enc(claims)}`;
      const sig = sign('sha256', Buffer.from(tamper ? `${data}x` : data), createPrivateKey(pem)).toString('base64url');
      return `${data}.${sig}`;
    };
    const now = Math.floor(Date.now() / 1000);
    const good = { aud: endpoint, iss: sim.provisioning.clientId, sub: sim.provisioning.clientId, exp: now + 300, nbf: now, jti: 'x' };
    const ask = async (assertion: string) =>
      tokenRequest({
        grant_type: 'client_credentials',
        client_id: sim.provisioning.clientId,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
        scope: `${sim.graphEndpoint}/.default`,
      });
    expect((await ask(make(good))).status).toBe(200);
    expect((await ask(make(good, true))).body.error_codes).toEqual([700027]);
    expect((await ask(make({ ...good, aud: 'https://login.microsoftonline.com/x/oauth2/v2.0/token' }))).body.error_codes).toEqual([700020]);
    expect((await ask(make({ ...good, exp: now - 10 }))).body.error_codes).toEqual([700024]);
    expect((await ask(make({ ...good, iss: 'someone-else' }))).body.error_codes).toEqual([700021]);
  });

  test('client_secret_basic is accepted as well as the form post', async () => {
    const basic = Buffer.from(`${sim.provisioning.clientId}:${encodeURIComponent(sim.provisioning.clientSecret)}`).toString('base64');
    const res = await fetch(`${sim.authorityHost}/${sim.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: `${sim.graphEndpoint}/.default` }).toString(),
    });
    expect(res.status).toBe(200);
    expect((await res.json()).token_type).toBe('Bearer');
  });
});
