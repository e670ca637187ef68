/**
 * What a typed message asks for. Pure: the text has already had the bot's @mention removed (stripMentions). Matching
 * is case-insensitive and tolerant of the small variations people type ("setup opter mail", "Set-up Opter e-mail",
 * one or two typos), but never guesses between two commands.
 */
import { parseSenderList } from '../../provisioning';

export type Command =
  | { kind: 'setup' }
  | { kind: 'add-sender'; addresses: string[] }
  | { kind: 'help' }
  | { kind: 'status' }
  | { kind: 'use-channel'; purpose: 'audit' | 'approvals' }
  /** "new secret for <app>", "I lost the secret": `app` is the name as typed, or null when none was given. */
  | { kind: 'new-secret'; app: string | null; lost: boolean }
  | { kind: 'remove-sender'; addresses: string[]; app: string | null }
  | { kind: 'migrate'; app: string | null }
  /** "test email to me from faktura@…": `to` is 'me' or the address typed; `from` null when none was given. */
  | { kind: 'test-email'; from: string | null; to: string; app: string | null }
  | { kind: 'unknown'; text: string };

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

const POLITE = /^(?:please |pls |can you |could you |would you |hi |hello |hey )+/;
const SETUP_FORMS = ['setupopteremail', 'setupoptermail'];
/** Compact form (no spaces) of "set up opter email" within two typos, e.g. "set up opter emial". */
const SETUP_TYPOS = 2;

function isSetup(norm: string): boolean {
  const body = norm.replace(POLITE, '').replace(/ please$/, '');
  if (/^(?:set ?up|configure|enable)( the)? opter( e ?mail| mail)( setup)?$/.test(body)) return true;
  const compact = body.replace(/\s/g, '');
  return SETUP_FORMS.some((form) => editDistance(compact, form, SETUP_TYPOS) <= SETUP_TYPOS);
}

export function parseCommand(text: string): Command {
  const raw = text.trim();
  const norm = normalizeCommandText(raw);
  const body = norm.replace(POLITE, '');

  if (/^(?:help|\?|hjälp|what can you do)$/.test(body) || raw === '?') return { kind: 'help' };
  if (/^(?:status|list|show (?:the )?status|opter (?:email )?status)$/.test(body)) return { kind: 'status' };
  if (isSetup(norm)) return { kind: 'setup' };

  // "add sender a@x b@y", "add senders a@x, b@y", "add mailbox a@x" — addresses are taken from the raw text so
  // punctuation inside them survives.
  const add = /^\s*(?:please\s+)?add\s+(?:senders?|mailbox(?:es)?|sender\s+addresses?)\b[:\s]*(.*)$/is.exec(raw);
  if (add) return { kind: 'add-sender', addresses: parseSenderList(add[1]!.replace(/<[^>]*>/g, ' ')) };

  const use = /^(?:use|set) (?:this|the current) channel (?:for|as)(?: the)? (audit|approvals?)(?: channel)?$/.exec(body);
  if (use) return { kind: 'use-channel', purpose: use[1] === 'audit' ? 'audit' : 'approvals' };

  // The lifecycle commands take app names and addresses from the raw text (case and punctuation kept).
  const clean = raw.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().replace(/[.!?]+$/, '');
  const polite = /^(?:(?:please|pls|can you|could you|would you|hi|hello|hey),?\s+)*/i;
  const phrase = clean.replace(polite, '');

  const remove = /^remove\s+(?:senders?|mailbox(?:es)?|sender\s+addresses?)\b[:\s]*(.*?)(?:\s+from\s+(?!\S+@)(.+))?$/i.exec(phrase);
  if (remove) return { kind: 'remove-sender', addresses: parseSenderList(remove[1]!), app: appName(remove[2]) };

  const secret = /^(?:(?:create|make|get|give me|i need)\s+)?(?:a\s+)?(?:new|rotate|renew|another)\s+(?:the\s+)?(?:client\s+)?secret(?:\s+(?:for|of|on)\s+(.+))?$/i.exec(phrase);
  if (secret) return { kind: 'new-secret', app: appName(secret[1]), lost: false };
  const lost = /^(?:i\s+)?(?:have\s+)?lost\s+(?:the\s+|my\s+|our\s+)?(?:client\s+)?secret(?:\s+(?:for|of)\s+(.+))?$/i.exec(phrase);
  if (lost) return { kind: 'new-secret', app: appName(lost[1]), lost: true };

  const migrate = /^migrate(?:\s+(.+?))?\s+to\s+rbac(?:\s+for\s+applications)?$/i.exec(phrase);
  if (migrate) return { kind: 'migrate', app: appName(migrate[1]) };

  const test = /^(?:send\s+)?(?:me\s+)?(?:a\s+)?test\s*(?:e-?\s?mail|mail|message)(?:\s+to\s+(me|\S+@\S+))?(?:\s+from\s+(\S+@\S+))?(?:\s+(?:via|using|through|with)\s+(.+))?$/i.exec(phrase);
  if (test) return { kind: 'test-email', to: (test[1] ?? 'me').toLowerCase() === 'me' ? 'me' : test[1]!, from: test[2] ?? null, app: appName(test[3]) };

  return { kind: 'unknown', text: raw };
}

/** An app name as typed after "for"/"from"/"via", without quotes; null when empty. */
function appName(text: string | undefined): string | null {
  const v = (text ?? '').trim().replace(/^["“”'‘’]+|["“”'‘’]+$/g, '').trim();
  return v ? v : null;
}
