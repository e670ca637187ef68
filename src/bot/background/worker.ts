/**
 * Background work: delivering the outbox to Teams (audit posts, approval copies and their updates, secret cards,
 * notices, final progress states, rotation and result cards, expiry reminders) and the sweeps (approvals, unrevealed
 * secrets and their credentials, plus the lifecycle's: see lifecycle.ts).
 *
 * Delivery is at-least-once: an item is leased, delivered, then marked sent; a failure is retried with exponential
 * backoff (Teams 429/5xx after botbuilder's own retries), a permanent refusal (400/403/404) gives up on the item,
 * and items survive restarts in the store. Cards are rendered from the store at delivery time, so a late delivery
 * shows the current state, never a stale one.
 */
import { noticeCard } from '../../cards';
import { AUDIT_CHANNEL, type OutboxItem } from '../../store';
import { expireDueApprovals, postApprovalCopy, syncApprovalCopies, type AnyPayload } from '../handlers/approvals';
import { auditCardFor } from '../handlers/audit';
import { resultCardFor } from './lifecycle-jobs';
import { describeError } from '../describe-error';
import { reminderCard } from './reminders';
import { postRotationCard, syncRotationCards } from '../handlers/rotation';
import { publishProgress } from './runner';
import { notifyRequesterPersonally, postSecretCard, sweepSecrets, syncSecretCards } from '../handlers/secrets';
import { channelReference, isPermanentTeamsError } from '../turn-port';
import { cardMessage, type BotIdentityRef, type ConversationRef, type TurnPort } from '../turn-port';
import type { BotServices, OutboxPayload } from '../types';

/** Raised when an item has nowhere to go yet (no audit channel chosen): retried at a fixed, calm pace. */
export class NotRoutableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotRoutableError';
  }
}

/** Raised for a reply whose thread's root post has not landed yet: tried again when the root is next due. */
export class AwaitingThreadRootError extends Error {
  constructor(
    readonly rootSeq: number,
    readonly retryAt: Date | null,
  ) {
    super(`waiting for the post of audit entry #${rootSeq}, the root of its thread`);
    this.name = 'AwaitingThreadRootError';
  }
}

/** Where the bot was last reached (serviceUrl + its own id), needed to address a channel known only by id. */
export interface LastSeen {
  serviceUrl: string;
  bot: BotIdentityRef;
  tenantId: string;
}
export const LAST_SEEN_KEY = 'bot:last-seen';

export function rememberLastSeen(services: BotServices, turn: Pick<TurnPort, 'serviceUrl' | 'bot'>, tenantId: string): void {
  const { serviceUrl, bot } = turn;
  if (!serviceUrl || !bot.id) return;
  const current = services.store.kv.get<LastSeen>(LAST_SEEN_KEY)?.value;
  if (current && current.serviceUrl === serviceUrl && current.bot.id === bot.id && current.tenantId === tenantId) return;
  services.store.kv.set(LAST_SEEN_KEY, { serviceUrl, bot: { id: bot.id, name: bot.name ?? '' }, tenantId });
}

export function auditChannel(services: BotServices): ConversationRef {
  const named = services.store.cards.getConversation<ConversationRef>(AUDIT_CHANNEL);
  const channelId = services.config.auditChannelId;
  // A configured channel is the only one (a channel chosen in Teams before the variable was set no longer counts).
  if (!channelId && named) return named.reference;
  const seen = services.store.kv.get<LastSeen>(LAST_SEEN_KEY)?.value;
  if (channelId && seen) return channelReference({ channelId, serviceUrl: seen.serviceUrl, bot: seen.bot, tenantId: seen.tenantId });
  throw new NotRoutableError(
    channelId
      ? `AUDIT_CHANNEL_ID is set, but the bot has not received any activity yet, so it does not know where Teams is`
      : 'no audit channel yet: an admin writes "use this channel for audit" in it, or set AUDIT_CHANNEL_ID',
  );
}

