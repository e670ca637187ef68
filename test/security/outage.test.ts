/**
 * Outages, through the real bot: Microsoft Graph and Exchange Online answer 503 for two full minutes right after a
 * setup is approved (the one slow test of the suite: it really waits), and, separately, the Teams Bot Connector
 * answers 429 (with Retry-After) and then 503 for a while in the middle of a setup. In both the job waits and
 * finishes; the progress card, the approval copies, the secret card and every audit entry arrive once Teams or
 * Microsoft are back; nothing is lost, nothing is made twice. Outages longer than the step budget, and a permission
 * taken away, stop the job with Retry, and the first Retry after recovery finishes the same job; a failed state
 * Teams could not show in time never overwrites the card after that Retry.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/sim';
import { DEFAULT_TENANT_ID } from '../harness/teams-client';
import {
  approvalCopy,
  bodyOf,
  cardOf,
  channelFor,
  click,
  errorCodeOf,
  greet,
  hasVerb,
  messagesWithCard,
  personalId,
  progressCardIn,
  secretCardIn,
  startTestBot,
  startTestSimulator,
  submitSetup,
  textOf,
  waitForCard,
  type TestBot,
} from '../bot/helpers';

const PLAINTEXT = /^Ms Graph Client Secret\s+: (\S+)$/m;
const ONCE = ['request.created', 'request.approved', 'secret.stored', 'request.succeeded', 'job.succeeded', 'secret.revealed'];
const toClose: Array<() => Promise<void>> = [];

afterAll(async () => {
  for (const close of toClose.reverse()) await close();
});

async function setUp(
  name: string,
  options: { env?: Record<string, string>; retry?: { baseDelayMs?: number; maxDelayMs?: number; maxTotalWaitMs?: number } } = {},
): Promise<{ sim: Simulator; t: TestBot; auditChannel: ReturnType<typeof channelFor> }> {
  const sim = await startTestSimulator();
  const auditChannel = channelFor(DEFAULT_TENANT_ID, `${name}-audit`);
  // The engine's retry budget: the default 10 minutes per step, with waits capped at 5 s so it notices the end of an
  // outage promptly.
  const retry = options.retry ?? { baseDelayMs: 1_000, maxDelayMs: 5_000, maxTotalWaitMs: 10 * 60_000 };
  const t = await startTestBot({ sim, retry, env: { AUDIT_CHANNEL_ID: auditChannel.channelId, ...options.env } });
  toClose.push(() => sim.close(), () => t.close());
  t.teams.addChannel(auditChannel, [t.personas.requester, t.personas.approver]);
  await greet(t, t.personas.approver);
  return { sim, t, auditChannel };
}

/** Waits (bounded) for the request to reach `status`; on timeout says where it is and what the bot logged. */
async function requestReaches(t: TestBot, requestId: string, status: string, timeoutMs: number): Promise<void> {
  try {
    await t.connector.waitFor(() => t.bot.store.requests.get(requestId)!.status === status, timeoutMs);
  } catch (e) {
    const r = t.bot.store.requests.get(requestId)!;
    throw new Error(`request ${requestId} is ${r.status} (${r.lastError?.code ?? 'no error'}), not ${status}: ${(e as Error).message}\n${t.logLines.slice(-12).join('\n')}`, { cause: e });
  }
}

