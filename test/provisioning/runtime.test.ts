import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OpterError } from '../../src/core/errors';
import type { ProgressEvent } from '../../src/core/ports';
import { DEFAULT_RETRY_POLICY } from '../../src/provisioning/retry';
import { createJobRuntime, type LifecyclePorts } from '../../src/provisioning/runtime';
import { openStore, type Store } from '../../src/store';
import { manualClock, type ManualClock } from '../../src/store/testing/helpers';

describe('the step runtime', () => {
  let clock: ManualClock;
  let store: Store;
  let events: ProgressEvent[];
  beforeEach(() => {
    clock = manualClock('2026-01-01T00:00:00.000Z');
    store = openStore({ memory: true, clock });
    events = [];
  });
  afterEach(() => store.close());

  const runtime = () => {
    const job = store.journal.createJob({ id: 'j', kind: 'provision', input: { appDisplayName: 'X' } });
    const ports = { journal: store.journal, clock } as unknown as LifecyclePorts;
    const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 1, maxDelayMs: 1, maxTotalWaitMs: 1_000 };
    return createJobRuntime(job, { appDisplayName: 'X' }, { ports, policy, verifyPolicy: policy, random: () => 0, maxInlineWaitMs: 0, emit: (e) => events.push(e) });
  };

  it('journals a step, retries its transient errors with progress named by step id, and never runs a succeeded step again', async () => {
    const rt = runtime();
    expect(rt.input).toEqual({ appDisplayName: 'X' });
    let calls = 0;
    const fn = async (attempt: number) => {
      calls++;
      if (attempt === 1) throw new OpterError('E_THROTTLED', { transient: true, retryReason: 'slow down' });
      return { out: { appId: 'a-1' }, summary: 'made it' };
    };
    expect(await rt.step('app', fn)).toEqual({ appId: 'a-1' });
    expect(store.journal.getStep('j', 'app')).toMatchObject({ status: 'succeeded', attempts: 1, outputs: { appId: 'a-1', summary: 'made it' } });
    expect(events.map((e) => [e.type, 'step' in e ? e.step : ''])).toEqual([
      ['step-started', 'app'],
      ['step-retrying', 'app'],
      ['step-succeeded', 'app'],
    ]);
    expect(events.every((e) => !('title' in e))).toBe(true);

    // A second run of the same job reuses the recorded outputs.
    events = [];
    expect(await runtime().step('app', fn)).toMatchObject({ appId: 'a-1' });
    expect(calls).toBe(2);
    expect(events).toMatchObject([{ type: 'step-skipped', step: 'app', summary: 'made it' }]);
  });

  it('records a failed step and reports it; checks and notes go to progress and the run', async () => {
    const rt = runtime();
    await expect(rt.step('group', async () => Promise.reject(new OpterError('E_GROUP_CONFLICT', { detail: 'taken' })))).rejects.toMatchObject({ code: 'E_GROUP_CONFLICT' });
    expect(store.journal.getStep('j', 'group')).toMatchObject({ status: 'failed', lastError: { code: 'E_GROUP_CONFLICT' } });
    expect(events.at(-1)).toMatchObject({ type: 'step-failed', step: 'group', code: 'E_GROUP_CONFLICT' });
    rt.check({ name: 'Token as the new app', ok: false, detail: 'no secret in this run', skipped: true });
    expect(events.at(-1)).toMatchObject({ type: 'check', name: 'Token as the new app', skipped: true });
    rt.note('once');
    rt.note('once');
    expect(rt.notes).toEqual(['once']);
  });
});
