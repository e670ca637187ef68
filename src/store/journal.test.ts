import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from './index';
import { manualClock, tempDataDir, type ManualClock } from './testing/helpers';

describe('SqliteJournal (JournalPort)', () => {
  let clock: ManualClock;
  let store: Store;
  beforeEach(() => {
    clock = manualClock('2025-03-01T08:00:00.000Z');
    store = openStore({ memory: true, clock });
  });
  afterEach(() => store.close());

  it('creates a running job with timestamps from the clock and returns it by id', () => {
    const job = store.journal.createJob({ id: 'job-1', kind: 'provision', input: { appName: 'OpterMessageProxy', senders: ['a@x.se'] } });
    expect(job).toEqual({
      id: 'job-1',
      kind: 'provision',
      status: 'running',
      input: { appName: 'OpterMessageProxy', senders: ['a@x.se'] },
      idempotencyKey: null,
      lastError: null,
      resumeAfter: null,
      result: null,
      createdAt: '2025-03-01T08:00:00.000Z',
      updatedAt: '2025-03-01T08:00:00.000Z',
    });
    expect(store.journal.getJob('job-1')).toEqual(job);
    expect(store.journal.getJob('nope')).toBeNull();
  });

  it('returns the existing job for a repeated idempotency key instead of creating a second one', () => {
    const first = store.journal.createJob({ id: 'job-a', kind: 'provision', input: { n: 1 }, idempotencyKey: 'request-7' });
    clock.advance(1000);
    const second = store.journal.createJob({ id: 'job-b', kind: 'provision', input: { n: 2 }, idempotencyKey: 'request-7' });
    expect(second).toEqual(first);
    expect(store.journal.listJobs()).toHaveLength(1);
    expect(store.journal.getJob('job-b')).toBeNull();
    expect(store.journal.getJobByIdempotencyKey('request-7')?.id).toBe('job-a');
  });

  it('is idempotent for a repeated job id and refuses one id with two idempotency keys', () => {
    store.journal.createJob({ id: 'job-1', kind: 'provision', input: {} });
    expect(store.journal.createJob({ id: 'job-1', kind: 'provision', input: {} }).id).toBe('job-1');
    expect(() => store.journal.createJob({ id: 'job-1', kind: 'provision', input: {}, idempotencyKey: 'k' })).toThrow(/different idempotency key/);
    expect(store.journal.listJobs()).toHaveLength(1);
  });

  it('lists jobs by status and kind in creation order', () => {
    store.journal.createJob({ id: 'j1', kind: 'provision', input: {} });
    clock.advance(1);
    store.journal.createJob({ id: 'j2', kind: 'add-sender', input: {} });
    clock.advance(1);
    store.journal.createJob({ id: 'j3', kind: 'provision', input: {} });
    store.journal.setJobStatus('j3', 'succeeded');
    expect(store.journal.listJobs().map((j) => j.id)).toEqual(['j1', 'j2', 'j3']);
    expect(store.journal.listJobs({ status: 'running' }).map((j) => j.id)).toEqual(['j1', 'j2']);
    expect(store.journal.listJobs({ kind: 'provision' }).map((j) => j.id)).toEqual(['j1', 'j3']);
    expect(store.journal.listJobs({ status: 'running', kind: 'provision' }).map((j) => j.id)).toEqual(['j1']);
  });

  it('sets job status; undefined keeps the last error, null clears it', () => {
    store.journal.createJob({ id: 'j', kind: 'provision', input: {} });
    clock.advance(5000);
    store.journal.setJobStatus('j', 'failed', { code: 'E_THROTTLED', message: 'slow down' });
    expect(store.journal.getJob('j')).toMatchObject({
      status: 'failed',
      lastError: { code: 'E_THROTTLED', message: 'slow down' },
      updatedAt: '2025-03-01T08:00:05.000Z',
    });
    store.journal.setJobStatus('j', 'running');
    expect(store.journal.getJob('j')?.lastError).toEqual({ code: 'E_THROTTLED', message: 'slow down' });
    store.journal.setJobStatus('j', 'succeeded', null);
    expect(store.journal.getJob('j')).toMatchObject({ status: 'succeeded', lastError: null });
    expect(() => store.journal.setJobStatus('missing', 'failed')).toThrow(/no job missing/);
  });

  it('finishJob records a result, a wait with its resume time, or a failure; running again clears the wait', () => {
    store.journal.createJob({ id: 'j', kind: 'migrate-rbac', input: {} });
    store.journal.finishJob('j', { status: 'waiting', resumeAfter: '2025-03-01T10:00:00.000Z', lastError: { code: 'E_JOB_UNFINISHED', message: 'waits' } });
    expect(store.journal.getJob('j')).toMatchObject({ status: 'waiting', resumeAfter: '2025-03-01T10:00:00.000Z', lastError: { code: 'E_JOB_UNFINISHED' } });
    expect(store.journal.listJobs({ status: 'waiting' }).map((j) => j.id)).toEqual(['j']);
    store.journal.setJobStatus('j', 'running', null);
    expect(store.journal.getJob('j')).toMatchObject({ status: 'running', resumeAfter: null });
    store.journal.finishJob('j', { status: 'succeeded', result: { kind: 'migrate-rbac', removed: 1 } });
    expect(store.journal.getJob('j')).toMatchObject({ status: 'succeeded', result: { kind: 'migrate-rbac', removed: 1 }, lastError: null });
    expect(() => store.journal.finishJob('j', { status: 'succeeded', result: { clientSecret: 'x' } })).toThrow(/must not contain secrets/);
    store.journal.finishJob('j', { status: 'failed', lastError: { code: 'E_THROTTLED', message: 'slow down' } });
    expect(store.journal.getJob('j')).toMatchObject({ status: 'failed', result: null, resumeAfter: null });
    expect(() => store.journal.finishJob('missing', { status: 'failed', lastError: { code: 'E_X', message: 'x' } })).toThrow(/no job missing/);
  });

  it('recordStepStart creates the step, marks it running and increments attempts on every start', () => {
    store.journal.createJob({ id: 'j', kind: 'provision', input: {} });
    const first = store.journal.recordStepStart('j', 'app');
    expect(first).toEqual({
      jobId: 'j',
      step: 'app',
      status: 'running',
      attempts: 1,
      outputs: {},
      lastError: null,
      startedAt: '2025-03-01T08:00:00.000Z',
      finishedAt: null,
    });
    store.journal.recordStepFailure('j', 'app', { code: 'E_SERVICE_UNAVAILABLE', message: '503' });
    clock.advance(60_000);
    const second = store.journal.recordStepStart('j', 'app');
    expect(second).toMatchObject({ status: 'running', attempts: 2, startedAt: '2025-03-01T08:01:00.000Z', finishedAt: null });
    // The previous failure stays visible while the step is retried.
    expect(second.lastError).toEqual({ code: 'E_SERVICE_UNAVAILABLE', message: '503' });
    expect(store.journal.recordStepStart('j', 'app').attempts).toBe(3);
  });

  it('merges outputs from recordStepOutputs and recordStepSuccess (intent first, result later)', () => {
    store.journal.createJob({ id: 'j', kind: 'provision', input: {} });
    store.journal.recordStepStart('j', 'secret');
    store.journal.recordStepOutputs('j', 'secret', { pendingSince: 't0', keyId: null, delivered: false });
    store.journal.recordStepOutputs('j', 'secret', { keyId: 'key-1', endDateTime: '2035-01-01T00:00:00Z' });
    clock.advance(2000);
    store.journal.recordStepSuccess('j', 'secret', { delivered: true });
    expect(store.journal.getStep('j', 'secret')).toMatchObject({
      status: 'succeeded',
      attempts: 1,
      outputs: { pendingSince: 't0', keyId: 'key-1', endDateTime: '2035-01-01T00:00:00Z', delivered: true },
      finishedAt: '2025-03-01T08:00:02.000Z',
    });
    expect(store.journal.getJob('j')?.updatedAt).toBe('2025-03-01T08:00:02.000Z');
  });

  it('records failure with the error and keeps steps in the order they were first written', () => {
    store.journal.createJob({ id: 'j', kind: 'provision', input: {} });
    for (const s of ['validate', 'app', 'servicePrincipal', 'grant']) {
      store.journal.recordStepStart('j', s);
      store.journal.recordStepSuccess('j', s);
    }
    store.journal.recordStepStart('j', 'group');
    store.journal.recordStepFailure('j', 'group', { code: 'E_GROUP_CONFLICT', message: 'alias taken' });
    store.journal.recordStepStart('j', 'app'); // re-running an earlier step must not move it
    const steps = store.journal.getSteps('j');
    expect(steps.map((s) => s.step)).toEqual(['validate', 'app', 'servicePrincipal', 'grant', 'group']);
    expect(steps[4]).toMatchObject({ status: 'failed', lastError: { code: 'E_GROUP_CONFLICT', message: 'alias taken' } });
    expect(store.journal.getStep('j', 'nope')).toBeNull();
  });

  it('recordStepOutputs on a step not yet started creates it pending with attempts 0', () => {
    store.journal.createJob({ id: 'j', kind: 'provision', input: {} });
    store.journal.recordStepOutputs('j', 'policy', { note: 'planned' });
    expect(store.journal.getStep('j', 'policy')).toMatchObject({ status: 'pending', attempts: 0, outputs: { note: 'planned' } });
  });

  it('refuses step writes for an unknown job', () => {
    expect(() => store.journal.recordStepStart('ghost', 'app')).toThrow(/no job ghost/);
    expect(() => store.journal.recordStepOutputs('ghost', 'app', {})).toThrow(/no job ghost/);
    expect(() => store.journal.recordStepSuccess('ghost', 'app')).toThrow(/no job ghost/);
    expect(() => store.journal.recordStepFailure('ghost', 'app', { code: 'E_INTERNAL', message: 'x' })).toThrow(/no job ghost/);
  });

  it('refuses to journal a secret value, without echoing it', () => {
    store.journal.createJob({ id: 'j', kind: 'provision', input: {} });
    const secret = 'abc1Q~ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ';
    let message = '';
    try {
      store.journal.recordStepOutputs('j', 'secret', { keyId: 'k', secretText: secret });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/must not contain secrets.*secretText/);
    expect(message).not.toContain(secret);
    expect(store.journal.getStep('j', 'secret')).toBeNull();
    expect(() => store.journal.createJob({ id: 'j2', kind: 'provision', input: { clientSecret: secret } })).toThrow(/must not contain secrets/);
    // Metadata named after secrets is fine.
    store.journal.recordStepOutputs('j', 'secret', { secretDisplayName: 'opter-secret', keyId: 'k', delivered: false });
  });
});

describe('journal durability', () => {
  it('a job and its steps survive closing and reopening the file', () => {
    const { dir, cleanup } = tempDataDir('journal');
    try {
      const a = openStore({ dataDir: dir, clock: manualClock() });
      a.journal.createJob({ id: 'j', kind: 'provision', input: { appName: 'X' }, idempotencyKey: 'r-1' });
      a.journal.recordStepStart('j', 'app');
      a.journal.recordStepOutputs('j', 'app', { appObjectId: 'obj-1' });
      a.close();
      const b = openStore({ dataDir: dir, clock: manualClock() });
      expect(b.journal.getJob('j')).toMatchObject({ status: 'running', idempotencyKey: 'r-1', input: { appName: 'X' } });
      expect(b.journal.getStep('j', 'app')).toMatchObject({ status: 'running', attempts: 1, outputs: { appObjectId: 'obj-1' } });
      b.close();
    } finally {
      cleanup();
    }
  });
});
