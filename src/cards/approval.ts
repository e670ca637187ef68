/**
 * The approval card, in all its states. The shared copy posted to approvers carries the buttons (the server decides
 * whether a click counts); while pending it may carry a `refresh` so each listed approver gets a fresh, viewer-specific
 * view. Decided/expired copies have no buttons and no refresh.
 */
import { describeRoleNeeds, type RoleNeed } from '../core/roles';
import { nameWarnings } from '../provisioning';
import { adaptiveCard, banner, container, execute, factSet, formatUtc, heading, plainText, refreshUserIds, sectionTitle, textBlock, bulletList, warningBox } from './elements';
import { describeScopingState, migrationPlanElements } from './lifecycle';
import { escapeMarkdown } from './markdown';
import type { AdaptiveCardJson, ApprovalCardModel, ApprovalFrame, ApprovalPlan, CardAction, CardElement, ApprovalVariant } from './types';

/** Input id of the reject reason (merged into action.data as `reason`). */
export const APPROVAL_INPUTS = { reason: 'reason' } as const;

const KIND_TITLES: Record<ApprovalVariant, string> = {
  setup: 'Set up Opter email',
  'add-sender': 'Add sender to Opter email',
  'remove-sender': 'Remove sender from Opter email',
  'new-secret': 'New client secret for Opter email',
  repair: 'Repair Opter email setup',
  'migrate-rbac': 'Migrate Opter email to RBAC for Applications',
  'test-email': 'Test email through Opter’s registration',
  adopt: 'Adopt an Opter registration made by the script',
};

/** Kinds whose approval changes who may send as which mailbox (the members section shows before → after). */
const MEMBERSHIP_KINDS: ReadonlySet<ApprovalVariant> = new Set(['setup', 'add-sender', 'remove-sender']);

export function approvalCard(model: ApprovalCardModel): AdaptiveCardJson {
  const { plan } = model;
  // Before the facts: a look-alike letter is what an approver would otherwise read past.
  const warnings = warningBox(nameWarnings([['app display name', plan.appDisplayName], ['group name', plan.group.name], ['secret name', plan.secret?.displayName]]));
  const body = approvalHeader(model, KIND_TITLES[model.kind], `${model.kind === 'setup' ? 'Setup' : 'It'} runs now; the requester sees the progress.`, warnings);

  body.push(sectionTitle(model.kind === 'setup' ? 'What will be created' : model.kind === 'adopt' || model.kind === 'test-email' ? 'What it is about' : 'What will change'));
  body.push(factSet(planFacts(plan, model.kind)));
  body.push(...(MEMBERSHIP_KINDS.has(model.kind) ? membersSection(plan) : unchangedSenders(plan)));
  body.push(...kindSection(model.kind, plan));

  body.push(sectionTitle('Permissions this grants'));
  body.push(textBlock(bulletList(permissionLines(model.kind, plan))));
  body.push(...approverNeeds(model.roleNeeds ?? []));
  return approvalFooter(model, body);
}

/**
 * Which Entra roles the approver needs, one line per need (e.g. "Exchange Administrator or Global Administrator — to
 * …"): the approve runs the writes with the approver's own sign-in in delegated mode, so an approver without them is
 * refused; said in app mode too, so the card reads the same whichever mode the bot runs in.
 */
function approverNeeds(needs: readonly RoleNeed[]): CardElement[] {
  const lines = describeRoleNeeds(needs);
  if (!lines.length) return [];
  return [sectionTitle('The approver needs'), textBlock(bulletList(lines)), textBlock('Any one role of each line. A role that is only eligible in Privileged Identity Management must be activated first.', { subtle: true, size: 'Small', spacing: 'None' })];
}

