/**
 * The Entra directory roles an approver needs for what an action writes in the tenant. In delegated mode the writes
 * run with the approver's own token, so the bot checks the token's `wids` (role template ids) against these needs
 * before anything is written; in both modes the approval card says which roles the approver needs. Pure.
 *
 * Sources (docs/microsoft-facts.md keeps the facts):
 * - Template ids: Entra built-in roles, https://learn.microsoft.com/en-us/entra/identity/role-based-access-control/permissions-reference
 * - Who can grant Microsoft Graph app roles (application permissions): "Grant tenant-wide admin consent to an
 *   application", https://learn.microsoft.com/en-us/entra/identity/enterprise-apps/grant-admin-consent — Application
 *   Administrator and Cloud Application Administrator may consent to anything except Microsoft Graph app roles;
 *   those need Privileged Role Administrator (or Global Administrator).
 * - Creating apps, service principals and secrets: Application Administrator or Cloud Application Administrator
 *   (the same permissions reference; docs/microsoft-facts.md §3).
 * - Groups, members, Application Access Policies and RBAC for Applications: Exchange Administrator, the smallest
 *   built-in Entra role that covers them all (permissions reference, "Exchange Administrator"; docs/permissions.md).
 * Global Administrator satisfies every need.
 */

/** Entra built-in role name → role template id (the value in a token's `wids` claim). */
export const ENTRA_ROLES = {
  'Global Administrator': '62e90394-69f5-4237-9190-012177145e10',
  'Privileged Role Administrator': 'e8611ab8-c189-46e8-94e1-60213ab1f814',
  'Application Administrator': '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3',
  'Cloud Application Administrator': '158c047a-c907-4556-b7ef-446551a6b5f7',
  'Exchange Administrator': '29232cdf-9323-42fd-ade2-1d097af3e4de',
  'Global Reader': 'f2ef992c-3afb-46b9-b7cf-a126ee74c451',
} as const;

export type EntraRoleName = keyof typeof ENTRA_ROLES;

/**
 * What an action writes, by who may write it: `applications` the app, its service principal and its secrets;
 * `graph-grant` the Microsoft Graph Mail.Send app role (granting or removing it); `exchange` the sender group, its
 * members, the Application Access Policy and RBAC for Applications.
 */
export type RoleNeed = 'applications' | 'graph-grant' | 'exchange';

export interface RoleNeedSpec {
  /** Role template ids; any one of them satisfies the need. */
  anyOf: readonly string[];
  /** The same roles by name, for text (most specific first, Global Administrator last). */
  roles: readonly EntraRoleName[];
  /** What the role is needed for, after "to". */
  for: string;
}

const spec = (roles: readonly EntraRoleName[], what: string): RoleNeedSpec => ({ anyOf: roles.map((r) => ENTRA_ROLES[r]), roles, for: what });

export const ROLE_NEEDS: Readonly<Record<RoleNeed, RoleNeedSpec>> = {
  applications: spec(['Application Administrator', 'Cloud Application Administrator', 'Global Administrator'], 'create the app, its service principal and secrets'),
  // Not Application Administrator: consent to Microsoft Graph app roles is reserved for these two.
  'graph-grant': spec(['Privileged Role Administrator', 'Global Administrator'], 'grant Microsoft Graph Mail.Send'),
  exchange: spec(['Exchange Administrator', 'Global Administrator'], 'manage the sender group, the Application Access Policy and RBAC for Applications'),
};

/** The needs in their fixed order (applications, graph-grant, exchange), each once. */
const ORDER: readonly RoleNeed[] = ['applications', 'graph-grant', 'exchange'];
const ordered = (needs: readonly RoleNeed[]): RoleNeed[] => ORDER.filter((n) => needs.includes(n));

/** The needs that none of the signed-in user's directory roles (`wids`, template ids in any case) satisfies. */
export function missingRoleNeeds(wids: readonly string[], needs: readonly RoleNeed[]): RoleNeed[] {
  const held = new Set(wids.map((w) => w.toLowerCase()));
  return ordered(needs).filter((n) => !ROLE_NEEDS[n].anyOf.some((id) => held.has(id.toLowerCase())));
}

/** "A, B or C" */
function either(names: readonly string[]): string {
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}

/** One line per need: "Privileged Role Administrator or Global Administrator — to grant Microsoft Graph Mail.Send". */
export function describeRoleNeeds(needs: readonly RoleNeed[]): string[] {
  return ordered(needs).map((n) => `${either(ROLE_NEEDS[n].roles)} — to ${ROLE_NEEDS[n].for}`);
}

export const PIM_HINT = 'If the role is eligible in Privileged Identity Management, activate it, then press the button again (a new sign-in picks up the activated role).';

/** Why the approver's click was refused before anything was written, naming each missing role. */
export function roleRefusal(missing: readonly RoleNeed[]): string {
  const lines = describeRoleNeeds(missing);
  if (!lines.length) return '';
  const what = lines.length === 1 ? `this Entra role: ${lines[0]}` : `these Entra roles: ${lines.join('; ')}`;
  return `Nothing was changed: your sign-in does not have ${what}. ${PIM_HINT}`;
}
