/**
 * The one-time secret, from the engine's hand-over to the requester's single reveal.
 *
 * - The sink seals the secret in the store (AES-256-GCM, owner = requester, purge time = now + SECRET_REVEAL_TTL) and
 *   registers the value with the logger's redaction, so it can never be printed.
 * - The card is always posted in the requester's 1:1 chat (opened proactively when the request came from a
 *   channel). It has no `refresh`: Teams fires refreshes without anyone clicking.
 * - Reveal: only an `Action.Execute` click by the requester (`trigger: "manual"`, or no trigger as Microsoft 365
 *   Agents Playground sends it); the store's claim is atomic (one winner among any number of concurrent clicks) and
 *   destroys the ciphertext; the plaintext exists only in that invoke response. Refreshes (`trigger: "automatic"`),
 *   other people and later clicks never get it, and are told why.
 * - Base card vs. the revealed view: editing the message for everyone also replaces the requester's revealed view on
 *   their screen. So the base card is switched to "revealed" only when the requester presses "Done, hide it", or —
 *   if they never do — after `revealGraceMs` (an outbox item with `notBefore`), long enough to copy the value.
 * - Unrevealed secrets expire: ciphertext purged, credential removed from the app (`removePassword`, retried until
 *   it succeeds, also after a restart), the requester told, everything audited.
 */
import {
  revealedSecretCard,
  secretExpiredCard,
  secretHiddenCard,
  secretReadyCard,
  formatUtc,
  type AdaptiveCardJson,
  type SecretFacts,
} from '../../cards';
import type { SecretSink } from '../../core/ports';
import type { RequestRecord, SecretMetadata } from '../../store';
import { appendAudit, userActor } from './audit';
import { replaceForEveryone } from './forms';
import { cardResult, refusal, type InvokeResult } from '../invoke-result';
import { describeError } from '../describe-error';
import { cardMessage, type ConversationRef, type TurnPort } from '../turn-port';
import { guardCardAction } from './card-action';
import { checkMayRemoveCredential } from '../../requests/rules';
import type { BotServices, OutboxPayload, ProvisionPayload, RequestResult } from '../types';
import { SYSTEM_ACTOR } from '../types';

/**
 * Plaintexts this process handed to the logger's redaction, by request, so they can be dropped from memory as soon
 * as they no longer need redacting (revealed + grace period, expired, or replaced). Never persisted.
 */
const redactedValues = new WeakMap<BotServices, Map<string, string>>();

function holdForRedaction(services: BotServices, requestId: string, secretText: string): void {
  let held = redactedValues.get(services);
  if (!held) redactedValues.set(services, (held = new Map()));
  const previous = held.get(requestId);
  if (previous && previous !== secretText) services.log.secrets.forget(previous);
  held.set(requestId, secretText);
  services.log.secrets.add(secretText);
}

function releaseFromRedaction(services: BotServices, requestId: string, afterMs = 0): void {
  const held = redactedValues.get(services);
  const value = held?.get(requestId);
  if (!held || !value) return;
  const release = () => {
    if (held.get(requestId) === value) held.delete(requestId);
    services.log.secrets.forget(value);
  };
  if (afterMs <= 0) return release();
  setTimeout(release, afterMs).unref?.();
}

export function createSecretSink(services: BotServices): SecretSink {
  return {
    async deliver(s) {
      const { store, clock, config } = services;
      const request = store.requests.getByJobId(s.jobId);
      if (!request) throw new Error(`no request is linked to job ${s.jobId}; the secret is not kept`);
      holdForRedaction(services, request.id, s.secretText);
      const now = clock.now();
      const put = store.secrets.put({
        requestId: request.id,
        jobId: s.jobId,
        appId: s.appId,
        appObjectId: s.appObjectId,
        keyId: s.keyId,
        secretText: s.secretText,
        ownerAadObjectId: request.requester.aadObjectId,
        expiresAt: new Date(now.getTime() + config.secretRevealTtlHours * 3_600_000),
        credentialEndDateTime: s.endDateTime,
        now,
      });
      appendAudit(store, {
        actor: SYSTEM_ACTOR,
        action: 'secret.stored',
        requestId: request.id,
        result: 'success',
        objects: { appId: s.appId, keyId: s.keyId, jobId: s.jobId },
        detail: `Sealed for ${request.requester.name ?? request.requester.aadObjectId}; purged unrevealed at ${put.secret.expiresAt}.`,
      });
      const held = services.delegation?.peek(request.id) ?? null;
      if (put.replaced && services.delegation && !held) {
        // Delegated mode without a sign-in at hand (never in a run that just made a secret): leave it for one.
        appendAudit(store, {
          actor: SYSTEM_ACTOR,
          action: 'secret.credential-removal-needs-sign-in',
          requestId: request.id,
          result: 'info',
          objects: { appId: put.replaced.appId, keyId: put.replaced.keyId },
          detail: 'The earlier unrevealed secret of this request can no longer be revealed; its credential stays on the app until an Application Administrator removes it with their own sign-in.',
        });
      } else if (put.replaced) {
        // A still-sealed earlier secret of this request can no longer be revealed: its credential must go — with the
        // approver's access of the run that made the new one in delegated mode (the standing identity only reads).
        await (held?.directory ?? services.tenant.adapters.directory).removePassword(put.replaced.appObjectId, put.replaced.keyId);
        appendAudit(store, {
          actor: SYSTEM_ACTOR,
          action: 'secret.replaced',
          requestId: request.id,
          result: 'success',
          objects: { appId: put.replaced.appId, keyId: put.replaced.keyId },
          detail: 'The earlier unrevealed secret of this request was removed from the app.',
        });
      }
      services.poke();
    },
    holds: (jobId, keyId) => services.store.secrets.holds(jobId, keyId),
  };
}

