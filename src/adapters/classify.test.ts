import { GraphClientError, GraphError } from '@microsoft/microsoft-graph-client';
import { describe, expect, it } from 'vitest';
import { OpterError } from '../core/errors';
import { classifyError, exchangeAnnotationFailure, failureInfoOf, hasExchangeException, parseExchangeDetail, parseRetryAfter, ServiceHttpError } from './classify';

/** A GraphError shaped exactly as the SDK's GraphErrorHandler.constructErrorFromResponse builds it. */
function graphError(status: number, error: { code: string; message: string; details?: unknown[] }, headers: Record<string, string> = {}): GraphError {
  const e = new GraphError(status, error.message);
  e.code = error.code;
  e.body = JSON.stringify({ ...error, innerError: { 'request-id': 'req-1', date: '2026-11-27T07:00:00' } });
  e.headers = new Headers(headers);
  return e;
}

function exchangeHttp(status: number, body: unknown, headers: Record<string, string> = {}): ServiceHttpError {
  return new ServiceHttpError('exchange', status, new Headers(headers), typeof body === 'string' ? body : JSON.stringify(body), 'test');
}

/** The OData envelope of an InvokeCommand failure (docs/microsoft-facts.md §7.6). */
function exoError(code: string, detailMessages: string[], detailCode = 'Client') {
  return {
    error: {
      code,
      message: 'Error executing cmdlet',
      details: detailMessages.map((message) => ({ code: detailCode, target: '', message })),
      innererror: { message: 'Error executing cmdlet', type: 'Microsoft.Exchange.Admin.OData.Core.ODataServiceException', stacktrace: '...' },
    },
  };
}

const NOT_FOUND_PIPE =
  "Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't be performed because object 'opter-mailsend-allowed' couldn't be found on 'DB3PR01A001DC01.EURPR01A001.prod.outlook.com'.";

describe('classifyError — throttling and outages', () => {
  it('turns a Graph 429 into a transient E_THROTTLED carrying Retry-After (fractional seconds) in ms', () => {
    const err = classifyError(
      graphError(429, { code: 'TooManyRequests', message: 'Client application has been throttled and should not attempt to repeat the request until an amount of time has elapsed.' }, { 'Retry-After': '2.5' }),
    );
    expect(err.code).toBe('E_THROTTLED');
    expect(err.transient).toBe(true);
    expect(err.retryAfterMs).toBe(2500);
    expect(err.status).toBe(429);
    expect(err.retryReason).toMatch(/throttling/);
  });

  it('reads an HTTP-date Retry-After as the time left until then', () => {
    const now = Date.parse('2026-11-27T07:00:00Z');
    expect(parseRetryAfter('Fri, 27 Nov 2026 07:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('0.25')).toBe(250);
    expect(parseRetryAfter('7')).toBe(7000);
    expect(parseRetryAfter('')).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });

  it('keeps a 429 without Retry-After transient with no server wait, so the engine backs off itself', () => {
    const err = classifyError(graphError(429, { code: 'TooManyRequests', message: 'throttled' }));
    expect(err).toMatchObject({ code: 'E_THROTTLED', transient: true, retryAfterMs: undefined });
  });

  it.each([502, 503, 504])('treats Graph %i as a transient outage', (status) => {
    const err = classifyError(graphError(status, { code: 'serviceNotAvailable', message: 'Service unavailable' }, { 'Retry-After': '1' }));
    expect(err).toMatchObject({ code: 'E_SERVICE_UNAVAILABLE', transient: true, retryAfterMs: 1000, status });
  });

  it("treats Exchange's plain-text concurrency throttling as E_THROTTLED with its fractional Retry-After", () => {
    const err = classifyError(exchangeHttp(429, 'You have reached the maximum number of concurrent requests per tenant. Please wait and try again', { 'Retry-After': '0.5' }), {
      cmdlet: 'Get-Recipient',
    });
    expect(err).toMatchObject({ code: 'E_THROTTLED', transient: true, retryAfterMs: 500 });
  });

  it.each([
    ['ECONNRESET', Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) })],
    ['other side closed', Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) })],
    ['socket hang up', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
    ['fetch failed without a cause', new TypeError('fetch failed')],
  ])('treats a dropped connection (%s) as transient E_SERVICE_UNAVAILABLE', (_label, e) => {
    const err = classifyError(e, { service: 'graph' });
    expect(err).toMatchObject({ code: 'E_SERVICE_UNAVAILABLE', transient: true });
    expect(err.detail).toMatch(/Microsoft Graph/);
  });

  it('unwraps a transport error preserved in GraphClientError.customError by our middleware', () => {
    const wrapped = new GraphClientError('fetch failed');
    wrapped.customError = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('x'), { code: 'ECONNRESET' }) });
    expect(classifyError(wrapped, { service: 'graph' })).toMatchObject({ code: 'E_SERVICE_UNAVAILABLE', transient: true });
  });

  it('does not retry an untrusted TLS certificate or an unresolvable host: those need configuration', () => {
    const tls = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }) });
    const dns = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('getaddrinfo ENOTFOUND x'), { code: 'ENOTFOUND' }) });
    expect(classifyError(tls, { service: 'exchange' })).toMatchObject({ code: 'E_SERVICE_UNAVAILABLE', transient: false });
    expect(classifyError(tls, { service: 'exchange' }).detail).toMatch(/NODE_EXTRA_CA_CERTS/);
    expect(classifyError(dns, { service: 'graph' })).toMatchObject({ code: 'E_SERVICE_UNAVAILABLE', transient: false });
  });

  it('treats an aborted (timed-out) request as transient', () => {
    const e = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    expect(classifyError(e, { service: 'exchange' })).toMatchObject({ code: 'E_SERVICE_UNAVAILABLE', transient: true });
  });
});

