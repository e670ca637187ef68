/**
 * Secret rotation without a gap ("new secret for <app>", also the path for "I lost the secret"):
 *   rotate-secret:  a new secret (lifetime clamped to the tenant policy) goes to the SecretSink; every secret that
 *                   existed before is recorded by keyId and KEEPS WORKING, so Opter runs on until it is updated;
 *   retire-secrets: removes exactly those recorded keyIds — when the admin confirms "Opter uses the new secret",
 *                   or once the overlap (default 7 days) has passed. It never removes the new secret, and refuses
 *                   when the new secret is gone (that would leave the app without a working one).
 */
import { OpterError, toOpterError } from '../core/errors';
import type { JobRecord, JournalPort } from '../core/ports';
import { namesOf, type LocatedRegistration } from './locate';
import { DEFAULT_SECRET_VALID_YEARS, type DerivedNames, type NameOverrides } from './names';
import { registrationSecrets } from './registration';
import { skippedCheck, verdict } from './check-results';
import type { JobRuntime, VerificationCheck } from './runtime';
import { createDeliveredSecret, yearsLifetime } from './secret';
import { registrationInputOf } from './workflows/workflow';

export const DEFAULT_OVERLAP_DAYS = 7;
const DAY_MS = 86_400_000;

export interface RotateSecretInput {
  appDisplayName: string;
  overrides?: NameOverrides;
  secretValidYears?: number;
  /** How long the old secrets keep working when nobody confirms (default 7 days). */
  overlapDays?: number;
}

/** A rotate-secret job's input as the journal holds it (validateRotateInput filled in the defaults). */
export type StoredRotateSecretInput = RotateSecretInput & { secretValidYears: number; overlapDays: number };

export interface RetireSecretsInput {
  appDisplayName: string;
  overrides?: NameOverrides;
  /** The rotation to finish (default: the latest unfinished one for this app). */
  rotateJobId: string;
  /** The admin confirmed that Opter uses the new secret: retire now instead of at the end of the overlap. */
  confirmed: boolean;
}

export interface PreviousSecret {
  keyId: string;
  displayName: string | null;
  endDateTime: string;
}

export interface RotateSecretResult {
  kind: 'rotate-secret';
  appId: string;
  appObjectId: string;
  keyId: string;
  endDateTime: string;
  clamped: boolean;
  /** The secrets that keep working until retired. */
  previous: PreviousSecret[];
  overlapEndsAt: string;
  checks: VerificationCheck[];
  notes: string[];
}

export interface RetireSecretsResult {
  kind: 'retire-secrets';
  appId: string;
  rotateJobId: string;
  removedKeyIds: string[];
  keptKeyId: string;
  notes: string[];
}

export const ROTATE_STEPS = ['locate', 'secret', 'verify'] as const;
export const RETIRE_STEPS = ['locate', 'retire'] as const;

export function validateRotateInput(input: RotateSecretInput): StoredRotateSecretInput {
  const appDisplayName = (input.appDisplayName ?? '').trim();
  if (!appDisplayName) throw new OpterError('E_INPUT_INVALID', { detail: 'The app display name is empty.', field: 'appName' });
  namesOf({ appDisplayName, overrides: input.overrides });
  const years = input.secretValidYears ?? DEFAULT_SECRET_VALID_YEARS;
  if (!Number.isInteger(years) || years < 1 || years > 100) {
    throw new OpterError('E_INPUT_INVALID', { detail: `Secret validity must be a whole number of years from 1 (got ${years}).`, field: 'secretValidYears' });
  }
  const overlapDays = input.overlapDays ?? DEFAULT_OVERLAP_DAYS;
  if (!Number.isFinite(overlapDays) || overlapDays < 0 || overlapDays > 365) {
    throw new OpterError('E_INPUT_INVALID', { detail: `The overlap must be 0–365 days (got ${overlapDays}).`, field: 'overlapDays' });
  }
  return { appDisplayName, secretValidYears: years, overlapDays, ...(input.overrides ? { overrides: input.overrides } : {}) };
}

