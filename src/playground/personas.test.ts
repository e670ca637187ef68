import { describe, expect, test } from 'vitest';
import { DIRECTORY_ROLES } from '../sim/catalog';
import { EMBEDDED_TENANT, seedTenant } from '../sim/tenant';
import { configuredPersonas, simulatorPersonas } from './personas';

const seeded = () => seedTenant({ ...EMBEDDED_TENANT, provisioningSecret: 'x', readOnlySecret: 'x', botSecret: 'x' });

describe('persona roles (delegated mode decides with them; app mode ignores them)', () => {
  test('the approver holds what a setup needs, the requester only reads, the non-admin holds nothing', () => {
    const state = seeded();
    const [requester, approver, nonAdmin] = simulatorPersonas(state.users, state.tenantId, state.defaultDomain);
    expect(approver!.directoryRoles).toEqual(['Privileged Role Administrator', 'Exchange Administrator', 'Cloud Application Administrator']);
    expect(requester!.directoryRoles).toEqual(['Global Reader']);
    expect(nonAdmin!.directoryRoles).toEqual([]);
    // The users of the tenant carry them as template ids (what becomes `wids` in their tokens).
    const vd = state.users.find((u) => u.id === approver!.aadObjectId)!;
    expect(vd.directoryRoles).toContain(DIRECTORY_ROLES['Exchange Administrator']);
    for (const needed of ['Privileged Role Administrator', 'Exchange Administrator', 'Cloud Application Administrator', 'Application Administrator', 'Global Administrator']) {
      expect(requester!.directoryRoles).not.toContain(needed);
    }
  });

  test('the tenant’s own record wins over the seed (roles changed since)', () => {
    const state = seeded();
    const vd = state.users.find((u) => u.userPrincipalName.startsWith('vd@'))!;
    vd.directoryRoles = [DIRECTORY_ROLES['Global Administrator']];
    const approver = simulatorPersonas(state.users, state.tenantId, state.defaultDomain)[1]!;
    expect(approver.directoryRoles).toEqual(['Global Administrator']);
  });

  test('personas of a real tenant claim no roles', () => {
    const ps = configuredPersonas(['00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002'], [], EMBEDDED_TENANT.tenantId);
    expect(ps.map((p) => p.directoryRoles)).toEqual([[], [], []]);
  });
});
