/**
 * Inbound authentication in front of the REAL bot (startBot: store, simulated tenant, engine, worker), not a test
 * turn handler: with BOT_ID set, every kind of bad Bot Framework token gets 401 and changes nothing — the store's
 * tables are byte-for-byte the same, the tenant sees no call, Teams gets no message — even when the activity is an
 * Approve click on a real pending approval card or "set up Opter email" from an admin. A good token on the same
 * activities works. Local mode (no BOT_ID) refuses to start on a non-loopback host before it opens anything.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startBot, type BotHandle } from '../../src/bot';
import { BotConfigError } from '../../src/bot/host/config';
import type { Simulator } from '../../src/sim';
import { approvalCopy, cardOf, conversationOf, dataOf, formInputs, offsetClock, personalId, startTestSimulator, textOf, type TestBot } from '../bot/helpers';
import { classifyChanges, describeChanges, dumpStore, storeChanges } from '../security/support';
import { LocalTokenCredentialsFactory, startFakeBotIdentity, type ChannelTokenOptions, type FakeBotIdentity } from '../harness/fake-bot-identity';
import { startFakeConnector, type FakeConnector, type FakeMessage } from '../harness/fake-connector';
import { botIdentityFor, channelFor, makePersonas, personaEnv, TeamsClient, type Activity } from '../harness/teams-client';

const APP_ID = '7e8f9a0b-1c2d-4e3f-8a9b-0c1d2e3f4a5b';
const APP_PASSWORD = 'authenticated-bot-test-password';
const personas = makePersonas();
const auditChannel = channelFor(personas.requester.tenantId, 'auth-audit');

let sim: Simulator;
let identity: FakeBotIdentity;
let connector: FakeConnector;
let bot: BotHandle;
let teams: TeamsClient;
let dataDir: string;
const logLines: string[] = [];
/** How the next activity is signed. */
let tokenFor: (activity: Activity) => string | undefined;
const goodToken = (a: Activity) => identity.channelAuthorization(String(a.serviceUrl));

beforeAll(async () => {
  sim = await startTestSimulator();
  identity = await startFakeBotIdentity({ appId: APP_ID, appPassword: APP_PASSWORD });
  connector = await startFakeConnector({ authorize: (header) => identity.isIssuedBotToken(header) });
  dataDir = mkdtempSync(join(tmpdir(), 'opter-auth-bot-'));
  bot = await startBot({
    // With an audit channel the audit posts settle (without one they are retried every 200 ms, which would show up
    // as store changes between the before/after snapshots).
    env: {
      ...personaEnv(personas),
      BOT_ID: APP_ID,
      BOT_PASSWORD: APP_PASSWORD,
      HOST: '127.0.0.1',
      PORT: '0',
      SECRET_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      AUDIT_CHANNEL_ID: auditChannel.channelId,
    },
    dataDir,
    simulator: sim,
    clock: offsetClock(),
    workerIntervalMs: 200,
    settings: { progressMinIntervalMs: 200, outboxRetryBaseMs: 50, outboxRetryMaxMs: 500, auditUnroutedRetryMs: 200 },
    authOverrides: identity.authOverrides,
    credentialsFactory: new LocalTokenCredentialsFactory({ MicrosoftAppId: APP_ID, MicrosoftAppPassword: APP_PASSWORD, MicrosoftAppType: 'MultiTenant' }),
    logger: { info: (m) => void logLines.push(m), warn: (m) => void logLines.push(m), error: (m) => void logLines.push(m) },
  });
  tokenFor = goodToken;
  teams = new TeamsClient({ botUrl: bot.url, connector, bot: botIdentityFor(APP_ID), authorization: (a) => tokenFor(a) });
  teams.addChannel(auditChannel, [personas.requester, personas.approver]);
});

