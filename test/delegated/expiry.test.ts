/**
 * Issue 12: the approver's sign-in ends while the job is on its way (or the process dies): the job stops at its
 * next write, waits visibly for an approver, and the approver's Continue — a new silent sign-in — finishes it
 * with one set of objects and one secret. Tokens are short-lived here: the SSO token lives 4 s and the
 * On-Behalf-Of tokens 2 s (so the credential exchanges the assertion again for each call); Exchange is throttled
 * for a few seconds after the approval, which holds the job until the approver's assertion has expired.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/sim';
import { bodyOf, cardOf, click, greet, hasVerb, personalId, progressCardIn, startTestBot, startTestSimulator, textOf, waitForCard, type TestBot } from '../bot/helpers';
import { ALL_NEEDED_ROLES, isWrite, requestSetup } from './helpers';

let sim: Simulator;
let t: TestBot;
const delegated = { roles: { approver: ALL_NEEDED_ROLES }, ssoExpiresInSec: 4 };

beforeAll(async () => {
  sim = await startTestSimulator({ delegatedTokenLifetimeSeconds: 2 });
  t = await startTestBot({ sim, delegated, settings: { ssoMinRemainingMs: 1_000 }, retry: { baseDelayMs: 200, maxDelayMs: 1_000, maxTotalWaitMs: 30_000 } });
  await greet(t, t.personas.approver);
  await greet(t, t.personas.requester);
});
afterAll(async () => {
  await t?.close();
  await sim?.close();
});

describe('delegated mode: a sign-in that ends mid-job', () => {
  it('waits for the approver, and Continue finishes it with one set of objects and one secret', async () => {
    const { requester, approver } = t.personas;
    const { requestId, copy } = await requestSetup(t, sim, 'Opter Expiry');

    sim.setFaults({ throttle: { retryAfterSeconds: 1, families: ['exchange'] } });
    const released = new Promise<void>((resolve) => setTimeout(() => resolve(sim.setFaults({ throttle: null })), 5_000));
    bodyOf(await click(t, approver, copy, 'approve'));
    await released;

    // The job stopped at a write: the progress card and every approval copy say so, the latter with Continue.
    await progressCardIn(t, personalId(t, requester), requestId, /Waiting for an approver/, 60_000);
    const job = t.bot.store.journal.getJob(t.bot.store.requests.get(requestId)!.jobId!)!;
    expect(job.status).toBe('waiting');
    expect(job.lastError?.code).toBe('E_APPROVER_NEEDED');
    const waiting = await waitForCard(t, personalId(t, approver), (c, m) => m.id === copy.id && hasVerb(c, 'resume'));
    expect(textOf(cardOf(waiting))).toMatch(/Needs an approver’s sign-in to continue/);
    // …and a new message tells the approver (an edited card notifies nobody).
    await waitForCard(t, personalId(t, approver), (c, m) => m.id !== copy.id && textOf(c).includes(`Request ${requestId} for Opter Expiry stopped before its next change`));
    // The sweep does not run it again by itself.
    await t.bot.tick();
    await t.bot.idle();
    expect(t.bot.store.journal.getJob(job.id)!.status).toBe('waiting');
    // The requester cannot continue it with their own rights: it stays the approvers'.
    const mine = bodyOf(await click(t, requester, waiting, 'resume'));
    expect(String(mine.value)).toMatch(/An approver continues it with their own sign-in/);
    expect(t.bot.store.journal.getJob(job.id)!.status).toBe('waiting');

    delegated.ssoExpiresInSec = 3600;
    const continued = bodyOf(await click(t, approver, waiting, 'resume'));
    expect(String(continued.value)).toMatch(/Continuing with your sign-in/);
    await progressCardIn(t, personalId(t, requester), requestId, /Finished and verified/, 60_000);

    const snap = sim.snapshot();
    const apps = snap.applications.filter((a) => a.displayName === 'Opter Expiry');
    expect(apps).toHaveLength(1);
    expect((apps[0]!.passwordCredentials as unknown[]).length).toBe(1);
    expect(snap.servicePrincipals.filter((s) => s.appId === apps[0]!.appId)).toHaveLength(1);
    expect(snap.accessPolicies.filter((p) => p.appId === apps[0]!.appId)).toHaveLength(1);
    expect(snap.groups.filter((g) => /opter-expiry/i.test(String(g.primarySmtpAddress ?? g.alias ?? '')))).toHaveLength(1);
    // Every write of the whole job, before and after the wait, was the approver's.
    const writes = sim.requests().filter(isWrite);
    expect(writes.filter((w) => w.status < 400 && w.principal !== approver.upn)).toEqual([]);
    expect(t.bot.store.audit.listForRequest(requestId).map((e) => e.action)).toEqual(expect.arrayContaining(['request.waiting', 'request.continued', 'request.succeeded']));
  });

  it('the requester’s Retry of a failed job hands it to the approvers; an approver’s Continue runs it with their sign-in', async () => {
    const { requester, approver } = t.personas;
    const { requestId, copy } = await requestSetup(t, sim, 'Opter Retry Delegated');
    // The tenant refuses new secrets for now: the job fails at that step.
    sim.setFaults({ blockPasswordAddition: {} });
    try {
      bodyOf(await click(t, approver, copy, 'approve'));
      const failed = await progressCardIn(t, personalId(t, requester), requestId, /Stopped: a step failed/, 60_000);
      expect(hasVerb(cardOf(failed), 'resume')).toBe(true);
      sim.setFaults({ blockPasswordAddition: null });
      const handed = bodyOf(await click(t, requester, failed, 'resume'));
      expect(String(handed.value)).toMatch(/An approver continues it with their own sign-in/);
      await t.bot.idle();
      expect(t.bot.store.requests.get(requestId)!.lastError?.code).toBe('E_APPROVER_NEEDED');
      const offered = await waitForCard(t, personalId(t, approver), (c, m) => m.id === copy.id && hasVerb(c, 'resume'));
      const continued = bodyOf(await click(t, approver, offered, 'resume'));
      expect(String(continued.value)).toMatch(/Continuing with your sign-in/);
      // The same card, which still shows the failure until the new run's first edit.
      await waitForCard(t, personalId(t, requester), (c, m) => m.id === failed.id && /Finished and verified/.test(textOf(c)), 60_000);
      const apps = sim.snapshot().applications.filter((a) => a.displayName === 'Opter Retry Delegated');
      expect(apps).toHaveLength(1);
      expect((apps[0]!.passwordCredentials as unknown[]).length).toBe(1);
    } finally {
      sim.setFaults({ blockPasswordAddition: null });
    }
  });
});