function factsOf(request: RequestRecord, meta: SecretMetadata | null): SecretFacts {
  const result = (request.result ?? {}) as Partial<RequestResult>;
  return {
    requestId: request.id,
    appDisplayName: (request.payload as ProvisionPayload).appName ?? request.appName ?? '',
    tenantId: result.tenantId ?? request.tenantId,
    clientId: result.clientId ?? meta?.appId ?? '',
    secretExpiresAt: meta?.credentialEndDateTime ?? result.credentialEndDateTime ?? '',
    groupSmtp: result.groupSmtp ?? '',
    scoping: result.scoping ?? 'access-policy',
  };
}

/** The card everyone sees in the chat: ready (with Reveal), revealed (who/when) or expired. Never the secret. */
export function secretBaseCard(services: BotServices, request: RequestRecord): AdaptiveCardJson {
  const meta = services.store.secrets.get(request.id);
  const facts = factsOf(request, meta);
  // "New secret" on the later states: the registration is the app (client id), as on the status card.
  const registrationId = facts.clientId || undefined;
  if (meta?.state === 'revealed' && meta.revealedAt) {
    return secretHiddenCard({ ...facts, revealedAt: meta.revealedAt, revealedBy: { name: meta.revealedBy?.name ?? request.requester.name ?? 'the requester' }, registrationId });
  }
  if (meta?.state === 'expired' && meta.expiredAt) {
    const credentialLeft = services.delegation && !meta.credentialRemovedAt ? { keyId: meta.keyId } : undefined;
    return secretExpiredCard({ ...facts, expiredAt: meta.expiredAt, registrationId, ...(credentialLeft ? { credentialLeft } : {}) });
  }
  return secretReadyCard({ ...facts, requester: { name: request.requester.name ?? 'the requester' }, revealDeadline: meta?.expiresAt ?? request.updatedAt });
}

/** The requester's 1:1 chat: the stored one, or opened now from the request's origin (and stored). Returns where the card landed. */
export async function postToRequesterChat(services: BotServices, request: RequestRecord, card: AdaptiveCardJson) {
  const { store, io } = services;
  const known = store.cards.getUserConversation<ConversationRef>(request.requester.aadObjectId);
  if (known) return io.post(known.reference, cardMessage(card));
  const origin = (request.payload as Pick<ProvisionPayload, 'origin'>).origin;
  if (!request.requester.mri) throw new Error(`request ${request.id} has no Teams id for the requester; cannot open a 1:1 chat`);
  const posted = await io.postToNewPersonalChat(
    { serviceUrl: origin.serviceUrl, tenantId: request.tenantId, user: { id: request.requester.mri, name: request.requester.name ?? undefined }, bot: origin.bot },
    cardMessage(card),
  );
  store.cards.setUserConversation(request.requester.aadObjectId, {
    conversationId: posted.conversationId,
    serviceUrl: posted.serviceUrl,
    tenantId: request.tenantId,
    reference: posted.reference,
    updatedBy: 'bot (secret delivery)',
  });
  return posted;
}

/** Outbox delivery of `secret-post`: the secret card in the requester's 1:1 chat, recorded for later edits. */
export async function postSecretCard(services: BotServices, requestId: string): Promise<void> {
  const request = services.store.requests.get(requestId);
  if (!request) return;
  if (services.store.cards.listCards(requestId, 'secret').length > 0) return;
  const posted = await postToRequesterChat(services, request, secretBaseCard(services, request));
  services.store.cards.recordCard({ requestId, role: 'secret', ...posted });
}

