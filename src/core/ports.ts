/**
 * Ports: what the pure core needs from the outside world. The core imports no SDK; adapters in src/adapters
 * implement these against Microsoft Graph (@microsoft/microsoft-graph-client + @azure/identity) and the Exchange
 * Online InvokeCommand REST channel. Adapters translate SDK shapes into these types and every failure into an
 * OpterError from src/core/errors.ts (transient ones flagged `transient: true`, with `retryAfterMs`/`retryReason`).
 *
 * Conventions:
 * - "get…"/"find…" return null / [] for "does not exist"; they never throw for a 404.
 * - Writes that can report "already there" return a discriminated result instead of throwing.
 * - Nothing here ever carries a client secret except NewPassword.secretText and the verify helpers' inputs.
 */

export interface Clock {
  now(): Date;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

// ---------------------------------------------------------------------------------------------------------------
// Directory (Microsoft Graph)
// ---------------------------------------------------------------------------------------------------------------

export interface PasswordCredentialInfo {
  keyId: string;
  displayName: string | null;
  startDateTime: string;
  endDateTime: string;
  hint: string | null;
}

export interface NewPassword extends PasswordCredentialInfo {
  /** Returned once by addPassword. Encrypt or drop immediately; never log. */
  secretText: string;
}

export interface Application {
  id: string; // object id
  appId: string; // client id
  displayName: string;
  uniqueName: string | null;
  signInAudience: string;
  passwordCredentials: PasswordCredentialInfo[];
  /** When the app was created: app management policy restrictions apply by this date. Null when not read. */
  createdDateTime?: string | null;
}

/** One `passwordCredentialConfiguration` of an app management policy (docs/permissions.md, "Tenants that forbid client secrets"). */
export interface PasswordCredentialRestriction {
  /** `passwordAddition` (no secrets at all), `passwordLifetime` (capped), `customPasswordAddition`, … */
  restrictionType: string;
  enabled: boolean;
  /** ISO-8601 duration for lifetime restrictions, else null. */
  maxLifetime: string | null;
  /** The restriction covers apps created on or after this moment; null = all apps. */
  restrictForAppsCreatedAfter: string | null;
}

/**
 * The app management policy that governs new client secrets on an app: the policy assigned to the app (which then
 * replaces the tenant default entirely), else the tenant default policy.
 */
export interface AppManagementPolicy {
  source: 'tenant-default' | 'app';
  id: string;
  displayName: string;
  isEnabled: boolean;
  passwordCredentials: PasswordCredentialRestriction[];
}

export interface AppRole {
  id: string;
  value: string | null;
  allowedMemberTypes: string[];
  isEnabled: boolean;
  displayName: string | null;
}

export interface ServicePrincipal {
  id: string;
  appId: string;
  displayName: string;
  appRoles: AppRole[];
}

export interface AppRoleAssignment {
  id: string;
  principalId: string;
  resourceId: string;
  appRoleId: string;
}

export type UpsertResult<T> = { created: true; value: T } | { created: false };

export interface DirectoryPort {
  /** The tenant the provisioning identity signs in to (GUID). */
  readonly tenantId: string;

  /** `PATCH /applications(uniqueName='…')` + `Prefer: create-if-missing`: 201 with body → created, 204 → exists. */
  upsertApplicationByUniqueName(uniqueName: string, body: { displayName: string; signInAudience: string }): Promise<UpsertResult<Application>>;
  /** `GET /applications?$filter=displayName eq '…'` (quotes doubled, then percent-encoded). */
  findApplicationsByDisplayName(displayName: string): Promise<Application[]>;
  getApplication(objectId: string): Promise<Application | null>;
  getApplicationByAppId(appId: string): Promise<Application | null>;
  deleteApplication(objectId: string): Promise<void>;

  /** `PATCH /servicePrincipals(appId='…')` + `Prefer: create-if-missing`. */
  upsertServicePrincipal(appId: string): Promise<UpsertResult<ServicePrincipal>>;
  getServicePrincipalByAppId(appId: string): Promise<ServicePrincipal | null>;

  /** Assignments the principal holds (`GET /servicePrincipals/{id}/appRoleAssignments`). */
  listAppRoleAssignments(principalId: string): Promise<AppRoleAssignment[]>;
  /** `POST /servicePrincipals/{resourceId}/appRoleAssignedTo`; the documented duplicate 400 → { created: false }. */
  assignAppRole(a: { principalId: string; resourceId: string; appRoleId: string }): Promise<UpsertResult<AppRoleAssignment>>;
  removeAppRoleAssignment(principalId: string, assignmentId: string): Promise<void>;

