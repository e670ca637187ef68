/**
 * The bot as Teams and Microsoft 365 see it: startBot (real restify + TeamsAdapter over HTTP) against the fake
 * Bot Connector and the simulated tenant, driven by the harness's Teams client and personas. Helpers find the
 * bot's cards in the connector's conversations and click their buttons the way Teams does.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBot, type BotHandle, type StartBotOptions } from '../../src/bot';
import { checkCard, executeActions, renderedTexts } from '../../src/cards/card-check';
import type { SimOptions, Simulator } from '../../src/sim';
import { testClock, type TestClock } from '../harness/clock';
import { LocalTokenCredentialsFactory, type FakeBotIdentity } from '../harness/fake-bot-identity';
import { adaptiveCardsOf, startFakeConnector, type FakeConnector, type FakeMessage } from '../harness/fake-connector';
import { startTestSimulator as startSeeded } from '../harness/simulator';
import {
  DEFAULT_TENANT_ID,
  TeamsClient,
  botIdentityFor,
  buildPersonalMessage,
  channelFor,
  makePersonas,
  personaEnv,
  type Persona,
  type Personas,
  type PostResult,
  type TeamsChannel,
} from '../harness/teams-client';

export type Card = Record<string, unknown>;

/** Real time plus a settable offset: expiry can be fast-forwarded while HTTP, retries and sleeps stay real. */
export type OffsetClock = TestClock;

export function offsetClock(): OffsetClock {
  return testClock({ sleep: 'real' });
}

export const HOUR = 3_600_000;

export async function startTestSimulator(opts: SimOptions = {}): Promise<Simulator> {
  return startSeeded({ seed: 11, tenantId: DEFAULT_TENANT_ID, ...opts });
}

export interface TestBotOptions {
  sim: Simulator;
  env?: Record<string, string>;
  clock?: OffsetClock;
  /** Reuse a data directory (restart tests); default a fresh temp dir. */
  dataDir?: string;
  connector?: FakeConnector;
  settings?: StartBotOptions['settings'];
  retry?: StartBotOptions['retry'];
  /** Authenticated mode: BOT_ID set, inbound tokens checked, outbound calls must carry a bot token. */
  identity?: FakeBotIdentity;
  /**
   * Delegated mode (PROVISIONING_AUTH=delegated): the personas are users of the simulated tenant with these
   * directory role template ids, and the Teams client answers the bot's login requests with their SSO tokens.
   */
  delegated?: { roles: Partial<Record<'requester' | 'approver' | 'nonAdmin', string[]>>; ssoExpiresInSec?: number; minted?: string[] };
}

