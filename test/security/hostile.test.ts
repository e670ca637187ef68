/**
 * The hostile input corpus (test/hostile/*.json, see its README) driven through the real bot over HTTP — startBot
 * with the simulated tenant, the fake Teams client and Bot Connector — and, for app names and senders, through the
 * engine's input validation and the opter-mail CLI. Every case must get its specific answer, cause no tenant write and
 * leave the store unchanged (except an expected "refused" audit entry; see support.ts).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main as cli } from '../../src/cli/index';
import { OpterError } from '../../src/core/errors';
import { validateProvisionInput } from '../../src/provisioning/engine';
import type { Simulator } from '../../src/sim';
import type { FakeMessage } from '../harness/fake-connector';
import { FOREIGN_TENANT_ID, buildCardInvoke, buildPersonalMessage, type Activity, type Persona } from '../harness/teams-client';
import {
  HOUR,
  approvalCopy,
  bodyOf,
  cardOf,
  channelFor,
  click,
  conversationOf,
  dataOf,
  formInputs,
  greet,
  hasVerb,
  openForm,
  personalId,
  progressCardIn,
  secretCardIn,
  startTestBot,
  startTestSimulator,
  submitSetup,
  textOf,
  waitForCard,
  type InvokeBody,
  type TestBot,
} from '../bot/helpers';
import { classifyChanges, describeCalls, describeChanges, dumpStore, expand, pattern, storeChanges, tenantWrites, type StoreRow } from './support';

const CORPUS_DIR = resolve(__dirname, '../hostile');

interface Corpus<C> {
  cases: C[];
}
function corpus<C>(file: string): C[] {
  return (JSON.parse(readFileSync(join(CORPUS_DIR, file), 'utf8')) as Corpus<C>).cases;
}

interface AppNameCase {
  id: string;
  appName: unknown;
  overrides?: { groupName?: string; groupAlias?: string; secretDisplayName?: string };
  /** `shows`: more text the form's check must show for an accepted name (a warning). */
  expect: { form: string; groupAlias?: string; shows?: string; engine: string; engineDetail?: string };
}
interface SenderCase {
  id: string;
  senders: unknown;
  expect: { form: string; engine: string; message?: string };
}
interface MessageCase {
  id: string;
  as: keyof TestBot['personas'];
  where: 'personal' | 'channel';
  text: unknown;
  expect: { card?: string; text?: string; noReply?: boolean };
}
interface ActivityCase {
  id: string;
  raw?: string;
  base?: 'message' | 'invoke';
  as_?: keyof TestBot['personas'];
  text?: unknown;
  verb?: string;
  patch?: Record<string, unknown>;
  rawPatch?: Record<string, unknown>;
  headers?: Record<string, string>;
  expect: { http: number; body?: string; text?: string; card?: string; code?: string; message?: string; noReply?: boolean; audit?: 'refused' };
}
interface InvokeCase {
  id: string;
  card: string;
  as: keyof TestBot['personas'];
  verb: unknown;
  data: unknown;
  tamper?: string[];
  expect: { code?: string; statusCode?: number; message?: string; card?: string; notCard?: string; audit?: 'refused' };
}

const appNames = corpus<AppNameCase>('app-names.json');
const senders = corpus<SenderCase>('senders.json');
const messages = corpus<MessageCase>('messages.json');
const activities = corpus<ActivityCase>('activities.json');
const invokes = corpus<InvokeCase>('invokes.json');

let sim: Simulator;
let t: TestBot;
const workChannel = channelFor('6babcaad-604b-40ac-a9d7-9fd97c0b779f', 'hostile-ops');
const auditChannel = channelFor('6babcaad-604b-40ac-a9d7-9fd97c0b779f', 'hostile-audit');
const cliDirs: string[] = [];

/** Request ids of the fixtures, and the messages carrying their cards (`kind:fixture`). */
const ids: Record<string, string> = {};
const cards: Record<string, FakeMessage> = {};

function placeholders(): Record<string, string> {
  const p = t.personas;
  const out: Record<string, string> = {
    ...ids,
    foreignTenant: FOREIGN_TENANT_ID,
    allowedTenant: p.requester.tenantId,
    'approver.aadObjectId': p.approver.aadObjectId,
    'approver.mri': p.approver.mri,
  };
  for (const [k, v] of Object.entries(sim.mailboxes)) out[`mailbox.${k}`] = v;
  return out;
}

