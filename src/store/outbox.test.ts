import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from './index';
import { manualClock, tempDataDir, type ManualClock } from './testing/helpers';
import { race } from './testing/race';

const AUDIT_TARGET = { conversation: 'audit-channel' };

describe('Outbox', () => {
  let clock: ManualClock;
  let store: Store;
  beforeEach(() => {
    clock = manualClock('2025-03-01T08:00:00.000Z');
    store = openStore({ memory: true, clock });
  });
  afterEach(() => store.close());

  it('enqueue with the same dedupeKey twice stores one item', () => {
    const a = store.outbox.enqueue({ kind: 'audit', target: AUDIT_TARGET, payload: { seq: 1 }, dedupeKey: 'audit:1' });
    const b = store.outbox.enqueue({ kind: 'audit', target: AUDIT_TARGET, payload: { seq: 999 }, dedupeKey: 'audit:1' });
    expect(a.created).toBe(true);
    expect(b).toEqual({ created: false, item: a.item });
    expect(a.item).toMatchObject({ kind: 'audit', target: AUDIT_TARGET, payload: { seq: 1 }, status: 'pending', attempts: 0, nextAttemptAt: '2025-03-01T08:00:00.000Z' });
    expect(store.outbox.list()).toHaveLength(1);
    // Without a key every enqueue is its own item.
    store.outbox.enqueue({ kind: 'message', target: {}, payload: 'hi' });
    store.outbox.enqueue({ kind: 'message', target: {}, payload: 'hi' });
    expect(store.outbox.list({ kind: 'message' })).toHaveLength(2);
  });

  it('releaseOtherLeases makes a gone worker\'s leased items due at once, leaving its own and other states alone', () => {
    for (let i = 1; i <= 3; i++) store.outbox.enqueue({ kind: 'audit', target: AUDIT_TARGET, payload: { i }, dedupeKey: `r${i}` });
    const [gone] = store.outbox.claimDue(clock.now(), 1, { owner: 'worker-of-a-killed-process' });
    const [mine] = store.outbox.claimDue(clock.now(), 1);
    const [sent] = store.outbox.claimDue(clock.now(), 1);
    store.outbox.markSent(sent!.id);
    expect(store.outbox.claimDue(clock.now())).toEqual([]);

    expect(store.outbox.releaseOtherLeases()).toBe(1);
    expect(store.outbox.get(gone!.id)).toMatchObject({ status: 'pending', leaseOwner: null, attempts: 1, nextAttemptAt: clock.now().toISOString() });
    expect(store.outbox.get(mine!.id)).toMatchObject({ status: 'leased', leaseOwner: store.outbox.workerId });
    expect(store.outbox.get(sent!.id)!.status).toBe('sent');
    expect(store.outbox.claimDue(clock.now()).map((i) => i.id)).toEqual([gone!.id]);
  });

  it('dedupe holds after the item was sent (a replayed audit event is not posted twice)', () => {
    const { item } = store.outbox.enqueue({ kind: 'audit', target: AUDIT_TARGET, payload: {}, dedupeKey: 'audit:7' });
    store.outbox.claimDue();
    store.outbox.markSent(item.id);
    expect(store.outbox.enqueue({ kind: 'audit', target: AUDIT_TARGET, payload: {}, dedupeKey: 'audit:7' }).created).toBe(false);
    expect(store.outbox.counts()).toEqual({ pending: 0, leased: 0, sent: 1, dead: 0 });
  });

  it('claimDue leases due items oldest first, counts the attempt, and a second claimer gets none of them', () => {
    for (let i = 1; i <= 3; i++) {
      store.outbox.enqueue({ kind: 'audit', target: AUDIT_TARGET, payload: { i }, dedupeKey: `k${i}` });
      clock.advance(1);
    }
    store.outbox.enqueue({ kind: 'audit', target: AUDIT_TARGET, payload: { later: true }, dedupeKey: 'later', notBefore: new Date('2025-03-01T09:00:00Z') });
    const mine = store.outbox.claimDue(clock.now(), 2, { owner: 'w1', leaseMs: 30_000 });
    expect(mine.map((i) => i.dedupeKey)).toEqual(['k1', 'k2']);
    expect(mine[0]).toMatchObject({ status: 'leased', attempts: 1, leaseOwner: 'w1', leaseExpiresAt: '2025-03-01T08:00:30.003Z' });
    const theirs = store.outbox.claimDue(clock.now(), 10, { owner: 'w2' });
    expect(theirs.map((i) => i.dedupeKey)).toEqual(['k3']);
    expect(store.outbox.claimDue(clock.now(), 10, { owner: 'w3' })).toEqual([]);
    expect(store.outbox.nextDueAt()?.toISOString()).toBe('2025-03-01T08:00:30.003Z');
  });

  it('markFailed reschedules (only by the lease holder); the item comes back when due; maxAttempts makes it dead', () => {
    const { item } = store.outbox.enqueue({ kind: 'card-update', target: { activityId: 'a1' }, payload: {}, dedupeKey: 'u1' });
    store.outbox.claimDue(clock.now(), 1, { owner: 'w1' });
    expect(store.outbox.markFailed(item.id, '503 from connector', new Date('2025-03-01T08:01:00Z'), { owner: 'intruder' })).toBe(false);
    expect(store.outbox.markFailed(item.id, '503 from connector', new Date('2025-03-01T08:01:00Z'), { owner: 'w1' })).toBe(true);
    expect(store.outbox.get(item.id)).toMatchObject({ status: 'pending', attempts: 1, lastError: '503 from connector', leaseOwner: null });
    expect(store.outbox.claimDue(new Date('2025-03-01T08:00:59Z'), 5, { owner: 'w1' })).toEqual([]);
    const again = store.outbox.claimDue(new Date('2025-03-01T08:01:00Z'), 5, { owner: 'w1' });
    expect(again.map((i) => i.attempts)).toEqual([2]);
    expect(store.outbox.markFailed(item.id, '503 again', new Date('2025-03-01T08:02:00Z'), { owner: 'w1', maxAttempts: 2 })).toBe(true);
    expect(store.outbox.get(item.id)).toMatchObject({ status: 'dead', attempts: 2, lastError: '503 again' });
    expect(store.outbox.claimDue(new Date('2025-03-02T00:00:00Z'), 5)).toEqual([]);
    expect(store.outbox.revive(item.id, new Date('2025-03-02T00:00:00Z'))).toBe(true);
    expect(store.outbox.claimDue(new Date('2025-03-02T00:00:00Z'), 5).map((i) => i.id)).toEqual([item.id]);
  });

  it('an expired lease (worker crashed mid-send) makes the item due again for another worker', () => {
    const { item } = store.outbox.enqueue({ kind: 'audit', target: AUDIT_TARGET, payload: {}, dedupeKey: 'x' });
    store.outbox.claimDue(clock.now(), 1, { owner: 'crashed', leaseMs: 60_000 });
    clock.advance(59_999);
    expect(store.outbox.claimDue(clock.now(), 1, { owner: 'w2' })).toEqual([]);
    clock.advance(1);
    const taken = store.outbox.claimDue(clock.now(), 1, { owner: 'w2' });
    expect(taken).toMatchObject([{ id: item.id, leaseOwner: 'w2', attempts: 2 }]);
    // The crashed worker can no longer reschedule it, but a late "sent" is still recorded (the post happened).
    expect(store.outbox.markFailed(item.id, 'late', clock.now(), { owner: 'crashed' })).toBe(false);
    expect(store.outbox.markSent(item.id)).toBe(true);
    expect(store.outbox.markSent(item.id)).toBe(false);
  });

  it('purgeSent removes old delivered items only', () => {
    const a = store.outbox.enqueue({ kind: 'audit', target: {}, payload: {}, dedupeKey: 'a' }).item;
    store.outbox.enqueue({ kind: 'audit', target: {}, payload: {}, dedupeKey: 'b' });
    store.outbox.claimDue(clock.now(), 1);
    store.outbox.markSent(a.id);
    expect(store.outbox.purgeSent(new Date('2025-03-01T08:00:00.000Z'))).toBe(0);
    expect(store.outbox.purgeSent(new Date('2025-03-01T08:00:00.001Z'))).toBe(1);
    expect(store.outbox.list().map((i) => i.dedupeKey)).toEqual(['b']);
  });
});

describe('outbox durability and concurrency', () => {
  it('pending items survive a restart, and two processes draining together never take the same item', async () => {
    const { dir, cleanup } = tempDataDir('outbox');
    try {
      const first = openStore({ dataDir: dir });
      for (let i = 0; i < 120; i++) first.outbox.enqueue({ kind: 'audit', target: AUDIT_TARGET, payload: { i }, dedupeKey: `audit:${i}` });
      first.close();

      const outputs = await race(2, { dataDir: dir, keyHex: '00'.repeat(32), mode: 'outbox', ids: ['drain'], repeats: 200, workMs: 5 });
      expect(outputs.flatMap((o) => o.errors)).toEqual([]);
      const taken = outputs.flatMap((o) => o.results.map((r) => r.id as number));
      expect(taken).toHaveLength(120);
      expect(new Set(taken).size).toBe(120);
      // Both workers really drained concurrently (otherwise this test would prove nothing about leases).
      for (const o of outputs) expect(o.results.length).toBeGreaterThan(0);

      const reopened = openStore({ dataDir: dir });
      expect(reopened.outbox.counts()).toEqual({ pending: 0, leased: 0, sent: 120, dead: 0 });
      reopened.close();
    } finally {
      cleanup();
    }
  }, 60_000);
});
