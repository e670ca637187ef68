/**
 * Creating a client secret that is handed to the SecretSink, safely across crashes: intent (`pendingSince`) is
 * journaled before addPassword and the keyId right after, so a resumed step removes a secret whose plaintext died
 * with the process and makes a new one. The plaintext lives only in memory; nothing here logs or journals it.
 */
import { OpterError } from '../core/errors';
import type { StepRecord } from '../core/ports';
import { findOrphanSecrets } from './activities/common';
import { secretLifetime, type SecretLifetime } from './lifetime';
import { governingMaxLifetime } from './secret-policy';
import { formatRoundTripUtc } from './names';
import type { JobRuntime } from './runtime';

export interface DeliveredSecret {
  keyId: string;
  endDateTime: string;
  clamped: boolean;
  maxLifetime: string | null;
  /** Present only when the secret was created in this process run (for the sign-in check); never persisted. */
  secretText?: string;
}

/**
 * The maximum secret lifetime (for an app: under the policy that governs it, secret-policy.ts), or null when it
 * cannot be read (Policy.Read.All missing: said in a note).
 */
export async function readMaxLifetime(rt: JobRuntime, app?: { id: string; createdDateTime?: string | null }): Promise<string | null> {
  const read = app ? governingMaxLifetime(rt.ports.directory, app, rt.ports.clock.now()) : rt.ports.directory.getMaxPasswordLifetime();
  return read.catch((e: unknown) => {
    if (e instanceof OpterError && e.code === 'E_GRAPH_PERMISSION') {
      rt.note('Could not read the tenant app-management policy (Policy.Read.All missing); the requested lifetime was used as is.');
      return null;
    }
    throw e;
  });
}

export async function createDeliveredSecret(
  rt: JobRuntime,
  record: StepRecord,
  p: {
    stepName: string;
    appObjectId: string;
    appId: string;
    displayName: string;
    lifetime: (now: Date, maxLifetime: string | null) => SecretLifetime;
    /** Secrets that existed before this step (never orphans, however close their start time is). */
    keep?: string[];
  },
): Promise<DeliveredSecret> {
  const { directory, journal, clock, secretSink } = rt.ports;
  const jobId = rt.job.id;
  const app = await directory.getApplication(p.appObjectId);
  if (!app) throw new OpterError('E_NOT_FOUND', { detail: `the app registration ${p.appId} disappeared` });

  const keep = new Set(p.keep ?? []);
  const orphans = findOrphanSecrets(record.outputs, app.passwordCredentials, p.displayName).filter((k) => !secretSink.holds(jobId, k) && !keep.has(k));
  const earlierKey = typeof record.outputs.keyId === 'string' ? (record.outputs.keyId as string) : null;
  if (earlierKey && !orphans.includes(earlierKey) && secretSink.holds(jobId, earlierKey)) {
    // Killed after the sink took the secret but before the step was marked done: it is ours and delivered.
    return { keyId: earlierKey, endDateTime: String(record.outputs.endDateTime ?? ''), clamped: record.outputs.clamped === true, maxLifetime: (record.outputs.maxLifetime as string | null) ?? null };
  }
  for (const keyId of orphans) {
    await directory.removePassword(p.appObjectId, keyId);
    rt.note(`Removed an undelivered secret (${keyId}) left by an interrupted run.`);
  }
  if (orphans.length) journal.recordStepOutputs(jobId, p.stepName, { keyId: null, removedOrphans: orphans });

  const now = clock.now();
  const life = p.lifetime(now, await readMaxLifetime(rt, app));
  const endDateTime = formatRoundTripUtc(life.endDateTime);
  journal.recordStepOutputs(jobId, p.stepName, { pendingSince: now.toISOString(), keyId: null, delivered: false });
  const created = await directory.addPassword(p.appObjectId, { displayName: p.displayName, endDateTime });
  // keyId first: if we die before the sink has it, the next run finds and removes this credential.
  journal.recordStepOutputs(jobId, p.stepName, { keyId: created.keyId, endDateTime: created.endDateTime, clamped: life.clamped, maxLifetime: life.maxLifetime, delivered: false });
  await secretSink.deliver({ jobId, appId: p.appId, appObjectId: p.appObjectId, keyId: created.keyId, secretText: created.secretText, endDateTime: created.endDateTime });
  journal.recordStepOutputs(jobId, p.stepName, { delivered: true });
  if (life.clamped) {
    rt.note(`The secret lifetime was shortened to the tenant policy maximum (${life.maxLifetime}): it expires ${endDateTime} instead of ${formatRoundTripUtc(life.requestedEnd)}.`);
  }
  return { keyId: created.keyId, endDateTime, clamped: life.clamped, maxLifetime: life.maxLifetime, secretText: created.secretText };
}

/** The script's "now + N years", clamped to the policy. */
export function yearsLifetime(years: number) {
  return (now: Date, maxLifetime: string | null) => secretLifetime(now, years, maxLifetime);
}
