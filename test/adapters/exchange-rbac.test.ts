/**
 * RBAC for Applications through the production Exchange adapter against the simulator (docs/microsoft-facts.md §9): organization
 * customization, the service principal pointer, group-scoped role assignments, Test-ServicePrincipalAuthorization,
 * and Graph sendMail as the UNION of the Entra grant (narrowed by access policies) and the RBAC scope.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OpterError } from '../../src/core/errors';
import type { AppSignIn } from '../../src/adapters/app-signin';
import type { ExchangeOnline } from '../../src/adapters/exchange';
import type { GraphDirectory } from '../../src/adapters/graph-directory';
import { GRAPH_APP_ID, type Simulator } from '../../src/sim';
import { adaptersFor, eventually, failure, startTestSimulator, uniqueLabel } from './helpers';

let sim: Simulator;
let exchange: ExchangeOnline;
let directory: GraphDirectory;
let appSignIn: AppSignIn;

beforeAll(async () => {
  sim = await startTestSimulator();
  ({ exchange, directory, appSignIn } = adaptersFor(sim));
});
afterAll(async () => {
  await sim?.close();
});
beforeEach(() => {
  sim.setFaults({ replicationDelayMs: 0, rbacPropagationDelayMs: 0, policyPropagationDelayMs: 0, secretActivationDelayMs: 0 });
  sim.setOrganization({ isDehydrated: false });
});

interface TestApp {
  appId: string;
  objectId: string;
  spId: string;
  secret: string;
}

/** An app + service principal + secret, optionally with the tenant-wide Graph Mail.Send grant. */
async function newApp(opts: { graphMailSend?: boolean } = {}): Promise<TestApp> {
  const r = await directory.upsertApplicationByUniqueName(uniqueLabel('rbac'), { displayName: uniqueLabel('RBAC Test'), signInAudience: 'AzureADMyOrg' });
  if (!r.created) throw new Error('expected a new app');
  const sp = await directory.upsertServicePrincipal(r.value.appId);
  if (!sp.created) throw new Error('expected a new service principal');
  if (opts.graphMailSend) {
    const graph = (await directory.getServicePrincipalByAppId(GRAPH_APP_ID))!;
    const role = graph.appRoles.find((x) => x.value === 'Mail.Send')!;
    await directory.assignAppRole({ principalId: sp.value.id, resourceId: graph.id, appRoleId: role.id });
  }
  const pw = await directory.addPassword(r.value.id, { displayName: 'test', endDateTime: new Date(Date.now() + 86_400_000).toISOString() });
  return { appId: r.value.appId, objectId: r.value.id, spId: sp.value.id, secret: pw.secretText };
}

async function newGroup(members: string[]) {
  const label = uniqueLabel('grp');
  return exchange.newDistributionGroup({ name: `Group ${label}`, alias: `${label}-mailsend-allowed`, members });
}

async function assignScoped(app: TestApp, groupSmtp: string) {
  const pointer = await exchange.newExchangeServicePrincipal({ appId: app.appId, objectId: app.spId, displayName: 'RBAC Test' });
  const assignment = await exchange.newManagementRoleAssignment({ name: uniqueLabel('ra'), app: pointer.objectId, role: 'Application Mail.Send', recipientGroupScope: groupSmtp });
  return { pointer, assignment };
}

const send = (app: TestApp, from: string) => appSignIn.sendMail(app.appId, app.secret, { from, to: 'kund@example.com', subject: 'RBAC', body: 'x' });

