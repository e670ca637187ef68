/**
 * "status" / "list": every registration with its senders, scoping model, secret expiry, last verification and
 * drift. Actions carry only the registration id; the server re-detects drift before repairing anything.
 */
import { actionSet, adaptiveCard, banner, container, execute, factSet, formatUtc, heading, listOrNone, relativeTo, sectionTitle, textBlock, bulletList, type ContainerStyle } from './elements';
import { CARD_MARK } from '../provisioning';
import { describeScopingState } from './lifecycle';
import { escapeMarkdown } from './markdown';
import type { AdaptiveCardJson, CardAction, CardElement, RegistrationStatus, StatusCardModel } from './types';

const DAY_MS = 86_400_000;
/** The first reminder threshold (issue 6: 30, 7 and 1 days before expiry). */
export const EXPIRY_WARNING_DAYS = 30;

/** Keeps the card well under Teams' ~28 KB message limit; the CLI lists everything. */
export const MAX_STATUS_REGISTRATIONS = 15;
export const MAX_SENDERS_SHOWN = 10;

export type ExpiryLevel = 'none' | 'expired' | 'soon' | 'ok';

export function expiryLevel(expiresAt: string | null, now: string): ExpiryLevel {
  if (!expiresAt) return 'none';
  const left = new Date(expiresAt).getTime() - new Date(now).getTime();
  if (left <= 0) return 'expired';
  return left <= EXPIRY_WARNING_DAYS * DAY_MS ? 'soon' : 'ok';
}

export function statusCard(model: StatusCardModel): AdaptiveCardJson {
  const body: CardElement[] = [...heading('Opter email status', `As of ${formatUtc(model.generatedAt)}`)];
  if (model.registrations.length === 0) {
    body.push(textBlock('No Opter registrations found. Type “set up Opter email” to create one.'));
    return adaptiveCard(body);
  }
  const needsAttention = model.registrations.filter((r) => needsAttentionNow(r, model.generatedAt));
  body.push(
    needsAttention.length > 0
      ? banner(`${needsAttention.length} of ${model.registrations.length} registration${model.registrations.length === 1 ? '' : 's'} need attention`, 'warning')
      : banner(`All ${model.registrations.length} registration${model.registrations.length === 1 ? '' : 's'} look healthy`, 'good'),
  );
  // Problems first, so a long list never hides the registration that needs attention.
  const ordered = [...needsAttention, ...model.registrations.filter((r) => !needsAttention.includes(r))];
  for (const r of ordered.slice(0, MAX_STATUS_REGISTRATIONS)) body.push(registrationBlock(r, model.generatedAt, model.viewerMayRequest));
  if (ordered.length > MAX_STATUS_REGISTRATIONS) {
    body.push(textBlock(`…and ${ordered.length - MAX_STATUS_REGISTRATIONS} more. Run “opter-mail status” for the full list.`, { subtle: true }));
  }
  if (!model.viewerMayRequest && model.withoutButtonsNote) body.push(textBlock(model.withoutButtonsNote, { size: 'Small', subtle: true }));
  return adaptiveCard(body);
}

export function needsAttentionNow(r: RegistrationStatus, now: string): boolean {
  return r.drift.length > 0 || expiryLevel(r.secretExpiresAt, now) !== 'ok' || (r.lastVerification !== null && !r.lastVerification.ok);
}

function senderList(senders: string[]): string {
  if (senders.length <= MAX_SENDERS_SHOWN) return listOrNone(senders);
  return `${senders.slice(0, MAX_SENDERS_SHOWN).join(', ')} (+${senders.length - MAX_SENDERS_SHOWN} more)`;
}

/** A migration is a planned state with a time, not drift: when it continues, and that mail keeps flowing. */
function migrationLine(m: NonNullable<RegistrationStatus['migration']>, now: string): string {
  if (m.state === 'running') return '▶️ To RBAC for Applications: running now. Mail keeps flowing.';
  const when = m.until ? ` until ${formatUtc(m.until)} (${relativeTo(m.until, now)})` : '';
  return `⏳ To RBAC for Applications: waiting for Exchange’s permission cache${when}, then it continues by itself. Mail keeps flowing meanwhile.`;
}

function registrationBlock(r: RegistrationStatus, now: string, withButtons: boolean): CardElement {
  const level = expiryLevel(r.secretExpiresAt, now);
  const style: ContainerStyle = r.drift.length > 0 || level === 'expired' || level === 'none' ? 'attention' : level === 'soon' ? 'warning' : 'emphasis';
  const expiry =
    level === 'none' || !r.secretExpiresAt
      ? '❌ No valid secret: Opter cannot send'
      : `${level === 'expired' ? '❌ Expired' : level === 'soon' ? '⚠️ Expires' : '✅ Expires'} ${formatUtc(r.secretExpiresAt)} (${relativeTo(r.secretExpiresAt, now)})`;
  const lv = r.lastVerification;
  const verification = lv ? `${CARD_MARK[!lv.ok ? 'failed' : lv.verified === false ? 'skipped' : 'passed']} ${formatUtc(lv.at)}: ${lv.summary}` : 'Never verified';
  const items: CardElement[] = [
    textBlock(`${escapeMarkdown(r.appDisplayName)}${r.managed ? '' : ' (not managed by the bot yet)'}`, { weight: 'Bolder', size: 'Medium' }),
    factSet([
      ['Client ID', r.appId],
      ['Scoping', describeScopingState(r.scoping)],
      ['Group SMTP', r.groupSmtp],
      ['Senders', senderList(r.senders)],
      ['Secret', expiry],
      ['Last verification', verification],
      ['Migration', r.migration ? migrationLine(r.migration, now) : undefined],
    ]),
  ];
  if (r.drift.length > 0) {
    items.push(sectionTitle('Drift found'));
    items.push(textBlock(bulletList(r.drift.map((d) => escapeMarkdown(d.description))), { color: 'Attention' }));
  }
  if (r.notChecked && r.notChecked.length > 0) {
    items.push(sectionTitle('Not checked'));
    items.push(textBlock(bulletList(r.notChecked), { color: 'Warning' }));
  }
  if (withButtons) {
    const actions: CardAction[] = [];
    if (!r.managed) actions.push(execute('adopt', 'Adopt', { registrationId: r.id }));
    if (r.repairable) actions.push(execute('repair', 'Repair', { registrationId: r.id }, { style: 'positive' }));
    actions.push(execute('rotate-secret', 'New secret', { registrationId: r.id }));
    items.push(actionSet(actions, 'Small'));
  }
  return container(items, { style, spacing: 'Medium' });
}
