/**
 * The simulated tenant's state: one JSON-serialisable object shared by the token endpoint, Graph and Exchange.
 * Secrets are kept only as salted hashes. Every object carries `visibleAtMs`, the moment it has "replicated";
 * reads and dependent writes treat younger objects as absent (docs/microsoft-facts.md §1.5, §12).
 */
import { createHash } from 'node:crypto';
import type { AppPolicyRecord, PasswordRestrictionRecord } from './app-policy';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  DIRECTORY_ROLES,
  EXCHANGE_APP_ID,
  EXCHANGE_APP_ROLES,
  EXCHANGE_MANAGE_AS_APP_ROLE_ID,
  EXCHANGE_MANAGE_SCOPE,
  GRAPH_APP_ID,
  GRAPH_APP_ROLES,
  type CatalogAppRole,
} from './catalog';
import { base64url, derivedGuid, hashSecret, newSalt } from './ids';

export interface PasswordRecord {
  keyId: string;
  displayName: string | null;
  hint: string;
  startDateTime: string;
  endDateTime: string;
  /** sha256(salt, secret); the secret itself is never stored. */
  salt: string;
  hash: string;
  /** Until this moment the token endpoint still rejects the secret (AADSTS7000215) [OBS U7, docs/microsoft-facts.md §4]. */
  activeAtMs: number;
}

/** A certificate credential (public part only) for client-assertion sign-in. */
export interface KeyCredentialRecord {
  keyId: string;
  displayName: string | null;
  type: 'AsymmetricX509Cert';
  usage: 'Verify';
  /** Upper-case hex SHA-1 thumbprint, as Graph shows it in customKeyIdentifier. */
  customKeyIdentifier: string;
  startDateTime: string;
  endDateTime: string;
  /** Base64 DER of the certificate. */
  certDer: string;
}

export interface AppRoleJson {
  allowedMemberTypes: string[];
  description: string;
  displayName: string;
  id: string;
  isEnabled: boolean;
  origin: string;
  value: string | null;
}

export interface AppRecord {
  id: string;
  appId: string;
  createdDateTime: string;
  visibleAtMs: number;
  /** Writable application properties as last set (displayName, uniqueName, signInAudience, ...). */
  props: Record<string, unknown>;
  passwords: PasswordRecord[];
  /** Optional so that state files written before certificates were modelled still load. */
  keys?: KeyCredentialRecord[];
  /** The app management policy assigned to this app (at most one), if any. */
  appManagementPolicyId?: string;
}

export interface SpRecord {
  id: string;
  appId: string;
  createdDateTime: string;
  visibleAtMs: number;
  appDisplayName: string;
  appOwnerOrganizationId: string;
  appRoles: AppRoleJson[];
  props: Record<string, unknown>;
}

export interface AssignmentRecord {
  id: string;
  principalId: string;
  resourceId: string;
  appRoleId: string;
  createdDateTime: string;
}

export interface DirectoryRoleAssignmentRecord {
  id: string;
  roleDefinitionId: string;
  principalId: string;
  directoryScopeId: string;
}

export interface UserRecord {
  id: string;
  userPrincipalName: string;
  displayName: string;
  mail: string | null;
  /** Entra directory role template ids the user holds (they become `wids` in the user's tokens). */
  directoryRoles?: string[];
}

/** Admin consent of a client app to delegated permissions on one resource (an oauth2PermissionGrant, AllPrincipals). */
export interface DelegatedConsentRecord {
  clientAppId: string;
  resource: 'graph' | 'exchange';
  scopes: string[];
}

export type RecipientTypeDetails =
  | 'UserMailbox'
  | 'SharedMailbox'
  | 'MailContact'
  | 'MailUniversalSecurityGroup'
  | 'MailUniversalDistributionGroup';

export interface RecipientRecord {
  guid: string;
  /** Entra object id (the user for mailboxes; the group for groups). */
  externalDirectoryObjectId: string | null;
  name: string;
  alias: string;
  displayName: string;
  primarySmtpAddress: string;
  /** Proxy addresses, "SMTP:" primary and "smtp:" secondary. */
  emailAddresses: string[];
  recipientTypeDetails: RecipientTypeDetails;
  sid: string;
  whenCreatedUtc: string;
  visibleAtMs: number;
  externalEmailAddress?: string;
  /** Groups only: member recipient guids (direct members). */
  members?: string[];
  managedBy?: string[];
  notes?: string;
}