/** The new secret, delivered to the SecretSink; which secrets are "old" is decided once, before the first addPassword. */
export function createRotatedSecret(rt: JobRuntime<StoredRotateSecretInput>, loc: LocatedRegistration, names: DerivedNames) {
  const input = rt.input;
  return rt.step<{ keyId: string; endDateTime: string; clamped: boolean; previous: PreviousSecret[]; overlapEndsAt: string }>('secret', async (_attempt, record) => {
    // Never recomputed on resume.
    let previous = record.outputs.previous as PreviousSecret[] | undefined;
    if (!previous) {
      const app = await rt.ports.directory.getApplication(loc.appObjectId);
      if (!app) throw new OpterError('E_NOT_FOUND', { detail: `the app registration ${loc.appId} disappeared` });
      previous = registrationSecrets({ secrets: app.passwordCredentials, names }).map((c) => ({ keyId: c.keyId, displayName: c.displayName, endDateTime: c.endDateTime }));
      rt.ports.journal.recordStepOutputs(rt.job.id, 'secret', { previous });
    }
    const created = await createDeliveredSecret(rt, record, {
      stepName: 'secret',
      appObjectId: loc.appObjectId,
      appId: loc.appId,
      displayName: names.secretDisplayName,
      lifetime: yearsLifetime(input.secretValidYears),
      keep: previous.map((x) => x.keyId),
    });
    rt.secretText = created.secretText;
    const overlapEndsAt = new Date(rt.ports.clock.now().getTime() + input.overlapDays * DAY_MS).toISOString();
    return {
      out: { keyId: created.keyId, endDateTime: created.endDateTime, clamped: created.clamped, previous, overlapEndsAt },
      summary: `New secret created (expires ${created.endDateTime}${created.clamped ? ', shortened to the tenant policy' : ''}); ${previous.length} older secret${previous.length === 1 ? '' : 's'} keep working until retired`,
    };
  });
}

