/**
 * ExchangePort over Exchange Online's REST command channel (the one the ExchangeOnlineManagement v3 module uses):
 * `POST {EXCHANGE_ENDPOINT}/adminapi/beta/{tenantId}/InvokeCommand` with `{"CmdletInput":{CmdletName,Parameters}}`
 * and an app-only token for `{EXCHANGE_ENDPOINT}/.default` from the provisioning credential (docs/microsoft-facts.md §7, §8).
 *
 * Responses: `value` rows (flat property bags; `@odata.*` annotations stripped), `@odata.nextLink` pages (POST the
 * same body again), `@adminapi.warnings` (reported through onWarning), `@adminapi.errors` (a failure despite 200).
 * Failures are classified by classify.ts, which reads both error-detail formats (§7.6).
 *
 * "New object" awareness: an object this adapter created (or the caller marked with markNew) is known for a
 * replication window; a not-found from a cmdlet that names it is transient ("waiting for Exchange to replicate
 * the new group"), because Exchange answers from several domain controllers (§8.2, §12).
 */
import { randomUUID } from 'node:crypto';
import type { TokenCredential } from '@azure/identity';
import { OpterError } from '../core/errors';
import type {
  AcceptedDomain,
  AccessCheck,
  AccessPolicy,
  DistributionGroup,
  ExchangeLifecyclePort,
  ExchangePort,
  ExchangeServicePrincipal,
  ManagementRoleAssignment,
  OrganizationConfig,
  Recipient,
  ServicePrincipalAuthorization,
} from '../core/ports';
import { classifyError, exchangeAnnotationFailure, failureInfoOf, hasExchangeException, ServiceHttpError, type ClassifyContext } from './classify';
import type { TenantConnection } from './config';
import { isSameCloudExchangeLink } from './clouds';
import { defaultScope } from './credential';
import { transportFor } from './tls-trust';

/** The system mailbox every app-only InvokeCommand call is routed by (docs/microsoft-facts.md §7.2). */
const SYSTEM_MAILBOX = 'SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}';
/** The module's default and the service's maximum page size (docs/microsoft-facts.md §7.1). */
const MAX_PAGE_SIZE = 1000;

const MEMBER_ALREADY_EXISTS = /MemberAlreadyExistsException|is already a member/i;
const MEMBER_NOT_FOUND = /MemberNotFoundException|isn't a member|is not a member/i;
const ALREADY_EXISTS = /ADObjectAlreadyExistsException|already exists/i;
/** New-ServicePrincipal duplicates say "already exist…" [docs/microsoft-facts.md §9.1, OBS C3]. */
const ALREADY_EXIST = /ADObjectAlreadyExistsException|already exist/i;
/** Enable-OrganizationCustomization on a hydrated tenant [OBS: scripts match this text]. */
const CUSTOMIZATION_NOT_REQUIRED = /already enabled for customization|operation is not required/i;
/** A dehydrated tenant refuses RBAC writes until Enable-OrganizationCustomization has completed [DOC X10, OBS]. */
const DEHYDRATED = /InvalidOperationInDehydratedContextException|Enable-OrganizationCustomization/i;

export type ExchangeRow = Record<string, unknown>;
export type CmdletParameters = Record<string, unknown>;

export interface ExchangeOnlineOptions {
  /** Per-request timeout (default 5 minutes, the Node HTTP client's own header timeout). */
  timeoutMs?: number;
  /** Rows per page asked for with `Prefer: odata.maxpagesize` (default and maximum 1000). */
  pageSize?: number;
  /** Upper bound on pages followed for one command (default 500, i.e. 500 000 rows at 1000 per page). */
  maxPages?: number;
  /** How long an object we created counts as "new" for not-found classification (default 15 minutes). */
  newObjectWindowMs?: number;
  /** Sent as X-ClientApplication (cosmetic; shows up in Microsoft's traces). */
  clientApplication?: string;
  /** Receives `@adminapi.warnings` texts. */
  onWarning?: (cmdlet: string, warning: string) => void;
  /** Clock for the new-object window (tests). */
  now?: () => number;
  /** Sends the requests (default: one that trusts the connection's `trustedCa`, else the global fetch); benchmarks record calls with it. */
  fetch?: typeof fetch;
  /**
   * Whose mailbox routes the calls (X-AnchorMailbox): the app's system mailbox by default; a signed-in admin's
   * delegated calls are anchored on them, `UPN:<upn>` (docs/delegated-mode.md).
   */
  anchorUpn?: string;
}

