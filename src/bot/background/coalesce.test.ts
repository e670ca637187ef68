import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Coalescer } from './coalesce';

describe('Coalescer', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function make(publishDelayMs = 0, fail?: (v: number) => boolean) {
    const published: Array<{ value: number; at: number }> = [];
    const errors: unknown[] = [];
    const c = new Coalescer<number>({
      minIntervalMs: 1000,
      onError: (e) => errors.push(e),
      timers: { now: () => Date.now(), setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as number) },
      publish: async (value) => {
        if (publishDelayMs) await new Promise((r) => setTimeout(r, publishDelayMs));
        if (fail?.(value)) throw new Error(`publish ${value} failed`);
        published.push({ value, at: Date.now() });
      },
    });
    return { c, published, errors };
  }

  it('publishes the first value at once, then at most once per interval, always the newest', async () => {
    const { c, published } = make();
    const t0 = Date.now();
    c.set(1);
    await vi.advanceTimersByTimeAsync(0);
    for (let v = 2; v <= 20; v++) {
      c.set(v);
      await vi.advanceTimersByTimeAsync(100);
    }
    await vi.advanceTimersByTimeAsync(3000);
    expect(published.map((p) => p.value)).toEqual([1, 11, 20]);
    for (let i = 1; i < published.length; i++) expect(published[i]!.at - published[i - 1]!.at).toBeGreaterThanOrEqual(1000);
    expect(published[0]!.at).toBe(t0);
  });

  it('never overlaps publishes and flush delivers the final value after the one in flight', async () => {
    const { c, published } = make(700);
    let concurrent = 0;
    let maxConcurrent = 0;
    const original = (c as unknown as { options: { publish: (v: number) => Promise<void> } }).options.publish;
    (c as unknown as { options: { publish: (v: number) => Promise<void> } }).options.publish = async (v) => {
      concurrent++;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      try {
        await original(v);
      } finally {
        concurrent--;
      }
    };
    c.set(1);
    await vi.advanceTimersByTimeAsync(50);
    c.set(2);
    c.set(3);
    const done = c.flush();
    c.set(4); // after flush: ignored
    await vi.advanceTimersByTimeAsync(5000);
    await done;
    expect(published.map((p) => p.value)).toEqual([1, 3]);
    expect(maxConcurrent).toBe(1);
  });

  it('retries a failed value with the next change, and a failing final flush rejects', async () => {
    let failing = true;
    const { c, published, errors } = make(0, () => failing);
    c.set(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(errors).toHaveLength(1);
    failing = false;
    c.set(2);
    await vi.advanceTimersByTimeAsync(1500);
    expect(published.map((p) => p.value)).toEqual([2]);

    failing = true;
    c.set(3);
    const flushed = c.flush().then(
      () => 'ok',
      (e: Error) => e.message,
    );
    await vi.advanceTimersByTimeAsync(3000);
    expect(await flushed).toMatch(/publish 3 failed/);
  });

  it('flush with nothing owed resolves without publishing', async () => {
    const { c, published } = make();
    c.set(1);
    await vi.advanceTimersByTimeAsync(0);
    await c.flush();
    expect(published).toHaveLength(1);
  });
});
