/**
 * Exchange Online admin REST: `POST /adminapi/beta/{tenant}/InvokeCommand` with `{"CmdletInput":{...}}`
 * [docs/microsoft-facts.md §7, §8]. Success and error envelopes, paging, RBAC and replication as observed.
 */
import { createHash } from 'node:crypto';
import { authenticate, revokedFor, type Caller } from './auth';
import { DIRECTORY_ROLES, EXCHANGE_APP_ID, EXCHANGE_MANAGE_SCOPE } from './catalog';
import { header, isPlainObject, isoNow, type SimContext, type SimReply, type SimRequest } from './http';
import { base64url, isGuid, newGuid } from './ids';
import { opathPredicate, parseOpath } from './opath';
import { EXCHANGE_CAPABLE_ROLES, type Resolution } from './store';
import { APPLICATION_ROLES, applicationRoleName, describeScope, exoServicePrincipals, roleAssignments, scopeCovers } from './rbac';
import {
  isVisible,
  newSid,
  type ExoServicePrincipalRecord,
  type ManagementScopeRecord,
  type OrganizationRecord,
  type PolicyRecord,
  type RecipientRecord,
  type RoleAssignmentRecord,
  type RoleAssignmentScope,
} from './tenant';

const DOMAIN_CONTROLLER = 'HE1PR05A001DC01.EURPR05A001.PROD.OUTLOOK.COM';
const MAX_PAGE = 1000;

type ErrorFormat = 'ex' | 'json';

/**
 * A cmdlet failure. Two detail formats are observed [OBS U4, U5, docs/microsoft-facts.md §7.6]; the simulator uses
 * `ExXXXXXX|Type|text` for everything except "already exists" conditions, which use the JSON-string form.
 * Ex codes other than Ex6F9304 / Ex41BAF5 / Ex94914C (seen in the facts) are made up and stable.
 */
export class CmdletError extends Error {
  constructor(
    readonly status: 400 | 404 | 500,
    readonly typeName: string,
    readonly text: string,
    readonly format: ErrorFormat = 'ex',
    readonly exCode = 'Ex' + createHash('sha1').update(typeName).digest('hex').slice(0, 6).toUpperCase(),
  ) {
    super(text);
  }
}

const notFoundOn = (identity: string, exCode = 'Ex6F9304') =>
  new CmdletError(404, 'Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException', `The operation couldn't be performed because object '${identity}' couldn't be found on '${DOMAIN_CONTROLLER}'.`, 'ex', exCode);

const couldNotFind = (identity: string) =>
  new CmdletError(404, 'Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException', `Couldn't find object "${identity}". Please make sure that it was spelled correctly or specify a different object.`, 'ex', 'Ex94914C');

const ambiguous = (identity: string) =>
  new CmdletError(400, 'Microsoft.Exchange.Configuration.Tasks.ManagementObjectAmbiguousException', `The operation couldn't be performed because '${identity}' matches multiple entries.`);

const missingMandatory = (names: string[]) =>
  new CmdletError(400, 'System.Management.Automation.ParameterBindingException', `Cannot process command because of one or more missing mandatory parameters: ${names.join(' ')}.`);

const invalidArgument = (param: string, text: string) =>
  new CmdletError(400, 'System.Management.Automation.ParameterBindingException', `Cannot bind parameter '${param}'. ${text}`);

// ------------------------------------------------------------------------------------------------------------
// Output shapes
// ------------------------------------------------------------------------------------------------------------

/** Adds the `Prop@odata.type: #Collection(String)` siblings seen in captured responses [OBS U6]. */
function annotate(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    if (Array.isArray(v)) out[`${k}@odata.type`] = '#Collection(String)';
    out[k] = v;
  }
  return out;
}

function recipientType(r: RecipientRecord): string {
  return r.recipientTypeDetails === 'SharedMailbox' ? 'UserMailbox' : r.recipientTypeDetails;
}

function recipientRow(ctx: SimContext, r: RecipientRecord): Record<string, unknown> {
  return {
    Identity: r.name,
    Name: r.name,
    Alias: r.alias,
    DisplayName: r.displayName,
    PrimarySmtpAddress: r.primarySmtpAddress,
    EmailAddresses: r.emailAddresses,
    RecipientType: recipientType(r),
    RecipientTypeDetails: r.recipientTypeDetails,
    ExternalDirectoryObjectId: r.externalDirectoryObjectId ?? '',
    ExternalEmailAddress: r.externalEmailAddress ?? null,
    Guid: r.guid,
    ExchangeObjectId: r.guid,
    DistinguishedName: ctx.store.distinguishedName(r),
    OrganizationalUnit: `${ctx.store.onMicrosoftDomain}/Microsoft Exchange Hosted Organizations`,
    WhenCreatedUTC: r.whenCreatedUtc,
  };
}

function mailboxRow(ctx: SimContext, r: RecipientRecord): Record<string, unknown> {
  const user = ctx.store.state.users.find((u) => u.id === r.externalDirectoryObjectId);
  return {
    ...recipientRow(ctx, r),
    UserPrincipalName: user?.userPrincipalName ?? r.primarySmtpAddress,
    IsMailboxEnabled: true,
    IsShared: r.recipientTypeDetails === 'SharedMailbox',
    HiddenFromAddressListsEnabled: false,
  };
}

function groupRow(ctx: SimContext, r: RecipientRecord): Record<string, unknown> {
  const security = r.recipientTypeDetails === 'MailUniversalSecurityGroup';
  return {
    ...recipientRow(ctx, r),
    GroupType: security ? 'Universal, SecurityEnabled' : 'Universal',
    ManagedBy: (r.managedBy ?? []).map((g) => ctx.store.recipientByGuid(g)?.name ?? g),
    MemberJoinRestriction: 'Closed',
    MemberDepartRestriction: security ? 'Closed' : 'Open',
    RequireSenderAuthenticationEnabled: true,
    Notes: r.notes ?? '',
    Description: r.notes ? [r.notes] : [],
  };
}

function policyIdentity(ctx: SimContext, p: PolicyRecord): string {
  const scope = ctx.store.recipientByGuid(p.scopeGuid);
  return `${ctx.store.state.tenantId}\\${p.appId}:${scope?.sid ?? 'S-1-0-0'};${p.scopeGuid}`;
}

function policyRow(ctx: SimContext, p: PolicyRecord): Record<string, unknown> {
  const scope = ctx.store.recipientByGuid(p.scopeGuid);
  return {
    ScopeName: scope?.name ?? '',
    ScopeIdentity: scope?.name ?? '',
    Identity: policyIdentity(ctx, p),
    AppId: p.appId,
    ScopeIdentityRaw: `${scope?.sid ?? 'S-1-0-0'};${p.scopeGuid}`,
    Description: p.description,
    AccessRight: p.accessRight,
    ShardType: 'All',
    IsValid: scope !== undefined,
    ObjectState: 'Unchanged',
  };
}

