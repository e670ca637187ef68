/**
 * DirectoryPort over Microsoft Graph v1.0 with @microsoft/microsoft-graph-client (docs/microsoft-facts.md §2–§5).
 *
 * Every failure leaves as an OpterError (classify.ts). Reads return null/[] for "does not exist"; idempotent
 * writes report "already there" as `{ created: false }`.
 */
import { ResponseType, RetryHandlerOptions, type Client, type GraphRequest } from '@microsoft/microsoft-graph-client';
import type { TokenCredential } from '@azure/identity';
import { OpterError } from '../core/errors';
import type {
  AppManagementPolicy,
  Application,
  AppRole,
  AppRoleAssignment,
  DirectoryPort,
  NewPassword,
  PasswordCredentialInfo,
  ServicePrincipal,
  UpsertResult,
} from '../core/ports';
import { classifyError, ServiceHttpError, type ClassifyContext } from './classify';
import type { TenantConnection } from './config';
import { transportFor } from './tls-trust';
import { createGraphClient, graphMessageOf, graphStatusOf, odataEqFilter, odataKey, type GraphClientOptions } from './graph-client';

/** Graph application permissions the provisioning identity needs, named when a call is refused (docs/permissions.md). */
export const GRAPH_PERMISSION = {
  applications: 'Application.ReadWrite.All',
  appRoleAssignments: 'AppRoleAssignment.ReadWrite.All',
  policies: 'Policy.Read.All',
} as const;

const APPLICATION_FIELDS = ['id', 'appId', 'displayName', 'uniqueName', 'signInAudience', 'passwordCredentials', 'createdDateTime'];
const SERVICE_PRINCIPAL_FIELDS = ['id', 'appId', 'displayName', 'appRoles'];
/** The duplicate app-role assignment answer (400 Request_BadRequest) [OBS O1, docs/microsoft-facts.md §5.2]. */
const DUPLICATE_ASSIGNMENT = /Permission being assigned already exists on the object/i;
/** Paging bound: a tenant with more than this many pages of matches is not what these look-ups expect. */
const MAX_PAGES = 200;
/**
 * How long after creating an app a 403 "backing application … must in the local tenant" to its service principal
 * still counts as replication: azure-cli retries it 36 × 5 s (role/custom.py, docs/simulator.md).
 */
const NEW_APP_WINDOW_MS = 36 * 5_000;

export interface GraphDirectoryOptions extends GraphClientOptions {
  /** How long a just-created app counts as "new" for the service principal create (default 3 minutes). */
  newAppWindowMs?: number;
  /** Clock for that window (tests). */
  now?: () => number;
}

type Json = Record<string, unknown>;

export class GraphDirectory implements DirectoryPort {
  readonly tenantId: string;
  /** The configured SDK client, for Graph calls outside this port (e.g. directory role assignments). */
  readonly client: Client;
  private readonly origin: string;
  /** appId → when this adapter created it (for the bounded replication retry of its service principal). */
  private readonly newApps = new Map<string, number>();
  private readonly newAppWindowMs: number;
  private readonly now: () => number;

  constructor(conn: Pick<TenantConnection, 'tenantId' | 'graphEndpoint' | 'trustedCa'>, credential: TokenCredential, options: GraphDirectoryOptions = {}) {
    this.tenantId = conn.tenantId;
    this.origin = new URL(conn.graphEndpoint).origin;
    this.client = createGraphClient(conn.graphEndpoint, credential, { fetch: transportFor(conn)?.fetch, ...options });
    this.newAppWindowMs = options.newAppWindowMs ?? NEW_APP_WINDOW_MS;
    this.now = options.now ?? Date.now;
  }

  // --- applications ----------------------------------------------------------------------------------------------

  async upsertApplicationByUniqueName(uniqueName: string, body: { displayName: string; signInAudience: string }): Promise<UpsertResult<Application>> {
    const ctx: ClassifyContext = { operation: 'create or update the app registration', permission: GRAPH_PERMISSION.applications };
    const value = await this.upsert(`/applications(uniqueName='${odataKey(uniqueName)}')`, { displayName: body.displayName, signInAudience: body.signInAudience }, ctx);
    if (!value) return { created: false };
    const app = toApplication(value);
    this.newApps.set(app.appId.toLowerCase(), this.now());
    return { created: true, value: app };
  }

