/**
 * Migrate an Application Access Policy registration to RBAC for Applications without mail ever stopping.
 *
 * The order is the point (planMigration explains it to the admin):
 *   1. add the RBAC path (organization customization if needed, Exchange service principal pointer, role
 *      assignment scoped to the sender group) while the Graph grant + access policy still carry the mail;
 *   2. verify it (Test-ServicePrincipalAuthorization: every sender InScope, the control mailbox not);
 *   3. wait for Exchange's permission cache (30 min – 2 h) so Graph honours the assignment for real;
 *   4. remove the tenant-wide Graph Mail.Send grant (the RBAC scope alone decides from now on);
 *   5. remove the access policy (last: while the grant exists, removing it would let the app send as anyone);
 *   6. verify again.
 * At every point at least one path lets the senders send, and no point allows the control mailbox.
 */
import { OpterError } from '../core/errors';
import { currentSenders, namesOf, type LocatedRegistration } from './locate';
import type { DerivedNames, NameOverrides } from './names';
import { DIRECT_MEMBERS_NOTE, checkNoGraphGrant, expectControlOutOfScope, expectInScope, type RbacTarget } from './rbac';
import { policyTargetsGroup, readRegistration, type RegistrationFacts } from './registration';
import { RBAC_MAIL_SEND_ROLE, roleAssignmentNameFor } from './identity';
import type { ExchangeLifecyclePort, ExchangePort, DirectoryPort } from '../core/ports';
import type { JobRuntime, VerificationCheck } from './runtime';
import { verdict } from './checks';

/** Microsoft's upper figure for the RBAC permission cache [R2 as quoted, docs/microsoft-facts.md §9.5]. */
export const DEFAULT_SETTLE_MINUTES = 120;

/** A migrate job's input as the journal holds it (validateMigrateInput filled in the default). */
export type StoredMigrateInput = MigrateInput & { settleMinutes: number };

export interface MigrateInput {
  appDisplayName: string;
  overrides?: NameOverrides;
  /** Minutes to wait after the role assignment before the Graph grant is removed (default 120). */
  settleMinutes?: number;
}

export type MigrationStepId =
  | 'organization'
  | 'exchangeServicePrincipal'
  | 'roleAssignment'
  | 'verifyRbac'
  | 'settle'
  | 'removeGraphGrant'
  | 'removePolicy'
  | 'verify';

export interface MigrationPlanStep {
  id: MigrationStepId;
  action: 'add' | 'check' | 'wait' | 'remove';
  title: string;
  detail: string;
  /** Already in the desired state: the job will only confirm it. */
  alreadyDone: boolean;
}

/** The facts planMigration needs (all read-only, from readRegistration + Get-OrganizationConfig). */
export interface MigrationState {
  appDisplayName: string;
  appId: string;
  names: DerivedNames;
  hasServicePrincipal: boolean;
  groupSmtp: string | null;
  senders: string[];
  nestedGroups: string[];
  graphMailSend: boolean;
  /** RestrictAccess policies scoped to the sender group (what the script made). */
  groupPolicies: string[];
  /** Other policies of this app (other scopes, DenyAccess): not touched. */
  otherPolicies: { identity: string; accessRight: string; scope: string }[];
  exchangeServicePrincipal: boolean;
  scopedRoleAssignment: string | null;
  /** Mail.Send-carrying assignments that reach beyond the group. */
  broaderRoleAssignments: string[];
  /** null when unknown. */
  isDehydrated: boolean | null;
}

export interface MigrationPlan {
  appDisplayName: string;
  appId: string;
  steps: MigrationPlanStep[];
  adds: string[];
  removes: string[];
  keeps: string[];
  whyThisOrder: string[];
  /** Reasons the migration cannot start. */
  blockers: string[];
  warnings: string[];
  /** Already RBAC-only: nothing would change. */
  nothingToDo: boolean;
  settleMinutes: number;
}

