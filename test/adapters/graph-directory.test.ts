import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GraphDirectory } from '../../src/adapters/graph-directory';
import { createCredential } from '../../src/adapters/credential';
import { GRAPH_APP_ID, MAIL_SEND_ROLE_ID, type Simulator } from '../../src/sim';
import { adaptersFor, connectionFor, eventually, failure, startTestSimulator, uniqueLabel } from './helpers';

let sim: Simulator;
let directory: GraphDirectory;

beforeAll(async () => {
  sim = await startTestSimulator();
  directory = adaptersFor(sim).directory;
});

afterAll(async () => {
  await sim?.close();
});

beforeEach(() => {
  sim.setFaults({
    replicationDelayMs: 0,
    throttle: null,
    unavailable: null,
    dropConnections: null,
    revokedPermissions: [],
    maxPasswordLifetime: null,
    secretActivationDelayMs: 0,
    servicePrincipalReplicationAnswer: 'no-backing-app',
    failAfterCommit: null,
    blockPasswordAddition: null,
    appPolicyRefusalStatus: 400,
  });
  sim.clearRequests();
});

const graphLog = () => sim.requests().filter((r) => r.family === 'graph');

describe('GraphDirectory — applications', () => {
  it('upserts by uniqueName: 201 with the new app, then 204 → { created: false }, and only one app exists', async () => {
    const uniqueName = uniqueLabel("opter-o'neil");
    const first = await directory.upsertApplicationByUniqueName(uniqueName, { displayName: 'Upsert Test', signInAudience: 'AzureADMyOrg' });
    expect(first.created).toBe(true);
    if (!first.created) throw new Error('unreachable');
    expect(first.value).toMatchObject({ displayName: 'Upsert Test', uniqueName, signInAudience: 'AzureADMyOrg', passwordCredentials: [] });

    const second = await directory.upsertApplicationByUniqueName(uniqueName, { displayName: 'Upsert Test', signInAudience: 'AzureADMyOrg' });
    expect(second).toEqual({ created: false });

    expect(graphLog().filter((r) => r.method === 'PATCH').map((r) => r.status)).toEqual([201, 204]);
    expect(sim.snapshot().applications.filter((a) => a.uniqueName === uniqueName)).toHaveLength(1);
  });

  it('finds apps by a display name containing quotes and URL-reserved characters, and only those', async () => {
    const name = `O'Neil & Söner? #1/2 ${uniqueLabel('x')}`;
    const created = await directory.upsertApplicationByUniqueName(uniqueLabel('find'), { displayName: name, signInAudience: 'AzureADMyOrg' });
    await directory.upsertApplicationByUniqueName(uniqueLabel('decoy'), { displayName: `${name} decoy`, signInAudience: 'AzureADMyOrg' });
    if (!created.created) throw new Error('expected a new app');

    const found = await directory.findApplicationsByDisplayName(name);
    expect(found.map((a) => a.id)).toEqual([created.value.id]);
    expect(await directory.findApplicationsByDisplayName(`nobody's ${uniqueLabel('app')}`)).toEqual([]);
  });

  it('reads an app by object id and by appId, and returns null for unknown ids', async () => {
    const r = await directory.upsertApplicationByUniqueName(uniqueLabel('read'), { displayName: 'Read Test', signInAudience: 'AzureADMyOrg' });
    if (!r.created) throw new Error('expected a new app');
    expect(await directory.getApplication(r.value.id)).toEqual(r.value);
    expect(await directory.getApplicationByAppId(r.value.appId)).toEqual(r.value);
    expect(await directory.getApplication('00000000-0000-4000-8000-00000000dead')).toBeNull();
    expect(await directory.getApplicationByAppId('00000000-0000-4000-8000-00000000beef')).toBeNull();
  });

  it('deletes an app, and deleting it again is a success', async () => {
    const r = await directory.upsertApplicationByUniqueName(uniqueLabel('delete'), { displayName: 'Delete Test', signInAudience: 'AzureADMyOrg' });
    if (!r.created) throw new Error('expected a new app');
    await directory.deleteApplication(r.value.id);
    expect(await directory.getApplication(r.value.id)).toBeNull();
    await directory.deleteApplication(r.value.id);
  });
});

