/**
 * Everything the bot sends to Teams outside the HTTP answer of an invoke: new messages (always as a new post —
 * `sendToConversation`, not a reply to botbuilder's made-up continuation id), card edits, and opening a user's 1:1
 * chat. Built on the host's ProactiveSender, which surfaces failures instead of letting botbuilder swallow them.
 */
import type { Activity, ConversationReference, TurnContext } from 'botbuilder';
import { cardAttachment } from '../../cards';
import type { BotIdentityRef, BotMessage, ConversationRef } from '../turn-port';
import type { BotServer } from './server';


/** Where a posted message lives, as the store's card records keep it. */
export interface PostedMessage {
  conversationId: string;
  activityId: string;
  serviceUrl: string;
  reference: ConversationRef;
}

/** A BotMessage as a Bot Framework message activity (the card as an Adaptive Card attachment). */
export function activityOf(message: BotMessage): Partial<Activity> {
  return { type: 'message', ...(message.card ? { attachments: [cardAttachment(message.card)] } : {}), ...(message.text ? { text: message.text } : {}) };
}

/**
 * Our stored reference as botbuilder's. The stored references were taken from botbuilder's own activities (or built
 * by channelReference in turn-port.ts), so the fields botbuilder reads are there; its type only insists on names.
 */
function sdkReference(reference: ConversationRef): Partial<ConversationReference> {
  return reference as Partial<ConversationReference>;
}

/** A reference for posting into a team channel known only by its id (AUDIT_CHANNEL_ID / APPROVALS_CHANNEL_ID). */
export class TeamsIO {
  constructor(private readonly server: Pick<BotServer, 'proactive'>) {}

  /** Posts a new message into the conversation of `reference`; resolves with where it landed. */
  async post(reference: ConversationRef, message: BotMessage): Promise<PostedMessage> {
    let activityId = '';
    await this.server.proactive.continueConversation(sdkReference(reference), async (ctx) => {
      activityId = await sendAsNewMessage(ctx, activityOf(message));
    });
    return this.posted(reference, activityId);
  }

  /** Replaces a message's content for everyone who sees it. */
  async update(reference: ConversationRef, activityId: string, message: BotMessage): Promise<void> {
    await this.server.proactive.continueConversation(sdkReference(reference), async (ctx) => {
      await ctx.updateActivity({ ...activityOf(message), type: 'message', id: activityId });
    });
  }

  /**
   * Opens (Teams returns the existing one if there is one) the bot's 1:1 chat with a user and posts `message`
   * in it. Returns the chat's reference, storable for later posts, and the posted message.
   */
  async postToNewPersonalChat(
    target: { serviceUrl: string; tenantId: string; user: { id: string; name?: string }; bot: BotIdentityRef },
    message: BotMessage,
  ): Promise<PostedMessage> {
    let activityId = '';
    const reference = await this.server.proactive.createPersonalConversation(
      { serviceUrl: target.serviceUrl, tenantId: target.tenantId, user: target.user, bot: { id: target.bot.id, name: target.bot.name } },
      async (ctx) => {
        activityId = await sendAsNewMessage(ctx, activityOf(message));
      },
    );
    return this.posted(reference, activityId);
  }

  private posted(reference: ConversationRef, activityId: string): PostedMessage {
    const conversationId = reference.conversation?.id;
    if (!conversationId || !reference.serviceUrl) throw new Error('cannot post: the conversation reference has no conversation id or serviceUrl');
    if (!activityId) throw new Error('Teams did not return an id for the posted message');
    // The activity id of the turn that posted is not part of where the message lives.
    const { activityId: _ignored, ...rest } = reference;
    return { conversationId, activityId, serviceUrl: reference.serviceUrl, reference: rest };
  }
}

/** Sends as a new message: without this, botbuilder replies to the random id of its continuation activity. */
async function sendAsNewMessage(ctx: TurnContext, activity: Partial<Activity>): Promise<string> {
  ctx.onSendActivities(async (_ctx, activities, next) => {
    for (const a of activities) delete a.replyToId;
    return next();
  });
  const response = await ctx.sendActivity(activity);
  return response?.id ?? '';
}
