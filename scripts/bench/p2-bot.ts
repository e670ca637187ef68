/**
 * P2: latency of the real bot (startBot: restify + TeamsAdapter + teams-ai, local mode, SQLite store in a temporary
 * DATA_DIR, the tenant opened from AZURE_* settings pointing at the simulator process) as Teams would see it:
 * POST /api/messages → HTTP answer, at 1, 10 and 50 concurrent clients. The bot runs in its own process
 * (scripts/bench/bot-process.ts); the clients and the fake Bot Connector run here, as Teams runs elsewhere.
 *
 *  - message: a "help" message in the sender's 1:1 chat; the answer comes after the bot has posted its reply card to
 *    the (fake) Bot Connector, as botbuilder does for every non-invoke activity.
 *  - approve: an `adaptiveCard/action` invoke with verb approve on a pending request's approval card; the answer
 *    carries the decided card. The approval starts provisioning in the background, so later clicks of a level run
 *    while earlier approvals provision — as on a busy day.
 *  - reveal: the requester's click on a secret card; the answer carries the one-time secret (checked, never kept).
 *
 * Requests are created beforehand through the real flow ("set up Opter email" → form → submit), and secrets by the
 * real provisioning of the approved requests; only the three operations above are timed. Each client is a loop that
 * takes the next item and waits for its answer before sending the next (closed loop).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { executeActions, renderedTexts } from '../../src/cards/card-check';
import { adaptiveCardsOf, personalConversationIdFor, startFakeConnector, type FakeConnector, type FakeMessage } from '../../test/harness/fake-connector';
import { botIdentityFor, DEFAULT_TENANT_ID, makePersonas, TeamsClient, type Persona, type PostResult } from '../../test/harness/teams-client';
import { startBotProcess, usageBetween, type BotChild, type BotUsage } from './bot-child';
import { startBenchSimulator } from './fixture';
import type { BenchSimulator } from './remote-sim';
import { median, round, summarize, type LatencySummary } from './stats';

export interface P2Options {
  latencyMs: number;
  runs: number;
  /** Concurrent clients per level (default 1, 10, 50). */
  levels?: number[];
  /** Timed messages per level (default 200, at least one per client). */
  messageSamples?: number;
  /** Timed approvals and reveals per level (default 30, at least two per client). */
  invokeSamples?: number;
  tlsDir?: string;
  log?: (line: string) => void;
}

export interface OperationStats extends LatencySummary {
  errors: number;
  /** Share of the timed phase the bot process's event loop was busy. */
  eventLoopUtilization: number;
  /** CPU the bot process used during the timed phase, ms. */
  botCpuMs: number;
  /** Answered requests per second over the timed phase. */
  perSecond: number;
  /** The first unexpected answer, for diagnosis (never contains a secret). */
  firstError?: string;
}

export interface P2LevelRun {
  concurrency: number;
  message: OperationStats;
  approve: OperationStats;
  reveal: OperationStats;
}

export interface P2Result {
  latencyMs: number;
  levels: number[];
  runs: P2LevelRun[][];
  /** Per level: the median over runs of each percentile. */
  median: Array<{
    concurrency: number;
    message: LatencySummary;
    approve: LatencySummary;
    reveal: LatencySummary;
    errors: number;
    /** Median event-loop utilisation of the bot process during each timed phase. */
    eventLoop: { message: number; approve: number; reveal: number };
    /** Median answered requests per second of each timed phase. */
    perSecond: { message: number; approve: number; reveal: number };
  }>;
  /** Warnings and errors the bot logged during the runs (counts; lines are redacted by the bot's own logger). */
  botLog: { warn: number; error: number; lastWarn: string | null; lastError: string | null };
}

/**
 * Registrations one level may make: Exchange limits the total size of Application Access Policies (the simulator
 * models it: about 150 policies with descriptions like ours fit), and every approved request makes one.
 */
export const MAX_REGISTRATIONS = 150;
export const MAX_CLIENTS = MAX_REGISTRATIONS / 2;
const SETUP_CONCURRENCY = 8;
const SETUP_TIMEOUT_MS = 180_000;
const PROVISIONING_TIMEOUT_MS = 600_000;
const POLL_MS = 100;