describe('GraphDirectory — service principal and Mail.Send grant', () => {
  it('upserts the service principal (201, then 204) and finds the Microsoft Graph SP with its Mail.Send application role', async () => {
    const app = await directory.upsertApplicationByUniqueName(uniqueLabel('sp'), { displayName: 'SP Test', signInAudience: 'AzureADMyOrg' });
    if (!app.created) throw new Error('expected a new app');
    const sp = await directory.upsertServicePrincipal(app.value.appId);
    expect(sp.created).toBe(true);
    expect(await directory.upsertServicePrincipal(app.value.appId)).toEqual({ created: false });
    if (!sp.created) throw new Error('unreachable');
    expect(await directory.getServicePrincipalByAppId(app.value.appId)).toMatchObject({ id: sp.value.id, appId: app.value.appId });
    expect(await directory.getServicePrincipalByAppId('00000000-0000-4000-8000-0000000000aa')).toBeNull();

    const graph = await directory.getServicePrincipalByAppId(GRAPH_APP_ID);
    const mailSend = graph?.appRoles.find((r) => r.value === 'Mail.Send' && r.allowedMemberTypes.includes('Application'));
    expect(mailSend).toMatchObject({ id: MAIL_SEND_ROLE_ID, isEnabled: true });
  });

  it('grants an app role, reports the duplicate grant as { created: false }, lists and removes it idempotently', async () => {
    const app = await directory.upsertApplicationByUniqueName(uniqueLabel('grant'), { displayName: 'Grant Test', signInAudience: 'AzureADMyOrg' });
    if (!app.created) throw new Error('expected a new app');
    const sp = await directory.upsertServicePrincipal(app.value.appId);
    if (!sp.created) throw new Error('expected a new SP');
    const graph = (await directory.getServicePrincipalByAppId(GRAPH_APP_ID))!;
    const grant = { principalId: sp.value.id, resourceId: graph.id, appRoleId: MAIL_SEND_ROLE_ID };

    const first = await directory.assignAppRole(grant);
    expect(first.created).toBe(true);
    if (!first.created) throw new Error('unreachable');
    expect(first.value).toMatchObject(grant);

    expect(await directory.assignAppRole(grant)).toEqual({ created: false });
    expect(graphLog().filter((r) => r.method === 'POST' && r.path.endsWith('/appRoleAssignedTo')).map((r) => r.status)).toEqual([201, 400]);

    expect(await directory.listAppRoleAssignments(sp.value.id)).toEqual([first.value]);
    await directory.removeAppRoleAssignment(sp.value.id, first.value.id);
    expect(await directory.listAppRoleAssignments(sp.value.id)).toEqual([]);
    await directory.removeAppRoleAssignment(sp.value.id, first.value.id);
    expect(await directory.listAppRoleAssignments('00000000-0000-4000-8000-0000000000ab')).toEqual([]);
  });
});

