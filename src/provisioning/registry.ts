/**
 * Status / list / drift: every Opter registration in the tenant — the ones this product manages (uniqueName
 * `opter-…`, or adopted) and the ones that look made by regmsgraph.ps1 (display name → `<alias>-mailsend-allowed`
 * group → RestrictAccess policy), which can be adopted — with senders, scoping, secret expiry, last verification
 * and drift against what the journal last recorded.
 *
 * Where the baseline comes from: every job that changes membership journals the group's member list after the
 * change (provision/repair: step `group`; add-sender and remove-sender: step `members`; adopt: step `baseline`).
 * A member that is in the group but not in the latest such list was added outside the bot.
 */
import type { DirectoryPort, ExchangeLifecyclePort, ExchangePort, JobRecord, JournalPort, StepRecord } from '../core/ports';
import { namesOf, describeScoping, type LocatedRegistration } from './locate';
import { deriveNames, type NameOverrides, type DerivedNames } from './names';
import { RbacReads, latestSecretExpiry, readRegistration, registrationSecrets, type RegistrationFacts, type ScopingState } from './registration';
import type { JobRuntime, ScopingModel, VerificationCheck } from './runtime';
import { tallyChecks } from './checks';
import { OpterError } from '../core/errors';
import { uniqueNameFor } from './identity';
import { registrationInputOf } from './workflows/workflow';

export type DriftKind =
  | 'member-outside-bot'
  | 'member-missing'
  | 'grant-missing'
  | 'policy-missing'
  | 'group-missing'
  | 'service-principal-missing'
  | 'rbac-assignment-missing'
  | 'tenant-wide-grant'
  | 'broad-rbac-assignment'
  | 'no-live-secret'
  | 'duplicate-apps'
  | 'migration-unfinished';

export interface DriftItem {
  kind: DriftKind;
  description: string;
}

export interface Baseline {
  /** Members after the latest membership-changing job, or null when no job recorded them. */
  members: string[] | null;
  membersJobId: string | null;
  /** The scoping model the latest job established. */
  scoping: ScopingModel | null;
  adopted: boolean;
  /** An unfinished migration to RBAC (running, waiting or failed). */
  migrationJobId: string | null;
  /** What that migration is doing; null when there is none. */
  migration: MigrationInFlight | null;
  lastVerification: LastVerification | null;
}

/**
 * A migration to RBAC that has not finished. `waiting` is the planned stop until Exchange's permission cache has
 * caught up (the job continues by itself after `until`); `running` is a job under way (or one a crash left running,
 * resumed at the next start); `failed` stopped on an error and needs someone.
 */
export interface MigrationInFlight {
  jobId: string;
  state: 'waiting' | 'running' | 'failed';
  /** waiting: when the job continues. */
  until: string | null;
  /** failed: what stopped it. */
  error: { code: string; message: string } | null;
}

export interface LastVerification {
  at: string;
  /** No check failed. */
  ok: boolean;
  /** Every check ran and passed (false when one was skipped, e.g. the restriction could not be tested). */
  verified: boolean;
  summary: string;
  jobId: string;
}

export interface RegistrationSummary {
  id: string;
  appDisplayName: string;
  appId: string;
  appObjectId: string;
  /** Created by this product (uniqueName `opter-…`) or adopted. */
  managed: boolean;
  origin: 'bot' | 'adopted' | 'script';
  /** Looks made by the seed script and is not managed yet. */
  adoptable: boolean;
  scoping: ScopingState;
  intendedScoping: ScopingModel | null;
  groupSmtp: string | null;
  senders: string[];
  secrets: { keyId: string; displayName: string | null; endDateTime: string; expired: boolean }[];
  /** The latest expiry among live secrets, null when there is none. */
  secretExpiresAt: string | null;
  lastVerification: LastVerification | null;
  drift: DriftItem[];
  /** What could not be checked for this registration (a read the provisioning identity may not run). */
  unchecked: string[];
  /** A migration to RBAC under way or waiting (a failed one is also drift). */
  migration: MigrationInFlight | null;
  overrides?: NameOverrides;
}

/** The registrations, and what the survey could not look at (least privilege). */
export interface RegistrationSurvey {
  registrations: RegistrationSummary[];
  unchecked: string[];
}