/** Generators expanded, then `{name}` placeholders replaced wherever they are known (unknown braces stay). */
function resolveValue<T = unknown>(value: unknown): T {
  const known = placeholders();
  // Placeholders live near the top of a value; deeper levels (a 5 000-level nesting case) are left as they are.
  const sub = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return v.replace(/\{([A-Za-z][\w.]*)\}/g, (whole, name: string) => known[name] ?? whole);
    if (depth > 20) return v;
    if (Array.isArray(v)) return v.map((x) => sub(x, depth + 1));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, sub(x, depth + 1)]));
    return v;
  };
  return sub(expand(value), 0) as T;
}

/** Everything the bot does in the background has happened (runs settled, outbox drained). */
async function quiesce(): Promise<void> {
  await t.bot.idle();
  await t.bot.tick();
}

interface Probe<T> {
  result: T;
  refusals: StoreRow[];
}

/**
 * Runs one hostile action and asserts the two invariants: no tenant write, and no store change other than
 * "refused" audit entries (returned, so the case can check whether one was expected).
 */
async function probe<T>(action: () => Promise<T>): Promise<Probe<T>> {
  await quiesce();
  sim.clearRequests();
  const before = dumpStore(t.bot.store.path);
  const result = await action();
  await quiesce();
  const after = dumpStore(t.bot.store.path);
  const writes = tenantWrites(sim.requests());
  expect(writes, `tenant writes:\n${describeCalls(writes)}`).toEqual([]);
  const { refusals, unexplained } = classifyChanges(storeChanges(before, after));
  expect(unexplained, `store changes:\n${describeChanges(unexplained)}`).toEqual([]);
  return { result, refusals };
}

function expectNoRefusal(p: Probe<unknown>): void {
  expect(p.refusals.map((r) => r.action)).toEqual([]);
}

/** Messages the bot sent since `count`, except audit-channel posts (refusals are audited on purpose). */
function newMessagesSince(count: number): FakeMessage[] {
  return t.connector.allMessages().slice(count).filter((m) => !m.conversationId.startsWith(auditChannel.channelId));
}

function replyTexts(list: FakeMessage[]): string[] {
  return list.map((m) => (cardOf(m) ? textOf(cardOf(m)) : String(m.activity.text ?? '')));
}

async function provision(appName: string): Promise<{ requestId: string; form: FakeMessage; approval: FakeMessage; progress: FakeMessage; secret: FakeMessage }> {
  const { requester, approver } = t.personas;
  const { requestId, form } = await submitSetup(t, { appName, senders: [sim.mailboxes.info] });
  const approval = await approvalCopy(t, requestId, personalId(t, approver));
  expect(bodyOf(await click(t, approver, approval, 'approve')).type).toBe('application/vnd.microsoft.card.adaptive');
  const progress = await progressCardIn(t, personalId(t, requester), requestId, /Finished and verified/);
  const secret = await secretCardIn(t, personalId(t, requester), requestId);
  return { requestId, form, approval, progress, secret };
}

async function pendingRequest(appName: string): Promise<{ requestId: string; form: FakeMessage; approval: FakeMessage }> {
  const { requestId, form } = await submitSetup(t, { appName, senders: [sim.mailboxes.faktura] });
  const approval = await approvalCopy(t, requestId, personalId(t, t.personas.approver));
  return { requestId, form, approval };
}

