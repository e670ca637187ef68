/**
 * Crash safety of the whole bot: the bot runs as its own process (bot-child.ts → startBot, configured only through
 * the environment: AZURE_* / *_ENDPOINT point at the simulator this test runs, DATA_DIR is a temp dir) and is
 * SIGKILLed at each stage of a setup — after the request, after the approval, inside every provisioning step
 * (simulator latency and replication delay keep each step open long enough to land in it), while addPassword is in
 * flight, between the secret's creation and the delivery of its card, and while Teams refuses audit posts. A new process on the same DATA_DIR must
 * finish the flow: one set of tenant objects, exactly one secret on the app, the audit chain intact with every event
 * once and every entry in the audit channel, every card in its final state, the secret card once, revealed once.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main as cli } from '../../src/cli/index';
import { PROVISION_STEPS } from '../../src/provisioning/engine';
import type { Simulator } from '../../src/sim';
import { startFakeConnector, type FakeConnector } from '../harness/fake-connector';
import { botIdentityFor, channelFor, makePersonas, personaEnv, TeamsClient, type Personas } from '../harness/teams-client';
import {
  approvalCopy,
  bodyOf,
  cardOf,
  click,
  errorCodeOf,
  greet,
  hasVerb,
  messagesWithCard,
  personalId,
  progressCardIn,
  secretCardIn,
  startTestSimulator,
  submitSetup,
  textOf,
  type TestBot,
} from '../bot/helpers';
import { killAllChildBots, startChildBot, type ChildBot } from './child-bot';

const PLAINTEXT = /^Ms Graph Client Secret\s+: (\S+)$/m;
const personas: Personas = makePersonas();
const auditChannel = channelFor(personas.requester.tenantId, 'crash-audit');

let sim: Simulator;
let connector: FakeConnector;
let dataDir: string;
let child: ChildBot;
let db: Database.Database | null = null;
/** The harness helpers work on this view of the running child (connector, Teams client, personas). */
const t = { personas, logLines: [] as string[] } as unknown as TestBot & { logLines: string[] };
const kills: string[] = [];

function childEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...personaEnv(personas),
    AZURE_TENANT_ID: sim.tenantId,
    AZURE_CLIENT_ID: sim.provisioning.clientId,
    AZURE_CLIENT_SECRET: sim.provisioning.clientSecret,
    AUTHORITY_HOST: sim.authorityHost,
    GRAPH_ENDPOINT: sim.graphEndpoint,
    EXCHANGE_ENDPOINT: sim.exchangeEndpoint,
    VERIFY_DENIED_MAILBOX: sim.mailboxes.outside,
    NODE_EXTRA_CA_CERTS: sim.caCertPath,
    DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    AUDIT_CHANNEL_ID: auditChannel.channelId,
  };
}

async function startChild(): Promise<void> {
  child = await startChildBot(childEnv());
  const teams = new TeamsClient({ botUrl: child.url, connector, bot: botIdentityFor() });
  Object.assign(t, { connector, teams, sim, dataDir });
  t.logLines = child.lines;
}

/** The store as the child committed it (read-only; WAL makes every commit visible). */
function store(): Database.Database {
  db ??= new Database(join(dataDir, 'opter-mail.sqlite'), { readonly: true, fileMustExist: true });
  return db;
}
function one<T>(sql: string, ...params: unknown[]): T | undefined {
  return store().prepare(sql).get(...params) as T | undefined;
}
function all<T>(sql: string, ...params: unknown[]): T[] {
  return store().prepare(sql).all(...params) as T[];
}

