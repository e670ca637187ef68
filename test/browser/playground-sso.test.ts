/**
 * The playground page answers a Universal Actions loginRequest as Teams does (docs/simulator.md, "Teams SSO in the
 * playground"), pinned in a real browser against a small bot: the click's invoke is answered 401 loginRequest, the
 * page fetches the person's SSO token and re-sends the same invoke with value.authentication, the bot exchanges it
 * On-Behalf-Of with the simulator's seeded bot app; a failed exchange's 412 shows its message. Roles do not matter
 * here (the delegated-mode flow of the product has its own test).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { BotServer } from '../../src/bot/host/server';
import { startSsoBot, type SeenInvoke } from '../harness/sso-bot';
import type { Simulator } from '../../src/sim';
import { simulatorPersonas } from '../../src/playground/personas';
import { startPlayground, type Playground } from '../../src/playground/server';
import { startTestSimulator } from '../harness/simulator';
import { asPersona, botMessageWith, launchBrowser, openChat, openPage, type } from './browser';


describe('playground: Teams SSO handshake in a real browser', () => {
  let sim: Simulator;
  let bot: BotServer;
  let playground: Playground;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  const consoleLines: string[] = [];
  let seen: SeenInvoke[] = [];

  beforeAll(async () => {
    sim = await startTestSimulator();
    const personas = simulatorPersonas(sim.snapshot().users, sim.tenantId, sim.domain);
    const started = await startSsoBot(sim, {
      admins: personas.map((p) => p.aadObjectId),
      card: {
        text: 'Needs sign-in',
        actions: [
          { type: 'Action.Execute', title: 'Approve', verb: 'approve', data: { requestId: 'r-1' } },
          { type: 'Action.Execute', title: 'Approve elsewhere', verb: 'approve', data: { requestId: 'r-2', wrongApp: true } },
        ],
      },
    });
    bot = started.bot;
    seen = started.invokes;
    playground = await startPlayground({ botUrl: bot.url, tenantId: sim.tenantId, personas, simulator: sim, port: 0, logger: { info: () => {}, warn: () => {} } });
    browser = await launchBrowser();
    page = await openPage(browser, playground.url, pageErrors);
    page.on('console', (m) => consoleLines.push(m.text()));
  });

  afterAll(async () => {
    await browser?.close();
    await playground?.close();
    await bot?.close();
    await sim?.close();
  });

  it('signs the clicker in silently and re-sends the same invoke with value.authentication', async () => {
    await asPersona(page, 'approver');
    await openChat(page);
    await type(page, 'card');
    const message = botMessageWith(page, 'Needs sign-in');
    await message.waitFor();
    await message.getByRole('button', { name: 'Approve', exact: true }).click();
    await message.getByTestId('notice').getByText(`Signed in as vd@${sim.domain}.`).waitFor();

    expect(seen).toHaveLength(2);
    const [first, second] = seen;
    expect(first!.authentication).toBeUndefined();
    expect(second).toMatchObject({ action: first!.action, authentication: { id: 'ter-1', connectionName: '' } });
    const token = second!.authentication!.token;
    // The token passed through the page without being shown or logged there.
    expect(await page.content()).not.toContain(token);
    expect(consoleLines.join('\n')).not.toContain(token);
    expect(pageErrors).toEqual([]);
  });

  it('shows the message of a 412 preconditionFailed answer as an error notice', async () => {
    seen.length = 0;
    const message = botMessageWith(page, 'Needs sign-in');
    await message.getByRole('button', { name: 'Approve elsewhere' }).click();
    const notice = message.getByTestId('notice');
    await notice.getByText('Microsoft 365 would not let Opter act for you.').waitFor();
    expect(await notice.getAttribute('role')).toBe('alert');
    expect(seen.map((s) => !!s.authentication)).toEqual([false, true]);
  });
});
