/**
 * The registrations as the tenant shows them (the engine's registry: managed, adopted and script-made ones, with
 * senders, scoping, secrets, last verification and drift), and how a typed command or a button finds one of them.
 * Read-only. The bot's own request history (registrations.ts) only knows what the bot set up; the lifecycle works
 * on everything the registry lists.
 */
import type { RegistrationStatus } from '../../cards';
import { OpterError } from '../../core/errors';
import { baselineFor, indexJournal, surveyRegistrations, type LastVerification, type RegistrationSurvey, type RegistrationSummary } from '../../provisioning';
import { describeChecks, tallyChecks } from '../../provisioning';
import { deriveNames } from '../../provisioning';
import type { VerificationCheck } from '../../provisioning';
import type { BotServices, LifecycleTarget } from '../types';

export type { RegistrationSummary } from '../../provisioning';

export async function tenantRegistrations(services: BotServices): Promise<RegistrationSummary[]> {
  return (await tenantSurvey(services)).registrations;
}

/** The registrations plus what could not be looked at (a read the provisioning identity may not run). */
export function tenantSurvey(services: BotServices): Promise<RegistrationSurvey> {
  const { directory, exchange } = services.tenant.adapters;
  return surveyRegistrations({ directory, exchange, journal: services.store.journal }, services.clock.now());
}

/** The facts a lifecycle request carries about its registration (what the approvers see). */
export function targetOf(r: RegistrationSummary): LifecycleTarget {
  const names = deriveNames(r.appDisplayName, r.overrides);
  return {
    appName: r.appDisplayName,
    appId: r.appId,
    overrides: r.overrides ?? {},
    groupName: names.groupName,
    groupAlias: names.groupAlias,
    groupSmtp: r.groupSmtp,
    senders: r.senders,
    scoping: r.scoping,
  };
}

const same = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

function nameList(regs: RegistrationSummary[]): string {
  return regs.map((r) => `“${r.appDisplayName}”`).join(', ');
}

/**
 * The registration a command is about: named (display name or client id), else the one whose senders include
 * `sender`, else the only managed one. Never guesses between several.
 */
export function pickRegistration(
  regs: RegistrationSummary[],
  hint: { app?: string | null; sender?: string | null; example: (name: string) => string },
): { registration: RegistrationSummary } | { error: OpterError } {
  if (hint.app) {
    const found = regs.filter((r) => same(r.appDisplayName, hint.app!) || same(r.appId, hint.app!));
    if (found.length === 1) return { registration: found[0]! };
    if (found.length > 1) return { error: new OpterError('E_APP_NAME_AMBIGUOUS', { detail: `${found.length} registrations are named “${hint.app}”` }) };
    return {
      error: new OpterError('E_NOT_FOUND', {
        detail: `there is no Opter registration named “${hint.app}”${regs.length ? ` (there are ${nameList(regs)})` : ''}.`,
      }),
    };
  }
  if (hint.sender) {
    const withSender = regs.filter((r) => r.senders.some((s) => same(s, hint.sender!)));
    if (withSender.length === 1) return { registration: withSender[0]! };
    if (withSender.length > 1) {
      return { error: new OpterError('E_INPUT_INVALID', { detail: `${hint.sender} sends through ${nameList(withSender)}; say which, e.g. “${hint.example(withSender[0]!.appDisplayName)}”.` }) };
    }
  }
  const managed = regs.filter((r) => r.managed);
  if (managed.length === 1) return { registration: managed[0]! };
  if (managed.length === 0) {
    return { error: new OpterError('E_NOT_FOUND', { detail: 'I manage no Opter registration yet: type “set up Opter email” first (or adopt one from “status”).' }) };
  }
  return { error: new OpterError('E_INPUT_INVALID', { detail: `there are ${managed.length} registrations (${nameList(managed)}); say which, e.g. “${hint.example(managed[0]!.appDisplayName)}”.` }) };
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
  for (const step of ['verify', 'testSend']) {
    const outputs = services.store.journal.getStep(v.jobId, step)?.outputs;
    const checks = (outputs?.checks ?? outputs?.layers) as VerificationCheck[] | undefined;
    if (Array.isArray(checks) && checks.length > 0) {
      const named = checks.map((c) => ({ ...c, name: c.name ?? String((c as { layer?: string }).layer ?? '') }));
      const t = tallyChecks(named);
      const summary = t.verified ? `${t.passed} of ${checks.length} checks passed` : describeChecks(named);
      return { at: v.at, ok: v.ok, verified: v.verified, summary: `${step === 'testSend' ? 'test email: ' : ''}${summary}` };
    }
  }
  return { at: v.at, ok: v.ok, verified: v.verified, summary: v.summary };
}
