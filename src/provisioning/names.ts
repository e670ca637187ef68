/**
 * Name rules ported exactly from Opter's regmsgraph.ps1 (Normalize-Name, To-Alias and the derivations below them).
 * PowerShell/.NET semantics kept: \p{L}/\p{Nd} classes, Unicode whitespace, String.Trim(), 64-char cut then trim.
 */
import { OpterError } from '../core/errors';

export const DEFAULT_APP_DISPLAY_NAME = 'OpterMessageProxy';
export const DEFAULT_SECRET_VALID_YEARS = 10;
/** Exchange limit for a distribution group's Name and Alias (New-DistributionGroup docs). */
export const EXCHANGE_NAME_MAX = 64;

/** Normalize-Name: keep letters/digits/whitespace/hyphens, other characters → space, collapse whitespace, trim. */
export function normalizeName(name: string): string {
  return name
    .replace(/[^\p{L}\p{Nd}\s-]/gu, ' ')
    .replace(/\s+/gu, ' ')
    .trim();
}

/** To-Alias: lower-case, whitespace → hyphen, drop all but [a-z0-9-], collapse and trim hyphens, 64-char cut. */
export function toAlias(name: string): string {
  let a = name.toLowerCase();
  a = a.replace(/\s+/gu, '-');
  a = a.replace(/[^a-z0-9-]/g, '');
  a = a.replace(/-{2,}/g, '-');
  a = trimHyphens(a);
  if (a.length > EXCHANGE_NAME_MAX) a = trimHyphens(a.substring(0, EXCHANGE_NAME_MAX));
  if (a.trim() === '') {
    throw new OpterError('E_ALIAS_EMPTY', { detail: `Could not derive a valid alias from AppDisplayName '${name}'.`, field: 'appName' });
  }
  return a;
}

function trimHyphens(s: string): string {
  return s.replace(/^-+|-+$/g, '');
}

export interface NameOverrides {
  secretDisplayName?: string;
  groupName?: string;
  groupAlias?: string;
}

export interface DerivedNames {
  appDisplayName: string;
  baseName: string;
  aliasBase: string;
  secretDisplayName: string;
  groupName: string;
  groupAlias: string;
}

/** The script's "Derived/selected Names" block: overrides win when given (non-empty), as in the script's `if (-not $X)`. */
export function deriveNames(appDisplayName: string, overrides: NameOverrides = {}): DerivedNames {
  const baseName = normalizeName(appDisplayName);
  const aliasBase = toAlias(baseName);
  let groupAlias = overrides.groupAlias || `${aliasBase}-mailsend-allowed`;
  if (!overrides.groupAlias && groupAlias.length > EXCHANGE_NAME_MAX) groupAlias = trimHyphens(groupAlias.substring(0, EXCHANGE_NAME_MAX));
  return {
    appDisplayName,
    baseName,
    aliasBase,
    secretDisplayName: overrides.secretDisplayName || `${aliasBase}-secret`,
    groupName: overrides.groupName || `${baseName} - MailSend Allowed`,
    groupAlias,
  };
}

/**
 * The script's secret end date: (Get-Date).ToUniversalTime().AddYears(N).ToString("o").
 * .NET AddYears clamps Feb 29 to Feb 28 in a non-leap target year; "o" prints 7 fractional digits and Z for UTC.
 */
export function addYearsUtc(from: Date, years: number): Date {
  const y = from.getUTCFullYear() + years;
  const m = from.getUTCMonth();
  const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  const d = Math.min(from.getUTCDate(), lastDay);
  return new Date(Date.UTC(y, m, d, from.getUTCHours(), from.getUTCMinutes(), from.getUTCSeconds(), from.getUTCMilliseconds()));
}

export function formatRoundTripUtc(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
}

