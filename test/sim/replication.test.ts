import type { GraphError } from '@microsoft/microsoft-graph-client';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { GRAPH_APP_ID, MAIL_SEND_ROLE_ID, type Simulator } from '../../src/sim';
import { exchangeErrorDetail, exchangeToken, graphClient, invoke, startTestSimulator } from './helpers';

const DELAY = 400;
const settle = () => new Promise((r) => setTimeout(r, DELAY + 50));

let sim: Simulator;
let token: string;
beforeAll(async () => {
  sim = await startTestSimulator();
  token = await exchangeToken(sim);
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.reset();
  sim.setFaults({ replicationDelayMs: DELAY });
});

async function failure(p: Promise<unknown>): Promise<GraphError> {
  try {
    await p;
  } catch (e) {
    return e as GraphError;
  }
  throw new Error('expected the call to fail');
}

describe('Entra replication delay', () => {
  test('a new app: the create response has the ids, but reads, SP creation and addPassword fail with the documented errors until it replicates', async () => {
    const g = graphClient(sim);
    const app = await g.api('/applications').post({ displayName: 'Fresh app' });
    expect(app.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(app.appId).toMatch(/^[0-9a-f-]{36}$/);

    const read = await failure(g.api(`/applications/${app.id}`).get());
    expect(read.statusCode).toBe(404);
    expect(read.code).toBe('Request_ResourceNotFound');
    expect((await g.api('/applications').filter("displayName eq 'Fresh app'").get()).value).toEqual([]);

    const sp = await failure(g.api('/servicePrincipals').post({ appId: app.appId }));
    expect(sp.statusCode).toBe(400);
    expect(sp.message).toBe(`The appId '${app.appId}' of the service principal does not reference a valid application object.`);
    expect(JSON.parse(sp.body as string).details[0]).toMatchObject({ code: 'NoBackingApplicationObject', target: 'appId' });

    const pw = await failure(g.api(`/applications/${app.id}/addPassword`).post({}));
    expect(pw.statusCode).toBe(404);
    expect(pw.message).toBe(`Resource '${app.id}' does not exist or one of its queried reference-property objects are not present.`);

    await settle();
    expect((await g.api(`/applications/${app.id}`).get()).displayName).toBe('Fresh app');
    expect((await g.api('/servicePrincipals').post({ appId: app.appId })).appId).toBe(app.appId);
    expect((await g.api(`/applications/${app.id}/addPassword`).post({})).secretText).toBeTruthy();
  });

  test('servicePrincipalReplicationAnswer: the 403 "backing application … must in the local tenant" instead, for POST and the upsert', async () => {
    sim.setFaults({ servicePrincipalReplicationAnswer: 'backing-app-not-local' });
    const g = graphClient(sim);
    const app = await g.api('/applications').post({ displayName: 'Fresh app 403' });
    for (const attempt of [
      () => g.api('/servicePrincipals').post({ appId: app.appId }),
      () => g.api(`/servicePrincipals(appId='${app.appId}')`).header('Prefer', 'create-if-missing').patch({}),
    ]) {
      const e = await failure(attempt());
      expect(e.statusCode).toBe(403);
      expect(e.code).toBe('Authorization_RequestDenied');
      expect(e.message).toBe('When using this permission, the backing application of the service principal being created must in the local tenant');
    }
    // An appId that no app has at all is still the 400, whatever the switch says.
    const none = await failure(g.api('/servicePrincipals').post({ appId: '0f0f0f0f-1111-2222-3333-444444444444' }));
    expect(none.statusCode).toBe(400);
    await settle();
    expect((await g.api('/servicePrincipals').post({ appId: app.appId })).appId).toBe(app.appId);
  });

  test('the upsert still answers 204 for an app that exists but has not replicated (uniqueness is global)', async () => {
    const g = graphClient(sim);
    const created = await g.api("/applications(uniqueName='fresh-upsert')").header('Prefer', 'create-if-missing').patch({ displayName: 'Fresh upsert' });
    expect(created.id).toBeTruthy();
    const again = await g.api("/applications(uniqueName='fresh-upsert')").header('Prefer', 'create-if-missing').patch({ displayName: 'Fresh upsert' });
    expect(again).toBeFalsy();
    expect(sim.snapshot().applications.filter((a) => a.uniqueName === 'fresh-upsert')).toHaveLength(1);
  });

  test('a new service principal: appRoleAssignedTo fails with 400 "Not a valid reference update." until it replicates', async () => {
    const g = graphClient(sim);
    sim.setFaults({ replicationDelayMs: 0 });
    const app = await g.api('/applications').post({ displayName: 'Grant me' });
    sim.setFaults({ replicationDelayMs: DELAY });
    const sp = await g.api('/servicePrincipals').post({ appId: app.appId });
    const graphSp = await g.api(`/servicePrincipals(appId='${GRAPH_APP_ID}')`).get();
    const body = { principalId: sp.id, resourceId: graphSp.id, appRoleId: MAIL_SEND_ROLE_ID };
    const early = await failure(g.api(`/servicePrincipals/${graphSp.id}/appRoleAssignedTo`).post(body));
    expect(early.statusCode).toBe(400);
    expect(early.code).toBe('Request_BadRequest');
    expect(early.message).toBe('Not a valid reference update.');
    await settle();
    expect((await g.api(`/servicePrincipals/${graphSp.id}/appRoleAssignedTo`).post(body)).principalId).toBe(sp.id);
  });

  test('the token endpoint does not know a just-created app yet (AADSTS700016), then does', async () => {
    const g = graphClient(sim);
    const fresh = await g.api('/applications').post({ displayName: 'Token replication' });
    const ask = async () => {
      const res = await fetch(`${sim.authorityHost}/${sim.tenantId}/oauth2/v2.0/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: fresh.appId, client_secret: 'not-yet-any', scope: `${sim.graphEndpoint}/.default` }).toString(),
      });
      return (await res.json()).error_codes;
    };
    expect(await ask()).toEqual([700016]);
    await settle();
    expect(await ask()).toEqual([7000215]);
  });
});

describe('Exchange replication delay', () => {
  test('a new group is invisible to other cmdlets (404 ManagementObjectNotFound) until it replicates; its name is taken at once', async () => {
    const created = await invoke(sim, token, 'New-DistributionGroup', { Name: 'Fresh group', Alias: 'fresh-group', Type: 'Security' });
    expect(created.status).toBe(200);
    expect(created.json.value[0].PrimarySmtpAddress).toBe(`fresh-group@${sim.domain}`);

    const get = await invoke(sim, token, 'Get-DistributionGroup', { Identity: 'fresh-group' });
    expect(get.status).toBe(404);
    expect(exchangeErrorDetail(get.json).type).toBe('Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException');
    const add = await invoke(sim, token, 'Add-DistributionGroupMember', { Identity: 'fresh-group', Member: sim.mailboxes.info, BypassSecurityGroupManagerCheck: true });
    expect(add.status).toBe(404);
    const policy = await invoke(sim, token, 'New-ApplicationAccessPolicy', { AppId: ['5e5e5e5e-1234-4321-abcd-0123456789ab'], PolicyScopeGroupId: 'fresh-group', AccessRight: 'RestrictAccess' });
    expect(policy.status).toBe(404);
    const dup = await invoke(sim, token, 'New-DistributionGroup', { Name: 'Fresh group', Alias: 'fresh-group-2', Type: 'Security' });
    expect(exchangeErrorDetail(dup.json).type).toBe('Microsoft.Exchange.Data.Directory.ADObjectAlreadyExistsException');

    await settle();
    expect((await invoke(sim, token, 'Get-DistributionGroup', { Identity: 'fresh-group' })).status).toBe(200);
    expect((await invoke(sim, token, 'Add-DistributionGroupMember', { Identity: 'fresh-group', Member: sim.mailboxes.info, BypassSecurityGroupManagerCheck: true })).status).toBe(200);
  });
});
