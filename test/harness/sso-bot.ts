/**
 * A small bot for testing a Teams client's side of Universal Actions single sign-on (the playground's page and
 * server): a message gets a card with the given buttons; a click without a token is answered with the 401 login
 * request (for the bot's app, or — data `wrongApp` — for another app); a click with a token has it exchanged
 * On-Behalf-Of by the product's own grant (src/adapters), and is answered with a message naming the signed-in user,
 * or 412 when the exchange fails. It records every invoke it saw.
 */
import { CardFactory, MessageFactory, type TurnContext } from 'botbuilder';
import { createApproverAccess } from '../../src/adapters';
import { readBotConfig } from '../../src/bot/host/config';
import { startBotServer, type BotServer } from '../../src/bot/host/server';
import type { Simulator } from '../../src/sim';

export const LOGIN_REQUEST = 'application/vnd.microsoft.activity.loginRequest';
export const PRECONDITION_FAILED = 'application/vnd.microsoft.error.preconditionFailed';
const OTHER_APP = '11111111-2222-4333-8444-555555555555';

export interface SeenInvoke {
  from: string;
  action: { id: string; verb: string; data: Record<string, unknown> };
  trigger: string;
  authentication?: { id: string; connectionName: string; token: string };
}

export interface SsoBot {
  bot: BotServer;
  invokes: SeenInvoke[];
}

export async function startSsoBot(
  sim: Simulator,
  opts: { admins: string[]; card: { text: string; actions: Array<Record<string, unknown>> }; connectionName?: string },
): Promise<SsoBot> {
  const invokes: SeenInvoke[] = [];
  const answer = (ctx: TurnContext, body: Record<string, unknown>) => ctx.sendActivity({ type: 'invokeResponse', value: { status: 200, body } });
  const conn = { tenantId: sim.tenantId, authorityHost: sim.authorityHost, graphEndpoint: sim.graphEndpoint, exchangeEndpoint: sim.exchangeEndpoint };
  const bot = await startBotServer({
    config: readBotConfig({ AZURE_TENANT_ID: sim.tenantId, ADMINS: opts.admins.join(','), PORT: '0' }),
    logger: { info: () => {}, warn: () => {}, error: () => {} },
    onTurn: async (ctx) => {
      const a = ctx.activity;
      if (a.type === 'message') {
        const card = { type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock', text: opts.card.text }], actions: opts.card.actions };
        await ctx.sendActivity(MessageFactory.attachment(CardFactory.adaptiveCard(card)));
        return;
      }
      if (a.type !== 'invoke') return;
      const value = a.value as Omit<SeenInvoke, 'from'>;
      invokes.push({ from: a.from.aadObjectId ?? '', ...value });
      if (!value.authentication?.token) {
        const uri = (value.action.data.uri as string | undefined) ?? `api://botid-${value.action.data.wrongApp ? OTHER_APP : sim.botApp.clientId}`;
        await answer(ctx, {
          statusCode: 401,
          type: LOGIN_REQUEST,
          value: { text: 'Sign in', connectionName: opts.connectionName ?? '', tokenExchangeResource: { id: `ter-${invokes.length}`, uri }, buttons: [{ type: 'signin', title: 'Sign in', value: '' }] },
        });
        return;
      }
      try {
        const access = createApproverAccess({ ...conn, clientId: sim.botApp.clientId }, sim.botApp, value.authentication.token, '');
        await access.ready();
        const upn = JSON.parse(Buffer.from(value.authentication.token.split('.')[1]!, 'base64url').toString('utf8')).upn as string;
        await answer(ctx, { statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: `Signed in as ${upn}.` });
      } catch {
        await answer(ctx, { statusCode: 412, type: PRECONDITION_FAILED, value: { code: '412', message: 'Microsoft 365 would not let Opter act for you.' } });
      }
    },
  });
  return { bot, invokes };
}
