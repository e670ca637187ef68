/**
 * A sender group belongs to exactly one registration. Names that normalise to the same base ("Opter Message Proxy"
 * and "Opter Message Proxy.") derive the same group name and alias, so "the group exists" never means "it is ours":
 * a group is used only when our own records prove it belongs to this registration. Otherwise every front door (form,
 * CLI, engine) refuses, names the owner and offers a free name.
 *
 * The registration's identity is its key: the app's uniqueName (`uniqueNameFor`), a function of the exact display
 * name, known before anything exists (the group step runs concurrently with the app step, so the app id may not be).
 *
 * Evidence, strongest first:
 *  1. our journal: the job that created the group (its intent — owner key and alias — is journaled before
 *     New-DistributionGroup, so a crash mid-create still leaves the claim), then jobs whose group step used it, and
 *     adopt jobs;
 *  2. the tenant: an access policy or an "Application Mail.Send" role assignment scoped to the group names an app;
 *     that app's display name gives the owner's key. Our own app (the product's uniqueName) scoped to the group
 *     proves ownership for a registration whose journal lives elsewhere (another DATA_DIR).
 * A security group with neither (made by regmsgraph.ps1 or by hand) is used only after it was adopted, through approval.
 */
import { OpterError } from '../core/errors';
import type { DirectoryPort, DistributionGroup, ExchangeLifecyclePort, ExchangePort, JournalPort } from '../core/ports';
import { RBAC_MAIL_SEND_ROLE, roleAssignmentNameFor, uniqueNameFor } from './identity';
import { EXCHANGE_NAME_MAX, deriveNames, type DerivedNames } from './names';
import { RbacReads, assignmentHolder, assignmentTargetsGroup, groupFacts, policyTargetsGroup } from './registration';
import { registrationInputOf } from './workflows/workflow';

export interface OwnershipPorts {
  directory: DirectoryPort;
  exchange: ExchangePort & ExchangeLifecyclePort;
  journal: JournalPort;
}

/** A registration as the evidence names it. */
export interface OwnerRef {
  key: string;
  displayName: string;
  appId: string | null;
}

/** One job's claim on a group, read from the journal. */
export interface GroupClaim {
  owner: OwnerRef;
  alias: string;
  name: string;
  guid: string | null;
  /** The job created the group (or attempted to: the intent recorded before New-DistributionGroup). */
  created: boolean;
  createAttempted: boolean;
  /** The job's group step finished (or the adoption did): the group was used for this owner. */
  established: boolean;
  jobId: string;
  createdAt: string;
}

export type GroupOwnership =
  /** No mail-enabled security group under these names (a recipient of another type is left to the name checks). */
  | { kind: 'none' }
  | { kind: 'ours'; group: DistributionGroup }
  | { kind: 'other'; group: DistributionGroup; owner: OwnerRef; evidence: string }
  | { kind: 'unrecorded'; group: DistributionGroup; scopedApp: OwnerRef | null };

/** The key that identifies a registration: the app's uniqueName (independent of group/secret name overrides). */
export function registrationKey(names: DerivedNames): string {
  return uniqueNameFor(names);
}

const str = (v: unknown): string | null => (typeof v === 'string' && v ? v : null);

/** Every claim our journal holds: provision/repair group steps (done, or with a recorded create intent) and adoptions. */
export function groupClaims(journal: JournalPort): GroupClaim[] {
  const claims: GroupClaim[] = [];
  for (const job of journal.listJobs()) {
    if (job.kind !== 'provision' && job.kind !== 'repair' && job.kind !== 'adopt') continue;
    const input = registrationInputOf(job);
    let names: DerivedNames;
    try {
      names = deriveNames(String(input?.appDisplayName ?? ''), input?.overrides);
    } catch {
      continue; // a refused input names nothing
    }
    if (job.kind === 'adopt') {
      const locate = journal.getStep(job.id, 'locate');
      if (job.status !== 'succeeded' || !locate) continue;
      claims.push({
        owner: { key: registrationKey(names), displayName: names.appDisplayName, appId: str(locate.outputs.appId) },
        alias: (str(locate.outputs.groupAlias) ?? names.groupAlias).toLowerCase(),
        name: (str(locate.outputs.groupName) ?? names.groupName).toLowerCase(),
        guid: str(locate.outputs.groupGuid),
        created: false,
        createAttempted: false,
        established: true,
        jobId: job.id,
        createdAt: job.createdAt,
      });
      continue;
    }
    const group = journal.getStep(job.id, 'group');
    if (!group) continue;
    const o = group.outputs;
    const created = o.created === true;
    const createAttempted = o.createAttempted === true;
    const established = group.status === 'succeeded';
    if (!created && !createAttempted && !established) continue;
    const appId = str(journal.getStep(job.id, 'app')?.outputs.appId) ?? str(journal.getStep(job.id, 'locate')?.outputs.appId);
    claims.push({
      owner: { key: str(o.ownerKey) ?? registrationKey(names), displayName: names.appDisplayName, appId },
      alias: (str(o.groupAlias) ?? names.groupAlias).toLowerCase(),
      name: (str(o.groupName) ?? names.groupName).toLowerCase(),
      guid: str(o.groupGuid),
      created,
      createAttempted,
      established,
      jobId: job.id,
      createdAt: job.createdAt,
    });
  }
  return claims;
}

