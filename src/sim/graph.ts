/**
 * Microsoft Graph v1.0: the directory calls of the seed procedure and their idempotent variants, the app
 * management policy, and users/{id}/sendMail. Each quirk names its source key from docs/microsoft-facts.md §0.
 */
import { X509Certificate } from 'node:crypto';
import { authenticate, type Caller } from './auth';
import { DELEGATED_GRAPH_ROLES, DIRECTORY_ROLES, GRAPH_APP_ID, GRAPH_APP_ROLE_GRANTERS } from './catalog';
import { parseIsoDurationMs } from './faults';
import { header, isoNow, isPlainObject, parseJsonBody, type SimContext, type SimReply, type SimRequest } from './http';
import { hashSecret, isGuid, newAssignmentId, newGuid, newSalt, newSecretText } from './ids';
import { applySelect, parseEqFilter, parseKeySegment, splitPath } from './odata';
import { appPolicyJson, DEFAULT_POLICY_ID, parseRestrictions, restrictionJson, restrictionsFor, tenantDefaultPolicy, type AppPolicyRecord } from './app-policy';
import { appHasRoleAssignments, rbacPermits } from './rbac';
import { isVisible, type KeyCredentialRecord, type AppRecord, type AssignmentRecord, type DirectoryRoleAssignmentRecord, type SpRecord, type UserRecord } from './tenant';

const JSON_TYPE = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

