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
