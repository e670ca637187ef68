/**
 * Where the one-time secret may exist: in the single reveal invoke's HTTP response. A full flow runs with every log
 * the process can produce turned up as far as it goes — the bot's logger (info, warn, error: it has no finer level),
 * the Azure SDK logger at "verbose" (identity, HTTP pipeline), every `debug` namespace, and the console — while the
 * flow is made to take its error paths: the new secret is not active yet (sign-in as the new app fails and retries)
 * and Teams refuses the secret card several times (outbox retries). Afterwards the secret value is searched for in
 * every log line, audit entry, store table, the raw bytes of the SQLite file, its WAL and every other file in
 * DATA_DIR (snapshotted before and after the reveal), every connector request (bodies and headers) and every other
 * invoke response — also base64- and hex-encoded. Zero hits.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { AzureLogger, getLogLevel, setLogLevel, type AzureLogLevel } from '@azure/logger';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Simulator } from '../../src/sim';
import {
  approvalCopy,
  bodyOf,
  channelFor,
  click,
  greet,
  personalId,
  progressCardIn,
  secretCardIn,
  startTestBot,
  startTestSimulator,
  submitSetup,
  textOf,
  waitForCard,
  type TestBot,
} from '../bot/helpers';
import { DEFAULT_TENANT_ID } from '../harness/teams-client';
import { dumpStore } from './support';

/** The `debug` package (used by HTTP libraries under botbuilder); it ships no types, so the part we use is typed here. */
interface DebugModule {
  enable(namespaces: string): void;
  disable(): string;
  log: (...args: unknown[]) => void;
}
const createDebug = createRequire(import.meta.url)('debug') as DebugModule;

const PLAINTEXT = /^Ms Graph Client Secret\s+: (\S+)$/m;
const auditChannel = channelFor(DEFAULT_TENANT_ID, 'leak-audit');

let sim: Simulator;
let t: TestBot;
/** Everything any logger or the console printed during the flow. */
const printed: string[] = [];
const snapshots: Array<{ when: string; file: string; bytes: Buffer }> = [];
let previousAzureLevel: AzureLogLevel | undefined;
const previousAzureLog = AzureLogger.log;
const previousDebugLog = createDebug.log;
const previousDebugNamespaces = createDebug.disable();

function snapshotDataDir(when: string): void {
  for (const file of readdirSync(t.dataDir)) snapshots.push({ when, file, bytes: readFileSync(join(t.dataDir, file)) });
}

beforeAll(async () => {
  // The most verbose logging the process can do, all captured.
  previousAzureLevel = getLogLevel();
  setLogLevel('verbose');
  AzureLogger.log = (...args: unknown[]) => void printed.push(args.map(String).join(' '));
  createDebug.enable('*');
  createDebug.log = (...args: unknown[]) => void printed.push(args.map(String).join(' '));
  for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void printed.push(args.map((a) => (a instanceof Error ? `${a.message}\n${a.stack}` : typeof a === 'string' ? a : JSON.stringify(a))).join(' ')));
  }

  // The new secret only works 3 s after it was made: the engine's sign-in as the new app fails and retries.
  sim = await startTestSimulator({ faults: { secretActivationDelayMs: 3_000 } });
  t = await startTestBot({ sim, env: { AUDIT_CHANNEL_ID: auditChannel.channelId } });
  t.teams.addChannel(auditChannel, [t.personas.requester, t.personas.approver]);
  await greet(t, t.personas.approver);
});

afterAll(async () => {
  await t?.close();
  await sim?.close();
  vi.restoreAllMocks();
  if (previousAzureLevel) setLogLevel(previousAzureLevel);
  else setLogLevel(undefined as unknown as AzureLogLevel);
  AzureLogger.log = previousAzureLog;
  createDebug.log = previousDebugLog;
  createDebug.enable(previousDebugNamespaces);
});

function encodings(secret: string): Array<[string, string]> {
  return [
    ['plain', secret],
    ['base64', Buffer.from(secret, 'utf8').toString('base64')],
    ['base64url', Buffer.from(secret, 'utf8').toString('base64url')],
    ['hex', Buffer.from(secret, 'utf8').toString('hex')],
    ['url-encoded', encodeURIComponent(secret)],
    ['json-escaped', JSON.stringify(secret).slice(1, -1)],
  ];
}

/** Where (of `places`) any encoding of the secret shows up. */
function hits(secret: string, places: Array<[string, string | Buffer]>): string[] {
  const found: string[] = [];
  for (const [where, content] of places) {
    for (const [how, needle] of encodings(secret)) {
      const inIt = typeof content === 'string' ? content.includes(needle) : content.includes(Buffer.from(needle, 'utf8')) || content.includes(Buffer.from(needle, 'utf16le'));
      if (inIt) found.push(`${where} (${how})`);
    }
  }
  return found;
}

