import { describe, expect, it } from 'vitest';
import { addYearsUtc, deriveNames, formatRoundTripUtc, normalizeName, toAlias } from './names';

describe('Normalize-Name (regmsgraph.ps1)', () => {
  it.each([
    ['OpterMessageProxy', 'OpterMessageProxy'],
    ['OpterMessageProxy-centraleurope', 'OpterMessageProxy-centraleurope'],
    ['  Opter   Message\tProxy  ', 'Opter Message Proxy'],
    ['Åkeri Östergården AB', 'Åkeri Östergården AB'],
    ["O'Neil \"Transport\" (Nordics)", 'O Neil Transport Nordics'],
    ['Frakt 🚚 Express', 'Frakt Express'],
    ['a_b.c,d', 'a b c d'],
    ['Transport—Firman', 'Transport Firman'], // em dash is not a hyphen-minus
    ['数字２０２６', '数字２０２６'], // CJK letters and full-width digits are \p{L}/\p{Nd}
  ])('%j → %j', (input, expected) => {
    expect(normalizeName(input)).toBe(expected);
  });
});

describe('To-Alias (regmsgraph.ps1)', () => {
  it.each([
    ['OpterMessageProxy', 'optermessageproxy'],
    ['OpterMessageProxy-centraleurope', 'optermessageproxy-centraleurope'],
    ['Opter Message Proxy', 'opter-message-proxy'],
    ['Åkeri Östergården AB', 'keri-stergrden-ab'],
    ['--a -- b--', 'a-b'],
    ['Frakt Express', 'frakt-express'],
  ])('%j → %j', (input, expected) => {
    expect(toAlias(input)).toBe(expected);
  });

  it('cuts at 64 characters and trims a trailing hyphen left by the cut', () => {
    const name = `${'a'.repeat(63)} bbbb`;
    expect(toAlias(name)).toBe('a'.repeat(63));
    expect(toAlias('x'.repeat(200))).toHaveLength(64);
  });

  it('throws E_ALIAS_EMPTY when nothing Latin remains', () => {
    expect(() => toAlias(normalizeName('Åäö 🚚'))).toThrowError(/E_ALIAS_EMPTY/);
    expect(() => toAlias(normalizeName('数字'))).toThrowError(/Could not derive a valid alias from AppDisplayName '数字'/);
  });
});

describe('derived names', () => {
  it('matches the script for the default name', () => {
    expect(deriveNames('OpterMessageProxy')).toEqual({
      appDisplayName: 'OpterMessageProxy',
      baseName: 'OpterMessageProxy',
      aliasBase: 'optermessageproxy',
      secretDisplayName: 'optermessageproxy-secret',
      groupName: 'OpterMessageProxy - MailSend Allowed',
      groupAlias: 'optermessageproxy-mailsend-allowed',
    });
  });

  it('matches the script for the multiple-domains example', () => {
    const n = deriveNames('OpterMessageProxy-centraleurope');
    expect(n.groupName).toBe('OpterMessageProxy-centraleurope - MailSend Allowed');
    expect(n.groupAlias).toBe('optermessageproxy-centraleurope-mailsend-allowed');
    expect(n.secretDisplayName).toBe('optermessageproxy-centraleurope-secret');
  });

  it('keeps Swedish letters in the group name but not in aliases', () => {
    const n = deriveNames('Åkeri Öst');
    expect(n.groupName).toBe('Åkeri Öst - MailSend Allowed');
    expect(n.groupAlias).toBe('keri-st-mailsend-allowed');
  });

  it('cuts a long group alias to 64 and trims hyphens, like the script', () => {
    const n = deriveNames('y'.repeat(200));
    expect(n.aliasBase).toHaveLength(64);
    expect(n.groupAlias).toBe('y'.repeat(64));
    expect(n.groupName).toBe(`${'y'.repeat(200)} - MailSend Allowed`);
  });

  it('uses overrides when given', () => {
    const n = deriveNames('OpterMessageProxy', { groupName: 'Opter senders', groupAlias: 'opter-senders', secretDisplayName: 's1' });
    expect(n).toMatchObject({ groupName: 'Opter senders', groupAlias: 'opter-senders', secretDisplayName: 's1' });
  });
});

describe('secret end date like .NET AddYears + ToString("o")', () => {
  it('adds years and prints 7 fractional digits', () => {
    expect(formatRoundTripUtc(addYearsUtc(new Date('2026-11-27T07:01:02.345Z'), 10))).toBe('2036-11-27T07:01:02.3450000Z');
  });
  it('clamps Feb 29 to Feb 28', () => {
    expect(addYearsUtc(new Date('2028-02-29T12:00:00Z'), 1).toISOString()).toBe('2029-02-28T12:00:00.000Z');
  });
});
