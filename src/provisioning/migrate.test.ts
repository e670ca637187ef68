import { describe, expect, it } from 'vitest';
import { planMigration, type MigrationState } from './migrate';
import { deriveNames } from './names';

const base: MigrationState = {
  appDisplayName: 'OpterMessageProxy',
  appId: '11111111-2222-3333-4444-555555555555',
  names: deriveNames('OpterMessageProxy'),
  hasServicePrincipal: true,
  groupSmtp: 'optermessageproxy-mailsend-allowed@contoso.com',
  senders: ['info@contoso.com', 'faktura@contoso.com'],
  nestedGroups: [],
  graphMailSend: true,
  groupPolicies: ['tenant\\app:S-1;guid'],
  otherPolicies: [],
  exchangeServicePrincipal: false,
  scopedRoleAssignment: null,
  broaderRoleAssignments: [],
  isDehydrated: false,
};

describe('planMigration', () => {
  it('adds the RBAC path and verifies it before anything is removed; the grant goes before the policy', () => {
    const plan = planMigration(base);
    const ids = plan.steps.map((s) => s.id);
    expect(ids).toEqual(['organization', 'exchangeServicePrincipal', 'roleAssignment', 'verifyRbac', 'settle', 'removeGraphGrant', 'removePolicy', 'verify']);
    const firstRemove = plan.steps.findIndex((s) => s.action === 'remove');
    expect(plan.steps.slice(0, firstRemove).map((s) => s.action)).toEqual(['add', 'add', 'add', 'check', 'wait']);
    expect(ids.indexOf('removeGraphGrant')).toBeLessThan(ids.indexOf('removePolicy'));
    expect(plan.adds).toEqual(['Exchange service principal pointer', 'Application Mail.Send scoped to the sender group']);
    expect(plan.removes).toEqual(['Remove the Graph Mail.Send grant', 'Remove the Application Access Policy']);
    expect(plan.whyThisOrder.join(' ')).toMatch(/at least one path/);
    expect(plan.whyThisOrder.join(' ')).toMatch(/send as ANY mailbox/);
    expect(plan.steps.find((s) => s.id === 'roleAssignment')!.detail).toContain('-RecipientGroupScope optermessageproxy-mailsend-allowed@contoso.com (direct members only)');
    expect(plan.warnings.join(' ')).toMatch(/direct members only/);
    expect(plan.settleMinutes).toBe(120);
    expect(plan.nothingToDo).toBe(false);
    expect(plan.blockers).toEqual([]);
  });

  it('plans organization customization for a dehydrated tenant, and marks steps already in place', () => {
    const plan = planMigration({ ...base, isDehydrated: true, exchangeServicePrincipal: true });
    expect(plan.steps.find((s) => s.id === 'organization')).toMatchObject({ alreadyDone: false });
    expect(plan.steps.find((s) => s.id === 'organization')!.detail).toContain('Enable-OrganizationCustomization');
    expect(plan.steps.find((s) => s.id === 'exchangeServicePrincipal')).toMatchObject({ alreadyDone: true });
    expect(plan.adds).toEqual(['Exchange organization customization', 'Application Mail.Send scoped to the sender group']);
  });

  it('nothing to do for an RBAC-only registration; blockers without a group or service principal', () => {
    expect(planMigration({ ...base, graphMailSend: false, groupPolicies: [], exchangeServicePrincipal: true, scopedRoleAssignment: 'x' }).nothingToDo).toBe(true);
    const blocked = planMigration({ ...base, groupSmtp: null, hasServicePrincipal: false });
    expect(blocked.blockers).toHaveLength(2);
  });

  it('warns about nested groups, other policies (DenyAccess) and broader role assignments, and honours settleMinutes 0', () => {
    const plan = planMigration(
      { ...base, nestedGroups: ['team@contoso.com'], otherPolicies: [{ identity: 'p2', accessRight: 'DenyAccess', scope: 'vip' }], broaderRoleAssignments: ['Application Mail.Send (org-wide)'] },
      { settleMinutes: 0 },
    );
    const w = plan.warnings.join(' ');
    expect(w).toContain('team@contoso.com');
    expect(w).toContain('RBAC has no deny equivalent');
    expect(w).toContain('org-wide');
    expect(plan.steps.find((s) => s.id === 'settle')).toMatchObject({ alreadyDone: true });
    expect(plan.whyThisOrder[1]).toContain('no wait was requested');
  });
});
