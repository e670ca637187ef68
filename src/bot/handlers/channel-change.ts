/**
 * "use this channel for audit|approvals". Where the bot posts the audit trail and the approval requests decides who
 * sees them, so no single admin can move it: the command makes a request that another approver must approve (the
 * usual four-eyes rules and approval card), and with AUDIT_CHANNEL_ID / APPROVALS_CHANNEL_ID set the channel is
 * configuration only and the command is refused. An approved change is audited and announced in the old and the new
 * channel, each naming who asked and who approved.
 */
import { errorCard, noticeCard, type ChannelRef } from '../../cards';
import { OpterError } from '../../core/errors';
import { checkMayRequest, type Actor } from '../../requests/rules';
import { APPROVALS_CHANNEL, AUDIT_CHANNEL, type NamedConversation, type RequestRecord } from '../../store';
import { describeTargets } from './approvals';
import { appendAudit, userActor } from './audit';
import { createRequestWithApprovals } from './forms';
import { kindOf } from './lifecycle-plan';
import { channelReference } from '../turn-port';
import { cardMessage, originOf, type ConversationRef, type TurnPort } from '../turn-port';
import { requestKindForStore, type BotServices, type ChannelChangePayload, type ChannelPurpose, type OutboxPayload } from '../types';

const CONVERSATION_NAMES: Record<ChannelPurpose, string> = { audit: AUDIT_CHANNEL, approvals: APPROVALS_CHANNEL };
const PINNING_SETTING: Record<ChannelPurpose, string> = { audit: 'AUDIT_CHANNEL_ID', approvals: 'APPROVALS_CHANNEL_ID' };
const WHAT: Record<ChannelPurpose, string> = { audit: 'audit entries', approvals: 'approval requests' };

export function isChannelChange(request: RequestRecord): request is RequestRecord<ChannelChangePayload> {
  return kindOf(request) === 'channel-change';
}

/** What the approval card shows for a channel change. */
export function channelChangePlan(request: RequestRecord<ChannelChangePayload>): { purpose: ChannelPurpose; to: ChannelRef; from: ChannelRef | null } {
  const p = request.payload;
  return { purpose: p.purpose, to: { channelId: p.to.channelId, name: p.to.name }, from: p.from };
}

function pinnedChannelId(services: BotServices, purpose: ChannelPurpose): string | null {
  return purpose === 'audit' ? services.config.auditChannelId : services.config.approvalsChannelId;
}

function currentChannel(services: BotServices, purpose: ChannelPurpose): NamedConversation<ConversationRef> | null {
  return services.store.cards.getConversation<ConversationRef>(CONVERSATION_NAMES[purpose]);
}

function refOf(named: NamedConversation<ConversationRef>): ChannelRef {
  return { channelId: named.conversationId, name: named.reference.conversation?.name || null };
}

function label(c: ChannelRef): string {
  return c.name ? `#${c.name}` : c.channelId;
}

async function reply(turn: TurnPort, title: string, text: string, tone: 'info' | 'good' | 'warning' = 'info'): Promise<void> {
  await turn.send(cardMessage(noticeCard({ title, text, tone })));
}

/** The command: refused when configured, else a pending request for a second admin (nothing changes yet). */
export async function handleUseChannel(services: BotServices, turn: TurnPort, actor: Actor, purpose: ChannelPurpose): Promise<void> {
  const { store } = services;
  const denied = checkMayRequest(actor, services.roles);
  if (denied) {
    await turn.send(cardMessage(errorCard({ code: denied.code, detail: denied.detail })));
    return;
  }
  const channelId = turn.conversation.teamsChannel?.id ?? null;

  const pinned = pinnedChannelId(services, purpose);
  if (pinned) {
    const error = new OpterError('E_CHANNEL_PINNED', { detail: PINNING_SETTING[purpose] });
    appendAudit(store, {
      actor: userActor(actor),
      action: `config.${purpose}-channel-refused`,
      result: 'refused',
      objects: { channelId: channelId ?? turn.conversation.id, configuredChannelId: pinned },
      detail: `${error.code}: ${PINNING_SETTING[purpose]} is set`,
    });
    services.poke();
    await turn.send(cardMessage(errorCard({ code: error.code, detail: error.detail })));
    return;
  }
  if (!channelId) {
    await turn.send(`Write “use this channel for ${purpose}” in the team channel you want to use, with an @mention of me.`);
    return;
  }

  const name = turn.conversation.teamsChannel?.name ?? null;
  const current = currentChannel(services, purpose);
  if (current?.conversationId === channelId) {
    await reply(turn, `This already is the ${purpose} channel`, `Nothing to change: ${WHAT[purpose]} are posted here.`);
    return;
  }
  const waiting = store.requests
    .list<ChannelChangePayload>({ kind: requestKindForStore('channel-change'), status: 'pending' })
    .find((r) => r.payload.purpose === purpose && r.payload.to.channelId === channelId);
  if (waiting) {
    await reply(turn, 'Already waiting for approval', `Request ${waiting.id} to post ${WHAT[purpose]} here is waiting for a second admin.`, 'warning');
    return;
  }

  const base = channelReference({ channelId, serviceUrl: turn.serviceUrl, bot: turn.bot, tenantId: actor.tenantId });
  const reference: ConversationRef = { ...base, conversation: { ...base.conversation!, name: name ?? '' } };
  const to = { channelId, name };
  const payload: ChannelChangePayload = {
    purpose,
    to: { ...to, reference },
    from: current ? refOf(current) : null,
    origin: originOf(turn, actor.tenantId),
  };
  const { request, created, targets } = createRequestWithApprovals(services, {
    kind: 'channel-change',
    actor,
    appName: null,
    payload,
    dedupeKey: `channel-change:${purpose}:${turn.activityId ?? `${channelId}:${services.clock.now().toISOString()}`}`,
    summary: `Post ${WHAT[purpose]} to ${label(to)} (${channelId}) instead of ${payload.from ? `${label(payload.from)} (${payload.from.channelId})` : 'no channel yet'}.`,
  });
  await reply(
    turn,
    'Waiting for a second admin',
    `${created ? 'I asked' : 'I already asked'} ${describeTargets(targets)} to approve request ${request.id}: ${WHAT[purpose]} go here only once another approver agrees. Both channels are told when it changes.`,
    'warning',
  );
}

