/**
 * The one place that turns a Graph, Exchange, identity or network failure into an OpterError.
 *
 * Transient (worth retrying the same call later): 429 (with the server's Retry-After), 502/503/504, dropped or
 * reset connections, and Microsoft's documented replication errors for objects created moments ago (docs/microsoft-facts.md
 * §1.5, §12). Everything else becomes a permanent catalogue code with an actionable detail.
 *
 * Layering of retries: the Graph SDK's RetryHandler already retries 429/503/504 up to 3 times honouring
 * Retry-After inside one call; what reaches this module has outlived that, and the engine's bounded per-step retry
 * (src/provisioning/retry.ts) decides whether to wait again. Exchange calls have no inner retry (one layer is
 * enough for them, and a paged read restarts cleanly).
 *
 * Secrets: details are built from service messages, which never echo a secret; callers that hold one pass it in
 * `redact` anyway, and the OpterError's `cause` is a sanitised FailureInfo, never the raw SDK error.
 */
import { ERROR_CATALOGUE, OpterError, type ErrorCode } from '../core/errors';

export type Service = 'graph' | 'exchange' | 'identity';

export interface ClassifyContext {
  /** Which service the call went to (used when the error itself does not say, e.g. a network failure). */
  service?: Service;
  /** What the call was for, in words ("grant Mail.Send"); used in details. */
  operation?: string;
  /** Graph application permission this call needs; named by E_GRAPH_PERMISSION on 403. */
  permission?: string;
  /** Exchange cmdlet name, for details. */
  cmdlet?: string;
  /**
   * The call targets an object created moments ago: "not found" then means "not replicated yet" (docs/microsoft-facts.md §1.5,
   * §8.2) and is transient. Without it a not-found is E_NOT_FOUND, permanent.
   */
  objectIsNew?: boolean;
  /** Retry reason for a replication wait, e.g. "waiting for Microsoft to replicate the new service principal". */
  replicationReason?: string;
  /** Signing in with an app/secret created moments ago: AADSTS7000215 / 700016 mean "not propagated yet". */
  newCredential?: boolean;
  /** The call runs as the newly created app, not as the provisioning identity (permission errors are its own). */
  actingAsNewApp?: boolean;
  /** Strings that must never appear in a detail (e.g. the secret just used). */
  redact?: string[];
}

/** A sanitised description of the failure; becomes the OpterError's `cause`. */
export interface FailureInfo {
  service: Service | 'network' | 'unknown';
  status?: number;
  /** Graph `error.code`, Exchange `error.code`, `AADSTS<n>` or a socket error code. */
  code?: string;
  /** The most useful human message. */
  message: string;
  /** Graph `error.details[].code` and similar inner codes. */
  innerCodes: string[];
  /** Every text worth matching on (messages of the error, its details and inner errors). */
  texts: string[];
  /** Exchange: .NET exception type names from the error details (e.g. …ManagementObjectNotFoundException). */
  exceptionTypes: string[];
  /** Exchange: `ExXXXXXX` codes from the error details. */
  exCodes: string[];
  retryAfterMs?: number;
  requestId?: string;
}

