import { describe, expect, it } from 'vitest';
import { SAMPLE_NAMES, cardGallery, type GalleryNames } from './gallery';
import { escapeMarkdown } from './markdown';
import { renderCardMarkdown as render, unintendedFormatting, visibleTexts } from './render-check';

describe('escapeMarkdown', () => {
  it.each([
    ['*bold* **strong**', '\\*bold\\* \\*\\*strong\\*\\*'],
    ['_italic_ a_b_c', '\\_italic\\_ a\\_b\\_c'],
    ['`code` ~~strike~~', '\\`code\\` \\~\\~strike\\~\\~'],
    ['[text] <b> {{DATE(x)}}', '\\[text\\] \\<b> \\{\\{DATE(x)}}'],
    ['back\\slash', 'back\\\\slash'],
    ['A &amp; B & C', 'A \\&amp; B & C'],
    ['- item', '\\- item'],
    ['+ item', '\\+ item'],
    ['1. first', '1\\. first'],
    ['2) second', '2\\) second'],
    ['# Heading', '\\# Heading'],
    ['> quote', '\\> quote'],
    ['#42 · 1.5 - 2 > 1', '#42 · 1.5 - 2 > 1'],
    ['Åkeri Öst (EU) - MailSend Allowed', 'Åkeri Öst (EU) - MailSend Allowed'],
  ])('%j → %j', (input, expected) => {
    expect(escapeMarkdown(input)).toBe(expected);
  });

  it.each([
    '*Opter* _Mail_',
    '**Approved** by `ceo`',
    '- 1. # > Opter',
    '[Approve] <i>now</i>',
    'x {{DATE(2026-03-02T14:00:00Z, SHORT)}} y',
    'A &amp; B &#42;',
    'a\\*b',
  ])('%j renders as typed, with no formatting', (input) => {
    const { html, shown } = render(escapeMarkdown(input));
    expect(shown).toBe(input);
    expect(html).not.toMatch(/<(em|strong|code|a|ul|ol|li|del|h\d|blockquote)\b/);
  });

  it('is needed: unescaped, the same text is formatted or changed', () => {
    expect(render('*Opter* _Mail_').html).toContain('<em>');
    expect(render('**Approved**').html).toContain('<strong>');
    expect(render('- Opter').html).toContain('<li>');
    expect(render('x {{DATE(2026-03-02T14:00:00Z, SHORT)}}').shown).not.toContain('DATE');
  });
});

const occurrences = (texts: string[], needle: string) => texts.reduce((sum, t) => sum + t.split(needle).length - 1, 0);

const HOSTILE: Array<[string, GalleryNames]> = [
  ['emphasis, code, HTML, templates', { app: '*Opter* _Mail_ `x` ~~y~~ <b>z</b> &amp; {{DATE(2026-03-02T14:00:00Z, SHORT)}} \\ [t]', person: '**Boss** _Approved_', sender: 'in_fo_x@contoso.com' }],
  ['block starts', { app: '- 1. # > Opter', person: '1) Boss', sender: '_info_@contoso.com' }],
];

describe('every card shows typed names literally', () => {
  const plain = cardGallery();

  it.each(HOSTILE)('%s', (_what, names) => {
    const hostile = cardGallery(names);
    const total = { app: 0, person: 0, sender: 0 };
    for (const [i, entry] of hostile.entries()) {
      const { shown } = visibleTexts(entry.card);
      const expected = visibleTexts(plain[i]!.card).shown;
      // Each place the sample card shows a sample name from its model, the hostile card shows the hostile one exactly
      // as typed (fixed texts, like the help card's examples, keep the sample name).
      for (const key of ['app', 'person', 'sender'] as const) {
        const seen = occurrences(shown, names[key]) + occurrences(shown, SAMPLE_NAMES[key]);
        expect(seen, `${entry.name}: ${key}\n${shown.join('\n')}`).toBe(occurrences(expected, SAMPLE_NAMES[key]));
        total[key] += occurrences(shown, names[key]);
      }
      expect(unintendedFormatting(entry.card), entry.name).toEqual([]);
    }
    for (const key of ['app', 'person', 'sender'] as const) expect(total[key], key).toBeGreaterThan(5);
  });

  it('the sample gallery shows each sample name somewhere', () => {
    const all = plain.flatMap((e) => visibleTexts(e.card).shown);
    for (const key of ['app', 'person', 'sender'] as const) expect(occurrences(all, SAMPLE_NAMES[key])).toBeGreaterThan(5);
  });
});