function claimMatches(c: GroupClaim, g: DistributionGroup): boolean {
  const sameName = c.alias === g.alias.toLowerCase() || c.name === g.name.toLowerCase();
  // A claim on an earlier group of the same name (deleted and made again since) is about another object.
  return sameName && (!c.guid || !g.guid || c.guid.toLowerCase() === g.guid.toLowerCase());
}

/** The owner our journal records for this group: its creator first, then the first job that used or adopted it. */
function recordedOwner(claims: GroupClaim[], g: DistributionGroup): GroupClaim | null {
  const rank = (c: GroupClaim) => (c.created ? 0 : c.established ? 1 : 2);
  const mine = claims.filter((c) => claimMatches(c, g));
  mine.sort((a, b) => rank(a) - rank(b) || a.createdAt.localeCompare(b.createdAt));
  return mine[0] ?? null;
}

interface Scope {
  owner: OwnerRef;
  /** The app is the product's own for that key (uniqueName), i.e. registry-managed. */
  managedByUs: boolean;
  evidence: string;
}

/**
 * Apps scoped to this group in Exchange: RestrictAccess/DenyAccess policies and group-scoped RBAC assignments. An app
 * our journal knows is that registration's; any other is identified by its display name (a policy may outlive its
 * app: such an app belongs to nobody we know).
 */
async function scopesOn(ports: OwnershipPorts, g: DistributionGroup, claims: GroupClaim[], ownAssignmentName: string): Promise<Scope[]> {
  const { exchange, directory } = ports;
  const facts = groupFacts(g);
  // An identity without Exchange's Role Management role (what the script's steps need, no more) may not read role
  // assignments: ownership then rests on our journal and the access policies, and the RBAC evidence is not read.
  const rbacReads = new RbacReads();
  const [policies, assignments] = await Promise.all([
    exchange.getApplicationAccessPolicies(),
    rbacReads.read('Get-ManagementRoleAssignment', [], () => exchange.getManagementRoleAssignments({ role: RBAC_MAIL_SEND_ROLE })),
  ]);
  const byApp = new Map<string, string>();
  for (const p of policies) {
    if (p.appId && p.appId !== '*' && policyTargetsGroup(p, facts)) byApp.set(p.appId.toLowerCase(), `its app has an access policy (${p.accessRight}) on the group`);
  }
  // An assignment under this registration's own deterministic name is ours by our records even when it now names
  // another principal (re-pointed, or the app re-created): that is drift the RBAC step replaces, or refuses as
  // E_ROLE_ASSIGNMENT_UNCLEAR when it cannot tell the holder — not another registration's claim on the group.
  const scoped = assignments.filter((a) => assignmentTargetsGroup(a, facts) && a.name.toLowerCase() !== ownAssignmentName.toLowerCase());
  if (scoped.length) {
    const pointers = await rbacReads.read('Get-ServicePrincipal', [], () => exchange.listExchangeServicePrincipals());
    for (const a of scoped) {
      // Matched on the assignee's identity (RoleAssignee), not the pointer's name: see assignmentHolder.
      const sp = pointers.find((s) => assignmentHolder(a, s) === 'ours');
      if (sp && !byApp.has(sp.appId.toLowerCase())) byApp.set(sp.appId.toLowerCase(), `its app has the role assignment "${a.name}" (${a.role}) scoped to the group`);
    }
  }
  const scopes: Scope[] = [];
  for (const [appId, evidence] of byApp) {
    const known = claims.find((c) => c.owner.appId?.toLowerCase() === appId);
    if (known) {
      scopes.push({ owner: { ...known.owner, appId }, managedByUs: false, evidence });
      continue;
    }
    const app = await directory.getApplicationByAppId(appId);
    let key = `app:${appId}`;
    if (app) {
      try {
        key = registrationKey(deriveNames(app.displayName));
      } catch {
        // A display name without a derivable alias is never one of ours: keep the app-id key.
      }
    }
    scopes.push({ owner: { key, displayName: app?.displayName ?? `(an app that no longer exists)`, appId: app?.appId ?? appId }, managedByUs: !!app && app.uniqueName === key, evidence });
  }
  return scopes;
}