// ------------------------------------------------------------------------------------------------------------
// Parameters
// ------------------------------------------------------------------------------------------------------------

const COMMON_PARAMETERS = ['Confirm', 'ErrorAction', 'WarningAction', 'Verbose', 'Debug', 'WhatIf'];

class Params {
  constructor(
    private readonly raw: Record<string, unknown>,
    allowed: string[],
  ) {
    for (const k of Object.keys(raw)) {
      if (k.includes('@odata.')) continue;
      if (![...allowed, ...COMMON_PARAMETERS].some((a) => a.toLowerCase() === k.toLowerCase())) {
        throw new CmdletError(400, 'System.Management.Automation.ParameterBindingException', `A parameter cannot be found that matches parameter name '${k}'.`);
      }
    }
  }
  private get(name: string): unknown {
    const k = Object.keys(this.raw).find((x) => x.toLowerCase() === name.toLowerCase());
    return k === undefined ? undefined : this.raw[k];
  }
  has(name: string): boolean {
    const v = this.get(name);
    return v !== undefined && v !== null;
  }
  string(name: string): string | undefined {
    const v = this.get(name);
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    throw invalidArgument(name, `Cannot convert the value to type "System.String".`);
  }
  /** string[] parameters: PowerShell binding also accepts a single string [docs/microsoft-facts.md §7.3: send arrays]. */
  strings(name: string): string[] | undefined {
    const v = this.get(name);
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string') return [v];
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
    throw invalidArgument(name, `Cannot convert the value to type "System.String[]".`);
  }
  switch(name: string): boolean {
    const v = this.get(name);
    return v === true || v === 'true' || v === 'True';
  }
  required(...names: string[]): void {
    const missing = names.filter((n) => !this.has(n));
    if (missing.length) throw missingMandatory(missing);
  }
}

// ------------------------------------------------------------------------------------------------------------
// Cmdlets
// ------------------------------------------------------------------------------------------------------------

interface Run {
  ctx: SimContext;
  caller: Caller;
  warnings: string[];
}

type CmdletImpl = { params: string[]; write: boolean; policy?: boolean; run: (r: Run, p: Params) => Record<string, unknown>[] };

function one<T>(res: Resolution<T>, identity: string, notFound: () => CmdletError): T {
  if (res.kind === 'none') throw notFound();
  if (res.kind === 'many') throw ambiguous(identity);
  return res.value;
}

function listOrOne(r: Run, p: Params, filter: (x: RecipientRecord) => boolean, notFound: (id: string) => CmdletError): RecipientRecord[] {
  const identity = p.string('Identity');
  if (identity !== undefined) return [one(r.ctx.store.resolveRecipient(identity, { filter }), identity, () => notFound(identity))];
  let list = r.ctx.store.state.recipients.filter((x) => isVisible(x) && filter(x));
  const types = p.strings('RecipientTypeDetails')?.flatMap((t) => t.split(',')).map((t) => t.trim().toLowerCase());
  if (types?.length) list = list.filter((x) => types.includes(x.recipientTypeDetails.toLowerCase()));
  const filterText = p.string('Filter');
  if (filterText !== undefined) list = list.filter(opathFilter(filterText));
  const size = p.string('ResultSize');
  if (size !== undefined && size.toLowerCase() !== 'unlimited') {
    const n = Number(size);
    if (!Number.isInteger(n) || n < 1) throw invalidArgument('ResultSize', `Cannot convert value "${size}" to type "Microsoft.Exchange.Data.Unlimited".`);
    list = list.slice(0, n);
  }
  return list;
}

/** OPATH `Property -eq 'value'` (quotes doubled inside [DOC X7]); the only form this simulator evaluates. */
function opathFilter(text: string): (r: RecipientRecord) => boolean {
  const parsed = parseOpath(text);
  if (parsed.ok) return opathPredicate(parsed);
  if (parsed.reason === 'property') {
    throw new CmdletError(400, 'Microsoft.Exchange.Management.Tasks.InvalidFilterException', `"${parsed.property}" is not a recognized filterable property.`);
  }
  throw new CmdletError(400, 'Microsoft.Exchange.Management.Tasks.InvalidFilterException', `Cannot bind parameter 'Filter' to the target. Exception setting "Filter": "Invalid filter syntax. For a description of the filter parameter syntax see the command help.\n"${text}"`);
}

const isGroup = (r: RecipientRecord) => r.recipientTypeDetails === 'MailUniversalSecurityGroup' || r.recipientTypeDetails === 'MailUniversalDistributionGroup';
const isMailbox = (r: RecipientRecord) => r.recipientTypeDetails === 'UserMailbox' || r.recipientTypeDetails === 'SharedMailbox';

/** Exchange alias rule text as Exchange prints it for invalid aliases. */
const ALIAS_RULE =
  "Valid values are: Strings formed with characters from A to Z (uppercase or lowercase), digits from 0 to 9, !, #, $, %, &, ', *, +, -, /, =, ?, ^, _, `, {, |, } or ~. One or more periods may be embedded in an alias, but each period should be preceded and followed by at least one of the other characters. Unicode characters from U+00A1 to U+00FF are also valid in an alias, but they will be mapped to a best-fit US-ASCII string in the email address, which is generated from such an alias.";
const ALIAS_CHAR = /[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u00a1-\u00ff]/;

function validAlias(alias: string): boolean {
  if (!alias || alias.length > 64 || alias.startsWith('.') || alias.endsWith('.') || alias.includes('..')) return false;
  return [...alias].every((c) => c === '.' || ALIAS_CHAR.test(c));
}

function aliasFromName(name: string): string {
  return [...name].filter((c) => ALIAS_CHAR.test(c) || c === '.').join('').replace(/^\.+|\.+$/g, '').replace(/\.{2,}/g, '.').slice(0, 64);
}

/** Best-fit US-ASCII for the generated address (å→a, ö→o …), as Exchange does for U+00A1–U+00FF aliases. */
function asciiLocalPart(alias: string): string {
  return alias
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[æ]/g, 'ae')
    .replace(/[Æ]/g, 'AE')
    .replace(/[ø]/g, 'o')
    .replace(/[Ø]/g, 'O')
    .replace(/[ß]/g, 'ss')
    .replace(/[^\x21-\x7e]/g, '');
}

function proxyOwner(r: Run, address: string): RecipientRecord | undefined {
  const a = address.toLowerCase();
  return r.ctx.store.state.recipients.find((x) => x.emailAddresses.some((p) => p.slice(p.indexOf(':') + 1).toLowerCase() === a));
}

