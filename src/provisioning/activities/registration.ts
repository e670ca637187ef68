/**
 * Activities that find an existing registration before a workflow changes it: the add-sender lookup (with the
 * scoping model that decides how new senders are verified), the repair plan, and adding senders to the group.
 */
import { OpterError } from '../../core/errors';
import { uniqueNameFor } from '../identity';
import { locatedFrom } from '../locate';
import type { DerivedNames } from '../names';
import { assertGroupIsOurs } from '../ownership';
import { readRegistration } from '../registration';
import { baselineFor, indexJournal } from '../registry';
import type { JobRuntime, ScopingModel } from '../runtime';
import { checkSendersInTenant } from '../senders';
import { assertOurGroup } from './common';
import { ensureMembers } from './exchange';

// A type, not an interface: step outputs must be plain JSON records.
export type LocatedForSenders = {
  appObjectId: string;
  appId: string;
  spObjectId: string;
  groupIdentity: string;
  groupSmtp: string;
  groupObjectId: string | null;
  scoping?: string;
  hasGraphMailSend?: boolean;
  exoSpObjectId?: string | null;
  unchecked?: string[];
};

/** The registration and its group, which must be this registration's alone (a new member can send through every app scoped to it). */
export function locateForSenders(rt: JobRuntime, names: DerivedNames) {
  return rt.step<LocatedForSenders>(
    'locate',
    async () => {
      const apps = (await rt.ports.directory.findApplicationsByDisplayName(names.appDisplayName)).filter((a) => a.displayName === names.appDisplayName);
      if (apps.length === 0) throw new OpterError('E_NOT_FOUND', { detail: `no app registration named "${names.appDisplayName}" — set it up first.` });
      const app = apps.find((a) => a.uniqueName === uniqueNameFor(names)) ?? (apps.length === 1 ? apps[0] : undefined);
      if (!app) throw new OpterError('E_APP_NAME_AMBIGUOUS', { detail: `${apps.length} registrations are named "${names.appDisplayName}"` });
      const sp = await rt.ports.directory.getServicePrincipalByAppId(app.appId);
      const group = await rt.ports.exchange.getDistributionGroup(names.groupAlias);
      if (!group) throw new OpterError('E_NOT_FOUND', { detail: `the group ${names.groupAlias} does not exist — run set up again to repair it.` });
      // A new member can send through every app scoped to the group: it must be this registration's alone.
      await assertGroupIsOurs(rt.ports, names);
      assertOurGroup(group, names);
      // The scoping model decides how the new senders are verified (access policy vs RBAC for Applications).
      const facts = await readRegistration(rt.ports, names, { appId: app.appId });
      if (facts && !facts.rbacChecked && facts.scoping === 'unscoped') {
        // No access policy, and RBAC cannot be read: nothing tells how the senders are scoped, so nothing to verify.
        throw new OpterError('E_EXCHANGE_PERMISSION', {
          detail: `${names.appDisplayName} has no Application Access Policy, so it is scoped by RBAC for Applications (or not at all), and the provisioning identity may not read RBAC for Applications (Role Management role).`,
        });
      }
      return {
        out: {
          appObjectId: app.id,
          appId: app.appId,
          spObjectId: sp?.id ?? '',
          groupIdentity: group.identity,
          groupSmtp: group.primarySmtpAddress,
          groupObjectId: group.externalDirectoryObjectId,
          scoping: facts?.scoping ?? 'access-policy',
          hasGraphMailSend: !!facts?.graphMailSend,
          exoSpObjectId: facts?.exchangeServicePrincipal?.objectId ?? null,
          unchecked: facts?.unchecked ?? [],
        },
        summary: `Found ${app.displayName} (client id ${app.appId}) and group ${group.primarySmtpAddress}`,
      };
    },
  );
}

/** Adds the senders that are not yet members; `members` is the member list after (the control mailbox must not be in it). */
export function addSenders(rt: JobRuntime, where: Pick<LocatedForSenders, 'groupIdentity' | 'groupSmtp'>, senders: string[]) {
  return rt.step<{ membersAdded: string[]; members?: string[] }>('members', async () => {
    const group = await rt.ports.exchange.getDistributionGroup(where.groupIdentity);
    if (!group) throw new OpterError('E_NOT_FOUND', { detail: `the group ${where.groupSmtp} disappeared` });
    const { added, members: after } = await ensureMembers(rt, group, senders, false);
    return { out: { membersAdded: added, members: after }, summary: added.length ? `Added ${added.join(', ')}` : 'All senders were already members' };
  });
}

export type RepairPlan = {
  senders: string[];
  intendedScoping: ScopingModel;
  unexpectedMembers: string[];
  appId: string;
};

/**
 * Repair's plan: the senders from the last member list the journal recorded (else the group's current members)
 * and the scoping model. Members added outside the bot are left alone (they stay reported as drift); mailboxes
 * that no longer exist are skipped with a note.
 */
export function planRepair(rt: JobRuntime, names: DerivedNames) {
  return rt.step<RepairPlan>('locate', async () => {
    const facts = await readRegistration(rt.ports, names);
    if (!facts) throw new OpterError('E_NOT_FOUND', { detail: `no app registration named "${names.appDisplayName}" — set it up first.` });
    const baseline = baselineFor(indexJournal(rt.ports.journal), facts.app.appId);
    // Half-way through a migration the access-policy objects must stay; the migration finishes the switch.
    const intendedScoping: ScopingModel = baseline.migrationJobId ? 'access-policy' : (baseline.scoping ?? (facts.scoping === 'rbac' ? 'rbac' : 'access-policy'));
    const wanted = baseline.members ?? facts.members.filter((m) => !facts.nestedGroups.includes(m));
    const unexpectedMembers = baseline.members ? facts.members.filter((m) => !baseline.members!.some((b) => b.toLowerCase() === m.toLowerCase())) : [];
    const check = await checkSendersInTenant(rt.ports.exchange, wanted);
    const gone = new Set(check.problems.map((p) => p.address.toLowerCase()));
    for (const p of check.problems) rt.notes.push(`${p.address} is not re-added: ${p.message}`);
    const senders = wanted.filter((w) => !gone.has(w.toLowerCase()));
    if (unexpectedMembers.length) rt.notes.push(`Left in the group (added outside the bot): ${unexpectedMembers.join(', ')}. Approve them with "add sender" or remove them with "remove sender".`);
    rt.notes.push(...facts.unchecked);
    return {
      out: { ...locatedFrom(facts), senders, intendedScoping, unexpectedMembers },
      summary: `Found ${facts.app.displayName} (client id ${facts.app.appId}); repairing as ${intendedScoping === 'rbac' ? 'RBAC for Applications' : 'Application Access Policy'} with ${senders.length} sender${senders.length === 1 ? '' : 's'}`,
    };
  });
}
