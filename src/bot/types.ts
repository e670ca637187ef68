/**
 * Shapes the bot keeps in the store (request payloads, drafts, outbox payloads) and the services every handler
 * shares. Payload keys are chosen so that none looks like a credential to the store's redaction (no `secret`,
 * `password`, … suffixes): nothing here ever holds one.
 */
import type { Clock } from '../core/ports';
import type { ExpiryReminder } from '../provisioning/expiry';
import type { MigrationPlan } from '../provisioning/migrate';
import type { ProvisioningEngine } from '../provisioning/engine';
import type { NameOverrides } from '../provisioning/names';
import type { ScopingState } from '../provisioning/registration';
import type { ScopingModel } from '../provisioning/runtime';
import type { RoleConfig } from '../requests/rules';
import type { TenantRuntime } from '../runtime/tenant';
import type { RequestKind, Store } from '../store';
import type { BotConfig } from './host/config';
import type { RedactingLogger } from './host/log';
import type { TeamsIO } from './host/teams-io';
import type { ConversationRef, Origin } from './turn-port';

export type { Origin } from './turn-port';

export interface RequesterInfo {
  aadObjectId: string;
  name: string;
  mri: string;
}

/** A form in progress. Lives in kv (`draft:<id>`) until submitted; its id becomes the request id. */
export interface Draft {
  id: string;
  kind: 'setup' | 'add-sender';
  requester: RequesterInfo;
  tenantId: string;
  origin: Origin;
  /** add-sender: the addresses typed after "add sender". */
  senders?: string[];
  createdAt: string;
}

/** What the form decided for a `provision` request ("set up Opter email"). */
export interface ProvisionDetails {
  appName: string;
  senders: string[];
  validYears: number;
  overrides: NameOverrides;
  names: { groupName: string; groupAlias: string; credentialName: string };
  groupSmtp: string | null;
  credentialExpiresAt: string | null;
  credentialClamped: boolean;
  /** Set when the admin chose to reuse an existing registration of the same name. */
  reuse: { appId: string; membersBefore: string[]; groupExists: boolean; createsCredential: boolean } | null;
  /** The sender group already exists and is this registration's (ownership.ts): its members when the form was checked. */
  existingGroup?: { members: string[] } | null;
  /** How the app is limited to the sender group (absent on requests from before the choice existed: access-policy). */
  scoping?: ScopingModel;
}

/** Payload of a `provision` request. */
export type ProvisionPayload = ProvisionDetails & { origin: Origin; [key: string]: unknown };

/** Payload of an `add-sender` request. */
export interface AddSenderPayload {
  [key: string]: unknown;
  appName: string;
  appId: string | null;
  registrationId: string | null;
  senders: string[];
  membersBefore: string[];
  membersAfter: string[];
  groupName: string;
  groupAlias: string;
  groupSmtp: string | null;
  /** The registration's scoping model when asked (absent on requests from before: access-policy). */
  scoping?: ScopingModel;
  origin: Origin;
}

/**
 * Every request kind the bot makes. The store's RequestKind predates repair and adopt; its column is free text, so
 * the bot keeps the full list here and converts at the store boundary (see requestKindForStore).
 */
export type BotRequestKind = RequestKind | 'repair' | 'adopt' | 'channel-change';
export type LifecycleKind = Exclude<BotRequestKind, 'provision' | 'add-sender' | 'channel-change'>;
export const LIFECYCLE_KINDS: readonly LifecycleKind[] = ['rotate-secret', 'remove-sender', 'migrate-rbac', 'test-email', 'repair', 'adopt'];

export function requestKindForStore(kind: BotRequestKind): RequestKind {
  return kind as RequestKind;
}

/** The registration a lifecycle request is about, as the tenant showed it when the request was made. */
export interface LifecycleTarget {
  appName: string;
  appId: string;
  overrides: NameOverrides;
  groupName: string;
  groupAlias: string;
  groupSmtp: string | null;
  /** The group's members when the request was made. */
  senders: string[];
  scoping: ScopingState;
}

/** Payload of a lifecycle request (new secret, remove sender, migrate, test email, repair, adopt). */
export interface LifecyclePayload extends LifecycleTarget {
  [key: string]: unknown;
  origin: Origin;
  /** rotate-secret */
  validYears?: number;
  overlapDays?: number;
  oldSecrets?: Array<{ keyId: string; expiresAt: string }>;
  credentialName?: string;
  credentialExpiresAt?: string | null;
  credentialClamped?: boolean;
  /** remove-sender: the addresses to remove and the members after. */
  remove?: string[];
  membersAfter?: string[];
  /** migrate-rbac */
  plan?: MigrationPlan;
  settleMinutes?: number;
  /** test-email */
  from?: string;
  to?: string;
  /** repair: the drift seen when asked. */
  drift?: string[];
  /** remove-sender made by "Repair" for members added outside the bot. */
  repairOf?: 'member-outside-bot';
}

/** Where the bot posts what: the audit trail, or the approval requests. */
export type ChannelPurpose = 'audit' | 'approvals';