/** Polls `condition` every 3 ms until it holds (bounded). */
async function until(condition: () => boolean, what = 'condition', timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} never came (within ${timeoutMs} ms):\n${child.lines.slice(-15).join('\n')}`);
    await new Promise((r) => setTimeout(r, 3));
  }
}

/** SIGKILLs the child the moment `condition` holds. */
async function killWhen(stage: string, condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  await until(condition, `stage "${stage}"`, timeoutMs);
  await child.kill();
  kills.push(stage);
}

async function restart(): Promise<void> {
  await startChild();
}

function jobOf(requestId: string): string | null {
  return one<{ job_id: string | null }>('SELECT job_id FROM requests WHERE id = ?', requestId)?.job_id ?? null;
}
function stepStatus(requestId: string, step: string): string | null {
  const job = jobOf(requestId);
  return job ? (one<{ status: string }>('SELECT status FROM steps WHERE job_id = ? AND step = ?', job, step)?.status ?? null) : null;
}
/** The progress card has been posted and its message id recorded (edits can find it from any process). */
function progressCardRecorded(requestId: string): boolean {
  return one("SELECT 1 FROM card_activities WHERE request_id = ? AND role = 'progress'", requestId) !== undefined;
}
function requestStatus(requestId: string): string | null {
  return one<{ status: string }>('SELECT status FROM requests WHERE id = ?', requestId)?.status ?? null;
}
function outboxAttempts(kind: string, requestId: string): number {
  return all<{ attempts: number; payload: string }>('SELECT attempts, payload FROM outbox WHERE kind = ?', kind)
    .filter((r) => (JSON.parse(r.payload) as { requestId?: string }).requestId === requestId)
    .reduce((n, r) => n + r.attempts, 0);
}

beforeAll(async () => {
  // Every call takes 80 ms and new objects replicate for 400 ms: each step stays open long enough to be killed in.
  sim = await startTestSimulator({ faults: { latencyMs: 80, replicationDelayMs: 400 } });
  connector = await startFakeConnector();
  dataDir = mkdtempSync(join(tmpdir(), 'opter-crash-'));
  await startChild();
  t.teams.addChannel(auditChannel, [personas.requester, personas.approver]);
  await greet(t, personas.approver);
}, 60_000);

afterAll(async () => {
  db?.close();
  await killAllChildBots();
  await connector?.close();
  await sim?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

interface Flow {
  requestId: string;
  appName: string;
}

async function submit(appName: string): Promise<Flow> {
  const { requestId, res } = await submitSetup(t, { appName, senders: [sim.mailboxes.info] });
  expect(textOf(bodyOf(res).value)).toContain('Sent for approval');
  return { requestId, appName };
}

async function approve(flow: Flow): Promise<void> {
  const copy = await approvalCopy(t, flow.requestId, personalId(t, personas.approver), 30_000);
  const res = await click(t, personas.approver, copy, 'approve');
  expect(textOf(bodyOf(res).value)).toContain('Approved by');
}

/**
 * The flow finished after the crash: tenant, secret, audit, cards. Returns the revealed secret. A crash after the
 * secret was made leaves the new process without its value, so the sign-in proof cannot run: `signInSkipped`.
 */
async function expectFinished(flow: Flow, opts: { signInSkipped?: boolean } = {}): Promise<string> {
  const { requestId, appName } = flow;
  const finished = opts.signInSkipped ? /Finished, not everything verified/ : /Finished and verified/;
  try {
    await progressCardIn(t, personalId(t, personas.requester), requestId, finished, 60_000);
  } catch (e) {
    const cards = messagesWithCard(connector, personalId(t, personas.requester), (c) => textOf(c).includes(requestId)).map((m) => textOf(cardOf(m)).slice(0, 300));
    throw new Error(`${(e as Error).message}\nrequest ${requestStatus(requestId)}; cards:\n${cards.join('\n---\n')}\nchild:\n${child.lines.slice(-20).join('\n')}`, { cause: e });
  }
  const secretMsg = await secretCardIn(t, personalId(t, personas.requester), requestId, 30_000);

  // Tenant: one of everything, exactly one secret on the app.
  const snap = sim.snapshot();
  const apps = snap.applications.filter((a) => a.displayName === appName);
  expect(apps).toHaveLength(1);
  const appId = apps[0]!.appId as string;
  const sps = snap.servicePrincipals.filter((s) => s.appId === appId);
  expect(sps).toHaveLength(1);
  expect(snap.appRoleAssignments.filter((a) => a.principalId === sps[0]!.id)).toHaveLength(1);
  expect(snap.groups.filter((g) => g.name === `${appName} - MailSend Allowed`)).toHaveLength(1);
  expect(snap.accessPolicies.filter((p) => p.appId === appId)).toHaveLength(1);
  const credentials = apps[0]!.passwordCredentials as Array<{ keyId: string; hint: string }>;
  expect(credentials).toHaveLength(1);

  // Store: one request, one job, succeeded; the sealed secret is the app's credential.
  expect(requestStatus(requestId)).toBe('succeeded');
  expect(all('SELECT id FROM jobs WHERE idempotency_key = ?', requestId)).toHaveLength(1);
  expect(one<{ status: string }>('SELECT status FROM jobs WHERE id = ?', jobOf(requestId))!.status).toBe('succeeded');
  expect(one<{ key_id: string }>('SELECT key_id FROM secrets WHERE request_id = ?', requestId)!.key_id).toBe(credentials[0]!.keyId);

  // Cards: the secret card exists once and reveals once; every progress card and approval copy is final.
  const secretCards = messagesWithCard(connector, personalId(t, personas.requester), (c) => textOf(c).includes(`Request ${requestId}`) && hasVerb(c, 'reveal'));
  expect(secretCards).toHaveLength(1);
  const revealed = PLAINTEXT.exec(textOf(bodyOf(await click(t, personas.requester, secretMsg, 'reveal')).value))?.[1];
  expect(revealed).toBeDefined();
  expect(revealed!.slice(0, 3)).toBe(credentials[0]!.hint);
  expect(errorCodeOf(await click(t, personas.requester, secretMsg, 'reveal'))).toBe('E_SECRET_ALREADY_REVEALED');
  const progressCards = messagesWithCard(connector, personalId(t, personas.requester), (c) => textOf(c).includes(`Request ${requestId}`) && /Steps/.test(textOf(c)));
  expect(progressCards.length).toBeGreaterThanOrEqual(1);
  for (const m of progressCards) expect(textOf(cardOf(m))).toMatch(finished);
  if (opts.signInSkipped) for (const m of progressCards) expect(textOf(cardOf(m))).toMatch(/Token as the new app\n⚪ skipped — not run: the secret was created by an earlier run/);
  await connector.waitFor(() => {
    const copies = messagesWithCard(connector, personalId(t, personas.approver), (c) => textOf(c).includes(requestId));
    return copies.length > 0 && copies.every((m) => /Approved by/.test(textOf(cardOf(m))));
  }, 15_000);
  expect(messagesWithCard(connector, personalId(t, personas.approver), (c) => textOf(c).includes(requestId) && hasVerb(c, 'approve'))).toHaveLength(0);

  // Audit: the chain verifies; each event of this request is recorded once; every entry reached the channel.
  const actions = all<{ action: string }>('SELECT action FROM audit_log WHERE request_id = ? ORDER BY seq', requestId).map((r) => r.action);
  await connector.waitFor(() => all<{ action: string }>('SELECT action FROM audit_log WHERE request_id = ?', requestId).some((r) => r.action === 'secret.revealed'), 10_000);
  const after = all<{ action: string }>('SELECT action FROM audit_log WHERE request_id = ? ORDER BY seq', requestId).map((r) => r.action);
  const once = ['request.created', 'request.approved', 'secret.stored', 'request.succeeded', 'job.succeeded', 'secret.revealed', ...PROVISION_STEPS.map((s) => `step.${s}.succeeded`)];
  for (const action of once) expect(after.filter((a) => a === action), `${action} in ${after.join(', ')}`).toHaveLength(1);
  expect(actions.filter((a) => a.endsWith('.failed'))).toEqual([]);
  const out: string[] = [];
  expect(await cli(['audit', 'verify'], { out: (s) => out.push(s), err: (s) => out.push(s) }, { ...process.env, DATA_DIR: dataDir })).toBe(0);
  expect(out.join('\n')).toMatch(/audit chain OK/);
  await connector.waitFor(() => {
    const posted = connector.channelMessages(auditChannel.channelId).map((m) => textOf(cardOf(m)));
    return all<{ seq: number }>('SELECT seq FROM audit_log').every((e) => posted.some((p) => p.includes(`#${e.seq} ·`)));
  }, 20_000);

  // The secret never reached the child's log output.
  expect(child.lines.join('\n')).not.toContain(revealed);
  return revealed!;
}

