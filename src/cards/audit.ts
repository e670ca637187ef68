/** One audit log entry as a compact card for the audit channel. Never carries a secret: the model has no field for one. */
import { adaptiveCard, factSet, formatUtc, plainText, textBlock } from './elements';
import { escapeMarkdown } from './markdown';
import type { AdaptiveCardJson, AuditEntryModel, AuditResult, CardElement } from './types';

const RESULT_LOOK: Record<AuditResult, { icon: string; color: 'Good' | 'Attention' | 'Warning' | 'Accent' }> = {
  ok: { icon: '✅', color: 'Good' },
  failed: { icon: '❌', color: 'Attention' },
  refused: { icon: '⛔', color: 'Warning' },
  info: { icon: 'ℹ️', color: 'Accent' },
};

/** Enough of the hash to compare by eye with `opter-mail audit verify`. */
export const HASH_PREFIX_LENGTH = 12;

export function auditEntryCard(entry: AuditEntryModel): AdaptiveCardJson {
  const look = RESULT_LOOK[entry.result];
  const o = entry.objects ?? {};
  const body: CardElement[] = [
    textBlock(`${look.icon} ${escapeMarkdown(entry.action)} · ${entry.result}`, { weight: 'Bolder', color: look.color }),
  ];
  if (entry.summary) body.push(plainText(entry.summary, { size: 'Small', spacing: 'None' }));
  body.push(
    factSet([
      ['Actor', entry.actor],
      ['Time', formatUtc(entry.at)],
      ['Request', entry.requestId],
      ['App (client) ID', o.appId],
      ['Service principal', o.servicePrincipalId],
      ['Group', o.group],
      ['Secret key ID', o.keyId],
      ['Job', o.jobId],
      ['Chain', `#${entry.seq} · ${entry.hash.slice(0, HASH_PREFIX_LENGTH)}`],
    ]),
  );
  return adaptiveCard(body);
}
