/**
 * Inbound authentication for real: BOT_ID set, botbuilder's own JWT validation pointed (through its
 * ConfigurationBotFrameworkAuthentication options) at a local OpenID metadata + JWKS server holding an RS256 test
 * key. A correctly signed channel token is accepted; every kind of bad token gets 401 and never reaches onTurn or
 * the connector. Outbound calls carry a bot token from the local token endpoint, which the fake connector demands.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { inspect } from 'node:util';
import type { TurnContext } from 'botbuilder';
import { readBotConfig, type BotConfig } from '../../src/bot/host/config';
import { RejectedTokensAre401 } from '../../src/bot/host/auth';
import { startBotServer, type BotServer } from '../../src/bot/host/server';
import { conversationRefOf } from '../../src/bot/host/teams-context';
import { startFakeBotIdentity, LocalTokenCredentialsFactory, type ChannelTokenOptions, type FakeBotIdentity } from '../harness/fake-bot-identity';
import { startFakeConnector, type FakeConnector } from '../harness/fake-connector';
import { botIdentityFor, makePersonas, personaEnv, TeamsClient, type Activity } from '../harness/teams-client';

const APP_ID = '5d2c6f8e-1b3a-4c5d-9e7f-0a1b2c3d4e5f';
const APP_PASSWORD = 'test-bot-password-not-a-real-secret';
const personas = makePersonas();

let identity: FakeBotIdentity;
let connector: FakeConnector;
let bot: BotServer;
let config: BotConfig;
const turns: TurnContext['activity'][] = [];

/** How the next activity is signed; reset to a good token after every test. */
let tokenFor: (activity: Activity) => string | undefined;
const goodToken = (activity: Activity) => identity.channelAuthorization(String(activity.serviceUrl));

let teams: TeamsClient;

beforeAll(async () => {
  identity = await startFakeBotIdentity({ appId: APP_ID, appPassword: APP_PASSWORD });
  // The connector refuses anything without a token our token endpoint issued to the bot.
  connector = await startFakeConnector({ authorize: (header) => identity.isIssuedBotToken(header) });
  config = readBotConfig({ ...personaEnv(personas), BOT_ID: APP_ID, BOT_PASSWORD: APP_PASSWORD, HOST: '127.0.0.1', PORT: '0' });
  bot = await startBotServer({
    config,
    logger: { info() {}, warn() {}, error() {} },
    authOverrides: identity.authOverrides,
    credentialsFactory: new LocalTokenCredentialsFactory({ MicrosoftAppId: APP_ID, MicrosoftAppPassword: APP_PASSWORD, MicrosoftAppType: 'MultiTenant' }),
    onTurn: async (ctx) => {
      turns.push(ctx.activity);
      if (ctx.activity.type === 'invoke') {
        await ctx.sendActivity({
          type: 'invokeResponse',
          value: { status: 200, body: { statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: 'ok' } },
        });
        return;
      }
      await ctx.sendActivity(`echo: ${ctx.activity.text}`);
    },
  });
  tokenFor = goodToken;
  teams = new TeamsClient({ botUrl: bot.url, connector, bot: botIdentityFor(APP_ID), authorization: (a) => tokenFor(a) });
});

afterAll(async () => {
  await bot?.close();
  await connector?.close();
  await identity?.close();
});

afterEach(() => {
  tokenFor = goodToken;
  turns.length = 0;
  connector.clearRequests();
});

