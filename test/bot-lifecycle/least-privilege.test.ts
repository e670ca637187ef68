/**
 * The daily expiry check through the bot for a provisioning identity with only what the access-policy script needs
 * (Exchange without the Role Management role, Graph without Policy.Read.All): the reminder still reaches the owner,
 * the audit says once what the check could not look at, and "status" lists it under "Not checked".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/sim';
import { DAY, cardOf, credentialsOf, greet, hasVerb, messagesWithCard, personalId, setUpRegistration, startTestBot, startTestSimulator, textOf, waitForCard, type Registration, type TestBot } from './helpers';

let sim: Simulator;
let t: TestBot;
let reg: Registration;

beforeAll(async () => {
  sim = await startTestSimulator();
  t = await startTestBot({ sim });
  await greet(t, t.personas.approver);
  reg = await setUpRegistration(t, sim, { appName: 'Opter Least Expiring', senders: [sim.mailboxes.info], years: 1 });
  sim.setFaults({ revokedPermissions: ['Policy.Read.All', 'Role Management'] });
});
afterAll(async () => {
  sim?.setFaults({ revokedPermissions: [] });
  await t?.close();
  await sim?.close();
});

describe('least-privilege identity', () => {
  it('the daily expiry check still reminds, and says once what it could not check', async () => {
    const end = new Date(credentialsOf(sim, reg.appId)[0]!.endDateTime).getTime();
    t.clock.advance(end - 29.5 * DAY - t.clock.now().getTime());
    await t.bot.tick();
    await t.bot.tick();
    const owner = personalId(t, t.personas.requester);
    await t.connector.waitFor(() => messagesWithCard(t.connector, owner, (c) => hasVerb(c, 'rotate-secret') && textOf(c).includes('A client secret of Opter Least Expiring expires')).at(-1), 10_000);

    const incomplete = t.bot.store.audit.list().filter((e) => e.action === 'expiry-check.incomplete');
    expect(incomplete).toHaveLength(1);
    expect(incomplete[0]!.result).toBe('info');
    expect(incomplete[0]!.detail).toMatch(/could not be looked for, nor their secrets: the provisioning identity may not run Get-ServicePrincipal/);
    expect(t.logLines.some((l) => l.includes('expiry check: Registrations scoped only by RBAC for Applications'))).toBe(true);

    // The next day's check says it again in the log, not in the audit.
    t.clock.advance(DAY);
    await t.bot.tick();
    expect(t.bot.store.audit.list().filter((e) => e.action === 'expiry-check.incomplete')).toHaveLength(1);

    await t.teams.message(t.personas.requester, 'status');
    const status = await waitForCard(t, owner, (c) => textOf(c).includes('Opter Least Expiring') && textOf(c).includes('Not checked'));
    expect(textOf(cardOf(status))).toMatch(/Not checked\n- RBAC for Applications was not checked: the provisioning identity may not run Get-ServicePrincipal/);
  });
});
