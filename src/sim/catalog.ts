/**
 * Tenant-independent identifiers of Microsoft's first-party apps, their application roles and the Entra directory
 * roles the simulator knows. Ids are the published ones (Graph permissions reference; docs/microsoft-facts.md §5.1, §6).
 */

export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
export const EXCHANGE_APP_ID = '00000002-0000-0ff1-ce00-000000000000';
/** Microsoft Graph application role "Mail.Send" ("Send mail as any user") [OBS docs/microsoft-facts.md §5.1]. */
export const MAIL_SEND_ROLE_ID = 'b633e1c5-b582-4048-a93e-9f11b44c7e96';
/** Office 365 Exchange Online application role "Exchange.ManageAsApp" [DOC X1, docs/microsoft-facts.md §6]. */
export const EXCHANGE_MANAGE_AS_APP_ROLE_ID = 'dc50a0fb-09a3-484d-be87-e023b12c6440';

export interface CatalogAppRole {
  id: string;
  value: string;
  displayName: string;
  description: string;
}

const role = (id: string, value: string, displayName: string, description: string): CatalogAppRole => ({ id, value, displayName, description });

/** A subset of Microsoft Graph's application roles: the ones this product touches plus common neighbours. */
export const GRAPH_APP_ROLES: CatalogAppRole[] = [
  role(MAIL_SEND_ROLE_ID, 'Mail.Send', 'Send mail as any user', 'Allows the app to send mail as any user without a signed-in user.'),
  role('810c84a8-4a9e-49e6-bf7d-12d183f40d01', 'Mail.Read', 'Read mail in all mailboxes', 'Allows the app to read mail in all mailboxes without a signed-in user.'),
  role('e2a3a72e-5f79-4c64-b1b1-878b674786c9', 'Mail.ReadWrite', 'Read and write mail in all mailboxes', 'Allows the app to create, read, update, and delete mail in all mailboxes without a signed-in user. Does not include permission to send mail.'),
  role('693c5e45-0940-467d-9b8a-1022fb9d42ef', 'Mail.ReadBasic.All', 'Read basic mail in all mailboxes', 'Allows the app to read basic mail properties in all mailboxes without a signed-in user.'),
  role('df021288-bdef-4463-88db-98f22de89214', 'User.Read.All', "Read all users' full profiles", 'Allows the app to read user profiles without a signed in user.'),
  role('741f803b-c850-494e-b5df-cde7c675a1ca', 'User.ReadWrite.All', "Read and write all users' full profiles", 'Allows the app to read and update user profiles without a signed in user.'),
  role('9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30', 'Application.Read.All', 'Read all applications', 'Allows the app to read all applications and service principals without a signed-in user.'),
  role('1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9', 'Application.ReadWrite.All', 'Read and write all applications', 'Allows the app to create, read, update and delete applications and service principals without a signed-in user.'),
  role('18a4783c-866b-4cc7-a460-3d5e5662c884', 'Application.ReadWrite.OwnedBy', 'Manage apps that this app creates or owns', 'Allows the app to create other applications, and fully manage those applications (read, update, update application secrets and delete), without a signed-in user.'),
  role('06b708a9-e830-4db3-a914-8e69da51d44f', 'AppRoleAssignment.ReadWrite.All', 'Manage app permission grants and app role assignments', 'Allows the app to manage permission grants for application permissions to any API (including Microsoft Graph) and application assignments for any app, without a signed-in user.'),
  role('7ab1d382-f21e-4acd-a863-ba3e13f7da61', 'Directory.Read.All', 'Read directory data', 'Allows the app to read data in your organization\'s directory, such as users, groups and apps, without a signed-in user.'),
  role('19dbc75e-c2e2-444c-a770-ec69d8559fc7', 'Directory.ReadWrite.All', 'Read and write directory data', 'Allows the app to read and write data in your organization\'s directory, such as users, and groups, without a signed-in user.'),
  role('5b567255-7703-4780-807c-7be8301ae99b', 'Group.Read.All', 'Read all groups', 'Allows the app to read group properties and memberships, and read conversations for all groups, without a signed-in user.'),
  role('62a82d76-70ea-41e2-9197-370581804d09', 'Group.ReadWrite.All', 'Read and write all groups', 'Allows the app to create groups, read all group properties and memberships, update group properties and memberships, and delete groups.'),
  role('246dd0d5-5bd0-4def-940b-0421030a5b68', 'Policy.Read.All', "Read your organization's policies", "Allows the app to read all your organization's policies without a signed in user."),
  role('be74164b-cff1-491c-8741-e671cb536e13', 'Policy.ReadWrite.ApplicationConfiguration', "Read and write your organization's application configuration policies", "Allows the app to read and write your organization's application configuration policies, without a signed-in user."),
  role('483bed4a-2ad3-4361-a73b-c83ccdbdc53c', 'RoleManagement.Read.Directory', 'Read all directory RBAC settings', 'Allows the app to read the role-based access control (RBAC) settings for your company\'s directory, without a signed-in user.'),
  role('9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8', 'RoleManagement.ReadWrite.Directory', 'Read and write all directory RBAC settings', 'Allows the app to read and manage the role-based access control (RBAC) settings for your company\'s directory, without a signed-in user.'),
  role('498476ce-e0fe-48b0-b801-37ba7e2685c6', 'Organization.Read.All', 'Read organization information', 'Allows the app to read the organization and related resources, without a signed-in user.'),
  role('798ee544-9d2d-430c-a058-570e29e34338', 'Calendars.Read', 'Read calendars in all mailboxes', 'Allows the app to read events of all calendars without a signed-in user.'),
];

