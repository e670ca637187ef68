import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { failureInfoOf } from '../../src/adapters/classify';
import { createCredential } from '../../src/adapters/credential';
import { ExchangeOnline } from '../../src/adapters/exchange';
import type { GraphDirectory } from '../../src/adapters/graph-directory';
import type { Simulator } from '../../src/sim';
import { adaptersFor, connectionFor, eventually, failure, startTestSimulator, uniqueLabel } from './helpers';

let sim: Simulator;
let exchange: ExchangeOnline;
let directory: GraphDirectory;

beforeAll(async () => {
  sim = await startTestSimulator();
  ({ exchange, directory } = adaptersFor(sim));
});

afterAll(async () => {
  await sim?.close();
});

beforeEach(() => {
  sim.setFaults({ replicationDelayMs: 0, throttle: null, unavailable: null, dropConnections: null, revokedPermissions: [], exchangeNextLinkHost: null });
  sim.clearRequests();
});

const exchangeLog = () => sim.requests().filter((r) => r.family === 'exchange');

function freshExchange(options: ConstructorParameters<typeof ExchangeOnline>[2] = {}): ExchangeOnline {
  const conn = connectionFor(sim);
  return new ExchangeOnline(conn, createCredential(conn), options);
}

async function newGroup(members: string[] = [sim.mailboxes.info]) {
  const label = uniqueLabel('grp');
  return exchange.newDistributionGroup({ name: `Test ${label} - MailSend Allowed`, alias: `${label}-mailsend-allowed`, members });
}

async function newAppId(): Promise<string> {
  const r = await directory.upsertApplicationByUniqueName(uniqueLabel('aap'), { displayName: 'AAP Test', signInAudience: 'AzureADMyOrg' });
  if (!r.created) throw new Error('expected a new app');
  return r.value.appId;
}

describe('ExchangeOnline — tenant look-ups', () => {
  it('lists the accepted domains with the default one flagged', async () => {
    const domains = await exchange.getAcceptedDomains();
    expect(domains.find((d) => d.isDefault)?.domainName).toBe(sim.domain);
    expect(domains.map((d) => d.domainName)).toContain(sim.onMicrosoftDomain);
  });

  it('reads recipients in camelCase and returns null for an unknown address', async () => {
    expect(await exchange.getRecipient(sim.mailboxes.info)).toMatchObject({ primarySmtpAddress: sim.mailboxes.info, recipientTypeDetails: 'UserMailbox' });
    const shared = await exchange.getRecipient(sim.mailboxes.shared);
    expect(shared).toMatchObject({ primarySmtpAddress: sim.mailboxes.shared, recipientTypeDetails: 'SharedMailbox' });
    expect(shared?.externalDirectoryObjectId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await exchange.getRecipient(`nobody-${uniqueLabel('x')}@${sim.domain}`)).toBeNull();
  });

  it('returns rows with every @odata annotation stripped from invokeCommand', async () => {
    const rows = await exchange.invokeCommand('Get-Recipient', { Identity: sim.mailboxes.info });
    expect(rows).toHaveLength(1);
    expect(Object.keys(rows[0]!).filter((k) => k.includes('@odata.'))).toEqual([]);
    expect(rows[0]!.EmailAddresses).toEqual(expect.any(Array));
  });
});