/** Everything that must hold once the outage is over and the flow finished. */
async function expectCaughtUp(
  t: TestBot,
  sim: Simulator,
  auditChannel: ReturnType<typeof channelFor>,
  requestId: string,
  appName: string,
  options: { failedOnceThenRetried?: boolean } = {},
): Promise<void> {
  const { requester, approver } = t.personas;
  const snap = sim.snapshot();
  const apps = snap.applications.filter((a) => a.displayName === appName);
  expect(apps).toHaveLength(1);
  expect(apps[0]!.passwordCredentials as unknown[]).toHaveLength(1);
  expect(snap.servicePrincipals.filter((s) => s.appId === apps[0]!.appId)).toHaveLength(1);
  expect(snap.accessPolicies.filter((p) => p.appId === apps[0]!.appId)).toHaveLength(1);
  expect(snap.groups.filter((g) => g.name === `${appName} - MailSend Allowed`)).toHaveLength(1);
  expect(t.bot.store.journal.listJobs().filter((j) => j.idempotencyKey === requestId)).toHaveLength(1);

  // Cards: one progress card, final; every approval copy decided; one secret card, revealed once.
  const progress = messagesWithCard(t.connector, personalId(t, requester), (c) => textOf(c).includes(`Request ${requestId}`) && /Steps/.test(textOf(c)));
  expect(progress).toHaveLength(1);
  await waitForCard(t, personalId(t, requester), (c, m) => m.id === progress[0]!.id && /Finished and verified/.test(textOf(c)), 30_000);
  await waitForCard(t, personalId(t, approver), (c) => textOf(c).includes(requestId) && /Approved by/.test(textOf(c)) && !hasVerb(c, 'approve'), 30_000);
  const secretMsg = await secretCardIn(t, personalId(t, requester), requestId, 30_000);
  expect(messagesWithCard(t.connector, personalId(t, requester), (c) => textOf(c).includes(`Request ${requestId}`) && hasVerb(c, 'reveal'))).toHaveLength(1);
  const revealed = PLAINTEXT.exec(textOf(bodyOf(await click(t, requester, secretMsg, 'reveal')).value))?.[1];
  expect(revealed?.slice(0, 3)).toBe((apps[0]!.passwordCredentials as Array<{ hint: string }>)[0]!.hint);
  expect(errorCodeOf(await click(t, requester, secretMsg, 'reveal'))).toBe('E_SECRET_ALREADY_REVEALED');

  // Audit: the chain is whole, each decisive event is there once, and every entry reached the audit channel.
  await t.bot.tick();
  expect(t.bot.store.audit.verify().ok).toBe(true);
  const actions = t.bot.store.audit.listForRequest(requestId).map((e) => e.action);
  for (const action of ONCE) expect(actions.filter((a) => a === action), `${action} in ${actions.join(', ')}`).toHaveLength(1);
  if (options.failedOnceThenRetried) expect(actions.filter((a) => a === 'request.failed' || a === 'request.retried')).toEqual(['request.failed', 'request.retried']);
  else expect(actions.filter((a) => a.endsWith('.failed'))).toEqual([]);
  await t.connector.waitFor(() => {
    const posted = t.connector.channelMessages(auditChannel.channelId).map((m) => textOf(cardOf(m)));
    return t.bot.store.audit.list().every((e) => posted.some((p) => p.includes(`#${e.seq} ·`)));
  }, 30_000);
  expect(t.bot.store.outbox.counts().dead).toBe(0);
}