/** The mail-enabled security group these names would use (by alias, else one already carrying the group name). */
async function groupUnder(exchange: ExchangePort, names: DerivedNames): Promise<DistributionGroup | null> {
  const [byAlias, byName] = await Promise.all([
    exchange.getDistributionGroup(names.groupAlias),
    names.groupName.toLowerCase() === names.groupAlias.toLowerCase() ? Promise.resolve(null) : exchange.getDistributionGroup(names.groupName),
  ]);
  const group = byAlias ?? byName;
  return group && group.recipientTypeDetails === 'MailUniversalSecurityGroup' ? group : null;
}

/** Whose group is the one these names lead to? Reads only. */
export async function groupOwnership(ports: OwnershipPorts, names: DerivedNames): Promise<GroupOwnership> {
  const group = await groupUnder(ports.exchange, names);
  if (!group) return { kind: 'none' };
  const key = registrationKey(names);
  const claims = groupClaims(ports.journal);
  const recorded = recordedOwner(claims, group);
  const scopes = await scopesOn(ports, group, claims, roleAssignmentNameFor(names));
  if (recorded && recorded.owner.key !== key) {
    const scope = scopes.find((s) => s.owner.key === recorded.owner.key);
    const owner = { ...recorded.owner, appId: recorded.owner.appId ?? scope?.owner.appId ?? null };
    const how = recorded.created ? 'created it' : recorded.established ? 'uses it' : 'was creating it';
    return { kind: 'other', group, owner, evidence: `this bot's journal shows that its job ${recorded.jobId} ${how}` };
  }
  // Another app scoped to the group would gain every sender added to it: the group is not this registration's alone.
  const foreign = scopes.find((s) => s.owner.key !== key);
  if (foreign) return { kind: 'other', group, owner: foreign.owner, evidence: foreign.evidence };
  if (recorded || scopes.some((s) => s.managedByUs)) return { kind: 'ours', group };
  return { kind: 'unrecorded', group, scopedApp: scopes[0]?.owner ?? null };
}

/** The group name or alias was typed (an override), not derived from the app name. */
function groupNamesOverridden(names: DerivedNames): boolean {
  const defaults = deriveNames(names.appDisplayName);
  return defaults.groupAlias !== names.groupAlias || defaults.groupName !== names.groupName;
}

/**
 * Free group names for this app: its own derived names when overrides pointed elsewhere, else "<base> 2 - MailSend
 * Allowed" / "<alias>-2-mailsend-allowed" and so on (bounded); null when none of them is free.
 */
export async function suggestGroupNames(ports: OwnershipPorts, names: DerivedNames): Promise<{ groupName: string; groupAlias: string } | null> {
  const claimed = groupClaims(ports.journal);
  const trimHyphens = (s: string) => s.replace(/^-+|-+$/g, '');
  const defaults = deriveNames(names.appDisplayName);
  const candidates = groupNamesOverridden(names) ? [{ groupName: defaults.groupName, groupAlias: defaults.groupAlias }] : [];
  for (let n = 2; n <= 6; n++) {
    const aliasTail = `-${n}-mailsend-allowed`;
    const nameTail = ` ${n} - MailSend Allowed`;
    candidates.push({
      groupAlias: `${trimHyphens(names.aliasBase.slice(0, EXCHANGE_NAME_MAX - aliasTail.length))}${aliasTail}`,
      groupName: `${names.baseName.slice(0, EXCHANGE_NAME_MAX - nameTail.length).trim()}${nameTail}`,
    });
  }
  for (const { groupName, groupAlias } of candidates) {
    if (claimed.some((c) => c.alias === groupAlias || c.name === groupName.toLowerCase())) continue;
    const [a, b] = await Promise.all([ports.exchange.getDistributionGroup(groupAlias), ports.exchange.getDistributionGroup(groupName)]);
    if (!a && !b) return { groupName, groupAlias };
  }
  return null;
}