beforeAll(async () => {
  sim = await startTestSimulator();
  t = await startTestBot({ sim, env: { AUDIT_CHANNEL_ID: auditChannel.channelId, APPROVAL_TTL_HOURS: '24', SECRET_REVEAL_TTL_HOURS: '24' } });
  const { requester, approver, nonAdmin } = t.personas;
  t.teams.addChannel(auditChannel, [requester, approver, nonAdmin]);
  t.teams.addChannel(workChannel, [requester, approver, nonAdmin]);
  await greet(t, approver);
  await greet(t, nonAdmin);

  // Phase 1: a secret and a request that will be stale (expired) by the time the cases run.
  const expiring = await provision('Hostile Fixture Expiring');
  ids.expiredSecret = expiring.requestId;
  cards['secret:expiredSecret'] = expiring.secret;
  const expired = await pendingRequest('Hostile Fixture Expired');
  ids.expired = expired.requestId;
  cards['approval:expired'] = expired.approval;
  t.clock.advance(25 * HOUR);
  await quiesce();
  expect(t.bot.store.requests.get(ids.expired)!.status).toBe('expired');
  expect(t.bot.store.secrets.get(ids.expiredSecret)!.credentialRemovedAt).not.toBeNull();

  // Phase 2: a finished request whose secret was revealed, one whose secret is still sealed, pending ones, a rejected
  // one, a cancelled form, an open form and an add-sender chooser.
  const done = await provision('Hostile Fixture Done');
  ids.done = done.requestId;
  ids.doneRegistration = done.requestId;
  ids.doneAppId = String(sim.snapshot().applications.find((a) => a.displayName === 'Hostile Fixture Done')!.appId);
  Object.assign(cards, { 'form:done': done.form, 'approval:done': done.approval, 'progress:done': done.progress, 'secret:done': done.secret });
  expect(textOf(bodyOf(await click(t, requester, done.secret, 'reveal')).value)).toMatch(/Client Secret\s+:/);
  // Let the "revealed" base-card update (due after the grace period) happen now, not in the middle of a case.
  t.clock.advance(16 * 60_000);
  await quiesce();

  const sealed = await provision('Hostile Fixture Sealed');
  ids.sealed = sealed.requestId;
  cards['secret:sealed'] = sealed.secret;

  const pending = await pendingRequest('Hostile Fixture Pending A');
  ids.pending = pending.requestId;
  cards['approval:pending'] = pending.approval;
  const pending2 = await pendingRequest('Hostile Fixture Pending B');
  ids.pending2 = pending2.requestId;
  cards['approval:pending2'] = pending2.approval;

  const rejected = await pendingRequest('Hostile Fixture Rejected');
  ids.rejected = rejected.requestId;
  cards['approval:rejected'] = rejected.approval;
  await click(t, approver, rejected.approval, 'reject', { reason: 'fixture' });

  const cancelled = await openForm(t);
  ids.cancelledForm = String(dataOf(cardOf(cancelled), 'cancel-request').requestId);
  cards['form:cancelled'] = cancelled;
  expect(textOf(bodyOf(await click(t, requester, cancelled, 'cancel-request')).value)).toContain('Cancelled');

  const open = await openForm(t);
  ids.openForm = String(dataOf(cardOf(open), 'submit-request').requestId);
  cards['form:open'] = open;

  await t.teams.message(requester, `add sender ${sim.mailboxes.faktura}`);
  const chooser = await waitForCard(t, personalId(t, requester), (c) => hasVerb(c, 'choose-registration'));
  ids.chooser = String(dataOf(cardOf(chooser), 'choose-registration').requestId);
  cards['form:chooser'] = chooser;

  // A message id the bot never sent, in the approver's chat.
  cards.none = { id: '1699999999999', conversationId: personalId(t, approver), replyToId: null, activity: {}, versions: [], deleted: false };
  await quiesce();
}, 180_000);

afterAll(async () => {
  await t?.close();
  await sim?.close();
  for (const d of cliDirs) rmSync(d, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------------------------
// Shared front doors: the setup form, the engine, the CLI
// ---------------------------------------------------------------------------------------------------------------

async function submitForm(verb: 'check-request' | 'submit-request', inputs: Record<string, string>): Promise<string> {
  const res = await click(t, t.personas.requester, cards['form:open']!, verb, inputs);
  const body = bodyOf(res);
  expect(body.type, JSON.stringify(body).slice(0, 300)).toBe('application/vnd.microsoft.card.adaptive');
  return textOf(body.value);
}

function engineRefusal(input: { appDisplayName: string; senders: string[]; overrides?: AppNameCase['overrides'] }): OpterError | null {
  try {
    validateProvisionInput({ ...input, secretValidYears: 2 });
    return null;
  } catch (e) {
    if (e instanceof OpterError) return e;
    throw e;
  }
}

/** Runs the CLI in-process against the simulator; input errors must stop it before any call and before any store. */
async function cliRefusal(args: string[]): Promise<{ code: number; doc: { ok: boolean; error: { code: string; message: string; action: string } } }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'opter-hostile-cli-'));
  cliDirs.push(dataDir);
  const out: string[] = [];
  const env = {
    ...process.env,
    AZURE_TENANT_ID: sim.tenantId,
    AZURE_CLIENT_ID: sim.provisioning.clientId,
    AZURE_CLIENT_SECRET: sim.provisioning.clientSecret,
    AUTHORITY_HOST: sim.authorityHost,
    GRAPH_ENDPOINT: sim.graphEndpoint,
    EXCHANGE_ENDPOINT: sim.exchangeEndpoint,
    DATA_DIR: dataDir,
  };
  sim.clearRequests();
  const code = await cli(['provision', ...args, '--json'], { out: (s) => out.push(s), err: () => undefined }, env);
  expect(sim.requests(), 'the CLI called the tenant').toEqual([]);
  expect(readdirSync(dataDir), 'the CLI opened a store').toEqual([]);
  return { code, doc: JSON.parse(out.join('\n')) };
}