/** Thrown by our own HTTP paths (Graph raw responses, Exchange InvokeCommand) so classify can read the envelope. */
export class ServiceHttpError extends Error {
  constructor(
    readonly service: 'graph' | 'exchange',
    readonly status: number,
    readonly headers: Headers,
    /** Response body text (may be empty or non-JSON). */
    readonly bodyText: string,
    readonly operation?: string,
  ) {
    super(`${service} ${operation ?? 'call'} answered HTTP ${status}`);
    this.name = 'ServiceHttpError';
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Texts we match on (docs/microsoft-facts.md references in brackets)
// ---------------------------------------------------------------------------------------------------------------

/** Graph replication errors right after creation [§1.5, Q1, C5, I1, I2]. */
const NO_BACKING_APP = /NoBackingApplicationObject|does not reference a valid application object/i;
const REFERENCE_NOT_PRESENT = /does not exist or one of its queried reference-property objects are not present/i;
const NOT_VALID_REFERENCE_UPDATE = /Not a valid reference update/i;
/**
 * 403 to a service principal create right after its app: azure-cli retries it as replication (role/custom.py,
 * create_service_principal_for_rbac); for an app that is not new it is the permission error it says it is.
 */
const BACKING_APP_NOT_LOCAL = /backing application of the service principal being created must in the local tenant/i;
/**
 * App-management policy refusals on addPassword [§4, C5, CIPP-API PR #1970]: secrets not allowed at all
 * (`passwordAddition`) vs. too long a lifetime. Microsoft's Teams Toolkit tells them apart by these codes
 * (aadErrorCode in microsoft-365-agents-toolkit); the HTTP status is not documented, so it is not looked at.
 */
const SECRET_TYPE_POLICY = /CredentialTypeNotAllowedAsPerAppPolicy|Credential type not allowed/i;
const SECRET_POLICY = /as per assigned policy|AsPerAppPolicy|Credential lifetime exceeds|app management polic/i;
/** Exchange recipient-name collisions [§7.6, §13]. */
const GROUP_CONFLICT_TYPES = /ADObjectAlreadyExistsException|ProxyAddressExistsException|AliasAlreadyExists|NameAlreadyExists|RecipientAlreadyExists/i;
const GROUP_CONFLICT_TEXT = /already exists|is already being used by the proxy addresses|already being used by/i;
const EXCHANGE_NOT_FOUND_TYPES = /ManagementObjectNotFoundException|ObjectNotFound/i;
const EXCHANGE_NOT_FOUND_TEXT = /couldn't be found|could not be found|doesn't exist|does not exist|Couldn't find .* as a recipient/i;
const EXCHANGE_ACCESS_TYPES = /AccessDenied|OperationRequiresGroupManagerException|CmdletAccessDenied|InvalidOperationInDehydratedContextException/i;
const EXCHANGE_THROTTLED_TEXT = /maximum number of concurrent requests|too many requests|throttl/i;

const TRANSIENT_SOCKET_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);
const TLS_TRUST_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS_CERT_ALTNAME_INVALID|HOSTNAME_MISMATCH/;
const TRANSIENT_NETWORK_TEXT = /ECONNRESET|socket hang up|fetch failed|other side closed|network[_ ]error|network request failed|ETIMEDOUT|ECONNREFUSED|EAI_AGAIN|timed? ?out|aborted due to timeout/i;

const SERVICE_NAME: Record<Service, string> = { graph: 'Microsoft Graph', exchange: 'Exchange Online', identity: 'the Microsoft identity platform' };

// ---------------------------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------------------------

/** Any failure of a Microsoft call as an OpterError. OpterErrors pass through (upgraded when the object is new). */
export function classifyError(error: unknown, ctx: ClassifyContext = {}): OpterError {
  // A credential of ours that already spoke the catalogue (delegated.ts), carried through the Graph SDK's chain.
  const preserved = error && typeof error === 'object' ? (error as { customError?: unknown }).customError : undefined;
  if (preserved instanceof OpterError) return classifyError(preserved, ctx);
  if (error instanceof OpterError) {
    if (ctx.objectIsNew && error.code === 'E_NOT_FOUND' && !error.transient) {
      return new OpterError('E_NOT_FOUND', {
        transient: true,
        detail: error.detail,
        retryReason: ctx.replicationReason ?? error.retryReason ?? 'waiting for Microsoft to replicate a new object',
        status: error.status,
        cause: error.cause ?? error,
      });
    }
    return error;
  }
  const info = isFailureInfo(error) ? error : describeFailure(error, ctx);
  return fromFailure(info, ctx);
}

/** Parses Retry-After: delta-seconds (possibly fractional, docs/microsoft-facts.md §7.6) or an HTTP date. Undefined when absent/unusable. */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.ceil(Number(v) * 1000);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** Exchange error details of a classified or raw failure (exception types, Ex-codes, texts), or null. */
export function failureInfoOf(error: unknown): FailureInfo | null {
  if (error instanceof OpterError) {
    const c = error.cause;
    if (isFailureInfo(c)) return c;
    if (c instanceof OpterError) return failureInfoOf(c);
    return null;
  }
  if (error instanceof ServiceHttpError) return describeFailure(error, {});
  return null;
}

/** True when the failure's Exchange exception type (or text) matches. */
export function hasExchangeException(error: unknown, type: RegExp): boolean {
  const info = failureInfoOf(error);
  if (!info) return false;
  return info.exceptionTypes.some((t) => type.test(t)) || info.texts.some((t) => type.test(t));
}

/**
 * Parses one Exchange error-detail message in either observed format (docs/microsoft-facts.md §7.6):
 * `ExXXXXXX|<.NET type>|<text>` or a JSON string `{"Message":…,"TypeName":…}`.
 */
export function parseExchangeDetail(message: string): { exCode?: string; type?: string; text: string } {
  const trimmed = message.trim();
  if (trimmed.startsWith('{')) {
    try {
      const j = JSON.parse(trimmed) as Record<string, unknown>;
      const text = str(j.Message ?? j.message) ?? trimmed;
      const type = str(j.TypeName ?? j.typeName ?? j.Type);
      return { type, text };
    } catch {
      // not JSON after all: fall through to the pipe format / plain text
    }
  }
  const m = /^(Ex[0-9A-F]{6})\|([^|]*)\|([\s\S]*)$/i.exec(trimmed);
  if (m) return { exCode: m[1], type: m[2] || undefined, text: m[3]!.trim() };
  return { text: trimmed };
}

// ---------------------------------------------------------------------------------------------------------------
// Normalisation
// ---------------------------------------------------------------------------------------------------------------

function describeFailure(error: unknown, ctx: ClassifyContext): FailureInfo {
  const base = (service: FailureInfo['service'], message: string): FailureInfo => ({
    service,
    message,
    innerCodes: [],
    texts: [message],
    exceptionTypes: [],
    exCodes: [],
  });

  if (error instanceof ServiceHttpError) return fromHttp(error.service, error.status, error.headers, error.bodyText);

  const e = error as Record<string, unknown> | null;
  if (e && typeof e === 'object') {
    // Our Graph middleware re-throws transport and sign-in failures as GraphClientError { customError: original },
    // which the SDK passes through untouched instead of flattening them into a GraphError without their cause.
    if (e.customError !== undefined && e.customError !== null) return describeFailure(e.customError, ctx);

    // GraphError from @microsoft/microsoft-graph-client: statusCode, code, message, body = JSON of `error`, headers.
    if (typeof e.statusCode === 'number' && 'body' in e && e.statusCode > 0 && typeof e.code !== 'undefined') {
      const headers = e.headers instanceof Headers ? e.headers : new Headers();
      const bodyText = typeof e.body === 'string' ? e.body : '';
      let parsed: Record<string, unknown> | undefined;
      try {
        parsed = bodyText ? (JSON.parse(bodyText) as Record<string, unknown>) : undefined;
      } catch {
        parsed = undefined;
      }
      const envelope = parsed && 'error' in parsed ? parsed : { error: { code: e.code, message: e.message, ...(parsed ?? {}) } };
      return fromHttp('graph', e.statusCode as number, headers, JSON.stringify(envelope));
    }

    // @azure/identity / MSAL errors.
    const name = String(e.name ?? '');
    const message = String(e.message ?? '');
    if (/^(AuthenticationError|AuthenticationRequiredError|CredentialUnavailableError|AggregateAuthenticationError)$/.test(name) || /AADSTS\d+/.test(message)) {
      const info = base('identity', message);
      const resp = e.errorResponse as Record<string, unknown> | undefined;
      if (resp) {
        const d = str(resp.errorDescription ?? resp.error_description);
        if (d) info.texts.push(d);
      }
      const aadsts = /AADSTS(\d+)/.exec(info.texts.join(' '));
      if (aadsts) info.code = `AADSTS${aadsts[1]}`;
      else if (/network_error|Network request failed/i.test(message)) info.code = 'network_error';
      else if (name === 'CredentialUnavailableError') info.code = name;
      info.message = aadstsSentence(info.texts.join(' ')) ?? firstLine(message);
      if (typeof e.statusCode === 'number') info.status = e.statusCode;
      return info;
    }

    // Node / undici network errors: TypeError('fetch failed', { cause: { code: 'ECONNRESET' } }) and friends.
    const code = socketCode(e);
    if (code || TRANSIENT_NETWORK_TEXT.test(message) || name === 'AbortError' || name === 'TimeoutError') {
      const info = base('network', message || name);
      info.code = code ?? (name === 'TimeoutError' || name === 'AbortError' ? 'ETIMEDOUT' : undefined);
      const causeMsg = e.cause && typeof e.cause === 'object' ? String((e.cause as Record<string, unknown>).message ?? '') : '';
      if (causeMsg) info.texts.push(causeMsg);
      return info;
    }
    return base('unknown', message || name || String(error));
  }
  return base('unknown', String(error));
}

function fromHttp(service: 'graph' | 'exchange', status: number, headers: Headers, bodyText: string): FailureInfo {
  const info: FailureInfo = { service, status, message: '', innerCodes: [], texts: [], exceptionTypes: [], exCodes: [] };
  info.retryAfterMs = parseRetryAfter(headers.get('retry-after'));
  info.requestId = headers.get('request-id') ?? headers.get('client-request-id') ?? undefined;
  let body: Record<string, unknown> | undefined;
  try {
    body = bodyText ? (JSON.parse(bodyText) as Record<string, unknown>) : undefined;
  } catch {
    body = undefined;
  }
  const err = body && typeof body.error === 'object' && body.error ? (body.error as Record<string, unknown>) : undefined;
  if (err) {
    info.code = str(err.code);
    const msg = str(err.message);
    if (msg) info.texts.push(msg);
    const inner = (err.innerError ?? err.innererror) as Record<string, unknown> | undefined;
    if (inner && typeof inner === 'object') {
      info.requestId = str(inner['request-id']) ?? info.requestId;
      const innerMsg = str(inner.message);
      const innerType = str(inner.type);
      // The generic OData wrapper type says nothing; a real exception type does.
      if (innerType && !/ODataServiceException/.test(innerType)) info.exceptionTypes.push(innerType);
      // Spelled internalException in some captures and internalexception in others (docs/microsoft-facts.md §7.6).
      const internal = (inner.internalException ?? inner.internalexception) as Record<string, unknown> | undefined;
      if (internal && typeof internal === 'object') {
        const internalMsg = str(internal.message);
        const internalType = str(internal.type);
        if (internalType) info.exceptionTypes.push(internalType);
        if (internalMsg) addExchangeDetail(info, internalMsg);
      }
      if (innerMsg && innerMsg !== msg) info.texts.push(innerMsg);
    }
    const details = Array.isArray(err.details) ? (err.details as Record<string, unknown>[]) : [];
    for (const d of details) {
      const dc = str(d?.code);
      if (dc) info.innerCodes.push(dc);
      const dm = str(d?.message);
      if (dm) {
        if (service === 'exchange') addExchangeDetail(info, dm);
        else info.texts.push(dm);
      }
    }
    // Exchange's error.message is generic ("Error executing cmdlet"); the detail text is the useful one.
    const specific = info.texts.find((t) => !/^(Error executing cmdlet|Invalid Operation)$/i.test(t));
    info.message = specific ?? msg ?? `HTTP ${status}`;
  } else {
    // Plain-text bodies happen (Exchange throttling, gateways); unreadable ones too (Exchange 403: NUL bytes).
    const text = printable(bodyText);
    if (text) info.texts.push(text);
    info.message = text || `HTTP ${status}`;
  }
  return info;
}

/** Exchange-side annotation errors (`@adminapi.errors` on a 200) as a FailureInfo. */
export function exchangeAnnotationFailure(messages: string[], requestId?: string): FailureInfo {
  const info: FailureInfo = { service: 'exchange', status: 200, message: '', innerCodes: [], texts: [], exceptionTypes: [], exCodes: [], requestId };
  for (const m of messages) addExchangeDetail(info, m);
  info.message = info.texts[0] ?? 'the cmdlet reported errors';
  return info;
}

function addExchangeDetail(info: FailureInfo, message: string): void {
  const d = parseExchangeDetail(message);
  if (d.exCode) info.exCodes.push(d.exCode);
  if (d.type) info.exceptionTypes.push(d.type);
  info.texts.push(d.text);
}

// ---------------------------------------------------------------------------------------------------------------
// Decision
// ---------------------------------------------------------------------------------------------------------------

function fromFailure(info: FailureInfo, ctx: ClassifyContext): OpterError {
  const service: Service = info.service === 'graph' || info.service === 'exchange' || info.service === 'identity' ? info.service : (ctx.service ?? 'graph');
  const who = SERVICE_NAME[service];
  const all = [info.code ?? '', ...info.texts, ...info.innerCodes, ...info.exceptionTypes].join('\n');
  const make = (code: ErrorCode, o: { detail: string; transient?: boolean; retryReason?: string; retryAfterMs?: number }) =>
    new OpterError(code, {
      detail: fitDetail(code, redact(o.detail, ctx.redact)),
      transient: o.transient,
      retryReason: o.retryReason,
      retryAfterMs: o.retryAfterMs,
      status: info.status,
      cause: sanitize(info, ctx.redact),
    });
  const what = ctx.cmdlet ?? ctx.operation;
  const msg = truncate(info.message, 300);

  // --- network -------------------------------------------------------------------------------------------------
  if (info.service === 'network' || (info.service === 'identity' && info.code === 'network_error')) {
    const target = ctx.service ? SERVICE_NAME[ctx.service] : who;
    if (info.code && TLS_TRUST_CODES.test(info.code)) {
      return make('E_SERVICE_UNAVAILABLE', {
        transient: false,
        detail: `the TLS certificate of ${target} is not trusted (${info.code}); for a private endpoint start the process with NODE_EXTRA_CA_CERTS`,
      });
    }
    if (info.code === 'ENOTFOUND') {
      return make('E_SERVICE_UNAVAILABLE', { transient: false, detail: `the host name of ${target} does not resolve (${info.code}); check the endpoint settings` });
    }
    const why = info.code ? `${describeSocketCode(info.code)} (${info.code})` : firstLine(info.message);
    return make('E_SERVICE_UNAVAILABLE', {
      transient: true,
      detail: `${why} talking to ${target}`,
      retryReason: `${target} dropped the connection; trying again`,
    });
  }

  // --- identity platform ---------------------------------------------------------------------------------------
  if (info.service === 'identity') {
    const aadsts = info.code?.startsWith('AADSTS') ? info.code : undefined;
    if (ctx.newCredential && (aadsts === 'AADSTS7000215' || aadsts === 'AADSTS700016')) {
      return make('E_VERIFY_FAILED', {
        transient: true,
        detail: `the new ${aadsts === 'AADSTS700016' ? 'app registration' : 'client secret'} is not accepted by the token endpoint yet (${msg})`,
        retryReason: aadsts === 'AADSTS700016' ? 'waiting for Microsoft to replicate the new app registration to sign-in' : 'waiting for Microsoft to accept the new client secret',
      });
    }
    if (aadsts === 'AADSTS50196' || /throttl|too many requests/i.test(all)) {
      return make('E_THROTTLED', { transient: true, detail: msg, retryReason: 'the identity platform is throttling sign-ins' });
    }
    if (ctx.actingAsNewApp) return make('E_VERIFY_FAILED', { transient: false, detail: `signing in as the new app failed: ${msg}` });
    return make('E_AUTH_FAILED', { detail: msg });
  }

  // --- HTTP: throttling and outages ----------------------------------------------------------------------------
  const status = info.status ?? 0;
  if (status === 429 || (service === 'exchange' && EXCHANGE_THROTTLED_TEXT.test(all) && status >= 400 && status !== 403)) {
    return make('E_THROTTLED', {
      transient: true,
      retryAfterMs: info.retryAfterMs,
      detail: `${who} answered ${status} ${firstLine(msg)}`.trim(),
      retryReason: `${who} is throttling requests${info.retryAfterMs !== undefined ? `; it asked to wait ${formatWait(info.retryAfterMs)}` : ''}`,
    });
  }
  if (status === 502 || status === 503 || status === 504) {
    return make('E_SERVICE_UNAVAILABLE', {
      transient: true,
      retryAfterMs: info.retryAfterMs,
      detail: `${who} answered ${status}${what ? ` to ${what}` : ''}`,
      retryReason: `${who} is temporarily unavailable (${status})`,
    });
  }

  // --- replication (Graph) -------------------------------------------------------------------------------------
  if (service === 'graph') {
    if (NO_BACKING_APP.test(all)) {
      return replication(make, ctx, msg, 'waiting for Microsoft to replicate the new app registration');
    }
    if (NOT_VALID_REFERENCE_UPDATE.test(all)) {
      return replication(make, ctx, msg, 'waiting for Microsoft to replicate the new service principal');
    }
    if (REFERENCE_NOT_PRESENT.test(all)) {
      return replication(make, ctx, msg, 'waiting for Microsoft to replicate a new object');
    }
    if (ctx.objectIsNew && BACKING_APP_NOT_LOCAL.test(all)) {
      return replication(make, ctx, msg, 'waiting for Microsoft to replicate the new app registration');
    }
  }

  // --- app management policy (before permissions: it may come as a 403) ---------------------------------------
  if (service === 'graph' && SECRET_TYPE_POLICY.test(all)) return make('E_SECRETS_BLOCKED_BY_POLICY', { detail: `(Microsoft Graph: ${msg})` });
  if (service === 'graph' && SECRET_POLICY.test(all)) return make('E_SECRET_LIFETIME_POLICY', { detail: msg });

  // --- permissions ---------------------------------------------------------------------------------------------
  if (service === 'graph' && (status === 403 || info.code === 'Authorization_RequestDenied')) {
    if (ctx.actingAsNewApp) {
      return make('E_VERIFY_FAILED', { transient: false, detail: `Microsoft Graph refused the new app${what ? ` to ${what}` : ''}: ${info.code ?? status} ${msg}` });
    }
    return make('E_GRAPH_PERMISSION', { detail: ctx.permission ?? `the permission required to ${what ?? 'make this call'} (${msg})` });
  }
  if (service === 'graph' && status === 401) {
    if (ctx.actingAsNewApp) return make('E_VERIFY_FAILED', { transient: false, detail: `Microsoft Graph rejected the new app's token: ${msg}` });
    return make('E_AUTH_FAILED', { detail: `Microsoft Graph rejected the token (${info.code ?? 401}: ${msg})` });
  }
  if (service === 'exchange' && (status === 401 || status === 403 || info.exceptionTypes.some((t) => EXCHANGE_ACCESS_TYPES.test(t)))) {
    const reason =
      status === 401
        ? 'Exchange rejected the access token (HTTP 401): check that the provisioning app has Exchange.ManageAsApp with admin consent and that AZURE_TENANT_ID is this tenant.'
        : `Exchange refused ${what ?? 'the command'}${status ? ` (HTTP ${status})` : ''}${info.exceptionTypes.length || info.texts.length ? `: ${firstLine(msg)}` : ''}`;
    return make('E_EXCHANGE_PERMISSION', { detail: reason.endsWith('.') ? reason : `${reason}.` });
  }

  // --- policy / conflicts --------------------------------------------------------------------------------------
  if (service === 'exchange' && (info.exceptionTypes.some((t) => GROUP_CONFLICT_TYPES.test(t)) || GROUP_CONFLICT_TEXT.test(all)) && isGroupCreation(ctx)) {
    return make('E_GROUP_CONFLICT', { detail: msg });
  }

  // --- not found -----------------------------------------------------------------------------------------------
  const exchangeNotFound =
    service === 'exchange' && (status === 404 || info.exceptionTypes.some((t) => EXCHANGE_NOT_FOUND_TYPES.test(t)) || EXCHANGE_NOT_FOUND_TEXT.test(all));
  if (exchangeNotFound || status === 404) {
    if (ctx.objectIsNew) {
      return make('E_NOT_FOUND', {
        transient: true,
        detail: msg,
        retryReason: ctx.replicationReason ?? `waiting for ${service === 'exchange' ? 'Exchange' : 'Microsoft'} to replicate the new object`,
      });
    }
    return make('E_NOT_FOUND', { transient: false, detail: `${msg}${what ? ` (${what})` : ''}` });
  }

  // --- anything else -------------------------------------------------------------------------------------------
  const label = [info.code, info.exCodes[0], info.exceptionTypes[0]?.split('.').pop()].filter(Boolean).join(' ');
  return make('E_INTERNAL', {
    transient: false,
    detail: `${who}${status === 200 ? ` reported an error${what ? ` from ${what}` : ''}` : `${status ? ` answered ${status}` : ' failed'}${what ? ` to ${what}` : ''}`}${label ? ` [${label}]` : ''}: ${msg}${info.requestId ? ` (request-id ${info.requestId})` : ''}`,
  });
}

function replication(
  make: (code: ErrorCode, o: { detail: string; transient?: boolean; retryReason?: string }) => OpterError,
  ctx: ClassifyContext,
  msg: string,
  defaultReason: string,
): OpterError {
  return make('E_NOT_FOUND', { transient: true, detail: msg, retryReason: ctx.replicationReason ?? defaultReason });
}

function isGroupCreation(ctx: ClassifyContext): boolean {
  // "already exists" only means a name/alias clash when we were creating or renaming a recipient.
  return !ctx.cmdlet || /^(New|Set)-(DistributionGroup|Mailbox|MailContact|MailUser|UnifiedGroup)$/i.test(ctx.cmdlet);
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------------

function socketCode(e: Record<string, unknown>): string | undefined {
  for (let cur: unknown = e, depth = 0; cur && typeof cur === 'object' && depth < 5; cur = (cur as Record<string, unknown>).cause, depth++) {
    const c = (cur as Record<string, unknown>).code;
    if (typeof c === 'string' && (TRANSIENT_SOCKET_CODES.has(c) || TLS_TRUST_CODES.test(c) || c === 'ENOTFOUND')) return c;
  }
  return undefined;
}

function describeSocketCode(code: string): string {
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE' || code === 'UND_ERR_CLOSED' || code === 'ECONNABORTED') return 'the connection was reset';
  if (code === 'ECONNREFUSED') return 'the connection was refused';
  if (/TIMEOUT|ETIMEDOUT/.test(code)) return 'the request timed out';
  return 'the network failed';
}

function isFailureInfo(v: unknown): v is FailureInfo {
  return !!v && typeof v === 'object' && Array.isArray((v as FailureInfo).texts) && typeof (v as FailureInfo).message === 'string';
}

function sanitize(info: FailureInfo, secrets?: string[]): FailureInfo {
  if (!secrets?.length) return info;
  return { ...info, message: redact(info.message, secrets), texts: info.texts.map((t) => redact(t, secrets)) };
}

/** The catalogue puts a full stop after "{detail}." in some actions; a service message brings its own. */
function fitDetail(code: ErrorCode, detail: string): string {
  return ERROR_CATALOGUE[code].action.includes('{detail}.') ? detail.replace(/\.+$/, '') : detail;
}

function redact(text: string, secrets?: string[]): string {
  let out = text;
  for (const s of secrets ?? []) if (s) out = out.split(s).join('[redacted]');
  return out;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() ? v.trim() : undefined;
}

function firstLine(s: string): string {
  return s.split(/\r?\n/)[0]!.trim();
}

/** "AADSTS7000215: Invalid client secret provided." out of MSAL's long message. */
function aadstsSentence(s: string): string | undefined {
  const m = /AADSTS\d+:[^\r\n]*?(?:\.(?=\s|$)|$)/m.exec(s);
  return m ? m[0].trim() : undefined;
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

/** Body text if it is readable text (Exchange sometimes sends NUL bytes labelled gzip on 403). */
function printable(s: string): string {
  const t = s.trim();
  if (!t) return '';
  // eslint-disable-next-line no-control-regex
  const control = t.replace(/[^\x00-\x08\x0e-\x1f\ufffd]/g, '').length;
  return control > t.length / 10 ? '' : truncate(firstLine(t), 300);
}

function formatWait(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`;
}