/** A token with the new secret, when this run made it (only that run holds its value). */
export function verifyNewSecret(rt: JobRuntime, loc: LocatedRegistration) {
  return rt.step<{ checks: VerificationCheck[] }>('verify', async () => {
    const checks: VerificationCheck[] = [];
    const signIn = rt.ports.appSignIn;
    const secretText = rt.secretText;
    if (!secretText || !signIn) {
      const why = !signIn ? 'no app sign-in is configured' : 'the secret was created by an earlier run of this job, which alone held its value';
      checks.push(rt.check(skippedCheck('Token with the new secret', why)));
    } else {
      try {
        const { roles } = await rt.converge(() => signIn.acquireGraphToken(loc.appId, secretText!));
        const needsRole = loc.scoping === 'access-policy' || (loc.scoping === 'mixed' && !loc.exoSpObjectId);
        const hasRole = roles.includes('Mail.Send');
        const ok = !needsRole || hasRole;
        checks.push(
          rt.check({
            name: 'Token with the new secret',
            ok,
            detail: ok
              ? `signed in with the new secret; ${hasRole ? 'the token carries Graph Mail.Send' : 'no Graph roles in the token (Exchange RBAC authorizes sending)'}`
              : 'signed in, but the token lacks Graph Mail.Send, which this registration needs: run repair',
          }),
        );
      } catch (e) {
        const err = toOpterError(e);
        checks.push(rt.check({ name: 'Token with the new secret', ok: false, detail: `${err.code}: ${err.detail ?? err.message}` }));
      }
    }
    return { out: { checks }, summary: verdict(checks) };
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Retire
// ---------------------------------------------------------------------------------------------------------------

interface RotationRecord {
  job: JobRecord;
  appDisplayName: string;
  appId: string;
  appObjectId: string;
  keyId: string;
  previous: PreviousSecret[];
  overlapEndsAt: string;
}

function rotationOf(journal: JournalPort, job: JobRecord): RotationRecord | null {
  if (job.kind !== 'rotate-secret' || job.status !== 'succeeded') return null;
  const locate = journal.getStep(job.id, 'locate')?.outputs;
  const secret = journal.getStep(job.id, 'secret')?.outputs;
  if (!locate || !secret || typeof secret.keyId !== 'string' || typeof secret.overlapEndsAt !== 'string') return null;
  return {
    job,
    appDisplayName: registrationInputOf(job)?.appDisplayName ?? '',
    appId: String(locate.appId),
    appObjectId: String(locate.appObjectId),
    keyId: secret.keyId,
    previous: (secret.previous as PreviousSecret[] | undefined) ?? [],
    overlapEndsAt: secret.overlapEndsAt,
  };
}

function retiredRotationIds(journal: JournalPort): Set<string> {
  return new Set(
    journal
      .listJobs({ kind: 'retire-secrets', status: 'succeeded' })
      .map((j) => registrationInputOf(j)?.rotateJobId)
      .filter((id): id is string => !!id),
  );
}

/**
 * The latest finished rotation of each app. An earlier rotation is superseded by a later one: the later one recorded
 * every secret that existed then (the earlier rotation's old AND new secrets) as its own "old" ones.
 */
function latestRotations(journal: JournalPort): RotationRecord[] {
  const latest = new Map<string, RotationRecord>();
  for (const j of journal.listJobs({ kind: 'rotate-secret', status: 'succeeded' })) {
    const r = rotationOf(journal, j);
    if (r) latest.set(r.appId.toLowerCase(), r); // listJobs is in creation order: the last one wins
  }
  return [...latest.values()];
}

/** The latest finished rotation of this app if its old secrets were not retired yet, or null. */
export function pendingRotation(journal: JournalPort, appDisplayName: string): RotationRecord | null {
  const retired = retiredRotationIds(journal);
  const mine = latestRotations(journal).filter((r) => r.appDisplayName === appDisplayName);
  const r = mine.at(-1);
  return r && !retired.has(r.job.id) ? r : null;
}

export interface DueRetirement {
  rotateJobId: string;
  appDisplayName: string;
  appId: string;
  overlapEndsAt: string;
  keyIds: string[];
}

/**
 * Rotations whose overlap has ended and whose old secrets are still to be retired (the daily job creates a
 * retire-secrets job for each). Pure over the journal and `now`.
 */
export function findDueRetirements(journal: JournalPort, now: Date): DueRetirement[] {
  const retired = retiredRotationIds(journal);
  return latestRotations(journal)
    .filter((r) => !retired.has(r.job.id) && r.previous.length > 0 && new Date(r.overlapEndsAt).getTime() <= now.getTime())
    .map((r) => ({ rotateJobId: r.job.id, appDisplayName: r.appDisplayName, appId: r.appId, overlapEndsAt: r.overlapEndsAt, keyIds: r.previous.map((p) => p.keyId) }));
}

/** When may the old secrets go? Now if confirmed or the overlap has passed; otherwise the end of the overlap. */
export function retirementAllowedAt(overlapEndsAt: string, confirmed: boolean, now: Date): { allowed: true } | { allowed: false; resumeAfter: string } {
  if (confirmed || new Date(overlapEndsAt).getTime() <= now.getTime()) return { allowed: true };
  return { allowed: false, resumeAfter: overlapEndsAt };
}

/** The rotation a retire job finishes: its app, the new secret that stays and the old ones to remove. */
export function rotationToRetire(rt: JobRuntime<RetireSecretsInput>) {
  const { journal } = rt.ports;
  const rotateJob = journal.getJob(rt.input.rotateJobId);
  const rotation = rotateJob ? rotationOf(journal, rotateJob) : null;
  if (!rotation) throw new OpterError('E_INPUT_INVALID', { detail: `no finished secret rotation ${rt.input.rotateJobId} to complete.` });
  return rt.step<{ appId: string; appObjectId: string; keyId: string; keyIds: string[]; overlapEndsAt: string }>('locate', async () => ({
    out: { appId: rotation.appId, appObjectId: rotation.appObjectId, keyId: rotation.keyId, keyIds: rotation.previous.map((p) => p.keyId), overlapEndsAt: rotation.overlapEndsAt },
    summary: `Rotation ${rotation.job.id}: ${rotation.previous.length} old secret${rotation.previous.length === 1 ? '' : 's'} to retire, new secret ${rotation.keyId} stays`,
  }));
}

/** Removes the old secrets once allowed (confirmed, or the overlap has ended: until then the job waits), never the new one. */
export function retireOldSecrets(rt: JobRuntime<RetireSecretsInput>, where: { appId: string; appObjectId: string; keyId: string; keyIds: string[]; overlapEndsAt: string }) {
  const { journal, directory, clock } = rt.ports;
  return rt.step<{ removedKeyIds: string[] }>('retire', async () => {
    const gate = retirementAllowedAt(where.overlapEndsAt, rt.input.confirmed, clock.now());
    if (!gate.allowed) {
      journal.recordStepOutputs(rt.job.id, 'retire', { resumeAfter: gate.resumeAfter });
      throw new OpterError('E_JOB_UNFINISHED', {
        detail: `the old secrets keep working until ${gate.resumeAfter} (the overlap); confirm that Opter uses the new secret to retire them now.`,
        resumeAfter: gate.resumeAfter,
      });
    }
    const app = await directory.getApplication(where.appObjectId);
    if (!app) throw new OpterError('E_NOT_FOUND', { detail: `the app registration ${where.appId} disappeared` });
    if (!app.passwordCredentials.some((c) => c.keyId === where.keyId)) {
      // Never leave the app with no working secret because the new one was deleted in the meantime.
      throw new OpterError('E_NOT_FOUND', { detail: `the new secret ${where.keyId} is gone, so the old ones were kept; ask for a new secret.` });
    }
    const present = where.keyIds.filter((k) => k !== where.keyId && app.passwordCredentials.some((c) => c.keyId === k));
    for (const keyId of present) await directory.removePassword(where.appObjectId, keyId);
    return { out: { removedKeyIds: present }, summary: present.length ? `Removed ${present.length} old secret${present.length === 1 ? '' : 's'}` : 'The old secrets were already gone' };
  });
}