describe('GraphDirectory — client secrets and the lifetime policy', () => {
  it('addPassword returns secretText exactly once; reads carry only metadata', async () => {
    const app = await directory.upsertApplicationByUniqueName(uniqueLabel('secret'), { displayName: 'Secret Test', signInAudience: 'AzureADMyOrg' });
    if (!app.created) throw new Error('expected a new app');
    const pwd = await directory.addPassword(app.value.id, { displayName: 'secret-test-secret', endDateTime: '2030-01-01T00:00:00Z' });
    expect(pwd.secretText.length).toBeGreaterThanOrEqual(16);
    expect(pwd).toMatchObject({ displayName: 'secret-test-secret', endDateTime: '2030-01-01T00:00:00Z', hint: pwd.secretText.slice(0, 3) });

    const read = await directory.getApplication(app.value.id);
    expect(read?.passwordCredentials).toEqual([{ keyId: pwd.keyId, displayName: 'secret-test-secret', startDateTime: pwd.startDateTime, endDateTime: pwd.endDateTime, hint: pwd.hint }]);
    expect(JSON.stringify(read)).not.toContain(pwd.secretText);
    expect(JSON.stringify(sim.snapshot())).not.toContain(pwd.secretText);
  });

  it('addPassword is never repeated by the SDK: a 503 after Microsoft made the secret reaches the caller after one POST', async () => {
    const app = await directory.upsertApplicationByUniqueName(uniqueLabel('once'), { displayName: 'Once Test', signInAudience: 'AzureADMyOrg' });
    if (!app.created) throw new Error('expected a new app');
    sim.setFaults({ failAfterCommit: { operation: 'addPassword', times: 1 } });
    sim.clearRequests();
    const err = await failure(directory.addPassword(app.value.id, { displayName: 'once-secret', endDateTime: '2030-01-01T00:00:00Z' }));
    expect(err).toMatchObject({ code: 'E_SERVICE_UNAVAILABLE', transient: true, status: 503 });
    expect(graphLog().filter((r) => r.method === 'POST' && r.path.endsWith('/addPassword'))).toHaveLength(1);
    // The one secret Microsoft made; the caller (the engine's journal) knows to look for it.
    expect((await directory.getApplication(app.value.id))!.passwordCredentials.map((c) => c.displayName)).toEqual(['once-secret']);
  });

  it('removePassword removes the key; removing it again, or an unknown keyId, is a success', async () => {
    const app = await directory.upsertApplicationByUniqueName(uniqueLabel('remove'), { displayName: 'Remove Test', signInAudience: 'AzureADMyOrg' });
    if (!app.created) throw new Error('expected a new app');
    const pwd = await directory.addPassword(app.value.id, { displayName: 'x', endDateTime: '2030-01-01T00:00:00Z' });
    await directory.removePassword(app.value.id, pwd.keyId);
    expect((await directory.getApplication(app.value.id))?.passwordCredentials).toEqual([]);
    await directory.removePassword(app.value.id, pwd.keyId);
    await directory.removePassword(app.value.id, '11111111-2222-4333-8444-555555555555');
  });

  it('reads the tenant maximum secret lifetime, and a longer secret fails with E_SECRET_LIFETIME_POLICY', async () => {
    expect(await directory.getMaxPasswordLifetime()).toBeNull();
    sim.setFaults({ maxPasswordLifetime: 'P90D' });
    expect(await directory.getMaxPasswordLifetime()).toBe('P90D');

    const app = await directory.upsertApplicationByUniqueName(uniqueLabel('policy'), { displayName: 'Policy Test', signInAudience: 'AzureADMyOrg' });
    if (!app.created) throw new Error('expected a new app');
    const err = await failure(directory.addPassword(app.value.id, { displayName: 'x', endDateTime: new Date(Date.now() + 10 * 365 * 86_400_000).toISOString() }));
    expect(err).toMatchObject({ code: 'E_SECRET_LIFETIME_POLICY', transient: false, status: 400 });
    expect(err.detail).toMatch(/as per assigned policy/);
  });
});

describe('GraphDirectory — app management policies that forbid secrets', () => {
  it('reads the whole tenant default policy, and classifies both refusals by code whatever their status', async () => {
    sim.setFaults({ blockPasswordAddition: { restrictForAppsCreatedAfterDateTime: '2019-01-01T00:00:00Z' }, maxPasswordLifetime: 'P90D' });
    expect(await directory.getSecretPolicy()).toEqual({
      source: 'tenant-default',
      id: '00000000-0000-0000-0000-000000000000',
      displayName: 'Default app management tenant policy',
      isEnabled: true,
      passwordCredentials: [
        { restrictionType: 'passwordAddition', enabled: true, maxLifetime: null, restrictForAppsCreatedAfter: '2019-01-01T00:00:00Z' },
        { restrictionType: 'passwordLifetime', enabled: true, maxLifetime: 'P90D', restrictForAppsCreatedAfter: '2014-10-19T10:37:00Z' },
      ],
    });
    const app = await directory.upsertApplicationByUniqueName(uniqueLabel('blocked'), { displayName: 'Blocked Secrets', signInAudience: 'AzureADMyOrg' });
    if (!app.created) throw new Error('expected a new app');
    expect((await directory.getApplication(app.value.id))!.createdDateTime).toBe(app.value.createdDateTime);
    for (const status of [400, 403] as const) {
      sim.setFaults({ appPolicyRefusalStatus: status, blockPasswordAddition: {}, maxPasswordLifetime: null });
      expect(await failure(directory.addPassword(app.value.id, { displayName: 'x', endDateTime: '2027-01-01T00:00:00Z' }))).toMatchObject({ code: 'E_SECRETS_BLOCKED_BY_POLICY', status });
      sim.setFaults({ blockPasswordAddition: null, maxPasswordLifetime: 'P30D' });
      expect(await failure(directory.addPassword(app.value.id, { displayName: 'x', endDateTime: '2099-01-01T00:00:00Z' }))).toMatchObject({ code: 'E_SECRET_LIFETIME_POLICY', status });
    }
    expect((await directory.getApplication(app.value.id))!.passwordCredentials).toEqual([]);
  });
});

