/**
 * Small pure helpers over Teams-shaped activities. Identity comes only from the activity envelope (which Azure Bot
 * Service vouches for in authenticated mode) — never from card data or message text.
 */
import { TurnContext, type Activity, type ConversationReference } from 'botbuilder';

/** Who sent an activity. `aadObjectId` is what ADMINS / APPROVERS hold; `mri` (29:…) is what Teams addresses. */
export interface Actor {
  /** Entra object id, lower-cased so it compares equal to the configured lists. */
  aadObjectId: string;
  /** Teams user id (`from.id`, "29:…"); needed for 1:1 conversations and card `refresh.userIds`. */
  mri: string;
  name: string;
  tenantId: string | null;
}

/**
 * Any activity-shaped object. Field types are not trusted (activities arrive from the network), so every helper
 * checks what it reads; a real `Activity` / `Partial<Activity>` fits.
 */
export type ActivityLike = { readonly [K in keyof Activity]?: unknown };

function record(value: unknown): Record<string, unknown> | null {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

function nonEmptyString(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}

/**
 * The tenant an activity comes from: `channelData.tenant.id` (what Teams always sends), else
 * `conversation.tenantId`. Lower-cased. Null when absent.
 */
export function tenantOf(activity: ActivityLike): string | null {
  const fromChannelData = nonEmptyString(record(record(activity.channelData)?.tenant)?.id);
  const fromConversation = nonEmptyString(record(activity.conversation)?.tenantId);
  return (fromChannelData ?? fromConversation)?.toLowerCase() ?? null;
}

/**
 * Both tenant fields, when the activity carries both — a mismatch means the envelope was hand-made, and
 * checkTenant (src/bot/auth.ts) refuses it.
 */
export function tenantFields(activity: ActivityLike): { channelData: string | null; conversation: string | null } {
  return {
    channelData: nonEmptyString(record(record(activity.channelData)?.tenant)?.id)?.toLowerCase() ?? null,
    conversation: nonEmptyString(record(activity.conversation)?.tenantId)?.toLowerCase() ?? null,
  };
}

/** The acting user, or null when the activity lacks an Entra object id (e.g. a bot, or a forged envelope). */
export function actorOf(activity: ActivityLike): Actor | null {
  const from = record(activity.from);
  const aadObjectId = nonEmptyString(from?.aadObjectId);
  const mri = nonEmptyString(from?.id);
  if (!aadObjectId || !mri) return null;
  return {
    aadObjectId: aadObjectId.toLowerCase(),
    mri,
    name: nonEmptyString(from?.name) ?? mri,
    tenantId: tenantOf(activity),
  };
}

/** A message in a team channel (including replies in a channel thread). */
export function isChannel(activity: ActivityLike): boolean {
  return record(activity.conversation)?.conversationType === 'channel';
}

/** A 1:1 chat between one user and the bot. */
export function isPersonal(activity: ActivityLike): boolean {
  return record(activity.conversation)?.conversationType === 'personal';
}

/** What to store to post into this conversation later (continueConversationAsync). */
export function conversationRefOf(activity: ActivityLike): Partial<ConversationReference> {
  return TurnContext.getConversationReference(activity as Partial<Activity>);
}

/** True when one of the activity's mention entities names the bot (the recipient). */
export function mentionsBot(activity: ActivityLike): boolean {
  const botId = record(activity.recipient)?.id;
  return mentionEntities(activity).some((m) => m.mentionedId === botId);
}

interface MentionEntity {
  mentionedId: string | null;
  mentionedName: string | null;
  text: string | null;
}

function mentionEntities(activity: ActivityLike): MentionEntity[] {
  const entities = Array.isArray(activity.entities) ? activity.entities : [];
  return entities
    .map((e) => record(e))
    .filter((e): e is Record<string, unknown> => e !== null && e.type === 'mention')
    .map((e) => ({
      mentionedId: nonEmptyString(record(e.mentioned)?.id),
      mentionedName: nonEmptyString(record(e.mentioned)?.name),
      text: nonEmptyString(e.text),
    }));
}

function decodeBasicEntities(s: string): string {
  return s
    .replace(/&nbsp;/gi, ' ')
    .replace(/&lt;/gi, '<')
    .replace(/&gt;/gi, '>')
    .replace(/&quot;/gi, '"')
    .replace(/&#39;|&apos;/gi, "'")
    .replace(/&amp;/gi, '&');
}

/**
 * The command text of a message: the bot's own @mentions removed, other users' mentions reduced to their names,
 * stray `<at>` tags dropped, Teams' HTML entities decoded and whitespace collapsed. Works whether or not teams-ai
 * already stripped the recipient mention.
 */
export function stripMentions(activity: ActivityLike): string {
  let text = typeof activity.text === 'string' ? activity.text : '';
  const botId = record(activity.recipient)?.id;
  for (const mention of mentionEntities(activity)) {
    if (!mention.text) continue;
    const replacement = mention.mentionedId === botId ? ' ' : ` ${mention.text.replace(/<\/?at>/gi, '')} `;
    text = text.split(mention.text).join(replacement);
  }
  text = text.replace(/<at>[^<]*<\/at>/gi, (tag) => ` ${tag.replace(/<\/?at>/gi, '')} `);
  text = decodeBasicEntities(text);
  return text.replace(/[\s\u00a0]+/g, ' ').trim();
}