/** The top of every approval card: title, the state banner, who asked and when. */
export function approvalHeader(model: ApprovalFrame, kindTitle: string, approvedNote: string, warnings: CardElement[] = []): CardElement[] {
  const { state } = model;
  const title = state.status === 'pending' ? `Approval needed: ${kindTitle}` : kindTitle;
  const body: CardElement[] = [...heading(title, `Request ${model.requestId}`)];

  switch (state.status) {
    case 'pending':
      body.push(banner('Waiting for approval', 'warning', `Expires ${formatUtc(model.expiresAt)} if nobody decides.`));
      break;
    case 'approved':
      body.push(banner(`Approved by ${escapeMarkdown(state.by.name)}`, 'good', `${formatUtc(state.at)}. ${approvedNote}`));
      break;
    case 'rejected':
      body.push(banner(`Rejected by ${escapeMarkdown(state.by.name)}`, 'attention', formatUtc(state.at)));
      body.push(textBlock('Reason', { weight: 'Bolder', size: 'Small' }));
      body.push(plainText(state.reason, { spacing: 'None' }));
      break;
    case 'expired':
      body.push(banner('Expired without a decision', 'attention', `${formatUtc(state.at)}. Nothing was created; the requester can ask again.`));
      break;
    case 'cancelled':
      body.push(banner(`Cancelled by ${escapeMarkdown(state.by.name)}`, 'attention', formatUtc(state.at)));
      break;
  }

  body.push(...warnings);

  body.push(
    factSet([
      ['Requested by', model.requestedBy.name],
      ['Requested', formatUtc(model.requestedAt)],
      ['Expires', state.status === 'pending' ? formatUtc(model.expiresAt) : undefined],
    ]),
  );
  return body;
}

/** The end of every approval card: the decision buttons for this viewer (or why there are none) and the refresh. */
export function approvalFooter(model: ApprovalFrame, body: CardElement[]): AdaptiveCardJson {
  const { state } = model;
  const viewer = model.viewer ?? 'shared';
  const actions: CardAction[] = [];
  if (state.status === 'pending') {
    if (viewer === 'requester') {
      body.push(banner('Another approver must decide', 'emphasis', 'You cannot approve your own request (four-eyes rule).'));
    } else if (viewer === 'observer') {
      body.push(textBlock('Only the configured approvers can decide.', { subtle: true, size: 'Small' }));
    } else {
      actions.push(...decisionActions(model));
    }
  }
  if (state.status === 'approved' && state.needsApprover) {
    body.push(
      banner(
        'Needs an approver’s sign-in to continue',
        'warning',
        'The change stopped before its next write: only an approver’s own sign-in makes changes. Continue goes on where it stopped; nothing is done twice.',
      ),
    );
    actions.push(execute('resume', 'Continue', { requestId: model.requestId }, { style: 'positive' }));
  }

  const ids = state.status === 'pending' && model.refreshUserIds ? refreshUserIds(model.refreshUserIds) : null;
  const refresh = ids ? { action: execute('refresh-approval', 'Refresh', { requestId: model.requestId }), userIds: ids } : undefined;
  return adaptiveCard(body, actions, refresh);
}

function decisionActions(model: ApprovalFrame): CardAction[] {
  const requestId = model.requestId;
  const rejectForm: CardElement[] = [
    {
      type: 'Input.Text',
      id: APPROVAL_INPUTS.reason,
      label: 'Reason (required)',
      isMultiline: true,
      isRequired: true,
      maxLength: 500,
      errorMessage: 'Give a reason so the requester knows what to change.',
    },
  ];
  if (model.reasonError) rejectForm.push(plainText(`⚠ ${model.reasonError}`, { color: 'Attention', size: 'Small', spacing: 'None' }));
  return [
    execute('approve', 'Approve', { requestId }, { style: 'positive' }),
    {
      type: 'Action.ShowCard',
      title: 'Reject…',
      card: {
        type: 'AdaptiveCard',
        body: rejectForm,
        actions: [execute('reject', 'Reject', { requestId }, { inputs: 'auto', style: 'destructive' })],
      },
    },
  ];
}