describe('classifyError — documented replication errors (docs/microsoft-facts.md §1.5)', () => {
  it('NoBackingApplicationObject on the service principal create → transient, waiting for the app registration', () => {
    const err = classifyError(
      graphError(400, {
        code: 'Request_BadRequest',
        message: "The appId '6d1e2f3a-0000-4000-8000-000000000001' of the service principal does not reference a valid application object.",
        details: [{ code: 'NoBackingApplicationObject', message: "The appId '6d1e2f3a-…' of the service principal does not reference a valid application object." }],
      }),
    );
    expect(err).toMatchObject({ code: 'E_NOT_FOUND', transient: true, retryReason: 'waiting for Microsoft to replicate the new app registration' });
  });

  it('"does not exist or one of its queried reference-property objects are not present" → transient with the caller\'s reason', () => {
    const err = classifyError(
      graphError(404, {
        code: 'Request_ResourceNotFound',
        message: "Resource '0b6c1e4e-1111-4000-8000-000000000002' does not exist or one of its queried reference-property objects are not present.",
      }),
      { replicationReason: 'waiting for Microsoft to replicate the new app registration' },
    );
    expect(err).toMatchObject({ code: 'E_NOT_FOUND', transient: true, retryReason: 'waiting for Microsoft to replicate the new app registration' });
  });

  it('"Not a valid reference update." on appRoleAssignedTo → transient, waiting for the service principal', () => {
    const err = classifyError(graphError(400, { code: 'Request_BadRequest', message: 'Not a valid reference update.' }));
    expect(err).toMatchObject({ code: 'E_NOT_FOUND', transient: true, retryReason: 'waiting for Microsoft to replicate the new service principal' });
  });

  it('Exchange ManagementObjectNotFoundException is permanent E_NOT_FOUND unless the caller says the object is new', () => {
    const body = exoError('NotFound', [NOT_FOUND_PIPE]);
    const old = classifyError(exchangeHttp(404, body), { cmdlet: 'Get-DistributionGroupMember' });
    expect(old).toMatchObject({ code: 'E_NOT_FOUND', transient: false });
    expect(old.detail).toContain("couldn't be found");

    const fresh = classifyError(exchangeHttp(404, body), {
      cmdlet: 'Add-DistributionGroupMember',
      objectIsNew: true,
      replicationReason: 'waiting for Exchange to replicate the new group',
    });
    expect(fresh).toMatchObject({ code: 'E_NOT_FOUND', transient: true, retryReason: 'waiting for Exchange to replicate the new group' });
  });

  it('upgrades an already classified permanent E_NOT_FOUND when the caller says the object is new', () => {
    const first = classifyError(exchangeHttp(404, exoError('NotFound', [NOT_FOUND_PIPE])), { cmdlet: 'Get-DistributionGroup' });
    const again = classifyError(first, { objectIsNew: true, replicationReason: 'waiting for Exchange to replicate the new group' });
    expect(again).toMatchObject({ code: 'E_NOT_FOUND', transient: true, retryReason: 'waiting for Exchange to replicate the new group' });
    expect(failureInfoOf(again)?.exceptionTypes).toEqual(['Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException']);
  });

  it('AADSTS7000215 for a brand-new secret is transient; for the provisioning identity it is E_AUTH_FAILED', () => {
    // @azure/identity 4.13 surfaces a token-endpoint 401 as AuthenticationRequiredError with MSAL's message.
    const e = Object.assign(
      new Error(
        "invalid_client: Error(s): 7000215 - Timestamp: 2026-11-27 07:00:00Z - Description: AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '6d1e2f3a'.\r\nTrace ID: abc\r\nCorrelation ID: def - Correlation ID: def - Trace ID: abc",
      ),
      { name: 'AuthenticationRequiredError' },
    );
    const fresh = classifyError(e, { service: 'graph', newCredential: true, actingAsNewApp: true });
    expect(fresh).toMatchObject({ code: 'E_VERIFY_FAILED', transient: true, retryReason: 'waiting for Microsoft to accept the new client secret' });

    const provisioning = classifyError(e, { service: 'graph' });
    expect(provisioning).toMatchObject({ code: 'E_AUTH_FAILED', transient: false });
    // The catalogue action ends "…: {detail}.", so the service's own full stop is dropped.
    expect(provisioning.detail).toBe('AADSTS7000215: Invalid client secret provided');
    expect(provisioning.action).toBe('Check AZURE_TENANT_ID, AZURE_CLIENT_ID and the secret or certificate: AADSTS7000215: Invalid client secret provided.');
  });

  it('AADSTS700016 (app unknown to sign-in yet) is transient for a new app', () => {
    const e = Object.assign(new Error("unauthorized_client: AADSTS700016: Application with identifier 'x' was not found in the directory 'y'."), {
      name: 'AuthenticationRequiredError',
    });
    expect(classifyError(e, { newCredential: true, actingAsNewApp: true })).toMatchObject({ code: 'E_VERIFY_FAILED', transient: true });
  });

  it("an identity network failure (MSAL network_error) is transient", () => {
    const e = Object.assign(new Error('network_error: See https://aka.ms/msal.js.errors#network_error for details'), { name: 'AuthenticationRequiredError' });
    expect(classifyError(e, { service: 'exchange' })).toMatchObject({ code: 'E_SERVICE_UNAVAILABLE', transient: true });
  });
});