function alreadyExists(r: Run, name: string): CmdletError {
  const dn = `CN=${name},OU=${r.ctx.store.onMicrosoftDomain},OU=Microsoft Exchange Hosted Organizations,DC=EURPR05A001,DC=PROD,DC=OUTLOOK,DC=COM`;
  return new CmdletError(400, 'Microsoft.Exchange.Data.Directory.ADObjectAlreadyExistsException', `The object '${dn}' already exists.`, 'json');
}

function resolveGroup(r: Run, identity: string): RecipientRecord {
  return one(r.ctx.store.resolveRecipient(identity, { filter: isGroup }), identity, () => notFoundOn(identity));
}

function resolveMember(r: Run, identity: string): RecipientRecord {
  return one(r.ctx.store.resolveRecipient(identity), identity, () => couldNotFind(identity));
}

/** Non-owners (every app) must pass BypassSecurityGroupManagerCheck to change membership [DOC X5]. */
function requireManagerBypass(p: Params): void {
  if (!p.switch('BypassSecurityGroupManagerCheck')) {
    throw new CmdletError(
      400,
      'Microsoft.Exchange.Management.Tasks.OperationRequiresGroupManagerException',
      "You don't have sufficient permissions. This operation can only be performed by a manager of the group.",
    );
  }
}

/** Rough model of the fixed storage budget: about 300 policies with a one-space description [DOC X2]. */
const POLICY_BUDGET = 300 * (200 + 2);
const policyCost = (p: { description: string }) => 200 + 2 * p.description.length;

// ------------------------------------------------------------------------------------------------------------
// RBAC for Applications and organization customization
// ------------------------------------------------------------------------------------------------------------

function organization(r: Run): OrganizationRecord {
  return (r.ctx.store.state.organization ??= { isDehydrated: false });
}

/** Dehydrated until Enable-OrganizationCustomization has run and its (simulated) completion time has passed. */
function isDehydrated(r: Run): boolean {
  const org = organization(r);
  if (org.isDehydrated && org.hydratedAtMs !== undefined && Date.now() >= org.hydratedAtMs) {
    org.isDehydrated = false;
    delete org.hydratedAtMs;
    r.ctx.store.commit();
  }
  return org.isDehydrated;
}

/** The refusal a dehydrated tenant gives RBAC writes [OBS Microsoft troubleshooting text, quoted in many scripts]. */
const dehydrated = () =>
  new CmdletError(
    400,
    'Microsoft.Exchange.Configuration.Tasks.InvalidOperationInDehydratedContextException',
    "The command you tried to run isn't currently allowed in your organization. To run this command, you first need to run the command: Enable-OrganizationCustomization.",
  );

/** Exchange service principal pointers by ObjectId, AppId or DisplayName [DOC X9 Identity]. */
function resolveExoSp(r: Run, identity: string): ExoServicePrincipalRecord {
  const id = identity.trim().toLowerCase();
  const hits = exoServicePrincipals(r.ctx.store).filter(
    (s) => isVisible(s) && (s.objectId === id || s.appId.toLowerCase() === id || s.displayName.toLowerCase() === id),
  );
  if (hits.length === 0) throw notFoundOn(identity);
  if (hits.length > 1) throw ambiguous(identity);
  return hits[0]!;
}

function exoSpRow(r: Run, s: ExoServicePrincipalRecord): Record<string, unknown> {
  return {
    Identity: s.objectId,
    Name: s.objectId,
    DisplayName: s.displayName,
    AppId: s.appId,
    ObjectId: s.objectId,
    ServiceId: s.objectId,
    Organization: r.ctx.store.onMicrosoftDomain,
    WhenCreatedUTC: s.createdAt,
    IsValid: true,
  };
}

function scopeRow(s: ManagementScopeRecord): Record<string, unknown> {
  return {
    Name: s.name,
    Identity: s.name,
    RecipientFilter: s.recipientRestrictionFilter,
    RecipientRestrictionFilter: s.recipientRestrictionFilter,
    ScopeRestrictionType: 'RecipientScope',
    Exclusive: false,
    WhenCreatedUTC: s.createdAt,
  };
}

/**
 * Which field names the assignee depends on the `roleAssigneeShape` switch (faults.ts): by default the identity
 * (the Entra service principal object id) in `RoleAssignee` and the pointer's DisplayName in `RoleAssigneeName`,
 * as Microsoft's Get-EwsSignIns.ps1 and Migrate-AppAccessPolicies.ps1 read them (docs/simulator.md).
 */
function assigneeFields(r: Run, a: RoleAssignmentRecord): { RoleAssignee: string; RoleAssigneeName: string } {
  const pointerName = exoServicePrincipals(r.ctx.store).find((s) => s.objectId === a.spObjectId)?.displayName || a.spObjectId;
  const shape = r.ctx.faults.get().roleAssigneeShape ?? 'pointer-name';
  if (shape === 'object-id') return { RoleAssignee: a.spObjectId, RoleAssigneeName: a.spObjectId };
  if (shape === 'name-only') return { RoleAssignee: pointerName, RoleAssigneeName: pointerName };
  return { RoleAssignee: a.spObjectId, RoleAssigneeName: pointerName };
}

function assignmentRow(r: Run, a: RoleAssignmentRecord): Record<string, unknown> {
  const s = describeScope(r.ctx.store, a);
  return {
    Name: a.name,
    Identity: a.name,
    Role: a.role,
    RoleAssigneeType: 'ServicePrincipal',
    ...assigneeFields(r, a),
    CustomResourceScope: s.customResourceScope,
    RecipientWriteScope: s.recipientWriteScope,
    CustomRecipientWriteScope: '',
    ConfigWriteScope: 'None',
    RecipientReadScope: 'Organization',
    RoleAssignmentDelegationType: 'Regular',
    Enabled: true,
    WhenCreatedUTC: a.createdAt,
  };
}