  async findApplicationsByDisplayName(displayName: string): Promise<Application[]> {
    const ctx: ClassifyContext = { operation: 'look up app registrations by name', permission: GRAPH_PERMISSION.applications };
    const rows = await this.listAll(this.client.api('/applications').filter(odataEqFilter('displayName', displayName)).select(APPLICATION_FIELDS), ctx);
    return rows.map(toApplication);
  }

  async getApplication(objectId: string): Promise<Application | null> {
    const raw = await this.getOrNull(this.client.api(`/applications/${encodeURIComponent(objectId)}`).select(APPLICATION_FIELDS), {
      operation: 'read the app registration',
      permission: GRAPH_PERMISSION.applications,
    });
    return raw ? toApplication(raw) : null;
  }

  async getApplicationByAppId(appId: string): Promise<Application | null> {
    const raw = await this.getOrNull(this.client.api(`/applications(appId='${odataKey(appId)}')`).select(APPLICATION_FIELDS), {
      operation: 'read the app registration',
      permission: GRAPH_PERMISSION.applications,
    });
    return raw ? toApplication(raw) : null;
  }

  async deleteApplication(objectId: string): Promise<void> {
    try {
      await this.client.api(`/applications/${encodeURIComponent(objectId)}`).delete();
    } catch (e) {
      if (graphStatusOf(e) === 404) return; // already gone: the goal of a delete
      throw classifyError(e, { service: 'graph', operation: 'delete the app registration', permission: GRAPH_PERMISSION.applications });
    }
  }

  // --- service principals ----------------------------------------------------------------------------------------

  async upsertServicePrincipal(appId: string): Promise<UpsertResult<ServicePrincipal>> {
    const ctx: ClassifyContext = {
      operation: 'create the service principal',
      permission: GRAPH_PERMISSION.applications,
      replicationReason: 'waiting for Microsoft to replicate the new app registration',
      // Bounded: only while the app is new does the "backing application" 403 mean replication.
      objectIsNew: this.isNewApp(appId),
    };
    const value = await this.upsert(`/servicePrincipals(appId='${odataKey(appId)}')`, {}, ctx);
    return value ? { created: true, value: toServicePrincipal(value) } : { created: false };
  }

  async getServicePrincipalByAppId(appId: string): Promise<ServicePrincipal | null> {
    const raw = await this.getOrNull(this.client.api(`/servicePrincipals(appId='${odataKey(appId)}')`).select(SERVICE_PRINCIPAL_FIELDS), {
      operation: 'read the service principal',
      permission: GRAPH_PERMISSION.applications,
    });
    return raw ? toServicePrincipal(raw) : null;
  }

  // --- app role assignments --------------------------------------------------------------------------------------

  async listAppRoleAssignments(principalId: string): Promise<AppRoleAssignment[]> {
    const ctx: ClassifyContext = { operation: 'read the app role assignments', permission: GRAPH_PERMISSION.applications };
    // A principal that does not exist (yet) holds no assignments.
    const rows = await this.listAll(this.client.api(`/servicePrincipals/${encodeURIComponent(principalId)}/appRoleAssignments`), ctx, { emptyOn404: true });
    return rows.map(toAssignment);
  }

  async assignAppRole(a: { principalId: string; resourceId: string; appRoleId: string }): Promise<UpsertResult<AppRoleAssignment>> {
    try {
      const raw = (await this.client
        .api(`/servicePrincipals/${encodeURIComponent(a.resourceId)}/appRoleAssignedTo`)
        .post({ principalId: a.principalId, resourceId: a.resourceId, appRoleId: a.appRoleId })) as Json;
      return { created: true, value: toAssignment(raw) };
    } catch (e) {
      if (graphStatusOf(e) === 400 && DUPLICATE_ASSIGNMENT.test(graphMessageOf(e))) return { created: false };
      throw classifyError(e, {
        service: 'graph',
        operation: 'grant the app role',
        permission: GRAPH_PERMISSION.appRoleAssignments,
        replicationReason: 'waiting for Microsoft to replicate the new service principal',
      });
    }
  }