export interface InvokeOptions {
  /** `$select` on the InvokeCommand URL, to trim the output. */
  select?: string[];
  /** Treat a not-found as "not replicated yet" regardless of the new-object registry. */
  objectIsNew?: boolean;
  /** Retry reason for such a not-found. */
  replicationReason?: string;
}

export class ExchangeOnline implements ExchangePort, ExchangeLifecyclePort {
  readonly tenantId: string;
  private readonly endpoint: string;
  private readonly scope: string;
  private readonly connectionId = randomUUID();
  private readonly newObjects = new Map<string, number>();
  /** The options' fetch, or one that trusts the connection's extra CA (the simulator's); otherwise the global fetch. */
  private readonly trustedFetch: typeof fetch | undefined;
  private readonly options: Required<Omit<ExchangeOnlineOptions, 'onWarning' | 'fetch' | 'anchorUpn'>> & Pick<ExchangeOnlineOptions, 'onWarning' | 'anchorUpn'>;

  constructor(
    conn: Pick<TenantConnection, 'tenantId' | 'exchangeEndpoint' | 'trustedCa'>,
    private readonly credential: TokenCredential,
    options: ExchangeOnlineOptions = {},
  ) {
    this.tenantId = conn.tenantId;
    this.trustedFetch = options.fetch ?? transportFor(conn)?.fetch;
    this.endpoint = new URL(conn.exchangeEndpoint).origin;
    this.scope = defaultScope(this.endpoint);
    this.options = {
      timeoutMs: options.timeoutMs ?? 300_000,
      pageSize: Math.min(MAX_PAGE_SIZE, Math.max(1, Math.floor(options.pageSize ?? MAX_PAGE_SIZE))),
      maxPages: options.maxPages ?? 500,
      newObjectWindowMs: options.newObjectWindowMs ?? 15 * 60_000,
      clientApplication: options.clientApplication ?? 'OpterMailBot',
      onWarning: options.onWarning,
      anchorUpn: options.anchorUpn,
      now: options.now ?? Date.now,
    };
  }

  /** The InvokeCommand URL for this tenant. */
  get commandUrl(): string {
    return `${this.endpoint}/adminapi/beta/${encodeURIComponent(this.tenantId)}/InvokeCommand`;
  }

  /**
   * Tells the adapter these identities (name, alias, SMTP address, GUID…) belong to an object created moments ago,
   * so a not-found for a cmdlet that names one is "not replicated yet" (transient) for the replication window.
   */
  markNew(...identities: (string | null | undefined)[]): void {
    const at = this.options.now();
    for (const id of identities) if (id) this.newObjects.set(id.toLowerCase(), at);
  }

