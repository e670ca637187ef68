/**
 * Per-turn helpers shared by the handlers: who acts (from the activity envelope only), where the turn happened,
 * and whether a clicked card really belongs to the request its data names (card data is forgeable; our record of
 * which message carries which request's card is not).
 */
import type { TurnContext } from 'botbuilder';
import { OpterError } from '../../core/errors';
import { checkIsRequester, type Actor, type RoleConfig } from '../../requests/rules';
import type { CardRole, RequestRecord, Store } from '../../store';
import { actorOf, conversationRefOf, isChannel, type ActivityLike } from './teams-context';
import type { Origin, RequesterInfo } from '../types';

/** The acting user as the rules want it, or null when the envelope carries no Entra identity. */
export function ruleActorOf(activity: ActivityLike): Actor | null {
  const a = actorOf(activity);
  if (!a) return null;
  return { aadObjectId: a.aadObjectId, name: a.name, mri: a.mri, tenantId: a.tenantId ?? '' };
}

export function requesterInfo(actor: Actor): RequesterInfo {
  return { aadObjectId: actor.aadObjectId, name: actor.name, mri: actor.mri };
}

/** Where this turn happened, as a reference the bot can post into later. */
export function originOf(context: TurnContext, tenantId: string): Origin {
  const activity = context.activity;
  const { activityId: _activityId, ...reference } = conversationRefOf(activity);
  return {
    reference,
    isChannel: isChannel(activity),
    serviceUrl: activity.serviceUrl,
    bot: { id: activity.recipient?.id ?? '', name: activity.recipient?.name ?? '' },
    tenantId,
  };
}

/**
 * True when Teams sent this card action on its own, as a `refresh` (`trigger: "automatic"`). Only that value means a
 * refresh: `trigger` is optional in the Bot Framework schema and Microsoft 365 Agents Playground sends none on a
 * click, so a missing trigger is a click (docs/playground.md). Who may act is checked separately, as for any click.
 */
export function isAutomaticRefresh(activity: TurnContext['activity']): boolean {
  return (activity.value as { trigger?: unknown } | undefined)?.trigger === 'automatic';
}

/** The conversation ids a stored card record may carry for this activity's conversation (thread → its channel). */
function conversationCandidates(conversationId: string): string[] {
  const base = conversationId.split(';')[0]!;
  return base === conversationId ? [conversationId] : [conversationId, base];
}

/**
 * Refuses a card action unless the message it came from (replyToId) is a card the bot recorded for exactly the
 * request the data names, in one of the expected roles. This is what stops "click Approve on card A with data
 * naming request B".
 */
export function checkCardBinding(store: Store, activity: TurnContext['activity'], requestId: string, roles: CardRole[]): OpterError | null {
  const replyToId = activity.replyToId;
  const conversationId = activity.conversation?.id;
  if (!replyToId || !conversationId) return new OpterError('E_REQUEST_NOT_FOUND', { detail: 'the action did not come from a card the bot sent' });
  for (const candidate of conversationCandidates(conversationId)) {
    const card = store.cards.findCard(candidate, replyToId);
    if (!card) continue;
    if (card.requestId !== requestId || !roles.includes(card.role)) {
      return new OpterError('E_REQUEST_NOT_FOUND', { detail: 'the card belongs to a different request' });
    }
    return null;
  }
  return new OpterError('E_REQUEST_NOT_FOUND', { detail: 'the action did not come from a card the bot sent' });
}

/**
 * Refuses to bind the clicked message as a card of `role` when the bot already recorded it as a card of another role:
 * a crafted invoke naming, say, an approval card's message must not take that card over (its buttons would then
 * refuse every click). The store refuses it too (CardRoleConflict); this check answers before anything is created.
 */
export function checkInvokedCardRole(store: Store, activity: TurnContext['activity'], role: CardRole): OpterError | null {
  const replyToId = activity.replyToId;
  const conversationId = activity.conversation?.id;
  if (!replyToId || !conversationId) return null;
  for (const candidate of conversationCandidates(conversationId)) {
    const card = store.cards.findCard(candidate, replyToId);
    if (card && card.role !== role) return new OpterError('E_REQUEST_NOT_FOUND', { detail: 'the card belongs to a different request' });
  }
  return null;
}

/** Records the message that carried the invoke as a card of `requestId` (e.g. a help card that became a form). */
export function recordInvokedCard(store: Store, context: TurnContext, requestId: string, role: CardRole): void {
  const activity = context.activity;
  if (!activity.replyToId || !activity.conversation?.id) return;
  const { activityId: _activityId, ...reference } = conversationRefOf(activity);
  store.cards.recordCard({
    requestId,
    role,
    conversationId: activity.conversation.id,
    activityId: activity.replyToId,
    serviceUrl: activity.serviceUrl,
    reference,
  });
}

/**
 * A click only the requester may make (retry, hide the secret, "Opter updated"): the clicked message must be the
 * bot's card of that role for that request, the request must exist, and the clicker must be its requester.
 */
export function requesterCardAction(
  store: Store,
  roles: RoleConfig,
  activity: TurnContext['activity'],
  requestId: string,
  cardRoles: CardRole[],
): { request: RequestRecord; actor: Actor; error?: undefined } | { error: OpterError } {
  const binding = checkCardBinding(store, activity, requestId, cardRoles);
  if (binding) return { error: binding };
  const request = store.requests.get(requestId);
  if (!request) return { error: new OpterError('E_REQUEST_NOT_FOUND') };
  const actor = ruleActorOf(activity);
  const denied = actor ? checkIsRequester(actor, request, roles) : new OpterError('E_NOT_REQUESTER');
  if (denied || !actor) return { error: denied ?? new OpterError('E_NOT_REQUESTER') };
  return { request, actor };
}