  addPassword(appObjectId: string, credential: { displayName: string; endDateTime: string }): Promise<NewPassword>;
  /** Idempotent: removing a keyId that is already gone is a success. */
  removePassword(appObjectId: string, keyId: string): Promise<void>;

  /** Max client-secret lifetime from `GET /policies/defaultAppManagementPolicy` (ISO-8601 duration) or null. */
  getMaxPasswordLifetime(): Promise<string | null>;
  /**
   * The whole policy that governs new secrets: `GET /applications/{id}/appManagementPolicies` when an app is given
   * and has one, else `GET /policies/defaultAppManagementPolicy`.
   */
  getSecretPolicy(appObjectId?: string): Promise<AppManagementPolicy>;
}

/** Acts as the *new* app (client credentials with its own secret): proves the secret and the grants work. */
export interface AppSignInPort {
  /** Acquire a Graph token as clientId/secret. Resolves with the token's roles; throws OpterError (transient while the secret propagates). */
  acquireGraphToken(clientId: string, secret: string): Promise<{ roles: string[] }>;
  /** POST /users/{from}/sendMail as the app; resolves on 202. */
  sendMail(clientId: string, secret: string, mail: { from: string; to: string; subject: string; body: string }): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------------
// Exchange Online (InvokeCommand)
// ---------------------------------------------------------------------------------------------------------------

export interface AcceptedDomain {
  domainName: string;
  isDefault: boolean;
}

export interface Recipient {
  identity: string;
  primarySmtpAddress: string;
  /** e.g. UserMailbox, SharedMailbox, MailUniversalSecurityGroup, MailUniversalDistributionGroup, MailContact. */
  recipientTypeDetails: string;
  externalDirectoryObjectId: string | null;
  displayName: string;
}

export interface DistributionGroup {
  identity: string;
  name: string;
  displayName: string;
  alias: string;
  primarySmtpAddress: string;
  /** MailUniversalSecurityGroup for `-Type Security`. */
  recipientTypeDetails: string;
  externalDirectoryObjectId: string | null;
  guid: string;
}

export interface AccessPolicy {
  identity: string;
  appId: string;
  scopeName: string;
  scopeIdentity: string;
  accessRight: 'RestrictAccess' | 'DenyAccess';
  description: string;
}

export type AccessCheck = 'Granted' | 'Denied';

export interface ExchangePort {
  getAcceptedDomains(): Promise<AcceptedDomain[]>;
  getRecipient(identity: string): Promise<Recipient | null>;

  getDistributionGroup(identity: string): Promise<DistributionGroup | null>;
  newDistributionGroup(p: { name: string; alias: string; members: string[] }): Promise<DistributionGroup>;
  getDistributionGroupMembers(identity: string): Promise<Recipient[]>;
  /** Always sends BypassSecurityGroupManagerCheck; MemberAlreadyExistsException → { created: false }. */
  addDistributionGroupMember(group: string, member: string): Promise<{ created: boolean }>;
  removeDistributionGroupMember(group: string, member: string): Promise<{ removed: boolean }>;