describe('organization customization', () => {
  it('a dehydrated tenant refuses role assignments until Enable-OrganizationCustomization has run; enabling twice says "not required"', async () => {
    const app = await newApp();
    const group = await newGroup([sim.mailboxes.info]);
    const pointer = await exchange.newExchangeServicePrincipal({ appId: app.appId, objectId: app.spId, displayName: 'Dehydrated' });
    sim.setOrganization({ isDehydrated: true });
    expect(await exchange.getOrganizationConfig()).toMatchObject({ isDehydrated: true });
    const refused = await failure(exchange.newManagementRoleAssignment({ name: uniqueLabel('ra'), app: pointer.objectId, role: 'Application Mail.Send', recipientGroupScope: group.primarySmtpAddress }));
    expect(refused.code).toBe('E_EXCHANGE_CUSTOMIZATION_PENDING');
    expect(refused.transient).toBe(true);

    sim.setFaults({ replicationDelayMs: 300 });
    expect(await exchange.enableOrganizationCustomization()).toEqual({ enabled: true });
    // Hydration takes a while: IsDehydrated stays True until it completes.
    expect((await exchange.getOrganizationConfig()).isDehydrated).toBe(true);
    await new Promise((r) => setTimeout(r, 350));
    expect((await exchange.getOrganizationConfig()).isDehydrated).toBe(false);
    expect(await exchange.enableOrganizationCustomization()).toEqual({ enabled: false });
    await exchange.newManagementRoleAssignment({ name: uniqueLabel('ra'), app: pointer.objectId, role: 'Application Mail.Send', recipientGroupScope: group.primarySmtpAddress });
  });
});

describe('Exchange service principal pointer', () => {
  it('New-ServicePrincipal needs an existing Entra service principal of that app; a repeat returns the existing pointer', async () => {
    const app = await newApp();
    const missing = await failure(exchange.newExchangeServicePrincipal({ appId: app.appId, objectId: crypto.randomUUID(), displayName: 'x' }));
    expect(missing.code).toBe('E_NOT_FOUND');
    expect(await exchange.getExchangeServicePrincipal(app.spId)).toBeNull();
    const sp = await exchange.newExchangeServicePrincipal({ appId: app.appId, objectId: app.spId, displayName: 'Pointer' });
    expect(sp).toEqual({ identity: app.spId, appId: app.appId, objectId: app.spId, displayName: 'Pointer' });
    expect(await exchange.newExchangeServicePrincipal({ appId: app.appId, objectId: app.spId, displayName: 'Pointer' })).toEqual(sp);
    expect(await exchange.getExchangeServicePrincipal(app.appId)).toEqual(sp);
    expect((await exchange.listExchangeServicePrincipals()).map((p) => p.objectId)).toContain(app.spId);
  });

  it('a pointer created moments ago is "not replicated yet" (transient) for the role assignment that names it', async () => {
    const app = await newApp();
    const group = await newGroup([sim.mailboxes.info]);
    sim.setFaults({ replicationDelayMs: 400 });
    const pointer = await exchange.newExchangeServicePrincipal({ appId: app.appId, objectId: app.spId, displayName: 'Late' });
    const early = await failure(exchange.newManagementRoleAssignment({ name: uniqueLabel('ra'), app: pointer.objectId, role: 'Application Mail.Send', recipientGroupScope: group.primarySmtpAddress }));
    expect(early.code).toBe('E_NOT_FOUND');
    expect(early.transient).toBe(true);
    await eventually(() => exchange.newManagementRoleAssignment({ name: uniqueLabel('ra'), app: pointer.objectId, role: 'Application Mail.Send', recipientGroupScope: group.primarySmtpAddress }));
  });
});

