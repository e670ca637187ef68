/**
 * The engine's behaviour against the simulated tenant through the production adapters (issue 3, "Done when").
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OpterError } from '../../src/core/errors';
import { systemClock, type DirectoryPort, type ProgressEvent } from '../../src/core/ports';
import { ProvisioningEngine, storedProvisionResult, type EngineDeps, type ProvisionInput } from '../../src/provisioning/engine';
import { WORKFLOWS } from '../../src/provisioning/workflows';
import { formatOutputBlock, outputFields } from '../../src/provisioning/output';
import type { Simulator } from '../../src/sim';
import { openStore, type Store } from '../../src/store';
import { createCredential, createGraphClient, createTenantAdapters } from '../../src/adapters';
import { connectionFor, startTestSimulator } from '../adapters/helpers';

let sim: Simulator;
let store: Store;

beforeAll(async () => {
  sim = await startTestSimulator();
});
afterAll(async () => {
  await sim?.close();
});
beforeEach(() => {
  sim.reset();
  store?.close();
  store = openStore({ memory: true });
});

const FAST = { baseDelayMs: 100, maxDelayMs: 1_000, maxTotalWaitMs: 30_000 };

function engineFor(overrides: Partial<EngineDeps> = {}) {
  // Built exactly as the product builds them (renewable credential included).
  const adapters = createTenantAdapters(connectionFor(sim));
  const delivered = new Map<string, string>();
  const engine = new ProvisioningEngine({
    directory: adapters.directory,
    exchange: adapters.exchange,
    appSignIn: adapters.appSignIn,
    journal: store.journal,
    clock: systemClock,
    controlMailbox: sim.mailboxes.outside,
    retry: FAST,
    verifyRetry: FAST,
    secretSink: {
      deliver: (s) => void delivered.set(`${s.jobId}/${s.keyId}`, s.secretText),
      holds: (jobId, keyId) => delivered.has(`${jobId}/${keyId}`),
    },
    ...overrides,
  });
  return { engine, delivered, adapters };
}

function countFor(displayName: string) {
  const snap = sim.snapshot();
  const apps = snap.applications.filter((a) => a.displayName === displayName);
  const appIds = new Set(apps.map((a) => a.appId));
  return {
    snap,
    apps: apps.length,
    sps: snap.servicePrincipals.filter((s) => appIds.has(s.appId)).length,
    policies: snap.accessPolicies.filter((p) => appIds.has(p.appId)).length,
    secrets: apps.reduce((n, a) => n + ((a.passwordCredentials as unknown[])?.length ?? 0), 0),
  };
}

const writes = () => sim.requests().filter((r) => ['POST', 'PATCH', 'DELETE'].includes(r.method) && r.family === 'graph' && !r.path.includes('/_sim/')).length
  + sim.requests().filter((r) => r.family === 'exchange' && r.cmdlet && !/^(Get|Test)-/.test(r.cmdlet)).length;

describe('provisioning through the simulator', () => {
  it('does the whole script for one sender and prints its OUTPUT block', async () => {
    const { engine, delivered } = engineFor();
    const out = await engine.run(engine.createJob('provision', { appDisplayName: 'OpterMessageProxy', senders: [sim.mailboxes.info] }).id);
    expect(out.error).toBeUndefined();
    const r = out.result!;
    expect(r.names.groupAlias).toBe('optermessageproxy-mailsend-allowed');
    expect(r.groupSmtp).toBe(`optermessageproxy-mailsend-allowed@${sim.domain}`);
    expect(r.checks.map((c) => [c.name, c.ok])).toEqual([
      [`Test-ApplicationAccessPolicy ${sim.mailboxes.info}`, true],
      [`Test-ApplicationAccessPolicy ${sim.mailboxes.outside}`, true],
      ['Token as the new app', true],
    ]);
    const secret = [...delivered.values()][0];
    const block = formatOutputBlock(outputFields(r, secret, sim.mailboxes.outside));
    expect(block.slice(0, 6)).toEqual([
      '=== OUTPUT (save securely) ===',
      `Ms Graph Tenant Id       : ${sim.tenantId}`,
      `Ms Graph Client Id       : ${r.clientId}`,
      `Ms Graph Client Secret   : ${secret}`,
      `Secret Expires (UTC)     : ${r.secret!.endDateTime}`,
      `Scoped Group SMTP        : ${r.groupSmtp}`,
    ]);
    expect(r.secret!.endDateTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);
    const snap = sim.snapshot();
    const group = snap.groups.find((g) => g.alias === 'optermessageproxy-mailsend-allowed')!;
    expect(group.recipientTypeDetails).toBe('MailUniversalSecurityGroup');
    expect(group.name).toBe('OpterMessageProxy - MailSend Allowed');
    const app = snap.applications.find((a) => a.appId === r.clientId)!;
    expect(app.signInAudience).toBe('AzureADMyOrg');
    expect((app.passwordCredentials as { displayName: string }[]).map((p) => p.displayName)).toEqual(['optermessageproxy-secret']);
    // The secret value is nowhere in the journal.
    expect(JSON.stringify(store.journal.getSteps(r.jobId))).not.toContain(secret);
    // The typed result is stored on the job, and decodes to what the run returned; the secret is not in it.
    const stored = store.journal.getJob(r.jobId)!;
    expect(stored).toMatchObject({ status: 'succeeded', resumeAfter: null });
    expect(storedProvisionResult(stored)).toEqual(r);
    expect(JSON.stringify(stored.result)).not.toContain(secret);
  });

  it('one createJob for every kind: the workflow checks the input, and a job whose stored input does not decode fails without a call', async () => {
    const { engine } = engineFor();
    expect(Object.keys(WORKFLOWS).sort()).toEqual(['add-sender', 'adopt', 'migrate-rbac', 'provision', 'remove-sender', 'repair', 'retire-secrets', 'rotate-secret', 'test-email']);
    expect(() => engine.createJob('repair', { appDisplayName: '  ' })).toThrow(OpterError);
    const job = engine.createJob('provision', { appDisplayName: 'Typed Input', senders: [sim.mailboxes.info] }, { idempotencyKey: 'k-typed' });
    expect(job.input).toMatchObject({ appDisplayName: 'Typed Input', secretValidYears: 10 });
    expect(engine.createJob('provision', { appDisplayName: 'Typed Input', senders: [sim.mailboxes.info] }, { idempotencyKey: 'k-typed' }).id).toBe(job.id);

    const broken = store.journal.createJob({ id: 'broken-input', kind: 'provision', input: { appDisplayName: 'X', senders: 'not a list' } });
    const before = writes();
    const out = await engine.run(broken.id);
    expect(out.error?.code).toBe('E_INTERNAL');
    expect(out.error?.detail).toMatch(/senders/);
    expect(out.job.status).toBe('failed');
    expect(writes()).toBe(before);
  });

  it('with several senders, a re-run reuses everything and makes no new secret unless asked', async () => {
    const { engine, delivered } = engineFor();
    const input: ProvisionInput = { appDisplayName: 'OpterMessageProxy-centraleurope', senders: [sim.mailboxes.info, sim.mailboxes.faktura, sim.mailboxes.shared] };
    const first = await engine.run(engine.createJob('provision', input).id);
    expect(first.error).toBeUndefined();
    expect(first.result!.senders).toHaveLength(3);
    const before = countFor(input.appDisplayName);

    sim.clearRequests();
    const second = await engine.run(engine.createJob('provision', input).id);
    expect(second.result!.created).toEqual({ app: false, servicePrincipal: false, grant: false, group: false, policy: false });
    expect(second.result!.secret).toBeNull();
    expect(writes()).toBe(0);
    expect(countFor(input.appDisplayName)).toMatchObject({ apps: 1, sps: 1, policies: 1, secrets: before.secrets });

    const third = await engine.run(engine.createJob('provision', { ...input, newSecret: true }).id);
    expect(third.result!.secret).not.toBeNull();
    expect(countFor(input.appDisplayName).secrets).toBe(before.secrets + 1);
    expect(delivered.size).toBe(2);
  });

  it('completes under 5 s replication delay and 20 % throttling, and the retries are visible as progress', async () => {
    sim.setFaults({ replicationDelayMs: 5_000, throttle: { share: 0.2, retryAfterSeconds: 0.3 } });
    const { engine } = engineFor();
    const events: ProgressEvent[] = [];
    const out = await engine.run(engine.createJob('provision', { appDisplayName: 'Replication Proof', senders: [sim.mailboxes.info] }).id, {
      listener: (e) => events.push(e),
    });
    expect(out.error).toBeUndefined();
    const reasons = events.filter((e) => e.type === 'step-retrying').map((e) => (e as { reason: string }).reason);
    expect(reasons.some((r) => /replicate/.test(r))).toBe(true);
    expect(countFor('Replication Proof')).toMatchObject({ apps: 1, sps: 1, policies: 1, secrets: 1 });
  }, 120_000);

  it('retries the 403 "backing application … must in the local tenant" after creating the app, as replication', async () => {
    sim.setFaults({ replicationDelayMs: 1_000, servicePrincipalReplicationAnswer: 'backing-app-not-local' });
    const { engine } = engineFor();
    const events: ProgressEvent[] = [];
    const out = await engine.run(engine.createJob('provision', { appDisplayName: 'Replication 403', senders: [sim.mailboxes.info] }).id, { listener: (e) => events.push(e) });
    expect(out.error).toBeUndefined();
    const spRetries = events.filter((e) => e.type === 'step-retrying' && (e as { step: string }).step === 'servicePrincipal');
    expect(spRetries.length).toBeGreaterThan(0);
    expect(spRetries.every((e) => /replicate the new app registration/.test((e as { reason: string }).reason))).toBe(true);
    expect(sim.requests().some((r) => r.path.startsWith('/v1.0/servicePrincipals(appId=') && r.status === 403)).toBe(true);
    expect(countFor('Replication 403')).toMatchObject({ apps: 1, sps: 1, policies: 1, secrets: 1 });
  }, 60_000);

  it('reports a missing Graph permission with the catalogue code, and resumes once it is granted', async () => {
    sim.setFaults({ revokedPermissions: ['AppRoleAssignment.ReadWrite.All'] });
    const { engine } = engineFor();
    const job = engine.createJob('provision', { appDisplayName: 'Missing Permission', senders: [sim.mailboxes.info] });
    const out = await engine.run(job.id);
    expect(out.error?.code).toBe('E_GRAPH_PERMISSION');
    expect(out.error?.action).toContain('AppRoleAssignment.ReadWrite.All');
    expect(countFor('Missing Permission').secrets).toBe(0); // the secret is last: nothing left behind

    sim.setFaults({ revokedPermissions: [] });
    const again = await engine.run(job.id);
    expect(again.error).toBeUndefined();
    expect(countFor('Missing Permission')).toMatchObject({ apps: 1, sps: 1, policies: 1, secrets: 1 });
  });

  it('reports a missing Exchange role as E_EXCHANGE_PERMISSION', async () => {
    sim.setFaults({ revokedPermissions: ['Exchange.ManageAsApp'] });
    const { engine } = engineFor();
    const out = await engine.run(engine.createJob('provision', { appDisplayName: 'No Exchange', senders: [sim.mailboxes.info] }).id);
    expect(out.error?.code).toBe('E_EXCHANGE_PERMISSION');
  });

  it('refuses a foreign domain and a non-mailbox before any write', async () => {
    const { engine } = engineFor();
    sim.clearRequests();
    const foreign = await engine.run(engine.createJob('provision', { appDisplayName: 'Foreign', senders: [sim.mailboxes.info, 'someone@contoso.com'] }).id);
    expect(foreign.error?.code).toBe('E_SENDER_FOREIGN_DOMAIN');
    expect(foreign.error?.detail).toContain('someone@contoso.com');
    const notMailbox = await engine.run(engine.createJob('provision', { appDisplayName: 'Foreign', senders: [`nobody-here@${sim.domain}`] }).id);
    expect(notMailbox.error?.code).toBe('E_SENDER_NOT_MAILBOX');
    expect(writes()).toBe(0);
    expect(() => engine.createJob('provision', { appDisplayName: 'X', senders: ['not an address'] })).toThrowError(OpterError);
  });

  it('removes a secret whose response was lost and delivers exactly one', async () => {
    const { engine, adapters, delivered } = engineFor();
    let lost = false;
    // A network failure after Microsoft created the secret: the response never arrives.
    const directory: DirectoryPort = Object.create(adapters.directory);
    directory.addPassword = async (id, cred) => {
      const created = await adapters.directory.addPassword(id, cred);
      if (!lost) {
        lost = true;
        throw new OpterError('E_SERVICE_UNAVAILABLE', { transient: true, retryReason: 'connection reset' });
      }
      return created;
    };
    const { engine: e2 } = engineFor({ directory, secretSink: { deliver: (s) => void delivered.set(`${s.jobId}/${s.keyId}`, s.secretText), holds: (j, k) => delivered.has(`${j}/${k}`) } });
    void engine;
    const out = await e2.run(e2.createJob('provision', { appDisplayName: 'Lost Response', senders: [sim.mailboxes.info] }).id);
    expect(out.error).toBeUndefined();
    expect(lost).toBe(true);
    const app = sim.snapshot().applications.find((a) => a.displayName === 'Lost Response')!;
    const keys = (app.passwordCredentials as { keyId: string }[]).map((p) => p.keyId);
    expect(keys).toEqual([out.result!.secret!.keyId]);
    expect(out.result!.notes.some((n) => /undelivered secret/.test(n))).toBe(true);
  });

  it('a 503 after Microsoft made the secret: the SDK does not repeat addPassword, the engine removes the orphan, one secret is left', async () => {
    sim.setFaults({ failAfterCommit: { operation: 'addPassword', times: 1 } });
    const { engine, delivered } = engineFor();
    const out = await engine.run(engine.createJob('provision', { appDisplayName: 'Committed Then 503', senders: [sim.mailboxes.info] }).id);
    expect(out.error).toBeUndefined();
    const app = sim.snapshot().applications.find((a) => a.displayName === 'Committed Then 503')!;
    const keys = (app.passwordCredentials as { keyId: string }[]).map((p) => p.keyId);
    expect(keys).toEqual([out.result!.secret!.keyId]);
    expect([...delivered.keys()]).toEqual([`${out.job.id}/${out.result!.secret!.keyId}`]);
    expect(out.result!.notes.some((n) => /undelivered secret/.test(n))).toBe(true);
    const posts = sim.requests().filter((r) => r.method === 'POST' && r.path.endsWith('/addPassword'));
    // One POST answered 503 (and never resent by the SDK), one by the engine's own retry after the orphan sweep.
    expect(posts.map((r) => r.status)).toEqual([503, 200]);
    expect(sim.requests().filter((r) => r.method === 'POST' && r.path.endsWith('/removePassword'))).toHaveLength(1);
  }, 60_000);

  it('a tenant that forbids client secrets is refused before any write; exempting the app with its own policy lets it finish', async () => {
    sim.setFaults({ blockPasswordAddition: {} });
    const { engine, adapters } = engineFor();
    sim.clearRequests();
    const job = engine.createJob('provision', { appDisplayName: 'No Secrets Here', senders: [sim.mailboxes.info] });
    const refused = await engine.run(job.id);
    expect(refused.error?.code).toBe('E_SECRETS_BLOCKED_BY_POLICY');
    expect(refused.error?.action).toContain('restricts passwordAddition');
    expect(writes()).toBe(0);
    expect(countFor('No Secrets Here')).toMatchObject({ apps: 0, secrets: 0 });

    // The exemption an admin adds (docs/permissions.md): the registration with this name, and an app management
    // policy without passwordAddition assigned to it (an assigned policy replaces the tenant default).
    const graph = (await adapters.directory.getServicePrincipalByAppId('00000003-0000-0000-c000-000000000000'))!;
    const provisioningSp = sim.snapshot().servicePrincipals.find((x) => x.appId === sim.provisioning.clientId)!;
    const write = graph.appRoles.find((r) => r.value === 'Policy.ReadWrite.ApplicationConfiguration')!;
    await adapters.directory.assignAppRole({ principalId: String(provisioningSp.id), resourceId: graph.id, appRoleId: write.id });
    const admin = createGraphClient(sim.graphEndpoint, createCredential(connectionFor(sim)));
    const app = await admin.api('/applications').post({ displayName: 'No Secrets Here', signInAudience: 'AzureADMyOrg' });
    const policy = await admin.api('/policies/appManagementPolicies').post({
      displayName: 'Opter exemption',
      description: 'Client secrets allowed, at most two years',
      restrictions: { passwordCredentials: [{ restrictionType: 'passwordLifetime', maxLifetime: 'P730D' }] },
    });
    await admin.api(`/applications/${app.id}/appManagementPolicies/$ref`).post({ '@odata.id': `${sim.graphEndpoint}/v1.0/policies/appManagementPolicies/${policy.id}` });

    const done = await engine.run(job.id);
    expect(done.error).toBeUndefined();
    expect(done.result!.appObjectId).toBe(app.id);
    expect(done.result!.secret).toMatchObject({ clamped: true, maxLifetime: 'P730D' });
    expect(countFor('No Secrets Here')).toMatchObject({ apps: 1, sps: 1, policies: 1, secrets: 1 });
  });

  it('clamps the secret lifetime to the tenant policy and says so', async () => {
    sim.setFaults({ maxPasswordLifetime: 'P180D' });
    const { engine } = engineFor();
    const out = await engine.run(engine.createJob('provision', { appDisplayName: 'Short Secrets', senders: [sim.mailboxes.info] }).id);
    expect(out.error).toBeUndefined();
    expect(out.result!.secret!.clamped).toBe(true);
    const days = (new Date(out.result!.secret!.endDateTime).getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(178);
    expect(days).toBeLessThanOrEqual(180);
    expect(out.result!.notes.join(' ')).toMatch(/shortened to the tenant policy maximum \(P180D\)/);
  });

  it('adds a sender to an existing registration and verifies it', async () => {
    const { engine } = engineFor();
    await engine.run(engine.createJob('provision', { appDisplayName: 'OpterMessageProxy', senders: [sim.mailboxes.info] }).id);
    const out = await engine.run(engine.createJob('add-sender', { appDisplayName: 'OpterMessageProxy', senders: [sim.mailboxes.faktura] }).id);
    expect(out.error).toBeUndefined();
    expect(out.result!.membersAdded).toEqual([sim.mailboxes.faktura]);
    expect(out.result!.checks.find((c) => c.name.includes(sim.mailboxes.faktura))?.ok).toBe(true);
    const group = sim.snapshot().groups.find((g) => g.alias === 'optermessageproxy-mailsend-allowed')!;
    expect((group.members as string[]).map((m) => m.toLowerCase()).sort()).toEqual([sim.mailboxes.faktura, sim.mailboxes.info].map((m) => m.toLowerCase()).sort());
  });

  it('refuses to take over a recipient that is not our group', async () => {
    const { engine } = engineFor();
    // The alias derived from this name collides with an existing distribution list in the seeded tenant.
    const dl = sim.snapshot().groups.find((g) => g.recipientTypeDetails !== 'MailUniversalSecurityGroup');
    expect(dl).toBeDefined();
    const out = await engine.run(
      engine.createJob('provision', { appDisplayName: 'Takeover', senders: [sim.mailboxes.info], overrides: { groupAlias: dl!.alias as string } }).id,
    );
    expect(out.error?.code).toBe('E_GROUP_CONFLICT');
  });
});
