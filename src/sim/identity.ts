/**
 * Microsoft identity platform: OpenID discovery, JWKS and the v2.0 token endpoint (client credentials).
 * Error bodies follow the real AADSTS shape: error, error_description ("AADSTSnnnn: …\r\nTrace ID: …"),
 * error_codes, timestamp, trace_id, correlation_id, error_uri [docs/microsoft-facts.md §15; issue threads quoted in docs].
 */
import { X509Certificate, constants, createHash, verify } from 'node:crypto';
import { resourceForAudience, revokedFor } from './auth';
import { EXCHANGE_APP_ID, GRAPH_APP_ID } from './catalog';
import { header, type SimContext, type SimReply, type SimRequest } from './http';
import { hashSecret, newGuid } from './ids';
import { publicJwk, signJwt, verifyJwt } from './jwt';
import type { AppRecord, SpRecord } from './tenant';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

export function aadError(ctx: SimContext, req: SimRequest, status: number, error: string, code: number, text: string): SimReply {
  const now = new Date();
  const timestamp = now.toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
  const traceId = newGuid();
  const correlationId = header(req, 'client-request-id') ?? newGuid();
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'x-ms-request-id': traceId },
    body: {
      error,
      error_description: `AADSTS${code}: ${text}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `${ctx.origins.authority}/error?code=${code}`,
    },
  };
}

/** AADSTS500011: the token asked for a resource this tenant has no service principal for. */
function resourceNotFound(ctx: SimContext, req: SimRequest, audience: string): SimReply {
  return aadError(
    ctx,
    req,
    400,
    'invalid_resource',
    500011,
    `The resource principal named ${audience} was not found in the tenant named ${ctx.store.state.defaultDomain}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
  );
}