  /**
   * Runs one cmdlet and returns all output rows (every page), `@odata.*` annotations removed. Parameters are
   * sent as the module encodes them: switches as `true`, multi-valued parameters as arrays, dates as ISO-8601.
   * Throws OpterError; the parsed Exchange details are on `failureInfoOf(err)`.
   */
  async invokeCommand(cmdlet: string, parameters: CmdletParameters = {}, opts: InvokeOptions = {}): Promise<ExchangeRow[]> {
    const ctx: ClassifyContext = {
      service: 'exchange',
      cmdlet,
      objectIsNew: opts.objectIsNew ?? this.namesNewObject(parameters),
      replicationReason: opts.replicationReason ?? 'waiting for Exchange to replicate the new object',
    };
    const body = JSON.stringify({ CmdletInput: { CmdletName: cmdlet, Parameters: encodeParameters(parameters) } });
    let url = opts.select?.length ? `${this.commandUrl}?$select=${opts.select.map(encodeURIComponent).join(',')}` : this.commandUrl;
    const rows: ExchangeRow[] = [];
    for (let page = 0; ; page++) {
      if (page >= this.options.maxPages) {
        throw new OpterError('E_INTERNAL', { detail: `${cmdlet} returned more than ${this.options.maxPages} pages` });
      }
      const result = await this.post(url, body, cmdlet, ctx);
      rows.push(...result.rows);
      if (!result.nextLink) return rows;
      url = this.followable(result.nextLink, cmdlet);
    }
  }

  // --- ExchangePort ----------------------------------------------------------------------------------------------

  async getAcceptedDomains(): Promise<AcceptedDomain[]> {
    const rows = await this.invokeCommand('Get-AcceptedDomain');
    return rows.map((r) => ({ domainName: text(r.DomainName ?? r.Name), isDefault: bool(r.Default ?? r.IsDefault) })).filter((d) => d.domainName);
  }

  async getRecipient(identity: string): Promise<Recipient | null> {
    const rows = await this.getOrNull('Get-Recipient', { Identity: identity });
    return rows?.[0] ? toRecipient(rows[0]) : null;
  }

  async getDistributionGroup(identity: string): Promise<DistributionGroup | null> {
    const rows = await this.getOrNull('Get-DistributionGroup', { Identity: identity });
    return rows?.[0] ? toGroup(rows[0]) : null;
  }

  async newDistributionGroup(p: { name: string; alias: string; members: string[] }): Promise<DistributionGroup> {
    const parameters: CmdletParameters = { Name: p.name, Alias: p.alias, Type: 'Security' };
    if (p.members.length) parameters.Members = [...p.members];
    const rows = await this.invokeCommand('New-DistributionGroup', parameters);
    const row = rows[0];
    if (!row) throw new OpterError('E_INTERNAL', { detail: 'New-DistributionGroup returned no group' });
    const group = toGroup(row);
    this.markNew(p.name, p.alias, group.identity, group.name, group.alias, group.primarySmtpAddress, group.guid, group.externalDirectoryObjectId);
    return group;
  }

  /** Direct members of the group. Throws E_NOT_FOUND when the group does not exist (transient while it is new). */
  async getDistributionGroupMembers(identity: string): Promise<Recipient[]> {
    const rows = await this.invokeCommand('Get-DistributionGroupMember', { Identity: identity }, { replicationReason: 'waiting for Exchange to replicate the new group' });
    return rows.map(toRecipient);
  }

  async addDistributionGroupMember(group: string, member: string): Promise<{ created: boolean }> {
    try {
      // App-only callers are never the group's manager: always bypass the manager check (docs/microsoft-facts.md §8.3).
      await this.invokeCommand(
        'Add-DistributionGroupMember',
        { Identity: group, Member: member, BypassSecurityGroupManagerCheck: true },
        { replicationReason: 'waiting for Exchange to replicate the new group' },
      );
      return { created: true };
    } catch (e) {
      if (hasExchangeException(e, MEMBER_ALREADY_EXISTS)) return { created: false };
      throw e;
    }
  }

  async removeDistributionGroupMember(group: string, member: string): Promise<{ removed: boolean }> {
    try {
      await this.invokeCommand('Remove-DistributionGroupMember', { Identity: group, Member: member, BypassSecurityGroupManagerCheck: true, Confirm: false });
      return { removed: true };
    } catch (e) {
      if (hasExchangeException(e, MEMBER_NOT_FOUND)) return { removed: false };
      throw e;
    }
  }

  async getApplicationAccessPolicies(): Promise<AccessPolicy[]> {
    const rows = await this.invokeCommand('Get-ApplicationAccessPolicy');
    return rows.map(toPolicy);
  }