describe('classifyError — permanent errors', () => {
  it('403 Authorization_RequestDenied names the permission this call needs', () => {
    const err = classifyError(graphError(403, { code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' }), {
      permission: 'AppRoleAssignment.ReadWrite.All',
    });
    expect(err).toMatchObject({ code: 'E_GRAPH_PERMISSION', transient: false, detail: 'AppRoleAssignment.ReadWrite.All', status: 403 });
    expect(err.action).toContain('AppRoleAssignment.ReadWrite.All');
  });

  it('403 "backing application … must in the local tenant": replication while the app is new, else our permission', () => {
    const e = () =>
      graphError(403, { code: 'Authorization_RequestDenied', message: 'When using this permission, the backing application of the service principal being created must in the local tenant' });
    expect(classifyError(e(), { permission: 'Application.ReadWrite.All', objectIsNew: true })).toMatchObject({
      code: 'E_NOT_FOUND',
      transient: true,
      status: 403,
      retryReason: 'waiting for Microsoft to replicate the new app registration',
    });
    expect(classifyError(e(), { permission: 'Application.ReadWrite.All' })).toMatchObject({ code: 'E_GRAPH_PERMISSION', transient: false, detail: 'Application.ReadWrite.All' });
  });

  it('403 for the new app (e.g. sendMail blocked by an access policy) is a failed verification, not our permission', () => {
    const err = classifyError(graphError(403, { code: 'ErrorAccessDenied', message: 'Access to OData is disabled.' }), {
      actingAsNewApp: true,
      operation: 'send mail as outside@exempel.se',
    });
    expect(err).toMatchObject({ code: 'E_VERIFY_FAILED', transient: false });
    expect(err.detail).toContain('Access to OData is disabled');
  });

  it('Exchange 403 with an unreadable body (NUL bytes) → E_EXCHANGE_PERMISSION naming the cmdlet', () => {
    const err = classifyError(exchangeHttp(403, '\u0000\u0000\u0000\u0000\u0000\u0000'), { cmdlet: 'New-ApplicationAccessPolicy' });
    expect(err).toMatchObject({ code: 'E_EXCHANGE_PERMISSION', transient: false, status: 403 });
    expect(err.detail).toBe('Exchange refused New-ApplicationAccessPolicy (HTTP 403).');
  });

  it('Exchange 401 says the app probably lacks Exchange.ManageAsApp', () => {
    const err = classifyError(exchangeHttp(401, ''), { cmdlet: 'Get-AcceptedDomain' });
    expect(err).toMatchObject({ code: 'E_EXCHANGE_PERMISSION' });
    expect(err.detail).toMatch(/Exchange\.ManageAsApp/);
  });

  it('an Exchange RBAC refusal inside a 400 (OperationRequiresGroupManagerException) is a permission problem', () => {
    const err = classifyError(
      exchangeHttp(400, exoError('BadRequest', ["Ex9C5B4A|Microsoft.Exchange.Management.Tasks.OperationRequiresGroupManagerException|You don't have sufficient permissions. This operation can only be performed by a manager of the group."])),
      { cmdlet: 'Add-DistributionGroupMember' },
    );
    expect(err.code).toBe('E_EXCHANGE_PERMISSION');
  });

  it('app-management policy refusals on addPassword: too long a lifetime vs. no secrets at all, whatever the status', () => {
    for (const status of [400, 403]) {
      const lifetime = { code: 'CredentialInvalidLifetimeAsPerAppPolicy', message: "Credential lifetime exceeds the max value allowed as per assigned policy '00000000-0000-0000-0000-000000000000'." };
      expect(classifyError(graphError(status, lifetime), { permission: 'Application.ReadWrite.All' })).toMatchObject({ code: 'E_SECRET_LIFETIME_POLICY', transient: false, status });
      const blocked = { code: 'CredentialTypeNotAllowedAsPerAppPolicy', message: "Credential type not allowed as per assigned policy '00000000-0000-0000-0000-000000000000'." };
      const err = classifyError(graphError(status, blocked), { permission: 'Application.ReadWrite.All' });
      expect(err).toMatchObject({ code: 'E_SECRETS_BLOCKED_BY_POLICY', transient: false, status });
      expect(err.action).toContain('passwordAddition');
    }
    // The texts alone (older bodies with Request_BadRequest) classify the same way.
    expect(classifyError(graphError(400, { code: 'Request_BadRequest', message: 'Credential lifetime exceeds the max value allowed as per assigned policy.' })).code).toBe('E_SECRET_LIFETIME_POLICY');
    expect(classifyError(graphError(400, { code: 'Request_BadRequest', message: 'Credential type not allowed as per assigned policy.' })).code).toBe('E_SECRETS_BLOCKED_BY_POLICY');
  });

  it('a taken group name in the JSON-string detail format (ADObjectAlreadyExistsException) → E_GROUP_CONFLICT', () => {
    const detail = JSON.stringify({
      Message: "The object 'CN=OpterMessageProxy - MailSend Allowed,OU=exempel.onmicrosoft.com,OU=Microsoft Exchange Hosted Organizations,DC=EURPR01A001,DC=prod,DC=outlook,DC=com' already exists.",
      TypeName: 'Microsoft.Exchange.Data.Directory.ADObjectAlreadyExistsException',
      StackTrace: null,
      InnerError: null,
    });
    const err = classifyError(exchangeHttp(400, exoError('BadRequest', [detail], 'Context')), { cmdlet: 'New-DistributionGroup' });
    expect(err).toMatchObject({ code: 'E_GROUP_CONFLICT', transient: false });
    expect(err.detail).toContain('already exists');
  });

  it('a taken alias/proxy address in the pipe format (ProxyAddressExistsException) → E_GROUP_CONFLICT', () => {
    const err = classifyError(
      exchangeHttp(
        400,
        exoError('BadRequest', [
          'Ex5A1D2C|Microsoft.Exchange.Data.Directory.ProxyAddressExistsException|The proxy address "SMTP:opter-mailsend-allowed@exempel.se" is already being used by the proxy addresses or LegacyExchangeDN. Please choose another proxy address.',
        ]),
      ),
      { cmdlet: 'New-DistributionGroup' },
    );
    expect(err.code).toBe('E_GROUP_CONFLICT');
  });

  it('reads innererror.internalException.message when details are absent', () => {
    const body = { error: { code: 'BadRequest', message: 'Invalid Operation', innererror: { internalException: { message: NOT_FOUND_PIPE } } } };
    const err = classifyError(exchangeHttp(400, body), { cmdlet: 'Get-DistributionGroup' });
    expect(err.code).toBe('E_NOT_FOUND');
    expect(hasExchangeException(err, /ManagementObjectNotFoundException/)).toBe(true);
  });

  it('an @adminapi.errors annotation on a 200 is a failure classified like an error body', () => {
    const err = classifyError(exchangeAnnotationFailure([NOT_FOUND_PIPE]), { cmdlet: 'Add-DistributionGroupMember' });
    expect(err).toMatchObject({ code: 'E_NOT_FOUND', transient: false });
  });

  it('anything unrecognised is E_INTERNAL with the service, status, code and request id for the log', () => {
    const err = classifyError(graphError(400, { code: 'Request_BadRequest', message: 'Property uniqueName is invalid.' }), { operation: 'create the app registration' });
    expect(err).toMatchObject({ code: 'E_INTERNAL', transient: false });
    expect(err.detail).toBe('Microsoft Graph answered 400 to create the app registration [Request_BadRequest]: Property uniqueName is invalid. (request-id req-1)');
  });

  it('passes an OpterError through untouched', () => {
    const original = new OpterError('E_GROUP_CONFLICT', { detail: 'x' });
    expect(classifyError(original)).toBe(original);
  });

  it('never lets a secret passed in `redact` reach the detail, message or cause', () => {
    const secret = 'abc8Q~s3cr3t-value-that-must-not-leak';
    const e = Object.assign(new Error(`invalid_client: AADSTS7000215: Invalid client secret provided: ${secret}.`), { name: 'AuthenticationRequiredError' });
    const err = classifyError(e, { redact: [secret], actingAsNewApp: true });
    expect(err.detail).not.toContain(secret);
    expect(err.message).not.toContain(secret);
    expect(JSON.stringify(err.cause)).not.toContain(secret);
  });
});

describe('parseExchangeDetail', () => {
  it('splits the pipe format into Ex-code, .NET type and text', () => {
    expect(parseExchangeDetail(NOT_FOUND_PIPE)).toEqual({
      exCode: 'Ex6F9304',
      type: 'Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException',
      text: "The operation couldn't be performed because object 'opter-mailsend-allowed' couldn't be found on 'DB3PR01A001DC01.EURPR01A001.prod.outlook.com'.",
    });
  });

  it('reads the JSON-string format', () => {
    expect(parseExchangeDetail('{"Message":"The object \'x\' already exists.","TypeName":"Microsoft.Exchange.Data.Directory.ADObjectAlreadyExistsException","StackTrace":null,"InnerError":null}')).toEqual({
      type: 'Microsoft.Exchange.Data.Directory.ADObjectAlreadyExistsException',
      text: "The object 'x' already exists.",
    });
  });

  it('keeps plain text as text', () => {
    expect(parseExchangeDetail("Couldn't find 'nobody@exempel.se' as a recipient.")).toEqual({ text: "Couldn't find 'nobody@exempel.se' as a recipient." });
  });
});
