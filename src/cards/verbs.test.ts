import { describe, expect, it } from 'vitest';
import { VERBS, VERB_DATA_KEYS, isVerb, readActionData } from './verbs';
import { cardAttachment, execute, formatUtc, refreshUserIds, relativeTo, adaptiveCard } from './elements';

describe('VERBS and their data keys', () => {
  it('declares data keys for every verb and only request/registration ids', () => {
    expect(Object.keys(VERB_DATA_KEYS).sort()).toEqual(Object.values(VERBS).sort());
    for (const keys of Object.values(VERB_DATA_KEYS)) for (const k of keys) expect(['requestId', 'registrationId']).toContain(k);
  });

  it('recognises only declared verbs', () => {
    expect(isVerb('reveal')).toBe(true);
    expect(isVerb('Reveal')).toBe(false);
    expect(isVerb(undefined)).toBe(false);
  });

  it('execute() copies only the verb’s declared keys into data, even when handed more', () => {
    const forged = { requestId: 'r1', requesterId: 'aad-1', isApprover: 'true' } as unknown as { requestId: string };
    const action = execute('approve', 'Approve', forged);
    expect(action).toEqual({ type: 'Action.Execute', title: 'Approve', verb: 'approve', associatedInputs: 'none', data: { requestId: 'r1' } });
    expect(execute('start-setup', 'Go', {})).not.toHaveProperty('data');
  });
});

describe('readActionData', () => {
  it('splits the verb’s keys from the user inputs', () => {
    expect(readActionData('reject', { requestId: 'r1', reason: 'no', verb: 'reject' })).toEqual({ data: { requestId: 'r1' }, inputs: { reason: 'no' } });
  });

  it('refuses a missing, empty or non-string id', () => {
    expect(readActionData('reveal', {})).toBeNull();
    expect(readActionData('reveal', { requestId: '  ' })).toBeNull();
    expect(readActionData('reveal', { requestId: 7 })).toBeNull();
    expect(readActionData('reveal', null)).toBeNull();
    expect(readActionData('repair', { requestId: 'r1' })).toBeNull();
  });

  it('drops non-string input values (not from one of our inputs)', () => {
    expect(readActionData('submit-request', { requestId: 'r1', senders: 'a@b.se', extra: { nested: 1 } })?.inputs).toEqual({ senders: 'a@b.se' });
  });
});

describe('refreshUserIds', () => {
  it('keeps unique user MRIs only, at most 60', () => {
    const ids = ['29:a', '29:a', 'aad-guid', '28:bot', '', '29:b'];
    expect(refreshUserIds(ids)).toEqual(['29:a', '29:b']);
    expect(refreshUserIds(Array.from({ length: 75 }, (_, i) => `29:u${i}`))).toHaveLength(60);
  });
});

describe('formatting helpers', () => {
  it('writes UTC times out in full, including .NET round-trip strings with 7 fraction digits', () => {
    expect(formatUtc('2026-03-02T14:05:59Z')).toBe('2 March 2026, 14:05 UTC');
    expect(formatUtc('2036-03-02T04:05:00.0000000Z')).toBe('2 March 2036, 04:05 UTC');
    expect(formatUtc('2026-03-02T23:30:00+02:00')).toBe('2 March 2026, 21:30 UTC');
    expect(formatUtc('not a date')).toBe('not a date');
  });

  it('says how far away a time is', () => {
    expect(relativeTo('2026-03-05T00:00:00Z', '2026-03-02T00:00:00Z')).toBe('in 3 days');
    expect(relativeTo('2026-03-02T05:00:00Z', '2026-03-02T00:00:00Z')).toBe('in 5 hours');
    expect(relativeTo('2026-03-01T00:00:00Z', '2026-03-02T00:00:00Z')).toBe('1 day ago');
  });

  it('wraps a card in the attachment content type Teams accepts', () => {
    const card = adaptiveCard([]);
    expect(cardAttachment(card)).toEqual({ contentType: 'application/vnd.microsoft.card.adaptive', content: card });
  });
});
