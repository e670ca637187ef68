/**
 * RBAC for Applications as idempotent "ensure" steps (docs/microsoft-facts.md §9): organization customization, the Exchange
 * service principal pointer, the `Application Mail.Send` role assignment scoped to the sender group, and removal
 * of the tenant-wide Graph Mail.Send grant — plus the checks that prove the scope.
 *
 * Why the Graph grant goes: Entra grants and Exchange RBAC add up (a union). A tenant-wide Mail.Send in Entra lets
 * the app send as ANY mailbox whatever the Exchange scope says (docs/microsoft-facts.md §5.2, §9; docs/microsoft-facts.md §9.6).
 * Scope: `-RecipientGroupScope` covers the group's DIRECT members only; nested groups are not in scope [DOC X8].
 */
import { OpterError, toOpterError } from '../core/errors';
import { newObjectRead } from './activities/common';
import { controlMailboxProblem, restrictionNotTested, skippedCheck, verdict } from './check-results';
import { RBAC_MAIL_SEND_ROLE, RBAC_ROLES_WITH_MAIL_SEND, roleAssignmentNameFor } from './identity';
import type { DerivedNames } from './names';
import { sendersOfOtherRegistrations } from './ownership';
import { assignmentHolder, assignmentTargetsGroup, graphMailSendRole, type GroupFacts } from './registration';
import type { ManagementRoleAssignment } from '../core/ports';
import type { JobRuntime, VerificationCheck } from './runtime';

export const GRAPH_GRANT_REMOVAL_REASON =
  'Entra grants and Exchange RBAC add up (a union): a tenant-wide Microsoft Graph Mail.Send grant would let the app send as ANY mailbox and defeat the group scope, so RBAC scoping removes it.';
export const DIRECT_MEMBERS_NOTE =
  'RBAC group scope covers the group’s direct members only: a mailbox inside a nested group is NOT allowed to send.';
export const RBAC_PROPAGATION_NOTE =
  'Exchange caches app permissions for 30 minutes to 2 hours: the first sends can be refused (403) even though Test-ServicePrincipalAuthorization already says InScope. Leave the app idle for a while, then send once.';

export interface RbacTarget {
  names: DerivedNames;
  appId: string;
  appDisplayName: string;
  spObjectId: string;
  /** The Entra service principal was created in this job (a not-found then means "not replicated yet"). */
  spIsNew: boolean;
  group: GroupFacts;
  groupIsNew: boolean;
}

/** Get-OrganizationConfig; when IsDehydrated, Enable-OrganizationCustomization and wait until it took effect [DOC X10]. */
export function stepOrganization(rt: JobRuntime) {
  const { exchange, journal } = rt.ports;
  return rt.step<{ enabled: boolean }>('organization', async (_attempt, record) => {
    const cfg = await exchange.getOrganizationConfig();
    const enabledHere = record.outputs.enabled === true;
    if (!cfg.isDehydrated) {
      return {
        out: { enabled: enabledHere },
        summary: enabledHere ? 'Organization customization enabled' : 'The Exchange organization allows RBAC changes (not dehydrated)',
      };
    }
    if (!enabledHere) {
      // Intent first: a resumed run knows the command was sent even if its answer was lost.
      journal.recordStepOutputs(rt.job.id, 'organization', { enableRequestedAt: rt.ports.clock.now().toISOString() });
      const r = await exchange.enableOrganizationCustomization();
      journal.recordStepOutputs(rt.job.id, 'organization', { enabled: true, alreadyEnabled: !r.enabled });
      rt.note('The Exchange organization was dehydrated, so Enable-OrganizationCustomization was run (once per tenant, required before RBAC role assignments).');
    }
    throw new OpterError('E_EXCHANGE_CUSTOMIZATION_PENDING', {
      transient: true,
      detail: 'Get-OrganizationConfig still reports IsDehydrated = True.',
      retryReason: 'waiting for Exchange to finish enabling organization customization',
    });
  });
}

