/**
 * Four-eyes approval. Who gets the card: the approvals channel (APPROVALS_CHANNEL_ID, else the one chosen in Teams
 * with "use this channel for approvals" and approved by a second admin), else a 1:1 copy to every approver other
 * than the requester whose chat the bot knows, else the conversation the request came from. Every copy's message id is recorded, and after a
 * decision (or expiry, or cancel) all copies are re-rendered from the store for everyone.
 *
 * The decision itself is decided by the store, never by the card: approver, not the requester, same tenant, still
 * pending, not expired — checked by the rules and then made atomic by `requests.decide` (compare-and-set), so two
 * approvers or a Teams retry can never produce two decisions.
 */
import {
  approvalCard,
  channelChangeApprovalCard,
  type AdaptiveCardJson,
  type ApprovalCardModel,
  type ApprovalFrame,
  type ApprovalPlan,
  type ApprovalState,
  type ApprovalViewer,
} from '../../cards';
import { OpterError } from '../../core/errors';
import { typedTextProblem } from '../../provisioning';
import { checkMayDecide, selfDecisionCode, type Actor } from '../../requests/rules';
import { APPROVALS_CHANNEL, userConversationName, type NamedConversation, type RequestRecord } from '../../store';
import { appendAudit, userActor } from './audit';
import { channelChangePlan, isChannelChange } from './channel-change';
import { cardResult, refusal, type InvokeResult } from '../invoke-result';
import { actionApproval } from './lifecycle-plan';
import { roleNeedsFor } from '../../actions/registry';
import { cardMessage, channelReference, type ConversationRef } from '../turn-port';
import type { TurnPort } from '../turn-port';
import { guardCardAction } from './card-action';
import type { AddSenderPayload, ApprovalTarget, BotServices, ChannelChangePayload, LifecyclePayload, OutboxPayload, ProvisionPayload } from '../types';

export type AnyPayload = ProvisionPayload | AddSenderPayload | LifecyclePayload | ChannelChangePayload;

function approvalState(request: RequestRecord): ApprovalState {
  const d = request.decision;
  if (request.status === 'pending') return { status: 'pending' };
  if (request.status === 'expired') return { status: 'expired', at: request.updatedAt };
  if (request.status === 'cancelled') return { status: 'cancelled', by: { name: request.requester.name ?? 'the requester' }, at: request.updatedAt };
  if (d?.outcome === 'rejected') return { status: 'rejected', by: { name: d.by.name ?? d.by.aadObjectId }, at: d.at, reason: d.reason ?? '' };
  if (d?.outcome === 'approved') {
    const needsApprover = request.status === 'provisioning' && request.lastError?.code === 'E_APPROVER_NEEDED';
    return { status: 'approved', by: { name: d.by.name ?? d.by.aadObjectId }, at: d.at, ...(needsApprover ? { needsApprover } : {}) };
  }
  return { status: 'pending' };
}

/** What the job will do, as its action plans it from the stored payload (src/actions). */
export function approvalPlan(request: RequestRecord): ApprovalPlan {
  const approval = actionApproval(request);
  if (!approval) throw new Error(`request ${request.id} (${request.kind}) has no approval plan`);
  return approval.plan;
}

/**
 * The approval card of a request as this viewer sees it: the card for a channel change, else the plan of what the
 * job will do. Built from the stored request only.
 */
export function approvalCardFor(request: RequestRecord, viewer: ApprovalViewer = 'shared', extra: { refreshUserIds?: string[]; reasonError?: string } = {}): AdaptiveCardJson {
  const frame: ApprovalFrame = {
    requestId: request.id,
    requestedBy: { name: request.requester.name ?? request.requester.aadObjectId },
    requestedAt: request.createdAt,
    expiresAt: request.expiresAt,
    state: approvalState(request),
    viewer,
    ...(extra.refreshUserIds && extra.refreshUserIds.length ? { refreshUserIds: extra.refreshUserIds } : {}),
    ...(extra.reasonError ? { reasonError: extra.reasonError } : {}),
  };
  if (isChannelChange(request)) return channelChangeApprovalCard({ ...frame, ...channelChangePlan(request) });
  const approval = actionApproval(request);
  if (!approval) throw new Error(`request ${request.id} (${request.kind}) has no approval card`);
  const model: ApprovalCardModel = { ...frame, kind: approval.variant, plan: approval.plan, roleNeeds: roleNeedsFor(request.kind) };
  return approvalCard(model);
}

/** Which view of the approval card this person gets (authority from config, identity from the activity). */
export function viewerOf(services: BotServices, request: RequestRecord, actor: Actor | null): ApprovalViewer {
  if (!actor) return 'observer';
  if (actor.aadObjectId === request.requester.aadObjectId.toLowerCase()) return 'requester';
  return services.roles.approvers.has(actor.aadObjectId) ? 'approver' : 'observer';
}

