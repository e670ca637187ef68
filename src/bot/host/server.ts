/**
 * Hosts the bot: restify 11 + bodyParser in front of teams-ai's real TeamsAdapter (botbuilder CloudAdapter) at
 * `POST /api/messages` (and `HEAD` for clients that probe it), plus `GET /healthz`. Authentication is botbuilder's; this file decides only *whether* it
 * is on (BOT_ID set) and refuses to expose an unauthenticated bot beyond loopback. Every activity passes the tenant
 * allow-list before the conversation code (`onTurn`) sees it.
 */
import restifyPackage from 'restify';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ActivityTypes,
  type Activity,
  type ConversationParameters,
  type ConversationReference,
  type Request as BotRequest,
  type Response as BotResponse,
  TurnContext,
} from 'botbuilder';
import type { ServiceClientCredentialsFactory } from 'botframework-connector';
import { TeamsAdapter } from '@microsoft/teams-ai/lib/TeamsAdapter.js';
import { botFrameworkAuthOptions, checkTenant, credentialsFactoryFor, hardenAdapterAuthentication, type BotAuthOverrides } from './auth';
import { describeBotConfig, isLoopbackHost, type BotConfig } from './config';

export interface BotLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string, err?: unknown): void;
}

export const consoleLogger: BotLogger = {
  info: (m) => console.log(`[bot] ${m}`),
  warn: (m) => console.warn(`[bot] ${m}`),
  error: (m, err) => console.error(`[bot] ${m}`, err instanceof Error ? err.message : (err ?? '')),
};

export type TurnHandler = (context: TurnContext) => Promise<void>;

export interface StartBotServerOptions {
  config: BotConfig;
  /** The conversation logic, e.g. `(ctx) => app.run(ctx).then(() => undefined)`. Only sees allowed tenants. */
  onTurn: TurnHandler;
  /** botbuilder authentication endpoints/issuers (see BotAuthOverrides); tests point them at local servers. */
  authOverrides?: BotAuthOverrides;
  /**
   * Replaces how outbound tokens are obtained (default: botbuilder's ConfigurationServiceClientCredentialFactory,
   * i.e. MSAL against login.microsoftonline.com). Its isValidAppId is also what inbound validation checks `aud`
   * against, so a replacement must keep that behaviour.
   */
  credentialsFactory?: ServiceClientCredentialsFactory;
  logger?: BotLogger;
  /** Largest accepted request body (default 256 KiB; Teams activities are far smaller). Larger → HTTP 413. */
  maxBodyBytes?: number;
}

/** Sends into conversations outside of an inbound turn, with the app id and audience botbuilder needs. */
export interface ProactiveSender {
  /** Runs `logic` in an existing conversation (stored reference). Rejects if `logic` throws. */
  continueConversation(reference: Partial<ConversationReference>, logic: TurnHandler): Promise<void>;
  /**
   * Opens (or re-opens — Teams returns the existing one) the 1:1 chat between the bot and a user and runs `logic`
   * in it. `bot` and `serviceUrl` come from any stored reference of the same tenant. Returns the new reference.
   */
  createPersonalConversation(
    target: { serviceUrl: string; tenantId: string; user: { id: string; name?: string }; bot: { id: string; name?: string } },
    logic: TurnHandler,
  ): Promise<Partial<ConversationReference>>;
}

export interface BotServer {
  /** Base URL to reach the server from this machine (loopback when bound to all interfaces). */
  url: string;
  port: number;
  adapter: TeamsAdapter;
  server: RestifyServer;
  /** What botbuilder's proactive APIs need as botAppId: BOT_ID, or '' in local mode. */
  botAppId: string;
  proactive: ProactiveSender;
  close(): Promise<void>;
}

// restify ships no types (and @types/restify describes restify 8), so we declare the small surface we use.
type RestifyRequest = IncomingMessage & { body?: unknown };
type RestifyResponse = ServerResponse & {
  status(code: number): unknown;
  send(code: number, body?: unknown): unknown;
  send(body?: unknown): unknown;
  header(name: string, value: unknown): unknown;
};
type RestifyHandler = (req: RestifyRequest, res: RestifyResponse) => Promise<void>;
export interface RestifyServer {
  use(handler: unknown): void;
  post(path: string, handler: RestifyHandler): void;
  get(path: string, handler: RestifyHandler): void;
  head(path: string, handler: RestifyHandler): void;
  listen(port: number, host: string, callback: () => void): void;
  close(callback?: () => void): void;
  address(): AddressInfo | string | null;
  on(event: string, listener: (...args: unknown[]) => void): void;
  server: HttpServer;
}
interface RestifyModule {
  createServer(options?: { name?: string; handleUncaughtExceptions?: boolean }): RestifyServer;
  plugins: { bodyParser(options?: { mapParams?: boolean; maxBodySize?: number; requestBodyOnGet?: boolean }): unknown };
}
const restify = restifyPackage as RestifyModule;

