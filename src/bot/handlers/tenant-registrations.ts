/**
 * The registrations as the tenant shows them (the engine's registry: managed, adopted and script-made ones, with
 * senders, scoping, secrets, last verification and drift), and how a typed command or a button finds one of them.
 * Read-only. The bot's own request history (registrations.ts) only knows what the bot set up; the lifecycle works
 * on everything the registry lists.
 */
import type { RegistrationStatus } from '../../cards';
import { baselineFor, indexJournal, surveyRegistrations, type LastVerification, type RegistrationSurvey, type RegistrationSummary } from '../../provisioning';
import { describeChecks, recordedChecksOf, tallyChecks } from '../../provisioning';
import type { BotServices } from '../types';

export type { RegistrationSummary } from '../../provisioning';

export async function tenantRegistrations(services: BotServices): Promise<RegistrationSummary[]> {
  return (await tenantSurvey(services)).registrations;
}

/** The registrations plus what could not be looked at (a read the provisioning identity may not run). */
export function tenantSurvey(services: BotServices): Promise<RegistrationSurvey> {
  const { directory, exchange } = services.tenant.adapters;
  return surveyRegistrations({ directory, exchange, journal: services.store.journal }, services.clock.now());
}

/** Members in the group that no bot job recorded: added outside the bot (empty when there is no baseline). */
export function membersOutsideBot(services: BotServices, r: RegistrationSummary): string[] {
  const baseline = baselineFor(indexJournal(services.store.journal), r.appId);
  if (!baseline.members) return [];
  const known = new Set(baseline.members.map((m) => m.toLowerCase()));
  return r.senders.filter((m) => !known.has(m.toLowerCase()));
}

/**
 * "3 of 3 checks passed" (or "2 of 3 checks passed; the restriction was not verified: …") from the verifying job's
 * recorded checks, else the registry's own summary.
 */
export function verificationView(services: BotServices, v: LastVerification | null): RegistrationStatus['lastVerification'] {
  if (!v) return null;
  const { journal } = services.store;
  const recorded = recordedChecksOf(journal.getJob(v.jobId), (step) => journal.getStep(v.jobId, step)?.outputs);
  if (!recorded) return { at: v.at, ok: v.ok, verified: v.verified, summary: v.summary };
  const t = tallyChecks(recorded.checks);
  const summary = t.verified ? `${t.passed} of ${recorded.checks.length} checks passed` : describeChecks(recorded.checks);
  return { at: v.at, ok: v.ok, verified: v.verified, summary: `${recorded.testEmail ? 'test email: ' : ''}${summary}` };
}