describe('outages', () => {
  it('Graph and Exchange down for two minutes after the approval: the job waits, then finishes', async () => {
    const { sim, t, auditChannel } = await setUp('graph-down');
    const { requester, approver } = t.personas;
    const appName = 'Outage Two Minutes';
    const { requestId } = await submitSetup(t, { appName, senders: [sim.mailboxes.info] });
    const copy = await approvalCopy(t, requestId, personalId(t, approver));

    const outageMs = 120_000;
    const startedAt = Date.now();
    sim.setFaults({ unavailable: { untilEpochMs: startedAt + outageMs, families: ['graph', 'exchange'] } });
    sim.clearRequests();
    await click(t, approver, copy, 'approve');

    // While Microsoft is down the card says it is waiting, and the request is still on its way (not failed).
    await waitForCard(t, personalId(t, requester), (c) => textOf(c).includes(`Request ${requestId}`) && /Retrying/.test(textOf(c)), 30_000);
    await new Promise((r) => setTimeout(r, 60_000));
    expect(t.bot.store.requests.get(requestId)!.status).toBe('provisioning');
    expect(sim.snapshot().applications.some((a) => a.displayName === appName)).toBe(false);

    await progressCardIn(t, personalId(t, requester), requestId, /Finished and verified/, 150_000);
    const finishedAt = Date.now();
    expect(finishedAt - startedAt).toBeGreaterThanOrEqual(outageMs);
    const refused = sim.requests().filter((r) => (r.family === 'graph' || r.family === 'exchange') && r.status === 503);
    expect(refused.length).toBeGreaterThan(10);
    expect(Date.parse(refused.at(-1)!.at) - Date.parse(refused[0]!.at)).toBeGreaterThan(outageMs - 15_000);
    expect(t.bot.store.requests.get(requestId)!.status).toBe('succeeded');
    await expectCaughtUp(t, sim, auditChannel, requestId, appName);
  }, 300_000);

  it('an outage longer than the budget set by OPTER_STEP_MAX_WAIT_MS stops the job with Retry; Retry afterwards finishes the same job', async () => {
    // The budget comes from the documented environment variable (the test passes only the backoff shape).
    const { sim, t, auditChannel } = await setUp('budget', { env: { OPTER_STEP_MAX_WAIT_MS: '1500' }, retry: { baseDelayMs: 100, maxDelayMs: 400 } });
    const { requester, approver } = t.personas;
    const appName = 'Outage Over Budget';
    const { requestId } = await submitSetup(t, { appName, senders: [sim.mailboxes.info] });
    const copy = await approvalCopy(t, requestId, personalId(t, approver));
    const until = Date.now() + 6_000;
    sim.setFaults({ unavailable: { untilEpochMs: until, families: ['graph', 'exchange'] } });
    await click(t, approver, copy, 'approve');

    const stopped = await progressCardIn(t, personalId(t, requester), requestId, /Stopped: a step failed/, 30_000);
    expect(Date.now()).toBeLessThan(until);
    expect(textOf(cardOf(stopped))).toContain('E_SERVICE_UNAVAILABLE');
    expect(hasVerb(cardOf(stopped), 'resume')).toBe(true);
    const request = t.bot.store.requests.get(requestId)!;
    expect(request.status).toBe('failed');
    expect(request.lastError?.code).toBe('E_SERVICE_UNAVAILABLE');
    const jobId = request.jobId;

    await new Promise((r) => setTimeout(r, Math.max(0, until - Date.now()) + 200));
    expect(bodyOf(await click(t, requester, stopped, 'resume')).value).toMatch(/Retrying from where it stopped/);
    await waitForCard(t, stopped.conversationId, (c, m) => m.id === stopped.id && !/Stopped: a step failed/.test(textOf(c)));
    await progressCardIn(t, personalId(t, requester), requestId, /Finished and verified/, 30_000);
    expect(t.bot.store.requests.get(requestId)!.jobId).toBe(jobId);
    await expectCaughtUp(t, sim, auditChannel, requestId, appName, { failedOnceThenRetried: true });
  }, 60_000);

  it('a Graph permission taken away stops the job; once it is given back, the first Retry finishes the same job', async () => {
    const { sim, t, auditChannel } = await setUp('permission');
    const { requester, approver } = t.personas;
    const appName = 'Outage Permission';
    const { requestId } = await submitSetup(t, { appName, senders: [sim.mailboxes.info] });
    const copy = await approvalCopy(t, requestId, personalId(t, approver));
    sim.setFaults({ revokedPermissions: ['AppRoleAssignment.ReadWrite.All'] });
    await click(t, approver, copy, 'approve');
    const stopped = await progressCardIn(t, personalId(t, requester), requestId, /Stopped: a step failed/, 30_000);
    expect(textOf(cardOf(stopped))).toContain('E_GRAPH_PERMISSION');
    // Anything signing in while the permission is missing gets a token without it (as in Entra).
    await t.bot.tick();
    await new Promise((r) => setTimeout(r, 300));

    sim.setFaults({ revokedPermissions: [] });
    expect(bodyOf(await click(t, requester, stopped, 'resume')).value).toMatch(/Retrying from where it stopped/);
    await waitForCard(t, stopped.conversationId, (c, m) => m.id === stopped.id && !/Stopped: a step failed/.test(textOf(c)));
    await progressCardIn(t, personalId(t, requester), requestId, /Finished and verified/, 30_000);
    await expectCaughtUp(t, sim, auditChannel, requestId, appName, { failedOnceThenRetried: true });
  }, 60_000);

  it('Teams refuses the failed state of a job; after the requester’s Retry that late state never overwrites the card', async () => {
    // A step budget of 1.5 s: a 4 s Microsoft outage right after the approval stops the job (E_SERVICE_UNAVAILABLE).
    const { sim, t, auditChannel } = await setUp('stale-final', { retry: { baseDelayMs: 100, maxDelayMs: 400, maxTotalWaitMs: 1_500 } });
    const { requester, approver } = t.personas;
    const appName = 'Outage Stale Final';
    const { requestId } = await submitSetup(t, { appName, senders: [sim.mailboxes.info] });
    const copy = await approvalCopy(t, requestId, personalId(t, approver));
    const outageEnds = Date.now() + 4_000;
    sim.setFaults({ unavailable: { untilEpochMs: outageEnds, families: ['graph', 'exchange'] } });
    const chat = personalId(t, requester);
    // Every edit in the requester's chat fails: the card stays as first posted; the failed state waits in the outbox.
    t.connector.failShare(1, { status: 503, retryAfterSeconds: 0, match: (r) => r.method === 'PUT' && r.path.startsWith(`/v3/conversations/${chat}/activities/`) });
    await click(t, approver, copy, 'approve');
    const card = await waitForCard(t, chat, (c) => textOf(c).includes(`Request ${requestId}`) && /Steps/.test(textOf(c)));
    await requestReaches(t, requestId, 'failed', 30_000);
    await t.connector.waitFor(() => t.bot.store.outbox.list({ kind: 'progress-final' }).some((i) => (i.payload as { requestId: string }).requestId === requestId && i.attempts > 0), 15_000);

    expect(t.bot.store.requests.get(requestId)!.lastError?.code).toBe('E_SERVICE_UNAVAILABLE');
    await new Promise((r) => setTimeout(r, Math.max(0, outageEnds - Date.now()) + 200));
    expect(bodyOf(await click(t, requester, card, 'resume', {}, { data: { requestId } })).value).toMatch(/Retrying/);
    // The retried job finishes while Teams still refuses edits; then Teams is back and the outbox holds two final
    // states of this card: the failed one from before the Retry and the finished one.
    await requestReaches(t, requestId, 'succeeded', 30_000);
    t.connector.clearFaults();
    await t.bot.tick();
    await progressCardIn(t, chat, requestId, /Finished and verified/, 30_000);
    // Every queued final state of this card has been dealt with (delivered, or dropped as out of date).
    const finalsSettled = () =>
      t.bot.store.outbox.list({ kind: 'progress-final' }).filter((i) => (i.payload as { requestId: string }).requestId === requestId).every((i) => i.status === 'sent');
    for (let round = 0; round < 100 && !finalsSettled(); round++) {
      await t.bot.tick();
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(finalsSettled()).toBe(true);
    // The failed state never reached the card: not before the Retry (Teams refused), and not after it — it no longer
    // matches the request, so the outbox drops it instead of putting an old state back.
    const versions = t.connector.message(card.conversationId, card.id)!.versions.map((v) => textOf(cardOf({ activity: v } as never)));
    expect(versions.filter((v) => /Stopped: a step failed/.test(v))).toEqual([]);
    expect(versions.at(-1)).toMatch(/Finished and verified/);
    await expectCaughtUp(t, sim, auditChannel, requestId, appName, { failedOnceThenRetried: true });
  }, 60_000);

  it('Teams answers 429 and then 503 for a while: the job finishes anyway and every card and audit post catches up', async () => {
    const { sim, t, auditChannel } = await setUp('teams-down');
    const { approver, requester } = t.personas;
    const appName = 'Outage Teams';
    sim.setFaults({ latencyMs: 40, replicationDelayMs: 500 });
    const { requestId } = await submitSetup(t, { appName, senders: [sim.mailboxes.info, sim.mailboxes.faktura] });
    const copy = await approvalCopy(t, requestId, personalId(t, approver));

    // From the approval on, every call to Teams is throttled (Retry-After 1 s; botbuilder waits and retries 3 times)…
    t.connector.failShare(1, { status: 429, retryAfterSeconds: 1 });
    const approved = await click(t, approver, copy, 'approve');
    expect(textOf(bodyOf(approved).value)).toContain('Approved by');
    // …the job does not need Teams and finishes meanwhile …
    await requestReaches(t, requestId, 'succeeded', 60_000);
    const throttled = t.connector.requests.filter((r) => r.fault && r.status === 429).length;
    expect(throttled).toBeGreaterThan(5);
    // … then Teams is half down (every other call 503) for a few seconds more …
    t.connector.failShare(0.5, { status: 503, retryAfterSeconds: 0 });
    await new Promise((r) => setTimeout(r, 4_000));
    // … and finally back. Nothing the bot wanted to show was lost.
    t.connector.clearFaults();
    expect(t.connector.requests.filter((r) => r.fault && r.status === 503).length).toBeGreaterThan(0);
    expect(t.bot.store.outbox.counts().dead).toBe(0);
    await t.bot.tick();
    await progressCardIn(t, personalId(t, requester), requestId, /Finished and verified/, 30_000);
    await expectCaughtUp(t, sim, auditChannel, requestId, appName);
    // The warnings name the retries, and the bot never gave up on a delivery.
    expect(t.logLines.some((l) => /outbox .* failed .*(429|503).*retrying/.test(l))).toBe(true);
    expect(t.logLines.some((l) => /refused by Teams for good/.test(l))).toBe(false);
  }, 120_000);
});