// ---------------------------------------------------------------------------------------------------------------
// Posting
// ---------------------------------------------------------------------------------------------------------------

/** Decided once, when the request is created; the worker resolves each target when it posts. */
export function approvalTargets(services: BotServices, request: RequestRecord): ApprovalTarget[] {
  const { store, config } = services;
  // A configured channel is the only one; a channel chosen in Teams counts only while none is configured.
  if (config.approvalsChannelId) return [{ kind: 'channel-id', channelId: config.approvalsChannelId }];
  if (store.cards.getConversation(APPROVALS_CHANNEL)) return [{ kind: 'named', name: APPROVALS_CHANNEL }];
  const requester = request.requester.aadObjectId.toLowerCase();
  const personal = config.approvers
    .filter((id) => id !== requester)
    .filter((id) => store.cards.getUserConversation(id) !== null)
    .map((id): ApprovalTarget => ({ kind: 'named', name: userConversationName(id) }));
  return personal.length > 0 ? personal : [{ kind: 'origin' }];
}

/** Queue one approval post per target (call inside the transaction that creates the request). */
export function enqueueApprovalPosts(services: BotServices, request: RequestRecord): ApprovalTarget[] {
  const targets = approvalTargets(services, request);
  for (const target of targets) {
    const payload: OutboxPayload = { kind: 'approval-post', requestId: request.id, target };
    const key = target.kind === 'named' ? target.name : target.kind === 'channel-id' ? target.channelId : 'origin';
    services.store.outbox.enqueue({ kind: 'approval-post', target: { requestId: request.id }, payload, dedupeKey: `approval-post:${request.id}:${key}` });
  }
  return targets;
}

export function describeTargets(targets: ApprovalTarget[]): string {
  const t = targets[0];
  if (!t) return 'the approvers';
  if (t.kind === 'origin') return 'this conversation (no approver has a 1:1 chat with me yet)';
  if (t.kind === 'channel-id' || t.name === APPROVALS_CHANNEL) return 'the approvals channel';
  return `${targets.length} approver${targets.length === 1 ? '' : 's'} in their 1:1 chat with me`;
}

/** Where an approval copy goes, or null when the target cannot be reached (e.g. its reference was removed). */
export function resolveApprovalTarget(services: BotServices, request: RequestRecord, target: ApprovalTarget): { reference: ConversationRef; isChannel: boolean } | null {
  const origin = (request.payload as AnyPayload).origin;
  if (target.kind === 'origin') return { reference: origin.reference, isChannel: origin.isChannel };
  if (target.kind === 'channel-id') {
    return {
      reference: channelReference({ channelId: target.channelId, serviceUrl: origin.serviceUrl, bot: origin.bot, tenantId: request.tenantId }),
      isChannel: true,
    };
  }
  const named: NamedConversation<ConversationRef> | null = services.store.cards.getConversation<ConversationRef>(target.name);
  if (!named) return null;
  return { reference: named.reference, isChannel: named.reference.conversation?.conversationType === 'channel' };
}

/**
 * MRIs that get a personalised view through `refresh` on shared (channel) copies: the requester and every approver
 * whose Teams id the bot has learnt from their 1:1 chat.
 */
export function refreshIdsFor(services: BotServices, request: RequestRecord): string[] {
  const ids: string[] = [];
  if (request.requester.mri) ids.push(request.requester.mri);
  for (const approver of services.config.approvers) {
    const mri = services.store.cards.getUserConversation<ConversationRef>(approver)?.reference.user?.id;
    if (mri) ids.push(mri);
  }
  return ids;
}

export function sharedApprovalCard(services: BotServices, request: RequestRecord, isChannel: boolean): AdaptiveCardJson {
  return approvalCardFor(request, 'shared', { refreshUserIds: isChannel && request.status === 'pending' ? refreshIdsFor(services, request) : undefined });
}

/** Posts one approval copy and records its message id (outbox delivery). */
export async function postApprovalCopy(services: BotServices, requestId: string, target: ApprovalTarget): Promise<void> {
  const request = services.store.requests.get(requestId);
  if (!request) return;
  const where = resolveApprovalTarget(services, request, target);
  if (!where) {
    services.log.warn(`approval copy for request ${requestId} skipped: ${JSON.stringify(target)} is no longer known`);
    return;
  }
  const posted = await services.io.post(where.reference, cardMessage(sharedApprovalCard(services, request, where.isChannel)));
  services.store.cards.recordCard({ requestId, role: 'approval', ...posted });
  // A decision may have landed while we posted the pending card: bring this copy up to date too.
  const now = services.store.requests.get(requestId);
  if (now && now.status !== 'pending') enqueueApprovalSync(services, requestId, `late:${posted.activityId}`);
}

