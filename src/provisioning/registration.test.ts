import { describe, expect, it } from 'vitest';
import { assignmentHolder } from './registration';

describe('assignmentHolder: whose is a management role assignment', () => {
  const sp = { objectId: 'AAAAAAAA-1111-4111-8111-111111111111', appId: 'bbbbbbbb-2222-4222-8222-222222222222', displayName: 'Opter Mail' };
  const other = 'cccccccc-3333-4333-8333-333333333333';

  it('is ours when RoleAssignee carries our object id and RoleAssigneeName the pointer name (what Exchange reports)', () => {
    expect(assignmentHolder({ roleAssignee: sp.objectId.toLowerCase(), roleAssigneeName: 'Opter Mail' }, sp)).toBe('ours');
  });

  it('is ours when either field carries our object id or app id, whatever the case', () => {
    expect(assignmentHolder({ roleAssignee: '', roleAssigneeName: sp.objectId }, sp)).toBe('ours');
    expect(assignmentHolder({ roleAssignee: sp.appId.toUpperCase(), roleAssigneeName: 'x' }, sp)).toBe('ours');
  });

  it('is someone else’s when an identity is shown and it is not ours, even under our pointer name', () => {
    expect(assignmentHolder({ roleAssignee: other, roleAssigneeName: 'Opter Mail' }, sp)).toBe('other');
  });

  it('falls back to the pointer name only when no identity is shown', () => {
    expect(assignmentHolder({ roleAssignee: 'Opter Mail', roleAssigneeName: 'Opter Mail' }, sp)).toBe('ours');
    expect(assignmentHolder({ roleAssignee: 'Someone Else', roleAssigneeName: 'Someone Else' }, sp)).toBe('unknown');
    expect(assignmentHolder({ roleAssignee: '', roleAssigneeName: '' }, sp)).toBe('unknown');
    expect(assignmentHolder({ roleAssignee: 'Opter Mail', roleAssigneeName: 'Opter Mail' }, { ...sp, displayName: null })).toBe('unknown');
  });
});
