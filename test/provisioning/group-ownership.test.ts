/**
 * A sender group belongs to exactly one registration. Two app names that normalise to the same base derive the same
 * group; the second registration must be refused (naming the owner and a free name), never silently share the group
 * — proven through the engine against the simulator with the production adapters and a real SQLite journal.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OpterError } from '../../src/core/errors';
import type { ExchangeLifecyclePort, ExchangePort } from '../../src/core/ports';
import { GRAPH_APP_ID, MAIL_SEND_ROLE_ID, type Simulator } from '../../src/sim';
import { openStore, type Store } from '../../src/store';
import { startTestSimulator } from '../adapters/helpers';
import { engineFor, mustSucceed, type Harness } from '../lifecycle/helpers';

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

const OWNER = 'Opter Message Proxy';
const ALIAS = 'opter-message-proxy-mailsend-allowed';
const GROUP_NAME = 'Opter Message Proxy - MailSend Allowed';

/** Names that differ from OWNER but normalise to the same base (and so derive the same group). */
export const COLLIDING_NAMES = [
  'Opter Message Proxy.',
  'Opter  Message   Proxy',
  'Opter Message Proxy!!!',
  'Opter_Message_Proxy',
  // A combining mark is not a letter, so Normalize-Name turns it into a space. (The combining grapheme joiner U+034F,
  // the example, is now refused earlier as a default-ignorable character: see names.test.ts and the corpus.)
  'Opter Message Proxy\u0301',
];

const membersOf = (alias: string) =>
  (sim.snapshot().groups.find((g) => (g.alias as string).toLowerCase() === alias)?.members as string[] | undefined)?.map((m) => m.toLowerCase()).sort() ?? null;
const appsNamed = (name: string) => sim.snapshot().applications.filter((a) => a.displayName === name);

async function provisionOwner() {
  const out = await mustSucceed(h.engine.run(h.engine.createJob('provision', { appDisplayName: OWNER, senders: [sim.mailboxes.faktura] }).id));
  return out.result!;
}

