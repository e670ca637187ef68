/**
 * The audit trail no single admin can bend, over HTTP: moving the audit (or approvals) channel needs a second admin
 * and is announced in the old and the new channel; the audit posts are threaded per request; and the chain in the
 * bot's DATA_DIR fails `opter-mail audit verify` when it is re-hashed, cut short or has a middle entry removed —
 * checked against what the channel shows.
 */
import { rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main as cli } from '../../src/cli';
import type { Simulator } from '../../src/sim';
import { APPROVALS_CHANNEL, AUDIT_CHANNEL, DB_FILE_NAME, legacyAuditEntryHash } from '../../src/store';
import { rehashFrom } from '../../src/store/testing/tamper';
import type { FakeMessage } from '../harness/fake-connector';
import {
  bodyOf,
  cardOf,
  channelFor,
  chooseChannel,
  click,
  errorCodeOf,
  hasVerb,
  startTestBot,
  startTestSimulator,
  submitSetup,
  textOf,
  waitForCard,
  type TestBot,
} from './helpers';

let sim: Simulator;
let t: TestBot;
let dataDir: string;

beforeAll(async () => {
  sim = await startTestSimulator();
  dataDir = mkdtempSync(join(tmpdir(), 'opter-audit-channel-'));
  t = await startTestBot({ sim, dataDir });
});
afterAll(async () => {
  await t?.close();
  await sim?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const auditChannelA = channelFor('', 'audit-a');
const auditChannelB = channelFor('', 'audit-b');

function setUpChannel(slug: string) {
  const c = channelFor(t.personas.requester.tenantId, slug);
  t.teams.addChannel(c, [t.personas.requester, t.personas.approver, t.personas.nonAdmin]);
  return c;
}

/** Audit cards in a channel (top-level and thread replies), as `{ seq, hash prefix, message }`. */
function auditPostsIn(channelId: string): Array<{ seq: number; hash: string; message: FakeMessage }> {
  return t.connector
    .channelMessages(channelId)
    .map((message) => ({ message, m: /#(\d+) · ([0-9a-f]{12})/.exec(textOf(cardOf(message))) }))
    .filter((x) => x.m)
    .map((x) => ({ seq: Number(x.m![1]), hash: x.m![2]!, message: x.message }));
}

function cliRun(args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const io = { out: (s: string) => lines.push(s), err: (s: string) => lines.push(s) };
  return cli(args, io, { ...process.env, DATA_DIR: dataDir, AZURE_CLIENT_ID: '', SECRET_ENCRYPTION_KEY: '' }).then((code) => ({ code, out: lines.join('\n') }));
}

describe('moving the audit channel needs a second admin', () => {
  it('a request alone changes nothing; the requester cannot approve it; another admin can, and the channel is told', async () => {
    const { requester, approver } = t.personas;
    const a = setUpChannel(auditChannelA.channelName);
    await t.teams.mention(requester, a, 'use this channel for audit');
    await waitForCard(t, a.channelId, (c) => textOf(c).includes('Waiting for a second admin'));
    const request = t.bot.store.requests.list().find((r) => (r.kind as string) === 'channel-change')!;
    expect(request).toMatchObject({ status: 'pending', requester: { aadObjectId: requester.aadObjectId } });
    expect(t.bot.store.cards.getConversation(AUDIT_CHANNEL)).toBeNull();
    await t.bot.tick();
    expect(auditPostsIn(a.channelId)).toEqual([]);

    // Neither admin has a 1:1 chat with the bot yet, so the approval card is where the request was made.
    const copy = await waitForCard(t, a.channelId, (c) => textOf(c).includes('Approval needed: Change the audit channel') && hasVerb(c, 'approve'));
    expect(textOf(cardOf(copy))).toContain('None chosen yet');
    expect(errorCodeOf(await click(t, requester, copy, 'approve', {}, { channel: a }))).toBe('E_SELF_APPROVAL');
    expect(t.bot.store.requests.get(request.id)!.status).toBe('pending');
    expect(t.bot.store.cards.getConversation(AUDIT_CHANNEL)).toBeNull();

    expect(textOf(bodyOf(await click(t, approver, copy, 'approve', {}, { channel: a })).value)).toContain(`Approved by ${approver.name}`);
    const told = await waitForCard(t, a.channelId, (c) => textOf(c).includes('This is now the audit channel'));
    expect(textOf(cardOf(told))).toContain(`${requester.name} asked and ${approver.name} approved (request ${request.id})`);
    expect(t.bot.store.cards.getConversation(AUDIT_CHANNEL)?.conversationId).toBe(a.channelId);
    const change = t.bot.store.audit.listForRequest(request.id).find((e) => e.action === 'config.audit-channel')!;
    expect(change).toMatchObject({ actor: { kind: 'user', aadObjectId: approver.aadObjectId }, objects: { channelId: a.channelId } });
    // The request's entries (asked, refused self-approval, approved, changed) reach the new channel, as one thread.
    await t.connector.waitFor(() => t.bot.store.audit.list().every((e) => auditPostsIn(a.channelId).some((p) => p.seq === e.seq)), 10_000);
    const threads = new Set(t.bot.store.audit.listForRequest(request.id).map((e) => t.connector.threadRootOf(auditPostsIn(a.channelId).find((p) => p.seq === e.seq)!.message)));
    expect(threads.size).toBe(1);
  });

  it('moving it again is announced in the old and the new channel; from then on entries go only to the new one', async () => {
    const { requester, approver } = t.personas;
    const a = channelFor(requester.tenantId, auditChannelA.channelName);
    const b = setUpChannel(auditChannelB.channelName);
    await chooseChannel(t, 'audit', b, { by: requester, approver });
    const moved = await waitForCard(t, a.channelId, (c) => textOf(c).includes('The audit channel moved'));
    expect(textOf(cardOf(moved))).toContain(`now go to #${b.channelName}`);
    expect(textOf(cardOf(moved))).toContain(`${requester.name} asked and ${approver.name} approved`);
    const told = await waitForCard(t, b.channelId, (c) => textOf(c).includes('This is now the audit channel'));
    expect(textOf(cardOf(told))).toContain(`instead of #${a.channelName}`);
    const change = t.bot.store.audit.list().filter((e) => e.action === 'config.audit-channel').at(-1)!;
    expect(change.objects).toEqual({ channelId: b.channelId, previousChannelId: a.channelId });
    expect(textOf(cardOf(moved))).toContain(`Entries up to #${change.seq - 1} were posted here`);

    const before = auditPostsIn(a.channelId).length;
    const { requestId } = await submitSetup(t, { appName: 'Opter After Move', senders: [sim.mailboxes.info] });
    const created = t.bot.store.audit.listForRequest(requestId)[0]!;
    await t.connector.waitFor(() => auditPostsIn(b.channelId).some((p) => p.seq === created.seq));
    await t.connector.waitFor(() => auditPostsIn(b.channelId).some((p) => p.seq === change.seq));
    await t.bot.tick();
    expect(auditPostsIn(a.channelId)).toHaveLength(before);
  });

  it('the approvals channel too: its first choice needs a second admin, a move is announced in both', async () => {
    const { requester, approver } = t.personas;
    const c = setUpChannel('approvals-c');
    const d = setUpChannel('approvals-d');
    await chooseChannel(t, 'approvals', c, { by: approver, approver: requester });
    expect(t.bot.store.cards.getConversation(APPROVALS_CHANNEL)?.conversationId).toBe(c.channelId);
    await chooseChannel(t, 'approvals', d);
    await waitForCard(t, c.channelId, (card) => textOf(card).includes('The approvals channel moved') && textOf(card).includes(`#${d.channelName}`));
    expect(t.bot.store.cards.getConversation(APPROVALS_CHANNEL)?.conversationId).toBe(d.channelId);
  });

  it('a non-admin cannot even ask', async () => {
    const e = setUpChannel('audit-e');
    const before = t.bot.store.requests.list().length;
    await t.teams.mention(t.personas.nonAdmin, e, 'use this channel for audit');
    await waitForCard(t, e.channelId, (c) => textOf(c).includes('E_NOT_ADMIN'));
    expect(t.bot.store.requests.list()).toHaveLength(before);
  });
});

describe('opter-mail audit verify on the bot’s DATA_DIR, against the channel', () => {
  const raw = () => new Database(join(dataDir, DB_FILE_NAME));

  it('verifies the chain the bot wrote, up to the newest entry the channel shows', async () => {
    await t.bot.tick();
    await t.connector.waitFor(() => t.bot.store.audit.list().every((e) => auditPostsIn(auditChannelB.channelId).concat(auditPostsIn(auditChannelA.channelId)).some((p) => p.seq === e.seq)), 10_000);
    await t.bot.close();
    const newest = auditPostsIn(auditChannelB.channelId).sort((x, y) => y.seq - x.seq)[0]!;
    const ok = await cliRun(['audit', 'verify', '--last-posted-seq', String(newest.seq), '--last-posted-hash', newest.hash]);
    expect(ok.out).toMatch(new RegExp(`audit chain OK: ${newest.seq} entries, head seq ${newest.seq}, hash ${newest.hash}`));
    expect(ok.code).toBe(0);
  });

  it('fails on a dropped tail: by the recorded deliveries, and by the channel’s number once those are gone too', async () => {
    const newest = auditPostsIn(auditChannelB.channelId).sort((x, y) => y.seq - x.seq)[0]!;
    const db = raw();
    db.exec('DROP TRIGGER audit_log_no_delete');
    db.prepare('DELETE FROM audit_log WHERE seq > ?').run(newest.seq - 2);
    db.close();
    const recorded = await cliRun(['audit', 'verify']);
    expect(recorded.out).toContain(`audit chain BROKEN at seq ${newest.seq - 1}: tail-missing`);
    expect(recorded.out).toContain('E_AUDIT_CHAIN_BROKEN');
    expect(recorded.code).toBe(5);

    const db2 = raw();
    db2.prepare('DELETE FROM audit_deliveries WHERE seq > ?').run(newest.seq - 2);
    db2.close();
    expect((await cliRun(['audit', 'verify'])).code).toBe(0);
    const channel = await cliRun(['audit', 'verify', '--last-posted-seq', String(newest.seq), '--last-posted-hash', newest.hash]);
    expect(channel.out).toContain(`audit chain BROKEN at seq ${newest.seq - 1}: tail-missing`);
    expect(channel.code).toBe(5);
  });

  it('fails on a deleted middle entry', async () => {
    const db = raw();
    const middle = Math.floor((db.prepare('SELECT MAX(seq) AS n FROM audit_log').get() as { n: number }).n / 2);
    const copy = db.prepare('SELECT * FROM audit_log WHERE seq = ?').get(middle) as Record<string, unknown>;
    db.prepare('DELETE FROM audit_log WHERE seq = ?').run(middle);
    db.close();
    const r = await cliRun(['audit', 'verify']);
    expect(r.out).toContain(`audit chain BROKEN at seq ${middle}: seq-gap`);
    expect(r.code).toBe(5);
    const restore = raw();
    restore.prepare(
      `INSERT INTO audit_log (seq, at, actor, action, request_id, objects, result, detail, prev_hash, hash, chain_version)
       VALUES (@seq, @at, @actor, @action, @request_id, @objects, @result, @detail, @prev_hash, @hash, @chain_version)`,
    ).run(copy);
    restore.close();
    expect((await cliRun(['audit', 'verify'])).code).toBe(0);
  });

  it('fails on a chain re-hashed with plain SHA-256 after an edit (what write access to the file allows)', async () => {
    const db = raw();
    db.exec('DROP TRIGGER audit_log_no_update');
    rehashFrom(db, 1, (e) => ({ ...e, result: e.action === 'request.approved' ? 'failure' : e.result }), legacyAuditEntryHash);
    db.close();
    const r = await cliRun(['audit', 'verify', '--json']);
    expect(JSON.parse(r.out)).toMatchObject({ ok: false, brokenSeq: 1, reason: 'hash-mismatch', error: { code: 'E_AUDIT_CHAIN_BROKEN' } });
    expect(r.code).toBe(5);
  });
});