describe('ExchangeOnline — mail-enabled security group', () => {
  it('creates a -Type Security group with members, finds it by alias and lists its members', async () => {
    expect(await exchange.getDistributionGroup(`${uniqueLabel('none')}-mailsend-allowed`)).toBeNull();
    const group = await newGroup([sim.mailboxes.info]);
    expect(group).toMatchObject({ recipientTypeDetails: 'MailUniversalSecurityGroup', primarySmtpAddress: `${group.alias}@${sim.domain}` });
    expect(group.guid).toMatch(/^[0-9a-f-]{36}$/);

    const again = await exchange.getDistributionGroup(group.alias);
    expect(again).toEqual(group);
    expect((await exchange.getDistributionGroupMembers(group.identity)).map((m) => m.primarySmtpAddress)).toEqual([sim.mailboxes.info]);
    expect(sim.snapshot().groups.find((g) => g.guid === group.guid)?.members).toEqual([sim.mailboxes.info]);
  });

  it('adds a member with BypassSecurityGroupManagerCheck, and MemberAlreadyExistsException → { created: false }', async () => {
    const group = await newGroup([sim.mailboxes.info]);
    expect(await exchange.addDistributionGroupMember(group.identity, sim.mailboxes.faktura)).toEqual({ created: true });
    expect(await exchange.addDistributionGroupMember(group.identity, sim.mailboxes.faktura)).toEqual({ created: false });
    expect(exchangeLog().filter((r) => r.cmdlet === 'Add-DistributionGroupMember').map((r) => r.status)).toEqual([200, 400]);

    expect(await exchange.removeDistributionGroupMember(group.identity, sim.mailboxes.faktura)).toEqual({ removed: true });
    expect(await exchange.removeDistributionGroupMember(group.identity, sim.mailboxes.faktura)).toEqual({ removed: false });
  });

  it('follows @odata.nextLink, re-POSTing the same body, until every member is read', async () => {
    const group = await newGroup([sim.mailboxes.info, sim.mailboxes.faktura, sim.mailboxes.shared]);
    const paged = freshExchange({ pageSize: 1 });
    sim.clearRequests();
    const members = await paged.getDistributionGroupMembers(group.identity);
    expect(members.map((m) => m.primarySmtpAddress).sort()).toEqual([sim.mailboxes.info, sim.mailboxes.faktura, sim.mailboxes.shared].sort());
    // Three pages; the simulator binds each skip token to the body hash, so a changed body would have failed.
    expect(exchangeLog().filter((r) => r.cmdlet === 'Get-DistributionGroupMember').map((r) => r.status)).toEqual([200, 200, 200]);
  });

  it('follows a nextLink to another Exchange host of the same cloud, and refuses any other host before sending', async () => {
    const group = await newGroup([sim.mailboxes.info, sim.mailboxes.faktura, sim.mailboxes.shared]);
    const paged = freshExchange({ pageSize: 1 });
    // Pages 2 and 3 announced on localhost, as Exchange pages from outlook.office365.com to outlook.office.com.
    sim.setFaults({ exchangeNextLinkHost: 'localhost' });
    sim.clearRequests();
    const members = await paged.getDistributionGroupMembers(group.identity);
    expect(members).toHaveLength(3);
    expect(exchangeLog().filter((r) => r.cmdlet === 'Get-DistributionGroupMember')).toHaveLength(3);

    // A host of no cloud we talk to: refused, and the token never leaves (nothing after the first page).
    sim.setFaults({ exchangeNextLinkHost: '127.0.0.2' });
    sim.clearRequests();
    const err = await failure(paged.getDistributionGroupMembers(group.identity));
    expect(err.code).toBe('E_INTERNAL');
    expect(err.detail).toContain('refusing to follow a nextLink to https://127.0.0.2:');
    expect(exchangeLog()).toHaveLength(1);
  });

  it('a taken group name → E_GROUP_CONFLICT (the JSON-string detail format)', async () => {
    const group = await newGroup();
    const err = await failure(exchange.newDistributionGroup({ name: group.name, alias: `${uniqueLabel('other')}-alias`, members: [] }));
    expect(err).toMatchObject({ code: 'E_GROUP_CONFLICT', transient: false, status: 400 });
    expect(failureInfoOf(err)?.exceptionTypes).toContain('Microsoft.Exchange.Data.Directory.ADObjectAlreadyExistsException');
  });

  it('a taken alias (proxy address) → E_GROUP_CONFLICT', async () => {
    const group = await newGroup();
    const err = await failure(exchange.newDistributionGroup({ name: `${uniqueLabel('another')} name`, alias: group.alias, members: [] }));
    expect(err.code).toBe('E_GROUP_CONFLICT');
    expect(err.detail).toContain(group.primarySmtpAddress);
  });

  it('a missing group is permanent E_NOT_FOUND (the Ex…|Type|text format) for an adapter that did not create it', async () => {
    const err = await failure(exchange.getDistributionGroupMembers(`${uniqueLabel('ghost')}-mailsend-allowed`));
    expect(err).toMatchObject({ code: 'E_NOT_FOUND', transient: false, status: 404 });
    expect(failureInfoOf(err)).toMatchObject({ exCodes: ['Ex6F9304'], exceptionTypes: expect.arrayContaining(['Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException']) });
  });

  it('while a group it just created replicates, not-found answers are transient with a human reason', async () => {
    sim.setFaults({ replicationDelayMs: 1500 });
    const group = await newGroup([sim.mailboxes.info]);
    const err = await failure(exchange.addDistributionGroupMember(group.identity, sim.mailboxes.faktura));
    expect(err).toMatchObject({ code: 'E_NOT_FOUND', transient: true, retryReason: 'waiting for Exchange to replicate the new group' });

    // Another process (e.g. a resumed job) does not know the group is new: the caller says so.
    const other = freshExchange();
    expect(await failure(other.getDistributionGroupMembers(group.identity))).toMatchObject({ code: 'E_NOT_FOUND', transient: false });
    other.markNew(group.primarySmtpAddress);
    expect(await failure(other.getDistributionGroupMembers(group.primarySmtpAddress))).toMatchObject({ code: 'E_NOT_FOUND', transient: true });
    expect(await failure(other.invokeCommand('Get-DistributionGroupMember', { Identity: group.identity }, { objectIsNew: true }))).toMatchObject({ transient: true });

    expect(await eventually(() => exchange.addDistributionGroupMember(group.identity, sim.mailboxes.faktura))).toEqual({ created: true });
  });
});

