/**
 * Races through the real bot over HTTP: 50 concurrent reveal clicks give exactly one plaintext; two approvers
 * deciding the same request at the same moment give one decision; the same form submitted concurrently (and two
 * forms for the same app name) give one request and, once approved, one job and one app in the tenant.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/sim';
import {
  approvalCopy,
  bodyOf,
  cardOf,
  click,
  dataOf,
  errorCodeOf,
  formInputs,
  greet,
  openForm,
  personalId,
  progressCardIn,
  secretCardIn,
  startTestBot,
  startTestSimulator,
  submitSetup,
  textOf,
  type TestBot,
} from '../bot/helpers';

const PLAINTEXT = /^Ms Graph Client Secret\s+: (\S+)$/m;

let sim: Simulator;
let t: TestBot;

beforeAll(async () => {
  sim = await startTestSimulator();
  // Two approvers besides the requester: the admin "approver" and the (non-admin) "nonAdmin".
  const p = (await import('../harness/teams-client')).makePersonas();
  t = await startTestBot({ sim, env: { APPROVERS: `${p.approver.aadObjectId},${p.nonAdmin.aadObjectId}` } });
  await greet(t, t.personas.approver);
  await greet(t, t.personas.nonAdmin);
});
afterAll(async () => {
  await t?.close();
  await sim?.close();
});

function appsNamed(name: string) {
  return sim.snapshot().applications.filter((a) => a.displayName === name);
}

describe('races', () => {
  it('50 concurrent reveal clicks: exactly one plaintext, 49 "already revealed", one audit entry', async () => {
    const { requester, approver } = t.personas;
    const { requestId } = await submitSetup(t, { appName: 'Race Reveal', senders: [sim.mailboxes.info] });
    await click(t, approver, await approvalCopy(t, requestId, personalId(t, approver)), 'approve');
    await progressCardIn(t, personalId(t, requester), requestId, /Finished and verified/);
    const secretMsg = await secretCardIn(t, personalId(t, requester), requestId);

    const results = await Promise.all(Array.from({ length: 50 }, () => click(t, requester, secretMsg, 'reveal')));
    expect(results.every((r) => r.status === 200)).toBe(true);
    const plaintexts = results.map((r) => PLAINTEXT.exec(textOf(bodyOf(r).value))?.[1]).filter((s): s is string => !!s);
    expect(plaintexts).toHaveLength(1);
    expect(results.filter((r) => errorCodeOf(r) === 'E_SECRET_ALREADY_REVEALED')).toHaveLength(49);
    expect(t.bot.store.secrets.get(requestId)!.state).toBe('revealed');
    expect(t.bot.store.audit.listForRequest(requestId).filter((e) => e.action === 'secret.revealed')).toHaveLength(1);
    // The one plaintext is the credential the app holds (one secret on the app).
    const app = appsNamed('Race Reveal')[0]!;
    expect(app.passwordCredentials as unknown[]).toHaveLength(1);
    expect(plaintexts[0]!.slice(0, 3)).toBe((app.passwordCredentials as Array<{ hint: string }>)[0]!.hint);
  });

  it('two approvers click at the same moment: one decision, the other is told who decided', async () => {
    const { approver, nonAdmin, requester } = t.personas;
    for (let round = 0; round < 4; round++) {
      const name = `Race Decide ${round}`;
      const { requestId } = await submitSetup(t, { appName: name, senders: [sim.mailboxes.faktura] });
      const [copyA, copyB] = await Promise.all([approvalCopy(t, requestId, personalId(t, approver)), approvalCopy(t, requestId, personalId(t, nonAdmin))]);
      // Round 0/1: both approve; round 2/3: one approves while the other rejects.
      const bVerb = round < 2 ? 'approve' : 'reject';
      const [a, b] = await Promise.all([click(t, approver, copyA, 'approve'), click(t, nonAdmin, copyB, bVerb, bVerb === 'reject' ? { reason: 'race' } : {})]);
      const winners = [a, b].filter((r) => bodyOf(r).type === 'application/vnd.microsoft.card.adaptive');
      const losers = [a, b].filter((r) => errorCodeOf(r) === 'E_REQUEST_NOT_PENDING');
      expect(winners, JSON.stringify([a.body, b.body]).slice(0, 500)).toHaveLength(1);
      expect(losers).toHaveLength(1);
      const request = t.bot.store.requests.get(requestId)!;
      const decidedBy = request.decision!.by.name!;
      expect(textOf(bodyOf(winners[0]!).value)).toContain(decidedBy);
      expect((bodyOf(losers[0]!).value as { message: string }).message).toContain(`by ${decidedBy}`);
      const decisions = t.bot.store.audit.listForRequest(requestId).filter((e) => e.action === 'request.approved' || e.action === 'request.rejected');
      expect(decisions).toHaveLength(1);
      if (request.status !== 'rejected') {
        await progressCardIn(t, personalId(t, requester), requestId, /Finished and verified/);
        expect(t.bot.store.journal.listJobs().filter((j) => j.idempotencyKey === requestId)).toHaveLength(1);
        expect(appsNamed(name)).toHaveLength(1);
      } else {
        expect(request.jobId).toBeNull();
        expect(appsNamed(name)).toHaveLength(0);
      }
    }
  });

  it('the same form submitted 10 times at once: one request, one approval post per approver, then one job and one app', async () => {
    const { requester, approver } = t.personas;
    const form = await openForm(t);
    const requestId = String(dataOf(cardOf(form), 'submit-request').requestId);
    const inputs = formInputs({ appName: 'Race Submit', senders: [sim.mailboxes.info] });
    const results = await Promise.all(Array.from({ length: 10 }, () => click(t, requester, form, 'submit-request', inputs)));
    for (const r of results) expect(textOf(bodyOf(r).value)).toContain('Sent for approval');
    expect(t.bot.store.requests.list({ appName: 'Race Submit' }).map((r) => r.id)).toEqual([requestId]);
    expect(t.bot.store.audit.listForRequest(requestId).filter((e) => e.action === 'request.created')).toHaveLength(1);
    await t.bot.tick();
    expect(t.bot.store.outbox.list({ kind: 'approval-post' }).filter((i) => (i.payload as { requestId: string }).requestId === requestId)).toHaveLength(2);

    await click(t, approver, await approvalCopy(t, requestId, personalId(t, approver)), 'approve');
    await progressCardIn(t, personalId(t, requester), requestId, /Finished and verified/);
    expect(t.bot.store.journal.listJobs().filter((j) => j.idempotencyKey === requestId)).toHaveLength(1);
    expect(appsNamed('Race Submit')).toHaveLength(1);
    expect(appsNamed('Race Submit')[0]!.passwordCredentials as unknown[]).toHaveLength(1);
  });

  it('two forms for the same app name submitted at once: one request, the other is told it is already pending', async () => {
    const { requester } = t.personas;
    const [formA, formB] = [await openForm(t), await openForm(t)];
    const inputs = formInputs({ appName: 'Race Same Name', senders: [sim.mailboxes.faktura] });
    const [a, b] = await Promise.all([click(t, requester, formA, 'submit-request', inputs), click(t, requester, formB, 'submit-request', inputs)]);
    const texts = [textOf(bodyOf(a).value), textOf(bodyOf(b).value)];
    expect(texts.filter((x) => x.includes('Sent for approval'))).toHaveLength(1);
    expect(texts.filter((x) => /A request for “Race Same Name” is already pending/.test(x))).toHaveLength(1);
    expect(t.bot.store.requests.list({ appName: 'Race Same Name' })).toHaveLength(1);
  });
});
