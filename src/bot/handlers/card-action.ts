/**
 * The one gate every card action passes before a handler decides anything. Card data is forgeable; our records are
 * not. So, in this order:
 *   1. data    — the verb's keys, as readActionData reads them (a missing or non-string id is refused);
 *   2. click   — for verbs that change something, a `refresh` (trigger "automatic") is not a click;
 *   3. card    — the clicked message is a card the bot recorded for exactly the request the data names, in one of the
 *                verb's roles (this stops "click Approve on card A with data naming request B");
 *   4. subject — the request or draft the data names exists (a draft of the expected kind);
 *   5. access  — the clicker (from the envelope) may use it, by the roles and records in our store.
 * A handler states its needs; what it gets back is either everything it needs, or the refusal and the stage that
 * refused (some refusals are audited by the handler).
 */
import { readActionData, type ActionData, type Verb } from '../../cards';
import { OpterError } from '../../core/errors';
import { checkIsRequester, checkMayRequest, type Actor } from '../../requests/rules';
import type { CardRole, RequestRecord, Store } from '../../store';
import type { TurnPort } from '../turn-port';
import type { BotServices, Draft } from '../types';
import { checkDraftOwner, getDraft } from './drafts';

export type GuardStage = 'data' | 'click' | 'card' | 'subject' | 'access';

/** The verbs whose data names a request (the only ones a card binding can check). */
type RequestVerb = { [V in Verb]: ActionData<V> extends { requestId: string } ? V : never }[Verb];

/**
 * Who may click:
 * - `requester`: the request's requester;
 * - `draft-owner`: the admin the draft belongs to, still an admin;
 * - `admin`: any admin (the registration buttons: all they can do is ask for an approval);
 * - `decider`: any signed-in user — whether they may decide is the store's decision (approvals.ts);
 * - `anyone`: also nobody signed in (a view that changes nothing).
 */
export type CardAccess = 'requester' | 'draft-owner' | 'admin' | 'decider' | 'anyone';

interface NeedsBase<V extends Verb> {
  verb: V;
  /** Detail of the refusal when the data lacks the verb's keys. */
  missingData?: string;
  /** Refuse a refresh: the verb changes something (or reveals it). */
  clickOnly?: boolean;
}

export type CardActionNeeds =
  | (NeedsBase<RequestVerb> & { card: readonly CardRole[]; subject: 'request'; access: 'requester' | 'decider' | 'anyone' })
  | (NeedsBase<RequestVerb> & { card: readonly CardRole[]; subject: 'draft'; draftKind?: Draft['kind']; access: 'draft-owner' })
  /** Not bound to a recorded card (registration buttons name a registration, read again from the tenant). */
  | (NeedsBase<Verb> & { card: null; subject: 'none'; access: 'admin' | 'anyone' });

type SubjectOf<N extends CardActionNeeds> = N['subject'] extends 'request' ? { request: RequestRecord } : N['subject'] extends 'draft' ? { draft: Draft } : unknown;

export type Granted<N extends CardActionNeeds> = {
  error?: undefined;
  data: ActionData<N['verb']>;
  /** What the user typed into the card's inputs (strings only; validate before use). */
  inputs: Record<string, string>;
  actor: N['access'] extends 'anyone' ? Actor | null : Actor;
} & SubjectOf<N>;

/** A refusal, and the stage that refused; after the first stage, with the data that was read. */
export type Refused<N extends CardActionNeeds> =
  | { error: OpterError; stage: 'data'; data?: undefined }
  | { error: OpterError; stage: Exclude<GuardStage, 'data'>; data: ActionData<N['verb']> };

export type GuardServices = Pick<BotServices, 'store' | 'roles'>;

