import { describe, expect, it } from 'vitest';
import { testClock } from './clock';

describe('testClock', () => {
  it('with a start, stands still until set or advanced, and sleeping advances it', async () => {
    const clock = testClock({ start: '2025-03-01T08:00:00.000Z', sleep: 'advance' });
    expect(clock.now().toISOString()).toBe('2025-03-01T08:00:00.000Z');
    clock.advance(60_000);
    await clock.sleep(1_000);
    expect(clock.now().toISOString()).toBe('2025-03-01T08:01:01.000Z');
    clock.set('2030-01-01T00:00:00.000Z');
    expect(clock.now().toISOString()).toBe('2030-01-01T00:00:00.000Z');
  });

  it('without a start, follows real time plus the offset, and a real sleep waits without moving the offset', async () => {
    const clock = testClock();
    clock.advance(86_400_000);
    const ahead = clock.now().getTime() - Date.now();
    expect(ahead).toBeGreaterThan(86_400_000 - 1_000);
    expect(ahead).toBeLessThanOrEqual(86_400_000);
    const before = Date.now();
    await clock.sleep(30);
    expect(Date.now() - before).toBeGreaterThanOrEqual(25);
    expect(clock.now().getTime() - Date.now()).toBeGreaterThan(86_400_000 - 1_000);
  });
});