const READ_APPS = ['Application.Read.All', 'Application.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
const WRITE_APPS = ['Application.ReadWrite.All'];
const WRITE_SPS = ['Application.ReadWrite.All', 'Directory.ReadWrite.All'];
const ASSIGN_ROLES = ['AppRoleAssignment.ReadWrite.All'];
const READ_POLICY = ['Policy.Read.All', 'Policy.ReadWrite.ApplicationConfiguration'];
const WRITE_POLICY = ['Policy.ReadWrite.ApplicationConfiguration'];
const READ_ROLES = ['RoleManagement.Read.Directory', 'RoleManagement.ReadWrite.Directory', 'Directory.Read.All', 'Directory.ReadWrite.All'];
const WRITE_ROLES = ['RoleManagement.ReadWrite.Directory'];
const READ_USERS = ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
const READ_LISTS: ReadonlySet<string[]> = new Set([READ_APPS, READ_POLICY, READ_ROLES, READ_USERS]);

const SIGN_IN_AUDIENCES = ['AzureADMyOrg', 'AzureADMultipleOrgs', 'AzureADandPersonalMicrosoftAccount', 'PersonalMicrosoftAccount'];
const APP_WRITABLE = new Set([
  'displayName', 'description', 'notes', 'signInAudience', 'tags', 'identifierUris', 'requiredResourceAccess', 'web', 'spa',
  'publicClient', 'api', 'info', 'appRoles', 'optionalClaims', 'groupMembershipClaims', 'isFallbackPublicClient',
  'isDeviceOnlyAuthSupported', 'serviceManagementReference', 'uniqueName', 'tokenEncryptionKeyId', 'parentalControlSettings',
  'defaultRedirectUri', 'samlMetadataUrl',
]);
const SP_WRITABLE = new Set([
  'displayName', 'description', 'notes', 'tags', 'accountEnabled', 'appRoleAssignmentRequired', 'homepage', 'loginUrl', 'logoutUrl',
  'replyUrls', 'notificationEmailAddresses', 'preferredSingleSignOnMode', 'alternativeNames', 'servicePrincipalNames',
]);
/** Server-owned properties a client may echo back; Graph ignores them on write. */
const IGNORED_ON_WRITE = new Set(['id', 'appId', 'createdDateTime', 'deletedDateTime', 'publisherDomain', '@odata.type', '@odata.context']);

/** Thrown inside handlers to answer with a Graph error envelope [DOC G13]. */
class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Array<Record<string, unknown>>,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

const notFound = (ref: string) =>
  // The directory's 404 text, also what a just-created object returns while it replicates [OBS I2, C5].
  new GraphError(404, 'Request_ResourceNotFound', `Resource '${ref}' does not exist or one of its queried reference-property objects are not present.`);
const forbidden = () => new GraphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
const badRequest = (message: string, details?: Array<Record<string, unknown>>) => new GraphError(400, 'Request_BadRequest', message, details);
const invalidPayload = () =>
  new GraphError(400, 'BadRequest', 'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.');

/**
 * App tokens: one of the application roles. User tokens: scope ∩ the user's roles — one of the permissions in
 * `scp` that the user's directory roles also allow (catalog.ts DELEGATED_GRAPH_ROLES) [docs/simulator.md].
 */
function need(caller: Caller, anyOf: string[]): void {
  if (caller.kind === 'user') {
    // A read is a read whichever consented scope covers it (Application.ReadWrite.All reads apps too).
    const rolesFor = (p: string) => DELEGATED_GRAPH_ROLES[READ_LISTS.has(anyOf) ? 'Directory.Read.All' : p] ?? [];
    const allowed = anyOf.some((p) => caller.scopes.has(p) && rolesFor(p).some((r) => caller.directoryRoles.has(r)));
    if (!allowed) throw forbidden();
    return;
  }
  if (!anyOf.some((r) => caller.roles.has(r))) throw forbidden();
}

function graphErrorReply(ctx: SimContext, req: SimRequest, e: GraphError): SimReply {
  const error: Record<string, unknown> = { code: e.code, message: e.message };
  if (e.details) error.details = e.details;
  error.innerError = {
    date: isoNow().replace(/Z$/, ''),
    'request-id': req.requestId,
    'client-request-id': header(req, 'client-request-id') ?? req.requestId,
  };
  return { status: e.status, headers: { 'content-type': JSON_TYPE, ...(e.headers ?? {}) }, body: { error } };
}

// ------------------------------------------------------------------------------------------------------------
// Shapes
// ------------------------------------------------------------------------------------------------------------

export function applicationJson(ctx: SimContext, a: AppRecord): Record<string, unknown> {
  const p = a.props;
  return {
    id: a.id,
    deletedDateTime: null,
    appId: a.appId,
    applicationTemplateId: null,
    disabledByMicrosoftStatus: null,
    createdDateTime: a.createdDateTime,
    displayName: p.displayName ?? null,
    description: p.description ?? null,
    groupMembershipClaims: p.groupMembershipClaims ?? null,
    identifierUris: p.identifierUris ?? [],
    isDeviceOnlyAuthSupported: p.isDeviceOnlyAuthSupported ?? null,
    isFallbackPublicClient: p.isFallbackPublicClient ?? null,
    nativeAuthenticationApisEnabled: null,
    notes: p.notes ?? null,
    publisherDomain: ctx.store.state.defaultDomain,
    serviceManagementReference: p.serviceManagementReference ?? null,
    signInAudience: p.signInAudience ?? 'AzureADMyOrg',
    tags: p.tags ?? [],
    tokenEncryptionKeyId: p.tokenEncryptionKeyId ?? null,
    uniqueName: p.uniqueName ?? null,
    samlMetadataUrl: p.samlMetadataUrl ?? null,
    defaultRedirectUri: p.defaultRedirectUri ?? null,
    certification: null,
    optionalClaims: p.optionalClaims ?? null,
    requestSignatureVerification: null,
    servicePrincipalLockConfiguration: null,
    addIns: [],
    api: p.api ?? { acceptMappedClaims: null, knownClientApplications: [], requestedAccessTokenVersion: null, oauth2PermissionScopes: [], preAuthorizedApplications: [] },
    appRoles: p.appRoles ?? [],
    info: p.info ?? { logoUrl: null, marketingUrl: null, privacyStatementUrl: null, supportUrl: null, termsOfServiceUrl: null },
    // Public certificate metadata; like the real service, `key` is not returned on reads.
    keyCredentials: (a.keys ?? []).map((k) => ({
      customKeyIdentifier: k.customKeyIdentifier,
      displayName: k.displayName,
      endDateTime: k.endDateTime,
      key: null,
      keyId: k.keyId,
      startDateTime: k.startDateTime,
      type: k.type,
      usage: k.usage,
    })),
    parentalControlSettings: p.parentalControlSettings ?? { countriesBlockedForMinors: [], legalAgeGroupRule: 'Allow' },
    // Never the secret: GETs carry metadata only, with secretText null [DOC G5].
    passwordCredentials: a.passwords.map((c) => ({
      customKeyIdentifier: null,
      displayName: c.displayName,
      endDateTime: c.endDateTime,
      hint: c.hint,
      keyId: c.keyId,
      secretText: null,
      startDateTime: c.startDateTime,
    })),
    publicClient: p.publicClient ?? { redirectUris: [] },
    requiredResourceAccess: p.requiredResourceAccess ?? [],
    verifiedPublisher: { displayName: null, verifiedPublisherId: null, addedDateTime: null },
    web: p.web ?? {
      homePageUrl: null,
      logoutUrl: null,
      redirectUris: [],
      implicitGrantSettings: { enableAccessTokenIssuance: false, enableIdTokenIssuance: false },
      redirectUriSettings: [],
    },
    spa: p.spa ?? { redirectUris: [] },
  };
}

export function servicePrincipalJson(ctx: SimContext, s: SpRecord): Record<string, unknown> {
  const p = s.props;
  return {
    id: s.id,
    deletedDateTime: null,
    accountEnabled: p.accountEnabled ?? true,
    alternativeNames: p.alternativeNames ?? [],
    appDisplayName: s.appDisplayName,
    appDescription: null,
    appId: s.appId,
    applicationTemplateId: null,
    appOwnerOrganizationId: s.appOwnerOrganizationId,
    appRoleAssignmentRequired: p.appRoleAssignmentRequired ?? false,
    createdDateTime: s.createdDateTime,
    description: p.description ?? null,
    disabledByMicrosoftStatus: null,
    displayName: p.displayName ?? s.appDisplayName,
    homepage: p.homepage ?? null,
    loginUrl: p.loginUrl ?? null,
    logoutUrl: p.logoutUrl ?? null,
    notes: p.notes ?? null,
    notificationEmailAddresses: p.notificationEmailAddresses ?? [],
    preferredSingleSignOnMode: p.preferredSingleSignOnMode ?? null,
    preferredTokenSigningKeyThumbprint: null,
    replyUrls: p.replyUrls ?? [],
    servicePrincipalNames: p.servicePrincipalNames ?? [s.appId],
    servicePrincipalType: 'Application',
    signInAudience: 'AzureADMyOrg',
    tags: p.tags ?? [],
    tokenEncryptionKeyId: null,
    samlSingleSignOnSettings: null,
    addIns: [],
    appRoles: s.appRoles,
    info: { logoUrl: null, marketingUrl: null, privacyStatementUrl: null, supportUrl: null, termsOfServiceUrl: null },
    keyCredentials: [],
    oauth2PermissionScopes: [],
    passwordCredentials: [],
    resourceSpecificApplicationPermissions: [],
    verifiedPublisher: { displayName: null, verifiedPublisherId: null, addedDateTime: null },
  };
}

export function assignmentJson(ctx: SimContext, a: AssignmentRecord): Record<string, unknown> {
  const principal = ctx.store.state.servicePrincipals.find((s) => s.id === a.principalId);
  const resource = ctx.store.state.servicePrincipals.find((s) => s.id === a.resourceId);
  return {
    id: a.id,
    deletedDateTime: null,
    appRoleId: a.appRoleId,
    createdDateTime: a.createdDateTime,
    principalDisplayName: principal ? String(principal.props.displayName ?? principal.appDisplayName) : null,
    principalId: a.principalId,
    principalType: 'ServicePrincipal',
    resourceDisplayName: resource ? String(resource.props.displayName ?? resource.appDisplayName) : null,
    resourceId: a.resourceId,
  };
}

function userJson(u: UserRecord): Record<string, unknown> {
  const [given, ...rest] = u.displayName.split(' ');
  return {
    businessPhones: [],
    displayName: u.displayName,
    givenName: given ?? null,
    jobTitle: null,
    mail: u.mail,
    mobilePhone: null,
    officeLocation: null,
    preferredLanguage: 'sv-SE',
    surname: rest.length ? rest.join(' ') : null,
    userPrincipalName: u.userPrincipalName,
    id: u.id,
  };
}

// ------------------------------------------------------------------------------------------------------------
// Dispatch
// ------------------------------------------------------------------------------------------------------------

interface Call {
  ctx: SimContext;
  req: SimRequest;
  caller: Caller;
  /** Path segments after /v1.0, percent-decoded. */
  seg: string[];
  base: string;
}

export async function handleGraph(ctx: SimContext, req: SimRequest): Promise<SimReply> {
  try {
    const segments = splitPath(req.url.pathname);
    if (segments[0] !== 'v1.0') throw new GraphError(400, 'BadRequest', `Invalid version: ${segments[0] ?? ''}`);
    const auth = authenticate(ctx, req, 'graph');
    if (!auth.ok) {
      const message = {
        missing: 'Access token is empty.',
        malformed: 'IDX14100: JWT is not well formed, there are no dots (.).',
        signature: 'Access token validation failure.',
        expired: 'Lifetime validation failed, the token is expired.',
        audience: 'Access token validation failure. Invalid audience.',
        tenant: 'Access token validation failure.',
      }[auth.failure];
      throw new GraphError(401, 'InvalidAuthenticationToken', message, undefined, {
        'www-authenticate': `Bearer realm="", authorization_uri="${ctx.origins.authority}/common/oauth2/authorize", client_id="${GRAPH_APP_ID}"`,
      });
    }
    const call: Call = { ctx, req, caller: auth.caller, seg: segments.slice(1), base: `${ctx.origins.graph}/v1.0` };
    return route(call);
  } catch (e) {
    if (e instanceof GraphError) return graphErrorReply(ctx, req, e);
    throw e;
  }
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): SimReply {
  return { status, headers: { 'content-type': JSON_TYPE, ...headers }, body };
}

function noContent(): SimReply {
  return { status: 204 };
}

function methodNotAllowed(): GraphError {
  return new GraphError(405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request target.');
}

function body(call: Call): Record<string, unknown> {
  const parsed = parseJsonBody(call.req);
  if (!parsed.ok) throw invalidPayload();
  if (parsed.value === undefined) return {};
  if (!isPlainObject(parsed.value)) throw invalidPayload();
  return parsed.value;
}

function route(call: Call): SimReply {
  const [first, second, third, fourth] = call.seg;
  const m = call.req.method;
  if (!first) throw new GraphError(400, 'BadRequest', 'Resource not found for the segment \'v1.0\'.');
  const key = parseKeySegment(first);
  const collection = key ? key.collection : first;

  if (collection === 'applications') {
    if (!key && !second) {
      if (m === 'GET') return listApplications(call);
      if (m === 'POST') return createApplication(call);
      throw methodNotAllowed();
    }
    const target = key ? { key: key.key ?? 'id', value: key.value } : { key: 'id', value: second! };
    const action = key ? second : third;
    if (action === 'appManagementPolicies') {
      const rest = call.seg.slice(key ? 2 : 3);
      if (rest.length === 0 && m === 'GET') return listAppPoliciesOf(call, target);
      if (rest.length === 1 && rest[0] === '$ref' && m === 'POST') return assignAppPolicy(call, target);
      throw rest.length > 1 || (rest.length === 1 && rest[0] !== '$ref') ? segmentNotFound(rest[0]!) : methodNotAllowed();
    }
    if (call.seg.length > (key ? 2 : 3)) throw segmentNotFound(call.seg[key ? 2 : 3]!);
    if (!action) {
      if (m === 'GET') return getApplication(call, target);
      if (m === 'PATCH') return patchApplication(call, target);
      if (m === 'DELETE') return deleteApplication(call, target);
      throw methodNotAllowed();
    }
    if (action === 'addPassword' || action === 'microsoft.graph.addPassword') {
      if (m !== 'POST') throw methodNotAllowed();
      return addPassword(call, target);
    }
    if (action === 'removePassword' || action === 'microsoft.graph.removePassword') {
      if (m !== 'POST') throw methodNotAllowed();
      return removePassword(call, target);
    }
    throw segmentNotFound(action);
  }

  if (collection === 'servicePrincipals') {
    if (!key && !second) {
      if (m === 'GET') return listServicePrincipals(call);
      if (m === 'POST') return createServicePrincipal(call);
      throw methodNotAllowed();
    }
    const target = key ? { key: key.key ?? 'id', value: key.value } : { key: 'id', value: second! };
    const nav = key ? second : third;
    const navId = key ? third : fourth;
    if (call.seg.length > (key ? 3 : 4)) throw segmentNotFound(call.seg[key ? 3 : 4]!);
    if (!nav) {
      if (m === 'GET') return getServicePrincipal(call, target);
      if (m === 'PATCH') return patchServicePrincipal(call, target);
      if (m === 'DELETE') return deleteServicePrincipal(call, target);
      throw methodNotAllowed();
    }
    if (nav === 'appRoleAssignedTo' || nav === 'appRoleAssignments') {
      const side = nav === 'appRoleAssignedTo' ? 'resource' : 'principal';
      if (!navId) {
        if (m === 'GET') return listAssignments(call, target, side);
        if (m === 'POST') return createAssignment(call, target, side);
        throw methodNotAllowed();
      }
      if (m === 'GET') return getAssignment(call, target, side, navId);
      if (m === 'DELETE') return deleteAssignment(call, target, side, navId);
      throw methodNotAllowed();
    }
    throw segmentNotFound(nav);
  }

  if (first === 'policies' && second === 'defaultAppManagementPolicy' && !third) {
    if (m === 'GET') return getAppManagementPolicy(call);
    if (m === 'PATCH') return patchAppManagementPolicy(call);
    throw methodNotAllowed();
  }
  if (first === 'policies' && second === 'appManagementPolicies' && !fourth) {
    if (!third && m === 'GET') return listAppPolicies(call);
    if (!third && m === 'POST') return createAppPolicy(call);
    if (third && m === 'GET') return json(200, { '@odata.context': `${call.base}/$metadata#policies/appManagementPolicies/$entity`, ...appPolicyJson(requireAppPolicy(call, third)) });
    throw methodNotAllowed();
  }

  if (first === 'users' && second) {
    if (!third) {
      if (m !== 'GET') throw methodNotAllowed();
      return getUser(call, second);
    }
    if ((third === 'sendMail' || third === 'microsoft.graph.sendMail') && !fourth) {
      if (m !== 'POST') throw methodNotAllowed();
      return sendMail(call, second);
    }
    throw segmentNotFound(third);
  }

  if (first === 'roleManagement' && second === 'directory' && third === 'roleAssignments') {
    if (call.seg.length > 4) throw segmentNotFound(call.seg[4]!);
    if (!fourth) {
      if (m === 'GET') return listRoleAssignments(call);
      if (m === 'POST') return createRoleAssignment(call);
      throw methodNotAllowed();
    }
    if (m === 'GET') return getRoleAssignment(call, fourth);
    if (m === 'DELETE') return deleteRoleAssignment(call, fourth);
    throw methodNotAllowed();
  }

  if (first === 'domains' && !second) {
    if (m !== 'GET') throw methodNotAllowed();
    need(call.caller, ['Domain.Read.All', 'Directory.Read.All', 'Directory.ReadWrite.All']);
    const domains = call.ctx.store.acceptedDomains().map((d, i) => ({
      authenticationType: 'Managed',
      availabilityStatus: null,
      id: d,
      isAdminManaged: true,
      isDefault: i === 0,
      isInitial: i === 1,
      isRoot: true,
      isVerified: true,
      supportedServices: ['Email', 'OfficeCommunicationsOnline'],
    }));
    return json(200, { '@odata.context': `${call.base}/$metadata#domains`, value: domains });
  }

  throw segmentNotFound(first);
}

function segmentNotFound(segment: string): GraphError {
  return new GraphError(400, 'BadRequest', `Resource not found for the segment '${segment}'.`);
}

// ------------------------------------------------------------------------------------------------------------
// Collections: $filter / $select / $top with server-driven paging
// ------------------------------------------------------------------------------------------------------------

function listPage(call: Call, entitySet: string, items: Record<string, unknown>[]): SimReply {
  const q = call.req.url.searchParams;
  const select = q.get('$select');
  const topRaw = q.get('$top');
  let top = 100;
  if (topRaw !== null) {
    top = Number(topRaw);
    if (!Number.isInteger(top) || top < 1 || top > 999) throw badRequest(`Invalid page size specified: '${topRaw}'. Must be between 1 and 999 inclusive.`);
  }
  const skipRaw = q.get('$skiptoken');
  let offset = 0;
  if (skipRaw !== null) {
    offset = Number(Buffer.from(skipRaw, 'base64url').toString('utf8'));
    if (!Number.isInteger(offset) || offset < 0) throw new GraphError(400, 'Directory_InvalidSkipToken', 'Skip token is invalid.');
  }
  const slice = items.slice(offset, offset + top).map((i) => applySelect(i, select));
  const out: Record<string, unknown> = { '@odata.context': `${call.base}/$metadata#${entitySet}${select ? `(${select})` : ''}` };
  if (offset + top < items.length) {
    const next = new URL(call.req.url.toString());
    next.searchParams.set('$skiptoken', Buffer.from(String(offset + top)).toString('base64url'));
    out['@odata.nextLink'] = `${call.ctx.origins.graph}${next.pathname}${next.search}`;
  }
  out.value = slice;
  return json(200, out);
}

function filterItems<T>(call: Call, resourceName: string, items: T[], props: Record<string, (t: T) => unknown>): T[] {
  const filter = call.req.url.searchParams.get('$filter');
  if (filter === null) return items;
  const parsed = parseEqFilter(filter);
  if (!parsed.ok) throw new GraphError(400, 'Request_UnsupportedQuery', parsed.message.replace('{resource}', resourceName));
  for (const c of parsed.clauses) {
    if (!(c.property in props)) {
      throw new GraphError(400, 'Request_UnsupportedQuery', `Unsupported or invalid query filter clause specified for property '${c.property}' of resource '${resourceName}'.`);
    }
  }
  // Directory string comparisons are case-insensitive.
  return items.filter((it) => parsed.clauses.every((c) => String(props[c.property]!(it) ?? '').toLowerCase() === c.value.toLowerCase()));
}

// ------------------------------------------------------------------------------------------------------------
// applications
// ------------------------------------------------------------------------------------------------------------

type Target = { key: string; value: string };

function findApp(call: Call, t: Target, opts: { includeReplicating?: boolean } = {}): AppRecord | undefined {
  const v = t.value.toLowerCase();
  if (t.key === 'id') {
    if (!isGuid(t.value)) throw badRequest(`Invalid object identifier '${t.value}'.`);
    return call.ctx.store.app((a) => a.id === v, opts);
  }
  if (t.key === 'appId') return call.ctx.store.app((a) => a.appId === v, opts);
  // Reading by uniqueName is [UNCONF] in G6 but Bicep relies on it [OBS I2]; modelled as supported.
  if (t.key === 'uniqueName') return call.ctx.store.app((a) => typeof a.props.uniqueName === 'string' && a.props.uniqueName.toLowerCase() === v, opts);
  throw badRequest(`Invalid key property '${t.key}' for resource 'application'.`);
}

function requireApp(call: Call, t: Target): AppRecord {
  const app = findApp(call, t);
  if (!app) throw notFound(t.value);
  return app;
}

function validateAppProps(props: Record<string, unknown>, forCreate: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(props)) {
    if (IGNORED_ON_WRITE.has(k)) continue;
    if (k === 'passwordCredentials') {
      // Secrets go through addPassword only [DOC G1, G2].
      if (Array.isArray(v) && v.length === 0) continue;
      throw badRequest(`Property '${k}' cannot be set on ${forCreate ? 'create' : 'update'}; use addPassword.`);
    }
    if (k === 'keyCredentials') {
      // Certificates may be set with the object (public key only), replacing the whole collection.
      out.keyCredentials = parseKeyCredentials(v);
      continue;
    }
    if (!APP_WRITABLE.has(k)) {
      throw new GraphError(
        400,
        'BadRequest',
        `The property '${k}' does not exist on type 'microsoft.graph.application'. Make sure to only use property names that are defined by the type or mark the type as open type.`,
      );
    }
    out[k] = v;
  }
  if ('displayName' in out && (typeof out.displayName !== 'string' || out.displayName.trim() === '' || out.displayName.length > 256)) {
    throw badRequest("Invalid value specified for property 'displayName' of resource 'Application'.");
  }
  if ('signInAudience' in out && !SIGN_IN_AUDIENCES.includes(String(out.signInAudience))) {
    throw badRequest("Invalid value specified for property 'signInAudience' of resource 'Application'.");
  }
  if ('uniqueName' in out && out.uniqueName !== null && (typeof out.uniqueName !== 'string' || out.uniqueName.trim() === '')) {
    throw badRequest("Invalid value specified for property 'uniqueName' of resource 'Application'.");
  }
  return out;
}

function parseKeyCredentials(v: unknown): KeyCredentialRecord[] {
  if (!Array.isArray(v)) throw badRequest("Invalid value specified for property 'keyCredentials' of resource 'Application'.");
  return v.map((k) => {
    if (!isPlainObject(k) || k.type !== 'AsymmetricX509Cert' || k.usage !== 'Verify' || typeof k.key !== 'string') {
      throw badRequest("Invalid value specified for property 'keyCredentials' of resource 'Application'.");
    }
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(Buffer.from(k.key, 'base64'));
    } catch {
      throw badRequest('Key credential key is invalid.', [{ code: 'InvalidKeyValue', message: 'Key credential key is invalid.', target: 'key' }]);
    }
    const start = typeof k.startDateTime === 'string' ? Date.parse(k.startDateTime) : Date.parse(cert.validFrom);
    const end = typeof k.endDateTime === 'string' ? Date.parse(k.endDateTime) : Date.parse(cert.validTo);
    return {
      keyId: typeof k.keyId === 'string' && isGuid(k.keyId) ? k.keyId.toLowerCase() : newGuid(),
      displayName: typeof k.displayName === 'string' ? k.displayName : cert.subject.replace(/\n/g, ', '),
      type: 'AsymmetricX509Cert' as const,
      usage: 'Verify' as const,
      customKeyIdentifier: cert.fingerprint.replace(/:/g, '').toUpperCase(),
      startDateTime: isoNow(start),
      endDateTime: isoNow(end),
      certDer: cert.raw.toString('base64'),
    };
  });
}

