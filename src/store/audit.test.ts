import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { auditEntryHash, DB_FILE_NAME, GENESIS_HASH, openStore, type AuditInput, type Store } from './index';
import { manualClock, tempDataDir, type ManualClock } from './testing/helpers';
import { race } from './testing/race';

const ALICE = { kind: 'user' as const, aadObjectId: 'aad-alice', name: 'Alice Admin' };

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
    store = openStore({ dataDir: data.dir, clock });
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
    expect(auditEntryHash(first)).toBe(first.hash);
    expect(store.audit.get(2)).toEqual(second);
    expect(store.audit.head()).toEqual(second);
    expect(store.audit.verify()).toEqual({ ok: true, count: 2, headSeq: 2, headHash: second.hash });
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
    for (const v of variants) expect(auditEntryHash(v)).not.toBe(e.hash);
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

  it('detects an edit whose hash was recomputed: the next entry no longer chains to it', () => {
    for (let i = 1; i <= 5; i++) store.audit.append(entry(i));
    const forged = { ...store.audit.get(3)!, result: 'failure' };
    const raw = new Database(dbPath());
    raw.exec('DROP TRIGGER audit_log_no_update');
    raw.prepare('UPDATE audit_log SET result = ?, hash = ? WHERE seq = 3').run(forged.result, auditEntryHash(forged));
    raw.close();
    expect(store.audit.verify()).toEqual({ ok: false, count: 3, brokenSeq: 4, reason: 'prev-hash-mismatch' });
  });

  it('detects a deleted entry as a gap at its seq', () => {
    for (let i = 1; i <= 5; i++) store.audit.append(entry(i));
    const raw = new Database(dbPath());
    raw.exec('DROP TRIGGER audit_log_no_delete');
    raw.prepare('DELETE FROM audit_log WHERE seq = 2').run();
    raw.close();
    expect(store.audit.verify()).toEqual({ ok: false, count: 1, brokenSeq: 2, reason: 'seq-gap' });
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
    const outputs = await race(2, { dataDir: data.dir, keyHex: '00'.repeat(32), mode: 'append', ids: ['race'], repeats: 150, now: clock.now().toISOString() });
    expect(outputs.flatMap((o) => o.errors)).toEqual([]);
    const seqs = outputs.flatMap((o) => o.results.map((r) => r.seq as number)).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: 300 }, (_, i) => i + 2));
    expect(store.audit.verify()).toMatchObject({ ok: true, count: 301, headSeq: 301 });
  }, 60_000);
});
