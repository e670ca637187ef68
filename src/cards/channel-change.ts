/**
 * The approval card for moving the audit or approvals channel. It has the approval card's frame (state, who asked,
 * the decision buttons and per-viewer refresh), so the same verbs, card binding and decision rules apply.
 */
import { approvalFooter, approvalHeader } from './approval';
import { bulletList, factSet, sectionTitle, textBlock } from './elements';
import type { AdaptiveCardJson, ChannelChangeApprovalModel, ChannelRef } from './types';

const TITLES = { audit: 'Change the audit channel', approvals: 'Change the approvals channel' } as const;

export function channelLabel(c: ChannelRef): string {
  return c.name ? `${c.name} (${c.channelId})` : c.channelId;
}

export function channelChangeApprovalCard(model: ChannelChangeApprovalModel): AdaptiveCardJson {
  const body = approvalHeader(model, TITLES[model.purpose], 'The change is made now and announced in both channels.');
  body.push(sectionTitle('What will change'));
  body.push(
    factSet([
      ['New channel', channelLabel(model.to)],
      ['Until now', model.from ? channelLabel(model.from) : model.purpose === 'audit' ? 'None chosen yet: entries are waiting to be posted' : 'None: approval requests go to each approver’s 1:1 chat'],
    ]),
  );
  body.push(sectionTitle('Why this needs a second admin'));
  body.push(
    textBlock(
      bulletList(
        model.purpose === 'audit'
          ? [
              'Every audit entry from now on is posted to the new channel: whoever controls it controls who sees the record.',
              'The old and the new channel are both told about the change, with who asked and who approved.',
            ]
          : [
              'Approval requests are posted to the new channel; only configured approvers can decide there.',
              'The old and the new channel are both told about the change, with who asked and who approved.',
            ],
      ),
    ),
  );
  return approvalFooter(model, body);
}
