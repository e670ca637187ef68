import { mulberry32 } from './ids';

export type SimFamily = 'token' | 'graph' | 'exchange';

export interface SimFaults {
  latencyMs: number;
  replicationDelayMs: number;
  secretActivationDelayMs: number;
  throttle: null | { every?: number; share?: number; retryAfterSeconds: number; families?: SimFamily[] };
  unavailable: null | { share?: number; untilEpochMs?: number; families?: SimFamily[] };
  dropConnections: null | { share: number; families?: SimFamily[] };
  revokedPermissions: string[];
  /**
   * Tenant app-management policy: maximum client-secret lifetime as an ISO-8601 duration (e.g. "P90D"), or null
   * for no restriction (the default policy is disabled in new tenants). Read through
   * `GET /policies/defaultAppManagementPolicy`; enforced by addPassword.
   */
  maxPasswordLifetime?: string | null;
  /**
   * How long a new Application Access Policy takes to be enforced by Graph sendMail (Test-ApplicationAccessPolicy
   * reflects it at once). Microsoft: "can take longer than 1 hour" [DOC G11]. Default 0.
   */
  policyPropagationDelayMs?: number;
  /**
   * How long a new RBAC-for-Applications role assignment takes to be enforced by Graph sendMail: Exchange caches
   * app permissions for 30 minutes to 2 hours [R2 as quoted, docs/microsoft-facts.md §9.5]. Test-ServicePrincipalAuthorization
   * reads the configuration and shows it at once. Default 0. (Removals take effect at once: the conservative side.)
   */
  rbacPropagationDelayMs?: number;
  /**
   * Which fields of `Get-ManagementRoleAssignment` name a service principal assignee (docs/simulator.md, "RBAC for
   * Applications"). Public scripts disagree, so the simulator can answer in each shape:
   * - `pointer-name` (default, the widely observed one): `RoleAssignee` = the Entra service principal's object id
   *   (Microsoft's Get-EwsSignIns.ps1 matches it against Graph `servicePrincipal.id`), `RoleAssigneeName` = the
   *   pointer's DisplayName (EXORBACforAppManagement and other scripts compare it with Get-ServicePrincipal
   *   DisplayName);
   * - `object-id`: both fields carry the object id (what this simulator answered before);
   * - `name-only`: both carry the pointer's DisplayName.
   */
  roleAssigneeShape?: RoleAssigneeShape;
  /**
   * What `POST`/upsert of a service principal answers while its app is still replicating: `no-backing-app` (default)
   * 400 `NoBackingApplicationObject` [OBS Q1], or `backing-app-not-local` 403 `Authorization_RequestDenied` "When
   * using this permission, the backing application of the service principal being created must in the local
   * tenant", which azure-cli also retries as replication (docs/simulator.md).
   */
  servicePrincipalReplicationAnswer?: ServicePrincipalReplicationAnswer;
  /**
   * The write is done, then the answer is a 503 (or 504) anyway, as a gateway timing out after the service committed
   * would answer: the client cannot tell that it succeeded. `times` upcoming matching calls (default: every one).
   * Only `addPassword` for now — the one non-idempotent call whose repeat leaves an unrecorded secret.
   */
  failAfterCommit?: null | { operation: AfterCommitOperation; status?: 503 | 504; times?: number };
  /**
   * Host name put into Exchange `@odata.nextLink`s instead of the listener's own (same scheme and port), as Exchange
   * Online pages from outlook.office365.com to outlook.office.com. `localhost` reaches the same listener; null = own.
   */
  exchangeNextLinkHost?: string | null;
  /**
   * Tenant app-management policy: a `passwordAddition` restriction (client secrets blocked altogether) for apps
   * created on or after the date (default: all apps). Shown by `defaultAppManagementPolicy`, enforced by addPassword
   * unless the app has its own policy. Default null.
   */
  blockPasswordAddition?: null | { restrictForAppsCreatedAfterDateTime?: string };
  /**
   * HTTP status of addPassword's app-policy refusals (`CredentialTypeNotAllowedAsPerAppPolicy`,
   * `CredentialInvalidLifetimeAsPerAppPolicy`): 400 as Microsoft's Teams Toolkit handles them, or 403 (the status is
   * not documented). Default 400.
   */
  appPolicyRefusalStatus?: 400 | 403;
}