/** The refusal for a group that is not this registration's: names the owner and a free name. */
export async function ownershipRefusal(ports: OwnershipPorts, names: DerivedNames, o: Extract<GroupOwnership, { kind: 'other' | 'unrecorded' }>): Promise<OpterError> {
  const suggestion = await suggestGroupNames(ports, names);
  const instead = suggestion
    ? `For "${names.appDisplayName}" use the group name "${suggestion.groupName}" and alias "${suggestion.groupAlias}", or a different app name`
    : `For "${names.appDisplayName}" choose a different group name and alias, or a different app name`;
  const group = `the group ${o.group.primarySmtpAddress} ("${o.group.name}")`;
  const field = groupNamesOverridden(names) ? 'groupAlias' : 'appName';
  if (o.kind === 'other') {
    const owner = `"${o.owner.displayName}"${o.owner.appId ? ` (client id ${o.owner.appId})` : ''}`;
    return new OpterError('E_GROUP_OTHER_REGISTRATION', { detail: `${group} belongs to the registration ${owner}: ${o.evidence}. ${instead}`, field });
  }
  const scoped = o.scopedApp ? `, the app "${o.scopedApp.displayName}" (client id ${o.scopedApp.appId}) is scoped to it,` : '';
  return new OpterError('E_GROUP_NOT_RECORDED', { detail: `${group} exists${scoped} but no job of this bot created or adopted it. ${instead}`, field });
}

/**
 * Refuses unless the group these names lead to is this registration's (or there is none yet). `adopt` accepts a
 * group nobody recorded — adopting, through approval, is how such a group becomes ours — but never another's.
 */
export async function assertGroupIsOurs(ports: OwnershipPorts, names: DerivedNames, mode: 'use' | 'adopt' = 'use'): Promise<GroupOwnership> {
  const o = await groupOwnership(ports, names);
  if (o.kind === 'other' || (o.kind === 'unrecorded' && mode === 'use')) throw await ownershipRefusal(ports, names, o);
  return o;
}

// ---------------------------------------------------------------------------------------------------------------
// The other direction: senders of other registrations must be refused for this app
// ---------------------------------------------------------------------------------------------------------------

export interface ForeignSender {
  mailbox: string;
  owner: string;
}

const MAX_OTHER_GROUPS = 5;
const SENDERS_PER_GROUP = 2;

/**
 * A few senders of other registrations (at most 2 from each of at most 5 other groups): their groups come from our
 * journal and from the tenant's RestrictAccess policies of other apps. Members of this registration's own group are
 * left out (a mailbox may be a sender of two registrations, each approved on its own).
 */
export async function sendersOfOtherRegistrations(ports: OwnershipPorts, p: { names: DerivedNames; appId: string; groupIdentity: string }): Promise<ForeignSender[]> {
  const { exchange, directory } = ports;
  const key = registrationKey(p.names);
  const candidates: { identity: string; owner: () => Promise<string> }[] = [];
  for (const c of groupClaims(ports.journal)) {
    if (c.owner.key !== key && (c.created || c.established)) candidates.push({ identity: c.alias, owner: async () => c.owner.displayName });
  }
  for (const pol of await exchange.getApplicationAccessPolicies()) {
    if (pol.accessRight !== 'RestrictAccess' || pol.appId.toLowerCase() === p.appId.toLowerCase()) continue;
    candidates.push({ identity: pol.scopeName || pol.scopeIdentity, owner: async () => (await directory.getApplicationByAppId(pol.appId))?.displayName ?? pol.appId });
  }
  const own = await exchange.getDistributionGroup(p.groupIdentity);
  const ownMembers = new Set((own ? await exchange.getDistributionGroupMembers(own.identity) : []).map((m) => m.primarySmtpAddress.toLowerCase()));
  const seenIdentities = new Set<string>();
  const seenGroups = new Set<string>(own ? [own.guid.toLowerCase()] : []);
  const out: ForeignSender[] = [];
  let groups = 0;
  for (const c of candidates) {
    if (groups >= MAX_OTHER_GROUPS || seenIdentities.size >= 3 * MAX_OTHER_GROUPS) break;
    const id = c.identity.toLowerCase();
    if (!id || seenIdentities.has(id)) continue;
    seenIdentities.add(id);
    const g = await exchange.getDistributionGroup(c.identity).catch(() => null);
    if (!g || g.recipientTypeDetails !== 'MailUniversalSecurityGroup' || seenGroups.has(g.guid.toLowerCase())) continue;
    seenGroups.add(g.guid.toLowerCase());
    groups++;
    const members = (await exchange.getDistributionGroupMembers(g.identity)).filter((m) => !/Group$/i.test(m.recipientTypeDetails) && !ownMembers.has(m.primarySmtpAddress.toLowerCase()));
    if (!members.length) continue;
    const owner = await c.owner();
    for (const m of members.slice(0, SENDERS_PER_GROUP)) out.push({ mailbox: m.primarySmtpAddress, owner });
  }
  return out;
}
