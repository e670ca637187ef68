/**
 * Delegated mode's gate in front of every click that leads to a tenant write (docs/delegated-mode.md):
 * Approve, Retry/Continue on a job, "Opter updated" (which removes the old secrets) and "Remove it from the app" (a
 * never revealed credential). It runs before the
 * click's own handler. Clicks the handler would refuse anyway (not an approver, own request, already decided…)
 * pass through untouched, so nobody is asked to sign in for nothing. Otherwise the click needs the clicker's
 * Teams SSO token (sso.ts); its roles (`wids`) must cover what the action writes (src/core/roles.ts) — checked
 * before anything is recorded or written —, and the token is exchanged On-Behalf-Of right away, so a refused
 * exchange shows at the click and not half-way through the job. The approver's access is then held in memory for
 * this request's next run (src/bot/delegation.ts).
 */
import { roleNeedsFor } from '../../actions/registry';
import { createApproverAccess } from '../../adapters';
import { OpterError, toOpterError } from '../../core/errors';
import { missingRoleNeeds, roleRefusal, type RoleNeed } from '../../core/roles';
import { checkIsRequester, checkMayContinue, checkMayDecide, checkMayRemoveCredential, type Actor } from '../../requests/rules';
import type { RequestRecord } from '../../store';
import type { TurnPort } from '../turn-port';
import type { BotServices } from '../types';
import { checkSsoToken, loginRequestBody, preconditionFailedBody, ssoTokenOf } from './sso';

/** The verbs whose click (may) start tenant writes, and who may press them. */
export const WRITE_VERBS = {
  approve: (actor: Actor, request: RequestRecord, s: BotServices) => checkMayDecide(actor, request, s.roles, s.clock.now()),
  resume: (actor: Actor, request: RequestRecord, s: BotServices) => checkMayContinue(actor, request, s.roles),
  'opter-updated': (actor: Actor, request: RequestRecord, s: BotServices) => checkIsRequester(actor, request, s.roles),
  'remove-credential': (actor: Actor, request: RequestRecord, s: BotServices) => checkMayRemoveCredential(actor, request, s.roles),
} as const;
export type WriteVerb = keyof typeof WRITE_VERBS;

export function isWriteVerb(verb: string): verb is WriteVerb {
  return Object.hasOwn(WRITE_VERBS, verb);
}

/** What the click writes: its request's action's needs; "Opter updated" and "Remove it" remove secrets. */
function needsOf(verb: WriteVerb, request: RequestRecord): readonly RoleNeed[] {
  return roleNeedsFor(verb === 'opter-updated' || verb === 'remove-credential' ? 'retire-secrets' : request.kind);
}

/** An invoke body to answer instead of running the handler, or null: go on (the approver's access is held). */
export type GateAnswer = { body: Record<string, unknown> } | { error: OpterError } | null;

export async function gateWrite(services: BotServices, turn: TurnPort, verb: WriteVerb, invokeValue: unknown): Promise<GateAnswer> {
  const sessions = services.delegation;
  if (!sessions) return null;
  const requestId = (turn.actionData as { requestId?: unknown } | undefined)?.requestId;
  const request = typeof requestId === 'string' ? services.store.requests.get(requestId) : null;
  const actor = turn.actor;
  // Let the handler refuse what it refuses anyway (unknown request, wrong person, decided…), and refreshes.
  if (!request || !actor || turn.isAutomaticRefresh || WRITE_VERBS[verb](actor, request, services)) return null;
  const needs = needsOf(verb, request);
  if (needs.length === 0) return null; // nothing in the tenant is written (a channel change, an adoption)

  const sso = services.config.sso ?? services.tenant.ssoApp;
  if (!sso) return { error: new OpterError('E_SIGN_IN_REFUSED', { detail: 'The bot has no SSO app configured (SSO_CLIENT_ID).' }) };
  const resource = { appId: sso.clientId, connectionName: services.config.sso?.connectionName ?? null };
  const token = ssoTokenOf(invokeValue);
  if (!token) return { body: loginRequestBody(resource) };

  const checked = checkSsoToken(token, { appId: sso.clientId, actor, allowedTenants: services.roles.allowedTenants, now: services.clock.now(), minRemainingMs: services.settings.ssoMinRemainingMs });
  if ('expired' in checked) return { body: loginRequestBody(resource, 'Your sign-in has expired: sign in again') };
  if ('error' in checked) return { error: checked.error };
  const missing = missingRoleNeeds(checked.claims.wids, needs);
  if (missing.length > 0) {
    services.log.info(`${verb} on request ${request.id} by ${actor.aadObjectId} refused before any write: missing ${missing.join(', ')}`);
    return { error: new OpterError('E_APPROVER_ROLES', { detail: roleRefusal(missing) }) };
  }

  const access = createApproverAccess(services.tenant.conn, sso, token, checked.claims.upn);
  try {
    await access.ready();
  } catch (e) {
    const err = toOpterError(e);
    services.log.warn(`the On-Behalf-Of exchange for ${actor.aadObjectId} on request ${request.id} failed: ${err.code} ${err.detail ?? ''}`);
    return { body: preconditionFailedBody(err.summary) };
  }
  sessions.hold(request.id, { directory: access.directory, exchange: access.exchange, approver: { aadObjectId: actor.aadObjectId, upn: checked.claims.upn || null } });
  return null;
}
