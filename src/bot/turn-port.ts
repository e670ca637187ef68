/**
 * The narrow port between the bot's decisions (handlers/, background/) and the Teams SDK (host/). Handlers see one
 * turn as a `TurnPort`, never botbuilder's TurnContext, and keep conversation references in our own JSON shape, so
 * moving from teams-ai v1 / botbuilder to the Teams SDK changes host/ only (src/bot/README.md, "Roles"). This file
 * imports no SDK; test/architecture/boundaries.test.ts holds it to that.
 */
import type { AdaptiveCardJson } from '../cards';
import type { Actor } from '../requests/rules';

/** The bot's own identity in a conversation (the activity's recipient). */
export interface BotIdentityRef {
  id: string;
  name?: string;
}

/** Someone in a stored conversation reference (ids are what Teams addresses; names are for show). */
export interface ConversationMemberRef {
  id: string;
  name?: string;
  aadObjectId?: string;
  role?: string;
}

/**
 * Where the bot can post later, as the store keeps it (JSON). References stored before this shape existed were
 * botbuilder's ConversationReference, whose fields these are; the host hands them back to its SDK unchanged.
 */
export interface ConversationRef {
  channelId?: string;
  serviceUrl?: string;
  locale?: string;
  bot?: ConversationMemberRef;
  user?: ConversationMemberRef;
  conversation?: { id: string; name?: string; conversationType?: string; isGroup?: boolean; tenantId?: string };
  /** The activity a reference was taken from; not part of where the conversation is (stripped before storing). */
  activityId?: string;
}

/** Something the bot says: a card, text, or both. The host turns it into its SDK's message. */
export interface BotMessage {
  card?: AdaptiveCardJson;
  text?: string;
}

export function cardMessage(card: AdaptiveCardJson, text?: string): BotMessage {
  return { card, ...(text ? { text } : {}) };
}

/** Where a request was made: replies, the form and the progress card go here. */
export interface Origin {
  reference: ConversationRef;
  isChannel: boolean;
  serviceUrl: string;
  bot: BotIdentityRef;
  tenantId: string;
}

/** The conversation a turn happened in. */
export interface TurnConversation {
  /** The conversation id ('' when the activity carries none); a channel thread's id ends in `;messageid=…`. */
  id: string;
  isChannel: boolean;
  isPersonal: boolean;
  /** In a team channel: the channel's id (without the thread) and its name when Teams sent one; otherwise null. */
  teamsChannel: { id: string; name: string | null } | null;
}

/** The acting user's entry in the Teams roster (their mail address is not in the activity). */
export interface TeamsMember {
  email?: string;
  userPrincipalName?: string;
}

/** One inbound turn, as much of it as the handlers use. */
export interface TurnPort {
  /** Who acts, from the activity envelope only (never card data or text); null without an Entra identity. */
  readonly actor: Actor | null;
  /** This activity's id: Teams may deliver the same activity twice with the same id, so dedupe keys use it. */
  readonly activityId: string | undefined;
  readonly conversation: TurnConversation;
  /** A reference for posting into this conversation later (without this activity's id). */
  readonly reference: ConversationRef;
  readonly serviceUrl: string;
  readonly bot: BotIdentityRef;
  /** A card action's `data` exactly as sent (user-controlled: read it with readActionData); undefined otherwise. */
  readonly actionData: unknown;
  /** The id of the message a card action was clicked on (`replyToId`), or null. */
  readonly invokedMessage: string | null;
  /**
   * True when Teams sent the card action on its own as a `refresh` (`trigger: "automatic"`). A missing trigger is a
   * click: Microsoft 365 Agents Playground sends none (docs/playground.md).
   */
  readonly isAutomaticRefresh: boolean;
  /** Posts a reply into this conversation; resolves with the new message's id (null when Teams returned none). */
  send(message: BotMessage | string): Promise<string | null>;
  /** Replaces one message of this conversation for everyone who sees it. */
  update(messageId: string, message: BotMessage): Promise<void>;
  /** The acting user's roster entry; rejects when Teams does not give it. */
  member(): Promise<TeamsMember>;
}

/** Where this turn happened, as a reference the bot can post into later. */
export function originOf(turn: TurnPort, tenantId: string): Origin {
  return { reference: turn.reference, isChannel: turn.conversation.isChannel, serviceUrl: turn.serviceUrl, bot: turn.bot, tenantId };
}

/** The reference of a Teams channel the bot was never messaged in (the audit channel, approvers' channel). */
export function channelReference(input: { channelId: string; serviceUrl: string; bot: BotIdentityRef; tenantId: string | null }): ConversationRef {
  return {
    channelId: 'msteams',
    serviceUrl: input.serviceUrl,
    bot: { id: input.bot.id, name: input.bot.name ?? '' },
    conversation: {
      id: input.channelId,
      isGroup: true,
      conversationType: 'channel',
      tenantId: input.tenantId ?? undefined,
      name: '',
    },
  };
}

/** Errors from the connector that retrying cannot fix (the message or conversation is gone, or we may not post). */
export function isPermanentTeamsError(err: unknown): boolean {
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && (status === 400 || status === 403 || status === 404);
}
