import { describe, expect, it } from 'vitest';
import type { AppManagementPolicy } from '../core/ports';
import { addDuration, evaluateSecretPolicy, parseIsoDuration, secretLifetime } from './lifetime';

describe('secret lifetime clamped to the tenant policy', () => {
  const now = new Date('2026-11-27T08:00:00.000Z');

  it('parses the ISO-8601 durations the app-management policy uses', () => {
    expect(parseIsoDuration('P365D')).toMatchObject({ days: 365 });
    expect(parseIsoDuration('P2Y6M')).toMatchObject({ years: 2, months: 6 });
    expect(parseIsoDuration('PT12H30M')).toMatchObject({ hours: 12, minutes: 30 });
    expect(parseIsoDuration('P1W')).toMatchObject({ days: 7 });
    expect(() => parseIsoDuration('365 days')).toThrow();
    expect(() => parseIsoDuration('P')).toThrow();
  });

  it('keeps the script default of 10 years when no policy applies', () => {
    const l = secretLifetime(now, 10, null);
    expect(l.clamped).toBe(false);
    expect(l.endDateTime.toISOString()).toBe('2036-11-27T08:00:00.000Z');
  });

  it('shortens to the policy maximum (minus a minute of margin) and says so', () => {
    const l = secretLifetime(now, 10, 'P180D');
    expect(l.clamped).toBe(true);
    expect(l.endDateTime.toISOString()).toBe(new Date(addDuration(now, { years: 0, months: 0, days: 180, hours: 0, minutes: 0, seconds: 0 }).getTime() - 60_000).toISOString());
    expect(l.requestedEnd.toISOString()).toBe('2036-11-27T08:00:00.000Z');
  });

  it('does not lengthen a request shorter than the policy', () => {
    expect(secretLifetime(now, 1, 'P2Y').clamped).toBe(false);
  });
});

describe('evaluateSecretPolicy: what an app management policy means for a new secret', () => {
  const policy = (restrictions: AppManagementPolicy['passwordCredentials'], isEnabled = true): AppManagementPolicy => ({ source: 'tenant-default', id: 'p', displayName: 'Default', isEnabled, passwordCredentials: restrictions });
  const rule = (restrictionType: string, o: Partial<AppManagementPolicy['passwordCredentials'][number]> = {}) => ({ restrictionType, enabled: true, maxLifetime: null, restrictForAppsCreatedAfter: null, ...o });
  const created = new Date('2026-01-01T00:00:00Z');

  it('passwordAddition blocks apps created on or after its date, not older ones', () => {
    expect(evaluateSecretPolicy(policy([rule('passwordAddition', { restrictForAppsCreatedAfter: '2026-01-01T00:00:00Z' })]), created)).toMatchObject({ blocked: true, blockedForAppsCreatedAfter: '2026-01-01T00:00:00Z' });
    expect(evaluateSecretPolicy(policy([rule('passwordAddition', { restrictForAppsCreatedAfter: '2026-06-01T00:00:00Z' })]), created).blocked).toBe(false);
    expect(evaluateSecretPolicy(policy([rule('passwordAddition')]), created).blocked).toBe(true);
  });

  it('a disabled policy or restriction blocks nothing', () => {
    expect(evaluateSecretPolicy(policy([rule('passwordAddition')], false), created).blocked).toBe(false);
    expect(evaluateSecretPolicy(policy([rule('passwordAddition', { enabled: false })]), created).blocked).toBe(false);
  });

  it('the shortest applicable lifetime wins', () => {
    const v = evaluateSecretPolicy(policy([rule('passwordLifetime', { maxLifetime: 'P1Y' }), rule('passwordLifetime', { maxLifetime: 'P90D' }), rule('passwordLifetime', { maxLifetime: 'P7D', restrictForAppsCreatedAfter: '2027-01-01T00:00:00Z' })]), created);
    expect(v).toMatchObject({ blocked: false, maxLifetime: 'P90D' });
  });
});