function ensureUniqueNameFree(call: Call, uniqueName: unknown, exceptId?: string): void {
  if (typeof uniqueName !== 'string') return;
  const taken = call.ctx.store.state.applications.some(
    (a) => a.id !== exceptId && typeof a.props.uniqueName === 'string' && a.props.uniqueName.toLowerCase() === uniqueName.toLowerCase(),
  );
  if (taken) throw badRequest('Another object with the same value for property uniqueName already exists.', [
    { code: 'ObjectConflict', message: 'Another object with the same value for property uniqueName already exists.', target: 'uniqueName' },
  ]);
}

/** keyCredentials live beside the props (they are credentials, not plain properties). */
function takeKeys(props: Record<string, unknown>): KeyCredentialRecord[] | undefined {
  const keys = props.keyCredentials as KeyCredentialRecord[] | undefined;
  delete props.keyCredentials;
  return keys;
}

function insertApp(call: Call, props: Record<string, unknown>): AppRecord {
  const now = Date.now();
  const keys = takeKeys(props) ?? [];
  const app: AppRecord = {
    id: newGuid(),
    appId: newGuid(),
    createdDateTime: isoNow(now),
    // Replication: invisible to reads and dependent writes for a while [OBS docs/microsoft-facts.md §1.5, E2].
    visibleAtMs: now + call.ctx.faults.get().replicationDelayMs,
    props: { signInAudience: 'AzureADMyOrg', uniqueName: null, ...props },
    passwords: [],
    keys,
  };
  call.ctx.store.state.applications.push(app);
  call.ctx.store.commit();
  return app;
}