  async newApplicationAccessPolicy(p: {
    appId: string;
    policyScopeGroupId: string;
    accessRight: 'RestrictAccess' | 'DenyAccess';
    description: string;
  }): Promise<AccessPolicy> {
    let rows: ExchangeRow[];
    try {
      rows = await this.invokeCommand(
        'New-ApplicationAccessPolicy',
        // AppId is String[] in the cmdlet: send an array (docs/microsoft-facts.md §7.3, §8.4).
        { AppId: [p.appId], PolicyScopeGroupId: p.policyScopeGroupId, AccessRight: p.accessRight, Description: p.description },
        { replicationReason: 'waiting for Exchange to see the new group' },
      );
    } catch (e) {
      // The policy identity is app + scope: "already exists" means an earlier (lost) attempt made it. Return that one.
      if (hasExchangeException(e, ALREADY_EXISTS)) {
        const existing = await this.findPolicy(p);
        if (existing) return existing;
      }
      throw e;
    }
    if (rows[0]) return toPolicy(rows[0]);
    // No output row: read it back rather than invent one.
    const found = await this.findPolicy(p);
    if (!found) throw new OpterError('E_INTERNAL', { detail: 'New-ApplicationAccessPolicy returned no policy and none can be read back' });
    return found;
  }

  /** The policy for this app, right and scope; the scope may be given by SMTP address, name or GUID. */
  private async findPolicy(p: { appId: string; policyScopeGroupId: string; accessRight: string }): Promise<AccessPolicy | null> {
    const candidates = (await this.getApplicationAccessPolicies()).filter(
      (x) => x.appId.toLowerCase() === p.appId.toLowerCase() && x.accessRight === p.accessRight,
    );
    if (!candidates.length) return null;
    const scope = await this.getRecipient(p.policyScopeGroupId);
    const keys = new Set([p.policyScopeGroupId, scope?.identity, scope?.displayName, scope?.primarySmtpAddress, scope?.externalDirectoryObjectId].filter((k): k is string => !!k).map((k) => k.toLowerCase()));
    return candidates.find((x) => keys.has(x.scopeName.toLowerCase()) || keys.has(x.scopeIdentity.toLowerCase())) ?? null;
  }

  async removeApplicationAccessPolicy(identity: string): Promise<void> {
    try {
      await this.invokeCommand('Remove-ApplicationAccessPolicy', { Identity: identity, Confirm: false });
    } catch (e) {
      if (e instanceof OpterError && e.code === 'E_NOT_FOUND' && !e.transient) return; // already gone
      throw e;
    }
  }

  async testApplicationAccessPolicy(appId: string, identity: string): Promise<AccessCheck> {
    const rows = await this.invokeCommand('Test-ApplicationAccessPolicy', { Identity: identity, AppId: appId });
    const result = text(rows[0]?.AccessCheckResult);
    if (result === 'Granted' || result === 'Denied') return result;
    throw new OpterError('E_INTERNAL', { detail: `Test-ApplicationAccessPolicy returned ${result ? `"${result}"` : 'no AccessCheckResult'}` });
  }

  // --- ExchangeLifecyclePort: inventory, organization customization, RBAC for Applications ------------------------

  async listMailSecurityGroups(): Promise<DistributionGroup[]> {
    const rows = await this.invokeCommand('Get-DistributionGroup', { RecipientTypeDetails: ['MailUniversalSecurityGroup'], ResultSize: 'Unlimited' });
    return rows.map(toGroup);
  }

  async getOrganizationConfig(): Promise<OrganizationConfig> {
    const rows = await this.invokeCommand('Get-OrganizationConfig');
    const r = rows[0];
    if (!r) throw new OpterError('E_INTERNAL', { detail: 'Get-OrganizationConfig returned nothing' });
    return { name: text(r.Name) || text(r.Identity), isDehydrated: bool(r.IsDehydrated) };
  }

