/**
 * Shapes the bot keeps in the store (request payloads, drafts, outbox payloads) and the services every handler
 * shares. Payload keys are chosen so that none looks like a credential to the store's redaction (no `secret`,
 * `password`, … suffixes): nothing here ever holds one.
 */
import type {
  AddSenderPayload as ActionAddSenderPayload,
  LifecyclePayload as ActionLifecyclePayload,
  LifecycleRequestResult as ActionLifecycleRequestResult,
  ProvisionPayload as ActionProvisionPayload,
} from '../actions/common';
import type { LifecycleKind, RequestKind } from '../actions/registry';
import type { Clock } from '../core/ports';
import type { ExpiryReminder } from '../provisioning';
import type { ProvisioningEngine } from '../provisioning';
import type { RoleConfig } from '../requests/rules';
import type { TenantRuntime } from '../runtime/tenant';
import type { Store } from '../store';
import type { BotConfig } from './host/config';
import type { RedactingLogger } from './host/log';
import type { TeamsIO } from './host/teams-io';
import type { ConversationRef, Origin } from './turn-port';
import type { ApproverSessions } from './delegation';

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

/** The stored payload shapes are the actions' (src/actions), with the bot's Origin. */
export type { ProvisionDetails, LifecycleTarget, RequestResult } from '../actions/common';
export type ProvisionPayload = ActionProvisionPayload<Origin>;
export type AddSenderPayload = ActionAddSenderPayload<Origin>;
export type LifecyclePayload = ActionLifecyclePayload<Origin>;

/**
 * Every request kind the bot makes: the actions' kinds (one definition, src/actions/registry.ts) and a channel
 * change. The store keeps the kind as text.
 */
export type BotRequestKind = RequestKind;
export type { LifecycleKind } from '../actions/registry';
export { LIFECYCLE_KINDS } from '../actions/registry';

export function requestKindForStore(kind: BotRequestKind): string {
  return kind;
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

/** `request.result` of a lifecycle request: the common facts plus what that kind of job produced. */
export interface LifecycleRequestResult extends ActionLifecycleRequestResult {
  kind: LifecycleKind;
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
  /**
   * Delegated mode: least validity an SSO token must have left to be accepted for a write click; a token closer to
   * its end makes the bot ask Teams for a fresh one (the job's writes should finish before it ends).
   */
  ssoMinRemainingMs: number;
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
  /**
   * Delegated mode (PROVISIONING_AUTH=delegated): the approvers' access for the runs they signed for; null in app
   * mode, where the standing identity writes.
   */
  delegation: ApproverSessions | null;
  /** Wakes the outbox worker (non-blocking). */
  poke(): void;
}

export { SYSTEM_ACTOR } from '../runtime/audit';