function tenantNotFound(ctx: SimContext, req: SimRequest, segment: string, error = 'invalid_request'): SimReply {
  return aadError(
    ctx,
    req,
    400,
    error,
    90002,
    `Tenant '${segment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
  );
}

function openIdConfiguration(ctx: SimContext): Record<string, unknown> {
  const base = `${ctx.origins.authority}/${ctx.store.state.tenantId}`;
  return {
    token_endpoint: `${base}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${base}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: `${base}/v2.0`,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${ctx.origins.graph}/oidc/userinfo`,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    claims_supported: ['sub', 'iss', 'cloud_instance_name', 'cloud_instance_host_name', 'cloud_graph_host_name', 'msgraph_host', 'aud', 'exp', 'iat', 'auth_time', 'acr', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'at_hash', 'c_hash', 'email'],
    kerberos_endpoint: `${base}/kerberos`,
    tenant_region_scope: 'EU',
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
    rbac_url: 'https://pas.windows.net',
  };
}

/**
 * RFC 7523 client assertion as MSAL builds it from a certificate: RS256 + `x5t` (SHA-1 thumbprint) or PS256 +
 * `x5t#S256`, iss = sub = client_id, aud = the token endpoint. The key must be registered on the app.
 */
function checkClientAssertion(
  ctx: SimContext,
  req: SimRequest,
  app: AppRecord,
  assertion: string,
  assertionType: string | null,
  tenantSegment: string,
  now: number,
): SimReply | null {
  if (assertionType !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
    return aadError(ctx, req, 400, 'invalid_request', 700023, "The 'client_assertion_type' must be 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'.");
  }
  const parts = assertion.split('.');
  let header: Record<string, unknown>;
  let claims: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(parts[0] ?? '', 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(parts[1] ?? '', 'base64url').toString('utf8'));
  } catch {
    return aadError(ctx, req, 401, 'invalid_client', 50027, 'JWT token is invalid or malformed.');
  }
  if (parts.length !== 3) return aadError(ctx, req, 401, 'invalid_client', 50027, 'JWT token is invalid or malformed.');
  const x5t = typeof header.x5t === 'string' ? header.x5t : null;
  const x5tS256 = typeof header['x5t#S256'] === 'string' ? (header['x5t#S256'] as string) : null;
  const key = (app.keys ?? []).find((k) => {
    const der = Buffer.from(k.certDer, 'base64');
    return (
      (x5t !== null && createHash('sha1').update(der).digest('base64url') === x5t) ||
      (x5tS256 !== null && createHash('sha256').update(der).digest('base64url') === x5tS256)
    );
  });
  if (!key) {
    return aadError(
      ctx,
      req,
      401,
      'invalid_client',
      700027,
      `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${x5t ?? x5tS256 ?? ''}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${app.appId}'.]`,
    );
  }
  const publicKey = new X509Certificate(Buffer.from(key.certDer, 'base64')).publicKey;
  const data = Buffer.from(`${parts[0]}.${parts[1]}`);
  const signature = Buffer.from(parts[2]!, 'base64url');
  const good =
    header.alg === 'RS256'
      ? verify('sha256', data, publicKey, signature)
      : header.alg === 'PS256'
        ? verify('sha256', data, { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, signature)
        : false;
  if (!good) return aadError(ctx, req, 401, 'invalid_client', 700027, 'Client assertion failed signature validation.');
  if (claims.iss !== app.appId || claims.sub !== app.appId) {
    return aadError(ctx, req, 401, 'invalid_client', 700021, "Client assertion application identifier doesn't match 'client_id' parameter.");
  }
  const endpoints = [ctx.store.state.tenantId, tenantSegment].map((t) => `${ctx.origins.authority}/${t}/oauth2/v2.0/token`.toLowerCase());
  if (typeof claims.aud !== 'string' || !endpoints.includes(claims.aud.toLowerCase())) {
    return aadError(ctx, req, 401, 'invalid_client', 700020, `Client assertion audience claim does not match Realm issuer.`);
  }
  const nowSec = Math.floor(now / 1000);
  if (typeof claims.exp !== 'number' || claims.exp <= nowSec || (typeof claims.nbf === 'number' && claims.nbf > nowSec + 300)) {
    return aadError(ctx, req, 401, 'invalid_client', 700024, 'Client assertion is not within its valid time range.');
  }
  if (Date.parse(key.endDateTime) <= now || Date.parse(key.startDateTime) > now) {
    return aadError(ctx, req, 401, 'invalid_client', 700027, `The certificate with identifier used to sign the client assertion is expired on application. [Reason - The key used is expired., Thumbprint of key used by client: '${key.customKeyIdentifier}']`);
  }
  return null;
}

/** Client authentication shared by every grant: a secret (form or Basic) or a certificate assertion. */
function authenticateClient(
  ctx: SimContext,
  req: SimRequest,
  form: URLSearchParams,
  clientId: string,
  clientSecret: string | null | undefined,
  tenantSegment: string,
  now: number,
): SimReply | { app: AppRecord; clientSp: SpRecord } {
  const state = ctx.store.state;
  // A just-created app is not yet on the replica the token service reads [OBS docs/microsoft-facts.md §1.5, §12].
  const app = ctx.store.app((a) => a.appId.toLowerCase() === clientId.toLowerCase());
  if (!app) {
    return aadError(
      ctx,
      req,
      400,
      'unauthorized_client',
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${state.defaultDomain}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
    );
  }

  const assertion = form.get('client_assertion');
  if (assertion) {
    const failure = checkClientAssertion(ctx, req, app, assertion, form.get('client_assertion_type'), tenantSegment, now);
    if (failure) return failure;
  } else {
    const secret = clientSecret;
    if (!secret) {
      return aadError(ctx, req, 401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
    }
    const matching = app.passwords.find((p) => p.hash === hashSecret(secret, p.salt));
    // A brand-new secret is rejected exactly like a wrong one until it has propagated [OBS U7, docs/microsoft-facts.md §4, §12].
    if (!matching || now < matching.activeAtMs || now < Date.parse(matching.startDateTime)) {
      return aadError(
        ctx,
        req,
        401,
        'invalid_client',
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.appId}'.`,
      );
    }
    if (Date.parse(matching.endDateTime) <= now) {
      return aadError(
        ctx,
        req,
        401,
        'invalid_client',
        7000222,
        `The provided client secret keys for app '${app.appId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`,
      );
    }
  }

  const clientSp = ctx.store.sp((s) => s.appId === app.appId);
  if (!clientSp) {
    return aadError(
      ctx,
      req,
      401,
      'invalid_client',
      7000229,
      `The client application ${app.appId} is missing service principal in the tenant ${state.tenantId}. See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119`,
    );
  }

  return { app, clientSp };
}

function parseForm(req: SimRequest): URLSearchParams {
  return new URLSearchParams(req.body.toString('utf8'));
}

export function handleIdentity(ctx: SimContext, req: SimRequest): SimReply {
  const segments = req.url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const [tenantSegment, ...rest] = segments;
  const route = rest.join('/');
  if (!tenantSegment) return { status: 404, body: '' };

  if (req.method === 'GET' && (route === 'v2.0/.well-known/openid-configuration' || route === '.well-known/openid-configuration')) {
    if (!ctx.store.matchesTenant(tenantSegment)) return tenantNotFound(ctx, req, tenantSegment, 'invalid_tenant');
    return { status: 200, headers: { 'content-type': 'application/json; charset=utf-8' }, body: openIdConfiguration(ctx) };
  }
  if (req.method === 'GET' && (route === 'discovery/v2.0/keys' || route === 'discovery/keys')) {
    return { status: 200, headers: { 'content-type': 'application/json; charset=utf-8' }, body: { keys: [publicJwk(ctx.signingKey)] } };
  }
  if (route === 'oauth2/v2.0/token') {
    if (req.method !== 'POST') return { status: 405, body: '' };
    return token(ctx, req, tenantSegment);
  }
  return { status: 404, body: '' };
}

function token(ctx: SimContext, req: SimRequest, tenantSegment: string): SimReply {
  if (!ctx.store.matchesTenant(tenantSegment)) return tenantNotFound(ctx, req, tenantSegment);
  const form = parseForm(req);
  let clientId = form.get('client_id');
  let clientSecret = form.get('client_secret');
  // client_secret_basic: credentials in the Authorization header instead of the form.
  const basic = header(req, 'authorization');
  if (basic && /^basic\s/i.test(basic)) {
    const [id, secret] = Buffer.from(basic.replace(/^basic\s+/i, ''), 'base64').toString('utf8').split(':');
    clientId ??= decodeURIComponent(id ?? '');
    clientSecret ??= decodeURIComponent(secret ?? '');
  }
  const grantType = form.get('grant_type');
  if (!grantType) return aadError(ctx, req, 400, 'invalid_request', 900144, "The request body must contain the following parameter: 'grant_type'.");
  if (grantType !== 'client_credentials' && grantType !== JWT_BEARER) {
    return aadError(ctx, req, 400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grantType}'.`);
  }
  if (!clientId) return aadError(ctx, req, 400, 'invalid_request', 900144, "The request body must contain the following parameter: 'client_id'.");
  const scopeParam = form.get('scope');
  if (!scopeParam) return aadError(ctx, req, 400, 'invalid_request', 900144, "The request body must contain the following parameter: 'scope'.");

  const now = Date.now();
  const client = authenticateClient(ctx, req, form, clientId, clientSecret, tenantSegment, now);
  if ('status' in client) return client;
  const { app, clientSp } = client;
  if (grantType === JWT_BEARER) return onBehalfOf(ctx, req, form, app, scopeParam, now);
  const state = ctx.store.state;

  // Client credentials take exactly one "<resource>/.default" scope; OIDC scopes are ignored [docs/microsoft-facts.md §1.1].
  const scopes = scopeParam.split(/\s+/).filter((s) => s && !['openid', 'profile', 'offline_access', 'email'].includes(s));
  const scope = scopes[0] ?? '';
  if (scopes.length !== 1 || !scope.endsWith('/.default')) {
    return aadError(
      ctx,
      req,
      400,
      'invalid_scope',
      1002012,
      `The provided value for scope ${scopeParam} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
    );
  }
  const audience = scope.slice(0, -'/.default'.length);
  const resource = resourceForAudience(ctx, audience);
  if (!resource) {
    return resourceNotFound(ctx, req, audience);
  }
  const resourceSp = ctx.store.sp((s) => s.appId === (resource === 'graph' ? GRAPH_APP_ID : EXCHANGE_APP_ID))!;
  const revoked = revokedFor(ctx, app.appId);
  const roles = ctx.store.grantedRoleValues(clientSp.id, resourceSp.id).filter((r) => !revoked.roles.has(r));
  const wids = ctx.store.directoryRoleTemplateIds(clientSp.id).filter((r) => !revoked.directoryRoles.has(r));

  const iat = Math.floor(now / 1000);
  const exp = iat + ctx.tokenLifetimeSeconds;
  // v1.0-format app-only token, like the ones Graph and Exchange receive [OBS U6 captured token].
  const claims: Record<string, unknown> = {
    aud: audience.replace(/\/+$/, ''),
    iss: `https://sts.windows.net/${state.tenantId}/`,
    iat,
    nbf: iat,
    exp,
    aio: Buffer.from(newGuid()).toString('base64').slice(0, 40),
    app_displayname: String(app.props.displayName ?? ''),
    appid: app.appId,
    appidacr: '1',
    idp: `https://sts.windows.net/${state.tenantId}/`,
    idtyp: 'app',
    oid: clientSp.id,
    rh: '0.AAAA' + Buffer.from(state.tenantId).toString('base64url').slice(0, 20) + '.',
    sub: clientSp.id,
    tid: state.tenantId,
    uti: Buffer.from(newGuid()).toString('base64url').slice(0, 22),
    ver: '1.0',
    xms_tcdt: 1600000000,
  };
  // Entra omits empty role/wids claims rather than sending empty arrays.
  if (roles.length) claims.roles = roles;
  if (wids.length) claims.wids = wids;
  return {
    status: 200,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store, no-cache' },
    body: {
      token_type: 'Bearer',
      expires_in: ctx.tokenLifetimeSeconds,
      ext_expires_in: ctx.tokenLifetimeSeconds,
      access_token: signJwt(ctx.signingKey, claims),
    },
  };
}


const OIDC_SCOPES = ['openid', 'profile', 'offline_access', 'email'];

/**
 * The On-Behalf-Of grant (docs/simulator.md, "Delegated (user) tokens"): the client presents a user's access token
 * issued to it (`assertion`) and gets a delegated token for one resource with `scp` = what the tenant consented
 * for that client on that resource, and the user's directory roles as `wids`.
 */
function onBehalfOf(ctx: SimContext, req: SimRequest, form: URLSearchParams, app: AppRecord, scopeParam: string, now: number): SimReply {
  const state = ctx.store.state;
  if (form.get('requested_token_use') !== 'on_behalf_of') {
    return aadError(ctx, req, 400, 'invalid_request', 900144, "The request body must contain the following parameter: 'requested_token_use'.");
  }
  const assertion = form.get('assertion');
  if (!assertion) return aadError(ctx, req, 400, 'invalid_request', 900144, "The request body must contain the following parameter: 'assertion'.");
  const v = verifyJwt(ctx.signingKey, assertion, now);
  if (!v.ok && (v.reason === 'expired' || v.reason === 'notYetValid')) {
    let exp = '';
    try {
      const c = JSON.parse(Buffer.from(assertion.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: number };
      if (typeof c.exp === 'number') exp = new Date(c.exp * 1000).toISOString();
    } catch {
      exp = '';
    }
    return aadError(
      ctx,
      req,
      400,
      'invalid_grant',
      500133,
      `Assertion is not within its valid time range. Ensure that the access token is not expired before using it for user assertion, or request a new token. Current time: ${new Date(now).toISOString()}, expiry time of assertion ${exp}.`,
    );
  }
  if (!v.ok) return aadError(ctx, req, 400, 'invalid_grant', 50013, 'Assertion failed signature validation.');
  const a = v.claims;
  const accepted = [app.appId, `api://botid-${app.appId}`, ...((app.props.identifierUris as string[] | undefined) ?? [])].map((x) => x.toLowerCase());
  if (typeof a.aud !== 'string' || !accepted.includes(a.aud.toLowerCase())) {
    return aadError(
      ctx,
      req,
      400,
      'invalid_grant',
      50013,
      `Assertion audience does not match the Client app presenting the assertion. The audience in the assertion was '${String(a.aud ?? '')}' and the expected audience is '${app.appId}' or one of the Application Ids URIs of this app: '${accepted.slice(1).join(', ')}'.`,
    );
  }
  if (a.tid !== state.tenantId) return aadError(ctx, req, 400, 'invalid_grant', 50013, 'Assertion failed signature validation. [Reason - The assertion was issued for another tenant.]');
  const user = state.users.find((u) => u.id === String(a.oid ?? '').toLowerCase());
  if (!user) {
    // Code and wording for an assertion about a user the tenant no longer has are [UNCONF].
    return aadError(ctx, req, 400, 'invalid_grant', 50034, `The user account ${String(a.upn ?? a.oid ?? '')} does not exist in the ${state.defaultDomain} directory.`);
  }

  const wanted = scopeParam.split(/\s+/).filter((x) => x && !OIDC_SCOPES.includes(x));
  const resources = new Set(wanted.map((w) => w.slice(0, w.lastIndexOf('/'))));
  const audience = [...resources][0] ?? '';
  const resource = resources.size === 1 ? resourceForAudience(ctx, audience) : null;
  if (!resource) {
    return resourceNotFound(ctx, req, audience || scopeParam);
  }
  const consented = new Set(
    (state.delegatedConsents ?? []).filter((c) => c.clientAppId.toLowerCase() === app.appId.toLowerCase() && c.resource === resource).flatMap((c) => c.scopes),
  );
  const named = wanted.map((w) => w.slice(w.lastIndexOf('/') + 1)).filter((x) => x !== '.default');
  // `.default` = everything consented; a named scope must itself be consented.
  if (consented.size === 0 || named.some((n) => !consented.has(n))) {
    return aadError(
      ctx,
      req,
      400,
      'invalid_grant',
      65001,
      `The user or administrator has not consented to use the application with ID '${app.appId}' named '${String(app.props.displayName ?? '')}'. Send an interactive authorization request for this user and resource.`,
    );
  }
  const scp = named.length ? named : [...consented];

  const iat = Math.floor(now / 1000);
  const lifetime = ctx.delegatedTokenLifetimeSeconds;
  const wids = user.directoryRoles ?? [];
  // v1.0-format delegated token as Graph and Exchange receive it: scp, never roles.
  const claims: Record<string, unknown> = {
    aud: audience.replace(/\/+$/, ''),
    iss: `https://sts.windows.net/${state.tenantId}/`,
    iat,
    nbf: iat,
    exp: iat + lifetime,
    acr: '1',
    aio: Buffer.from(newGuid()).toString('base64').slice(0, 40),
    amr: ['pwd'],
    app_displayname: String(app.props.displayName ?? ''),
    appid: app.appId,
    appidacr: '1',
    idtyp: 'user',
    ipaddr: '127.0.0.1',
    name: user.displayName,
    oid: user.id,
    scp: scp.join(' '),
    sub: Buffer.from(`${app.appId}:${user.id}`).toString('base64url').slice(0, 43),
    tid: state.tenantId,
    unique_name: user.userPrincipalName,
    upn: user.userPrincipalName,
    uti: Buffer.from(newGuid()).toString('base64url').slice(0, 22),
    ver: '1.0',
  };
  if (wids.length) claims.wids = wids;
  const body: Record<string, unknown> = {
    token_type: 'Bearer',
    scope: scp.map((x) => `${audience.replace(/\/+$/, '')}/${x}`).join(' '),
    expires_in: lifetime,
    ext_expires_in: lifetime,
    access_token: signJwt(ctx.signingKey, claims),
  };
  // A refresh token only when asked for; the simulator does not redeem it [UNCONF: docs/simulator.md].
  if (scopeParam.split(/\s+/).includes('offline_access')) body.refresh_token = `sim-rt.${Buffer.from(newGuid()).toString('base64url')}`;
  return { status: 200, headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store, no-cache' }, body };
}