describe('role assignments and Test-ServicePrincipalAuthorization', () => {
  it('a group-scoped Application Mail.Send covers the direct members only, and reads back with its group scope', async () => {
    const app = await newApp();
    const inner = await newGroup([sim.mailboxes.shared]);
    const group = await newGroup([sim.mailboxes.info]);
    await exchange.addDistributionGroupMember(group.identity, inner.primarySmtpAddress);
    const { pointer, assignment } = await assignScoped(app, group.primarySmtpAddress);
    expect(assignment).toMatchObject({
      role: 'Application Mail.Send',
      roleAssigneeType: 'ServicePrincipal',
      // Identity in RoleAssignee, the pointer's DisplayName in RoleAssigneeName, as Exchange reports them.
      roleAssignee: pointer.objectId,
      roleAssigneeName: 'RBAC Test',
      recipientGroupScope: { name: group.name, guid: group.guid },
      customResourceScope: null,
      enabled: true,
    });
    expect(await exchange.getManagementRoleAssignments({ identity: assignment.name })).toEqual([assignment]);
    expect(await exchange.getManagementRoleAssignments({ roleAssignee: pointer.objectId })).toEqual([assignment]);
    expect(await exchange.getManagementRoleAssignments({ identity: 'no-such-assignment' })).toEqual([]);

    const info = await exchange.testServicePrincipalAuthorization(pointer.objectId, sim.mailboxes.info);
    expect(info).toEqual([{ roleName: 'Application Mail.Send', grantedPermissions: 'Mail.Send', allowedResourceScope: group.name, scopeType: 'MemberOfGroup', inScope: true }]);
    expect((await exchange.testServicePrincipalAuthorization(app.appId, sim.mailboxes.outside))[0]!.inScope).toBe(false);
    // Nested group: its member is not in scope [DOC X8].
    expect((await exchange.testServicePrincipalAuthorization(pointer.objectId, sim.mailboxes.shared))[0]!.inScope).toBe(false);

    await exchange.removeManagementRoleAssignment(assignment.name);
    await exchange.removeManagementRoleAssignment(assignment.name); // idempotent
    expect(await exchange.testServicePrincipalAuthorization(pointer.objectId, sim.mailboxes.info)).toEqual([]);
  });

  it('refuses a role that is not an application role, and an unknown group', async () => {
    const app = await newApp();
    const pointer = await exchange.newExchangeServicePrincipal({ appId: app.appId, objectId: app.spId, displayName: 'x' });
    const notApp = await failure(exchange.newManagementRoleAssignment({ name: uniqueLabel('ra'), app: pointer.objectId, role: 'Mail Recipients', recipientGroupScope: sim.mailboxes.distributionList }));
    expect(notApp.code).toBe('E_INTERNAL');
    expect(notApp.detail).toContain('Only application roles');
    const noGroup = await failure(exchange.newManagementRoleAssignment({ name: uniqueLabel('ra'), app: pointer.objectId, role: 'Application Mail.Send', recipientGroupScope: `nope-${uniqueLabel('g')}@${sim.domain}` }));
    expect(noGroup.code).toBe('E_NOT_FOUND');
  });

  it('an assignment name is unique: a second create with the same name returns the existing one (lost response)', async () => {
    const app = await newApp();
    const group = await newGroup([sim.mailboxes.info]);
    const { pointer, assignment } = await assignScoped(app, group.primarySmtpAddress);
    const again = await exchange.newManagementRoleAssignment({ name: assignment.name, app: pointer.objectId, role: 'Application Mail.Send', recipientGroupScope: group.primarySmtpAddress });
    expect(again).toEqual(assignment);
  });
});