/** `New-ServicePrincipal -AppId -ObjectId <Entra SP id> -DisplayName`, after `Get-ServicePrincipal` [docs/microsoft-facts.md §9.1]. */
export function stepExchangeServicePrincipal(rt: JobRuntime, t: RbacTarget) {
  const { exchange, journal } = rt.ports;
  return rt.step<{ exoSpObjectId: string; created: boolean }>('exchangeServicePrincipal', async (_attempt, record) => {
    const existing = await exchange.getExchangeServicePrincipal(t.spObjectId);
    if (existing) {
      if (existing.appId.toLowerCase() !== t.appId.toLowerCase()) {
        throw new OpterError('E_INTERNAL', { detail: `the Exchange service principal ${existing.objectId} belongs to app ${existing.appId}, not ${t.appId}` });
      }
      const created = record.outputs.created === true;
      return { out: { exoSpObjectId: existing.objectId, created }, summary: `${created ? 'Created' : 'Reusing'} Exchange service principal pointer ${existing.objectId}` };
    }
    journal.recordStepOutputs(rt.job.id, 'exchangeServicePrincipal', { createAttempted: true });
    const sp = await newObjectRead(
      () => exchange.newExchangeServicePrincipal({ appId: t.appId, objectId: t.spObjectId, displayName: t.appDisplayName }),
      t.spIsNew,
      'waiting for Exchange to see the new service principal',
    );
    journal.recordStepOutputs(rt.job.id, 'exchangeServicePrincipal', { created: true, exoSpObjectId: sp.objectId });
    return { out: { exoSpObjectId: sp.objectId, created: true }, summary: `Created Exchange service principal pointer (New-ServicePrincipal) for ${t.appDisplayName}` };
  });
}

/**
 * `New-ManagementRoleAssignment -Name -App -Role 'Application Mail.Send' -RecipientGroupScope <group>`, after
 * `Get-ManagementRoleAssignment`. A same-named assignment for another assignee or scope (e.g. the app was
 * re-created) is replaced, as U7 does [docs/microsoft-facts.md §9.3]. Ownership is decided on the assignee's identity
 * (assignmentHolder), never on RoleAssigneeName alone: replacing our own assignment would cut Mail.Send for
 * Exchange's 30 min–2 h permission-cache window.
 */
export function stepRoleAssignment(rt: JobRuntime, t: RbacTarget, exoSpObjectId: string, exoSpIsNew: boolean) {
  const { exchange, journal, clock } = rt.ports;
  const name = roleAssignmentNameFor(t.names);
  const pointer = { objectId: exoSpObjectId, appId: t.appId, displayName: t.appDisplayName };
  return rt.step<{ name: string; created: boolean; assignedAt: string | null }>('roleAssignment', async (_attempt, record) => {
    const ours = (a: ManagementRoleAssignment) => a.role.toLowerCase() === RBAC_MAIL_SEND_ROLE.toLowerCase() && assignmentHolder(a, pointer) === 'ours';
    const createdEarlier = record.outputs.created === true;
    const assignedEarlier = typeof record.outputs.assignedAt === 'string' ? (record.outputs.assignedAt as string) : null;

    const [named] = await exchange.getManagementRoleAssignments({ identity: name });
    if (named && ours(named) && assignmentTargetsGroup(named, t.group)) {
      return { out: { name, created: createdEarlier, assignedAt: assignedEarlier }, summary: `${createdEarlier ? 'Assigned' : 'Already assigned'}: ${RBAC_MAIL_SEND_ROLE} scoped to ${t.group.smtp}` };
    }
    if (named && assignmentHolder(named, pointer) === 'unknown') {
      throw new OpterError('E_ROLE_ASSIGNMENT_UNCLEAR', { detail: `${name}" (assignee shown as "${named.roleAssigneeName || named.roleAssignee}` });
    }
    if (named) {
      await exchange.removeManagementRoleAssignment(named.identity);
      rt.note(`Replaced the role assignment "${name}": it named another assignee or scope (${named.roleAssigneeName}, ${named.recipientGroupScope?.name ?? named.customResourceScope ?? named.recipientWriteScope}).`);
    }
    const mine = await exchange.getManagementRoleAssignments({ roleAssignee: exoSpObjectId });
    const other = mine.find((a) => ours(a) && assignmentTargetsGroup(a, t.group));
    if (other) {
      return { out: { name: other.name, created: false, assignedAt: null }, summary: `Already assigned: ${RBAC_MAIL_SEND_ROLE} scoped to ${t.group.smtp} (assignment "${other.name}")` };
    }
    const broad = mine.filter((a) => RBAC_ROLES_WITH_MAIL_SEND.some((r) => r.toLowerCase() === a.role.toLowerCase()) && !assignmentTargetsGroup(a, t.group));
    if (broad.length) {
      rt.note(`The app also holds ${broad.map((a) => `"${a.role}" (${a.name}, scope ${a.recipientGroupScope?.name ?? a.customResourceScope ?? a.recipientWriteScope})`).join(', ')}; those reach beyond the sender group — remove them with Remove-ManagementRoleAssignment.`);
    }
    const assignedAt = clock.now().toISOString();
    journal.recordStepOutputs(rt.job.id, 'roleAssignment', { createAttempted: true, assignedAt });
    const created = await newObjectRead(
      () => exchange.newManagementRoleAssignment({ name, app: exoSpObjectId, role: RBAC_MAIL_SEND_ROLE, recipientGroupScope: t.group.guid || t.group.smtp }),
      exoSpIsNew || t.groupIsNew,
      'waiting for Exchange to replicate the new service principal pointer',
    );
    journal.recordStepOutputs(rt.job.id, 'roleAssignment', { created: true });
    rt.note(DIRECT_MEMBERS_NOTE);
    return { out: { name: created.name, created: true, assignedAt }, summary: `Assigned ${RBAC_MAIL_SEND_ROLE} to the app, scoped to the direct members of ${t.group.smtp}` };
  });
}