export const EXCHANGE_APP_ROLES: CatalogAppRole[] = [
  role(EXCHANGE_MANAGE_AS_APP_ROLE_ID, 'Exchange.ManageAsApp', 'Manage Exchange As Application', 'Allows the app to manage the organization\'s Exchange environment without any user interaction. This includes mailboxes, groups, and other configuration objects.'),
  role('dc890d15-9560-4a4c-9b7f-a736ec74ec40', 'full_access_as_app', 'Use Exchange Web Services with full access to all mailboxes', 'Allows the app to have full access via Exchange Web Services to all mailboxes without a signed-in user.'),
];

/** Entra built-in directory roles by template id [DOC E1]; the first two cover "any task" in Exchange [DOC X1]. */
export const DIRECTORY_ROLES = {
  'Global Administrator': '62e90394-69f5-4237-9190-012177145e10',
  'Exchange Administrator': '29232cdf-9323-42fd-ade2-1d097af3e4de',
  'Exchange Recipient Administrator': '31392ffb-586c-42d1-9346-e59415a2cc4e',
  'Global Reader': 'f2ef992c-3afb-46b9-b7cf-a126ee74c451',
  'Privileged Role Administrator': 'e8611ab8-c189-46e8-94e1-60213ab1f814',
  'Application Administrator': '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3',
  'Cloud Application Administrator': '158c047a-c907-4556-b7ef-446551a6b5f7',
} as const;

/** Teams client ids that request SSO tokens for a bot: desktop/mobile and web (docs/simulator.md, "Delegated (user) tokens"). */
export const TEAMS_CLIENT_IDS = { desktop: '1fec8e78-bce4-4aaf-ab1b-5451cc387264', web: '5e3ce6c0-2b1f-4285-8d4b-75ee78787346' } as const;

/** The delegated permission of Office 365 Exchange Online that lets a signed-in admin run cmdlets. */
export const EXCHANGE_MANAGE_SCOPE = 'Exchange.Manage';

const R = (...names: DirectoryRoleName[]) => names.map((n) => DIRECTORY_ROLES[n]);
const READERS = R('Global Administrator', 'Global Reader', 'Privileged Role Administrator', 'Application Administrator', 'Cloud Application Administrator', 'Exchange Administrator', 'Exchange Recipient Administrator');

/**
 * A delegated token acts with scope ∩ the user's roles: which directory roles let a user exercise each Graph
 * permission (docs/simulator.md, "Delegated (user) tokens"). Reads are open to every admin role and Global Reader
 * (a simplification). Granting a Microsoft Graph app role additionally needs Privileged Role Administrator or
 * Global Administrator (graph.ts).
 */
export const DELEGATED_GRAPH_ROLES: Record<string, readonly string[]> = {
  'Application.Read.All': READERS,
  'Directory.Read.All': READERS,
  'Domain.Read.All': READERS,
  'User.Read.All': READERS,
  'Policy.Read.All': READERS,
  'RoleManagement.Read.Directory': READERS,
  'Application.ReadWrite.All': R('Global Administrator', 'Application Administrator', 'Cloud Application Administrator'),
  'AppRoleAssignment.ReadWrite.All': R('Global Administrator', 'Privileged Role Administrator', 'Application Administrator', 'Cloud Application Administrator'),
  'Directory.ReadWrite.All': R('Global Administrator'),
  'Policy.ReadWrite.ApplicationConfiguration': R('Global Administrator'),
  'RoleManagement.ReadWrite.Directory': R('Global Administrator', 'Privileged Role Administrator'),
};

/** Who may grant an app role of a Microsoft Graph (first-party) resource: app admins may not. */
export const GRAPH_APP_ROLE_GRANTERS: readonly string[] = R('Global Administrator', 'Privileged Role Administrator');
export type DirectoryRoleName = keyof typeof DIRECTORY_ROLES;

/**
 * Exchange management roles, by the cmdlets of theirs the simulator serves. "Role Management" carries the RBAC for
 * Applications cmdlets: `Get-ManagementRole -Cmdlet New-ServicePrincipal` answers with it, its entries including
 * Get-ServicePrincipal and Test-ServicePrincipalAuthorization
 * (https://gist.github.com/alkampfergit/535e19f1298f68a97855b905548a7088; method:
 * https://learn.microsoft.com/powershell/exchange/find-exchange-cmdlet-permissions). An app-only identity can hold a
 * custom role group instead of an Entra role
 * (https://learn.microsoft.com/powershell/exchange/app-only-auth-powershell-v2), so it may lack this role while
 * holding everything the access-policy script needs.
 */
export const EXCHANGE_MANAGEMENT_ROLES: Record<string, readonly string[]> = {
  'Role Management': [
    'Get-ServicePrincipal',
    'New-ServicePrincipal',
    'Test-ServicePrincipalAuthorization',
    'Get-ManagementRoleAssignment',
    'New-ManagementRoleAssignment',
    'Remove-ManagementRoleAssignment',
    'Get-ManagementScope',
    'New-ManagementScope',
  ],
};

export function directoryRoleName(templateId: string): DirectoryRoleName | null {
  for (const [name, id] of Object.entries(DIRECTORY_ROLES)) if (id === templateId) return name as DirectoryRoleName;
  return null;
}