/** Deterministic extra admins for the message load (the harness's persona scheme: MRI derived from the object id). */
export function loadPersonas(count: number, tenantId = DEFAULT_TENANT_ID): Persona[] {
  return Array.from({ length: count }, (_, i) => {
    const aadObjectId = `5e000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`;
    const mri = `29:1${Buffer.from(aadObjectId.replace(/-/g, ''), 'hex').toString('base64url')}`;
    return { aadObjectId, mri, name: `Load User ${i + 1}`, upn: `load${i + 1}@contoso.example`, tenantId };
  });
}

/** Runs `fn` over the items with `concurrency` closed-loop workers. */
export async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T, worker: number) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, async (_, w) => {
    while (next < items.length) {
      const item = items[next++]!;
      await fn(item, w);
    }
  });
  await Promise.all(workers);
}

async function pollUntil<T>(probe: () => T | null | undefined | false, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`P2: timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

function cardOf(m: FakeMessage): Record<string, unknown> | undefined {
  return adaptiveCardsOf(m.activity)[0];
}

function actionData(card: unknown, verb: string): Record<string, unknown> | null {
  const a = executeActions(card).find((x) => x.verb === verb);
  return a ? { ...(a.data ?? {}) } : null;
}

function textOf(card: unknown): string {
  return renderedTexts(card).join('\n');
}

/** Messages in a conversation whose current card has `verb` with data.requestId in `ids`, by request id. */
function cardsByRequest(connector: FakeConnector, conversationId: string, verb: string, ids: ReadonlySet<string>): Map<string, FakeMessage> {
  const out = new Map<string, FakeMessage>();
  for (const m of connector.messages(conversationId)) {
    if (m.deleted) continue;
    const data = actionData(cardOf(m), verb);
    const id = typeof data?.requestId === 'string' ? data.requestId : null;
    if (id && ids.has(id)) out.set(id, m);
  }
  return out;
}

interface BotWorld {
  sim: BenchSimulator;
  connector: FakeConnector;
  bot: BotChild;
  teams: TeamsClient;
  requester: Persona;
  approver: Persona;
  loaders: Persona[];
  dataDir: string;
}

async function startWorld(sim: BenchSimulator, maxConcurrency: number): Promise<BotWorld> {
  const { requester, approver } = makePersonas();
  const loaders = loadPersonas(maxConcurrency);
  const connector = await startFakeConnector();
  const dataDir = mkdtempSync(join(tmpdir(), 'opter-bench-bot-'));
  try {
    const bot = await startBotProcess({
      dataDir,
      env: {
        // The bot opens the provisioning tenant from the configuration contract, as in production.
        AZURE_TENANT_ID: sim.tenantId,
        AZURE_CLIENT_ID: sim.provisioning.clientId,
        AZURE_CLIENT_SECRET: sim.provisioning.clientSecret,
        AUTHORITY_HOST: sim.authorityHost,
        GRAPH_ENDPOINT: sim.graphEndpoint,
        EXCHANGE_ENDPOINT: sim.exchangeEndpoint,
        VERIFY_DENIED_MAILBOX: sim.mailboxes.outside,
        ADMINS: [requester, approver, ...loaders].map((p) => p.aadObjectId).join(','),
        APPROVERS: approver.aadObjectId,
        PORT: '0',
        HOST: '127.0.0.1',
      },
    });
    const teams = new TeamsClient({ botUrl: bot.url, connector, bot: botIdentityFor() });
    return { sim, connector, bot, teams, requester, approver, loaders, dataDir };
  } catch (e) {
    await connector.close();
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
}

async function stopWorld(w: BotWorld): Promise<void> {
  await w.bot.close();
  await w.connector.close();
  rmSync(w.dataDir, { recursive: true, force: true });
}

function personalOf(w: BotWorld, p: Persona): Record<string, unknown> {
  return { conversationType: 'personal', tenantId: p.tenantId, id: personalConversationIdFor(p.tenantId, w.teams.bot.id, p.mri) };
}

class Samples {
  readonly ms: number[] = [];
  errors = 0;
  firstError: string | undefined;
  private readonly started = performance.now();
  private constructor(private readonly bot: BotChild, private readonly before: BotUsage) {}

  /** Starts a timed phase: the bot's event-loop and CPU counters are read now and again in stats(). */
  static async start(bot: BotChild): Promise<Samples> {
    return new Samples(bot, await bot.usage());
  }

  fail(why: string): void {
    this.errors += 1;
    this.firstError ??= why.slice(0, 300);
  }
  async stats(): Promise<OperationStats> {
    const elapsed = performance.now() - this.started;
    const usage = usageBetween(this.before, await this.bot.usage());
    const s = summarize(this.ms);
    return {
      ...s,
      p50: round(s.p50, 1),
      p95: round(s.p95, 1),
      p99: round(s.p99, 1),
      max: round(s.max, 1),
      errors: this.errors,
      eventLoopUtilization: round(usage.eventLoopUtilization, 2),
      botCpuMs: round(usage.cpuMs, 0),
      perSecond: round((this.ms.length * 1000) / elapsed, 1),
      ...(this.firstError ? { firstError: this.firstError } : {}),
    };
  }
}

function describeAnswer(res: PostResult): string {
  const body = res.body as { type?: string; value?: { code?: string } } | null;
  return `HTTP ${res.status} ${body?.type ?? ''} ${body?.value?.code ?? ''}`.trim();
}

/** Times one request; a request that throws (e.g. the client's 15 s timeout) is a failed sample, not a crash. */
async function timed(s: Samples, fn: () => Promise<PostResult>): Promise<{ ms: number; res: PostResult } | null> {
  const t0 = performance.now();
  try {
    const res = await fn();
    return { ms: performance.now() - t0, res };
  } catch (e) {
    s.fail(`${e instanceof Error ? e.name : 'Error'} after ${Math.round(performance.now() - t0)} ms: ${e instanceof Error ? e.message : String(e)}`);
    return null;
  }
}

async function measureMessages(w: BotWorld, concurrency: number, samples: number): Promise<OperationStats> {
  const clients = w.loaders.slice(0, concurrency);
  // Each client's first message registers its 1:1 chat (a store write); steady state is what is timed.
  await pool(clients, concurrency, async (p) => void (await w.teams.message(p, 'help')));
  const s = await Samples.start(w.bot);
  const items = Array.from({ length: Math.max(samples, concurrency) }, (_, i) => i);
  await pool(items, concurrency, async (_i, worker) => {
    const t = await timed(s, () => w.teams.message(clients[worker]!, 'help'));
    if (!t) return;
    if (t.res.status >= 200 && t.res.status < 300) s.ms.push(t.ms);
    else s.fail(describeAnswer(t.res));
  });
  return await s.stats();
}

/** Setup requests (not timed) get one more try after a client timeout on a machine busy with other work. */
async function retryOnce<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch {
    return fn();
  }
}

/** Creates `count` pending requests through the form (not timed); returns their ids. */
async function createRequests(w: BotWorld, count: number, label: string): Promise<string[]> {
  const conversation = personalOf(w, w.requester);
  const senders = [w.sim.mailboxes.info, w.sim.mailboxes.faktura];
  const ids: string[] = [];
  await pool(
    Array.from({ length: count }, (_, i) => i),
    SETUP_CONCURRENCY,
    async (i) => {
      const said = await retryOnce(() => w.teams.message(w.requester, 'set up Opter email'));
      const form = w.connector.messages(String(conversation.id)).find((m) => m.replyToId === said.activity.id && actionData(cardOf(m), 'submit-request'));
      if (!form) throw new Error(`P2: no form came back for "set up Opter email" (${describeAnswer(said)})`);
      const requestId = String(actionData(cardOf(form), 'submit-request')!.requestId);
      const inputs = { appDisplayName: `Bench P2 ${label} ${i + 1}`, senders: senders.join('\n'), secretValidYears: '2', scoping: 'access-policy' };
      // A submit is deduplicated by its draft id, so repeating one that timed out cannot make a second request.
      const res = await retryOnce(() => w.teams.invoke(w.requester, { conversation, replyToId: form.id, verb: 'submit-request', data: { requestId, ...inputs } }));
      const body = res.body as { type?: string; value?: unknown } | null;
      if (body?.type !== 'application/vnd.microsoft.card.adaptive' || !textOf(body.value).includes('Sent for approval')) {
        throw new Error(`P2: submitting request ${i + 1} did not send it for approval (${describeAnswer(res)}): ${textOf(body?.value).slice(0, 300)}`);
      }
      ids.push(requestId);
    },
  );
  return ids;
}

async function measureApprovals(w: BotWorld, ids: string[], concurrency: number): Promise<OperationStats> {
  const approverChat = personalOf(w, w.approver);
  const wanted = new Set(ids);
  const copies = await pollUntil(
    () => {
      const found = cardsByRequest(w.connector, String(approverChat.id), 'approve', wanted);
      return found.size === wanted.size ? found : null;
    },
    SETUP_TIMEOUT_MS,
    `${ids.length} approval cards in the approver's chat`,
  );
  const s = await Samples.start(w.bot);
  await pool(ids, concurrency, async (id) => {
    const copy = copies.get(id)!;
    const t = await timed(s, () =>
      w.teams.invoke(w.approver, { conversation: approverChat, replyToId: copy.id, verb: 'approve', data: actionData(cardOf(copy), 'approve')! }),
    );
    if (!t) return;
    const body = t.res.body as { type?: string; value?: unknown } | null;
    if (t.res.status === 200 && body?.type === 'application/vnd.microsoft.card.adaptive' && textOf(body.value).includes('Approved by')) s.ms.push(t.ms);
    else s.fail(describeAnswer(t.res));
  });
  return await s.stats();
}