export function migrationStateFrom(f: RegistrationFacts, isDehydrated: boolean | null): MigrationState {
  const group = f.group;
  const groupPolicies = group ? f.accessPolicies.filter((p) => p.accessRight === 'RestrictAccess' && policyTargetsGroup(p, group)) : [];
  return {
    appDisplayName: f.app.displayName,
    appId: f.app.appId,
    names: f.names,
    hasServicePrincipal: !!f.servicePrincipal,
    groupSmtp: group?.smtp ?? null,
    senders: f.members.filter((m) => !f.nestedGroups.includes(m)),
    nestedGroups: f.nestedGroups,
    graphMailSend: !!f.graphMailSend,
    groupPolicies: groupPolicies.map((p) => p.identity),
    otherPolicies: f.accessPolicies.filter((p) => !groupPolicies.includes(p)).map((p) => ({ identity: p.identity, accessRight: p.accessRight, scope: p.scopeName })),
    exchangeServicePrincipal: !!f.exchangeServicePrincipal,
    scopedRoleAssignment: f.scopedRoleAssignment?.name ?? null,
    broaderRoleAssignments: f.mailSendRoleAssignments.filter((a) => a !== f.scopedRoleAssignment).map((a) => `${a.role} (${a.name})`),
    isDehydrated,
  };
}

/** The ordered plan: what is added, what is removed, and why this order keeps mail flowing. Pure. */
export function planMigration(s: MigrationState, opts: { settleMinutes?: number } = {}): MigrationPlan {
  const settleMinutes = opts.settleMinutes ?? DEFAULT_SETTLE_MINUTES;
  const group = s.groupSmtp ?? `${s.names.groupAlias} (missing)`;
  const roleName = roleAssignmentNameFor(s.names);
  const blockers: string[] = [];
  if (!s.hasServicePrincipal) blockers.push('The app has no service principal (enterprise app): run repair first.');
  if (!s.groupSmtp) blockers.push(`The sender group ${s.names.groupAlias} does not exist: run repair first.`);

  const steps: MigrationPlanStep[] = [
    {
      id: 'organization',
      action: 'add',
      title: 'Exchange organization customization',
      detail: s.isDehydrated ? 'The tenant is dehydrated: run Enable-OrganizationCustomization (once per tenant) and wait until it completes.' : 'Check Get-OrganizationConfig IsDehydrated; nothing to enable.',
      alreadyDone: s.isDehydrated === false,
    },
    {
      id: 'exchangeServicePrincipal',
      action: 'add',
      title: 'Exchange service principal pointer',
      detail: `New-ServicePrincipal -AppId ${s.appId} -ObjectId <Entra service principal id> -DisplayName "${s.appDisplayName}"`,
      alreadyDone: s.exchangeServicePrincipal,
    },
    {
      id: 'roleAssignment',
      action: 'add',
      title: `${RBAC_MAIL_SEND_ROLE} scoped to the sender group`,
      detail: `New-ManagementRoleAssignment -Name "${roleName}" -App <pointer> -Role "${RBAC_MAIL_SEND_ROLE}" -RecipientGroupScope ${group} (direct members only)`,
      alreadyDone: !!s.scopedRoleAssignment,
    },
    {
      id: 'verifyRbac',
      action: 'check',
      title: 'Verify the RBAC scope',
      detail: `Test-ServicePrincipalAuthorization: InScope for ${s.senders.length ? s.senders.join(', ') : 'every sender'}; the control mailbox is not in scope. Nothing is removed if this fails.`,
      alreadyDone: false,
    },
    {
      id: 'settle',
      action: 'wait',
      title: 'Wait for Exchange’s permission cache',
      detail: settleMinutes > 0 ? `Wait ${settleMinutes} minutes after the role assignment before removing anything (Graph applies RBAC changes after 30 min – 2 h).` : 'No wait requested (only safe when the assignment is already older than two hours).',
      alreadyDone: settleMinutes === 0,
    },
    {
      id: 'removeGraphGrant',
      action: 'remove',
      title: 'Remove the Graph Mail.Send grant',
      detail: 'Delete the tenant-wide Microsoft Graph Mail.Send application permission: next to RBAC it would let the app send as any mailbox (the two add up).',
      alreadyDone: !s.graphMailSend,
    },
    {
      id: 'removePolicy',
      action: 'remove',
      title: 'Remove the Application Access Policy',
      detail: s.groupPolicies.length ? `Remove-ApplicationAccessPolicy ${s.groupPolicies.join(', ')}` : 'No access policy scoped to the sender group.',
      alreadyDone: s.groupPolicies.length === 0,
    },
    {
      id: 'verify',
      action: 'check',
      title: 'Verify again',
      detail: 'Every sender InScope, the control mailbox not, no Graph Mail.Send grant left.',
      alreadyDone: false,
    },
  ];

  const adds = steps.filter((x) => x.action === 'add' && !x.alreadyDone).map((x) => x.title);
  const removes = steps.filter((x) => x.action === 'remove' && !x.alreadyDone).map((x) => x.title);
  const keeps = [`The app registration, its client secret(s) and the sender group ${group} with its members stay as they are.`];
  const warnings: string[] = [DIRECT_MEMBERS_NOTE];
  if (s.nestedGroups.length) warnings.push(`The group contains nested groups (${s.nestedGroups.join(', ')}): their members will NOT be allowed under RBAC; add those mailboxes directly first.`);
  if (!s.senders.length) warnings.push('The group has no sender mailboxes: nothing can send before or after the migration.');
  for (const p of s.otherPolicies) {
    warnings.push(`The ${p.accessRight} policy for ${p.scope} is not part of this setup and stays${p.accessRight === 'DenyAccess' ? ' (RBAC has no deny equivalent; once the Graph grant is gone it no longer matters)' : ''}.`);
  }
  for (const a of s.broaderRoleAssignments) warnings.push(`The app already holds ${a}, which reaches beyond the sender group; remove it or the scope means nothing.`);

  const whyThisOrder = [
    'The RBAC path is added and verified while the Graph grant and the access policy still carry the mail, so at every moment at least one path lets the senders send.',
    settleMinutes > 0
      ? `The Graph grant is removed only ${settleMinutes} minutes after the role assignment: Exchange caches app permissions for 30 minutes to 2 hours, and Test-ServicePrincipalAuthorization shows the configuration, not the cache.`
      : 'The Graph grant is removed right after the verification (no wait was requested).',
    'The access policy is removed after the grant: removed first, it would briefly let the still-granted app send as ANY mailbox.',
    'The control mailbox stays refused throughout: the access policy limits the grant until the grant is gone, and the role assignment covers the group’s direct members only.',
  ];
  return {
    appDisplayName: s.appDisplayName,
    appId: s.appId,
    steps,
    adds,
    removes,
    keeps,
    whyThisOrder,
    blockers,
    warnings,
    nothingToDo: !!s.scopedRoleAssignment && s.exchangeServicePrincipal && !s.graphMailSend && s.groupPolicies.length === 0,
    settleMinutes,
  };
}