function planFacts(plan: ApprovalPlan, kind: ApprovalVariant): Array<[string, string | undefined]> {
  const groupLine = `${plan.group.name} (alias ${plan.group.alias}), ${plan.group.exists ? existingGroupText(plan.members.before) : 'new'}`;
  return [
    ['App registration', plan.createsApp ? `${plan.appDisplayName} (new, single tenant)` : `${plan.appDisplayName} (existing)`],
    ['Client ID', plan.appId],
    ['Enterprise app', plan.createsApp ? 'New service principal for the app' : undefined],
    ['Client secret', plan.secret ? secretLine(plan.secret) : undefined],
    ['Sender group', `Mail-enabled security group ${groupLine}`],
    ['Group SMTP', plan.group.smtp],
    [
      'Scoping',
      kind === 'migrate-rbac'
        ? 'Application Access Policy → RBAC for Applications (Exchange role, scoped to the group)'
        : plan.scoping === 'rbac'
          ? 'RBAC for Applications (Exchange role, scoped to the group)'
          : 'Application Access Policy (RestrictAccess, scoped to the group)',
    ],
  ];
}

/** "existing group, 3 members: a, b, c": an approver must see who can already send through the group. */
function existingGroupText(members: string[]): string {
  const shown = members.slice(0, 10).join(', ');
  const more = members.length > 10 ? ` and ${members.length - 10} more` : '';
  return `existing group, ${members.length} member${members.length === 1 ? '' : 's'}${members.length ? `: ${shown}${more}` : ''}`;
}

function secretLine(s: NonNullable<ApprovalPlan['secret']>): string {
  const years = `${s.validYears} year${s.validYears === 1 ? '' : 's'}`;
  if (!s.expiresAt) return `${s.displayName}, valid ${years}`;
  return `${s.displayName}, valid until ${formatUtc(s.expiresAt)}${s.clampedByPolicy ? ` (shortened from ${years} by the tenant policy)` : ''}`;
}

function unchangedSenders(plan: ApprovalPlan): CardElement[] {
  const senders = plan.members.after;
  return [sectionTitle('Senders (unchanged)'), textBlock(senders.length > 0 ? bulletList(senders.map(escapeMarkdown)) : 'None.')];
}

function kindSection(kind: ApprovalVariant, plan: ApprovalPlan): CardElement[] {
  const out: CardElement[] = [];
  if (kind === 'new-secret' && plan.rotation) {
    const r = plan.rotation;
    out.push(sectionTitle('The old secrets keep working for now'));
    out.push(
      textBlock(
        r.oldSecrets.length > 0
          ? bulletList(r.oldSecrets.map((o) => `${o.keyId} (expires ${formatUtc(o.expiresAt)})`))
          : 'The app has no other secret, so there is nothing to remove afterwards.',
      ),
    );
    if (r.oldSecrets.length > 0) {
      out.push(
        textBlock(
          `They are removed when the requester confirms that Opter uses the new secret, or ${r.overlapDays} day${r.overlapDays === 1 ? '' : 's'} after it was created, whichever comes first.`,
          { size: 'Small', spacing: 'None' },
        ),
      );
    }
  }
  if (kind === 'migrate-rbac' && plan.migration) out.push(...migrationPlanElements(plan.migration));
  if (kind === 'test-email' && plan.testEmail) {
    out.push(sectionTitle('The test'));
    out.push(
      factSet([
        ['From', plan.testEmail.from],
        ['To', plan.testEmail.to],
        ['Secret', `Temporary (${plan.testEmail.temporarySecretMinutes} minutes), created for the test and removed right after it`],
      ]),
    );
  }
  if (kind === 'repair') {
    out.push(sectionTitle('Drift found'));
    out.push(textBlock(plan.drift && plan.drift.length > 0 ? bulletList(plan.drift.map(escapeMarkdown)) : 'None when the request was made; the repair re-checks everything.', { color: 'Attention' }));
  }
  if (kind === 'adopt' && plan.adoption) {
    out.push(sectionTitle('Baseline the bot will record'));
    out.push(factSet([['Scoping', describeScopingState(plan.adoption.scoping)], ['Senders', plan.adoption.senders.join(', ') || '(none)']]));
  }
  return out;
}