const DEFAULT_MAX_BODY_BYTES = 256 * 1024;

function assertConsistent(config: BotConfig): void {
  if (config.mode === 'authenticated' && !config.botId) {
    throw new Error('Bot config says authenticated but has no BOT_ID; refusing to start with authentication silently off');
  }
  if (config.mode === 'local' && config.botId) {
    throw new Error('Bot config says local mode but has a BOT_ID; use readBotConfig() to build the config');
  }
  if (config.mode === 'local' && !isLoopbackHost(config.host)) {
    throw new Error(
      `Refusing to listen on ${config.host} in local mode: without BOT_ID the bot does not authenticate requests, so it only listens on 127.0.0.1, ::1 or localhost.`,
    );
  }
}

function logModeBanner(config: BotConfig, logger: BotLogger): void {
  if (config.mode === 'local') {
    logger.warn('*****************************************************************************************');
    logger.warn('* LOCAL MODE: AUTHENTICATION IS OFF. BOT_ID is not set, so any request to /api/messages *');
    logger.warn('* is accepted without a Bot Framework token. Listening on loopback only.               *');
    logger.warn('*****************************************************************************************');
  }
  logger.info(describeBotConfig(config));
  for (const warning of config.warnings) logger.warn(`config: ${warning}`);
}

/** The adapter with botbuilder's own credentials/validation, configured from BotConfig. */
export function createTeamsAdapter(
  config: BotConfig,
  options: { authOverrides?: BotAuthOverrides; credentialsFactory?: ServiceClientCredentialsFactory } = {},
): TeamsAdapter {
  const adapter = new TeamsAdapter(
    botFrameworkAuthOptions(options.authOverrides),
    options.credentialsFactory ?? credentialsFactoryFor(config),
  );
  hardenAdapterAuthentication(adapter);
  return adapter;
}

export function createProactiveSender(adapter: TeamsAdapter, botAppId: string, outboundAudience: string): ProactiveSender {
  // botbuilder hands errors thrown inside proactive logic to adapter.onTurnError and does not rethrow them when one
  // is set (teams-ai's app.error sets it). Callers such as an outbox must learn about the failure, so we carry it out.
  async function run(start: (logic: TurnHandler) => Promise<void>, logic: TurnHandler): Promise<void> {
    let failure: { error: unknown } | null = null;
    await start(async (ctx) => {
      try {
        await logic(ctx);
      } catch (error) {
        failure = { error };
      }
    });
    if (failure) throw (failure as { error: unknown }).error;
  }

  return {
    continueConversation(reference, logic) {
      return run((wrapped) => adapter.continueConversationAsync(botAppId, reference, wrapped), logic);
    },
    async createPersonalConversation(target, logic) {
      const parameters = {
        isGroup: false,
        bot: target.bot,
        members: [target.user],
        tenantId: target.tenantId,
        channelData: { tenant: { id: target.tenantId } },
      } as ConversationParameters;
      let reference: Partial<ConversationReference> | null = null;
      await run(
        (wrapped) =>
          adapter.createConversationAsync(botAppId, 'msteams', target.serviceUrl, outboundAudience, parameters, async (ctx) => {
            reference = TurnContext.getConversationReference(ctx.activity);
            await wrapped(ctx);
          }),
        logic,
      );
      if (!reference) throw new Error('createPersonalConversation: botbuilder did not run the conversation logic');
      // botbuilder's create-conversation activity has no `from`; put the user in so the reference can be stored and
      // used with continueConversation later like any other.
      return { ...(reference as Partial<ConversationReference>), user: { ...target.user, name: target.user.name ?? '' }, channelId: 'msteams' };
    },
  };
}

const isRecord = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
const nonEmpty = (v: unknown): boolean => typeof v === 'string' && v.trim() !== '';

/**
 * Why a request body cannot be a Teams activity, or null. Checked before botbuilder sees it, because botbuilder
 * answers these with misleading results: a body that is not an object gets "make sure you are using middleware",
 * one without a type a 500, one without a conversation id fails deep inside teams-ai (logged as a bot error, answered
 * 200), one without a serviceUrl gets its reply sent to the public cloud's default endpoint, and entities that are
 * not objects make botbuilder's mention handling throw mid-turn. Teams always sends these well-formed, so only a
 * broken or hand-made request fails here.
 */
