/**
 * The only place that adapts botbuilder's TurnContext to the handlers' TurnPort (src/bot/turn-port.ts). Identity
 * comes from the activity envelope only (which Azure Bot Service vouches for in authenticated mode), never from card
 * data or message text.
 */
import { TeamsInfo, type TurnContext } from 'botbuilder';
import type { Actor } from '../../requests/rules';
import type { TurnPort } from '../turn-port';
import { actorOf, conversationRefOf, isChannel, isPersonal, type ActivityLike } from './teams-context';
import { activityOf } from './teams-io';

/** The acting user as the rules want it, or null when the envelope carries no Entra identity. */
export function ruleActorOf(activity: ActivityLike): Actor | null {
  const a = actorOf(activity);
  if (!a) return null;
  return { aadObjectId: a.aadObjectId, name: a.name, mri: a.mri, tenantId: a.tenantId ?? '' };
}

/** `actionData`: what teams-ai hands a card-action route (the invoke's `action.data`). */
export function turnPortOf(context: TurnContext, actionData?: unknown): TurnPort {
  const activity = context.activity;
  const channel = isChannel(activity);
  const channelData = (activity.channelData ?? {}) as { channel?: { id?: string; name?: string } };
  const conversationId: string = activity.conversation?.id ?? '';
  return {
    actor: ruleActorOf(activity),
    activityId: activity.id,
    conversation: {
      id: conversationId,
      isChannel: channel,
      isPersonal: isPersonal(activity),
      teamsChannel: channel ? { id: channelData.channel?.id ?? conversationId.split(';')[0]!, name: channelData.channel?.name?.trim() || null } : null,
    },
    // Read when asked: most turns never need it.
    get reference() {
      const { activityId: _activityId, ...reference } = conversationRefOf(activity);
      return reference;
    },
    serviceUrl: activity.serviceUrl,
    bot: { id: activity.recipient?.id ?? '', name: activity.recipient?.name ?? '' },
    actionData,
    invokedMessage: activity.replyToId || null,
    isAutomaticRefresh: (activity.value as { trigger?: unknown } | undefined)?.trigger === 'automatic',
    async send(message) {
      const response = await context.sendActivity(typeof message === 'string' ? message : activityOf(message));
      return response?.id || null;
    },
    async update(messageId, message) {
      await context.updateActivity({ ...activityOf(message), id: messageId });
    },
    member() {
      return TeamsInfo.getMember(context, activity.from.id);
    },
  };
}
