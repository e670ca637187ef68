/**
 * The one test clock. By default "now" is real time plus an offset that `advance` and `set` move, so expiry and
 * reminders can be fast-forwarded while HTTP keeps real timestamps; with `start`, "now" stands still at that instant
 * until moved. `sleep: 'advance'` makes sleeping move the clock instead of waiting (retries finish at once).
 */
import type { Clock } from '../../src/core/ports';

export interface TestClock extends Clock {
  advance(ms: number): void;
  set(t: Date | string): void;
}

export interface TestClockOptions {
  /** A fixed starting instant; omitted = real time. */
  start?: Date | string;
  /** 'real' waits (default); 'advance' moves the clock by the requested time and returns at once. */
  sleep?: 'real' | 'advance';
}

export function testClock(options: TestClockOptions = {}): TestClock {
  const base = () => (options.start === undefined ? Date.now() : new Date(options.start).getTime());
  let offset = 0;
  return {
    now: () => new Date(base() + offset),
    sleep:
      options.sleep === 'advance'
        ? async (ms) => {
            offset += ms;
          }
        : (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    advance: (ms) => {
      offset += ms;
    },
    set: (t) => {
      offset = new Date(t).getTime() - base();
    },
  };
}