export async function deliver(services: BotServices, payload: OutboxPayload): Promise<void> {
  const { store, io } = services;
  switch (payload.kind) {
    case 'audit':
      return postAuditEntry(services, payload.seq, payload.threadRootSeq ?? null);
    case 'approval-post':
      return postApprovalCopy(services, payload.requestId, payload.target);
    case 'approval-sync':
      return syncApprovalCopies(services, payload.requestId);
    case 'secret-post':
      return postSecretCard(services, payload.requestId);
    case 'secret-sync':
      return syncSecretCards(services, payload.requestId);
    case 'notify': {
      const request = store.requests.get(payload.requestId);
      if (!request) return;
      const card = noticeCard({ title: payload.title, text: payload.text, tone: payload.tone });
      if (payload.personal) return notifyRequesterPersonally(services, request, card);
      await io.post((request.payload as AnyPayload).origin.reference, cardMessage(card));
      return;
    }
    case 'progress-final': {
      const request = store.requests.get(payload.requestId);
      if (!request) return;
      // A late copy (after a Retry started the job again, say) must not put an old state back on the card.
      if (payload.forStatus && request.status !== payload.forStatus) return;
      await publishProgress(services, request, payload.card as never);
      return;
    }
    case 'announce':
      await io.post(payload.reference, cardMessage(noticeCard({ title: payload.title, text: payload.text, tone: payload.tone })));
      return;
    case 'rotation-post':
      return postRotationCard(services, payload.requestId);
    case 'rotation-sync':
      return syncRotationCards(services, payload.requestId);
    case 'result-post': {
      const request = store.requests.get(payload.requestId);
      const result = request ? resultCardFor(request) : null;
      if (!result) return;
      await io.post(result.origin.reference, cardMessage(result.card));
      return;
    }
    case 'reminder': {
      const card = reminderCard(services, payload.reminder);
      if (payload.to === 'audit') {
        await io.post(auditChannel(services), cardMessage(card));
        return;
      }
      const request = store.requests.get(payload.to.requestId);
      if (!request) return;
      await notifyRequesterPersonally(services, request, card);
      return;
    }
  }
}

/**
 * One audit entry to the audit channel, threaded: the first entry of a request is a top-level post, the later ones
 * reply to it (`{channelId};messageid={rootActivityId}` — see docs/operations.md, "The audit channel"). A reply waits
 * while its root is still on its way; if the root will never land in this channel (given up, or posted to the
 * channel used before a change), the reply becomes the thread's top-level post here.
 */
async function postAuditEntry(services: BotServices, seq: number, threadRootSeq: number | null): Promise<void> {
  const { store, io } = services;
  const entry = store.audit.get(seq);
  if (!entry) return;
  const channel = auditChannel(services);
  const channelId = (channel.conversation?.id ?? '').split(';')[0]!;
  let threadActivityId: string | null = null;
  if (threadRootSeq !== null && threadRootSeq !== seq) {
    threadActivityId = store.audit.threadPost(threadRootSeq, channelId);
    if (!threadActivityId) {
      const root = store.outbox.getByDedupeKey(`audit:${threadRootSeq}`);
      if (root && root.status === 'pending') throw new AwaitingThreadRootError(threadRootSeq, new Date(root.nextAttemptAt));
      if (root && root.status === 'leased') throw new AwaitingThreadRootError(threadRootSeq, null);
    }
  }
  const target = threadActivityId ? threadReference(channel, channelId, threadActivityId) : channel;
  const posted = await io.post(target, cardMessage(auditCardFor(entry)));
  store.audit.recordDelivery({ seq, conversationId: channelId, activityId: posted.activityId, threadRootSeq, threadActivityId: threadActivityId ?? posted.activityId });
}

/** The reference of a reply in a channel thread: the channel's conversation id with the root message's id. */
function threadReference(channel: ConversationRef, channelId: string, rootActivityId: string): ConversationRef {
  return { ...channel, conversation: { ...channel.conversation!, id: `${channelId};messageid=${rootActivityId}` } };
}

export class BackgroundWorker {
  private chain: Promise<void> = Promise.resolve();
  private drainQueued = false;
  private sweepTimer: ReturnType<typeof setInterval> | null = null;
  private wakeTimer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;

