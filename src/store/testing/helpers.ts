/** Test helpers for the store's own tests: a settable clock and throw-away data directories. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testClock, type TestClock } from '../../../test/harness/clock';

export type ManualClock = TestClock;

/** Time stands still at `start` until set or advanced; sleeping advances it. */
export function manualClock(start: Date | string = '2025-03-01T08:00:00.000Z'): ManualClock {
  return testClock({ start, sleep: 'advance' });
}

export function tempDataDir(label = 'store'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `opter-${label}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const HOUR = 3_600_000;
