/**
 * The simulated Microsoft 365 tenant: three HTTPS listeners on 127.0.0.1 (identity platform, Graph, Exchange
 * admin REST) over one shared tenant state. Separate origins give Graph and Exchange tokens different audiences,
 * as in the cloud. See docs/simulator.md for every endpoint, quirk and source.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EXCHANGE_APP_ID, GRAPH_APP_ID, TEAMS_CLIENT_IDS } from './catalog';
import { registerClientApp, teamsSsoToken, upsertUser } from './users';
import { cmdletNameOf, handleExchange } from './exchange';
import { FaultEngine, validateFaults, type AfterCommitOperation, type FaultDecision, type SimFaults, type SimFamily } from './faults';
import { applicationJson, assignmentJson, handleGraph, servicePrincipalJson } from './graph';
import { isoNow, type SimContext, type SimReply, type SimRequest } from './http';
import { handleIdentity } from './identity';
import { newGuid, newSecretText } from './ids';
import { loadOrCreateSigningKey } from './jwt';
import { TenantStore } from './store';
import {
  DISTRIBUTION_LIST_ALIAS,
  EMBEDDED_TENANT,
  MAIL_CONTACT_ADDRESS,
  NO_MAILBOX_USER_ALIAS,
  SEEDED_MAILBOXES,
  isVisible,
  loadState,
  seedIds,
  seedTenant,
  seededPassword,
  type SeedIdentity,
  type TenantState,
} from './tenant';
import { DEFAULT_TEST_TLS_DIR, ensureClientCertificate, ensureSimCertificate } from './tls';

export type { SimFaults, SimFamily } from './faults';
export { GRAPH_APP_ID, EXCHANGE_APP_ID, MAIL_SEND_ROLE_ID, EXCHANGE_MANAGE_AS_APP_ROLE_ID, DIRECTORY_ROLES, EXCHANGE_MANAGE_SCOPE, TEAMS_CLIENT_IDS } from './catalog';
export { DEFAULT_TEST_TLS_DIR, ensureSimCertificate } from './tls';

export interface SimOptions {
  faults?: Partial<SimFaults>;
  /** Persist tenant state as JSON here (atomic write after each mutation); loaded at start if present. */
  stateFile?: string;
  /** Where the self-signed cert/key live (created if missing, reused otherwise). Default: DEFAULT_TEST_TLS_DIR. */
  tlsDir?: string;
  /** PRNG seed for share-based faults. */
  seed?: number;
  /** Fixed ports (default: ephemeral). */
  ports?: { authority?: number; graph?: number; exchange?: number };
  /** Access-token lifetime (default 3599 s, like Entra's `expires_in`). */
  tokenLifetimeSeconds?: number;
  /** Tenant GUID for a fresh tenant (ignored when a state file is loaded). Default: random. */
  tenantId?: string;
  /** Delegated (OBO) token lifetime (default 4500 s; Entra gives user tokens 60–90 min). */
  delegatedTokenLifetimeSeconds?: number;
  /** Users with directory roles, added to the seeded tenant (and again after reset()). */
  users?: SimUserSpec[];
  /** Delegated consents for the OBO grant, applied at start and after reset(). */
  delegatedConsents?: SimDelegatedConsent[];
}

/** A tenant user; an existing UPN (a seeded user) keeps its id and gets these roles. */
export interface SimUserSpec {
  userPrincipalName: string;
  displayName?: string;
  /** Directory role template ids (DIRECTORY_ROLES). */
  roles?: string[];
  id?: string;
}

export interface SimUser {
  id: string;
  userPrincipalName: string;
  displayName: string;
  roles: string[];
}

/** Admin consent: `clientAppId` may act for users on `resource` with these delegated scopes. */
export interface SimDelegatedConsent {
  clientAppId: string;
  resource: 'graph' | 'exchange';
  scopes: string[];
}

