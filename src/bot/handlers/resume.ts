/**
 * The progress card's Retry: the requester resumes the same journaled job (steps that succeeded are skipped), and
 * the same card shows the new run. The failed → provisioning move is a compare-and-set, so two clicks start one run.
 *
 * Delegated mode: Retry and Continue (a job waiting for the approver's sign-in) are an approver's, never the
 * requester's — the host has already exchanged the clicking approver's sign-in and holds it for this run.
 */
import { waitsForApprover } from '../../provisioning';
import { appendAudit, userActor } from './audit';
import { enqueueApprovalSync } from './approvals';
import { refusal, type InvokeResult } from '../invoke-result';
import type { ProvisioningRunner } from '../background/runner';
import type { TurnPort } from '../turn-port';
import { guardCardAction } from './card-action';
import type { BotServices } from '../types';

export function handleResume(services: BotServices, turn: TurnPort, runner: ProvisioningRunner): InvokeResult {
  const { store } = services;
  const delegated = services.delegation !== null;
  const allowed = delegated
    ? guardCardAction(turn, services, { verb: 'resume', card: ['progress', 'approval'], subject: 'request', access: 'continuer' })
    : guardCardAction(turn, services, { verb: 'resume', card: ['progress'], subject: 'request', access: 'requester' });
  if (allowed.error) return { error: allowed.error };
  const { request, actor } = allowed;
  const requestId = allowed.data.requestId;

  const job = request.jobId ? store.journal.getJob(request.jobId) : null;
  if (request.status === 'provisioning' && job && waitsForApprover(job) && !runner.isRunning(requestId)) {
    store.transaction(() => {
      store.requests.setStatus(requestId, 'provisioning', { from: 'provisioning', lastError: null });
      appendAudit(store, { actor: userActor(actor), action: 'request.continued', requestId, result: 'info', objects: { jobId: job.id }, detail: 'With the approver’s own sign-in.' });
      enqueueApprovalSync(services, requestId, `continued:${job.updatedAt}`);
    });
    services.poke();
    void runner.start(requestId);
    return { message: 'Continuing with your sign-in; the progress card updates as it goes.' };
  }
  if (request.status === 'provisioning' || request.status === 'approved') return { message: 'It is already running; this card updates as it goes.' };
  if (request.status !== 'failed') return refusal('E_REQUEST_NOT_PENDING', `It is ${request.status}.`);

  const moved = store.transaction(() => {
    const r = store.requests.setStatus(requestId, 'provisioning', { from: 'failed' });
    if (r.changed) {
      appendAudit(store, {
        actor: userActor(actor),
        action: 'request.retried',
        requestId,
        result: 'info',
        objects: request.jobId ? { jobId: request.jobId } : {},
        detail: request.lastError ? `After ${request.lastError.code}.` : null,
      });
    }
    return r.changed;
  });
  services.poke();
  if (moved) void runner.start(requestId);
  return { message: 'Retrying from where it stopped; this card updates as it goes.' };
}
