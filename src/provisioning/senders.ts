/**
 * Sender address validation. Syntax and duplicates are checked locally before any call; domain and mailbox checks
 * ask Exchange (Get-AcceptedDomain, Get-Recipient) before any write. Bad addresses are reported, never dropped.
 */
import { OpterError } from '../core/errors';
import type { AcceptedDomain, ExchangePort, Recipient } from '../core/ports';
import { showInvisible } from './names';

/** Pragmatic address syntax: one @, a dot-atom local part, and a LDH domain with a dot. ASCII only on purpose:
 *  Exchange primary SMTP addresses are ASCII, and this rejects homoglyph look-alike domains. */
const LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

export const MAX_SENDERS = 100;

export interface SenderProblem {
  address: string;
  code: 'E_SENDER_INVALID' | 'E_SENDER_DUPLICATE' | 'E_SENDER_FOREIGN_DOMAIN' | 'E_SENDER_NOT_MAILBOX';
  message: string;
  /** E_SENDER_FOREIGN_DOMAIN: the domains the tenant accepts (so a grouped line can still name them). */
  acceptedDomains?: string[];
}

export function isValidAddress(address: string): boolean {
  if (address.length > 254) return false;
  const at = address.lastIndexOf('@');
  if (at <= 0 || at !== address.indexOf('@')) return false;
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (local.length > 64 || !LOCAL.test(local)) return false;
  const labels = domain.split('.');
  return labels.length >= 2 && labels.every((l) => LABEL.test(l)) && /[A-Za-z]/.test(labels[labels.length - 1]);
}

/** Splits free text (lines, commas, semicolons, spaces) into addresses, trimmed, order kept. */
export function parseSenderList(text: string | string[]): string[] {
  const parts = Array.isArray(text) ? text : [text];
  return parts.flatMap((p) => p.split(/[\s,;]+/)).map((s) => s.trim()).filter((s) => s.length > 0);
}

/** Local checks only: syntax, duplicates (case-insensitive), count. */
export function checkSenderSyntax(senders: string[]): SenderProblem[] {
  const problems: SenderProblem[] = [];
  const seen = new Set<string>();
  if (senders.length > MAX_SENDERS) {
    problems.push({ address: '', code: 'E_SENDER_INVALID', message: `At most ${MAX_SENDERS} sender addresses per request (got ${senders.length}).` });
    return problems;
  }
  for (const s of senders) {
    if (!isValidAddress(s)) {
      problems.push({ address: s, code: 'E_SENDER_INVALID', message: `"${printable(s)}" is not a valid email address.` });
      continue;
    }
    const key = s.toLowerCase();
    if (seen.has(key)) problems.push({ address: s, code: 'E_SENDER_DUPLICATE', message: `${s} is listed more than once.` });
    seen.add(key);
  }
  return problems;
}

/** Control, invisible and bidi characters made visible (the typed-name rule's set), and long input cut, so messages stay readable and honest. */
export function printable(s: string): string {
  const shown = showInvisible(s);
  return shown.length > 80 ? `${shown.slice(0, 77)}...` : shown;
}

/** Mailbox kinds that may send as Opter (security principals per New-ApplicationAccessPolicy docs; shared mailboxes
 *  work when they are members of the mail-enabled security group). */
export const SENDER_RECIPIENT_TYPES = new Set(['UserMailbox', 'SharedMailbox', 'RoomMailbox', 'EquipmentMailbox']);

export interface TenantSenderCheck {
  problems: SenderProblem[];
  /** Resolved recipients for the valid senders, keyed by lower-cased input address. */
  recipients: Map<string, Recipient>;
  acceptedDomains: AcceptedDomain[];
}

/** Exchange reads only: accepted domain and existing mailbox for each (syntactically valid, unique) sender. */
export async function checkSendersInTenant(exchange: ExchangePort, senders: string[]): Promise<TenantSenderCheck> {
  const acceptedDomains = await exchange.getAcceptedDomains();
  const domains = new Set(acceptedDomains.map((d) => d.domainName.toLowerCase()));
  const problems: SenderProblem[] = [];
  const recipients = new Map<string, Recipient>();
  const unique = [...new Map(senders.map((s) => [s.toLowerCase(), s])).values()];
  await Promise.all(
    unique.map(async (s) => {
      const domain = s.slice(s.lastIndexOf('@') + 1).toLowerCase();
      if (!domains.has(domain)) {
        problems.push({
          address: s,
          code: 'E_SENDER_FOREIGN_DOMAIN',
          message: `${s} is not in an accepted domain of this tenant (${[...domains].join(', ')}).`,
          acceptedDomains: [...domains],
        });
        return;
      }
      const r = await exchange.getRecipient(s);
      if (!r || !SENDER_RECIPIENT_TYPES.has(r.recipientTypeDetails)) {
        problems.push({
          address: s,
          code: 'E_SENDER_NOT_MAILBOX',
          message: r ? `${s} is a ${r.recipientTypeDetails}, not a mailbox.` : `${s} is not an existing mailbox.`,
        });
        return;
      }
      recipients.set(s.toLowerCase(), r);
    }),
  );
  problems.sort((a, b) => senders.indexOf(a.address) - senders.indexOf(b.address));
  return { problems, recipients, acceptedDomains };
}

/** Up to this many problems of one kind get a sentence each; more become one line with a count. */
export const PROBLEMS_LISTED_ONE_BY_ONE = 3;
/** How many addresses a grouped line names before "and N more". */
const ADDRESSES_NAMED_IN_GROUP = 3;

const GROUP_LINE: Record<SenderProblem['code'], (n: number) => string> = {
  E_SENDER_INVALID: (n) => `${n} entries are not valid email addresses`,
  E_SENDER_DUPLICATE: (n) => `${n} addresses are listed more than once`,
  E_SENDER_FOREIGN_DOMAIN: (n) => `${n} senders are not in an accepted domain of this tenant`,
  E_SENDER_NOT_MAILBOX: (n) => `${n} senders are not mailboxes in this tenant`,
};

/**
 * The problems as text a person reads: a sentence per problem while there are few of a kind, else one line per kind
 * ("60 senders are not mailboxes in this tenant: a@…, b@…, c@… and 57 more."), in the order the kinds first appear.
 */
export function describeSenderProblems(problems: SenderProblem[]): string {
  const byCode = new Map<SenderProblem['code'], SenderProblem[]>();
  for (const p of problems) byCode.set(p.code, [...(byCode.get(p.code) ?? []), p]);
  const parts: string[] = [];
  for (const [code, list] of byCode) {
    if (list.length <= PROBLEMS_LISTED_ONE_BY_ONE) {
      parts.push(...list.map((p) => p.message));
      continue;
    }
    const named = list.slice(0, ADDRESSES_NAMED_IN_GROUP).map((p) => (code === 'E_SENDER_INVALID' ? `"${printable(p.address)}"` : p.address));
    const domains = code === 'E_SENDER_FOREIGN_DOMAIN' && list[0]!.acceptedDomains ? ` (${list[0]!.acceptedDomains.join(', ')})` : '';
    parts.push(`${GROUP_LINE[code](list.length)}${domains}: ${named.join(', ')} and ${list.length - named.length} more.`);
  }
  return parts.join(' ');
}

export function problemsToError(problems: SenderProblem[]): OpterError {
  const first = problems[0];
  return new OpterError(first.code, { detail: describeSenderProblems(problems), field: 'senders' });
}
