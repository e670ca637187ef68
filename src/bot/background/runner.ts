/**
 * Runs approved requests through the provisioning engine in the background (an invoke has ~5 s; a setup takes
 * minutes under replication delay) and shows it: one progress card in the conversation the request came from,
 * edited as engine events arrive — coalesced to at most one edit per `progressMinIntervalMs`, the final state always
 * delivered (through the outbox if Teams refuses it at that moment).
 *
 * Request ↔ job is the store's `requests.job_id` (the job's idempotency key is the request id), so after a restart
 * `resumeAll` finds every unfinished job, re-attaches its progress card and runs it to the end.
 */
import { applyProgressEvent, newProgress, progressCard, type ProgressCardModel } from '../../cards';
import { toOpterError } from '../../core/errors';
import type { JobRecord, ProgressEvent } from '../../core/ports';
import { checkLine } from '../../provisioning';
import { stepTitle } from '../../cards/step-titles';
import type { JobOutcome } from '../../provisioning';
import { registry as defaultRegistry, type Registry } from '../../actions/registry';
import { requestResultOf } from '../../actions/results';
import type { AnyAction } from '../../actions/types';
import type { RequestRecord } from '../../store';
import { askApproversToContinue, type AnyPayload } from '../handlers/approvals';
import { waitsForApprover } from '../../provisioning';
import { appendAudit, progressAuditor } from '../handlers/audit';
import { Coalescer } from './coalesce';
import { applyChannelChange, isChannelChange } from '../handlers/channel-change';
import { describeError } from '../describe-error';
import { cardMessage, type ConversationRef } from '../turn-port';
import type { BotServices, OutboxPayload, RequestResult } from '../types';
import { SYSTEM_ACTOR } from '../types';

/** The request's action (src/actions): its job, progress card and settlement. Null for a kind no action knows. */
function actionOf(registry: Registry, request: RequestRecord): AnyAction | null {
  return registry.actionFor(request.kind);
}

function titleOf(registry: Registry, request: RequestRecord): string {
  return actionOf(registry, request)?.progress.title(request) ?? request.kind;
}

function stepsOf(registry: Registry, request: RequestRecord): Array<{ id: string; title: string }> {
  const progress = actionOf(registry, request)?.progress;
  const own = progress?.stepTitles ?? {};
  return (progress?.steps(request) ?? []).map((id) => ({ id, title: Object.hasOwn(own, id) ? own[id]! : stepTitle(id) }));
}

/** How long the queued copy of a final progress card waits for the direct edit before it is delivered itself. */
const FINAL_EDIT_GRACE_MS = 10_000;

/** Posts the progress card on first publish and edits it afterwards; the message id is recorded on the request. */
export async function publishProgress(services: BotServices, request: RequestRecord, card: ReturnType<typeof progressCard>): Promise<void> {
  const existing = services.store.cards.listCards<ConversationRef>(request.id, 'progress').at(-1);
  if (existing) {
    await services.io.update(existing.reference, existing.activityId, cardMessage(card));
    services.store.cards.touchCard(existing.id);
    return;
  }
  const origin = (request.payload as AnyPayload).origin;
  const posted = await services.io.post(origin.reference, cardMessage(card));
  services.store.cards.recordCard({ requestId: request.id, role: 'progress', ...posted });
}

export class ProvisioningRunner {
  private readonly runs = new Map<string, Promise<void>>();
  /** The last engine run queued per registration (app name, lower case): runs for one registration go one by one. */
  private readonly perRegistration = new Map<string, Promise<void>>();
  private stopping = false;

  constructor(
    private readonly services: BotServices,
    /** The actions this runner knows (tests run a registry with one more; the product has one). */
    private readonly registry: Registry = defaultRegistry,
  ) {}

  /** Currently running request ids (for tests and shutdown). */
  get active(): string[] {
    return [...this.runs.keys()];
  }

  /** Waits for every run in flight (used by close and by tests). */
  async settle(): Promise<void> {
    while (this.runs.size > 0) await Promise.allSettled([...this.runs.values()]);
  }

