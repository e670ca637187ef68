/**
 * The slice of OData URL syntax Graph clients use here: `$filter` equality clauses joined by `and`, string
 * literals with '' as the escaped quote [DOC G12], alternate-key segments such as `applications(appId='…')`, and
 * `$select`.
 */

export interface EqClause {
  property: string;
  value: string;
}

export type FilterParse = { ok: true; clauses: EqClause[] } | { ok: false; message: string };

/** Reads a single-quoted OData string literal starting at `i` (which must be a quote). */
function readLiteral(s: string, i: number): { value: string; end: number } | null {
  if (s[i] !== "'") return null;
  let out = '';
  let j = i + 1;
  while (j < s.length) {
    if (s[j] === "'") {
      if (s[j + 1] === "'") {
        out += "'";
        j += 2;
        continue;
      }
      return { value: out, end: j + 1 };
    }
    out += s[j];
    j++;
  }
  return null;
}

/** Parses `prop eq 'literal' [and prop eq 'literal' ...]`. Anything else is reported as unsupported. */
export function parseEqFilter(filter: string): FilterParse {
  const clauses: EqClause[] = [];
  let i = 0;
  const s = filter;
  const skipWs = () => {
    while (i < s.length && /\s/.test(s[i]!)) i++;
  };
  for (;;) {
    skipWs();
    const m = /^[A-Za-z_][A-Za-z0-9_/]*/.exec(s.slice(i));
    if (!m) return { ok: false, message: `Invalid filter clause: syntax error at position ${i} in '${filter}'.` };
    const property = m[0];
    i += property.length;
    skipWs();
    if (s.slice(i, i + 2).toLowerCase() !== 'eq' || !/\s/.test(s[i + 2] ?? '')) {
      return { ok: false, message: `Unsupported or invalid query filter clause specified for property '${property}' of resource '{resource}'.` };
    }
    i += 2;
    skipWs();
    const lit = readLiteral(s, i);
    if (!lit) return { ok: false, message: `Invalid filter clause: unterminated or missing string literal at position ${i} in '${filter}'.` };
    clauses.push({ property, value: lit.value });
    i = lit.end;
    skipWs();
    if (i >= s.length) return { ok: true, clauses };
    if (s.slice(i, i + 3).toLowerCase() === 'and' && /\s/.test(s[i + 3] ?? '')) {
      i += 3;
      continue;
    }
    return { ok: false, message: `Invalid filter clause: syntax error at position ${i} in '${filter}'.` };
  }
}

export interface KeySegment {
  collection: string;
  key: string | null;
  value: string;
}

/**
 * `applications(appId='x')` → { collection: 'applications', key: 'appId', value: 'x' };
 * `applications('x')` → key null. The segment must already be percent-decoded.
 */
export function parseKeySegment(segment: string): KeySegment | null {
  const m = /^([A-Za-z]+)\((?:([A-Za-z]+)=)?('.*')\)$/s.exec(segment);
  if (!m) return null;
  const lit = readLiteral(m[3]!, 0);
  if (!lit || lit.end !== m[3]!.length) return null;
  return { collection: m[1]!, key: m[2] ?? null, value: lit.value };
}

/** Applies `$select` to one entity: keeps listed properties and OData annotations. */
export function applySelect(entity: Record<string, unknown>, select: string | null): Record<string, unknown> {
  if (!select) return entity;
  const wanted = select.split(',').map((s) => s.trim()).filter(Boolean);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(entity)) {
    if (k.startsWith('@odata.') || wanted.some((w) => w.toLowerCase() === k.toLowerCase())) out[k] = v;
  }
  return out;
}

/**
 * Splits a Graph path into segments, percent-decoding each one but keeping '/' inside quotes intact
 * (e.g. `applications(uniqueName='a/b')`).
 */
export function splitPath(pathname: string): string[] {
  const decoded = (() => {
    try {
      return decodeURIComponent(pathname);
    } catch {
      return pathname;
    }
  })();
  const out: string[] = [];
  let cur = '';
  let inQuote = false;
  for (let i = 0; i < decoded.length; i++) {
    const ch = decoded[i]!;
    if (ch === "'") {
      if (inQuote && decoded[i + 1] === "'") {
        cur += "''";
        i++;
        continue;
      }
      inQuote = !inQuote;
    }
    if (ch === '/' && !inQuote) {
      if (cur) out.push(cur);
      cur = '';
      continue;
    }
    cur += ch;
  }
  if (cur) out.push(cur);
  return out;
}
