import { formatText } from 'adaptivecards/lib/text-formatters';
import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../playground/static/markdown.js';
import { SAMPLE_NAMES, cardGallery, type GalleryNames } from './gallery';
import { escapeMarkdown } from './markdown';

/**
 * A markdown field the way a TextBlock renders it: the adaptivecards library's own DATE/TIME formatter, then the
 * playground's Teams markdown subset (what `npm start` shows), then the tags stripped and entities decoded.
 */
function render(markdown: string): { html: string; shown: string } {
  const html = renderMarkdown(formatText('en', markdown) ?? '');
  const shown = html
    .replace(/<\/(p|li)>|<br>/g, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .trim();
  return { html, shown };
}

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

// Markdown the cards themselves write on purpose: the only emphasis a rendered card may contain.
const INTENDED_STRONG = new Set(['Mail.Send', 'Servers', 'Ms Graph Tenant ID', 'Ms Graph Client ID', 'Ms Graph Client Secret', 'Test email']);

/** Every string a reader sees on the card: markdown fields rendered, TextRuns, inputs, choices and buttons as they are. */
function visibleTexts(card: unknown): { shown: string[]; html: string[] } {
  const shown: string[] = [];
  const html: string[] = [];
  const markdown = (text: unknown) => {
    if (typeof text !== 'string') return;
    const r = render(text);
    shown.push(r.shown);
    html.push(r.html);
  };
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    if (n.type === 'TextBlock') return markdown(n.text);
    if (n.type === 'FactSet') {
      for (const f of n.facts as Array<{ title: string; value: string }>) {
        markdown(f.title);
        markdown(f.value);
      }
      return;
    }
    for (const key of ['text', 'title', 'value', 'label', 'placeholder']) if (typeof n[key] === 'string') shown.push(n[key] as string);
    for (const value of Object.values(n)) if (value && typeof value === 'object') visit(value);
  };
  visit(card);
  return { shown, html };
}

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
      const { shown, html } = visibleTexts(entry.card);
      const expected = visibleTexts(plain[i]!.card).shown;
      // Each place the sample card shows a sample name from its model, the hostile card shows the hostile one exactly
      // as typed (fixed texts, like the help card's examples, keep the sample name).
      for (const key of ['app', 'person', 'sender'] as const) {
        const seen = occurrences(shown, names[key]) + occurrences(shown, SAMPLE_NAMES[key]);
        expect(seen, `${entry.name}: ${key}\n${shown.join('\n')}`).toBe(occurrences(expected, SAMPLE_NAMES[key]));
        total[key] += occurrences(shown, names[key]);
      }
      for (const h of html) {
        expect(h, entry.name).not.toMatch(/<(em|code|a|del|h\d|blockquote)\b/);
        for (const m of h.matchAll(/<strong>(.*?)<\/strong>/g)) expect(INTENDED_STRONG, `${entry.name}: ${h}`).toContain(m[1]);
      }
    }
    for (const key of ['app', 'person', 'sender'] as const) expect(total[key], key).toBeGreaterThan(5);
  });

  it('the sample gallery shows each sample name somewhere', () => {
    const all = plain.flatMap((e) => visibleTexts(e.card).shown);
    for (const key of ['app', 'person', 'sender'] as const) expect(occurrences(all, SAMPLE_NAMES[key])).toBeGreaterThan(5);
  });
});
