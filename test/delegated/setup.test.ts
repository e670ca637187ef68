/**
 * Issue 12, delegated mode (PROVISIONING_AUTH=delegated) over HTTP: the approver's click carries the only power to
 * change the tenant. The Teams client answers the bot's Universal Actions login request with the approver's SSO
 * token; the bot exchanges it On-Behalf-Of and every write the simulator sees is made with the approver's own
 * (user) token, every read with the read-only standing identity. An approver without the roles is refused before
 * anything is written.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ENTRA_ROLES } from '../../src/core/roles';
import type { Simulator } from '../../src/sim';
import { bodyOf, cardOf, click, errorCodeOf, greet, personalId, progressCardIn, secretCardIn, startTestBot, startTestSimulator, textOf, type TestBot } from '../bot/helpers';
import { ALL_NEEDED_ROLES, isWrite, requestSetup } from './helpers';

const ROLES = ENTRA_ROLES;
const ALL_NEEDED = ALL_NEEDED_ROLES;

let sim: Simulator;
let t: TestBot;

const writesIn = (log: ReturnType<Simulator['requests']>) => log.filter(isWrite);
const readsIn = (log: ReturnType<Simulator['requests']>) => log.filter((r) => r.token && !isWrite(r));

beforeAll(async () => {
  sim = await startTestSimulator();
  t = await startTestBot({ sim, delegated: { roles: { approver: ALL_NEEDED, requester: [ROLES['Global Reader']] } } });
  await greet(t, t.personas.approver);
  await greet(t, t.personas.requester);
});
afterAll(async () => {
  await t?.close();
  await sim?.close();
});
beforeEach(() => sim.clearRequests());


describe('delegated mode: the approver’s own sign-in does every write', () => {
  it('a full setup: login request, On-Behalf-Of, every write with the approver’s user token, reads with the read-only identity', async () => {
    const { requester, approver } = t.personas;
    const { requestId, copy } = await requestSetup(t, sim, 'Opter Delegated');
    expect(textOf(cardOf(copy))).toMatch(/Privileged Role Administrator/);

    const before = sim.requests().length;
    const exchangesBefore = t.teams.ssoExchanges;
    const res = await click(t, approver, copy, 'approve');
    const approved = bodyOf(res);
    expect(textOf(approved.value)).toContain(`Approved by ${approver.name}`);
    expect(t.teams.ssoExchanges).toBe(exchangesBefore + 1);

    await progressCardIn(t, personalId(t, requester), requestId, /Finished and verified/);
    const log = sim.requests().slice(before);
    const writes = writesIn(log);
    expect(writes.length).toBeGreaterThan(5);
    for (const w of writes) expect({ call: w.cmdlet ?? `${w.method} ${w.path}`, token: w.token, principal: w.principal }).toEqual({ call: w.cmdlet ?? `${w.method} ${w.path}`, token: 'user', principal: approver.upn });
    // The Graph grant, the group and the policy are among them (the approver's roles reached every kind of write).
    expect(writes.some((w) => w.path.includes('appRoleAssignedTo'))).toBe(true);
    expect(writes.some((w) => w.cmdlet === 'New-DistributionGroup')).toBe(true);
    expect(writes.some((w) => w.cmdlet === 'New-ApplicationAccessPolicy')).toBe(true);
    const reads = readsIn(log);
    expect(reads.some((r) => r.token === 'app' && r.principal === sim.readOnly.clientId)).toBe(true);
    // Nothing was done with the standing identity's token except reads; nothing at all with the old provisioning app.
    expect(log.filter((r) => r.principal === sim.provisioning.clientId)).toEqual([]);

    const secretMsg = await secretCardIn(t, personalId(t, requester), requestId);
    const revealed = bodyOf(await click(t, requester, secretMsg, 'reveal'));
    expect(textOf(revealed.value)).toMatch(/Ms Graph Client Secret/);
    expect(t.bot.engine.delegatedWrites).toBe(true);
  });

  it('refuses an approver without the roles before anything is written, and says which roles and how to get them', async () => {
    const { requester, approver } = t.personas;
    // The approver loses Exchange Administrator (e.g. a PIM activation ran out).
    sim.addUser({ userPrincipalName: approver.upn, id: approver.aadObjectId, roles: [ROLES['Cloud Application Administrator'], ROLES['Privileged Role Administrator']] });
    try {
      const { requestId, copy } = await requestSetup(t, sim, 'Opter Unroled');
      const before = sim.requests().length;
      const res = await click(t, approver, copy, 'approve');
      expect(errorCodeOf(res)).toBe('E_APPROVER_ROLES');
      expect((bodyOf(res).value as { message: string }).message).toMatch(/Exchange Administrator.*Privileged Identity Management/s);
      expect(t.bot.store.requests.get(requestId)!.status).toBe('pending');
      await t.bot.idle();
      expect(writesIn(sim.requests().slice(before))).toEqual([]);
      expect(t.bot.store.journal.listJobs({}).filter((j) => t.bot.store.requests.getByJobId(j.id)?.id === requestId)).toEqual([]);
      void requester;
    } finally {
      sim.addUser({ userPrincipalName: approver.upn, id: approver.aadObjectId, roles: ALL_NEEDED });
    }
  });

  it('the standing identity the bot keeps can write nothing: the tenant refuses it', async () => {
    const standing = t.bot.tenant.adapters;
    expect(t.bot.tenant.conn.clientId).toBe(sim.readOnly.clientId);
    // Start-up found no write right on it to warn about.
    expect(t.logLines.filter((l) => /still holds/.test(l))).toEqual([]);
    const app = (await standing.directory.findApplicationsByDisplayName('Opter Delegated'))[0]!;
    expect(app).toBeDefined(); // it reads
    await expect(standing.directory.addPassword(app.id, { displayName: 'stolen', endDateTime: new Date(Date.now() + 86_400_000).toISOString() })).rejects.toMatchObject({ code: 'E_GRAPH_PERMISSION' });
    await expect(standing.directory.upsertApplicationByUniqueName('stolen-app', { displayName: 'Stolen', signInAudience: 'AzureADMyOrg' })).rejects.toMatchObject({ code: 'E_GRAPH_PERMISSION' });
    await expect(standing.exchange.newDistributionGroup({ name: 'Stolen Group', alias: 'stolen-group', members: [] })).rejects.toMatchObject({ code: 'E_EXCHANGE_PERMISSION' });
    expect(sim.snapshot().applications.find((a) => a.displayName === 'Stolen')).toBeUndefined();
  });
});