/** Removes the tenant-wide Graph Mail.Send grant (`DELETE …/appRoleAssignments/{id}`, as U7 does). */
export function stepRemoveGraphGrant(rt: JobRuntime, spObjectId: string) {
  const { directory } = rt.ports;
  return rt.step<{ removedAssignmentIds: string[] }>('removeGraphGrant', async () => {
    const role = await graphMailSendRole(directory);
    const held = (await directory.listAppRoleAssignments(spObjectId)).filter((a) => a.resourceId === role.resourceId && a.appRoleId === role.appRoleId);
    for (const a of held) await directory.removeAppRoleAssignment(spObjectId, a.id);
    if (held.length) rt.note(`Removed the Microsoft Graph Mail.Send application grant. ${GRAPH_GRANT_REMOVAL_REASON}`);
    return {
      out: { removedAssignmentIds: held.map((a) => a.id) },
      summary: held.length ? 'Removed the tenant-wide Graph Mail.Send grant (it would defeat the RBAC scope)' : 'No Graph Mail.Send grant (none is needed with RBAC)',
    };
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------------------------

/** Does any Mail.Send-carrying row of Test-ServicePrincipalAuthorization say InScope? */
export async function rbacInScope(rt: JobRuntime, exoSpIdentity: string, mailbox: string): Promise<boolean> {
  const rows = await rt.ports.exchange.testServicePrincipalAuthorization(exoSpIdentity, mailbox);
  return rows.some((r) => r.inScope === true && (/\bMail\.Send\b/i.test(r.grantedPermissions) || RBAC_ROLES_WITH_MAIL_SEND.some((x) => x.toLowerCase() === r.roleName.toLowerCase())));
}

/** `Test-ServicePrincipalAuthorization -Identity <sp> -Resource <mailbox>` until it shows what we expect (bounded). */
export async function expectInScope(rt: JobRuntime, exoSpIdentity: string, mailbox: string, expected: boolean, label = ''): Promise<VerificationCheck> {
  const name = `Test-ServicePrincipalAuthorization ${mailbox}${label}`;
  const refusal = expected ? {} : { provesRestriction: true };
  try {
    await rt.converge(async () => {
      const inScope = await rbacInScope(rt, exoSpIdentity, mailbox);
      if (inScope !== expected) {
        throw new OpterError('E_VERIFY_FAILED', { transient: true, detail: `InScope ${inScope ? 'True' : 'False'}, expected ${expected ? 'True' : 'False'}`, retryReason: 'waiting for Exchange to apply the role assignment' });
      }
    });
    return rt.check({ name, ok: true, detail: `InScope ${expected ? 'True' : 'False'} (expected ${expected ? 'True' : 'False'})`, ...refusal });
  } catch (e) {
    const err = toOpterError(e);
    return rt.check({ name, ok: false, detail: err.detail ?? err.message, ...refusal });
  }
}

/** The control mailbox must be out of scope; without a usable one the check is reported as not run. */
export async function expectControlOutOfScope(rt: JobRuntime, exoSpIdentity: string, groupMembers: string[]): Promise<VerificationCheck> {
  const control = rt.ports.controlMailbox;
  const problem = controlMailboxProblem(control, groupMembers);
  return problem ? rt.check(restrictionNotTested(problem)) : expectInScope(rt, exoSpIdentity, control!, false);
}

/** The service principal must not hold the tenant-wide Graph Mail.Send grant next to an RBAC scope. */
export async function checkNoGraphGrant(rt: JobRuntime, spObjectId: string): Promise<VerificationCheck> {
  const name = 'No tenant-wide Graph Mail.Send grant';
  const role = await graphMailSendRole(rt.ports.directory);
  const held = (await rt.ports.directory.listAppRoleAssignments(spObjectId)).some((a) => a.resourceId === role.resourceId && a.appRoleId === role.appRoleId);
  return rt.check({ name, ok: !held, detail: held ? `the app holds Graph Mail.Send: ${GRAPH_GRANT_REMOVAL_REASON}` : 'Entra grants nothing that bypasses the Exchange scope' });
}

/** Signs in with the new secret; under RBAC the token must NOT carry Graph Mail.Send. */
export async function checkSignInRbac(rt: JobRuntime, appId: string, secretText: string): Promise<VerificationCheck> {
  const name = 'Token as the new app';
  const signIn = rt.ports.appSignIn;
  if (!signIn) return rt.check(skippedCheck(name, 'no app sign-in is configured'));
  try {
    const { roles } = await rt.converge(() => signIn.acquireGraphToken(appId, secretText));
    const tenantWide = roles.includes('Mail.Send');
    return rt.check({
      name,
      ok: !tenantWide,
      detail: tenantWide
        ? 'signed in, but the token carries tenant-wide Graph Mail.Send, which defeats the RBAC scope'
        : 'signed in with the new secret; no tenant-wide Graph Mail.Send in the token (Exchange RBAC authorizes sending)',
    });
  } catch (e) {
    const err = toOpterError(e);
    return rt.check({ name, ok: false, detail: `${err.code}: ${err.detail ?? err.message}` });
  }
}

/**
 * Whether a job proves that its secret signs in: `null` when the job makes no secret (add sender, repair); else the
 * secret made in this run, if this run holds it, and why the proof cannot run when it does not.
 */
export type SignInProof = null | { secretText?: string; notRunBecause: string };

/**
 * The RBAC verification: every sender InScope, the control mailbox not, no Graph grant, and (when the job makes a
 * secret) a token without Mail.Send. Throws E_VERIFY_FAILED listing the failed checks; a check that could not run
 * is reported as skipped and named in the summary.
 */
export function stepVerifyRbac(
  rt: JobRuntime,
  p: { stepName?: string; exoSpIdentity: string; spObjectId: string; appId: string; senders: string[]; groupMembers?: string[]; signIn: SignInProof; ownGroup?: { names: DerivedNames; groupIdentity: string } },
) {
  return rt.step<{ checks: VerificationCheck[] }>(p.stepName ?? 'verify', async () => {
    const checks: VerificationCheck[] = [];
    for (const s of p.senders) checks.push(await expectInScope(rt, p.exoSpIdentity, s, true));
    checks.push(await expectControlOutOfScope(rt, p.exoSpIdentity, p.groupMembers ?? p.senders));
    // The other direction: senders of other registrations are out of this app's scope.
    const control = rt.ports.controlMailbox;
    const others = p.ownGroup ? await sendersOfOtherRegistrations(rt.ports, { ...p.ownGroup, appId: p.appId }) : [];
    for (const f of others) {
      if (f.mailbox.toLowerCase() !== control?.toLowerCase()) checks.push(await expectInScope(rt, p.exoSpIdentity, f.mailbox, false, ` (sender of "${f.owner}")`));
    }
    checks.push(await checkNoGraphGrant(rt, p.spObjectId));
    if (p.signIn?.secretText) checks.push(await checkSignInRbac(rt, p.appId, p.signIn.secretText));
    else if (p.signIn) checks.push(rt.check(skippedCheck('Token as the new app', p.signIn.notRunBecause)));
    return { out: { checks }, summary: verdict(checks) };
  });
}
