import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from './index';
import { manualClock, tempDataDir, type ManualClock } from './testing/helpers';

describe('KeyValueStore', () => {
  let clock: ManualClock;
  let store: Store;
  beforeEach(() => {
    clock = manualClock('2025-03-01T08:00:00.000Z');
    store = openStore({ memory: true, clock });
  });
  afterEach(() => store.close());

  it('markOnce is true the first time only', () => {
    expect(store.kv.markOnce('reminder:app-1:key-1:30d', { sentTo: 'owner' })).toBe(true);
    expect(store.kv.markOnce('reminder:app-1:key-1:30d')).toBe(false);
    expect(store.kv.markOnce('reminder:app-1:key-1:7d')).toBe(true);
    expect(store.kv.get('reminder:app-1:key-1:30d')).toEqual({
      key: 'reminder:app-1:key-1:30d',
      value: { sentTo: 'owner' },
      createdAt: '2025-03-01T08:00:00.000Z',
      updatedAt: '2025-03-01T08:00:00.000Z',
    });
  });

  it('set/get/has/delete and prefix listing', () => {
    store.kv.set('schedule:daily-check', { lastRun: 'x' });
    clock.advance(1000);
    store.kv.set('schedule:daily-check', { lastRun: 'y' });
    expect(store.kv.get('schedule:daily-check')).toMatchObject({ value: { lastRun: 'y' }, createdAt: '2025-03-01T08:00:00.000Z', updatedAt: '2025-03-01T08:00:01.000Z' });
    store.kv.set('reminder:a', 1);
    store.kv.set('reminder:b', 2);
    store.kv.set('reminders', 3);
    expect(store.kv.list('reminder:').map((e) => e.key)).toEqual(['reminder:a', 'reminder:b']);
    expect(store.kv.has('reminder:a')).toBe(true);
    expect(store.kv.delete('reminder:a')).toBe(true);
    expect(store.kv.delete('reminder:a')).toBe(false);
    expect(store.kv.deletePrefix('reminder:')).toBe(1);
    expect(store.kv.get('reminders')?.value).toBe(3);
    expect(store.kv.get('missing')).toBeNull();
  });

  it('a marker survives a restart, so a reminder does not fire twice', () => {
    const { dir, cleanup } = tempDataDir('kv');
    try {
      const a = openStore({ dataDir: dir });
      expect(a.kv.markOnce('reminder:app:key:1d')).toBe(true);
      a.close();
      const b = openStore({ dataDir: dir });
      expect(b.kv.markOnce('reminder:app:key:1d')).toBe(false);
      b.close();
    } finally {
      cleanup();
    }
  });
});
