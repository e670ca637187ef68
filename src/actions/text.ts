/**
 * The typed message as the actions' command parsers read it. Matching is case-insensitive and tolerant of the small
 * variations people type ("setup opter mail", "Set-up Opter e-mail", one or two typos), but never guesses between
 * two commands: every parser is anchored at both ends. The text has already had the bot's @mention removed.
 */

/** One message, prepared once for every parser. */
export interface CommandText {
  /** As typed (trimmed): addresses are taken from here so punctuation inside them survives. */
  raw: string;
  /** normalizeCommandText(raw). */
  norm: string;
  /** norm without a polite opening ("please", "can you", …). */
  body: string;
  /** raw without markup, a polite opening and closing punctuation: app names keep their case. */
  phrase: string;
}

/** Lower-case, hyphens/underscores as spaces, punctuation (except what addresses need) dropped, spaces collapsed. */
export function normalizeCommandText(text: string): string {
  return text
    .toLowerCase()
    .replace(/[\u2010-\u2015_-]/g, ' ')
    .replace(/[^\p{L}\p{Nd}@.+'\s]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[.!?]+$/, '')
    .trim();
}

/** Levenshtein distance, bounded: returns max+1 as soon as the distance is known to exceed max. */
export function editDistance(a: string, b: string, max = Infinity): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      rowMin = Math.min(rowMin, v);
    }
    if (rowMin > max) return max + 1;
    prev = cur;
  }
  return prev[b.length];
}

export const POLITE = /^(?:please |pls |can you |could you |would you |hi |hello |hey )+/;

export function commandText(text: string): CommandText {
  const raw = text.trim();
  const norm = normalizeCommandText(raw);
  const clean = raw.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().replace(/[.!?]+$/, '');
  const polite = /^(?:(?:please|pls|can you|could you|would you|hi|hello|hey),?\s+)*/i;
  return { raw, norm, body: norm.replace(POLITE, ''), phrase: clean.replace(polite, '') };
}

/** An app name as typed after "for"/"from"/"via", without quotes; null when empty. */
export function appName(text: string | undefined): string | null {
  const v = (text ?? '').trim().replace(/^["“”'‘’]+|["“”'‘’]+$/g, '').trim();
  return v ? v : null;
}
