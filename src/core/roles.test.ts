import { describe, expect, it } from 'vitest';
import { ENTRA_ROLES, PIM_HINT, ROLE_NEEDS, describeRoleNeeds, missingRoleNeeds, roleRefusal, type RoleNeed } from './roles';

const ALL: RoleNeed[] = ['applications', 'graph-grant', 'exchange'];
const id = ENTRA_ROLES;

describe('Entra role template ids', () => {
  it('are the built-in roles’ template ids', () => {
    expect(ENTRA_ROLES).toEqual({
      'Global Administrator': '62e90394-69f5-4237-9190-012177145e10',
      'Privileged Role Administrator': 'e8611ab8-c189-46e8-94e1-60213ab1f814',
      'Application Administrator': '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3',
      'Cloud Application Administrator': '158c047a-c907-4556-b7ef-446551a6b5f7',
      'Exchange Administrator': '29232cdf-9323-42fd-ade2-1d097af3e4de',
      'Global Reader': 'f2ef992c-3afb-46b9-b7cf-a126ee74c451',
    });
  });

  it('each need lists its roles by name and by id, the same ones', () => {
    for (const need of ALL) {
      const s = ROLE_NEEDS[need];
      expect(s.anyOf).toEqual(s.roles.map((r) => ENTRA_ROLES[r]));
      expect(s.roles[s.roles.length - 1]).toBe('Global Administrator');
      expect(s.for).not.toBe('');
    }
    expect(ROLE_NEEDS['graph-grant'].roles).toEqual(['Privileged Role Administrator', 'Global Administrator']);
    expect(ROLE_NEEDS.applications.roles).toEqual(['Application Administrator', 'Cloud Application Administrator', 'Global Administrator']);
    expect(ROLE_NEEDS.exchange.roles).toEqual(['Exchange Administrator', 'Global Administrator']);
  });

  it('Global Reader satisfies nothing (it is the read-only identity’s role)', () => {
    expect(missingRoleNeeds([id['Global Reader']], ALL)).toEqual(ALL);
  });
});

describe('missingRoleNeeds', () => {
  it('Global Administrator satisfies every need', () => {
    expect(missingRoleNeeds([id['Global Administrator']], ALL)).toEqual([]);
  });

  it('no roles: every need is missing, in a fixed order and once', () => {
    expect(missingRoleNeeds([], ['exchange', 'applications', 'exchange'])).toEqual(['applications', 'exchange']);
  });

  it('no needs: nothing is missing', () => {
    expect(missingRoleNeeds([], [])).toEqual([]);
  });

  it('Application Administrator cannot grant Microsoft Graph app roles', () => {
    expect(missingRoleNeeds([id['Application Administrator'], id['Exchange Administrator']], ALL)).toEqual(['graph-grant']);
    expect(missingRoleNeeds([id['Cloud Application Administrator']], ['applications'])).toEqual([]);
  });

  it('Privileged Role Administrator + Application Administrator + Exchange Administrator cover a setup', () => {
    expect(missingRoleNeeds([id['Privileged Role Administrator'], id['Application Administrator'], id['Exchange Administrator']], ALL)).toEqual([]);
  });

  it('compares ids without case', () => {
    expect(missingRoleNeeds([id['Exchange Administrator'].toUpperCase()], ['exchange'])).toEqual([]);
    expect(missingRoleNeeds(['62E90394-69F5-4237-9190-012177145E10'], ALL)).toEqual([]);
  });

  it('an unknown role id satisfies nothing', () => {
    expect(missingRoleNeeds(['00000000-0000-0000-0000-000000000000'], ['exchange'])).toEqual(['exchange']);
  });
});

describe('describeRoleNeeds', () => {
  it('one line per need, roles then what for', () => {
    expect(describeRoleNeeds(['graph-grant'])).toEqual(['Privileged Role Administrator or Global Administrator — to grant Microsoft Graph Mail.Send']);
    expect(describeRoleNeeds(['exchange', 'applications'])).toEqual([
      'Application Administrator, Cloud Application Administrator or Global Administrator — to create the app, its service principal and secrets',
      'Exchange Administrator or Global Administrator — to manage the sender group, the Application Access Policy and RBAC for Applications',
    ]);
    expect(describeRoleNeeds([])).toEqual([]);
  });
});

describe('roleRefusal', () => {
  it('names the missing role and gives the PIM hint', () => {
    const text = roleRefusal(['exchange']);
    expect(text).toContain('Exchange Administrator or Global Administrator');
    expect(text).toContain('Nothing was changed');
    expect(text.endsWith(PIM_HINT)).toBe(true);
    expect(PIM_HINT).toBe('If the role is eligible in Privileged Identity Management, activate it, then press the button again (a new sign-in picks up the activated role).');
  });

  it('names every missing role', () => {
    const text = roleRefusal(['applications', 'graph-grant']);
    expect(text).toContain('these Entra roles');
    expect(text).toContain('Application Administrator, Cloud Application Administrator or Global Administrator');
    expect(text).toContain('Privileged Role Administrator or Global Administrator — to grant Microsoft Graph Mail.Send');
  });

  it('nothing missing: no refusal', () => {
    expect(roleRefusal([])).toBe('');
  });
});
