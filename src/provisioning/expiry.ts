/**
 * Secret expiry reminders (pure): at 30, 7 and 1 day(s) before a secret expires — and once when it has expired —
 * a reminder is due, exactly once per (app, keyId, threshold). "Once" is decided by a `markOnce(key)` callback
 * backed by durable storage (the store's kv.markOnce), so a restart or a second process never fires it again.
 *
 * A secret first seen late (the bot was down when it crossed 30 days) gets only the most urgent reminder that
 * applies, not a burst of every threshold it passed.
 */
export const REMINDER_THRESHOLDS_DAYS = [30, 7, 1] as const;
const DAY_MS = 86_400_000;

export interface SecretForReminder {
  keyId: string;
  displayName: string | null;
  endDateTime: string;
}

export interface RegistrationForReminder {
  appId: string;
  appDisplayName: string;
  secrets: SecretForReminder[];
}

export interface ExpiryReminder {
  appId: string;
  appDisplayName: string;
  keyId: string;
  secretDisplayName: string | null;
  endDateTime: string;
  /** The threshold that fired: 30, 7 or 1 (days before expiry), or 0 once the secret has expired. */
  thresholdDays: number;
  /** Whole days left, rounded down (negative once expired). */
  daysLeft: number;
  expired: boolean;
  /** The app has another secret that lives longer (a rotation may already be under way). */
  newerSecretExists: boolean;
  /** The markOnce key that recorded this reminder. */
  key: string;
}

export function reminderKey(appId: string, keyId: string, thresholdDays: number): string {
  return `expiry-reminder:${appId.toLowerCase()}:${keyId.toLowerCase()}:${thresholdDays === 0 ? 'expired' : `${thresholdDays}d`}`;
}

/** The most urgent threshold that applies to a secret right now, or null when it is further away than all of them. */
export function applicableThreshold(endDateTime: string, now: Date, thresholds: readonly number[] = REMINDER_THRESHOLDS_DAYS): number | null {
  const leftMs = new Date(endDateTime).getTime() - now.getTime();
  if (Number.isNaN(leftMs)) return null;
  if (leftMs <= 0) return 0;
  const hit = [...thresholds].sort((a, b) => a - b).find((t) => leftMs <= t * DAY_MS);
  return hit ?? null;
}

/**
 * The reminders due now. Each candidate is offered to `markOnce(key)`; only the ones it accepts (first time ever)
 * are returned. Call this from a daily (or more frequent) timer; calling it again is harmless.
 */
export function dueExpiryReminders(
  registrations: RegistrationForReminder[],
  now: Date,
  markOnce: (key: string) => boolean,
  opts: { thresholds?: readonly number[]; includeExpired?: boolean } = {},
): ExpiryReminder[] {
  const thresholds = opts.thresholds ?? REMINDER_THRESHOLDS_DAYS;
  const includeExpired = opts.includeExpired ?? true;
  const out: ExpiryReminder[] = [];
  for (const reg of registrations) {
    for (const s of reg.secrets) {
      const t = applicableThreshold(s.endDateTime, now, thresholds);
      if (t === null || (t === 0 && !includeExpired)) continue;
      const key = reminderKey(reg.appId, s.keyId, t);
      if (!markOnce(key)) continue;
      const end = new Date(s.endDateTime).getTime();
      out.push({
        appId: reg.appId,
        appDisplayName: reg.appDisplayName,
        keyId: s.keyId,
        secretDisplayName: s.displayName,
        endDateTime: s.endDateTime,
        thresholdDays: t,
        daysLeft: Math.floor((end - now.getTime()) / DAY_MS),
        expired: t === 0,
        newerSecretExists: reg.secrets.some((o) => o.keyId !== s.keyId && new Date(o.endDateTime).getTime() > end),
        key,
      });
    }
  }
  return out.sort((a, b) => a.endDateTime.localeCompare(b.endDateTime));
}

/** Every secret that expires within `days` (or has expired), without firing anything: for `opter-mail expiring`. */
export function secretsExpiringWithin(registrations: RegistrationForReminder[], now: Date, days: number): Omit<ExpiryReminder, 'key' | 'thresholdDays'>[] {
  const limit = now.getTime() + days * DAY_MS;
  const out: Omit<ExpiryReminder, 'key' | 'thresholdDays'>[] = [];
  for (const reg of registrations) {
    for (const s of reg.secrets) {
      const end = new Date(s.endDateTime).getTime();
      if (Number.isNaN(end) || end > limit) continue;
      out.push({
        appId: reg.appId,
        appDisplayName: reg.appDisplayName,
        keyId: s.keyId,
        secretDisplayName: s.displayName,
        endDateTime: s.endDateTime,
        daysLeft: Math.floor((end - now.getTime()) / DAY_MS),
        expired: end <= now.getTime(),
        newerSecretExists: reg.secrets.some((o) => o.keyId !== s.keyId && new Date(o.endDateTime).getTime() > end),
      });
    }
  }
  return out.sort((a, b) => a.endDateTime.localeCompare(b.endDateTime));
}
