import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { OpterError } from '../core/errors';
import { auditEntryHash, deriveAuditChainKey, DB_FILE_NAME, GENESIS_HASH, legacyAuditEntryHash, migrate, MIGRATIONS, openStore, type AuditInput, type Store } from './index';
import { manualClock, tempDataDir, type ManualClock } from './testing/helpers';
import { race } from './testing/race';
import { rehashFrom } from './testing/tamper';

const ALICE = { kind: 'user' as const, aadObjectId: 'aad-alice', name: 'Alice Admin' };
/** The race children open the store with this key too. */
const KEY = Buffer.alloc(32);
const CHAIN_KEY = deriveAuditChainKey(KEY);

function entry(i: number): AuditInput {
  return {
    actor: ALICE,
    action: i % 2 ? 'step.succeeded' : 'request.approved',
    requestId: `req-${i}`,
    objects: { appId: `app-${i}`, groupSmtp: `g${i}@contoso.se` },
    result: 'success',
    detail: `entry ${i}`,
  };
}

describe('AuditLog', () => {
  let clock: ManualClock;
  let store: Store;
  let data: ReturnType<typeof tempDataDir>;
  const dbPath = () => join(data.dir, DB_FILE_NAME);

  beforeEach(() => {
    clock = manualClock('2025-03-01T08:00:00.000Z');
    data = tempDataDir('audit');
    store = openStore({ dataDir: data.dir, encryptionKey: KEY, clock });
  });
  afterEach(() => {
    store.close();
    data.cleanup();
  });

  it('appends entries with consecutive seq, the clock time, and each hash chained to the previous one', () => {
    const first = store.audit.append(entry(1));
    clock.advance(1000);
    const second = store.audit.append(entry(2));
    expect(first).toMatchObject({ seq: 1, at: '2025-03-01T08:00:00.000Z', prevHash: GENESIS_HASH, actor: ALICE, requestId: 'req-1' });
    expect(second).toMatchObject({ seq: 2, at: '2025-03-01T08:00:01.000Z', prevHash: first.hash });
    expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(auditEntryHash(first, CHAIN_KEY)).toBe(first.hash);
    expect(first.chainVersion).toBe(2);
    expect(store.audit.get(2)).toEqual(second);
    expect(store.audit.head()).toEqual(second);
    expect(store.audit.verify()).toEqual({ ok: true, count: 2, headSeq: 2, headHash: second.hash, legacyCount: 0, postedSeq: null });
  });

  it('the hash covers every field (changing any one changes the hash)', () => {
    const e = store.audit.append(entry(1));
    const variants = [
      { ...e, seq: 2 },
      { ...e, at: '2025-03-01T08:00:00.001Z' },
      { ...e, actor: { ...ALICE, name: 'Mallory' } },
      { ...e, action: 'request.rejected' },
      { ...e, requestId: 'req-2' },
      { ...e, objects: { ...e.objects, appId: 'other' } },
      { ...e, result: 'failure' },
      { ...e, detail: 'entry 1 ' },
      { ...e, prevHash: 'f'.repeat(64) },
    ];
    for (const v of variants) expect(auditEntryHash(v, CHAIN_KEY)).not.toBe(e.hash);
  });

  it('the hash is keyed: without the key (plain SHA-256, or another key) nobody can compute it', () => {
    const e = store.audit.append(entry(1));
    expect(legacyAuditEntryHash(e)).not.toBe(e.hash);
    expect(auditEntryHash(e, deriveAuditChainKey(randomBytes(32)))).not.toBe(e.hash);
    // The chain key is derived with its own label: it is not the secret-sealing key itself.
    expect(CHAIN_KEY.equals(KEY)).toBe(false);
    expect(auditEntryHash(e, KEY)).not.toBe(e.hash);
    // The key is nowhere in the database.
    const raw = new Database(dbPath(), { readonly: true });
    const dump = JSON.stringify(raw.prepare('SELECT * FROM kv').all()) + JSON.stringify(raw.prepare('SELECT * FROM audit_log').all());
    raw.close();
    expect(dump).not.toContain(CHAIN_KEY.toString('hex'));
    expect(dump).not.toContain(CHAIN_KEY.toString('base64'));
  });

  it('a store opened without the key can neither append nor verify', () => {
    store.audit.append(entry(1));
    store.close();
    store = openStore({ dataDir: data.dir, clock });
    expect(store.audit.keyed).toBe(false);
    expect(() => store.audit.append(entry(2))).toThrow(OpterError);
    expect(() => store.audit.append(entry(2))).toThrow(/E_AUDIT_KEY_MISSING/);
    expect(store.audit.verify()).toMatchObject({ ok: false, reason: 'no-key' });
  });

  it('a store opened with a different key reports the chain as re-hashed at its first entry', () => {
    store.audit.append(entry(1));
    store.close();
    store = openStore({ dataDir: data.dir, encryptionKey: randomBytes(32), clock });
    expect(store.audit.verify()).toEqual({ ok: false, count: 0, brokenSeq: 1, reason: 'hash-mismatch' });
  });

  it('is append-only for the application: UPDATE and DELETE are refused by triggers', () => {
    store.audit.append(entry(1));
    const raw = new Database(dbPath());
    expect(() => raw.prepare(`UPDATE audit_log SET result = 'failure' WHERE seq = 1`).run()).toThrow(/append-only/);
    expect(() => raw.prepare('DELETE FROM audit_log WHERE seq = 1').run()).toThrow(/append-only/);
    raw.close();
    expect(store.audit.verify().ok).toBe(true);
  });

  it('detects a row edited with raw SQL at exactly that seq', () => {
    for (let i = 1; i <= 10; i++) store.audit.append(entry(i));
    const raw = new Database(dbPath());
    raw.exec('DROP TRIGGER audit_log_no_update'); // what an attacker with the file can do
    raw.prepare(`UPDATE audit_log SET detail = 'nothing to see' WHERE seq = 6`).run();
    raw.close();
    expect(store.audit.verify()).toEqual({ ok: false, count: 5, brokenSeq: 6, reason: 'hash-mismatch' });
  });

  it('detects an edit whose hash was recomputed with the key: the next entry no longer chains to it', () => {
    for (let i = 1; i <= 5; i++) store.audit.append(entry(i));
    const forged = { ...store.audit.get(3)!, result: 'failure' };
    const raw = new Database(dbPath());
    raw.exec('DROP TRIGGER audit_log_no_update');
    raw.prepare('UPDATE audit_log SET result = ?, hash = ? WHERE seq = 3').run(forged.result, auditEntryHash(forged, CHAIN_KEY));
    raw.close();
    expect(store.audit.verify()).toMatchObject({ ok: false, count: 3, brokenSeq: 4, reason: 'prev-hash-mismatch' });
  });

  it('detects a chain re-hashed from the edit on with plain SHA-256 (what the file alone allows)', () => {
    for (let i = 1; i <= 5; i++) store.audit.append(entry(i));
    const raw = new Database(dbPath());
    raw.exec('DROP TRIGGER audit_log_no_update');
    rehashFrom(raw, 3, (e) => ({ ...e, result: e.seq === 3 ? 'failure' : e.result }), legacyAuditEntryHash);
    raw.close();
    expect(store.audit.verify()).toMatchObject({ ok: false, count: 2, brokenSeq: 3, reason: 'hash-mismatch' });
  });

  it('detects the whole chain rewritten as if it were from before keying (chain_version 1, SHA-256)', () => {
    for (let i = 1; i <= 5; i++) store.audit.append(entry(i));
    const raw = new Database(dbPath());
    raw.exec('DROP TRIGGER audit_log_no_update');
    raw.prepare('UPDATE audit_log SET chain_version = 1').run();
    rehashFrom(raw, 1, (e) => e, legacyAuditEntryHash);
    raw.close();
    // No keyed anchor closes these "legacy" entries, and none is due: a downgrade, not an old store.
    expect(store.audit.verify()).toMatchObject({ ok: false, brokenSeq: 1, reason: 'legacy-unanchored' });
  });

  it('detects a deleted middle entry even when the later ones were renumbered and re-hashed without the key', () => {
    for (let i = 1; i <= 5; i++) store.audit.append(entry(i));
    const raw = new Database(dbPath());
    raw.exec('DROP TRIGGER audit_log_no_update');
    raw.exec('DROP TRIGGER audit_log_no_delete');
    raw.prepare('DELETE FROM audit_log WHERE seq = 3').run();
    raw.prepare('UPDATE audit_log SET seq = seq - 1 WHERE seq > 3').run();
    rehashFrom(raw, 3, (e) => e, legacyAuditEntryHash);
    raw.close();
    expect(store.audit.verify()).toMatchObject({ ok: false, brokenSeq: 3, reason: 'hash-mismatch' });
  });

  it('detects dropped newest entries against the recorded deliveries and against the seq the channel shows', () => {
    for (let i = 1; i <= 5; i++) store.audit.append(entry(i));
    for (const e of store.audit.list()) {
      store.audit.recordDelivery({ seq: e.seq, conversationId: '19:audit@thread.tacv2', activityId: `m${e.seq}`, threadRootSeq: null, threadActivityId: `m${e.seq}` });
    }
    expect(store.audit.verify({ lastPostedSeq: 5, lastPostedHash: store.audit.get(5)!.hash.slice(0, 12) })).toMatchObject({ ok: true, postedSeq: 5 });
    const raw = new Database(dbPath());
    raw.exec('DROP TRIGGER audit_log_no_delete');
    raw.prepare('DELETE FROM audit_log WHERE seq >= 4').run();
    // The chain that is left is whole; only the deliveries show it once went further …
    expect(store.audit.verify()).toEqual({ ok: false, count: 3, brokenSeq: 4, reason: 'tail-missing' });
    // … and a careful tamperer removes those too: then only the channel's number shows it.
    raw.prepare('DELETE FROM audit_deliveries WHERE seq >= 4').run();
    raw.close();
    expect(store.audit.verify()).toMatchObject({ ok: true, headSeq: 3 });
    expect(store.audit.verify({ lastPostedSeq: 5 })).toEqual({ ok: false, count: 3, brokenSeq: 4, reason: 'tail-missing' });
  });

  it('checks the hash prefix the channel shows for its last post', () => {
    for (let i = 1; i <= 3; i++) store.audit.append(entry(i));
    const shown = store.audit.get(3)!.hash.slice(0, 12);
    expect(store.audit.verify({ lastPostedSeq: 3, lastPostedHash: shown.toUpperCase() })).toMatchObject({ ok: true });
    expect(store.audit.verify({ lastPostedSeq: 3, lastPostedHash: 'abcdef012345' })).toMatchObject({ ok: false, brokenSeq: 3, reason: 'posted-hash-mismatch' });
    expect(store.audit.verify({ lastPostedSeq: 2, lastPostedHash: shown })).toMatchObject({ ok: false, brokenSeq: 2, reason: 'posted-hash-mismatch' });
  });

  it('detects a deleted entry as a gap at its seq', () => {
    for (let i = 1; i <= 5; i++) store.audit.append(entry(i));
    const raw = new Database(dbPath());
    raw.exec('DROP TRIGGER audit_log_no_delete');
    raw.prepare('DELETE FROM audit_log WHERE seq = 2').run();
    raw.close();
    expect(store.audit.verify()).toEqual({ ok: false, count: 1, brokenSeq: 2, reason: 'seq-gap' });
  });

  it('groups entries into threads: the first entry of a request (or, without one, of a job) is the root', () => {
    const join = (input: AuditInput) => store.audit.joinThread(store.audit.append(input));
    expect(join({ ...entry(1), requestId: 'r1' })).toBe(1);
    expect(join({ ...entry(2), requestId: null, objects: {} })).toBeNull();
    expect(join({ ...entry(3), requestId: 'r1' })).toBe(1);
    expect(join({ ...entry(4), requestId: null, objects: { jobId: 'j1' } })).toBe(4);
    expect(join({ ...entry(5), requestId: null, objects: { jobId: 'j1' } })).toBe(4);
    // A request's entries stay in the request's thread even when they name a job.
    expect(join({ ...entry(6), requestId: 'r1', objects: { jobId: 'j1' } })).toBe(1);
    store.audit.recordDelivery({ seq: 1, conversationId: '19:a@thread.tacv2', activityId: 'root-1', threadRootSeq: 1, threadActivityId: 'root-1' });
    store.audit.recordDelivery({ seq: 3, conversationId: '19:a@thread.tacv2', activityId: 'reply-3', threadRootSeq: 1, threadActivityId: 'root-1' });
    expect(store.audit.threadPost(1, '19:a@thread.tacv2')).toBe('root-1');
    expect(store.audit.threadPost(1, '19:b@thread.tacv2')).toBeNull();
    expect(store.audit.lastDeliveredSeq()).toBe(3);
  });

  it('strips secret-shaped values from detail and objects as a last line of defence', () => {
    const secret = 'xAb1Q~abcdefghijklmnopqrstuvwxyz01234567'; // Entra shape: 3 chars, digit, Q~, 34 chars
    const e = store.audit.append({ actor: ALICE, action: 'secret.revealed', objects: { keyId: 'k-1', note: `leak ${secret}` }, result: 'success', detail: `oops ${secret}` });
    expect(JSON.stringify(e)).not.toContain(secret);
    expect(e.detail).toBe('oops [REDACTED]');
    expect(e.objects).toEqual({ keyId: 'k-1', note: 'leak [REDACTED]' });
    expect(store.audit.verify().ok).toBe(true);
  });

  it('lists pages and per-request history', () => {
    for (let i = 1; i <= 5; i++) store.audit.append({ ...entry(i), requestId: i % 2 ? 'odd' : 'even' });
    expect(store.audit.list({ afterSeq: 2, limit: 2 }).map((e) => e.seq)).toEqual([3, 4]);
    expect(store.audit.listForRequest('even').map((e) => e.seq)).toEqual([2, 4]);
    expect(store.audit.list().length).toBe(5);
  });

  it('an audit entry and its outbox post commit together or not at all (store.transaction)', () => {
    store.transaction(() => {
      const e = store.audit.append(entry(1));
      store.outbox.enqueue({ kind: 'audit', target: { conversation: 'audit-channel' }, payload: { seq: e.seq }, dedupeKey: `audit:${e.seq}` });
    });
    expect(() =>
      store.transaction(() => {
        const e = store.audit.append(entry(2));
        store.outbox.enqueue({ kind: 'audit', target: { conversation: 'audit-channel' }, payload: { seq: e.seq }, dedupeKey: `audit:${e.seq}` });
        throw new Error('Teams card builder failed');
      }),
    ).toThrow('Teams card builder failed');
    expect(store.audit.head()?.seq).toBe(1);
    expect(store.outbox.list().map((i) => i.dedupeKey)).toEqual(['audit:1']);
    // The chain continues cleanly after the rollback.
    expect(store.audit.append(entry(3)).seq).toBe(2);
    expect(store.audit.verify()).toMatchObject({ ok: true, count: 2 });
  });

  it('refuses an async transaction function (it would commit before the awaits)', () => {
    expect(() => store.transaction((async () => store.audit.append(entry(1))) as never)).toThrow(/promise/i);
  });

  it('two processes appending at once produce one unbroken chain with no lost or duplicated seq', async () => {
    store.audit.append(entry(0));
    const outputs = await race(2, { dataDir: data.dir, keyHex: KEY.toString('hex'), mode: 'append', ids: ['race'], repeats: 150, now: clock.now().toISOString() });
    expect(outputs.flatMap((o) => o.errors)).toEqual([]);
    const seqs = outputs.flatMap((o) => o.results.map((r) => r.seq as number)).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: 300 }, (_, i) => i + 2));
    expect(store.audit.verify()).toMatchObject({ ok: true, count: 301, headSeq: 301 });
  }, 60_000);
});

