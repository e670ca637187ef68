/**
 * Shapes the bot keeps in the store (request payloads, drafts, outbox payloads) and the services every handler
 * shares. Payload keys are chosen so that none looks like a credential to the store's redaction (no `secret`,
 * `password`, … suffixes): nothing here ever holds one.
 */
import type { Clock } from '../core/ports';
import type { ProvisioningEngine } from '../provisioning/engine';
import type { NameOverrides } from '../provisioning/names';
import type { RoleConfig } from '../requests/rules';
import type { TenantRuntime } from '../runtime/tenant';
import type { Store } from '../store';
import type { BotConfig } from './config';
import type { RedactingLogger } from './log';
import type { BotIdentityRef, ConversationRef, TeamsIO } from './teams-io';

/** Where a request was made: replies, the form and the progress card go here. */
export interface Origin {
  reference: ConversationRef;
  isChannel: boolean;
  serviceUrl: string;
  bot: BotIdentityRef;
  tenantId: string;
}

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
  checks: Array<{ name: string; ok: boolean; detail: string }>;
}

export type ApprovalTarget = { kind: 'named'; name: string } | { kind: 'channel-id'; channelId: string } | { kind: 'origin' };

export type OutboxPayload =
  | { kind: 'audit'; seq: number }
  | { kind: 'approval-post'; requestId: string; target: ApprovalTarget }
  | { kind: 'approval-sync'; requestId: string }
  | { kind: 'secret-post'; requestId: string }
  | { kind: 'secret-sync'; requestId: string }
  /** A notice for the requester: in the conversation the request came from, or (personal) their 1:1 chat. */
  | { kind: 'notify'; requestId: string; title: string; text: string; tone: 'info' | 'good' | 'warning' | 'attention'; personal?: boolean }
  | { kind: 'progress-final'; requestId: string; card: Record<string, unknown> };

export interface BotSettings {
  /** Least time between two edits of the same progress card. */
  progressMinIntervalMs: number;
  /** How long the revealed view stays undisturbed before the base card is switched to "revealed" for everyone. */
  revealGraceMs: number;
  outboxRetryBaseMs: number;
  outboxRetryMaxMs: number;
  /** Retry of an audit post while no audit channel is configured yet. */
  auditUnroutedRetryMs: number;
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

export const SYSTEM_ACTOR = { kind: 'system' as const, name: 'Opter Mail bot' };
