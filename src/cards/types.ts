/**
 * View models for the card builders. Plain data the bot assembles from its store; the builders never look
 * anything up, so a card shows exactly what the model says. Times are ISO-8601 strings (UTC).
 *
 * Secret hygiene is in the types: only RevealedSecretModel has a field for the plaintext.
 */
import type { ErrorPlace } from '../core/errors';
import type { RoleNeed } from '../core/roles';

export type IsoTime = string;

/** A person as shown on a card. Display name only: identity and authority live in the store, never on a card. */
export interface Person {
  name: string;
}

export type ScopingModel = 'access-policy' | 'rbac';

/** Which approval card a request gets (its title, sections and permission lines); each action names its own (src/actions). */
export type ApprovalVariant = 'setup' | 'add-sender' | 'remove-sender' | 'new-secret' | 'repair' | 'migrate-rbac' | 'test-email' | 'adopt';

/** What the tenant shows: one of the two models, both at once (a migration half-way), or neither. */
export type ScopingState = ScopingModel | 'mixed' | 'unscoped';

// ---------------------------------------------------------------------------------------------------------------
// Generic JSON shape of what the builders return
// ---------------------------------------------------------------------------------------------------------------

export interface CardElement {
  type: string;
  [key: string]: unknown;
}

export interface CardAction {
  type: 'Action.Execute' | 'Action.ShowCard' | 'Action.ToggleVisibility';
  title: string;
  [key: string]: unknown;
}

export interface ExecuteAction extends CardAction {
  type: 'Action.Execute';
  verb: string;
  data?: Record<string, string>;
  associatedInputs: 'auto' | 'none';
}

export interface RefreshDefinition {
  action: ExecuteAction;
  userIds: string[];
}

export interface AdaptiveCardJson {
  type: 'AdaptiveCard';
  $schema: string;
  version: '1.5';
  body: CardElement[];
  actions?: CardAction[];
  refresh?: RefreshDefinition;
  /** Teams-only extension: stretch the card to the message width. */
  msteams?: { width: 'Full' };
  [key: string]: unknown;
}

// ---------------------------------------------------------------------------------------------------------------
// 1. Help
// ---------------------------------------------------------------------------------------------------------------

export interface HelpCardModel {
  /** The viewer is in ADMINS (may make requests). */
  canRequest: boolean;
  /** The viewer is in APPROVERS. */
  canApprove: boolean;
  /** Local mode (no BOT_ID): say that nothing reaches a real Teams tenant. */
  localMode?: boolean;
  /** What the bot understands, in order (the bot lists its actions' entries, then status and help). Default: HELP_BUILTINS. */
  commands?: readonly HelpEntry[];
}