describe('app names', () => {
  it.each(appNames)('$id', async (c) => {
    const name = resolveValue<string>(c.appName);
    const overrides = c.overrides ?? {};
    const accepted = c.expect.form === 'accepted';
    const inputs = { ...formInputs({ appName: name, senders: [sim.mailboxes.info] }), ...overrides };
    // A name that should be refused is submitted for real; an acceptable one only checked (a submit would rightly
    // create a request).
    const p = await probe(() => submitForm(accepted ? 'check-request' : 'submit-request', inputs));
    expectNoRefusal(p);
    if (accepted) {
      expect(p.result).toContain('Names that will be used');
      expect(p.result).toContain(c.expect.groupAlias!);
      expect(p.result).not.toMatch(/already used by another registration|taken/);
      if (c.expect.shows) expect(p.result).toMatch(pattern(c.expect.shows));
      // The lookup by name reached Graph as one string literal: quotes doubled, nothing else interpreted.
      const filters = sim
        .requests()
        .filter((r) => r.family === 'graph' && r.method === 'GET' && /\/applications\?/.test(r.path))
        .map((r) => new URL(r.path, 'https://graph.invalid').searchParams.get('$filter'));
      expect(filters).toContain(`displayName eq '${name.replace(/'/g, "''")}'`);
    } else {
      expect(p.result).toMatch(pattern(c.expect.form));
      expect(p.result).not.toContain('Sent for approval');
    }

    const refused = engineRefusal({ appDisplayName: name, senders: [sim.mailboxes.info], overrides });
    if (c.expect.engine === 'accepted') {
      expect(refused).toBeNull();
      return;
    }
    expect(refused?.code).toBe(c.expect.engine);
    expect(`${refused!.detail ?? ''} ${refused!.action}`).toMatch(pattern(c.expect.engineDetail ?? c.expect.form));
    const overrideArgs = [
      ...(overrides.groupName ? [`--group-name=${overrides.groupName}`] : []),
      ...(overrides.groupAlias ? [`--group-alias=${overrides.groupAlias}`] : []),
      ...(overrides.secretDisplayName ? [`--secret-name=${overrides.secretDisplayName}`] : []),
    ];
    const run = await cliRefusal([`--app-name=${name}`, `--sender=${sim.mailboxes.info}`, ...overrideArgs]);
    expect(run.code).toBe(2);
    expect(run.doc.error.code).toBe(c.expect.engine);
  });
});

