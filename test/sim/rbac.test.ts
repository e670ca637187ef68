/**
 * RBAC for Applications at the wire: what Get-ManagementRoleAssignment reports for an app's assignment. Real
 * Exchange names the assignee's identity (the Entra service principal object id) in `RoleAssignee` and the
 * pointer's DisplayName in `RoleAssigneeName`; `roleAssigneeShape` switches to the other shapes public scripts
 * assume (docs/simulator.md).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import type { Simulator } from '../../src/sim';
import { exchangeToken, graphClient, invoke, startTestSimulator } from './helpers';

let sim: Simulator;
let token: string;
beforeAll(async () => {
  sim = await startTestSimulator();
  token = await exchangeToken(sim);
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => sim.reset());

/** An Entra app + service principal, its Exchange pointer named "Opter Pointer", and a group-scoped Mail.Send. */
async function assigned(): Promise<{ spId: string; appId: string; name: string }> {
  const g = graphClient(sim);
  const app = await g.api('/applications').post({ displayName: 'RBAC shape' });
  const sp = await g.api('/servicePrincipals').post({ appId: app.appId });
  const group = await invoke(sim, token, 'New-DistributionGroup', { Name: 'Shape Senders', Alias: 'shape-senders', Type: 'Security', Members: [sim.mailboxes.info] });
  expect(group.status).toBe(200);
  expect((await invoke(sim, token, 'New-ServicePrincipal', { AppId: app.appId, ObjectId: sp.id, DisplayName: 'Opter Pointer' })).status).toBe(200);
  const ra = await invoke(sim, token, 'New-ManagementRoleAssignment', { Name: 'shape-mail-send', App: sp.id, Role: 'Application Mail.Send', RecipientGroupScope: 'shape-senders' });
  expect(ra.status).toBe(200);
  return { spId: sp.id, appId: app.appId, name: 'shape-mail-send' };
}

describe('Get-ManagementRoleAssignment for an app', () => {
  test('by default RoleAssignee is the service principal object id and RoleAssigneeName the pointer name', async () => {
    const { spId, name } = await assigned();
    const r = await invoke(sim, token, 'Get-ManagementRoleAssignment', { Identity: name });
    expect(r.json.value[0]).toMatchObject({ Name: name, Role: 'Application Mail.Send', RoleAssigneeType: 'ServicePrincipal', RoleAssignee: spId, RoleAssigneeName: 'Opter Pointer' });
    // -RoleAssignee takes the pointer's object id, as Microsoft's Migrate-AppAccessPolicies.ps1 passes it.
    const byAssignee = await invoke(sim, token, 'Get-ManagementRoleAssignment', { RoleAssignee: spId });
    expect(byAssignee.json.value.map((x: { Name: string }) => x.Name)).toEqual([name]);
  });

  test('roleAssigneeShape switches to the other shapes public scripts assume', async () => {
    const { spId, name } = await assigned();
    const row = async () => (await invoke(sim, token, 'Get-ManagementRoleAssignment', { Identity: name })).json.value[0];
    sim.setFaults({ roleAssigneeShape: 'object-id' });
    expect(await row()).toMatchObject({ RoleAssignee: spId, RoleAssigneeName: spId });
    sim.setFaults({ roleAssigneeShape: 'name-only' });
    expect(await row()).toMatchObject({ RoleAssignee: 'Opter Pointer', RoleAssigneeName: 'Opter Pointer' });
    expect(() => sim.setFaults({ roleAssigneeShape: 'guess' as never })).toThrow(/roleAssigneeShape must be one of/);
  });
});
