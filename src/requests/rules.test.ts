import { describe, expect, it } from 'vitest';
import { checkIsRequester, checkMayDecide, checkMayRequest, roleConfig, type Actor } from './rules';

const T = '11111111-1111-1111-1111-111111111111';
const roles = roleConfig(['ADMIN-A', 'admin-b'], undefined, [T]);
const actor = (id: string, tenantId = T): Actor => ({ aadObjectId: id, name: id, mri: `29:${id}`, tenantId });
const now = new Date('2026-11-27T10:00:00Z');
const request = { id: 'r1', status: 'pending', requester: { aadObjectId: 'admin-a' }, tenantId: T, expiresAt: '2026-11-28T10:00:00Z' };

describe('request rules (from our config and store, never card data)', () => {
  it('lets admins request and refuses others and other tenants', () => {
    expect(checkMayRequest(actor('admin-a'), roles)).toBeNull();
    expect(checkMayRequest(actor('someone'), roles)?.code).toBe('E_NOT_ADMIN');
    expect(checkMayRequest(actor('admin-a', 'other-tenant'), roles)?.code).toBe('E_TENANT_NOT_ALLOWED');
    expect(checkMayRequest(actor('admin-a', ''), roles)?.code).toBe('E_TENANT_NOT_ALLOWED');
  });

  it('approvers default to admins; four eyes: the requester cannot decide', () => {
    expect(checkMayDecide(actor('admin-b'), request, roles, now)).toBeNull();
    expect(checkMayDecide(actor('ADMIN-A'), request, roles, now)?.code).toBe('E_SELF_APPROVAL');
    expect(checkMayDecide(actor('someone'), request, roles, now)?.code).toBe('E_NOT_APPROVER');
  });

  it('words the four-eyes refusal for what was pressed: approve or reject', () => {
    const approve = checkMayDecide(actor('admin-a'), request, roles, now, 'approve')!;
    const reject = checkMayDecide(actor('admin-a'), request, roles, now, 'reject')!;
    expect(approve.summary).toBe('You cannot approve your own request');
    expect(reject.code).toBe('E_SELF_REJECTION');
    expect(reject.summary).toBe('You cannot reject your own request');
    expect(reject.category).toBe('permission');
  });

  it('explicit approvers replace the default', () => {
    const r = roleConfig(['admin-a', 'admin-b'], ['approver-c'], [T]);
    expect(checkMayDecide(actor('admin-b'), request, r, now)?.code).toBe('E_NOT_APPROVER');
    expect(checkMayDecide(actor('approver-c'), request, r, now)).toBeNull();
  });

  it('refuses decided, expired and cross-tenant requests', () => {
    expect(checkMayDecide(actor('admin-b'), { ...request, status: 'approved' }, roles, now)?.code).toBe('E_REQUEST_NOT_PENDING');
    expect(checkMayDecide(actor('admin-b'), { ...request, expiresAt: now.toISOString() }, roles, now)?.code).toBe('E_REQUEST_EXPIRED');
    const twoTenants = roleConfig(['admin-a', 'admin-b'], undefined, [T, 'tenant-2']);
    expect(checkMayDecide(actor('admin-b', 'tenant-2'), request, twoTenants, now)?.code).toBe('E_TENANT_NOT_ALLOWED');
  });

  it('only the requester passes the requester check', () => {
    expect(checkIsRequester(actor('admin-a'), request, roles)).toBeNull();
    expect(checkIsRequester(actor('admin-b'), request, roles)?.code).toBe('E_NOT_REQUESTER');
  });
});
