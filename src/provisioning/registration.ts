/**
 * Read-only facts about one Opter registration in the tenant: the app, its service principal, the Graph Mail.Send
 * grant, the sender group and its members, access policies, and the RBAC-for-Applications objects. Every lifecycle
 * job starts from these (its "locate" step), and status/list/drift reads them. Makes no writes.
 */
import { OpterError } from '../core/errors';
import type {
  AccessPolicy,
  Application,
  DirectoryPort,
  DistributionGroup,
  ExchangeLifecyclePort,
  ExchangePort,
  ExchangeServicePrincipal,
  ManagementRoleAssignment,
  PasswordCredentialInfo,
} from '../core/ports';
import { GRAPH_APP_ID, RBAC_MAIL_SEND_ROLE, RBAC_ROLES_WITH_MAIL_SEND, roleAssignmentNameFor, testSecretNameFor, uniqueNameFor } from './identity';
import type { DerivedNames } from './names';

/** What the tenant shows, whatever was intended: both models at once is a migration in progress (or drift). */
export type ScopingState = 'access-policy' | 'rbac' | 'mixed' | 'unscoped';

export interface GroupFacts {
  identity: string;
  smtp: string;
  name: string;
  alias: string;
  guid: string;
  externalDirectoryObjectId: string | null;
  recipientTypeDetails: string;
}

export interface RegistrationFacts {
  names: DerivedNames;
  app: { objectId: string; appId: string; displayName: string; uniqueName: string | null; managedByUs: boolean };
  /** Other app registrations with the same display name. */
  duplicates: number;
  secrets: PasswordCredentialInfo[];
  servicePrincipal: { objectId: string } | null;
  /** The tenant-wide Graph Mail.Send application grant, if the service principal holds it. */
  graphMailSend: { assignmentId: string; resourceId: string; appRoleId: string } | null;
  group: GroupFacts | null;
  /** Primary SMTP addresses of the group's direct members. */
  members: string[];
  /** Direct members that are groups: neither RBAC group scope nor (in our model) access policies reach inside them. */
  nestedGroups: string[];
  /** Every access policy for this app. */
  accessPolicies: AccessPolicy[];
  /** The RestrictAccess policy scoped to the sender group (the script's policy), if present. */
  restrictPolicy: AccessPolicy | null;
  exchangeServicePrincipal: ExchangeServicePrincipal | null;
  /** Role assignments of the app's Exchange service principal that carry Mail.Send. */
  mailSendRoleAssignments: ManagementRoleAssignment[];
  /** `Application Mail.Send` scoped to the sender group (what `--scoping rbac` creates), if present. */
  scopedRoleAssignment: ManagementRoleAssignment | null;
  scoping: ScopingState;
  /** False when the identity may not read RBAC for Applications: the RBAC fields above are then unknown, not empty. */
  rbacChecked: boolean;
  /** What could not be checked because the provisioning identity may not run the read (least privilege). */
  unchecked: string[];
}

/**
 * The RBAC for Applications reads, which an identity holding only what the access-policy script needs may not run:
 * Exchange hides cmdlets outside the caller's roles (403), and these belong to the Role Management role
 * (docs/permissions.md). A refusal is recorded ("not checked") instead of failing the caller, and once refused they
 * are not tried again in this survey.
 */
export class RbacReads {
  private refused: string | null = null;

  async read<T>(cmdlet: string, fallback: T, read: () => Promise<T>): Promise<T> {
    if (this.refused) return fallback;
    try {
      return await read();
    } catch (e) {
      if (!(e instanceof OpterError) || e.code !== 'E_EXCHANGE_PERMISSION') throw e;
      this.refused = cmdlet;
      return fallback;
    }
  }

  /** The cmdlet Exchange refused, or null when every RBAC read ran. */
  get refusedCmdlet(): string | null {
    return this.refused;
  }
}

export function rbacNotChecked(cmdlet: string): string {
  return `RBAC for Applications was not checked: the provisioning identity may not run ${cmdlet} (Exchange's Role Management role). An RBAC role assignment of this app made outside the bot would not show here.`;
}

type Ports = { directory: DirectoryPort; exchange: ExchangePort & ExchangeLifecyclePort };

/**
 * The app for these names: by client id when known, else by display name (our uniqueName first, a single match
 * otherwise). Null when there is none; E_APP_NAME_AMBIGUOUS when several match and none is ours.
 */
export async function findRegistrationApp(directory: DirectoryPort, names: DerivedNames, appId?: string): Promise<{ app: Application; duplicates: number } | null> {
  if (appId) {
    const app = await directory.getApplicationByAppId(appId);
    return app ? { app, duplicates: 0 } : null;
  }
  const apps = (await directory.findApplicationsByDisplayName(names.appDisplayName)).filter((a) => a.displayName === names.appDisplayName);
  if (apps.length === 0) return null;
  const app = apps.find((a) => a.uniqueName === uniqueNameFor(names)) ?? (apps.length === 1 ? apps[0] : undefined);
  if (!app) {
    throw new OpterError('E_APP_NAME_AMBIGUOUS', { detail: `${apps.length} registrations are named "${names.appDisplayName}" (client ids ${apps.map((a) => a.appId).join(', ')})` });
  }
  return { app, duplicates: apps.length - 1 };
}