export function activityEnvelopeProblem(body: unknown): string | null {
  if (!isRecord(body)) return 'The body must be one JSON activity object (Content-Type: application/json).';
  if (!nonEmpty(body.type)) return 'The activity has no type.';
  if (!isRecord(body.conversation) || !nonEmpty(body.conversation.id)) return 'The activity has no conversation id.';
  if (!nonEmpty(body.serviceUrl)) return 'The activity has no serviceUrl.';
  if (body.type === 'message' || body.type === 'invoke') {
    if (!(isRecord(body.from) && nonEmpty(body.from.id))) return 'The activity has no sender (from.id).';
    if (!(isRecord(body.recipient) && nonEmpty(body.recipient.id))) return 'The activity has no recipient (recipient.id).';
  }
  // botbuilder walks these lists before our code runs (mention removal) and throws on anything but objects.
  for (const list of ['entities', 'attachments'] as const) {
    const value = body[list];
    if (value !== undefined && value !== null && !(Array.isArray(value) && value.every(isRecord))) return `The activity's ${list} must be a list of objects.`;
  }
  return null;
}

function errorInvokeResponse(code: string, message: string, statusCode: number): Partial<Activity> {
  return {
    type: ActivityTypes.InvokeResponse,
    value: { status: 200, body: { statusCode, type: 'application/vnd.microsoft.error', value: { code, message } } },
  };
}

function listen(server: RestifyServer, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: unknown) => reject(err);
    server.server.once('error', onError);
    server.listen(port, host, () => {
      server.server.off('error', onError);
      resolve();
    });
  });
}

/** Starts the bot's HTTP server. Resolves once it is listening. */
export async function startBotServer(options: StartBotServerOptions): Promise<BotServer> {
  const { config, onTurn } = options;
  const logger = options.logger ?? consoleLogger;
  assertConsistent(config);

  const adapter = createTeamsAdapter(config, options);
  const botAppId = config.mode === 'authenticated' ? (config.botId as string) : '';
  const outboundAudience = String(botFrameworkAuthOptions(options.authOverrides).ToChannelFromBotOAuthScope ?? 'https://api.botframework.com');
  const proactive = createProactiveSender(adapter, botAppId, outboundAudience);

  const gatedTurn: TurnHandler = async (context) => {
    const tenant = checkTenant(context.activity, config);
    if (!tenant.allowed) {
      logger.warn(
        `refused ${context.activity.type ?? 'activity'} from tenant ${tenant.tenantId ?? '(none)'} (${tenant.reason}); not processed`,
      );
      // Invokes need an answer or Teams shows a generic failure; it goes back on this HTTP response only,
      // so nothing is ever sent into a foreign tenant.
      if (context.activity.type === ActivityTypes.Invoke) {
        await context.sendActivity(errorInvokeResponse('E_TENANT_NOT_ALLOWED', 'This tenant may not use the bot.', 403));
      }
      return;
    }
    await onTurn(context);
  };

  const server = restify.createServer({ name: 'opter-mail-bot' });
  server.use(restify.plugins.bodyParser({ mapParams: false, maxBodySize: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES }));
  server.post('/api/messages', async (req, res) => {
    // Local mode has no authentication, so a web page open in the admin's browser could otherwise post activities
    // to 127.0.0.1. Browsers label their requests (Origin / Sec-Fetch-Site); the Teams service and our own clients
    // never send these headers.
    if (config.mode === 'local' && (req.headers.origin || (req.headers['sec-fetch-site'] && req.headers['sec-fetch-site'] !== 'none'))) {
      res.send(403, { code: 'Forbidden', message: 'Browser-originated requests are refused in local mode.' });
      return;
    }
    const problem = activityEnvelopeProblem(req.body);
    if (problem) {
      res.send(400, { code: 'BadRequest', message: problem });
      return;
    }
    await adapter.process(req as unknown as BotRequest, res as unknown as BotResponse, gatedTurn);
  });
  // Clients probe the endpoint before they post (Microsoft 365 Agents Playground sends HEAD /api/messages at start,
  // docs/playground.md); answer that it is there, without running anything.
  server.head('/api/messages', async (_req, res) => {
    res.send(200);
  });
  // restify 11 insists that 2-argument handlers are async functions.
  server.get('/healthz', async (_req, res) => {
    res.send(200, { status: 'ok', mode: config.mode });
  });

  await listen(server, config.port, config.host);
  const address = server.address() as AddressInfo;
  const reachableHost =
    address.address === '0.0.0.0' || address.address === '::' ? '127.0.0.1' : address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${reachableHost}:${address.port}`;
  logModeBanner(config, logger);
  logger.info(`listening at ${url}/api/messages`);

  let closed: Promise<void> | null = null;
  return {
    url,
    port: address.port,
    adapter,
    server,
    botAppId,
    proactive,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive sockets would otherwise hold close() open until they time out.
        server.server.closeAllConnections();
      });
      return closed;
    },
  };
}