export interface PolicyRecord {
  appId: string;
  scopeGuid: string;
  accessRight: 'RestrictAccess' | 'DenyAccess';
  description: string;
  createdAt: string;
  /** When Graph starts enforcing it (policyPropagationDelayMs); Test-ApplicationAccessPolicy ignores this. */
  enforcedAtMs?: number;
}

/** `New-ServicePrincipal`: Exchange's pointer to an Entra service principal [DOC X6]. */
export interface ExoServicePrincipalRecord {
  /** The Entra service principal's object id (Exchange's ObjectId; also its Identity and Name here). */
  objectId: string;
  appId: string;
  displayName: string;
  createdAt: string;
  visibleAtMs: number;
}

/** `New-ManagementScope -RecipientRestrictionFilter` [DOC X7]. */
export interface ManagementScopeRecord {
  name: string;
  recipientRestrictionFilter: string;
  createdAt: string;
  visibleAtMs: number;
}

export type RoleAssignmentScope =
  | { type: 'organization' }
  | { type: 'group'; groupGuid: string }
  | { type: 'custom'; scopeName: string };

/** `New-ManagementRoleAssignment -App` [DOC X8]. */
export interface RoleAssignmentRecord {
  name: string;
  role: string;
  /** The Exchange service principal pointer's object id. */
  spObjectId: string;
  scope: RoleAssignmentScope;
  createdAt: string;
  /** When other cmdlets (and Test-ServicePrincipalAuthorization) see it. */
  visibleAtMs: number;
  /** When Graph enforces it: Exchange caches app permissions for 30 min – 2 h [R2 as quoted, docs/microsoft-facts.md §9.5]. */
  effectiveAtMs: number;
}

/** `Get-OrganizationConfig` state. A dehydrated tenant refuses RBAC writes until customization is enabled [DOC X10]. */
export interface OrganizationRecord {
  isDehydrated: boolean;
  /** Set by Enable-OrganizationCustomization: hydration completes at this moment (it "may take a few minutes"). */
  hydratedAtMs?: number;
}

export interface SentMailRecord {
  at: string;
  appId: string;
  from: string;
  to: string[];
  cc: string[];
  subject: string;
  bodyContentType: string;
  body: string;
  saveToSentItems: boolean;
}

export interface TenantState {
  version: 1;
  tenantId: string;
  shortName: string;
  defaultDomain: string;
  applications: AppRecord[];
  servicePrincipals: SpRecord[];
  appRoleAssignments: AssignmentRecord[];
  directoryRoleAssignments: DirectoryRoleAssignmentRecord[];
  users: UserRecord[];
  recipients: RecipientRecord[];
  accessPolicies: PolicyRecord[];
  sentMail: SentMailRecord[];
  /** RBAC for Applications. Optional so that state files written before it was modelled still load. */
  exoServicePrincipals?: ExoServicePrincipalRecord[];
  managementScopes?: ManagementScopeRecord[];
  roleAssignments?: RoleAssignmentRecord[];
  organization?: OrganizationRecord;
  /** App management policies (optional for older state files): the tenant default as PATCHed, and per-app ones. */
  defaultAppManagementPolicy?: { isEnabled: boolean; passwordCredentials: PasswordRestrictionRecord[] };
  appManagementPolicies?: AppPolicyRecord[];
  /** Delegated consents for the OBO grant (optional for older state files). */
  delegatedConsents?: DelegatedConsentRecord[];
}

/**
 * The simulated tenant `npm start` embeds (src/runtime/tenant.ts) has fixed ids, so files outside the product can name
 * its tenant and people — Microsoft 365 Agents Playground's `.m365agentsplayground.yml` (docs/playground.md). Every
 * other id (users, apps, recipients) is derived from the tenant id. Tests start simulators with their own tenant ids.
 */
export const EMBEDDED_TENANT = { tenantId: 'b145c9a3-a66a-4e2f-9731-107cd92ee7fb', shortName: 'exempel', defaultDomain: 'exempel.se' } as const;