const CMDLETS: Record<string, CmdletImpl> = {
  'Get-AcceptedDomain': {
    params: ['Identity', 'ResultSize'],
    write: false,
    run: (r, p) => {
      const st = r.ctx.store.state;
      const rows = r.ctx.store.acceptedDomains().map((d, i) => ({
        Identity: d,
        Name: d,
        DomainName: d,
        DomainType: 'Authoritative',
        Default: i === 0,
        InitialDomain: i === 1,
        MatchSubDomains: false,
        AddressBookEnabled: true,
        IsValid: true,
        Guid: newGuidFrom(st.tenantId, d),
      }));
      const id = p.string('Identity');
      if (id === undefined) return rows;
      const hit = rows.find((x) => x.DomainName.toLowerCase() === id.toLowerCase());
      if (!hit) throw notFoundOn(id);
      return [hit];
    },
  },
  'Get-Recipient': {
    params: ['Identity', 'ResultSize', 'RecipientTypeDetails', 'Filter'],
    write: false,
    run: (r, p) => listOrOne(r, p, () => true, (id) => notFoundOn(id)).map((x) => recipientRow(r.ctx, x)),
  },
  'Get-Mailbox': {
    params: ['Identity', 'ResultSize', 'RecipientTypeDetails', 'Filter'],
    write: false,
    run: (r, p) =>
      listOrOne(r, p, isMailbox, (id) =>
        new CmdletError(404, 'Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException', `The specified mailbox Identity:"${id}" doesn't exist.`, 'ex', 'Ex41BAF5'),
      ).map((x) => mailboxRow(r.ctx, x)),
  },
  'Get-DistributionGroup': {
    params: ['Identity', 'ResultSize', 'RecipientTypeDetails', 'Filter'],
    write: false,
    run: (r, p) => listOrOne(r, p, isGroup, (id) => notFoundOn(id)).map((x) => groupRow(r.ctx, x)),
  },
  'New-DistributionGroup': {
    params: ['Name', 'Alias', 'DisplayName', 'PrimarySmtpAddress', 'Type', 'Members', 'ManagedBy', 'Notes', 'Description', 'CopyOwnerToMember', 'RequireSenderAuthenticationEnabled', 'MemberJoinRestriction', 'MemberDepartRestriction', 'OrganizationalUnit', 'BypassNestedModerationEnabled', 'IgnoreNamingPolicy'],
    write: true,
    run: (r, p) => {
      p.required('Name');
      const name = p.string('Name')!.trim();
      if (!name || name.length > 64) throw new CmdletError(400, 'Microsoft.Exchange.Data.DataValidationException', `The length of the property is too long. The maximum length is 64 and the length of the value provided is ${name.length}.`);
      const type = (p.string('Type') ?? 'Distribution').toLowerCase();
      if (type !== 'security' && type !== 'distribution') {
        throw invalidArgument('Type', `Cannot convert value "${p.string('Type')}" to type "Microsoft.Exchange.Data.Directory.Management.GroupType". Error: "Unable to match the identifier name ${p.string('Type')} to a valid enumerator name. Specify one of the following enumerator names and try again: Distribution, Security"`);
      }
      const alias = p.string('Alias') ?? aliasFromName(name);
      if (!validAlias(alias)) throw new CmdletError(400, 'Microsoft.Exchange.Data.DataValidationException', `Property expression "${alias}" isn't valid. ${ALIAS_RULE}`);
      const st = r.ctx.store.state;
      // Name, then address uniqueness; replicating objects count (uniqueness is global) [OBS U5; docs/microsoft-facts.md §7.6].
      if (st.recipients.some((x) => x.name.toLowerCase() === name.toLowerCase())) throw alreadyExists(r, name);
      const primary = p.string('PrimarySmtpAddress') ?? `${asciiLocalPart(alias)}@${st.defaultDomain}`;
      const domain = primary.split('@')[1]?.toLowerCase() ?? '';
      if (!/^[^@\s]+@[^@\s]+$/.test(primary) || !r.ctx.store.acceptedDomains().some((d) => d.toLowerCase() === domain)) {
        throw new CmdletError(400, 'Microsoft.Exchange.Data.DataValidationException', `The email address "${primary}" isn't correct. Please use this format: user name, the @ sign, followed by the domain name. For example, tonysmith@contoso.com or tony.smith@contoso.com.`);
      }
      const secondary = `${asciiLocalPart(alias)}@${r.ctx.store.onMicrosoftDomain}`;
      for (const addr of [primary, secondary]) {
        const owner = proxyOwner(r, addr);
        if (owner) {
          throw new CmdletError(400, 'Microsoft.Exchange.Data.Directory.ProxyAddressExistsException', `The proxy address "SMTP:${addr}" is already being used by the proxy addresses or LegacyExchangeDN of "${owner.name}". Please choose another proxy address.`, 'json');
        }
      }
      const memberIds = (p.strings('Members') ?? []).map((m) => resolveMember(r, m).guid);
      const managedBy = (p.strings('ManagedBy') ?? []).map((m) => resolveMember(r, m).guid);
      const now = Date.now();
      const group: RecipientRecord = {
        guid: newGuid(),
        externalDirectoryObjectId: newGuid(),
        name,
        alias,
        displayName: p.string('DisplayName') ?? name,
        primarySmtpAddress: primary,
        emailAddresses: [`SMTP:${primary}`, ...(secondary.toLowerCase() === primary.toLowerCase() ? [] : [`smtp:${secondary}`])],
        recipientTypeDetails: type === 'security' ? 'MailUniversalSecurityGroup' : 'MailUniversalDistributionGroup',
        sid: newSid(st.tenantId, st.recipients),
        whenCreatedUtc: isoNow(now),
        // Other cmdlets do not see it until it replicates [OBS U3, U7, docs/microsoft-facts.md §8.2].
        visibleAtMs: now + r.ctx.faults.get().replicationDelayMs,
        members: [...new Set(memberIds)],
        managedBy,
        notes: p.string('Notes') ?? p.string('Description'),
      };
      st.recipients.push(group);
      r.ctx.store.commit();
      return [groupRow(r.ctx, group)];
    },
  },
  'Get-DistributionGroupMember': {
    params: ['Identity', 'ResultSize'],
    write: false,
    run: (r, p) => {
      p.required('Identity');
      const group = resolveGroup(r, p.string('Identity')!);
      return (group.members ?? []).map((g) => r.ctx.store.recipientByGuid(g)).filter((x): x is RecipientRecord => !!x).map((x) => recipientRow(r.ctx, x));
    },
  },
  'Add-DistributionGroupMember': {
    params: ['Identity', 'Member', 'BypassSecurityGroupManagerCheck'],
    write: true,
    run: (r, p) => {
      p.required('Identity', 'Member');
      const group = resolveGroup(r, p.string('Identity')!);
      const member = resolveMember(r, p.string('Member')!);
      requireManagerBypass(p);
      group.members ??= [];
      if (group.members.includes(member.guid)) {
        // [OBS C4] MemberAlreadyExistsException.
        throw new CmdletError(400, 'Microsoft.Exchange.Management.Tasks.MemberAlreadyExistsException', `The recipient "${member.name}" is already a member of the group "${group.name}".`, 'json');
      }
      group.members.push(member.guid);
      r.ctx.store.commit();
      return [];
    },
  },
  'Remove-DistributionGroupMember': {
    params: ['Identity', 'Member', 'BypassSecurityGroupManagerCheck'],
    write: true,
    run: (r, p) => {
      p.required('Identity', 'Member');
      const group = resolveGroup(r, p.string('Identity')!);
      const member = resolveMember(r, p.string('Member')!);
      requireManagerBypass(p);
      if (!(group.members ?? []).includes(member.guid)) {
        throw new CmdletError(400, 'Microsoft.Exchange.Management.Tasks.MemberNotFoundException', `The recipient "${member.name}" isn't a member of the group "${group.name}".`);
      }
      group.members = group.members!.filter((g) => g !== member.guid);
      r.ctx.store.commit();
      return [];
    },
  },
  'Get-ApplicationAccessPolicy': {
    params: ['Identity'],
    write: false,
    policy: true,
    run: (r, p) => {
      const id = p.string('Identity');
      const all = r.ctx.store.state.accessPolicies;
      if (id === undefined) return all.map((x) => policyRow(r.ctx, x));
      const hit = all.find((x) => policyIdentity(r.ctx, x).toLowerCase() === id.toLowerCase());
      if (!hit) throw notFoundOn(id);
      return [policyRow(r.ctx, hit)];
    },
  },
  'New-ApplicationAccessPolicy': {
    params: ['AppId', 'PolicyScopeGroupId', 'AccessRight', 'Description'],
    write: true,
    policy: true,
    run: (r, p) => {
      p.required('AccessRight', 'AppId', 'PolicyScopeGroupId');
      const appIds = p.strings('AppId')!;
      for (const a of appIds) {
        if (a !== '*' && !isGuid(a)) throw invalidArgument('AppId', `"${a}" is not a valid application id (a GUID or *).`);
      }
      const right = p.string('AccessRight')!;
      const accessRight = ['RestrictAccess', 'DenyAccess'].find((x) => x.toLowerCase() === right.toLowerCase()) as PolicyRecord['accessRight'] | undefined;
      if (!accessRight) {
        throw invalidArgument('AccessRight', `Cannot convert value "${right}" to type "Microsoft.Exchange.Data.ApplicationAccessPolicyRight". Error: "Unable to match the identifier name ${right} to a valid enumerator name. Specify one of the following enumerator names and try again: RestrictAccess, DenyAccess"`);
      }
      const scopeId = p.string('PolicyScopeGroupId')!;
      const scope = one(r.ctx.store.resolveRecipient(scopeId), scopeId, () => notFoundOn(scopeId));
      // Scope must be a security principal: mailbox user, mail user or mail-enabled security group [DOC X2].
      if (scope.recipientTypeDetails !== 'UserMailbox' && scope.recipientTypeDetails !== 'MailUniversalSecurityGroup') {
        throw new CmdletError(400, 'Microsoft.Exchange.Management.Tasks.InvalidPolicyScopeException', `The PolicyScopeGroupId "${scopeId}" is a ${scope.recipientTypeDetails}. It must be a mail-enabled security group, a mailbox user or a mail user.`);
      }
      const description = p.string('Description') ?? '';
      const st = r.ctx.store.state;
      const created: PolicyRecord[] = [];
      for (const appId of appIds) {
        const rec: PolicyRecord = {
          appId: appId.toLowerCase(),
          scopeGuid: scope.guid,
          accessRight,
          description,
          createdAt: isoNow(),
          enforcedAtMs: Date.now() + (r.ctx.faults.get().policyPropagationDelayMs ?? 0),
        };
        // The identity is app + scope, so a second policy for the pair collides [UNCONF wording].
        if (st.accessPolicies.some((x) => policyIdentity(r.ctx, x) === policyIdentity(r.ctx, rec))) throw alreadyExists(r, policyIdentity(r.ctx, rec));
        created.push(rec);
      }
      const used = st.accessPolicies.reduce((n, x) => n + policyCost(x), 0) + created.reduce((n, x) => n + policyCost(x), 0);
      if (used > POLICY_BUDGET) throw new CmdletError(400, 'Microsoft.Exchange.Management.Tasks.ApplicationAccessPolicySizeLimitExceededException', 'The total size of App Access Policies exceeded the limit.');
      st.accessPolicies.push(...created);
      r.ctx.store.commit();
      return created.map((x) => policyRow(r.ctx, x));
    },
  },
  'Remove-ApplicationAccessPolicy': {
    params: ['Identity'],
    write: true,
    policy: true,
    run: (r, p) => {
      p.required('Identity');
      const id = p.string('Identity')!;
      const st = r.ctx.store.state;
      const hit = st.accessPolicies.find((x) => policyIdentity(r.ctx, x).toLowerCase() === id.toLowerCase());
      if (!hit) throw notFoundOn(id);
      st.accessPolicies = st.accessPolicies.filter((x) => x !== hit);
      r.ctx.store.commit();
      return [];
    },
  },
  'Test-ApplicationAccessPolicy': {
    params: ['Identity', 'AppId'],
    write: false,
    policy: true,
    run: (r, p) => {
      p.required('AppId', 'Identity');
      const identity = p.string('Identity')!;
      const appId = p.string('AppId')!;
      if (!isGuid(appId)) throw invalidArgument('AppId', `"${appId}" is not a valid application id.`);
      const mbx = one(r.ctx.store.resolveRecipient(identity, { filter: isMailbox }), identity, () => notFoundOn(identity));
      // Reflects configuration, not what Graph enforces yet [DOC G11, docs/microsoft-facts.md §8.5].
      return [{ AppId: appId, Mailbox: mbx.name, MailboxId: mbx.guid, MailboxSid: mbx.sid, AccessCheckResult: r.ctx.store.accessCheck(appId, mbx) }];
    },
  },  // --- Organization customization [DOC X10] ------------------------------------------------------------------
  'Get-OrganizationConfig': {
    params: ['Identity'],
    write: false,
    run: (r) => {
      const st = r.ctx.store.state;
      return [
        {
          Identity: r.ctx.store.onMicrosoftDomain,
          Name: r.ctx.store.onMicrosoftDomain,
          DisplayName: st.shortName,
          Guid: newGuidFrom(st.tenantId, 'organization'),
          IsDehydrated: isDehydrated(r),
          // Neither is modelled; shown as a healthy tenant reports them.
          IsUpgradingOrganization: false,
          IsUpdatingServicePlan: false,
        },
      ];
    },
  },
  'Enable-OrganizationCustomization': {
    params: [],
    write: true,
    policy: true,
    run: (r) => {
      const org = organization(r);
      if (!isDehydrated(r)) {
        // Observed text when the tenant is hydrated already [OBS many scripts that match "already enabled for customization"].
        throw new CmdletError(400, 'Microsoft.Exchange.Management.Tasks.InvalidOperationException', 'This operation is not required. Organization is already enabled for customization.');
      }
      // Hydration "may take a few minutes"; until then IsDehydrated stays True and RBAC writes are refused [OBS].
      org.hydratedAtMs ??= Date.now() + r.ctx.faults.get().replicationDelayMs;
      r.ctx.store.commit();
      return [];
    },
  },

  // --- RBAC for Applications [docs/microsoft-facts.md §9; DOC X6–X9] -----------------------------------------------------------
  'Get-ServicePrincipal': {
    params: ['Identity', 'Organization'],
    write: false,
    run: (r, p) => {
      const id = p.string('Identity');
      const visible = exoServicePrincipals(r.ctx.store).filter((s) => isVisible(s));
      if (id === undefined) return visible.map((s) => exoSpRow(r, s));
      return [exoSpRow(r, resolveExoSp(r, id))];
    },
  },
  'New-ServicePrincipal': {
    params: ['AppId', 'ObjectId', 'ServiceId', 'DisplayName', 'Organization'],
    write: true,
    policy: true,
    run: (r, p) => {
      p.required('AppId');
      // ServiceId is the deprecated name of ObjectId [DOC X6].
      const objectId = (p.string('ObjectId') ?? p.string('ServiceId'))?.toLowerCase();
      if (objectId === undefined) throw missingMandatory(['ObjectId']);
      const appId = p.string('AppId')!.toLowerCase();
      if (!isGuid(appId)) throw invalidArgument('AppId', `Cannot convert value "${appId}" to type "System.Guid".`);
      if (!isGuid(objectId)) throw invalidArgument('ObjectId', `Cannot convert value "${objectId}" to type "System.Guid".`);
      // The pointer must name an existing Entra service principal of that app; a brand-new one may not have
      // reached Exchange yet, which looks like any other not-found [docs/microsoft-facts.md §12; wording UNCONF].
      const entra = r.ctx.store.sp((s) => s.id === objectId);
      if (!entra || entra.appId.toLowerCase() !== appId) throw notFoundOn(objectId);
      const list = exoServicePrincipals(r.ctx.store);
      const dup = list.find((s) => s.objectId === objectId || s.appId.toLowerCase() === appId);
      // A duplicate create errors with "already exist…" [OBS C3].
      if (dup) throw alreadyExists(r, dup.objectId);
      const now = Date.now();
      const rec: ExoServicePrincipalRecord = {
        objectId,
        appId,
        displayName: p.string('DisplayName') ?? entra.appDisplayName,
        createdAt: isoNow(now),
        visibleAtMs: now + r.ctx.faults.get().replicationDelayMs,
      };
      list.push(rec);
      r.ctx.store.commit();
      return [exoSpRow(r, rec)];
    },
  },
  'Get-ManagementScope': {
    params: ['Identity'],
    write: false,
    run: (r, p) => {
      const id = p.string('Identity');
      const scopes = (r.ctx.store.state.managementScopes ?? []).filter((s) => isVisible(s));
      if (id === undefined) return scopes.map(scopeRow);
      const hit = scopes.find((s) => s.name.toLowerCase() === id.toLowerCase());
      if (!hit) throw notFoundOn(id);
      return [scopeRow(hit)];
    },
  },
  'New-ManagementScope': {
    params: ['Name', 'RecipientRestrictionFilter', 'RecipientRoot'],
    write: true,
    policy: true,
    run: (r, p) => {
      p.required('Name', 'RecipientRestrictionFilter');
      if (isDehydrated(r)) throw dehydrated();
      const name = p.string('Name')!.trim();
      const filter = p.string('RecipientRestrictionFilter')!;
      opathFilter(filter); // refuse what cannot be evaluated, with the cmdlet's error
      const st = r.ctx.store.state;
      st.managementScopes ??= [];
      if (st.managementScopes.some((s) => s.name.toLowerCase() === name.toLowerCase())) throw alreadyExists(r, name);
      const now = Date.now();
      const rec: ManagementScopeRecord = { name, recipientRestrictionFilter: filter, createdAt: isoNow(now), visibleAtMs: now + r.ctx.faults.get().replicationDelayMs };
      st.managementScopes.push(rec);
      r.ctx.store.commit();
      return [scopeRow(rec)];
    },
  },
  'Get-ManagementRoleAssignment': {
    params: ['Identity', 'Role', 'RoleAssignee', 'RoleAssigneeType', 'Enabled'],
    write: false,
    run: (r, p) => {
      let list = roleAssignments(r.ctx.store).filter((a) => isVisible(a));
      const id = p.string('Identity');
      if (id !== undefined) {
        list = list.filter((a) => a.name.toLowerCase() === id.toLowerCase());
        if (!list.length) throw notFoundOn(id);
      }
      const role = p.string('Role');
      if (role !== undefined) list = list.filter((a) => a.role.toLowerCase() === role.toLowerCase());
      const assignee = p.string('RoleAssignee');
      if (assignee !== undefined) {
        const sp = resolveExoSp(r, assignee);
        list = list.filter((a) => a.spObjectId === sp.objectId);
      }
      const type = p.string('RoleAssigneeType');
      if (type !== undefined && type.toLowerCase() !== 'serviceprincipal') list = [];
      return list.map((a) => assignmentRow(r, a));
    },
  },
  'New-ManagementRoleAssignment': {
    params: ['Name', 'App', 'Role', 'RecipientGroupScope', 'CustomResourceScope', 'RecipientAdministrativeUnitScope'],
    write: true,
    policy: true,
    run: (r, p) => {
      p.required('Role', 'App');
      if (isDehydrated(r)) throw dehydrated();
      const roleText = p.string('Role')!;
      const role = applicationRoleName(roleText);
      // Only application roles may be assigned with -App [DOC X8]; the wording is [UNCONF].
      if (!role) {
        throw new CmdletError(400, 'Microsoft.Exchange.Management.RbacTasks.InvalidRoleAssignmentException', `The role "${roleText}" can't be assigned to a service principal. Only application roles (for example "Application Mail.Send") can be used with the App parameter.`);
      }
      const sp = resolveExoSp(r, p.string('App')!);
      if (p.has('RecipientAdministrativeUnitScope')) {
        throw new CmdletError(400, 'System.NotSupportedException', 'RecipientAdministrativeUnitScope is not modelled by the simulator.');
      }
      if (p.has('RecipientGroupScope') && p.has('CustomResourceScope')) {
        throw new CmdletError(400, 'System.Management.Automation.ParameterBindingException', 'Parameter set cannot be resolved using the specified named parameters.');
      }
      let scope: RoleAssignmentScope = { type: 'organization' };
      const groupId = p.string('RecipientGroupScope');
      if (groupId !== undefined) scope = { type: 'group', groupGuid: resolveGroup(r, groupId).guid };
      const scopeName = p.string('CustomResourceScope');
      if (scopeName !== undefined) {
        const found = (r.ctx.store.state.managementScopes ?? []).find((s) => isVisible(s) && s.name.toLowerCase() === scopeName.toLowerCase());
        if (!found) throw notFoundOn(scopeName);
        scope = { type: 'custom', scopeName: found.name };
      }
      const name = (p.string('Name') ?? `${role}-${sp.displayName}`).trim();
      if (!name || name.length > 64) {
        throw new CmdletError(400, 'Microsoft.Exchange.Data.DataValidationException', `The length of the property is too long. The maximum length is 64 and the length of the value provided is ${name.length}.`);
      }
      const list = roleAssignments(r.ctx.store);
      // Names are unique; replicating objects count [same rule as recipients, docs/microsoft-facts.md §7.6].
      if (list.some((a) => a.name.toLowerCase() === name.toLowerCase())) throw alreadyExists(r, name);
      const now = Date.now();
      const f = r.ctx.faults.get();
      const visibleAtMs = now + f.replicationDelayMs;
      const rec: RoleAssignmentRecord = { name, role, spObjectId: sp.objectId, scope, createdAt: isoNow(now), visibleAtMs, effectiveAtMs: visibleAtMs + (f.rbacPropagationDelayMs ?? 0) };
      list.push(rec);
      r.ctx.store.commit();
      return [assignmentRow(r, rec)];
    },
  },
  'Remove-ManagementRoleAssignment': {
    params: ['Identity'],
    write: true,
    policy: true,
    run: (r, p) => {
      p.required('Identity');
      const id = p.string('Identity')!;
      const st = r.ctx.store.state;
      const hit = roleAssignments(r.ctx.store).find((a) => isVisible(a) && a.name.toLowerCase() === id.toLowerCase());
      if (!hit) throw notFoundOn(id);
      st.roleAssignments = roleAssignments(r.ctx.store).filter((a) => a !== hit);
      r.ctx.store.commit();
      return [];
    },
  },
  'Test-ServicePrincipalAuthorization': {
    params: ['Identity', 'Resource', 'Role'],
    write: false,
    run: (r, p) => {
      p.required('Identity');
      const sp = resolveExoSp(r, p.string('Identity')!);
      const resourceId = p.string('Resource');
      const mailbox =
        resourceId === undefined
          ? undefined
          : one(r.ctx.store.resolveRecipient(resourceId, { filter: isMailbox }), resourceId, () =>
              new CmdletError(404, 'Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException', `The specified mailbox Identity:"${resourceId}" doesn't exist.`, 'ex', 'Ex41BAF5'),
            );
      const role = p.string('Role');
      // Reads the configuration directly, bypassing the permission cache Graph uses [R2 as quoted, docs/microsoft-facts.md §9.4].
      return roleAssignments(r.ctx.store)
        .filter((a) => isVisible(a) && a.spObjectId === sp.objectId && (role === undefined || a.role.toLowerCase() === role.toLowerCase()))
        .map((a) => {
          const s = describeScope(r.ctx.store, a);
          return {
            RoleName: a.role,
            GrantedPermissions: (APPLICATION_ROLES[a.role] ?? []).join(', '),
            AllowedResourceScope: s.allowedResourceScope,
            ScopeType: s.scopeType,
            // True/False with -Resource, "Not Run" without [docs/microsoft-facts.md §9.4]; the JSON type is [UNCONF].
            InScope: mailbox ? scopeCovers(r.ctx.store, a, mailbox) : 'Not Run',
          };
        });
    },
  },
};