function listApplications(call: Call): SimReply {
  need(call.caller, READ_APPS);
  const visible = call.ctx.store.state.applications.filter((a) => isVisible(a));
  const items = filterItems(call, 'Application', visible, {
    displayName: (a) => a.props.displayName,
    appId: (a) => a.appId,
    id: (a) => a.id,
  });
  return listPage(call, 'applications', items.map((a) => applicationJson(call.ctx, a)));
}

function createApplication(call: Call): SimReply {
  need(call.caller, WRITE_APPS);
  const props = validateAppProps(body(call), true);
  // displayName is the only required property [DOC G1].
  if (typeof props.displayName !== 'string') throw badRequest("Invalid value specified for property 'displayName' of resource 'Application'.");
  ensureUniqueNameFree(call, props.uniqueName);
  const app = insertApp(call, props);
  // The create response always carries the ids, replication or not [DOC E2 "trust the write response"].
  return json(201, { '@odata.context': `${call.base}/$metadata#applications/$entity`, ...applicationJson(call.ctx, app) }, {
    location: `${call.base}/directoryObjects/${app.id}/Microsoft.DirectoryServices.Application`,
  });
}

function getApplication(call: Call, t: Target): SimReply {
  need(call.caller, READ_APPS);
  const app = requireApp(call, t);
  const select = call.req.url.searchParams.get('$select');
  return json(200, applySelect({ '@odata.context': `${call.base}/$metadata#applications/$entity`, ...applicationJson(call.ctx, app) }, select));
}

/**
 * Update, and for `(uniqueName='…')` the upsert [DOC G2]: found → 204 without body; missing + `Prefer:
 * create-if-missing` → 201 with the object; missing without it → 404.
 */
function patchApplication(call: Call, t: Target): SimReply {
  need(call.caller, WRITE_APPS);
  const props = validateAppProps(body(call), false);
  // The write goes to the primary, so an existing-but-replicating app is still found (uniqueness is global).
  const existing = findApp(call, t, { includeReplicating: t.key === 'uniqueName' });
  if (existing) {
    if ('uniqueName' in props) {
      const current = existing.props.uniqueName;
      // "Can be updated only if null and is immutable once set" [DOC G16].
      if (typeof current === 'string' && props.uniqueName !== current) throw badRequest("Property 'uniqueName' is immutable once set and cannot be changed.");
      ensureUniqueNameFree(call, props.uniqueName, existing.id);
    }
    const keys = takeKeys(props);
    if (keys) existing.keys = keys;
    Object.assign(existing.props, props);
    call.ctx.store.commit();
    return noContent();
  }
  const prefer = (header(call.req, 'prefer') ?? '').toLowerCase();
  if (t.key !== 'uniqueName' || !prefer.split(/[,;]\s*/).includes('create-if-missing')) throw notFound(t.value);
  if (typeof props.displayName !== 'string') {
    // The upsert body must include displayName when it creates [DOC G2].
    throw badRequest("Invalid value specified for property 'displayName' of resource 'Application'.");
  }
  if ('uniqueName' in props && props.uniqueName !== t.value) throw badRequest("Property 'uniqueName' in the body does not match the key in the URL.");
  const app = insertApp(call, { ...props, uniqueName: t.value });
  return json(201, { '@odata.context': `${call.base}/$metadata#applications/$entity`, ...applicationJson(call.ctx, app) }, {
    'preference-applied': 'create-if-missing',
  });
}