describe('SIGKILL at every stage of a setup, then a new process on the same DATA_DIR', () => {
  it('after the request (stored, its approval card not delivered yet)', async () => {
    const approverChat = `/v3/conversations/${personalId(t, personas.approver)}/activities`;
    connector.failShare(1, { status: 503, retryAfterSeconds: 0, match: (r) => r.method === 'POST' && r.path === approverChat });
    const flow = await submit('Crash After Request');
    await killWhen('after request', () => requestStatus(flow.requestId) === 'pending' && outboxAttempts('approval-post', flow.requestId) > 0);
    connector.clearFaults();
    await restart();
    await approve(flow);
    await expectFinished(flow);
    expect(messagesWithCard(connector, personalId(t, personas.approver), (c) => textOf(c).includes(flow.requestId))).toHaveLength(1);
  });

  it('after the approval (the job starting, Teams not reached yet)', async () => {
    const flow = await submit('Crash After Approval');
    // Teams does not take the new progress card before the kill (a message Teams accepted but whose id died with the
    // process could never be edited again — the one window no bot can close, see the report).
    const requesterChat = `/v3/conversations/${personalId(t, personas.requester)}/activities`;
    connector.failShare(1, { status: 503, retryAfterSeconds: 0, match: (r) => r.method === 'POST' && r.path === requesterChat });
    await approve(flow);
    await killWhen('after approval', () => requestStatus(flow.requestId) !== 'pending');
    connector.clearFaults();
    await restart();
    await expectFinished(flow);
  });

  it.each(PROVISION_STEPS.map((s) => [s]))('inside the provisioning step "%s"', async (step) => {
    const flow = await submit(`Crash In ${step}`);
    sim.clearRequests();
    await approve(flow);
    await killWhen(`in step ${step}`, () => progressCardRecorded(flow.requestId) && stepStatus(flow.requestId, step) === 'running');
    await restart();
    // Killed while verifying, the secret exists but its value died with the process: no sign-in proof is possible.
    await expectFinished(flow, { signInSkipped: step === 'verify' });
    // Every secret the tenant made for this app but the second process did not keep was removed again.
    const calls = sim.requests().filter((r) => r.family === 'graph');
    const added = calls.filter((r) => r.method === 'POST' && /\/addPassword$/.test(r.path.split('?')[0]!) && r.status < 300).length;
    const removed = calls.filter((r) => r.method === 'POST' && /\/removePassword$/.test(r.path.split('?')[0]!) && r.status < 300).length;
    expect(added - removed).toBe(1);
  });

  it('while addPassword is in flight: Microsoft makes the secret, its answer dies with the process', async () => {
    const flow = await submit('Crash In addPassword');
    sim.clearRequests();
    await approve(flow);
    // The engine writes its intent (pendingSince) just before it calls addPassword. Once the secret step runs, every
    // call takes 1 s; the kill comes 250 ms after the intent — after the request left, long before its answer — even
    // on a busy machine.
    await until(() => stepStatus(flow.requestId, 'secret') === 'running');
    sim.setFaults({ latencyMs: 1_000 });
    await until(() => {
      const job = jobOf(flow.requestId);
      const outputs = job ? one<{ outputs: string }>("SELECT outputs FROM steps WHERE job_id = ? AND step = 'secret'", job)?.outputs : undefined;
      return !!outputs && typeof (JSON.parse(outputs) as { pendingSince?: unknown }).pendingSince === 'string';
    }, 'the intent to call addPassword');
    const intentAt = Date.now();
    await killWhen('addPassword in flight', () => Date.now() - intentAt >= 250);
    // The sim finishes the call it received (the credential is made) although nobody hears the answer.
    await new Promise((r) => setTimeout(r, 1_000));
    sim.setFaults({ latencyMs: 80 });
    await restart();
    await expectFinished(flow);
    // The orphan (made after the recorded intent, never handed over) was removed, a new one made and kept.
    const calls = sim.requests().filter((r) => r.family === 'graph' && r.method === 'POST' && r.status < 300).map((r) => r.path.split('?')[0]!);
    expect(calls.filter((p) => p.endsWith('/addPassword'))).toHaveLength(2);
    expect(calls.filter((p) => p.endsWith('/removePassword'))).toHaveLength(1);
  });

  it('between the secret’s creation and the delivery of its card', async () => {
    const flow = await submit('Crash Before Secret Card');
    // After the approval the requester's chat gets the progress card, then the secret card: Teams refuses the latter.
    let posts = 0;
    const requesterChat = `/v3/conversations/${personalId(t, personas.requester)}/activities`;
    connector.failShare(1, { status: 503, retryAfterSeconds: 0, match: (r) => r.method === 'POST' && r.path === requesterChat && ++posts > 1 });
    await approve(flow);
    await killWhen(
      'between secret and card',
      () => one('SELECT 1 FROM secrets WHERE request_id = ? AND ciphertext IS NOT NULL', flow.requestId) !== undefined && outboxAttempts('secret-post', flow.requestId) > 0,
    );
    connector.clearFaults();
    expect(messagesWithCard(connector, personalId(t, personas.requester), (c) => textOf(c).includes(`Request ${flow.requestId}`) && hasVerb(c, 'reveal'))).toHaveLength(0);
    await restart();
    await expectFinished(flow);
  });

  it('during audit delivery while Teams refuses the audit channel', async () => {
    // Top-level audit posts and the replies in their threads (`<channel>;messageid=<root>`).
    const isAuditPost = (path: string) => path.startsWith(`/v3/conversations/${auditChannel.channelId}`) && path.endsWith('/activities');
    connector.failShare(1, { status: 429, retryAfterSeconds: 0, match: (r) => r.method === 'POST' && isAuditPost(r.path) });
    const flow = await submit('Crash During Audit');
    await approve(flow);
    await killWhen('during audit delivery', () => progressCardRecorded(flow.requestId) && stepStatus(flow.requestId, 'group') === 'running' && all<{ attempts: number }>("SELECT attempts FROM outbox WHERE kind = 'audit' AND status != 'sent'").some((r) => r.attempts > 0));
    connector.clearFaults();
    await restart();
    await expectFinished(flow);
  });

  it('killed at every stage above; the audit channel lost nothing and repeated at most the one post in flight per kill', () => {
    expect(kills).toEqual(['after request', 'after approval', ...PROVISION_STEPS.map((s) => `in step ${s}`), 'addPassword in flight', 'between secret and card', 'during audit delivery']);
    const posts = new Map<number, number>();
    for (const m of connector.channelMessages(auditChannel.channelId)) {
      const seq = /#(\d+) ·/.exec(textOf(cardOf(m)))?.[1];
      if (seq) posts.set(Number(seq), (posts.get(Number(seq)) ?? 0) + 1);
    }
    const seqs = all<{ seq: number }>('SELECT seq FROM audit_log').map((r) => r.seq);
    expect(seqs.filter((seq) => !posts.has(seq))).toEqual([]);
    // Delivery is at-least-once: a post Teams accepted just before the kill, whose "sent" mark died with the process,
    // is posted again (the card's seq and hash let a reader see it is the same entry). One in flight per kill at most.
    const repeated = [...posts.values()].reduce((n, count) => n + count - 1, 0);
    expect(repeated).toBeLessThanOrEqual(kills.length);
  });
});