export const AFTER_COMMIT_OPERATIONS = ['addPassword'] as const;
export type AfterCommitOperation = (typeof AFTER_COMMIT_OPERATIONS)[number];

export const SERVICE_PRINCIPAL_REPLICATION_ANSWERS = ['no-backing-app', 'backing-app-not-local'] as const;
export type ServicePrincipalReplicationAnswer = (typeof SERVICE_PRINCIPAL_REPLICATION_ANSWERS)[number];

export const ROLE_ASSIGNEE_SHAPES = ['pointer-name', 'object-id', 'name-only'] as const;
export type RoleAssigneeShape = (typeof ROLE_ASSIGNEE_SHAPES)[number];

export const NO_FAULTS: SimFaults = {
  latencyMs: 0,
  replicationDelayMs: 0,
  secretActivationDelayMs: 0,
  throttle: null,
  unavailable: null,
  dropConnections: null,
  revokedPermissions: [],
  maxPasswordLifetime: null,
  policyPropagationDelayMs: 0,
  rbacPropagationDelayMs: 0,
  roleAssigneeShape: 'pointer-name',
  servicePrincipalReplicationAnswer: 'no-backing-app',
  failAfterCommit: null,
  exchangeNextLinkHost: null,
  blockPasswordAddition: null,
  appPolicyRefusalStatus: 400,
};

export type FaultDecision = { kind: 'drop' } | { kind: 'unavailable' } | { kind: 'throttle'; retryAfterSeconds: number } | null;

const applies = (families: SimFamily[] | undefined, f: SimFamily) => !families || families.length === 0 || families.includes(f);

const FAULT_KEYS = Object.keys(NO_FAULTS) as (keyof SimFaults)[];

export function validateFaults(p: unknown): Partial<SimFaults> {
  if (!p || typeof p !== 'object' || Array.isArray(p)) throw new Error('faults must be a JSON object');
  for (const k of Object.keys(p)) if (!FAULT_KEYS.includes(k as keyof SimFaults)) throw new Error(`unknown fault "${k}"`);
  const f = p as Partial<SimFaults>;
  for (const k of ['latencyMs', 'replicationDelayMs', 'secretActivationDelayMs', 'policyPropagationDelayMs', 'rbacPropagationDelayMs'] as const) {
    if (f[k] !== undefined && (typeof f[k] !== 'number' || !(f[k]! >= 0))) throw new Error(`${k} must be a number >= 0`);
  }
  if (f.revokedPermissions !== undefined && (!Array.isArray(f.revokedPermissions) || f.revokedPermissions.some((x) => typeof x !== 'string'))) {
    throw new Error('revokedPermissions must be an array of strings');
  }
  if (f.throttle && !(typeof f.throttle.retryAfterSeconds === 'number' && f.throttle.retryAfterSeconds >= 0)) {
    throw new Error('throttle.retryAfterSeconds must be a number >= 0');
  }
  if (f.throttle && f.throttle.every !== undefined && !(Number.isInteger(f.throttle.every) && f.throttle.every >= 1)) {
    throw new Error('throttle.every must be an integer >= 1');
  }
  if (f.dropConnections && typeof f.dropConnections.share !== 'number') throw new Error('dropConnections.share must be a number');
  if (f.roleAssigneeShape !== undefined && !ROLE_ASSIGNEE_SHAPES.includes(f.roleAssigneeShape)) {
    throw new Error(`roleAssigneeShape must be one of ${ROLE_ASSIGNEE_SHAPES.join(', ')}`);
  }
  if (f.servicePrincipalReplicationAnswer !== undefined && !SERVICE_PRINCIPAL_REPLICATION_ANSWERS.includes(f.servicePrincipalReplicationAnswer)) {
    throw new Error(`servicePrincipalReplicationAnswer must be one of ${SERVICE_PRINCIPAL_REPLICATION_ANSWERS.join(', ')}`);
  }
  if (f.failAfterCommit) {
    const a = f.failAfterCommit;
    if (!AFTER_COMMIT_OPERATIONS.includes(a.operation)) throw new Error(`failAfterCommit.operation must be one of ${AFTER_COMMIT_OPERATIONS.join(', ')}`);
    if (a.status !== undefined && a.status !== 503 && a.status !== 504) throw new Error('failAfterCommit.status must be 503 or 504');
    if (a.times !== undefined && !(Number.isInteger(a.times) && a.times >= 1)) throw new Error('failAfterCommit.times must be an integer >= 1');
  }
  if (f.exchangeNextLinkHost !== undefined && f.exchangeNextLinkHost !== null && !/^[a-z0-9.-]+$/i.test(f.exchangeNextLinkHost)) {
    throw new Error('exchangeNextLinkHost must be a host name');
  }
  if (f.blockPasswordAddition) {
    const after = f.blockPasswordAddition.restrictForAppsCreatedAfterDateTime;
    if (after !== undefined && Number.isNaN(Date.parse(after))) throw new Error('blockPasswordAddition.restrictForAppsCreatedAfterDateTime must be a date-time');
  }
  if (f.appPolicyRefusalStatus !== undefined && f.appPolicyRefusalStatus !== 400 && f.appPolicyRefusalStatus !== 403) throw new Error('appPolicyRefusalStatus must be 400 or 403');
  if (f.maxPasswordLifetime !== undefined && f.maxPasswordLifetime !== null && parseIsoDurationMs(f.maxPasswordLifetime) === null) {
    throw new Error('maxPasswordLifetime must be an ISO-8601 duration such as "P90D"');
  }
  return f;
}

