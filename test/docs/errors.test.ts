import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE, exitCodeFor, type CatalogueEntry, type ErrorCode } from '../../src/core/errors';

const root = join(import.meta.dirname, '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

interface DocumentedCode {
  code: string;
  kind: string;
  title: string;
  line: number;
}

/** The rows of docs/errors.md: `| \`E_…\` | title | action |`, each under a `## <Kind>: … (exit code N)` heading. */
function documentedCodes(markdown: string): { rows: DocumentedCode[]; headings: { kind: string; exitCode: number }[] } {
  const rows: DocumentedCode[] = [];
  const headings: { kind: string; exitCode: number }[] = [];
  let kind = '';
  markdown.split('\n').forEach((text, i) => {
    const heading = /^## (\w+)\b.*\(exit code (\d+)\)\s*$/.exec(text);
    if (heading) {
      kind = heading[1].toLowerCase();
      headings.push({ kind, exitCode: Number(heading[2]) });
    }
    const row = /^\| `(E_[A-Z0-9_]+)` \| (.*?) \| /.exec(text);
    if (row) rows.push({ code: row[1], kind, title: row[2].replace(/\\\|/g, '|'), line: i + 1 });
  });
  return { rows, headings };
}

/** How docs/errors.md and a catalogue disagree, both ways; empty when they agree. */
function catalogueDrift(markdown: string, catalogue: Record<string, CatalogueEntry>): string[] {
  const { rows } = documentedCodes(markdown);
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const r of rows) {
    const entry = catalogue[r.code];
    if (seen.has(r.code)) problems.push(`line ${r.line}: ${r.code} is documented twice`);
    seen.add(r.code);
    if (!entry) problems.push(`line ${r.line}: ${r.code} is documented but is not in src/core/errors.ts`);
    else if (entry.category !== r.kind) problems.push(`line ${r.line}: ${r.code} is under "${r.kind}", the catalogue says "${entry.category}"`);
    else if (entry.title !== r.title) problems.push(`line ${r.line}: ${r.code}'s title is "${r.title}", the catalogue says "${entry.title}"`);
  }
  for (const [code, entry] of Object.entries(catalogue)) {
    if (!seen.has(code)) problems.push(`${code} is not documented; add under "${entry.category}": | \`${code}\` | ${entry.title} | ${entry.action} |`);
  }
  return problems;
}

describe('docs/errors.md documents the error catalogue', () => {
  const page = read('docs/errors.md');

  it('every code in src/core/errors.ts has a row under its kind with its title, and every row is a code that exists', () => {
    expect(catalogueDrift(page, ERROR_CATALOGUE)).toEqual([]);
  });

  it('each kind’s heading gives the CLI exit code of that kind', () => {
    const { headings } = documentedCodes(page);
    expect(headings.length).toBeGreaterThan(3);
    for (const h of headings) {
      const code = (Object.keys(ERROR_CATALOGUE) as ErrorCode[]).find((c) => ERROR_CATALOGUE[c].category === h.kind);
      expect(code, `no code of kind ${h.kind}`).toBeDefined();
      expect({ kind: h.kind, exitCode: h.exitCode }).toEqual({ kind: h.kind, exitCode: exitCodeFor(code!) });
    }
  });

  it('no page in docs/ nor the README names a code that does not exist', () => {
    const pages = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
    const unknown = pages.flatMap((p) => [...read(p).matchAll(/\bE_[A-Z0-9_]+\b/g)].map((m) => m[0]).filter((c) => !(c in ERROR_CATALOGUE)).map((c) => `${p}: ${c}`));
    expect(unknown).toEqual([]);
  });

  it('the comparison fails both ways: an undocumented code, a documented code that does not exist, a wrong kind or title', () => {
    const catalogue: Record<string, CatalogueEntry> = {
      E_KEPT: { category: 'input', title: 'Kept', action: 'Nothing.' },
      E_MOVED: { category: 'conflict', title: 'Moved', action: 'Nothing.' },
      E_NEW: { category: 'internal', title: 'New', action: 'Do it.' },
      E_RETITLED: { category: 'input', title: 'Right', action: 'Nothing.' },
    };
    const markdown = [
      '## Input: bad input (exit code 2)',
      '| `E_KEPT` | Kept | Nothing. |',
      '| `E_MOVED` | Moved | Nothing. |',
      '| `E_GONE` | Gone | Nothing. |',
      '| `E_RETITLED` | Wrong \\| title | Nothing. |',
      '## Conflict: state (exit code 5)',
      '| `E_KEPT` | Kept | Nothing. |',
    ].join('\n');
    expect(catalogueDrift(markdown, catalogue)).toEqual([
      'line 3: E_MOVED is under "input", the catalogue says "conflict"',
      'line 4: E_GONE is documented but is not in src/core/errors.ts',
      'line 5: E_RETITLED\'s title is "Wrong | title", the catalogue says "Right"',
      'line 7: E_KEPT is documented twice',
      'line 7: E_KEPT is under "conflict", the catalogue says "input"',
      'E_NEW is not documented; add under "internal": | `E_NEW` | New | Do it. |',
    ]);
  });
});