// ---------------------------------------------------------------------------------------------------------------
// Journal index: which job touched which app, and what it recorded
// ---------------------------------------------------------------------------------------------------------------

interface JobView {
  job: JobRecord;
  steps: Map<string, StepRecord>;
  appId: string | null;
}

const VERIFY_STEPS = ['verify', 'testSend'];

function appIdOf(job: JobRecord, steps: Map<string, StepRecord>): string | null {
  const from = (step: string) => {
    const v = steps.get(step)?.outputs.appId;
    return typeof v === 'string' && v ? v.toLowerCase() : null;
  };
  return job.kind === 'provision' ? from('app') : from('locate');
}

export function indexJournal(journal: JournalPort): JobView[] {
  return journal.listJobs().map((job) => {
    const steps = new Map(journal.getSteps(job.id).map((s) => [s.step, s]));
    return { job, steps, appId: appIdOf(job, steps) };
  });
}

function membersRecordedBy(v: JobView): string[] | null {
  if (v.job.status !== 'succeeded') return null;
  const pick = (step: string) => {
    const m = v.steps.get(step)?.outputs.members;
    return Array.isArray(m) ? (m as string[]) : null;
  };
  switch (v.job.kind) {
    case 'provision':
      return pick('group');
    case 'repair': {
      // Repair leaves members added outside the bot in place; they stay "unexpected", not part of the baseline.
      const unexpected = new Set(((v.steps.get('locate')?.outputs.unexpectedMembers as string[] | undefined) ?? []).map((m) => m.toLowerCase()));
      return pick('group')?.filter((m) => !unexpected.has(m.toLowerCase())) ?? null;
    }
    case 'add-sender':
    case 'remove-sender':
      return pick('members');
    case 'adopt':
      return pick('baseline');
    default:
      return null;
  }
}

function scopingRecordedBy(v: JobView): ScopingModel | null {
  if (v.job.status !== 'succeeded') return null;
  if (v.job.kind === 'provision') return registrationInputOf(v.job)?.scoping ?? 'access-policy';
  if (v.job.kind === 'migrate-rbac') return 'rbac';
  if (v.job.kind === 'repair' || v.job.kind === 'adopt') {
    const s = v.steps.get(v.job.kind === 'repair' ? 'locate' : 'baseline')?.outputs.intendedScoping;
    return s === 'rbac' || s === 'access-policy' ? s : null;
  }
  return null;
}

function verificationOf(v: JobView): LastVerification | null {
  for (const name of VERIFY_STEPS) {
    const s = v.steps.get(name);
    if (!s?.finishedAt || (s.status !== 'succeeded' && s.status !== 'failed')) continue;
    if (name === 'testSend') {
      const ok = s.status === 'succeeded' && s.outputs.ok === true;
      return { at: s.finishedAt, ok, verified: ok, summary: `test email: ${String(s.outputs.summary ?? s.lastError?.message ?? '')}`, jobId: v.job.id };
    }
    const checks = Array.isArray(s.outputs.checks) ? (s.outputs.checks as VerificationCheck[]) : null;
    return {
      at: s.finishedAt,
      ok: s.status === 'succeeded',
      verified: s.status === 'succeeded' && (checks ? tallyChecks(checks).verified : true),
      summary: s.status === 'succeeded' ? String(s.outputs.summary ?? 'checks passed') : (s.lastError?.message ?? 'verification failed'),
      jobId: v.job.id,
    };
  }
  return null;
}

/** A migration that is not done: waiting on purpose (until its resume time), failed, or running. */
function migrationOf(v: JobView): MigrationInFlight {
  const error = v.job.lastError ?? null;
  if (v.job.status === 'waiting') return { jobId: v.job.id, state: 'waiting', until: v.job.resumeAfter, error: null };
  if (v.job.status === 'failed') return { jobId: v.job.id, state: 'failed', until: null, error: error ? { code: error.code, message: error.message } : null };
  return { jobId: v.job.id, state: 'running', until: null, error: null };
}