describe('authenticated mode', () => {
  it('is on because BOT_ID is set, and keeps botbuilder validation behind the 401 wrapper', () => {
    expect(config.mode).toBe('authenticated');
    expect(bot.botAppId).toBe(APP_ID);
    expect((bot.adapter as unknown as { botFrameworkAuthentication: unknown }).botFrameworkAuthentication).toBeInstanceOf(RejectedTokensAre401);
  });

  it('accepts a correctly signed channel token; the reply reaches the connector with a bot token', async () => {
    const res = await teams.message(personas.requester, 'hello');
    expect(res.status).toBe(200);
    expect(turns.map((t) => t.text)).toEqual(['hello']);
    const conversationId = teams.personalConversationId(personas.requester);
    const reply = await connector.waitFor(() => connector.messages(conversationId).find((m) => m.activity.text === 'echo: hello'));
    expect(reply).toBeDefined();
    const post = connector.requests.find((r) => r.method === 'POST')!;
    expect(post.status).toBe(201);
    expect(identity.isIssuedBotToken(post.headers.authorization as string)).toBe(true);
    // The bot asked for its token with its own id and password, for the Bot Framework audience.
    expect(identity.tokenRequests.at(-1)).toMatchObject({ clientId: APP_ID, secretMatched: true, scope: 'https://api.botframework.com/.default' });
    // callerId is what botbuilder sets for activities authenticated as coming from the public Azure channel.
    expect(turns[0]!.callerId).toBe('urn:botframework:azure');
  });

  it('accepts a correctly signed invoke and returns its invoke body', async () => {
    const res = await teams.invoke(personas.requester, {
      conversation: { id: teams.personalConversationId(personas.requester), conversationType: 'personal', tenantId: personas.requester.tenantId },
      replyToId: '1',
      verb: 'x',
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: 'ok' });
  });

  it('sends proactively with a bot token', async () => {
    await teams.message(personas.approver, 'remember me');
    const reference = conversationRefOf(turns[0]!);
    await bot.proactive.continueConversation(reference, async (ctx) => {
      await ctx.sendActivity('proactive, authenticated');
    });
    const conversationId = teams.personalConversationId(personas.approver);
    await connector.waitFor(() => connector.messages(conversationId).find((m) => m.activity.text === 'proactive, authenticated'));
    expect(connector.requests.every((r) => r.status !== 401)).toBe(true);
  });

  const now = () => Math.floor(Date.now() / 1000);
  const rejected: [string, (a: Activity) => string | undefined][] = [
    ['no Authorization header', () => undefined],
    ['an empty bearer', () => 'Bearer '],
    ['a header that is not a JWT', () => 'Bearer not-a-token'],
    ['a Basic header', () => `Basic ${Buffer.from(`${APP_ID}:${APP_PASSWORD}`).toString('base64')}`],
    ['an unsigned token (alg none) naming the trusted key', (a) => bad(a, { signWith: 'none' })],
    ['an unsigned token (alg none) without a kid', (a) => bad(a, { signWith: 'none', kid: null })],
    ['an expired token (past the 5 min clock tolerance)', (a) => bad(a, { claims: { exp: now() - 3600, nbf: now() - 7200 } })],
    ['a token not valid yet', (a) => bad(a, { claims: { nbf: now() + 3600 } })],
    ['a token for another bot (wrong audience)', (a) => bad(a, { claims: { aud: '00000000-0000-4000-8000-000000000000' } })],
    ['a token without an audience', (a) => bad(a, { claims: { aud: undefined } })],
    ['a token from another issuer', (a) => bad(a, { claims: { iss: 'https://evil.example.com' } })],
    ['a token signed by another key under the trusted kid', (a) => bad(a, { signWith: 'untrusted' })],
    ['a token signed by another key under an unknown kid', (a) => bad(a, { signWith: 'untrusted', kid: 'someone-elses-key' })],
    ['an HS256 token keyed with the public key (algorithm confusion)', (a) => bad(a, { signWith: 'hs256-with-public-key' })],
    ['a token bound to another serviceUrl', (a) => bad(a, { claims: { serviceurl: 'https://evil.example.com/' } })],
    ['a token without a serviceurl claim', (a) => bad(a, { claims: { serviceurl: undefined } })],
  ];

  function bad(activity: Activity, options: ChannelTokenOptions): string {
    return `Bearer ${identity.channelToken(String(activity.serviceUrl), options)}`;
  }

  it.each(rejected)('rejects %s with 401; nothing reaches onTurn or the connector', async (_name, makeHeader) => {
    const headersSent: string[] = [];
    tokenFor = (a) => {
      const header = makeHeader(a);
      if (header) headersSent.push(header);
      return header;
    };
    // botbuilder logs every rejection with console.error; capture it (quiet tests) and check no token leaks into it.
    const logged: string[] = [];
    const capture = (...args: unknown[]) => void logged.push(args.map((x) => (typeof x === 'string' ? x : inspect(x))).join(' '));
    const spies = [vi.spyOn(console, 'error').mockImplementation(capture), vi.spyOn(console, 'warn').mockImplementation(capture)];
    try {
      const res = await teams.message(personas.requester, 'let me in');
      expect(res.status).toBe(401);
      const invoke = await teams.invoke(personas.requester, {
        conversation: { id: teams.personalConversationId(personas.requester), conversationType: 'personal', tenantId: personas.requester.tenantId },
        replyToId: '1',
        verb: 'x',
      });
      expect(invoke.status).toBe(401);
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    expect(turns).toHaveLength(0);
    expect(connector.requests).toHaveLength(0);
    for (const header of headersSent) {
      const token = header.replace(/^\S+ /, '');
      if (token.length > 20) expect(logged.join('\n')).not.toContain(token);
    }
  });

  it('a token whose signature was tampered with after signing is rejected', async () => {
    tokenFor = (a) => {
      const [h, p, s] = identity.channelToken(String(a.serviceUrl)).split('.');
      const claims = JSON.parse(Buffer.from(p!, 'base64url').toString('utf8'));
      claims.aud = APP_ID;
      claims.extra = 'tampered';
      return `Bearer ${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
    };
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => {});
    const res = await teams.message(personas.requester, 'tampered').finally(() => quiet.mockRestore());
    expect(res.status).toBe(401);
    expect(turns).toHaveLength(0);
  });

  it('the right tenant is still required with a valid token', async () => {
    const res = await teams.message(personas.foreigner, 'valid token, foreign tenant');
    expect(res.status).toBe(200);
    expect(turns).toHaveLength(0);
    expect(connector.requests).toHaveLength(0);
  });

  it('fetched the OpenID metadata from the local server (no internet involved)', () => {
    expect(identity.metadataRequests).toBeGreaterThan(0);
  });
});
