/**
 * The approval card, in all its states. The shared copy posted to approvers carries the buttons (the server decides
 * whether a click counts); while pending it may carry a `refresh` so each listed approver gets a fresh, viewer-specific
 * view. Decided/expired copies have no buttons and no refresh.
 */
import { adaptiveCard, banner, container, execute, factSet, formatUtc, heading, plainText, refreshUserIds, sectionTitle, textBlock, bulletList } from './elements';
import type { AdaptiveCardJson, ApprovalCardModel, ApprovalPlan, CardAction, CardElement, RequestKind } from './types';

/** Input id of the reject reason (merged into action.data as `reason`). */
export const APPROVAL_INPUTS = { reason: 'reason' } as const;

const KIND_TITLES: Record<RequestKind, string> = {
  setup: 'Set up Opter email',
  'add-sender': 'Add sender to Opter email',
  'remove-sender': 'Remove sender from Opter email',
  'new-secret': 'New client secret for Opter email',
  repair: 'Repair Opter email setup',
};

export function approvalCard(model: ApprovalCardModel): AdaptiveCardJson {
  const { plan, state } = model;
  const viewer = model.viewer ?? 'shared';
  const title = state.status === 'pending' ? `Approval needed: ${KIND_TITLES[model.kind]}` : KIND_TITLES[model.kind];
  const body: CardElement[] = [...heading(title, `Request ${model.requestId}`)];

  switch (state.status) {
    case 'pending':
      body.push(banner('Waiting for approval', 'warning', `Expires ${formatUtc(model.expiresAt)} if nobody decides.`));
      break;
    case 'approved':
      body.push(banner(`Approved by ${state.by.name}`, 'good', `${formatUtc(state.at)}. Setup runs now; the requester sees the progress.`));
      break;
    case 'rejected':
      body.push(banner(`Rejected by ${state.by.name}`, 'attention', formatUtc(state.at)));
      body.push(textBlock('Reason', { weight: 'Bolder', size: 'Small' }));
      body.push(plainText(state.reason, { spacing: 'None' }));
      break;
    case 'expired':
      body.push(banner('Expired without a decision', 'attention', `${formatUtc(state.at)}. Nothing was created; the requester can ask again.`));
      break;
    case 'cancelled':
      body.push(banner(`Cancelled by ${state.by.name}`, 'attention', formatUtc(state.at)));
      break;
  }

  body.push(
    factSet([
      ['Requested by', model.requestedBy.name],
      ['Requested', formatUtc(model.requestedAt)],
      ['Expires', state.status === 'pending' ? formatUtc(model.expiresAt) : undefined],
    ]),
  );

  body.push(sectionTitle(model.kind === 'setup' ? 'What will be created' : 'What will change'));
  body.push(factSet(planFacts(plan)));
  body.push(...membersSection(plan));

  body.push(sectionTitle('Permissions this grants'));
  body.push(textBlock(bulletList(permissionLines(model.kind, plan))));

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

  const ids = state.status === 'pending' && model.refreshUserIds ? refreshUserIds(model.refreshUserIds) : null;
  const refresh = ids ? { action: execute('refresh-approval', 'Refresh', { requestId: model.requestId }), userIds: ids } : undefined;
  return adaptiveCard(body, actions, refresh);
}

function decisionActions(model: ApprovalCardModel): CardAction[] {
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

function planFacts(plan: ApprovalPlan): Array<[string, string | undefined]> {
  const groupLine = `${plan.group.name} (alias ${plan.group.alias})${plan.group.exists ? ', existing' : ', new'}`;
  return [
    ['App registration', plan.createsApp ? `${plan.appDisplayName} (new, single tenant)` : `${plan.appDisplayName} (existing)`],
    ['Client ID', plan.appId],
    ['Enterprise app', plan.createsApp ? 'New service principal for the app' : undefined],
    ['Client secret', plan.secret ? secretLine(plan.secret) : undefined],
    ['Sender group', `Mail-enabled security group ${groupLine}`],
    ['Group SMTP', plan.group.smtp],
    ['Scoping', plan.scoping === 'rbac' ? 'RBAC for Applications (Exchange role, scoped to the group)' : 'Application Access Policy (RestrictAccess, scoped to the group)'],
  ];
}

function secretLine(s: NonNullable<ApprovalPlan['secret']>): string {
  const years = `${s.validYears} year${s.validYears === 1 ? '' : 's'}`;
  if (!s.expiresAt) return `${s.displayName}, valid ${years}`;
  return `${s.displayName}, valid until ${formatUtc(s.expiresAt)}${s.clampedByPolicy ? ` (shortened from ${years} by the tenant policy)` : ''}`;
}

function membersSection(plan: ApprovalPlan): CardElement[] {
  const { before, after } = plan.members;
  const lower = (list: string[]) => new Set(list.map((a) => a.toLowerCase()));
  const beforeSet = lower(before);
  const afterSet = lower(after);
  const added = after.filter((a) => !beforeSet.has(a.toLowerCase()));
  const removed = before.filter((a) => !afterSet.has(a.toLowerCase()));
  if (before.length === 0) {
    return [sectionTitle('Senders (group members)'), textBlock(after.length > 0 ? bulletList(after) : 'None yet.')];
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

function permissionLines(kind: RequestKind, plan: ApprovalPlan): string[] {
  const group = plan.group.smtp ?? plan.group.name;
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
    lines.push('Changing the group membership changes who the app may send as; nothing else changes.');
  }
  if (plan.secret) lines.push('Whoever holds the client secret can send mail as these senders until it expires or is removed.');
  return lines;
}