  async enableOrganizationCustomization(): Promise<{ enabled: boolean }> {
    try {
      await this.invokeCommand('Enable-OrganizationCustomization');
      return { enabled: true };
    } catch (e) {
      if (hasExchangeException(e, CUSTOMIZATION_NOT_REQUIRED)) return { enabled: false };
      throw e;
    }
  }

  async getExchangeServicePrincipal(identity: string): Promise<ExchangeServicePrincipal | null> {
    const rows = await this.getOrNull('Get-ServicePrincipal', { Identity: identity });
    return rows?.[0] ? toExchangeServicePrincipal(rows[0]) : null;
  }

  async listExchangeServicePrincipals(): Promise<ExchangeServicePrincipal[]> {
    return (await this.invokeCommand('Get-ServicePrincipal')).map(toExchangeServicePrincipal);
  }

  async newExchangeServicePrincipal(p: { appId: string; objectId: string; displayName: string }): Promise<ExchangeServicePrincipal> {
    let rows: ExchangeRow[];
    try {
      rows = await this.invokeCommand(
        'New-ServicePrincipal',
        { AppId: p.appId, ObjectId: p.objectId, DisplayName: p.displayName },
        { replicationReason: 'waiting for Exchange to see the new Entra service principal' },
      );
    } catch (e) {
      // A lost response of an earlier attempt made it: return that one.
      if (hasExchangeException(e, ALREADY_EXIST)) {
        const existing = await this.getExchangeServicePrincipal(p.objectId);
        if (existing) return existing;
        // It exists but this domain controller cannot read it yet: an earlier attempt's object still replicating.
        throw replicating(e, 'waiting for Exchange to replicate the new service principal pointer');
      }
      throw e;
    }
    const row = rows[0];
    const sp = row ? toExchangeServicePrincipal(row) : await this.getExchangeServicePrincipal(p.objectId);
    if (!sp) throw new OpterError('E_INTERNAL', { detail: 'New-ServicePrincipal returned no service principal and none can be read back' });
    this.markNew(sp.objectId, sp.appId, sp.identity, p.displayName);
    return sp;
  }

  async getManagementRoleAssignments(filter: { identity?: string; role?: string; roleAssignee?: string } = {}): Promise<ManagementRoleAssignment[]> {
    const parameters: CmdletParameters = { Identity: filter.identity, Role: filter.role, RoleAssignee: filter.roleAssignee };
    const rows = filter.identity || filter.roleAssignee ? await this.getOrNull('Get-ManagementRoleAssignment', parameters) : await this.invokeCommand('Get-ManagementRoleAssignment', parameters);
    return (rows ?? []).map(toRoleAssignment);
  }

  async newManagementRoleAssignment(p: { name: string; app: string; role: string; recipientGroupScope: string }): Promise<ManagementRoleAssignment> {
    let rows: ExchangeRow[];
    try {
      rows = await this.invokeCommand(
        'New-ManagementRoleAssignment',
        { Name: p.name, App: p.app, Role: p.role, RecipientGroupScope: p.recipientGroupScope },
        { replicationReason: 'waiting for Exchange to replicate the new service principal pointer' },
      );
    } catch (e) {
      if (hasExchangeException(e, DEHYDRATED)) {
        // Hydration can lag behind IsDehydrated=False by hours [OBS]; retrying later is the only cure.
        throw new OpterError('E_EXCHANGE_CUSTOMIZATION_PENDING', {
          transient: true,
          detail: 'Exchange refused New-ManagementRoleAssignment until organization customization is complete.',
          retryReason: 'waiting for Exchange to finish enabling organization customization',
          cause: failureInfoOf(e) ?? undefined,
        });
      }
      if (hasExchangeException(e, ALREADY_EXISTS)) {
        const [existing] = await this.getManagementRoleAssignments({ identity: p.name });
        if (existing) return existing;
        throw replicating(e, 'waiting for Exchange to replicate the new role assignment');
      }
      throw e;
    }
    const row = rows[0];
    const a = row ? toRoleAssignment(row) : (await this.getManagementRoleAssignments({ identity: p.name }))[0];
    if (!a) throw new OpterError('E_INTERNAL', { detail: 'New-ManagementRoleAssignment returned no assignment and none can be read back' });
    this.markNew(a.name);
    return a;
  }

