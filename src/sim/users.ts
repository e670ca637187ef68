/**
 * Signed-in people of the simulated tenant: users with directory roles, the client app that acts for them, and
 * the Teams SSO token the Teams client hands a bot (docs/simulator.md, "Delegated (user) tokens").
 */
import { TEAMS_CLIENT_IDS } from './catalog';
import type { SimContext } from './http';
import { derivedGuid, hashSecret, isGuid, newGuid, newSalt, newSecretText } from './ids';
import { signJwt } from './jwt';
import type { AppRecord, SpRecord, TenantState, UserRecord } from './tenant';

export interface UserSpec {
  userPrincipalName: string;
  displayName?: string;
  roles?: string[];
  id?: string;
}

/** Adds the user, or gives an existing one (same UPN) these roles and name. Ids are stable per tenant and UPN. */
export function upsertUser(state: TenantState, spec: UserSpec): { id: string; userPrincipalName: string; displayName: string; roles: string[] } {
  const upn = String(spec.userPrincipalName ?? '').trim();
  if (!/^[^@\s]+@[^@\s]+$/.test(upn)) throw new Error('userPrincipalName must look like name@domain');
  const roles = (spec.roles ?? []).map((r) => String(r).toLowerCase());
  if (roles.some((r) => !isGuid(r))) throw new Error('roles are directory role template ids (GUIDs)');
  let user: UserRecord | undefined = state.users.find((u) => u.userPrincipalName.toLowerCase() === upn.toLowerCase());
  if (!user) {
    const id = spec.id ? spec.id.toLowerCase() : derivedGuid(state.tenantId, `user:upn:${upn.toLowerCase()}`);
    if (!isGuid(id)) throw new Error('id must be a GUID');
    user = { id, userPrincipalName: upn, displayName: spec.displayName ?? upn.split('@')[0]!, mail: null };
    state.users.push(user);
  } else if (spec.displayName) user.displayName = spec.displayName;
  user.directoryRoles = roles;
  return { id: user.id, userPrincipalName: user.userPrincipalName, displayName: user.displayName, roles };
}

/** An app registration with a service principal and a working client secret (no replication delay). */
export function registerClientApp(ctx: SimContext, p: { displayName: string; appId?: string }): { clientId: string; clientSecret: string } {
  const st = ctx.store.state;
  const appId = (p.appId ?? newGuid()).toLowerCase();
  if (!isGuid(appId)) throw new Error('appId must be a GUID');
  if (st.applications.some((a) => a.appId === appId)) throw new Error(`an application with appId ${appId} already exists`);
  const secret = newSecretText();
  const salt = newSalt();
  const created = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const app: AppRecord = {
    id: newGuid(),
    appId,
    createdDateTime: created,
    visibleAtMs: 0,
    props: { displayName: p.displayName, signInAudience: 'AzureADMyOrg', uniqueName: null, identifierUris: [`api://botid-${appId}`] },
    passwords: [
      { keyId: newGuid(), displayName: 'simulator client secret', hint: secret.slice(0, 3), startDateTime: created, endDateTime: '2099-12-31T00:00:00Z', salt, hash: hashSecret(secret, salt), activeAtMs: 0 },
    ],
    keys: [],
  };
  const sp: SpRecord = {
    id: newGuid(),
    appId,
    createdDateTime: created,
    visibleAtMs: 0,
    appDisplayName: p.displayName,
    appOwnerOrganizationId: st.tenantId,
    appRoles: [],
    props: { displayName: p.displayName, servicePrincipalNames: [appId], tags: [] },
  };
  st.applications.push(app);
  st.servicePrincipals.push(sp);
  ctx.store.commit();
  return { clientId: appId, clientSecret: secret };
}

/**
 * The token Teams gives a bot for SSO (Universal Actions): aud = `api://botid-<bot id>` (or the bot id),
 * scp = access_as_user, azp = the Teams client. It is the OBO assertion; Graph and Exchange refuse it (wrong aud).
 */
export function teamsSsoToken(
  ctx: SimContext,
  who: string,
  opts: { botAppId: string; expiresInSec?: number; audience?: 'uri' | 'id'; client?: keyof typeof TEAMS_CLIENT_IDS },
): string {
  const st = ctx.store.state;
  const w = who.toLowerCase();
  const user = st.users.find((u) => u.id === w || u.userPrincipalName.toLowerCase() === w);
  if (!user) throw new Error(`no user ${who} in the simulated tenant`);
  if (!opts.botAppId) throw new Error('botAppId is required');
  const iat = Math.floor(Date.now() / 1000);
  const azp = TEAMS_CLIENT_IDS[opts.client ?? 'desktop'];
  return signJwt(ctx.signingKey, {
    aud: opts.audience === 'id' ? opts.botAppId : `api://botid-${opts.botAppId}`,
    iss: `${ctx.origins.authority}/${st.tenantId}/v2.0`,
    iat,
    nbf: Math.min(iat, iat + (opts.expiresInSec ?? 3600) - 1),
    exp: iat + (opts.expiresInSec ?? 3600),
    aio: Buffer.from(newGuid()).toString('base64').slice(0, 40),
    azp,
    azpacr: '0',
    name: user.displayName,
    oid: user.id,
    preferred_username: user.userPrincipalName,
    rh: '0.AAAA.',
    scp: 'access_as_user',
    sub: Buffer.from(`${azp}:${user.id}`).toString('base64url').slice(0, 43),
    tid: st.tenantId,
    upn: user.userPrincipalName,
    uti: Buffer.from(newGuid()).toString('base64url').slice(0, 22),
    ver: '2.0',
    // The directory roles of the user, as a bot app registered with `groupMembershipClaims: "DirectoryRole"` gets
    // them (learn.microsoft.com entra identity-platform access-token-claims-reference, `wids`); the bot checks them.
    ...(user.directoryRoles?.length ? { wids: [...user.directoryRoles] } : {}),
  });
}