/** The Entra object id of a seeded user (by mailbox alias): derived from the tenant id, so stable per tenant. */
export function seededUserId(tenantId: string, alias: string): string {
  return derivedGuid(tenantId, `user:${alias}`);
}

/** Microsoft's own tenant, owner of the first-party service principals. */
export const MICROSOFT_SERVICES_TENANT_ID = 'f8cdef31-a31e-4b4a-93e4-5f571e91255a';

export interface SeedIdentity {
  tenantId: string;
  shortName: string;
  defaultDomain: string;
  provisioningSecret: string;
  /** Certificate registered on the provisioning app for client-assertion sign-in, if any. */
  provisioningCertificate?: KeyCredentialRecord;
  /** Client secret of the read-only standing identity (delegated mode's app-only reader). */
  readOnlySecret: string;
  /** Client secret of the bot's own app (Teams SSO + On-Behalf-Of client). */
  botSecret: string;
}

export const SEEDED_MAILBOXES = {
  info: 'info',
  faktura: 'faktura',
  outside: 'vd',
  shared: 'kundtjanst',
  admin: 'admin',
} as const;

/**
 * Directory roles of seeded users, by mailbox alias: the playground's approver (vd@) holds what a full setup needs
 * in delegated mode, its requester (admin@) only reads (docs/simulator.md, "Seeded identities").
 */
export const SEEDED_USER_ROLES: Readonly<Record<string, readonly string[]>> = {
  [SEEDED_MAILBOXES.outside]: [DIRECTORY_ROLES['Privileged Role Administrator'], DIRECTORY_ROLES['Exchange Administrator'], DIRECTORY_ROLES['Cloud Application Administrator']],
  [SEEDED_MAILBOXES.admin]: [DIRECTORY_ROLES['Global Reader']],
};

/** The delegated permissions admin-consented for the seeded bot app (an oauth2PermissionGrant per resource). */
export const BOT_APP_CONSENTS: ReadonlyArray<{ resource: 'graph' | 'exchange'; scopes: readonly string[] }> = [
  { resource: 'graph', scopes: ['Application.ReadWrite.All', 'AppRoleAssignment.ReadWrite.All', 'Application.Read.All'] },
  { resource: 'exchange', scopes: [EXCHANGE_MANAGE_SCOPE] },
];

export const DISTRIBUTION_LIST_ALIAS = 'alla';
export const NO_MAILBOX_USER_ALIAS = 'ingenbrevlada';
export const MAIL_CONTACT_ADDRESS = 'leverantor@partner.example';

function catalogRoles(roles: CatalogAppRole[]): AppRoleJson[] {
  return roles.map((r) => ({
    allowedMemberTypes: ['Application'],
    description: r.description,
    displayName: r.displayName,
    id: r.id,
    isEnabled: true,
    origin: 'Application',
    value: r.value,
  }));
}

export function seedIds(tenantId: string) {
  const d = (name: string) => derivedGuid(tenantId, name);
  return {
    graphSpId: d('sp:graph'),
    exchangeSpId: d('sp:exchange'),
    provisioningAppObjectId: d('app:provisioning'),
    provisioningAppId: d('appId:provisioning'),
    provisioningSpId: d('sp:provisioning'),
    provisioningKeyId: d('key:provisioning'),
    provisioningCertKeyId: d('certkey:provisioning'),
    readOnlyAppObjectId: d('app:read-only'),
    readOnlyAppId: d('appId:read-only'),
    readOnlySpId: d('sp:read-only'),
    readOnlyKeyId: d('key:read-only'),
    botAppObjectId: d('app:bot'),
    botAppId: d('appId:bot'),
    botSpId: d('sp:bot'),
    botKeyId: d('key:bot'),
  };
}

function sidFor(tenantId: string, rid: number): string {
  const h = derivedGuid(tenantId, 'sid').replace(/-/g, '');
  const part = (i: number) => parseInt(h.slice(i, i + 8), 16) % 2000000000;
  return `S-1-5-21-${part(0)}-${part(8)}-${part(16)}-${rid}`;
}

const SEED_CREATED = '2024-01-15T08:00:00Z';
export const READ_ONLY_APP_NAME = 'Opter read-only (simulator)';
export const BOT_APP_NAME = 'Opter bot (simulator)';
/** Graph application roles of the read-only standing identity (docs/simulator.md, "Seeded identities"). */
export const READ_ONLY_GRAPH_ROLES = ['Application.Read.All', 'Policy.Read.All'] as const;

