/**
 * `scoping: 'rbac'` end to end against the simulator through the real adapters: no Graph Mail.Send is left, the
 * Exchange pointer and the group-scoped role assignment exist, no access policy is made, the checks use
 * Test-ServicePrincipalAuthorization, and sendMail as the app really is limited to the group.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ProgressEvent } from '../../src/core/ports';
import type { Simulator } from '../../src/sim';
import { openStore, type Store } from '../../src/store';
import { startTestSimulator } from '../adapters/helpers';
import { engineFor, hasGraphMailSend, mustSucceed, policiesOf, roleAssignmentsOf, trySend } from './helpers';

let sim: Simulator;
let store: Store;

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
});

const writes = () =>
  sim.requests().filter((r) => r.family === 'graph' && ['POST', 'PATCH', 'DELETE'].includes(r.method)).length +
  sim.requests().filter((r) => r.family === 'exchange' && r.cmdlet && !/^(Get|Test)-/.test(r.cmdlet)).length;

describe('provision with scoping rbac', () => {
  it('never leaves a tenant-wide Graph Mail.Send grant, makes no access policy, and limits sendMail to the group', async () => {
    const { engine, sink, adapters } = engineFor(sim, store);
    const events: ProgressEvent[] = [];
    const out = await mustSucceed(engine.run(engine.createJob('provision', { appDisplayName: 'Opter RBAC', senders: [sim.mailboxes.info, sim.mailboxes.faktura], scoping: 'rbac' }).id, { listener: (e) => events.push(e) }));
    const r = out.result!;
    expect(r.scoping).toBe('rbac');
    expect(r.rbac).toMatchObject({ exchangeServicePrincipalCreated: true, roleAssignmentCreated: true, graphGrantRemoved: false, organizationCustomized: false });
    expect(r.checks.map((c) => [c.name, c.ok])).toEqual([
      [`Test-ServicePrincipalAuthorization ${sim.mailboxes.info}`, true],
      [`Test-ServicePrincipalAuthorization ${sim.mailboxes.faktura}`, true],
      [`Test-ServicePrincipalAuthorization ${sim.mailboxes.outside}`, true],
      ['No tenant-wide Graph Mail.Send grant', true],
      ['Token as the new app', true],
    ]);
    expect(r.checks.find((c) => c.name === 'Token as the new app')?.detail).toContain('no tenant-wide Graph Mail.Send');
    expect(hasGraphMailSend(sim, r.clientId)).toBe(false);
    expect(policiesOf(sim, r.clientId)).toEqual([]);
    const assignments = roleAssignmentsOf(sim, r.clientId);
    expect(assignments).toEqual([expect.objectContaining({ role: 'Application Mail.Send', scope: r.groupSmtp, name: r.rbac!.roleAssignmentName })]);
    expect(sim.snapshot().exchangeServicePrincipals.find((p) => p.appId === r.clientId)).toMatchObject({ objectId: r.spObjectId });
    expect(r.notes.join(' ')).toMatch(/direct members only/);
    expect(r.notes.join(' ')).toMatch(/30 minutes to 2 hours/);
    expect(events.filter((e) => e.type === 'step-succeeded').map((e) => (e as { step: string }).step)).toEqual(
      expect.arrayContaining(['organization', 'exchangeServicePrincipal', 'roleAssignment', 'removeGraphGrant', 'secret', 'verify']),
    );
    expect(events.some((e) => e.type === 'step-started' && (e as { step: string }).step === 'grant')).toBe(false);

    const secret = sink.secretOf(out.job.id);
    expect(await trySend(adapters, r.clientId, secret, sim.mailboxes.info)).toBe('sent');
    expect(await trySend(adapters, r.clientId, secret, sim.mailboxes.faktura)).toBe('sent');
    expect(await trySend(adapters, r.clientId, secret, sim.mailboxes.outside)).toBe(403);
    expect(JSON.stringify(store.journal.getSteps(out.job.id))).not.toContain(secret);
  });

  it('a re-run makes no tenant writes and no second assignment', async () => {
    const { engine } = engineFor(sim, store);
    const input = { appDisplayName: 'Opter RBAC Again', senders: [sim.mailboxes.info], scoping: 'rbac' as const };
    const first = await mustSucceed(engine.run(engine.createJob('provision', input).id));
    sim.clearRequests();
    const second = await mustSucceed(engine.run(engine.createJob('provision', input).id));
    expect(writes()).toBe(0);
    expect(second.result!.rbac).toMatchObject({ exchangeServicePrincipalCreated: false, roleAssignmentCreated: false, graphGrantRemoved: false });
    expect(roleAssignmentsOf(sim, first.result!.clientId)).toHaveLength(1);
  });

  // Exchange reports the identity in RoleAssignee and the pointer's name in RoleAssigneeName; whichever shape it
  // answers in, a re-run and a repair keep our own assignment (replacing it would cut Mail.Send for 30 min–2 h).
  for (const shape of ['pointer-name', 'object-id', 'name-only'] as const) {
    it(`re-run and repair keep our own role assignment (assignee shape ${shape})`, async () => {
      sim.setFaults({ roleAssigneeShape: shape });
      const { engine } = engineFor(sim, store);
      const input = { appDisplayName: `Opter Keep ${shape}`, senders: [sim.mailboxes.info], scoping: 'rbac' as const };
      const first = await mustSucceed(engine.run(engine.createJob('provision', input).id));
      const before = roleAssignmentsOf(sim, first.result!.clientId);
      sim.clearRequests();
      await mustSucceed(engine.run(engine.createJob('provision', input).id));
      await mustSucceed(engine.run(engine.createJob('repair', { appDisplayName: input.appDisplayName }).id));
      const cmdlets = sim.requests().map((r) => r.cmdlet);
      expect(cmdlets).not.toContain('Remove-ManagementRoleAssignment');
      expect(cmdlets).not.toContain('New-ManagementRoleAssignment');
      expect(roleAssignmentsOf(sim, first.result!.clientId)).toEqual(before);
    });
  }

  it('replaces a same-named assignment that names another service principal, and never one whose assignee it cannot tell', async () => {
    const { engine, adapters } = engineFor(sim, store);
    const input = { appDisplayName: 'Opter Taken', senders: [sim.mailboxes.info], scoping: 'rbac' as const };
    const first = await mustSucceed(engine.run(engine.createJob('provision', input).id));
    const name = first.result!.rbac!.roleAssignmentName;
    // Someone re-points our assignment name at another app's pointer (e.g. the app was deleted and re-created).
    const { directory, exchange } = adapters;
    const stranger = await directory.upsertApplicationByUniqueName(`stranger-${Date.now()}`, { displayName: 'Stranger', signInAudience: 'AzureADMyOrg' });
    if (!stranger.created) throw new Error('expected a new app');
    const strangerSp = await directory.upsertServicePrincipal(stranger.value.appId);
    if (!strangerSp.created) throw new Error('expected a new service principal');
    const pointer = await exchange.newExchangeServicePrincipal({ appId: stranger.value.appId, objectId: strangerSp.value.id, displayName: 'Stranger' });
    await exchange.removeManagementRoleAssignment(name);
    await exchange.newManagementRoleAssignment({ name, app: pointer.objectId, role: 'Application Mail.Send', recipientGroupScope: first.result!.groupSmtp });

    // Only names shown, and not ours: nothing is deleted, the job stops and says what to check.
    sim.setFaults({ roleAssigneeShape: 'name-only' });
    sim.clearRequests();
    const unclear = await engine.run(engine.createJob('repair', { appDisplayName: input.appDisplayName }).id);
    expect(unclear.error?.code).toBe('E_ROLE_ASSIGNMENT_UNCLEAR');
    expect(unclear.error?.detail).toContain(name);
    expect(sim.requests().map((r) => r.cmdlet)).not.toContain('Remove-ManagementRoleAssignment');

    // The identity is shown and it is another principal's: replaced by ours.
    sim.setFaults({ roleAssigneeShape: 'pointer-name' });
    const repaired = await mustSucceed(engine.run(engine.createJob('repair', { appDisplayName: input.appDisplayName }).id));
    expect(repaired.result!.notes.join(' ')).toContain(`Replaced the role assignment "${name}"`);
    expect(roleAssignmentsOf(sim, first.result!.clientId)).toEqual([expect.objectContaining({ name, scope: first.result!.groupSmtp })]);
    expect(roleAssignmentsOf(sim, stranger.value.appId)).toEqual([]);
  });

  it('enables organization customization on a dehydrated tenant first, and waits for it', async () => {
    sim.setOrganization({ isDehydrated: true });
    sim.setFaults({ replicationDelayMs: 400 });
    try {
      const { engine } = engineFor(sim, store);
      const events: ProgressEvent[] = [];
      const out = await mustSucceed(engine.run(engine.createJob('provision', { appDisplayName: 'Dehydrated Tenant', senders: [sim.mailboxes.info], scoping: 'rbac' }).id, { listener: (e) => events.push(e) }));
      expect(out.result!.rbac!.organizationCustomized).toBe(true);
      expect(out.result!.notes.join(' ')).toContain('Enable-OrganizationCustomization');
      expect(events.some((e) => e.type === 'step-retrying' && /organization customization/.test((e as { reason: string }).reason))).toBe(true);
      expect(sim.snapshot().organization.isDehydrated).toBe(false);
      expect(sim.requests().filter((r) => r.cmdlet === 'Enable-OrganizationCustomization')).toHaveLength(1);
    } finally {
      sim.setFaults({ replicationDelayMs: 0 });
    }
  });

  it('switching an existing access-policy registration with provision removes its Graph grant after the role assignment, and says why', async () => {
    const { engine } = engineFor(sim, store);
    const ap = await mustSucceed(engine.run(engine.createJob('provision', { appDisplayName: 'Switch Me', senders: [sim.mailboxes.info] }).id));
    expect(hasGraphMailSend(sim, ap.result!.clientId)).toBe(true);
    sim.clearRequests();
    const rbac = await mustSucceed(engine.run(engine.createJob('provision', { appDisplayName: 'Switch Me', senders: [sim.mailboxes.info], scoping: 'rbac' }).id));
    expect(hasGraphMailSend(sim, rbac.result!.clientId)).toBe(false);
    expect(rbac.result!.rbac!.graphGrantRemoved).toBe(true);
    const notes = rbac.result!.notes.join(' ');
    expect(notes).toMatch(/add up \(a union\)/);
    expect(notes).toMatch(/"migrate" switches a live registration without that gap/);
    expect(notes).toMatch(/Application Access Polic/);
    // Order: the role assignment was made before the grant was deleted.
    const log = sim.requests();
    const assigned = log.findIndex((x) => x.cmdlet === 'New-ManagementRoleAssignment');
    const deleted = log.findIndex((x) => x.method === 'DELETE' && x.path.includes('/appRoleAssignments/'));
    expect(assigned).toBeGreaterThanOrEqual(0);
    expect(deleted).toBeGreaterThan(assigned);
  });

  it('rejects an unknown scoping model before any call', () => {
    const { engine } = engineFor(sim, store);
    expect(() => engine.createJob('provision', { appDisplayName: 'X', senders: [sim.mailboxes.info], scoping: 'nope' as never })).toThrow(/Scoping must be one of/);
  });

  it('add-sender on an RBAC registration verifies with Test-ServicePrincipalAuthorization', async () => {
    const { engine } = engineFor(sim, store);
    await mustSucceed(engine.run(engine.createJob('provision', { appDisplayName: 'Rbac Add', senders: [sim.mailboxes.info], scoping: 'rbac' }).id));
    const out = await mustSucceed(engine.run(engine.createJob('add-sender', { appDisplayName: 'Rbac Add', senders: [sim.mailboxes.faktura] }).id));
    expect(out.result!.scoping).toBe('rbac');
    expect(out.result!.checks.map((c) => c.name)).toEqual([
      `Test-ServicePrincipalAuthorization ${sim.mailboxes.faktura}`,
      `Test-ServicePrincipalAuthorization ${sim.mailboxes.outside}`,
      'No tenant-wide Graph Mail.Send grant',
    ]);
    expect(out.result!.checks.every((c) => c.ok)).toBe(true);
  });
});
