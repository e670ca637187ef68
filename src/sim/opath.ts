/**
 * The one OPATH form the simulator evaluates: `Property -eq 'value'` (quotes doubled inside [DOC X7]), used by
 * `-Filter` on the Get-* cmdlets and by management scopes' `-RecipientRestrictionFilter`.
 */
import type { RecipientRecord } from './tenant';

export type OpathParse = { ok: true; property: string; value: string } | { ok: false; reason: 'syntax' | 'property'; property?: string };

const FIELDS: Record<string, (r: RecipientRecord) => string[]> = {
  primarysmtpaddress: (r) => [r.primarySmtpAddress],
  alias: (r) => [r.alias],
  name: (r) => [r.name],
  displayname: (r) => [r.displayName],
  recipienttypedetails: (r) => [r.recipientTypeDetails],
  emailaddresses: (r) => r.emailAddresses,
  externaldirectoryobjectid: (r) => [r.externalDirectoryObjectId ?? ''],
};

export function parseOpath(text: string): OpathParse {
  const m = /^\s*\(?\s*(\w+)\s+-eq\s+'((?:[^']|'')*)'\s*\)?\s*$/i.exec(text);
  if (!m) return { ok: false, reason: 'syntax' };
  const property = m[1]!;
  if (!FIELDS[property.toLowerCase()]) return { ok: false, reason: 'property', property };
  return { ok: true, property, value: m[2]!.replace(/''/g, "'") };
}

/** A predicate for a parsed filter; case-insensitive like Exchange's string comparisons. */
export function opathPredicate(p: { property: string; value: string }): (r: RecipientRecord) => boolean {
  const get = FIELDS[p.property.toLowerCase()]!;
  const want = p.value.toLowerCase();
  return (r) => get(r).some((x) => x.toLowerCase() === want);
}