  getApplicationAccessPolicies(): Promise<AccessPolicy[]>;
  newApplicationAccessPolicy(p: {
    appId: string;
    policyScopeGroupId: string;
    accessRight: 'RestrictAccess' | 'DenyAccess';
    description: string;
  }): Promise<AccessPolicy>;
  removeApplicationAccessPolicy(identity: string): Promise<void>;
  testApplicationAccessPolicy(appId: string, identity: string): Promise<AccessCheck>;
}

// ---------------------------------------------------------------------------------------------------------------
// Exchange Online: RBAC for Applications, organization customization, inventory (issue 6)
// ---------------------------------------------------------------------------------------------------------------

/** `Get-OrganizationConfig` (the fields the lifecycle needs). */
export interface OrganizationConfig {
  name: string;
  /** True until `Enable-OrganizationCustomization` has taken effect; RBAC objects cannot be created before that. */
  isDehydrated: boolean;
}

/** The Exchange service principal *pointer* (`New-ServicePrincipal`) to an Entra service principal. */
export interface ExchangeServicePrincipal {
  identity: string;
  appId: string;
  /** The Entra service principal's object id. */
  objectId: string;
  displayName: string;
}

/** A management role assignment as `Get-ManagementRoleAssignment` shows it. */
export interface ManagementRoleAssignment {
  name: string;
  identity: string;
  role: string;
  /** `ServicePrincipal` for assignments made with `-App`. */
  roleAssigneeType: string;
  /**
   * The assignee's identity as Exchange reports it in `RoleAssignee` (for an app: the Entra service principal's
   * object id, as Microsoft's own scripts read it; docs/simulator.md "RBAC for Applications"). Empty when absent.
   */
  roleAssignee: string;
  /** `RoleAssigneeName`: for an app usually the pointer's DisplayName, not an identity. */
  roleAssigneeName: string;
  /** Group scope (`-RecipientGroupScope`), parsed from CustomResourceScope `<GroupName>_<GUID>`; null otherwise. */
  recipientGroupScope: { name: string; guid: string | null } | null;
  /** A named management scope (`-CustomResourceScope <scope>`), or null. */
  customResourceScope: string | null;
  /** Organization when neither scope is set: the role then covers every mailbox. */
  recipientWriteScope: string;
  enabled: boolean;
}

/** One row of `Test-ServicePrincipalAuthorization` (one per role assignment of the service principal). */
export interface ServicePrincipalAuthorization {
  roleName: string;
  grantedPermissions: string;
  allowedResourceScope: string;
  scopeType: string;
  /** True/false for the tested resource; null when no resource was given ("Not Run"). */
  inScope: boolean | null;
}

/**
 * The Exchange cmdlets the lifecycle (RBAC for Applications, migration, status/list) needs beyond ExchangePort.
 * Separate so that ExchangePort stays as it was; the InvokeCommand adapter implements both.
 */
export interface ExchangeLifecyclePort {
  /** Every mail-enabled security group (`Get-DistributionGroup -RecipientTypeDetails MailUniversalSecurityGroup`). */
  listMailSecurityGroups(): Promise<DistributionGroup[]>;
  getOrganizationConfig(): Promise<OrganizationConfig>;
  /** `Enable-OrganizationCustomization`; "already enabled" → { enabled: false }. */
  enableOrganizationCustomization(): Promise<{ enabled: boolean }>;

  getExchangeServicePrincipal(identity: string): Promise<ExchangeServicePrincipal | null>;
  listExchangeServicePrincipals(): Promise<ExchangeServicePrincipal[]>;
  /** `New-ServicePrincipal -AppId -ObjectId -DisplayName`; a duplicate returns the existing pointer. */
  newExchangeServicePrincipal(p: { appId: string; objectId: string; displayName: string }): Promise<ExchangeServicePrincipal>;

