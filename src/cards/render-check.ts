/**
 * Test support: what a reader sees of a card's text. Markdown fields (TextBlock text, fact titles and values) go
 * through the adaptivecards library's own DATE/TIME formatter, then the playground's Teams markdown subset (what
 * `npm start` shows, backslash escapes included); TextRuns, inputs, choices and buttons are shown as they are.
 * Imports the adaptivecards sources directly, which works under vitest only (see card-check.ts): never call it
 * from production code.
 */
import { formatText } from 'adaptivecards/lib/text-formatters';
import { renderMarkdown } from '../playground/static/markdown.js';

export interface RenderedMarkdown {
  html: string;
  /** The text a reader sees: tags stripped, entities decoded, paragraphs and list items on their own lines. */
  shown: string;
}

export function renderCardMarkdown(markdown: string): RenderedMarkdown {
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

/** Every string a reader sees on the card, and the HTML of its markdown fields. */
export function visibleTexts(card: unknown): { shown: string[]; html: string[] } {
  const shown: string[] = [];
  const html: string[] = [];
  const markdown = (text: unknown) => {
    if (typeof text !== 'string') return;
    const r = renderCardMarkdown(text);
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

/** Markdown the cards write on purpose: the only emphasis a rendered card may hold. */
export const INTENDED_STRONG: ReadonlySet<string> = new Set(['Mail.Send', 'Servers', 'Ms Graph Tenant ID', 'Ms Graph Client ID', 'Ms Graph Client Secret', 'Test email']);

/** Formatting in the card's rendered markdown that the card did not write on purpose (should be empty). */
export function unintendedFormatting(card: unknown): string[] {
  const found: string[] = [];
  for (const h of visibleTexts(card).html) {
    for (const m of h.matchAll(/<(em|code|a|del|h\d|blockquote)\b[^>]*>/g)) found.push(`${m[0]} in ${h}`);
    for (const m of h.matchAll(/<strong>(.*?)<\/strong>/g)) if (!INTENDED_STRONG.has(m[1]!)) found.push(`${m[0]} in ${h}`);
  }
  return found;
}