describe('sendMail: Entra grant (after access policies) ∪ RBAC scope', () => {
  it('an RBAC-only app sends as group members and is refused elsewhere with "Access is denied"', async () => {
    const app = await newApp();
    const group = await newGroup([sim.mailboxes.info]);
    await assignScoped(app, group.primarySmtpAddress);
    expect((await appSignIn.acquireGraphToken(app.appId, app.secret)).roles).toEqual([]);
    await send(app, sim.mailboxes.info);
    const refused = await failure(send(app, sim.mailboxes.outside));
    expect(refused.code).toBe('E_VERIFY_FAILED');
    expect(refused.status).toBe(403);
    expect(refused.detail).toContain('Access is denied');
  });

  it('a tenant-wide Graph Mail.Send next to an RBAC scope defeats the scope (the two add up)', async () => {
    const app = await newApp({ graphMailSend: true });
    const group = await newGroup([sim.mailboxes.info]);
    await assignScoped(app, group.primarySmtpAddress);
    await send(app, sim.mailboxes.outside);
    expect(sim.snapshot().sentMail.some((m) => m.appId === app.appId && m.from === sim.mailboxes.outside)).toBe(true);
  });

  it('an access policy narrows only the Entra path: RBAC still allows its own scope', async () => {
    const app = await newApp({ graphMailSend: true });
    const policyGroup = await newGroup([sim.mailboxes.info]);
    const rbacGroup = await newGroup([sim.mailboxes.faktura]);
    await exchange.newApplicationAccessPolicy({ appId: app.appId, policyScopeGroupId: policyGroup.primarySmtpAddress, accessRight: 'RestrictAccess', description: ' ' });
    await assignScoped(app, rbacGroup.primarySmtpAddress);
    await send(app, sim.mailboxes.info); // Entra path, allowed by the policy
    await send(app, sim.mailboxes.faktura); // RBAC path; the policy would deny it
    const refused = await failure(send(app, sim.mailboxes.outside));
    // Granted in Entra but blocked by the policy: the access-policy wording.
    expect(refused.detail).toContain('Access to OData is disabled');
  });

  it('with rbacPropagationDelayMs the assignment is InScope at once but Graph honours it only later', async () => {
    const app = await newApp();
    const group = await newGroup([sim.mailboxes.info]);
    sim.setFaults({ rbacPropagationDelayMs: 500 });
    const { pointer } = await assignScoped(app, group.primarySmtpAddress);
    expect((await exchange.testServicePrincipalAuthorization(pointer.objectId, sim.mailboxes.info))[0]!.inScope).toBe(true);
    const early = await failure(send(app, sim.mailboxes.info));
    expect(early.status).toBe(403);
    expect(sim.snapshot().roleAssignments.find((a) => a.spObjectId === pointer.objectId)?.enforced).toBe(false);
    await new Promise((r) => setTimeout(r, 550));
    await send(app, sim.mailboxes.info);
  });

  it('lists mail-enabled security groups only', async () => {
    const group = await newGroup([sim.mailboxes.info]);
    const groups = await exchange.listMailSecurityGroups();
    expect(groups.map((g) => g.alias)).toContain(group.alias);
    expect(groups.every((g) => g.recipientTypeDetails === 'MailUniversalSecurityGroup')).toBe(true);
    expect(groups.map((g) => g.primarySmtpAddress)).not.toContain(sim.mailboxes.distributionList);
  });

  it('an Exchange Recipient Administrator may not create role assignments (Role Management is Organization Management)', async () => {
    const app = await newApp();
    const pointer = await exchange.newExchangeServicePrincipal({ appId: app.appId, objectId: app.spId, displayName: 'x' });
    sim.setFaults({ revokedPermissions: ['Exchange Administrator'] });
    try {
      const e = await failure(exchange.newManagementRoleAssignment({ name: uniqueLabel('ra'), app: pointer.objectId, role: 'Application Mail.Send', recipientGroupScope: sim.mailboxes.distributionList }));
      expect(e).toBeInstanceOf(OpterError);
      expect(e.code).toBe('E_EXCHANGE_PERMISSION');
    } finally {
      sim.setFaults({ revokedPermissions: [] });
    }
  });
});

describe('simulator admin surface', () => {
  it('POST /_sim/organization dehydrates the tenant (loopback admin route) and the snapshot shows it', async () => {
    const res = await fetch(`${sim.graphEndpoint}/_sim/organization`, { method: 'POST', body: JSON.stringify({ isDehydrated: true }) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ isDehydrated: true });
    expect((await exchange.getOrganizationConfig()).isDehydrated).toBe(true);
    const bad = await fetch(`${sim.graphEndpoint}/_sim/organization`, { method: 'POST', body: JSON.stringify({ isDehydrated: 'yes' }) });
    expect(bad.status).toBe(400);
  });
});
