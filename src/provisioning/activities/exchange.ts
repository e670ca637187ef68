/**
 * Exchange activities: the senders and the group's owner checked before any write, the mail-enabled security group
 * and its members, and the Application Access Policy. Idempotent "ensure X" steps, like activities/directory.ts.
 */
import { OpterError, toOpterError } from '../../core/errors';
import type { DistributionGroup } from '../../core/ports';
import type { DerivedNames } from '../names';
import { assertGroupIsOurs, registrationKey } from '../ownership';
import type { JobRuntime } from '../runtime';
import { assertSecretAllowed } from '../secret-policy';
import { checkSendersInTenant, problemsToError } from '../senders';
import { assertOurGroup, newObjectRead } from './common';

/**
 * `groupFor`: also refuse when the group those names lead to belongs to another registration.
 * `secret`: also refuse when the tenant's app management policy forbids the secret this job will add.
 */
export function validateSenders(rt: JobRuntime, senders: string[], checks: { groupFor?: DerivedNames; secret?: { names: DerivedNames; newSecret?: boolean } } = {}) {
  const { groupFor, secret } = checks;
  return rt.step('validate', async () => {
    const [check] = await Promise.all([checkSendersInTenant(rt.ports.exchange, senders), groupFor ? assertGroupIsOurs(rt.ports, groupFor) : null]);
    if (check.problems.length) throw problemsToError(check.problems);
    // Before any write: a tenant that forbids client secrets would otherwise stop us at the last step.
    if (secret) await assertSecretAllowed(rt.ports.directory, secret.names, rt.ports.clock.now(), { newSecret: secret.newSecret });
    // Add by primary SMTP address: the input may be a secondary proxy address of the mailbox.
    const resolved = senders.map((s) => check.recipients.get(s.toLowerCase())!.primarySmtpAddress);
    const uniq = [...new Map(resolved.map((r) => [r.toLowerCase(), r])).values()];
    return { out: { senders: uniq }, summary: `${uniq.length} mailbox${uniq.length === 1 ? '' : 'es'} checked: ${uniq.join(', ')}` };
  });
}

export function ensureGroup(rt: JobRuntime, names: DerivedNames, senders: string[]) {
  const { exchange, journal } = rt.ports;
  return rt.step<{ groupIdentity: string; groupSmtp: string; groupObjectId: string | null; groupName: string; groupGuid?: string; created: boolean; membersAdded: string[]; members?: string[] }>(
    'group',
    async (attempt, record) => {
      let group = await exchange.getDistributionGroup(names.groupAlias);
      let created = record.outputs.created === true;
      if (group) {
        // Checked again at run time: the group may have appeared (or changed hands) since validation or approval.
        await assertGroupIsOurs(rt.ports, names);
        // Our own create intent and no other owner: an earlier attempt made it and its answer was lost.
        created ||= record.outputs.createAttempted === true;
      } else {
        const triedBefore = attempt > 1 || record.outputs.createAttempted === true;
        // The ownership record, journaled before the group exists, so a crash mid-create still proves it is ours.
        journal.recordStepOutputs(rt.job.id, 'group', { createAttempted: true, ownerKey: registrationKey(names), groupAlias: names.groupAlias, groupName: names.groupName });
        try {
          group = await exchange.newDistributionGroup({ name: names.groupName, alias: names.groupAlias, members: senders });
          created = true;
          journal.recordStepOutputs(rt.job.id, 'group', { created: true, groupIdentity: group.identity, groupSmtp: group.primarySmtpAddress });
        } catch (e) {
          const err = toOpterError(e);
          // An earlier attempt may have created it on a domain controller this read did not reach yet.
          if (err.code === 'E_GROUP_CONFLICT' && triedBefore) {
            throw new OpterError('E_NOT_FOUND', {
              transient: true,
              detail: err.detail,
              retryReason: 'waiting for Exchange to replicate the new group',
            });
          }
          throw err;
        }
      }
      assertOurGroup(group, names);
      const { added: membersAdded, members } = await ensureMembers(rt, group, senders, created);
      return {
        out: {
          groupIdentity: group.identity,
          groupSmtp: group.primarySmtpAddress,
          groupObjectId: group.externalDirectoryObjectId,
          groupName: group.name,
          groupGuid: group.guid,
          created,
          membersAdded,
          // The member list after this job: the baseline that drift detection compares against.
          members,
        },
        summary: `${created ? 'Created' : 'Reusing'} group ${group.primarySmtpAddress}${membersAdded.length ? `; added ${membersAdded.join(', ')}` : '; all senders are members'}`,
      };
    },
  );
}

/** Adds the senders that are not yet direct members; returns the ones added and the member list after. */
export async function ensureMembers(rt: JobRuntime, group: DistributionGroup, senders: string[], groupIsNew: boolean): Promise<{ added: string[]; members: string[] }> {
  const { exchange } = rt.ports;
  const members = await newObjectRead(() => exchange.getDistributionGroupMembers(group.identity), groupIsNew, 'waiting for Exchange to replicate the new group');
  const have = new Set(members.map((m) => m.primarySmtpAddress.toLowerCase()));
  const after = members.map((m) => m.primarySmtpAddress);
  const added: string[] = [];
  for (const s of senders) {
    if (have.has(s.toLowerCase())) continue;
    const r = await newObjectRead(() => exchange.addDistributionGroupMember(group.identity, s), groupIsNew, 'waiting for Exchange to replicate the new group');
    if (r.created) added.push(s);
    // Already a member (a lost earlier response) or just added: either way it is in the group now.
    have.add(s.toLowerCase());
    after.push(s);
  }
  return { added, members: after };
}

export function ensureAccessPolicy(rt: JobRuntime, appId: string, group: { groupIdentity: string; groupSmtp: string; groupObjectId: string | null; groupName: string; created: boolean }) {
  const { exchange } = rt.ports;
  return rt.step<{ policyIdentity: string; created: boolean }>('policy', async () => {
    const policies = await exchange.getApplicationAccessPolicies();
    const forApp = policies.filter((p) => p.appId.toLowerCase() === appId.toLowerCase());
    const scopeKeys = new Set([group.groupIdentity, group.groupSmtp, group.groupName, group.groupObjectId ?? ''].filter(Boolean).map((s) => s.toLowerCase()));
    const match = forApp.find(
      (p) => p.accessRight === 'RestrictAccess' && (scopeKeys.has(p.scopeName.toLowerCase()) || scopeKeys.has(p.scopeIdentity.toLowerCase())),
    );
    const others = forApp.filter((p) => p !== match);
    if (others.length) {
      rt.notes.push(`The app also has ${others.length} other access polic${others.length === 1 ? 'y' : 'ies'} (${others.map((p) => `${p.accessRight} ${p.scopeName}`).join(', ')}); a DenyAccess policy wins over RestrictAccess.`);
    }
    if (match) return { out: { policyIdentity: match.identity, created: false }, summary: `Access policy already restricts the app to ${group.groupSmtp}` };
    const created = await newObjectRead(
      () =>
        exchange.newApplicationAccessPolicy({
          appId,
          policyScopeGroupId: group.groupSmtp,
          accessRight: 'RestrictAccess',
          description: `Restrict app-only Graph mail access to members of ${group.groupSmtp}`,
        }),
      true, // the group or app may be new to this Exchange server even when an earlier job created them
      'waiting for Exchange to see the new group',
    );
    return { out: { policyIdentity: created.identity, created: true }, summary: `Application Access Policy created: RestrictAccess to ${group.groupSmtp}` };
  });
}