  /** `Get-ManagementRoleAssignment` (all, or by Identity/Role/RoleAssignee); a missing Identity → []. */
  getManagementRoleAssignments(filter?: { identity?: string; role?: string; roleAssignee?: string }): Promise<ManagementRoleAssignment[]>;
  /** `New-ManagementRoleAssignment -Name -App -Role -RecipientGroupScope` (direct members of the group only). */
  newManagementRoleAssignment(p: { name: string; app: string; role: string; recipientGroupScope: string }): Promise<ManagementRoleAssignment>;
  /** Idempotent: an assignment that is already gone is a success. */
  removeManagementRoleAssignment(identity: string): Promise<void>;
  /** `Test-ServicePrincipalAuthorization -Identity <sp> -Resource <mailbox>`: reads configuration, not the permission cache. */
  testServicePrincipalAuthorization(identity: string, resource: string): Promise<ServicePrincipalAuthorization[]>;
}

// ---------------------------------------------------------------------------------------------------------------
// Progress
// ---------------------------------------------------------------------------------------------------------------

export type ProgressEvent =
  | { type: 'job-started'; jobId: string; at: string }
  // Steps are named by id; what a step is called on a card or a CLI line is decided there (src/cards/step-titles.ts).
  | { type: 'step-started'; jobId: string; step: string; at: string }
  | { type: 'step-succeeded'; jobId: string; step: string; summary: string; at: string }
  | { type: 'step-skipped'; jobId: string; step: string; summary: string; at: string }
  | { type: 'step-retrying'; jobId: string; step: string; attempt: number; reason: string; waitMs: number; at: string }
  | { type: 'step-failed'; jobId: string; step: string; code: string; message: string; action: string; detail?: string; at: string }
  /** `skipped`: the check did not run (ok is then false, yet it did not fail). */
  | { type: 'check'; jobId: string; name: string; ok: boolean; detail: string; skipped?: boolean; at: string }
  | { type: 'note'; jobId: string; message: string; at: string }
  | { type: 'job-finished'; jobId: string; status: 'succeeded' | 'failed' | 'waiting'; resumeAfter?: string; at: string };

export type ProgressListener = (e: ProgressEvent) => void;

// ---------------------------------------------------------------------------------------------------------------
// Journal (durable job/step records; implemented on SQLite in src/store)
// ---------------------------------------------------------------------------------------------------------------

/**
 * `waiting`: the job stopped on purpose until `resumeAfter` (a permission cache, a secret overlap) and is run again
 * then; it has not failed.
 */
export type JobStatus = 'running' | 'waiting' | 'succeeded' | 'failed';
export type StepStatus = 'pending' | 'running' | 'succeeded' | 'failed';

export interface RecordedError {
  code: string;
  message: string;
}

export interface JobRecord {
  id: string;
  /** e.g. 'provision', 'add-sender', 'rotate-secret'. */
  kind: string;
  status: JobStatus;
  /** JSON input of the job. Never contains a secret. */
  input: unknown;
  /** Optional caller key (e.g. a request id) that makes createJob idempotent. */
  idempotencyKey: string | null;
  /** For a failed job why it failed; for a waiting one why it waits (E_JOB_UNFINISHED). */
  lastError: RecordedError | null;
  /** A waiting job: when running it again can finish it (null: whenever). Null for every other status. */
  resumeAfter: string | null;
  /** A succeeded job's result (JSON, never a secret), as its workflow returned it; null before it succeeded. */
  result: unknown;
  createdAt: string;
  updatedAt: string;
}

/** How a run of a job ended, recorded in one write. */
export type JobEnd =
  | { status: 'succeeded'; result: unknown }
  | { status: 'waiting'; resumeAfter: string | null; lastError: RecordedError }
  | { status: 'failed'; lastError: RecordedError };

export interface StepRecord {
  jobId: string;
  step: string;
  status: StepStatus;
  attempts: number;
  /** JSON object ids and facts produced by the step (never a secret). Merged by recordStepOutputs. */
  outputs: Record<string, unknown>;
  lastError: RecordedError | null;
  startedAt: string | null;
  finishedAt: string | null;
}

/**
 * Synchronous on purpose: better-sqlite3 is synchronous, and a journal write that completes before the next
 * tenant call is what makes "every tenant write is preceded by a journal record" true.
 */
export interface JournalPort {
  /** Creates the job, or returns the existing one with the same idempotencyKey. */
  createJob(job: { id: string; kind: string; input: unknown; idempotencyKey?: string | null }): JobRecord;
  getJob(id: string): JobRecord | null;
  listJobs(filter?: { status?: JobStatus; kind?: string }): JobRecord[];
  setJobStatus(id: string, status: JobStatus, lastError?: RecordedError | null): void;
  /** Ends a run: status with its result, or its error and (waiting) resume time. */
  finishJob(id: string, end: JobEnd): void;
  getSteps(jobId: string): StepRecord[];
  getStep(jobId: string, step: string): StepRecord | null;
  /** Marks the step running and increments attempts (creates the row if needed). */
  recordStepStart(jobId: string, step: string): StepRecord;
  /** Merges outputs into the step (used to write intent, e.g. a keyId, before the step is done). */
  recordStepOutputs(jobId: string, step: string, outputs: Record<string, unknown>): void;
  recordStepSuccess(jobId: string, step: string, outputs?: Record<string, unknown>): void;
  recordStepFailure(jobId: string, step: string, error: RecordedError): void;
}

/**
 * Receives a newly created client secret. The bot's sink encrypts it into the one-time store; the CLI's keeps it in
 * memory to print once. Returning normally means the secret is safely handed over (the engine then marks it delivered).
 */
export interface SecretSink {
  deliver(s: { jobId: string; appId: string; appObjectId: string; keyId: string; secretText: string; endDateTime: string }): void | Promise<void>;
  /** True when the sink still holds (or already handed out) this secret — used on resume to tell a delivered secret
   *  from an orphan whose plaintext died with the process. */
  holds(jobId: string, keyId: string): boolean;
}