function membersSection(plan: ApprovalPlan): CardElement[] {
  const { before, after } = plan.members;
  const lower = (list: string[]) => new Set(list.map((a) => a.toLowerCase()));
  const beforeSet = lower(before);
  const afterSet = lower(after);
  const added = after.filter((a) => !beforeSet.has(a.toLowerCase()));
  const removed = before.filter((a) => !afterSet.has(a.toLowerCase()));
  if (before.length === 0) {
    return [sectionTitle('Senders (group members)'), textBlock(after.length > 0 ? bulletList(after.map(escapeMarkdown)) : 'None yet.')];
  }
  const items: CardElement[] = [
    textBlock('Senders: before → after', { weight: 'Bolder' }),
    factSet([
      ['Before', before.join(', ')],
      ['After', after.length > 0 ? after.join(', ') : '(none)'],
      ['Added', added.length > 0 ? added.map((a) => `+ ${a}`).join(', ') : undefined],
      ['Removed', removed.length > 0 ? removed.map((a) => `− ${a}`).join(', ') : undefined],
    ]),
  ];
  return [container(items, { style: 'emphasis', spacing: 'Medium' })];
}

function permissionLines(kind: ApprovalVariant, plan: ApprovalPlan): string[] {
  const group = escapeMarkdown(plan.group.smtp ?? plan.group.name);
  switch (kind) {
    case 'new-secret':
      return [
        `Who may send does not change (${plan.scoping === 'rbac' ? 'RBAC for Applications' : 'Application Access Policy'} on ${group}).`,
        'A new client secret: whoever holds it can send mail as the senders above until it expires or is removed. It is shown once, to the requester only.',
      ];
    case 'test-email':
      return [
        'No permission changes.',
        'A temporary client secret exists for the duration of the test; nobody sees it, and it is removed even when the test fails.',
        plan.testEmail ? `One message is sent as ${escapeMarkdown(plan.testEmail.from)} to ${escapeMarkdown(plan.testEmail.to)}.` : 'One test message is sent.',
      ];
    case 'adopt':
      return [
        'Nothing in the tenant changes: the bot records the current senders and scoping as its baseline, verifies them, and from now on reports drift, reminds about expiring secrets and can repair.',
      ];
    case 'migrate-rbac':
      return [
        `Exchange RBAC for Applications: the role “Application Mail.Send” for the app, scoped to the direct members of ${group}.`,
        'At the end the tenant-wide Microsoft Graph Mail.Send permission and the Application Access Policy are removed (after Exchange’s permission cache caught up), so only the group scope is left.',
      ];
    default:
      break;
  }
  const lines: string[] =
    plan.scoping === 'rbac'
      ? [
          `Exchange RBAC for Applications: the role “Application Mail.Send” for the app, scoped to the direct members of ${group}.`,
          'No tenant-wide Microsoft Graph Mail.Send permission (an existing one is removed, because it would undo the scope).',
        ]
      : [
          'Microsoft Graph **Mail.Send** as an application permission (this approval gives the admin consent). On its own it allows sending as any mailbox, so:',
          `an Exchange Application Access Policy (RestrictAccess) limits it to the members of ${group}.`,
        ];
  if (kind === 'add-sender' || kind === 'remove-sender') {
    // No permission is granted by a membership change; say what the existing setup is and what changes.
    return [
      plan.scoping === 'rbac'
        ? `The app may send as the direct members of ${group} (Exchange RBAC for Applications).`
        : `The app may send as the members of ${group} (Microsoft Graph Mail.Send, restricted by an Application Access Policy).`,
      kind === 'add-sender'
        ? 'This approval adds the listed mailboxes to that group; no permission changes.'
        : 'This approval removes the listed mailboxes from that group, so the app can no longer send as them; no permission changes.',
    ];
  }
  if (kind === 'repair') lines.unshift('Restores what was approved before (no new secret, no new senders):');
  if (plan.secret) lines.push('Whoever holds the client secret can send mail as these senders until it expires or is removed.');
  return lines;
}