function deleteApplication(call: Call, t: Target): SimReply {
  need(call.caller, WRITE_APPS);
  const app = requireApp(call, t);
  const st = call.ctx.store.state;
  st.applications = st.applications.filter((a) => a.id !== app.id);
  // Deleting the registration removes its service principal in the home tenant, and with it its grants.
  const spIds = new Set(st.servicePrincipals.filter((s) => s.appId === app.appId).map((s) => s.id));
  st.servicePrincipals = st.servicePrincipals.filter((s) => !spIds.has(s.id));
  st.appRoleAssignments = st.appRoleAssignments.filter((a) => !spIds.has(a.principalId) && !spIds.has(a.resourceId));
  st.directoryRoleAssignments = st.directoryRoleAssignments.filter((r) => !spIds.has(r.principalId));
  call.ctx.store.commit();
  return noContent();
}

function addPassword(call: Call, t: Target): SimReply {
  need(call.caller, WRITE_APPS);
  // Right after creation the app is not found here [OBS C5, docs/microsoft-facts.md §1.5].
  const app = requireApp(call, t);
  const b = body(call);
  const pc = b.passwordCredential === undefined ? {} : b.passwordCredential;
  if (!isPlainObject(pc)) throw invalidPayload();
  const now = Date.now();
  const start = pc.startDateTime === undefined || pc.startDateTime === null ? now : Date.parse(String(pc.startDateTime));
  if (Number.isNaN(start)) throw badRequest("Invalid value specified for property 'startDateTime' of resource 'PasswordCredential'.");
  // Default lifetime: two years from the start [DOC G5].
  const end = pc.endDateTime === undefined || pc.endDateTime === null ? start + 2 * 365 * 24 * 3600 * 1000 : Date.parse(String(pc.endDateTime));
  if (Number.isNaN(end)) throw badRequest("Invalid value specified for property 'endDateTime' of resource 'PasswordCredential'.");
  if (end <= start) throw badRequest('Key credential end date is invalid.', [{ code: 'InvalidKeyEndDate', message: 'Key credential end date is invalid.', target: 'EndDate' }]);
  // The app's own policy, else the tenant default; only restrictions covering the app's creation date count.
  const { policyId, restrictions } = restrictionsFor(call.ctx, app);
  const refusal = call.ctx.faults.get().appPolicyRefusalStatus ?? 400;
  if (restrictions.some((r) => r.restrictionType === 'passwordAddition')) {
    // The code Microsoft's Teams Toolkit matches (aadErrorCode.credentialTypeNotAllowedAsPerAppPolicy); CIPP matches the
    // text "Credential type not allowed as per assigned policy" [OBS C5].
    const msg = `Credential type not allowed as per assigned policy '${policyId}'.`;
    throw new GraphError(refusal, 'CredentialTypeNotAllowedAsPerAppPolicy', msg);
  }
  for (const r of restrictions) {
    if (r.restrictionType !== 'passwordLifetime' || !r.maxLifetime) continue;
    if (end - start > parseIsoDurationMs(r.maxLifetime)!) {
      // Observed body [OBS OfficeDev/microsoft-365-agents-toolkit#10998; CIPP-API PR #1970].
      const msg = `Credential lifetime exceeds the max value allowed as per assigned policy '${policyId}'.`;
      throw new GraphError(refusal, 'CredentialInvalidLifetimeAsPerAppPolicy', msg, [{ code: 'InvalidKeyEndDate', message: msg, target: 'EndDate' }]);
    }
  }
  const secretText = newSecretText();
  const salt = newSalt();
  const displayName = typeof pc.displayName === 'string' ? pc.displayName : null;
  const record = {
    keyId: newGuid(),
    displayName,
    hint: secretText.slice(0, 3),
    startDateTime: isoNow(start),
    endDateTime: isoNow(end),
    salt,
    hash: hashSecret(secretText, salt),
    activeAtMs: now + call.ctx.faults.get().secretActivationDelayMs,
  };
  app.passwords.push(record);
  call.ctx.store.commit();
  // 200 (not 201), secretText only here, hint = first three characters [DOC G5].
  return json(200, {
    '@odata.context': `${call.base}/$metadata#microsoft.graph.passwordCredential`,
    customKeyIdentifier: null,
    displayName,
    endDateTime: record.endDateTime,
    hint: record.hint,
    keyId: record.keyId,
    secretText,
    startDateTime: record.startDateTime,
  });
}

function removePassword(call: Call, t: Target): SimReply {
  need(call.caller, WRITE_APPS);
  const app = requireApp(call, t);
  const b = body(call);
  const keyId = typeof b.keyId === 'string' ? b.keyId.toLowerCase() : '';
  if (!isGuid(keyId)) throw badRequest("Invalid value specified for property 'keyId' of resource 'PasswordCredential'.");
  const before = app.passwords.length;
  app.passwords = app.passwords.filter((p) => p.keyId !== keyId);
  // What Graph answers for an unknown keyId is not documented [UNCONF]; modelled as a 400 so callers handle it.
  if (app.passwords.length === before) throw badRequest(`No password credential found with keyId '${keyId}'.`);
  call.ctx.store.commit();
  return noContent();
}

// ------------------------------------------------------------------------------------------------------------
// servicePrincipals
// ------------------------------------------------------------------------------------------------------------

function findSp(call: Call, t: Target): SpRecord | undefined {
  const v = t.value.toLowerCase();
  if (t.key === 'id') {
    if (!isGuid(t.value)) throw badRequest(`Invalid object identifier '${t.value}'.`);
    return call.ctx.store.sp((s) => s.id === v);
  }
  if (t.key === 'appId') return call.ctx.store.sp((s) => s.appId === v);
  throw badRequest(`Invalid key property '${t.key}' for resource 'servicePrincipal'.`);
}

function requireSp(call: Call, t: Target): SpRecord {
  const sp = findSp(call, t);
  if (!sp) throw notFound(t.value);
  return sp;
}

function validateSpProps(props: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(props)) {
    if (IGNORED_ON_WRITE.has(k)) continue;
    if (!SP_WRITABLE.has(k)) {
      throw new GraphError(
        400,
        'BadRequest',
        `The property '${k}' does not exist on type 'microsoft.graph.servicePrincipal'. Make sure to only use property names that are defined by the type or mark the type as open type.`,
      );
    }
    out[k] = v;
  }
  return out;
}

/**
 * Shared by POST and the upsert: the app must be visible, else NoBackingApplicationObject [OBS Q1] — or, with the
 * `servicePrincipalReplicationAnswer` switch, the 403 that azure-cli's create_service_principal_for_rbac retries as
 * replication ("…backing application of the service principal being created must in the local tenant",
 * https://github.com/Azure/azure-cli/blob/dev/src/azure-cli/azure/cli/command_modules/role/custom.py).
 */