describe('GraphDirectory — replication, throttling, outages and permissions', () => {
  it('reports the documented replication errors as transient with a human reason, then succeeds once replicated', async () => {
    sim.setFaults({ replicationDelayMs: 1500 });
    const app = await directory.upsertApplicationByUniqueName(uniqueLabel('repl'), { displayName: 'Replication Test', signInAudience: 'AzureADMyOrg' });
    if (!app.created) throw new Error('expected a new app');

    const spErr = await failure(directory.upsertServicePrincipal(app.value.appId));
    expect(spErr).toMatchObject({ code: 'E_NOT_FOUND', transient: true, retryReason: 'waiting for Microsoft to replicate the new app registration' });

    const pwdErr = await failure(directory.addPassword(app.value.id, { displayName: 'x', endDateTime: '2030-01-01T00:00:00Z' }));
    expect(pwdErr).toMatchObject({ code: 'E_NOT_FOUND', transient: true, retryReason: 'waiting for Microsoft to replicate the new app registration' });

    const sp = await eventually(() => directory.upsertServicePrincipal(app.value.appId));
    expect(sp.created).toBe(true);
    if (!sp.created) throw new Error('unreachable');
    const graph = (await directory.getServicePrincipalByAppId(GRAPH_APP_ID))!;
    const grantErr = await failure(directory.assignAppRole({ principalId: sp.value.id, resourceId: graph.id, appRoleId: MAIL_SEND_ROLE_ID }));
    expect(grantErr).toMatchObject({ code: 'E_NOT_FOUND', transient: true, retryReason: 'waiting for Microsoft to replicate the new service principal' });
    const grant = await eventually(() => directory.assignAppRole({ principalId: sp.value.id, resourceId: graph.id, appRoleId: MAIL_SEND_ROLE_ID }));
    expect(grant.created).toBe(true);
  });

  it('a 403 "backing application … must in the local tenant" right after the app is replication (bounded); later it is a permission error', async () => {
    sim.setFaults({ replicationDelayMs: 1500, servicePrincipalReplicationAnswer: 'backing-app-not-local' });
    const app = await directory.upsertApplicationByUniqueName(uniqueLabel('repl403'), { displayName: 'Replication 403', signInAudience: 'AzureADMyOrg' });
    if (!app.created) throw new Error('expected a new app');
    const early = await failure(directory.upsertServicePrincipal(app.value.appId));
    expect(early).toMatchObject({ code: 'E_NOT_FOUND', transient: true, status: 403, retryReason: 'waiting for Microsoft to replicate the new app registration' });
    expect((await eventually(() => directory.upsertServicePrincipal(app.value.appId))).created).toBe(true);

    // Past the window (azure-cli's 36 × 5 s; here 0 ms) the same answer is what it says: a missing permission.
    const strict = new GraphDirectory(connectionFor(sim), createCredential(connectionFor(sim)), { newAppWindowMs: 0 });
    const late = await strict.upsertApplicationByUniqueName(uniqueLabel('repl403'), { displayName: 'Replication 403 late', signInAudience: 'AzureADMyOrg' });
    if (!late.created) throw new Error('expected a new app');
    await new Promise((r) => setTimeout(r, 5));
    const denied = await failure(strict.upsertServicePrincipal(late.value.appId));
    expect(denied).toMatchObject({ code: 'E_GRAPH_PERMISSION', transient: false, status: 403, detail: 'Application.ReadWrite.All' });
  });

  it.each([
    ['AppRoleAssignment.ReadWrite.All', 'grant'],
    ['Application.ReadWrite.All', 'upsert'],
    ['Policy.Read.All', 'policy'],
  ] as const)('a revoked %s → E_GRAPH_PERMISSION naming exactly that permission', async (permission, call) => {
    const app = await directory.upsertApplicationByUniqueName(uniqueLabel('perm'), { displayName: 'Permission Test', signInAudience: 'AzureADMyOrg' });
    if (!app.created) throw new Error('expected a new app');
    const sp = await directory.upsertServicePrincipal(app.value.appId);
    if (!sp.created) throw new Error('expected a new SP');
    const graph = (await directory.getServicePrincipalByAppId(GRAPH_APP_ID))!;

    sim.setFaults({ revokedPermissions: [permission] });
    const attempt =
      call === 'grant'
        ? directory.assignAppRole({ principalId: sp.value.id, resourceId: graph.id, appRoleId: MAIL_SEND_ROLE_ID })
        : call === 'upsert'
          ? directory.upsertApplicationByUniqueName(uniqueLabel('denied'), { displayName: 'Denied', signInAudience: 'AzureADMyOrg' })
          : directory.getMaxPasswordLifetime();
    const err = await failure(attempt);
    expect(err).toMatchObject({ code: 'E_GRAPH_PERMISSION', detail: permission, transient: false, status: 403 });
    expect(err.action).toContain(permission);
  });

  it('surfaces a 429 that outlived the SDK retries as transient E_THROTTLED with Retry-After in ms', async () => {
    const noRetry = new GraphDirectory(connectionFor(sim), createCredential(connectionFor(sim)), { maxRetries: 0 });
    await noRetry.getMaxPasswordLifetime(); // token first, so the throttle meets the Graph call
    sim.setFaults({ throttle: { retryAfterSeconds: 1.5, families: ['graph'] } });
    const err = await failure(noRetry.findApplicationsByDisplayName('anything'));
    expect(err).toMatchObject({ code: 'E_THROTTLED', transient: true, retryAfterMs: 1500, status: 429 });
    expect(err.retryReason).toMatch(/throttling/);
  });

  it("lets the SDK's RetryHandler absorb a single 429, waiting the Retry-After it was given", async () => {
    await directory.getMaxPasswordLifetime();
    sim.setFaults({ throttle: { every: 2, retryAfterSeconds: 1, families: ['graph'] } });
    sim.clearRequests();
    await directory.findApplicationsByDisplayName('first call passes');
    const started = Date.now();
    await directory.findApplicationsByDisplayName('second call is throttled once');
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(graphLog().map((r) => r.status)).toEqual([200, 429, 200]);
  });

  it('reports 503 and dropped connections as transient E_SERVICE_UNAVAILABLE', async () => {
    const noRetry = new GraphDirectory(connectionFor(sim), createCredential(connectionFor(sim)), { maxRetries: 0 });
    await noRetry.getMaxPasswordLifetime();
    sim.setFaults({ unavailable: { families: ['graph'] } });
    expect(await failure(noRetry.getApplication('00000000-0000-4000-8000-000000000001'))).toMatchObject({ code: 'E_SERVICE_UNAVAILABLE', transient: true, status: 503 });

    sim.setFaults({ unavailable: null, dropConnections: { share: 1, families: ['graph'] } });
    const dropped = await failure(noRetry.getApplication('00000000-0000-4000-8000-000000000001'));
    expect(dropped).toMatchObject({ code: 'E_SERVICE_UNAVAILABLE', transient: true });
    expect(dropped.detail).toMatch(/Microsoft Graph/);
  });

  it('a wrong provisioning secret → E_AUTH_FAILED with the AADSTS code, never the secret', async () => {
    const wrong = 'wrong-secret-value-0123456789';
    const conn = connectionFor(sim, wrong);
    const bad = new GraphDirectory(conn, createCredential(conn));
    const err = await failure(bad.findApplicationsByDisplayName('x'));
    expect(err).toMatchObject({ code: 'E_AUTH_FAILED', transient: false });
    expect(err.detail).toMatch(/^AADSTS7000215/);
    expect(`${err.message} ${err.detail} ${JSON.stringify(err.cause)}`).not.toContain(wrong);
  });
});
