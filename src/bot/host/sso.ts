/**
 * Teams single sign-on for Universal Actions, in delegated mode (docs/delegated-mode.md): a click that leads to
 * a tenant write must carry the clicking admin's Teams SSO token. teams-ai 1.7.4 has no Teams-SSO card sign-in
 * (its TeamsSsoAdaptiveCardAuthentication throws "Not implemented"), so the protocol is answered here:
 *  - no token → `401 application/vnd.microsoft.activity.loginRequest`, and the Teams client re-sends the same
 *    invoke with `value.authentication = { id, connectionName, token }`;
 *  - a token that is not for this bot, or not of the clicking person in an allowed tenant, is refused; an
 *    exchange that fails → `412 application/vnd.microsoft.error.preconditionFailed`
 *    (msteams-docs sso-adaptive-cards-universal-action.md).
 * The token's claims are read without verifying its signature on purpose: it is only ever used as the assertion
 * of an On-Behalf-Of exchange, and the identity platform verifies it there; a forged token gets nothing.
 */
import { claimsOf } from '../../adapters';
import { OpterError } from '../../core/errors';
import type { Actor } from '../../requests/rules';

export const LOGIN_REQUEST_TYPE = 'application/vnd.microsoft.activity.loginRequest';
export const PRECONDITION_FAILED_TYPE = 'application/vnd.microsoft.error.preconditionFailed';

export interface SsoResource {
  /** The bot's Entra app id (the manifest's webApplicationInfo.id). */
  appId: string;
  /** Azure Bot Service OAuth connection to name in the login request, when the tenant uses one. */
  connectionName: string | null;
}

/** The Application ID URI Teams asks tokens for: webApplicationInfo.resource (msteams-docs bot-sso-manifest.md). */
export function resourceUriOf(appId: string): string {
  return `api://botid-${appId}`;
}

export function loginRequestBody(resource: SsoResource, text = 'Sign in to approve with your own admin rights'): Record<string, unknown> {
  return {
    statusCode: 401,
    type: LOGIN_REQUEST_TYPE,
    value: {
      text,
      connectionName: resource.connectionName ?? '',
      tokenExchangeResource: { id: resource.appId, uri: resourceUriOf(resource.appId), providerId: '' },
      buttons: [{ type: 'signin', title: 'Sign in', value: '' }],
    },
  };
}

export function preconditionFailedBody(message: string): Record<string, unknown> {
  return { statusCode: 412, type: PRECONDITION_FAILED_TYPE, value: { code: '412', message } };
}

/** The SSO token a retried invoke carries (`value.authentication.token`), or null. */
export function ssoTokenOf(invokeValue: unknown): string | null {
  const auth = (invokeValue as { authentication?: { token?: unknown } } | undefined)?.authentication;
  return typeof auth?.token === 'string' && auth.token.length > 0 ? auth.token : null;
}

export interface SsoClaims {
  oid: string;
  tid: string;
  upn: string;
  /** Directory role template ids (the app registration's groupMembershipClaims must include DirectoryRole). */
  wids: string[];
  expiresAt: Date;
}

/**
 * What an SSO token says, once it is for this bot, of the clicking person, in their (allowed) tenant and still
 * valid; `expired` when Teams should be asked for a fresh one; an error otherwise.
 */
export function checkSsoToken(
  token: string,
  expect: { appId: string; actor: Actor; allowedTenants: ReadonlySet<string>; now: Date; minRemainingMs: number },
): { claims: SsoClaims } | { expired: true } | { error: OpterError } {
  const refused = (why: string) => ({ error: new OpterError('E_SIGN_IN_REFUSED', { detail: why }) });
  const c = claimsOf(token);
  if (!c) return refused('The sign-in Teams sent is not a token.');
  const audiences = Array.isArray(c.aud) ? c.aud.map(String) : [String(c.aud ?? '')];
  const appId = expect.appId.toLowerCase();
  if (!audiences.some((a) => a.toLowerCase() === resourceUriOf(appId) || a.toLowerCase() === appId)) return refused('The sign-in Teams sent is not for this bot.');
  const tid = String(c.tid ?? '').toLowerCase();
  const oid = String(c.oid ?? '').toLowerCase();
  if (!expect.allowedTenants.has(tid) || tid !== expect.actor.tenantId.toLowerCase()) return refused('The sign-in is for another tenant.');
  if (oid !== expect.actor.aadObjectId.toLowerCase()) return refused('The sign-in is not of the person who pressed the button.');
  const exp = typeof c.exp === 'number' ? c.exp : 0;
  // Too close to its end, the job's writes would outlive it: Teams is asked for a fresh token instead.
  if (exp * 1000 <= expect.now.getTime() + expect.minRemainingMs) return { expired: true };
  const upn = String(c.upn ?? c.preferred_username ?? '');
  const wids = Array.isArray(c.wids) ? c.wids.map(String) : [];
  return { claims: { oid, tid, upn, wids, expiresAt: new Date(exp * 1000) } };
}