export interface TeamsSsoTokenOptions {
  botAppId: string;
  /** Default 3600. Negative values mint an already expired token. */
  expiresInSec?: number;
  /** `uri` (default): aud = api://botid-<botAppId>; `id`: aud = the bot app id. */
  audience?: 'uri' | 'id';
  /** Which Teams client asks (its client id becomes `azp`); default desktop. */
  client?: keyof typeof TEAMS_CLIENT_IDS;
}

export interface RequestLogEntry {
  at: string;
  family: SimFamily;
  method: string;
  path: string;
  cmdlet?: string;
  /** HTTP status, or 0 when the connection was dropped by a fault. */
  status: number;
  /** Graph and Exchange calls that authenticated: an app-only or a delegated (user) token, and whose. */
  token?: 'app' | 'user';
  principal?: string;
}

export interface SnapshotGroup {
  guid: string;
  externalDirectoryObjectId: string | null;
  name: string;
  alias: string;
  displayName: string;
  primarySmtpAddress: string;
  recipientTypeDetails: string;
  /** Primary SMTP addresses of the direct members. */
  members: string[];
  replicated: boolean;
}

export interface TenantSnapshot {
  tenantId: string;
  domains: string[];
  /** Graph JSON shapes; passwordCredentials carry metadata only (secretText null), never values. */
  applications: Record<string, unknown>[];
  servicePrincipals: Record<string, unknown>[];
  appRoleAssignments: Record<string, unknown>[];
  directoryRoleAssignments: Array<{ id: string; roleDefinitionId: string; principalId: string; directoryScopeId: string }>;
  users: Array<{ id: string; userPrincipalName: string; displayName: string; mail: string | null; directoryRoles?: string[] }>;
  mailboxes: Array<{ guid: string; userId: string | null; name: string; primarySmtpAddress: string; recipientTypeDetails: string }>;
  contacts: Array<{ guid: string; name: string; primarySmtpAddress: string }>;
  groups: SnapshotGroup[];
  accessPolicies: Array<{ identity: string; appId: string; scope: string; scopeGuid: string; accessRight: string; description: string }>;
  sentMail: TenantState['sentMail'];
  /** RBAC for Applications: Exchange service principal pointers, management scopes and app role assignments. */
  exchangeServicePrincipals: Array<{ objectId: string; appId: string; displayName: string; replicated: boolean }>;
  managementScopes: Array<{ name: string; recipientRestrictionFilter: string }>;
  roleAssignments: Array<{ name: string; role: string; spObjectId: string; appId: string | null; scope: string; replicated: boolean; enforced: boolean }>;
  organization: { isDehydrated: boolean };
}

export interface Simulator {
  tenantId: string;
  domain: string;
  onMicrosoftDomain: string;
  authorityHost: string;
  graphEndpoint: string;
  exchangeEndpoint: string;
  caCertPath: string;
  /** certificatePath: PEM (key + certificate) registered on the provisioning app, for ClientCertificateCredential. */
  provisioning: { clientId: string; clientSecret: string; certificatePath: string };
  /**
   * The read-only standing identity of delegated mode: Graph Application.Read.All + Policy.Read.All, Exchange
   * Exchange.ManageAsApp + Global Reader (Get-* and Test-* cmdlets). Stable id per tenant; a new secret each start.
   */
  readOnly: { clientId: string; clientSecret: string };
  /**
   * The bot's own Entra app for Teams SSO + On-Behalf-Of: identifierUris api://botid-<clientId>, admin consent for
   * Graph Application.ReadWrite.All, AppRoleAssignment.ReadWrite.All, Application.Read.All and
   * Exchange.Manage. Stable id per tenant; a new secret each start.
   */
  botApp: { clientId: string; clientSecret: string };
  mailboxes: { info: string; faktura: string; outside: string; shared: string; [k: string]: string };
  setFaults(p: Partial<SimFaults>): void;
  faults(): SimFaults;
  /** Dehydrate (or hydrate) the Exchange organization, as new small tenants are until Enable-OrganizationCustomization. */
  setOrganization(p: { isDehydrated: boolean }): void;
  snapshot(): TenantSnapshot;
  requests(): RequestLogEntry[];
  clearRequests(): void;
  reset(): void;
  /** Adds a user (or sets a seeded user's directory roles). */
  addUser(spec: SimUserSpec): SimUser;
  /** Records admin consent of a client app to delegated scopes on Graph or Exchange (replaces that pair's scopes). */
  grantDelegatedConsent(consent: SimDelegatedConsent): void;
  /** Registers an app + service principal with a client secret, e.g. the bot's app as the OBO client. */
  registerClientApp(p: { displayName: string; appId?: string }): { clientId: string; clientSecret: string };
  /** A Teams SSO token for a user (UPN or object id), signed like the simulator's other tokens. */
  teamsSsoToken(user: string, opts: TeamsSsoTokenOptions): string;
  close(): Promise<void>;
}

