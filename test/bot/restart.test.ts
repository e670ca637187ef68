/**
 * A restart in the middle of provisioning: the bot is stopped while a step is retrying (the simulated tenant
 * replicates slowly), a new bot starts on the same DATA_DIR, resumes the journaled job, edits the same progress card
 * to the end, and the tenant ends up with one app and one secret — which the requester can reveal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/sim';
import {
  approvalCopy,
  bodyOf,
  cardOf,
  click,
  greet,
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
  sim = await startTestSimulator({ faults: { replicationDelayMs: 2500 } });
  t = await startTestBot({ sim, retry: { baseDelayMs: 150, maxDelayMs: 500, maxTotalWaitMs: 30_000 } });
});
afterAll(async () => {
  await t?.close();
  await sim?.close();
});

describe('restart during provisioning', () => {
  it('resumes the job from the journal on the same DATA_DIR and finishes with one app and one secret', async () => {
    const { requester, approver } = t.personas;
    await greet(t, approver);
    const { requestId } = await submitSetup(t, { appName: 'Opter Restart', senders: [sim.mailboxes.info] });
    await click(t, approver, await approvalCopy(t, requestId, personalId(t, approver)), 'approve');

    // Wait until a step is retrying because Microsoft has not replicated a new object yet …
    const retrying = await waitForCard(t, personalId(t, requester), (c) => textOf(c).includes(`Request ${requestId}`) && /· Retrying/.test(textOf(c)) && /replicate/.test(textOf(c)), 20_000);
    const jobId = t.bot.store.requests.get(requestId)!.jobId!;
    expect(t.bot.store.journal.getJob(jobId)!.status).toBe('running');

    // … and stop the bot right there. Nothing records a failure: the job stays "running" for the next process.
    await t.restart();
    expect(t.bot.store.journal.getJob(jobId)!.status).not.toBe('failed');
    expect(t.logLines.some((l) => l.includes(`resuming job ${jobId} of request ${requestId}`))).toBe(true);

    const done = await progressCardIn(t, personalId(t, requester), requestId, /Finished and verified/, 45_000);
    // The same message was edited to the end (re-attached through the stored card record).
    expect(done.id).toBe(retrying.id);
    expect(t.bot.store.journal.getJob(jobId)!.status).toBe('succeeded');
    expect(t.bot.store.journal.listJobs().filter((j) => j.idempotencyKey === requestId)).toHaveLength(1);

    const snap = sim.snapshot();
    const apps = snap.applications.filter((a) => a.displayName === 'Opter Restart');
    expect(apps).toHaveLength(1);
    expect(apps[0]!.passwordCredentials as unknown[]).toHaveLength(1);
    expect(snap.servicePrincipals.filter((s) => s.appId === apps[0]!.appId)).toHaveLength(1);
    expect(snap.accessPolicies.filter((p) => p.appId === apps[0]!.appId)).toHaveLength(1);

    const secretMsg = await secretCardIn(t, personalId(t, requester), requestId);
    expect(t.connector.allMessages().filter((m) => textOf(cardOf(m)).includes(`Request ${requestId}`) && textOf(cardOf(m)).includes('Reveal secret'))).toHaveLength(1);
    const revealed = bodyOf(await click(t, requester, secretMsg, 'reveal'));
    expect(textOf(revealed.value)).toMatch(/^Ms Graph Client Secret\s+: \S+$/m);
    expect(t.bot.store.secrets.get(requestId)!.keyId).toBe((apps[0]!.passwordCredentials as Array<{ keyId: string }>)[0]!.keyId);
  });

  it('settles a request whose job finished while the bot was not listening (crash between the engine and the bot)', async () => {
    const { requester, approver } = t.personas;
    sim.setFaults({ replicationDelayMs: 0 });
    const { requestId } = await submitSetup(t, { appName: 'Opter Settle', senders: [sim.mailboxes.faktura] });
    await click(t, approver, await approvalCopy(t, requestId, personalId(t, approver)), 'approve');
    const progress = await progressCardIn(t, personalId(t, requester), requestId, /Finished and verified/);
    await secretCardIn(t, personalId(t, requester), requestId);
    const settled = t.bot.store.requests.get(requestId)!;

    // As if the process died after the engine marked the job succeeded but before the bot recorded it.
    t.bot.store.requests.setStatus(requestId, 'provisioning', { result: null });
    const versions = progress.versions.length;
    await t.restart();
    await t.connector.waitFor(() => t.bot.store.requests.get(requestId)!.status === 'succeeded', 15_000);
    const rebuilt = t.bot.store.requests.get(requestId)!.result as Record<string, unknown>;
    const original = settled.result as Record<string, unknown>;
    for (const key of ['clientId', 'appObjectId', 'spObjectId', 'groupSmtp', 'keyId', 'credentialEndDateTime']) expect(rebuilt[key]).toEqual(original[key]);
    await t.connector.waitFor(() => t.connector.message(progress.conversationId, progress.id)!.versions.length > versions, 10_000);
    expect(textOf(cardOf(t.connector.message(progress.conversationId, progress.id)))).toMatch(/Finished and verified/);
    // The secret card is not posted twice.
    await t.bot.tick();
    expect(t.bot.store.cards.listCards(requestId, 'secret')).toHaveLength(1);
    expect(sim.snapshot().applications.filter((a) => a.displayName === 'Opter Settle')).toHaveLength(1);
  });
});
