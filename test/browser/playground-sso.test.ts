/**
 * The playground page answers a Universal Actions loginRequest as Teams does (docs/simulator.md, "Teams SSO in the
 * playground"), pinned in a real browser against a small bot: the click's invoke is answered 401 loginRequest, the
 * page fetches the person's SSO token and re-sends the same invoke with value.authentication, the bot exchanges it
 * On-Behalf-Of with the simulator's seeded bot app; a failed exchange's 412 shows its message. Roles do not matter
 * here (the delegated-mode flow of the product has its own test).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnBehalfOfCredential } from '@azure/identity';
import { CardFactory, MessageFactory, type TurnContext } from 'botbuilder';
import type { Browser, Page } from 'playwright-core';
import { readBotConfig } from '../../src/bot/host/config';
import { startBotServer, type BotServer } from '../../src/bot/host/server';
import type { Simulator } from '../../src/sim';
import { simulatorPersonas } from '../../src/playground/personas';
import { startPlayground, type Playground } from '../../src/playground/server';
import { startTestSimulator } from '../harness/simulator';
import { asPersona, botMessageWith, launchBrowser, openChat, openPage, type } from './browser';

const LOGIN_REQUEST = 'application/vnd.microsoft.activity.loginRequest';

interface Seen {
  verb: string;
  actionId: string;
  data: Record<string, unknown>;
  authentication?: { id: string; connectionName: string; token: string };
}

describe('playground: Teams SSO handshake in a real browser', () => {
  let sim: Simulator;
  let bot: BotServer;
  let playground: Playground;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  const consoleLines: string[] = [];
  const seen: Seen[] = [];

  const answer = (ctx: TurnContext, body: Record<string, unknown>) => ctx.sendActivity({ type: 'invokeResponse', value: { status: 200, body } });

  beforeAll(async () => {
    sim = await startTestSimulator();
    const personas = simulatorPersonas(sim.snapshot().users, sim.tenantId, sim.domain);
    bot = await startBotServer({
      config: readBotConfig({ AZURE_TENANT_ID: sim.tenantId, ADMINS: personas.map((p) => p.aadObjectId).join(','), PORT: '0' }),
      logger: { info: () => {}, warn: () => {}, error: () => {} },
      onTurn: async (ctx) => {
        const a = ctx.activity;
        if (a.type === 'message') {
          const actions = [
            { type: 'Action.Execute', title: 'Approve', verb: 'approve', data: { requestId: 'r-1' } },
            { type: 'Action.Execute', title: 'Approve elsewhere', verb: 'approve', data: { requestId: 'r-2', wrongApp: true } },
          ];
          await ctx.sendActivity(MessageFactory.attachment(CardFactory.adaptiveCard({ type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock', text: 'Needs sign-in' }], actions })));
          return;
        }
        if (a.type !== 'invoke') return;
        const value = a.value as { action: { id: string; verb: string; data: Record<string, unknown> }; authentication?: Seen['authentication'] };
        seen.push({ verb: value.action.verb, actionId: value.action.id, data: value.action.data, authentication: value.authentication });
        if (!value.authentication?.token) {
          const uri = value.action.data.wrongApp ? 'api://botid-11111111-2222-4333-8444-555555555555' : `api://botid-${sim.botApp.clientId}`;
          await answer(ctx, { statusCode: 401, type: LOGIN_REQUEST, value: { text: 'Sign in', connectionName: '', tokenExchangeResource: { id: `ter-${seen.length}`, uri }, buttons: [] } });
          return;
        }
        const options = {
          tenantId: sim.tenantId,
          clientId: sim.botApp.clientId,
          clientSecret: sim.botApp.clientSecret,
          userAssertionToken: value.authentication.token,
          authorityHost: sim.authorityHost,
          disableInstanceDiscovery: true,
        };
        try {
          const t = await new OnBehalfOfCredential(options).getToken(`${sim.exchangeEndpoint}/.default`);
          const upn = JSON.parse(Buffer.from(t.token.split('.')[1]!, 'base64url').toString('utf8')).upn;
          await answer(ctx, { statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: `Approved as ${upn}.` });
        } catch {
          await answer(ctx, { statusCode: 412, type: 'application/vnd.microsoft.error.preconditionFailed', value: { code: '412', message: 'Microsoft 365 would not let Opter act for you.' } });
        }
      },
    });
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
    await message.getByTestId('notice').getByText(`Approved as vd@${sim.domain}.`).waitFor();

    expect(seen).toHaveLength(2);
    const [first, second] = seen;
    expect(first!.authentication).toBeUndefined();
    expect(second).toMatchObject({ verb: 'approve', actionId: first!.actionId, data: first!.data, authentication: { id: 'ter-1', connectionName: '' } });
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