function insertSp(call: Call, appId: string, props: Record<string, unknown>): SpRecord {
  const app = call.ctx.store.app((a) => a.appId === appId);
  if (!app && call.ctx.faults.get().servicePrincipalReplicationAnswer === 'backing-app-not-local' && call.ctx.store.app((a) => a.appId === appId, { includeReplicating: true })) {
    throw new GraphError(403, 'Authorization_RequestDenied', 'When using this permission, the backing application of the service principal being created must in the local tenant');
  }
  if (!app) {
    const msg = `The appId '${appId}' of the service principal does not reference a valid application object.`;
    throw badRequest(msg, [{ code: 'NoBackingApplicationObject', message: msg, target: 'appId' }]);
  }
  if (call.ctx.store.state.servicePrincipals.some((s) => s.appId === appId)) {
    // Duplicate create [OBS, UNCONF code]; the upsert avoids it.
    const msg = 'Another object with the same value for property servicePrincipalNames already exists.';
    throw badRequest(msg, [{ code: 'ObjectConflict', message: msg, target: 'servicePrincipalNames' }]);
  }
  const now = Date.now();
  const appRoles = Array.isArray(app.props.appRoles) ? (app.props.appRoles as SpRecord['appRoles']) : [];
  const sp: SpRecord = {
    id: newGuid(),
    appId,
    createdDateTime: isoNow(now),
    visibleAtMs: now + call.ctx.faults.get().replicationDelayMs,
    appDisplayName: String(app.props.displayName ?? ''),
    appOwnerOrganizationId: call.ctx.store.state.tenantId,
    appRoles,
    props: { displayName: app.props.displayName, servicePrincipalNames: [appId], tags: [], ...props },
  };
  call.ctx.store.state.servicePrincipals.push(sp);
  call.ctx.store.commit();
  return sp;
}

function listServicePrincipals(call: Call): SimReply {
  need(call.caller, READ_APPS);
  const visible = call.ctx.store.state.servicePrincipals.filter((s) => isVisible(s));
  const items = filterItems(call, 'ServicePrincipal', visible, {
    appId: (s) => s.appId,
    displayName: (s) => s.props.displayName ?? s.appDisplayName,
    id: (s) => s.id,
  });
  return listPage(call, 'servicePrincipals', items.map((s) => servicePrincipalJson(call.ctx, s)));
}

function createServicePrincipal(call: Call): SimReply {
  need(call.caller, WRITE_SPS);
  const b = body(call);
  const appId = typeof b.appId === 'string' ? b.appId.toLowerCase() : '';
  if (!isGuid(appId)) throw badRequest("Invalid value specified for property 'appId' of resource 'ServicePrincipal'.");
  const sp = insertSp(call, appId, validateSpProps(b));
  return json(201, { '@odata.context': `${call.base}/$metadata#servicePrincipals/$entity`, ...servicePrincipalJson(call.ctx, sp) });
}

function getServicePrincipal(call: Call, t: Target): SimReply {
  need(call.caller, READ_APPS);
  const sp = requireSp(call, t);
  const select = call.req.url.searchParams.get('$select');
  return json(200, applySelect({ '@odata.context': `${call.base}/$metadata#servicePrincipals/$entity`, ...servicePrincipalJson(call.ctx, sp) }, select));
}

/** `PATCH /servicePrincipals(appId='…')` upsert: 201 + object when created, 204 when it existed [DOC G4]. */
function patchServicePrincipal(call: Call, t: Target): SimReply {
  need(call.caller, WRITE_SPS);
  const props = validateSpProps(body(call));
  const existing = t.key === 'appId' ? call.ctx.store.sp((s) => s.appId === t.value.toLowerCase(), { includeReplicating: true }) : findSp(call, t);
  if (existing) {
    Object.assign(existing.props, props);
    call.ctx.store.commit();
    return noContent();
  }
  const prefer = (header(call.req, 'prefer') ?? '').toLowerCase();
  if (t.key !== 'appId' || !prefer.split(/[,;]\s*/).includes('create-if-missing')) throw notFound(t.value);
  if (!isGuid(t.value)) throw badRequest("Invalid value specified for property 'appId' of resource 'ServicePrincipal'.");
  const sp = insertSp(call, t.value.toLowerCase(), props);
  return json(201, { '@odata.context': `${call.base}/$metadata#servicePrincipals/$entity`, ...servicePrincipalJson(call.ctx, sp) }, {
    'preference-applied': 'create-if-missing',
  });
}

function deleteServicePrincipal(call: Call, t: Target): SimReply {
  need(call.caller, WRITE_SPS);
  const sp = requireSp(call, t);
  const st = call.ctx.store.state;
  st.servicePrincipals = st.servicePrincipals.filter((s) => s.id !== sp.id);
  st.appRoleAssignments = st.appRoleAssignments.filter((a) => a.principalId !== sp.id && a.resourceId !== sp.id);
  st.directoryRoleAssignments = st.directoryRoleAssignments.filter((r) => r.principalId !== sp.id);
  call.ctx.store.commit();
  return noContent();
}

// ------------------------------------------------------------------------------------------------------------
// appRoleAssignedTo (resource side) / appRoleAssignments (principal side)
// ------------------------------------------------------------------------------------------------------------

type Side = 'resource' | 'principal';

function assignmentsOf(call: Call, sp: SpRecord, side: Side): AssignmentRecord[] {
  return call.ctx.store.state.appRoleAssignments.filter((a) => (side === 'resource' ? a.resourceId : a.principalId) === sp.id);
}

function listAssignments(call: Call, t: Target, side: Side): SimReply {
  need(call.caller, [...READ_APPS, ...ASSIGN_ROLES]);
  const sp = requireSp(call, t);
  const nav = side === 'resource' ? 'appRoleAssignedTo' : 'appRoleAssignments';
  return listPage(call, `servicePrincipals('${sp.id}')/${nav}`, assignmentsOf(call, sp, side).map((a) => assignmentJson(call.ctx, a)));
}

function getAssignment(call: Call, t: Target, side: Side, id: string): SimReply {
  need(call.caller, [...READ_APPS, ...ASSIGN_ROLES]);
  const sp = requireSp(call, t);
  const a = assignmentsOf(call, sp, side).find((x) => x.id === id);
  if (!a) throw notFound(id);
  const nav = side === 'resource' ? 'appRoleAssignedTo' : 'appRoleAssignments';
  return json(200, { '@odata.context': `${call.base}/$metadata#servicePrincipals('${sp.id}')/${nav}/$entity`, ...assignmentJson(call.ctx, a) });
}

/**
 * Granting is the admin consent [DOC G7]. Needs AppRoleAssignment.ReadWrite.All and an application read
 * permission [DOC G7]. Duplicate → 400 "Permission being assigned already exists on the object." [OBS O1];
 * a principal still replicating → 400 "Not a valid reference update." [OBS I1].
 */
function createAssignment(call: Call, t: Target, side: Side): SimReply {
  need(call.caller, ASSIGN_ROLES);
  need(call.caller, READ_APPS);
  const pathSp = requireSp(call, t);
  const b = body(call);
  const principalId = typeof b.principalId === 'string' ? b.principalId.toLowerCase() : '';
  const resourceId = typeof b.resourceId === 'string' ? b.resourceId.toLowerCase() : '';
  const appRoleId = typeof b.appRoleId === 'string' ? b.appRoleId.toLowerCase() : '';
  if (!isGuid(principalId)) throw badRequest("Invalid value specified for property 'principalId' of resource 'AppRoleAssignment'.");
  if (!isGuid(resourceId)) throw badRequest("Invalid value specified for property 'resourceId' of resource 'AppRoleAssignment'.");
  if (!isGuid(appRoleId)) throw badRequest("Invalid value specified for property 'appRoleId' of resource 'AppRoleAssignment'.");
  if (side === 'resource' && resourceId !== pathSp.id) throw badRequest('The resourceId in the request body must be the service principal addressed by the URL.');
  if (side === 'principal' && principalId !== pathSp.id) throw badRequest('The principalId in the request body must be the service principal addressed by the URL.');

  const all = call.ctx.store.state.servicePrincipals;
  const principal = all.find((s) => s.id === principalId);
  if (!principal) throw notFound(principalId);
  if (!isVisible(principal)) throw badRequest('Not a valid reference update.');
  const resource = all.find((s) => s.id === resourceId);
  if (!resource) throw notFound(resourceId);
  if (!isVisible(resource)) throw badRequest('Not a valid reference update.');
  // A signed-in Application/Cloud Application Administrator cannot grant Microsoft Graph app roles [docs/simulator.md].
  if (call.caller.kind === 'user' && resource.appId === GRAPH_APP_ID && !GRAPH_APP_ROLE_GRANTERS.some((r) => call.caller.directoryRoles.has(r))) throw forbidden();
  const role = resource.appRoles.find((r) => r.id === appRoleId && r.allowedMemberTypes.includes('Application') && r.isEnabled);
  // Wording for an unknown role id is [UNCONF].
  if (!role) throw badRequest(`Permission being assigned was not found on application '${resource.appId}'.`);
  const dup = call.ctx.store.state.appRoleAssignments.some((a) => a.principalId === principalId && a.resourceId === resourceId && a.appRoleId === appRoleId);
  if (dup) throw badRequest('Permission being assigned already exists on the object.');
  const a: AssignmentRecord = { id: newAssignmentId(), principalId, resourceId, appRoleId, createdDateTime: isoNow() };
  call.ctx.store.state.appRoleAssignments.push(a);
  call.ctx.store.commit();
  const nav = side === 'resource' ? 'appRoleAssignedTo' : 'appRoleAssignments';
  return json(201, { '@odata.context': `${call.base}/$metadata#servicePrincipals('${pathSp.id}')/${nav}/$entity`, ...assignmentJson(call.ctx, a) });
}

