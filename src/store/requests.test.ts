import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type NewRequest, type Store } from './index';
import { HOUR, manualClock, tempDataDir, type ManualClock } from './testing/helpers';
import { race } from './testing/race';

const REQUESTER = { aadObjectId: 'aad-requester', name: 'Rita Requester', mri: '29:1abc' };
const APPROVER = { aadObjectId: 'aad-approver', name: 'Anna Approver' };

function newRequest(clock: ManualClock, overrides: Partial<NewRequest> = {}): NewRequest {
  return {
    kind: 'provision',
    tenantId: 'tenant-1',
    requester: REQUESTER,
    payload: { appName: 'OpterMessageProxy', senders: ['faktura@contoso.se'], secretValidYears: 10 },
    expiresAt: new Date(clock.now().getTime() + 24 * HOUR),
    ...overrides,
  };
}

describe('RequestRepository', () => {
  let clock: ManualClock;
  let store: Store;
  beforeEach(() => {
    clock = manualClock('2025-03-01T08:00:00.000Z');
    store = openStore({ memory: true, clock });
  });
  afterEach(() => store.close());

  it('creates a pending request with requester, payload, app name and timestamps', () => {
    const { created, request } = store.requests.create(newRequest(clock, { id: 'req-1' }));
    expect(created).toBe(true);
    expect(request).toEqual({
      id: 'req-1',
      kind: 'provision',
      status: 'pending',
      tenantId: 'tenant-1',
      requester: REQUESTER,
      appName: 'OpterMessageProxy',
      payload: { appName: 'OpterMessageProxy', senders: ['faktura@contoso.se'], secretValidYears: 10 },
      dedupeKey: null,
      createdAt: '2025-03-01T08:00:00.000Z',
      updatedAt: '2025-03-01T08:00:00.000Z',
      expiresAt: '2025-03-02T08:00:00.000Z',
      decision: null,
      jobId: null,
      result: null,
      lastError: null,
    });
    expect(store.requests.get('req-1')).toEqual(request);
    expect(store.requests.get('missing')).toBeNull();
  });

  it('generates ids, and a repeated dedupeKey returns the first request instead of a second one', () => {
    const a = store.requests.create(newRequest(clock, { dedupeKey: 'activity-123' }));
    const b = store.requests.create(newRequest(clock, { dedupeKey: 'activity-123', payload: { appName: 'Other' } }));
    expect(a.request.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(b).toEqual({ created: false, request: a.request });
    expect(store.requests.list()).toHaveLength(1);
  });

  it('decide approves once: the first call wins, a repeated click and a second approver get the decided row', () => {
    store.requests.create(newRequest(clock, { id: 'req-1' }));
    clock.advance(HOUR);
    const won = store.requests.decide('req-1', { decision: 'approve', by: APPROVER });
    expect(won.won).toBe(true);
    expect(won.request).toMatchObject({
      status: 'approved',
      decision: { outcome: 'approved', by: APPROVER, at: '2025-03-01T09:00:00.000Z', reason: null },
    });
    clock.advance(1000);
    expect(store.requests.decide('req-1', { decision: 'approve', by: APPROVER })).toMatchObject({ won: false, reason: 'not-pending' });
    const late = store.requests.decide('req-1', { decision: 'reject', by: { aadObjectId: 'aad-other', name: 'Otto' }, reason: 'no' });
    expect(late).toMatchObject({ won: false, reason: 'not-pending', request: { status: 'approved', decision: { by: APPROVER } } });
  });

  it('reject records the reason', () => {
    store.requests.create(newRequest(clock, { id: 'req-1' }));
    const r = store.requests.decide('req-1', { decision: 'reject', by: APPROVER, reason: 'wrong mailbox' });
    expect(r).toMatchObject({ won: true, request: { status: 'rejected', decision: { outcome: 'rejected', reason: 'wrong mailbox' } } });
  });

  it('decide refuses expired, unknown and self-decided requests without changing them', () => {
    store.requests.create(newRequest(clock, { id: 'req-1' }));
    expect(store.requests.decide('nope', { decision: 'approve', by: APPROVER })).toEqual({ won: false, reason: 'not-found', request: null });
    expect(store.requests.decide('req-1', { decision: 'approve', by: { aadObjectId: 'AAD-REQUESTER', name: 'Rita' } })).toMatchObject({
      won: false,
      reason: 'self-decision',
    });
    clock.advance(24 * HOUR); // expires_at is exclusive: at the instant of expiry it is too late
    expect(store.requests.decide('req-1', { decision: 'approve', by: APPROVER })).toMatchObject({ won: false, reason: 'expired', request: { status: 'pending' } });
    expect(store.requests.get('req-1')?.decision).toBeNull();
  });

  it('expireDue expires pending requests past expiry, each exactly once, and leaves decided ones alone', () => {
    store.requests.create(newRequest(clock, { id: 'a', expiresAt: '2025-03-01T09:00:00Z' }));
    store.requests.create(newRequest(clock, { id: 'b', expiresAt: '2025-03-01T10:00:00Z' }));
    store.requests.create(newRequest(clock, { id: 'c', expiresAt: '2025-03-01T09:30:00Z' }));
    store.requests.create(newRequest(clock, { id: 'd', expiresAt: '2025-03-01T09:00:00Z' }));
    store.requests.decide('d', { decision: 'approve', by: APPROVER });
    expect(store.requests.expireDue(new Date('2025-03-01T08:59:59Z'))).toEqual([]);
    const expired = store.requests.expireDue(new Date('2025-03-01T09:45:00Z'));
    expect(expired.map((r) => [r.id, r.status])).toEqual([
      ['a', 'expired'],
      ['c', 'expired'],
    ]);
    expect(store.requests.expireDue(new Date('2025-03-01T09:45:00Z'))).toEqual([]);
    expect(store.requests.get('b')?.status).toBe('pending');
    expect(store.requests.get('d')?.status).toBe('approved');
  });

  it('setStatus with `from` is a compare-and-set; result and lastError are recorded', () => {
    store.requests.create(newRequest(clock, { id: 'req-1' }));
    expect(store.requests.setStatus('req-1', 'provisioning', { from: 'approved' }).changed).toBe(false);
    store.requests.decide('req-1', { decision: 'approve', by: APPROVER });
    expect(store.requests.setStatus('req-1', 'provisioning', { from: 'approved' }).changed).toBe(true);
    expect(store.requests.setStatus('req-1', 'provisioning', { from: 'approved' })).toMatchObject({ changed: false, request: { status: 'provisioning' } });
    const failed = store.requests.setStatus('req-1', 'failed', { from: ['provisioning'], lastError: { code: 'E_THROTTLED', message: '429' } });
    expect(failed.request).toMatchObject({ status: 'failed', lastError: { code: 'E_THROTTLED', message: '429' } });
    const done = store.requests.setStatus('req-1', 'succeeded', { from: ['failed', 'provisioning'], result: { clientId: 'c-1' }, lastError: null });
    expect(done.request).toMatchObject({ status: 'succeeded', result: { clientId: 'c-1' }, lastError: null });
    expect(store.requests.setStatus('missing', 'cancelled')).toEqual({ changed: false, request: null });
    expect(() => store.requests.setStatus('req-1', 'bogus' as never)).toThrow(/CHECK constraint/);
  });

  it('attachJob links a job once and refuses to replace it with another', () => {
    store.requests.create(newRequest(clock, { id: 'req-1' }));
    expect(store.requests.attachJob('req-1', 'job-1')).toBe(true);
    expect(store.requests.attachJob('req-1', 'job-1')).toBe(true);
    expect(store.requests.attachJob('req-1', 'job-2')).toBe(false);
    expect(store.requests.get('req-1')?.jobId).toBe('job-1');
    expect(store.requests.getByJobId('job-1')?.id).toBe('req-1');
    expect(store.requests.attachJob('missing', 'job-1')).toBe(false);
  });

  it('lists by requester, by app name (case-insensitive), by status and kind, newest first unless asked', () => {
    store.requests.create(newRequest(clock, { id: 'r1' }));
    clock.advance(1000);
    store.requests.create(newRequest(clock, { id: 'r2', kind: 'add-sender', payload: { appName: 'opterMESSAGEproxy', senders: ['x@contoso.se'] } }));
    clock.advance(1000);
    store.requests.create(newRequest(clock, { id: 'r3', requester: { aadObjectId: 'aad-other', name: 'Otto' }, payload: { appName: 'Proxy-2' } }));
    clock.advance(1000);
    store.requests.create(newRequest(clock, { id: 'r4', appName: 'Explicit', payload: { appName: 'ignored' } }));
    store.requests.decide('r1', { decision: 'approve', by: APPROVER });

    expect(store.requests.listByRequester('aad-requester').map((r) => r.id)).toEqual(['r4', 'r2', 'r1']);
    expect(store.requests.listByRequester('aad-requester', { order: 'oldest', limit: 2 }).map((r) => r.id)).toEqual(['r1', 'r2']);
    expect(store.requests.listByAppName('optermessageproxy').map((r) => r.id)).toEqual(['r2', 'r1']);
    expect(store.requests.listByAppName('Explicit').map((r) => r.id)).toEqual(['r4']);
    expect(store.requests.listPending().map((r) => r.id)).toEqual(['r2', 'r3', 'r4']);
    expect(store.requests.list({ kind: 'add-sender' }).map((r) => r.id)).toEqual(['r2']);
    expect(store.requests.list({ status: ['approved', 'rejected'] }).map((r) => r.id)).toEqual(['r1']);
    expect(store.requests.list({ status: [] })).toEqual([]);
  });
});

describe('request decisions across processes', () => {
  it('two processes deciding the same requests at once → exactly one decision per request', async () => {
    const { dir, cleanup } = tempDataDir('decide');
    const store = openStore({ dataDir: dir });
    try {
      const ids = Array.from({ length: 20 }, (_, i) => `req-${i}`);
      const expiresAt = new Date(Date.now() + 24 * HOUR);
      for (const id of ids) store.requests.create({ id, kind: 'provision', tenantId: 't', requester: REQUESTER, payload: {}, expiresAt });
      const outputs = await race(2, { dataDir: dir, keyHex: '00'.repeat(32), mode: 'decide', ids, repeats: 5 });
      expect(outputs.flatMap((o) => o.errors)).toEqual([]);
      const all = outputs.flatMap((o) => o.results) as { id: string; won: boolean; by: string }[];
      for (const id of ids) {
        const mine = all.filter((r) => r.id === id);
        expect(mine).toHaveLength(10);
        const winners = mine.filter((r) => r.won);
        expect(winners).toHaveLength(1);
        // Every loser saw the winner's decision, and the stored row agrees.
        const decidedBy = store.requests.get(id)?.decision?.by.aadObjectId;
        expect(mine.every((r) => r.by === decidedBy)).toBe(true);
      }
    } finally {
      store.close();
      cleanup();
    }
  }, 60_000);
});