export function guardCardAction<const N extends CardActionNeeds>(turn: TurnPort, services: GuardServices, needs: N): Granted<N> | Refused<N> {
  const { store } = services;
  const read = readActionData(needs.verb, turn.actionData);
  if (!read) return { stage: 'data', error: new OpterError('E_REQUEST_NOT_FOUND', { detail: needs.missingData }) };
  const data = read.data as ActionData<N['verb']>;
  const refuse = (stage: Exclude<GuardStage, 'data'>, error: OpterError): Refused<N> => ({ stage, error, data });

  if (needs.clickOnly && turn.isAutomaticRefresh) return refuse('click', new OpterError('E_ACTION_NOT_CLICKED'));

  const requestId = (read.data as { requestId?: string }).requestId ?? '';
  if (needs.card) {
    const binding = checkCardBinding(store, turn, requestId, needs.card);
    if (binding) return refuse('card', binding);
  }

  let subject: { request: RequestRecord } | { draft: Draft } | null = null;
  if (needs.subject === 'request') {
    const request = store.requests.get(requestId);
    if (!request) return refuse('subject', new OpterError('E_REQUEST_NOT_FOUND'));
    subject = { request };
  } else if (needs.subject === 'draft') {
    const draft = getDraft(services, requestId);
    if (!draft || (needs.draftKind && draft.kind !== needs.draftKind)) return refuse('subject', new OpterError('E_REQUEST_NOT_FOUND'));
    subject = { draft };
  }

  const actor = turn.actor;
  const denied = accessRefusal(needs.access, actor, subject, services);
  if (denied) return refuse('access', denied);
  return { data, inputs: read.inputs, actor, ...subject } as Granted<N>;
}

function accessRefusal(access: CardAccess, actor: Actor | null, subject: { request: RequestRecord } | { draft: Draft } | null, { roles }: GuardServices): OpterError | null {
  switch (access) {
    case 'anyone':
      return null;
    case 'decider':
      return actor ? null : new OpterError('E_NOT_APPROVER');
    case 'admin':
      return actor ? checkMayRequest(actor, roles) : new OpterError('E_NOT_ADMIN');
    case 'requester':
      if (!subject || !('request' in subject)) throw new Error('guardCardAction: requester access needs the request');
      return actor ? checkIsRequester(actor, subject.request, roles) : new OpterError('E_NOT_REQUESTER');
    case 'draft-owner':
      if (!subject || !('draft' in subject)) throw new Error('guardCardAction: draft-owner access needs the draft');
      return checkDraftOwner(actor, subject.draft, roles);
  }
}

/** The conversation ids a stored card record may carry for this conversation (thread → its channel). */
function conversationCandidates(conversationId: string): string[] {
  const base = conversationId.split(';')[0]!;
  return base === conversationId ? [conversationId] : [conversationId, base];
}

/**
 * Refuses a card action unless the message it came from is a card the bot recorded for exactly the request the data
 * names, in one of the expected roles.
 */
export function checkCardBinding(store: Store, turn: TurnPort, requestId: string, roles: readonly CardRole[]): OpterError | null {
  const messageId = turn.invokedMessage;
  const conversationId = turn.conversation.id;
  if (!messageId || !conversationId) return new OpterError('E_REQUEST_NOT_FOUND', { detail: 'the action did not come from a card the bot sent' });
  for (const candidate of conversationCandidates(conversationId)) {
    const card = store.cards.findCard(candidate, messageId);
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
export function checkInvokedCardRole(store: Store, turn: TurnPort, role: CardRole): OpterError | null {
  const messageId = turn.invokedMessage;
  const conversationId = turn.conversation.id;
  if (!messageId || !conversationId) return null;
  for (const candidate of conversationCandidates(conversationId)) {
    const card = store.cards.findCard(candidate, messageId);
    if (card && card.role !== role) return new OpterError('E_REQUEST_NOT_FOUND', { detail: 'the card belongs to a different request' });
  }
  return null;
}

/** Records the message that carried the invoke as a card of `requestId` (e.g. a help card that became a form). */
export function recordInvokedCard(store: Store, turn: TurnPort, requestId: string, role: CardRole): void {
  const messageId = turn.invokedMessage;
  if (!messageId || !turn.conversation.id) return;
  store.cards.recordCard({
    requestId,
    role,
    conversationId: turn.conversation.id,
    activityId: messageId,
    serviceUrl: turn.serviceUrl,
    reference: turn.reference,
  });
}