function deleteAssignment(call: Call, t: Target, side: Side, id: string): SimReply {
  need(call.caller, ASSIGN_ROLES);
  const sp = requireSp(call, t);
  const a = assignmentsOf(call, sp, side).find((x) => x.id === id);
  if (!a) throw notFound(id);
  const resource = call.ctx.store.state.servicePrincipals.find((s) => s.id === a.resourceId);
  // Removing a Microsoft Graph app role takes the same roles as granting one [docs/simulator.md].
  if (call.caller.kind === 'user' && resource?.appId === GRAPH_APP_ID && !GRAPH_APP_ROLE_GRANTERS.some((r) => call.caller.directoryRoles.has(r))) throw forbidden();
  call.ctx.store.state.appRoleAssignments = call.ctx.store.state.appRoleAssignments.filter((x) => x.id !== id);
  call.ctx.store.commit();
  return noContent();
}

// ------------------------------------------------------------------------------------------------------------
// App management policies (app-policy.ts): the tenant default and per-app policies
// [OBS C5; learn.microsoft.com/graph/api/resources/tenantappmanagementpolicy, …/appmanagementpolicy]
// ------------------------------------------------------------------------------------------------------------

function policyJson(call: Call): Record<string, unknown> {
  const p = tenantDefaultPolicy(call.ctx);
  return {
    '@odata.context': `${call.base}/$metadata#policies/defaultAppManagementPolicy/$entity`,
    id: DEFAULT_POLICY_ID,
    displayName: 'Default app management tenant policy',
    description:
      'Default tenant policy that enforces app management restrictions on applications and service principals. To apply policy to targeted resources, create a new policy under appManagementPolicies collection.',
    isEnabled: p.isEnabled,
    applicationRestrictions: { passwordCredentials: p.passwordCredentials.map(restrictionJson), keyCredentials: [] },
    servicePrincipalRestrictions: { passwordCredentials: [], keyCredentials: [] },
  };
}

function getAppManagementPolicy(call: Call): SimReply {
  need(call.caller, READ_POLICY);
  return json(200, policyJson(call));
}

function patchAppManagementPolicy(call: Call): SimReply {
  need(call.caller, WRITE_POLICY);
  const b = body(call);
  const st = call.ctx.store.state;
  const current = st.defaultAppManagementPolicy ?? { isEnabled: false, passwordCredentials: [] };
  const raw = (b.applicationRestrictions as { passwordCredentials?: unknown } | undefined)?.passwordCredentials;
  const restrictions = raw === undefined ? current.passwordCredentials : parseRestrictions(raw);
  if (typeof restrictions === 'string') throw badRequest(restrictions);
  st.defaultAppManagementPolicy = { isEnabled: typeof b.isEnabled === 'boolean' ? b.isEnabled : current.isEnabled, passwordCredentials: restrictions };
  call.ctx.store.commit();
  return noContent();
}

function listAppPolicies(call: Call): SimReply {
  need(call.caller, READ_POLICY);
  return listPage(call, 'policies/appManagementPolicies', (call.ctx.store.state.appManagementPolicies ?? []).map(appPolicyJson));
}

function requireAppPolicy(call: Call, id: string): AppPolicyRecord {
  const p = (call.ctx.store.state.appManagementPolicies ?? []).find((x) => x.id === id.toLowerCase());
  if (!p) throw notFound(id);
  return p;
}

/** `POST /policies/appManagementPolicies` [learn.microsoft.com/graph/api/appmanagementpolicy-post]. */
function createAppPolicy(call: Call): SimReply {
  need(call.caller, WRITE_POLICY);
  const b = body(call);
  if (typeof b.displayName !== 'string' || !b.displayName) throw badRequest("Invalid value specified for property 'displayName' of resource 'AppManagementPolicy'.");
  if (typeof b.description !== 'string') throw badRequest("Invalid value specified for property 'description' of resource 'AppManagementPolicy'.");
  const restrictions = parseRestrictions((b.restrictions as { passwordCredentials?: unknown } | undefined)?.passwordCredentials);
  if (typeof restrictions === 'string') throw badRequest(restrictions);
  const p: AppPolicyRecord = { id: newGuid(), displayName: b.displayName, description: b.description, isEnabled: b.isEnabled !== false, passwordCredentials: restrictions };
  const st = call.ctx.store.state;
  st.appManagementPolicies = [...(st.appManagementPolicies ?? []), p];
  call.ctx.store.commit();
  return json(201, { '@odata.context': `${call.base}/$metadata#policies/appManagementPolicies/$entity`, ...appPolicyJson(p) });
}

/** `GET /applications/{id}/appManagementPolicies`: the (at most one) policy assigned to the app. */
function listAppPoliciesOf(call: Call, t: Target): SimReply {
  need(call.caller, READ_POLICY);
  need(call.caller, READ_APPS);
  const app = requireApp(call, t);
  const own = app.appManagementPolicyId ? [requireAppPolicy(call, app.appManagementPolicyId)] : [];
  return listPage(call, 'appManagementPolicies', own.map(appPolicyJson));
}

/**
 * `POST /applications/{id}/appManagementPolicies/$ref` {"@odata.id": "…/policies/appManagementPolicies/{id}"}: the
 * app then follows that policy instead of the tenant default; only one policy per app
 * [learn.microsoft.com/graph/api/appmanagementpolicy-post-appliesto].
 */
function assignAppPolicy(call: Call, t: Target): SimReply {
  need(call.caller, WRITE_POLICY);
  need(call.caller, WRITE_APPS);
  const app = requireApp(call, t);
  const ref = body(call)['@odata.id'];
  const id = typeof ref === 'string' ? /appManagementPolicies\/([0-9a-f-]{36})\/?$/i.exec(ref)?.[1] : undefined;
  if (!id) throw badRequest("Invalid value specified for property '@odata.id'.");
  const policy = requireAppPolicy(call, id);
  if (app.appManagementPolicyId && app.appManagementPolicyId !== policy.id) {
    throw badRequest('An application management policy is already assigned to this object; only one policy can be assigned.');
  }
  app.appManagementPolicyId = policy.id;
  call.ctx.store.commit();
  return noContent();
}

// ------------------------------------------------------------------------------------------------------------
// roleManagement/directory/roleAssignments [DOC G9]: how a service principal gets e.g. Exchange Administrator
// ------------------------------------------------------------------------------------------------------------

