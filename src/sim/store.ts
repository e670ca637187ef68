/** Tenant state plus the queries every family shares (visibility, roles, recipients, access policy evaluation). */
import { DIRECTORY_ROLES } from './catalog';
import { isVisible, saveState, type AppRecord, type RecipientRecord, type SpRecord, type TenantState } from './tenant';

export type Resolution<T> = { kind: 'one'; value: T } | { kind: 'none' } | { kind: 'many'; values: T[] };

export class TenantStore {
  constructor(
    public state: TenantState,
    private readonly stateFile: string | undefined,
  ) {}

  /** Call after every mutation: persists the state (atomically) when a state file is configured. */
  commit(): void {
    if (this.stateFile) saveState(this.stateFile, this.state);
  }

  get onMicrosoftDomain(): string {
    return `${this.state.shortName}.onmicrosoft.com`;
  }

  acceptedDomains(): string[] {
    return [this.state.defaultDomain, this.onMicrosoftDomain];
  }

  /** A tenant path segment may be the GUID or any accepted domain [OBS J1, U6 for Exchange; Entra accepts both]. */
  matchesTenant(segment: string): boolean {
    const s = segment.toLowerCase();
    return s === this.state.tenantId.toLowerCase() || this.acceptedDomains().some((d) => d.toLowerCase() === s);
  }

  app(pred: (a: AppRecord) => boolean, opts: { includeReplicating?: boolean } = {}): AppRecord | undefined {
    return this.state.applications.find((a) => pred(a) && (opts.includeReplicating || isVisible(a)));
  }

  sp(pred: (s: SpRecord) => boolean, opts: { includeReplicating?: boolean } = {}): SpRecord | undefined {
    return this.state.servicePrincipals.find((s) => pred(s) && (opts.includeReplicating || isVisible(s)));
  }

  /** Role values the principal holds on the resource (what goes into the token's `roles`). */
  grantedRoleValues(principalId: string, resourceSpId: string): string[] {
    const resource = this.state.servicePrincipals.find((s) => s.id === resourceSpId);
    if (!resource) return [];
    const values: string[] = [];
    for (const a of this.state.appRoleAssignments) {
      if (a.principalId !== principalId || a.resourceId !== resourceSpId) continue;
      const role = resource.appRoles.find((r) => r.id === a.appRoleId);
      if (role?.value && !values.includes(role.value)) values.push(role.value);
    }
    return values;
  }

  directoryRoleTemplateIds(principalId: string): string[] {
    return this.state.directoryRoleAssignments.filter((r) => r.principalId === principalId).map((r) => r.roleDefinitionId);
  }

  // --- Exchange recipients -----------------------------------------------------------------------------------

  recipientByGuid(guid: string): RecipientRecord | undefined {
    return this.state.recipients.find((r) => r.guid === guid);
  }

  distinguishedName(r: RecipientRecord): string {
    return `CN=${r.name},OU=${this.onMicrosoftDomain},OU=Microsoft Exchange Hosted Organizations,DC=EURPR05A001,DC=PROD,DC=OUTLOOK,DC=COM`;
  }

  /**
   * Exchange's RecipientIdParameter: name, alias, display name, any proxy address, GUID, Entra object id or DN,
   * case-insensitive. Objects still replicating are invisible unless asked for.
   */
  resolveRecipient(identity: string, opts: { includeReplicating?: boolean; filter?: (r: RecipientRecord) => boolean } = {}): Resolution<RecipientRecord> {
    const id = identity.trim().toLowerCase().replace(/^smtp:/, '');
    const hits = this.state.recipients.filter((r) => {
      if (!opts.includeReplicating && !isVisible(r)) return false;
      if (opts.filter && !opts.filter(r)) return false;
      return (
        r.guid.toLowerCase() === id ||
        (r.externalDirectoryObjectId ?? '').toLowerCase() === id ||
        r.name.toLowerCase() === id ||
        r.alias.toLowerCase() === id ||
        r.displayName.toLowerCase() === id ||
        this.distinguishedName(r).toLowerCase() === id ||
        r.emailAddresses.some((p) => p.slice(p.indexOf(':') + 1).toLowerCase() === id)
      );
    });
    if (hits.length === 0) return { kind: 'none' };
    if (hits.length === 1) return { kind: 'one', value: hits[0]! };
    return { kind: 'many', values: hits };
  }

  isMailboxRecipient(r: RecipientRecord): boolean {
    return r.recipientTypeDetails === 'UserMailbox' || r.recipientTypeDetails === 'SharedMailbox';
  }

  isGroup(r: RecipientRecord): boolean {
    return r.recipientTypeDetails === 'MailUniversalSecurityGroup' || r.recipientTypeDetails === 'MailUniversalDistributionGroup';
  }

  /** The mailbox behind an Entra user (users/{id|upn}), if it has one. */
  mailboxOfUser(userId: string): RecipientRecord | undefined {
    return this.state.recipients.find((r) => r.externalDirectoryObjectId === userId && this.isMailboxRecipient(r));
  }

  /** Direct members only: docs/microsoft-facts.md does not establish that access policies expand nested groups. */
  private scopeCovers(scope: RecipientRecord, mailbox: RecipientRecord): boolean {
    if (scope.guid === mailbox.guid) return true;
    return (scope.members ?? []).includes(mailbox.guid);
  }

  /**
   * Application Access Policy evaluation [DOC X2, G11]: a Deny policy covering the mailbox denies; otherwise, if
   * the app has Restrict policies, the mailbox must be in one of their scopes; no policy at all grants.
   * `asEnforcedAt` (Graph's view) leaves out policies that have not propagated yet [DOC G11].
   */
  accessCheck(appId: string, mailbox: RecipientRecord, opts: { asEnforcedAt?: number } = {}): 'Granted' | 'Denied' {
    const policies = this.state.accessPolicies.filter(
      (p) =>
        (p.appId.toLowerCase() === appId.toLowerCase() || p.appId === '*') &&
        (opts.asEnforcedAt === undefined || (p.enforcedAtMs ?? 0) <= opts.asEnforcedAt),
    );
    const covers = (p: (typeof policies)[number]) => {
      const scope = this.recipientByGuid(p.scopeGuid);
      return scope ? this.scopeCovers(scope, mailbox) : false;
    };
    if (policies.some((p) => p.accessRight === 'DenyAccess' && covers(p))) return 'Denied';
    const restrict = policies.filter((p) => p.accessRight === 'RestrictAccess');
    if (restrict.length > 0 && !restrict.some(covers)) return 'Denied';
    return 'Granted';
  }
}

export const EXCHANGE_CAPABLE_ROLES: string[] = [
  DIRECTORY_ROLES['Global Administrator'],
  DIRECTORY_ROLES['Exchange Administrator'],
  DIRECTORY_ROLES['Exchange Recipient Administrator'],
  DIRECTORY_ROLES['Global Reader'],
];