/** Reads the tenant and plans (no writes): for the approval card and `opter-mail migrate --plan-only`. */
export async function inspectMigration(
  ports: { directory: DirectoryPort; exchange: ExchangePort & ExchangeLifecyclePort },
  input: MigrateInput,
): Promise<{ state: MigrationState; plan: MigrationPlan }> {
  const valid = validateMigrateInput(input);
  const names = namesOf(valid);
  const facts = await readRegistration(ports, names);
  if (!facts) throw new OpterError('E_NOT_FOUND', { detail: `no app registration named "${names.appDisplayName}".` });
  const org = await ports.exchange.getOrganizationConfig().catch(() => null);
  const state = migrationStateFrom(facts, org ? org.isDehydrated : null);
  return { state, plan: planMigration(state, { settleMinutes: valid.settleMinutes }) };
}

export function validateMigrateInput(input: MigrateInput): StoredMigrateInput {
  const appDisplayName = (input.appDisplayName ?? '').trim();
  if (!appDisplayName) throw new OpterError('E_INPUT_INVALID', { detail: 'The app display name is empty.', field: 'appName' });
  namesOf({ appDisplayName, overrides: input.overrides });
  const settleMinutes = input.settleMinutes ?? DEFAULT_SETTLE_MINUTES;
  if (!Number.isFinite(settleMinutes) || settleMinutes < 0 || settleMinutes > 24 * 60) {
    throw new OpterError('E_INPUT_INVALID', { detail: `The wait must be 0–1440 minutes (got ${settleMinutes}).`, field: 'settleMinutes' });
  }
  return { appDisplayName, settleMinutes, ...(input.overrides ? { overrides: input.overrides } : {}) };
}

export interface MigrateResult {
  kind: 'migrate-rbac';
  appId: string;
  groupSmtp: string;
  roleAssignmentName: string;
  removedGraphGrant: boolean;
  removedPolicies: string[];
  checks: VerificationCheck[];
  notes: string[];
}

export const MIGRATE_STEPS = ['locate', 'organization', 'exchangeServicePrincipal', 'roleAssignment', 'verifyRbac', 'settle', 'removeGraphGrant', 'removePolicy', 'verify'] as const;

/** Nothing is removed unless the RBAC path is proven for every sender (and not for the control mailbox). */
export function verifyRbacAdded(rt: JobRuntime, loc: LocatedRegistration, exoSpObjectId: string) {
  return rt.step<{ checks: VerificationCheck[] }>('verifyRbac', async () => {
    const checks: VerificationCheck[] = [];
    for (const s of loc.senders) checks.push(await expectInScope(rt, exoSpObjectId, s, true));
    checks.push(await expectControlOutOfScope(rt, exoSpObjectId, loc.senders));
    return { out: { checks }, summary: `${verdict(checks)}; the Graph grant and access policy are still in place` };
  });
}

