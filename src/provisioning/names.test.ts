import { describe, expect, it } from 'vitest';
import {
  addYearsUtc,
  deriveNames,
  formatRoundTripUtc,
  invisibleCharacters,
  nameWarnings,
  normalizeName,
  scriptMix,
  showInvisible,
  toAlias,
  typedNameProblem,
  typedTextProblem,
} from './names';

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

describe('characters a typed name may not hold', () => {
  // The list, the Default_Ignorable_Code_Point edges and the non-DI characters refused on purpose.
  it.each([
    ['U+034F COMBINING GRAPHEME JOINER', '\u034f', '\\u034f'],
    ['U+115F HANGUL CHOSEONG FILLER', '\u115f', '\\u115f'],
    ['U+1160 HANGUL JUNGSEONG FILLER', '\u1160', '\\u1160'],
    ['U+3164 HANGUL FILLER', '\u3164', '\\u3164'],
    ['U+FFA0 HALFWIDTH HANGUL FILLER', '\uffa0', '\\uffa0'],
    ['U+180E MONGOLIAN VOWEL SEPARATOR', '\u180e', '\\u180e'],
    ['U+2800 BRAILLE PATTERN BLANK', '\u2800', '\\u2800'],
    ['U+2028 LINE SEPARATOR', '\u2028', '\\u2028'],
    ['U+2029 PARAGRAPH SEPARATOR', '\u2029', '\\u2029'],
    ['U+E0000 (first tag code point)', '\u{e0000}', '\\u{e0000}'],
    ['U+E0041 TAG LATIN CAPITAL LETTER A', '\u{e0041}', '\\u{e0041}'],
    ['U+E007F CANCEL TAG', '\u{e007f}', '\\u{e007f}'],
    ['U+FE0F VARIATION SELECTOR-16', '\ufe0f', '\\ufe0f'],
    ['U+E0100 VARIATION SELECTOR-17', '\u{e0100}', '\\u{e0100}'],
    ['U+061C ARABIC LETTER MARK', '\u061c', '\\u061c'],
    ['U+2065 (reserved, default-ignorable)', '\u2065', '\\u2065'],
    ['U+FFF9 INTERLINEAR ANNOTATION ANCHOR (format, not DI)', '\ufff9', '\\ufff9'],
    ['U+0085 NEXT LINE', '\u0085', '\\u0085'],
    ['a lone surrogate', '\ud800', '\\ud800'],
  ])('%s', (_what, char, shown) => {
    const problem = typedNameProblem('app display name', `Opter${char}Mail`);
    expect(problem).toContain('The app display name contains invisible, control or text-direction characters');
    expect(problem).toContain(`(${shown})`);
  });

  it('covers every Default_Ignorable_Code_Point, checked against a table of the property\'s ranges', () => {
    // DerivedCoreProperties.txt (Unicode 15.1), Default_Ignorable_Code_Point.
    const ranges: Array<[number, number]> = [
      [0xad, 0xad], [0x34f, 0x34f], [0x61c, 0x61c], [0x115f, 0x1160], [0x17b4, 0x17b5], [0x180b, 0x180f], [0x200b, 0x200f],
      [0x202a, 0x202e], [0x2060, 0x206f], [0x3164, 0x3164], [0xfe00, 0xfe0f], [0xfeff, 0xfeff], [0xffa0, 0xffa0],
      [0xfff0, 0xfff8], [0x1bca0, 0x1bca3], [0x1d173, 0x1d17a], [0xe0000, 0xe0fff],
    ];
    for (const [from, to] of ranges) {
      for (let cp = from; cp <= to; cp++) expect(invisibleCharacters(String.fromCodePoint(cp)), cp.toString(16)).toHaveLength(1);
    }
  });

  it('names each offending character once, in order', () => {
    expect(typedNameProblem('group name', 'a\u3164b\u200bc\u3164')).toContain('(\\u3164, \\u200b)');
  });

  it('keeps C0 controls, then links, as their own messages', () => {
    expect(typedNameProblem('secret name', 'a\nb')).toBe('The secret name contains control characters.');
    expect(typedNameProblem('app display name', 'Opter [x](https://e.example)')).toMatch(/contains a link/);
  });

  it('accepts ordinary names: letters of any script, spaces (also no-break), punctuation, emoji without selectors', () => {
    for (const name of ['OpterMessageProxy', 'Åkeri Östergården AB', 'Opter\u00a0Mail', 'Frakt 🚚 Express', '数字２０２６', 'Opter [Test] (EU)', 'Москва']) {
      expect(typedNameProblem('app display name', name), name).toBeNull();
    }
  });

  it('lets free text keep its line breaks and tabs, but nothing invisible', () => {
    expect(typedTextProblem('reason', 'Wrong domain.\n\tUse nordics.')).toBeNull();
    expect(typedTextProblem('reason', 'Wrong \u202edomain')).toContain('(\\u202e)');
    expect(typedTextProblem('reason', 'a\u2028b')).toContain('(\\u2028)');
  });

  it('writes the characters it refuses visibly when a message quotes the input', () => {
    expect(showInvisible('in\u3164fo\u{e0041}@x.se')).toBe('in\\u3164fo\\u{e0041}@x.se');
  });
});

describe('names mixing scripts', () => {
  it('finds one Cyrillic letter among Latin ones', () => {
    expect(scriptMix('Opter Mail Pr\u043exy')).toEqual({ main: 'Latin', others: [{ script: 'Cyrillic', letters: ['\u043e'] }] });
  });

  it('finds Greek and a Latin letter in a Cyrillic name, the main script being the most frequent', () => {
    expect(scriptMix('Москвa')).toEqual({ main: 'Cyrillic', others: [{ script: 'Latin', letters: ['a'] }] });
    expect(scriptMix('Opter \u039f\u03c1')?.others).toEqual([{ script: 'Greek', letters: ['\u039f', '\u03c1'] }]);
  });

  it('ignores names of one script, digits, punctuation and the ordinary East Asian mixes (UTS #39 Highly Restrictive)', () => {
    for (const name of ['OpterMessageProxy', 'Åkeri Östergården AB', 'Москва 2026', 'Opter 数字', 'Opter 日本語 カタカナ ひらがな', 'Opter 한국어 漢字', '2026 - ! ?']) {
      expect(scriptMix(name), name).toBeNull();
    }
    expect(scriptMix('Opter 한국어 カタカナ')).not.toBeNull();
  });

  it('counts letters of scripts outside the recommended list as another script', () => {
    expect(scriptMix('Opter \u13a0')?.others).toEqual([{ script: 'Other', letters: ['\u13a0'] }]); // CHEROKEE LETTER A
  });

  it('says it in plain words, with the code points', () => {
    expect(nameWarnings([['app name', 'Opter Mail Pr\u043exy']])).toEqual([
      '⚠ The app name contains Cyrillic letters: \u043e (U+043E), mixed with Latin letters. Look-alike letters can make it read as another name.',
    ]);
  });

  it('reports a look-alike letter once, not again for the group name derived from the app name', () => {
    const app = 'Pr\u043exy';
    expect(nameWarnings([['app name', app], ['group name', `${app} - MailSend Allowed`], ['secret name', 'proxy-secret']])).toHaveLength(1);
    expect(nameWarnings([['app name', app], ['group name', 'Gr\u043eup \u0440']])).toHaveLength(2);
  });

  it('lists at most eight letters', () => {
    const warning = nameWarnings([['app name', `${'x'.repeat(20)} абвгдежзий`]])[0]!;
    expect(warning).toContain('and 2 more');
  });
});
