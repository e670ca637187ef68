import { describe, expect, it } from 'vitest';
import { OpterError } from '../core/errors';
import { backoffDelay, retryPolicyFromEnv, withRetry, type RetryPolicy } from './retry';

function fakeClock() {
  let t = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    clock: { now: () => new Date(t), sleep: async (ms: number) => { sleeps.push(ms); t += ms; } },
  };
}
const policy: RetryPolicy = { baseDelayMs: 100, maxDelayMs: 1_000, maxTotalWaitMs: 5_000 };

describe('withRetry', () => {
  it('retries transient errors and honours Retry-After', async () => {
    const { clock, sleeps } = fakeClock();
    let calls = 0;
    const r = await withRetry(async () => {
      calls++;
      if (calls === 1) throw new OpterError('E_THROTTLED', { retryAfterMs: 2_000 });
      if (calls === 2) throw new OpterError('E_SERVICE_UNAVAILABLE');
      return 'ok';
    }, policy, { clock, random: () => 0.5 });
    expect(r).toBe('ok');
    expect(sleeps[0]).toBe(2_000);
    expect(sleeps[1]).toBe(backoffDelay(2, policy, () => 0.5));
  });

  it('does not retry permanent errors', async () => {
    const { clock } = fakeClock();
    let calls = 0;
    await expect(withRetry(async () => { calls++; throw new OpterError('E_GRAPH_PERMISSION'); }, policy, { clock })).rejects.toMatchObject({ code: 'E_GRAPH_PERMISSION' });
    expect(calls).toBe(1);
  });

  it('gives up within the total wait budget, turning a lingering not-found into E_REPLICATION_TIMEOUT', async () => {
    const { clock, sleeps } = fakeClock();
    await expect(
      withRetry(async () => { throw new OpterError('E_NOT_FOUND', { transient: true, retryReason: 'waiting for replication' }); }, policy, { clock, random: () => 1 }),
    ).rejects.toMatchObject({ code: 'E_REPLICATION_TIMEOUT', detail: 'waiting for replication' });
    expect(sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(policy.maxTotalWaitMs);
  });

  it('reports each retry with its reason', async () => {
    const { clock } = fakeClock();
    const seen: string[] = [];
    let calls = 0;
    await withRetry(async () => {
      if (++calls < 3) throw new OpterError('E_NOT_FOUND', { transient: true, retryReason: 'waiting for Microsoft to replicate the new service principal' });
      return 1;
    }, policy, { clock, onRetry: (i) => seen.push(`${i.attempt}:${i.error.retryReason}`) });
    expect(seen).toEqual(['1:waiting for Microsoft to replicate the new service principal', '2:waiting for Microsoft to replicate the new service principal']);
  });

  it('keeps backoff within [10%, 100%] of the capped exponential step', () => {
    for (let a = 1; a < 12; a++) {
      const cap = Math.min(1_000, 100 * 2 ** (a - 1));
      expect(backoffDelay(a, policy, () => 0)).toBe(Math.round(cap * 0.1));
      expect(backoffDelay(a, policy, () => 1)).toBe(cap);
    }
  });
});

describe('retryPolicyFromEnv', () => {
  it('reads the documented tuning variables and ignores anything that is not a positive number', () => {
    expect(retryPolicyFromEnv({ OPTER_STEP_MAX_WAIT_MS: '1500', OPTER_RETRY_BASE_MS: '50' })).toEqual({ maxTotalWaitMs: 1500, baseDelayMs: 50 });
    expect(retryPolicyFromEnv({})).toEqual({});
    expect(retryPolicyFromEnv({ OPTER_STEP_MAX_WAIT_MS: 'ten minutes', OPTER_RETRY_BASE_MS: '-1' })).toEqual({});
    expect(retryPolicyFromEnv({ OPTER_STEP_MAX_WAIT_MS: '0' })).toEqual({});
  });
});