  async removeAppRoleAssignment(principalId: string, assignmentId: string): Promise<void> {
    try {
      await this.client.api(`/servicePrincipals/${encodeURIComponent(principalId)}/appRoleAssignments/${encodeURIComponent(assignmentId)}`).delete();
    } catch (e) {
      if (graphStatusOf(e) === 404) return;
      throw classifyError(e, { service: 'graph', operation: 'remove the app role assignment', permission: GRAPH_PERMISSION.appRoleAssignments });
    }
  }

  // --- secrets ---------------------------------------------------------------------------------------------------

  async addPassword(appObjectId: string, credential: { displayName: string; endDateTime: string }): Promise<NewPassword> {
    let raw: Json;
    try {
      raw = (await this.client
        .api(`/applications/${encodeURIComponent(appObjectId)}/addPassword`)
        // Never repeated by the SDK: its RetryHandler resends a buffered POST on 429/503/504 (RetryHandler.js,
        // executeWithRetry: isRetry + isBuffered), and a 503 can come after the secret was made, so a repeat leaves
        // a second secret nobody recorded. The engine's own retry sweeps such orphans (journal `pendingSince`).
        .middlewareOptions([new RetryHandlerOptions(0, 0, () => false)])
        .post({ passwordCredential: { displayName: credential.displayName, endDateTime: credential.endDateTime } })) as Json;
    } catch (e) {
      throw classifyError(e, {
        service: 'graph',
        operation: 'add the client secret',
        permission: GRAPH_PERMISSION.applications,
        replicationReason: 'waiting for Microsoft to replicate the new app registration',
      });
    }
    const secretText = raw?.secretText;
    // Never echo the response: it holds the secret.
    if (typeof secretText !== 'string' || !secretText) throw shapeError('addPassword returned no secretText');
    return { ...toPasswordInfo(raw), secretText };
  }

  async removePassword(appObjectId: string, keyId: string): Promise<void> {
    const ctx: ClassifyContext = { service: 'graph', operation: 'remove the client secret', permission: GRAPH_PERMISSION.applications };
    try {
      await this.client.api(`/applications/${encodeURIComponent(appObjectId)}/removePassword`).post({ keyId });
    } catch (e) {
      const status = graphStatusOf(e);
      // An unknown keyId is refused with a 400/404 whose wording is not documented: if the app is readable and
      // the key is not on it, the goal ("this secret no longer exists") is met.
      if (status === 400 || status === 404) {
        const app = await this.getApplication(appObjectId).catch(() => null);
        if (app && !app.passwordCredentials.some((c) => c.keyId.toLowerCase() === keyId.toLowerCase())) return;
      }
      throw classifyError(e, ctx);
    }
  }

  async getMaxPasswordLifetime(): Promise<string | null> {
    let raw: Json;
    try {
      raw = (await this.client.api('/policies/defaultAppManagementPolicy').get()) as Json;
    } catch (e) {
      throw classifyError(e, { service: 'graph', operation: 'read the app management policy', permission: GRAPH_PERMISSION.policies });
    }
    return maxPasswordLifetimeOf(raw);
  }

  async getSecretPolicy(appObjectId?: string): Promise<AppManagementPolicy> {
    const ctx: ClassifyContext = { service: 'graph', operation: 'read the app management policy', permission: GRAPH_PERMISSION.policies };
    if (appObjectId) {
      // An assigned policy replaces the tenant default for this app (only one can be assigned).
      const own = await this.listAll(this.client.api(`/applications/${encodeURIComponent(appObjectId)}/appManagementPolicies`), ctx);
      if (own[0]) return toAppManagementPolicy(own[0], 'app');
    }
    try {
      return toAppManagementPolicy((await this.client.api('/policies/defaultAppManagementPolicy').get()) as Json, 'tenant-default');
    } catch (e) {
      throw classifyError(e, ctx);
    }
  }

