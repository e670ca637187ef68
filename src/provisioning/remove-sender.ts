/**
 * Remove sender(s): `Remove-DistributionGroupMember -BypassSecurityGroupManagerCheck`, then prove each address is
 * no longer allowed (access policy Denied / RBAC not InScope, and no tenant-wide grant that would still allow it).
 */
import { OpterError } from '../core/errors';
import type { NameOverrides } from './names';
import { checkSenderSyntax, problemsToError } from './senders';
import { expectSend, verdict } from './checks';
import { namesOf, stepLocate } from './locate';
import type { JobRuntime, VerificationCheck } from './runtime';

export interface RemoveSendersInput {
  appDisplayName: string;
  senders: string[];
  overrides?: NameOverrides;
}

export interface RemoveSendersResult {
  kind: 'remove-sender';
  appId: string;
  groupSmtp: string;
  removed: string[];
  notMembers: string[];
  /** The group's direct members after the change (the new baseline for drift detection). */
  members: string[];
  checks: VerificationCheck[];
  notes: string[];
}

export const REMOVE_SENDER_STEPS = ['locate', 'members', 'verify'] as const;

export function validateRemoveSendersInput(input: RemoveSendersInput): RemoveSendersInput {
  const appDisplayName = (input.appDisplayName ?? '').trim();
  if (!appDisplayName) throw new OpterError('E_INPUT_INVALID', { detail: 'The app display name is empty.', field: 'appName' });
  namesOf({ appDisplayName, overrides: input.overrides }); // E_ALIAS_EMPTY early
  const senders = (input.senders ?? []).map((s) => s.trim()).filter(Boolean);
  if (!senders.length) throw new OpterError('E_INPUT_INVALID', { detail: 'Give at least one sender address to remove.', field: 'senders' });
  const problems = checkSenderSyntax(senders);
  if (problems.length) throw problemsToError(problems);
  return { appDisplayName, senders, ...(input.overrides ? { overrides: input.overrides } : {}) };
}

export async function runRemoveSenders(rt: JobRuntime<RemoveSendersInput>): Promise<RemoveSendersResult> {
  const input = rt.input;
  const names = namesOf(input);
  const loc = await stepLocate(rt, names, { requireGroup: true });
  const { exchange } = rt.ports;

  const members = await rt.step<{ removed: string[]; notMembers: string[]; members: string[]; addresses: string[] }>('members', async () => {
    const current = await exchange.getDistributionGroupMembers(loc.groupIdentity!);
    const removed: string[] = [];
    const notMembers: string[] = [];
    const addresses: string[] = [];
    for (const s of input.senders) {
      // The input may be a secondary address of the mailbox: compare by the primary one.
      const r = await exchange.getRecipient(s);
      const primary = r?.primarySmtpAddress ?? s;
      addresses.push(primary);
      if (!current.some((m) => m.primarySmtpAddress.toLowerCase() === primary.toLowerCase())) {
        notMembers.push(primary);
        continue;
      }
      const out = await exchange.removeDistributionGroupMember(loc.groupIdentity!, primary);
      (out.removed ? removed : notMembers).push(primary);
    }
    const after = (await exchange.getDistributionGroupMembers(loc.groupIdentity!)).map((m) => m.primarySmtpAddress);
    if (after.length === 0) rt.note(`The group ${loc.groupSmtp} is now empty: the app may not send as any mailbox until a sender is added.`);
    return {
      out: { removed, notMembers, members: after, addresses },
      summary: `${removed.length ? `Removed ${removed.join(', ')}` : 'Nobody removed'}${notMembers.length ? `; not members: ${notMembers.join(', ')}` : ''}`,
    };
  });

  const verify = await rt.step<{ checks: VerificationCheck[] }>('verify', async () => {
    const checks: VerificationCheck[] = [];
    for (const address of members.addresses) {
      const mailbox = await exchange.getRecipient(address);
      if (!mailbox) {
        checks.push(rt.check({ name: `May not send as ${address}`, ok: true, detail: 'no such mailbox any more, so nothing can send as it' }));
        continue;
      }
      checks.push(await expectSend(rt, loc, mailbox.primarySmtpAddress, false));
    }
    return { out: { checks }, summary: verdict(checks) };
  });

  rt.note('Removal takes effect in Graph with a delay: access-policy changes can take longer than 1 hour, RBAC changes 30 minutes to 2 hours.');
  return {
    kind: 'remove-sender',
    appId: loc.appId,
    groupSmtp: loc.groupSmtp!,
    removed: members.removed,
    notMembers: members.notMembers,
    members: members.members,
    checks: verify.checks,
    notes: [...rt.notes],
  };
}