/** Payload of a `channel-change` request ("use this channel for audit|approvals", approved by a second admin). */
export interface ChannelChangePayload {
  [key: string]: unknown;
  purpose: ChannelPurpose;
  /** The channel to use from now on, and the reference to post into it. */
  to: { channelId: string; name: string | null; reference: ConversationRef };
  /** The channel used when the request was made (the approval card shows it), or null. */
  from: { channelId: string; name: string | null } | null;
  origin: Origin;
}

/** What a finished job leaves on its request (`request.result`). */
export interface RequestResult {
  tenantId: string;
  clientId: string;
  appObjectId: string;
  spObjectId: string;
  groupSmtp: string;
  senders: string[];
  membersAdded: string[];
  /** Key id and end of the credential created by this request, if one was. */
  keyId: string | null;
  credentialEndDateTime: string | null;
  /** `skipped`: the check did not run (never a pass; see provisioning/check-results.ts). */
  checks: Array<{ name: string; ok: boolean; detail: string; skipped?: boolean; provesRestriction?: boolean }>;
  /** The scoping model of the registration after the job (absent on results from before: access-policy). */
  scoping?: ScopingModel;
  /** What the job could not check because the provisioning identity may not run the read (least privilege). */
  unchecked?: string[];
}

/** `request.result` of a lifecycle request: the common facts plus what that kind of job produced. */
export interface LifecycleRequestResult extends RequestResult {
  kind: LifecycleKind;
  /** rotate-secret: the secrets that keep working until retired, and when the overlap ends. */
  previous?: Array<{ keyId: string; endDateTime: string }>;
  overlapEndsAt?: string;
  /** remove-sender */
  removed?: string[];
  notMembers?: string[];
  /** test-email */
  layers?: Array<{ layer: string; ok: boolean; detail: string }>;
  testOk?: boolean;
  temporaryKeyRemoved?: boolean;
  /** migrate-rbac */
  removedGraphGrant?: boolean;
  removedPolicies?: string[];
  notes: string[];
}

export type ApprovalTarget = { kind: 'named'; name: string } | { kind: 'channel-id'; channelId: string } | { kind: 'origin' };

export type OutboxPayload =
  /** threadRootSeq: the first entry of the entry's request (or job); absent for an entry posted on its own. */
  | { kind: 'audit'; seq: number; threadRootSeq?: number }
  | { kind: 'approval-post'; requestId: string; target: ApprovalTarget }
  | { kind: 'approval-sync'; requestId: string }
  | { kind: 'secret-post'; requestId: string }
  | { kind: 'secret-sync'; requestId: string }
  /** A notice for the requester: in the conversation the request came from, or (personal) their 1:1 chat. */
  | { kind: 'notify'; requestId: string; title: string; text: string; tone: 'info' | 'good' | 'warning' | 'attention'; personal?: boolean }
  /** `forStatus`: the request status this card shows; a card delivered after the request moved on is dropped. */
  | { kind: 'progress-final'; requestId: string; card: Record<string, unknown>; forStatus?: string }
  /** The rotation card (old secrets, "Opter updated") in the requester's 1:1 chat, and its later states. */
  | { kind: 'rotation-post'; requestId: string }
  | { kind: 'rotation-sync'; requestId: string }
  /** The result card of a lifecycle job, in the conversation the request came from. */
  | { kind: 'result-post'; requestId: string }
  /** A notice posted as a new message into a channel (a channel change is announced in the old and the new one). */
  | { kind: 'announce'; reference: ConversationRef; title: string; text: string; tone: 'info' | 'good' | 'warning' | 'attention' }
  /** An expiry reminder to one owner's 1:1 chat (opened through their request) or to the audit channel. */
  | { kind: 'reminder'; reminder: ExpiryReminder; to: { owner: string; requestId: string } | 'audit' };

export interface BotSettings {
  /** Least time between two edits of the same progress card. */
  progressMinIntervalMs: number;
  /** How long the revealed view stays undisturbed before the base card is switched to "revealed" for everyone. */
  revealGraceMs: number;
  outboxRetryBaseMs: number;
  outboxRetryMaxMs: number;
  /** Retry of an audit post while no audit channel is configured yet. */
  auditUnroutedRetryMs: number;
  /** How often the worker reads every registration's secrets for expiry reminders (default: daily). */
  expiryCheckIntervalMs: number;
  /** Minutes a migration waits after the RBAC role assignment before removing the Graph grant (Microsoft: up to 2 h). */
  migrationSettleMinutes: number;
  /** How long the old secrets keep working after a rotation when nobody confirms "Opter updated". */
  rotationOverlapDays: number;
}

export interface BotServices {
  config: BotConfig;
  roles: RoleConfig;
  store: Store;
  engine: ProvisioningEngine;
  tenant: TenantRuntime;
  io: TeamsIO;
  log: RedactingLogger;
  clock: Clock;
  settings: BotSettings;
  /** Wakes the outbox worker (non-blocking). */
  poke(): void;
}

export { SYSTEM_ACTOR } from '../runtime/audit';