/**
 * Waits for Exchange's permission cache after the role assignment: in-process when the wait is short, else the
 * job stops as waiting until the time has come.
 */
export function settlePermissionCache(rt: JobRuntime<StoredMigrateInput>, assignment: { assignedAt?: string | null }) {
  const input = rt.input;
  const { journal, clock } = rt.ports;
  return rt.step<{ waitedMs: number }>('settle', async () => {
    const assignedAt = assignment.assignedAt ? new Date(assignment.assignedAt).getTime() : null;
    if (assignedAt === null || input.settleMinutes === 0) {
      return { out: { waitedMs: 0 }, summary: assignedAt === null ? 'The role assignment existed before this migration; no wait needed' : 'No wait requested' };
    }
    const notBefore = assignedAt + input.settleMinutes * 60_000;
    const remaining = notBefore - clock.now().getTime();
    if (remaining <= 0) return { out: { waitedMs: 0 }, summary: `The role assignment is older than ${input.settleMinutes} minutes` };
    if (remaining <= rt.maxInlineWaitMs) {
      await clock.sleep(remaining);
      return { out: { waitedMs: remaining }, summary: `Waited ${Math.ceil(remaining / 60_000)} min for Exchange's permission cache` };
    }
    const resumeAfter = new Date(notBefore).toISOString();
    journal.recordStepOutputs(rt.job.id, 'settle', { resumeAfter });
    throw new OpterError('E_JOB_UNFINISHED', {
      detail: `RBAC is in place and verified; the Graph grant is removed only after ${resumeAfter}, when Exchange's permission cache has caught up. Mail keeps flowing meanwhile.`,
      resumeAfter,
    });
  });
}

/** Removes the access policy scoped to the sender group (last: while the grant exists it limits the app). */
export function removeAccessPolicy(rt: JobRuntime, loc: LocatedRegistration, target: RbacTarget) {
  const { exchange } = rt.ports;
  return rt.step<{ removedPolicies: string[] }>('removePolicy', async () => {
    const all = (await exchange.getApplicationAccessPolicies()).filter((p) => p.appId.toLowerCase() === loc.appId.toLowerCase());
    const ours = all.filter((p) => p.accessRight === 'RestrictAccess' && policyTargetsGroup(p, target.group));
    for (const p of ours) await exchange.removeApplicationAccessPolicy(p.identity);
    const others = all.filter((p) => !ours.includes(p));
    if (others.length) rt.note(`Left ${others.length} other access polic${others.length === 1 ? 'y' : 'ies'} of this app in place (${others.map((p) => `${p.accessRight} ${p.scopeName}`).join(', ')}).`);
    return {
      out: { removedPolicies: ours.map((p) => p.identity) },
      summary: ours.length ? `Removed the Application Access Policy (RestrictAccess to ${target.group.smtp})` : 'No access policy scoped to the group was left',
    };
  });
}

/** The end state: the senders in scope as they are now, the control out, no Graph grant, no access policy. */
export function verifyMigrated(rt: JobRuntime, loc: LocatedRegistration, exoSpObjectId: string, target: RbacTarget) {
  const { exchange } = rt.ports;
  return rt.step<{ checks: VerificationCheck[] }>('verify', async () => {
    // The wait may have lasted hours: senders removed or added through the bot meanwhile are checked as they are now.
    const senders = await currentSenders(rt, loc);
    const checks: VerificationCheck[] = [];
    for (const s of senders) checks.push(await expectInScope(rt, exoSpObjectId, s, true));
    checks.push(await expectControlOutOfScope(rt, exoSpObjectId, senders));
    checks.push(await checkNoGraphGrant(rt, loc.spObjectId!));
    const left = (await exchange.getApplicationAccessPolicies()).filter((p) => p.appId.toLowerCase() === loc.appId.toLowerCase() && p.accessRight === 'RestrictAccess' && policyTargetsGroup(p, target.group));
    checks.push(rt.check({ name: 'Access policy removed', ok: left.length === 0, detail: left.length ? `still present: ${left.map((p) => p.identity).join(', ')}` : 'no access policy scoped to the sender group' }));
    return { out: { checks }, summary: verdict(checks) };
  });
}
