/**
 * Cards of the registration lifecycle (issue 6): what the requester sees after asking (with a migration plan), the
 * rotation card whose "Opter updated" button retires the old secrets, the expiry reminder with "Rotate now", and
 * the result of a lifecycle job. None of them ever holds a secret: only key ids, names and times.
 */
import { CARD_MARK, checkDetail, checkState } from '../provisioning';
import { adaptiveCard, banner, bulletList, container, execute, factSet, formatUtc, heading, plainText, relativeTo, sectionTitle, textBlock } from './elements';
import type {
  AdaptiveCardJson,
  CardElement,
  ExpiryReminderModel,
  LifecycleResultModel,
  MigrationPlanView,
  RotationCardModel,
  ScopingState,
  SubmittedRequestModel,
} from './types';
import { escapeMarkdown } from './markdown';

export function describeScopingState(s: ScopingState): string {
  switch (s) {
    case 'access-policy':
      return 'Application Access Policy';
    case 'rbac':
      return 'RBAC for Applications';
    case 'mixed':
      return 'Both (a migration to RBAC is half-way)';
    case 'unscoped':
      return '⚠️ None: the app is not limited to its sender group';
  }
}

const PLAN_ICON: Record<MigrationPlanView['steps'][number]['action'], string> = { add: '➕', check: '🔍', wait: '⏳', remove: '➖' };

/** The ordered migration plan: every step with what it adds, checks, waits for or removes, then why this order. */
export function migrationPlanElements(plan: MigrationPlanView): CardElement[] {
  const out: CardElement[] = [sectionTitle('Migration plan, in this order')];
  plan.steps.forEach((step, i) => {
    out.push(textBlock(`Step ${i + 1} · ${PLAN_ICON[step.action]} ${escapeMarkdown(step.title)}${step.alreadyDone ? ' (already in place)' : ''}`, { weight: 'Bolder', spacing: 'Small' }));
    out.push(plainText(step.detail, { size: 'Small', spacing: 'None' }));
  });
  out.push(sectionTitle('Why this order keeps mail flowing'));
  out.push(textBlock(bulletList(plan.whyThisOrder.map(escapeMarkdown)), { size: 'Small' }));
  if (plan.keeps.length > 0) out.push(textBlock(bulletList(plan.keeps.map(escapeMarkdown)), { size: 'Small', subtle: true }));
  if (plan.warnings.length > 0) {
    out.push(container([textBlock('Worth knowing', { weight: 'Bolder', color: 'Warning' }), textBlock(bulletList(plan.warnings.map(escapeMarkdown)), { size: 'Small' })], { style: 'warning', spacing: 'Medium' }));
  }
  return out;
}

/** Right after a lifecycle request: sent to whom, until when, and (migration) the plan the approvers see. */
export function submittedRequestCard(model: SubmittedRequestModel): AdaptiveCardJson {
  const body: CardElement[] = [
    banner(escapeMarkdown(model.title), 'good'),
    textBlock(escapeMarkdown(model.text)),
    factSet([...(model.facts ?? []).map((f): [string, string] => [f.title, f.value]), ['Request', model.requestId], ['Approval needed by', formatUtc(model.approvalNeededBy)]]),
  ];
  if (model.migration) body.push(...migrationPlanElements(model.migration));
  return adaptiveCard(body);
}

