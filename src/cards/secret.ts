/**
 * The one-time secret cards.
 *
 * - secretReadyCard: posted in the requester's 1:1 chat. Facts and a "Reveal secret" button; no secret, and no
 *   `refresh` (Teams fires refreshes without a click, so a refresh must never be able to reveal).
 * - revealedSecretCard: the ONLY card that contains the plaintext. It is returned solely as the invoke response to
 *   the requester's explicit click; never posted, never used to update the message for everyone.
 * - secretHiddenCard / secretExpiredCard: what the message shows afterwards.
 *
 * Each builder copies the fields it shows by name, so passing a richer object can never leak a secret into a card.
 */
import { OUTPUT_LABELS, testHints } from '../provisioning';
import { adaptiveCard, banner, container, execute, factSet, formatUtc, heading, plainText, sectionTitle, textBlock } from './elements';
import { escapeMarkdown } from './markdown';
import type { AdaptiveCardJson, CardAction, CardElement, RevealedSecretModel, SecretExpiredModel, SecretFacts, SecretHiddenModel, SecretReadyModel } from './types';

export function secretReadyCard(model: SecretReadyModel): AdaptiveCardJson {
  const body: CardElement[] = [
    ...heading(`Opter email is ready: ${escapeMarkdown(model.appDisplayName)}`, `Request ${model.requestId}`),
    factSet(facts(model)),
    banner(
      'The client secret can be shown only once',
      'warning',
      `Only ${escapeMarkdown(model.requester.name)} can reveal it. It appears only on your screen, not in the chat history; copy it straight into Opter. ` +
        `If it is not revealed by ${formatUtc(model.revealDeadline)}, it is removed from the app and you will need a new secret.`,
    ),
  ];
  return adaptiveCard(body, [execute('reveal', 'Reveal secret', { requestId: model.requestId }, { style: 'positive' })]);
}

export function revealedSecretCard(model: RevealedSecretModel): AdaptiveCardJson {
  const outputLines: Array<[string, string]> = [
    [OUTPUT_LABELS.tenantId, model.tenantId],
    [OUTPUT_LABELS.clientId, model.clientId],
    [OUTPUT_LABELS.clientSecret, model.secretText],
    [OUTPUT_LABELS.secretExpires, model.secretExpiresAt],
    [OUTPUT_LABELS.groupSmtp, model.groupSmtp],
  ];
  const allowed = model.senders?.[0];
  const hints = model.scoping === 'rbac' ? rbacTestHints(model.clientId, allowed, model.deniedExample) : testHints(model.clientId, allowed, model.deniedExample);

  const body: CardElement[] = [
    ...heading(`Client secret for ${escapeMarkdown(model.appDisplayName)}`, 'Shown only to you, only now.'),
    banner('Copy it now', 'attention', 'The bot has already deleted its copy. When you hide or close this card the secret is gone; a lost secret means creating a new one.'),
    textBlock(OUTPUT_LABELS.clientSecret, { weight: 'Bolder', spacing: 'Medium' }),
    plainText(model.secretText, { monospace: true, size: 'Medium', spacing: 'None' }),
    sectionTitle('Where to paste it in Opter'),
    textBlock(
      'Settings > Offices > the **Servers** tab: fill in **Ms Graph Tenant ID**, **Ms Graph Client ID** and **Ms Graph Client Secret** with the values below, save, then click **Test email** and send yourself a message. ' +
        'Once Ms Graph Tenant ID is filled in, the SMTP fields on that tab are not used.',
    ),
    sectionTitle('OUTPUT (save securely)'),
    container(
      outputLines.map(([label, value], i) => plainText(`${label.padEnd(25, ' ')}: ${value}`, { monospace: true, size: 'Small', spacing: i === 0 ? undefined : 'None' })),
      { style: 'emphasis' },
    ),
    textBlock(`The secret expires ${formatUtc(model.secretExpiresAt)}.`, { size: 'Small', subtle: true }),
    sectionTitle('To test'),
    ...hints.filter((line) => line.trim() !== '').map((line, i) => plainText(line.trimStart(), { monospace: line.startsWith('  '), size: 'Small', spacing: i === 0 ? undefined : 'None' })),
  ];
  return adaptiveCard(body, [execute('hide-secret', 'Done, hide it', { requestId: model.requestId })]);
}

export function secretHiddenCard(model: SecretHiddenModel): AdaptiveCardJson {
  const body: CardElement[] = [
    ...heading(`Opter email is ready: ${escapeMarkdown(model.appDisplayName)}`, `Request ${model.requestId}`),
    factSet(facts(model)),
    banner(
      `Secret revealed ${formatUtc(model.revealedAt)} by ${escapeMarkdown(model.revealedBy.name)}`,
      'good',
      `The bot no longer has it. If it was lost, create a new secret (type “new secret for ${escapeMarkdown(model.appDisplayName)}”).`,
    ),
  ];
  return adaptiveCard(body, newSecretAction(model.registrationId));
}

export function secretExpiredCard(model: SecretExpiredModel): AdaptiveCardJson {
  const left = model.credentialLeft;
  const body: CardElement[] = [
    ...heading(`Opter email: ${escapeMarkdown(model.appDisplayName)}`, `Request ${model.requestId}`),
    factSet(facts(model, false)),
    banner(
      'The secret was never revealed and has expired',
      'attention',
      left
        ? `The bot deleted its copy ${formatUtc(model.expiredAt)}, so nobody can read it. Its unused credential (key ${left.keyId}) is still on the app: the bot removes nothing without a sign-in, so remove it with yours (Application Administrator, Cloud Application Administrator or Global Administrator). Ask for a new secret when you need one.`
        : `It was removed from the app ${formatUtc(model.expiredAt)}. Ask for a new secret (type “new secret for ${escapeMarkdown(model.appDisplayName)}”).`,
    ),
  ];
  const actions = newSecretAction(model.registrationId);
  return adaptiveCard(body, left ? [execute('remove-credential', 'Remove it from the app', { requestId: model.requestId }, { style: 'destructive' }), ...actions] : actions);
}

function facts(model: SecretFacts, withExpiry = true): Array<[string, string]> {
  const rows: Array<[string, string]> = [
    [OUTPUT_LABELS.tenantId, model.tenantId],
    [OUTPUT_LABELS.clientId, model.clientId],
  ];
  if (withExpiry) rows.push([OUTPUT_LABELS.secretExpires, formatUtc(model.secretExpiresAt)]);
  rows.push([OUTPUT_LABELS.groupSmtp, model.groupSmtp]);
  return rows;
}

function newSecretAction(registrationId: string | undefined): CardAction[] {
  return registrationId ? [execute('rotate-secret', 'New secret', { registrationId })] : [];
}

/** RBAC for Applications has its own test cmdlet (InScope True/False) instead of Test-ApplicationAccessPolicy. */
export function rbacTestHints(clientId: string, allowed?: string, denied?: string): string[] {
  return [
    'Test examples (EXO):',
    `  Test-ServicePrincipalAuthorization -Identity ${clientId} -Resource ${allowed ?? 'allowed.user@yourdomain.com'}`,
    `  Test-ServicePrincipalAuthorization -Identity ${clientId} -Resource ${denied ?? 'notallowed.user@yourdomain.com'}`,
    '',
    'Reminder: app-only sending uses POST /users/{id|UPN}/sendMail (not /me/sendMail).',
  ];
}