const MAX_BODY = 20 * 1024 * 1024;
const MAX_LOG = 10_000;
const TENANT_SHORT_NAME = EMBEDDED_TENANT.shortName;
const DEFAULT_DOMAIN = EMBEDDED_TENANT.defaultDomain;

function snapshotOf(ctx: SimContext): TenantSnapshot {
  const st = ctx.store.state;
  const smtp = (guid: string) => ctx.store.recipientByGuid(guid)?.primarySmtpAddress ?? guid;
  return structuredClone({
    tenantId: st.tenantId,
    domains: ctx.store.acceptedDomains(),
    applications: st.applications.map((a) => applicationJson(ctx, a)),
    servicePrincipals: st.servicePrincipals.map((s) => servicePrincipalJson(ctx, s)),
    appRoleAssignments: st.appRoleAssignments.map((a) => assignmentJson(ctx, a)),
    directoryRoleAssignments: st.directoryRoleAssignments,
    users: st.users,
    mailboxes: st.recipients
      .filter((r) => ctx.store.isMailboxRecipient(r))
      .map((r) => ({ guid: r.guid, userId: r.externalDirectoryObjectId, name: r.name, primarySmtpAddress: r.primarySmtpAddress, recipientTypeDetails: r.recipientTypeDetails })),
    contacts: st.recipients.filter((r) => r.recipientTypeDetails === 'MailContact').map((r) => ({ guid: r.guid, name: r.name, primarySmtpAddress: r.primarySmtpAddress })),
    groups: st.recipients
      .filter((r) => ctx.store.isGroup(r))
      .map((r) => ({
        guid: r.guid,
        externalDirectoryObjectId: r.externalDirectoryObjectId,
        name: r.name,
        alias: r.alias,
        displayName: r.displayName,
        primarySmtpAddress: r.primarySmtpAddress,
        recipientTypeDetails: r.recipientTypeDetails,
        members: (r.members ?? []).map(smtp),
        replicated: isVisible(r),
      })),
    accessPolicies: st.accessPolicies.map((p) => {
      const scope = ctx.store.recipientByGuid(p.scopeGuid);
      return {
        identity: `${st.tenantId}\\${p.appId}:${scope?.sid ?? 'S-1-0-0'};${p.scopeGuid}`,
        appId: p.appId,
        scope: scope?.primarySmtpAddress ?? p.scopeGuid,
        scopeGuid: p.scopeGuid,
        accessRight: p.accessRight,
        description: p.description,
      };
    }),
    sentMail: st.sentMail,
    exchangeServicePrincipals: (st.exoServicePrincipals ?? []).map((s) => ({ objectId: s.objectId, appId: s.appId, displayName: s.displayName, replicated: isVisible(s) })),
    managementScopes: (st.managementScopes ?? []).map((s) => ({ name: s.name, recipientRestrictionFilter: s.recipientRestrictionFilter })),
    roleAssignments: (st.roleAssignments ?? []).map((a) => ({
      name: a.name,
      role: a.role,
      spObjectId: a.spObjectId,
      appId: (st.exoServicePrincipals ?? []).find((s) => s.objectId === a.spObjectId)?.appId ?? null,
      scope: a.scope.type === 'group' ? (ctx.store.recipientByGuid(a.scope.groupGuid)?.primarySmtpAddress ?? a.scope.groupGuid) : a.scope.type === 'custom' ? a.scope.scopeName : 'Organization',
      replicated: isVisible(a),
      enforced: a.effectiveAtMs <= Date.now(),
    })),
    organization: { isDehydrated: !!st.organization?.isDehydrated && !(st.organization.hydratedAtMs !== undefined && Date.now() >= st.organization.hydratedAtMs) },
  });
}

