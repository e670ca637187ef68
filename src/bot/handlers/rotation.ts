/**
 * After "new secret": the old secrets keep working until the requester presses "Opter updated" on the rotation card
 * (only after revealing the new secret, so Opter can have it) or the overlap ends (the worker notices, with the
 * bot's clock); then a retire-secrets job removes exactly the secrets the rotation recorded as old.
 *
 * The rotation's state lives in kv (`rotation:<requestId>`); the retire job is the engine's, journaled and resumed
 * after a crash like any other. One retire run per rotation at a time (runner.track), and a click is counted once
 * (kv.markOnce), so two clicks never start two retirements.
 */
import { rotationCard, type AdaptiveCardJson, type RotationCardModel } from '../../cards';
import { OpterError, toOpterError } from '../../core/errors';
import type { JobRecord, ProgressEvent } from '../../core/ports';
import { findDueRetirements, jobInputOf, waitsForApprover } from '../../provisioning';
import { retireSecrets } from '../../actions/retire-secrets';
import type { Actor } from '../../requests/rules';
import type { RequestRecord } from '../../store';
import { appendAudit, auditInputForProgress, userActor } from './audit';
import { replaceForEveryone } from './forms';
import { cardResult, refusal, type InvokeResult } from '../invoke-result';
import { describeError } from '../describe-error';
import type { ProvisioningRunner } from '../background/runner';
import { postToRequesterChat } from './secrets';
import { cardMessage, type ConversationRef, type TurnPort } from '../turn-port';
import { guardCardAction } from './card-action';
import type { BotServices, LifecyclePayload, LifecycleRequestResult, OutboxPayload } from '../types';
import { SYSTEM_ACTOR } from '../types';

type Trigger = 'confirmed' | 'overlap';

interface RotationState {
  status: RotationCardModel['state']['status'];
  trigger?: Trigger;
  at?: string;
  removedKeyIds?: string[];
  code?: string;
  message?: string;
}

const stateKey = (requestId: string) => `rotation:${requestId}`;
const retireKey = (rotateJobId: string) => `retire:${rotateJobId}`;

function readState(services: BotServices, requestId: string): RotationState {
  return services.store.kv.get<RotationState>(stateKey(requestId))?.value ?? { status: 'waiting' };
}

function writeState(services: BotServices, requestId: string, state: RotationState): void {
  services.store.kv.set(stateKey(requestId), state);
}

export function rotationCardFor(services: BotServices, request: RequestRecord): AdaptiveCardJson {
  const p = request.payload as LifecyclePayload;
  const r = (request.result ?? {}) as Partial<LifecycleRequestResult>;
  const s = readState(services, request.id);
  const state: RotationCardModel['state'] =
    s.status === 'retired'
      ? { status: 'retired', at: s.at ?? request.updatedAt, trigger: s.trigger ?? 'confirmed', removedKeyIds: s.removedKeyIds ?? [] }
      : s.status === 'failed'
        ? { status: 'failed', at: s.at ?? request.updatedAt, code: s.code ?? 'E_INTERNAL', message: s.message ?? '' }
        : s.status === 'retiring'
          ? { status: 'retiring', trigger: s.trigger ?? 'confirmed' }
          : { status: 'waiting' };
  return rotationCard({
    requestId: request.id,
    appDisplayName: p.appName,
    clientId: r.clientId ?? p.appId,
    newKeyId: r.keyId ?? '',
    newSecretExpiresAt: r.credentialEndDateTime ?? '',
    oldSecrets: (r.previous ?? []).map((x) => ({ keyId: x.keyId, expiresAt: x.endDateTime })),
    overlapEndsAt: r.overlapEndsAt ?? '',
    state,
  });
}

/** Outbox `rotation-post`: the rotation card in the requester's 1:1 chat (after the secret card), recorded. */
export async function postRotationCard(services: BotServices, requestId: string): Promise<void> {
  const request = services.store.requests.get(requestId);
  if (!request) return;
  if (services.store.cards.listCards(requestId, 'rotation').length > 0) return;
  const posted = await postToRequesterChat(services, request, rotationCardFor(services, request));
  services.store.cards.recordCard({ requestId, role: 'rotation', ...posted });
}

/** Outbox `rotation-sync`: every copy of the rotation card shows the current state. */
export async function syncRotationCards(services: BotServices, requestId: string): Promise<void> {
  const request = services.store.requests.get(requestId);
  if (!request) return;
  const card = rotationCardFor(services, request);
  for (const copy of services.store.cards.listCards<ConversationRef>(requestId, 'rotation')) {
    await services.io.update(copy.reference, copy.activityId, cardMessage(card));
    services.store.cards.touchCard(copy.id);
  }
}

function enqueueSync(services: BotServices, requestId: string, reason: string): void {
  const payload: OutboxPayload = { kind: 'rotation-sync', requestId };
  services.store.outbox.enqueue({ kind: 'rotation-sync', target: { requestId }, payload, dedupeKey: `rotation-sync:${requestId}:${reason}` });
}