  constructor(
    private readonly services: BotServices,
    private readonly intervalMs: number,
    /** Further periodic work (the lifecycle: due waits, secret retirements, expiry reminders). */
    private readonly extraSweep?: () => Promise<void>,
  ) {}

  start(): void {
    this.sweepTimer = setInterval(() => void this.tick().catch(() => undefined), this.intervalMs);
    this.sweepTimer.unref?.();
    this.poke();
  }

  /** Deliver due outbox items soon (coalesces: one queued drain at a time). */
  poke(): void {
    if (this.stopped || this.drainQueued) return;
    this.drainQueued = true;
    this.enqueue(async () => {
      this.drainQueued = false;
      await this.drain();
    });
  }

  /** Runs the sweeps and delivers everything due now; resolves when done (tests call this instead of waiting). */
  tick(): Promise<void> {
    return this.enqueue(async () => {
      await this.sweep();
      await this.drain();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    await this.chain;
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    const run = this.chain.then(async () => {
      if (this.stopped) return;
      try {
        await work();
      } catch (e) {
        this.services.log.error(`background work failed: ${describeError(e)}`);
      }
    });
    this.chain = run;
    return run;
  }

  private async sweep(): Promise<void> {
    const expired = expireDueApprovals(this.services);
    if (expired.length) this.services.log.info(`${expired.length} approval request(s) expired`);
    await sweepSecrets(this.services);
    if (this.extraSweep) await this.extraSweep();
  }

  /** Leases and delivers due items until none is due (bounded per call), then sleeps until the next one is due. */
  private async drain(): Promise<void> {
    const { store, clock } = this.services;
    for (let round = 0; round < 50 && !this.stopped; round++) {
      const items = store.outbox.claimDue<unknown, OutboxPayload>(clock.now(), 10);
      if (items.length === 0) break;
      for (const item of items) {
        if (this.stopped) {
          // Hand leased-but-untried items back now, so the next process need not wait for their leases to run out.
          store.outbox.markFailed(item.id, 'not attempted: the bot stopped', clock.now(), { now: clock.now() });
          continue;
        }
        await this.deliverOne(item);
      }
    }
    this.scheduleWake();
  }

  private async deliverOne(item: OutboxItem<unknown, OutboxPayload>): Promise<void> {
    const { store, clock, settings, log } = this.services;
    try {
      await deliver(this.services, item.payload);
      store.outbox.markSent(item.id, clock.now());
    } catch (e) {
      const now = clock.now();
      const reason = describeError(e);
      if (e instanceof AwaitingThreadRootError) {
        // Not a failure: due again with the root (claimed first, being older), or soon if another worker holds it.
        const retryAt = e.retryAt && e.retryAt > now ? e.retryAt : new Date(now.getTime() + (e.retryAt ? 0 : settings.outboxRetryBaseMs));
        store.outbox.markFailed(item.id, reason, retryAt, { now });
        return;
      }
      if (e instanceof NotRoutableError) {
        store.outbox.markFailed(item.id, reason, new Date(now.getTime() + settings.auditUnroutedRetryMs), { now });
        return;
      }
      if (isPermanentTeamsError(e)) {
        log.warn(`outbox ${item.kind} #${item.id} refused by Teams for good (${reason}); giving up on it`);
        store.outbox.markFailed(item.id, reason, now, { now, maxAttempts: 0 });
        return;
      }
      const backoff = Math.min(settings.outboxRetryMaxMs, settings.outboxRetryBaseMs * 2 ** Math.min(item.attempts - 1, 20));
      log.warn(`outbox ${item.kind} #${item.id} attempt ${item.attempts} failed (${reason}); retrying in ${backoff} ms`);
      store.outbox.markFailed(item.id, reason, new Date(now.getTime() + backoff), { now });
    }
  }

  private scheduleWake(): void {
    if (this.stopped) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = null;
    const next = this.services.store.outbox.nextDueAt();
    if (!next) return;
    const wait = Math.max(0, next.getTime() - this.services.clock.now().getTime());
    if (wait >= this.intervalMs) return; // the periodic tick will get it
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = null;
      this.poke();
    }, wait + 5);
    this.wakeTimer.unref?.();
  }
}