/** What the journal says about one app. Pure over the indexed journal. */
export function baselineFor(index: JobView[], appId: string): Baseline {
  const mine = index.filter((v) => v.appId === appId.toLowerCase()).sort((a, b) => a.job.updatedAt.localeCompare(b.job.updatedAt));
  const b: Baseline = { members: null, membersJobId: null, scoping: null, adopted: false, migrationJobId: null, migration: null, lastVerification: null };
  for (const v of mine) {
    const members = membersRecordedBy(v);
    if (members) {
      b.members = members;
      b.membersJobId = v.job.id;
    }
    const scoping = scopingRecordedBy(v);
    if (scoping) b.scoping = scoping;
    if (v.job.kind === 'adopt' && v.job.status === 'succeeded') b.adopted = true;
    if (v.job.kind === 'migrate-rbac') {
      b.migrationJobId = v.job.status === 'succeeded' ? null : v.job.id;
      b.migration = v.job.status === 'succeeded' ? null : migrationOf(v);
    }
    const verification = verificationOf(v);
    if (verification && (!b.lastVerification || verification.at >= b.lastVerification.at)) b.lastVerification = verification;
  }
  return b;
}

// ---------------------------------------------------------------------------------------------------------------
// Drift (pure)
// ---------------------------------------------------------------------------------------------------------------

const lower = (l: string[]) => new Set(l.map((x) => x.toLowerCase()));

export function detectDrift(f: RegistrationFacts, b: Baseline, now: Date): DriftItem[] {
  const drift: DriftItem[] = [];
  if (f.duplicates > 0) drift.push({ kind: 'duplicate-apps', description: `${f.duplicates + 1} app registrations are named "${f.app.displayName}".` });
  if (!f.servicePrincipal) drift.push({ kind: 'service-principal-missing', description: 'The app has no service principal (enterprise app): nothing can sign in as it.' });
  if (!f.group) drift.push({ kind: 'group-missing', description: `The sender group ${f.names.groupAlias} does not exist.` });
  if (b.members && f.group) {
    const known = lower(b.members);
    const now_ = lower(f.members);
    const extra = f.members.filter((m) => !known.has(m.toLowerCase()));
    const gone = b.members.filter((m) => !now_.has(m.toLowerCase()));
    if (extra.length) drift.push({ kind: 'member-outside-bot', description: `Added to the group outside the bot: ${extra.join(', ')}. Approve them with "add sender" or remove them with "remove sender".` });
    if (gone.length) drift.push({ kind: 'member-missing', description: `Removed from the group outside the bot: ${gone.join(', ')}. Repair adds them back.` });
  }
  if (b.migrationJobId) {
    // Half-way through a migration both paths exist on purpose. Waiting or running is a planned state, not drift;
    // only a migration that stopped on an error needs someone.
    if (!b.migration || b.migration.state === 'failed') {
      const why = b.migration?.error ? ` on ${b.migration.error.code}` : '';
      drift.push({ kind: 'migration-unfinished', description: `A migration to RBAC stopped${why} (job ${b.migrationJobId}); resume it. Mail keeps flowing meanwhile.` });
    }
  } else {
    const intended: ScopingModel = b.scoping ?? (f.scoping === 'rbac' ? 'rbac' : 'access-policy');
    if (intended === 'access-policy') {
      if (!f.graphMailSend) drift.push({ kind: 'grant-missing', description: 'The Microsoft Graph Mail.Send permission is not granted: the app cannot send.' });
      if (!f.restrictPolicy) {
        drift.push({
          kind: 'policy-missing',
          description: f.graphMailSend ? 'No Application Access Policy limits the app to its group: it can send as ANY mailbox.' : 'No Application Access Policy limits the app to its group.',
        });
      }
    } else {
      // Unread is not missing: an identity without the Role Management role cannot see the assignment.
      if (!f.scopedRoleAssignment && f.rbacChecked) drift.push({ kind: 'rbac-assignment-missing', description: 'No "Application Mail.Send" role assignment scoped to the sender group: the app cannot send through RBAC.' });
      if (f.graphMailSend && !f.restrictPolicy) {
        drift.push({ kind: 'tenant-wide-grant', description: 'The app holds the tenant-wide Graph Mail.Send permission next to its RBAC scope; the two add up, so it can send as ANY mailbox.' });
      }
    }
  }
  const broad = f.mailSendRoleAssignments.filter((a) => a !== f.scopedRoleAssignment);
  if (broad.length) drift.push({ kind: 'broad-rbac-assignment', description: `Role assignments reaching beyond the group: ${broad.map((a) => `${a.role} (${a.name})`).join(', ')}.` });
  if (!latestSecretExpiry(registrationSecrets(f), now)) drift.push({ kind: 'no-live-secret', description: 'The app has no unexpired client secret: Opter cannot sign in. Ask for a new secret.' });
  return drift;
}

