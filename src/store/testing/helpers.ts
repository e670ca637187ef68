/** Test helpers for the store's own tests: a settable clock and throw-away data directories. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../core/ports';

export interface ManualClock extends Clock {
  set(t: Date | string): void;
  advance(ms: number): void;
}

export function manualClock(start: Date | string = '2025-03-01T08:00:00.000Z'): ManualClock {
  let now = new Date(start).getTime();
  return {
    now: () => new Date(now),
    sleep: async (ms) => {
      now += ms;
    },
    set: (t) => {
      now = new Date(t).getTime();
    },
    advance: (ms) => {
      now += ms;
    },
  };
}

export function tempDataDir(label = 'store'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `opter-${label}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const HOUR = 3_600_000;
