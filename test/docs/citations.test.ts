/**
 * Sources cited in this repository must be in this repository (or public URLs): code comments cite docs/ pages,
 * and a docs/ page carries the fact with its public source. This test fails on any mention of notes kept outside
 * the repository, and on a citation of a docs "facts" page section that does not exist.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

/** Not ours, generated, or local state (see .gitignore). */
const SKIP_DIRS = new Set(['node_modules', '.git', 'data', 'dist', 'coverage', 'artifacts', 'build', 'devTools']);
const TEXT = /\.(ts|js|mjs|cjs|json|md|yml|yaml|html|css|svg|txt)$|^[^.]+$|^\.[a-z]+$/;

function repositoryTexts(): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, e.name);
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name) && !e.name.startsWith('.localConfigs')) walk(full);
      } else if (e.isFile() && e.name !== '.git' && TEXT.test(e.name) && !/\.user$/.test(e.name) && statSync(full).size < 2_000_000) {
        out.push({ path: relative(root, full).split(sep).join('/'), text: readFileSync(full, 'utf8') });
      }
    }
  };
  walk(root);
  return out;
}

/** Written so that this file does not contain what it looks for. */
const OUTSIDE = [
  ['..', 'shared'].join('/'),
  ['', 'work', ''].join('/'),
  ['shared', 'reference'].join('/'),
  ['shared', 'seed'].join('/'),
  ['api', 'facts'].join('-'),
  ['anchors', 'finding'].join(' '),
  ['delegated', 'execution.md'].join('-'),
  ['architecture', 'sketch.md'].join('-'),
];

/** `docs/microsoft-facts.md §7.1–7.3, §8.4` and its forms: the page and every section number it names. */
const CITATION = /([\w./[\]-]*?)\b([a-z]+(?:-[a-z]+)*-facts)(\.md)?(\]\([\w./-]+\))? (§\d+(?:\.\d+)*(?:(?:\s*(?:,|and|–|-)\s*)§?\d+(?:\.\d+)*)*)/g;

interface Problem {
  path: string;
  line: number;
  problem: string;
}

const lineOf = (text: string, index: number) => text.slice(0, index).split('\n').length;

/** Section numbers a page defines: `## 7. …` → 7, `### 7.6 …` → 7.6. */
function sectionsOf(markdown: string): Set<string> {
  return new Set([...markdown.matchAll(/^#{2,4} (\d+(?:\.\d+)*)\.? /gm)].map((m) => m[1]));
}

function citationProblems(files: readonly { path: string; text: string }[], pages: ReadonlyMap<string, string>): Problem[] {
  const problems: Problem[] = [];
  for (const { path, text } of files) {
    for (const needle of OUTSIDE) {
      for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) {
        problems.push({ path, line: lineOf(text, i), problem: `names "${needle}", which is not in this repository` });
      }
    }
    for (const m of text.matchAll(CITATION)) {
      const [whole, prefix, name, md, link, sections] = m;
      const page = `docs/${name}.md`;
      const line = lineOf(text, m.index);
      const markdown = pages.get(page);
      if (markdown === undefined) {
        problems.push({ path, line, problem: `cites "${whole}", but ${page} does not exist` });
        continue;
      }
      const inDocs = path.startsWith('docs/');
      // docs/ pages may also cite a page by a relative markdown link to it, followed by the section.
      const relativeLink = inDocs && (prefix === '' || prefix.endsWith('[')) && (!link || link === `](${name}.md)`);
      const wellFormed = !!md && (prefix.endsWith('docs/') || relativeLink);
      if (!wellFormed) problems.push({ path, line, problem: `cites "${whole}"; write ${page} §…` });
      const defined = sectionsOf(markdown);
      for (const n of sections.match(/\d+(?:\.\d+)*/g) ?? []) {
        if (!defined.has(n)) problems.push({ path, line, problem: `cites ${page} §${n}, which has no such section` });
      }
    }
  }
  return problems;
}

describe('citations stay inside the repository', () => {
  it('no file names notes outside the repository, and every cited facts section exists', () => {
    const files = repositoryTexts();
    expect(files.some((f) => f.path === 'src/adapters/exchange.ts')).toBe(true);
    const pages = new Map(files.filter((f) => /^docs\/[^/]+\.md$/.test(f.path)).map((f) => [f.path, f.text]));
    expect(citationProblems(files, pages).map((p) => `${p.path}:${p.line}: ${p.problem}`)).toEqual([]);
  });

  it('the checker catches an outside path, an old-style citation, a missing page and a missing section', () => {
    // Built from parts, so that the real run over this file does not see these fixtures as citations.
    const mf = ['microsoft', 'facts'].join('-');
    const pages = new Map([[`docs/${mf}.md`, '## 7. Exchange\n### 7.6 Errors\n## 9. RBAC\n']]);
    const files = [
      { path: 'src/a.ts', text: `// ok (docs/${mf}.md §7.6, §9)\n// see ${OUTSIDE[0]}/notes.md` },
      { path: 'src/b.ts', text: `// (${mf} §7.6)\n// (docs/${mf}.md §7.1–7.6)` },
      { path: 'src/c.ts', text: `// docs/${['teams', 'facts'].join('-')}.md §2.3` },
      { path: 'docs/d.md', text: `As [${mf}.md](${mf}.md) §9 and docs/${mf}.md §9 say; not ${mf} §9.` },
    ];
    expect(citationProblems(files, pages).map((p) => `${p.path}:${p.line}: ${p.problem}`)).toEqual([
      `src/a.ts:2: names "${OUTSIDE[0]}", which is not in this repository`,
      `src/b.ts:1: cites "${mf} §7.6"; write docs/${mf}.md §…`,
      `src/b.ts:2: cites docs/${mf}.md §7.1, which has no such section`,
      `src/c.ts:1: cites "docs/teams-facts.md §2.3", but docs/teams-facts.md does not exist`,
      `docs/d.md:1: cites "${mf} §9"; write docs/${mf}.md §…`,
    ]);
  });
});