/** The text of a progress card that says one of these requests' jobs stopped on a failed step, if any. */
export function stoppedJob(connector: FakeConnector, conversationId: string, ids: ReadonlySet<string>): string | null {
  for (const m of connector.messages(conversationId)) {
    const text = textOf(cardOf(m));
    if (!/Stopped: a step failed/.test(text)) continue;
    if ([...ids].some((id) => text.includes(id))) return text.replace(/\s+/g, ' ').slice(0, 400);
  }
  return null;
}

async function measureReveals(w: BotWorld, ids: string[], concurrency: number): Promise<OperationStats> {
  const requesterChat = personalOf(w, w.requester);
  const wanted = new Set(ids);
  const cards = await pollUntil(
    () => {
      const found = cardsByRequest(w.connector, String(requesterChat.id), 'reveal', wanted);
      if (found.size === wanted.size) return found;
      const stopped = stoppedJob(w.connector, String(requesterChat.id), wanted);
      if (stopped) throw new Error(`a provisioning job stopped, so its secret card will never come: ${stopped}`);
      return null;
    },
    PROVISIONING_TIMEOUT_MS,
    `${ids.length} secret cards in the requester's chat (provisioning of the approved requests)`,
  );
  const s = await Samples.start(w.bot);
  await pool(ids, concurrency, async (id) => {
    const card = cards.get(id)!;
    const t = await timed(s, () =>
      w.teams.invoke(w.requester, { conversation: requesterChat, replyToId: card.id, verb: 'reveal', data: actionData(cardOf(card), 'reveal')!, trigger: 'manual' }),
    );
    if (!t) return;
    const body = t.res.body as { type?: string; value?: unknown } | null;
    // Checked for presence only; the value is not kept or printed.
    if (t.res.status === 200 && body?.type === 'application/vnd.microsoft.card.adaptive' && /Ms Graph Client Secret/.test(textOf(body.value))) s.ms.push(t.ms);
    else s.fail(describeAnswer(t.res));
  });
  return await s.stats();
}

