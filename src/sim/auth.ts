/** Bearer-token validation shared by Graph and Exchange, including the "revoked permission" fault. */
import { DIRECTORY_ROLES, EXCHANGE_APP_ID, EXCHANGE_MANAGEMENT_ROLES, GRAPH_APP_ID } from './catalog';
import { header, type SimContext, type SimRequest } from './http';
import { verifyJwt } from './jwt';

export type Resource = 'graph' | 'exchange';

export interface Caller {
  appId: string;
  servicePrincipalId: string;
  tenantId: string;
  /** Application roles from the token, minus any revoked by the fault (provisioning identity only). */
  roles: Set<string>;
  /** Directory role template ids from the token's `wids`, minus revoked ones (a user's own roles in user tokens). */
  directoryRoles: Set<string>;
  /** `app` for client-credentials tokens; `user` for delegated (OBO) tokens, which carry `scp` and never `roles`. */
  kind: 'app' | 'user';
  /** Delegated scopes (`scp`); empty for app tokens. */
  scopes: Set<string>;
  /** The signed-in user of a delegated token. */
  user?: { id: string; upn: string };
}

export type AuthFailure = 'missing' | 'malformed' | 'signature' | 'expired' | 'audience' | 'tenant';
export type AuthResult = { ok: true; caller: Caller } | { ok: false; failure: AuthFailure };

/** Which resource an access token audience (or a scope's resource part) denotes, given the simulator's origins. */
export function resourceForAudience(ctx: SimContext, aud: string): Resource | null {
  const a = aud.replace(/\/+$/, '').toLowerCase();
  const local = (origin: string) => [origin.toLowerCase(), origin.toLowerCase().replace('://127.0.0.1:', '://localhost:')];
  if (local(ctx.origins.graph).includes(a) || a === 'https://graph.microsoft.com' || a === GRAPH_APP_ID) return 'graph';
  if (
    local(ctx.origins.exchange).includes(a) ||
    a === 'https://outlook.office365.com' ||
    a === 'https://outlook.office.com' ||
    a === EXCHANGE_APP_ID
  ) {
    return 'exchange';
  }
  return null;
}

/**
 * Permissions named in `revokedPermissions` stop working for the provisioning identity immediately — also for
 * tokens it already holds (real Entra only changes new tokens; tests should not have to wait for expiry). A name
 * is an application role, an Entra directory role, or an Exchange management role (its cmdlets are hidden).
 */
export function revokedFor(ctx: SimContext, appId: string): { roles: Set<string>; directoryRoles: Set<string>; exchangeCmdlets: Set<string> } {
  const roles = new Set<string>();
  const directoryRoles = new Set<string>();
  const exchangeCmdlets = new Set<string>();
  if (appId !== ctx.provisioningAppId) return { roles, directoryRoles, exchangeCmdlets };
  for (const p of ctx.faults.get().revokedPermissions) {
    const templateId = (DIRECTORY_ROLES as Record<string, string>)[p];
    const cmdlets = EXCHANGE_MANAGEMENT_ROLES[p];
    if (templateId) directoryRoles.add(templateId);
    else if (cmdlets) for (const c of cmdlets) exchangeCmdlets.add(c.toLowerCase());
    else roles.add(p);
  }
  return { roles, directoryRoles, exchangeCmdlets };
}

export function authenticate(ctx: SimContext, req: SimRequest, resource: Resource): AuthResult {
  const auth = header(req, 'authorization');
  if (!auth || !/^bearer\s+\S/i.test(auth)) return { ok: false, failure: 'missing' };
  const token = auth.replace(/^bearer\s+/i, '').trim();
  const v = verifyJwt(ctx.signingKey, token);
  if (!v.ok) return { ok: false, failure: v.reason === 'notYetValid' ? 'expired' : v.reason };
  const c = v.claims;
  if (typeof c.aud !== 'string' || resourceForAudience(ctx, c.aud) !== resource) return { ok: false, failure: 'audience' };
  if (c.tid !== ctx.store.state.tenantId) return { ok: false, failure: 'tenant' };
  const appId = String(c.appid ?? '');
  if (c.idtyp === 'user' || typeof c.scp === 'string') {
    // Delegated: the user's roles come from the token like an app's; the revokedPermissions fault is app-only.
    const user = { id: String(c.oid ?? ''), upn: String(c.upn ?? '') };
    req.principal = { token: 'user', id: user.id, upn: user.upn };
    return {
      ok: true,
      caller: {
        appId,
        servicePrincipalId: '',
        tenantId: String(c.tid),
        roles: new Set(),
        directoryRoles: new Set((Array.isArray(c.wids) ? c.wids : []).map(String)),
        kind: 'user',
        scopes: new Set(String(c.scp ?? '').split(' ').filter(Boolean)),
        user,
      },
    };
  }
  const revoked = revokedFor(ctx, appId);
  const roles = new Set((Array.isArray(c.roles) ? c.roles : []).map(String).filter((r) => !revoked.roles.has(r)));
  const directoryRoles = new Set((Array.isArray(c.wids) ? c.wids : []).map(String).filter((r) => !revoked.directoryRoles.has(r)));
  req.principal = { token: 'app', id: appId };
  return { ok: true, caller: { appId, servicePrincipalId: String(c.oid ?? ''), tenantId: String(c.tid), roles, directoryRoles, kind: 'app', scopes: new Set() } };
}