describe('ExchangeOnline — Application Access Policy', () => {
  it('creates a RestrictAccess policy (AppId as an array), tests Granted/Denied, and removes it idempotently', async () => {
    const appId = await newAppId();
    const group = await newGroup([sim.mailboxes.info]);
    const policy = await exchange.newApplicationAccessPolicy({ appId, policyScopeGroupId: group.primarySmtpAddress, accessRight: 'RestrictAccess', description: 'Restrict to the group' });
    expect(policy).toMatchObject({ appId, accessRight: 'RestrictAccess', scopeName: group.name, description: 'Restrict to the group' });
    expect((await exchange.getApplicationAccessPolicies()).filter((p) => p.appId === appId)).toEqual([policy]);

    expect(await exchange.testApplicationAccessPolicy(appId, sim.mailboxes.info)).toBe('Granted');
    expect(await exchange.testApplicationAccessPolicy(appId, sim.mailboxes.outside)).toBe('Denied');

    // A retried create after a lost response meets "already exists" and returns the existing policy.
    expect(await exchange.newApplicationAccessPolicy({ appId, policyScopeGroupId: group.primarySmtpAddress, accessRight: 'RestrictAccess', description: 'Restrict to the group' })).toEqual(policy);

    await exchange.removeApplicationAccessPolicy(policy.identity);
    expect((await exchange.getApplicationAccessPolicies()).filter((p) => p.appId === appId)).toEqual([]);
    await exchange.removeApplicationAccessPolicy(policy.identity);
    expect(await exchange.testApplicationAccessPolicy(appId, sim.mailboxes.outside)).toBe('Granted');
  });
});

describe('ExchangeOnline — permissions, throttling and outages', () => {
  it('without Exchange.ManageAsApp → E_EXCHANGE_PERMISSION', async () => {
    sim.setFaults({ revokedPermissions: ['Exchange.ManageAsApp'] });
    const err = await failure(exchange.getAcceptedDomains());
    expect(err).toMatchObject({ code: 'E_EXCHANGE_PERMISSION', transient: false, status: 403 });
    expect(err.detail).toContain('Get-AcceptedDomain');
  });

  it('without the Exchange Administrator role → E_EXCHANGE_PERMISSION quoting Exchange', async () => {
    sim.setFaults({ revokedPermissions: ['Exchange Administrator'] });
    const err = await failure(exchange.getApplicationAccessPolicies());
    expect(err).toMatchObject({
      code: 'E_EXCHANGE_PERMISSION',
      status: 403,
      detail: 'Exchange refused Get-ApplicationAccessPolicy (HTTP 403): User is not allowed to call Get-ApplicationAccessPolicy.',
    });
  });

  it('an unknown (or role-hidden) cmdlet: 403 with an unreadable body → E_EXCHANGE_PERMISSION naming the cmdlet', async () => {
    expect(await failure(exchange.invokeCommand('Get-NoSuchThing'))).toMatchObject({
      code: 'E_EXCHANGE_PERMISSION',
      status: 403,
      detail: 'Exchange refused Get-NoSuchThing (HTTP 403).',
    });
  });

  it('429 → transient E_THROTTLED with the fractional Retry-After in ms', async () => {
    await exchange.getAcceptedDomains(); // token first, so the throttle meets InvokeCommand
    sim.setFaults({ throttle: { retryAfterSeconds: 2.5, families: ['exchange'] } });
    const err = await failure(exchange.getRecipient(sim.mailboxes.info));
    expect(err).toMatchObject({ code: 'E_THROTTLED', transient: true, retryAfterMs: 2500, status: 429 });
  });

  it('503 and dropped connections → transient E_SERVICE_UNAVAILABLE', async () => {
    await exchange.getAcceptedDomains();
    sim.setFaults({ unavailable: { families: ['exchange'] } });
    expect(await failure(exchange.getAcceptedDomains())).toMatchObject({ code: 'E_SERVICE_UNAVAILABLE', transient: true, status: 503 });
    sim.setFaults({ unavailable: null, dropConnections: { share: 1, families: ['exchange'] } });
    const dropped = await failure(exchange.getAcceptedDomains());
    expect(dropped).toMatchObject({ code: 'E_SERVICE_UNAVAILABLE', transient: true });
    expect(dropped.detail).toMatch(/Exchange Online/);
  });

  it('a wrong tenant id is refused (401) → E_EXCHANGE_PERMISSION pointing at the tenant and ManageAsApp', async () => {
    const conn = connectionFor(sim);
    const wrongTenant = new ExchangeOnline({ ...conn, tenantId: '00000000-0000-4000-8000-000000000000' }, createCredential(conn));
    const err = await failure(wrongTenant.getAcceptedDomains());
    expect(err).toMatchObject({ code: 'E_EXCHANGE_PERMISSION', status: 401 });
    expect(err.detail).toMatch(/AZURE_TENANT_ID/);
  });
});