describe('the one-time secret', () => {
  it('exists only in the reveal response: not in logs, audit, store, files, Teams posts or other answers', async () => {
    const { requester, approver } = t.personas;
    const { requestId } = await submitSetup(t, { appName: 'Leak Check', senders: [sim.mailboxes.info, sim.mailboxes.faktura] });
    // After the approval, the requester's chat gets two new posts: the progress card, then the secret card. Teams
    // refuses the secret card 4 times (botbuilder retries 3 itself), so the outbox has to retry it.
    let posts = 0;
    const chatPost = `/v3/conversations/${personalId(t, requester)}/activities`;
    t.connector.failNext(4, { status: 503, retryAfterSeconds: 0, match: (r) => r.method === 'POST' && r.path === chatPost && ++posts > 1 });
    await click(t, approver, await approvalCopy(t, requestId, personalId(t, approver)), 'approve');
    await progressCardIn(t, personalId(t, requester), requestId, /Finished and verified/, 60_000);
    // The sign-in as the new app really failed while the secret was not active yet (and was retried).
    const refusedSignIns = sim.requests().filter((r) => r.family === 'token' && r.status >= 400);
    expect(refusedSignIns.length).toBeGreaterThan(0);

    const secretMsg = await secretCardIn(t, personalId(t, requester), requestId);
    expect(t.connector.requests.filter((r) => r.fault)).toHaveLength(4);
    expect(t.bot.store.outbox.list({ kind: 'secret-post' })[0]!.attempts).toBeGreaterThanOrEqual(2);
    await t.bot.idle();
    await t.bot.tick();
    snapshotDataDir('sealed');

    const reveal = await click(t, requester, secretMsg, 'reveal');
    const secret = PLAINTEXT.exec(textOf(bodyOf(reveal).value))?.[1];
    expect(secret, 'the reveal answered with the secret').toMatch(/^\S{16,}$/);
    // The reveal response is the one place (the card shows it in the script's OUTPUT block and once more to copy).
    expect(JSON.stringify(reveal.body)).toContain(secret!);
    snapshotDataDir('revealed');

    // The requester is done: the card changes for everyone; then the grace period passes and the sweeps run.
    await click(t, requester, secretMsg, 'hide-secret', {}, { data: { requestId } });
    t.clock.advance(16 * 60_000);
    await t.bot.tick();
    await waitForCard(t, secretMsg.conversationId, (c, m) => m.id === secretMsg.id && /Secret revealed/.test(textOf(c)));
    await t.connector.waitFor(() => t.bot.store.audit.list().every((e) => t.connector.channelMessages(auditChannel.channelId).some((m) => textOf((m.activity.attachments as Array<{ content: unknown }> | undefined)?.[0]?.content).includes(`#${e.seq} ·`))), 20_000);
    await t.bot.idle();
    snapshotDataDir('after-grace');
    const tables = dumpStore(t.bot.store.path);
    await t.restart();
    snapshotDataDir('after-restart');

    const places: Array<[string, string | Buffer]> = [
      ['bot log', t.logLines.join('\n')],
      ['SDK logs and console', printed.join('\n')],
      ['audit entries', JSON.stringify(t.bot.store.audit.list())],
      ...Object.entries(tables).map(([table, rows]): [string, string] => [`table ${table}`, JSON.stringify([...rows.values()])]),
      ...snapshots.map((s): [string, Buffer] => [`${s.file} (${s.when})`, s.bytes]),
      ...t.connector.requests.map((r): [string, string] => [`connector ${r.method} ${r.path}`, JSON.stringify({ body: r.body, headers: r.headers })]),
      ...t.invokeBodies.filter((b) => b !== reveal.body).map((b, i): [string, string] => [`invoke response ${i}`, JSON.stringify(b)]),
    ];
    expect(hits(secret!, places)).toEqual([]);
    // …and the search itself finds the value in every form it looks for.
    expect(hits(secret!, [['probe', `x${Buffer.from(secret!).toString('base64')}y`], ['bytes', Buffer.from(`..${secret}..`, 'utf16le')]])).toEqual(expect.arrayContaining(['probe (base64)', 'bytes (plain)']));

    // The searches looked at real material: verbose SDK logs (identity, HTTP) were written, the files and the WAL
    // exist, Teams got the cards.
    expect(printed.filter((l) => l.startsWith('azure:identity')).length).toBeGreaterThan(10);
    expect(t.logLines.length).toBeGreaterThan(5);
    expect(snapshots.some((s) => s.file.endsWith('-wal') && s.bytes.length > 0)).toBe(true);
    expect(snapshots.some((s) => s.file.endsWith('.sqlite') && s.bytes.length > 0)).toBe(true);
    expect(t.connector.requests.length).toBeGreaterThan(10);
    // The ciphertext is gone too, and the audit chain holds the reveal once.
    expect(t.bot.store.secrets.get(requestId)!.state).toBe('revealed');
    expect(t.bot.store.audit.verify().ok).toBe(true);
    expect(t.bot.store.audit.listForRequest(requestId).filter((e) => e.action === 'secret.revealed')).toHaveLength(1);
  });
});