function roleAssignmentJson(call: Call, r: DirectoryRoleAssignmentRecord): Record<string, unknown> {
  return { id: r.id, roleDefinitionId: r.roleDefinitionId, principalId: r.principalId, directoryScopeId: r.directoryScopeId };
}

function listRoleAssignments(call: Call): SimReply {
  need(call.caller, READ_ROLES);
  // Filtering by principalId is [UNCONF] in the facts; modelled as supported (with roleDefinitionId).
  const items = filterItems(call, 'UnifiedRoleAssignment', call.ctx.store.state.directoryRoleAssignments, {
    principalId: (r) => r.principalId,
    roleDefinitionId: (r) => r.roleDefinitionId,
  });
  return listPage(call, 'roleManagement/directory/roleAssignments', items.map((r) => roleAssignmentJson(call, r)));
}

function getRoleAssignment(call: Call, id: string): SimReply {
  need(call.caller, READ_ROLES);
  const r = call.ctx.store.state.directoryRoleAssignments.find((x) => x.id === id);
  if (!r) throw notFound(id);
  return json(200, { '@odata.context': `${call.base}/$metadata#roleManagement/directory/roleAssignments/$entity`, ...roleAssignmentJson(call, r) });
}

function createRoleAssignment(call: Call): SimReply {
  need(call.caller, WRITE_ROLES);
  const b = body(call);
  const roleDefinitionId = typeof b.roleDefinitionId === 'string' ? b.roleDefinitionId.toLowerCase() : '';
  const principalId = typeof b.principalId === 'string' ? b.principalId.toLowerCase() : '';
  const directoryScopeId = typeof b.directoryScopeId === 'string' ? b.directoryScopeId : '/';
  if (!Object.values(DIRECTORY_ROLES).includes(roleDefinitionId as never)) throw notFound(roleDefinitionId || 'roleDefinitionId');
  if (directoryScopeId !== '/') throw badRequest("Only the tenant-wide directoryScopeId '/' is supported by this simulator.");
  const principal = call.ctx.store.state.servicePrincipals.find((s) => s.id === principalId);
  if (!principal) throw notFound(principalId || 'principalId');
  if (!isVisible(principal)) throw badRequest('Not a valid reference update.');
  const st = call.ctx.store.state;
  if (st.directoryRoleAssignments.some((r) => r.principalId === principalId && r.roleDefinitionId === roleDefinitionId)) {
    // Exact duplicate wording is [UNCONF].
    throw badRequest('A conflicting object with one or more of the specified property values is present in the directory.');
  }
  const rec: DirectoryRoleAssignmentRecord = { id: newGuid(), roleDefinitionId, principalId, directoryScopeId };
  st.directoryRoleAssignments.push(rec);
  call.ctx.store.commit();
  return json(201, { '@odata.context': `${call.base}/$metadata#roleManagement/directory/roleAssignments/$entity`, ...roleAssignmentJson(call, rec) });
}

function deleteRoleAssignment(call: Call, id: string): SimReply {
  need(call.caller, WRITE_ROLES);
  const st = call.ctx.store.state;
  if (!st.directoryRoleAssignments.some((x) => x.id === id)) throw notFound(id);
  st.directoryRoleAssignments = st.directoryRoleAssignments.filter((x) => x.id !== id);
  call.ctx.store.commit();
  return noContent();
}

// ------------------------------------------------------------------------------------------------------------
// users
// ------------------------------------------------------------------------------------------------------------

function findUser(call: Call, idOrUpn: string): UserRecord | undefined {
  const v = idOrUpn.toLowerCase();
  return call.ctx.store.state.users.find((u) => u.id === v || u.userPrincipalName.toLowerCase() === v);
}

function getUser(call: Call, idOrUpn: string): SimReply {
  need(call.caller, READ_USERS);
  const u = findUser(call, idOrUpn);
  if (!u) throw notFound(idOrUpn);
  const select = call.req.url.searchParams.get('$select');
  return json(200, applySelect({ '@odata.context': `${call.base}/$metadata#users/$entity`, ...userJson(u) }, select));
}

/**
 * `POST /users/{id|upn}/sendMail` → 202 with no body [DOC G10]. Unknown user → 404 ErrorInvalidUser; user without
 * mailbox → 404 MailboxNotEnabledForRESTAPI [OBS §10].
 *
 * Permission is the union of two paths [docs/microsoft-facts.md §9, §10; src/sim/rbac.ts]: the Entra Mail.Send role in the token
 * narrowed by Application Access Policies, OR an Exchange RBAC assignment (Application Mail.Send) whose scope
 * covers the mailbox. Refusals: no path at all → 403 "Access is denied"; the Entra grant blocked by an access
 * policy → 403 "Access to OData is disabled." [DOC G11]; RBAC out of scope or not yet past Exchange's permission
 * cache → 403 "Access is denied…" [OBS, docs/microsoft-facts.md §10].
 */
function sendMail(call: Call, idOrUpn: string): SimReply {
  const store = call.ctx.store;
  // Sending as a signed-in user is not modelled: the product sends with app-only tokens [docs/simulator.md].
  if (call.caller.kind === 'user') throw new GraphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
  const entraMailSend = call.caller.roles.has('Mail.Send');
  if (!entraMailSend && !appHasRoleAssignments(store, call.caller.appId)) {
    throw new GraphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
  }
  const user = findUser(call, idOrUpn);
  if (!user) throw new GraphError(404, 'ErrorInvalidUser', `The requested user '${idOrUpn}' is invalid.`);
  const mailbox = store.mailboxOfUser(user.id);
  if (!mailbox) throw new GraphError(404, 'MailboxNotEnabledForRESTAPI', 'REST API is not yet supported for this mailbox.');
  const now = Date.now();
  // Graph enforces a new policy (and a new RBAC assignment) only after it propagated; the Test-… cmdlets show the
  // configuration at once [DOC G11; R2 as quoted].
  const viaEntra = entraMailSend && store.accessCheck(call.caller.appId, mailbox, { asEnforcedAt: now }) === 'Granted';
  const viaRbac = rbacPermits(store, call.caller.appId, mailbox, 'Mail.Send', { asEnforcedAt: now });
  if (!viaEntra && !viaRbac) {
    if (entraMailSend) throw new GraphError(403, 'ErrorAccessDenied', 'Access to OData is disabled.');
    throw new GraphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
  }
  const b = body(call);
  const message = b.message;
  if (!isPlainObject(message)) throw new GraphError(400, 'ErrorInvalidParameter', "The value of the parameter 'Message' is empty.");
  const addresses = (list: unknown): string[] =>
    Array.isArray(list)
      ? list.map((r) => (isPlainObject(r) && isPlainObject(r.emailAddress) ? String(r.emailAddress.address ?? '') : '')).filter(Boolean)
      : [];
  const to = addresses(message.toRecipients);
  const cc = addresses(message.ccRecipients);
  const bcc = addresses(message.bccRecipients);
  if (to.length + cc.length + bcc.length === 0) {
    throw new GraphError(400, 'ErrorInvalidRecipients', "At least one recipient isn't valid., A message can't be sent because it contains no recipients.");
  }
  const bodyObj = isPlainObject(message.body) ? message.body : {};
  call.ctx.store.state.sentMail.push({
    at: new Date().toISOString(),
    appId: call.caller.appId,
    from: mailbox.primarySmtpAddress,
    to,
    cc,
    subject: typeof message.subject === 'string' ? message.subject : '',
    bodyContentType: typeof bodyObj.contentType === 'string' ? bodyObj.contentType : 'Text',
    body: typeof bodyObj.content === 'string' ? bodyObj.content : '',
    // The doc example sends it as a string [DOC G10].
    saveToSentItems: !(b.saveToSentItems === false || b.saveToSentItems === 'false'),
  });
  call.ctx.store.commit();
  return { status: 202 };
}
