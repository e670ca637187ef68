/**
 * Teams renders a TextBlock's text and a Fact's title and value as markdown (a CommonMark subset: bold, italic,
 * lists, links), and Adaptive Cards replaces {{DATE(…)}} / {{TIME(…)}} in them. A value someone typed (an app
 * name, an address, a reason, a person's name) must read on the card exactly as typed, so it goes through
 * escapeMarkdown before it joins card text. TextRuns (elements.plainText), input values, choice and action titles
 * are never parsed as markdown and must not be escaped. Sources: docs/security.md, "Names a reviewer can trust".
 */

/** Characters that open or close an inline construct anywhere in a line: emphasis, code, strike-through, links, HTML, templates. */
const INLINE = /[\\*_~`[\]<{]/;
/** An HTML entity reference, which CommonMark decodes (`&amp;` would show as `&`). */
const ENTITY = /^&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});/;
/** What makes a line a heading, quote, list item or ordered list item (CommonMark block starts). */
const BLOCK_START = /^(\s*)(#{1,6}(?=\s|$)|>|[-+](?=\s|$)|\d{1,9}(?=[.)](?:\s|$)))/;

/**
 * `value` with CommonMark backslash escapes (https://spec.commonmark.org/0.31.2/#backslash-escapes) in front of
 * every character that would otherwise format it, so it renders literally. Escapes only what can format: a
 * client that showed backslashes would show few of them.
 */
export function escapeMarkdown(value: string): string {
  return value
    .split('\n')
    .map((line) => {
      let out = '';
      for (let i = 0; i < line.length; i++) {
        const ch = line[i]!;
        out += (INLINE.test(ch) || (ch === '&' && ENTITY.test(line.slice(i))) ? '\\' : '') + ch;
      }
      // A digit run is escaped after it ("1\. x"); the other block starts before their marker ("\- x").
      return out.replace(BLOCK_START, (_whole, indent: string, marker: string) => (/^\d/.test(marker) ? `${indent}${marker}\\` : `${indent}\\${marker}`));
    })
    .join('\n');
}