  // --- plumbing --------------------------------------------------------------------------------------------------

  private isNewApp(appId: string): boolean {
    const at = this.newApps.get(appId.toLowerCase());
    return at !== undefined && this.now() - at <= this.newAppWindowMs;
  }

  /**
   * PATCH with `Prefer: create-if-missing`: 201 + body → created (returns the body), 204 → existed (null).
   * The raw response is used because the SDK's parsed `.patch()` hides the status that tells the two apart.
   */
  private async upsert(path: string, body: Json, ctx: ClassifyContext): Promise<Json | null> {
    let res: Response;
    try {
      res = (await this.client.api(path).header('Prefer', 'create-if-missing').responseType(ResponseType.RAW).patch(body)) as Response;
    } catch (e) {
      throw classifyError(e, { service: 'graph', ...ctx });
    }
    if (res.status === 201) {
      try {
        return (await res.json()) as Json;
      } catch (e) {
        throw shapeError(`${ctx.operation}: 201 without a JSON body`, e);
      }
    }
    if (res.ok) {
      await res.body?.cancel().catch(() => undefined);
      return null;
    }
    const text = await res.text().catch(() => '');
    throw classifyError(new ServiceHttpError('graph', res.status, res.headers, text, ctx.operation), { service: 'graph', ...ctx });
  }

  private async getOrNull(request: GraphRequest, ctx: ClassifyContext): Promise<Json | null> {
    try {
      return (await request.get()) as Json;
    } catch (e) {
      if (graphStatusOf(e) === 404) return null;
      throw classifyError(e, { service: 'graph', ...ctx });
    }
  }

  /** A collection with its `@odata.nextLink` pages. */
  private async listAll(first: GraphRequest, ctx: ClassifyContext, opts: { emptyOn404?: boolean } = {}): Promise<Json[]> {
    const rows: Json[] = [];
    let request: GraphRequest | null = first;
    for (let page = 0; request; page++) {
      if (page >= MAX_PAGES) throw shapeError(`${ctx.operation}: more than ${MAX_PAGES} pages`);
      let body: Json;
      try {
        body = (await request.get()) as Json;
      } catch (e) {
        if (opts.emptyOn404 && page === 0 && graphStatusOf(e) === 404) return [];
        throw classifyError(e, { service: 'graph', ...ctx });
      }
      if (Array.isArray(body?.value)) rows.push(...(body.value as Json[]));
      const next = body?.['@odata.nextLink'];
      request = typeof next === 'string' && next ? this.client.api(this.sameOrigin(next)) : null;
    }
    return rows;
  }