describe('sender addresses', () => {
  it.each(senders)('form: $id', async (c) => {
    const list = resolveValue<string | string[]>(c.senders);
    const text = Array.isArray(list) ? list.join('\n') : list;
    const p = await probe(() => submitForm('submit-request', { ...formInputs({ appName: 'Hostile Senders Check', senders: [] }), senders: text }));
    expectNoRefusal(p);
    expect(p.result).toMatch(pattern(c.expect.form));
    expect(p.result).not.toContain('Sent for approval');
  });

  it.each(senders)('add sender message: $id', async (c) => {
    const list = resolveValue<string | string[]>(c.senders);
    const text = Array.isArray(list) ? list.join(' ') : list;
    const seen = t.connector.allMessages().length;
    const p = await probe(async () => {
      const res = await t.teams.message(t.personas.requester, `add sender ${text}`);
      expect(res.status).toBe(200);
      return replyTexts(newMessagesSince(seen));
    });
    expectNoRefusal(p);
    expect(p.result).toHaveLength(1);
    const code = c.expect.engine === 'accepted' ? c.expect.message! : c.expect.engine;
    expect(p.result[0]).toContain(code);
    expect(p.result[0]).toMatch(pattern(c.expect.form));
  });

  it.each(senders.filter((c) => c.expect.engine !== 'accepted'))('engine and CLI: $id', async (c) => {
    const list = resolveValue<string | string[]>(c.senders);
    const parsed = (Array.isArray(list) ? list : [list]).flatMap((s) => s.split(/[\s,;]+/)).filter(Boolean);
    const refused = engineRefusal({ appDisplayName: 'Hostile Senders Check', senders: parsed });
    expect(refused?.code).toBe(c.expect.engine);
    expect(refused!.detail).toMatch(pattern(c.expect.form));
    const run = await cliRefusal(['--app-name=Hostile Senders Check', ...parsed.map((s) => `--sender=${s}`)]);
    expect(run.code).toBe(2);
    expect(run.doc.error.code).toBe(c.expect.engine);
  });
});