afterAll(async () => {
  await bot?.close();
  await connector?.close();
  await identity?.close();
  await sim?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** Minimal stand-in for the bot test helpers' TestBot, so their card finders work against this bot. */
function asTestBot(): TestBot {
  return { bot, sim, connector, teams, personas } as unknown as TestBot;
}

async function quiesce(): Promise<void> {
  await bot.idle();
  await bot.tick();
}

let pendingCard: FakeMessage;
let pendingRequestId: string;

describe('the real bot behind Bot Framework authentication', () => {
  it('works with good tokens: an admin asks, the request waits for approval in the approver’s chat', async () => {
    const t = asTestBot();
    expect(bot.config.mode).toBe('authenticated');
    await teams.message(personas.approver, 'help');
    await teams.message(personas.requester, 'set up Opter email');
    const form = await connector.waitFor(() =>
      connector.messages(personalId(t, personas.requester)).find((m) => cardOf(m) && textOf(cardOf(m)).includes('Set up Opter email') && dataOf(cardOf(m), 'submit-request')),
    );
    pendingRequestId = String(dataOf(cardOf(form), 'submit-request').requestId);
    const submit = await teams.invoke(personas.requester, {
      conversation: conversationOf(t, form),
      replyToId: form.id,
      verb: 'submit-request',
      data: { requestId: pendingRequestId, ...formInputs({ appName: 'Authenticated Bot', senders: [sim.mailboxes.info] }) },
    });
    expect(submit.status).toBe(200);
    expect(textOf((submit.body as { value: unknown }).value)).toContain('Sent for approval');
    pendingCard = await approvalCopy(t, pendingRequestId, personalId(t, personas.approver));
    expect(bot.store.requests.get(pendingRequestId)!.status).toBe('pending');
  });

  const now = () => Math.floor(Date.now() / 1000);
  const bad = (options: ChannelTokenOptions) => (a: Activity) => `Bearer ${identity.channelToken(String(a.serviceUrl), options)}`;
  const rejected: Array<[string, (a: Activity) => string | undefined]> = [
    ['no Authorization header', () => undefined],
    ['a header that is not a JWT', () => 'Bearer not-a-token'],
    ['an unsigned token (alg none)', bad({ signWith: 'none' })],
    ['an expired token', bad({ claims: { exp: now() - 3600, nbf: now() - 7200 } })],
    ['a token for another bot (wrong audience)', bad({ claims: { aud: '00000000-0000-4000-8000-000000000000' } })],
    ['a token from another issuer', bad({ claims: { iss: 'https://evil.example.com' } })],
    ['a token signed by another key', bad({ signWith: 'untrusted' })],
    ['a token signed by an unknown key id', bad({ signWith: 'untrusted', kid: 'someone-elses-key' })],
    ['a token bound to another serviceUrl', bad({ claims: { serviceurl: 'https://evil.example.com/' } })],
  ];

  it.each(rejected)('refuses %s with 401 and changes nothing: store, tenant, Teams', async (_name, makeHeader) => {
    const t = asTestBot();
    await quiesce();
    const before = dumpStore(bot.store.path);
    sim.clearRequests();
    connector.clearRequests();
    tokenFor = makeHeader;
    // botbuilder logs each rejection with console.error; keep the test output quiet.
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const approve = await teams.invoke(personas.approver, { conversation: conversationOf(t, pendingCard), replyToId: pendingCard.id, verb: 'approve', data: { requestId: pendingRequestId } });
      expect(approve.status).toBe(401);
      const ask = await teams.message(personas.requester, 'set up Opter email');
      expect(ask.status).toBe(401);
      const help = await teams.message(personas.nonAdmin, 'help');
      expect(help.status).toBe(401);
    } finally {
      quiet.mockRestore();
      tokenFor = goodToken;
    }
    await quiesce();
    const changes = storeChanges(before, dumpStore(bot.store.path));
    expect(changes, describeChanges(changes)).toEqual([]);
    expect(sim.requests()).toEqual([]);
    expect(connector.requests).toEqual([]);
    expect(bot.store.requests.get(pendingRequestId)!.status).toBe('pending');
  });

  it('a valid token from another tenant is dropped before any handler: 200, nothing changes', async () => {
    await quiesce();
    const before = dumpStore(bot.store.path);
    sim.clearRequests();
    connector.clearRequests();
    const res = await teams.message(personas.foreigner, 'set up Opter email');
    expect(res.status).toBe(200);
    await quiesce();
    expect(storeChanges(before, dumpStore(bot.store.path))).toEqual([]);
    expect(sim.requests()).toEqual([]);
    expect(connector.requests).toEqual([]);
  });

  it('the same Approve with a good token decides the request (the refusals above were the tokens, not the click)', async () => {
    const t = asTestBot();
    await quiesce();
    const before = dumpStore(bot.store.path);
    const approve = await teams.invoke(personas.approver, { conversation: conversationOf(t, pendingCard), replyToId: pendingCard.id, verb: 'approve', data: { requestId: pendingRequestId } });
    expect(approve.status).toBe(200);
    expect(textOf((approve.body as { value: unknown }).value)).toContain('Approved by');
    await connector.waitFor(() => bot.store.requests.get(pendingRequestId)!.status === 'succeeded', 45_000);
    const { unexplained } = classifyChanges(storeChanges(before, dumpStore(bot.store.path)));
    expect(unexplained.some((c) => c.table === 'requests')).toBe(true);
    // Every call the bot made to Teams carried a bot token the connector accepted.
    expect(connector.requests.every((r) => r.status !== 401)).toBe(true);
  });
});

/** The host a Socket#connect call aims at (its options object, or `(port, host)`, or a path for IPC). */
function connectTarget(args: unknown[]): string {
  const [first, second] = args;
  if (Array.isArray(first)) return connectTarget(first);
  if (first && typeof first === 'object') return String((first as { host?: string; path?: string }).host ?? (first as { path?: string }).path ?? 'localhost');
  return typeof second === 'string' ? second : 'localhost';
}

describe('the key that seals one-time secrets', () => {
  const quiet = { info() {}, warn() {}, error() {} };
  const authEnv = () => ({ ...personaEnv(personas), BOT_ID: APP_ID, BOT_PASSWORD: APP_PASSWORD, HOST: '127.0.0.1', PORT: '0' });

  it('an authenticated bot refuses an all-zero or otherwise degenerate SECRET_ENCRYPTION_KEY before it opens the store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opter-bad-key-'));
    try {
      for (const key of [Buffer.alloc(32).toString('base64'), '00'.repeat(32), Buffer.from('x'.repeat(32)).toString('base64')]) {
        await expect(startBot({ env: { ...authEnv(), SECRET_ENCRYPTION_KEY: key }, dataDir: dir, simulator: sim, logger: quiet })).rejects.toThrow(/SECRET_ENCRYPTION_KEY is not a usable key/);
      }
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('warns when an authenticated bot falls back to DATA_DIR/secret.key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opter-key-file-'));
    const lines: string[] = [];
    let fallback: BotHandle | null = null;
    try {
      writeFileSync(join(dir, 'secret.key'), randomBytes(32).toString('base64'), { mode: 0o600 });
      fallback = await startBot({
        env: authEnv(),
        dataDir: dir,
        simulator: sim,
        authOverrides: identity.authOverrides,
        credentialsFactory: new LocalTokenCredentialsFactory({ MicrosoftAppId: APP_ID, MicrosoftAppPassword: APP_PASSWORD, MicrosoftAppType: 'MultiTenant' }),
        logger: { info: () => {}, warn: (m) => void lines.push(m), error: () => {} },
      });
      expect(lines).toContainEqual(expect.stringMatching(/SECRET_ENCRYPTION_KEY is not set: one-time secrets are sealed with the key file .*secret\.key, which sits next to the database/));
    } finally {
      await fallback?.close();
      rmSync(dir, { recursive: true, force: true });
    }
    // With the variable set there is nothing to warn about.
    expect(logLines.some((l) => l.includes('SECRET_ENCRYPTION_KEY is not set'))).toBe(false);
  });
});

