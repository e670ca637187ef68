/**
 * RBAC for Applications in Exchange Online [docs/microsoft-facts.md §9; DOC R1, X6–X9]: an Exchange service principal pointer,
 * an "Application …" management role assigned to it, and the assignment's scope (a group's direct members, a
 * management scope, or the whole organization).
 *
 * Mail access is the UNION of two independent paths [R2 as quoted, OBS R3, U7]:
 *   Entra: the app holds Graph Mail.Send (tenant-wide), narrowed only by Application Access Policies;
 *   Exchange RBAC: an assignment of a role carrying Mail.Send whose scope covers the mailbox.
 * Access policies constrain only the Entra grant, never an RBAC assignment [OBS public code that documents the
 * two gates separately]. So a tenant-wide Entra Mail.Send next to an RBAC scope defeats the scope.
 */
import { opathPredicate, parseOpath } from './opath';
import type { TenantStore } from './store';
import { isVisible, type ExoServicePrincipalRecord, type RecipientRecord, type RoleAssignmentRecord } from './tenant';

/**
 * The application roles Exchange offers (names as in DOC X9 examples and OBS R3/U7) and the permissions
 * Test-ServicePrincipalAuthorization reports for them. Which bundles include Mail.Send is [UNCONF] beyond
 * "Application Mail.Send" itself; the full-access roles are modelled as including it.
 */
export const APPLICATION_ROLES: Record<string, string[]> = {
  'Application Mail.Read': ['Mail.Read'],
  'Application Mail.ReadBasic': ['Mail.ReadBasic'],
  'Application Mail.ReadWrite': ['Mail.ReadWrite'],
  'Application Mail.Send': ['Mail.Send'],
  'Application MailboxSettings.Read': ['MailboxSettings.Read'],
  'Application MailboxSettings.ReadWrite': ['MailboxSettings.ReadWrite'],
  'Application Calendars.Read': ['Calendars.Read'],
  'Application Calendars.ReadWrite': ['Calendars.ReadWrite'],
  'Application Contacts.Read': ['Contacts.Read'],
  'Application Contacts.ReadWrite': ['Contacts.ReadWrite'],
  'Application Mail Full Access': ['Mail.ReadWrite', 'Mail.Send'],
  'Application Exchange Full Access': ['Mail.ReadWrite', 'Mail.Send', 'MailboxSettings.ReadWrite', 'Calendars.ReadWrite', 'Contacts.ReadWrite'],
  'Application EWS.AccessAsApp': ['EWS.AccessAsApp'],
};

export function applicationRoleName(role: string): string | undefined {
  return Object.keys(APPLICATION_ROLES).find((r) => r.toLowerCase() === role.trim().toLowerCase());
}

export function exoServicePrincipals(store: TenantStore): ExoServicePrincipalRecord[] {
  return (store.state.exoServicePrincipals ??= []);
}

export function roleAssignments(store: TenantStore): RoleAssignmentRecord[] {
  return (store.state.roleAssignments ??= []);
}

/** Does the assignment's scope cover the mailbox? Group scopes count DIRECT members only [DOC X8]. */
export function scopeCovers(store: TenantStore, a: RoleAssignmentRecord, mailbox: RecipientRecord): boolean {
  switch (a.scope.type) {
    case 'organization':
      return true;
    case 'group': {
      const group = store.recipientByGuid(a.scope.groupGuid);
      return !!group && (group.members ?? []).includes(mailbox.guid);
    }
    case 'custom': {
      const name = a.scope.scopeName.toLowerCase();
      const scope = (store.state.managementScopes ?? []).find((s) => s.name.toLowerCase() === name);
      if (!scope) return false;
      const parsed = parseOpath(scope.recipientRestrictionFilter);
      return parsed.ok && opathPredicate(parsed)(mailbox);
    }
  }
}

/** How Test-ServicePrincipalAuthorization and Get-ManagementRoleAssignment describe the scope. */
export function describeScope(store: TenantStore, a: RoleAssignmentRecord): { allowedResourceScope: string; scopeType: string; customResourceScope: string; recipientWriteScope: string } {
  switch (a.scope.type) {
    case 'organization':
      return { allowedResourceScope: 'Organization', scopeType: 'Organization', customResourceScope: '', recipientWriteScope: 'Organization' };
    case 'group': {
      const group = store.recipientByGuid(a.scope.groupGuid);
      // Group scopes show up as `<GroupName>_<GUID>` in CustomResourceScope while CustomRecipientWriteScope stays
      // empty [OBS A4 EXORBACforAppManagement TODO.md]. The ScopeType label is [UNCONF].
      const label = `${group?.name ?? 'deleted group'}_${a.scope.groupGuid}`;
      return { allowedResourceScope: group?.name ?? a.scope.groupGuid, scopeType: 'MemberOfGroup', customResourceScope: label, recipientWriteScope: 'Group' };
    }
    case 'custom':
      return { allowedResourceScope: a.scope.scopeName, scopeType: 'CustomRecipientScope', customResourceScope: a.scope.scopeName, recipientWriteScope: 'CustomRecipientScope' };
  }
}

/** True when the app has any RBAC role assignment at all (visible or not): Graph then evaluates the RBAC path. */
export function appHasRoleAssignments(store: TenantStore, appId: string): boolean {
  const ids = new Set(exoServicePrincipals(store).filter((s) => s.appId.toLowerCase() === appId.toLowerCase()).map((s) => s.objectId));
  return roleAssignments(store).some((a) => ids.has(a.spObjectId));
}

/**
 * The RBAC path of Graph's decision: an assignment of a role carrying `permission` to one of the app's Exchange
 * service principals, whose scope covers the mailbox. With `asEnforcedAt`, only assignments past Exchange's
 * permission cache count (Graph's view); without it, configuration as Test-ServicePrincipalAuthorization reads it.
 */
export function rbacPermits(store: TenantStore, appId: string, mailbox: RecipientRecord, permission: string, opts: { asEnforcedAt?: number } = {}): boolean {
  const sps = exoServicePrincipals(store).filter((s) => s.appId.toLowerCase() === appId.toLowerCase());
  if (!sps.length) return false;
  const ids = new Set(sps.map((s) => s.objectId));
  return roleAssignments(store).some(
    (a) =>
      ids.has(a.spObjectId) &&
      (APPLICATION_ROLES[a.role] ?? []).includes(permission) &&
      (opts.asEnforcedAt === undefined ? isVisible(a) : a.effectiveAtMs <= opts.asEnforcedAt) &&
      scopeCovers(store, a, mailbox),
  );
}