/** Looks like regmsgraph.ps1 made it: the derived group (name, alias, type) plus a scope on that group. */
export function looksLikeScript(f: RegistrationFacts): boolean {
  const derived = deriveNames(f.app.displayName);
  const g = f.group;
  return (
    !!g &&
    g.alias.toLowerCase() === derived.groupAlias.toLowerCase() &&
    g.name === derived.groupName &&
    g.recipientTypeDetails === 'MailUniversalSecurityGroup' &&
    (!!f.restrictPolicy || !!f.scopedRoleAssignment)
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Listing
// ---------------------------------------------------------------------------------------------------------------

const GROUP_SUFFIX = ' - MailSend Allowed';

export interface RegistryPorts {
  directory: DirectoryPort;
  exchange: ExchangePort & ExchangeLifecyclePort;
  journal: JournalPort;
}

/** Every Opter registration (see surveyRegistrations). */
export async function listRegistrations(ports: RegistryPorts, now: Date): Promise<RegistrationSummary[]> {
  return (await surveyRegistrations(ports, now)).registrations;
}

/**
 * Every Opter registration visible from the journal and the tenant. Candidates come from: apps this product's
 * journal knows; apps named by access policies; apps holding RBAC Mail.Send assignments; and the display names
 * behind `* - MailSend Allowed` security groups. Non-Opter apps that merely have a policy are left out. An identity
 * that may not read RBAC for Applications still gets the rest, with what was not checked said in `unchecked`.
 */
export async function surveyRegistrations(ports: RegistryPorts, now: Date): Promise<RegistrationSurvey> {
  const { directory, exchange } = ports;
  const rbacReads = new RbacReads();
  const index = indexJournal(ports.journal);
  const byAppId = new Map<string, { names: DerivedNames; overrides?: NameOverrides }>();
  const byName: { names: DerivedNames; overrides?: NameOverrides }[] = [];
  for (const v of index) {
    const input = registrationInputOf(v.job);
    if (!input?.appDisplayName) continue;
    try {
      const entry = { names: deriveNames(input.appDisplayName, input.overrides), overrides: input.overrides };
      if (v.appId) byAppId.set(v.appId, entry);
      else byName.push(entry);
    } catch {
      // An input that never derived names (refused job) names nothing.
    }
  }

  const [policies, exoSps, groups] = await Promise.all([
    exchange.getApplicationAccessPolicies(),
    rbacReads.read('Get-ServicePrincipal', [], () => exchange.listExchangeServicePrincipals()),
    exchange.listMailSecurityGroups(),
  ]);
  const unchecked = rbacReads.refusedCmdlet
    ? [`Registrations scoped only by RBAC for Applications that this bot did not set up could not be looked for, nor their secrets: the provisioning identity may not run ${rbacReads.refusedCmdlet} (Exchange's Role Management role).`]
    : [];
  const candidateAppIds = new Set<string>(byAppId.keys());
  for (const p of policies) if (p.appId && p.appId !== '*') candidateAppIds.add(p.appId.toLowerCase());
  for (const sp of exoSps) candidateAppIds.add(sp.appId.toLowerCase());
  const namesToResolve = [...byName];
  for (const g of groups) {
    if (!g.alias.toLowerCase().endsWith('-mailsend-allowed') || !g.name.endsWith(GROUP_SUFFIX)) continue;
    try {
      namesToResolve.push({ names: deriveNames(g.name.slice(0, -GROUP_SUFFIX.length)) });
    } catch {
      // not derivable
    }
  }
  for (const n of namesToResolve) {
    const apps = (await directory.findApplicationsByDisplayName(n.names.appDisplayName)).filter((a) => a.displayName === n.names.appDisplayName);
    for (const a of apps) {
      candidateAppIds.add(a.appId.toLowerCase());
      if (!byAppId.has(a.appId.toLowerCase()) && n.overrides) byAppId.set(a.appId.toLowerCase(), n);
    }
  }

  const out: RegistrationSummary[] = [];
  for (const appId of candidateAppIds) {
    const known = byAppId.get(appId);
    let names = known?.names;
    if (!names) {
      const app = await directory.getApplicationByAppId(appId);
      if (!app) continue;
      try {
        names = deriveNames(app.displayName);
      } catch {
        continue;
      }
    }
    const facts = await readRegistration({ directory, exchange }, names, { appId, rbacReads });
    if (!facts) continue;
    const baseline = baselineFor(index, facts.app.appId);
    const managedByUniqueName = facts.app.uniqueName === uniqueNameFor(names);
    const managed = managedByUniqueName || baseline.adopted;
    const script = !managed && looksLikeScript(facts);
    // Apps the product never touched and that do not follow the script's pattern are not Opter registrations.
    if (!managed && !script && !known) continue;
    const secrets = registrationSecrets(facts);
    out.push({
      id: facts.app.appId,
      appDisplayName: facts.app.displayName,
      appId: facts.app.appId,
      appObjectId: facts.app.objectId,
      managed,
      origin: managedByUniqueName ? 'bot' : baseline.adopted ? 'adopted' : 'script',
      adoptable: script,
      scoping: facts.scoping,
      intendedScoping: baseline.scoping,
      groupSmtp: facts.group?.smtp ?? null,
      senders: facts.members,
      secrets: secrets.map((s) => ({ keyId: s.keyId, displayName: s.displayName, endDateTime: s.endDateTime, expired: new Date(s.endDateTime) <= now })),
      secretExpiresAt: latestSecretExpiry(secrets, now),
      lastVerification: baseline.lastVerification,
      drift: detectDrift(facts, baseline, now),
      unchecked: facts.unchecked,
      migration: baseline.migration,
      ...(known?.overrides ? { overrides: known.overrides } : {}),
    });
  }
  const registrations = out.sort((a, b) => a.appDisplayName.localeCompare(b.appDisplayName) || a.appId.localeCompare(b.appId));
  if (registrations.some((r) => r.unchecked.length)) unchecked.push(...new Set(registrations.flatMap((r) => r.unchecked)));
  return { registrations, unchecked };
}

// ---------------------------------------------------------------------------------------------------------------
// Adopt: take over a registration the script made (baseline + verification), so the bot manages it from now on
// ---------------------------------------------------------------------------------------------------------------

export interface AdoptInput {
  appDisplayName: string;
  overrides?: NameOverrides;
}

export interface AdoptResult {
  kind: 'adopt';
  appId: string;
  groupSmtp: string;
  scoping: ScopingModel;
  members: string[];
  checks: VerificationCheck[];
  notes: string[];
}

export const ADOPT_STEPS = ['locate', 'baseline', 'verify'] as const;

export function validateAdoptInput(input: AdoptInput): AdoptInput {
  const appDisplayName = (input.appDisplayName ?? '').trim();
  if (!appDisplayName) throw new OpterError('E_INPUT_INVALID', { detail: 'The app display name is empty.', field: 'appName' });
  namesOf({ appDisplayName, overrides: input.overrides });
  return { appDisplayName, ...(input.overrides ? { overrides: input.overrides } : {}) };
}

/** The adopted registration's members and scoping model, recorded as the baseline drift is measured against. */
export function recordBaseline(rt: JobRuntime, loc: LocatedRegistration) {
  return rt.step<{ members: string[]; intendedScoping: ScopingModel }>('baseline', async () => {
    if (loc.scoping === 'unscoped') {
      throw new OpterError('E_VERIFY_FAILED', { detail: 'the app has neither an access policy nor an RBAC scope on its group; run repair (or set up) instead of adopting.' });
    }
    const intendedScoping: ScopingModel = loc.scoping === 'rbac' ? 'rbac' : 'access-policy';
    if (loc.scoping === 'mixed') rt.note('Both an access policy and an RBAC scope exist; adopted as access-policy. Run migrate to finish moving to RBAC.');
    return { out: { members: loc.members, intendedScoping }, summary: `Recorded ${loc.members.length} sender${loc.members.length === 1 ? '' : 's'} and the scoping (${describeScoping(loc.scoping)}) as the baseline` };
  });
}
