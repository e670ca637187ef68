/**
 * Expiry reminders across restarts: the once-only marker lives in the SQLite store (kv.markOnce), so a second
 * process — or the same one after a restart — never fires a threshold again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dueExpiryReminders, type RegistrationForReminder } from '../../src/provisioning/expiry';
import { openStore } from '../../src/store';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const DAY = 86_400_000;

describe('expiry reminders with the durable store', () => {
  it('fire exactly once per threshold, also after the store is closed and opened again', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'opter-expiry-'));
    dirs.push(dataDir);
    const start = new Date('2026-01-01T08:00:00Z');
    const regs: RegistrationForReminder[] = [
      { appId: 'a1', appDisplayName: 'Opter', secrets: [{ keyId: 'k1', displayName: 'opter-secret', endDateTime: new Date(start.getTime() + 20 * DAY).toISOString() }] },
    ];
    const run = (daysLater: number) => {
      // A fresh process each time: open, check, close.
      const store = openStore({ dataDir });
      try {
        return dueExpiryReminders(regs, new Date(start.getTime() + daysLater * DAY), (k) => store.kv.markOnce(k)).map((r) => r.thresholdDays);
      } finally {
        store.close();
      }
    };
    expect(run(0)).toEqual([30]);
    expect(run(0)).toEqual([]);
    expect(run(1)).toEqual([]);
    expect(run(13.5)).toEqual([7]);
    expect(run(14)).toEqual([]);
    expect(run(19.5)).toEqual([1]);
    expect(run(19.6)).toEqual([]);
    expect(run(21)).toEqual([0]);
    expect(run(40)).toEqual([]);
  });
});
