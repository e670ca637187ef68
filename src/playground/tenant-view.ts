/**
 * What the playground's side panel shows of the simulated tenant: the objects the bot creates and changes, in words
 * a person reads. Built by whitelisting fields from the simulator snapshot, so a secret value (or its hint) can
 * never reach the page even if the snapshot grew new fields.
 */
import type { TenantSnapshot } from '../sim';

export interface PanelSecret {
  keyId: string;
  displayName: string | null;
  startDateTime: string | null;
  endDateTime: string | null;
}

export interface PanelApp {
  id: string;
  appId: string;
  displayName: string;
  uniqueName: string | null;
  createdDateTime: string | null;
  secrets: PanelSecret[];
  certificates: number;
  /** Requested API permissions as "Resource: Permission". */
  requestedPermissions: string[];
  isNew: boolean;
}

export interface PanelServicePrincipal {
  id: string;
  appId: string;
  displayName: string;
  firstParty: boolean;
  isNew: boolean;
}

export interface PanelGrant {
  id: string;
  principal: string;
  resource: string;
  permission: string;
  createdDateTime: string | null;
  isNew: boolean;
}

export interface PanelGroup {
  guid: string;
  displayName: string;
  primarySmtpAddress: string;
  type: string;
  members: string[];
  replicated: boolean;
  isNew: boolean;
}

export interface PanelPolicy {
  identity: string;
  appId: string;
  appName: string | null;
  scope: string;
  accessRight: string;
  description: string;
  isNew: boolean;
}

/** A mailbox of the tenant: what can be typed as a sender (or what the bot refuses as one). */
export interface PanelMailbox {
  address: string;
  displayName: string;
  /** Exchange's RecipientTypeDetails: UserMailbox, SharedMailbox, … */
  type: string;
}

export interface PanelMail {
  at: string;
  from: string;
  to: string[];
  subject: string;
}

export interface TenantPanel {
  tenantId: string;
  domains: string[];
  /** The tenant's mailboxes, so a person knows which addresses exist to use as senders. */
  mailboxes: PanelMailbox[];
  apps: PanelApp[];
  servicePrincipals: PanelServicePrincipal[];
  grants: PanelGrant[];
  groups: PanelGroup[];
  policies: PanelPolicy[];
  mail: PanelMail[];
}

/** Ids present when the playground started; anything else is marked new. */
export interface Baseline {
  ids: Set<string>;
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

function list(v: unknown): Record<string, unknown>[] {
  return Array.isArray(v) ? v.filter((x): x is Record<string, unknown> => !!x && typeof x === 'object') : [];
}

export function baselineOf(s: TenantSnapshot): Baseline {
  const ids = new Set<string>();
  for (const a of s.applications) ids.add(String(a.id));
  for (const sp of s.servicePrincipals) ids.add(String(sp.id));
  for (const g of s.appRoleAssignments) ids.add(String(g.id));
  for (const g of s.groups) ids.add(g.guid);
  for (const p of s.accessPolicies) ids.add(p.identity);
  return { ids };
}

export function tenantPanel(s: TenantSnapshot, baseline: Baseline): TenantPanel {
  const isNew = (id: string) => !baseline.ids.has(id);
  const spByAppId = new Map(s.servicePrincipals.map((sp) => [String(sp.appId), sp]));
  const spById = new Map(s.servicePrincipals.map((sp) => [String(sp.id), sp]));
  const roleName = (resource: Record<string, unknown> | undefined, roleId: string): string => {
    const role = list(resource?.appRoles).find((r) => r.id === roleId);
    return str(role?.value) ?? roleId;
  };
  const appName = new Map(s.applications.map((a) => [String(a.appId), str(a.displayName)]));

  const apps: PanelApp[] = s.applications.map((a) => {
    const required = list(a.requiredResourceAccess).flatMap((rra) => {
      const resource = spByAppId.get(String(rra.resourceAppId));
      const resourceName = str(resource?.displayName) ?? String(rra.resourceAppId);
      return list(rra.resourceAccess).map((ra) => `${resourceName}: ${roleName(resource, String(ra.id))}`);
    });
    return {
      id: String(a.id),
      appId: String(a.appId),
      displayName: str(a.displayName) ?? '(no name)',
      uniqueName: str(a.uniqueName),
      createdDateTime: str(a.createdDateTime),
      // Only the credential's id, name and validity — never secretText or hint.
      secrets: list(a.passwordCredentials).map((p) => ({
        keyId: String(p.keyId),
        displayName: str(p.displayName),
        startDateTime: str(p.startDateTime),
        endDateTime: str(p.endDateTime),
      })),
      certificates: list(a.keyCredentials).length,
      requestedPermissions: required,
      isNew: isNew(String(a.id)),
    };
  });

  const servicePrincipals: PanelServicePrincipal[] = s.servicePrincipals.map((sp) => ({
    id: String(sp.id),
    appId: String(sp.appId),
    displayName: str(sp.displayName) ?? str(sp.appDisplayName) ?? String(sp.appId),
    firstParty: str(sp.appOwnerOrganizationId) !== s.tenantId,
    isNew: isNew(String(sp.id)),
  }));

  const grants: PanelGrant[] = s.appRoleAssignments.map((g) => {
    const resource = spById.get(String(g.resourceId));
    return {
      id: String(g.id),
      principal: str(g.principalDisplayName) ?? String(g.principalId),
      resource: str(g.resourceDisplayName) ?? String(g.resourceId),
      permission: roleName(resource, String(g.appRoleId)),
      createdDateTime: str(g.createdDateTime),
      isNew: isNew(String(g.id)),
    };
  });

  const groups: PanelGroup[] = s.groups.map((g) => ({
    guid: g.guid,
    displayName: g.displayName,
    primarySmtpAddress: g.primarySmtpAddress,
    type: g.recipientTypeDetails,
    members: [...g.members],
    replicated: g.replicated,
    isNew: isNew(g.guid),
  }));

  const policies: PanelPolicy[] = s.accessPolicies.map((p) => ({
    identity: p.identity,
    appId: p.appId,
    appName: appName.get(p.appId) ?? null,
    scope: p.scope,
    accessRight: p.accessRight,
    description: p.description,
    isNew: isNew(p.identity),
  }));

  // Who sent what, never the body: a test mail is the product's business, the panel only proves it went out.
  const mail: PanelMail[] = s.sentMail.slice(-10).map((m) => ({ at: m.at, from: m.from, to: [...m.to], subject: m.subject }));

  const userName = new Map(s.users.map((u) => [u.id, u.displayName]));
  const mailboxes: PanelMailbox[] = s.mailboxes
    .map((m) => ({ address: m.primarySmtpAddress, displayName: (m.userId ? userName.get(m.userId) : undefined) ?? m.name, type: m.recipientTypeDetails }))
    .sort((a, b) => a.address.localeCompare(b.address));

  return { tenantId: s.tenantId, domains: [...s.domains], mailboxes, apps, servicePrincipals, grants, groups, policies, mail };
}