/** Outbox delivery of `secret-sync`: every copy of the secret card shows the current state. */
export async function syncSecretCards(services: BotServices, requestId: string): Promise<void> {
  const request = services.store.requests.get(requestId);
  if (!request) return;
  const card = secretBaseCard(services, request);
  for (const copy of services.store.cards.listCards<ConversationRef>(requestId, 'secret')) {
    await services.io.update(copy.reference, copy.activityId, cardMessage(card));
    services.store.cards.touchCard(copy.id);
  }
}

/** Sends a notice into the requester's 1:1 chat (outbox `notify` for secret matters). */
export async function notifyRequesterPersonally(services: BotServices, request: RequestRecord, card: AdaptiveCardJson): Promise<void> {
  await postToRequesterChat(services, request, card);
}

function enqueueSecretSync(services: BotServices, requestId: string, reason: string, notBefore?: Date): void {
  const payload: OutboxPayload = { kind: 'secret-sync', requestId };
  services.store.outbox.enqueue({ kind: 'secret-sync', target: { requestId }, payload, dedupeKey: `secret-sync:${requestId}:${reason}`, notBefore });
}

export async function handleReveal(services: BotServices, turn: TurnPort): Promise<InvokeResult> {
  const { store, clock, settings } = services;
  // A refresh (trigger "automatic") never reveals, and says why instead of silently answering the same card. A
  // click with no trigger at all (Microsoft 365 Agents Playground) is a click: the requester check decides.
  const guarded = guardCardAction(turn, services, { verb: 'reveal', clickOnly: true, card: ['secret'], subject: 'request', access: 'requester' });
  if (guarded.error) {
    if (guarded.stage === 'access') {
      const actor = turn.actor;
      appendAudit(store, {
        actor: actor ? userActor(actor) : { kind: 'user', name: 'unknown' },
        action: 'secret.reveal-refused',
        requestId: guarded.data.requestId,
        result: 'refused',
        detail: guarded.error.code,
      });
      services.poke();
    }
    return { error: guarded.error };
  }
  const { request, actor } = guarded;
  const requestId = guarded.data.requestId;

  const claim = store.secrets.claim(requestId, { aadObjectId: actor.aadObjectId, name: actor.name }, clock.now());
  if (!claim.ok) {
    switch (claim.reason) {
      case 'not-found':
        return refusal('E_REQUEST_NOT_FOUND', 'there is no secret for this request');
      case 'not-owner':
        return refusal('E_NOT_REQUESTER');
      case 'already-revealed':
        return refusal('E_SECRET_ALREADY_REVEALED', `${formatUtc(claim.revealedAt)} by ${claim.revealedBy.name ?? 'the requester'}`);
      case 'expired':
        return refusal('E_SECRET_EXPIRED');
    }
  }

  // The plaintext now lives only in this variable and the invoke response; keep it out of logs for a while longer.
  const secretText = claim.secretText;
  holdForRedaction(services, requestId, secretText);
  releaseFromRedaction(services, requestId, settings.revealGraceMs);
  store.transaction(() => {
    appendAudit(store, {
      actor: userActor(actor),
      action: 'secret.revealed',
      requestId,
      result: 'success',
      objects: { appId: claim.appId, keyId: claim.keyId },
      detail: 'Revealed once to the requester; the bot’s copy was destroyed.',
    });
    enqueueSecretSync(services, requestId, 'revealed', new Date(clock.now().getTime() + settings.revealGraceMs));
  });
  services.poke();

  const result = (request.result ?? {}) as Partial<RequestResult>;
  const facts = factsOf(request, claim);
  return cardResult(
    revealedSecretCard({
      ...facts,
      secretText,
      senders: result.senders,
      deniedExample: services.tenant.controlMailbox ?? undefined,
    }),
  );
}

export async function handleHide(services: BotServices, turn: TurnPort): Promise<InvokeResult> {
  const allowed = guardCardAction(turn, services, { verb: 'hide-secret', card: ['secret'], subject: 'request', access: 'requester' });
  if (allowed.error) return { error: allowed.error };
  const { request } = allowed;
  const card = secretBaseCard(services, request);
  // The requester is done copying: now the message may change for every device.
  await replaceForEveryone(services, turn, card);
  return cardResult(card);
}

/**
 * Delegated mode, the expired secret card's "Remove it from the app": the requester or an approver removes the never
 * revealed credential with their own sign-in (the host checked it, their roles, and holds their access for this
 * click). Removing a credential that is already gone is a success.
 */