async function oneRun(sim: BenchSimulator, levels: number[], opts: { messageSamples: number; invokeSamples: number }, runIndex: number, logCounts: P2Result['botLog'], log: (s: string) => void) {
  await sim.reset();
  const w = await startWorld(sim, Math.max(...levels));
  try {
    // Both admins' 1:1 chats become known to the bot (approval copies and secret cards go there).
    await w.teams.message(w.approver, 'help');
    await w.teams.message(w.requester, 'help');
    const out: P2LevelRun[] = [];
    for (const c of levels) {
      // Each level starts on the seeded tenant: Exchange keeps only about 150 access policies with descriptions like
      // ours (the total-size limit the simulator models), and the levels together make more registrations than that.
      await sim.reset();
      const phase = <T>(name: string, p: Promise<T>) => p.catch((e: unknown) => Promise.reject(new Error(`P2 run ${runIndex}, ${c} clients, ${name}: ${e instanceof Error ? e.message : String(e)}`)));
      const message = await phase('messages', measureMessages(w, c, opts.messageSamples));
      const ids = await phase('creating requests', createRequests(w, Math.max(opts.invokeSamples, 2 * c), `r${runIndex} c${c}`));
      const approve = await phase('approvals', measureApprovals(w, ids, c));
      const reveal = await phase('reveals', measureReveals(w, ids, c));
      // Let the background work of this level (provisioning, card edits, outbox) end before the next level.
      await phase('background work', w.bot.idle());
      log(`P2 run ${runIndex} c=${c}: message p50 ${message.p50} ms, approve p50 ${approve.p50} ms, reveal p50 ${reveal.p50} ms`);
      out.push({ concurrency: c, message, approve, reveal });
    }
    const botLog = (await w.bot.usage()).log;
    logCounts.warn += botLog.warn;
    logCounts.error += botLog.error;
    logCounts.lastWarn = botLog.lastWarn ?? logCounts.lastWarn;
    logCounts.lastError = botLog.lastError ?? logCounts.lastError;
    return out;
  } finally {
    await stopWorld(w);
  }
}

