/**
 * A failing step stops the job with the catalogue code, what to do, and a Retry button; Retry (by the requester
 * only) resumes the same journaled job, which then finishes without redoing what already succeeded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/sim';
import {
  approvalCopy,
  bodyOf,
  cardOf,
  click,
  errorCodeOf,
  greet,
  hasVerb,
  personalId,
  progressCardIn,
  secretCardIn,
  startTestBot,
  startTestSimulator,
  submitSetup,
  textOf,
  waitForCard,
  type TestBot,
} from './helpers';

let sim: Simulator;
let t: TestBot;

beforeAll(async () => {
  sim = await startTestSimulator();
  t = await startTestBot({ sim });
  await greet(t, t.personas.approver);
});
afterAll(async () => {
  await t?.close();
  await sim?.close();
});

describe('failure and Retry', () => {
  it('shows the code and the action, and Retry resumes the same job to the end', async () => {
    const { requester, approver } = t.personas;
    sim.setFaults({ revokedPermissions: ['AppRoleAssignment.ReadWrite.All'] });
    const { requestId } = await submitSetup(t, { appName: 'Opter Retry', senders: [sim.mailboxes.info] });
    await click(t, approver, await approvalCopy(t, requestId, personalId(t, approver)), 'approve');

    const failed = await progressCardIn(t, personalId(t, requester), requestId, /Stopped: a step failed/);
    const text = textOf(cardOf(failed));
    expect(text).toContain('E_GRAPH_PERMISSION');
    expect(text).toContain('What to do');
    expect(hasVerb(cardOf(failed), 'resume')).toBe(true);
    const request = t.bot.store.requests.get(requestId)!;
    expect(request.status).toBe('failed');
    expect(request.lastError?.code).toBe('E_GRAPH_PERMISSION');
    expect(t.bot.store.audit.listForRequest(requestId).map((e) => e.action)).toEqual(expect.arrayContaining(['step.grant.failed', 'request.failed']));
    const jobId = request.jobId!;
    const appStepAttempts = t.bot.store.journal.getStep(jobId, 'app')!.attempts;

    // Only the requester may retry.
    expect(errorCodeOf(await click(t, approver, failed, 'resume'))).toBe('E_NOT_REQUESTER');

    sim.setFaults({ revokedPermissions: [] });
    const retried = bodyOf(await click(t, requester, failed, 'resume'));
    expect(retried.type).toBe('application/vnd.microsoft.activity.message');
    await waitForCard(t, failed.conversationId, (c, m) => m.id === failed.id && !/Stopped: a step failed/.test(textOf(c)));
    const done = await progressCardIn(t, personalId(t, requester), requestId, /Finished and verified/);
    expect(done.id).toBe(failed.id);
    expect(t.bot.store.requests.get(requestId)!.jobId).toBe(jobId);
    expect(t.bot.store.journal.getStep(jobId, 'app')!.attempts).toBe(appStepAttempts);
    expect(t.bot.store.audit.listForRequest(requestId).map((e) => e.action)).toContain('request.retried');
    await secretCardIn(t, personalId(t, requester), requestId);
    expect(sim.snapshot().applications.filter((a) => a.displayName === 'Opter Retry')).toHaveLength(1);

    // A Retry on a finished job changes nothing.
    expect(errorCodeOf(await click(t, requester, done, 'resume', {}, { data: { requestId } }))).toBe('E_REQUEST_NOT_PENDING');
  });

  it('delivers the final progress state through the outbox when Teams refuses the last edit', async () => {
    const { requester, approver } = t.personas;
    const { requestId } = await submitSetup(t, { appName: 'Opter Final State', senders: [sim.mailboxes.faktura] });
    // Every edit in the requester's chat fails (after botbuilder's own retries) — that is the progress card.
    const chat = personalId(t, requester);
    t.connector.failShare(1, { status: 503, retryAfterSeconds: 0, match: (r) => r.method === 'PUT' && r.path.startsWith(`/v3/conversations/${chat}/activities/`) });
    await click(t, approver, await approvalCopy(t, requestId, personalId(t, approver)), 'approve');
    const card = await waitForCard(t, chat, (c) => textOf(c).includes(`Request ${requestId}`) && /Steps/.test(textOf(c)));
    await t.connector.waitFor(() => t.bot.store.requests.get(requestId)!.status === 'succeeded', 20_000);
    await t.connector.waitFor(() => t.bot.store.outbox.list({ kind: 'progress-final' }).find((i) => (i.payload as { requestId: string }).requestId === requestId), 20_000);
    expect(textOf(cardOf(t.connector.message(card.conversationId, card.id)))).not.toMatch(/Finished and verified/);
    t.connector.clearFaults();
    await t.bot.tick();
    await waitForCard(t, card.conversationId, (c, m) => m.id === card.id && /Finished and verified/.test(textOf(c)));
  });
});