export function enqueueApprovalSync(services: BotServices, requestId: string, reason: string): void {
  const payload: OutboxPayload = { kind: 'approval-sync', requestId };
  services.store.outbox.enqueue({ kind: 'approval-sync', target: { requestId }, payload, dedupeKey: `approval-sync:${requestId}:${reason}` });
}

/**
 * Delegated mode: the request's job waits for an approver's sign-in. Its approval copies offer Continue (synced), and
 * each conversation that holds one gets a new message saying so — an edited card notifies nobody in Teams.
 */
export function askApproversToContinue(services: BotServices, request: RequestRecord, occasion: string): void {
  enqueueApprovalSync(services, request.id, `needs-approver:${occasion}`);
  const what = request.appName ? ` for ${request.appName}` : '';
  for (const copy of services.store.cards.listCards<ConversationRef>(request.id, 'approval')) {
    const payload: OutboxPayload = {
      kind: 'announce',
      reference: copy.reference,
      title: 'Needs an approver’s sign-in to continue',
      text: `Request ${request.id}${what} stopped before its next change: this bot changes the tenant only with an approver’s own sign-in. Press **Continue** on its approval card; nothing is done twice.`,
      tone: 'warning',
    };
    services.store.outbox.enqueue({ kind: 'announce', target: { requestId: request.id }, payload, dedupeKey: `needs-approver:${request.id}:${copy.id}:${occasion}` });
  }
}