  /** A nextLink must stay on the Graph endpoint: the bearer token goes wherever it points. */
  private sameOrigin(link: string): string {
    const url = new URL(link, this.origin);
    if (url.origin !== this.origin) throw shapeError(`refusing to follow a nextLink to another host (${url.origin})`);
    return url.toString();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Mapping (Graph JSON → port types)
// ---------------------------------------------------------------------------------------------------------------

function need(raw: Json, field: string, what: string): string {
  const v = raw?.[field];
  if (typeof v !== 'string' || !v) throw shapeError(`${what} without ${field}`);
  return v;
}

function optional(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

export function toApplication(raw: Json): Application {
  return {
    id: need(raw, 'id', 'application'),
    appId: need(raw, 'appId', 'application'),
    displayName: typeof raw.displayName === 'string' ? raw.displayName : '',
    uniqueName: optional(raw.uniqueName),
    signInAudience: typeof raw.signInAudience === 'string' ? raw.signInAudience : '',
    passwordCredentials: Array.isArray(raw.passwordCredentials) ? (raw.passwordCredentials as Json[]).map(toPasswordInfo) : [],
    createdDateTime: optional(raw.createdDateTime),
  };
}

/** A tenant default (`applicationRestrictions`) or per-app (`restrictions`) policy as the port sees it. */
function toAppManagementPolicy(raw: Json, source: AppManagementPolicy['source']): AppManagementPolicy {
  const holder = (source === 'app' ? raw.restrictions : raw.applicationRestrictions) as Json | undefined;
  const list = Array.isArray(holder?.passwordCredentials) ? (holder.passwordCredentials as Json[]) : [];
  return {
    source,
    id: typeof raw.id === 'string' ? raw.id : '',
    displayName: typeof raw.displayName === 'string' ? raw.displayName : '',
    isEnabled: raw.isEnabled !== false,
    passwordCredentials: list
      .filter((r) => typeof r?.restrictionType === 'string')
      .map((r) => ({
        restrictionType: r.restrictionType as string,
        enabled: r.state !== 'disabled',
        maxLifetime: optional(r.maxLifetime),
        restrictForAppsCreatedAfter: optional(r.restrictForAppsCreatedAfterDateTime),
      })),
  };
}

function toPasswordInfo(raw: Json): PasswordCredentialInfo {
  return {
    keyId: need(raw, 'keyId', 'password credential'),
    displayName: optional(raw.displayName),
    startDateTime: typeof raw.startDateTime === 'string' ? raw.startDateTime : '',
    endDateTime: typeof raw.endDateTime === 'string' ? raw.endDateTime : '',
    hint: optional(raw.hint),
  };
}

export function toServicePrincipal(raw: Json): ServicePrincipal {
  return {
    id: need(raw, 'id', 'service principal'),
    appId: need(raw, 'appId', 'service principal'),
    displayName: typeof raw.displayName === 'string' ? raw.displayName : '',
    appRoles: Array.isArray(raw.appRoles) ? (raw.appRoles as Json[]).map(toAppRole) : [],
  };
}

function toAppRole(raw: Json): AppRole {
  return {
    id: need(raw, 'id', 'app role'),
    value: optional(raw.value),
    allowedMemberTypes: Array.isArray(raw.allowedMemberTypes) ? raw.allowedMemberTypes.filter((t): t is string => typeof t === 'string') : [],
    isEnabled: raw.isEnabled !== false,
    displayName: optional(raw.displayName),
  };
}

function toAssignment(raw: Json): AppRoleAssignment {
  return {
    id: need(raw, 'id', 'app role assignment'),
    principalId: need(raw, 'principalId', 'app role assignment'),
    resourceId: need(raw, 'resourceId', 'app role assignment'),
    appRoleId: need(raw, 'appRoleId', 'app role assignment'),
  };
}

/**
 * The tenant's maximum client-secret lifetime from `defaultAppManagementPolicy` (docs/microsoft-facts.md §4): the shortest
 * `maxLifetime` among enabled `passwordLifetime` restrictions, or null when there is none (or the policy is off).
 */
export function maxPasswordLifetimeOf(policy: Json): string | null {
  if (!policy || policy.isEnabled === false) return null;
  const restrictions = (policy.applicationRestrictions as Json | undefined)?.passwordCredentials;
  if (!Array.isArray(restrictions)) return null;
  let best: { text: string; ms: number } | null = null;
  for (const r of restrictions as Json[]) {
    if (r?.restrictionType !== 'passwordLifetime' || r.state === 'disabled' || typeof r.maxLifetime !== 'string') continue;
    const ms = approximateDurationMs(r.maxLifetime);
    if (ms === null) continue;
    if (!best || ms < best.ms) best = { text: r.maxLifetime, ms };
  }
  return best?.text ?? null;
}

/** ISO-8601 duration in approximate ms, only to compare durations (a year is 365.25 days, a month 30.44). */
function approximateDurationMs(text: string): number | null {
  const m = /^P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(text.trim());
  if (!m || text.trim() === 'P') return null;
  const n = (i: number) => Number(m[i] ?? 0);
  const day = 86_400_000;
  return n(1) * 365.25 * day + n(2) * 30.44 * day + n(3) * 7 * day + n(4) * day + n(5) * 3_600_000 + n(6) * 60_000 + n(7) * 1000;
}

function shapeError(detail: string, cause?: unknown): OpterError {
  return new OpterError('E_INTERNAL', { detail: `Unexpected Microsoft Graph response: ${detail}`, cause });
}
