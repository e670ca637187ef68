import { describe, expect, it } from 'vitest';
import { checkSenderSyntax, isValidAddress, parseSenderList, printable } from './senders';

describe('sender syntax', () => {
  it.each(['info@exempel.se', 'faktura@exempel.se', 'first.last+tag@sub.exempel.se', "o'neil@exempel.se"])('accepts %s', (a) => {
    expect(isValidAddress(a)).toBe(true);
  });
  it.each([
    'info', '@exempel.se', 'info@', 'a@b', 'a@@b.se', 'a b@exempel.se', 'a@exempel..se', 'a@-exempel.se', '.a@exempel.se',
    'info@exеmpel.se', // Cyrillic е: homoglyph domain
    'info@exempel.se\u202e', 'in\u0000fo@exempel.se', `${'a'.repeat(65)}@exempel.se`, `a@${'b'.repeat(250)}.se`,
  ])('rejects %j', (a) => {
    expect(isValidAddress(a)).toBe(false);
  });

  it('reports duplicates case-insensitively and keeps the order', () => {
    const p = checkSenderSyntax(['info@exempel.se', 'bad', 'INFO@exempel.se']);
    expect(p.map((x) => x.code)).toEqual(['E_SENDER_INVALID', 'E_SENDER_DUPLICATE']);
  });

  it('splits lists written by people', () => {
    expect(parseSenderList('info@exempel.se, faktura@exempel.se;\nkund@exempel.se  ')).toEqual(['info@exempel.se', 'faktura@exempel.se', 'kund@exempel.se']);
  });

  it('makes control and bidi characters visible in messages', () => {
    expect(printable('a\u202eb')).toBe('a\\u202eb');
    expect(printable('x'.repeat(200))).toHaveLength(80);
  });
});