/** Re-renders every recorded copy from the store (outbox delivery; idempotent). */
export async function syncApprovalCopies(services: BotServices, requestId: string): Promise<void> {
  const request = services.store.requests.get(requestId);
  if (!request) return;
  for (const copy of services.store.cards.listCards<ConversationRef>(requestId, 'approval')) {
    const isChannel = copy.reference.conversation?.conversationType === 'channel';
    await services.io.update(copy.reference, copy.activityId, cardMessage(sharedApprovalCard(services, request, isChannel)));
    services.store.cards.touchCard(copy.id);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Deciding
// ---------------------------------------------------------------------------------------------------------------

export interface DecisionHooks {
  /** Starts provisioning for an approved request (in the background). */
  onApproved(requestId: string): void;
}

function decidedView(services: BotServices, request: RequestRecord): InvokeResult {
  return cardResult(approvalCardFor(request, 'shared'));
}

/** Marks due pending requests expired, audits them, and queues their card updates and the requester's notice. */
export function expireDueApprovals(services: BotServices): RequestRecord[] {
  const { store } = services;
  return store.transaction(() => {
    const expired = store.requests.expireDue(services.clock.now());
    for (const request of expired) {
      appendAudit(store, {
        actor: { kind: 'system', name: 'Opter Mail bot' },
        action: 'request.expired',
        requestId: request.id,
        result: 'info',
        detail: `No approver decided before ${request.expiresAt}.`,
      });
      enqueueApprovalSync(services, request.id, 'expired');
      const payload: OutboxPayload = {
        kind: 'notify',
        requestId: request.id,
        title: 'Your request expired',
        text: `Nobody approved request ${request.id} (${request.appName ?? request.kind}) in time, so nothing was created. Ask again if it is still needed.`,
        tone: 'warning',
      };
      store.outbox.enqueue({ kind: 'notify', target: { requestId: request.id }, payload, dedupeKey: `notify:expired:${request.id}` });
    }
    return expired;
  });
}

export async function handleDecision(
  services: BotServices,
  turn: TurnPort,
  verb: 'approve' | 'reject',
  hooks: DecisionHooks,
): Promise<InvokeResult> {
  const { store, roles, clock } = services;
  // A refresh decides nothing (the approval card refreshes with its own verb, so this is a client quirk or forged).
  // Whether this clicker may decide is checked below, by the rules and then atomically by the store.
  const guarded = guardCardAction(turn, services, { verb, missingData: 'the card did not say which request', clickOnly: true, card: ['approval'], subject: 'request', access: 'decider' });
  const audited = (actor: Actor, requestId: string) => (error: OpterError): InvokeResult => {
    appendAudit(store, {
      actor: userActor(actor),
      action: `request.${verb}-refused`,
      requestId: store.requests.get(requestId) ? requestId : null,
      result: 'refused',
      detail: `${error.code}${error.detail ? `: ${error.detail}` : ''}`,
    });
    services.poke();
    return { error };
  };
  if (guarded.error) {
    // A click whose card is not this request's approval card (forged, or ids swapped) is audited.
    return guarded.stage === 'card' && turn.actor ? audited(turn.actor, guarded.data.requestId)(guarded.error) : { error: guarded.error };
  }
  const { actor } = guarded;
  const requestId = guarded.data.requestId;
  const refuseAndAudit = audited(actor, requestId);
  let request = guarded.request;

  // A repeated click or a Teams retry of the decision that already counted: answer as the first time did.
  const d = request.decision;
  if (d && d.by.aadObjectId.toLowerCase() === actor.aadObjectId && d.outcome === (verb === 'approve' ? 'approved' : 'rejected')) {
    return decidedView(services, request);
  }

  if (request.status === 'pending' && new Date(request.expiresAt) <= clock.now()) {
    expireDueApprovals(services);
    services.poke();
    request = store.requests.get(requestId)!;
  }

  const ruleError = checkMayDecide(actor, request, roles, clock.now(), verb);
  if (ruleError) {
    if (ruleError.category === 'permission') return refuseAndAudit(ruleError);
    if (request.status === 'expired') return refusal('E_REQUEST_EXPIRED');
    if (ruleError.code === 'E_REQUEST_NOT_PENDING') {
      return refusal('E_REQUEST_NOT_PENDING', `It was ${request.status}${request.decision ? ` by ${request.decision.by.name ?? 'an approver'}` : ''}.`);
    }
    return { error: ruleError };
  }

  const inputReason = (guarded.inputs.reason ?? '').trim();
  if (verb === 'reject' && !inputReason) {
    return cardResult(approvalCardFor(request, 'approver', { reasonError: 'Give a reason so the requester knows what to change.' }));
  }
  // The reason is shown to the requester and kept in the audit trail: nothing in it may hide or reorder text.
  const reasonProblem = verb === 'reject' ? typedTextProblem('reason', inputReason) : null;
  if (reasonProblem) return cardResult(approvalCardFor(request, 'approver', { reasonError: reasonProblem }));

  const outcome = store.requests.decide(requestId, {
    decision: verb,
    by: { aadObjectId: actor.aadObjectId, name: actor.name },
    reason: verb === 'reject' ? inputReason.slice(0, 500) : null,
    now: clock.now(),
  });
  if (!outcome.won) {
    switch (outcome.reason) {
      case 'not-found':
        return refusal('E_REQUEST_NOT_FOUND');
      case 'self-decision':
        return refuseAndAudit(new OpterError(selfDecisionCode(verb)));
      case 'expired':
        expireDueApprovals(services);
        services.poke();
        return refusal('E_REQUEST_EXPIRED');
      default: {
        const now = outcome.request!;
        const same = now.decision && now.decision.by.aadObjectId.toLowerCase() === actor.aadObjectId;
        if (same && now.decision!.outcome === (verb === 'approve' ? 'approved' : 'rejected')) return decidedView(services, now);
        return refusal('E_REQUEST_NOT_PENDING', `It was ${now.status}${now.decision ? ` by ${now.decision.by.name ?? 'an approver'}` : ''}.`);
      }
    }
  }

  const decided = outcome.request;
  store.transaction(() => {
    appendAudit(store, {
      actor: userActor(actor),
      action: verb === 'approve' ? 'request.approved' : 'request.rejected',
      requestId,
      result: 'success',
      detail: verb === 'reject' ? `Reason: ${decided.decision?.reason ?? ''}` : `Approved ${decided.appName ?? decided.kind} requested by ${decided.requester.name ?? decided.requester.aadObjectId}.`,
    });
    enqueueApprovalSync(services, requestId, decided.status);
    if (verb === 'reject') {
      const payload: OutboxPayload = {
        kind: 'notify',
        requestId,
        title: `Rejected by ${actor.name}`,
        text: `Request ${requestId} (${decided.appName ?? decided.kind}) was rejected. Reason: ${decided.decision?.reason ?? ''}`,
        tone: 'attention',
      };
      store.outbox.enqueue({ kind: 'notify', target: { requestId }, payload, dedupeKey: `notify:rejected:${requestId}` });
    }
  });
  services.poke();
  if (verb === 'approve') hooks.onApproved(requestId);
  return decidedView(services, decided);
}

/** The `refresh` of a channel copy: a view for this viewer, without refresh, never a state change. */
export function handleApprovalRefresh(services: BotServices, turn: TurnPort): InvokeResult {
  const guarded = guardCardAction(turn, services, { verb: 'refresh-approval', card: ['approval'], subject: 'request', access: 'anyone' });
  if (guarded.error) return { error: guarded.error };
  const { request, actor } = guarded;
  return cardResult(approvalCardFor(request, request.status === 'pending' ? viewerOf(services, request, actor) : 'shared'));
}