function medianSummary(list: LatencySummary[]): LatencySummary {
  return {
    count: median(list.map((s) => s.count)),
    p50: round(median(list.map((s) => s.p50)), 1),
    p95: round(median(list.map((s) => s.p95)), 1),
    p99: round(median(list.map((s) => s.p99)), 1),
    max: round(median(list.map((s) => s.max)), 1),
  };
}

export async function runP2(opts: P2Options): Promise<P2Result> {
  const log = opts.log ?? (() => {});
  const levels = (opts.levels ?? [1, 10, 50]).map((n) => Math.floor(n));
  if (!levels.length || levels.some((n) => !(n >= 1))) throw new RangeError('P2 levels must be at least 1 client');
  const runs = Math.max(1, Math.min(20, Math.floor(opts.runs)));
  if (levels.some((n) => n > MAX_CLIENTS)) throw new RangeError(`P2 levels must be 1..${MAX_CLIENTS} clients (each makes two registrations per level)`);
  const samples = { messageSamples: Math.max(1, Math.min(5_000, opts.messageSamples ?? 200)), invokeSamples: Math.max(1, Math.min(MAX_REGISTRATIONS, opts.invokeSamples ?? 30)) };
  const logCounts: P2Result['botLog'] = { warn: 0, error: 0, lastWarn: null, lastError: null };
  // The personas' Teams tenant is also the provisioning tenant, as in a single-tenant deployment.
  const sim = await startBenchSimulator({ latencyMs: opts.latencyMs, tlsDir: opts.tlsDir, tenantId: DEFAULT_TENANT_ID, seed: 11 });
  try {
    const all: P2LevelRun[][] = [];
    for (let i = 0; i < runs; i++) all.push(await oneRun(sim, levels, samples, i + 1, logCounts, log));
    return {
      latencyMs: opts.latencyMs,
      levels,
      runs: all,
      median: levels.map((c, li) => {
        const at = all.map((r) => r[li]!);
        return {
          concurrency: c,
          message: medianSummary(at.map((r) => r.message)),
          approve: medianSummary(at.map((r) => r.approve)),
          reveal: medianSummary(at.map((r) => r.reveal)),
          errors: at.reduce((n, r) => n + r.message.errors + r.approve.errors + r.reveal.errors, 0),
          eventLoop: {
            message: median(at.map((r) => r.message.eventLoopUtilization)),
            approve: median(at.map((r) => r.approve.eventLoopUtilization)),
            reveal: median(at.map((r) => r.reveal.eventLoopUtilization)),
          },
          perSecond: {
            message: median(at.map((r) => r.message.perSecond)),
            approve: median(at.map((r) => r.approve.perSecond)),
            reveal: median(at.map((r) => r.reveal.perSecond)),
          },
        };
      }),
      botLog: logCounts,
    };
  } finally {
    await sim.close();
  }
}
