/**
 * Client-secret lifetime: the script's "now + N years", clamped to the tenant's app-management policy
 * (policies/defaultAppManagementPolicy → passwordCredentials[restrictionType=passwordLifetime].maxLifetime, an
 * ISO-8601 duration; docs/microsoft-facts.md §4).
 */
import type { AppManagementPolicy } from '../core/ports';
import { addYearsUtc } from './names';

export interface IsoDuration {
  years: number;
  months: number;
  days: number;
  hours: number;
  minutes: number;
  seconds: number;
}

export function parseIsoDuration(text: string): IsoDuration {
  const m = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(text.trim());
  if (!m || text.trim() === 'P' || text.trim().endsWith('T')) throw new Error(`Not an ISO-8601 duration: ${text}`);
  const n = (s: string | undefined) => (s ? Number(s) : 0);
  return { years: n(m[1]), months: n(m[2]), days: n(m[3]) * 7 + n(m[4]), hours: n(m[5]), minutes: n(m[6]), seconds: n(m[7]) };
}

export function addDuration(from: Date, d: IsoDuration): Date {
  let t = addYearsUtc(from, d.years);
  if (d.months) {
    const y = t.getUTCFullYear();
    const mo = t.getUTCMonth() + d.months;
    const lastDay = new Date(Date.UTC(y, mo + 1, 0)).getUTCDate();
    t = new Date(Date.UTC(y, mo, Math.min(t.getUTCDate(), lastDay), t.getUTCHours(), t.getUTCMinutes(), t.getUTCSeconds(), t.getUTCMilliseconds()));
  }
  return new Date(t.getTime() + ((d.days * 24 + d.hours) * 60 + d.minutes) * 60_000 + d.seconds * 1000);
}

export interface SecretLifetime {
  endDateTime: Date;
  clamped: boolean;
  requestedEnd: Date;
  maxLifetime: string | null;
}

export function secretLifetime(now: Date, years: number, maxLifetime: string | null): SecretLifetime {
  const requestedEnd = addYearsUtc(now, years);
  if (!maxLifetime) return { endDateTime: requestedEnd, clamped: false, requestedEnd, maxLifetime };
  // A minute of margin: the service compares against its own clock when the request arrives.
  const policyEnd = new Date(addDuration(now, parseIsoDuration(maxLifetime)).getTime() - 60_000);
  if (policyEnd < requestedEnd) return { endDateTime: policyEnd, clamped: true, requestedEnd, maxLifetime };
  return { endDateTime: requestedEnd, clamped: false, requestedEnd, maxLifetime };
}

/** What an app management policy means for a new client secret on an app created at `appCreatedAt`. */
export interface SecretPolicyVerdict {
  /** Client secrets are forbidden (`passwordAddition`). */
  blocked: boolean;
  /** The shortest lifetime cap that applies, or null. */
  maxLifetime: string | null;
  policy: Pick<AppManagementPolicy, 'source' | 'id' | 'displayName'>;
  /** restrictForAppsCreatedAfter of the blocking restriction (null: every app). */
  blockedForAppsCreatedAfter: string | null;
}

/**
 * Only an enabled policy counts, and of it only enabled restrictions whose `restrictForAppsCreatedAfterDateTime`
 * the app's creation reaches (docs/permissions.md, "Tenants that forbid client secrets").
 */
export function evaluateSecretPolicy(policy: AppManagementPolicy, appCreatedAt: Date): SecretPolicyVerdict {
  const verdict: SecretPolicyVerdict = { blocked: false, maxLifetime: null, policy: { source: policy.source, id: policy.id, displayName: policy.displayName }, blockedForAppsCreatedAfter: null };
  if (!policy.isEnabled) return verdict;
  const applies = policy.passwordCredentials.filter((r) => r.enabled && (!r.restrictForAppsCreatedAfter || appCreatedAt.getTime() >= Date.parse(r.restrictForAppsCreatedAfter)));
  const block = applies.find((r) => r.restrictionType === 'passwordAddition');
  if (block) {
    verdict.blocked = true;
    verdict.blockedForAppsCreatedAfter = block.restrictForAppsCreatedAfter;
  }
  // Lifetimes compare by where they end from one fixed start.
  const epoch = new Date(0);
  for (const r of applies) {
    if (r.restrictionType !== 'passwordLifetime' || !r.maxLifetime) continue;
    let ends: number;
    try {
      ends = addDuration(epoch, parseIsoDuration(r.maxLifetime)).getTime();
    } catch {
      continue;
    }
    if (verdict.maxLifetime === null || ends < addDuration(epoch, parseIsoDuration(verdict.maxLifetime)).getTime()) verdict.maxLifetime = r.maxLifetime;
  }
  return verdict;
}
