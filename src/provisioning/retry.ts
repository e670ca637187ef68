/**
 * Bounded retry for transient Microsoft failures (throttling, outages, replication). Honours Retry-After when the
 * service sent one; otherwise exponential backoff with full jitter, so many jobs retrying at once spread out.
 */
import { OpterError, toOpterError } from '../core/errors';
import type { Clock } from '../core/ports';

export interface RetryPolicy {
  /** First backoff step, ms. */
  baseDelayMs: number;
  /** Cap for a single wait, ms. */
  maxDelayMs: number;
  /** Give up (surface the last error) once this much time has been spent waiting in one step, ms. */
  maxTotalWaitMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
  // Replication can take minutes (docs/microsoft-facts.md §12: EXO objects polled up to 300 s); allow 10 minutes per step.
  maxTotalWaitMs: 10 * 60_000,
};

/**
 * The documented tuning variables (docs/configuration.md): OPTER_STEP_MAX_WAIT_MS (how long one step may wait) and
 * OPTER_RETRY_BASE_MS (first backoff). Unset or not a positive number → the default stays.
 */
export function retryPolicyFromEnv(env: Readonly<Record<string, string | undefined>>): Partial<RetryPolicy> {
  const max = Number(env.OPTER_STEP_MAX_WAIT_MS);
  const base = Number(env.OPTER_RETRY_BASE_MS);
  return {
    ...(Number.isFinite(max) && max > 0 ? { maxTotalWaitMs: max } : {}),
    ...(Number.isFinite(base) && base > 0 ? { baseDelayMs: base } : {}),
  };
}

export interface RetryHooks {
  clock: Clock;
  random?: () => number;
  onRetry?: (info: { attempt: number; waitMs: number; error: OpterError }) => void;
}

export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(attempt - 1, 20));
  // Full jitter, but never less than a tenth of the step so a retry storm does not hammer at ~0 ms.
  return Math.round(ceiling * (0.1 + 0.9 * random()));
}

export async function withRetry<T>(fn: (attempt: number) => Promise<T>, policy: RetryPolicy, hooks: RetryHooks): Promise<T> {
  const random = hooks.random ?? Math.random;
  let waited = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      const err = toOpterError(e);
      if (!err.transient) throw err;
      const wait = err.retryAfterMs !== undefined ? Math.min(err.retryAfterMs, policy.maxDelayMs * 4) : backoffDelay(attempt, policy, random);
      if (waited + wait > policy.maxTotalWaitMs) throw exhausted(err);
      hooks.onRetry?.({ attempt, waitMs: wait, error: err });
      await hooks.clock.sleep(wait);
      waited += wait;
    }
  }
}

/** The transient error that outlived its retry budget, re-expressed as the catalogue code an admin can act on. */
function exhausted(err: OpterError): OpterError {
  if (err.code !== 'E_INTERNAL' && err.code !== 'E_NOT_FOUND') return err;
  return new OpterError('E_REPLICATION_TIMEOUT', { detail: err.retryReason ?? err.detail, transient: true, cause: err });
}