function newGuidFrom(tenantId: string, name: string): string {
  const h = createHash('sha1').update(`${tenantId}:${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const RECIPIENT_CMDLETS = /^(Get-AcceptedDomain|Get-Recipient|Get-Mailbox|(Get|New|Set|Remove)-DistributionGroup|(Get|Add|Remove)-DistributionGroupMember)$/i;

/**
 * Which cmdlets a directory role unlocks. Exchange hides cmdlets outside the caller's roles, so an out-of-role
 * cmdlet looks exactly like an unknown one [OBS office-docs-powershell#7970; U3]. Access policies need
 * "Organization Configuration" (Organization Management = Exchange Administrator) [OBS D1].
 */
function roleAllows(caller: Caller, name: string, impl: CmdletImpl): boolean {
  const r = caller.directoryRoles;
  if (r.has(DIRECTORY_ROLES['Global Administrator']) || r.has(DIRECTORY_ROLES['Exchange Administrator'])) return true;
  // A signed-in Recipient Administrator manages recipients and groups only, not RBAC or organization settings.
  if (r.has(DIRECTORY_ROLES['Exchange Recipient Administrator']) && caller.kind === 'user') return RECIPIENT_CMDLETS.test(name);
  if (r.has(DIRECTORY_ROLES['Exchange Recipient Administrator']) && !impl.policy) return true;
  // Global Reader = View-Only Organization Management: Get-*, and the two Test-* checks the product verifies with
  // (whether View-Only Configuration carries them is [UNCONF]: docs/simulator.md, "Seeded identities").
  if (r.has(DIRECTORY_ROLES['Global Reader']) && (name.startsWith('Get-') || name === 'Test-ApplicationAccessPolicy' || name === 'Test-ServicePrincipalAuthorization')) return true;
  return false;
}

// ------------------------------------------------------------------------------------------------------------
// HTTP
// ------------------------------------------------------------------------------------------------------------

/** Parses only what the request log needs; never throws. */
export function cmdletNameOf(body: Buffer): string | undefined {
  try {
    const v = JSON.parse(body.toString('utf8'));
    const n = v?.CmdletInput?.CmdletName;
    return typeof n === 'string' ? n : undefined;
  } catch {
    return undefined;
  }
}

function errorReply(req: SimRequest, e: CmdletError): SimReply {
  const detailMessage =
    e.format === 'ex' ? `${e.exCode}|${e.typeName}|${e.text}` : JSON.stringify({ Message: e.text, TypeName: e.typeName, StackTrace: null, InnerError: null });
  const code = e.status === 404 ? 'NotFound' : e.status === 400 ? 'BadRequest' : 'InternalServerError';
  return {
    status: e.status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'x-exceptiontype': e.typeName.split('.').pop()!, 'request-id': req.requestId },
    body: {
      error: {
        code,
        message: 'Error executing cmdlet',
        details: [{ code: e.format === 'ex' ? 'Client' : 'Context', target: '', message: detailMessage }],
        innererror: {
          message: 'Error executing cmdlet',
          type: 'Microsoft.Exchange.Admin.OData.Core.ODataServiceException',
          stacktrace: '',
          internalexception: { message: e.text, type: e.typeName, stacktrace: '' },
        },
      },
    },
  };
}

/** 403 for an unknown (or role-hidden) cmdlet: the observed body is NUL bytes labelled gzip [OBS U3]. */
function unreadableForbidden(): SimReply {
  return { status: 403, headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: Buffer.alloc(32) };
}

function wwwAuthenticate(ctx: SimContext): Record<string, string> {
  return {
    'www-authenticate': `Bearer client_id="${EXCHANGE_APP_ID}", trusted_issuers="00000001-0000-0000-c000-000000000000@*", token_types="app_asserted_user_v1 service_asserted_app_v1", authorization_uri="${ctx.origins.authority}/common/oauth2/authorize", error="invalid_token"`,
  };
}

interface SkipToken {
  o: number;
  h: string;
}

export async function handleExchange(ctx: SimContext, req: SimRequest): Promise<SimReply> {
  const parts = req.url.pathname.split('/').filter(Boolean);
  // adminapi/{version}/{tenant}/InvokeCommand
  if (parts.length !== 4 || parts[0] !== 'adminapi' || parts[3]!.toLowerCase() !== 'invokecommand') return { status: 404, body: '' };
  // InvokeCommand exists under beta only; v1.0 answered 405 when measured [OBS U3, docs/microsoft-facts.md §7.1].
  if (parts[1] !== 'beta') return { status: 405, headers: { allow: '' }, body: '' };
  if (req.method !== 'POST') return { status: 405, headers: { allow: 'POST' }, body: '' };
  const tenantSegment = decodeURIComponent(parts[2]!);

  const auth = authenticate(ctx, req, 'exchange');
  if (!auth.ok) return { status: 401, headers: wwwAuthenticate(ctx), body: '' };
  if (!ctx.store.matchesTenant(tenantSegment)) return { status: 401, headers: wwwAuthenticate(ctx), body: '' };
  const caller = auth.caller;

  let input: { CmdletName?: unknown; Parameters?: unknown };
  try {
    const parsed = JSON.parse(req.body.toString('utf8'));
    input = parsed?.CmdletInput;
    if (!isPlainObject(input)) throw new Error('no CmdletInput');
  } catch {
    return {
      status: 400,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: { error: { code: 'BadRequest', message: "The request body must contain a 'CmdletInput' object." } },
    };
  }
  const requested = typeof input.CmdletName === 'string' ? input.CmdletName : '';
  const name = Object.keys(CMDLETS).find((k) => k.toLowerCase() === requested.toLowerCase());

  // App-only callers need the Exchange.ManageAsApp role plus an Exchange-capable directory role [DOC X1]; a
  // signed-in user needs the delegated Exchange.Manage scope plus such a role of their own [docs/simulator.md].
  const hasAnyExchangeRole = [...caller.directoryRoles].some((r) => EXCHANGE_CAPABLE_ROLES.includes(r));
  const permitted = caller.kind === 'user' ? caller.scopes.has(EXCHANGE_MANAGE_SCOPE) : caller.roles.has('Exchange.ManageAsApp');
  if (!permitted || !hasAnyExchangeRole) {
    // Readable body modelled on the observed "User is not allowed to call …" error; status 403 [OBS #7970, U3].
    const msg = `User is not allowed to call ${requested || 'InvokeCommand'}`;
    return {
      status: 403,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: { error: { code: 'Forbidden', message: msg, innererror: { message: msg, type: 'Microsoft.Exchange.Admin.OData.Core.ODataServiceException' } } },
    };
  }
  // A revoked management role hides its cmdlets as any out-of-role cmdlet is hidden (catalog.ts).
  const hiddenByRevokedRole = !!name && revokedFor(ctx, caller.appId).exchangeCmdlets.has(name.toLowerCase());
  if (!name || hiddenByRevokedRole || !roleAllows(caller, name, CMDLETS[name]!)) return unreadableForbidden();
  const impl = CMDLETS[name]!;

  const rawParams = input.Parameters ?? {};
  if (!isPlainObject(rawParams)) return errorReply(req, invalidArgument('Parameters', 'The parameters must be a JSON object.'));

  // Paging: the same body is POSTed to @odata.nextLink [OBS C1, U3]; the skip token is bound to that body.
  const bodyHash = createHash('sha256').update(JSON.stringify(input)).digest('base64url').slice(0, 16);
  const skipRaw = req.url.searchParams.get('$skiptoken');
  let offset = 0;
  if (skipRaw !== null) {
    let tok: SkipToken | null;
    try {
      tok = JSON.parse(Buffer.from(skipRaw, 'base64url').toString('utf8')) as SkipToken;
    } catch {
      tok = null;
    }
    if (!tok || tok.h !== bodyHash || !Number.isInteger(tok.o) || tok.o < 0) {
      return errorReply(req, new CmdletError(400, 'Microsoft.Exchange.Admin.OData.Core.InvalidSkipTokenException', 'The skip token is not valid for this request.'));
    }
    offset = tok.o;
    if (impl.write) return errorReply(req, new CmdletError(400, 'Microsoft.Exchange.Admin.OData.Core.InvalidSkipTokenException', 'The skip token is not valid for this request.'));
  }

  let rows: Record<string, unknown>[];
  const run: Run = { ctx, caller, warnings: [] };
  try {
    rows = impl.run(run, new Params(rawParams, impl.params));
  } catch (e) {
    if (e instanceof CmdletError) return errorReply(req, e);
    throw e;
  }

  const select = req.url.searchParams.get('$select');
  if (select) {
    const keep = select.split(',').map((s) => s.trim().toLowerCase());
    rows = rows.map((row) => Object.fromEntries(Object.entries(row).filter(([k]) => keep.includes(k.toLowerCase()))));
  }

  const prefer = header(req, 'prefer') ?? '';
  const m = /odata\.maxpagesize\s*=\s*(\d+)/i.exec(prefer);
  const pageSize = Math.min(MAX_PAGE, Math.max(1, m ? Number(m[1]) : MAX_PAGE));
  const page = rows.slice(offset, offset + pageSize).map(annotate);
  const tenantForLinks = parts[2]!;
  const out: Record<string, unknown> = {
    '@odata.context': `${ctx.origins.exchange}/adminapi/beta/${tenantForLinks}/$metadata#Collection(Exchange.GenericHashTable)`,
    'adminapi.warnings@odata.type': '#Collection(String)',
    '@adminapi.warnings': run.warnings,
    value: page,
  };
  if (offset + pageSize < rows.length) {
    const token = base64url(Buffer.from(JSON.stringify({ o: offset + pageSize, h: bodyHash } satisfies SkipToken)));
    const next = new URLSearchParams();
    if (select) next.set('$select', select);
    next.set('$skiptoken', token);
    // Real Exchange may answer a page later on another host of the same cloud [OBS U6's @odata.context]; the
    // exchangeNextLinkHost switch models that.
    const linkOrigin = new URL(ctx.origins.exchange);
    const linkHost = ctx.faults.get().exchangeNextLinkHost;
    if (linkHost) linkOrigin.hostname = linkHost;
    out['@odata.nextLink'] = `${linkOrigin.origin}/adminapi/beta/${tenantForLinks}/InvokeCommand?${next.toString()}`;
  }
  const headers: Record<string, string> = { 'content-type': 'application/json; odata.metadata=minimal; odata.streaming=true; charset=utf-8', 'request-id': req.requestId };
  if (m) headers['preference-applied'] = `odata.maxpagesize=${pageSize}`;
  return { status: 200, headers, body: out };
}

export const EXCHANGE_CMDLETS = Object.keys(CMDLETS);