export async function handleRemoveCredential(services: BotServices, turn: TurnPort): Promise<InvokeResult> {
  const { store, clock } = services;
  const allowed = guardCardAction(turn, services, { verb: 'remove-credential', card: ['secret'], subject: 'request', access: 'anyone' });
  if (allowed.error) return { error: allowed.error };
  const { request, actor } = allowed;
  if (!actor) return refusal('E_NOT_REQUESTER');
  const denied = checkMayRemoveCredential(actor, request, services.roles);
  if (denied) return { error: denied };
  const meta = store.secrets.get(request.id);
  if (!meta || meta.state !== 'expired') return refusal('E_INPUT_INVALID', 'only the credential of a secret that expired unrevealed is removed here.');
  if (meta.credentialRemovedAt) return cardResult(secretBaseCard(services, request));
  const access = services.delegation?.peek(request.id);
  if (!access) return refusal('E_SIGN_IN_REFUSED', 'No sign-in came with the click.');
  await access.directory.removePassword(meta.appObjectId, meta.keyId);
  store.transaction(() => {
    if (!store.secrets.markCredentialRemoved(request.id, clock.now())) return;
    appendAudit(store, {
      actor: userActor(actor),
      action: 'secret.credential-removed',
      requestId: request.id,
      result: 'success',
      objects: { appId: meta.appId, keyId: meta.keyId },
      detail: `The expired, never revealed credential was removed from the app registration with ${actor.name ?? actor.aadObjectId}’s own sign-in.`,
    });
    enqueueSecretSync(services, request.id, 'credential-removed');
  });
  services.poke();
  return cardResult(secretBaseCard(services, store.requests.get(request.id)!));
}

/** Expiry sweep: purge unrevealed secrets that are due, then remove every expired credential not removed yet. */
export async function sweepSecrets(services: BotServices): Promise<void> {
  const { store, clock, log } = services;
  const expired = store.transaction(() => {
    const due = store.secrets.expireDue(clock.now());
    for (const meta of due) {
      releaseFromRedaction(services, meta.requestId);
      appendAudit(store, {
        actor: SYSTEM_ACTOR,
        action: 'secret.expired',
        requestId: meta.requestId,
        result: 'info',
        objects: { appId: meta.appId, keyId: meta.keyId, jobId: meta.jobId },
        detail: `Never revealed; the sealed copy was purged at ${meta.expiredAt ?? clock.now().toISOString()}.`,
      });
      enqueueSecretSync(services, meta.requestId, 'expired');
      const payload: OutboxPayload = {
        kind: 'notify',
        requestId: meta.requestId,
        title: 'Your client secret expired unrevealed',
        text: services.delegation
          ? `The secret of request ${meta.requestId} was not revealed in time. It was deleted, so nobody can read it; its unused credential (key ${meta.keyId}) stays on the app until an admin removes it with their own sign-in. Ask for a new secret when you need one.`
          : `The secret of request ${meta.requestId} was not revealed in time. It was deleted and removed from the app (key ${meta.keyId}); ask for a new secret when you need one.`,
        tone: 'warning',
        personal: true,
      };
      store.outbox.enqueue({ kind: 'notify', target: { requestId: meta.requestId }, payload, dedupeKey: `notify:secret-expired:${meta.requestId}` });
    }
    return due;
  });
  if (expired.length) services.poke();

  for (const meta of store.secrets.listAwaitingCredentialRemoval()) {
    if (services.delegation) {
      // Delegated mode writes nothing unattended: the sealed copy is gone (nobody can read the secret any more), and
      // removing the unused credential from the app is left to an admin's own sign-in (docs/delegated-mode.md).
      if (store.kv.markOnce(`credential-removal-needs-sign-in:${meta.requestId}:${meta.keyId}`)) {
        appendAudit(store, {
          actor: SYSTEM_ACTOR,
          action: 'secret.credential-removal-needs-sign-in',
          requestId: meta.requestId,
          result: 'info',
          objects: { appId: meta.appId, keyId: meta.keyId },
          detail: `The never revealed credential ${meta.keyId} is still on the app registration; this bot removes nothing without a sign-in. An Application Administrator removes it (Entra admin center → App registrations → Certificates & secrets), or asks for a new secret, whose rotation retires it.`,
        });
        services.poke();
      }
      continue;
    }
    try {
      await services.tenant.adapters.directory.removePassword(meta.appObjectId, meta.keyId);
      store.transaction(() => {
        if (store.secrets.markCredentialRemoved(meta.requestId, clock.now())) {
          appendAudit(store, {
            actor: SYSTEM_ACTOR,
            action: 'secret.credential-removed',
            requestId: meta.requestId,
            result: 'success',
            objects: { appId: meta.appId, keyId: meta.keyId },
            detail: 'The expired, never revealed credential was removed from the app registration.',
          });
        }
      });
      services.poke();
    } catch (e) {
      log.warn(`could not remove expired credential ${meta.keyId} of request ${meta.requestId} yet (will retry): ${describeError(e)}`);
    }
  }
}
