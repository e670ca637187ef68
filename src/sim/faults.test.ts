import { describe, expect, test } from 'vitest';
import { FaultEngine, parseIsoDurationMs, validateFaults } from './faults';

describe('parseIsoDurationMs', () => {
  test.each([
    ['P90D', 90 * 86_400_000],
    ['P1Y', 365 * 86_400_000],
    ['PT12H', 12 * 3_600_000],
    ['P1DT1H30M', 86_400_000 + 5_400_000],
    ['PT0.5S', 500],
  ])('%s', (s, ms) => expect(parseIsoDurationMs(s)).toBe(ms));
  test.each(['90D', 'P', 'PT', 'P1H', ''])('rejects %s', (s) => expect(parseIsoDurationMs(s)).toBeNull());
});

describe('FaultEngine.decide', () => {
  test('every: N throttles exactly every Nth request of the listed families', () => {
    const f = new FaultEngine({ throttle: { every: 3, retryAfterSeconds: 2, families: ['graph'] } }, 1);
    const kinds = Array.from({ length: 6 }, () => f.decide('graph')?.kind ?? 'ok');
    expect(kinds).toEqual(['ok', 'ok', 'throttle', 'ok', 'ok', 'throttle']);
    expect(f.decide('exchange')).toBeNull();
  });
  test('a throttle without every/share throttles everything; Retry-After is carried', () => {
    const f = new FaultEngine({ throttle: { retryAfterSeconds: 4 } }, 1);
    expect(f.decide('token')).toEqual({ kind: 'throttle', retryAfterSeconds: 4 });
  });
  test('unavailable ends at untilEpochMs', () => {
    const f = new FaultEngine({ unavailable: { untilEpochMs: 1000 } }, 1);
    expect(f.decide('graph', 999)).toEqual({ kind: 'unavailable' });
    expect(f.decide('graph', 1000)).toBeNull();
  });
  test('share-based faults follow the seed', () => {
    const run = (seed: number) => {
      const f = new FaultEngine({ dropConnections: { share: 0.5 } }, seed);
      return Array.from({ length: 20 }, () => f.decide('exchange')?.kind ?? 'ok');
    };
    expect(run(3)).toEqual(run(3));
    expect(run(3)).toContain('drop');
    expect(run(3)).toContain('ok');
  });
  test('setting a new throttle restarts the every-N count', () => {
    const f = new FaultEngine({ throttle: { every: 2, retryAfterSeconds: 1 } }, 1);
    f.decide('graph');
    f.set({ throttle: { every: 2, retryAfterSeconds: 1 } });
    expect(f.decide('graph')).toBeNull();
    expect(f.decide('graph')?.kind).toBe('throttle');
  });
});

test('validateFaults refuses unknown keys and bad values', () => {
  expect(() => validateFaults({ latency: 5 })).toThrow(/unknown fault/);
  expect(() => validateFaults({ latencyMs: -1 })).toThrow();
  expect(() => validateFaults({ throttle: { every: 0, retryAfterSeconds: 1 } })).toThrow();
  expect(() => validateFaults({ maxPasswordLifetime: '90 days' })).toThrow();
  expect(validateFaults({ revokedPermissions: ['Mail.Send'] })).toEqual({ revokedPermissions: ['Mail.Send'] });
});