/** "Opter updated": the old secrets keep working until the requester confirms or the overlap ends. */
export function rotationCard(model: RotationCardModel): AdaptiveCardJson {
  const body: CardElement[] = [
    ...heading(`New secret for ${escapeMarkdown(model.appDisplayName)}: the old one still works`, `Request ${model.requestId}`),
    factSet([
      ['Client ID', model.clientId],
      ['New secret', `${model.newKeyId} (expires ${formatUtc(model.newSecretExpiresAt)})`],
      ['Overlap ends', formatUtc(model.overlapEndsAt)],
    ]),
    sectionTitle(model.oldSecrets.length === 1 ? 'Old secret' : 'Old secrets'),
    textBlock(bulletList(model.oldSecrets.map((o) => `${o.keyId} (expires ${formatUtc(o.expiresAt)})`))),
  ];
  const s = model.state;
  switch (s.status) {
    case 'waiting':
      body.push(
        banner(
          'Put the new secret into Opter, then press “Opter updated”',
          'warning',
          `Opter Settings > Offices > Servers tab: Ms Graph Client Secret, save, Test email. Until you confirm, the old secret keeps working; it is removed at ${formatUtc(model.overlapEndsAt)} at the latest.`,
        ),
      );
      return adaptiveCard(body, [execute('opter-updated', 'Opter updated: remove the old secret', { requestId: model.requestId }, { style: 'positive' })]);
    case 'retiring':
      body.push(banner('Removing the old secret…', 'accent', s.trigger === 'confirmed' ? 'You confirmed that Opter uses the new secret.' : 'The overlap has ended.'));
      return adaptiveCard(body);
    case 'retired':
      body.push(
        banner(
          `Old secret${s.removedKeyIds.length === 1 ? '' : 's'} removed ${formatUtc(s.at)}`,
          'good',
          `${s.trigger === 'confirmed' ? 'After you confirmed that Opter uses the new secret.' : 'The overlap ended.'} Only the new secret works now.${s.removedKeyIds.length ? ` Removed: ${s.removedKeyIds.join(', ')}.` : ' (They were already gone.)'}`,
        ),
      );
      return adaptiveCard(body);
    case 'failed':
      body.push(banner('The old secret could not be removed', 'attention', `${formatUtc(s.at)}. ${s.code}: ${escapeMarkdown(s.message)}`));
      return adaptiveCard(body);
  }
}

/** A secret expires in 30/7/1 days (or has expired): who it concerns, and a one-click rotation request. */
export function expiryReminderCard(model: ExpiryReminderModel): AdaptiveCardJson {
  const when = model.expired
    ? `expired ${formatUtc(model.expiresAt)} (${relativeTo(model.expiresAt, model.generatedAt)})`
    : `expires ${formatUtc(model.expiresAt)} (${relativeTo(model.expiresAt, model.generatedAt)})`;
  const title = model.expired
    ? `A client secret of ${escapeMarkdown(model.appDisplayName)} has expired`
    : `A client secret of ${escapeMarkdown(model.appDisplayName)} expires in ${model.daysLeft < 1 ? 'less than a day' : `${model.daysLeft} day${model.daysLeft === 1 ? '' : 's'}`}`;
  const body: CardElement[] = [
    banner(title, model.expired || model.thresholdDays <= 1 ? 'attention' : 'warning', `Reminder ${model.expired ? 'after expiry' : `${model.thresholdDays} day${model.thresholdDays === 1 ? '' : 's'} before expiry`}.`),
    factSet([
      ['App', model.appDisplayName],
      ['Client ID', model.clientId],
      ['Secret', `${model.secretName ?? '(no name)'} · ${model.keyId}`],
      ['Expiry', when],
    ]),
    textBlock(
      model.newerSecretExists
        ? 'The app already has a newer secret. If Opter uses it, nothing is needed: the old one is removed after the rotation’s overlap. Otherwise put the newer secret into Opter, or rotate again.'
        : 'When it expires, Opter can no longer sign in and email stops. “Rotate now” asks for a new secret (another admin approves); the old one keeps working until Opter uses the new one.',
    ),
  ];
  return adaptiveCard(body, [execute('rotate-secret', 'Rotate now', { registrationId: model.registrationId }, { style: 'positive' })]);
}

/** The result of a lifecycle job, checks (or test layers) one per line, with the notes that matter. */
export function lifecycleResultCard(model: LifecycleResultModel): AdaptiveCardJson {
  const body: CardElement[] = [banner(escapeMarkdown(model.title), model.ok ? 'good' : 'attention', `Request ${model.requestId}`), textBlock(escapeMarkdown(model.summary))];
  if (model.facts && model.facts.length > 0) body.push(factSet(model.facts.map((f): [string, string] => [f.title, f.value])));
  if (model.checks.length > 0) {
    body.push(sectionTitle(model.checksTitle ?? 'Verification'));
    for (const c of model.checks) {
      const state = checkState(c);
      body.push(textBlock(`${CARD_MARK[state]} ${escapeMarkdown(c.name)}`, { weight: 'Bolder', spacing: 'Small', color: state === 'failed' ? 'Attention' : state === 'skipped' ? 'Warning' : undefined }));
      body.push(plainText(checkDetail(c), { size: 'Small', spacing: 'None' }));
    }
  }
  if (model.notes && model.notes.length > 0) {
    body.push(sectionTitle('Notes'));
    for (const n of model.notes) body.push(plainText(n, { size: 'Small' }));
  }
  return adaptiveCard(body);
}