  async removeManagementRoleAssignment(identity: string): Promise<void> {
    try {
      // Callers remove what they have just read, so a not-found means "already gone", even for a new assignment.
      await this.invokeCommand('Remove-ManagementRoleAssignment', { Identity: identity, Confirm: false }, { objectIsNew: false });
    } catch (e) {
      if (e instanceof OpterError && e.code === 'E_NOT_FOUND' && !e.transient) return; // already gone
      throw e;
    }
  }

  async testServicePrincipalAuthorization(identity: string, resource: string): Promise<ServicePrincipalAuthorization[]> {
    const rows = await this.invokeCommand('Test-ServicePrincipalAuthorization', { Identity: identity, Resource: resource });
    return rows.map((r) => ({
      roleName: text(r.RoleName),
      grantedPermissions: Array.isArray(r.GrantedPermissions) ? r.GrantedPermissions.map(text).join(', ') : text(r.GrantedPermissions),
      allowedResourceScope: text(r.AllowedResourceScope),
      scopeType: text(r.ScopeType),
      inScope: inScopeOf(r.InScope),
    }));
  }

  // --- plumbing --------------------------------------------------------------------------------------------------

  /** A Get-* whose not-found (404 / ManagementObjectNotFoundException) means "no such object" → null. */
  private async getOrNull(cmdlet: string, parameters: CmdletParameters): Promise<ExchangeRow[] | null> {
    try {
      return await this.invokeCommand(cmdlet, parameters, { objectIsNew: false });
    } catch (e) {
      if (e instanceof OpterError && e.code === 'E_NOT_FOUND') return null;
      throw e;
    }
  }

