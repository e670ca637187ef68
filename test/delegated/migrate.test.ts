/**
 * Issue 12, delegated mode: a long wait runs on the read-only identity. "migrate <app> to RBAC" adds the RBAC scope
 * with the approver's sign-in, then waits two hours for Exchange's permission cache holding nothing; when the time
 * has come the sweep runs it on, it reads, and it stops before removing the Graph grant — that write needs an
 * approver's sign-in again (Continue), and the sign-in of the original approval is long gone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/sim';
import { HOUR, approve, bodyOf, cardOf, click, greet, hasGraphMailSend, hasVerb, latestRequest, personalId, progressCardIn, say, setUpRegistration, startTestBot, startTestSimulator, textOf, waitForCard, type TestBot } from '../bot-lifecycle/helpers';
import { ALL_NEEDED_ROLES } from './helpers';

let sim: Simulator;
let t: TestBot;

beforeAll(async () => {
  sim = await startTestSimulator();
  // The bot's clock is skipped two hours ahead below; its sign-ins must still look fresh to it.
  t = await startTestBot({ sim, delegated: { roles: { approver: ALL_NEEDED_ROLES }, ssoExpiresInSec: 4 * 3600 } });
  await greet(t, t.personas.approver);
});
afterAll(async () => {
  await t?.close();
  await sim?.close();
});

describe('delegated mode: migrate to RBAC across the permission-cache wait', () => {
  it('adds with the approver’s sign-in, waits on the read-only identity, and needs a sign-in again to remove the grant', async () => {
    const { requester, approver } = t.personas;
    const reg = await setUpRegistration(t, sim, { appName: 'Opter Move Delegated', senders: [sim.mailboxes.info] });
    await say(t, 'migrate Opter Move Delegated to RBAC', (c) => textOf(c).includes('Migration plan, in this order'));
    const request = latestRequest(t, 'migrate-rbac');
    await approve(t, request.id);
    await progressCardIn(t, personalId(t, requester), request.id, /continues by itself after/);
    expect(sim.snapshot().roleAssignments.filter((a) => a.appId === reg.appId)).toHaveLength(1);

    sim.clearRequests();
    t.clock.advance(2 * HOUR + 5 * 60_000);
    await t.bot.tick();
    await t.bot.idle();
    // The wait's continuation read with the standing identity and wrote nothing; the grant is still there.
    await progressCardIn(t, personalId(t, requester), request.id, /Waiting for an approver/);
    const log = sim.requests();
    expect(log.filter((r) => r.token === 'user')).toEqual([]);
    expect(log.some((r) => r.token === 'app' && r.principal === sim.readOnly.clientId)).toBe(true);
    expect(hasGraphMailSend(sim, reg.appId)).toBe(true);

    const copy = await waitForCard(t, personalId(t, approver), (c) => textOf(c).includes(request.id) && hasVerb(c, 'resume'));
    expect(textOf(cardOf(copy))).toMatch(/Needs an approver’s sign-in to continue/);
    const res = bodyOf(await click(t, approver, copy, 'resume'));
    expect(JSON.stringify(res.value)).toMatch(/Continuing with your sign-in/);
    await progressCardIn(t, personalId(t, requester), request.id, /Finished and verified/);
    expect(hasGraphMailSend(sim, reg.appId)).toBe(false);
    expect(sim.requests().filter((r) => r.token === 'user' && r.method === 'DELETE').map((r) => r.principal)).toEqual([approver.upn]);
  });
});
