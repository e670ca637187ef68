/**
 * "add sender a@… [b@…]": the bot picks the registration and checks the addresses (add-sender.ts in the bot); the
 * approved request runs the engine's add-sender job (add to the group, then prove each new sender may send).
 */
import { checkState, unverifiedNotice } from '../../provisioning';
import { ADD_SENDER_STEPS, addSenderWorkflow, type AddSendersInput } from '../../provisioning';
import { parseSenderList } from '../../provisioning';
import { addSenderPayloadSchema, provisionRequestResult } from '../common';
import { defineAction } from '../types';

export const addSender = defineAction({
  kind: 'add-sender',
  label: 'Add sender',
  command: {
    words: ['add sender', 'add senders', 'add mailbox'],
    parse(t) {
      // "add sender a@x b@y", "add senders a@x, b@y", "add mailbox a@x" — addresses from the raw text.
      const add = /^\s*(?:please\s+)?add\s+(?:senders?|mailbox(?:es)?|sender\s+addresses?)\b[:\s]*(.*)$/is.exec(t.raw);
      return add ? ({ kind: 'add-sender', addresses: parseSenderList(add[1]!.replace(/<[^>]*>/g, ' ')) } as const) : null;
    },
  },
  help: { command: 'add sender', example: 'add sender faktura@contoso.com', what: 'Allow more mailboxes to send through an existing registration.', who: 'admin' },
  payload: addSenderPayloadSchema,
  approval: {
    variant: 'add-sender',
    plan: (p) => ({
      appDisplayName: p.appName,
      appId: p.appId ?? undefined,
      createsApp: false,
      group: { name: p.groupName, alias: p.groupAlias, smtp: p.groupSmtp ?? undefined, exists: true },
      members: { before: p.membersBefore, after: p.membersAfter },
      scoping: p.scoping ?? 'access-policy',
    }),
  },
  // Only group membership changes.
  roleNeeds: ['exchange'],
  progress: { title: (r) => `Adding senders to ${r.payload.appName}`, steps: () => ADD_SENDER_STEPS },
  workflow: addSenderWorkflow,
  job: {
    input: (p): AddSendersInput => ({ appDisplayName: p.appName, senders: p.senders }),
    start: (engine, input, key) => engine.createJob('add-sender', input, key),
  },
  settlement: {
    resultFields: provisionRequestResult,
    settle({ request, result, audit, notify }) {
      const p = request.payload;
      for (const member of result.membersAdded) {
        audit({ action: 'sender.added', objects: { appId: result.clientId, groupSmtp: result.groupSmtp, sender: member }, detail: `${member} may now send through ${p.appName}.` });
      }
      // Access-policy registrations report Test-ApplicationAccessPolicy checks, RBAC ones "May send as …".
      const checks = result.checks.filter((c) => !c.name.startsWith('Token'));
      const passed = checks.filter((c) => checkState(c) === 'passed');
      const notice = unverifiedNotice(checks);
      const notChecked = result.unchecked?.length ? ` Not checked: ${result.unchecked.join(' ')}` : '';
      notify({
        title: 'Senders added',
        text: `${p.senders.join(', ')} can now send through ${p.appName} (group ${result.groupSmtp}). ${notice ? 'Checked' : 'Verified'}: ${passed.map((c) => `${c.name.replace(/^(Test-ApplicationAccessPolicy|Test-ServicePrincipalAuthorization|May send as) /, '')} → ${c.detail}`).join('; ')}.${notice ? ` ${notice}` : ''}${notChecked}`,
        tone: notice || notChecked ? 'warning' : 'good',
      });
    },
  },
  // Not beside a waiting migration: the bot refuses it while any request for the registration is on its way.
  runsBesideAWaitingMigration: false,
  cli: {
    lines({ result: r }) {
      const already = r.senders.filter((s) => !r.membersAdded.some((m) => m.toLowerCase() === s.toLowerCase()));
      return [
        `Added as senders for ${r.names.appDisplayName}: ${r.membersAdded.join(', ') || '(none)'} (group ${r.groupSmtp}).`,
        ...(already.length ? [`Already senders: ${already.join(', ')}.`] : []),
      ];
    },
  },
  audit: {
    what: (p) => `add ${p.senders.join(', ')} to ${p.appName}`,
    requested: (p) => `Add ${p.senders.join(', ')} to ${p.appName} (group ${p.groupSmtp ?? p.groupAlias}).`,
  },
});