  private async post(url: string, body: string, cmdlet: string, ctx: ClassifyContext): Promise<{ rows: ExchangeRow[]; nextLink: string | null }> {
    let token: string;
    try {
      const t = await this.credential.getToken(this.scope);
      if (!t?.token) throw new Error('the credential returned no token');
      token = t.token;
    } catch (e) {
      throw classifyError(e, { ...ctx, service: 'identity', operation: `get a token for Exchange Online (${cmdlet})` });
    }
    const requestId = randomUUID();
    let res: Response;
    try {
      res = await (this.trustedFetch ?? fetch)(url, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${token}`,
          'Content-Type': 'application/json',
          Accept: 'application/json',
          'X-AnchorMailbox': this.options.anchorUpn ? `UPN:${this.options.anchorUpn}` : `APP:${SYSTEM_MAILBOX}@${this.tenantId}`,
          Prefer: `odata.maxpagesize=${this.options.pageSize}`,
          'X-ResponseFormat': 'json',
          'X-CmdletName': cmdlet,
          'X-SerializationLevel': 'Partial',
          'X-ClientApplication': this.options.clientApplication,
          'client-request-id': requestId,
          'connection-id': this.connectionId,
        },
        body,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (e) {
      throw classifyError(e, ctx);
    }
    // A 403 body can be unreadable (NUL bytes labelled gzip, docs/microsoft-facts.md §7.6): never let reading it mask the status.
    const bodyText = await res.text().catch(() => '');
    if (!res.ok) throw classifyError(new ServiceHttpError('exchange', res.status, res.headers, bodyText, cmdlet), ctx);

    let json: Record<string, unknown>;
    try {
      json = JSON.parse(bodyText) as Record<string, unknown>;
    } catch (e) {
      throw new OpterError('E_INTERNAL', { detail: `${cmdlet}: Exchange answered ${res.status} without JSON`, cause: e });
    }
    const errors = annotationTexts(json['@adminapi.errors']);
    if (errors.length) throw classifyError(exchangeAnnotationFailure(errors, res.headers.get('request-id') ?? requestId), ctx);
    for (const w of annotationTexts(json['@adminapi.warnings'])) this.options.onWarning?.(cmdlet, w);
    const value = json.value;
    const rows = Array.isArray(value) ? value.filter((r): r is ExchangeRow => !!r && typeof r === 'object').map(stripAnnotations) : [];
    const next = json['@odata.nextLink'];
    return { rows, nextLink: typeof next === 'string' && next ? next : null };
  }

  /**
   * The bearer token goes wherever a nextLink points: follow links only on an Exchange host of the endpoint's own
   * cloud. Exchange may page from outlook.office365.com to outlook.office.com (the captured `@odata.context` of
   * docs/microsoft-facts.md §7.4 already names the latter), so a strict same-origin rule would break paging (clouds.ts).
   */
  private followable(link: string, cmdlet: string): string {
    const url = new URL(link, this.endpoint);
    if (!isSameCloudExchangeLink(this.endpoint, url)) throw new OpterError('E_INTERNAL', { detail: `${cmdlet}: refusing to follow a nextLink to ${url.origin}` });
    return url.toString();
  }

  private namesNewObject(parameters: CmdletParameters): boolean {
    const now = this.options.now();
    for (const [key, at] of this.newObjects) if (now - at > this.options.newObjectWindowMs) this.newObjects.delete(key);
    if (!this.newObjects.size) return false;
    const values = Object.values(parameters).flatMap((v) => (Array.isArray(v) ? v : [v]));
    return values.some((v) => typeof v === 'string' && this.newObjects.has(v.toLowerCase()));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Encoding and mapping
// ---------------------------------------------------------------------------------------------------------------

/**
 * PowerShell parameter values as the EXO module sends them (docs/microsoft-facts.md §7.3): switches → true, string[] → arrays,
 * DateTime → ISO-8601 UTC with 7 fractional digits; undefined parameters are left out.
 */
export function encodeParameters(parameters: CmdletParameters): CmdletParameters {
  const out: CmdletParameters = {};
  for (const [k, v] of Object.entries(parameters)) {
    if (v === undefined) continue;
    out[k] = encodeValue(v);
  }
  return out;
}

function encodeValue(v: unknown): unknown {
  if (v instanceof Date) return `${v.toISOString().slice(0, 19)}.${String(v.getUTCMilliseconds()).padStart(3, '0')}0000Z`;
  if (Array.isArray(v)) return v.map(encodeValue);
  if (v instanceof Set) return [...v].map(encodeValue);
  return v;
}

/** Drops OData annotations (`@odata.type`, `Prop@odata.type`, …) from an output row. */
export function stripAnnotations(row: ExchangeRow): ExchangeRow {
  const out: ExchangeRow = {};
  for (const [k, v] of Object.entries(row)) if (!k.includes('@odata.')) out[k] = v;
  return out;
}

function annotationTexts(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  const list = Array.isArray(v) ? v : [v];
  return list
    .map((x) => {
      if (typeof x === 'string') return x;
      if (x && typeof x === 'object') {
        const o = x as Record<string, unknown>;
        const m = o.message ?? o.Message ?? o.ErrorMessage;
        if (typeof m === 'string') return typeof o.TypeName === 'string' ? JSON.stringify({ Message: m, TypeName: o.TypeName }) : m;
        return JSON.stringify(x);
      }
      return String(x);
    })
    .filter((s) => s.trim().length > 0);
}

/** Exchange serialises identities as strings in JSON output; tolerate objects ({Name}/{DistinguishedName}) too. */
function text(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    for (const k of ['Name', 'DistinguishedName', 'Identity', 'ObjectGuid']) if (typeof o[k] === 'string') return o[k] as string;
  }
  return '';
}

function nullable(v: unknown): string | null {
  const s = text(v).trim();
  return s ? s : null;
}

function bool(v: unknown): boolean {
  return v === true || (typeof v === 'string' && v.toLowerCase() === 'true');
}

function toRecipient(r: ExchangeRow): Recipient {
  return {
    identity: text(r.Identity) || text(r.Name),
    primarySmtpAddress: text(r.PrimarySmtpAddress),
    recipientTypeDetails: text(r.RecipientTypeDetails),
    externalDirectoryObjectId: nullable(r.ExternalDirectoryObjectId),
    displayName: text(r.DisplayName) || text(r.Name),
  };
}

function toGroup(r: ExchangeRow): DistributionGroup {
  return {
    identity: text(r.Identity) || text(r.Name),
    name: text(r.Name),
    displayName: text(r.DisplayName) || text(r.Name),
    alias: text(r.Alias),
    primarySmtpAddress: text(r.PrimarySmtpAddress),
    recipientTypeDetails: text(r.RecipientTypeDetails),
    externalDirectoryObjectId: nullable(r.ExternalDirectoryObjectId),
    guid: text(r.Guid),
  };
}

function replicating(e: unknown, reason: string): OpterError {
  const detail = e instanceof OpterError ? e.detail : undefined;
  return new OpterError('E_NOT_FOUND', { transient: true, detail: detail ?? 'the object exists but cannot be read yet', retryReason: reason, cause: failureInfoOf(e) ?? undefined });
}

function toExchangeServicePrincipal(r: ExchangeRow): ExchangeServicePrincipal {
  const objectId = text(r.ObjectId) || text(r.ServiceId) || text(r.Identity);
  return { identity: text(r.Identity) || objectId, appId: text(r.AppId), objectId, displayName: text(r.DisplayName) };
}

function toRoleAssignment(r: ExchangeRow): ManagementRoleAssignment {
  const custom = nullable(r.CustomResourceScope);
  const writeScope = text(r.RecipientWriteScope);
  // A group scope is only visible as CustomResourceScope `<GroupName>_<GUID>` [OBS A4]; a named management scope
  // shows its own name there.
  const groupMatch = custom ? /^(.*)_([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i.exec(custom) : null;
  const isGroupScope = /group/i.test(writeScope) || !!groupMatch;
  return {
    name: text(r.Name) || text(r.Identity),
    identity: text(r.Identity) || text(r.Name),
    role: text(r.Role),
    roleAssigneeType: text(r.RoleAssigneeType),
    // Kept apart: RoleAssignee carries the identity, RoleAssigneeName (usually) the pointer's name (ports.ts).
    roleAssignee: text(r.RoleAssignee),
    roleAssigneeName: text(r.RoleAssigneeName),
    recipientGroupScope: isGroupScope && custom ? { name: groupMatch ? groupMatch[1]! : custom, guid: groupMatch ? groupMatch[2]!.toLowerCase() : null } : null,
    customResourceScope: isGroupScope ? null : custom,
    recipientWriteScope: writeScope || (custom ? 'CustomRecipientScope' : 'Organization'),
    enabled: r.Enabled === undefined ? true : bool(r.Enabled),
  };
}

/** InScope arrives as a boolean or as "True"/"False"; "Not Run" (no resource) → null [docs/microsoft-facts.md §9.4]. */
function inScopeOf(v: unknown): boolean | null {
  if (v === true || v === false) return v;
  const s = text(v).trim().toLowerCase();
  if (s === 'true') return true;
  if (s === 'false') return false;
  return null;
}

function toPolicy(r: ExchangeRow): AccessPolicy {
  const right = text(r.AccessRight);
  return {
    identity: text(r.Identity),
    appId: Array.isArray(r.AppId) ? text(r.AppId[0]) : text(r.AppId),
    scopeName: text(r.ScopeName),
    scopeIdentity: text(r.ScopeIdentity),
    accessRight: right === 'DenyAccess' ? 'DenyAccess' : 'RestrictAccess',
    description: text(r.Description),
  };
}
