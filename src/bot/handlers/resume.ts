/**
 * The progress card's Retry: the requester resumes the same journaled job (steps that succeeded are skipped), and
 * the same card shows the new run. The failed → provisioning move is a compare-and-set, so two clicks start one run.
 *
 * Delegated mode: Retry and Continue (a job waiting for the approver's sign-in) are an approver's, never the
 * requester's — the host has already exchanged the clicking approver's sign-in and holds it for this run.
 */
import { checkIsRequester, checkMayContinue } from '../../requests/rules';
import { appendAudit, userActor } from './audit';
import { askApproversToContinue, enqueueApprovalSync } from './approvals';
import { refusal, type InvokeResult } from '../invoke-result';
import type { ProvisioningRunner } from '../background/runner';
import type { TurnPort } from '../turn-port';
import { guardCardAction } from './card-action';
import type { BotServices } from '../types';

export function handleResume(services: BotServices, turn: TurnPort, runner: ProvisioningRunner): InvokeResult {
  if (services.delegation) return resumeDelegated(services, turn, runner);
  const { store } = services;
  const allowed = guardCardAction(turn, services, { verb: 'resume', card: ['progress'], subject: 'request', access: 'requester' });
  if (allowed.error) return { error: allowed.error };
  const { request, actor } = allowed;
  const requestId = allowed.data.requestId;

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

/**
 * Delegated mode. The requester's Retry of a failed job hands it to the approvers (it waits for an approver's
 * Continue, which their approval copies now offer); an approver's Continue or Retry runs it with the sign-in the
 * host holds for this request.
 */
function resumeDelegated(services: BotServices, turn: TurnPort, runner: ProvisioningRunner): InvokeResult {
  const { store, roles } = services;
  const allowed = guardCardAction(turn, services, { verb: 'resume', card: ['progress', 'approval'], subject: 'request', access: 'anyone' });
  if (allowed.error) return { error: allowed.error };
  const { request, actor } = allowed;
  if (!actor) return refusal('E_NOT_APPROVER');
  const requestId = allowed.data.requestId;
  const awaiting = request.status === 'provisioning' && request.lastError?.code === 'E_APPROVER_NEEDED';
  const handedOver = 'An approver continues it with their own sign-in: their approval card offers Continue.';

  if (!checkIsRequester(actor, request, roles)) {
    if (awaiting) return { message: handedOver };
    if (request.status === 'provisioning' || request.status === 'approved') return { message: 'It is already running; this card updates as it goes.' };
    if (request.status !== 'failed') return refusal('E_REQUEST_NOT_PENDING', `It is ${request.status}.`);
    store.transaction(() => {
      const lastError = { code: 'E_APPROVER_NEEDED', message: 'The requester asked to retry; only an approver’s own sign-in makes the changes.' };
      if (!store.requests.setStatus(requestId, 'provisioning', { from: 'failed', lastError }).changed) return;
      appendAudit(store, { actor: userActor(actor), action: 'request.retried', requestId, result: 'info', objects: request.jobId ? { jobId: request.jobId } : {}, detail: `${request.lastError ? `After ${request.lastError.code}. ` : ''}Waits for an approver’s Continue.` });
      askApproversToContinue(services, request, `retry-asked:${request.updatedAt}`);
    });
    services.poke();
    return { message: handedOver };
  }

  const denied = checkMayContinue(actor, request, roles);
  if (denied) return { error: denied };
  if (runner.isRunning(requestId) || (!awaiting && request.status !== 'failed')) {
    if (request.status === 'provisioning' || request.status === 'approved') return { message: 'It is already running; this card updates as it goes.' };
    return refusal('E_REQUEST_NOT_PENDING', `It is ${request.status}.`);
  }
  const moved = store.transaction(() => {
    if (!store.requests.setStatus(requestId, 'provisioning', { from: ['provisioning', 'failed'], lastError: null }).changed) return false;
    appendAudit(store, { actor: userActor(actor), action: 'request.continued', requestId, result: 'info', objects: request.jobId ? { jobId: request.jobId } : {}, detail: 'With the approver’s own sign-in.' });
    enqueueApprovalSync(services, requestId, `continued:${request.updatedAt}`);
    return true;
  });
  services.poke();
  if (moved) void runner.start(requestId);
  return { message: 'Continuing with your sign-in; the progress card updates as it goes.' };
}
