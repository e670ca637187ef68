/**
 * Entra app management policies as far as client secrets go (docs/simulator.md, "App management policies"):
 * the tenant default policy (`policies/defaultAppManagementPolicy`, disabled by default) and per-app policies
 * (`policies/appManagementPolicies`, at most one assigned to an app, which then does NOT inherit the default).
 * A restriction applies to apps created on or after its `restrictForAppsCreatedAfterDateTime`.
 * Source: https://learn.microsoft.com/graph/api/resources/applicationauthenticationmethodpolicy
 */
import { parseIsoDurationMs } from './faults';
import type { SimContext } from './http';
import type { AppRecord } from './tenant';

export const DEFAULT_POLICY_ID = '00000000-0000-0000-0000-000000000000';
/** The date the portal and Microsoft's examples use when a restriction should cover every app. */
const ALL_APPS = '2014-10-19T10:37:00Z';
const RESTRICTION_TYPES = ['passwordAddition', 'passwordLifetime', 'customPasswordAddition', 'symmetricKeyAddition', 'symmetricKeyLifetime'];

export interface PasswordRestrictionRecord {
  restrictionType: string;
  state: 'enabled' | 'disabled';
  maxLifetime: string | null;
  restrictForAppsCreatedAfterDateTime: string | null;
}

export interface AppPolicyRecord {
  id: string;
  displayName: string;
  description: string;
  isEnabled: boolean;
  passwordCredentials: PasswordRestrictionRecord[];
}

/** What governs new secrets on an app: its own policy if one is assigned, else the tenant default. */
export interface GoverningPolicy {
  id: string;
  source: 'tenant-default' | 'app';
  isEnabled: boolean;
  passwordCredentials: PasswordRestrictionRecord[];
}

/** The tenant default: what PATCH stored, plus the `maxPasswordLifetime` / `blockPasswordAddition` faults. */
export function tenantDefaultPolicy(ctx: SimContext): GoverningPolicy {
  const stored = ctx.store.state.defaultAppManagementPolicy;
  const f = ctx.faults.get();
  const restrictions = [...(stored?.passwordCredentials ?? [])];
  if (f.blockPasswordAddition) {
    restrictions.push({ restrictionType: 'passwordAddition', state: 'enabled', maxLifetime: null, restrictForAppsCreatedAfterDateTime: f.blockPasswordAddition.restrictForAppsCreatedAfterDateTime ?? ALL_APPS });
  }
  if (f.maxPasswordLifetime) {
    restrictions.push({ restrictionType: 'passwordLifetime', state: 'enabled', maxLifetime: f.maxPasswordLifetime, restrictForAppsCreatedAfterDateTime: ALL_APPS });
  }
  const faulted = !!f.blockPasswordAddition || !!f.maxPasswordLifetime;
  return { id: DEFAULT_POLICY_ID, source: 'tenant-default', isEnabled: faulted || !!stored?.isEnabled, passwordCredentials: restrictions };
}

export function governingPolicy(ctx: SimContext, app: AppRecord): GoverningPolicy {
  const own = app.appManagementPolicyId ? (ctx.store.state.appManagementPolicies ?? []).find((p) => p.id === app.appManagementPolicyId) : undefined;
  if (own) return { id: own.id, source: 'app', isEnabled: own.isEnabled, passwordCredentials: own.passwordCredentials };
  return tenantDefaultPolicy(ctx);
}

/** The enabled restrictions of the governing policy that cover this app (by its creation date). */
export function restrictionsFor(ctx: SimContext, app: AppRecord): { policyId: string; restrictions: PasswordRestrictionRecord[] } {
  const policy = governingPolicy(ctx, app);
  if (!policy.isEnabled) return { policyId: policy.id, restrictions: [] };
  const created = Date.parse(app.createdDateTime);
  const restrictions = policy.passwordCredentials.filter(
    (r) => r.state !== 'disabled' && (r.restrictForAppsCreatedAfterDateTime === null || created >= Date.parse(r.restrictForAppsCreatedAfterDateTime)),
  );
  return { policyId: policy.id, restrictions };
}

/** `passwordCredentialConfiguration[]` from a request body, or a description of what is wrong with it. */
export function parseRestrictions(input: unknown): PasswordRestrictionRecord[] | string {
  if (input === undefined || input === null) return [];
  if (!Array.isArray(input)) return 'passwordCredentials must be an array';
  const out: PasswordRestrictionRecord[] = [];
  for (const raw of input) {
    const r = (raw ?? {}) as Record<string, unknown>;
    if (typeof r.restrictionType !== 'string' || !RESTRICTION_TYPES.includes(r.restrictionType)) return "Invalid value specified for property 'restrictionType' of resource 'PasswordCredentialConfiguration'.";
    const maxLifetime = typeof r.maxLifetime === 'string' ? r.maxLifetime : null;
    if (maxLifetime !== null && parseIsoDurationMs(maxLifetime) === null) return "Invalid value specified for property 'maxLifetime' of resource 'PasswordCredentialConfiguration'.";
    const after = typeof r.restrictForAppsCreatedAfterDateTime === 'string' ? r.restrictForAppsCreatedAfterDateTime : null;
    if (after !== null && Number.isNaN(Date.parse(after))) return "Invalid value specified for property 'restrictForAppsCreatedAfterDateTime' of resource 'PasswordCredentialConfiguration'.";
    out.push({ restrictionType: r.restrictionType, state: r.state === 'disabled' ? 'disabled' : 'enabled', maxLifetime, restrictForAppsCreatedAfterDateTime: after });
  }
  return out;
}

export function restrictionJson(r: PasswordRestrictionRecord): Record<string, unknown> {
  return { restrictionType: r.restrictionType, state: r.state, maxLifetime: r.maxLifetime, restrictForAppsCreatedAfterDateTime: r.restrictForAppsCreatedAfterDateTime };
}

export function appPolicyJson(p: AppPolicyRecord): Record<string, unknown> {
  return {
    id: p.id,
    displayName: p.displayName,
    description: p.description,
    isEnabled: p.isEnabled,
    restrictions: { passwordCredentials: p.passwordCredentials.map(restrictionJson), keyCredentials: [] },
  };
}