/** The rotation card's "Opter updated": the requester, after revealing the new secret, retires the old ones now. */
export async function handleOpterUpdated(services: BotServices, turn: TurnPort, runner: ProvisioningRunner): Promise<InvokeResult> {
  const { store } = services;
  const allowed = guardCardAction(turn, services, { verb: 'opter-updated', card: ['rotation'], subject: 'request', access: 'requester' });
  if (allowed.error) return { error: allowed.error };
  const { request, actor } = allowed;
  const requestId = allowed.data.requestId;
  if (request.kind !== 'rotate-secret' || !request.jobId) return refusal('E_REQUEST_NOT_FOUND');
  if (request.status !== 'succeeded') return refusal('E_REQUEST_NOT_PENDING', `It is ${request.status}.`);
  // A second click, or one after the overlap already retired them: show where it stands.
  if (readState(services, requestId).status !== 'waiting') return cardResult(rotationCardFor(services, request));

  const secret = store.secrets.get(requestId);
  if (secret?.state === 'expired') return refusal('E_SECRET_EXPIRED');
  if (!secret || secret.state !== 'revealed') {
    return refusal('E_INPUT_INVALID', 'reveal the new secret first and put it into Opter; until then Opter still needs the old one, so it is kept.');
  }
  if (!store.kv.markOnce(`rotation-confirmed:${requestId}`, { by: actor.aadObjectId })) return cardResult(rotationCardFor(services, request));

  const started = startRetire(services, runner, request.jobId, 'confirmed', actor);
  if ('error' in started) return { error: started.error };
  const card = rotationCardFor(services, store.requests.get(requestId)!);
  await replaceForEveryone(services, turn, card);
  return cardResult(card);
}

/** Creates the retire job (journaled, so a crash resumes it) and runs it in the background. */
function startRetire(services: BotServices, runner: ProvisioningRunner, rotateJobId: string, trigger: Trigger, actor: Actor | null): { ok: true } | { error: OpterError } {
  const { store, engine } = services;
  const rotateJob = store.journal.getJob(rotateJobId);
  if (!rotateJob) return { error: new OpterError('E_REQUEST_NOT_FOUND', { detail: `no rotation job ${rotateJobId}` }) };
  const input = jobInputOf(rotateJob, 'rotate-secret');
  if (!input) return { error: new OpterError('E_REQUEST_NOT_FOUND', { detail: `job ${rotateJobId} is not a rotation` }) };
  const request = store.requests.getByJobId(rotateJobId);
  let job: JobRecord;
  try {
    const payload = { appName: input.appDisplayName, ...(input.overrides ? { overrides: input.overrides } : {}), rotateJobId, confirmed: trigger === 'confirmed' };
    job = retireSecrets.job.start(engine, retireSecrets.job.input(payload, services.settings));
  } catch (e) {
    return { error: toOpterError(e) };
  }
  store.transaction(() => {
    if (request) {
      writeState(services, request.id, { status: 'retiring', trigger });
      enqueueSync(services, request.id, `retiring:${trigger}`);
    }
    appendAudit(store, {
      actor: actor ? userActor(actor) : SYSTEM_ACTOR,
      action: 'secret.retire-started',
      requestId: request?.id ?? null,
      result: 'info',
      objects: { jobId: job.id },
      detail: trigger === 'confirmed' ? 'The requester confirmed that Opter uses the new secret.' : `The overlap of rotation ${rotateJobId} has ended.`,
    });
  });
  services.poke();
  void runner.track(retireKey(rotateJobId), () => runRetire(services, runner, request, job, trigger));
  return { ok: true };
}