/** Days/hours/minutes/seconds durations ("P1Y" counted as 365 days, "P1M" as 30), or null if unparsable. */
export function parseIsoDurationMs(s: string): number | null {
  const m = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(s);
  if (!m || s === 'P' || s.endsWith('T')) return null;
  const [, y, mo, w, d, h, mi, sec] = m;
  const days = Number(y ?? 0) * 365 + Number(mo ?? 0) * 30 + Number(w ?? 0) * 7 + Number(d ?? 0);
  return ((days * 24 + Number(h ?? 0)) * 60 + Number(mi ?? 0)) * 60_000 + Number(sec ?? 0) * 1000;
}

export class FaultEngine {
  private current: SimFaults;
  private rng: () => number;
  private throttleCount = 0;

  constructor(initial: Partial<SimFaults>, seed: number) {
    this.current = { ...NO_FAULTS, ...validateFaults(initial) };
    this.rng = mulberry32(seed);
  }

  get(): SimFaults {
    return structuredClone(this.current);
  }

  set(p: Partial<SimFaults>): void {
    const v = validateFaults(p);
    if ('throttle' in v) this.throttleCount = 0;
    this.current = { ...this.current, ...v };
  }

  replace(all: Partial<SimFaults>): void {
    this.current = { ...NO_FAULTS, ...validateFaults(all) };
    this.throttleCount = 0;
  }

  /** After a committed write of this kind: the server error to answer instead of its success, or null. */
  afterCommit(operation: AfterCommitOperation): 503 | 504 | null {
    const f = this.current.failAfterCommit;
    if (!f || f.operation !== operation) return null;
    if (f.times !== undefined) this.current.failAfterCommit = f.times > 1 ? { ...f, times: f.times - 1 } : null;
    return f.status ?? 503;
  }

  /** Decides the fate of one request; called exactly once per request of a family. */
  decide(family: SimFamily, nowMs = Date.now()): FaultDecision {
    const { dropConnections, unavailable, throttle } = this.current;
    if (dropConnections && applies(dropConnections.families, family) && this.rng() < dropConnections.share) return { kind: 'drop' };
    if (unavailable && applies(unavailable.families, family)) {
      // An elapsed window ends the outage; inside it (or without one) `share` thins it out, else every call fails.
      const windowOver = unavailable.untilEpochMs !== undefined && nowMs >= unavailable.untilEpochMs;
      if (!windowOver && (unavailable.share === undefined || this.rng() < unavailable.share)) return { kind: 'unavailable' };
    }
    if (throttle && applies(throttle.families, family)) {
      this.throttleCount++;
      const byCount = throttle.every !== undefined && this.throttleCount % throttle.every === 0;
      const byShare = throttle.share !== undefined && this.rng() < throttle.share;
      const always = throttle.every === undefined && throttle.share === undefined;
      if (byCount || byShare || always) return { kind: 'throttle', retryAfterSeconds: throttle.retryAfterSeconds };
    }
    return null;
  }
}
