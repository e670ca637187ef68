/**
 * Remove sender(s): `Remove-DistributionGroupMember -BypassSecurityGroupManagerCheck`, then prove each address is
 * no longer allowed (access policy Denied / RBAC not InScope, and no tenant-wide grant that would still allow it).
 * The input checks and the two activities; workflows/remove-sender.ts orchestrates them.
 */
import { OpterError } from '../core/errors';
import type { NameOverrides } from './names';
import { checkSenderSyntax, problemsToError } from './senders';
import { expectSend, verdict } from './checks';
import { namesOf, type LocatedRegistration } from './locate';
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

/** Removes the senders that are direct members (compared by primary address); `addresses` are the primaries. */
export function removeMembers(rt: JobRuntime, loc: Pick<LocatedRegistration, 'groupIdentity' | 'groupSmtp'>, senders: string[]) {
  const { exchange } = rt.ports;
  return rt.step<{ removed: string[]; notMembers: string[]; members: string[]; addresses: string[] }>('members', async () => {
    const current = await exchange.getDistributionGroupMembers(loc.groupIdentity!);
    const removed: string[] = [];
    const notMembers: string[] = [];
    const addresses: string[] = [];
    for (const s of senders) {
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
}

/** Proves the app may no longer send as each address (a mailbox that is gone cannot be sent as either). */
export function verifyRefused(rt: JobRuntime, loc: Pick<LocatedRegistration, 'appId' | 'hasGraphMailSend' | 'scoping' | 'exoSpObjectId'>, addresses: string[]) {
  return rt.step<{ checks: VerificationCheck[] }>('verify', async () => {
    const checks: VerificationCheck[] = [];
    for (const address of addresses) {
      const mailbox = await rt.ports.exchange.getRecipient(address);
      if (!mailbox) {
        checks.push(rt.check({ name: `May not send as ${address}`, ok: true, detail: 'no such mailbox any more, so nothing can send as it' }));
        continue;
      }
      checks.push(await expectSend(rt, loc, mailbox.primarySmtpAddress, false));
    }
    return { out: { checks }, summary: verdict(checks) };
  });
}
