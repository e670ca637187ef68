/**
 * One call to get the real bot host, a fake Bot Connector, a Teams client and the standard personas — in local mode
 * or, with `authenticated: true`, behind real Bot Framework JWT validation against a local identity server.
 */
import { readBotConfig, type BotConfig } from '../../src/bot/host/config';
import { startBotServer, type BotLogger, type BotServer, type TurnHandler } from '../../src/bot/host/server';
import { LocalTokenCredentialsFactory, startFakeBotIdentity, type FakeBotIdentity } from './fake-bot-identity';
import { startFakeConnector, type FakeConnector, type StartFakeConnectorOptions } from './fake-connector';
import { botIdentityFor, DEFAULT_BOT_APP_ID, makePersonas, personaEnv, TeamsClient, type Personas } from './teams-client';

export interface BotHarnessOptions {
  onTurn: TurnHandler;
  /** Extra or overriding env for readBotConfig (ADMINS, AZURE_TENANT_ID, PORT=0 and HOST are preset). */
  env?: Record<string, string>;
  /** BOT_ID/BOT_PASSWORD set, inbound tokens validated, outbound calls carry a token the connector checks. */
  authenticated?: boolean;
  logger?: BotLogger;
  connector?: Omit<StartFakeConnectorOptions, 'authorize'>;
}

export interface BotHarness {
  bot: BotServer;
  config: BotConfig;
  connector: FakeConnector;
  teams: TeamsClient;
  personas: Personas;
  /** Present when authenticated. */
  identity: FakeBotIdentity | null;
  /** Logged lines, when no logger was passed (`info …` / `warn …` / `error …`). */
  logLines: string[];
  close(): Promise<void>;
}

const TEST_BOT_PASSWORD = 'harness-bot-password-not-a-secret';

export async function startBotHarness(options: BotHarnessOptions): Promise<BotHarness> {
  const personas = makePersonas();
  const logLines: string[] = [];
  const logger: BotLogger = options.logger ?? {
    info: (m) => void logLines.push(`info ${m}`),
    warn: (m) => void logLines.push(`warn ${m}`),
    error: (m, err) => void logLines.push(`error ${m}${err instanceof Error ? `: ${err.message}` : ''}`),
  };
  const identity = options.authenticated ? await startFakeBotIdentity({ appId: DEFAULT_BOT_APP_ID, appPassword: TEST_BOT_PASSWORD }) : null;
  const connector = await startFakeConnector({
    ...options.connector,
    authorize: identity ? (header) => identity.isIssuedBotToken(header) : undefined,
  });
  try {
    const config = readBotConfig({
      ...personaEnv(personas),
      PORT: '0',
      HOST: '127.0.0.1',
      ...(identity ? { BOT_ID: DEFAULT_BOT_APP_ID, BOT_PASSWORD: TEST_BOT_PASSWORD } : {}),
      ...options.env,
    });
    const bot = await startBotServer({
      config,
      logger,
      onTurn: options.onTurn,
      authOverrides: identity?.authOverrides,
      credentialsFactory: identity
        ? new LocalTokenCredentialsFactory({ MicrosoftAppId: DEFAULT_BOT_APP_ID, MicrosoftAppPassword: TEST_BOT_PASSWORD, MicrosoftAppType: 'MultiTenant' })
        : undefined,
    });
    const teams = new TeamsClient({
      botUrl: bot.url,
      connector,
      bot: botIdentityFor(DEFAULT_BOT_APP_ID),
      authorization: identity ? (activity) => identity.channelAuthorization(String(activity.serviceUrl)) : undefined,
    });
    return {
      bot,
      config,
      connector,
      teams,
      personas,
      identity,
      logLines,
      async close() {
        await bot.close();
        await connector.close();
        await identity?.close();
      },
    };
  } catch (err) {
    await connector.close();
    await identity?.close();
    throw err;
  }
}