/**
 * A loaded state file keeps only hashes of the seeded identities' secrets, so each start issues fresh ones under the
 * same keyIds, and restores whatever of those identities someone deleted (or an older state file never had).
 */
function prepareLoadedState(state: TenantState, seed: SeedIdentity): void {
  const fresh = seedTenant(seed);
  const ids = seedIds(state.tenantId);
  const restore = <T extends { id: string }>(list: T[], from: T[], id: string) => {
    if (!list.some((x) => x.id === id)) list.push(from.find((x) => x.id === id)!);
  };
  for (const id of [ids.provisioningAppObjectId, ids.readOnlyAppObjectId, ids.botAppObjectId]) restore(state.applications, fresh.applications, id);
  for (const id of [ids.provisioningSpId, ids.graphSpId, ids.exchangeSpId, ids.readOnlySpId, ids.botSpId]) restore(state.servicePrincipals, fresh.servicePrincipals, id);
  // The read-only identity's grants and role are what make it read-only-capable; older files lack them.
  for (const a of fresh.appRoleAssignments.filter((x) => x.principalId === ids.readOnlySpId)) restore(state.appRoleAssignments, fresh.appRoleAssignments, a.id);
  for (const a of fresh.directoryRoleAssignments.filter((x) => x.principalId === ids.readOnlySpId)) restore(state.directoryRoleAssignments, fresh.directoryRoleAssignments, a.id);
  const consents = (state.delegatedConsents ??= []);
  for (const c of fresh.delegatedConsents ?? []) {
    if (!consents.some((x) => x.clientAppId.toLowerCase() === c.clientAppId && x.resource === c.resource)) consents.push(c);
  }
  // Users seeded before they had roles get the seeded ones; roles set since (addUser) stay.
  for (const u of fresh.users) {
    const mine = state.users.find((x) => x.id === u.id);
    if (mine && mine.directoryRoles === undefined && u.directoryRoles) mine.directoryRoles = [...u.directoryRoles];
  }
  const renew = (appObjectId: string, keyId: string, displayName: string, secret: string) => {
    const app = state.applications.find((a) => a.id === appObjectId)!;
    app.passwords = [...app.passwords.filter((p) => p.keyId !== keyId), seededPassword(keyId, displayName, secret)];
    return app;
  };
  const app = renew(ids.provisioningAppObjectId, ids.provisioningKeyId, 'simulator provisioning secret', seed.provisioningSecret);
  renew(ids.readOnlyAppObjectId, ids.readOnlyKeyId, 'simulator read-only secret', seed.readOnlySecret);
  renew(ids.botAppObjectId, ids.botKeyId, 'simulator bot secret', seed.botSecret);
  // The certificate file may have been recreated (other TLS directory, expiry): register the current one.
  if (seed.provisioningCertificate) {
    app.keys = [...(app.keys ?? []).filter((k) => k.keyId !== seed.provisioningCertificate!.keyId), seed.provisioningCertificate];
  }
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function isLoopback(addr: string | undefined): boolean {
  return addr === '127.0.0.1' || addr === '::1' || addr === '::ffff:127.0.0.1';
}

function writeReply(res: ServerResponse, reply: SimReply): void {
  const headers: Record<string, string> = { ...(reply.headers ?? {}) };
  let payload: Buffer;
  if (reply.body === undefined || reply.body === null || reply.status === 204) payload = Buffer.alloc(0);
  else if (Buffer.isBuffer(reply.body)) payload = reply.body;
  else if (typeof reply.body === 'string') payload = Buffer.from(reply.body, 'utf8');
  else {
    payload = Buffer.from(JSON.stringify(reply.body), 'utf8');
    headers['content-type'] ??= 'application/json; charset=utf-8';
  }
  if (reply.status !== 204) headers['content-length'] = String(payload.length);
  res.writeHead(reply.status, headers);
  res.end(reply.status === 204 ? undefined : payload);
}

function faultReply(family: SimFamily, d: Exclude<FaultDecision, null>, req: SimRequest): SimReply {
  const innerError = { date: isoNow().replace(/Z$/, ''), 'request-id': req.requestId, 'client-request-id': req.requestId };
  if (d.kind === 'throttle') {
    const retry = { 'retry-after': String(d.retryAfterSeconds) };
    if (family === 'graph') {
      // [DOC G13, G14]: 429 with Retry-After and the "throttled" message.
      return {
        status: 429,
        headers: { ...retry, 'x-ms-throttle-scope': 'Application', 'content-type': 'application/json' },
        body: {
          error: {
            code: 'TooManyRequests',
            message: 'Client application has been throttled and should not attempt to repeat the request until an amount of time has elapsed.',
            innerError,
          },
        },
      };
    }
    if (family === 'exchange') {
      // Observed as plain text with Retry-After [OBS H1, U1].
      return {
        status: 429,
        headers: { ...retry, 'content-type': 'text/plain; charset=utf-8', 'rate-limit-remaining': '0', 'rate-limit-reset': new Date(Date.now() + d.retryAfterSeconds * 1000).toISOString() },
        body: 'You have reached the maximum number of concurrent requests per tenant. Please wait and try again',
      };
    }
    return {
      status: 429,
      headers: { ...retry, 'content-type': 'application/json; charset=utf-8' },
      body: { error: 'temporarily_unavailable', error_description: 'The server is temporarily too busy to handle the request. Retry after the interval in the Retry-After header.', error_codes: [] },
    };
  }
  if (family === 'graph') {
    return {
      status: 503,
      headers: { 'content-type': 'application/json' },
      body: {
        error: {
          code: 'serviceNotAvailable',
          message: 'The service is temporarily unavailable for maintenance or is overloaded. You may repeat the request after a delay, which may be specified in a Retry-After header.',
          innerError,
        },
      },
    };
  }
  if (family === 'exchange') {
    return { status: 503, headers: { 'content-type': 'application/json; charset=utf-8' }, body: { error: { code: 'ServiceUnavailable', message: 'The service is temporarily unavailable. Please try again later.' } } };
  }
  return {
    status: 503,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: { error: 'temporarily_unavailable', error_description: 'The service is temporarily unavailable. Please try again later.', error_codes: [] },
  };
}

/** The non-idempotent writes the failAfterCommit fault can hit. */
function afterCommitOperationOf(family: SimFamily, req: SimRequest): AfterCommitOperation | undefined {
  if (family !== 'graph' || req.method !== 'POST') return undefined;
  return /\/(microsoft\.graph\.)?addPassword$/.test(req.url.pathname) ? 'addPassword' : undefined;
}

/** Graph's 503 (or a gateway's 504) for a write that was nevertheless committed [G13]. */
function serverErrorAfterCommit(status: 503 | 504, req: SimRequest): SimReply {
  if (status === 503) return faultReply('graph', { kind: 'unavailable' }, req);
  const innerError = { date: isoNow().replace(/Z$/, ''), 'request-id': req.requestId, 'client-request-id': req.requestId };
  return { status: 504, headers: { 'content-type': 'application/json' }, body: { error: { code: 'UnknownError', message: 'The request timed out at the gateway.', innerError } } };
}

function internalError(family: SimFamily, req: SimRequest): SimReply {
  if (family === 'graph') {
    return { status: 500, body: { error: { code: 'generalException', message: 'An unexpected error occurred in the simulator.', innerError: { 'request-id': req.requestId } } } };
  }
  if (family === 'exchange') return { status: 500, body: { error: { code: 'InternalServerError', message: 'Error executing cmdlet' } } };
  return { status: 500, body: { error: 'server_error', error_description: 'An unexpected error occurred in the simulator.' } };
}

export async function startSimulator(opts: SimOptions = {}): Promise<Simulator> {
  const tlsDir = opts.tlsDir ?? DEFAULT_TEST_TLS_DIR;
  const cert = ensureSimCertificate(tlsDir);
  const signingKey = loadOrCreateSigningKey(tlsDir);

  const clientCert = ensureClientCertificate(tlsDir);
  const loaded = opts.stateFile ? loadState(opts.stateFile) : null;
  const tenantIdForSeed = loaded?.tenantId ?? opts.tenantId ?? newGuid();
  const seed: SeedIdentity = {
    tenantId: tenantIdForSeed,
    shortName: loaded?.shortName ?? TENANT_SHORT_NAME,
    defaultDomain: loaded?.defaultDomain ?? DEFAULT_DOMAIN,
    provisioningSecret: newSecretText(),
    readOnlySecret: newSecretText(),
    botSecret: newSecretText(),
    provisioningCertificate: {
      keyId: seedIds(tenantIdForSeed).provisioningCertKeyId,
      displayName: 'CN=opter-sim provisioning',
      type: 'AsymmetricX509Cert',
      usage: 'Verify',
      customKeyIdentifier: clientCert.thumbprint,
      startDateTime: clientCert.notBefore,
      endDateTime: clientCert.notAfter,
      certDer: clientCert.certDer,
    },
  };
  const state = loaded ?? seedTenant(seed);
  if (loaded) prepareLoadedState(loaded, seed);
  const store = new TenantStore(state, opts.stateFile);
  const addUser = (spec: SimUserSpec): SimUser => upsertUser(store.state, spec);
  const grantConsent = (c: SimDelegatedConsent): void => {
    if (c.resource !== 'graph' && c.resource !== 'exchange') throw new Error("resource must be 'graph' or 'exchange'");
    const list = (store.state.delegatedConsents ??= []);
    store.state.delegatedConsents = [...list.filter((x) => !(x.clientAppId.toLowerCase() === c.clientAppId.toLowerCase() && x.resource === c.resource)), { clientAppId: c.clientAppId, resource: c.resource, scopes: [...c.scopes] }];
  };
  const applyConfig = () => {
    for (const u of opts.users ?? []) addUser(u);
    for (const c of opts.delegatedConsents ?? []) grantConsent(c);
  };
  applyConfig();
  store.commit();

  const faults = new FaultEngine(opts.faults ?? {}, opts.seed ?? Date.now());
  const log: RequestLogEntry[] = [];
  const ids = seedIds(seed.tenantId);
  const ctx: SimContext = {
    store,
    faults,
    signingKey,
    origins: { authority: '', graph: '', exchange: '' },
    tokenLifetimeSeconds: opts.tokenLifetimeSeconds ?? 3599,
    delegatedTokenLifetimeSeconds: opts.delegatedTokenLifetimeSeconds ?? 4500,
    provisioningAppId: ids.provisioningAppId,
  };

  const handlers: Record<SimFamily, (c: SimContext, r: SimRequest) => SimReply | Promise<SimReply>> = {
    token: handleIdentity,
    graph: handleGraph,
    exchange: handleExchange,
  };

  let sim: Simulator;

  const admin = (req: SimRequest): SimReply => {
    if (!isLoopback(req.remoteAddress)) return { status: 403, body: { error: 'the admin surface answers loopback callers only' } };
    const path = req.url.pathname.replace(/\/+$/, '');
    const m = req.method;
    try {
      if (path === '/_sim/state' && m === 'GET') return { status: 200, body: sim.snapshot() };
      if (path === '/_sim/requests' && m === 'GET') return { status: 200, body: sim.requests() };
      if (path === '/_sim/requests' && m === 'DELETE') {
        sim.clearRequests();
        return { status: 204 };
      }
      if (path === '/_sim/faults' && m === 'GET') return { status: 200, body: sim.faults() };
      if (path === '/_sim/faults' && m === 'POST') {
        const parsed = JSON.parse(req.body.toString('utf8') || '{}');
        sim.setFaults(validateFaults(parsed));
        return { status: 200, body: sim.faults() };
      }
      if (path === '/_sim/organization' && m === 'POST') {
        const parsed = JSON.parse(req.body.toString('utf8') || '{}') as { isDehydrated?: unknown };
        if (typeof parsed.isDehydrated !== 'boolean') throw new Error('isDehydrated must be true or false');
        sim.setOrganization({ isDehydrated: parsed.isDehydrated });
        return { status: 200, body: sim.snapshot().organization };
      }
      if (path === '/_sim/users' && m === 'POST') return { status: 200, body: sim.addUser(JSON.parse(req.body.toString('utf8') || '{}') as SimUserSpec) };
      if (path === '/_sim/consents' && m === 'POST') {
        sim.grantDelegatedConsent(JSON.parse(req.body.toString('utf8') || '{}') as SimDelegatedConsent);
        return { status: 204 };
      }
      if (path === '/_sim/teams-sso-token' && m === 'POST') {
        const p = JSON.parse(req.body.toString('utf8') || '{}') as TeamsSsoTokenOptions & { user?: string };
        return { status: 200, body: { token: sim.teamsSsoToken(String(p.user ?? ''), p) } };
      }
      if (path === '/_sim/reset' && m === 'POST') {
        sim.reset();
        return { status: 204 };
      }
      if (path === '/_sim/info' && m === 'GET') {
        return {
          status: 200,
          body: {
            tenantId: sim.tenantId,
            domain: sim.domain,
            onMicrosoftDomain: sim.onMicrosoftDomain,
            authorityHost: sim.authorityHost,
            graphEndpoint: sim.graphEndpoint,
            exchangeEndpoint: sim.exchangeEndpoint,
            caCertPath: sim.caCertPath,
            provisioningClientId: sim.provisioning.clientId,
            readOnlyClientId: sim.readOnly.clientId,
            botAppClientId: sim.botApp.clientId,
            mailboxes: sim.mailboxes,
          },
        };
      }
    } catch (e) {
      return { status: 400, body: { error: e instanceof Error ? e.message : String(e) } };
    }
    return { status: 404, body: { error: `no admin route ${m} ${path}` } };
  };

  const pipeline = async (family: SimFamily, req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const at = new Date().toISOString();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > MAX_BODY) {
        writeReply(res, { status: 413, body: '' });
        return;
      }
      chunks.push(c as Buffer);
    }
    const origin = family === 'token' ? ctx.origins.authority : family === 'graph' ? ctx.origins.graph : ctx.origins.exchange;
    const simReq: SimRequest = {
      family,
      method: (req.method ?? 'GET').toUpperCase(),
      url: new URL(req.url ?? '/', origin),
      headers: req.headers,
      body: Buffer.concat(chunks),
      remoteAddress: req.socket.remoteAddress ?? '',
      requestId: newGuid(),
    };
    if (family === 'graph' && simReq.url.pathname.startsWith('/_sim/')) {
      writeReply(res, admin(simReq));
      return;
    }
    if (family === 'exchange') simReq.cmdlet = cmdletNameOf(simReq.body);
    const record = (status: number) => {
      const who = simReq.principal;
      log.push({
        at,
        family,
        method: simReq.method,
        path: req.url ?? '/',
        ...(simReq.cmdlet ? { cmdlet: simReq.cmdlet } : {}),
        status,
        ...(who ? { token: who.token, principal: who.upn ?? who.id } : {}),
      });
      if (log.length > MAX_LOG) log.splice(0, log.length - MAX_LOG);
    };

    const latency = faults.get().latencyMs;
    if (latency > 0) await new Promise((r) => setTimeout(r, latency));
    const decision = faults.decide(family);
    if (decision?.kind === 'drop') {
      record(0);
      req.socket.destroy();
      return;
    }
    let reply: SimReply;
    if (decision) reply = faultReply(family, decision, simReq);
    else {
      try {
        reply = await handlers[family](ctx, simReq);
      } catch (e) {
        console.error(`[sim] ${family} ${simReq.method} ${req.url} failed:`, e);
        reply = internalError(family, simReq);
      }
      const operation = reply.status < 300 ? afterCommitOperationOf(family, simReq) : undefined;
      const status = operation ? faults.afterCommit(operation) : null;
      if (status) reply = serverErrorAfterCommit(status, simReq);
    }
    if (!res.destroyed) writeReply(res, reply);
    record(reply.status);
  };

  const make = (family: SimFamily) =>
    createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
      pipeline(family, req, res).catch((e) => {
        console.error('[sim] request pipeline failed:', e);
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
  const servers = { token: make('token'), graph: make('graph'), exchange: make('exchange') };
  const ports = {
    token: await listen(servers.token, opts.ports?.authority ?? 0),
    graph: await listen(servers.graph, opts.ports?.graph ?? 0),
    exchange: await listen(servers.exchange, opts.ports?.exchange ?? 0),
  };
  ctx.origins = {
    authority: `https://127.0.0.1:${ports.token}`,
    graph: `https://127.0.0.1:${ports.graph}`,
    exchange: `https://127.0.0.1:${ports.exchange}`,
  };

  const domain = seed.defaultDomain;
  const at = (alias: string) => `${alias}@${domain}`;
  let closed = false;
  sim = {
    tenantId: seed.tenantId,
    domain,
    onMicrosoftDomain: `${seed.shortName}.onmicrosoft.com`,
    authorityHost: ctx.origins.authority,
    graphEndpoint: ctx.origins.graph,
    exchangeEndpoint: ctx.origins.exchange,
    caCertPath: cert.certPath,
    provisioning: { clientId: ids.provisioningAppId, clientSecret: seed.provisioningSecret, certificatePath: clientCert.path },
    readOnly: { clientId: ids.readOnlyAppId, clientSecret: seed.readOnlySecret },
    botApp: { clientId: ids.botAppId, clientSecret: seed.botSecret },
    mailboxes: {
      info: at(SEEDED_MAILBOXES.info),
      faktura: at(SEEDED_MAILBOXES.faktura),
      outside: at(SEEDED_MAILBOXES.outside),
      shared: at(SEEDED_MAILBOXES.shared),
      admin: at(SEEDED_MAILBOXES.admin),
      noMailbox: at(NO_MAILBOX_USER_ALIAS),
      contact: MAIL_CONTACT_ADDRESS,
      distributionList: at(DISTRIBUTION_LIST_ALIAS),
    },
    setFaults: (p) => faults.set(p),
    faults: () => faults.get(),
    setOrganization: (p) => {
      store.state.organization = { isDehydrated: p.isDehydrated };
      store.commit();
    },
    snapshot: () => snapshotOf(ctx),
    requests: () => log.map((e) => ({ ...e })),
    clearRequests: () => {
      log.length = 0;
    },
    reset: () => {
      store.state = seedTenant(seed);
      applyConfig();
      store.commit();
      faults.replace(opts.faults ?? {});
      log.length = 0;
    },
    addUser: (spec) => {
      const u = addUser(spec);
      store.commit();
      return u;
    },
    grantDelegatedConsent: (c) => {
      grantConsent(c);
      store.commit();
    },
    registerClientApp: (p) => registerClientApp(ctx, p),
    teamsSsoToken: (user, o) => teamsSsoToken(ctx, user, o),
    close: async () => {
      if (closed) return;
      closed = true;
      await Promise.all(
        Object.values(servers).map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
    },
  };
  return sim;
}

/** Well-known ids of the first-party resources, for callers that build grants. */
export const FIRST_PARTY_APP_IDS = { graph: GRAPH_APP_ID, exchange: EXCHANGE_APP_ID } as const;