/** Lines of the script's "=== Derived/selected Names ===" block. */
export function formatDerivedNames(n: DerivedNames): string[] {
  return [
    '=== Derived/selected Names ===',
    `AppDisplayName     : ${n.appDisplayName}`,
    `SecretDisplayName  : ${n.secretDisplayName}`,
    `GroupName          : ${n.groupName}`,
    `GroupAlias         : ${n.groupAlias}`,
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// What a typed name may hold, and what a reviewer is warned about (docs/security.md, "Names a reviewer can trust")
// ---------------------------------------------------------------------------------------------------------------

/** C0 controls and DEL: line breaks, tabs, terminal escape sequences. */
const CONTROL = /[\u0000-\u001f\u007f]/u; // eslint-disable-line no-control-regex -- names must not hold control characters

/**
 * Characters that change how a name reads without being seen, so an approver could read another name than the one
 * that gets created ("Trojan Source"):
 * - every Unicode Default_Ignorable_Code_Point (DerivedCoreProperties.txt): zero-width spaces and joiners, the soft
 *   hyphen, direction marks, embeddings, overrides and isolates, the BOM, U+034F COMBINING GRAPHEME JOINER, the
 *   Hangul fillers U+115F, U+1160, U+3164 and U+FFA0, U+180E, variation selectors, the tag characters
 *   U+E0000–U+E007F (the whole block up to U+E0FFF);
 * - every other control (Cc) or format (Cf) character, e.g. U+0085 NEXT LINE or the interlinear annotation marks
 *   U+FFF9–U+FFFB, which hide text in some renderers;
 * - U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR: not default-ignorable, but a line break on a card;
 * - U+2800 BRAILLE PATTERN BLANK: a symbol drawn as empty space that is not whitespace, so trimming keeps it and a
 *   name of only that looks empty (the "invisible name" trick);
 * - lone surrogates: half a character, which Microsoft stores as U+FFFD, so the created name differs from the shown.
 */
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\u2800]/gu;

/** Line breaks and tabs a multi-line text (a reject reason) may hold. */
const TEXT_WHITESPACE = new Set(['\n', '\r', '\t']);

/** Markdown link syntax or a URL scheme: never part of a legitimate name (cards would show a clickable link). */
const LINK_IN_NAME = /\]\(|:\/\//;

/** How a character is named in a message so it can be seen: `\u200b`, `\u{e0041}`. */
export function codePointEscape(c: string): string {
  const cp = c.codePointAt(0) ?? 0;
  const hex = cp.toString(16);
  return cp > 0xffff ? `\\u{${hex}}` : `\\u${hex.padStart(4, '0')}`;
}

/** The invisible characters (see INVISIBLE) in `value`, each once, in order of appearance. */
export function invisibleCharacters(value: string, options: { allowLineBreaks?: boolean } = {}): string[] {
  const found = [...value.matchAll(INVISIBLE)].map((m) => m[0]).filter((c) => !(options.allowLineBreaks && TEXT_WHITESPACE.has(c)));
  return [...new Set(found)];
}

/** `value` with every control or invisible character written as its escape, for messages that quote input. */
export function showInvisible(value: string): string {
  return value.replace(INVISIBLE, codePointEscape);
}

function invisibleMessage(label: string, found: string[]): string {
  return `The ${label} contains invisible, control or text-direction characters (${found.map(codePointEscape).join(', ')}); type it again without them.`;
}

/**
 * Why a typed name (app, group, alias or secret name) is refused, in words for the field, or null. The one rule
 * behind validateProvisionInput, which the setup form, the CLI and the engine all call.
 */
export function typedNameProblem(label: string, value: string): string | null {
  if (CONTROL.test(value)) return `The ${label} contains control characters.`;
  const found = invisibleCharacters(value);
  if (found.length > 0) return invisibleMessage(label, found);
  if (LINK_IN_NAME.test(value)) return `The ${label} contains a link ("](" or "://"); names cannot hold links.`;
  return null;
}

/** The same for typed free text shown to others (a reject reason): line breaks and tabs are fine, links too. */
export function typedTextProblem(label: string, value: string): string | null {
  const found = invisibleCharacters(value, { allowLineBreaks: true });
  return found.length > 0 ? invisibleMessage(label, found) : null;
}

/** UAX #31 Table 4, "Recommended Scripts": the scripts in customary modern use. */
const RECOMMENDED_SCRIPTS = [
  'Latin', 'Greek', 'Cyrillic', 'Armenian', 'Hebrew', 'Arabic', 'Thaana', 'Devanagari', 'Bengali', 'Gurmukhi', 'Gujarati',
  'Oriya', 'Tamil', 'Telugu', 'Kannada', 'Malayalam', 'Sinhala', 'Thai', 'Lao', 'Tibetan', 'Myanmar', 'Georgian',
  'Hangul', 'Ethiopic', 'Khmer', 'Hiragana', 'Katakana', 'Bopomofo', 'Han',
] as const;
const OTHER_SCRIPT = 'Other';
const SCRIPT_PATTERNS = RECOMMENDED_SCRIPTS.map((s) => [s, new RegExp(`^\\p{Script=${s}}$`, 'u')] as const);
const NO_SCRIPT = /^[\p{Script=Common}\p{Script=Inherited}]$/u;
const SCRIPT_WORDS: Partial<Record<string, string>> = {
  Han: 'Chinese (Han)',
  Hangul: 'Korean (Hangul)',
  Hiragana: 'Japanese Hiragana',
  Katakana: 'Japanese Katakana',
  [OTHER_SCRIPT]: 'rarely used',
};
/** UTS #39 §5.2 "Highly Restrictive": the mixes that are ordinary in Chinese, Japanese and Korean names. */
const ORDINARY_MIXES: ReadonlyArray<ReadonlyArray<string>> = [
  ['Latin', 'Han', 'Hiragana', 'Katakana'],
  ['Latin', 'Han', 'Bopomofo'],
  ['Latin', 'Han', 'Hangul'],
];
const MAX_LETTERS_LISTED = 8;

function scriptOf(letter: string): string | null {
  if (NO_SCRIPT.test(letter)) return null;
  return SCRIPT_PATTERNS.find(([, re]) => re.test(letter))?.[0] ?? OTHER_SCRIPT;
}

export interface ScriptMix {
  /** The script most of the letters belong to (the first seen on a tie). */
  main: string;
  /** Every other script, with its distinct letters in order of appearance. */
  others: Array<{ script: string; letters: string[] }>;
}

/**
 * The scripts of the letters in `value` when they mix in a way a look-alike name would (Latin with one Cyrillic
 * "о"), or null: one script, or one of UTS #39's ordinary East Asian mixes. Punctuation, digits and combining marks
 * (Common/Inherited) belong to no script.
 */
export function scriptMix(value: string): ScriptMix | null {
  const seen = new Map<string, { count: number; letters: string[] }>();
  for (const ch of value) {
    if (!/^\p{L}$/u.test(ch)) continue;
    const script = scriptOf(ch);
    if (!script) continue;
    const entry = seen.get(script) ?? { count: 0, letters: [] };
    entry.count++;
    if (!entry.letters.includes(ch)) entry.letters.push(ch);
    seen.set(script, entry);
  }
  const scripts = [...seen.keys()];
  if (scripts.length < 2 || ORDINARY_MIXES.some((mix) => scripts.every((s) => mix.includes(s)))) return null;
  const main = scripts.reduce((a, b) => (seen.get(b)!.count > seen.get(a)!.count ? b : a));
  return { main, others: scripts.filter((s) => s !== main).map((s) => ({ script: s, letters: seen.get(s)!.letters })) };
}

function lettersLine(letters: string[]): string {
  const listed = letters.slice(0, MAX_LETTERS_LISTED).map((c) => `${c} (U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})`);
  const more = letters.length - listed.length;
  return `${listed.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
}

/** Plain words for a reviewer, e.g. "⚠ The app name contains Cyrillic letters: о (U+043E), mixed with Latin letters. …" */
export function mixedScriptWarning(label: string, mix: ScriptMix): string {
  const word = (s: string) => SCRIPT_WORDS[s] ?? s;
  const parts = mix.others.map((o) => `${word(o.script)} letters: ${lettersLine(o.letters)}`);
  return `⚠ The ${label} contains ${parts.join('; and ')}, mixed with ${word(mix.main)} letters. Look-alike letters can make it read as another name.`;
}

/**
 * Warnings for the names a card shows, one per name whose letters mix scripts, each look-alike letter reported once
 * (a group name derived from the app name repeats the app name's letters, and needs no second line).
 */
export function nameWarnings(names: ReadonlyArray<readonly [label: string, value: string | null | undefined]>): string[] {
  const reported = new Set<string>();
  const out: string[] = [];
  for (const [label, value] of names) {
    const mix = value ? scriptMix(value) : null;
    if (!mix) continue;
    const letters = mix.others.flatMap((o) => o.letters);
    if (letters.every((l) => reported.has(l))) continue;
    for (const l of letters) reported.add(l);
    out.push(mixedScriptWarning(label, mix));
  }
  return out;
}