/**
 * An approved channel change takes effect: the named conversation moves, the change is audited, and the old and the
 * new channel are told — all in one transaction, once (compare-and-set on the request's status).
 */
export function applyChannelChange(services: BotServices, request: RequestRecord<ChannelChangePayload>): void {
  const { store } = services;
  const p = request.payload;
  const decidedBy = request.decision?.by;
  store.transaction(() => {
    const previous = currentChannel(services, p.purpose);
    const moved = store.requests.setStatus(request.id, 'succeeded', {
      from: ['approved', 'provisioning'],
      result: { purpose: p.purpose, channelId: p.to.channelId, previousChannelId: previous?.conversationId ?? null },
      lastError: null,
    });
    if (!moved.changed) return;
    store.cards.setConversation(CONVERSATION_NAMES[p.purpose], {
      conversationId: p.to.channelId,
      serviceUrl: p.origin.serviceUrl,
      tenantId: request.tenantId,
      reference: p.to.reference,
      updatedBy: decidedBy?.aadObjectId ?? null,
    });
    const requester = request.requester.name ?? request.requester.aadObjectId;
    const approver = decidedBy?.name ?? decidedBy?.aadObjectId ?? 'an approver';
    const before = previous && previous.conversationId !== p.to.channelId ? refOf(previous) : null;
    const entry = appendAudit(store, {
      actor: decidedBy ? userActor({ aadObjectId: decidedBy.aadObjectId, name: decidedBy.name }) : { kind: 'system', name: 'Opter Mail bot' },
      action: `config.${p.purpose}-channel`,
      requestId: request.id,
      result: 'success',
      objects: { channelId: p.to.channelId, ...(before ? { previousChannelId: before.channelId } : {}) },
      detail: `${WHAT[p.purpose][0]!.toUpperCase()}${WHAT[p.purpose].slice(1)} now go to ${label(p.to)}${before ? ` instead of ${label(before)}` : ''}; asked by ${requester}, approved by ${approver}.`,
    });
    const who = `${requester} asked and ${approver} approved (request ${request.id})`;
    const from = p.purpose === 'audit' ? ` From audit entry #${entry.seq} on, every entry is posted here, one thread per request.` : '';
    announce(services, request.id, 'new', p.to.reference, {
      title: `This is now the ${p.purpose} channel`,
      text: `${who}: ${WHAT[p.purpose]} are posted here${before ? ` instead of ${label(before)}` : ''}.${from}`,
    });
    if (before && previous) {
      const upTo = p.purpose === 'audit' ? ` Entries up to #${entry.seq - 1} were posted here.` : '';
      announce(services, request.id, 'old', previous.reference, {
        title: `The ${p.purpose} channel moved`,
        text: `${who}: ${WHAT[p.purpose]} now go to ${label(p.to)}, no longer here.${upTo}`,
      });
    }
  });
  services.poke();
}

function announce(services: BotServices, requestId: string, which: 'new' | 'old', reference: ConversationRef, n: { title: string; text: string }): void {
  const payload: OutboxPayload = { kind: 'announce', reference, title: n.title, text: n.text, tone: 'warning' };
  services.store.outbox.enqueue({ kind: 'announce', target: { requestId }, payload, dedupeKey: `announce:${requestId}:${which}` });
}