/** A seeded identity's client secret: only its salted hash is kept, so each start issues the value anew. */
export function seededPassword(keyId: string, displayName: string, secret: string): PasswordRecord {
  const salt = newSalt();
  return { keyId, displayName, hint: secret.slice(0, 3), startDateTime: SEED_CREATED, endDateTime: '2099-12-31T00:00:00Z', salt, hash: hashSecret(secret, salt), activeAtMs: 0 };
}

function ownSp(tenantId: string, id: string, appId: string, name: string): SpRecord {
  return {
    id,
    appId,
    createdDateTime: SEED_CREATED,
    visibleAtMs: 0,
    appDisplayName: name,
    appOwnerOrganizationId: tenantId,
    appRoles: [],
    props: { displayName: name, servicePrincipalNames: [appId], tags: ['WindowsAzureActiveDirectoryIntegratedApp'] },
  };
}

export function seedTenant(seed: SeedIdentity): TenantState {
  const { tenantId, shortName, defaultDomain } = seed;
  const ids = seedIds(tenantId);
  const created = SEED_CREATED;
  const onMicrosoft = `${shortName}.onmicrosoft.com`;

  const provisioningName = 'Opter provisioning (simulator)';
  const applications: AppRecord[] = [
    {
      id: ids.provisioningAppObjectId,
      appId: ids.provisioningAppId,
      createdDateTime: created,
      visibleAtMs: 0,
      props: {
        displayName: provisioningName,
        signInAudience: 'AzureADMyOrg',
        uniqueName: null,
        requiredResourceAccess: [
          {
            resourceAppId: GRAPH_APP_ID,
            resourceAccess: ['Application.ReadWrite.All', 'AppRoleAssignment.ReadWrite.All', 'Policy.Read.All'].map((v) => ({
              id: GRAPH_APP_ROLES.find((r) => r.value === v)!.id,
              type: 'Role',
            })),
          },
          { resourceAppId: EXCHANGE_APP_ID, resourceAccess: [{ id: EXCHANGE_MANAGE_AS_APP_ROLE_ID, type: 'Role' }] },
        ],
      },
      passwords: [seededPassword(ids.provisioningKeyId, 'simulator provisioning secret', seed.provisioningSecret)],
      keys: seed.provisioningCertificate ? [seed.provisioningCertificate] : [],
    },
    {
      id: ids.readOnlyAppObjectId,
      appId: ids.readOnlyAppId,
      createdDateTime: created,
      visibleAtMs: 0,
      props: {
        displayName: READ_ONLY_APP_NAME,
        signInAudience: 'AzureADMyOrg',
        uniqueName: null,
        requiredResourceAccess: [
          {
            resourceAppId: GRAPH_APP_ID,
            resourceAccess: READ_ONLY_GRAPH_ROLES.map((v) => ({ id: GRAPH_APP_ROLES.find((r) => r.value === v)!.id, type: 'Role' })),
          },
          { resourceAppId: EXCHANGE_APP_ID, resourceAccess: [{ id: EXCHANGE_MANAGE_AS_APP_ROLE_ID, type: 'Role' }] },
        ],
      },
      passwords: [seededPassword(ids.readOnlyKeyId, 'simulator read-only secret', seed.readOnlySecret)],
      keys: [],
    },
    {
      id: ids.botAppObjectId,
      appId: ids.botAppId,
      createdDateTime: created,
      visibleAtMs: 0,
      // Teams SSO: the Application ID URI Teams asks tokens for (docs/simulator.md, "Seeded identities").
      props: { displayName: BOT_APP_NAME, signInAudience: 'AzureADMyOrg', uniqueName: null, identifierUris: [`api://botid-${ids.botAppId}`] },
      passwords: [seededPassword(ids.botKeyId, 'simulator bot secret', seed.botSecret)],
      keys: [],
    },
  ];

  const firstParty = (id: string, appId: string, name: string, roles: CatalogAppRole[]): SpRecord => ({
    id,
    appId,
    createdDateTime: created,
    visibleAtMs: 0,
    appDisplayName: name,
    appOwnerOrganizationId: MICROSOFT_SERVICES_TENANT_ID,
    appRoles: catalogRoles(roles),
    props: { displayName: name, servicePrincipalNames: [appId], tags: [] },
  });
  const servicePrincipals: SpRecord[] = [
    firstParty(ids.graphSpId, GRAPH_APP_ID, 'Microsoft Graph', GRAPH_APP_ROLES),
    firstParty(ids.exchangeSpId, EXCHANGE_APP_ID, 'Office 365 Exchange Online', EXCHANGE_APP_ROLES),
    {
      id: ids.provisioningSpId,
      appId: ids.provisioningAppId,
      createdDateTime: created,
      visibleAtMs: 0,
      appDisplayName: provisioningName,
      appOwnerOrganizationId: tenantId,
      appRoles: [],
      props: { displayName: provisioningName, servicePrincipalNames: [ids.provisioningAppId], tags: ['WindowsAzureActiveDirectoryIntegratedApp'] },
    },
    ownSp(tenantId, ids.readOnlySpId, ids.readOnlyAppId, READ_ONLY_APP_NAME),
    ownSp(tenantId, ids.botSpId, ids.botAppId, BOT_APP_NAME),
  ];

  const grant = (resourceId: string, appRoleId: string, n: number, principalId = ids.provisioningSpId): AssignmentRecord => ({
    id: base64url(createHash('sha256').update(`${tenantId}:assignment:${n}`).digest()),
    principalId,
    resourceId,
    appRoleId,
    createdDateTime: created,
  });
  const graphRole = (v: string) => GRAPH_APP_ROLES.find((r) => r.value === v)!.id;
  const appRoleAssignments = [
    grant(ids.graphSpId, graphRole('Application.ReadWrite.All'), 1),
    grant(ids.graphSpId, graphRole('AppRoleAssignment.ReadWrite.All'), 2),
    grant(ids.graphSpId, graphRole('Policy.Read.All'), 3),
    grant(ids.exchangeSpId, EXCHANGE_MANAGE_AS_APP_ROLE_ID, 4),
    ...READ_ONLY_GRAPH_ROLES.map((v, i) => grant(ids.graphSpId, graphRole(v), 101 + i, ids.readOnlySpId)),
    grant(ids.exchangeSpId, EXCHANGE_MANAGE_AS_APP_ROLE_ID, 110, ids.readOnlySpId),
  ];
  const directoryRoleAssignments: DirectoryRoleAssignmentRecord[] = [
    {
      id: derivedGuid(tenantId, 'roleAssignment:provisioning:exchange-admin'),
      roleDefinitionId: DIRECTORY_ROLES['Exchange Administrator'],
      principalId: ids.provisioningSpId,
      directoryScopeId: '/',
    },
    {
      id: derivedGuid(tenantId, 'roleAssignment:read-only:global-reader'),
      roleDefinitionId: DIRECTORY_ROLES['Global Reader'],
      principalId: ids.readOnlySpId,
      directoryScopeId: '/',
    },
  ];

  const users: UserRecord[] = [];
  const recipients: RecipientRecord[] = [];
  let rid = 1100;
  const mailbox = (alias: string, displayName: string, type: 'UserMailbox' | 'SharedMailbox') => {
    const userId = seededUserId(tenantId, alias);
    const smtp = `${alias}@${defaultDomain}`;
    const roles = SEEDED_USER_ROLES[alias];
    users.push({ id: userId, userPrincipalName: smtp, displayName, mail: smtp, ...(roles ? { directoryRoles: [...roles] } : {}) });
    recipients.push({
      guid: derivedGuid(tenantId, `recipient:${alias}`),
      externalDirectoryObjectId: userId,
      name: alias,
      alias,
      displayName,
      primarySmtpAddress: smtp,
      emailAddresses: [`SMTP:${smtp}`, `smtp:${alias}@${onMicrosoft}`],
      recipientTypeDetails: type,
      sid: sidFor(tenantId, rid++),
      whenCreatedUtc: created,
      visibleAtMs: 0,
    });
  };
  mailbox(SEEDED_MAILBOXES.info, 'Info', 'UserMailbox');
  mailbox(SEEDED_MAILBOXES.faktura, 'Faktura', 'UserMailbox');
  mailbox(SEEDED_MAILBOXES.outside, 'Verkställande direktör', 'UserMailbox');
  mailbox(SEEDED_MAILBOXES.shared, 'Kundtjänst', 'SharedMailbox');
  mailbox(SEEDED_MAILBOXES.admin, 'Administratör', 'UserMailbox');
  // A licensed-less user: exists in Entra, has no Exchange mailbox (negative tests) [OBS docs/microsoft-facts.md §10].
  users.push({
    id: seededUserId(tenantId, NO_MAILBOX_USER_ALIAS),
    userPrincipalName: `${NO_MAILBOX_USER_ALIAS}@${defaultDomain}`,
    displayName: 'Ingen Brevlåda',
    mail: null,
  });
  recipients.push({
    guid: derivedGuid(tenantId, 'recipient:leverantor'),
    externalDirectoryObjectId: derivedGuid(tenantId, 'contact:leverantor'),
    name: 'Leverantör AB',
    alias: 'leverantor',
    displayName: 'Leverantör AB',
    primarySmtpAddress: MAIL_CONTACT_ADDRESS,
    emailAddresses: [`SMTP:${MAIL_CONTACT_ADDRESS}`],
    externalEmailAddress: `SMTP:${MAIL_CONTACT_ADDRESS}`,
    recipientTypeDetails: 'MailContact',
    sid: sidFor(tenantId, rid++),
    whenCreatedUtc: created,
    visibleAtMs: 0,
  });
  const memberGuids = [SEEDED_MAILBOXES.info, SEEDED_MAILBOXES.faktura, SEEDED_MAILBOXES.outside].map((a) => derivedGuid(tenantId, `recipient:${a}`));
  recipients.push({
    guid: derivedGuid(tenantId, `recipient:${DISTRIBUTION_LIST_ALIAS}`),
    externalDirectoryObjectId: derivedGuid(tenantId, `group:${DISTRIBUTION_LIST_ALIAS}`),
    name: 'Alla',
    alias: DISTRIBUTION_LIST_ALIAS,
    displayName: 'Alla',
    primarySmtpAddress: `${DISTRIBUTION_LIST_ALIAS}@${defaultDomain}`,
    emailAddresses: [`SMTP:${DISTRIBUTION_LIST_ALIAS}@${defaultDomain}`, `smtp:${DISTRIBUTION_LIST_ALIAS}@${onMicrosoft}`],
    recipientTypeDetails: 'MailUniversalDistributionGroup',
    sid: sidFor(tenantId, rid++),
    whenCreatedUtc: created,
    visibleAtMs: 0,
    members: memberGuids,
    managedBy: [],
  });

  return {
    version: 1,
    tenantId,
    shortName,
    defaultDomain,
    applications,
    servicePrincipals,
    appRoleAssignments,
    directoryRoleAssignments,
    users,
    recipients,
    accessPolicies: [],
    sentMail: [],
    exoServicePrincipals: [],
    managementScopes: [],
    roleAssignments: [],
    // Hydrated by default so the script's own path is unaffected; tests dehydrate it with sim.setOrganization().
    organization: { isDehydrated: false },
    delegatedConsents: BOT_APP_CONSENTS.map((c) => ({ clientAppId: ids.botAppId, resource: c.resource, scopes: [...c.scopes] })),
  };
}

export function newSid(tenantId: string, existing: RecipientRecord[]): string {
  const used = new Set(existing.map((r) => r.sid));
  for (let rid = 5000 + existing.length; ; rid++) {
    const sid = sidFor(tenantId, rid);
    if (!used.has(sid)) return sid;
  }
}

export function isVisible(o: { visibleAtMs: number }, now = Date.now()): boolean {
  return now >= o.visibleAtMs;
}

export function loadState(path: string): TenantState | null {
  if (!existsSync(path)) return null;
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as TenantState;
  if (parsed.version !== 1 || typeof parsed.tenantId !== 'string') throw new Error(`${path} is not a simulator state file (version 1)`);
  return parsed;
}

/** Atomic: write a sibling temp file, then rename over the target, so a crash never leaves half a file. */
export function saveState(path: string, state: TenantState): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 1), { mode: 0o600 });
  renameSync(tmp, path);
}
