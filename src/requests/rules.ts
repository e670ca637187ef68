/**
 * Who may do what — decided from our own configuration and store, never from card data. Pure: the bot passes the
 * actor taken from the activity (from.aadObjectId, tenant) and the request loaded from the store.
 */
import { OpterError } from '../core/errors';

export interface Actor {
  aadObjectId: string;
  name: string;
  /** Teams user MRI (29:…), the id refresh.userIds and proactive 1:1 chats need. */
  mri: string;
  tenantId: string;
}

export interface RoleConfig {
  admins: ReadonlySet<string>;
  approvers: ReadonlySet<string>;
  allowedTenants: ReadonlySet<string>;
}

export interface DecidableRequest {
  id: string;
  status: string;
  requester: { aadObjectId: string };
  tenantId: string;
  expiresAt: string;
}

const norm = (id: string) => id.trim().toLowerCase();

export function roleConfig(admins: string[], approvers: string[] | undefined, allowedTenants: string[]): RoleConfig {
  const a = new Set(admins.map(norm).filter(Boolean));
  return {
    admins: a,
    approvers: approvers && approvers.length ? new Set(approvers.map(norm).filter(Boolean)) : a,
    allowedTenants: new Set(allowedTenants.map(norm).filter(Boolean)),
  };
}

export function checkTenantAllowed(actor: Pick<Actor, 'tenantId'>, roles: RoleConfig): OpterError | null {
  if (!actor.tenantId || !roles.allowedTenants.has(norm(actor.tenantId))) {
    return new OpterError('E_TENANT_NOT_ALLOWED', { detail: actor.tenantId || '(no tenant id)' });
  }
  return null;
}

export function checkMayRequest(actor: Actor, roles: RoleConfig): OpterError | null {
  return checkTenantAllowed(actor, roles) ?? (roles.admins.has(norm(actor.aadObjectId)) ? null : new OpterError('E_NOT_ADMIN'));
}

/** The refusal for deciding one's own request, worded for what was pressed. */
export function selfDecisionCode(decision: 'approve' | 'reject'): 'E_SELF_APPROVAL' | 'E_SELF_REJECTION' {
  return decision === 'reject' ? 'E_SELF_REJECTION' : 'E_SELF_APPROVAL';
}

/** Approve/reject: approver, not the requester, same tenant, request still pending and not expired. */
export function checkMayDecide(actor: Actor, request: DecidableRequest, roles: RoleConfig, now: Date, decision: 'approve' | 'reject' = 'approve'): OpterError | null {
  const tenant = checkTenantAllowed(actor, roles);
  if (tenant) return tenant;
  if (norm(request.tenantId) !== norm(actor.tenantId)) return new OpterError('E_TENANT_NOT_ALLOWED', { detail: actor.tenantId });
  if (!roles.approvers.has(norm(actor.aadObjectId))) return new OpterError('E_NOT_APPROVER');
  if (norm(request.requester.aadObjectId) === norm(actor.aadObjectId)) return new OpterError(selfDecisionCode(decision));
  if (request.status !== 'pending') return new OpterError('E_REQUEST_NOT_PENDING', { detail: `It is ${request.status}.` });
  if (new Date(request.expiresAt) <= now) return new OpterError('E_REQUEST_EXPIRED');
  return null;
}

/**
 * Delegated mode: who may continue (or retry) an approved job with their own sign-in — an approver other than the
 * requester, as for the approval itself (the requester's own rights never carry their request's writes).
 */
export function checkMayContinue(actor: Actor, request: DecidableRequest, roles: RoleConfig): OpterError | null {
  const tenant = checkTenantAllowed(actor, roles);
  if (tenant) return tenant;
  if (norm(request.tenantId) !== norm(actor.tenantId)) return new OpterError('E_TENANT_NOT_ALLOWED', { detail: actor.tenantId });
  if (!roles.approvers.has(norm(actor.aadObjectId))) return new OpterError('E_NOT_APPROVER');
  if (norm(request.requester.aadObjectId) === norm(actor.aadObjectId)) return new OpterError('E_SELF_APPROVAL', { detail: 'Another approver continues it with their own sign-in.' });
  return null;
}

/**
 * Delegated mode, "Remove it from the app" on an expired secret's card: the requester or any approver (it takes
 * access away, never gives it).
 */
export function checkMayRemoveCredential(actor: Actor, request: DecidableRequest, roles: RoleConfig): OpterError | null {
  return roles.approvers.has(norm(actor.aadObjectId)) ? checkTenantAllowed(actor, roles) : checkIsRequester(actor, request, roles);
}

/** Only the requester may reveal their secret, retry their job or cancel their request. */
export function checkIsRequester(actor: Actor, request: DecidableRequest, roles: RoleConfig): OpterError | null {
  const tenant = checkTenantAllowed(actor, roles);
  if (tenant) return tenant;
  return norm(request.requester.aadObjectId) === norm(actor.aadObjectId) ? null : new OpterError('E_NOT_REQUESTER');
}
