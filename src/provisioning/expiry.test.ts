import { describe, expect, it } from 'vitest';
import { applicableThreshold, dueExpiryReminders, reminderKey, secretsExpiringWithin, type RegistrationForReminder } from './expiry';

const DAY = 86_400_000;
const now = new Date('2026-06-01T12:00:00Z');
const at = (days: number) => new Date(now.getTime() + days * DAY).toISOString();

function memoryOnce() {
  const seen = new Set<string>();
  return { seen, markOnce: (k: string) => (seen.has(k) ? false : (seen.add(k), true)) };
}

const reg = (secrets: { keyId: string; end: string }[]): RegistrationForReminder => ({
  appId: 'APP-1',
  appDisplayName: 'Opter',
  secrets: secrets.map((s) => ({ keyId: s.keyId, displayName: 'opter-secret', endDateTime: s.end })),
});

describe('applicableThreshold', () => {
  it('picks the most urgent threshold that applies, 0 once expired, null when far away', () => {
    expect(applicableThreshold(at(45), now)).toBeNull();
    expect(applicableThreshold(at(30), now)).toBe(30);
    expect(applicableThreshold(at(12), now)).toBe(30);
    expect(applicableThreshold(at(7), now)).toBe(7);
    expect(applicableThreshold(at(2), now)).toBe(7);
    expect(applicableThreshold(at(0.5), now)).toBe(1);
    expect(applicableThreshold(at(-1), now)).toBe(0);
    expect(applicableThreshold('not a date', now)).toBeNull();
  });
});

describe('dueExpiryReminders', () => {
  it('fires each threshold exactly once as time passes (30, 7, 1, expired)', () => {
    const once = memoryOnce();
    const r = [reg([{ keyId: 'K1', end: at(40) }])];
    const fired: number[] = [];
    for (let d = 0; d <= 42; d += 0.25) {
      const t = new Date(now.getTime() + d * DAY);
      for (const x of dueExpiryReminders(r, t, once.markOnce)) fired.push(x.thresholdDays);
    }
    expect(fired).toEqual([30, 7, 1, 0]);
    expect([...once.seen].sort()).toEqual(['expiry-reminder:app-1:k1:1d', 'expiry-reminder:app-1:k1:30d', 'expiry-reminder:app-1:k1:7d', 'expiry-reminder:app-1:k1:expired']);
  });

  it('a secret first seen late gets only the most urgent reminder, not a burst', () => {
    const once = memoryOnce();
    const due = dueExpiryReminders([reg([{ keyId: 'K1', end: at(3) }])], now, once.markOnce);
    expect(due.map((d) => [d.thresholdDays, d.daysLeft, d.expired])).toEqual([[7, 3, false]]);
    expect(dueExpiryReminders([reg([{ keyId: 'K1', end: at(3) }])], now, once.markOnce)).toEqual([]);
  });

  it('says when a newer secret exists (a rotation may be under way) and can leave expired ones out', () => {
    const once = memoryOnce();
    const due = dueExpiryReminders([reg([{ keyId: 'OLD', end: at(5) }, { keyId: 'NEW', end: at(700) }])], now, once.markOnce);
    expect(due).toEqual([expect.objectContaining({ keyId: 'OLD', newerSecretExists: true, key: reminderKey('APP-1', 'OLD', 7) })]);
    expect(dueExpiryReminders([reg([{ keyId: 'GONE', end: at(-2) }])], now, memoryOnce().markOnce, { includeExpired: false })).toEqual([]);
  });

  it('secretsExpiringWithin lists without marking anything', () => {
    const r = [reg([{ keyId: 'A', end: at(10) }, { keyId: 'B', end: at(100) }, { keyId: 'C', end: at(-1) }])];
    expect(secretsExpiringWithin(r, now, 30).map((s) => [s.keyId, s.daysLeft, s.expired])).toEqual([
      ['C', -1, true],
      ['A', 10, false],
    ]);
  });
});