describe('a chain from before keying', () => {
  let data: ReturnType<typeof tempDataDir>;
  let clock: ManualClock;
  beforeEach(() => {
    clock = manualClock('2025-03-01T08:00:00.000Z');
    data = tempDataDir('audit-legacy');
  });
  afterEach(() => data.cleanup());

  /** A store as the previous version left it: schema 2, three SHA-256-chained entries. */
  function previousVersionStore(): void {
    const db = new Database(join(data.dir, DB_FILE_NAME));
    migrate(db, MIGRATIONS.filter((m) => m.version <= 2));
    let prevHash = GENESIS_HASH;
    for (let seq = 1; seq <= 3; seq++) {
      const fields = { seq, at: `2025-01-0${seq}T00:00:00.000Z`, actor: ALICE, action: 'request.created', requestId: `old-${seq}`, objects: {}, result: 'success', detail: null, prevHash };
      const hash = legacyAuditEntryHash(fields);
      db.prepare(
        `INSERT INTO audit_log (seq, at, actor, action, request_id, objects, result, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, '{}', ?, NULL, ?, ?)`,
      ).run(seq, fields.at, JSON.stringify(ALICE), fields.action, fields.requestId, fields.result, prevHash, hash);
      prevHash = hash;
    }
    db.close();
  }

  it('is verified as legacy up to one keyed anchor entry, written and queued for the channel at the first keyed open', () => {
    previousVersionStore();
    // Opened without the key (e.g. by an old tool): nothing is anchored yet, and that is not a break.
    const unkeyed = openStore({ dataDir: data.dir, clock });
    expect(unkeyed.audit.head()!.seq).toBe(3);
    unkeyed.close();

    const store = openStore({ dataDir: data.dir, encryptionKey: KEY, clock });
    try {
      const anchor = store.audit.get(4)!;
      expect(anchor).toMatchObject({ chainVersion: 2, action: 'audit.chain-keyed', objects: { legacyHeadSeq: '3', legacyHeadHash: store.audit.get(3)!.hash } });
      expect(store.outbox.getByDedupeKey('audit:4')).toMatchObject({ kind: 'audit', status: 'pending' });
      store.audit.append(entry(5));
      expect(store.audit.verify()).toMatchObject({ ok: true, count: 5, legacyCount: 3, headSeq: 5 });
    } finally {
      store.close();
    }
    // Only once: the next open adds nothing.
    const again = openStore({ dataDir: data.dir, encryptionKey: KEY, clock });
    try {
      expect(again.audit.head()!.seq).toBe(5);
    } finally {
      again.close();
    }
  });

  it('still detects an edited legacy entry, and an unkeyed entry slipped in after the keyed ones', () => {
    previousVersionStore();
    const store = openStore({ dataDir: data.dir, encryptionKey: KEY, clock });
    try {
      store.audit.append(entry(5));
      const raw = new Database(join(data.dir, DB_FILE_NAME));
      raw.exec('DROP TRIGGER audit_log_no_update');
      raw.prepare(`UPDATE audit_log SET result = 'failure' WHERE seq = 2`).run();
      expect(store.audit.verify()).toMatchObject({ ok: false, brokenSeq: 2, reason: 'hash-mismatch' });
      raw.prepare(`UPDATE audit_log SET result = 'success' WHERE seq = 2`).run();
      raw.prepare('UPDATE audit_log SET chain_version = 1 WHERE seq = 5').run();
      rehashFrom(raw, 5, (e) => ({ ...e, chainVersion: 1 }), legacyAuditEntryHash);
      raw.close();
      expect(store.audit.verify()).toMatchObject({ ok: false, brokenSeq: 5, reason: 'legacy-after-keyed' });
    } finally {
      store.close();
    }
  });
});