  /** From now on, runs end without recording anything (the caller fences the journal); waits for them. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.settle();
  }

  /** Starts (or joins) the background run of an approved, provisioning or retried request. */
  start(requestId: string): Promise<void> {
    const existing = this.runs.get(requestId);
    if (existing) return existing;
    if (this.stopping) return Promise.resolve();
    // Deferred to the next turn of the event loop: the caller is usually an Approve invoke, whose answer must leave
    // within Teams' ~5 s before the job's synchronous start (journal writes) competes with it (P2 benchmark).
    const run = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.runRequest(requestId))
      .catch((err: unknown) => {
        if (!this.stopping) this.services.log.error(`provisioning of request ${requestId} stopped unexpectedly: ${describeError(err)}`);
      })
      .finally(() => this.runs.delete(requestId));
    this.runs.set(requestId, run);
    return run;
  }

  /** Whether a request (or tracked work) is running in this process. */
  isRunning(key: string): boolean {
    return this.runs.has(key);
  }

  /**
   * Background work that is not a request's own job (retiring old secrets): one run per key at a time, awaited by
   * settle() and stop() like the request runs.
   */
  track(key: string, work: () => Promise<void>): Promise<void> {
    const existing = this.runs.get(key);
    if (existing) return existing;
    if (this.stopping) return Promise.resolve();
    const run = work()
      .catch((err: unknown) => {
        if (!this.stopping) this.services.log.error(`${key} stopped unexpectedly: ${describeError(err)}`);
      })
      .finally(() => this.runs.delete(key));
    this.runs.set(key, run);
    return run;
  }

  get stopped(): boolean {
    return this.stopping;
  }

  /**
   * After a restart: resume every job the journal still has running, start approved requests that never got a job,
   * and finish requests whose job ended while nobody was listening.
   */
  resumeAll(): void {
    const { store, engine } = this.services;
    const seen = new Set<string>();
    for (const job of engine.unfinishedJobs()) {
      const request = store.requests.getByJobId(job.id);
      if (!request) continue;
      seen.add(request.id);
      this.services.log.info(`resuming job ${job.id} of request ${request.id} (${request.kind})`);
      void this.start(request.id);
    }
    for (const request of store.requests.list({ status: ['approved', 'provisioning'] })) {
      if (seen.has(request.id)) continue;
      void this.start(request.id);
    }
  }

  /**
   * Runs `work` once every run queued earlier for the same registration has ended. Requests for one registration may
   * be on their way together (a repair beside a migration parked until Exchange has caught up, see
   * lifecycle-requests.ts), but their jobs never interleave: a parked migration holds nothing, and when it continues
   * it waits for the job that runs at that moment.
   */
  private async oneAtATime<T>(registration: string, work: () => Promise<T>): Promise<T> {
    const before = this.perRegistration.get(registration) ?? Promise.resolve();
    const mine = before.then(work);
    const done = mine.then(
      () => undefined,
      () => undefined,
    );
    this.perRegistration.set(registration, done);
    try {
      return await mine;
    } finally {
      if (this.perRegistration.get(registration) === done) this.perRegistration.delete(registration);
    }
  }

  private jobFor(request: RequestRecord): JobRecord {
    const { engine, store } = this.services;
    if (request.jobId) {
      const job = store.journal.getJob(request.jobId);
      if (job) return job;
    }
    const action = actionOf(this.registry, request);
    if (!action) throw new Error(`request ${request.id} is of kind ${request.kind}, which no action runs`);
    const job = action.job.start(engine, action.job.input(request.payload, this.services.settings), { idempotencyKey: request.id });
    if (!store.requests.attachJob(request.id, job.id)) throw new Error(`request ${request.id} is linked to another job`);
    return job;
  }

  private async runRequest(requestId: string): Promise<void> {
    const { store, engine, settings, clock } = this.services;
    let request = store.requests.get(requestId);
    if (!request) return;
    if (!['approved', 'provisioning'].includes(request.status)) return;
    // A channel change has no tenant job: approving it is all it needs (also resumed here after a crash).
    if (isChannelChange(request)) return applyChannelChange(this.services, request);

    let job: JobRecord;
    try {
      job = this.jobFor(request);
    } catch (e) {
      const err = toOpterError(e);
      store.transaction(() => {
        store.requests.setStatus(requestId, 'failed', { from: ['approved', 'provisioning'], lastError: { code: err.code, message: err.message } });
        appendAudit(store, { actor: SYSTEM_ACTOR, action: 'request.failed', requestId, result: 'failure', detail: `${err.code}: ${err.message}` });
      });
      this.services.poke();
      return;
    }
    if (request.status === 'approved') {
      store.requests.setStatus(requestId, 'provisioning', { from: 'approved' });
      request = store.requests.get(requestId)!;
    }
    if (job.status === 'succeeded') {
      // The job ended while nobody was listening (a crash between the engine and us): settle the request from it.
      await this.finish(request, { job }, null);
      return;
    }

    let model: ProgressCardModel = newProgress({ requestId, title: titleOf(this.registry, request), steps: stepsOf(this.registry, request), at: clock.now().toISOString() });
    const card = new Coalescer<ProgressCardModel>({
      minIntervalMs: settings.progressMinIntervalMs,
      publish: (m) => publishProgress(this.services, request!, progressCard(m)),
      onError: (err) => this.services.log.warn(`progress card of request ${requestId}: ${describeError(err)}`),
    });
    const audit = progressAuditor(store, { requestId: () => requestId });
    const listener = (event: ProgressEvent) => {
      if (this.stopping) return;
      model = applyProgressEvent(model, event);
      if (event.type !== 'job-finished') card.set(model);
      if (audit(event)) this.services.poke();
    };

    const registration = (request.appName ?? request.id).toLowerCase();
    if (this.perRegistration.has(registration)) {
      model = applyProgressEvent(model, { type: 'note', jobId: job.id, message: `Starts as soon as the change to ${request.appName} that is running now has finished.`, at: clock.now().toISOString() });
      card.set(model);
    }
    let outcome: JobOutcome;
    try {
      // Delegated mode: the approver's access signed for this request, if any (memory only); without it the run
      // reads, and stops at its first write to wait for an approver.
      outcome = await this.oneAtATime(registration, () => engine.run(job.id, { listener, writes: this.services.delegation?.peek(requestId) ?? null }));
    } catch (e) {
      card.cancel();
      if (this.stopping) return;
      throw e;
    } finally {
      this.services.delegation?.drop(requestId);
    }
    if (this.stopping) {
      card.cancel();
      return;
    }
    await this.finish(request, outcome, { card, model: () => model, setModel: (m) => (model = m) });
  }

  private async finish(
    request: RequestRecord,
    outcome: JobOutcome,
    progress: { card: Coalescer<ProgressCardModel>; model: () => ProgressCardModel; setModel: (m: ProgressCardModel) => void } | null,
  ): Promise<void> {
    const { store } = this.services;
    const requestId = request.id;
    const succeeded = outcome.job.status === 'succeeded';
    // Stopped on purpose until later (a wait for Exchange's permission cache): not a failure.
    if (outcome.job.status === 'waiting') return this.wait(request, outcome, progress);
    const action = actionOf(this.registry, request);
    const result =
      succeeded && action
        ? requestResultOf(action, {
            request,
            tenantId: this.services.engine.tenantId,
            job: outcome.job,
            live: outcome.value,
            steps: () => new Map(store.journal.getSteps(outcome.job.id).map((s) => [s.step, s.outputs])),
          })
        : null;

    if (progress) {
      let model = progress.model();
      if (succeeded && result?.keyId) {
        const where = (request.payload as AnyPayload).origin.isChannel ? ` in ${request.requester.name ?? 'the requester'}’s 1:1 chat with me` : ' in this chat';
        model = applyProgressEvent(model, { type: 'note', jobId: outcome.job.id, message: `The one-time client secret card is waiting${where}.`, at: this.services.clock.now().toISOString() });
      }
      // What the identity could not check (least privilege) belongs on the card, not only in the log.
      for (const message of result?.unchecked ?? []) {
        model = applyProgressEvent(model, { type: 'note', jobId: outcome.job.id, message, at: this.services.clock.now().toISOString() });
      }
      for (const message of result && action?.settlement.finalNotes ? action.settlement.finalNotes(result) : []) {
        model = applyProgressEvent(model, { type: 'note', jobId: outcome.job.id, message, at: this.services.clock.now().toISOString() });
      }
      model = applyProgressEvent(model, { type: 'job-finished', jobId: outcome.job.id, status: succeeded ? 'succeeded' : 'failed', at: this.services.clock.now().toISOString() });
      progress.setModel(model);
      progress.card.set(model);
    }

    // The card's final state belongs to the outcome: it is queued in the same transaction that records the outcome, so
    // it reaches Teams even if this process dies before the direct edit below lands. With a live progress card the
    // queued copy waits FINAL_EDIT_GRACE_MS, so the direct edit normally comes first and marks it sent.
    const finalCard = progressCard(progress ? progress.model() : this.modelFromJournal(request, outcome, result?.checks ?? [])) as unknown as Record<string, unknown>;
    // Settling from the journal must not collide with the key a live run used for the same job.
    const finalKey = `progress-final:${requestId}:${outcome.job.updatedAt}${progress ? '' : ':from-journal'}`;
    let finalItemId = 0;
    store.transaction(() => {
      finalItemId = store.outbox.enqueue({
        kind: 'progress-final',
        target: { requestId },
        payload: { kind: 'progress-final', requestId, card: finalCard, forStatus: succeeded && result ? 'succeeded' : 'failed' } satisfies OutboxPayload,
        dedupeKey: finalKey,
        notBefore: progress ? new Date(this.services.clock.now().getTime() + FINAL_EDIT_GRACE_MS) : undefined,
      }).item.id;
      if (succeeded && result && action) {
        store.requests.setStatus(requestId, 'succeeded', { from: 'provisioning', result, lastError: null });
        appendAudit(store, {
          actor: SYSTEM_ACTOR,
          action: 'request.succeeded',
          requestId,
          result: 'success',
          objects: {
            appId: result.clientId,
            appObjectId: result.appObjectId,
            spObjectId: result.spObjectId,
            groupSmtp: result.groupSmtp,
            ...(result.keyId ? { keyId: result.keyId } : {}),
            jobId: outcome.job.id,
          },
          detail: result.checks.map(checkLine).join('; ') || null,
        });
        // What this kind of work says and posts when it is done (its audit entries, the secret or result card, a notice).
        action.settlement.settle({
          request,
          result,
          audit: (entry) => appendAudit(store, { actor: SYSTEM_ACTOR, requestId, result: entry.result ?? 'success', action: entry.action, objects: entry.objects, detail: entry.detail }),
          post: (kind, dedupeKey) => {
            const payload: OutboxPayload = { kind, requestId };
            store.outbox.enqueue({ kind, target: { requestId }, payload, dedupeKey });
          },
          notify: (n) => this.notify(requestId, n),
        });
      } else {
        const err = outcome.error ?? (outcome.job.lastError ? { code: outcome.job.lastError.code, message: outcome.job.lastError.message } : { code: 'E_INTERNAL', message: 'the job failed' });
        store.requests.setStatus(requestId, 'failed', { from: 'provisioning', lastError: { code: err.code, message: err.message } });
        appendAudit(store, { actor: SYSTEM_ACTOR, action: 'request.failed', requestId, result: 'failure', objects: { jobId: outcome.job.id }, detail: `${err.code}: ${err.message}` });
      }
    });
    this.services.poke();

    if (progress) {
      try {
        await progress.card.flush();
        store.outbox.markSent(finalItemId);
      } catch (e) {
        // Teams refused the final edit right now: the outbox retries it until it lands, starting now.
        this.services.log.warn(`final progress of request ${requestId} queued for retry: ${describeError(e)}`);
        const payload: OutboxPayload = { kind: 'progress-final', requestId, card: finalCard, forStatus: succeeded && result ? 'succeeded' : 'failed' };
        store.outbox.enqueue({ kind: 'progress-final', target: { requestId }, payload, dedupeKey: `${finalKey}:retry` });
        this.services.poke();
      }
    }
  }

  /**
   * The job stopped on purpose until a time (a migration waiting for Exchange's permission cache): the request stays
   * in provisioning, the card says until when, and the worker runs the job again once that time has come.
   */
  private async wait(
    request: RequestRecord,
    outcome: JobOutcome,
    progress: { card: Coalescer<ProgressCardModel>; model: () => ProgressCardModel; setModel: (m: ProgressCardModel) => void } | null,
  ): Promise<void> {
    const { store, clock } = this.services;
    const resumeAfter = outcome.resumeAfter ?? outcome.job.resumeAfter;
    const reason = outcome.error?.detail ?? outcome.job.lastError?.message ?? 'waiting';
    const forApprover = waitsForApprover(outcome.job);
    store.transaction(() => {
      if (forApprover) {
        // The approval card's copies offer Continue from now on (their state reads the request's lastError).
        const lastError = outcome.job.lastError!;
        store.requests.setStatus(request.id, 'provisioning', { from: 'provisioning', lastError: { code: lastError.code, message: lastError.message } });
        askApproversToContinue(this.services, request, outcome.job.updatedAt);
      }
      if (store.kv.markOnce(`request-waiting:${outcome.job.id}:${resumeAfter ?? ''}`)) {
        appendAudit(store, {
          actor: SYSTEM_ACTOR,
          action: 'request.waiting',
          requestId: request.id,
          result: 'info',
          objects: { jobId: outcome.job.id },
          detail: `${reason}${resumeAfter ? ` Continues after ${resumeAfter}.` : ''}${forApprover ? ' Waits for an approver’s Continue.' : ''}`,
        });
      }
    });
    this.services.poke();
    if (!progress) return;
    let model = applyProgressEvent(progress.model(), { type: 'job-finished', jobId: outcome.job.id, status: 'failed', at: clock.now().toISOString() });
    if (model.waiting && resumeAfter) model = { ...model, waiting: { ...model.waiting, until: resumeAfter } };
    progress.setModel(model);
    progress.card.set(model);
    try {
      await progress.card.flush();
    } catch (e) {
      this.services.log.warn(`waiting progress of request ${request.id} queued for retry: ${describeError(e)}`);
      const payload: OutboxPayload = { kind: 'progress-final', requestId: request.id, card: progressCard(model) as unknown as Record<string, unknown> };
      store.outbox.enqueue({ kind: 'progress-final', target: { requestId: request.id }, payload, dedupeKey: `progress-waiting:${request.id}:${resumeAfter ?? ''}` });
      this.services.poke();
    }
  }

  /** The final progress card of a job that finished while nobody listened: its journal's steps and its result's checks. */
  private modelFromJournal(request: RequestRecord, outcome: JobOutcome, checks: RequestResult['checks']): ProgressCardModel {
    const at = outcome.job.updatedAt;
    let model = newProgress({ requestId: request.id, title: titleOf(this.registry, request), steps: stepsOf(this.registry, request), at: outcome.job.createdAt });
    model = applyProgressEvent(model, { type: 'job-started', jobId: outcome.job.id, at: outcome.job.createdAt });
    for (const step of this.services.store.journal.getSteps(outcome.job.id)) {
      const base = { jobId: outcome.job.id, step: step.step, at: step.finishedAt ?? at };
      if (step.status === 'succeeded') model = applyProgressEvent(model, { type: 'step-succeeded', ...base, summary: String(step.outputs.summary ?? '') });
      else if (step.status === 'failed' && step.lastError) {
        model = applyProgressEvent(model, { type: 'step-failed', ...base, code: step.lastError.code, message: step.lastError.message, action: 'Press Retry to continue where it stopped.' });
      }
    }
    for (const c of checks) model = applyProgressEvent(model, { type: 'check', jobId: outcome.job.id, name: c.name, ok: c.ok, detail: c.detail, ...(c.skipped ? { skipped: true } : {}), at });
    return applyProgressEvent(model, { type: 'job-finished', jobId: outcome.job.id, status: outcome.job.status === 'succeeded' ? 'succeeded' : 'failed', at });
  }

  private notify(requestId: string, n: { title: string; text: string; tone: 'info' | 'good' | 'warning' | 'attention' }): void {
    const payload: OutboxPayload = { kind: 'notify', requestId, ...n };
    this.services.store.outbox.enqueue({ kind: 'notify', target: { requestId }, payload, dedupeKey: `notify:done:${requestId}` });
  }
}