async function runRetire(services: BotServices, runner: ProvisioningRunner, request: RequestRecord | null, job: JobRecord, trigger: Trigger): Promise<void> {
  const { store, engine, clock } = services;
  let waiting = false;
  const listener = (event: ProgressEvent) => {
    if (runner.stopped) return;
    if (event.type === 'step-failed' && event.code === 'E_JOB_UNFINISHED') waiting = true;
    const stepOutputs = 'step' in event ? store.journal.getStep(event.jobId, event.step)?.outputs : undefined;
    const input = auditInputForProgress(event, { requestId: request?.id ?? null, stepOutputs, waiting });
    if (input) appendAudit(store, input);
  };
  // Delegated mode: the sign-in of whoever pressed "Opter updated" (held by the host), if any; without one the
  // job stops before removing anything and waits for a sign-in.
  const held = request ? (services.delegation?.peek(request.id) ?? null) : null;
  let outcome: Awaited<ReturnType<typeof engine.run>>;
  try {
    outcome = await engine.run(job.id, { listener, writes: held });
  } finally {
    if (request) services.delegation?.drop(request.id);
  }
  if (runner.stopped) return;
  const requestId = request?.id ?? null;
  const retireInput = jobInputOf(job, 'retire-secrets');
  const notify = (title: string, text: string, tone: 'good' | 'warning' | 'attention') => {
    if (!requestId) return;
    const payload: OutboxPayload = { kind: 'notify', requestId, title, text, tone, personal: true };
    store.outbox.enqueue({ kind: 'notify', target: { requestId }, payload, dedupeKey: `notify:retire:${job.id}:${outcome.job.status}` });
  };
  store.transaction(() => {
    if (outcome.job.status === 'succeeded') {
      const retired = outcome.lifecycle?.kind === 'retire-secrets' ? outcome.lifecycle : null;
      const removed = retired?.removedKeyIds ?? [];
      const appId = retired?.appId ?? '';
      if (requestId) {
        writeState(services, requestId, { status: 'retired', trigger, at: clock.now().toISOString(), removedKeyIds: removed });
        enqueueSync(services, requestId, 'retired');
      }
      appendAudit(store, {
        actor: SYSTEM_ACTOR,
        action: 'secret.retired',
        requestId,
        result: 'success',
        objects: { appId, jobId: job.id, ...(removed.length ? { keyId: removed.join(', ') } : {}) },
        detail: `${removed.length ? `Removed ${removed.join(', ')}` : 'The old secrets were already gone'} (${trigger === 'confirmed' ? 'Opter confirmed updated' : 'overlap ended'}) for rotation ${retireInput?.rotateJobId ?? '(unknown)'}; only the new secret works now.`,
      });
      notify(
        'The old secret was removed',
        `${removed.length ? `Removed ${removed.join(', ')}.` : 'They were already gone.'} Only the new secret works now${trigger === 'overlap' ? ' (the overlap ended)' : ''}.`,
        'good',
      );
      return;
    }
    const err = outcome.error ?? new OpterError('E_INTERNAL', { detail: outcome.job.lastError?.message ?? 'the job failed' });
    if (outcome.job.status === 'waiting') {
      // An unconfirmed retirement before the overlap ends stays waiting; so does one that needs a sign-in to remove
      // anything (delegated mode), until someone who may presses "Opter updated" with theirs.
      if (requestId) {
        writeState(services, requestId, { status: 'waiting' });
        enqueueSync(services, requestId, `waiting:${job.id}`);
        if (waitsForApprover(outcome.job) && trigger === 'overlap') {
          notify(
            'The old secret is still there',
            'The overlap has ended, but this bot removes nothing without a sign-in: press “Opter updated” on the rotation card (it needs Application Administrator, Cloud Application Administrator or Global Administrator) to remove the old secret now.',
            'warning',
          );
          appendAudit(store, { actor: SYSTEM_ACTOR, action: 'secret.retire-needs-sign-in', requestId, result: 'info', objects: { jobId: job.id }, detail: 'The overlap ended; the old secrets stay until someone removes them with their own sign-in.' });
        }
      }
      return;
    }
    if (requestId) {
      writeState(services, requestId, { status: 'failed', trigger, at: clock.now().toISOString(), code: err.code, message: err.detail ?? err.summary });
      enqueueSync(services, requestId, `failed:${job.id}`);
    }
    appendAudit(store, { actor: SYSTEM_ACTOR, action: 'secret.retire-failed', requestId, result: 'failure', objects: { jobId: job.id }, detail: `${err.code}: ${err.message}` });
    notify('The old secret could not be removed', `${err.code}: ${err.detail ?? err.summary}. ${err.actionIn('chat')}`, 'attention');
  });
  services.poke();
}

/**
 * Worker sweep: resume retire jobs a crash left running, and retire the old secrets of every rotation whose overlap
 * has ended (once: a retirement that failed for good is not tried again on every sweep).
 */
export function sweepRetirements(services: BotServices, runner: ProvisioningRunner): void {
  const { store, engine, clock, log } = services;
  for (const job of engine.unfinishedJobs()) {
    if (job.kind !== 'retire-secrets') continue;
    const input = jobInputOf(job, 'retire-secrets');
    if (!input) continue; // the engine fails an undecodable input on its own run; nothing to resume here
    if (runner.isRunning(retireKey(input.rotateJobId))) continue;
    log.info(`resuming retire job ${job.id} of rotation ${input.rotateJobId}`);
    const request = store.requests.getByJobId(input.rotateJobId);
    void runner.track(retireKey(input.rotateJobId), () => runRetire(services, runner, request, job, input.confirmed ? 'confirmed' : 'overlap'));
  }
  const failedForGood = new Set(
    store.journal
      .listJobs({ kind: 'retire-secrets', status: 'failed' })
      .map((j) => jobInputOf(j, 'retire-secrets')?.rotateJobId),
  );
  // Delegated mode: a retirement that stopped for want of a sign-in is not run again by the sweep (it would stop again).
  const needSignIn = new Set(
    store.journal
      .listJobs({ kind: 'retire-secrets', status: 'waiting' })
      .filter(waitsForApprover)
      .map((j) => jobInputOf(j, 'retire-secrets')?.rotateJobId),
  );
  for (const due of findDueRetirements(store.journal, clock.now())) {
    if (runner.isRunning(retireKey(due.rotateJobId)) || failedForGood.has(due.rotateJobId) || needSignIn.has(due.rotateJobId)) continue;
    const started = startRetire(services, runner, due.rotateJobId, 'overlap', null);
    if ('error' in started) log.warn(`could not retire the old secrets of rotation ${due.rotateJobId}: ${describeError(started.error)}`);
  }
}
