/**
 * Read-only view of what exists in the tenant for one Opter registration name (`opter-mail status`, the bot's
 * status card, drift detection). Makes no writes.
 */
import type { AccessPolicy, DirectoryPort, ExchangePort, PasswordCredentialInfo, Recipient } from '../core/ports';
import { GRAPH_APP_ID, uniqueNameFor } from './engine';
import { deriveNames, type NameOverrides, type DerivedNames } from './names';

export interface RegistrationStatus {
  names: DerivedNames;
  app: { objectId: string; appId: string; displayName: string; managedByUs: boolean } | null;
  duplicates: number;
  servicePrincipal: { objectId: string } | null;
  mailSendGranted: boolean;
  group: { identity: string; smtp: string; name: string; type: string } | null;
  members: string[];
  policies: AccessPolicy[];
  secrets: PasswordCredentialInfo[];
  problems: string[];
}

export async function inspectRegistration(
  deps: { directory: DirectoryPort; exchange: ExchangePort; now: Date },
  appDisplayName: string,
  overrides?: NameOverrides,
): Promise<RegistrationStatus> {
  const { directory, exchange } = deps;
  const names = deriveNames(appDisplayName, overrides);
  const problems: string[] = [];
  const [apps, group] = await Promise.all([
    directory.findApplicationsByDisplayName(names.appDisplayName).then((l) => l.filter((a) => a.displayName === names.appDisplayName)),
    exchange.getDistributionGroup(names.groupAlias),
  ]);
  const app = apps.find((a) => a.uniqueName === uniqueNameFor(names)) ?? apps[0] ?? null;
  if (apps.length > 1) problems.push(`${apps.length} app registrations are named "${names.appDisplayName}".`);

  let sp: { id: string } | null = null;
  let mailSendGranted = false;
  let policies: AccessPolicy[] = [];
  if (app) {
    const [foundSp, graphSp, allPolicies] = await Promise.all([
      directory.getServicePrincipalByAppId(app.appId),
      directory.getServicePrincipalByAppId(GRAPH_APP_ID),
      exchange.getApplicationAccessPolicies(),
    ]);
    sp = foundSp;
    policies = allPolicies.filter((p) => p.appId.toLowerCase() === app.appId.toLowerCase());
    if (sp && graphSp) {
      const role = graphSp.appRoles.find((r) => r.value === 'Mail.Send' && r.allowedMemberTypes.includes('Application'));
      const held = await directory.listAppRoleAssignments(sp.id);
      mailSendGranted = !!role && held.some((a) => a.resourceId === graphSp.id && a.appRoleId === role.id);
    }
    if (!sp) problems.push('The app has no service principal (enterprise app).');
    if (!mailSendGranted) problems.push('Mail.Send (Application) is not granted.');
    if (!policies.some((p) => p.accessRight === 'RestrictAccess')) problems.push('No access policy restricts the app: it can send as ANY mailbox.');
    const live = app.passwordCredentials.filter((c) => new Date(c.endDateTime) > deps.now);
    if (live.length === 0) problems.push('The app has no unexpired client secret.');
  }
  let members: Recipient[] = [];
  if (group) members = await exchange.getDistributionGroupMembers(group.identity);
  else problems.push(`The group ${names.groupAlias} does not exist.`);

  return {
    names,
    app: app ? { objectId: app.id, appId: app.appId, displayName: app.displayName, managedByUs: app.uniqueName === uniqueNameFor(names) } : null,
    duplicates: Math.max(0, apps.length - 1),
    servicePrincipal: sp ? { objectId: sp.id } : null,
    mailSendGranted,
    group: group ? { identity: group.identity, smtp: group.primarySmtpAddress, name: group.name, type: group.recipientTypeDetails } : null,
    members: members.map((m) => m.primarySmtpAddress),
    policies,
    secrets: app?.passwordCredentials ?? [],
    problems,
  };
}
