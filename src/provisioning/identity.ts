/**
 * Stable names and ids shared by the engine and the lifecycle jobs. Kept apart from engine.ts so lifecycle modules
 * can use them without importing the engine (which imports them).
 */
import { createHash } from 'node:crypto';
import type { DerivedNames } from './names';

export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
export const SIGN_IN_AUDIENCE = 'AzureADMyOrg';
/** The Exchange management role that lets an app send as the mailboxes in its scope [docs/microsoft-facts.md §9]. */
export const RBAC_MAIL_SEND_ROLE = 'Application Mail.Send';
/** Exchange roles that carry Mail.Send (an unscoped one defeats the group scope just like the Entra grant). */
export const RBAC_ROLES_WITH_MAIL_SEND = ['Application Mail.Send', 'Application Mail Full Access', 'Application Exchange Full Access'];

function shortHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 10);
}

/** Stable alternate key for the upsert: same display name → same uniqueName, so a re-run can never make a twin. */
export function uniqueNameFor(names: DerivedNames): string {
  return `opter-${names.aliasBase.slice(0, 40)}-${shortHash(names.appDisplayName)}`;
}

/**
 * Name of the RBAC role assignment (Exchange allows 64 characters). The hash of the display name keeps two apps
 * whose aliases share a long prefix apart, so one never replaces the other's assignment.
 */
export function roleAssignmentNameFor(names: DerivedNames): string {
  const base = names.aliasBase.slice(0, 36).replace(/-+$/, '');
  return `${base}-mail-send-${shortHash(names.appDisplayName).slice(0, 8)}`;
}

/** Display name of the short-lived secret a test email uses (never the registration's own secret name). */
export function testSecretNameFor(names: DerivedNames): string {
  return `${names.aliasBase.slice(0, 50)}-test`;
}