describe('a group belongs to exactly one registration', () => {
  it.each(COLLIDING_NAMES)('refuses "%s" instead of sharing the group of "Opter Message Proxy", before any write', async (name) => {
    const owner = await provisionOwner();
    sim.clearRequests();
    const out = await h.engine.run(h.engine.createJob('provision', { appDisplayName: name, senders: [sim.mailboxes.info] }).id);
    expect(out.error?.code).toBe('E_GROUP_OTHER_REGISTRATION');
    expect(out.error?.detail).toContain(`"${OWNER}"`);
    expect(out.error?.detail).toContain(owner.clientId);
    // A free name to use instead, checked against the tenant.
    expect(out.error?.detail).toContain('group name "Opter Message Proxy 2 - MailSend Allowed" and alias "opter-message-proxy-2-mailsend-allowed"');
    // Refused before anything was created: no app, no member added, the owner still cannot send as info@.
    expect(sim.requests().filter((r) => (r.family === 'graph' && r.method !== 'GET') || (r.cmdlet && !/^(Get|Test)-/.test(r.cmdlet)))).toEqual([]);
    expect(appsNamed(name)).toHaveLength(0);
    expect(membersOf(ALIAS)).toEqual([sim.mailboxes.faktura]);
    expect(await h.adapters.exchange.testApplicationAccessPolicy(owner.clientId, sim.mailboxes.info)).toBe('Denied');
  });

  it('accepts the suggested names: a group of its own, and neither app may send as the other one’s sender', async () => {
    const owner = await provisionOwner();
    const out = await mustSucceed(
      h.engine.run(
        h.engine.createJob('provision', {
          appDisplayName: 'Opter Message Proxy.',
          senders: [sim.mailboxes.info],
          overrides: { groupName: 'Opter Message Proxy 2 - MailSend Allowed', groupAlias: 'opter-message-proxy-2-mailsend-allowed' },
        }).id,
      ),
    );
    const second = out.result!;
    expect(second.created.group).toBe(true);
    expect(membersOf(ALIAS)).toEqual([sim.mailboxes.faktura]);
    expect(membersOf('opter-message-proxy-2-mailsend-allowed')).toEqual([sim.mailboxes.info]);
    // The other direction is part of the verification: the owner's sender is Denied for the second app.
    expect(second.checks).toContainEqual(expect.objectContaining({ name: `Test-ApplicationAccessPolicy ${sim.mailboxes.faktura} (sender of "${OWNER}")`, ok: true }));
    expect(await h.adapters.exchange.testApplicationAccessPolicy(second.clientId, sim.mailboxes.faktura)).toBe('Denied');
    expect(await h.adapters.exchange.testApplicationAccessPolicy(owner.clientId, sim.mailboxes.info)).toBe('Denied');
  });

  it('refuses the group-name and group-alias overrides set to another registration’s group', async () => {
    await provisionOwner();
    const cases = [
      { groupName: GROUP_NAME, groupAlias: ALIAS },
      { groupAlias: ALIAS },
      { groupName: GROUP_NAME },
    ];
    for (const overrides of cases) {
      const out = await h.engine.run(h.engine.createJob('provision', { appDisplayName: 'Other Team', senders: [sim.mailboxes.info], overrides }).id);
      expect(out.error?.code, JSON.stringify(overrides)).toBe('E_GROUP_OTHER_REGISTRATION');
      expect(out.error?.detail).toContain(`"${OWNER}"`);
      expect(out.error?.field).toBe('groupAlias');
      // The app's own derived group is free: that is the suggestion.
      expect(out.error?.detail).toContain('use the group name "Other Team - MailSend Allowed" and alias "other-team-mailsend-allowed"');
    }
    expect(membersOf(ALIAS)).toEqual([sim.mailboxes.faktura]);
    expect(appsNamed('Other Team')).toHaveLength(0);
  });

  it('re-checks at run time: a group that appeared after the job was approved is refused', async () => {
    const approved = h.engine.createJob('provision', { appDisplayName: 'Opter Message Proxy.', senders: [sim.mailboxes.info] });
    await provisionOwner();
    const out = await h.engine.run(approved.id);
    expect(out.error?.code).toBe('E_GROUP_OTHER_REGISTRATION');
    expect(membersOf(ALIAS)).toEqual([sim.mailboxes.faktura]);
  });

  it('recognises another owner from the Exchange side alone (no record in this journal)', async () => {
    const owner = await provisionOwner();
    // A second bot or CLI with its own store: only the tenant knows the first registration.
    store.close();
    store = openStore({ memory: true });
    h = engineFor(sim, store);
    const out = await h.engine.run(h.engine.createJob('provision', { appDisplayName: 'Opter_Message_Proxy', senders: [sim.mailboxes.info] }).id);
    expect(out.error?.code).toBe('E_GROUP_OTHER_REGISTRATION');
    expect(out.error?.detail).toContain(`"${OWNER}" (client id ${owner.clientId})`);
    expect(out.error?.detail).toContain('access policy');
    // The owner itself is recognised from the tenant: its own app (our uniqueName) is scoped to the group.
    await mustSucceed(h.engine.run(h.engine.createJob('add-sender', { appDisplayName: OWNER, senders: [sim.mailboxes.shared] }).id));
  });

  it('the owning registration keeps working: re-run, add sender, remove sender, repair', async () => {
    await provisionOwner();
    await h.engine.run(h.engine.createJob('provision', { appDisplayName: 'Opter Message Proxy!!!', senders: [sim.mailboxes.info] }).id);
    await mustSucceed(h.engine.run(h.engine.createJob('provision', { appDisplayName: OWNER, senders: [sim.mailboxes.faktura] }).id));
    await mustSucceed(h.engine.run(h.engine.createJob('add-sender', { appDisplayName: OWNER, senders: [sim.mailboxes.info] }).id));
    expect(membersOf(ALIAS)).toEqual([sim.mailboxes.faktura, sim.mailboxes.info].sort());
    await mustSucceed(h.engine.run(h.engine.createJob('remove-sender', { appDisplayName: OWNER, senders: [sim.mailboxes.info] }).id));
    await mustSucceed(h.engine.run(h.engine.createJob('repair', { appDisplayName: OWNER }).id));
    expect(membersOf(ALIAS)).toEqual([sim.mailboxes.faktura]);
  });

  it('lifecycle jobs of a colliding name are refused too (add sender, remove sender, adopt)', async () => {
    await provisionOwner();
    // Someone made an app with the colliding name by hand: it has no group of its own.
    await h.adapters.directory.upsertApplicationByUniqueName(`by-hand-${Date.now()}`, { displayName: 'Opter Message Proxy.', signInAudience: 'AzureADMyOrg' });
    for (const create of [
      () => h.engine.createJob('add-sender', { appDisplayName: 'Opter Message Proxy.', senders: [sim.mailboxes.info] }),
      () => h.engine.createJob('remove-sender', { appDisplayName: 'Opter Message Proxy.', senders: [sim.mailboxes.faktura] }),
      () => h.engine.createJob('adopt', { appDisplayName: 'Opter Message Proxy.' }),
    ]) {
      const out = await h.engine.run(create().id);
      expect(out.error?.code, out.job.kind).toBe('E_GROUP_OTHER_REGISTRATION');
    }
    expect(membersOf(ALIAS)).toEqual([sim.mailboxes.faktura]);
  });

  it('a group nobody recorded (made by the script) is used only after it is adopted', async () => {
    const { exchange, directory } = h.adapters;
    const app = await directory.upsertApplicationByUniqueName(`script-${Date.now()}`, { displayName: 'Opter Gamla', signInAudience: 'AzureADMyOrg' });
    if (!app.created) throw new Error('expected a new app');
    await directory.client.api(`/applications/${app.value.id}`).patch({ uniqueName: null }).catch(() => undefined);
    const sp = await directory.upsertServicePrincipal(app.value.appId);
    if (!sp.created) throw new Error('expected a new service principal');
    await directory.assignAppRole({ principalId: sp.value.id, resourceId: (await directory.getServicePrincipalByAppId(GRAPH_APP_ID))!.id, appRoleId: MAIL_SEND_ROLE_ID });
    const group = await exchange.newDistributionGroup({ name: 'Opter Gamla - MailSend Allowed', alias: 'opter-gamla-mailsend-allowed', members: [sim.mailboxes.info] });
    await exchange.newApplicationAccessPolicy({ appId: app.value.appId, policyScopeGroupId: group.primarySmtpAddress, accessRight: 'RestrictAccess', description: 'script' });

    const refused = await h.engine.run(h.engine.createJob('provision', { appDisplayName: 'Opter Gamla', senders: [sim.mailboxes.faktura] }).id);
    expect(refused.error?.code).toBe('E_GROUP_NOT_RECORDED');
    expect(refused.error?.action).toMatch(/adopt/);
    expect(membersOf('opter-gamla-mailsend-allowed')).toEqual([sim.mailboxes.info]);
    // A colliding name is refused as another registration's group, even before it is adopted.
    const other = await h.engine.run(h.engine.createJob('provision', { appDisplayName: 'Opter-Gamla', senders: [sim.mailboxes.faktura] }).id);
    expect(other.error?.code).toBe('E_GROUP_OTHER_REGISTRATION');
    expect(other.error?.detail).toContain('"Opter Gamla"');

    await mustSucceed(h.engine.run(h.engine.createJob('adopt', { appDisplayName: 'Opter Gamla' }).id));
    await mustSucceed(h.engine.run(h.engine.createJob('add-sender', { appDisplayName: 'Opter Gamla', senders: [sim.mailboxes.faktura] }).id));
    await mustSucceed(h.engine.run(h.engine.createJob('repair', { appDisplayName: 'Opter Gamla' }).id));
    expect(membersOf('opter-gamla-mailsend-allowed')).toEqual([sim.mailboxes.faktura, sim.mailboxes.info].sort());
  });

  it('a job that crashed after creating the group recognises it as its own on resume; another name does not', async () => {
    // The group is created, then the response is lost (like a crash mid-call): the journal holds only the intent.
    const lossy: ExchangePort & ExchangeLifecyclePort = Object.create(h.adapters.exchange);
    lossy.newDistributionGroup = async (p) => {
      await h.adapters.exchange.newDistributionGroup(p);
      throw new OpterError('E_INTERNAL', { detail: 'connection lost after the group was created' });
    };
    const crashing = engineFor(sim, store, { exchange: lossy });
    const job = crashing.engine.createJob('provision', { appDisplayName: OWNER, senders: [sim.mailboxes.faktura] });
    expect((await crashing.engine.run(job.id)).error?.code).toBe('E_INTERNAL');
    expect(membersOf(ALIAS)).toEqual([sim.mailboxes.faktura]);

    const intruder = await h.engine.run(h.engine.createJob('provision', { appDisplayName: 'Opter Message Proxy.', senders: [sim.mailboxes.info] }).id);
    expect(intruder.error?.code).toBe('E_GROUP_OTHER_REGISTRATION');

    const resumed = await mustSucceed(h.engine.run(job.id));
    expect(resumed.result!.created.group).toBe(true);
    expect(membersOf(ALIAS)).toEqual([sim.mailboxes.faktura]);
  });

  it('verification fails when the app may send as another registration’s sender', async () => {
    await provisionOwner();
    const second = (await mustSucceed(h.engine.run(h.engine.createJob('provision', { appDisplayName: 'Opter Second', senders: [sim.mailboxes.info] }).id))).result!;
    // Someone scoped the second app to the owner's group as well (by hand, in Exchange).
    await h.adapters.exchange.newApplicationAccessPolicy({ appId: second.clientId, policyScopeGroupId: `${ALIAS}@${sim.domain}`, accessRight: 'RestrictAccess', description: 'by hand' });
    const { engine } = engineFor(sim, store, { verifyRetry: { baseDelayMs: 20, maxDelayMs: 50, maxTotalWaitMs: 200 } });
    const out = await engine.run(engine.createJob('repair', { appDisplayName: 'Opter Second' }).id);
    expect(out.error?.code).toBe('E_VERIFY_FAILED');
    expect(out.error?.detail).toContain(`Test-ApplicationAccessPolicy ${sim.mailboxes.faktura} (sender of "${OWNER}"): Granted, expected Denied`);
  });

  it('RBAC registrations prove the other direction with Test-ServicePrincipalAuthorization', async () => {
    await provisionOwner();
    const out = await mustSucceed(h.engine.run(h.engine.createJob('provision', { appDisplayName: 'Opter Rbac Other', senders: [sim.mailboxes.info], scoping: 'rbac' }).id));
    expect(out.result!.checks).toContainEqual(expect.objectContaining({ name: `Test-ServicePrincipalAuthorization ${sim.mailboxes.faktura} (sender of "${OWNER}")`, ok: true }));
  });
});