describe('local mode', () => {
  it('startBot refuses a real tenant without BOT_ID before it opens the store or reaches any network', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opter-local-real-'));
    const connects = vi.spyOn(Socket.prototype, 'connect');
    try {
      const env = { ...personaEnv(personas), PORT: '0', AZURE_CLIENT_ID: '3f2e1d0c-9b8a-4765-8432-10fedcba9876', AZURE_CLIENT_SECRET: 'never-used' };
      await expect(startBot({ env, dataDir: dir, logger: { info() {}, warn() {}, error() {} } })).rejects.toThrow(BotConfigError);
      await expect(startBot({ env, dataDir: dir, logger: { info() {}, warn() {}, error() {} } })).rejects.toThrow(/ALLOW_LOCAL_MODE_ON_REAL_TENANT=1/);
      // The suite's own bot may talk to the local connector meanwhile; nothing may leave this machine.
      const offMachine = connects.mock.calls.map((args) => connectTarget(args)).filter((host) => !['127.0.0.1', '::1', 'localhost'].includes(host));
      expect(offMachine).toEqual([]);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      connects.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
  });


  it('startBot refuses a non-loopback HOST without BOT_ID before it opens the store or the tenant', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opter-local-host-'));
    try {
      for (const host of ['0.0.0.0', '::', '192.168.1.10', 'bot.example.com']) {
        sim.clearRequests();
        await expect(startBot({ env: { ...personaEnv(personas), HOST: host, PORT: '0' }, dataDir: dir, simulator: sim, logger: { info() {}, warn() {}, error() {} } })).rejects.toThrow(BotConfigError);
        await expect(startBot({ env: { ...personaEnv(personas), HOST: host, PORT: '0' }, dataDir: dir, simulator: sim, logger: { info() {}, warn() {}, error() {} } })).rejects.toThrow(/not allowed in local mode/);
        expect(sim.requests()).toEqual([]);
      }
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('half-configured authentication (a password without BOT_ID) is refused, never run as local mode', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opter-half-auth-'));
    try {
      await expect(startBot({ env: { ...personaEnv(personas), BOT_PASSWORD: 'x', PORT: '0' }, dataDir: dir, simulator: sim, logger: { info() {}, warn() {}, error() {} } })).rejects.toThrow(
        /BOT_PASSWORD is set but BOT_ID is empty/,
      );
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

