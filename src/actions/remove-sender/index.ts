/**
 * "remove sender x@… [from <app>]", and Repair for members added outside the bot: take the addresses out of the
 * sender group, then prove each one is refused.
 */
import { checkLine } from '../../provisioning';
import { REMOVE_SENDER_STEPS, removeSenderWorkflow } from '../../provisioning';
import type { RemoveSendersInput } from '../../provisioning';
import { parseSenderList } from '../../provisioning';
import { checkLines, lifecycleBasePlan, lifecyclePayload, lifecycleResultCardOf, lifecycleRequestResult, lifecycleTarget, type LifecycleRequestResult } from '../common';
import { appName } from '../text';
import { defineAction } from '../types';
import { removeSenderRequest } from './request';

export const removeSender = defineAction({
  kind: 'remove-sender',
  label: 'Remove sender',
  command: {
    words: ['remove sender', 'remove senders', 'remove mailbox'],
    parse({ phrase }) {
      const remove = /^remove\s+(?:senders?|mailbox(?:es)?|sender\s+addresses?)\b[:\s]*(.*?)(?:\s+from\s+(?!\S+@)(.+))?$/i.exec(phrase);
      return remove ? ({ kind: 'remove-sender', addresses: parseSenderList(remove[1]!), app: appName(remove[2]) } as const) : null;
    },
  },
  help: { command: 'remove sender', example: 'remove sender old@contoso.com', what: 'Stop a mailbox from sending through Opter.', who: 'admin' },
  request: removeSenderRequest,
  payload: lifecyclePayload,
  approval: { variant: 'remove-sender', plan: (p) => ({ ...lifecycleBasePlan(p), members: { before: p.senders, after: p.membersAfter ?? p.senders } }) },
  // Only group membership changes.
  roleNeeds: ['exchange'],
  progress: {
    title: (r) => `${r.payload.repairOf ? 'Repair: removing' : 'Removing'} ${(r.payload.remove ?? []).join(', ')} from ${r.payload.appName}`,
    steps: () => REMOVE_SENDER_STEPS,
  },
  workflow: removeSenderWorkflow,
  job: {
    input: (p): RemoveSendersInput => ({ ...lifecycleTarget(p), senders: p.remove ?? [] }),
    start: (engine, input, key) => engine.createJob('remove-sender', input, key),
  },
  settlement: {
    resultFields: (ctx): LifecycleRequestResult => ({ ...lifecycleRequestResult(ctx, { members: ctx.result.members }), removed: ctx.result.removed, notMembers: ctx.result.notMembers }),
    settle({ request, result, audit, post }) {
      const p = request.payload;
      for (const sender of result.removed ?? []) {
        audit({
          action: 'sender.removed',
          objects: { appId: result.clientId, groupSmtp: result.groupSmtp, sender },
          detail: `${sender} may no longer send through ${p.appName}${p.repairOf ? ' (it had been added outside the bot)' : ''}. ${checkLines(result.checks.filter((c) => c.name.includes(sender)))}`,
        });
      }
      post('result-post', `result-post:${request.id}`);
    },
    resultCard: (request) =>
      lifecycleResultCardOf(request, (model, r) => {
        const removed = r.removed ?? [];
        model.title = removed.length ? `${removed.join(', ')} can no longer send through ${request.payload.appName}` : `Nobody was removed from ${request.payload.appName}`;
        model.summary = `${removed.length ? `Removed from ${r.groupSmtp}; each address now tests as refused.` : ''}${r.notMembers?.length ? ` Not members: ${r.notMembers.join(', ')}.` : ''}`.trim() || 'Nothing changed.';
        model.facts = [{ title: 'Senders now', value: (r.senders ?? []).join(', ') || '(none)' }];
      }),
  },
  // Both paths (the access policy and the RBAC scope) are bound to the one group, so a removed mailbox loses both
  // at once; the migration verifies the members it finds when it continues, not the ones it started with.
  runsBesideAWaitingMigration: true,
  cli: {
    lines({ result: r }) {
      return [
        `Removed from ${r.groupSmtp}: ${r.removed.join(', ') || '(nobody)'}${r.notMembers.length ? `; not members: ${r.notMembers.join(', ')}` : ''}.`,
        `Senders now: ${r.members.join(', ') || '(none)'}`,
        ...r.checks.map((c) => `  ${checkLine(c)}`),
      ];
    },
  },
  audit: { what: (p) => `${p.repairOf ? 'repair: remove the members added outside the bot, ' : 'remove '}${(p.remove ?? []).join(', ')} from ${p.appName}` },
});