export function groupFacts(g: DistributionGroup): GroupFacts {
  return {
    identity: g.identity,
    smtp: g.primarySmtpAddress,
    name: g.name,
    alias: g.alias,
    guid: g.guid,
    externalDirectoryObjectId: g.externalDirectoryObjectId,
    recipientTypeDetails: g.recipientTypeDetails,
  };
}

/** Does an access policy's scope name this group (by name, SMTP address, identity or object id)? */
export function policyTargetsGroup(p: AccessPolicy, group: GroupFacts): boolean {
  const keys = new Set([group.identity, group.smtp, group.name, group.guid, group.externalDirectoryObjectId ?? ''].filter(Boolean).map((k) => k.toLowerCase()));
  return keys.has(p.scopeName.toLowerCase()) || keys.has(p.scopeIdentity.toLowerCase());
}

/** Is a role assignment scoped to exactly this group (`-RecipientGroupScope`)? */
export function assignmentTargetsGroup(a: ManagementRoleAssignment, group: GroupFacts): boolean {
  const scope = a.recipientGroupScope;
  if (!scope) return false;
  if (scope.guid && group.guid) return scope.guid.toLowerCase() === group.guid.toLowerCase();
  return scope.name.toLowerCase() === group.name.toLowerCase();
}

/** The Exchange service principal pointer an assignment may belong to: its identity and (for names) its DisplayName. */
export interface AssigneeIdentity {
  /** The Entra service principal's object id (the pointer's ObjectId). */
  objectId: string;
  appId: string;
  /** The pointer's DisplayName (what `New-ServicePrincipal -DisplayName` was given). */
  displayName?: string | null;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Whose is a role assignment? Exchange reports the assignee's identity in `RoleAssignee` and, for an app, the
 * pointer's name in `RoleAssigneeName`; public scripts read either field (docs/simulator.md "RBAC for
 * Applications"), so both are looked at:
 * - `ours`: a field carries our object id or app id, or (no identity shown at all) our pointer's name;
 * - `other`: an identity (a GUID) is shown and it is not ours;
 * - `unknown`: only a name that is not our pointer's — never a reason to delete anything.
 */
export function assignmentHolder(a: Pick<ManagementRoleAssignment, 'roleAssignee' | 'roleAssigneeName'>, sp: AssigneeIdentity): 'ours' | 'other' | 'unknown' {
  const shown = [a.roleAssignee, a.roleAssigneeName].map((v) => (v ?? '').trim().toLowerCase()).filter(Boolean);
  const ids = new Set([sp.objectId, sp.appId].map((v) => v.toLowerCase()));
  if (shown.some((v) => ids.has(v))) return 'ours';
  if (shown.some((v) => GUID.test(v))) return 'other';
  if (sp.displayName && shown.includes(sp.displayName.trim().toLowerCase())) return 'ours';
  return 'unknown';
}

export function scopingOf(f: Pick<RegistrationFacts, 'accessPolicies' | 'scopedRoleAssignment' | 'mailSendRoleAssignments'>): ScopingState {
  const rbac = !!f.scopedRoleAssignment || f.mailSendRoleAssignments.length > 0;
  const policy = f.accessPolicies.some((p) => p.accessRight === 'RestrictAccess');
  if (rbac && policy) return 'mixed';
  if (rbac) return 'rbac';
  if (policy) return 'access-policy';
  return 'unscoped';
}

/** The Graph Mail.Send application role and the Graph service principal's id. */
export async function graphMailSendRole(directory: DirectoryPort): Promise<{ resourceId: string; appRoleId: string }> {
  const graphSp = await directory.getServicePrincipalByAppId(GRAPH_APP_ID);
  if (!graphSp) throw new OpterError('E_INTERNAL', { detail: 'Microsoft Graph service principal not found in tenant.' });
  const role = graphSp.appRoles.find((r) => r.value === 'Mail.Send' && r.allowedMemberTypes.includes('Application'));
  if (!role) throw new OpterError('E_INTERNAL', { detail: "Could not find Microsoft Graph app role 'Mail.Send' (Application)." });
  return { resourceId: graphSp.id, appRoleId: role.id };
}

/** Everything about one registration. Null when no app registration matches. */
export async function readRegistration(ports: Ports, names: DerivedNames, opts: { appId?: string; rbacReads?: RbacReads } = {}): Promise<RegistrationFacts | null> {
  const { directory, exchange } = ports;
  const rbacReads = opts.rbacReads ?? new RbacReads();
  const found = await findRegistrationApp(directory, names, opts.appId);
  if (!found) return null;
  const { app } = found;
  const sp = await directory.getServicePrincipalByAppId(app.appId);
  // The Exchange pointer is keyed by the Entra service principal's object id [docs/microsoft-facts.md §9.1].
  const [rawGroup, allPolicies, exoSp] = await Promise.all([
    exchange.getDistributionGroup(names.groupAlias),
    exchange.getApplicationAccessPolicies(),
    sp ? rbacReads.read('Get-ServicePrincipal', null, () => exchange.getExchangeServicePrincipal(sp.id)) : Promise.resolve(null),
  ]);
  const group = rawGroup ? groupFacts(rawGroup) : null;

  let graphMailSend: RegistrationFacts['graphMailSend'] = null;
  if (sp) {
    const role = await graphMailSendRole(directory);
    const held = await directory.listAppRoleAssignments(sp.id);
    const a = held.find((x) => x.resourceId === role.resourceId && x.appRoleId === role.appRoleId);
    if (a) graphMailSend = { assignmentId: a.id, resourceId: a.resourceId, appRoleId: a.appRoleId };
  }
  const memberRecords = group ? await exchange.getDistributionGroupMembers(group.identity) : [];
  const members = memberRecords.map((m) => m.primarySmtpAddress);
  const nestedGroups = memberRecords.filter((m) => /Group$/i.test(m.recipientTypeDetails)).map((m) => m.primarySmtpAddress);
  const accessPolicies = allPolicies.filter((p) => p.appId.toLowerCase() === app.appId.toLowerCase());
  const restrictPolicy = group ? (accessPolicies.find((p) => p.accessRight === 'RestrictAccess' && policyTargetsGroup(p, group)) ?? null) : null;

  let mailSendRoleAssignments: ManagementRoleAssignment[] = [];
  if (exoSp) {
    // By assignee, plus our own assignment by name: whether -RoleAssignee accepts a service principal pointer is
    // [UNCONF] (docs/microsoft-facts.md §9.3 only documents look-ups by name), so the assignment we create is found either way.
    const [byAssignee, byName] = await rbacReads.read('Get-ManagementRoleAssignment', [[], []] as ManagementRoleAssignment[][], () =>
      Promise.all([
        exchange.getManagementRoleAssignments({ roleAssignee: exoSp.objectId }),
        exchange.getManagementRoleAssignments({ identity: roleAssignmentNameFor(names) }),
      ]),
    );
    const mine = new Map([...byAssignee, ...byName].filter((a) => assignmentHolder(a, exoSp) === 'ours').map((a) => [a.name.toLowerCase(), a]));
    mailSendRoleAssignments = [...mine.values()].filter((a) => RBAC_ROLES_WITH_MAIL_SEND.some((r) => r.toLowerCase() === a.role.toLowerCase()));
  }
  const preferredName = roleAssignmentNameFor(names).toLowerCase();
  const scopedCandidates = group
    ? mailSendRoleAssignments.filter((a) => a.role.toLowerCase() === RBAC_MAIL_SEND_ROLE.toLowerCase() && assignmentTargetsGroup(a, group))
    : [];
  const scopedRoleAssignment = scopedCandidates.find((a) => a.name.toLowerCase() === preferredName) ?? scopedCandidates[0] ?? null;

  const facts: Omit<RegistrationFacts, 'scoping'> = {
    names,
    app: { objectId: app.id, appId: app.appId, displayName: app.displayName, uniqueName: app.uniqueName, managedByUs: app.uniqueName === uniqueNameFor(names) },
    duplicates: found.duplicates,
    secrets: app.passwordCredentials,
    servicePrincipal: sp ? { objectId: sp.id } : null,
    graphMailSend,
    group,
    members,
    nestedGroups,
    accessPolicies,
    restrictPolicy,
    exchangeServicePrincipal: exoSp,
    mailSendRoleAssignments,
    scopedRoleAssignment,
    rbacChecked: !rbacReads.refusedCmdlet,
    unchecked: rbacReads.refusedCmdlet ? [rbacNotChecked(rbacReads.refusedCmdlet)] : [],
  };
  return { ...facts, scoping: scopingOf(facts) };
}

/** The registration's own client secrets (the short-lived test-email secrets left out). */
export function registrationSecrets(facts: Pick<RegistrationFacts, 'secrets' | 'names'>): PasswordCredentialInfo[] {
  const testName = testSecretNameFor(facts.names);
  return facts.secrets.filter((s) => s.displayName !== testName);
}

/** The latest expiry among live secrets, or null. */
export function latestSecretExpiry(secrets: PasswordCredentialInfo[], now: Date): string | null {
  const live = secrets.filter((s) => new Date(s.endDateTime) > now).map((s) => s.endDateTime);
  return live.length ? live.sort().at(-1)! : null;
}