export interface TestBot {
  bot: BotHandle;
  sim: Simulator;
  connector: FakeConnector;
  teams: TeamsClient;
  personas: Personas;
  clock: OffsetClock;
  dataDir: string;
  logLines: string[];
  /** Every invoke response body the bot returned, in order. */
  invokeBodies: unknown[];
  /** Stops this bot (like a crash for running jobs) and starts a new one on the same DATA_DIR, sim and connector. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** Harness-only bot password (the fake identity server issues tokens for it); not a secret. */
export const TEST_BOT_PASSWORD = 'bot-tests-password-not-a-secret';

export const FAST_RETRY = { baseDelayMs: 100, maxDelayMs: 400, maxTotalWaitMs: 20_000 };

export async function startTestBot(options: TestBotOptions): Promise<TestBot> {
  const personas = makePersonas();
  const connector = options.connector ?? (await startFakeConnector());
  const ownsConnector = !options.connector;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'opter-bot-'));
  const ownsDir = !options.dataDir;
  const clock = options.clock ?? offsetClock();
  const logLines: string[] = [];
  const invokeBodies: unknown[] = [];
  const identity = options.identity;
  const env = {
    ...personaEnv(personas),
    PORT: '0',
    HOST: '127.0.0.1',
    ...(identity ? { BOT_ID: identity.appId, BOT_PASSWORD: TEST_BOT_PASSWORD } : {}),
    ...(options.delegated ? { PROVISIONING_AUTH: 'delegated' } : {}),
    ...options.env,
  };
  const delegated = options.delegated;
  if (delegated) {
    for (const key of ['requester', 'approver', 'nonAdmin'] as const) {
      const p = personas[key];
      options.sim.addUser({ userPrincipalName: p.upn, displayName: p.name, id: p.aadObjectId, roles: delegated.roles[key] ?? [] });
    }
  }
  const sso = delegated
    ? (from: Persona, resource: { id: string }) => {
        const token = options.sim.teamsSsoToken(from.upn, { botAppId: resource.id, expiresInSec: delegated.ssoExpiresInSec });
        delegated.minted?.push(token);
        return token;
      }
    : undefined;

  const launch = () =>
    startBot({
      env,
      dataDir,
      clock,
      simulator: options.sim,
      workerIntervalMs: 200,
      authOverrides: identity?.authOverrides,
      credentialsFactory: identity
        ? new LocalTokenCredentialsFactory({ MicrosoftAppId: identity.appId, MicrosoftAppPassword: TEST_BOT_PASSWORD, MicrosoftAppType: 'MultiTenant' })
        : undefined,
      retry: options.retry ?? FAST_RETRY,
      verifyRetry: FAST_RETRY,
      settings: { progressMinIntervalMs: 200, outboxRetryBaseMs: 50, outboxRetryMaxMs: 500, auditUnroutedRetryMs: 200, ...options.settings },
      logger: {
        info: (m) => void logLines.push(`info ${m}`),
        warn: (m) => void logLines.push(`warn ${m}`),
        error: (m, err) => void logLines.push(`error ${m}${err instanceof Error ? `: ${err.message}\n${err.stack ?? ''}` : ''}`),
      },
    });

  const t: TestBot = {
    bot: await launch(),
    sim: options.sim,
    connector,
    teams: null as unknown as TeamsClient,
    personas,
    clock,
    dataDir,
    logLines,
    invokeBodies,
    async restart() {
      await t.bot.close();
      t.bot = await launch();
      t.teams = client(t.bot);
    },
    async close() {
      await t.bot.close();
      if (ownsConnector) await connector.close();
      if (ownsDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  const client = (bot: BotHandle) => {
    const teams = new TeamsClient({
      botUrl: bot.url,
      connector,
      bot: botIdentityFor(identity?.appId),
      authorization: identity ? (activity) => identity.channelAuthorization(String(activity.serviceUrl)) : undefined,
      sso,
    });
    const invoke = teams.invoke.bind(teams);
    teams.invoke = async (...args: Parameters<TeamsClient['invoke']>): Promise<PostResult> => {
      const res = await invoke(...args);
      invokeBodies.push(res.body);
      return res;
    };
    return teams;
  };
  t.teams = client(t.bot);
  return t;
}

// ---------------------------------------------------------------------------------------------------------------
// Finding cards
// ---------------------------------------------------------------------------------------------------------------

export function cardOf(message: FakeMessage | undefined): Card | undefined {
  return message ? adaptiveCardsOf(message.activity)[0] : undefined;
}

export function textOf(card: unknown): string {
  return renderedTexts(card).join('\n');
}

export function hasVerb(card: unknown, verb: string): boolean {
  return executeActions(card).some((a) => a.verb === verb);
}

export function dataOf(card: unknown, verb: string): Record<string, unknown> {
  const action = executeActions(card).find((a) => a.verb === verb);
  if (!action) throw new Error(`card has no ${verb} action: ${textOf(card).slice(0, 300)}`);
  return { ...(action.data ?? {}) };
}

/** Messages of a conversation whose current card matches. */
export function messagesWithCard(connector: FakeConnector, conversationId: string, match: (card: Card, m: FakeMessage) => boolean): FakeMessage[] {
  const prefix = conversationId.split(';')[0]!;
  const all = connector.conversations().filter((c) => c.id === conversationId || c.id.startsWith(`${prefix};`) || c.id === prefix);
  return all.flatMap((c) => c.messages).filter((m) => !m.deleted && cardOf(m) && match(cardOf(m)!, m));
}

export function waitForCard(t: TestBot, conversationId: string, match: (card: Card, m: FakeMessage) => boolean, timeoutMs = 20_000): Promise<FakeMessage> {
  return t.connector.waitFor(() => messagesWithCard(t.connector, conversationId, match).at(-1), timeoutMs);
}

export function personalId(t: TestBot, p: Persona): string {
  return t.teams.personalConversationId(p);
}

/** The conversation object Teams puts on an invoke from this message. */
export function conversationOf(t: TestBot, m: FakeMessage, tenantId = DEFAULT_TENANT_ID): Record<string, unknown> {
  const conv = t.connector.conversation(m.conversationId);
  if (conv?.kind === 'channel' || m.conversationId.startsWith('19:')) {
    // A post at the channel root is its own thread: Teams reports `<channel>;messageid=<post id>`.
    const id = m.conversationId.includes(';') ? m.conversationId : `${m.conversationId};messageid=${m.id}`;
    return { isGroup: true, conversationType: 'channel', tenantId, id };
  }
  return { conversationType: 'personal', tenantId, id: m.conversationId };
}

export function click(
  t: TestBot,
  who: Persona,
  m: FakeMessage,
  verb: string,
  inputs: Record<string, unknown> = {},
  options: { trigger?: 'manual' | 'automatic'; data?: Record<string, unknown>; channel?: TeamsChannel } = {},
): Promise<PostResult> {
  const data = options.data ?? { ...dataOf(cardOf(m), verb), ...inputs };
  return t.teams.invoke(who, { conversation: conversationOf(t, m), replyToId: m.id, verb, data: data as Record<string, unknown>, trigger: options.trigger ?? 'manual', channel: options.channel });
}

export interface InvokeBody {
  statusCode: number;
  type: string;
  value: unknown;
}

export function bodyOf(res: PostResult): InvokeBody {
  if (res.status !== 200) throw new Error(`invoke answered HTTP ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body as InvokeBody;
}

export function errorCodeOf(res: PostResult): string | null {
  const b = bodyOf(res);
  return b.type === 'application/vnd.microsoft.error' ? ((b.value as { code: string }).code ?? null) : null;
}

/** Every Adaptive Card the bot sent: in connector request bodies (posts, edits, new conversations) and invoke answers. */
export function allSentCards(t: TestBot): Card[] {
  const cards: Card[] = [];
  for (const r of t.connector.requests) {
    const body = r.body as Record<string, unknown> | null;
    if (!body || typeof body !== 'object') continue;
    cards.push(...adaptiveCardsOf(body));
    if (body.activity && typeof body.activity === 'object') cards.push(...adaptiveCardsOf(body.activity as Record<string, unknown>));
  }
  for (const b of t.invokeBodies) {
    const body = b as InvokeBody | null;
    if (body?.type === 'application/vnd.microsoft.card.adaptive') cards.push(body.value as Card);
  }
  return cards;
}

export async function expectAllCardsValid(t: TestBot): Promise<number> {
  const cards = allSentCards(t);
  const problems: string[] = [];
  for (const card of cards) {
    const found = await checkCard(card);
    if (found.length) problems.push(`${textOf(card).slice(0, 80)}: ${found.join('; ')}`);
  }
  if (problems.length) throw new Error(`cards with problems:\n${problems.join('\n')}`);
  return cards.length;
}

// ---------------------------------------------------------------------------------------------------------------
// Flows
// ---------------------------------------------------------------------------------------------------------------

export interface SetupInput {
  appName: string;
  senders: string[];
  years?: number;
  from?: Persona;
  channel?: TeamsChannel;
}

/** Says "set up Opter email" (1:1, or @mention in a channel) and returns the form message. */
export async function openForm(t: TestBot, input: { from?: Persona; channel?: TeamsChannel } = {}): Promise<FakeMessage> {
  const who = input.from ?? t.personas.requester;
  if (input.channel) {
    const res = await t.teams.mention(who, input.channel, 'set up Opter email');
    const threadId = `${input.channel.channelId};messageid=${res.activity.id}`;
    return waitForCard(t, threadId, (c) => hasVerb(c, 'submit-request'));
  }
  const before = messagesWithCard(t.connector, personalId(t, who), (c) => hasVerb(c, 'submit-request')).length;
  await t.teams.message(who, 'set up Opter email');
  return t.connector.waitFor(() => {
    const list = messagesWithCard(t.connector, personalId(t, who), (c) => hasVerb(c, 'submit-request'));
    return list.length > before ? list.at(-1) : undefined;
  });
}

export function formInputs(input: SetupInput): Record<string, string> {
  return {
    appDisplayName: input.appName,
    senders: input.senders.join('\n'),
    secretValidYears: String(input.years ?? 2),
    scoping: 'access-policy',
  };
}

/** Opens the form and submits it; returns the request id (= the form's requestId) and the submit answer. */
export async function submitSetup(t: TestBot, input: SetupInput): Promise<{ requestId: string; form: FakeMessage; res: PostResult }> {
  const form = await openForm(t, input);
  const requestId = String(dataOf(cardOf(form), 'submit-request').requestId);
  const res = await click(t, input.from ?? t.personas.requester, form, 'submit-request', formInputs(input));
  return { requestId, form, res };
}

/** The approver's copy of a request's approval card (in their 1:1, or wherever `conversationId` says). */
export function approvalCopy(t: TestBot, requestId: string, conversationId: string, timeoutMs?: number): Promise<FakeMessage> {
  return waitForCard(t, conversationId, (c) => textOf(c).includes(requestId) && (hasVerb(c, 'approve') || /Approved|Rejected|Expired|Cancelled/.test(textOf(c))), timeoutMs);
}

/** Installs the app in someone's personal scope (Teams sends conversationUpdate with the bot as a new member). */
export async function install(t: TestBot, who: Persona): Promise<void> {
  const activity = buildPersonalMessage({ from: who, bot: t.teams.bot, serviceUrl: t.connector.url }, '');
  activity.type = 'conversationUpdate';
  delete activity.text;
  activity.membersAdded = [{ id: t.teams.bot.id }];
  const res = await t.teams.send(activity, who);
  if (res.status !== 200) throw new Error(`install answered ${res.status}`);
  await waitForCard(t, personalId(t, who), (c) => hasVerb(c, 'status'));
}

/**
 * "use this channel for audit|approvals" by `by`, approved by `approver` (a second admin, as the bot requires):
 * resolves once the change took effect (its announcement reached the channel).
 */
export async function chooseChannel(
  t: TestBot,
  purpose: 'audit' | 'approvals',
  channel: TeamsChannel,
  people: { by?: Persona; approver?: Persona } = {},
): Promise<void> {
  const { by = t.personas.requester, approver = t.personas.approver } = people;
  const before = t.connector.allMessages().length;
  const asked = await t.teams.mention(by, channel, `use this channel for ${purpose}`);
  if (asked.status !== 200) throw new Error(`"use this channel for ${purpose}" answered HTTP ${asked.status}`);
  const copy = await t.connector.waitFor(() =>
    t.connector.allMessages().slice(before).find((m) => {
      const c = cardOf(m);
      return !!c && textOf(c).includes(`Change the ${purpose} channel`) && hasVerb(c, 'approve');
    }),
  );
  const decided = bodyOf(await click(t, approver, copy, 'approve', {}, { channel: copy.conversationId.startsWith('19:') ? channel : undefined }));
  if (!textOf(decided.value).includes(`Approved by ${approver.name}`)) throw new Error(`the channel change was not approved: ${JSON.stringify(decided.value)}`);
  await waitForCard(t, channel.channelId, (c) => textOf(c).includes(`This is now the ${purpose} channel`));
}

/** Lets the approver's 1:1 chat be known to the bot (approval copies go there). */
export async function greet(t: TestBot, who: Persona): Promise<void> {
  await t.teams.message(who, 'help');
  await waitForCard(t, personalId(t, who), (c) => hasVerb(c, 'status'));
}

/** Waits for the request's progress card to reach `state`; fails at once (with the card) if it stopped instead. */
export async function progressCardIn(t: TestBot, conversationId: string, requestId: string, state: RegExp, timeoutMs = 45_000): Promise<FakeMessage> {
  const stopped = /Stopped: a step failed/;
  const m = await waitForCard(
    t,
    conversationId,
    (c) => textOf(c).includes(`Request ${requestId}`) && /Steps/.test(textOf(c)) && (state.test(textOf(c)) || stopped.test(textOf(c))),
    timeoutMs,
  );
  if (!state.test(textOf(cardOf(m))) && !stopped.test(state.source)) throw new Error(`the job stopped:\n${textOf(cardOf(m))}\n${t.logLines.join('\n')}`);
  return m;
}

export function secretCardIn(t: TestBot, conversationId: string, requestId: string, timeoutMs = 30_000): Promise<FakeMessage> {
  return waitForCard(t, conversationId, (c) => textOf(c).includes(`Request ${requestId}`) && (hasVerb(c, 'reveal') || /Secret revealed|expired/.test(textOf(c))), timeoutMs);
}

export { channelFor };