/** One line of the help card: the words the bot routes on, an example, what it does, who may use it. */
export interface HelpEntry {
  command: string;
  example?: string;
  what: string;
  who: 'admin' | 'anyone';
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Request form
// ---------------------------------------------------------------------------------------------------------------

export interface RequestFormValues {
  appDisplayName: string;
  senders: string[];
  secretValidYears: number;
  scoping: ScopingModel;
  secretDisplayName: string;
  groupName: string;
  groupAlias: string;
  nameChoice: 'reuse' | 'new';
}

export type RequestFormField = keyof RequestFormValues;

export interface DerivedNamesPreview {
  groupName: string;
  groupAlias: string;
  secretDisplayName: string;
  /** Known once the accepted domains were read (alias@default domain). */
  groupSmtp?: string;
  /** The expiry the secret will get after the tenant policy was applied. */
  secretExpiresAt?: IsoTime;
  /** True when the tenant policy shortened the requested validity. */
  secretClamped?: boolean;
}

export interface RequestFormModel {
  /** The draft request the form belongs to (created when the form is first shown). */
  requestId: string;
  values?: Partial<RequestFormValues>;
  /** Field-level messages after server-side validation (see formErrorFor in request-form.ts). */
  errors?: Partial<Record<RequestFormField, string>>;
  /** A message that belongs to no single field, shown at the top. */
  generalError?: string;
  /** Display names of the registrations that already exist (each domain needs its own name). */
  existingRegistrations?: string[];
  /** The chosen app name already belongs to another registration: offer reuse vs a new name. */
  nameConflict?: { existingName: string; appId?: string; senders?: string[] };
  /** Shown after "Check": the names that will be used. Nothing is created before approval. */
  derived?: DerivedNamesPreview;
  /** Upper bound of the validity input in years (default 10). */
  maxSecretYears?: number;
  /** The tenant's max secret lifetime (ISO-8601 duration, e.g. "P2Y") when known. */
  tenantMaxSecretLifetime?: string | null;
}

// ---------------------------------------------------------------------------------------------------------------
// 3. Approval (also used for "add sender", with a members diff)
// ---------------------------------------------------------------------------------------------------------------

export interface ApprovalPlan {
  appDisplayName: string;
  /** Client id of an existing registration (add sender, new secret). Absent when the app is new. */
  appId?: string;
  /** True when the app registration and its service principal will be created. */
  createsApp: boolean;
  /** Present when a client secret will be created. */
  secret?: { displayName: string; validYears: number; expiresAt?: IsoTime; clampedByPolicy?: boolean };
  group: { name: string; alias: string; smtp?: string; exists: boolean };
  /** Sender mailboxes in the group before and after the change (before is empty for a new group). */
  members: { before: string[]; after: string[] };
  scoping: ScopingModel;
  /** new-secret: the secrets that keep working during the overlap, and how long it lasts at most. */
  rotation?: { overlapDays: number; oldSecrets: Array<{ keyId: string; expiresAt: IsoTime }> };
  /** migrate-rbac: the ordered plan (what is added, checked, waited for and removed). */
  migration?: MigrationPlanView;
  /** test-email: one message from a sender to the requester, with a temporary secret. */
  testEmail?: { from: string; to: string; temporarySecretMinutes: number };
  /** repair: the drift found when the request was made (re-detected by the job). */
  drift?: string[];
  /** adopt: what the bot records as the registration's baseline. */
  adoption?: { scoping: ScopingState; senders: string[] };
}

/** A migration plan as the approval and submitted cards show it (from the engine's planMigration). */
export interface MigrationPlanView {
  steps: Array<{ action: 'add' | 'check' | 'wait' | 'remove'; title: string; detail: string; alreadyDone: boolean }>;
  whyThisOrder: string[];
  warnings: string[];
  keeps: string[];
}

export type ApprovalState =
  | { status: 'pending' }
  /**
   * `needsApprover`: delegated mode, the job stopped at a write because no approver's sign-in came with its run (a
   * restart, an expired token): the card offers Continue, which signs the clicking approver in again.
   */
  | { status: 'approved'; by: Person; at: IsoTime; needsApprover?: boolean }
  | { status: 'rejected'; by: Person; at: IsoTime; reason: string }
  | { status: 'expired'; at: IsoTime }
  | { status: 'cancelled'; by: Person; at: IsoTime };

/**
 * Which view of a pending approval this is. `shared` is the card posted to everyone (buttons shown, the server
 * enforces the rules); the others are the user-specific views returned to the refresh verb.
 */
export type ApprovalViewer = 'shared' | 'approver' | 'requester' | 'observer';

export interface ApprovalCardModel {
  requestId: string;
  kind: ApprovalVariant;
  requestedBy: Person;
  requestedAt: IsoTime;
  expiresAt: IsoTime;
  plan: ApprovalPlan;
  /**
   * The Entra roles the approver needs for what the job writes (the action's `roleNeeds`); the card lists them
   * under "The approver needs". Absent or empty: no such section (the job only reads).
   */
  roleNeeds?: readonly RoleNeed[];
  state: ApprovalState;
  viewer?: ApprovalViewer;
  /**
   * Approver MRIs (`29:…`) that get a user-specific view through `refresh` while pending. At most 60 are used.
   * Leave it out of the views returned to the refresh verb unless the bot writes that invoke response itself:
   * teams-ai turns a returned card that has `refresh` into an edit of the message for everyone.
   */
  refreshUserIds?: string[];
  /** Shown when a reject arrived without a reason. */
  reasonError?: string;
}

/** What every approval card has, whatever it is about. */
export type ApprovalFrame = Omit<ApprovalCardModel, 'kind' | 'plan' | 'roleNeeds'>;

export interface ChannelRef {
  channelId: string;
  name: string | null;
}

/** "Use this channel for audit|approvals": moving where the bot posts needs a second admin too. */
export interface ChannelChangeApprovalModel extends ApprovalFrame {
  purpose: 'audit' | 'approvals';
  to: ChannelRef;
  /** The channel used until now; null when none was chosen yet. */
  from: ChannelRef | null;
}

// ---------------------------------------------------------------------------------------------------------------
// 4. Progress
// ---------------------------------------------------------------------------------------------------------------

/** `waiting`: the job stopped on purpose until a time (e.g. Exchange's permission cache) and continues by itself. */
export type StepState = 'pending' | 'running' | 'done' | 'skipped' | 'retrying' | 'failed' | 'waiting';

export interface StepFailure {
  /** Catalogue code (src/core/errors.ts). */
  code: string;
  message: string;
  /** What the admin should do. */
  action: string;
}

export interface ProgressStepView {
  id: string;
  title: string;
  state: StepState;
  /** What the step did ("created", "already there", …). */
  summary?: string;
  /** Retrying: attempt number and the human reason, e.g. waiting for Microsoft to replicate the new service principal. */
  attempt?: number;
  reason?: string;
  nextAttemptAt?: IsoTime;
  error?: StepFailure;
}

export interface VerificationCheckView {
  /** e.g. "faktura@contoso.com → Granted", "Token as the new app". */
  name: string;
  ok: boolean;
  detail: string;
  /** The check did not run: shown as "⚪ skipped — not run", never as passed. */
  skipped?: boolean;
  provesRestriction?: boolean;
}

export type ProgressStatus = 'running' | 'succeeded' | 'failed' | 'waiting';

export interface ProgressCardModel {
  requestId: string;
  title: string;
  status: ProgressStatus;
  steps: ProgressStepView[];
  checks: VerificationCheckView[];
  notes: string[];
  startedAt?: IsoTime;
  updatedAt: IsoTime;
  finishedAt?: IsoTime;
  /** The failure that stopped the job (the failed step's, or a job-level one). */
  failure?: StepFailure;
  /** Why and until when the job waits (status `waiting`). */
  /** `forApprover`: delegated mode, it waits for an approver's Continue (their sign-in), not for a time. */
  waiting?: { reason: string; until?: IsoTime; forApprover?: boolean };
}

// ---------------------------------------------------------------------------------------------------------------
// 5. One-time secret
// ---------------------------------------------------------------------------------------------------------------

/** Everything about a new secret except the secret itself. */
export interface SecretFacts {
  requestId: string;
  appDisplayName: string;
  tenantId: string;
  clientId: string;
  /** The credential's endDateTime as the engine wrote it (shown verbatim in the OUTPUT block). */
  secretExpiresAt: string;
  groupSmtp: string;
  scoping?: ScopingModel;
}

export interface SecretReadyModel extends SecretFacts {
  requester: Person;
  /** Unrevealed secrets are purged (and removed from the app) at this time. */
  revealDeadline: IsoTime;
}

export interface RevealedSecretModel extends SecretFacts {
  /** The plaintext. Only ever passed to revealedSecretCard, whose card goes back ONLY as the requester's invoke response. */
  secretText: string;
  /** Senders for the Test-… hints (first one is the "allowed" example). */
  senders?: string[];
  /** A mailbox that must be denied (the "notallowed" example). */
  deniedExample?: string;
}

export interface SecretHiddenModel extends SecretFacts {
  revealedAt: IsoTime;
  revealedBy: Person;
  /** Lets the card offer "new secret" directly. */
  registrationId?: string;
}

export interface SecretExpiredModel extends SecretFacts {
  expiredAt: IsoTime;
  registrationId?: string;
  /**
   * Delegated mode, the credential is still on the app (the bot removes nothing unattended): its key id, and the card
   * offers "Remove it from the app", done with the clicker's own sign-in.
   */
  credentialLeft?: { keyId: string };
}

// ---------------------------------------------------------------------------------------------------------------
// 6. Audit
// ---------------------------------------------------------------------------------------------------------------

export type AuditResult = 'ok' | 'failed' | 'refused' | 'info';

export interface AuditEntryModel {
  seq: number;
  /** Hex hash of this entry in the chain; the card shows a prefix. */
  hash: string;
  at: IsoTime;
  actor: string;
  /** e.g. "request.approved", "step.succeeded", "secret.revealed". */
  action: string;
  result: AuditResult;
  requestId?: string;
  summary?: string;
  objects?: { appId?: string; servicePrincipalId?: string; group?: string; keyId?: string; jobId?: string };
}

// ---------------------------------------------------------------------------------------------------------------
// 7. Add sender: choose the registration
// ---------------------------------------------------------------------------------------------------------------

export interface RegistrationChoice {
  id: string;
  appDisplayName: string;
  appId: string;
  groupSmtp: string;
  /** The group's members as the tenant shows them now; null when the tenant could not be read. */
  senders: string[] | null;
}

export interface ChooseRegistrationModel {
  requestId: string;
  /** The addresses to add. */
  senders: string[];
  registrations: RegistrationChoice[];
  selectedId?: string;
  error?: string;
}

// ---------------------------------------------------------------------------------------------------------------
// 8. Errors and notices
// ---------------------------------------------------------------------------------------------------------------

export interface ErrorCardModel {
  /** Catalogue code; title and action come from the catalogue. */
  code: string;
  detail?: string;
  requestId?: string;
  /** Where the card is shown, so "what to do" offers only what that place has (default: a chat reply). */
  place?: ErrorPlace;
}

export type NoticeTone = 'info' | 'good' | 'warning' | 'attention';

export interface NoticeCardModel {
  title: string;
  text: string;
  tone?: NoticeTone;
  facts?: { title: string; value: string }[];
}

// ---------------------------------------------------------------------------------------------------------------
// 9. Status / list
// ---------------------------------------------------------------------------------------------------------------

export interface DriftItem {
  /** e.g. "member-outside-bot", "grant-missing", "policy-missing". */
  kind: string;
  description: string;
}

export interface RegistrationStatus {
  id: string;
  appDisplayName: string;
  appId: string;
  /** False for registrations that look like the script made them and the bot does not manage yet. */
  managed: boolean;
  scoping: ScopingState;
  groupSmtp?: string;
  senders: string[];
  /** The latest expiry among the app's live secrets; null when it has none. */
  secretExpiresAt: IsoTime | null;
  /** `verified` false: nothing failed, but not every check ran (absent: as `ok`). */
  lastVerification: { at: IsoTime; ok: boolean; verified?: boolean; summary: string } | null;
  drift: DriftItem[];
  /** What the bot could not check for it (a read its identity may not run). */
  notChecked?: string[];
  /** Some of the drift is what Repair fixes: only then is there a Repair button (a refused button helps nobody). */
  repairable?: boolean;
  /** A migration to RBAC waiting for Exchange's permission cache until `until` (planned), or running now. */
  migration?: { state: 'waiting' | 'running'; until: IsoTime | null } | null;
}

export interface StatusCardModel {
  /** "Now" for expiry colouring; passed in so the builder stays pure. */
  generatedAt: IsoTime;
  registrations: RegistrationStatus[];
  /**
   * The card goes only to someone who may ask for changes (an admin, in a view nobody else sees): only then does it
   * carry the Adopt / Repair / New secret buttons. Everyone else gets the same facts without buttons.
   */
  viewerMayRequest: boolean;
  /** Shown instead of the buttons when they are left out (e.g. where to ask for them). */
  withoutButtonsNote?: string;
}

// ---------------------------------------------------------------------------------------------------------------
// 10. Lifecycle: secret rotation, expiry reminders, results, submitted requests
// ---------------------------------------------------------------------------------------------------------------

/**
 * After "new secret": the old secrets keep working until the requester confirms that Opter uses the new one
 * (button, `opter-updated`) or the overlap ends; then they are removed.
 */
export interface RotationCardModel {
  requestId: string;
  appDisplayName: string;
  clientId: string;
  /** The new secret's key id and expiry (never the secret). */
  newKeyId: string;
  newSecretExpiresAt: IsoTime;
  oldSecrets: Array<{ keyId: string; expiresAt: IsoTime }>;
  overlapEndsAt: IsoTime;
  state:
    | { status: 'waiting' }
    | { status: 'retiring'; trigger: 'confirmed' | 'overlap' }
    | { status: 'retired'; at: IsoTime; trigger: 'confirmed' | 'overlap'; removedKeyIds: string[] }
    | { status: 'failed'; at: IsoTime; code: string; message: string };
}

/** A secret crosses 30/7/1 days before its expiry (or has expired). */
export interface ExpiryReminderModel {
  registrationId: string;
  appDisplayName: string;
  clientId: string;
  keyId: string;
  secretName: string | null;
  expiresAt: IsoTime;
  /** 30, 7 or 1; 0 once expired. */
  thresholdDays: number;
  daysLeft: number;
  expired: boolean;
  /** Another secret of the app lives longer (a rotation may already have happened). */
  newerSecretExists: boolean;
  /** "Now" for the relative wording; passed in so the builder stays pure. */
  generatedAt: IsoTime;
}

/** The outcome of a lifecycle job (migration, remove sender, test email, repair, adopt) for the requester. */
export interface LifecycleResultModel {
  requestId: string;
  title: string;
  ok: boolean;
  summary: string;
  facts?: Array<{ title: string; value: string }>;
  /** Verification checks, or the test email's layers. */
  checks: VerificationCheckView[];
  checksTitle?: string;
  notes?: string[];
}

/** What the requester sees right after asking for a lifecycle change: what was sent to whom, and the plan. */
export interface SubmittedRequestModel {
  requestId: string;
  title: string;
  text: string;
  facts?: Array<{ title: string; value: string }>;
  migration?: MigrationPlanView;
  /** Shown when the bot could not reach the approvers' chats and posted the card here. */
  approvalNeededBy: IsoTime;
}