describe('messages', () => {
  it.each(messages)('$id', async (c) => {
    const who = t.personas[c.as];
    const text = resolveValue<string>(c.text);
    const seen = t.connector.allMessages().length;
    const p = await probe(async () => {
      const res = c.where === 'channel' ? await t.teams.mention(who, workChannel, text) : await t.teams.message(who, text);
      expect(res.status).toBe(200);
      return newMessagesSince(seen);
    });
    expectNoRefusal(p);
    const replies = replyTexts(p.result);
    if (c.expect.noReply) {
      expect(replies).toEqual([]);
      return;
    }
    expect(replies).toHaveLength(1);
    if (c.expect.card) {
      expect(cardOf(p.result[0]), replies[0]).toBeDefined();
      expect(replies[0]).toMatch(pattern(c.expect.card));
    }
    if (c.expect.text) expect(replies[0]).toMatch(pattern(c.expect.text));
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Raw activities
// ---------------------------------------------------------------------------------------------------------------

/** JSON merge patch: null deletes, objects merge, anything else replaces. */
function mergePatch(target: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...target };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else if (v && typeof v === 'object' && !Array.isArray(v) && out[k] && typeof out[k] === 'object' && !Array.isArray(out[k])) {
      out[k] = mergePatch(out[k] as Record<string, unknown>, v as Record<string, unknown>);
    } else out[k] = v;
  }
  return out;
}

function baseActivity(c: ActivityCase, who: Persona): Activity {
  const envelope = { from: who, bot: t.teams.bot, serviceUrl: t.connector.url };
  if (c.base === 'invoke') {
    // A click on the real pending approval card (in the approver's chat), as whoever `as_` names.
    const card = cards['approval:pending']!;
    return buildCardInvoke(envelope, { conversation: conversationOf(t, card), replyToId: card.id, verb: c.verb ?? 'approve', data: { requestId: ids.pending } });
  }
  return buildPersonalMessage(envelope, resolveValue<string>(c.text ?? ''));
}

describe('raw activities', () => {
  it.each(activities)('$id', async (c) => {
    const who = t.personas[c.as_ ?? 'nonAdmin'];
    const seen = t.connector.allMessages().length;
    const p = await probe(async () => {
      if (c.raw !== undefined) return t.teams.post(c.raw);
      let activity = baseActivity(c, who);
      // Teams only delivers activities for conversations it knows: register it before tampering with the envelope.
      t.connector.ensureConversation({ id: String(activity.conversation.id), kind: 'personal', tenantId: who.tenantId });
      if (c.patch) activity = mergePatch(activity, resolveValue<Record<string, unknown>>(c.patch)) as Activity;
      if (c.rawPatch) {
        let json = JSON.stringify(activity);
        for (const [key, raw] of Object.entries(c.rawPatch)) json = `${json.slice(0, -1)},${JSON.stringify(key)}:${resolveValue<string>(raw)}}`;
        return t.teams.post(json, c.headers);
      }
      return c.headers ? t.teams.post(JSON.stringify(activity), c.headers) : t.teams.post(activity);
    });
    if (c.expect.audit === 'refused') expect(p.refusals).toHaveLength(1);
    else expectNoRefusal(p);
    const res = p.result;
    expect(res.status, `${JSON.stringify(res.body)?.slice(0, 300)}\n${t.logLines.slice(-5).join('\n')}`).toBe(c.expect.http);
    if (c.expect.body) expect(JSON.stringify(res.body)).toMatch(pattern(c.expect.body));
    if (c.expect.code) {
      const body = res.body as InvokeBody;
      expect(body.type).toBe('application/vnd.microsoft.error');
      expect((body.value as { code: string }).code).toBe(c.expect.code);
      if (c.expect.message) expect((body.value as { message: string }).message).toMatch(pattern(c.expect.message));
    }
    const replies = replyTexts(newMessagesSince(seen));
    if (c.expect.noReply || c.expect.http >= 400 || c.expect.code) expect(replies).toEqual([]);
    if (c.expect.text) {
      expect(replies).toHaveLength(1);
      expect(replies[0]).toMatch(pattern(c.expect.text));
    }
    if (c.expect.card) {
      expect(replies).toHaveLength(1);
      expect(replies[0]).toMatch(pattern(c.expect.card));
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Card actions
// ---------------------------------------------------------------------------------------------------------------

const TAMPER: Record<string, (a: Activity) => void> = {
  deleteReplyToId: (a) => void delete a.replyToId,
  deleteTrigger: (a) => void delete (a.value as Record<string, unknown>).trigger,
  triggerAutomatic: (a) => void ((a.value as Record<string, unknown>).trigger = 'automatic'),
  channelDataForeignTenant: (a) => void ((a.channelData as { tenant: { id: string } }).tenant.id = FOREIGN_TENANT_ID),
  conversationForeignTenant: (a) => void (a.conversation.tenantId = FOREIGN_TENANT_ID),
  noTenant: (a) => {
    delete (a.channelData as Record<string, unknown>).tenant;
    delete a.conversation.tenantId;
  },
  fromNoAad: (a) => void delete (a.from as Record<string, unknown>).aadObjectId,
};

describe('card actions', () => {
  it.each(invokes)('$group: $id', async (c) => {
    const who = t.personas[c.as];
    const message = cards[c.card];
    expect(message, `no fixture card ${c.card}`).toBeDefined();
    const verb = resolveValue<string>(c.verb);
    const data =
      c.data === '$own'
        ? hasVerb(cardOf(message), verb)
          ? dataOf(cardOf(message), verb)
          : { requestId: ids[c.card.split(':')[1]!] }
        : resolveValue<Record<string, unknown>>(c.data);
    const seen = t.connector.allMessages().length;
    const p = await probe(() =>
      t.teams.invoke(
        who,
        { conversation: conversationOf(t, message!), replyToId: message!.id, verb, data, trigger: 'manual' },
        (a) => {
          for (const name of c.tamper ?? []) TAMPER[name]!(a);
        },
      ),
    );
    const res = p.result;
    expect(res.status, JSON.stringify(res.body)?.slice(0, 300)).toBe(200);
    const body = res.body as InvokeBody;
    const shown = JSON.stringify(body);
    if (c.expect.code) {
      expect(body.type, shown.slice(0, 300)).toBe('application/vnd.microsoft.error');
      const value = body.value as { code: string; message: string };
      expect(value.code).toBe(c.expect.code);
      if (c.expect.statusCode) expect(body.statusCode).toBe(c.expect.statusCode);
      if (c.expect.message) expect(value.message).toMatch(pattern(c.expect.message));
    }
    if (c.expect.card) {
      expect(body.type, shown.slice(0, 300)).toBe('application/vnd.microsoft.card.adaptive');
      expect(textOf(body.value)).toMatch(pattern(c.expect.card));
    }
    if (c.expect.notCard) expect(shown).not.toMatch(pattern(c.expect.notCard));
    if (c.expect.audit === 'refused') {
      expect(p.refusals).toHaveLength(1);
      expect(String(p.refusals[0]!.action)).toMatch(/-refused$/);
    } else {
      expectNoRefusal(p);
    }
    // An invoke is answered on its own HTTP response; nothing is posted or edited in any chat.
    expect(newMessagesSince(seen)).toEqual([]);
  });
});

it('the corpus holds at least 100 cases', () => {
  expect(appNames.length + senders.length + messages.length + activities.length + invokes.length).toBeGreaterThanOrEqual(100);
});
